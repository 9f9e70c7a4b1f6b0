//! `ping`: iputils-compatible ICMP echo over raw or datagram sockets, and `--tcp PORT` connect
//! probes for pods without privileges and for ClusterIPs (which answer no ICMP).
//!
//! The send/receive loop talks to a `Prober` (ICMP or TCP, or canned events in tests) and keeps
//! iputils' rules: when to send, how long to linger for the last replies, when `-w` stops it,
//! and what counts as received, duplicate or error.

pub mod cli;
pub mod model;
pub mod parse;

use crate::dns::{self, Resolver};
use crate::error::{EXIT_FAIL, os_text};
use crate::error::{Error, Result};
use crate::output;
use crate::sys::icmp::{IcmpSocket, SocketKind};
use crate::sys::{process, tcp};
use cli::{Config, Family, Source};
use model::{JsonEvent, ReplyLine, RttJson, Stats};
use std::collections::{HashMap, HashSet};
use std::ffi::OsString;
use std::io::{self, Write};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant, SystemTime};

pub use cli::command;

/// Something that arrived for a probe.
#[derive(Debug, Clone)]
pub enum Event {
    Reply {
        seq: u16,
        from: IpAddr,
        /// ICMP message length; None for TCP.
        bytes: Option<usize>,
        ttl: Option<u8>,
        at: SystemTime,
        note: Option<&'static str>,
    },
    /// An ICMP error (or a TCP failure) for probe `seq`.
    Error {
        seq: u16,
        from: IpAddr,
        text: String,
    },
    /// A local failure not tied to a reply (message too long…).
    Local { text: String },
}

/// Sends probes and collects what comes back.
pub trait Prober {
    fn send(&mut self, seq: u16, at: SystemTime) -> io::Result<()>;
    /// Everything that arrives before `until` (returns early once something did).
    fn wait(&mut self, until: Instant) -> io::Result<Vec<Event>>;
}

/// Where output goes, and how addresses are named (reverse DNS unless -n).
pub struct Sink<'a> {
    pub out: &'a mut dyn Write,
    pub json: bool,
    pub namer: &'a mut dyn FnMut(IpAddr) -> String,
}

impl Sink<'_> {
    fn text(&mut self, s: &str) {
        let _ = self.out.write_all(s.as_bytes());
        let _ = self.out.flush();
    }

    fn event(&mut self, e: &JsonEvent) {
        let line = output::json_line(e);
        self.text(&line);
    }
}

/// What the loop needs to know besides the flags.
pub struct Target {
    pub seq_label: &'static str,
    /// Print `from ADDR:PORT` (TCP probes).
    pub port: Option<u16>,
}

