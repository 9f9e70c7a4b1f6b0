//! A small synchronous rtnetlink client: dumps and single requests with a deadline.
//!
//! netlink-packet-route does the encoding and decoding; this file only moves bytes and turns
//! NLMSG_ERROR into `io::Error`. Reading routes, links, addresses and neighbours needs no
//! privilege, so everything here works as any user.

use netlink_packet_core::{
    DecodeError, NLM_F_DUMP, NLM_F_REQUEST, NetlinkHeader, NetlinkMessage, NetlinkPayload,
    NlasIterator, ParseableParametrized,
};
use netlink_packet_route::address::AddressMessage;
use netlink_packet_route::link::{LinkAttribute, LinkHeader, LinkMessage};
use netlink_packet_route::nsid::{NsidAttribute, NsidMessage};
use netlink_packet_route::route::RouteMessage;
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::{Socket, SocketAddr, protocols::NETLINK_ROUTE};
use std::io;
use std::os::fd::AsRawFd;
use std::time::Duration;

/// How long the kernel may take to answer one request or one part of a dump.
const DEADLINE: Duration = Duration::from_secs(5);
/// Dump parts are at most 32 KiB; twice that leaves room and never truncates.
const RECV_BUF: usize = 64 * 1024;

/// A netlink socket of any protocol: requests out, answers in, each recv bounded by DEADLINE.
pub struct Netlink {
    socket: Socket,
    seq: u32,
    buf: Vec<u8>,
}

impl Netlink {
    pub fn open(protocol: isize) -> io::Result<Self> {
        let mut socket = Socket::new(protocol)?;
        socket.bind_auto()?;
        socket.connect(&SocketAddr::new(0, 0))?;
        set_recv_timeout(&socket, DEADLINE)?;
        Ok(Netlink {
            socket,
            seq: 0,
            buf: vec![0; RECV_BUF],
        })
    }

    /// Send a message of type `kind` whose body (after the netlink header) is `body`.
    pub fn send_raw(&mut self, kind: u16, flags: u16, body: &[u8]) -> io::Result<u32> {
        self.seq = self.seq.wrapping_add(1);
        let mut header = NetlinkHeader::default();
        header.length = (16 + body.len()) as u32;
        header.message_type = kind;
        header.flags = flags;
        header.sequence_number = self.seq;
        let mut bytes = vec![0; 16 + body.len()];
        netlink_packet_core::Emitable::emit(&header, &mut bytes[..16]);
        bytes[16..].copy_from_slice(body);
        self.socket.send(&bytes, 0)?;
        Ok(self.seq)
    }

    /// Send a message a netlink-packet crate serializes.
    pub fn send<T>(&mut self, msg: T, flags: u16) -> io::Result<u32>
    where
        T: netlink_packet_core::NetlinkSerializable + std::fmt::Debug + Clone + PartialEq + Eq,
        NetlinkPayload<T>: From<T>,
    {
        self.seq = self.seq.wrapping_add(1);
        let mut header = NetlinkHeader::default();
        header.flags = flags;
        header.sequence_number = self.seq;
        let mut packet = NetlinkMessage::new(header, NetlinkPayload::from(msg));
        packet.finalize();
        let mut bytes = vec![0; packet.buffer_len()];
        packet.serialize(&mut bytes);
        self.socket.send(&bytes, 0)?;
        Ok(self.seq)
    }

