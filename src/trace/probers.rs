//! The three ways to probe a path, each one flow per trace (Paris traceroute: every probe of a
//! trace has the same addresses, ports and, for ICMP, checksum, so a router balancing flows over
//! equal-cost paths sends them all the same way), and none needing privilege where the kernel
//! allows:
//! - UDP: one connected socket; a probe's number rides in its payload, which routers quote back.
//! - ICMP echo: a ping socket (net.ipv4.ping_group_range) or a raw one; the probe's number is
//!   the echo sequence, and the data's first word keeps the checksum constant.
//! - TCP SYN: a connect with a set TTL, one at a time from one source port.
//!
//! The routers' answers come from the socket's error queue (IP_RECVERR), except on a raw ICMPv6
//! socket, where the kernel hands them up as datagrams.

use super::{Prober, Reply, ReplyKind};
use crate::icmp;
use crate::sys::errqueue::{Pmtudisc, QueuedError};
use crate::sys::icmp::{IcmpSocket, SocketKind};
use crate::sys::probe::{TcpProbe, TcpState, UdpProbe};
use std::collections::BTreeSet;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, SystemTime};

/// traceroute's and mtr's default destination ports: UDP to one nothing listens on, TCP to HTTP.
pub const UDP_PORT: u16 = 33434;
pub const TCP_PORT: u16 = 80;

/// Errors a previous probe's ICMP answer leaves pending on a socket (send returns them once).
fn pending_error(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(
            libc::ECONNREFUSED
                | libc::EHOSTUNREACH
                | libc::ENETUNREACH
                | libc::EPROTO
                | libc::EACCES
                | libc::EPERM
                | libc::ETIMEDOUT
        )
    )
}

/// Send, retrying past errors that belong to earlier probes.
fn send_with_retry(mut send: impl FnMut() -> io::Result<usize>) -> io::Result<SystemTime> {
    let mut last = None;
    for _ in 0..4 {
        let at = SystemTime::now();
        match send() {
            Ok(_) => return Ok(at),
            // The kernel refused locally (too big); the error queue says how and it is the
            // answer to this probe.
            Err(e) if e.raw_os_error() == Some(libc::EMSGSIZE) => return Ok(at),
            Err(e) if pending_error(&e) => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("send failed")))
}

fn error_reply(e: &QueuedError, dst: IpAddr) -> Reply {
    let (from, kind) = if e.from_network {
        (
            e.offender.unwrap_or(dst),
            ReplyKind::Icmp {
                icmp_type: e.icmp_type,
                code: e.code,
                info: e.info,
            },
        )
    } else {
        (
            e.dest.map_or(dst, |d| d.ip()),
            ReplyKind::Local {
                errno: e.errno,
                info: e.info,
            },
        )
    };
    Reply {
        from,
        at: e.when,
        kind,
        recv_ttl: e.recv_ttl,
    }
}

/// Probes in flight; an answer that cannot be matched goes to the oldest, and from then on
/// probes go one at a time so that the guess is always right.
#[derive(Default)]
struct InFlight {
    seqs: BTreeSet<u32>,
    serial: bool,
}

impl InFlight {
    fn claim(&mut self, seq: Option<u32>) -> Option<u32> {
        match seq {
            Some(s) if self.seqs.remove(&s) => Some(s),
            Some(_) => None,
            None => {
                self.serial = true;
                self.seqs.pop_first()
            }
        }
    }
}

pub struct UdpProber {
    sock: UdpProbe,
    dst: SocketAddr,
    data_len: usize,
    flight: InFlight,
}

impl UdpProber {
    pub fn open(
        dst: SocketAddr,
        device: Option<&str>,
        source: Option<IpAddr>,
        source_port: u16,
        data_len: usize,
        dont_fragment: bool,
    ) -> io::Result<UdpProber> {
        let pmtu = if dont_fragment {
            Pmtudisc::Probe
        } else {
            Pmtudisc::Dont
        };
        let sock = UdpProbe::open(dst.is_ipv6(), device, source, source_port, pmtu)?;
        sock.connect(dst)?;
        Ok(UdpProber {
            sock,
            dst,
            data_len,
            flight: InFlight::default(),
        })
    }
}

