//! One socket as ss knows it (struct sockstat plus what `-e -m -i -o` print), built from a
//! sock_diag answer by pure functions.

use super::cli::AF_UNIX;
use crate::sys::sockdiag::{self, Answer};
use netlink_packet_sock_diag::inet::nlas::{Nla as InetNla, TcpInfo};
use netlink_packet_sock_diag::unix::nlas::Nla as UnixNla;
use serde::Serialize;
use std::net::IpAddr;

const INET_DIAG_SKV6ONLY: u16 = 11;
const INET_DIAG_VEGASINFO: u16 = 3;
const INET_DIAG_DCTCPINFO: u16 = 9;
const INET_DIAG_BBRINFO: u16 = 16;
const INET_DIAG_SKMEMINFO: u16 = 7;
const INET_DIAG_CGROUP_ID: u16 = 21;
const UNIX_DIAG_NAME: u16 = 0;
const UNIX_DIAG_VFS: u16 = 1;
const UNIX_DIAG_MEMINFO: u16 = 5;

#[derive(Debug, Clone, Default, Serialize)]
pub struct Sock {
    /// AF_INET, AF_INET6 or AF_UNIX.
    #[serde(skip)]
    pub family: u32,
    /// inet: the IP protocol (INET_DIAG_PROTOCOL or the table's); unix: the socket type.
    #[serde(skip)]
    pub kind: u8,
    pub state: u8,
    pub recv_q: u32,
    pub send_q: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local: Option<IpAddr>,
    pub lport: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote: Option<IpAddr>,
    pub rport: u32,
    /// The bound device index (`%dev`).
    #[serde(skip)]
    pub iface: u32,
    pub inode: u32,
    pub uid: u32,
    #[serde(skip)]
    pub cookie: u64,
    #[serde(skip)]
    pub mark: u32,
    #[serde(skip)]
    pub cgroup: u64,
    #[serde(skip)]
    pub v6only: Option<bool>,
    #[serde(skip)]
    pub timer: u8,
    #[serde(skip)]
    pub expires: u32,
    #[serde(skip)]
    pub retrans: u8,
    #[serde(skip)]
    pub shutdown: Option<u8>,
    /// unix: the bound name (`@` for abstract), as the kernel's bytes.
    #[serde(skip)]
    pub name: Option<Vec<u8>>,
    /// unix: ss never learns the peer's name over netlink; `*`.
    #[serde(skip)]
    pub peer_name: Option<Vec<u8>>,
    #[serde(skip)]
    pub tcp: Option<Box<TcpInfo>>,
    #[serde(skip)]
    pub cong: Option<String>,
    /// SK_MEMINFO_* values (r, rb, t, tb, f, w, o, bl, d).
    #[serde(skip)]
    pub skmem: Option<Vec<u32>>,
    #[serde(skip)]
    pub tos: Option<u8>,
    #[serde(skip)]
    pub tclass: Option<u8>,
    /// unix -e: the bound file's inode and device.
    #[serde(skip)]
    pub vfs: Option<(u32, u32)>,
    /// unix -e: pending connections' inodes.
    #[serde(skip)]
    pub icons: Option<Vec<u32>>,
    /// A congestion module's extra information: DCTCP (enabled, ce_state, alpha, ab_ecn, ab_tot)
    /// or BBR (bw, min_rtt, pacing_gain, cwnd_gain); Vegas' rtt.
    #[serde(skip)]
    pub dctcp: Option<[u32; 5]>,
    #[serde(skip)]
    pub bbr: Option<(u64, u32, u32, u32)>,
    #[serde(skip)]
    pub vegas_rtt: Option<u32>,
    /// netlink and packet sockets: what ss prints for them.
    #[serde(skip)]
    pub link: Option<LinkSock>,
}

#[derive(Debug, Clone, Default)]
pub enum LinkSock {
    #[default]
    None,
    Netlink {
        protocol: u8,
        portid: i32,
        state: u8,
        dst_group: u32,
        dst_portid: u32,
        groups: u64,
    },
    Packet {
        protocol: u16,
        /// struct packet_diag_info: index, version, reserve, copy_thresh, tstamp, flags.
        info: Option<[u32; 6]>,
        rx_ring: Option<[u32; 6]>,
        tx_ring: Option<[u32; 6]>,
        fanout: Option<u32>,
    },
}

