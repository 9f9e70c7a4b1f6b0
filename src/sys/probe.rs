//! Path probes that need no privilege: a UDP socket whose datagrams carry a chosen TTL, and a
//! TCP connect (a SYN) with a chosen TTL. What the routers on the way say comes back on the
//! socket's error queue (sys::errqueue); what the destination says comes back as a datagram, a
//! refused or a completed connect.

use super::errqueue::{self, Pmtudisc, QueuedError};
use socket2::{Domain, SockAddr, Socket, Type};
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsFd, BorrowedFd};
use std::time::Duration;

fn set_ttl(sock: &Socket, v6: bool, ttl: u8) -> io::Result<()> {
    if v6 {
        sock.set_unicast_hops_v6(ttl as u32)
    } else {
        sock.set_ttl_v4(ttl as u32)
    }
}

fn bind(
    sock: &Socket,
    v6: bool,
    device: Option<&str>,
    source: Option<IpAddr>,
    port: u16,
) -> io::Result<()> {
    if let Some(dev) = device {
        sock.bind_device(Some(dev.as_bytes()))?;
    }
    let any: IpAddr = if v6 {
        std::net::Ipv6Addr::UNSPECIFIED.into()
    } else {
        std::net::Ipv4Addr::UNSPECIFIED.into()
    };
    if source.is_some() || port != 0 {
        sock.bind(&SockAddr::from(SocketAddr::new(
            source.unwrap_or(any),
            port,
        )))?;
    }
    Ok(())
}

/// A UDP socket for probes, with the error queue on.
pub struct UdpProbe {
    sock: Socket,
    v6: bool,
}

impl UdpProbe {
    /// Open and bind (to `source` and `port`, either may be unset); `pmtu` sets IP_MTU_DISCOVER.
    pub fn open(
        v6: bool,
        device: Option<&str>,
        source: Option<IpAddr>,
        port: u16,
        pmtu: Pmtudisc,
    ) -> io::Result<UdpProbe> {
        let domain = if v6 { Domain::IPV6 } else { Domain::IPV4 };
        let sock = Socket::new(domain, Type::DGRAM, None)?;
        sock.set_nonblocking(true)?;
        errqueue::enable(sock.as_fd(), v6)?;
        errqueue::set_pmtudisc(sock.as_fd(), v6, pmtu)?;
        bind(&sock, v6, device, source, port)?;
        Ok(UdpProbe { sock, v6 })
    }

    /// Fix the destination: every datagram of this socket is then one flow (one 5-tuple).
    pub fn connect(&self, dst: SocketAddr) -> io::Result<()> {
        self.sock.connect(&SockAddr::from(dst))
    }

    pub fn set_ttl(&self, ttl: u8) -> io::Result<()> {
        set_ttl(&self.sock, self.v6, ttl)
    }

    /// Send on the connected flow.
    pub fn send(&self, data: &[u8]) -> io::Result<usize> {
        self.sock.send(data)
    }

    /// Send to `dst` (unconnected use, as tracepath moves the port from probe to probe).
    pub fn send_to(&self, data: &[u8], dst: SocketAddr) -> io::Result<usize> {
        self.sock.send_to(data, &SockAddr::from(dst))
    }

    pub fn recv_error(&self) -> io::Result<Option<QueuedError>> {
        errqueue::recv(self.sock.as_fd())
    }

    /// The next datagram (the destination answered the probe), without blocking.
    pub fn recv(&self) -> io::Result<Option<super::dgram::Datagram>> {
        super::dgram::recv(self.sock.as_fd())
    }

    pub fn fd(&self) -> BorrowedFd<'_> {
        self.sock.as_fd()
    }
}

/// How a TCP probe's connect stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TcpState {
    Pending,
    /// SYN-ACK: the destination listens on the port.
    Connected,
    /// RST: the destination answered that nothing listens there.
    Refused,
    /// The connect failed otherwise (an ICMP error is then on the error queue).
    Failed(i32),
}

/// One TCP SYN probe: a non-blocking connect with a chosen TTL and the error queue on. Closed
/// with a reset, so the same source port can carry the next probe (one flow per trace).
pub struct TcpProbe {
    sock: Socket,
}

impl TcpProbe {
    pub fn start(
        dst: SocketAddr,
        device: Option<&str>,
        source: Option<IpAddr>,
        port: u16,
        ttl: u8,
    ) -> io::Result<TcpProbe> {
        let v6 = dst.is_ipv6();
        let sock = Socket::new(Domain::for_address(dst), Type::STREAM, None)?;
        sock.set_nonblocking(true)?;
        sock.set_reuse_address(true)?;
        sock.set_linger(Some(Duration::ZERO))?;
        errqueue::enable(sock.as_fd(), v6)?;
        bind(&sock, v6, device, source, port)?;
        set_ttl(&sock, v6, ttl)?;
        match sock.connect(&SockAddr::from(dst)) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
            Err(e) => return Err(e),
        }
        Ok(TcpProbe { sock })
    }

    /// The local port the kernel chose (to keep it for the next probes).
    pub fn local_port(&self) -> u16 {
        self.sock
            .local_addr()
            .ok()
            .and_then(|a| a.as_socket())
            .map_or(0, |a| a.port())
    }

    pub fn fd(&self) -> BorrowedFd<'_> {
        self.sock.as_fd()
    }

    pub fn recv_error(&self) -> io::Result<Option<QueuedError>> {
        errqueue::recv(self.sock.as_fd())
    }

    /// Where the connect stands, without blocking.
    pub fn state(&self) -> TcpState {
        let done = super::poll::writable(&[self.sock.as_fd()], Duration::ZERO)
            .map(|r| r.first().copied().unwrap_or(false))
            .unwrap_or(false);
        if !done {
            return TcpState::Pending;
        }
        match self.sock.take_error() {
            Ok(None) => {
                if self.sock.peer_addr().is_ok() {
                    TcpState::Connected
                } else {
                    TcpState::Pending
                }
            }
            Ok(Some(e)) | Err(e) => match e.raw_os_error() {
                Some(libc::ECONNREFUSED) => TcpState::Refused,
                Some(n) => TcpState::Failed(n),
                None => TcpState::Failed(0),
            },
        }
    }
}
