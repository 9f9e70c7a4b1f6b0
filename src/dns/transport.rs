//! The resolver's transport over real sockets (`sys::dns`), with what each I/O failure means
//! for a lookup: a timeout, a refusal (nothing listens on port 53), or a local error.

use super::resolver::{Proto, Transport, XError};
use hickory_proto::op::Message;
use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

#[derive(Default)]
pub struct SocketTransport {
    /// What happened on the way that bind's tools mention (a reply for another question).
    notes: Vec<String>,
}

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
            Proto::Tcp => crate::sys::dns::tcp(server, query, deadline).map_err(meaning),
            Proto::Udp => {
                let q = crate::sys::dns::UdpQuery::send(server, query).map_err(meaning)?;
                // Skip what is not the reply: another id (a late or spoofed answer), or an
                // answer to another question (noted, as bind notes it, and waited past).
                loop {
                    let reply = q.recv(deadline).map_err(meaning)?;
                    if reply.len() < 12 || u16::from_be_bytes([reply[0], reply[1]]) != id {
                        continue;
                    }
                    match question_mismatch(query, &reply) {
                        Some(got) => self
                            .notes
                            .push(format!(";; Question section mismatch: got {got}")),
                        None => return Ok(reply),
                    }
                }
            }
        }
    }

    fn take_notes(&mut self) -> Vec<String> {
        std::mem::take(&mut self.notes)
    }
}

/// The reply's question as bind names it (`name/TYPE/CLASS`) when it is not the query's.
fn question_mismatch(query: &[u8], reply: &[u8]) -> Option<String> {
    let (Ok(q), Ok(r)) = (Message::from_vec(query), Message::from_vec(reply)) else {
        return None;
    };
    let (Some(q), Some(r)) = (q.queries.first(), r.queries.first()) else {
        return None;
    };
    if q.name() == r.name() && q.query_type() == r.query_type() {
        return None;
    }
    Some(format!(
        "{}/{}/{}",
        super::name::text(r.name()).trim_end_matches('.'),
        r.query_type(),
        r.query_class()
    ))
}
