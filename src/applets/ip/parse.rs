//! Netlink messages -> view structs, and iproute2's filters. Pure functions over decoded
//! messages, so every decision here is unit-tested without a socket.

use super::cli::{AddrFilter, Family, NeighFilter, Opts, Prefix, RouteFilter, ip_bytes};
use super::model::*;
use super::names;
use crate::sys::netlink::LinkKeep;
use netlink_packet_route::AddressFamily;
use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use netlink_packet_route::link::{
    AfSpecInet6, AfSpecUnspec, In6AddrGenMode, LinkAttribute, LinkInfo, LinkMessage, Prop,
};
use netlink_packet_route::neighbour::{NeighbourAddress, NeighbourAttribute, NeighbourMessage};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteMessage, RouteMetric, RoutePreference,
};
use std::collections::HashMap;
use std::net::IpAddr;

pub const IFF_UP: u32 = 0x1;
const IFF_POINTOPOINT: u32 = 0x10;
const IFF_RUNNING: u32 = 0x40;

/// What iproute2 keeps in its `ll_map`: index -> name, flags, type. Also the netns names.
/// An entry is 28 bytes with the name inline (the kernel's names are at most 15 bytes), so a
/// node with thousands of links keeps a small table.
#[derive(Debug, Default, Clone)]
pub struct Names {
    links: HashMap<u32, LinkEntry, foldhash::fast::FixedState>,
    pub netns: Vec<(i32, String)>,
    /// `-N`: numbers instead of names for protocols, scopes, tables, types and groups.
    pub numeric: bool,
}

#[derive(Debug, Clone, Copy)]
struct LinkEntry {
    flags: u32,
    link_type: u16,
    len: u8,
    name: [u8; 16],
}

impl LinkEntry {
    fn name(&self) -> &[u8] {
        &self.name[..self.len as usize]
    }
}

impl Names {
    /// Remember one link (from the names dump, a single lookup, or the link dump itself); a
    /// name that is not UTF-8 is kept byte for byte (output::raw_text).
    pub fn learn(&mut self, l: crate::sys::netlink::LinkName) {
        let mut name = [0u8; 16];
        let len = l.name.len().min(16);
        name[..len].copy_from_slice(&l.name[..len]);
        self.links.insert(
            l.index,
            LinkEntry {
                flags: l.flags,
                link_type: l.link_type,
                len: len as u8,
                name,
            },
        );
    }

    pub fn knows(&self, index: u32) -> bool {
        self.links.contains_key(&index)
    }

    /// The name of a known link, byte for byte (output::raw_text).
    pub fn known_name(&self, index: u32) -> Option<String> {
        self.links
            .get(&index)
            .map(|l| crate::output::raw_text(l.name()))
    }

    /// `ll_index_to_name`: unknown indexes print as `ifN`.
    pub fn name(&self, index: u32) -> String {
        self.known_name(index)
            .unwrap_or_else(|| format!("if{index}"))
    }

    pub fn index(&self, name: &str) -> Option<u32> {
        let want = crate::output::raw_bytes(name);
        self.links
            .iter()
            .find(|(_, l)| l.name() == &want[..])
            .map(|(i, _)| *i)
    }

    /// `ll_index_to_flags`: an unknown index reads as all flags set (so never `M-DOWN`).
    fn flags(&self, index: u32) -> u32 {
        self.links.get(&index).map(|l| l.flags).unwrap_or(u32::MAX)
    }

    fn link_type(&self, index: u32) -> u16 {
        self.links
            .get(&index)
            .map(|l| l.link_type)
            .unwrap_or(0xffff)
    }

    pub(super) fn protocol(&self, n: u8) -> String {
        if self.numeric {
            n.to_string()
        } else {
            super::names::protocol(n)
        }
    }

    pub(super) fn scope(&self, n: u8) -> String {
        if self.numeric {
            n.to_string()
        } else {
            super::names::scope(n)
        }
    }

    pub(super) fn route_type(&self, n: u8) -> String {
        if self.numeric {
            n.to_string()
        } else {
            super::names::route_type(n)
        }
    }

    pub(super) fn table(&self, n: u32) -> String {
        if self.numeric {
            n.to_string()
        } else {
            super::names::table(n)
        }
    }

    fn type_word(&self, t: u16) -> String {
        if self.numeric {
            format!("[{t}]")
        } else {
            names::link_type(t)
        }
    }

    pub(super) fn group(&self, g: u32) -> String {
        if g == 0 && !self.numeric {
            "default".into()
        } else {
            g.to_string()
        }
    }
}

pub fn link_name(l: &LinkMessage) -> Option<&str> {
    l.attributes.iter().find_map(|a| match a {
        LinkAttribute::IfName(n) => Some(n.as_str()),
        _ => None,
    })
}

/// iproute2's print_link_flags, as the list of words.
pub fn link_flags(mut flags: u32) -> Vec<String> {
    const NAMES: &[(u32, &str)] = &[
        (0x8, "LOOPBACK"),
        (0x2, "BROADCAST"),
        (0x10, "POINTOPOINT"),
        (0x1000, "MULTICAST"),
        (0x80, "NOARP"),
        (0x200, "ALLMULTI"),
        (0x100, "PROMISC"),
        (0x400, "MASTER"),
        (0x800, "SLAVE"),
        (0x4, "DEBUG"),
        (0x8000, "DYNAMIC"),
        (0x4000, "AUTOMEDIA"),
        (0x2000, "PORTSEL"),
        (0x20, "NOTRAILERS"),
        (0x1, "UP"),
        (0x10000, "LOWER_UP"),
        (0x20000, "DORMANT"),
        (0x40000, "ECHO"),
    ];
    let mut out = Vec::new();
    if flags & IFF_UP != 0 && flags & IFF_RUNNING == 0 {
        out.push("NO-CARRIER".to_string());
    }
    flags &= !IFF_RUNNING;
    for (bit, name) in NAMES {
        if flags & bit != 0 {
            flags &= !bit;
            out.push(name.to_string());
        }
    }
    if flags != 0 {
        out.push(format!("{flags:x}"));
    }
    out
}

/// How a link is to be shown: `ip link` vs `ip addr`, and the options.
#[derive(Debug, Clone, Copy)]
pub struct LinkShow<'a> {
    pub opts: &'a Opts,
    /// `ip link` (iproute2's do_link).
    pub link_mode: bool,
}

