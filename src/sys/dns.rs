//! Moving DNS messages over sockets: UDP with a deadline (answers with the wrong id are skipped,
//! as from a spoofer or a late reply), TCP with a deadline for connect, write and read. Plain
//! I/O results; what they mean for a lookup is decided in `dns`.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

fn remaining(deadline: Instant) -> io::Result<Duration> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        Err(io::Error::new(io::ErrorKind::TimedOut, "timed out"))
    } else {
        Ok(left)
    }
}

/// A UDP query sent to one server; replies are read until the caller has the one it wants.
pub struct UdpQuery {
    sock: UdpSocket,
}

impl UdpQuery {
    pub fn send(server: SocketAddr, query: &[u8]) -> io::Result<UdpQuery> {
        let bind: SocketAddr = if server.is_ipv4() {
            SocketAddr::from(([0, 0, 0, 0], 0))
        } else {
            SocketAddr::from(([0u16; 8], 0))
        };
        let sock = UdpSocket::bind(bind)?;
        // connect() makes the kernel drop datagrams from other addresses and report ICMP port
        // unreachable as ECONNREFUSED.
        sock.connect(server)?;
        sock.send(query)?;
        Ok(UdpQuery { sock })
    }

    /// The next datagram from the server, before `deadline`.
    pub fn recv(&self, deadline: Instant) -> io::Result<Vec<u8>> {
        let mut buf = vec![0u8; 65535];
        self.sock.set_read_timeout(Some(remaining(deadline)?))?;
        let n = self.sock.recv(&mut buf)?;
        buf.truncate(n);
        Ok(buf)
    }
}

/// Send `query` to `server` over TCP (two-byte length framing) and return the reply.
pub fn tcp(server: SocketAddr, query: &[u8], deadline: Instant) -> io::Result<Vec<u8>> {
    let mut s = TcpStream::connect_timeout(&server, remaining(deadline)?)?;
    s.set_nodelay(true)?;
    s.set_write_timeout(Some(remaining(deadline)?))?;
    let mut framed = Vec::with_capacity(query.len() + 2);
    framed.extend_from_slice(&(query.len() as u16).to_be_bytes());
    framed.extend_from_slice(query);
    s.write_all(&framed)?;
    let mut read_exact = |buf: &mut [u8]| -> io::Result<()> {
        let mut got = 0;
        while got < buf.len() {
            s.set_read_timeout(Some(remaining(deadline)?))?;
            match s.read(&mut buf[got..]) {
                // bind's words for a connection closed under it.
                Ok(0) => return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "end of file")),
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    };
    let mut len = [0u8; 2];
    read_exact(&mut len)?;
    let mut buf = vec![0u8; u16::from_be_bytes(len) as usize];
    read_exact(&mut buf)?;
    Ok(buf)
}
