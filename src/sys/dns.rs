//! Moving DNS messages: UDP with a deadline (answers with the wrong id are skipped, as from a
//! spoofer or a late reply), TCP with a deadline for connect, write and read.

use crate::dns::resolver::{Proto, Transport, XError};
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

pub struct SocketTransport;

fn map_err(e: io::Error) -> XError {
    match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => XError::Timeout,
        io::ErrorKind::ConnectionRefused | io::ErrorKind::ConnectionReset => XError::Refused,
        _ => XError::Local(e.to_string()),
    }
}

fn remaining(deadline: Instant) -> Result<Duration, XError> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        Err(XError::Timeout)
    } else {
        Ok(left)
    }
}

impl Transport for SocketTransport {
    fn exchange(
        &mut self,
        server: SocketAddr,
        query: &[u8],
        id: u16,
        proto: Proto,
        timeout: Duration,
    ) -> Result<Vec<u8>, XError> {
        let deadline = Instant::now() + timeout;
        match proto {
            Proto::Udp => {
                let bind: SocketAddr = if server.is_ipv4() {
                    "0.0.0.0:0".parse().unwrap()
                } else {
                    "[::]:0".parse().unwrap()
                };
                let sock = UdpSocket::bind(bind).map_err(map_err)?;
                // connect() makes the kernel drop datagrams from other addresses and report
                // ICMP port unreachable as ECONNREFUSED.
                sock.connect(server).map_err(map_err)?;
                sock.send(query).map_err(map_err)?;
                let mut buf = vec![0u8; 65535];
                loop {
                    sock.set_read_timeout(Some(remaining(deadline)?))
                        .map_err(map_err)?;
                    let n = sock.recv(&mut buf).map_err(map_err)?;
                    if n >= 2 && u16::from_be_bytes([buf[0], buf[1]]) == id {
                        buf.truncate(n);
                        return Ok(buf);
                    }
                }
            }
            Proto::Tcp => {
                let mut s =
                    TcpStream::connect_timeout(&server, remaining(deadline)?).map_err(map_err)?;
                s.set_nodelay(true).ok();
                s.set_write_timeout(Some(remaining(deadline)?))
                    .map_err(map_err)?;
                let mut framed = Vec::with_capacity(query.len() + 2);
                framed.extend_from_slice(&(query.len() as u16).to_be_bytes());
                framed.extend_from_slice(query);
                s.write_all(&framed).map_err(map_err)?;
                let mut read_exact = |buf: &mut [u8]| -> Result<(), XError> {
                    let mut got = 0;
                    while got < buf.len() {
                        s.set_read_timeout(Some(remaining(deadline)?))
                            .map_err(map_err)?;
                        match s.read(&mut buf[got..]) {
                            Ok(0) => {
                                return Err(XError::Local(
                                    "the server closed the TCP connection".into(),
                                ));
                            }
                            Ok(n) => got += n,
                            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                            Err(e) => return Err(map_err(e)),
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
        }
    }
}
