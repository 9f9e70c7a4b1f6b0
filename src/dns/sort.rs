//! getaddrinfo's destination ordering (glibc's RFC 3484 sort with its built-in policy table), so
//! that `ping NAME` and `curl NAME` pick the address glibc-linked tools pick. Note glibc's table
//! ranks every IPv6 address above IPv4 (::/0 has precedence 40, ::ffff:0:0/96 has 10): with a
//! usable IPv6 source of the same scope, IPv6 goes first.

use std::net::{IpAddr, Ipv6Addr};

fn mapped(ip: &IpAddr) -> Ipv6Addr {
    match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped(),
        IpAddr::V6(v6) => *v6,
    }
}

fn prefix_match(a: &Ipv6Addr, prefix: &[u8], bits: u32) -> bool {
    let o = a.octets();
    let whole = (bits / 8) as usize;
    if o[..whole] != prefix[..whole] {
        return false;
    }
    let rest = bits % 8;
    rest == 0 || (o[whole] ^ prefix[whole]) & (0xffu8 << (8 - rest)) == 0
}

const V4MAPPED: [u8; 16] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0];
const LOOPBACK: [u8; 16] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
const ZERO: [u8; 16] = [0; 16];

/// glibc's default_precedence.
pub fn precedence(ip: &IpAddr) -> u8 {
    let a = mapped(ip);
    if prefix_match(&a, &LOOPBACK, 128) {
        50
    } else if prefix_match(
        &a,
        &[0x20, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        16,
    ) {
        30
    } else if prefix_match(&a, &ZERO, 96) {
        20
    } else if prefix_match(&a, &V4MAPPED, 96) {
        10
    } else {
        40
    }
}

/// glibc's default_labels.
pub fn label(ip: &IpAddr) -> u8 {
    let a = mapped(ip);
    let o = a.octets();
    if prefix_match(&a, &LOOPBACK, 128) {
        0
    } else if o[0] == 0x20 && o[1] == 0x02 {
        2
    } else if prefix_match(&a, &ZERO, 96) {
        3
    } else if prefix_match(&a, &V4MAPPED, 96) {
        4
    } else if o[0] == 0xfe && o[1] & 0xc0 == 0xc0 {
        5
    } else if o[0] & 0xfe == 0xfc {
        6
    } else if o[0] == 0x20 && o[1] == 0x01 && o[2] == 0 && o[3] == 0 {
        7
    } else {
        1
    }
}

/// Address scope as glibc's get_scope computes it (2 link-local, 5 site-local, 14 global).
pub fn scope(ip: &IpAddr) -> u8 {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            if o[0] == 127 || (o[0] == 169 && o[1] == 254) {
                2
            } else {
                14
            }
        }
        IpAddr::V6(v6) => {
            let o = v6.octets();
            if o[0] == 0xff {
                o[1] & 0x0f
            } else if v6.is_loopback() || (o[0] == 0xfe && o[1] & 0xc0 == 0x80) {
                2
            } else if o[0] == 0xfe && o[1] & 0xc0 == 0xc0 {
                5
            } else {
                14
            }
        }
    }
}

fn common_prefix(a: &IpAddr, b: &IpAddr) -> u32 {
    let (x, y) = (mapped(a).octets(), mapped(b).octets());
    let mut bits = 0;
    for (p, q) in x.iter().zip(y.iter()) {
        let d = p ^ q;
        if d == 0 {
            bits += 8;
        } else {
            bits += d.leading_zeros();
            break;
        }
    }
    bits
}

/// Order `addrs` as getaddrinfo does; `source` says which local address the kernel would use
/// towards a destination (None: no route, the destination is unusable).
pub fn sort(
    addrs: &[IpAddr],
    mut source: impl FnMut(IpAddr) -> Option<IpAddr>,
) -> Vec<(IpAddr, Option<IpAddr>)> {
    let mut v: Vec<(usize, IpAddr, Option<IpAddr>)> = addrs
        .iter()
        .enumerate()
        .map(|(i, a)| (i, *a, source(*a)))
        .collect();
    v.sort_by(|(ia, a, sa), (ib, b, sb)| {
        use std::cmp::Ordering;
        // Rule 1: avoid unusable destinations.
        let r = sb.is_some().cmp(&sa.is_some());
        if r != Ordering::Equal {
            return r;
        }
        if let (Some(sa), Some(sb)) = (sa, sb) {
            // Rule 2: prefer matching scope.
            let ma = scope(a) == scope(sa);
            let mb = scope(b) == scope(sb);
            if ma != mb {
                return mb.cmp(&ma);
            }
            // Rule 5: prefer matching label.
            let la = label(a) == label(sa);
            let lb = label(b) == label(sb);
            if la != lb {
                return lb.cmp(&la);
            }
        }
        // Rule 6: higher precedence.
        let r = precedence(b).cmp(&precedence(a));
        if r != Ordering::Equal {
            return r;
        }
        // Rule 8: smaller scope.
        let r = scope(a).cmp(&scope(b));
        if r != Ordering::Equal {
            return r;
        }
        // Rule 9: longest matching prefix (IPv6 only).
        if let (IpAddr::V6(_), IpAddr::V6(_), Some(sa), Some(sb)) = (a, b, sa, sb) {
            let r = common_prefix(b, sb).cmp(&common_prefix(a, sa));
            if r != Ordering::Equal {
                return r;
            }
        }
        // Rule 10: otherwise keep the order.
        ia.cmp(ib)
    });
    v.into_iter().map(|(_, a, s)| (a, s)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn glibc_prefers_ula_ipv6_when_it_has_an_ipv6_source() {
        let addrs = [ip("10.96.0.100"), ip("fd00:10:96::100")];
        let sorted = sort(&addrs, |a| {
            Some(if a.is_ipv4() {
                ip("10.244.1.5")
            } else {
                ip("fd00:10:244:1::5")
            })
        });
        assert_eq!(sorted[0].0, ip("fd00:10:96::100"));
    }

    #[test]
    fn no_ipv6_route_means_ipv4() {
        let addrs = [ip("2001:db8::1"), ip("192.0.2.1")];
        let sorted = sort(&addrs, |a| a.is_ipv4().then(|| ip("192.0.2.2")));
        assert_eq!(sorted[0].0, ip("192.0.2.1"));
        // Only a link-local IPv6 source: scope mismatch, IPv4 wins.
        let sorted = sort(&addrs, |a| {
            Some(if a.is_ipv4() {
                ip("192.0.2.2")
            } else {
                ip("fe80::1")
            })
        });
        assert_eq!(sorted[0].0, ip("192.0.2.1"));
    }

    #[test]
    fn tables() {
        assert_eq!(precedence(&ip("10.0.0.1")), 10);
        assert_eq!(precedence(&ip("::1")), 50);
        assert_eq!(precedence(&ip("fd00::1")), 40);
        assert_eq!(label(&ip("fd00::1")), 6);
        assert_eq!(label(&ip("10.0.0.1")), 4);
        assert_eq!(scope(&ip("127.0.0.1")), 2);
        assert_eq!(scope(&ip("fe80::1")), 2);
        assert_eq!(scope(&ip("10.0.0.1")), 14);
    }
}
