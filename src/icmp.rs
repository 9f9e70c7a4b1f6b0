//! ICMP and ICMPv6 echo messages on the wire, with etherparse: building requests, finding
//! replies, and reading the echo quoted in an error. Pure, and safe on any input (property-tested
//! below on arbitrary bytes). Shared by ping, traceroute and mtr.

use etherparse::{
    IcmpEchoHeader, Icmpv4Header, Icmpv4Slice, Icmpv4Type, Icmpv6Header, Icmpv6Slice, Icmpv6Type,
    Ipv4Slice,
};

/// An echo reply found in a received datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EchoReply {
    pub id: u16,
    pub seq: u16,
    /// Length of the ICMP message (what iputils prints as "N bytes").
    pub icmp_len: usize,
    /// The TTL from the IPv4 header, when the datagram carried one (raw IPv4 sockets).
    pub ttl: Option<u8>,
}

/// Parse a received datagram. `with_ip_header`: raw IPv4 sockets hand up the IP header too.
pub fn echo_reply(data: &[u8], v6: bool, with_ip_header: bool) -> Option<EchoReply> {
    if v6 {
        let icmp = Icmpv6Slice::from_slice(data).ok()?;
        return match icmp.icmp_type() {
            Icmpv6Type::EchoReply(IcmpEchoHeader { id, seq }) => Some(EchoReply {
                id,
                seq,
                icmp_len: data.len(),
                ttl: None,
            }),
            _ => None,
        };
    }
    let (icmp_bytes, ttl) = if with_ip_header {
        let ip = Ipv4Slice::from_slice(data).ok()?;
        if ip.payload().ip_number != etherparse::IpNumber::ICMP {
            return None;
        }
        (ip.payload().payload, Some(ip.header().ttl()))
    } else {
        (data, None)
    };
    let icmp = Icmpv4Slice::from_slice(icmp_bytes).ok()?;
    match icmp.icmp_type() {
        Icmpv4Type::EchoReply(IcmpEchoHeader { id, seq }) => Some(EchoReply {
            id,
            seq,
            icmp_len: icmp_bytes.len(),
            ttl,
        }),
        _ => None,
    }
}

/// An ICMPv6 error received on a raw socket (the kernel queues none for raw ICMPv6): its type,
/// code and info, the destination of the packet it quotes, and that packet's echo (id, seq).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Icmp6Error {
    pub icmp_type: u8,
    pub code: u8,
    pub info: u32,
    pub dest: std::net::Ipv6Addr,
    pub id: u16,
    pub seq: u16,
}

pub fn icmp6_error(data: &[u8]) -> Option<Icmp6Error> {
    let icmp = Icmpv6Slice::from_slice(data).ok()?;
    let icmp_type = icmp.type_u8();
    if !(1..=4).contains(&icmp_type) {
        return None;
    }
    // The invoking packet: an IPv6 header, then (for our probes) the ICMPv6 echo request.
    let quoted = icmp.payload();
    let ip = etherparse::Ipv6HeaderSlice::from_slice(quoted).ok()?;
    if ip.next_header() != etherparse::IpNumber::IPV6_ICMP {
        return None;
    }
    let (id, seq) = quoted_echo(quoted.get(40..)?, true)?;
    Some(Icmp6Error {
        icmp_type,
        code: icmp.code_u8(),
        info: u32::from_be_bytes(icmp.bytes5to8()),
        dest: ip.destination_addr(),
        id,
        seq,
    })
}

/// The (id, seq) of the echo request quoted in an error-queue entry.
pub fn quoted_echo(quoted: &[u8], v6: bool) -> Option<(u16, u16)> {
    if v6 {
        match Icmpv6Slice::from_slice(quoted).ok()?.icmp_type() {
            Icmpv6Type::EchoRequest(h) => Some((h.id, h.seq)),
            _ => None,
        }
    } else {
        match Icmpv4Slice::from_slice(quoted).ok()?.icmp_type() {
            Icmpv4Type::EchoRequest(h) => Some((h.id, h.seq)),
            _ => None,
        }
    }
}

/// An echo request: 8-byte header, then `size` bytes of data. Like iputils, the data starts with
/// the send time (so captures look familiar) and continues with the bytes 0x10, 0x11, …
pub fn echo_request(v6: bool, id: u16, seq: u16, size: usize, sent_unix_micros: u64) -> Vec<u8> {
    let mut payload = vec![0u8; size];
    for (i, b) in payload.iter_mut().enumerate() {
        *b = i as u8;
    }
    if size >= 16 {
        let secs = sent_unix_micros / 1_000_000;
        let usecs = sent_unix_micros % 1_000_000;
        payload[..8].copy_from_slice(&secs.to_ne_bytes());
        payload[8..16].copy_from_slice(&usecs.to_ne_bytes());
    }
    let echo = IcmpEchoHeader { id, seq };
    let mut out = Vec::with_capacity(8 + size);
    if v6 {
        // The kernel fills in the ICMPv6 checksum (it covers the IPv6 pseudo-header).
        out.extend_from_slice(&Icmpv6Header::new(Icmpv6Type::EchoRequest(echo)).to_bytes());
    } else {
        out.extend_from_slice(
            &Icmpv4Header::with_checksum(Icmpv4Type::EchoRequest(echo), &payload).to_bytes(),
        );
    }
    out.extend_from_slice(&payload);
    out
}

