//! The path-probing engine traceroute and mtr share: probes with growing TTLs, what each reply
//! means (a hop, the destination, an unreachable annotation), and traceroute's schedule (several
//! probes in flight, answers printed in order, a hop waited for no longer than its neighbours
//! make sensible). The sockets are behind the `Prober` trait (trace::probers), so the schedule
//! and the classification are tested with canned replies.

pub mod probers;

use std::io;
use std::net::IpAddr;
use std::time::{Duration, SystemTime};

/// What came back for one probe.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub from: IpAddr,
    pub at: SystemTime,
    pub kind: ReplyKind,
    /// TTL / hop limit the answer arrived with.
    pub recv_ttl: Option<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyKind {
    /// An ICMP or ICMPv6 error from a router or the destination.
    Icmp { icmp_type: u8, code: u8, info: u32 },
    /// The destination answered the probe itself (echo reply, SYN-ACK, RST, a UDP datagram).
    Reached,
    /// The kernel refused locally (EMSGSIZE, with the path MTU in `info`).
    Local { errno: i32, info: u32 },
}

/// What a reply says about the probe: the last hop of the trace or not, and traceroute's
/// annotation (`!H`, `!N`, `!X`, `!P`, `!F-1400`, `!<code>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meaning {
    pub last: bool,
    pub note: Option<String>,
}

/// traceroute's reading of a reply (parse_icmp_res / parse_local_res in traceroute 2.1).
/// `None`: not about our probe (redirect, source quench).
pub fn meaning(v6: bool, kind: &ReplyKind) -> Option<Meaning> {
    let last = |note: Option<String>| Some(Meaning { last: true, note });
    let note = |s: &str| last(Some(s.to_string()));
    match *kind {
        ReplyKind::Reached => last(None),
        ReplyKind::Local { errno, info } => {
            if errno == libc::EMSGSIZE && info != 0 {
                note(&format!("!F-{info}"))
            } else {
                note(&format!("!<local {errno}>"))
            }
        }
        ReplyKind::Icmp {
            icmp_type,
            code,
            info,
        } => {
            if !v6 {
                match (icmp_type, code) {
                    (11, 0) => Some(Meaning {
                        last: false,
                        note: None,
                    }),
                    (4, _) | (5, _) => None,
                    (3, 0 | 6 | 8 | 11) => note("!N"),
                    (3, 1 | 7 | 12) => note("!H"),
                    (3, 9 | 10 | 13) => note("!X"),
                    (3, 3) => last(None),
                    (3, 2) => note("!P"),
                    (3, 4) => note(&format!("!F-{info}")),
                    (3, 5) => note("!S"),
                    (3, 14) => note("!V"),
                    (3, 15) => note("!C"),
                    (3, c) => note(&format!("!<{c}>")),
                    (t, c) => note(&format!("!<{t}-{c}>")),
                }
            } else {
                match (icmp_type, code) {
                    (3, 0) => Some(Meaning {
                        last: false,
                        note: None,
                    }),
                    (137, _) => None,
                    (1, 0) => note("!N"),
                    (1, 2 | 3) => note("!H"),
                    (1, 1) => note("!X"),
                    (1, 4) => last(None),
                    (1, c) => note(&format!("!<{c}>")),
                    (2, _) => note(&format!("!F-{info}")),
                    (t, c) => note(&format!("!<{t}-{c}>")),
                }
            }
        }
    }
}

/// The sockets side of a trace.
pub trait Prober {
    /// Send probe `seq` (1, 2, …, unique in a trace) with this TTL; returns when it left.
    fn send(&mut self, seq: u32, ttl: u8) -> io::Result<SystemTime>;
    /// Wait at most `timeout` for answers; each is returned with the probe it answers.
    fn wait(&mut self, timeout: Duration) -> io::Result<Vec<(u32, Reply)>>;
    /// The probe `seq` is given up on (its socket, if it has one, can go).
    fn expire(&mut self, _seq: u32) {}
    /// How many probes may be in flight at once (1 where answers could not be told apart).
    fn max_in_flight(&self) -> usize {
        usize::MAX
    }
}

