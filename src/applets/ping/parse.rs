//! ICMP on the wire -> events, with etherparse. Pure, and safe on any input (property-tested
//! below on arbitrary bytes).

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

/// iputils' text for an ICMP error (pr_icmph for IPv4, print_icmp for IPv6).
pub fn error_text(v6: bool, icmp_type: u8, code: u8, info: u32) -> String {
    if v6 {
        return match icmp_type {
            1 => format!(
                "Destination unreachable: {}",
                match code {
                    0 => "No route".to_string(),
                    1 => "Administratively prohibited".to_string(),
                    2 => "Beyond scope of source address".to_string(),
                    3 => "Address unreachable".to_string(),
                    4 => "Port unreachable".to_string(),
                    5 => "Source address failed ingress/egress policy".to_string(),
                    6 => "Reject route to destination".to_string(),
                    c => format!("Unknown code {c}"),
                }
            ),
            2 => {
                if code != 0 {
                    format!("Packet too big: mtu={info}, code={code}")
                } else {
                    format!("Packet too big: mtu={info}")
                }
            }
            3 => match code {
                0 => "Time exceeded: Hop limit".into(),
                1 => "Time exceeded: Defragmentation failure".into(),
                c => format!("Time exceeded: code {c}"),
            },
            4 => {
                let what = match code {
                    0 => "Wrong header field ".to_string(),
                    1 => "Unknown header ".to_string(),
                    2 => "Unknown option ".to_string(),
                    c => format!("code {c} "),
                };
                format!("Parameter problem: {what}at {info}")
            }
            t => format!("unknown icmp type: {t}"),
        };
    }
    match icmp_type {
        3 => match code {
            0 => "Destination Net Unreachable".into(),
            1 => "Destination Host Unreachable".into(),
            2 => "Destination Protocol Unreachable".into(),
            3 => "Destination Port Unreachable".into(),
            4 => format!("Frag needed and DF set (mtu = {info})"),
            5 => "Source Route Failed".into(),
            6 => "Destination Net Unknown".into(),
            7 => "Destination Host Unknown".into(),
            8 => "Source Host Isolated".into(),
            9 => "Destination Net Prohibited".into(),
            10 => "Destination Host Prohibited".into(),
            11 => "Destination Net Unreachable for Type of Service".into(),
            12 => "Destination Host Unreachable for Type of Service".into(),
            13 => "Packet filtered".into(),
            14 => "Precedence Violation".into(),
            15 => "Precedence Cutoff".into(),
            c => format!("Dest Unreachable, Bad Code: {c}"),
        },
        4 => "Source Quench".into(),
        11 => match code {
            0 => "Time to live exceeded".into(),
            1 => "Frag reassembly time exceeded".into(),
            c => format!("Time exceeded, Bad Code: {c}"),
        },
        12 => format!("Parameter problem: pointer = {info}"),
        t => format!("Bad ICMP type: {t}"),
    }
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

    #[test]
    fn error_texts_match_iputils() {
        assert_eq!(error_text(false, 3, 1, 0), "Destination Host Unreachable");
        assert_eq!(error_text(false, 11, 0, 0), "Time to live exceeded");
        assert_eq!(
            error_text(false, 3, 4, 1400),
            "Frag needed and DF set (mtu = 1400)"
        );
        assert_eq!(
            error_text(true, 1, 3, 0),
            "Destination unreachable: Address unreachable"
        );
        assert_eq!(error_text(true, 2, 0, 1280), "Packet too big: mtu=1280");
        assert_eq!(error_text(true, 3, 0, 0), "Time exceeded: Hop limit");
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
            let _ = error_text(
                round % 2 == 0,
                buf.first().copied().unwrap_or(0),
                buf.get(1).copied().unwrap_or(0),
                len as u32,
            );
        }
    }
}