/// The send/receive loop. Returns the statistics and the time from start to the last send.
pub fn run_loop(
    cfg: &Config,
    target: &Target,
    prober: &mut dyn Prober,
    sink: &mut Sink,
) -> (Stats, Duration) {
    let mut stats = Stats::default();
    let start = Instant::now();
    let mut next_send = start;
    let mut last_send = start;
    let mut sent: HashMap<u16, SystemTime> = HashMap::new();
    let mut answered: HashSet<u16> = HashSet::new();
    let mut linger_until: Option<Instant> = None;
    let deadline_at = cfg.deadline.map(|d| start + d);
    let max_wait = cfg.timeout.unwrap_or(Duration::from_secs(10));
    // TCP replies always come from the target itself: shown as ADDR:PORT.
    let show = |from: IpAddr, sink: &mut Sink| -> String {
        match target.port {
            Some(p) => SocketAddr::new(from, p).to_string(),
            None => (sink.namer)(from),
        }
    };
    loop {
        if process::interrupted() {
            break;
        }
        if cfg
            .count
            .is_some_and(|c| stats.received + stats.errors >= c)
        {
            break;
        }
        if cfg.deadline.is_some() && stats.errors > 0 {
            break;
        }
        let now = Instant::now();
        if deadline_at.is_some_and(|d| now >= d) || linger_until.is_some_and(|l| now >= l) {
            break;
        }
        // With -w, iputils keeps sending past -c until the deadline.
        let may_send = cfg.count.is_none_or(|c| stats.transmitted < c) || cfg.deadline.is_some();
        if may_send && now >= next_send {
            let seq = (stats.transmitted + 1) as u16;
            if cfg.outstanding && stats.transmitted > 0 {
                let prev = stats.transmitted as u16;
                if !answered.contains(&prev) {
                    if sink.json {
                        sink.event(&JsonEvent::Outstanding { seq: prev });
                    } else {
                        let stamp = cfg.timestamps.then(SystemTime::now);
                        let mut line = stamp.map(model::timestamp_prefix).unwrap_or_default();
                        line.push_str(&format!("no answer yet for {}={prev}\n", target.seq_label));
                        sink.text(&line);
                    }
                }
            }
            let at = SystemTime::now();
            answered.remove(&seq);
            sent.insert(seq, at);
            if let Err(e) = prober.send(seq, at) {
                // iputils: a hard local error still counts as sent, and says why. A packet
                // over the path MTU with -M do is said by the error queue's "local error"
                // line (the kernel queues it with IP_RECVERR), as iputils reads it there.
                if !cfg.quiet && e.raw_os_error() != Some(libc::EMSGSIZE) {
                    eprintln!("ping: sendmsg: {}", os_text(&e));
                }
            }
            stats.transmitted += 1;
            last_send = now;
            next_send = (next_send + cfg.interval).max(now);
            if cfg.count.is_some_and(|c| stats.transmitted >= c) && cfg.deadline.is_none() {
                let wait = if stats.received > 0 {
                    Duration::from_micros((2 * stats.tmax).max(0) as u64).max(cfg.interval)
                } else {
                    max_wait
                };
                linger_until = Some(now + wait);
            }
            continue;
        }
        let mut wake = now + Duration::from_secs(3600);
        if may_send {
            wake = wake.min(next_send);
        }
        if let Some(l) = linger_until {
            wake = wake.min(l);
        }
        if let Some(d) = deadline_at {
            wake = wake.min(d);
        }
        let events = match prober.wait(wake) {
            Ok(ev) => ev,
            Err(e) => {
                eprintln!("ping: recvmsg: {}", os_text(&e));
                break;
            }
        };
        for ev in events {
            match ev {
                Event::Reply {
                    seq,
                    from,
                    bytes,
                    ttl,
                    at,
                    note,
                } => {
                    let Some(sent_at) = sent.get(&seq) else {
                        continue;
                    };
                    let rtt_us = at
                        .duration_since(*sent_at)
                        .map(|d| d.as_micros() as i64)
                        .unwrap_or(0);
                    let dup = !answered.insert(seq);
                    stats.record_reply(rtt_us, dup);
                    if cfg.quiet {
                        continue;
                    }
                    let from_text = show(from, sink);
                    if sink.json {
                        sink.event(&JsonEvent::Reply {
                            seq,
                            from: from_text,
                            bytes,
                            ttl,
                            time_ms: rtt_us as f64 / 1000.0,
                            dup,
                            note,
                        });
                    } else {
                        let line = ReplyLine {
                            stamp: cfg.timestamps.then(SystemTime::now),
                            bytes,
                            from: &from_text,
                            seq_label: target.seq_label,
                            seq,
                            ttl,
                            rtt_us,
                            dup,
                            truncated: bytes.is_some_and(|b| b < cfg.size + 8),
                            note,
                        };
                        sink.text(&line.render());
                    }
                }
                Event::Error { seq, from, text } => {
                    if !sent.contains_key(&seq) {
                        continue;
                    }
                    stats.errors += 1;
                    if cfg.quiet {
                        continue;
                    }
                    let from_text = (sink.namer)(from);
                    if sink.json {
                        sink.event(&JsonEvent::Error {
                            seq,
                            from: from_text,
                            error: text,
                        });
                    } else {
                        let stamp = cfg.timestamps.then(SystemTime::now);
                        sink.text(&model::error_line(
                            stamp,
                            &from_text,
                            target.seq_label,
                            seq,
                            &text,
                        ));
                    }
                }
                Event::Local { text } => {
                    stats.errors += 1;
                    if !cfg.quiet {
                        eprintln!("ping: local error: {text}");
                    }
                }
            }
        }
    }
    (stats, last_send.duration_since(start))
}

