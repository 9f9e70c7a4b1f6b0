//! /etc/services, read the way glibc's "files" service database reads it: `name port/proto
//! [aliases…] [# comment]`. A static binary has no getservbyname/getservbyport, so ss (port
//! names) and nc (`[tcp/http]`) look names up here. A missing file means numbers only, as with
//! glibc.

use std::path::Path;

#[derive(Debug, Clone, Default)]
pub struct Services {
    /// (port, protocol, name, aliases), in file order.
    entries: Vec<(u16, String, String, Vec<String>)>,
}

impl Services {
    pub fn system() -> Self {
        Self::load(Path::new("/etc/services"))
    }

    pub fn load(path: &Path) -> Self {
        match crate::sys::files::read_bounded(path, 4 << 20) {
            Ok(bytes) => Self::parse(&bytes),
            Err(_) => Services::default(),
        }
    }

    pub fn parse(bytes: &[u8]) -> Self {
        let mut entries = Vec::new();
        for line in bytes.split(|b| *b == b'\n') {
            let line = match line.iter().position(|b| *b == b'#') {
                Some(i) => &line[..i],
                None => line,
            };
            let text = String::from_utf8_lossy(line);
            let mut words = text.split_ascii_whitespace();
            let (Some(name), Some(port_proto)) = (words.next(), words.next()) else {
                continue;
            };
            let Some((port, proto)) = port_proto.split_once('/') else {
                continue;
            };
            let Ok(port) = port.parse::<u16>() else {
                continue;
            };
            entries.push((
                port,
                proto.to_string(),
                name.to_string(),
                words.map(str::to_string).collect(),
            ));
        }
        Services { entries }
    }

    /// getservbyport: the first entry for this port and protocol.
    pub fn name(&self, port: u16, proto: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(p, pr, _, _)| *p == port && pr == proto)
            .map(|(_, _, n, _)| n.as_str())
    }

    /// getservbyname: a name or alias for this protocol.
    pub fn port(&self, name: &str, proto: &str) -> Option<u16> {
        self.entries
            .iter()
            .find(|(_, pr, n, aliases)| {
                pr == proto && (n == name || aliases.iter().any(|a| a == name))
            })
            .map(|(p, _, _, _)| *p)
    }
}

/// IP protocol numbers by their /etc/protocols names (getprotobynumber's usual table).
const IP_PROTOCOLS: &[(u8, &str)] = &[
    (0, "ip"),
    (1, "icmp"),
    (2, "igmp"),
    (4, "ipencap"),
    (6, "tcp"),
    (17, "udp"),
    (41, "ipv6"),
    (47, "gre"),
    (50, "esp"),
    (51, "ah"),
    (58, "ipv6-icmp"),
    (132, "sctp"),
    (136, "udplite"),
    (255, "raw"),
];

/// inet_proto_a2n: a protocol name, `icmpv6`, or a number.
pub fn ip_protocol_number(s: &str) -> Option<u8> {
    if s == "icmpv6" {
        return Some(58);
    }
    IP_PROTOCOLS
        .iter()
        .find(|(_, n)| *n == s)
        .map(|(k, _)| *k)
        .or_else(|| s.parse().ok())
}

/// inet_proto_n2a: the name, or `ipproto-N` (always the number form with `numeric`).
pub fn ip_protocol_name(n: u8, numeric: bool) -> String {
    match IP_PROTOCOLS.iter().find(|(k, _)| *k == n) {
        Some((_, name)) if !numeric => name.to_string(),
        _ => format!("ipproto-{n}"),
    }
}

/// Link-layer protocol (ethertype) names, iproute2's ll_proto table.
const LL_PROTOCOLS: &[(u16, &str)] = &[
    (0x0060, "loop"),
    (0x0200, "pup"),
    (0x0201, "pupat"),
    (0x0800, "ip"),
    (0x0805, "x25"),
    (0x0806, "arp"),
    (0x08FF, "bpq"),
    (0x0a00, "ieeepup"),
    (0x0a01, "ieeepupat"),
    (0x6000, "dec"),
    (0x6001, "dna_dl"),
    (0x6002, "dna_rc"),
    (0x6003, "dna_rt"),
    (0x6004, "lat"),
    (0x6005, "diag"),
    (0x6006, "cust"),
    (0x6007, "sca"),
    (0x8035, "rarp"),
    (0x809B, "atalk"),
    (0x80F3, "aarp"),
    (0x8137, "ipx"),
    (0x86DD, "ipv6"),
    (0x8863, "ppp_disc"),
    (0x8864, "ppp_ses"),
    (0x884c, "atmmpoa"),
    (0x8884, "atmfate"),
    (0x0001, "802_3"),
    (0x0002, "ax25"),
    (0x0003, "all"),
    (0x0004, "802_2"),
    (0x0005, "snap"),
    (0x0006, "ddcmp"),
    (0x0007, "wan_ppp"),
    (0x0008, "ppp_mp"),
    (0x0009, "localtalk"),
    (0x000C, "can"),
    (0x0010, "ppptalk"),
    (0x0011, "tr_802_2"),
    (0x0015, "mobitex"),
    (0x0016, "control"),
    (0x0017, "irda"),
    (0x0018, "econet"),
    (0x88CA, "tipc"),
    (0x8892, "profinet"),
    (0x88A2, "aoe"),
    (0x88A4, "ethercat"),
    (0x8100, "802.1Q"),
    (0x88A8, "802.1ad"),
    (0x8847, "mpls_uc"),
    (0x8848, "mpls_mc"),
    (0x6558, "teb"),
];

/// ll_proto_n2a (host byte order in): the name, or `[N]`.
pub fn ll_protocol_name(proto: u16) -> String {
    match LL_PROTOCOLS.iter().find(|(p, _)| *p == proto) {
        Some((_, n)) => n.to_string(),
        None => format!("[{proto}]"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glibc_files_format() {
        let s = Services::parse(
            b"# comment\nssh\t\t22/tcp\t\t\t# SSH\nhttp 80/tcp www # WWW\n\
              domain 53/udp\nbad line\nx 99999/tcp\n\xff\xfe 7/tcp\n",
        );
        assert_eq!(s.name(22, "tcp"), Some("ssh"));
        assert_eq!(s.name(22, "udp"), None);
        assert_eq!(s.port("www", "tcp"), Some(80));
        assert_eq!(s.port("domain", "udp"), Some(53));
        assert_eq!(s.name(53, "udp"), Some("domain"));
        crate::testing::check(&[b"http 80/tcp www\n"], 2000, |b| {
            let s = Services::parse(b);
            let _ = s.name(80, "tcp");
        });
    }
}