    /// Receive the messages answering `seq`, one at a time as they arrive: `on_msg` gets each
    /// message's bytes (header included) and says whether to go on. NLMSG_DONE ends the dump,
    /// NLMSG_ERROR becomes the error (or, without an error code, an acknowledgement).
    pub fn receive_raw(
        &mut self,
        seq: u32,
        mut on_msg: impl FnMut(&mut [u8]) -> io::Result<bool>,
    ) -> io::Result<()> {
        loop {
            let n = match self.socket.recv(&mut &mut self.buf[..], libc::MSG_TRUNC) {
                Ok(n) => n,
                Err(e)
                    if e.kind() == io::ErrorKind::WouldBlock
                        || e.kind() == io::ErrorKind::TimedOut =>
                {
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!(
                            "the kernel did not answer a netlink request within {}s",
                            DEADLINE.as_secs()
                        ),
                    ));
                }
                Err(e) => return Err(e),
            };
            if n > self.buf.len() {
                return Err(io::Error::other(
                    "netlink message larger than the receive buffer",
                ));
            }
            let mut offset = 0;
            while offset + 16 <= n {
                let (len, kind, msg_seq) = {
                    let h = netlink_packet_core::NetlinkBuffer::new(&self.buf[offset..n]);
                    (h.length() as usize, h.message_type(), h.sequence_number())
                };
                if len < 16 || offset + len > n {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "truncated netlink message",
                    ));
                }
                let next = offset + ((len + 3) & !3);
                if msg_seq == seq {
                    match kind {
                        netlink_packet_core::NLMSG_DONE => return Ok(()),
                        netlink_packet_core::NLMSG_ERROR => {
                            return error_of(&self.buf[offset + 16..offset + len]);
                        }
                        _ => {
                            if !on_msg(&mut self.buf[offset..offset + len])? {
                                return Ok(());
                            }
                        }
                    }
                }
                offset = next;
            }
        }
    }
}

/// An NLMSG_ERROR body: an acknowledgement (code 0) or the error it carries.
fn error_of(body: &[u8]) -> io::Result<()> {
    use netlink_packet_core::{ErrorBuffer, ErrorMessage, Parseable};
    let buf = ErrorBuffer::new_checked(&body)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
    let err = ErrorMessage::parse(&buf)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
    match err.code {
        None => Ok(()),
        Some(_) => Err(err.to_io()),
    }
}

/// rtnetlink (NETLINK_ROUTE): links, addresses, routes, neighbours, rules, next hops.
pub struct Rtnl {
    nl: Netlink,
}

impl Rtnl {
    pub fn open() -> io::Result<Self> {
        Ok(Rtnl {
            nl: Netlink::open(NETLINK_ROUTE)?,
        })
    }

    fn send(&mut self, msg: RouteNetlinkMessage, flags: u16) -> io::Result<u32> {
        self.nl.send(msg, flags)
    }

    fn receive_raw(
        &mut self,
        seq: u32,
        on_msg: impl FnMut(&mut [u8]) -> io::Result<bool>,
    ) -> io::Result<()> {
        self.nl.receive_raw(seq, on_msg)
    }

    /// A request in a message family netlink-packet-route does not model (next-hop objects):
    /// `body` follows the netlink header as is, and `on` gets each answer's body.
    pub fn raw_each(
        &mut self,
        kind: u16,
        flags: u16,
        body: &[u8],
        mut on: impl FnMut(u16, &[u8]) -> io::Result<()>,
    ) -> io::Result<()> {
        let seq = self.nl.send_raw(kind, flags, body)?;
        self.receive_raw(seq, |msg| {
            let kind = u16::from_ne_bytes([msg[4], msg[5]]);
            on(kind, &msg[16..])?;
            // A dump ends with NLMSG_DONE; a single request with its one answer.
            Ok(flags & NLM_F_DUMP == NLM_F_DUMP)
        })
    }