/// The link attributes `link_view`, `link_refs` and `link_passes` read for this form: in a
/// dump only those are decoded. `-d` reads them all.
pub fn link_keep(opts: &Opts, filter: &AddrFilter) -> LinkKeep {
    if opts.details > 0 {
        return LinkKeep::ALL;
    }
    let mut keep = LinkKeep::of(&[
        LinkKeep::IFNAME,
        LinkKeep::LINK,
        LinkKeep::LINK_NETNSID,
        LinkKeep::MTU,
        LinkKeep::QDISC,
        LinkKeep::MASTER,
        LinkKeep::OPERSTATE,
        LinkKeep::LINKMODE,
        LinkKeep::GROUP,
        LinkKeep::TXQLEN,
        LinkKeep::ADDRESS,
        LinkKeep::BROADCAST,
        LinkKeep::PERM_ADDRESS,
        LinkKeep::PROTO_DOWN,
        LinkKeep::IFALIAS,
        LinkKeep::PROP_LIST,
    ]);
    if opts.stats > 0 {
        keep = keep
            .with(LinkKeep::STATS)
            .with(LinkKeep::STATS64)
            .with(LinkKeep::CARRIER_CHANGES);
    }
    if filter.kind.is_some() {
        keep = keep.with(LinkKeep::LINKINFO);
    }
    keep
}

pub fn link_view(l: &LinkMessage, show: LinkShow, names: &Names) -> Option<LinkView> {
    let opts = show.opts;
    // The names table keeps a name that is not UTF-8 byte for byte; the message has `?`s.
    let name = match names.known_name(l.header.index) {
        Some(n) => n,
        None => link_name(l)?.to_string(),
    };
    let flags = l.header.flags.bits();
    let ltype = u16::from(l.header.link_layer_type);
    let mut v = LinkView {
        ifindex: l.header.index,
        link: None,
        ifname: name,
        mdown: false,
        flags: link_flags(flags),
        mtu: None,
        qdisc: None,
        master: None,
        operstate: None,
        linkmode: None,
        group: None,
        txqlen: None,
        link_type: None,
        address: None,
        pointtopoint: false,
        broadcast: None,
        permaddr: None,
        link_netns: None,
        proto_down: false,
        details: None,
        ifalias: None,
        stats: None,
        stats_after_addresses: !show.link_mode,
        altnames: None,
        addr_info: None,
        brief: opts.brief,
        addr_only: false,
    };
    let mut netnsid = None;
    let mut iflink = None;
    let mut address = None;
    let mut perm = None;
    let mut stats64 = None;
    let mut stats32 = None;
    let mut carrier_changes = None;
    let mut d = LinkDetails::default();
    for a in &l.attributes {
        match a {
            LinkAttribute::Link(i) => iflink = Some(*i),
            LinkAttribute::LinkNetNsId(id) => netnsid = Some(*id),
            LinkAttribute::Mtu(m) => v.mtu = Some(*m),
            LinkAttribute::Qdisc(q) => v.qdisc = Some(q.clone()),
            LinkAttribute::Controller(m) => v.master = Some(names.name(*m)),
            LinkAttribute::OperState(s) => {
                let n = u8::from(*s);
                v.operstate = Some(match names::OPER_STATES.get(n as usize) {
                    Some(s) => OperState::Known(s),
                    None => OperState::Index(n),
                });
            }
            LinkAttribute::Mode(m) if show.link_mode => {
                let n = u8::from(*m);
                v.linkmode = Some(match n {
                    0 => "DEFAULT".to_string(),
                    1 => "DORMANT".to_string(),
                    _ => n.to_string(),
                });
            }
            LinkAttribute::Group(g) => v.group = Some(names.group(*g)),
            LinkAttribute::TxQueueLen(q) if *q != 0 => v.txqlen = Some(*q),
            LinkAttribute::Address(a) => address = Some(a.clone()),
            LinkAttribute::Broadcast(b) => v.broadcast = Some(names::link_addr(b, ltype)),
            LinkAttribute::PermAddress(p) => perm = Some(p.clone()),
            LinkAttribute::ProtoDown(p) => v.proto_down = *p != 0,
            LinkAttribute::Promiscuity(p) => d.promiscuity = Some(*p),
            LinkAttribute::AllMulticast(p) => d.allmulti = Some(*p),
            LinkAttribute::MinMtu(p) => d.min_mtu = Some(*p),
            LinkAttribute::MaxMtu(p) => d.max_mtu = Some(*p),
            LinkAttribute::LinkInfo(infos) => {
                for i in infos {
                    match i {
                        LinkInfo::Kind(k) => d.info_kind = Some(k.to_string()),
                        LinkInfo::PortKind(k) => d.info_slave_kind = Some(k.to_string()),
                        LinkInfo::Data(data) => d.info_data = super::kinds::info_data(data, names),
                        LinkInfo::PortData(data) => {
                            d.info_slave_data = super::kinds::port_data(data)
                        }
                        _ => {}
                    }
                }
            }
            LinkAttribute::AfSpecUnspec(specs) if show.link_mode => {
                for s in specs {
                    if let AfSpecUnspec::Inet6(inet6) = s {
                        for x in inet6 {
                            if let AfSpecInet6::AddrGenMode(m) = x {
                                d.addrgenmode = Some(match m {
                                    In6AddrGenMode::Eui64 => "eui64".into(),
                                    In6AddrGenMode::None => "none".into(),
                                    In6AddrGenMode::StablePrivacy => "stable_secret".into(),
                                    In6AddrGenMode::Random => "random".into(),
                                    In6AddrGenMode::Other(n) => format!("{n:#04x}"),
                                    _ => "unknown".into(),
                                });
                            }
                        }
                    }
                }
            }
            LinkAttribute::NumTxQueues(n) => d.num_tx_queues = Some(*n),
            LinkAttribute::NumRxQueues(n) => d.num_rx_queues = Some(*n),
            LinkAttribute::GsoMaxSize(n) => d.gso_max_size = Some(*n),
            LinkAttribute::GsoMaxSegs(n) => d.gso_max_segs = Some(*n),
            LinkAttribute::TsoMaxSize(n) => d.tso_max_size = Some(*n),
            LinkAttribute::TsoMaxSegs(n) => d.tso_max_segs = Some(*n),
            LinkAttribute::GroMaxSize(n) => d.gro_max_size = Some(*n),
            LinkAttribute::PhysPortName(n) => d.phys_port_name = Some(n.clone()),
            LinkAttribute::ParentDevBusName(n) => d.parentbus = Some(n.clone()),
            LinkAttribute::ParentDevName(n) => d.parentdev = Some(n.clone()),
            LinkAttribute::IfAlias(a) => v.ifalias = Some(a.clone()),
            LinkAttribute::Stats64(s) => stats64 = Some(*s),
            LinkAttribute::Stats(s) => stats32 = Some(*s),
            LinkAttribute::CarrierChanges(c) => carrier_changes = Some(*c),
            LinkAttribute::PropList(props) => {
                let alt: Vec<String> = props
                    .iter()
                    .filter_map(|p| match p {
                        Prop::AltIfName(n) => Some(n.clone()),
                        _ => None,
                    })
                    .collect();
                v.altnames = Some(alt);
            }
            _ => {}
        }
    }
    if let Some(i) = iflink {
        v.link = Some(if i == 0 {
            LinkRef::None
        } else if netnsid.is_some() {
            LinkRef::Index(i)
        } else {
            v.mdown = names.flags(i) & IFF_UP == 0;
            LinkRef::Name(names.name(i))
        });
    }
    if let Some(id) = netnsid {
        let name = names
            .netns
            .iter()
            .find(|(n, _)| *n == id)
            .map(|(_, s)| s.clone());
        v.link_netns = Some(NetnsRef { id, name });
    }
    v.address = address.as_ref().map(|a| names::link_addr(a, ltype));
    if let Some(p) = perm
        && address.as_ref() != Some(&p)
    {
        v.permaddr = Some(names::link_addr(&p, ltype));
    }
    if matches!(opts.family, Family::Unspec | Family::Packet) || opts.details > 0 {
        v.link_type = Some(names.type_word(ltype));
        v.pointtopoint = flags & IFF_POINTOPOINT != 0;
    } else {
        v.broadcast = None;
        v.permaddr = None;
    }
    if opts.details > 0 {
        v.details = Some(d);
    }
    if !(show.link_mode || opts.details > 0) {
        v.ifalias = None;
    }
    if opts.stats > 0 {
        let key_counters = match (stats64, stats32) {
            (Some(s), _) => Some(("stats64", counters64(&s))),
            (None, Some(s)) => Some(("stats", counters32(&s))),
            _ => None,
        };
        if let Some((key, counters)) = key_counters {
            v.stats = Some(LinkStats {
                key,
                counters,
                carrier_changes,
                level: opts.stats,
            });
        }
    }
    if opts.brief {
        // print_linkinfo_brief shows the hardware address only for `ip -br link`.
        if !matches!(opts.family, Family::Packet) {
            v.address = None;
        }
    }
    Some(v)
}