/// One probe of a trace.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Probe {
    pub ttl: u8,
    pub sent: Option<SystemTime>,
    pub reply: Option<Reply>,
    pub note: Option<String>,
    pub last: bool,
    pub done: bool,
}

impl Probe {
    pub fn rtt(&self) -> Option<Duration> {
        let r = self.reply.as_ref()?;
        Some(r.at.duration_since(self.sent?).unwrap_or_default())
    }
}

/// traceroute's knobs: `-f -m -q -N -w MAX,HERE,NEAR -z`.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub first: u8,
    pub max: u8,
    pub per_hop: usize,
    pub in_flight: usize,
    pub wait: Duration,
    pub here: f64,
    pub near: f64,
    pub send_gap: Duration,
}

impl Default for Plan {
    fn default() -> Self {
        Plan {
            first: 1,
            max: 30,
            per_hop: 3,
            in_flight: 16,
            wait: Duration::from_secs(5),
            here: 3.0,
            near: 10.0,
            send_gap: Duration::ZERO,
        }
    }
}

/// How long probe `n` is waited for: at most `wait`, but `here` times the round trip of an
/// answered probe of the same hop, or `near` times that of a later hop, when there is one.
fn timeout_of(probes: &[Probe], n: usize, plan: &Plan) -> Duration {
    let rtt_factor = |p: &Probe, factor: f64| -> Option<Duration> {
        let rtt = p.rtt()?.as_secs_f64();
        (p.done && rtt > 0.0)
            .then(|| Duration::from_secs_f64((rtt + 0.001) * factor).min(plan.wait))
    };
    if plan.here > 0.0 {
        let hop = n - n % plan.per_hop;
        if let Some(t) = probes[hop..hop + plan.per_hop]
            .iter()
            .enumerate()
            .filter(|(i, _)| hop + i != n)
            .find_map(|(_, p)| rtt_factor(p, plan.here))
        {
            return t;
        }
    }
    if plan.near > 0.0
        && let Some(t) = probes[n + 1..]
            .iter()
            .take_while(|p| p.sent.is_some())
            .find_map(|p| rtt_factor(p, plan.near))
    {
        return t;
    }
    plan.wait
}