    /// Receive the decoded messages answering `seq`. A link whose name is not UTF-8 (which
    /// netlink-packet-route refuses) is decoded with `?` in place of the bad bytes, and the
    /// real name comes along.
    fn receive_each(
        &mut self,
        seq: u32,
        trim: Trim,
        mut on_msg: impl FnMut(RouteNetlinkMessage, Option<Vec<u8>>) -> io::Result<bool>,
    ) -> io::Result<()> {
        self.receive_raw(seq, |bytes| {
            let raw_name = patch_names(bytes);
            let undecodable = |e: DecodeError| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("cannot decode netlink message: {e}"),
                )
            };
            if let Trim::Link(keep) = trim
                && let Some(link) = decode_link(bytes, keep)
            {
                return on_msg(
                    RouteNetlinkMessage::NewLink(link.map_err(undecodable)?),
                    raw_name,
                );
            }
            let msg =
                NetlinkMessage::<RouteNetlinkMessage>::deserialize(bytes).map_err(undecodable)?;
            match msg.payload {
                NetlinkPayload::InnerMessage(inner) => on_msg(inner, raw_name),
                _ => Ok(true),
            }
        })
    }

    /// Send a dump request and hand each answer to `on` as it arrives (memory stays flat).
    pub fn dump_each(
        &mut self,
        msg: RouteNetlinkMessage,
        on: impl FnMut(RouteNetlinkMessage, Option<Vec<u8>>) -> io::Result<()>,
    ) -> io::Result<()> {
        self.dump_each_trimmed(msg, Trim::Nothing, on)
    }

    /// As dump_each, leaving out of each answer what `trim` says the caller never reads.
    pub fn dump_each_trimmed(
        &mut self,
        msg: RouteNetlinkMessage,
        trim: Trim,
        mut on: impl FnMut(RouteNetlinkMessage, Option<Vec<u8>>) -> io::Result<()>,
    ) -> io::Result<()> {
        let seq = self.send(msg, NLM_F_REQUEST | NLM_F_DUMP)?;
        self.receive_each(seq, trim, |m, raw| on(m, raw).map(|_| true))
    }

    /// A dump whose answers are handed over as their bytes (header included), undecoded.
    pub fn dump_bytes(
        &mut self,
        msg: RouteNetlinkMessage,
        mut on: impl FnMut(&[u8]) -> io::Result<()>,
    ) -> io::Result<()> {
        let seq = self.send(msg, NLM_F_REQUEST | NLM_F_DUMP)?;
        self.receive_raw(seq, |bytes| on(bytes).map(|_| true))
    }

    /// As dump_each for a request with one answer (a link by index).
    pub fn request_each(
        &mut self,
        msg: RouteNetlinkMessage,
        mut on: impl FnMut(RouteNetlinkMessage, Option<Vec<u8>>) -> io::Result<()>,
    ) -> io::Result<()> {
        let seq = self.send(msg, NLM_F_REQUEST)?;
        self.receive_each(seq, Trim::Nothing, |m, raw| on(m, raw).map(|_| false))
    }

    /// Send a dump request and collect every answer.
    pub fn dump(&mut self, msg: RouteNetlinkMessage) -> io::Result<Vec<RouteNetlinkMessage>> {
        let mut out = Vec::new();
        self.dump_each(msg, |m, _| {
            out.push(m);
            Ok(())
        })?;
        Ok(out)
    }

    /// Send one request and return its one answer.
    pub fn request(&mut self, msg: RouteNetlinkMessage) -> io::Result<RouteNetlinkMessage> {
        let seq = self.send(msg, NLM_F_REQUEST)?;
        let mut answer = None;
        self.receive_each(seq, Trim::Nothing, |m, _| {
            answer = Some(m);
            Ok(false)
        })?;
        answer.ok_or_else(|| io::Error::other("the kernel sent no answer"))
    }

    /// Every link's index, name (bytes, as the kernel has it), flags and type, from a dump
    /// without statistics, decoding only those fields: what `ip` needs to name the links that
    /// routes, addresses and neighbours point at. Each is handed over as it arrives (nothing
    /// is collected here: the caller keeps what it needs).
    pub fn link_names(&mut self, mut on: impl FnMut(LinkName)) -> io::Result<()> {
        let mut req = LinkMessage::default();
        req.attributes
            .push(netlink_packet_route::link::LinkAttribute::ExtMask(vec![
                netlink_packet_route::link::LinkExtentMask::SkipStats,
            ]));
        let seq = self.send(
            RouteNetlinkMessage::GetLink(req),
            NLM_F_REQUEST | NLM_F_DUMP,
        )?;
        self.receive_raw(seq, |bytes| {
            if let Some(l) = link_name_of(bytes) {
                on(l);
            }
            Ok(true)
        })
    }

    /// One link's index, name, flags and type (RTM_GETLINK for that index, no statistics);
    /// None when there is no such link.
    pub fn link_name(&mut self, index: u32) -> io::Result<Option<LinkName>> {
        let mut req = LinkMessage::default();
        req.header.index = index;
        req.attributes
            .push(netlink_packet_route::link::LinkAttribute::ExtMask(vec![
                netlink_packet_route::link::LinkExtentMask::SkipStats,
            ]));
        let seq = self.send(RouteNetlinkMessage::GetLink(req), NLM_F_REQUEST)?;
        let mut found = None;
        match self.receive_raw(seq, |bytes| {
            found = link_name_of(bytes);
            Ok(false)
        }) {
            Ok(()) => Ok(found),
            Err(e) if e.raw_os_error() == Some(libc::ENODEV) => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub fn links(&mut self) -> io::Result<Vec<LinkMessage>> {
        self.links_family(AddressFamily::Unspec)
    }

    /// A link dump for one family. The kernel answers AF_INET6 itself (addrconf's reduced
    /// per-link view: no qdisc, group or netns id), which is what `ip -6 addr` prints.
    pub fn links_family(&mut self, family: AddressFamily) -> io::Result<Vec<LinkMessage>> {
        let mut req = LinkMessage::default();
        req.header.interface_family = family;
        Ok(self
            .dump(RouteNetlinkMessage::GetLink(req))?
            .into_iter()
            .filter_map(|m| match m {
                RouteNetlinkMessage::NewLink(l) => Some(l),
                _ => None,
            })
            .collect())
    }

    pub fn addresses(&mut self) -> io::Result<Vec<AddressMessage>> {
        Ok(self
            .dump(RouteNetlinkMessage::GetAddress(AddressMessage::default()))?
            .into_iter()
            .filter_map(|m| match m {
                RouteNetlinkMessage::NewAddress(a) => Some(a),
                _ => None,
            })
            .collect())
    }

    pub fn routes(&mut self, family: AddressFamily) -> io::Result<Vec<RouteMessage>> {
        let mut req = RouteMessage::default();
        req.header.address_family = family;
        Ok(self
            .dump(RouteNetlinkMessage::GetRoute(req))?
            .into_iter()
            .filter_map(|m| match m {
                RouteNetlinkMessage::NewRoute(r) => Some(r),
                _ => None,
            })
            .collect())
    }

    /// The kernel's own route lookup (`ip route get`).
    pub fn route_get(&mut self, req: RouteMessage) -> io::Result<RouteMessage> {
        match self.request(RouteNetlinkMessage::GetRoute(req))? {
            RouteNetlinkMessage::NewRoute(r) => Ok(r),
            _ => Err(io::Error::other("unexpected answer to RTM_GETROUTE")),
        }
    }

    /// The id this namespace gives the namespace behind `fd`, if any (RTM_GETNSID).
    pub fn nsid_of_fd(&mut self, fd: &impl AsRawFd) -> io::Result<Option<i32>> {
        let mut req = NsidMessage::default();
        req.attributes
            .push(NsidAttribute::Fd(fd.as_raw_fd() as u32));
        match self.request(RouteNetlinkMessage::GetNsId(req))? {
            RouteNetlinkMessage::NewNsId(m) => Ok(m.attributes.iter().find_map(|a| match a {
                NsidAttribute::Id(id) if *id >= 0 => Some(*id),
                _ => None,
            })),
            _ => Ok(None),
        }
    }
}

/// What `link_names` keeps of a link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkName {
    pub index: u32,
    pub name: Vec<u8>,
    pub flags: u32,
    pub link_type: u16,
}

