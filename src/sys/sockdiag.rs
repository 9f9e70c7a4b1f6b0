//! Socket listings over NETLINK_SOCK_DIAG (what `ss` reads): inet sockets of one protocol and
//! family, and unix sockets, each handed over as the kernel sends it. netlink-packet-sock-diag
//! builds the requests and decodes the answers; reading needs no privilege.

use super::netlink::Netlink;
use netlink_packet_core::{NLM_F_DUMP, NLM_F_REQUEST, NetlinkMessage, NetlinkPayload};
use netlink_packet_sock_diag::SockDiagMessage;
use netlink_packet_sock_diag::inet::{ExtensionFlags, InetRequest, InetResponse, SocketId};
use netlink_packet_sock_diag::unix::{ShowFlags, UnixRequest, UnixResponse};
use std::io;

const NETLINK_SOCK_DIAG: isize = 4;
const SOCK_DIAG_BY_FAMILY: u16 = 20;

pub struct SockDiag {
    nl: Netlink,
}

/// One answer: the decoded message and its raw bytes (header included), for the attributes the
/// crate does not model (INET_DIAG_SKV6ONLY, UNIX_DIAG_NAME as bytes, TCP congestion details).
pub enum Answer<'a> {
    Inet(Box<InetResponse>, &'a [u8]),
    Unix(Box<UnixResponse>, &'a [u8]),
}

impl SockDiag {
    pub fn open() -> io::Result<Self> {
        Ok(SockDiag {
            nl: Netlink::open(NETLINK_SOCK_DIAG)?,
        })
    }

    /// Every inet socket of `protocol` in `family` whose state is in the `states` bitmask.
    pub fn inet(
        &mut self,
        family: u8,
        protocol: u8,
        states: u32,
        extensions: u8,
        mut on: impl FnMut(Answer) -> io::Result<()>,
    ) -> io::Result<()> {
        let req = InetRequest {
            family,
            protocol,
            extensions: ExtensionFlags::from_bits_retain(extensions),
            states: netlink_packet_sock_diag::inet::StateFlags::from_bits_retain(states),
            socket_id: if family == libc::AF_INET6 as u8 {
                SocketId::new_v6()
            } else {
                SocketId::new_v4()
            },
        };
        let seq = self.nl.send(
            SockDiagMessage::InetRequest(req),
            NLM_F_REQUEST | NLM_F_DUMP,
        )?;
        self.receive(seq, &mut on)
    }

    /// Every unix socket whose state is in `states`, with the details `show` asks for.
    pub fn unix(
        &mut self,
        states: u32,
        show: u32,
        mut on: impl FnMut(Answer) -> io::Result<()>,
    ) -> io::Result<()> {
        let req = UnixRequest {
            state_flags: netlink_packet_sock_diag::unix::StateFlags::from_bits_retain(states),
            inode: 0,
            show_flags: ShowFlags::from_bits_retain(show),
            cookie: [0xff; 8],
        };
        let seq = self.nl.send(
            SockDiagMessage::UnixRequest(req),
            NLM_F_REQUEST | NLM_F_DUMP,
        )?;
        self.receive(seq, &mut on)
    }

    /// A dump for a family the crate does not model (AF_NETLINK, AF_PACKET): `req` is the
    /// family's request struct; `on` gets each answer's bytes (header included).
    pub fn raw(
        &mut self,
        req: &[u8],
        mut on: impl FnMut(&[u8]) -> io::Result<()>,
    ) -> io::Result<()> {
        let seq = self
            .nl
            .send_raw(SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP, req)?;
        self.nl.receive_raw(seq, |bytes| {
            on(bytes)?;
            Ok(true)
        })
    }

    fn receive(
        &mut self,
        seq: u32,
        on: &mut impl FnMut(Answer) -> io::Result<()>,
    ) -> io::Result<()> {
        self.nl.receive_raw(seq, |bytes| {
            if let Some(answer) = decode(bytes) {
                on(answer)?;
            }
            Ok(true)
        })
    }
}

/// Decode one answer. When an attribute is malformed for the crate (a unix path bound without
/// its NUL, a shorter struct from an older kernel), the socket is still listed from its header:
/// the message is decoded again without its attributes.
pub fn decode(bytes: &[u8]) -> Option<Answer<'_>> {
    let kind = u16::from_ne_bytes([*bytes.get(4)?, *bytes.get(5)?]);
    if kind != SOCK_DIAG_BY_FAMILY {
        return None;
    }
    let parse = |b: &[u8]| match NetlinkMessage::<SockDiagMessage>::deserialize(b)
        .ok()?
        .payload
    {
        NetlinkPayload::InnerMessage(m) => Some(m),
        _ => None,
    };
    let msg = parse(bytes).or_else(|| {
        // struct inet_diag_msg is 72 bytes, struct unix_diag_msg 16.
        let family = *bytes.get(16)?;
        let head = if family == libc::AF_UNIX as u8 {
            16
        } else {
            72
        };
        let mut short = bytes.get(..16 + head)?.to_vec();
        short[..4].copy_from_slice(&((16 + head) as u32).to_ne_bytes());
        parse(&short)
    })?;
    match msg {
        SockDiagMessage::InetResponse(r) => Some(Answer::Inet(r, bytes)),
        SockDiagMessage::UnixResponse(r) => Some(Answer::Unix(r, bytes)),
        _ => None,
    }
}

/// The raw attributes of an answer (after the family header), as (type, value).
pub fn attributes(bytes: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    let family = bytes.get(16).copied().unwrap_or(0) as i32;
    // The family's answer struct: unix_diag_msg, netlink_diag_msg, packet_diag_msg,
    // inet_diag_msg.
    let head = 16
        + match family {
            libc::AF_UNIX => 16,
            libc::AF_NETLINK => 28,
            libc::AF_PACKET => 16,
            _ => 72,
        };
    netlink_packet_core::NlasIterator::new(bytes.get(head..).unwrap_or(&[]))
        .map_while(Result::ok)
        .map(|nla| {
            let (kind, len) = (nla.kind() & 0x3fff, nla.length() as usize);
            let inner: &[u8] = nla.into_inner();
            (kind, inner.get(4..len).unwrap_or(&[]))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_answer_bytes_never_panic() {
        // A unix answer (header, a name without its NUL) and an inet answer header.
        let mut unix = vec![0u8; 32];
        unix[4] = 20;
        unix[16] = libc::AF_UNIX as u8;
        unix.extend_from_slice(&[9, 0, 0, 0, b'/', b'x', b'y', b'z', b'!', 0, 0, 0]);
        let len = unix.len() as u32;
        unix[..4].copy_from_slice(&len.to_ne_bytes());
        let mut inet = vec![0u8; 88];
        inet[4] = 20;
        inet[16] = libc::AF_INET as u8;
        inet[..4].copy_from_slice(&88u32.to_ne_bytes());
        assert!(matches!(decode(&unix), Some(Answer::Unix(..))));
        assert!(matches!(decode(&inet), Some(Answer::Inet(..))));
        crate::testing::check(&[&unix, &inet], 4000, |b| {
            let _ = decode(b);
            let _ = attributes(b).count();
        });
    }
}