fn counters64(s: &netlink_packet_route::link::Stats64) -> Counters {
    Counters {
        rx_packets: s.rx_packets,
        tx_packets: s.tx_packets,
        rx_bytes: s.rx_bytes,
        tx_bytes: s.tx_bytes,
        rx_errors: s.rx_errors,
        tx_errors: s.tx_errors,
        rx_dropped: s.rx_dropped,
        tx_dropped: s.tx_dropped,
        multicast: s.multicast,
        collisions: s.collisions,
        rx_length_errors: s.rx_length_errors,
        rx_over_errors: s.rx_over_errors,
        rx_crc_errors: s.rx_crc_errors,
        rx_frame_errors: s.rx_frame_errors,
        rx_fifo_errors: s.rx_fifo_errors,
        rx_missed_errors: s.rx_missed_errors,
        tx_aborted_errors: s.tx_aborted_errors,
        tx_carrier_errors: s.tx_carrier_errors,
        tx_fifo_errors: s.tx_fifo_errors,
        tx_heartbeat_errors: s.tx_heartbeat_errors,
        tx_window_errors: s.tx_window_errors,
        rx_compressed: s.rx_compressed,
        tx_compressed: s.tx_compressed,
        rx_nohandler: s.rx_nohandler,
        rx_otherhost_dropped: s.rx_otherhost_dropped,
    }
}

fn counters32(s: &netlink_packet_route::link::Stats) -> Counters {
    Counters {
        rx_packets: s.rx_packets as u64,
        tx_packets: s.tx_packets as u64,
        rx_bytes: s.rx_bytes as u64,
        tx_bytes: s.tx_bytes as u64,
        rx_errors: s.rx_errors as u64,
        tx_errors: s.tx_errors as u64,
        rx_dropped: s.rx_dropped as u64,
        tx_dropped: s.tx_dropped as u64,
        multicast: s.multicast as u64,
        collisions: s.collisions as u64,
        rx_length_errors: s.rx_length_errors as u64,
        rx_over_errors: s.rx_over_errors as u64,
        rx_crc_errors: s.rx_crc_errors as u64,
        rx_frame_errors: s.rx_frame_errors as u64,
        rx_fifo_errors: s.rx_fifo_errors as u64,
        rx_missed_errors: s.rx_missed_errors as u64,
        tx_aborted_errors: s.tx_aborted_errors as u64,
        tx_carrier_errors: s.tx_carrier_errors as u64,
        tx_fifo_errors: s.tx_fifo_errors as u64,
        tx_heartbeat_errors: s.tx_heartbeat_errors as u64,
        tx_window_errors: s.tx_window_errors as u64,
        rx_compressed: s.rx_compressed as u64,
        tx_compressed: s.tx_compressed as u64,
        rx_nohandler: s.rx_nohandler as u64,
        rx_otherhost_dropped: 0,
    }
}

/// Link-level filters of `ip addr/link show` (iproute2's print_linkinfo checks).
/// The other links a link message names: its master, and its lower device when that lives in
/// this namespace (no IFLA_LINK_NETNSID).
pub fn link_refs(l: &LinkMessage) -> Vec<u32> {
    let mut refs = Vec::new();
    let mut lower = None;
    let mut other_netns = false;
    for a in &l.attributes {
        match a {
            LinkAttribute::Controller(m) => refs.push(*m),
            LinkAttribute::Link(i) => lower = Some(*i),
            LinkAttribute::LinkNetNsId(_) => other_netns = true,
            _ => {}
        }
    }
    if let Some(i) = lower.filter(|_| !other_netns) {
        refs.push(i);
    }
    refs
}

pub fn link_passes(l: &LinkMessage, f: &AddrFilter, names: &Names) -> bool {
    if f.up && l.header.flags.bits() & IFF_UP == 0 {
        return false;
    }
    if let Some(master) = &f.master {
        let m = l.attributes.iter().find_map(|a| match a {
            LinkAttribute::Controller(m) => Some(*m),
            _ => None,
        });
        if m.is_none() || names.index(master) != m {
            return false;
        }
    }
    if let Some(kind) = &f.kind {
        let (want, slave) = match kind.strip_suffix("_slave") {
            Some(k) => (k, true),
            None => (kind.as_str(), false),
        };
        let have = l.attributes.iter().find_map(|a| match a {
            LinkAttribute::LinkInfo(infos) => infos.iter().find_map(|i| match (i, slave) {
                (LinkInfo::Kind(k), false) => Some(k.to_string()),
                (LinkInfo::PortKind(k), true) => Some(k.to_string()),
                _ => None,
            }),
            _ => None,
        });
        if have.as_deref() != Some(want) {
            return false;
        }
    }
    true
}

pub fn addr_family(a: &AddressMessage) -> Family {
    match a.header.family {
        AddressFamily::Inet => Family::Inet,
        AddressFamily::Inet6 => Family::Inet6,
        _ => Family::Unspec,
    }
}

fn addr_local(a: &AddressMessage) -> Option<IpAddr> {
    let mut local = None;
    let mut address = None;
    for attr in &a.attributes {
        match attr {
            AddressAttribute::Local(ip) => local = Some(*ip),
            AddressAttribute::Address(ip) => address = Some(*ip),
            _ => {}
        }
    }
    local.or(address)
}