const RTM_NEWLINK: u16 = 16;
const IFLA_IFNAME: u16 = LinkKeep::IFNAME;
const IFLA_IFALIAS: u16 = LinkKeep::IFALIAS;
const IFLA_ALT_IFNAME: u16 = 53;
/// nlmsghdr (16) + ifinfomsg (16).
const LINK_ATTRS: usize = 32;
/// Netlink header and struct ifaddrmsg.
const ADDR_ATTRS: usize = 24;
const RTM_NEWADDR: u16 = 20;
const IFA_LABEL: u16 = 3;

/// A netlink message's type (nlmsg_type), when the header is there.
fn message_kind(msg: &[u8]) -> Option<u16> {
    Some(u16::from_ne_bytes([*msg.get(4)?, *msg.get(5)?]))
}

/// The attributes of a link message (from after its ifinfomsg).
fn link_attrs(msg: &[u8]) -> impl Iterator<Item = (u16, std::ops::Range<usize>)> + '_ {
    attrs_from(msg, LINK_ATTRS)
}

/// The attributes of a message whose family header ends at `start`, as (type, value range).
fn attrs_from(
    msg: &[u8],
    start: usize,
) -> impl Iterator<Item = (u16, std::ops::Range<usize>)> + '_ {
    let base = msg.as_ptr() as usize;
    netlink_packet_core::NlasIterator::new(msg.get(start..).unwrap_or(&[]))
        .map_while(Result::ok)
        .map(move |nla| {
            let value = nla.value();
            let offset = value.as_ptr() as usize - base;
            (nla.kind() & 0x3fff, offset..offset + value.len())
        })
}