/// Run a trace. `show(hop, i)` is called for every probe in order, as soon as it and all before
/// it are settled: `hop` is that probe's hop so far, `i` its index there. Returns whether the
/// destination answered (a last hop without an annotation).
pub fn trace(
    prober: &mut dyn Prober,
    plan: &Plan,
    v6: bool,
    interrupted: &dyn Fn() -> bool,
    show: &mut dyn FnMut(&[Probe], usize) -> io::Result<()>,
) -> io::Result<bool> {
    let per_hop = plan.per_hop.max(1);
    let total = plan.max as usize * per_hop;
    let mut probes: Vec<Probe> = (0..total)
        .map(|n| Probe {
            ttl: (n / per_hop + 1) as u8,
            ..Probe::default()
        })
        .collect();
    let mut start = (plan.first.max(1) as usize - 1) * per_hop;
    let mut end = total;
    let mut last_send: Option<SystemTime> = None;
    let mut reached = false;
    // Sends the kernel put off (no buffer space): retried every 10 ms, for a second at most.
    let mut put_off = 0;
    while start < end {
        if interrupted() {
            break;
        }
        let in_flight_max = plan.in_flight.max(1).min(prober.max_in_flight());
        let now = SystemTime::now();
        let mut wake: Option<SystemTime> = None;
        let mut in_flight = 0;
        let mut n = start;
        while n < end {
            if n == start
                && !probes[n].done
                && let Some(sent) = probes[n].sent
            {
                let expiry = sent + timeout_of(&probes, n, plan);
                if expiry > now {
                    wake = Some(expiry);
                } else {
                    probes[n].done = true;
                    prober.expire(n as u32 + 1);
                }
            }
            if probes[n].done {
                if n == start {
                    let hop = n - n % per_hop;
                    show(&probes[hop..=n], n - hop)?;
                    if probes[n].last && probes[n].note.is_none() {
                        reached = true;
                    }
                    start += 1;
                }
                if probes[n].last {
                    end = end.min((n / per_hop + 1) * per_hop);
                }
                n += 1;
                continue;
            }
            if probes[n].sent.is_none() {
                if let Some(prev) = last_send {
                    let next = prev + plan.send_gap;
                    if !plan.send_gap.is_zero() && next > now {
                        wake = Some(wake.map_or(next, |w| w.min(next)));
                        break;
                    }
                }
                match prober.send(n as u32 + 1, probes[n].ttl) {
                    Ok(at) => {
                        probes[n].sent = Some(at);
                        last_send = Some(at);
                        put_off = 0;
                    }
                    Err(e)
                        if matches!(e.raw_os_error(), Some(libc::ENOBUFS | libc::EAGAIN))
                            && put_off < 100 =>
                    {
                        put_off += 1;
                        if wake.is_none() {
                            wake = Some(now + Duration::from_millis(10));
                        }
                        break;
                    }
                    Err(e) => return Err(e),
                }
            }
            if wake.is_none()
                && let Some(sent) = probes[n].sent
            {
                wake = Some(sent + timeout_of(&probes, n, plan));
            }
            in_flight += 1;
            if in_flight >= in_flight_max {
                break;
            }
            n += 1;
        }
        if start >= end {
            break;
        }
        let timeout = wake
            .and_then(|w| w.duration_since(SystemTime::now()).ok())
            .unwrap_or(Duration::ZERO);
        for (seq, reply) in prober.wait(timeout)? {
            let Some(p) = (seq as usize)
                .checked_sub(1)
                .and_then(|i| probes.get_mut(i))
            else {
                continue;
            };
            if p.done || p.sent.is_none() {
                continue;
            }
            let Some(m) = meaning(v6, &reply.kind) else {
                continue;
            };
            p.last = m.last;
            p.note = m.note;
            p.reply = Some(reply);
            p.done = true;
        }
    }
    Ok(reached)
}