/// The address-level filters of `ip addr show` (scope, family, `to PREFIX`).
pub fn addr_passes(a: &AddressMessage, f: &AddrFilter, family: Family) -> bool {
    if family != Family::Unspec && family != addr_family(a) {
        return false;
    }
    if let Some(scope) = f.scope
        && u8::from(a.header.scope) != scope
    {
        return false;
    }
    if let Some(to) = &f.to {
        match addr_local(a) {
            Some(ip) => {
                if !prefix_match_addr(to, ip) {
                    return false;
                }
            }
            None => return false,
        }
    }
    true
}

/// iproute2's `inet_addr_match_rta`: family must agree and the prefix bits must match.
fn prefix_match_addr(p: &Prefix, ip: IpAddr) -> bool {
    let fam = if ip.is_ipv4() {
        Family::Inet
    } else {
        Family::Inet6
    };
    if p.family != Family::Unspec && p.family != fam {
        return false;
    }
    p.first_bits_match(&ip_bytes(ip), p.bitlen)
}

pub fn addr_view(a: &AddressMessage, opts: &Opts, names: &Names) -> AddrView {
    let family = match a.header.family {
        AddressFamily::Inet => "inet".to_string(),
        AddressFamily::Inet6 => "inet6".to_string(),
        other => format!("family {}", u8::from(other)),
    };
    let mut local = None;
    let mut address = None;
    let mut v = AddrView {
        index_dev: None,
        family,
        local: None,
        peer: None,
        prefixlen: a.header.prefix_len,
        metric: None,
        broadcast: None,
        anycast: None,
        scope: names.scope(u8::from(a.header.scope)),
        flags: Vec::new(),
        unknown_flags: None,
        label: None,
        lifetimes: None,
        brief: opts.brief,
        hidden: false,
    };
    let mut flags = a.header.flags.bits() as u32;
    for attr in &a.attributes {
        match attr {
            AddressAttribute::Local(ip) => local = Some(*ip),
            AddressAttribute::Address(ip) => address = Some(*ip),
            AddressAttribute::Broadcast(ip) => v.broadcast = Some(ip.to_string()),
            AddressAttribute::Anycast(ip) => v.anycast = Some(ip.to_string()),
            AddressAttribute::Label(l) => v.label = Some(l.clone()),
            AddressAttribute::Flags(f) => flags = f.bits(),
            AddressAttribute::RoutePriority(p) => v.metric = Some(*p),
            AddressAttribute::CacheInfo(ci) => {
                v.lifetimes = Some(Lifetimes {
                    valid: ci.ifa_valid,
                    preferred: ci.ifa_preferred,
                    deprecated: false,
                })
            }
            _ => {}
        }
    }
    let local = local.or(address);
    let address = address.or(local);
    v.local = local.map(|ip| ip.to_string());
    if local != address {
        v.peer = address.map(|ip| ip.to_string());
    }
    if let Some(lt) = &mut v.lifetimes {
        lt.deprecated = flags & IFA_F_DEPRECATED != 0;
    }
    let (words, rest) = addr_flags(flags, a.header.family == AddressFamily::Inet6);
    v.flags = words;
    if rest != 0 {
        v.unknown_flags = Some(rest);
    }
    v
}

const IFA_F_DEPRECATED: u32 = 0x20;
const IFA_F_PERMANENT: u32 = 0x80;

/// iproute2's print_ifa_flags: the words, and what is left unnamed.
pub fn addr_flags(mut flags: u32, inet6: bool) -> (Vec<&'static str>, u32) {
    const TABLE: &[(&str, u32)] = &[
        ("secondary", 0x01),
        ("temporary", 0x01),
        ("nodad", 0x02),
        ("optimistic", 0x04),
        ("dadfailed", 0x08),
        ("home", 0x10),
        ("deprecated", 0x20),
        ("tentative", 0x40),
        ("permanent", 0x80),
        ("mngtmpaddr", 0x100),
        ("noprefixroute", 0x200),
        ("autojoin", 0x400),
        ("stable-privacy", 0x800),
    ];
    let mut out = Vec::new();
    for (name, mask) in TABLE {
        if *mask == IFA_F_PERMANENT {
            if flags & mask == 0 {
                out.push("dynamic");
            }
        } else if flags & mask != 0 {
            if *mask == 0x01 && inet6 {
                out.push("temporary");
            } else {
                out.push(name);
            }
        }
        flags &= !mask;
    }
    (out, flags)
}

fn route_addr(a: &RouteAddress) -> Option<IpAddr> {
    match a {
        RouteAddress::Inet(ip) => Some(IpAddr::V4(*ip)),
        RouteAddress::Inet6(ip) => Some(IpAddr::V6(*ip)),
        _ => None,
    }
}

fn route_addr_text(a: &RouteAddress) -> String {
    match a {
        RouteAddress::Inet(ip) => names::ipv4_text(*ip),
        RouteAddress::Inet6(ip) => ip.to_string(),
        RouteAddress::Mpls(l) => format!("{}", l.label),
        RouteAddress::Other(b) => names::link_addr(b, 0),
        _ => String::from("?"),
    }
}

pub fn route_family(r: &RouteMessage) -> Family {
    match r.header.address_family {
        AddressFamily::Inet => Family::Inet,
        AddressFamily::Inet6 => Family::Inet6,
        _ => Family::Unspec,
    }
}

pub fn route_table(r: &RouteMessage) -> u32 {
    r.attributes
        .iter()
        .find_map(|a| match a {
            RouteAttribute::Table(t) => Some(*t),
            _ => None,
        })
        .unwrap_or(r.header.table as u32)
}

const RTM_F_CLONED: u32 = 0x200;

fn route_u32(r: &RouteMessage, pick: impl Fn(&RouteAttribute) -> Option<u32>) -> Option<u32> {
    r.attributes.iter().find_map(pick)
}

/// The address bytes of RTA_DST/RTA_SRC/RTA_GATEWAY/RTA_PREFSRC, zero when absent (as iproute2).
fn route_bytes(
    r: &RouteMessage,
    pick: impl Fn(&RouteAttribute) -> Option<&RouteAddress>,
) -> [u8; 16] {
    r.attributes
        .iter()
        .find_map(pick)
        .and_then(route_addr)
        .map(ip_bytes)
        .unwrap_or([0; 16])
}