/// ICMP echo over one socket.
pub struct IcmpProber {
    sock: IcmpSocket,
    dst: IpAddr,
    /// The IPv6 zone of the destination (interface index; 0: none).
    scope: u32,
    id: u16,
    size: usize,
}

/// iputils' words for a local error from the error queue: the path MTU for a packet too big.
fn local_error_text(errno: i32, info: u32) -> String {
    if errno == libc::EMSGSIZE {
        format!("message too long, mtu={info}")
    } else {
        os_text(&io::Error::from_raw_os_error(errno)).to_lowercase()
    }
}

/// The largest echo payload an IP datagram can carry (65535 bytes less the headers).
fn max_payload(v6: bool) -> usize {
    if v6 { 65535 - 8 } else { 65535 - 20 - 8 }
}

impl Prober for IcmpProber {
    fn send(&mut self, seq: u16, at: SystemTime) -> io::Result<()> {
        if self.size > max_payload(self.sock.v6) {
            // No datagram can hold it: counted as sent and lost, as iputils does.
            return Ok(());
        }
        let micros = at
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_micros() as u64)
            .unwrap_or(0);
        let pkt = parse::echo_request(self.sock.v6, self.id, seq, self.size, micros);
        self.sock.send(&pkt, self.dst, self.scope)
    }

    fn wait(&mut self, until: Instant) -> io::Result<Vec<Event>> {
        loop {
            let mut events = Vec::new();
            while let Some(e) = self.sock.recv_error()? {
                if !e.from_network {
                    events.push(Event::Local {
                        text: local_error_text(e.errno, e.info),
                    });
                    continue;
                }
                let Some((id, seq)) = parse::quoted_echo(&e.quoted, self.sock.v6) else {
                    continue;
                };
                if e.dest.is_some_and(|d| d.ip() != self.dst)
                    || (self.sock.kind == SocketKind::Raw && id != self.id)
                {
                    continue;
                }
                events.push(Event::Error {
                    seq,
                    from: e.offender.unwrap_or(self.dst),
                    text: parse::error_text(self.sock.v6, e.icmp_type, e.code, e.info),
                });
            }
            while let Some(r) = self.sock.recv()? {
                let raw_v4 = self.sock.kind == SocketKind::Raw && !self.sock.v6;
                if self.sock.v6
                    && self.sock.kind == SocketKind::Raw
                    && let Some(e) = parse::icmp6_error(&r.data)
                {
                    if e.id == self.id && IpAddr::V6(e.dest) == self.dst {
                        events.push(Event::Error {
                            seq: e.seq,
                            from: r.from,
                            text: parse::error_text(true, e.icmp_type, e.code, e.info),
                        });
                    }
                    continue;
                }
                let Some(reply) = parse::echo_reply(&r.data, self.sock.v6, raw_v4) else {
                    continue;
                };
                if self.sock.kind == SocketKind::Raw && reply.id != self.id {
                    continue; // another ping's reply
                }
                events.push(Event::Reply {
                    seq: reply.seq,
                    from: r.from,
                    bytes: Some(reply.icmp_len),
                    ttl: reply.ttl.or(r.ttl),
                    at: r.when,
                    note: None,
                });
            }
            if !events.is_empty() {
                return Ok(events);
            }
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() || process::interrupted() {
                return Ok(events);
            }
            self.sock.wait(left)?;
        }
    }
}

/// TCP connect probes: a completed connect is a reply, a refusal is a reply from a live host.
pub struct TcpProber {
    dst: SocketAddr,
    device: Option<String>,
    source: Option<IpAddr>,
    ttl: Option<u8>,
    inflight: Vec<(u16, tcp::Connect, Instant)>,
    /// Probes still connecting are abandoned after this long (their port is filtered).
    give_up: Duration,
    ready: Vec<Event>,
}

