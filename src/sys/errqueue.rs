//! The socket error queue (IP_RECVERR / IPV6_RECVERR): ICMP errors and local failures the
//! kernel matched to a socket of ours, with who sent them (SO_EE_OFFENDER), when, the TTL they
//! arrived with, and the start of the message we had sent. Any socket kind works (ICMP echo,
//! UDP, TCP), and no privilege is needed: this is what lets traceroute, tracepath and ping -M
//! run unprivileged.

use nix::sys::socket::{
    ControlMessageOwned, MsgFlags, SockaddrStorage, recvmsg, setsockopt, sockopt,
};
use std::io::{self, IoSliceMut};
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsRawFd, BorrowedFd};
use std::time::{Duration, SystemTime};

/// One entry of the error queue (struct sock_extended_err and the original message).
#[derive(Debug, Clone)]
pub struct QueuedError {
    /// An ICMP error came back (origin ICMP/ICMP6) rather than a local failure.
    pub from_network: bool,
    pub errno: i32,
    pub icmp_type: u8,
    pub code: u8,
    pub info: u32,
    /// Who sent the ICMP error (SO_EE_OFFENDER).
    pub offender: Option<IpAddr>,
    /// The start of the message we sent, after its transport header for UDP and TCP
    /// (as much as the router quoted), from its ICMP header for echo sockets.
    pub quoted: Vec<u8>,
    /// The destination of the message we sent (with its port for UDP and TCP).
    pub dest: Option<SocketAddr>,
    /// TTL / hop limit the ICMP error arrived with (IP_RECVTTL / IPV6_RECVHOPLIMIT set).
    pub recv_ttl: Option<u8>,
    /// Kernel receive time of the error (SO_TIMESTAMPNS set), else when it was read.
    pub when: SystemTime,
}

pub(crate) fn socket_addr(sa: &SockaddrStorage) -> Option<SocketAddr> {
    if let Some(s) = sa.as_sockaddr_in() {
        return Some(SocketAddr::new(IpAddr::V4(s.ip()), s.port()));
    }
    sa.as_sockaddr_in6()
        .map(|s| SocketAddr::new(IpAddr::V6(s.ip()), s.port()))
}

/// Ask for the error queue, kernel timestamps and the TTL of what arrives.
pub fn enable(fd: BorrowedFd<'_>, v6: bool) -> io::Result<()> {
    setsockopt(&fd, sockopt::ReceiveTimestampns, &true)?;
    if v6 {
        setsockopt(&fd, sockopt::Ipv6RecvErr, &true)?;
        setsockopt(&fd, sockopt::Ipv6RecvHopLimit, &true)?;
    } else {
        setsockopt(&fd, sockopt::Ipv4RecvErr, &true)?;
        setsockopt(&fd, sockopt::Ipv4RecvTtl, &true)?;
    }
    Ok(())
}

/// Path MTU discovery on a socket (ping -M, tracepath): the kernel's IP_PMTUDISC_* modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pmtudisc {
    Do,
    Dont,
    Want,
    Probe,
}

/// IP_MTU_DISCOVER / IPV6_MTU_DISCOVER (nix and socket2 have no wrapper for it).
pub fn set_pmtudisc(fd: BorrowedFd<'_>, v6: bool, p: Pmtudisc) -> io::Result<()> {
    let value: libc::c_int = match p {
        Pmtudisc::Dont => libc::IP_PMTUDISC_DONT,
        Pmtudisc::Want => libc::IP_PMTUDISC_WANT,
        Pmtudisc::Do => libc::IP_PMTUDISC_DO,
        Pmtudisc::Probe => libc::IP_PMTUDISC_PROBE,
    };
    let (level, name) = if v6 {
        (libc::IPPROTO_IPV6, libc::IPV6_MTU_DISCOVER)
    } else {
        (libc::IPPROTO_IP, libc::IP_MTU_DISCOVER)
    };
    // SAFETY: a valid socket descriptor and a c_int option value of the size passed.
    let r = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (&value as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The next entry of the error queue, without blocking.
pub fn recv(fd: BorrowedFd<'_>) -> io::Result<Option<QueuedError>> {
    let mut buf = vec![0u8; 2048];
    // Room for every control message the kernel may attach to an error-queue entry: the error
    // and its offender, but also the timestamp and TTL asked for (a short buffer truncates
    // away the error itself).
    let mut cmsg = nix::cmsg_space!(
        libc::sock_extended_err,
        libc::sockaddr_in6,
        libc::timespec,
        libc::c_int,
        libc::c_int,
        [u8; 64]
    );
    let mut iov = [IoSliceMut::new(&mut buf)];
    let flags = MsgFlags::MSG_ERRQUEUE | MsgFlags::MSG_DONTWAIT;
    let r = match recvmsg::<SockaddrStorage>(fd.as_raw_fd(), &mut iov, Some(&mut cmsg), flags) {
        Ok(r) => r,
        Err(nix::errno::Errno::EAGAIN) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let mut out: Option<QueuedError> = None;
    let mut ttl = None;
    let mut when = None;
    if let Ok(cmsgs) = r.cmsgs() {
        for c in cmsgs {
            let (e, offender) = match c {
                ControlMessageOwned::Ipv4RecvErr(e, addr) => (
                    e,
                    addr.map(|a| {
                        IpAddr::V4(std::net::Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr)))
                    }),
                ),
                ControlMessageOwned::Ipv6RecvErr(e, addr) => (
                    e,
                    addr.map(|a| IpAddr::V6(std::net::Ipv6Addr::from(a.sin6_addr.s6_addr))),
                ),
                ControlMessageOwned::ScmTimestampns(ts) => {
                    when = Some(
                        SystemTime::UNIX_EPOCH
                            + Duration::new(ts.tv_sec() as u64, ts.tv_nsec() as u32),
                    );
                    continue;
                }
                ControlMessageOwned::Ipv4Ttl(t) => {
                    ttl = Some(t as u8);
                    continue;
                }
                ControlMessageOwned::Ipv6HopLimit(h) => {
                    ttl = Some(h as u8);
                    continue;
                }
                _ => continue,
            };
            // An offender of 0.0.0.0 / :: (local errors) is no one.
            let offender = offender.filter(|a| !a.is_unspecified());
            out = Some(QueuedError {
                from_network: e.ee_origin == libc::SO_EE_ORIGIN_ICMP
                    || e.ee_origin == libc::SO_EE_ORIGIN_ICMP6,
                errno: e.ee_errno as i32,
                icmp_type: e.ee_type,
                code: e.ee_code,
                info: e.ee_info,
                offender,
                quoted: Vec::new(),
                dest: None,
                recv_ttl: None,
                when: SystemTime::now(),
            });
        }
    }
    let dest = r.address.as_ref().and_then(socket_addr);
    let n = r.bytes;
    Ok(out.map(|mut q| {
        q.quoted = buf[..n.min(buf.len())].to_vec();
        q.dest = dest;
        q.recv_ttl = ttl;
        if let Some(w) = when {
            q.when = w;
        }
        q
    }))
}
