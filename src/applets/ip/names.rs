//! The number <-> name tables iproute2 prints (rt_names.c, ll_types.c), with the same fallbacks:
//! an unknown number prints as its decimal value.

/// Route protocols, as in iproute2's built-in table plus Debian's /etc/iproute2/rt_protos.
const PROTOCOLS: &[(u8, &str)] = &[
    (0, "unspec"),
    (1, "redirect"),
    (2, "kernel"),
    (3, "boot"),
    (4, "static"),
    (8, "gated"),
    (9, "ra"),
    (10, "mrt"),
    (11, "zebra"),
    (12, "bird"),
    (13, "dnrouted"),
    (14, "xorp"),
    (15, "ntk"),
    (16, "dhcp"),
    (18, "keepalived"),
    (42, "babel"),
    (99, "openr"),
    (186, "bgp"),
    (187, "isis"),
    (188, "ospf"),
    (189, "rip"),
    (192, "eigrp"),
];

pub fn protocol(n: u8) -> String {
    PROTOCOLS
        .iter()
        .find(|(k, _)| *k == n)
        .map(|(_, s)| s.to_string())
        .unwrap_or_else(|| n.to_string())
}

pub fn protocol_from_name(s: &str) -> Option<u8> {
    PROTOCOLS
        .iter()
        .find(|(_, v)| *v == s)
        .map(|(k, _)| *k)
        .or_else(|| s.parse().ok())
}

/// inet_proto_a2n.
pub fn ip_protocol_from_name(s: &str) -> Option<u8> {
    crate::services::ip_protocol_number(s)
}

/// inet_proto_n2a.
pub fn ip_protocol(n: u8, numeric: bool) -> String {
    crate::services::ip_protocol_name(n, numeric)
}

const SCOPES: &[(u8, &str)] = &[
    (0, "global"),
    (200, "site"),
    (253, "link"),
    (254, "host"),
    (255, "nowhere"),
];

pub fn scope(n: u8) -> String {
    SCOPES
        .iter()
        .find(|(k, _)| *k == n)
        .map(|(_, s)| s.to_string())
        .unwrap_or_else(|| n.to_string())
}

pub fn scope_from_name(s: &str) -> Option<u8> {
    SCOPES
        .iter()
        .find(|(_, v)| *v == s)
        .map(|(k, _)| *k)
        .or_else(|| s.parse().ok())
}

const ROUTE_TYPES: &[&str] = &[
    "none",
    "unicast",
    "local",
    "broadcast",
    "anycast",
    "multicast",
    "blackhole",
    "unreachable",
    "prohibit",
    "throw",
    "nat",
    "xresolve",
];

pub fn route_type(n: u8) -> String {
    ROUTE_TYPES
        .get(n as usize)
        .map(|s| s.to_string())
        .unwrap_or_else(|| n.to_string())
}

pub fn route_type_from_name(s: &str) -> Option<u8> {
    ROUTE_TYPES
        .iter()
        .position(|v| *v == s)
        .map(|p| p as u8)
        .or_else(|| s.parse().ok())
}

pub fn table(n: u32) -> String {
    match n {
        0 => "unspec".into(),
        253 => "default".into(),
        254 => "main".into(),
        255 => "local".into(),
        _ => n.to_string(),
    }
}

pub const NUD_STATES: &[(u32, &str)] = &[
    (0x01, "INCOMPLETE"),
    (0x02, "REACHABLE"),
    (0x04, "STALE"),
    (0x08, "DELAY"),
    (0x10, "PROBE"),
    (0x20, "FAILED"),
    (0x40, "NOARP"),
    (0x80, "PERMANENT"),
];

pub fn nud_from_name(s: &str) -> Option<u32> {
    let up = s.to_ascii_uppercase();
    if up == "NONE" {
        return Some(0);
    }
    NUD_STATES.iter().find(|(_, n)| *n == up).map(|(k, _)| *k)
}

pub const OPER_STATES: &[&str] = &[
    "UNKNOWN",
    "NOTPRESENT",
    "DOWN",
    "LOWERLAYERDOWN",
    "TESTING",
    "DORMANT",
    "UP",
];