impl Prober for TcpProber {
    fn send(&mut self, seq: u16, _at: SystemTime) -> io::Result<()> {
        match tcp::Connect::start(self.dst, self.device.as_deref(), self.source, self.ttl) {
            Ok(c) => self.inflight.push((seq, c, Instant::now())),
            Err(e) => self.ready.push(Event::Error {
                seq,
                from: self.dst.ip(),
                text: tcp_error_text(&e),
            }),
        }
        Ok(())
    }

    fn wait(&mut self, until: Instant) -> io::Result<Vec<Event>> {
        loop {
            let now = Instant::now();
            self.inflight
                .retain(|(_, _, started)| now.duration_since(*started) < self.give_up);
            let mut events = std::mem::take(&mut self.ready);
            if !events.is_empty() {
                return Ok(events);
            }
            let left = until.saturating_duration_since(now);
            if left.is_zero() || process::interrupted() {
                return Ok(events);
            }
            if self.inflight.is_empty() {
                std::thread::sleep(left.min(Duration::from_millis(50)));
                continue;
            }
            let ready = {
                let fds: Vec<_> = self.inflight.iter().map(|(_, c, _)| c.fd()).collect();
                crate::sys::poll::writable(&fds, left)?
            };
            let at = SystemTime::now();
            let mut keep = Vec::new();
            for ((seq, c, started), done) in
                std::mem::take(&mut self.inflight).into_iter().zip(ready)
            {
                if !done {
                    keep.push((seq, c, started));
                    continue;
                }
                match c.result() {
                    Ok(()) => events.push(Event::Reply {
                        seq,
                        from: self.dst.ip(),
                        bytes: None,
                        ttl: None,
                        at,
                        note: None,
                    }),
                    Err(e) if e.raw_os_error() == Some(libc::ECONNREFUSED) => {
                        events.push(Event::Reply {
                            seq,
                            from: self.dst.ip(),
                            bytes: None,
                            ttl: None,
                            at,
                            note: Some(
                                "connection refused: the host is up, nothing listens on the port",
                            ),
                        })
                    }
                    Err(e) => events.push(Event::Error {
                        seq,
                        from: self.dst.ip(),
                        text: tcp_error_text(&e),
                    }),
                }
            }
            self.inflight = keep;
            if !events.is_empty() {
                return Ok(events);
            }
        }
    }
}

fn tcp_error_text(e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(libc::EHOSTUNREACH) => "Destination Host Unreachable".into(),
        Some(libc::ENETUNREACH) => "Destination Net Unreachable".into(),
        Some(libc::ETIMEDOUT) => "Connection timed out".into(),
        _ => os_text(e),
    }
}

fn resolve_error(target: &str, e: &dns::LookupError) -> Error {
    match e {
        dns::LookupError::BadName(why) => {
            Error::usage(format!("{target}: {}", e.gai_message())).hint(why.to_string())
        }
        // iputils exits 2 when the name does not resolve.
        dns::LookupError::TryAgain => Error::local(format!("{target}: {}", e.gai_message()))
            .hint("no usable DNS answer: nslookup --explain NAME shows each query"),
        _ => Error::local(format!("{target}: {}", e.gai_message()))
            .hint("nslookup --explain NAME shows each query"),
    }
}

fn open_error(e: crate::sys::icmp::OpenError, v6: bool) -> Error {
    crate::icmp::open_error(
        e,
        v6,
        "",
        "use ping --tcp PORT, add NET_RAW to the pod, or set the sysctl net.ipv4.ping_group_range=\"0 2147483647\"",
    )
}