/// Index, name, flags and type of a RTM_NEWLINK message, without decoding the rest.
fn link_name_of(msg: &[u8]) -> Option<LinkName> {
    let kind = message_kind(msg)?;
    if kind != RTM_NEWLINK || msg.len() < LINK_ATTRS {
        return None;
    }
    let link_type = u16::from_ne_bytes([msg[18], msg[19]]);
    let index = u32::from_ne_bytes([msg[20], msg[21], msg[22], msg[23]]);
    let flags = u32::from_ne_bytes([msg[24], msg[25], msg[26], msg[27]]);
    let name = link_attrs(msg)
        .find(|(k, _)| *k == IFLA_IFNAME)
        .map(|(_, v)| {
            let b = &msg[v];
            b[..b.iter().position(|c| *c == 0).unwrap_or(b.len())].to_vec()
        })?;
    Some(LinkName {
        index,
        name,
        flags,
        link_type,
    })
}

/// What of each answer the caller reads: attributes it never reads are not decoded at all
/// (netlink-packet-route decodes every nested one; that was a fifth of a big link dump's time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trim {
    Nothing,
    /// RTM_NEWLINK answers keep only these attributes (and IFLA_STATS, the 32-bit counters,
    /// only when IFLA_STATS64 is not there too).
    Link(LinkKeep),
}

/// A set of link attribute kinds (IFLA_*).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkKeep(u128);

impl LinkKeep {
    /// Every attribute, the ones this crate does not know included.
    pub const ALL: LinkKeep = LinkKeep(u128::MAX);
    pub const ADDRESS: u16 = 1;
    pub const BROADCAST: u16 = 2;
    pub const IFNAME: u16 = 3;
    pub const MTU: u16 = 4;
    pub const LINK: u16 = 5;
    pub const QDISC: u16 = 6;
    pub const STATS: u16 = 7;
    pub const MASTER: u16 = 10;
    pub const TXQLEN: u16 = 13;
    pub const OPERSTATE: u16 = 16;
    pub const LINKMODE: u16 = 17;
    pub const LINKINFO: u16 = 18;
    pub const IFALIAS: u16 = 20;
    pub const STATS64: u16 = 23;
    pub const GROUP: u16 = 27;
    pub const CARRIER_CHANGES: u16 = 35;
    pub const LINK_NETNSID: u16 = 37;
    pub const PROTO_DOWN: u16 = 39;
    pub const PROP_LIST: u16 = 52;
    pub const PERM_ADDRESS: u16 = 54;

    pub fn of(kinds: &[u16]) -> Self {
        kinds.iter().fold(LinkKeep(0), |k, n| k.with(*n))
    }

    pub fn with(self, kind: u16) -> Self {
        match 1u128.checked_shl(kind as u32) {
            Some(bit) => LinkKeep(self.0 | bit),
            None => self,
        }
    }

    pub fn keeps(self, kind: u16) -> bool {
        match 1u128.checked_shl(kind as u32) {
            Some(bit) => self.0 & bit != 0,
            None => self == LinkKeep::ALL,
        }
    }
}