/// iproute2's filter_nlmsg for `ip route show`.
pub fn route_passes(r: &RouteMessage, f: &RouteFilter, names: &Names) -> bool {
    let fam = route_family(r);
    if f.family != Family::Unspec && fam != f.family {
        return false;
    }
    let cloned = r.header.flags.bits() & RTM_F_CLONED != 0;
    if f.cloned != cloned {
        return false;
    }
    if let Some(t) = f.table
        && route_table(r) != t
    {
        return false;
    }
    let h = &r.header;
    if let Some(p) = f.protocol
        && u8::from(h.protocol) != p
    {
        return false;
    }
    if let Some(s) = f.scope
        && u8::from(h.scope) != s
    {
        return false;
    }
    if let Some(k) = f.kind
        && u8::from(h.kind) != k
    {
        return false;
    }
    if let Some(t) = f.tos
        && h.tos != t
    {
        return false;
    }
    let dst = route_bytes(r, |a| match a {
        RouteAttribute::Destination(d) => Some(d),
        _ => None,
    });
    let src = route_bytes(r, |a| match a {
        RouteAttribute::Source(d) => Some(d),
        _ => None,
    });
    let fam_ok = |p: &Prefix| p.family == Family::Unspec || p.family == fam;
    if f.root.active()
        && (!fam_ok(&f.root)
            || f.root.bitlen > h.destination_prefix_length
            || !f.root.first_bits_match(&dst, f.root.bitlen))
    {
        return false;
    }
    if f.matching.active()
        && (!fam_ok(&f.matching)
            || f.matching.bitlen < h.destination_prefix_length
            || !f
                .matching
                .first_bits_match(&dst, h.destination_prefix_length))
    {
        return false;
    }
    if f.src_root.active()
        && (!fam_ok(&f.src_root)
            || f.src_root.bitlen > h.source_prefix_length
            || !f.src_root.first_bits_match(&src, f.src_root.bitlen))
    {
        return false;
    }
    if f.src_matching.active()
        && (!fam_ok(&f.src_matching)
            || f.src_matching.bitlen < h.source_prefix_length
            || !f
                .src_matching
                .first_bits_match(&src, h.source_prefix_length))
    {
        return false;
    }
    if let Some(via) = &f.via {
        let gw = route_bytes(r, |a| match a {
            RouteAttribute::Gateway(d) => Some(d),
            _ => None,
        });
        if !fam_ok(via) || !via.first_bits_match(&gw, via.bitlen) {
            return false;
        }
    }
    if let Some(ps) = &f.prefsrc {
        let p = route_bytes(r, |a| match a {
            RouteAttribute::PrefSource(d) => Some(d),
            _ => None,
        });
        if !fam_ok(ps) || !ps.first_bits_match(&p, ps.bitlen) {
            return false;
        }
    }
    let iface_is = |want: &Option<String>, pick: fn(&RouteAttribute) -> Option<u32>| match want {
        None => true,
        Some(name) => route_u32(r, pick).unwrap_or(0) == names.index(name).unwrap_or(u32::MAX),
    };
    if !iface_is(&f.oif, |a| match a {
        RouteAttribute::Oif(i) => Some(*i),
        _ => None,
    }) {
        return false;
    }
    if !iface_is(&f.iif, |a| match a {
        RouteAttribute::Iif(i) => Some(*i),
        _ => None,
    }) {
        return false;
    }
    if let Some(m) = f.metric {
        let metric = route_u32(r, |a| match a {
            RouteAttribute::Priority(p) => Some(*p),
            _ => None,
        });
        if metric.unwrap_or(0) != m {
            return false;
        }
    }
    true
}

/// Which fields print_route leaves out because a filter already fixes them.
#[derive(Debug, Clone, Copy, Default)]
pub struct RouteShow {
    pub details: u8,
    pub stats: u8,
    /// A table filter is set (iproute2's `filter.tb != 0`): the table is never printed.
    pub table_filtered: bool,
    pub oif_filtered: bool,
    pub iif_filtered: bool,
    pub protocol_filtered: bool,
    pub scope_filtered: bool,
    pub metric_filtered: bool,
    pub tos_filtered: bool,
    pub via_host: bool,
    pub prefsrc_host: bool,
}

impl RouteShow {
    pub fn for_filter(f: &RouteFilter, opts: &Opts) -> Self {
        let host = |p: &Option<Prefix>| {
            p.as_ref()
                .is_some_and(|p| p.bitlen == p.family.bit_len() && p.family.bit_len() > 0)
        };
        RouteShow {
            details: opts.details,
            stats: opts.stats,
            table_filtered: f.table.is_some(),
            oif_filtered: f.oif.is_some(),
            iif_filtered: f.iif.is_some(),
            protocol_filtered: f.protocol.is_some(),
            scope_filtered: f.scope.is_some(),
            metric_filtered: f.metric.is_some(),
            tos_filtered: f.tos.is_some(),
            via_host: host(&f.via),
            prefsrc_host: host(&f.prefsrc),
        }
    }

    pub fn for_get(opts: &Opts) -> Self {
        RouteShow {
            details: opts.details,
            stats: opts.stats,
            ..Default::default()
        }
    }
}

/// The user-visible clock tick (USER_HZ) the kernel uses in route cache info.
const USER_HZ: u32 = 100;

pub(super) fn rt_flags(flags: u32) -> Vec<&'static str> {
    const TABLE: &[(u32, &str)] = &[
        (0x1, "dead"),
        (0x4, "onlink"),
        (0x2, "pervasive"),
        (0x8, "offload"),
        (0x40, "trap"),
        (0x100, "notify"),
        (0x10, "linkdown"),
        (0x20, "unresolved"),
        (0x4000, "rt_offload"),
        (0x8000, "rt_trap"),
        (0x2000_0000, "rt_offload_failed"),
    ];
    TABLE
        .iter()
        .filter(|(b, _)| flags & b != 0)
        .map(|(_, n)| *n)
        .collect()
}

fn cache_flags(flags: u32) -> (Vec<&'static str>, Option<u32>) {
    const TABLE: &[(u32, &str)] = &[
        (0x8000_0000, "local"),
        (0x4000_0000, "reject"),
        (0x2000_0000, "mc"),
        (0x1000_0000, "brd"),
        (0x0800_0000, "dst-nat"),
        (0x0080_0000, "src-nat"),
        (0x0040_0000, "masq"),
        (0x0002_0000, "dst-direct"),
        (0x0400_0000, "src-direct"),
        (0x0004_0000, "redirected"),
        (0x0100_0000, "redirect"),
        (0x0020_0000, "fastroute"),
        (0x0001_0000, "notify"),
        (0x0008_0000, "proxy"),
    ];
    let mut rest = flags & !0xffff;
    let mut out = Vec::new();
    for (bit, name) in TABLE {
        if rest & bit != 0 {
            rest &= !bit;
            out.push(*name);
        }
    }
    (out, if rest != 0 { Some(rest) } else { None })
}

pub(super) fn realm_name(n: u32) -> String {
    if n == 0 {
        "cosmos".into()
    } else {
        n.to_string()
    }
}