pub fn run(args: &[OsString]) -> Result<i32> {
    let Some(cfg) = cli::parse(args, process::is_root())?
        .or_print(|| format!("ping from debugbox {}\n", env!("CARGO_PKG_VERSION")))?
    else {
        return Ok(0);
    };
    // An IPv6 zone (`fe80::1%eth0`) must name an interface, as getaddrinfo checks.
    let zone = match cfg.target.split_once('%') {
        Some((addr, z)) if addr.parse::<std::net::Ipv6Addr>().is_ok() => {
            match crate::sys::netdev::index_of(z) {
                Some(i) => Some((
                    i,
                    crate::sys::netdev::name_of(i).unwrap_or_else(|| z.into()),
                )),
                None => {
                    return Err(Error::usage(format!(
                        "{}: Name or service not known",
                        cfg.target
                    )));
                }
            }
        }
        _ => None,
    };
    let mut resolver = dns::system();
    let family = match cfg.family {
        Family::Any => dns::Family::Any,
        Family::V4 => dns::Family::V4,
        Family::V6 => dns::Family::V6,
    };
    let lookup = resolver
        .lookup_ip(&cfg.target, family)
        .result
        .map_err(|e| resolve_error(&cfg.target, &e))?;
    let (device, source) = match &cfg.source {
        Some(Source::Device(d)) => (Some(d.clone()), None),
        Some(Source::Address(a)) => (None, Some(*a)),
        None => (None, None),
    };
    // getaddrinfo's order; iputils then takes the first address the kernel has a route for.
    let mut route_err = None;
    let sorted = dns::sort::sort(&lookup.addrs, |a| {
        let scope = zone.as_ref().map_or(0, |(i, _)| *i);
        match crate::sys::route::source_for_scoped(a, scope, device.as_deref()) {
            Ok(s) => Some(s),
            Err(e) => {
                route_err = Some(e);
                None
            }
        }
    });
    let Some((dst, Some(route_src))) = sorted.first().copied() else {
        let e = route_err
            .map(|e| os_text(&e))
            .unwrap_or_else(|| "no address".into());
        return Err(Error::local(format!("connect: {e}"))
            .hint("ip route get ADDRESS shows the route the kernel would take"));
    };
    // 0.0.0.0 means this host: iputils pings (and shows) loopback.
    let dst = match dst {
        IpAddr::V4(a) if a.is_unspecified() => IpAddr::from([127, 0, 0, 1]),
        other => other,
    };
    let v6 = dst.is_ipv6();
    // iputils: a literal target is shown numerically; IPv6 always shows what was typed.
    let numeric = cfg.numeric || lookup.literal;
    let host = if lookup.literal || (v6 && cfg.tcp_port.is_none()) {
        cfg.target.clone()
    } else {
        lookup.canonical.clone()
    };

    let mut cache: HashMap<IpAddr, String> = HashMap::new();
    // iputils shows a link-local address with its zone.
    let zoned = |ip: IpAddr| -> String {
        match (ip, &zone) {
            (IpAddr::V6(a), Some((_, name))) if (a.segments()[0] & 0xffc0) == 0xfe80 => {
                format!("{ip}%{name}")
            }
            _ => ip.to_string(),
        }
    };
    let mut namer = |ip: IpAddr| -> String {
        if numeric {
            return zoned(ip);
        }
        cache
            .entry(ip)
            .or_insert_with(|| match resolver.reverse(ip, Duration::from_secs(2)) {
                Some(name) => format!("{name} ({ip})"),
                None => ip.to_string(),
            })
            .clone()
    };

    process::catch_interrupt();
    let stdout = io::stdout();
    let mut lock = output::Watched::new(stdout.lock());
    let shown_src = match (&cfg.source, &device) {
        (Some(_), dev) => Some(format!(
            "from {} {}: ",
            source.unwrap_or(route_src),
            dev.clone().unwrap_or_default()
        )),
        _ => None,
    };
    let (stats, elapsed);
    let target = Target {
        seq_label: if cfg.tcp_port.is_some() {
            "tcp_seq"
        } else {
            "icmp_seq"
        },
        port: cfg.tcp_port,
    };
    if let Some(port) = cfg.tcp_port {
        let header = format!(
            "PING {host} ({dst}) port {port}: TCP connect probes{}.\n",
            shown_src
                .as_ref()
                .map(|s| format!(" {}", s.trim_end_matches(": ")))
                .unwrap_or_default()
        );
        let mut prober = TcpProber {
            dst: SocketAddr::new(dst, port),
            device: device.clone(),
            source,
            ttl: cfg.ttl,
            inflight: Vec::new(),
            give_up: cfg
                .timeout
                .unwrap_or(Duration::from_secs(10))
                .max(cfg.interval),
            ready: Vec::new(),
        };
        emit_start(&cfg, &mut lock, &header, &host, dst, Some(port), "tcp");
        let mut sink = Sink {
            out: &mut lock,
            json: cfg.json,
            namer: &mut namer,
        };
        (stats, elapsed) = run_loop(&cfg, &target, &mut prober, &mut sink);
    } else {
        let sock = IcmpSocket::open(v6, cfg.socket).map_err(|e| open_error(e, v6))?;
        let probe_kind = match sock.kind {
            SocketKind::Raw => "icmp (raw socket)",
            SocketKind::Dgram => "icmp (datagram socket)",
        };
        sock.configure(cfg.ttl, cfg.pmtudisc, device.as_deref(), source)
            .map_err(|e| Error::local(format!("cannot set up the ICMP socket: {}", os_text(&e))))?;
        let shown_dst = match (&zone, v6) {
            (Some((_, name)), _) => format!("{dst}%{name}"),
            (None, true) => namer(dst),
            (None, false) => dst.to_string(),
        };
        let header = if v6 {
            format!(
                "PING {host}({shown_dst}) {}{} data bytes\n",
                shown_src.clone().unwrap_or_default(),
                cfg.size
            )
        } else {
            format!(
                "PING {host} ({dst}) {}{}({}) bytes of data.\n",
                shown_src.clone().unwrap_or_default(),
                cfg.size,
                cfg.size + 28
            )
        };
        emit_start(&cfg, &mut lock, &header, &host, dst, None, probe_kind);
        let id = (std::process::id() as u16) ^ 0x5a5a;
        let mut prober = IcmpProber {
            sock,
            dst,
            scope: zone.as_ref().map_or(0, |(i, _)| *i),
            id,
            size: cfg.size,
        };
        let mut sink = Sink {
            out: &mut lock,
            json: cfg.json,
            namer: &mut namer,
        };
        (stats, elapsed) = run_loop(&cfg, &target, &mut prober, &mut sink);
    }
    if cfg.json {
        let rtt_ms = stats.rtt().map(|(min, avg, max, mdev)| RttJson {
            min: min as f64 / 1000.0,
            avg: avg as f64 / 1000.0,
            max: max as f64 / 1000.0,
            mdev: mdev as f64 / 1000.0,
        });
        let ms = elapsed.as_secs() * 1000 + ((elapsed.subsec_nanos() as u64 + 500_000) / 1_000_000);
        let hint = clusterip_hint(&cfg, &stats, dst, &lookup.canonical, &mut resolver);
        let e = JsonEvent::Summary {
            host: &host,
            addr: dst.to_string(),
            transmitted: stats.transmitted,
            received: stats.received,
            duplicates: stats.repeats,
            errors: stats.errors,
            loss_percent: stats.loss_percent(),
            time_ms: ms,
            rtt_ms,
            hint,
        };
        let _ = lock.write_all(output::json_line(&e).as_bytes());
        let _ = lock.flush();
    } else {
        let _ = lock.write_all(model::summary(&host, &stats, elapsed).as_bytes());
        let _ = lock.flush();
        // After the summary, so the PTR look-up behind the hint never delays it.
        if let Some(h) = clusterip_hint(&cfg, &stats, dst, &lookup.canonical, &mut resolver) {
            eprintln!("{h}");
        }
    }
    // iputils reports a lost output at the end, and fails.
    if lock.failed {
        eprintln!("ping: write error");
        return Ok(EXIT_FAIL);
    }
    // iputils: 0 when any reply came (all of them, under -w), 1 when none, 2 on error.
    let failed = stats.received == 0
        || (cfg.deadline.is_some() && cfg.count.is_some_and(|c| stats.received < c));
    Ok(if failed { EXIT_FAIL } else { 0 })
}