/// Decode a RTM_NEWLINK message's header and only the attributes `keep` names, each with
/// netlink-packet-route's own decoder. None when `msg` is not RTM_NEWLINK.
pub fn decode_link(msg: &[u8], keep: LinkKeep) -> Option<Result<LinkMessage, DecodeError>> {
    let kind = message_kind(msg)?;
    if kind != RTM_NEWLINK {
        return None;
    }
    let body = msg.get(16..).unwrap_or(&[]);
    Some((|| {
        let mut l = LinkMessage::default();
        l.header = LinkHeader::parse(body)?;
        let family = l.header.interface_family;
        let mut stats32 = None;
        let mut has64 = false;
        for nla in NlasIterator::new(body.get(LINK_HEADER_LEN..).unwrap_or(&[])) {
            let nla = nla?;
            let kind = nla.kind() & 0x3fff;
            if !keep.keeps(kind) {
                continue;
            }
            has64 |= kind == IFLA_STATS64;
            if kind == IFLA_STATS {
                stats32 = Some(l.attributes.len());
            }
            l.attributes
                .push(LinkAttribute::parse_with_param(&nla, family)?);
        }
        if let Some(i) = stats32.filter(|_| has64) {
            l.attributes.remove(i);
        }
        Ok(l)
    })())
}

const IFLA_STATS: u16 = LinkKeep::STATS;
const IFLA_STATS64: u16 = LinkKeep::STATS64;
/// struct ifinfomsg.
const LINK_HEADER_LEN: usize = LINK_ATTRS - 16;

/// Make a message's names decodable: bytes that are not UTF-8 in a link's IFLA_IFNAME (and its
/// alias and alternative names) or an address's IFA_LABEL become `?`, in place (netlink-packet-
/// route refuses such strings). Returns the real name or label when it was changed.
pub fn patch_names(msg: &mut [u8]) -> Option<Vec<u8>> {
    let kind = message_kind(msg)?;
    let (ranges, main): (Vec<(u16, std::ops::Range<usize>)>, u16) = match kind {
        RTM_NEWLINK => (
            attrs_from(msg, LINK_ATTRS)
                .filter(|(k, _)| matches!(*k, IFLA_IFNAME | IFLA_IFALIAS | IFLA_ALT_IFNAME))
                .collect(),
            IFLA_IFNAME,
        ),
        RTM_NEWADDR => (
            attrs_from(msg, ADDR_ATTRS)
                .filter(|(k, _)| *k == IFA_LABEL)
                .collect(),
            IFA_LABEL,
        ),
        _ => return None,
    };
    let mut real = None;
    for (kind, r) in ranges {
        let v = &msg[r.clone()];
        let end = v.iter().position(|c| *c == 0).unwrap_or(v.len());
        if std::str::from_utf8(&v[..end]).is_ok() {
            continue;
        }
        if kind == main {
            real = Some(v[..end].to_vec());
        }
        for b in &mut msg[r.start..r.start + end] {
            if *b >= 0x80 {
                *b = b'?';
            }
        }
    }
    real
}

/// Names of the network namespaces under /run/netns (what `ip netns` manages) that this
/// namespace knows by an nsid: how iproute2 prints `link-netns NAME` instead of `link-netnsid N`.
pub fn netns_names_by_id(rtnl: &mut Rtnl) -> Vec<(i32, String)> {
    let mut out = Vec::new();
    let Ok(dir) = std::fs::read_dir("/run/netns") else {
        return out;
    };
    for entry in dir.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Ok(file) = std::fs::File::open(entry.path()) else {
            continue;
        };
        if let Ok(Some(id)) = rtnl.nsid_of_fd(&file) {
            out.push((id, name));
        }
    }
    out
}

fn set_recv_timeout(socket: &Socket, timeout: Duration) -> io::Result<()> {
    socket2::SockRef::from(socket).set_read_timeout(Some(timeout))
}

#[cfg(test)]
mod tests {
    use super::*;
    use netlink_packet_core::{NetlinkHeader, NetlinkMessage, NetlinkPayload};
    use netlink_packet_route::link::{LinkAttribute, LinkMessage, Stats, Stats64};

