//! Path MTU checks without privilege: the MTU the kernel would use towards an address (its
//! route's, or what path MTU discovery learned), and a TCP connection whose first segment is as
//! large as the path allows, with don't-fragment set: whether the peer acknowledged it.

use socket2::{Domain, SockAddr, Socket, Type};
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsFd, AsRawFd};
use std::time::{Duration, Instant};

/// The MTU towards `dst` (IP_MTU / IPV6_MTU of a connected UDP socket: nothing is sent).
pub fn route_mtu(dst: IpAddr) -> io::Result<u32> {
    let sock = Socket::new(
        Domain::for_address(SocketAddr::new(dst, 9)),
        Type::DGRAM,
        None,
    )?;
    sock.connect(&SockAddr::from(SocketAddr::new(dst, 9)))?;
    let (level, name) = if dst.is_ipv4() {
        (libc::IPPROTO_IP, libc::IP_MTU)
    } else {
        (libc::IPPROTO_IPV6, libc::IPV6_MTU)
    };
    let mut mtu: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: a valid socket, and an int-sized buffer with its length.
    let rc = unsafe {
        libc::getsockopt(
            sock.as_raw_fd(),
            level,
            name,
            (&mut mtu as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(mtu.max(0) as u32)
}

/// What a full-size first segment met.
#[derive(Debug, Clone, PartialEq)]
pub struct LargeSegment {
    /// The handshake's time (small packets), ms.
    pub connect_ms: f64,
    /// When the peer acknowledged the full segment, ms after it was sent; None when it never
    /// did before the deadline (the segment, or its acknowledgement, vanished).
    pub acked_ms: Option<f64>,
}

/// Connect to `dst` and send one segment of the connection's MSS (so the packet fills the path
/// MTU) with don't-fragment (an HTTP
/// request padded with a header, harmless to any server), then watch the send queue empty
/// (SIOCOUTQ: bytes not yet acknowledged) until `deadline`.
pub fn large_first_segment(dst: SocketAddr, deadline: Instant) -> io::Result<LargeSegment> {
    let left = |now: Instant| deadline.saturating_duration_since(now);
    let sock = Socket::new(Domain::for_address(dst), Type::STREAM, None)?;
    super::errqueue::set_pmtudisc(sock.as_fd(), dst.is_ipv6(), super::errqueue::Pmtudisc::Do)?;
    sock.set_tcp_nodelay(true)?;
    let start = Instant::now();
    let wait = left(start);
    if wait.is_zero() {
        return Err(io::Error::from(io::ErrorKind::TimedOut));
    }
    sock.connect_timeout(&SockAddr::from(dst), wait)?;
    let connect_ms = ms(start.elapsed());
    let mss = sock.tcp_mss()? as usize;
    let segment = padded_request(&dst, mss);
    sock.set_write_timeout(Some(left(Instant::now()).max(Duration::from_millis(1))))?;
    let sent = Instant::now();
    let n = sock.send(&segment)?;
    if n != segment.len() {
        return Err(io::Error::other("short send"));
    }
    loop {
        if unacked(&sock)? == 0 {
            return Ok(LargeSegment {
                connect_ms,
                acked_ms: Some(ms(sent.elapsed())),
            });
        }
        let now = Instant::now();
        if now >= deadline {
            return Ok(LargeSegment {
                connect_ms,
                acked_ms: None,
            });
        }
        std::thread::sleep(left(now).min(Duration::from_millis(2)));
    }
}

/// Bytes sent and not yet acknowledged.
fn unacked(sock: &Socket) -> io::Result<i32> {
    let mut n: libc::c_int = 0;
    // SAFETY: TIOCOUTQ (SIOCOUTQ) writes one int.
    let rc = unsafe { libc::ioctl(sock.as_raw_fd(), libc::TIOCOUTQ, &mut n) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(n)
}

/// `GET / HTTP/1.1` with a Host and a padding header, exactly `len` bytes long (at least the
/// request without padding).
fn padded_request(dst: &SocketAddr, len: usize) -> Vec<u8> {
    let host = match dst {
        SocketAddr::V4(a) => a.to_string(),
        SocketAddr::V6(a) => format!("[{}]:{}", a.ip(), a.port()),
    };
    let head =
        format!("GET / HTTP/1.1\r\nHost: {host}\r\nUser-Agent: debugbox-mtu-check\r\nX-Padding: ");
    let tail = "\r\nConnection: close\r\n\r\n";
    let pad = len.saturating_sub(head.len() + tail.len());
    let mut out = Vec::with_capacity(len.max(head.len() + tail.len()));
    out.extend_from_slice(head.as_bytes());
    out.resize(head.len() + pad, b'x');
    out.extend_from_slice(tail.as_bytes());
    out
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 10_000.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn padded_to_the_length_asked() {
        let dst: SocketAddr = "10.0.0.1:80".parse().unwrap();
        let r = padded_request(&dst, 1448);
        assert_eq!(r.len(), 1448);
        assert!(r.starts_with(b"GET / HTTP/1.1\r\nHost: 10.0.0.1:80\r\n"));
        assert!(r.ends_with(b"\r\n\r\n"));
        // Shorter than the request itself: the request, unpadded.
        assert!(padded_request(&dst, 10).ends_with(b"X-Padding: \r\nConnection: close\r\n\r\n"));
    }

    /// On loopback (MTU 65536) the full segment is acknowledged; the route's MTU is read.
    #[test]
    fn loopback_acknowledges_a_full_segment() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let got = large_first_segment(addr, Instant::now() + Duration::from_secs(5)).unwrap();
        assert!(got.acked_ms.is_some(), "{got:?}");
        // Loopback's 65536, capped at the largest IP packet.
        assert_eq!(route_mtu("127.0.0.1".parse().unwrap()).unwrap(), 65535);
        drop(l);
    }
}