/// iproute2's print_route, as a view.
pub fn route_view(r: &RouteMessage, show: &RouteShow, names: &Names) -> RouteView {
    let h = &r.header;
    let fam = route_family(r);
    let host_len = fam.bit_len();
    let kind = u8::from(h.kind);
    let flags = h.flags.bits();
    let cloned = flags & RTM_F_CLONED != 0;
    let mut v = RouteView::default();
    if kind != 1 || show.details > 0 {
        v.kind = Some(names.route_type(kind));
    }
    let mut dst = None;
    let mut src = None;
    for a in &r.attributes {
        match a {
            RouteAttribute::Destination(d) => dst = Some(route_addr_text(d)),
            RouteAttribute::Source(s) => src = Some(route_addr_text(s)),
            RouteAttribute::NhId(n) => v.nhid = Some(*n),
            RouteAttribute::Gateway(g) if !show.via_host => v.gateway = Some(route_addr_text(g)),
            RouteAttribute::Oif(i) if !show.oif_filtered => v.dev = Some(names.name(*i)),
            RouteAttribute::PrefSource(p) if !show.prefsrc_host => {
                v.prefsrc = Some(route_addr_text(p))
            }
            RouteAttribute::Priority(p) if !show.metric_filtered => v.metric = Some(*p),
            RouteAttribute::Mark(m) if *m != 0 => v.mark = Some(*m),
            RouteAttribute::Realm(realm) => {
                let from = realm.source as u32;
                let to = realm.destination as u32;
                v.realm = Some(((from != 0).then(|| realm_name(from)), realm_name(to)));
            }
            RouteAttribute::Uid(u) => v.uid = Some(*u),
            RouteAttribute::CacheInfo(ci) if matches!(fam, Family::Inet | Family::Inet6) => {
                let mut c = CacheInfo::default();
                if ci.expires != 0 {
                    c.expires = Some(ci.expires as i32 / USER_HZ as i32);
                }
                if ci.error != 0 {
                    c.error = Some(ci.error);
                }
                if show.stats > 0 {
                    if ci.clntref != 0 {
                        c.users = Some(ci.clntref);
                    }
                    if ci.used != 0 {
                        c.used = Some(ci.used);
                    }
                    if ci.last_use != 0 {
                        c.age = Some(ci.last_use / USER_HZ);
                    }
                }
                if ci.id != 0 {
                    c.ipid = Some(ci.id);
                }
                if ci.ts != 0 || ci.ts_age != 0 {
                    c.ts = Some((ci.ts, ci.ts_age));
                }
                v.cacheinfo = Some(c);
            }
            RouteAttribute::Metrics(ms) => v.metrics = metrics(ms),
            RouteAttribute::Iif(i) if !show.iif_filtered => v.iif = Some(names.name(*i)),
            RouteAttribute::Preference(p) => {
                v.pref = Some(match p {
                    RoutePreference::Low => "low".into(),
                    RoutePreference::Medium => "medium".into(),
                    RoutePreference::High => "high".into(),
                    other => u8::from(*other).to_string(),
                })
            }
            RouteAttribute::MultiPath(nhs) => {
                v.nexthops = Some(
                    nhs.iter()
                        .map(|nh| NextHop {
                            gateway: nh.attributes.iter().find_map(|a| match a {
                                RouteAttribute::Gateway(g) => Some(route_addr_text(g)),
                                _ => None,
                            }),
                            dev: names.name(nh.interface_index),
                            weight: nh.hops as u32 + 1,
                            flags: rt_flags(nh.flags.bits() as u32),
                        })
                        .collect(),
                )
            }
            _ => {}
        }
    }
    v.dst = match dst {
        Some(d) if h.destination_prefix_length != host_len => {
            format!("{d}/{}", h.destination_prefix_length)
        }
        Some(d) => d,
        None if h.destination_prefix_length != 0 => format!("0/{} ", h.destination_prefix_length),
        None => "default".into(),
    };
    v.from = match src {
        Some(s) if h.source_prefix_length != host_len => {
            Some(format!("{s}/{}", h.source_prefix_length))
        }
        Some(s) => Some(s),
        None if h.source_prefix_length != 0 => Some(format!("0/{}", h.source_prefix_length)),
        None => None,
    };
    if h.tos != 0 && !show.tos_filtered {
        v.tos = Some(format!("0x{:02x}", h.tos));
    }
    let table = route_table(r);
    if table != 0 && (table != 254 || show.details > 0) && !show.table_filtered {
        v.table = Some(names.table(table));
    }
    if !cloned {
        let proto = u8::from(h.protocol);
        if (proto != 3 || show.details > 0) && !show.protocol_filtered {
            v.protocol = Some(names.protocol(proto));
        }
        let scope = u8::from(h.scope);
        if (scope != 0 || show.details > 0) && !show.scope_filtered {
            v.scope = Some(names.scope(scope));
        }
    }
    v.flags = rt_flags(flags);
    if fam == Family::Inet && cloned {
        let (words, rest) = cache_flags(flags);
        v.cache = Some(words);
        v.cache_unknown = rest;
    }
    v
}

fn metrics(ms: &[RouteMetric]) -> Vec<Metric> {
    let lock = ms
        .iter()
        .find_map(|m| match m {
            RouteMetric::Lock(l) => Some(*l),
            _ => None,
        })
        .unwrap_or(0);
    let mut out = Vec::new();
    let mut present: Vec<(u32, &RouteMetric)> = ms
        .iter()
        .filter_map(|m| {
            let i = match m {
                RouteMetric::Mtu(_) => 2,
                RouteMetric::Window(_) => 3,
                RouteMetric::Rtt(_) => 4,
                RouteMetric::RttVar(_) => 5,
                RouteMetric::SsThresh(_) => 6,
                RouteMetric::Cwnd(_) => 7,
                RouteMetric::Advmss(_) => 8,
                RouteMetric::Reordering(_) => 9,
                RouteMetric::Hoplimit(_) => 10,
                RouteMetric::InitCwnd(_) => 11,
                RouteMetric::Features(_) => 12,
                RouteMetric::RtoMin(_) => 13,
                RouteMetric::InitRwnd(_) => 14,
                RouteMetric::QuickAck(_) => 15,
                RouteMetric::CcAlgo(_) => 16,
                RouteMetric::FastopenNoCookie(_) => 17,
                _ => return None,
            };
            Some((i, m))
        })
        .collect();
    present.sort_by_key(|(i, _)| *i);
    const NAMES: [&str; 18] = [
        "",
        "lock",
        "mtu",
        "window",
        "rtt",
        "rttvar",
        "ssthresh",
        "cwnd",
        "advmss",
        "reordering",
        "hoplimit",
        "initcwnd",
        "features",
        "rto_min",
        "initrwnd",
        "quickack",
        "congctl",
        "fastopen_no_cookie",
    ];
    for (i, m) in present {
        let value = match m {
            RouteMetric::Hoplimit(v) if *v == u32::MAX => continue,
            RouteMetric::Rtt(v) => MetricValue::Millis(v / 8),
            RouteMetric::RttVar(v) => MetricValue::Millis(v / 4),
            RouteMetric::RtoMin(v) => MetricValue::Millis(*v),
            RouteMetric::Features(f) => {
                let ecn = f & 1 != 0;
                let rest = f & !1;
                MetricValue::Features {
                    ecn,
                    rest: (rest != 0).then_some(*f),
                }
            }
            RouteMetric::CcAlgo(s) => MetricValue::Text(s.clone()),
            RouteMetric::Mtu(v)
            | RouteMetric::Window(v)
            | RouteMetric::SsThresh(v)
            | RouteMetric::Cwnd(v)
            | RouteMetric::Advmss(v)
            | RouteMetric::Reordering(v)
            | RouteMetric::Hoplimit(v)
            | RouteMetric::InitCwnd(v)
            | RouteMetric::InitRwnd(v)
            | RouteMetric::QuickAck(v)
            | RouteMetric::FastopenNoCookie(v) => MetricValue::Num(*v),
            _ => continue,
        };
        out.push(Metric {
            name: NAMES[i as usize].to_string(),
            locked: lock & (1 << i) != 0,
            value,
        });
    }
    out
}

