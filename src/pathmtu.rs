//! The path MTU to each endpoint: a packet as large as this pod's MTU allows, with
//! don't-fragment set, next to a small one. ICMP echo where this pod may open an ICMP socket
//! (and the endpoint answers ping), else a TCP connection whose first segment fills the MSS.
//! "Small packets pass, large ones vanish" is a path whose MTU is lower than this pod's and whose
//! ICMP "fragmentation needed" never comes back: connections open, then large requests,
//! responses and TLS handshakes hang.

use crate::icmp;
use crate::sys::icmp::{IcmpSocket, Pmtudisc, SocketKind};
use crate::sys::pmtu;
use serde::Serialize;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// One endpoint to check: what to call it, and its address and port (for the TCP way).
#[derive(Debug, Clone)]
pub struct Target {
    pub label: String,
    pub addr: SocketAddr,
}

/// What one packet met.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "lowercase", tag = "result")]
pub enum Outcome {
    /// Answered (ICMP echo reply, or TCP acknowledgement) after `ms`.
    Passed {
        ms: f64,
    },
    /// Nothing came back before the deadline.
    Lost,
    /// A router (or this host) said the path takes at most `mtu`: discovery works.
    Smaller {
        mtu: u32,
    },
    Error {
        error: String,
    },
}

impl Outcome {
    fn words(&self) -> String {
        match self {
            Outcome::Passed { ms } => format!("passed ({ms} ms)"),
            Outcome::Lost => "lost".into(),
            Outcome::Smaller { mtu } => format!("too big: the path's MTU is {mtu}"),
            Outcome::Error { error } => error.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct MtuCheck {
    pub address: String,
    pub label: String,
    /// "icmp" or "tcp".
    pub via: &'static str,
    /// This pod's MTU towards the endpoint.
    pub mtu: u32,
    /// Bytes of the large packet and of the small one, IP header included.
    pub large_size: usize,
    pub small_size: usize,
    pub small: Outcome,
    pub large: Outcome,
}

impl MtuCheck {
    /// Small passed, large vanished.
    pub fn black_hole(&self) -> bool {
        matches!(self.small, Outcome::Passed { .. }) && self.large == Outcome::Lost
    }

    pub fn text(&self) -> String {
        format!(
            "{} {}: {}-byte packet with don't-fragment {}, {}-byte {} ({})",
            self.label,
            self.address,
            self.large_size,
            self.large.words(),
            self.small_size,
            self.small.words(),
            if self.via == "icmp" {
                "ICMP echo"
            } else {
                "TCP, a full first segment"
            }
        )
    }
}

const SMALL: usize = 56;

fn ip_overhead(v6: bool) -> usize {
    if v6 { 40 } else { 20 }
}

/// Check every target, at most `workers` at a time, each finished before `timeout`.
pub fn check_all(targets: &[Target], timeout: Duration, workers: usize) -> Vec<MtuCheck> {
    crate::pool::map(targets, workers, |t| check(t, Instant::now() + timeout))
}

/// ICMP first; TCP when no ICMP socket can be opened or the small echo got no answer.
pub fn check(t: &Target, deadline: Instant) -> MtuCheck {
    let ip = t.addr.ip();
    let v6 = ip.is_ipv6();
    let mut c = MtuCheck {
        address: ip.to_string(),
        label: t.label.clone(),
        via: "icmp",
        mtu: 0,
        large_size: 0,
        small_size: SMALL + 8 + ip_overhead(v6),
        small: Outcome::Lost,
        large: Outcome::Lost,
    };
    match pmtu::route_mtu(ip) {
        Ok(m) => c.mtu = m,
        Err(e) => {
            c.small = Outcome::Error {
                error: crate::error::os_text(&e),
            };
            c.large = c.small.clone();
            return c;
        }
    }
    // An IP packet is at most 65535 bytes.
    c.large_size = (c.mtu as usize).min(65535);
    // ICMP gets half the time when TCP may have to follow.
    let half = Instant::now() + deadline.saturating_duration_since(Instant::now()) / 2;
    if let Some((small, large)) = by_icmp(ip, c.large_size, half)
        && matches!(small, Outcome::Passed { .. })
    {
        c.small = small;
        c.large = large;
        return c;
    }
    c.via = "tcp";
    match pmtu::large_first_segment(t.addr, deadline) {
        Ok(seg) => {
            // A SYN with its options; the segment fills the MTU (MSS, options and headers).
            c.small_size = 40 + ip_overhead(v6);
            c.small = Outcome::Passed { ms: seg.connect_ms };
            c.large = match seg.acked_ms {
                Some(ms) => Outcome::Passed { ms },
                None => Outcome::Lost,
            };
        }
        Err(e) => {
            let timed_out = e.kind() == std::io::ErrorKind::TimedOut
                || e.raw_os_error() == Some(libc::ETIMEDOUT);
            c.small = if timed_out {
                Outcome::Lost
            } else {
                Outcome::Error {
                    error: crate::error::os_text(&e),
                }
            };
            c.large = Outcome::Error {
                error: "not sent (no connection)".into(),
            };
        }
    }
    c
}

/// An echo of `SMALL` data bytes and one that fills `mtu`, both with don't-fragment; None when
/// no ICMP socket may be opened here.
fn by_icmp(ip: IpAddr, mtu: usize, deadline: Instant) -> Option<(Outcome, Outcome)> {
    static NEXT_ID: AtomicU16 = AtomicU16::new(0);
    let v6 = ip.is_ipv6();
    // A datagram socket first: its replies are its own (a raw one sees every echo reply).
    let sock = IcmpSocket::open(v6, Some(SocketKind::Dgram))
        .or_else(|_| IcmpSocket::open(v6, Some(SocketKind::Raw)))
        .ok()?;
    sock.configure(None, Some(Pmtudisc::Do), None, None).ok()?;
    let id = (std::process::id() as u16).wrapping_add(NEXT_ID.fetch_add(1, Ordering::Relaxed));
    let now_us = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0);
    let large_data = mtu.saturating_sub(8 + ip_overhead(v6));
    let mut small = Outcome::Lost;
    let mut large = Outcome::Lost;
    let start = Instant::now();
    if let Err(e) = sock.send(&icmp::echo_request(v6, id, 1, SMALL, now_us), ip, 0) {
        small = Outcome::Error {
            error: crate::error::os_text(&e),
        };
    }
    if let Err(e) = sock.send(&icmp::echo_request(v6, id, 2, large_data, now_us), ip, 0) {
        large = if e.raw_os_error() == Some(libc::EMSGSIZE) {
            Outcome::Smaller {
                mtu: pmtu::route_mtu(ip).unwrap_or(0),
            }
        } else {
            Outcome::Error {
                error: crate::error::os_text(&e),
            }
        };
    }
    let raw_v4 = sock.kind == SocketKind::Raw && !v6;
    while small == Outcome::Lost || large == Outcome::Lost {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || !sock.wait(left).unwrap_or(false) {
            break;
        }
        while let Ok(Some(d)) = sock.recv() {
            if d.from != ip {
                continue;
            }
            let Some(r) = icmp::echo_reply(&d.data, v6, raw_v4) else {
                continue;
            };
            // A datagram socket's id is the kernel's; a raw socket's is ours.
            if sock.kind == SocketKind::Raw && r.id != id {
                continue;
            }
            let passed = Outcome::Passed {
                ms: (start.elapsed().as_secs_f64() * 10_000.0).round() / 10.0,
            };
            match r.seq {
                1 if small == Outcome::Lost => small = passed,
                2 if large == Outcome::Lost => large = passed,
                _ => {}
            }
        }
        while let Ok(Some(e)) = sock.recv_error() {
            if e.errno == libc::EMSGSIZE && large == Outcome::Lost {
                large = Outcome::Smaller { mtu: e.info };
            }
        }
    }
    Some((small, large))
}

/// A check of web2 (10.244.2.10) at a 1500-byte MTU over ICMP, for tests of what reads checks.
#[cfg(test)]
pub fn check_of(small: Outcome, large: Outcome) -> MtuCheck {
    MtuCheck {
        address: "10.244.2.10".into(),
        label: "web2".into(),
        via: "icmp",
        mtu: 1500,
        large_size: 1500,
        small_size: 84,
        small,
        large,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_passing_and_large_lost_is_a_black_hole() {
        let hole = check_of(Outcome::Passed { ms: 0.2 }, Outcome::Lost);
        let fine = check_of(Outcome::Passed { ms: 0.2 }, Outcome::Passed { ms: 0.3 });
        let pmtud = check_of(Outcome::Passed { ms: 0.2 }, Outcome::Smaller { mtu: 1400 });
        let dead = check_of(Outcome::Lost, Outcome::Lost);
        assert!(hole.black_hole());
        for c in [&fine, &pmtud, &dead] {
            assert!(!c.black_hole(), "{c:?}");
        }
    }

    /// Loopback: a 65535-byte path MTU, a full packet answered (ICMP when this process may open an
    /// ICMP socket, else TCP to a listener).
    #[test]
    fn loopback_takes_a_full_packet() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let t = Target {
            label: "lo".into(),
            addr: l.local_addr().unwrap(),
        };
        let c = check(&t, Instant::now() + Duration::from_secs(5));
        assert_eq!(c.mtu, 65535, "{c:?}");
        assert!(matches!(c.small, Outcome::Passed { .. }), "{c:?}");
        assert!(matches!(c.large, Outcome::Passed { .. }), "{c:?}");
    }
}