fn emit_start(
    cfg: &Config,
    out: &mut dyn Write,
    header: &str,
    host: &str,
    dst: IpAddr,
    port: Option<u16>,
    probe: &str,
) {
    if cfg.json {
        let e = JsonEvent::Start {
            host,
            addr: dst.to_string(),
            port,
            data_bytes: cfg.size,
            probe,
        };
        let _ = out.write_all(output::json_line(&e).as_bytes());
    } else {
        let _ = out.write_all(header.as_bytes());
    }
    let _ = out.flush();
}

/// After 100% ICMP loss: is the address a Service ClusterIP? (cluster DNS maps it back to
/// `*.svc.<domain>`). A ClusterIP is virtual and never answers ping.
fn clusterip_hint<T: dns::resolver::Transport>(
    cfg: &Config,
    stats: &Stats,
    dst: IpAddr,
    canonical: &str,
    resolver: &mut Resolver<T>,
) -> Option<String> {
    if stats.received > 0 || cfg.tcp_port.is_some() {
        return None;
    }
    let name = if is_service_name(canonical) {
        canonical.to_string()
    } else {
        resolver
            .reverse(dst, Duration::from_millis(500))
            .filter(|n| is_service_name(n))?
    };
    Some(format!(
        "hint: {dst} is {name}, a Service ClusterIP: it is virtual and answers no ICMP, so 100% loss says nothing about the Service. Try ping --tcp PORT {dst} or curl http://{name}:PORT/"
    ))
}

