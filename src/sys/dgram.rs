//! Reading one datagram from a socket's normal queue with what the kernel says about it: the
//! sender, the TTL / hop limit it arrived with (IP_RECVTTL / IPV6_RECVHOPLIMIT) and the kernel's
//! receive time (SO_TIMESTAMPNS). ICMP echo sockets and UDP probe sockets read this way.

use nix::sys::socket::{ControlMessageOwned, MsgFlags, SockaddrStorage, recvmsg};
use std::io::{self, IoSliceMut};
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::time::{Duration, SystemTime};

#[derive(Debug, Clone)]
pub struct Datagram {
    pub data: Vec<u8>,
    pub from: SocketAddr,
    pub ttl: Option<u8>,
    /// Kernel receive time, or the time it was read.
    pub when: SystemTime,
}

/// The next datagram, without blocking (None when there is none).
pub fn recv(fd: BorrowedFd<'_>) -> io::Result<Option<Datagram>> {
    let mut buf = vec![0u8; 65536];
    let mut cmsg = nix::cmsg_space!(nix::sys::time::TimeSpec, libc::c_int, libc::c_int);
    let mut iov = [IoSliceMut::new(&mut buf)];
    let r = match recvmsg::<SockaddrStorage>(
        fd.as_raw_fd(),
        &mut iov,
        Some(&mut cmsg),
        MsgFlags::MSG_DONTWAIT,
    ) {
        Ok(r) => r,
        Err(nix::errno::Errno::EAGAIN) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let mut ttl = None;
    let mut when = None;
    if let Ok(cmsgs) = r.cmsgs() {
        for c in cmsgs {
            match c {
                ControlMessageOwned::ScmTimestampns(ts) => {
                    when = Some(
                        SystemTime::UNIX_EPOCH
                            + Duration::new(ts.tv_sec() as u64, ts.tv_nsec() as u32),
                    );
                }
                ControlMessageOwned::Ipv4Ttl(t) => ttl = Some(t as u8),
                ControlMessageOwned::Ipv6HopLimit(h) => ttl = Some(h as u8),
                _ => {}
            }
        }
    }
    let from = r.address.as_ref().and_then(super::errqueue::socket_addr);
    let n = r.bytes;
    let Some(from) = from else { return Ok(None) };
    buf.truncate(n);
    Ok(Some(Datagram {
        data: buf,
        from,
        ttl,
        when: when.unwrap_or_else(SystemTime::now),
    }))
}