/// A NETLINK_DIAG answer (struct netlink_diag_msg and its attributes).
pub fn from_netlink(bytes: &[u8]) -> Option<Sock> {
    let b = bytes.get(16..16 + 28)?;
    let mut s = Sock {
        family: super::cli::AF_NETLINK,
        state: 7,
        inode: u32_at(b, 20),
        ..Default::default()
    };
    let portid = u32_at(b, 4) as i32;
    s.lport = portid as u32;
    let mut groups = 0u64;
    for (kind, v) in sockdiag::attributes(bytes) {
        match kind {
            // NETLINK_DIAG_MEMINFO
            0 => {
                let m: Vec<u32> = v.chunks_exact(4).map(|c| u32_at(c, 0)).collect();
                s.recv_q = m.first().copied().unwrap_or(0);
                s.send_q = m.get(2).copied().unwrap_or(0);
                s.skmem = Some(m);
            }
            // NETLINK_DIAG_GROUPS: an unsigned long.
            1 if v.len() >= 8 => groups = u64::from_ne_bytes(v[..8].try_into().unwrap_or([0; 8])),
            1 if v.len() >= 4 => groups = u32_at(v, 0) as u64,
            _ => {}
        }
    }
    s.link = Some(LinkSock::Netlink {
        protocol: b[2],
        portid,
        state: b[3],
        dst_group: u32_at(b, 12),
        dst_portid: u32_at(b, 8),
        groups,
    });
    Some(s)
}

/// A PACKET_DIAG answer (struct packet_diag_msg and its attributes); None when the kernel left
/// out the memory information ss needs (it then reads /proc, which debugbox does not).
pub fn from_packet(bytes: &[u8]) -> Option<Sock> {
    let b = bytes.get(16..16 + 16)?;
    let mut s = Sock {
        family: super::cli::AF_PACKET,
        kind: b[1],
        state: 7,
        inode: u32_at(b, 4),
        cookie: (u32_at(b, 12) as u64) << 32 | u32_at(b, 8) as u64,
        ..Default::default()
    };
    let mut info = None;
    let (mut rx, mut tx, mut fanout) = (None, None, None);
    let mut has_mem = false;
    let six = |v: &[u8]| -> Option<[u32; 6]> {
        (v.len() >= 24).then(|| std::array::from_fn(|i| u32_at(v, i * 4)))
    };
    for (kind, v) in sockdiag::attributes(bytes) {
        match kind {
            0 => {
                info = six(v);
                if let Some(i) = info {
                    s.lport = i[0];
                    s.iface = i[0];
                }
            }
            2 => rx = six(v),
            3 => tx = six(v),
            4 => fanout = Some(u32_at(v, 0)),
            5 => s.uid = u32_at(v, 0),
            6 => {
                has_mem = true;
                let m: Vec<u32> = v.chunks_exact(4).map(|c| u32_at(c, 0)).collect();
                s.recv_q = m.first().copied().unwrap_or(0);
                s.skmem = Some(m);
            }
            _ => {}
        }
    }
    if !has_mem {
        return None;
    }
    s.link = Some(LinkSock::Packet {
        protocol: u16::from_ne_bytes([b[2], b[3]]),
        info,
        rx_ring: rx,
        tx_ring: tx,
        fanout,
    });
    Some(s)
}

fn u32_at(b: &[u8], i: usize) -> u32 {
    b.get(i..i + 4)
        .map(|s| u32::from_ne_bytes([s[0], s[1], s[2], s[3]]))
        .unwrap_or(0)
}