/// The address to probe: a literal, or what the resolver gives for a name. `v6`: only that
/// family; else the first address in getaddrinfo's order, or the first IPv4 one when
/// `prefer_v4` (traceroute's choice).
pub fn resolve(target: &str, v6: Option<bool>, prefer_v4: bool) -> crate::error::Result<IpAddr> {
    use crate::error::Error;
    if let Ok(ip) = target.parse::<IpAddr>() {
        if v6.is_some_and(|v6| v6 != ip.is_ipv6()) {
            return Err(Error::usage(format!(
                "{target}: Address family for hostname not supported"
            )));
        }
        return Ok(ip);
    }
    let fam = match v6 {
        None => crate::dns::Family::Any,
        Some(false) => crate::dns::Family::V4,
        Some(true) => crate::dns::Family::V6,
    };
    let lookup = crate::dns::system()
        .lookup_ip(target, fam)
        .result
        .map_err(|e| {
            Error::usage(format!("{target}: {}", e.gai_message()))
                .hint("check the name, or give an address")
        })?;
    let addrs = crate::dns::ordered(&lookup.addrs);
    let pick = if prefer_v4 {
        addrs.iter().find(|a| a.is_ipv4()).or(addrs.first())
    } else {
        addrs.first()
    };
    pick.copied()
        .ok_or_else(|| Error::usage(format!("{target}: No address associated with hostname")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;

    /// A path of routers: probe `ttl` is answered by hop `ttl` (time exceeded), the destination
    /// at `dest_ttl` answers with `final_kind`; hops in `silent` never answer.
    struct Path {
        dest_ttl: u8,
        final_kind: ReplyKind,
        silent: Vec<u8>,
        pending: VecDeque<(u32, u8)>,
        sent: Vec<u8>,
    }

    fn hop_addr(ttl: u8) -> IpAddr {
        IpAddr::from([10, 0, ttl, 1])
    }

    impl Prober for Path {
        fn send(&mut self, seq: u32, ttl: u8) -> io::Result<SystemTime> {
            self.pending.push_back((seq, ttl));
            self.sent.push(ttl);
            Ok(SystemTime::UNIX_EPOCH + Duration::from_secs(1000))
        }
        fn wait(&mut self, _t: Duration) -> io::Result<Vec<(u32, Reply)>> {
            let mut out = vec![];
            while let Some((seq, ttl)) = self.pending.pop_front() {
                if self.silent.contains(&ttl) {
                    continue;
                }
                let (from, kind) = if ttl >= self.dest_ttl {
                    (hop_addr(self.dest_ttl), self.final_kind.clone())
                } else {
                    (
                        hop_addr(ttl),
                        ReplyKind::Icmp {
                            icmp_type: 11,
                            code: 0,
                            info: 0,
                        },
                    )
                };
                out.push((
                    seq,
                    Reply {
                        from,
                        at: SystemTime::UNIX_EPOCH
                            + Duration::from_secs(1000)
                            + Duration::from_micros(100 * ttl as u64),
                        kind,
                        recv_ttl: Some(64 - ttl),
                    },
                ));
            }
            Ok(out)
        }
    }

    /// What was shown for each probe: its TTL, who answered, the annotation.
    type Shown = Vec<(u8, Option<IpAddr>, Option<String>)>;

    fn run(path: &mut Path, plan: &Plan) -> (Shown, bool) {
        let mut shown = vec![];
        let reached = trace(path, plan, false, &|| false, &mut |hop, i| {
            let p = &hop[i];
            shown.push((p.ttl, p.reply.as_ref().map(|r| r.from), p.note.clone()));
            Ok(())
        })
        .unwrap();
        (shown, reached)
    }

    #[test]
    fn a_three_hop_path_in_order_and_no_further() {
        let mut path = Path {
            dest_ttl: 3,
            final_kind: ReplyKind::Icmp {
                icmp_type: 3,
                code: 3,
                info: 0,
            },
            silent: vec![],
            pending: VecDeque::new(),
            sent: vec![],
        };
        let (shown, reached) = run(&mut path, &Plan::default());
        assert!(reached);
        let hops: Vec<u8> = shown.iter().map(|s| s.0).collect();
        assert_eq!(hops, vec![1, 1, 1, 2, 2, 2, 3, 3, 3]);
        assert_eq!(shown[8].1, Some(hop_addr(3)));
        assert_eq!(shown[8].2, None);
    }

    #[test]
    fn unreachable_is_annotated_and_not_reached() {
        let mut path = Path {
            dest_ttl: 2,
            final_kind: ReplyKind::Icmp {
                icmp_type: 3,
                code: 1,
                info: 0,
            },
            silent: vec![],
            pending: VecDeque::new(),
            sent: vec![],
        };
        let (shown, reached) = run(&mut path, &Plan::default());
        assert!(!reached);
        assert_eq!(shown.len(), 6);
        assert_eq!(shown[5].2.as_deref(), Some("!H"));
    }

    #[test]
    fn silent_hops_time_out_and_max_hops_ends_it() {
        let mut path = Path {
            dest_ttl: 200,
            final_kind: ReplyKind::Reached,
            silent: vec![2, 3, 4],
            pending: VecDeque::new(),
            sent: vec![],
        };
        let plan = Plan {
            max: 4,
            wait: Duration::from_millis(1),
            ..Plan::default()
        };
        let (shown, reached) = run(&mut path, &plan);
        assert!(!reached);
        assert_eq!(shown.len(), 12);
        assert!(shown[3..].iter().all(|s| s.1.is_none()));
    }

    #[test]
    fn one_in_flight_sends_in_ttl_order() {
        let mut path = Path {
            dest_ttl: 3,
            final_kind: ReplyKind::Reached,
            silent: vec![],
            pending: VecDeque::new(),
            sent: vec![],
        };
        let plan = Plan {
            in_flight: 1,
            ..Plan::default()
        };
        let (_, reached) = run(&mut path, &plan);
        assert!(reached);
        assert_eq!(path.sent, vec![1, 1, 1, 2, 2, 2, 3, 3, 3]);
    }

    /// A prober that answers with whatever bytes say: unknown probes, answers twice, any ICMP
    /// type and code, local errors. The schedule never panics and always ends.
    struct Noise<'a> {
        bytes: &'a [u8],
        at: usize,
        sent: u32,
    }

    impl Noise<'_> {
        fn next(&mut self) -> u8 {
            let b = self.bytes.get(self.at).copied().unwrap_or(0);
            self.at += 1;
            b
        }
    }

    impl Prober for Noise<'_> {
        fn send(&mut self, seq: u32, _ttl: u8) -> io::Result<SystemTime> {
            self.sent = self.sent.max(seq);
            if self.next() == 0xff {
                return Err(io::Error::from_raw_os_error(libc::ENOBUFS));
            }
            Ok(SystemTime::UNIX_EPOCH)
        }
        fn wait(&mut self, _t: Duration) -> io::Result<Vec<(u32, Reply)>> {
            let n = self.next() % 4;
            let mut out = vec![];
            for _ in 0..n {
                let seq = (self.next() as u32) % (self.sent + 3);
                let kind = match self.next() % 3 {
                    0 => ReplyKind::Reached,
                    1 => ReplyKind::Local {
                        errno: self.next() as i32,
                        info: self.next() as u32 * 7,
                    },
                    _ => ReplyKind::Icmp {
                        icmp_type: self.next(),
                        code: self.next(),
                        info: self.next() as u32,
                    },
                };
                out.push((
                    seq,
                    Reply {
                        from: IpAddr::from([10, 0, 0, self.next()]),
                        at: SystemTime::UNIX_EPOCH + Duration::from_micros(self.next() as u64),
                        kind,
                        recv_ttl: Some(self.next()),
                    },
                ));
            }
            Ok(out)
        }
    }

    #[test]
    fn any_answers_never_panic_and_the_trace_ends() {
        let plan = Plan {
            max: 8,
            wait: Duration::ZERO,
            ..Plan::default()
        };
        crate::testing::check(
            &[&[3, 1, 2, 11, 0][..], &[1, 0, 0, 3, 3, 9]],
            3000,
            |bytes| {
                for v6 in [false, true] {
                    let mut p = Noise {
                        bytes,
                        at: 0,
                        sent: 0,
                    };
                    let mut shown = 0;
                    let r = trace(&mut p, &plan, v6, &|| false, &mut |_, _| {
                        shown += 1;
                        Ok(())
                    });
                    assert!(r.is_ok());
                    assert!(shown <= 8 * 3);
                }
            },
        );
    }

    #[test]
    fn meanings_follow_traceroute() {
        let icmp = |t, c| ReplyKind::Icmp {
            icmp_type: t,
            code: c,
            info: 1400,
        };
        let note = |v6, k| meaning(v6, &k).and_then(|m| m.note);
        assert_eq!(note(false, icmp(3, 0)).as_deref(), Some("!N"));
        assert_eq!(note(false, icmp(3, 13)).as_deref(), Some("!X"));
        assert_eq!(note(false, icmp(3, 4)).as_deref(), Some("!F-1400"));
        assert_eq!(note(false, icmp(3, 99)).as_deref(), Some("!<99>"));
        assert_eq!(note(false, icmp(12, 0)).as_deref(), Some("!<12-0>"));
        assert_eq!(note(true, icmp(1, 3)).as_deref(), Some("!H"));
        assert_eq!(note(true, icmp(1, 1)).as_deref(), Some("!X"));
        assert_eq!(
            meaning(true, &icmp(1, 4)),
            Some(Meaning {
                last: true,
                note: None
            })
        );
        assert_eq!(meaning(false, &icmp(5, 1)), None);
        assert!(!meaning(false, &icmp(11, 0)).unwrap().last);
    }
}
