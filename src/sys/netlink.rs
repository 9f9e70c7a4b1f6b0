//! A small synchronous rtnetlink client: dumps and single requests with a deadline.
//!
//! netlink-packet-route does the encoding and decoding; this file only moves bytes and turns
//! NLMSG_ERROR into `io::Error`. Reading routes, links, addresses and neighbours needs no
//! privilege, so everything here works as any user.

use netlink_packet_core::{
    NLM_F_DUMP, NLM_F_REQUEST, NetlinkHeader, NetlinkMessage, NetlinkPayload,
};
use netlink_packet_route::address::AddressMessage;
use netlink_packet_route::link::LinkMessage;
use netlink_packet_route::neighbour::NeighbourMessage;
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

pub struct Rtnl {
    socket: Socket,
    seq: u32,
    buf: Vec<u8>,
}

impl Rtnl {
    pub fn open() -> io::Result<Self> {
        let mut socket = Socket::new(NETLINK_ROUTE)?;
        socket.bind_auto()?;
        socket.connect(&SocketAddr::new(0, 0))?;
        set_recv_timeout(&socket, DEADLINE)?;
        Ok(Rtnl {
            socket,
            seq: 0,
            buf: vec![0; RECV_BUF],
        })
    }

    fn send(&mut self, msg: RouteNetlinkMessage, flags: u16) -> io::Result<u32> {
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

    /// Receive the messages answering `seq` until `done` says stop.
    fn receive(
        &mut self,
        seq: u32,
        mut on_msg: impl FnMut(RouteNetlinkMessage) -> bool,
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
            while offset < n {
                let bytes = &self.buf[offset..n];
                let msg =
                    NetlinkMessage::<RouteNetlinkMessage>::deserialize(bytes).map_err(|e| {
                        io::Error::new(
                            io::ErrorKind::InvalidData,
                            format!("cannot decode netlink message: {e}"),
                        )
                    })?;
                let len = msg.header.length as usize;
                if len == 0 {
                    break;
                }
                offset += (len + 3) & !3;
                if msg.header.sequence_number != seq {
                    continue;
                }
                match msg.payload {
                    NetlinkPayload::Done(_) => return Ok(()),
                    // An ACK is an error message without a code.
                    NetlinkPayload::Error(err) if err.code.is_none() => return Ok(()),
                    NetlinkPayload::Error(err) => return Err(err.to_io()),
                    NetlinkPayload::InnerMessage(inner) => {
                        let more = on_msg(inner);
                        if !more {
                            return Ok(());
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    /// Send a dump request and collect every answer.
    pub fn dump(&mut self, msg: RouteNetlinkMessage) -> io::Result<Vec<RouteNetlinkMessage>> {
        let seq = self.send(msg, NLM_F_REQUEST | NLM_F_DUMP)?;
        let mut out = Vec::new();
        self.receive(seq, |m| {
            out.push(m);
            true
        })?;
        Ok(out)
    }

    /// Send one request and return its one answer.
    pub fn request(&mut self, msg: RouteNetlinkMessage) -> io::Result<RouteNetlinkMessage> {
        let seq = self.send(msg, NLM_F_REQUEST)?;
        let mut answer = None;
        self.receive(seq, |m| {
            answer = Some(m);
            false
        })?;
        answer.ok_or_else(|| io::Error::other("the kernel sent no answer"))
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

    pub fn neighbours(&mut self, family: AddressFamily) -> io::Result<Vec<NeighbourMessage>> {
        let mut req = NeighbourMessage::default();
        req.header.family = family;
        Ok(self
            .dump(RouteNetlinkMessage::GetNeighbour(req))?
            .into_iter()
            .filter_map(|m| match m {
                RouteNetlinkMessage::NewNeighbour(n) => Some(n),
                _ => None,
            })
            .collect())
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
