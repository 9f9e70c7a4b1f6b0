//! TCP connect probes: a non-blocking connect whose completion (or refusal) is the "reply".
//! Needs no privilege and goes through kube-proxy's DNAT like any client.

use socket2::{Domain, SockAddr, Socket, Type};
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsFd, BorrowedFd};

pub struct Connect {
    sock: Socket,
}

impl Connect {
    /// Start connecting to `dst`; completion is reported by `result` once the socket is writable.
    pub fn start(
        dst: SocketAddr,
        device: Option<&str>,
        source: Option<IpAddr>,
        ttl: Option<u8>,
    ) -> io::Result<Connect> {
        let sock = Socket::new(Domain::for_address(dst), Type::STREAM, None)?;
        sock.set_nonblocking(true)?;
        if let Some(dev) = device {
            sock.bind_device(Some(dev.as_bytes()))?;
        }
        if let Some(src) = source {
            sock.bind(&SockAddr::from(SocketAddr::new(src, 0)))?;
        }
        if let Some(t) = ttl {
            if dst.is_ipv4() {
                sock.set_ttl_v4(t as u32)?;
            } else {
                sock.set_unicast_hops_v6(t as u32)?;
            }
        }
        match sock.connect(&SockAddr::from(dst)) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
            Err(e) => return Err(e),
        }
        Ok(Connect { sock })
    }

    pub fn fd(&self) -> BorrowedFd<'_> {
        self.sock.as_fd()
    }

    /// After the socket became writable: Ok when connected, the error (ECONNREFUSED…) otherwise.
    pub fn result(&self) -> io::Result<()> {
        match self.sock.take_error()? {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}