fn neigh_family(n: &NeighbourMessage) -> Family {
    match n.header.family {
        AddressFamily::Inet => Family::Inet,
        AddressFamily::Inet6 => Family::Inet6,
        _ => Family::Unspec,
    }
}

fn neigh_dst(n: &NeighbourMessage) -> Option<IpAddr> {
    n.attributes.iter().find_map(|a| match a {
        NeighbourAttribute::Destination(NeighbourAddress::Inet(ip)) => Some(IpAddr::V4(*ip)),
        NeighbourAttribute::Destination(NeighbourAddress::Inet6(ip)) => Some(IpAddr::V6(*ip)),
        _ => None,
    })
}

const NTF_PROXY: u8 = 0x08;
const NTF_EXT_LEARNED: u8 = 0x10;

/// iproute2's print_neigh filters.
pub fn neigh_passes(n: &NeighbourMessage, f: &NeighFilter, dev_index: Option<u32>) -> bool {
    if f.family != Family::Unspec && neigh_family(n) != f.family {
        return false;
    }
    if let Some(i) = dev_index
        && n.header.ifindex != i
    {
        return false;
    }
    let state = u16::from(n.header.state) as u32;
    let flags = n.header.flags.bits();
    if f.state & state == 0
        && flags & NTF_PROXY == 0
        && flags & NTF_EXT_LEARNED == 0
        && (state != 0 || f.state & 0x100 == 0)
    {
        return false;
    }
    if f.proxy && flags & NTF_PROXY == 0 {
        return false;
    }
    if let Some(to) = &f.to {
        match neigh_dst(n) {
            Some(ip) if prefix_match_addr(to, ip) => {}
            _ => return false,
        }
    }
    true
}