/// From an answer; `table_protocol` is the protocol the dump asked for (ss's s->type before
/// INET_DIAG_PROTOCOL overrides it).
pub fn from_answer(a: &Answer, table_protocol: u8) -> Sock {
    match a {
        Answer::Inet(r, bytes) => {
            let h = &r.header;
            let family = h.family as u32;
            let id = &h.socket_id;
            let mut s = Sock {
                family,
                kind: table_protocol,
                state: h.state,
                recv_q: h.recv_queue,
                send_q: h.send_queue,
                local: Some(id.source_address),
                lport: id.source_port as u32,
                remote: Some(id.destination_address),
                rport: id.destination_port as u32,
                iface: id.interface_id,
                inode: h.inode,
                uid: h.uid,
                cookie: u64::from_ne_bytes(id.cookie),
                // struct inet_diag_msg after the netlink header: family, state, timer,
                // retrans, id (48 bytes), expires... (the crate keeps no retrans count for a
                // keepalive timer, which ss prints).
                timer: bytes.get(18).copied().unwrap_or(0),
                retrans: bytes.get(19).copied().unwrap_or(0),
                expires: u32_at(bytes, 16 + 52),
                ..Default::default()
            };
            for nla in &r.nlas {
                match nla {
                    InetNla::Protocol(p) => s.kind = *p,
                    InetNla::Mark(m) => s.mark = *m,
                    InetNla::Shutdown(m) => s.shutdown = Some(*m),
                    InetNla::TcpInfo(t) => s.tcp = Some(Box::new(t.clone())),
                    InetNla::Congestion(c) => s.cong = Some(c.clone()),
                    InetNla::Tos(t) => s.tos = Some(*t),
                    InetNla::Tc(t) => s.tclass = Some(*t),
                    _ => {}
                }
            }
            for (kind, v) in sockdiag::attributes(bytes) {
                match kind {
                    INET_DIAG_SKV6ONLY => s.v6only = v.first().map(|b| *b != 0),
                    INET_DIAG_CGROUP_ID if v.len() >= 8 => {
                        s.cgroup = u64::from_ne_bytes(v[..8].try_into().unwrap_or([0; 8]))
                    }
                    INET_DIAG_SKMEMINFO => {
                        s.skmem = Some(v.chunks_exact(4).map(|c| u32_at(c, 0)).collect())
                    }
                    // struct tcpvegas_info: enabled, rttcnt, rtt, minrtt.
                    INET_DIAG_VEGASINFO if v.len() >= 16 && u32_at(v, 0) != 0 => {
                        s.vegas_rtt = Some(u32_at(v, 8));
                    }
                    INET_DIAG_DCTCPINFO if v.len() >= 16 => {
                        // struct tcp_dctcp_info: u16 enabled, u16 ce_state, u32 alpha,
                        // u32 ab_ecn, u32 ab_tot.
                        s.dctcp = Some([
                            u16::from_ne_bytes([v[0], v[1]]) as u32,
                            u16::from_ne_bytes([v[2], v[3]]) as u32,
                            u32_at(v, 4),
                            u32_at(v, 8),
                            u32_at(v, 12),
                        ]);
                    }
                    INET_DIAG_BBRINFO if v.len() >= 20 => {
                        // struct tcp_bbr_info: bw_lo, bw_hi, min_rtt, pacing_gain, cwnd_gain.
                        let bw = (u32_at(v, 4) as u64) << 32 | u32_at(v, 0) as u64;
                        s.bbr = Some((bw, u32_at(v, 8), u32_at(v, 12), u32_at(v, 16)));
                    }
                    _ => {}
                }
            }
            s
        }
        Answer::Unix(r, bytes) => {
            let h = &r.header;
            let mut s = Sock {
                family: AF_UNIX,
                kind: h.kind,
                state: h.state,
                inode: h.inode,
                lport: h.inode,
                cookie: u64::from_ne_bytes(h.cookie),
                ..Default::default()
            };
            for nla in &r.nlas {
                match nla {
                    UnixNla::Peer(p) => s.rport = *p,
                    UnixNla::ReceiveQueueLength(rq, wq) => {
                        s.recv_q = *rq;
                        s.send_q = *wq;
                    }
                    UnixNla::Shutdown(m) => s.shutdown = Some(*m),
                    UnixNla::PendingConnections(p) => s.icons = Some(p.clone()),
                    _ => {}
                }
            }
            for (kind, v) in sockdiag::attributes(bytes) {
                match kind {
                    UNIX_DIAG_NAME => s.name = Some(unix_name(v)),
                    UNIX_DIAG_VFS if v.len() >= 8 => s.vfs = Some((u32_at(v, 0), u32_at(v, 4))),
                    UNIX_DIAG_MEMINFO => {
                        s.skmem = Some(v.chunks_exact(4).map(|c| u32_at(c, 0)).collect())
                    }
                    _ => {}
                }
            }
            s
        }
    }
}

/// unix_show_sock's name: up to the first NUL for a path; an abstract name has every NUL as `@`.
fn unix_name(v: &[u8]) -> Vec<u8> {
    if v.first() == Some(&0) {
        v.iter().map(|b| if *b == 0 { b'@' } else { *b }).collect()
    } else {
        let end = v.iter().position(|b| *b == 0).unwrap_or(v.len());
        v[..end].to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::sockdiag::decode;

    /// An inet answer: the netlink header, struct inet_diag_msg (72 bytes) and attributes.
    fn inet_answer(attrs: &[(u16, &[u8])]) -> Vec<u8> {
        let mut b = vec![0u8; 16 + 72];
        b[4] = 20; // SOCK_DIAG_BY_FAMILY
        b[16] = libc::AF_INET as u8;
        b[17] = 10; // LISTEN
        for (kind, value) in attrs {
            let len = 4 + value.len();
            b.extend_from_slice(&(len as u16).to_ne_bytes());
            b.extend_from_slice(&kind.to_ne_bytes());
            b.extend_from_slice(value);
            b.resize(b.len().next_multiple_of(4), 0);
        }
        let total = b.len() as u32;
        b[..4].copy_from_slice(&total.to_ne_bytes());
        b
    }

    #[test]
    fn any_answer_bytes_make_a_socket_without_panic() {
        let seed = inet_answer(&[
            (INET_DIAG_SKMEMINFO, &[7u8; 36]),
            (INET_DIAG_VEGASINFO, &[1u8; 16]),
            (INET_DIAG_CGROUP_ID, &[2u8; 8]),
            (INET_DIAG_SKV6ONLY, &[1u8]),
        ]);
        let a = decode(&seed).expect("the seed decodes");
        let s = from_answer(&a, 6);
        assert_eq!(s.skmem.as_ref().map(Vec::len), Some(9));
        crate::testing::check(&[&seed], 4000, |b| {
            if let Some(a) = decode(b) {
                let _ = from_answer(&a, 6);
            }
        });
    }
}