impl Prober for UdpProber {
    fn send(&mut self, seq: u32, ttl: u8) -> io::Result<SystemTime> {
        self.sock.set_ttl(ttl)?;
        let mut payload = vec![0u8; self.data_len.max(4)];
        payload[..4].copy_from_slice(&seq.to_be_bytes());
        let at = send_with_retry(|| self.sock.send(&payload))?;
        self.flight.seqs.insert(seq);
        Ok(at)
    }

    fn wait(&mut self, timeout: Duration) -> io::Result<Vec<(u32, Reply)>> {
        crate::sys::poll::readable(&[self.sock.fd()], timeout)?;
        let mut out = vec![];
        while let Some(e) = self.sock.recv_error()? {
            let seq = e
                .quoted
                .get(..4)
                .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
            if let Some(s) = self.flight.claim(seq) {
                out.push((s, error_reply(&e, self.dst.ip())));
            }
        }
        while let Some(d) = self.sock.recv()? {
            if let Some(s) = self.flight.claim(None) {
                out.push((
                    s,
                    Reply {
                        from: d.from.ip(),
                        at: d.when,
                        kind: ReplyKind::Reached,
                        recv_ttl: d.ttl,
                    },
                ));
            }
        }
        Ok(out)
    }

    fn expire(&mut self, seq: u32) {
        self.flight.seqs.remove(&seq);
    }

    fn max_in_flight(&self) -> usize {
        if self.flight.serial { 1 } else { usize::MAX }
    }
}

pub struct IcmpProber {
    sock: IcmpSocket,
    dst: IpAddr,
    id: u16,
    data_len: usize,
    /// Probe n goes out with echo sequence seq_base + n (traceroute -I -p sets the first).
    seq_base: u16,
    flight: InFlight,
}

impl IcmpProber {
    pub fn open(
        dst: IpAddr,
        device: Option<&str>,
        source: Option<IpAddr>,
        data_len: usize,
        first_seq: u16,
    ) -> Result<IcmpProber, crate::sys::icmp::OpenError> {
        let v6 = dst.is_ipv6();
        // A ping socket first: it needs no privilege and the kernel sorts out replies.
        let sock = match IcmpSocket::open(v6, Some(SocketKind::Dgram)) {
            Ok(s) => s,
            Err(first) => IcmpSocket::open(v6, Some(SocketKind::Raw)).map_err(|e| {
                crate::sys::icmp::OpenError {
                    raw: e.raw,
                    dgram: first.dgram,
                }
            })?,
        };
        sock.configure(None, Some(Pmtudisc::Dont), device, source)
            .map_err(|e| crate::sys::icmp::OpenError {
                raw: None,
                dgram: Some(e),
            })?;
        Ok(IcmpProber {
            sock,
            dst,
            id: (std::process::id() & 0xffff) as u16,
            data_len,
            seq_base: first_seq.wrapping_sub(1),
            flight: InFlight::default(),
        })
    }

    fn probe_of(&self, wire_seq: u16) -> u32 {
        wire_seq.wrapping_sub(self.seq_base) as u32
    }

    /// Whose echo this is: on a ping socket the kernel already checked the identifier.
    fn ours(&self, id: u16) -> bool {
        self.sock.kind == SocketKind::Dgram || id == self.id
    }
}

impl Prober for IcmpProber {
    fn send(&mut self, seq: u32, ttl: u8) -> io::Result<SystemTime> {
        self.sock.set_ttl(ttl)?;
        let packet = icmp::echo_probe(
            self.dst.is_ipv6(),
            self.id,
            self.seq_base.wrapping_add(seq as u16),
            self.data_len,
        );
        let at = send_with_retry(|| self.sock.send(&packet, self.dst, 0).map(|_| packet.len()))?;
        self.flight.seqs.insert(seq);
        Ok(at)
    }