/// `SVC.NS.svc.DOMAIN` (at least two labels before `svc`).
fn is_service_name(name: &str) -> bool {
    let labels: Vec<&str> = name.trim_end_matches('.').split('.').collect();
    labels
        .iter()
        .position(|l| *l == "svc")
        .is_some_and(|i| i >= 2 && i + 1 < labels.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A canned network: replies (or errors) for chosen sequence numbers, after `delay`.
    struct Canned {
        delay: Duration,
        reply_to: fn(u16) -> Option<bool>,
        queue: Vec<(Instant, Event)>,
        sends: u16,
    }

    impl Prober for Canned {
        fn send(&mut self, seq: u16, at: SystemTime) -> io::Result<()> {
            self.sends += 1;
            let from: IpAddr = "10.244.1.10".parse().unwrap();
            match (self.reply_to)(seq) {
                Some(true) => {
                    let ev = Event::Reply {
                        seq,
                        from,
                        bytes: Some(64),
                        ttl: Some(64),
                        at: at + self.delay,
                        note: None,
                    };
                    self.queue.push((Instant::now() + self.delay, ev.clone()));
                    if seq == 2 {
                        self.queue.push((Instant::now() + self.delay, ev)); // a duplicate
                    }
                }
                Some(false) => self.queue.push((
                    Instant::now() + self.delay,
                    Event::Error {
                        seq,
                        from: "10.244.1.5".parse().unwrap(),
                        text: "Destination Host Unreachable".into(),
                    },
                )),
                None => {}
            }
            Ok(())
        }

        fn wait(&mut self, until: Instant) -> io::Result<Vec<Event>> {
            let now = Instant::now();
            let (due, later): (Vec<_>, Vec<_>) = self.queue.drain(..).partition(|(t, _)| *t <= now);
            self.queue = later;
            if due.is_empty() {
                let next = self
                    .queue
                    .iter()
                    .map(|(t, _)| *t)
                    .min()
                    .unwrap_or(until)
                    .min(until);
                std::thread::sleep(next.saturating_duration_since(now));
            }
            Ok(due.into_iter().map(|(_, e)| e).collect())
        }
    }

    fn cfg(count: u64) -> Config {
        Config {
            target: "10.244.1.10".into(),
            count: Some(count),
            interval: Duration::from_millis(10),
            timeout: Some(Duration::from_millis(100)),
            deadline: None,
            size: 56,
            ttl: None,
            pmtudisc: None,
            quiet: false,
            numeric: true,
            timestamps: false,
            outstanding: false,
            source: None,
            family: Family::Any,
            tcp_port: None,
            json: false,
            socket: None,
        }
    }

    fn drive(cfg: &Config, prober: &mut Canned) -> (Stats, String) {
        let mut out = Vec::new();
        let mut namer = |ip: IpAddr| ip.to_string();
        let target = Target {
            seq_label: "icmp_seq",
            port: None,
        };
        let (stats, _) = {
            let mut sink = Sink {
                out: &mut out,
                json: cfg.json,
                namer: &mut namer,
            };
            run_loop(cfg, &target, prober, &mut sink)
        };
        (stats, String::from_utf8(out).unwrap())
    }

    #[test]
    fn replies_duplicates_and_timing() {
        let mut p = Canned {
            delay: Duration::from_millis(1),
            reply_to: |_| Some(true),
            queue: vec![],
            sends: 0,
        };
        let (s, text) = drive(&cfg(3), &mut p);
        assert_eq!((s.transmitted, s.received, s.repeats), (3, 3, 1));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4, "{text}");
        assert!(
            lines[0].starts_with("64 bytes from 10.244.1.10: icmp_seq=1 ttl=64 time=1."),
            "{text}"
        );
        assert!(text.contains("(DUP!)"));
        assert!(s.tmin >= 1000, "RTT comes from the reply time: {}", s.tmin);
    }

    #[test]
    fn silence_lingers_for_w_then_stops() {
        let mut p = Canned {
            delay: Duration::ZERO,
            reply_to: |_| None,
            queue: vec![],
            sends: 0,
        };
        let started = Instant::now();
        let (s, text) = drive(&cfg(2), &mut p);
        assert_eq!((s.transmitted, s.received, s.errors), (2, 0, 0));
        assert!(text.is_empty());
        // -W 0.1 after the last probe, not the default 10 s.
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    #[test]
    fn errors_count_and_print() {
        let mut p = Canned {
            delay: Duration::ZERO,
            reply_to: |_| Some(false),
            queue: vec![],
            sends: 0,
        };
        let (s, text) = drive(&cfg(2), &mut p);
        assert_eq!((s.received, s.errors), (0, 2));
        assert_eq!(
            text,
            "From 10.244.1.5 icmp_seq=1 Destination Host Unreachable\nFrom 10.244.1.5 icmp_seq=2 Destination Host Unreachable\n"
        );
    }

    #[test]
    fn deadline_keeps_sending_past_count_and_outstanding_is_reported() {
        let mut c = cfg(1);
        c.deadline = Some(Duration::from_millis(60));
        c.outstanding = true;
        let mut p = Canned {
            delay: Duration::ZERO,
            reply_to: |seq| if seq >= 3 { Some(true) } else { None },
            queue: vec![],
            sends: 0,
        };
        let (s, text) = drive(&c, &mut p);
        assert!(s.transmitted >= 3, "{s:?}");
        assert!(text.contains("no answer yet for icmp_seq=1"), "{text}");
        assert_eq!(s.received, 1);
    }

    #[test]
    fn json_events() {
        let mut c = cfg(1);
        c.json = true;
        let mut p = Canned {
            delay: Duration::ZERO,
            reply_to: |_| Some(true),
            queue: vec![],
            sends: 0,
        };
        let (_, text) = drive(&c, &mut p);
        let v: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        assert_eq!(v["type"], "reply");
        assert_eq!(v["seq"], 1);
        assert_eq!(v["ttl"], 64);
    }

    #[test]
    fn service_names() {
        assert!(is_service_name("web.default.svc.cluster.local"));
        assert!(is_service_name("web.default.svc.cluster.local."));
        assert!(!is_service_name("svc.cluster.local"));
        assert!(!is_service_name("10-244-1-10.default.pod.cluster.local"));
        assert!(!is_service_name("web.default.svc"));
    }
}
