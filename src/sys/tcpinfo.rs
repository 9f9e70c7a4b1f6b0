//! TCP_INFO of a connected socket (retransmits, congestion window, RTT, path MTU, the peer's
//! window), parsed with netlink-packet-sock-diag's TcpInfo (the same struct sock_diag carries).

use netlink_packet_sock_diag::inet::nlas::TcpInfo;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

pub fn tcp_info(fd: BorrowedFd<'_>) -> io::Result<TcpInfo> {
    // Larger than any kernel's struct tcp_info; what an older kernel leaves out stays zero.
    let mut buf = [0u8; 512];
    let mut len = buf.len() as libc::socklen_t;
    // SAFETY: a buffer and its length for getsockopt to fill.
    let rc = unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_INFO,
            buf.as_mut_ptr().cast(),
            &mut len,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    TcpInfo::parse(&buf).map_err(|e| io::Error::other(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;

    #[test]
    fn a_loopback_connection_has_tcp_info() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let c = std::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let i = tcp_info(c.as_fd()).unwrap();
        assert_eq!(i.state, 1, "established");
        assert!(i.snd_mss > 0);
        assert!(i.pmtu >= 1500);
    }
}