/// `ll_type_n2a`: the word after `link/`.
pub fn link_type(t: u16) -> String {
    let name = match t {
        0 => "netrom",
        1 => "ether",
        2 => "eether",
        3 => "ax25",
        4 => "pronet",
        5 => "chaos",
        6 => "ieee802",
        7 => "arcnet",
        8 => "atalk",
        15 => "dlci",
        19 => "atm",
        23 => "metricom",
        24 => "ieee1394",
        32 => "infiniband",
        256 => "slip",
        257 => "cslip",
        258 => "slip6",
        259 => "cslip6",
        260 => "rsrvd",
        264 => "adapt",
        270 => "rose",
        271 => "x25",
        272 => "hwx25",
        280 => "can",
        512 => "ppp",
        513 => "hdlc",
        516 => "lapb",
        517 => "ddcmp",
        518 => "rawhdlc",
        768 => "ipip",
        769 => "tunnel6",
        770 => "frad",
        771 => "skip",
        772 => "loopback",
        773 => "ltalk",
        774 => "fddi",
        775 => "bif",
        776 => "sit",
        777 => "ip/ddp",
        778 => "gre",
        779 => "pimreg",
        780 => "hippi",
        781 => "ash",
        782 => "econet",
        783 => "irda",
        784 => "fcpp",
        785 => "fcal",
        786 => "fcpl",
        787 => "fcfb0",
        800 => "tr",
        801 => "ieee802.11",
        802 => "ieee802.11/prism",
        803 => "ieee802.11/radiotap",
        804 => "ieee802.15.4",
        805 => "ieee802.15.4/monitor",
        820 => "phonet",
        821 => "phonet_pipe",
        822 => "caif",
        823 => "gre6",
        824 => "netlink",
        825 => "6lowpan",
        0xfffe => "none",
        0xffff => "void",
        788..=799 => return format!("fcfb{}", t - 787),
        _ => return format!("[{t}]"),
    };
    name.to_string()
}

/// An IPv4 address as `Ipv4Addr`'s Display writes it, without the formatting machinery (a
/// big route dump writes a hundred thousand).
pub fn ipv4_text(ip: std::net::Ipv4Addr) -> String {
    let mut s = String::with_capacity(15);
    for (i, o) in ip.octets().into_iter().enumerate() {
        if i > 0 {
            s.push('.');
        }
        if o >= 100 {
            s.push((b'0' + o / 100) as char);
        }
        if o >= 10 {
            s.push((b'0' + o / 10 % 10) as char);
        }
        s.push((b'0' + o % 10) as char);
    }
    s
}

/// `ll_addr_n2a`: hardware addresses as colon hex, except tunnels whose "address" is an IP.
pub fn link_addr(addr: &[u8], link_type: u16) -> String {
    const TUNNEL: u16 = 768;
    const SIT: u16 = 776;
    const IPGRE: u16 = 778;
    const TUNNEL6: u16 = 769;
    const IP6GRE: u16 = 823;
    if addr.len() == 4 && matches!(link_type, TUNNEL | SIT | IPGRE) {
        return std::net::Ipv4Addr::new(addr[0], addr[1], addr[2], addr[3]).to_string();
    }
    if addr.len() == 16 && matches!(link_type, TUNNEL6 | IP6GRE) {
        let mut b = [0u8; 16];
        b.copy_from_slice(addr);
        return std::net::Ipv6Addr::from(b).to_string();
    }
    let mut s = String::with_capacity(addr.len() * 3);
    for (i, b) in addr.iter().enumerate() {
        if i > 0 {
            s.push(':');
        }
        const HEX: &[u8; 16] = b"0123456789abcdef";
        s.push(HEX[(b >> 4) as usize] as char);
        s.push(HEX[(b & 15) as usize] as char);
    }
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn ipv4_text_is_display() {
        for ip in [
            [0, 0, 0, 0],
            [255, 255, 255, 255],
            [10, 0, 9, 100],
            [1, 22, 199, 200],
            [100, 64, 0, 10],
        ] {
            let ip = std::net::Ipv4Addr::from(ip);
            assert_eq!(super::ipv4_text(ip), ip.to_string());
        }
        for n in (0..=u32::MAX).step_by(65_537) {
            let ip = std::net::Ipv4Addr::from(n);
            assert_eq!(super::ipv4_text(ip), ip.to_string());
        }
    }

    use super::*;

    #[test]
    fn tables_round_trip_and_fall_back_to_numbers() {
        assert_eq!(protocol(2), "kernel");
        assert_eq!(protocol(77), "77");
        assert_eq!(protocol_from_name("static"), Some(4));
        assert_eq!(scope(253), "link");
        assert_eq!(scope(17), "17");
        assert_eq!(route_type(2), "local");
        assert_eq!(route_type_from_name("blackhole"), Some(6));
        assert_eq!(table(254), "main");
        assert_eq!(table(100), "100");
        assert_eq!(nud_from_name("reachable"), Some(2));
        assert_eq!(link_type(1), "ether");
        assert_eq!(link_type(772), "loopback");
        assert_eq!(link_type(790), "fcfb3");
        assert_eq!(link_type(65000), "[65000]");
    }

    #[test]
    fn hardware_addresses() {
        assert_eq!(link_addr(&[0x02, 0xfc, 0, 0, 0, 1], 1), "02:fc:00:00:00:01");
        assert_eq!(link_addr(&[10, 0, 0, 1], 768), "10.0.0.1");
        assert_eq!(link_addr(&[], 1), "");
    }
}