    fn wire(attrs: Vec<LinkAttribute>) -> Vec<u8> {
        let mut l = LinkMessage::default();
        l.header.index = 7;
        l.attributes = attrs;
        let mut m = NetlinkMessage::new(
            NetlinkHeader::default(),
            NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewLink(l)),
        );
        m.finalize();
        let mut buf = vec![0; m.buffer_len()];
        m.serialize(&mut buf);
        buf
    }

    fn kept(bytes: &[u8], keep: LinkKeep) -> Vec<LinkAttribute> {
        decode_link(bytes, keep).unwrap().unwrap().attributes
    }

    #[test]
    fn a_link_keeps_what_is_asked_and_no_32_bit_stats_beside_64_bit_ones() {
        let mut s64 = Stats64::default();
        s64.rx_packets = 5;
        let mut s32 = Stats::default();
        s32.rx_packets = 5;
        let full = vec![
            LinkAttribute::IfName("veth0".into()),
            LinkAttribute::Stats(s32),
            LinkAttribute::Mtu(1500),
            LinkAttribute::Stats64(s64),
            LinkAttribute::AfSpecUnspec(vec![]),
            LinkAttribute::TxQueueLen(1000),
        ];
        let bytes = wire(full.clone());
        let m = decode_link(&bytes, LinkKeep::ALL).unwrap().unwrap();
        assert_eq!(m.header.index, 7);
        assert_eq!(m.attributes.len(), 5, "all but the 32-bit counters");
        let printed = LinkKeep::of(&[
            LinkKeep::IFNAME,
            LinkKeep::MTU,
            LinkKeep::STATS,
            LinkKeep::STATS64,
            LinkKeep::TXQLEN,
        ]);
        assert_eq!(
            kept(&bytes, printed),
            vec![
                LinkAttribute::IfName("veth0".into()),
                LinkAttribute::Mtu(1500),
                LinkAttribute::Stats64(s64),
                LinkAttribute::TxQueueLen(1000),
            ]
        );
        assert_eq!(
            kept(
                &bytes,
                LinkKeep::of(&[
                    LinkKeep::IFNAME,
                    LinkKeep::MTU,
                    LinkKeep::STATS,
                    LinkKeep::TXQLEN
                ])
            ),
            vec![
                LinkAttribute::IfName("veth0".into()),
                LinkAttribute::Stats(s32),
                LinkAttribute::Mtu(1500),
                LinkAttribute::TxQueueLen(1000),
            ],
            "the 32-bit counters when the 64-bit ones are not read"
        );
        // Without 64-bit counters the 32-bit ones stay: they are all there is.
        let bytes = wire(vec![
            LinkAttribute::Stats(Stats::default()),
            LinkAttribute::Mtu(9000),
        ]);
        assert_eq!(kept(&bytes, LinkKeep::ALL).len(), 2);
        assert!(LinkKeep::ALL.keeps(300) && !printed.keeps(300) && !printed.keeps(26));
        // Other messages are not links.
        let mut other = bytes.clone();
        other[4] = 20;
        assert!(decode_link(&other, LinkKeep::ALL).is_none());
    }

    /// Messages come from the kernel, but the decoder must hold on any bytes: never a panic,
    /// and keeping everything decodes what netlink-packet-route's whole-message decoder does.
    #[test]
    fn decoding_any_bytes_never_panics() {
        let sample = wire(vec![
            LinkAttribute::IfName("a".into()),
            LinkAttribute::Stats64(Stats64::default()),
            LinkAttribute::Mtu(1500),
        ]);
        let some = LinkKeep::of(&[LinkKeep::IFNAME, LinkKeep::STATS64]);
        crate::testing::check(&[&sample], 5000, |b| {
            let _ = decode_link(b, some);
            if let Some(Ok(l)) = decode_link(b, LinkKeep::ALL)
                && b.len() >= 4
                && u32::from_ne_bytes([b[0], b[1], b[2], b[3]]) as usize == b.len()
                && let Ok(m) = NetlinkMessage::<RouteNetlinkMessage>::deserialize(b)
                && let NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewLink(whole)) = m.payload
                && !whole
                    .attributes
                    .iter()
                    .any(|a| matches!(a, LinkAttribute::Stats64(_)))
            {
                assert_eq!(l, whole);
            }
        });
    }
}