pub fn neigh_view(
    n: &NeighbourMessage,
    opts: &Opts,
    dev_filtered: bool,
    names: &Names,
) -> NeighView {
    let mut v = NeighView {
        brief: opts.brief,
        ..Default::default()
    };
    let mut protocol = 0u8;
    let mut ext_flags = 0u32;
    for a in &n.attributes {
        match a {
            NeighbourAttribute::Destination(d) => {
                v.dst = Some(match d {
                    NeighbourAddress::Inet(ip) => ip.to_string(),
                    NeighbourAddress::Inet6(ip) => ip.to_string(),
                    NeighbourAddress::Other(b) => names::link_addr(b, 0),
                    _ => "?".into(),
                })
            }
            NeighbourAttribute::LinkLayerAddress(ll) => {
                v.lladdr = Some(names::link_addr(ll, names.link_type(n.header.ifindex)))
            }
            NeighbourAttribute::CacheInfo(ci) if opts.stats > 0 => {
                v.cache = Some(NeighCache {
                    refcnt: (ci.refcnt != 0).then_some(ci.refcnt),
                    used: ci.used / USER_HZ,
                    confirmed: ci.confirmed / USER_HZ,
                    updated: ci.updated / USER_HZ,
                })
            }
            NeighbourAttribute::Probes(p) if opts.stats > 0 => v.probes = Some(*p),
            NeighbourAttribute::Protocol(p) => protocol = u8::from(*p),
            NeighbourAttribute::ExtFlags(f) => ext_flags = f.bits(),
            _ => {}
        }
    }
    if !dev_filtered && n.header.ifindex != 0 {
        v.dev = Some(names.name(n.header.ifindex));
    }
    let flags = n.header.flags.bits();
    const NTF_ROUTER: u8 = 0x80;
    const NTF_OFFLOADED: u8 = 0x20;
    const NTF_EXT_MANAGED: u32 = 0x1;
    if flags & NTF_ROUTER != 0 {
        v.flags.push("router");
    }
    if flags & NTF_PROXY != 0 {
        v.flags.push("proxy");
    }
    if ext_flags & NTF_EXT_MANAGED != 0 {
        v.flags.push("managed");
    }
    if flags & NTF_EXT_LEARNED != 0 {
        v.flags.push("extern_learn");
    }
    if flags & NTF_OFFLOADED != 0 {
        v.flags.push("offload");
    }
    let state = u16::from(n.header.state) as u32;
    for (bit, name) in names::NUD_STATES {
        if state & bit != 0 {
            v.state.push(name);
        }
    }
    if protocol != 0 {
        v.protocol = Some(names.protocol(protocol));
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_words() {
        // UP without RUNNING is NO-CARRIER; RUNNING itself is never printed.
        assert_eq!(
            link_flags(0x1 | 0x2 | 0x1000),
            vec!["NO-CARRIER", "BROADCAST", "MULTICAST", "UP"]
        );
        assert_eq!(
            link_flags(0x8 | 0x1 | 0x40 | 0x10000),
            vec!["LOOPBACK", "UP", "LOWER_UP"]
        );
        assert_eq!(link_flags(0x2 | 0x80), vec!["BROADCAST", "NOARP"]);
        assert_eq!(link_flags(0x100000), vec!["100000"]);
    }

    #[test]
    fn address_flags() {
        assert_eq!(addr_flags(0x80, false), (vec![], 0));
        assert_eq!(addr_flags(0x00, false), (vec!["dynamic"], 0));
        assert_eq!(addr_flags(0x81, false), (vec!["secondary"], 0));
        assert_eq!(addr_flags(0x81, true), (vec!["temporary"], 0));
        assert_eq!(addr_flags(0x80 | 0x02, true), (vec!["nodad"], 0));
        assert_eq!(
            addr_flags(0x80 | 0x100 | 0x200, true),
            (vec!["mngtmpaddr", "noprefixroute"], 0)
        );
        assert_eq!(addr_flags(0x80 | 0x1000, true), (vec![], 0x1000));
    }

    #[test]
    fn cache_and_route_flags() {
        assert_eq!(cache_flags(0x200), (vec![], None));
        assert_eq!(cache_flags(0x8000_0200), (vec!["local"], None));
        assert_eq!(rt_flags(0x10 | 0x4), vec!["onlink", "linkdown"]);
    }

    fn route(dst: &str, len: u8) -> RouteMessage {
        let mut r = RouteMessage::default();
        r.header.address_family = AddressFamily::Inet;
        r.header.destination_prefix_length = len;
        r.header.table = 254;
        r.header.kind = netlink_packet_route::route::RouteType::Unicast;
        r.header.protocol = netlink_packet_route::route::RouteProtocol::Kernel;
        r.header.scope = netlink_packet_route::route::RouteScope::Link;
        if len > 0 {
            r.attributes
                .push(RouteAttribute::Destination(RouteAddress::Inet(
                    dst.parse().unwrap(),
                )));
        }
        r.attributes.push(RouteAttribute::Oif(2));
        r.attributes
            .push(RouteAttribute::PrefSource(RouteAddress::Inet(
                "10.244.1.5".parse().unwrap(),
            )));
        r
    }

    fn names() -> Names {
        let mut n = Names::default();
        n.learn(crate::sys::netlink::LinkName {
            index: 2,
            name: b"eth0".to_vec(),
            flags: 0x1,
            link_type: 1,
        });
        n
    }

    #[test]
    fn route_view_like_print_route() {
        let n = names();
        let opts = Opts::default();
        let f = super::super::cli::RouteFilter {
            table: Some(254),
            family: Family::Inet,
            ..Default::default()
        };
        let v = route_view(
            &route("10.244.1.0", 24),
            &RouteShow::for_filter(&f, &opts),
            &n,
        );
        let mut s = String::new();
        v.render(&mut s, &Layout::default());
        assert_eq!(
            s,
            "10.244.1.0/24 dev eth0 proto kernel scope link src 10.244.1.5 \n"
        );
        // `ip route show dev eth0` leaves the device out.
        let f2 = super::super::cli::RouteFilter {
            oif: Some("eth0".into()),
            ..f.clone()
        };
        let v = route_view(
            &route("10.244.1.0", 24),
            &RouteShow::for_filter(&f2, &opts),
            &n,
        );
        let mut s = String::new();
        v.render(&mut s, &Layout::default());
        assert_eq!(s, "10.244.1.0/24 proto kernel scope link src 10.244.1.5 \n");
    }

    #[test]
    fn route_filters_like_iproute2() {
        let n = names();
        let opts = Opts::default();
        let parse = |args: &str| {
            let a: Vec<String> = args.split_whitespace().map(String::from).collect();
            match super::super::cli::parse(&a).unwrap().1 {
                super::super::cli::Cmd::RouteShow(f) => f,
                _ => panic!(),
            }
        };
        let net = route("10.244.1.0", 24);
        let default = route("0.0.0.0", 0);
        assert!(route_passes(&net, &parse("r"), &n));
        assert!(route_passes(&net, &parse("r show 10.244.1.0/24"), &n));
        assert!(
            !route_passes(&net, &parse("r show 10.244.0.0/16"), &n),
            "exact"
        );
        assert!(route_passes(&net, &parse("r show root 10.244.0.0/16"), &n));
        assert!(!route_passes(
            &net,
            &parse("r show match 10.244.0.0/16"),
            &n
        ));
        assert!(route_passes(
            &default,
            &parse("r show match 10.244.0.0/16"),
            &n
        ));
        assert!(route_passes(&default, &parse("r show default"), &n));
        assert!(!route_passes(&net, &parse("r show default"), &n));
        assert!(route_passes(&net, &parse("r show dev eth0"), &n));
        assert!(!route_passes(&net, &parse("r show dev eth1"), &n));
        assert!(!route_passes(&net, &parse("r show proto static"), &n));
        assert!(!route_passes(&net, &parse("r show table local"), &n));
        assert!(route_passes(&net, &parse("r show table all"), &n));
        let _ = opts;
    }

    /// Netlink messages of any bytes decode or fail, and whatever decodes renders in every
    /// form (text and JSON, -d and -s) without panicking.
    #[test]
    fn any_netlink_message_never_panics() {
        use netlink_packet_core::NetlinkMessage;
        use netlink_packet_route::RouteNetlinkMessage;
        // Samples: a link, an address, a route and a neighbour as the kernel sends them.
        let mut samples: Vec<Vec<u8>> = Vec::new();
        let mut link = LinkMessage::default();
        link.header.index = 2;
        link.attributes.push(LinkAttribute::IfName("eth0".into()));
        link.attributes.push(LinkAttribute::Mtu(1500));
        let mut route = RouteMessage::default();
        route.header.address_family = AddressFamily::Inet;
        route.header.destination_prefix_length = 24;
        route.attributes.push(RouteAttribute::Oif(2));
        let mut addr = AddressMessage::default();
        addr.header.index = 2;
        addr.header.prefix_len = 24;
        addr.attributes
            .push(AddressAttribute::Address("10.0.0.1".parse().unwrap()));
        let neigh = NeighbourMessage::default();
        for m in [
            RouteNetlinkMessage::NewLink(link),
            RouteNetlinkMessage::NewRoute(route),
            RouteNetlinkMessage::NewAddress(addr),
            RouteNetlinkMessage::NewNeighbour(neigh),
        ] {
            let mut packet = NetlinkMessage::from(m);
            packet.finalize();
            let mut buf = vec![0; packet.buffer_len()];
            packet.serialize(&mut buf);
            samples.push(buf);
        }
        let refs: Vec<&[u8]> = samples.iter().map(|s| s.as_slice()).collect();
        let names = Names::default();
        let mut opts = Opts::default();
        let mut layout = super::super::model::Layout::default();
        crate::testing::check(&refs, 20_000, |input| {
            let Ok(msg) = NetlinkMessage::<RouteNetlinkMessage>::deserialize(input) else {
                return;
            };
            let netlink_packet_core::NetlinkPayload::InnerMessage(inner) = msg.payload else {
                return;
            };
            for (details, stats) in [(0, 0), (1, 2)] {
                opts.details = details;
                opts.stats = stats;
                layout.human = details > 0;
                let mut out = String::new();
                match &inner {
                    RouteNetlinkMessage::NewLink(l) => {
                        for link_mode in [false, true] {
                            if let Some(v) = link_view(
                                l,
                                LinkShow {
                                    opts: &opts,
                                    link_mode,
                                },
                                &names,
                            ) {
                                v.render(&mut out, &layout);
                                let _ = serde_json::to_string(&v);
                            }
                        }
                    }
                    RouteNetlinkMessage::NewAddress(a) => {
                        let v = addr_view(a, &opts, &names);
                        v.render(&mut out, &layout);
                        let _ = serde_json::to_string(&v);
                    }
                    RouteNetlinkMessage::NewRoute(r) => {
                        let show = RouteShow::for_filter(&RouteFilter::default(), &opts);
                        let _ = route_passes(r, &RouteFilter::default(), &names);
                        let v = route_view(r, &show, &names);
                        v.render(&mut out, &layout);
                        let _ = serde_json::to_string(&v);
                    }
                    RouteNetlinkMessage::NewNeighbour(n) => {
                        let v = neigh_view(n, &opts, false, &names);
                        v.render(&mut out, &layout);
                        let _ = serde_json::to_string(&v);
                    }
                    _ => {}
                }
            }
        });
    }
}
