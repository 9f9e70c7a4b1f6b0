//! A trace as traceroute 2.1 prints it, and as JSON. Pure.

use crate::trace::Probe;
use serde::Serialize;
use std::net::IpAddr;

/// `traceroute to HOST (ADDR), N hops max, S byte packets` (the hops follow on new lines).
pub fn header(host: &str, addr: IpAddr, max_hops: u8, packet_size: usize) -> String {
    format!("traceroute to {host} ({addr}), {max_hops} hops max, {packet_size} byte packets")
}

/// The text for probe `i` of a hop (print_probe): a new line and the TTL for the first, the
/// address when it is the first answer of the hop or differs from the previous answer, the
/// round trip, the annotation; ` *` for no answer.
pub fn probe_text(hop: &[Probe], i: usize, name: &mut dyn FnMut(IpAddr) -> String) -> String {
    let p = &hop[i];
    let mut s = String::new();
    if i == 0 {
        s.push_str(&format!("\n{:2} ", p.ttl));
    }
    let Some(reply) = &p.reply else {
        s.push_str(" *");
        return s;
    };
    let previous = hop[..i].iter().rev().find_map(|q| q.reply.as_ref());
    if previous.is_none_or(|q| q.from != reply.from) {
        s.push(' ');
        s.push_str(&name(reply.from));
    }
    if let Some(rtt) = p.rtt() {
        s.push_str(&format!("  {:.3} ms", rtt.as_secs_f64() * 1000.0));
    }
    if let Some(note) = &p.note {
        s.push(' ');
        s.push_str(note);
    }
    s
}

#[derive(Debug, Serialize, PartialEq)]
pub struct TraceView {
    pub target: String,
    pub address: IpAddr,
    pub method: &'static str,
    pub max_hops: u8,
    pub packet_size: usize,
    pub hops: Vec<HopView>,
    pub reached: bool,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct HopView {
    pub ttl: u8,
    pub probes: Vec<ProbeView>,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct ProbeView {
    pub address: Option<IpAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub rtt_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub annotation: Option<String>,
}

impl ProbeView {
    pub fn of(p: &Probe, name: Option<String>) -> ProbeView {
        ProbeView {
            address: p.reply.as_ref().map(|r| r.from),
            name,
            rtt_ms: p.rtt().map(|d| (d.as_secs_f64() * 1e6).round() / 1e3),
            annotation: p.note.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{Reply, ReplyKind};
    use std::time::{Duration, SystemTime};

    fn probe(from: Option<[u8; 4]>, us: u64, note: Option<&str>) -> Probe {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(5);
        Probe {
            ttl: 7,
            sent: Some(t0),
            reply: from.map(|a| Reply {
                from: IpAddr::from(a),
                at: t0 + Duration::from_micros(us),
                kind: ReplyKind::Reached,
                recv_ttl: None,
            }),
            note: note.map(String::from),
            last: false,
            done: true,
        }
    }

    #[test]
    fn hop_lines_as_traceroute_prints_them() {
        let hop = vec![
            probe(None, 0, None),
            probe(Some([10, 2, 0, 2]), 92, Some("!H")),
            probe(Some([10, 2, 0, 2]), 12, Some("!H")),
        ];
        let mut name = |ip: IpAddr| ip.to_string();
        let line: String = (0..3).map(|i| probe_text(&hop, i, &mut name)).collect();
        assert_eq!(line, "\n 7  * 10.2.0.2  0.092 ms !H  0.012 ms !H");
        let hop = vec![
            probe(Some([10, 1, 0, 1]), 98, None),
            probe(Some([10, 1, 0, 9]), 10, None),
            probe(Some([10, 1, 0, 9]), 9, None),
        ];
        let line: String = (0..3).map(|i| probe_text(&hop, i, &mut name)).collect();
        assert_eq!(
            line,
            "\n 7  10.1.0.1  0.098 ms 10.1.0.9  0.010 ms  0.009 ms"
        );
        assert_eq!(
            header("h", IpAddr::from([10, 3, 0, 2]), 30, 60),
            "traceroute to h (10.3.0.2), 30 hops max, 60 byte packets"
        );
    }
}
