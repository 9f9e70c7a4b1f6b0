//! ICMP and ICMPv6 echo sockets, raw (CAP_NET_RAW) or datagram ("ping sockets", allowed by
//! net.ipv4.ping_group_range), with kernel receive timestamps, the reply's TTL/hop limit, and
//! ICMP errors from the socket's error queue (IP_RECVERR), which works in both modes.

use nix::sys::socket::{setsockopt, sockopt};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::AsFd;
use std::time::{Duration, SystemTime};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SocketKind {
    Raw,
    Dgram,
}

pub use super::errqueue::{Pmtudisc, QueuedError};

pub struct IcmpSocket {
    sock: Socket,
    pub kind: SocketKind,
    pub v6: bool,
}

/// Why no ICMP socket could be opened: what each kind said.
#[derive(Debug)]
pub struct OpenError {
    pub raw: Option<io::Error>,
    pub dgram: Option<io::Error>,
}

/// A datagram from the normal queue.
#[derive(Debug, Clone)]
pub struct Received {
    /// ICMP message; for raw IPv4 the IP header comes first (the kernel passes it up).
    pub data: Vec<u8>,
    pub from: IpAddr,
    /// TTL / hop limit from the control message (datagram IPv4, and IPv6).
    pub ttl: Option<u8>,
    /// Kernel receive time (SO_TIMESTAMPNS), or the time it was read.
    pub when: SystemTime,
}

impl IcmpSocket {
    /// Open an echo socket; with `prefer` only that kind, otherwise raw first (it also reports
    /// the TTL of IPv4 replies without a control message), then datagram.
    pub fn open(v6: bool, prefer: Option<SocketKind>) -> Result<IcmpSocket, OpenError> {
        let (domain, proto) = if v6 {
            (Domain::IPV6, Protocol::ICMPV6)
        } else {
            (Domain::IPV4, Protocol::ICMPV4)
        };
        let order: &[SocketKind] = match prefer {
            Some(SocketKind::Raw) => &[SocketKind::Raw],
            Some(SocketKind::Dgram) => &[SocketKind::Dgram],
            None => &[SocketKind::Raw, SocketKind::Dgram],
        };
        let mut err = OpenError {
            raw: None,
            dgram: None,
        };
        for kind in order {
            let ty = match kind {
                SocketKind::Raw => Type::RAW,
                SocketKind::Dgram => Type::DGRAM,
            };
            match Socket::new(domain, ty, Some(proto)) {
                Ok(sock) => {
                    return Ok(IcmpSocket {
                        sock,
                        kind: *kind,
                        v6,
                    });
                }
                Err(e) => match kind {
                    SocketKind::Raw => err.raw = Some(e),
                    SocketKind::Dgram => err.dgram = Some(e),
                },
            }
        }
        Err(err)
    }

    /// Timestamps, TTL reporting, the error queue; then the options the user asked for.
    pub fn configure(
        &self,
        ttl: Option<u8>,
        pmtudisc: Option<Pmtudisc>,
        device: Option<&str>,
        source: Option<IpAddr>,
    ) -> io::Result<()> {
        let fd = self.sock.as_fd();
        setsockopt(&fd, sockopt::ReceiveTimestampns, &true)?;
        if self.v6 {
            setsockopt(&fd, sockopt::Ipv6RecvErr, &true)?;
            setsockopt(&fd, sockopt::Ipv6RecvHopLimit, &true)?;
            if let Some(t) = ttl {
                self.sock.set_unicast_hops_v6(t as u32)?;
            }
        } else {
            setsockopt(&fd, sockopt::Ipv4RecvErr, &true)?;
            if self.kind == SocketKind::Dgram {
                setsockopt(&fd, sockopt::Ipv4RecvTtl, &true)?;
            }
            if let Some(t) = ttl {
                self.sock.set_ttl_v4(t as u32)?;
            }
        }
        if let Some(dev) = device {
            self.sock.bind_device(Some(dev.as_bytes()))?;
        }
        if let Some(src) = source {
            self.sock.bind(&SockAddr::from(SocketAddr::new(src, 0)))?;
        }
        if let Some(p) = pmtudisc {
            self.set_pmtudisc(p)?;
        }
        Ok(())
    }

    fn set_pmtudisc(&self, p: Pmtudisc) -> io::Result<()> {
        super::errqueue::set_pmtudisc(self.sock.as_fd(), self.v6, p)
    }

    /// Send to `dst` (with the IPv6 zone `scope`, 0 for none).
    pub fn send(&self, packet: &[u8], dst: IpAddr, scope: u32) -> io::Result<()> {
        let addr = SockAddr::from(super::route::scoped(dst, 0, scope));
        let n = self.sock.send_to(packet, &addr)?;
        if n != packet.len() {
            return Err(io::Error::other("short send"));
        }
        Ok(())
    }

    /// Wait up to `timeout` for a datagram or a queued error.
    pub fn wait(&self, timeout: Duration) -> io::Result<bool> {
        super::poll::readable(&[self.sock.as_fd()], timeout).map(|r| r.iter().any(|x| *x))
    }

    /// The next datagram, without blocking.
    pub fn recv(&self) -> io::Result<Option<Received>> {
        Ok(super::dgram::recv(self.sock.as_fd())?.map(|d| Received {
            data: d.data,
            from: d.from.ip(),
            ttl: d.ttl,
            when: d.when,
        }))
    }

    /// The next entry of the error queue, without blocking.
    pub fn recv_error(&self) -> io::Result<Option<QueuedError>> {
        super::errqueue::recv(self.sock.as_fd())
    }

    /// Send with this TTL / hop limit (traceroute changes it from probe to probe).
    pub fn set_ttl(&self, ttl: u8) -> io::Result<()> {
        if self.v6 {
            self.sock.set_unicast_hops_v6(ttl as u32)
        } else {
            self.sock.set_ttl_v4(ttl as u32)
        }
    }
}