/// Why no ICMP socket could be opened, in one line: when both kinds were refused, the missing
/// capability and the ping_group_range that excludes this group (`purpose` says what for, e.g.
/// " for -I"; `hint` what to do instead); otherwise the OS's reason.
pub fn open_error(
    e: crate::sys::icmp::OpenError,
    v6: bool,
    purpose: &str,
    hint: &str,
) -> crate::error::Error {
    use crate::error::{Error, os_text};
    use crate::sys::process;
    let denied = |x: &Option<std::io::Error>| {
        x.as_ref()
            .is_none_or(|e| matches!(e.raw_os_error(), Some(libc::EPERM | libc::EACCES)))
    };
    if denied(&e.raw) && denied(&e.dgram) {
        let range = process::ping_group_range().unwrap_or_else(|| "unknown".into());
        return Error::local(format!(
            "cannot open an ICMP{} socket{purpose}: no CAP_NET_RAW for a raw socket, and net.ipv4.ping_group_range ({range}) excludes gid {}",
            if v6 { "v6" } else { "" },
            process::gid()
        ))
        .hint(hint.to_string());
    }
    let why = e.dgram.or(e.raw).map(|e| os_text(&e)).unwrap_or_default();
    Error::local(format!("cannot open an ICMP socket: {why}"))
}

/// A traceroute probe: an echo request whose checksum is the same for every sequence number
/// (the first two data bytes are the complement of `seq`), so that routers balancing on the
/// first bytes of the ICMP header keep every probe of a trace on one path (Paris traceroute).
pub fn echo_probe(v6: bool, id: u16, seq: u16, size: usize) -> Vec<u8> {
    let mut payload = vec![0u8; size.max(2)];
    payload[..2].copy_from_slice(&(!seq).to_be_bytes());
    let echo = IcmpEchoHeader { id, seq };
    let mut out = Vec::with_capacity(8 + payload.len());
    if v6 {
        out.extend_from_slice(&Icmpv6Header::new(Icmpv6Type::EchoRequest(echo)).to_bytes());
    } else {
        out.extend_from_slice(
            &Icmpv4Header::with_checksum(Icmpv4Type::EchoRequest(echo), &payload).to_bytes(),
        );
    }
    out.extend_from_slice(&payload);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_round_trips_as_a_reply() {
        let mut req = echo_request(false, 0x1234, 7, 56, 1_700_000_000_123_456);
        assert_eq!(req.len(), 64);
        // Turn it into a reply the way a host would (type 8 -> 0, checksum fixed by etherparse).
        req[0] = 0;
        let fixed = Icmpv4Header::with_checksum(
            Icmpv4Type::EchoReply(IcmpEchoHeader { id: 0x1234, seq: 7 }),
            &req[8..],
        );
        req[..8].copy_from_slice(&fixed.to_bytes());
        let r = echo_reply(&req, false, false).unwrap();
        assert_eq!((r.id, r.seq, r.icmp_len, r.ttl), (0x1234, 7, 64, None));
        assert_eq!(
            quoted_echo(&echo_request(false, 9, 3, 56, 0), false),
            Some((9, 3))
        );
        assert_eq!(
            quoted_echo(&echo_request(true, 9, 4, 56, 0), true),
            Some((9, 4))
        );
    }

    #[test]
    fn probe_checksum_does_not_change_with_the_sequence() {
        let sums: std::collections::HashSet<[u8; 2]> = (0..2000u16)
            .map(|seq| {
                let p = echo_probe(false, 77, seq, 32);
                assert_eq!(quoted_echo(&p, false), Some((77, seq)));
                [p[2], p[3]]
            })
            .collect();
        assert_eq!(sums.len(), 1);
    }

    #[test]
    fn raw_ipv4_reply_with_header() {
        // A real 84-byte datagram: IPv4 header (TTL 63) + echo reply id 0xbeef seq 1.
        let mut icmp = echo_request(false, 0xbeef, 1, 56, 0);
        let h = Icmpv4Header::with_checksum(
            Icmpv4Type::EchoReply(IcmpEchoHeader { id: 0xbeef, seq: 1 }),
            &icmp[8..],
        );
        icmp[..8].copy_from_slice(&h.to_bytes());
        let ip = etherparse::Ipv4Header::new(
            icmp.len() as u16,
            63,
            etherparse::IpNumber::ICMP,
            [10, 244, 1, 10],
            [10, 244, 1, 5],
        )
        .unwrap();
        let mut pkt = ip.to_bytes().to_vec();
        pkt.extend_from_slice(&icmp);
        let r = echo_reply(&pkt, false, true).unwrap();
        assert_eq!((r.id, r.seq, r.icmp_len, r.ttl), (0xbeef, 1, 64, Some(63)));
        // Our own request seen on a raw socket is not a reply.
        assert!(echo_reply(&echo_request(false, 1, 1, 56, 0), false, false).is_none());
    }

    /// Arbitrary bytes never panic the parsers (a deterministic xorshift stream, many lengths).
    #[test]
    fn parsers_survive_arbitrary_bytes() {
        let mut x: u64 = 0x9e3779b97f4a7c15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for round in 0..20_000 {
            let len = (next() % 200) as usize;
            let mut buf: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            // Bias some inputs towards plausible headers so deeper paths run too.
            if round % 3 == 0 && len > 20 {
                buf[0] = 0x45;
                buf[9] = 1;
            }
            if round % 5 == 0 && !buf.is_empty() {
                buf[0] = [0u8, 3, 11, 129, 1][(round / 5) % 5];
            }
            for v6 in [false, true] {
                let _ = echo_reply(&buf, v6, true);
                let _ = echo_reply(&buf, v6, false);
                let _ = quoted_echo(&buf, v6);
                let _ = icmp6_error(&buf);
            }
        }
    }
}