    fn wait(&mut self, timeout: Duration) -> io::Result<Vec<(u32, Reply)>> {
        self.sock.wait(timeout)?;
        let v6 = self.dst.is_ipv6();
        let mut out = vec![];
        while let Some(e) = self.sock.recv_error()? {
            let seq = match icmp::quoted_echo(&e.quoted, v6) {
                Some((id, seq)) if self.ours(id) => Some(self.probe_of(seq)),
                Some(_) => continue,
                None => None,
            };
            if let Some(s) = self.flight.claim(seq) {
                out.push((s, error_reply(&e, self.dst)));
            }
        }
        let raw = self.sock.kind == SocketKind::Raw;
        while let Some(r) = self.sock.recv()? {
            if let Some(reply) = icmp::echo_reply(&r.data, v6, raw && !v6) {
                if !self.ours(reply.id) || r.from != self.dst {
                    continue;
                }
                if let Some(s) = self.flight.claim(Some(self.probe_of(reply.seq))) {
                    out.push((
                        s,
                        Reply {
                            from: r.from,
                            at: r.when,
                            kind: ReplyKind::Reached,
                            recv_ttl: r.ttl.or(reply.ttl),
                        },
                    ));
                }
            } else if raw && v6 {
                // Raw ICMPv6 sockets get routers' errors as datagrams, not on the error queue.
                let Some(err) = icmp::icmp6_error(&r.data) else {
                    continue;
                };
                if err.id != self.id || IpAddr::V6(err.dest) != self.dst {
                    continue;
                }
                if let Some(s) = self.flight.claim(Some(self.probe_of(err.seq))) {
                    out.push((
                        s,
                        Reply {
                            from: r.from,
                            at: r.when,
                            kind: ReplyKind::Icmp {
                                icmp_type: err.icmp_type,
                                code: err.code,
                                info: err.info,
                            },
                            recv_ttl: r.ttl,
                        },
                    ));
                }
            }
        }
        Ok(out)
    }

    fn expire(&mut self, seq: u32) {
        self.flight.seqs.remove(&seq);
    }

    fn max_in_flight(&self) -> usize {
        if self.flight.serial { 1 } else { usize::MAX }
    }
}

/// TCP SYN probes, one at a time from one source port, so the trace is one flow.
pub struct TcpProber {
    dst: SocketAddr,
    device: Option<String>,
    source: Option<IpAddr>,
    port: u16,
    current: Option<(u32, TcpProbe)>,
}

impl TcpProber {
    pub fn new(
        dst: SocketAddr,
        device: Option<String>,
        source: Option<IpAddr>,
        port: u16,
    ) -> TcpProber {
        TcpProber {
            dst,
            device,
            source,
            port,
            current: None,
        }
    }
}

impl Prober for TcpProber {
    fn send(&mut self, seq: u32, ttl: u8) -> io::Result<SystemTime> {
        self.current = None;
        let at = SystemTime::now();
        let start =
            |port| TcpProbe::start(self.dst, self.device.as_deref(), self.source, port, ttl);
        let probe = match start(self.port) {
            // The last probe's port is not free yet: take another one from now on.
            Err(e) if e.raw_os_error() == Some(libc::EADDRINUSE) => start(0)?,
            other => other?,
        };
        self.port = probe.local_port();
        self.current = Some((seq, probe));
        Ok(at)
    }

    fn wait(&mut self, timeout: Duration) -> io::Result<Vec<(u32, Reply)>> {
        let Some((seq, probe)) = &self.current else {
            std::thread::sleep(timeout);
            return Ok(vec![]);
        };
        crate::sys::poll::writable(&[probe.fd()], timeout)?;
        let seq = *seq;
        let reply = if let Some(e) = probe.recv_error()? {
            Some(error_reply(&e, self.dst.ip()))
        } else {
            match probe.state() {
                TcpState::Pending => None,
                TcpState::Connected | TcpState::Refused => Some(Reply {
                    from: self.dst.ip(),
                    at: SystemTime::now(),
                    kind: ReplyKind::Reached,
                    recv_ttl: None,
                }),
                TcpState::Failed(errno) => Some(Reply {
                    from: self.dst.ip(),
                    at: SystemTime::now(),
                    kind: ReplyKind::Local { errno, info: 0 },
                    recv_ttl: None,
                }),
            }
        };
        Ok(match reply {
            Some(r) => {
                self.current = None;
                vec![(seq, r)]
            }
            None => vec![],
        })
    }

    fn expire(&mut self, seq: u32) {
        if self.current.as_ref().is_some_and(|(s, _)| *s == seq) {
            self.current = None;
        }
    }

    fn max_in_flight(&self) -> usize {
        1
    }
}
