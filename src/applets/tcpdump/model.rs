//! `tcpdump -j`: one JSON object a packet, its layers read with etherparse (lax slicing, so a
//! packet cut by the snapshot length still gives what it has) beside tcpdump's own line. Pure.

use super::decode::{LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2, LINKTYPE_RAW};
use etherparse::{EtherType, LaxNetSlice, LaxSlicedPacket, TransportSlice};
use serde::Serialize;

#[derive(Debug, Default, Serialize, PartialEq)]
pub struct Packet {
    /// Seconds since the epoch, with nanoseconds.
    pub time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interface: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub direction: Option<&'static str>,
    pub length: u32,
    pub captured: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ethertype: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub src: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dst: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sport: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dport: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tcp_flags: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icmp_type: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icmp_code: Option<u8>,
    /// tcpdump's line for the packet, without its time stamp.
    pub summary: String,
}

/// Fill the layer fields of `p` from the record bytes.
pub fn layers(p: &mut Packet, linktype: u32, data: &[u8]) {
    let sliced = match linktype {
        LINKTYPE_ETHERNET => LaxSlicedPacket::from_ethernet(data).ok(),
        LINKTYPE_RAW => LaxSlicedPacket::from_ip(data).ok(),
        LINKTYPE_LINUX_SLL => data.get(16..).map(|rest| {
            LaxSlicedPacket::from_ether_type(
                EtherType(u16::from_be_bytes([data[14], data[15]])),
                rest,
            )
        }),
        LINKTYPE_LINUX_SLL2 => data.get(20..).map(|rest| {
            LaxSlicedPacket::from_ether_type(
                EtherType(u16::from_be_bytes([data[0], data[1]])),
                rest,
            )
        }),
        _ => None,
    };
    let Some(s) = sliced else {
        return;
    };
    match &s.net {
        Some(LaxNetSlice::Ipv4(ip)) => {
            let h = ip.header();
            p.ethertype = Some(0x0800);
            p.src = Some(h.source_addr().to_string());
            p.dst = Some(h.destination_addr().to_string());
        }
        Some(LaxNetSlice::Ipv6(ip)) => {
            let h = ip.header();
            p.ethertype = Some(0x86dd);
            p.src = Some(h.source_addr().to_string());
            p.dst = Some(h.destination_addr().to_string());
        }
        Some(LaxNetSlice::Arp(_)) => {
            p.ethertype = Some(0x0806);
            p.protocol = Some("arp");
        }
        None => {}
    }
    match &s.transport {
        Some(TransportSlice::Tcp(t)) => {
            p.protocol = Some("tcp");
            p.sport = Some(t.source_port());
            p.dport = Some(t.destination_port());
            let mut f = String::new();
            for (on, c) in [
                (t.fin(), 'F'),
                (t.syn(), 'S'),
                (t.rst(), 'R'),
                (t.psh(), 'P'),
                (t.ack(), '.'),
                (t.urg(), 'U'),
                (t.ece(), 'E'),
                (t.cwr(), 'W'),
            ] {
                if on {
                    f.push(c);
                }
            }
            p.tcp_flags = Some(f);
        }
        Some(TransportSlice::Udp(u)) => {
            p.protocol = Some("udp");
            p.sport = Some(u.source_port());
            p.dport = Some(u.destination_port());
        }
        Some(TransportSlice::Icmpv4(i)) => {
            p.protocol = Some("icmp");
            p.icmp_type = Some(i.type_u8());
            p.icmp_code = Some(i.code_u8());
        }
        Some(TransportSlice::Icmpv6(i)) => {
            p.protocol = Some("icmp6");
            p.icmp_type = Some(i.type_u8());
            p.icmp_code = Some(i.code_u8());
        }
        Some(TransportSlice::Igmp(_)) => p.protocol = Some("igmp"),
        None => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_and_mutated_records_never_panic() {
        let syn: Vec<u8> = vec![
            0x16, 0x97, 0xe1, 0xf3, 0xbf, 0x5d, 0x5a, 0x6d, 0x9a, 0x1b, 0x11, 0x9b, 0x08, 0x00,
            0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6, 0, 0, 10, 9, 0, 1, 10, 9, 0, 2, 0x8c, 0x88, 0x1f,
            0x40, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xfa, 0xf0, 0, 0, 0, 0,
        ];
        let mut p = Packet::default();
        layers(&mut p, LINKTYPE_ETHERNET, &syn);
        assert_eq!(
            (p.src.as_deref(), p.dport, p.tcp_flags.as_deref()),
            (Some("10.9.0.1"), Some(8000), Some("S"))
        );
        crate::testing::check(&[&syn], 3000, |b| {
            for lt in [
                LINKTYPE_ETHERNET,
                LINKTYPE_RAW,
                LINKTYPE_LINUX_SLL,
                LINKTYPE_LINUX_SLL2,
            ] {
                layers(&mut p, lt, b);
            }
        });
    }
}
