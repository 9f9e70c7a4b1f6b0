//! The resolver's transport over real sockets (`sys::dns`), with what each I/O failure means
//! for a lookup: a timeout, a refusal (nothing listens on port 53), or a local error.

use super::resolver::{Proto, Transport, XError};
use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

pub struct SocketTransport;

fn meaning(e: io::Error) -> XError {
    match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => XError::Timeout,
        io::ErrorKind::ConnectionRefused | io::ErrorKind::ConnectionReset => XError::Refused,
        _ => XError::Local(crate::error::os_text(&e)),
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
            Proto::Udp => crate::sys::dns::udp(server, query, id, deadline),
            Proto::Tcp => crate::sys::dns::tcp(server, query, deadline),
        }
        .map_err(meaning)
    }
}
