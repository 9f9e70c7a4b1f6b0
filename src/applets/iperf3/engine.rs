//! The data path of a test, shared by client and server: one thread per stream sending or
//! receiving (TCP in large writes, UDP with iperf3's packet header, paced to the bit rate), the
//! counters they keep, and the interval and summary figures iperf3 reports, read by the control
//! thread. Every socket call has a short timeout so the threads see the end of the test.

use super::proto::{self, Params, Results, StreamResult};
use super::report::{self, Header, Line, Tail};
use crate::sys::{tcpinfo, zerocopy};
use serde_json::{Value, json};
use socket2::Socket;
use std::io::{self, ErrorKind};
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How often a blocked send or receive looks at the test's state.
const TICK: Duration = Duration::from_millis(100);

/// What one stream's thread counts.
#[derive(Debug, Default)]
pub struct Counters {
    pub bytes: AtomicU64,
    pub blocks: AtomicU64,
    /// UDP: packets sent, or the highest sequence number received.
    pub packets: AtomicU64,
    pub lost: AtomicU64,
    pub out_of_order: AtomicU64,
    /// Seconds, as f64 bits.
    pub jitter: AtomicU64,
    pub error: Mutex<Option<String>>,
}

impl Counters {
    fn jitter(&self) -> f64 {
        f64::from_bits(self.jitter.load(Ordering::Relaxed))
    }
}

/// The test's state as the stream threads see it.
#[derive(Debug, Default)]
pub struct Control {
    /// Senders stop.
    pub stop: AtomicBool,
    /// Receivers count what arrives (only while the test runs, as iperf3).
    pub counting: AtomicBool,
    /// Receivers stop (their sockets are about to close).
    pub quit: AtomicBool,
    pub sent: AtomicU64,
    pub blocks: AtomicU64,
    pub received: AtomicU64,
    pub blocks_received: AtomicU64,
}

/// One interval of one stream.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Interval {
    pub start: f64,
    pub end: f64,
    pub bytes: u64,
    pub retransmits: i64,
    pub snd_cwnd: u64,
    pub snd_wnd: u64,
    pub rtt: u64,
    pub rttvar: u64,
    pub pmtu: u64,
    pub packets: i64,
    pub lost: i64,
    pub out_of_order: i64,
    pub jitter: f64,
    /// Measured during -O's warm-up: reported, not counted.
    pub omitted: bool,
}

/// A stream's counters at one moment: bytes, packets, lost, out of order.
type Reading = (u64, u64, u64, u64);

pub struct Stream {
    pub sock: Arc<Socket>,
    pub fd: i32,
    pub id: i64,
    pub sender: bool,
    pub local: SocketAddr,
    pub remote: SocketAddr,
    pub counters: Arc<Counters>,
    pub intervals: Vec<Interval>,
    last: Reading,
    /// The counters when -O's warm-up ended: what the test counts starts there.
    base: Reading,
    pub retransmits: i64,
    prev_total_retrans: u64,
    pub max_snd_cwnd: u64,
    pub max_snd_wnd: u64,
    pub max_rtt: u64,
    pub min_rtt: u64,
    sum_rtt: u64,
    count_rtt: u64,
    /// The other side's figures for this stream, from its results.
    pub peer: Option<StreamResult>,
}

impl Stream {
    pub fn new(sock: Socket, index: usize, sender: bool) -> io::Result<Stream> {
        let local = sock
            .local_addr()?
            .as_socket()
            .ok_or_else(|| io::Error::other("no local address"))?;
        let remote = sock
            .peer_addr()?
            .as_socket()
            .ok_or_else(|| io::Error::other("no peer address"))?;
        Ok(Stream {
            fd: sock.as_raw_fd(),
            sock: Arc::new(sock),
            id: proto::stream_id(index),
            sender,
            local,
            remote,
            counters: Arc::new(Counters::default()),
            intervals: Vec::new(),
            last: (0, 0, 0, 0),
            base: (0, 0, 0, 0),
            retransmits: 0,
            prev_total_retrans: 0,
            max_snd_cwnd: 0,
            max_snd_wnd: 0,
            max_rtt: 0,
            min_rtt: 0,
            sum_rtt: 0,
            count_rtt: 0,
            peer: None,
        })
    }

    fn read(&self) -> Reading {
        let c = &self.counters;
        (
            c.bytes.load(Ordering::Relaxed),
            c.packets.load(Ordering::Relaxed),
            c.lost.load(Ordering::Relaxed),
            c.out_of_order.load(Ordering::Relaxed),
        )
    }

    /// What the test counts: the counters since the warm-up.
    fn counted(&self) -> Reading {
        let (b, p, l, o) = self.read();
        (
            b - self.base.0,
            p.saturating_sub(self.base.1),
            l.saturating_sub(self.base.2),
            o.saturating_sub(self.base.3),
        )
    }

    /// Close the data connection for the peer (its reads end) while keeping what was counted.
    pub fn close(&self) {
        let _ = self.sock.shutdown(std::net::Shutdown::Both);
    }
}

/// A pattern that compresses poorly, so no middlebox flatters the figures.
fn payload(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15 ^ len as u64;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn quiet(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
    ) || e.raw_os_error() == Some(libc::ENOBUFS)
}

/// Start one thread per stream.
pub fn start(streams: &[Stream], p: &Params, ctl: &Arc<Control>) -> Vec<JoinHandle<()>> {
    streams
        .iter()
        .map(|s| {
            let sock = Arc::clone(&s.sock);
            let c = Arc::clone(&s.counters);
            let ctl = Arc::clone(ctl);
            let p = p.clone();
            let sender = s.sender;
            std::thread::spawn(move || {
                let r = match (p.udp, sender) {
                    (false, true) => tcp_send(&sock, &p, &c, &ctl),
                    (false, false) => tcp_recv(&sock, &p, &c, &ctl),
                    (true, true) => udp_send(&sock, &p, &c, &ctl),
                    (true, false) => udp_recv(&sock, &p, &c, &ctl),
                };
                if let Err(e) = r
                    && let Ok(mut slot) = c.error.lock()
                {
                    *slot = Some(crate::error::os_text(&e));
                }
            })
        })
        .collect()
}

/// Whether -n / -k has been sent (or received).
pub fn budget_spent(p: &Params, ctl: &Control) -> bool {
    (p.bytes > 0
        && (ctl.sent.load(Ordering::Relaxed) >= p.bytes
            || ctl.received.load(Ordering::Relaxed) >= p.bytes))
        || (p.blocks > 0
            && (ctl.blocks.load(Ordering::Relaxed) >= p.blocks
                || ctl.blocks_received.load(Ordering::Relaxed) >= p.blocks))
}

/// Wait until `rate` bits/s allows `sent` bytes; false when the test stopped meanwhile.
fn pace(start: Instant, sent: u64, rate: u64, ctl: &Control) -> bool {
    if rate == 0 {
        return true;
    }
    let due = Duration::from_secs_f64(sent as f64 * 8.0 / rate as f64);
    loop {
        if ctl.stop.load(Ordering::Relaxed) {
            return false;
        }
        let elapsed = start.elapsed();
        if elapsed >= due {
            return true;
        }
        std::thread::sleep((due - elapsed).min(TICK));
    }
}

fn tcp_send(sock: &Socket, p: &Params, c: &Counters, ctl: &Control) -> io::Result<()> {
    sock.set_write_timeout(Some(TICK))?;
    let buf = payload(p.len);
    // Zero copy where the kernel offers it: the block lives in a memory file and sendfile hands
    // its pages to the socket; plain writes where it does not.
    let source = zerocopy::Source::new(&buf).ok();
    let start = Instant::now();
    let mut sent = 0u64;
    while !ctl.stop.load(Ordering::Relaxed) && !budget_spent(p, ctl) {
        if !pace(start, sent, p.bandwidth, ctl) {
            break;
        }
        let r = match &source {
            Some(src) => src.send(sock.as_fd()),
            None => sock.send(&buf),
        };
        match r {
            Ok(n) => {
                sent += n as u64;
                c.bytes.fetch_add(n as u64, Ordering::Relaxed);
                c.blocks.fetch_add(1, Ordering::Relaxed);
                ctl.sent.fetch_add(n as u64, Ordering::Relaxed);
                ctl.blocks.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) if quiet(&e) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn tcp_recv(sock: &Socket, p: &Params, c: &Counters, ctl: &Control) -> io::Result<()> {
    sock.set_read_timeout(Some(TICK))?;
    let len = p.len.max(128 * 1024);
    // What arrives is only counted: spliced through a pipe to /dev/null, never copied to us
    // (read into a buffer where splice is not allowed).
    let sink = zerocopy::Sink::new().ok();
    let mut buf = vec![std::mem::MaybeUninit::<u8>::uninit(); if sink.is_some() { 0 } else { len }];
    while !ctl.quit.load(Ordering::Relaxed) {
        let r = match &sink {
            Some(k) => k.drain(sock.as_fd(), len),
            None => sock.recv(&mut buf),
        };
        match r {
            Ok(0) => return Ok(()),
            Ok(n) => {
                if ctl.counting.load(Ordering::Relaxed) {
                    c.bytes.fetch_add(n as u64, Ordering::Relaxed);
                    c.blocks.fetch_add(1, Ordering::Relaxed);
                    ctl.received.fetch_add(n as u64, Ordering::Relaxed);
                    ctl.blocks_received.fetch_add(1, Ordering::Relaxed);
                }
            }
            Err(e) if quiet(&e) => {}
            // The peer closing first is how a test ends.
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return Ok(()),
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn wall_clock() -> (u32, u32) {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    (d.as_secs() as u32, d.subsec_micros())
}

fn udp_send(sock: &Socket, p: &Params, c: &Counters, ctl: &Control) -> io::Result<()> {
    sock.set_write_timeout(Some(TICK))?;
    let mut buf = payload(p.len.max(16));
    let start = Instant::now();
    let mut sent = 0u64;
    let mut seq = 0u64;
    while !ctl.stop.load(Ordering::Relaxed) && !budget_spent(p, ctl) {
        if !pace(start, sent, p.bandwidth, ctl) {
            break;
        }
        let (secs, usecs) = wall_clock();
        proto::udp_header(&mut buf, secs, usecs, seq + 1, p.udp_counters_64bit);
        match sock.send(&buf) {
            Ok(n) => {
                seq += 1;
                sent += n as u64;
                c.packets.store(seq, Ordering::Relaxed);
                c.bytes.fetch_add(n as u64, Ordering::Relaxed);
                c.blocks.fetch_add(1, Ordering::Relaxed);
                ctl.sent.fetch_add(n as u64, Ordering::Relaxed);
                ctl.blocks.fetch_add(1, Ordering::Relaxed);
            }
            // The receiver not there yet or gone: iperf3 goes on too.
            Err(e) if quiet(&e) || e.kind() == ErrorKind::ConnectionRefused => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// The receiver's bookkeeping for one UDP packet, as iperf_udp_recv: sequence gaps are losses,
/// a late packet is out of order and cancels a loss, jitter per RFC 1889.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct UdpTally {
    pub highest: u64,
    pub lost: u64,
    pub out_of_order: u64,
    pub jitter: f64,
    prev_transit: Option<f64>,
}

impl UdpTally {
    pub fn packet(&mut self, seq: u64, transit: f64) {
        if seq > self.highest {
            if seq > self.highest + 1 {
                self.lost += seq - 1 - self.highest;
            }
            self.highest = seq;
        } else {
            self.out_of_order += 1;
            self.lost = self.lost.saturating_sub(1);
        }
        let prev = self.prev_transit.unwrap_or(transit);
        let d = (transit - prev).abs();
        self.prev_transit = Some(transit);
        self.jitter += (d - self.jitter) / 16.0;
    }
}

fn udp_recv(sock: &Socket, p: &Params, c: &Counters, ctl: &Control) -> io::Result<()> {
    sock.set_read_timeout(Some(TICK))?;
    let mut buf = vec![std::mem::MaybeUninit::<u8>::uninit(); p.len.max(proto::MAX_UDP_LEN)];
    let mut tally = UdpTally::default();
    while !ctl.quit.load(Ordering::Relaxed) {
        let n = match sock.recv(&mut buf) {
            Ok(n) => n,
            Err(e) if quiet(&e) || e.kind() == ErrorKind::ConnectionRefused => continue,
            Err(e) => return Err(e),
        };
        if !ctl.counting.load(Ordering::Relaxed) {
            continue;
        }
        // SAFETY: recv initialised the first n bytes.
        let data: &[u8] = unsafe { std::slice::from_raw_parts(buf.as_ptr().cast(), n) };
        c.bytes.fetch_add(n as u64, Ordering::Relaxed);
        c.blocks.fetch_add(1, Ordering::Relaxed);
        ctl.received.fetch_add(n as u64, Ordering::Relaxed);
        ctl.blocks_received.fetch_add(1, Ordering::Relaxed);
        let Some((secs, usecs, seq)) = proto::read_udp_header(data, p.udp_counters_64bit) else {
            continue;
        };
        let (now_s, now_us) = wall_clock();
        let transit = (now_s as f64 - secs as f64) + (now_us as f64 - usecs as f64) / 1e6;
        tally.packet(seq, transit);
        c.packets.store(tally.highest, Ordering::Relaxed);
        c.lost.store(tally.lost, Ordering::Relaxed);
        c.out_of_order.store(tally.out_of_order, Ordering::Relaxed);
        c.jitter.store(tally.jitter.to_bits(), Ordering::Relaxed);
    }
    Ok(())
}

/// One stream's (or the sum's) figures from both sides.
#[derive(Debug, Clone, Default)]
struct Sides {
    sent: u64,
    received: u64,
    sender_time: f64,
    receiver_time: f64,
    retransmits: i64,
    sender_packets: i64,
    receiver_packets: i64,
    lost: i64,
    jitter: f64,
    out_of_order: i64,
}

/// Whose report: the client's or the server's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Client,
    Server,
}

/// A test in progress: its parameters, streams, clocks and what the other side reported.
pub struct Test {
    pub role: Role,
    pub params: Params,
    pub streams: Vec<Stream>,
    pub start: Instant,
    pub interval: f64,
    /// This side counts TCP retransmits (iperf3's sender_has_retransmits).
    pub sender_has_retransmits: bool,
    pub other_side_has_retransmits: bool,
    pub congestion_used: Option<String>,
    pub remote_congestion_used: Option<String>,
    pub cpu: [f64; 3],
    pub remote_cpu: [f64; 3],
    cpu_at_start: (f64, f64, Instant),
    pub format: char,
    pub verbose: bool,
    /// In -O's warm-up.
    pub omitting: bool,
    /// Interval reports made (the first carries the column header).
    reported: usize,
}

impl Test {
    pub fn new(role: Role, params: Params, interval: f64, format: char) -> Test {
        let (u, s) = crate::sys::process::cpu_times();
        let tcp = !params.udp;
        // The client always counts for TCP (iperf3 decides before -R is known); the server
        // when it sends.
        let sender_has_retransmits = match role {
            Role::Client => tcp,
            Role::Server => tcp && (params.reverse || params.bidirectional),
        };
        Test {
            role,
            params,
            streams: Vec::new(),
            start: Instant::now(),
            interval,
            sender_has_retransmits,
            other_side_has_retransmits: false,
            congestion_used: None,
            remote_congestion_used: None,
            cpu: [0.0; 3],
            remote_cpu: [0.0; 3],
            cpu_at_start: (u, s, Instant::now()),
            format,
            verbose: false,
            omitting: false,
            reported: 0,
        }
    }

    pub fn bidir(&self) -> bool {
        self.params.bidirectional
    }

    /// Start the clocks (TEST_START).
    pub fn begin(&mut self) {
        self.omitting = self.params.omit > 0;
        self.begin_clocks();
    }

    /// -O's warm-up is over: what was measured is forgotten, the clocks start again.
    pub fn end_omit(&mut self) {
        self.omitting = false;
        for s in &mut self.streams {
            s.base = s.read();
            s.last = s.base;
            s.intervals.clear();
            s.retransmits = 0;
            (
                s.max_snd_cwnd,
                s.max_snd_wnd,
                s.max_rtt,
                s.min_rtt,
                s.sum_rtt,
                s.count_rtt,
            ) = (0, 0, 0, 0, 0, 0);
        }
        self.begin_clocks();
    }

    fn begin_clocks(&mut self) {
        self.start = Instant::now();
        let (u, s) = crate::sys::process::cpu_times();
        self.cpu_at_start = (u, s, Instant::now());
    }

    pub fn elapsed(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }

    /// CPU use since the start, in percent of the wall time: total, user, system.
    pub fn measure_cpu(&mut self) {
        let (u, s) = crate::sys::process::cpu_times();
        let (u0, s0, t0) = self.cpu_at_start;
        let wall = t0.elapsed().as_secs_f64().max(1e-9);
        let user = 100.0 * (u - u0) / wall;
        let system = 100.0 * (s - s0) / wall;
        self.cpu = [user + system, user, system];
    }

    /// Close an interval on every stream (iperf_stats_callback).
    pub fn tick(&mut self) {
        let now = self.elapsed();
        let tcp_sender_info = !self.params.udp && self.sender_has_retransmits;
        for s in &mut self.streams {
            let c = &s.counters;
            let (bytes, packets, lost, ooo) = s.read();
            let start = s.intervals.last().map(|i| i.end).unwrap_or(0.0);
            let mut iv = Interval {
                start,
                end: now,
                bytes: bytes - s.last.0,
                packets: (packets - s.last.1) as i64,
                lost: lost as i64 - s.last.2 as i64,
                out_of_order: (ooo - s.last.3) as i64,
                jitter: c.jitter(),
                omitted: self.omitting,
                ..Interval::default()
            };
            s.last = (bytes, packets, lost, ooo);
            if tcp_sender_info
                && s.sender
                && let Ok(info) = tcpinfo::tcp_info(s.sock.as_fd())
            {
                let total = info.total_retrans as u64;
                iv.retransmits = total as i64 - s.prev_total_retrans as i64;
                s.retransmits += iv.retransmits;
                s.prev_total_retrans = total;
                iv.snd_cwnd = info.snd_cwnd as u64 * info.snd_mss as u64;
                iv.snd_wnd = info.snd_wnd as u64;
                iv.rtt = info.rtt as u64;
                iv.rttvar = info.rttvar as u64;
                iv.pmtu = info.pmtu as u64;
                s.max_snd_cwnd = s.max_snd_cwnd.max(iv.snd_cwnd);
                s.max_snd_wnd = s.max_snd_wnd.max(iv.snd_wnd);
                s.max_rtt = s.max_rtt.max(iv.rtt);
                if s.min_rtt == 0 || iv.rtt < s.min_rtt {
                    s.min_rtt = iv.rtt;
                }
                s.sum_rtt += iv.rtt;
                s.count_rtt += 1;
            }
            s.intervals.push(iv);
        }
    }

    /// The streams in the order iperf3 reports them: the client's sending streams first, the
    /// server's receiving streams first.
    fn modes(&self) -> Vec<bool> {
        if self.bidir() {
            match self.role {
                Role::Client => vec![true, false],
                Role::Server => vec![false, true],
            }
        } else {
            let sending = match self.role {
                Role::Client => !self.params.reverse,
                Role::Server => self.params.reverse,
            };
            vec![sending]
        }
    }

    fn role_tag(&self, sender: bool) -> String {
        if !self.bidir() {
            return String::new();
        }
        format!(
            "[{}-{}]",
            if sender { "TX" } else { "RX" },
            if self.role == Role::Client { "C" } else { "S" }
        )
    }

    fn interval_header(&self) -> Header {
        if !self.params.udp {
            if self.sender_has_retransmits {
                Header::RetransCwnd
            } else {
                Header::Plain
            }
        } else if self.bidir() {
            Header::Udp
        } else if self.modes() == [true] {
            Header::UdpSender
        } else {
            Header::Udp
        }
    }

    /// The last interval's report (iperf_print_intermediate), text lines or a JSON interval;
    /// nothing when it is a short tail with no data (under 10% of the interval, no bytes).
    pub fn interval_report(&mut self) -> Option<(Vec<String>, Value)> {
        let keep = self.streams.iter().any(|s| {
            s.intervals
                .last()
                .is_some_and(|i| i.end - i.start >= self.interval * 0.10 || i.bytes > 0)
        });
        if !keep {
            return None;
        }
        let first = self.streams.first()?.intervals.last()?.clone();
        let mut lines = Vec::new();
        if self.reported == 0 {
            lines.push(report::header(self.interval_header(), self.bidir()));
        } else if self.params.parallel > 1 {
            lines.push(report::SEPARATOR.to_string());
        }
        let mut json_streams = Vec::new();
        let mut sums = serde_json::Map::new();
        for sender in self.modes() {
            let (mut bytes, mut retrans, mut packets, mut lost, mut jitter) =
                (0u64, 0i64, 0i64, 0i64, 0.0);
            for s in self.streams.iter().filter(|s| s.sender == sender) {
                let Some(i) = s.intervals.last() else {
                    continue;
                };
                let secs = i.end - i.start;
                let rate = if secs > 0.0 {
                    i.bytes as f64 / secs
                } else {
                    0.0
                };
                let (tail, j) = self.interval_tail(s, i, rate);
                let word = if i.omitted { "(omitted)" } else { "" };
                lines.push(self.line(Some(s.fd), sender, (i.start, i.end), i.bytes, tail, word));
                json_streams.push(j);
                bytes += i.bytes;
                retrans += i.retransmits;
                packets += i.packets;
                lost += i.lost;
                jitter += i.jitter;
            }
            let secs = first.end - first.start;
            let rate = if secs > 0.0 { bytes as f64 / secs } else { 0.0 };
            let n = self.params.parallel.max(1) as f64;
            let (tail, mut j) = if !self.params.udp {
                if self.sender_has_retransmits && sender {
                    (Tail::Retrans(retrans), json!({"retransmits": retrans}))
                } else {
                    (Tail::Plain, json!({}))
                }
            } else {
                self.udp_tail(sender, packets, lost, jitter / n)
            };
            if self.params.parallel > 1 {
                let word = if first.omitted { "(omitted)" } else { "" };
                lines.push(self.line(None, sender, (first.start, first.end), bytes, tail, word));
            }
            let mut sum = json!({"start": first.start, "end": first.end, "seconds": secs,
                                 "bytes": bytes, "bits_per_second": rate * 8.0});
            if let (Some(o), Some(extra)) = (sum.as_object_mut(), j.as_object_mut()) {
                o.append(extra);
                o.insert("omitted".into(), json!(first.omitted));
                o.insert("sender".into(), json!(sender));
            }
            sums.insert(self.sum_name(sender, "sum"), sum);
        }
        let mut v = json!({"streams": json_streams});
        if let Some(o) = v.as_object_mut() {
            o.extend(sums);
        }
        self.reported += 1;
        Some((lines, v))
    }

    fn interval_tail(&self, s: &Stream, i: &Interval, rate: f64) -> (Tail, Value) {
        let secs = i.end - i.start;
        let mut j = json!({"socket": s.fd, "start": i.start, "end": i.end, "seconds": secs,
                           "bytes": i.bytes, "bits_per_second": rate * 8.0});
        let (tail, extra) = if !self.params.udp {
            if self.sender_has_retransmits && s.sender {
                (
                    Tail::RetransCwnd(i.retransmits, i.snd_cwnd),
                    json!({"retransmits": i.retransmits, "snd_cwnd": i.snd_cwnd, "snd_wnd": i.snd_wnd,
                           "rtt": i.rtt, "rttvar": i.rttvar, "pmtu": i.pmtu}),
                )
            } else {
                (Tail::Plain, json!({}))
            }
        } else {
            self.udp_tail(s.sender, i.packets, i.lost, i.jitter)
        };
        if let (Some(o), Some(e)) = (j.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                o.insert(k.clone(), v.clone());
            }
            o.insert("omitted".into(), json!(i.omitted));
            o.insert("sender".into(), json!(s.sender));
        }
        (tail, j)
    }

    /// iperf3's JSON names for sums: the server's sending and the client's receiving sums of
    /// a bidirectional test get `_bidir_reverse`.
    fn sum_name(&self, sender: bool, base: &'static str) -> String {
        let reverse = self.bidir()
            && ((self.role == Role::Client && !sender) || (self.role == Role::Server && sender));
        if reverse {
            format!("{base}_bidir_reverse")
        } else {
            base.to_string()
        }
    }

    /// When this side's test ended: the end of the first stream's last interval.
    fn own_end(&self) -> f64 {
        self.streams
            .first()
            .and_then(|s| s.intervals.last())
            .map(|i| i.end)
            .unwrap_or(0.0)
    }

    /// The UDP columns of an interval line and their JSON: the sender's datagrams, or the
    /// receiver's jitter (seconds in, ms out), loss and count. One stream's and a sum's alike.
    fn udp_tail(&self, sender: bool, packets: i64, lost: i64, jitter: f64) -> (Tail, Value) {
        if sender {
            return (
                Tail::UdpSender(packets, self.bidir()),
                json!({"packets": packets}),
            );
        }
        let pct = if packets > 0 {
            100.0 * lost as f64 / packets as f64
        } else {
            0.0
        };
        (
            Tail::Udp(jitter * 1000.0, lost, packets),
            json!({"jitter_ms": jitter * 1000.0, "lost_packets": lost,
                   "packets": packets, "lost_percent": pct}),
        )
    }

    /// This side's results document.
    pub fn results(&self) -> Results {
        let duration = self.own_end();
        let only_receives = self.streams.iter().all(|s| !s.sender);
        Results {
            cpu_util: self.cpu,
            sender_has_retransmits: if only_receives {
                -1
            } else {
                self.sender_has_retransmits as i64
            },
            congestion_used: self.congestion_used.clone(),
            streams: self
                .streams
                .iter()
                .map(|s| {
                    let c = &s.counters;
                    let (bytes, packets, lost, _) = s.counted();
                    StreamResult {
                        id: s.id,
                        bytes,
                        retransmits: if s.sender && self.sender_has_retransmits {
                            s.retransmits
                        } else {
                            -1
                        },
                        jitter: if s.sender { 0.0 } else { c.jitter() },
                        errors: if s.sender { 0 } else { lost as i64 },
                        packets: packets as i64,
                        start_time: 0.0,
                        end_time: duration,
                    }
                })
                .collect(),
        }
    }

    /// Take in the other side's results (get_results).
    pub fn take_results(&mut self, r: &Results) -> Result<(), String> {
        self.remote_cpu = r.cpu_util;
        let sending: Vec<bool> = self.modes();
        if sending == [false] {
            self.sender_has_retransmits = r.sender_has_retransmits == 1;
            self.other_side_has_retransmits = false;
        } else if self.bidir() {
            self.other_side_has_retransmits = r.sender_has_retransmits == 1;
        }
        for pr in &r.streams {
            let Some(s) = self.streams.iter_mut().find(|s| s.id == pr.id) else {
                return Err(format!("no stream {}", pr.id));
            };
            s.peer = Some(pr.clone());
        }
        self.remote_congestion_used = r.congestion_used.clone();
        Ok(())
    }

    /// One report line of this test (its format, its role tags).
    fn line(
        &self,
        who: Option<i32>,
        sender: bool,
        span: (f64, f64),
        bytes: u64,
        tail: Tail,
        word: &'static str,
    ) -> String {
        let secs = span.1 - span.0;
        report::line(
            &Line {
                who,
                role: self.role_tag(sender),
                start: span.0,
                end: span.1,
                bytes: bytes as f64,
                rate: if secs > 0.0 { bytes as f64 / secs } else { 0.0 },
                tail,
                end_word: word,
            },
            self.format,
        )
    }

    /// One stream's totals from both sides: this side's counters and the peer's results.
    fn sides(&self, s: &Stream, own_end: f64) -> Sides {
        let c = &s.counters;
        let (own_bytes, own_packets, own_lost, own_ooo) = s.counted();
        let own_packets = own_packets as i64;
        let peer = s.peer.as_ref();
        let peer_time = peer
            .map(|p| p.end_time - p.start_time)
            .filter(|t| *t > 0.0)
            .unwrap_or(own_end);
        let peer_bytes = peer.map(|p| p.bytes).unwrap_or(0);
        let peer_packets = peer.map(|p| p.packets).unwrap_or(0);
        if s.sender {
            Sides {
                sent: own_bytes,
                received: peer_bytes,
                sender_time: own_end,
                receiver_time: peer_time,
                retransmits: s.retransmits,
                sender_packets: own_packets,
                receiver_packets: peer_packets,
                lost: peer.map(|p| p.errors).unwrap_or(0),
                jitter: peer.map(|p| p.jitter).unwrap_or(0.0),
                out_of_order: 0,
            }
        } else {
            Sides {
                sent: peer_bytes,
                received: own_bytes,
                sender_time: peer_time,
                receiver_time: own_end,
                retransmits: peer.map(|p| p.retransmits).unwrap_or(0),
                sender_packets: peer_packets,
                receiver_packets: own_packets,
                lost: own_lost as i64,
                jitter: c.jitter(),
                out_of_order: own_ooo as i64,
            }
        }
    }

    /// The sender and receiver lines of one stream, or of the sum (`who` None), as far as this
    /// side saw them: the server reports only its own side.
    #[allow(clippy::too_many_arguments)]
    fn summary_lines(
        &self,
        who: Option<i32>,
        sender: bool,
        t: &Sides,
        has_retr: bool,
        jitter: f64,
        lines: &mut Vec<String>,
    ) {
        let server = self.role == Role::Server;
        let (send_tail, recv_tail) = if self.params.udp {
            (
                Tail::Udp(0.0, 0, t.sender_packets),
                Tail::Udp(jitter * 1000.0, t.lost, t.receiver_packets),
            )
        } else if has_retr {
            (Tail::Retrans(t.retransmits), Tail::Plain)
        } else {
            (Tail::Plain, Tail::Plain)
        };
        if !server || sender {
            lines.push(self.line(
                who,
                sender,
                (0.0, t.sender_time),
                t.sent,
                send_tail,
                "sender",
            ));
        }
        if !server || !sender {
            lines.push(self.line(
                who,
                sender,
                (0.0, t.receiver_time),
                t.received,
                recv_tail,
                "receiver",
            ));
        }
    }

    /// The final summary (iperf_print_results): text lines, and the JSON `end` object.
    pub fn summary(&self) -> (Vec<String>, Value) {
        let mut lines = vec![report::SEPARATOR.to_string()];
        let tcp = !self.params.udp;
        let retr_header = self.sender_has_retransmits || self.other_side_has_retransmits;
        lines.push(report::header(
            if !tcp {
                Header::Udp
            } else if retr_header {
                Header::Retrans
            } else {
                Header::Plain
            },
            self.bidir(),
        ));
        let mut end = serde_json::Map::new();
        let mut json_streams = Vec::new();
        let own_end = self.own_end();
        let rate = |bytes: u64, secs: f64| {
            if secs > 0.0 {
                bytes as f64 * 8.0 / secs
            } else {
                0.0
            }
        };
        let pct = |lost: i64, total: i64| {
            if total > 0 {
                100.0 * lost as f64 / total as f64
            } else {
                0.0
            }
        };
        for sender_mode in self.modes() {
            // Who counts retransmits for these streams: this side when it sends them.
            let has_retr = if self.bidir() && !sender_mode {
                self.other_side_has_retransmits
            } else {
                self.sender_has_retransmits
            };
            let mut sum = Sides {
                sender_time: own_end,
                receiver_time: own_end,
                ..Sides::default()
            };
            let mut jitter_sum = 0.0;
            for s in self.streams.iter().filter(|s| s.sender == sender_mode) {
                let t = self.sides(s, own_end);
                self.summary_lines(Some(s.fd), sender_mode, &t, has_retr, t.jitter, &mut lines);
                sum.sent += t.sent;
                sum.received += t.received;
                sum.sender_time = t.sender_time;
                sum.receiver_time = t.receiver_time;
                if has_retr {
                    sum.retransmits += t.retransmits;
                }
                sum.sender_packets += t.sender_packets;
                sum.receiver_packets += t.receiver_packets;
                sum.lost += t.lost;
                jitter_sum += t.jitter;
                let mut js = serde_json::Map::new();
                if tcp {
                    let mut snd = json!({"socket": s.fd, "start": 0.0, "end": t.sender_time, "seconds": t.sender_time,
                                         "bytes": t.sent, "bits_per_second": rate(t.sent, t.sender_time)});
                    if has_retr && let Some(o) = snd.as_object_mut() {
                        o.insert("retransmits".into(), json!(t.retransmits));
                        if s.sender {
                            o.insert("max_snd_cwnd".into(), json!(s.max_snd_cwnd));
                            o.insert("max_snd_wnd".into(), json!(s.max_snd_wnd));
                            o.insert("max_rtt".into(), json!(s.max_rtt));
                            o.insert("min_rtt".into(), json!(s.min_rtt));
                            o.insert(
                                "mean_rtt".into(),
                                json!(s.sum_rtt.checked_div(s.count_rtt).unwrap_or(0)),
                            );
                        }
                    }
                    if let Some(o) = snd.as_object_mut() {
                        o.insert("sender".into(), json!(sender_mode));
                    }
                    js.insert("sender".into(), snd);
                    js.insert(
                        "receiver".into(),
                        json!({"socket": s.fd, "start": 0.0, "end": t.receiver_time, "seconds": own_end,
                               "bytes": t.received, "bits_per_second": rate(t.received, t.receiver_time),
                               "sender": sender_mode}),
                    );
                } else {
                    let packets = if t.sender_packets > 0 {
                        t.sender_packets
                    } else {
                        t.receiver_packets
                    };
                    js.insert(
                        "udp".into(),
                        json!({"socket": s.fd, "start": 0.0, "end": t.sender_time, "seconds": t.sender_time,
                               "bytes": t.sent, "bits_per_second": rate(t.sent, t.sender_time),
                               "jitter_ms": t.jitter * 1000.0, "lost_packets": t.lost, "packets": packets,
                               "lost_percent": pct(t.lost, packets), "out_of_order": t.out_of_order,
                               "sender": sender_mode}),
                    );
                }
                json_streams.push(Value::Object(js));
            }
            let n = self.params.parallel.max(1) as f64;
            if self.params.parallel > 1 {
                self.summary_lines(
                    None,
                    sender_mode,
                    &sum,
                    has_retr,
                    jitter_sum / n,
                    &mut lines,
                );
            }
            let mut sent = json!({"start": 0.0, "end": sum.sender_time, "seconds": sum.sender_time,
                                  "bytes": sum.sent, "bits_per_second": rate(sum.sent, sum.sender_time)});
            let mut received = json!({"start": 0.0, "end": sum.receiver_time, "seconds": sum.receiver_time,
                                      "bytes": sum.received, "bits_per_second": rate(sum.received, sum.receiver_time)});
            if tcp {
                if has_retr && let Some(o) = sent.as_object_mut() {
                    o.insert("retransmits".into(), json!(sum.retransmits));
                }
            } else {
                let total = if sum.sender_packets > 0 {
                    sum.sender_packets
                } else {
                    sum.receiver_packets
                };
                let jitter_ms = jitter_sum / n * 1000.0;
                end.insert(
                    self.sum_name(sender_mode, "sum"),
                    json!({"start": 0.0, "end": sum.receiver_time, "seconds": sum.receiver_time, "bytes": sum.sent,
                           "bits_per_second": rate(sum.received, sum.receiver_time), "jitter_ms": jitter_ms,
                           "lost_packets": sum.lost, "packets": total, "lost_percent": pct(sum.lost, total),
                           "sender": sender_mode}),
                );
                for (v, jitter, lost, packets) in [
                    (&mut sent, 0.0, 0, sum.sender_packets),
                    (&mut received, jitter_ms, sum.lost, sum.receiver_packets),
                ] {
                    if let Some(o) = v.as_object_mut() {
                        o.insert("jitter_ms".into(), json!(jitter));
                        o.insert("lost_packets".into(), json!(lost));
                        o.insert("packets".into(), json!(packets));
                        o.insert("lost_percent".into(), json!(pct(lost, packets)));
                    }
                }
            }
            if let Some(o) = sent.as_object_mut() {
                o.insert("sender".into(), json!(if tcp { sender_mode } else { true }));
            }
            if let Some(o) = received.as_object_mut() {
                o.insert(
                    "sender".into(),
                    json!(if tcp { sender_mode } else { false }),
                );
            }
            end.insert(self.sum_name(sender_mode, "sum_sent"), sent);
            end.insert(self.sum_name(sender_mode, "sum_received"), received);
        }
        let mut out = serde_json::Map::new();
        out.insert("streams".into(), Value::Array(json_streams));
        out.extend(end);
        out.insert(
            "cpu_utilization_percent".into(),
            json!({"host_total": self.cpu[0], "host_user": self.cpu[1], "host_system": self.cpu[2],
                   "remote_total": self.remote_cpu[0], "remote_user": self.remote_cpu[1],
                   "remote_system": self.remote_cpu[2]}),
        );
        if tcp {
            let last_sending = *self.modes().last().unwrap_or(&true);
            let (snd, rcv) = if last_sending {
                (&self.congestion_used, &self.remote_congestion_used)
            } else {
                (&self.remote_congestion_used, &self.congestion_used)
            };
            if let Some(c) = snd {
                out.insert("sender_tcp_congestion".into(), json!(c));
            }
            if let Some(c) = rcv {
                out.insert("receiver_tcp_congestion".into(), json!(c));
            }
        }
        (lines, Value::Object(out))
    }

    /// A stream thread's error, if one ended early.
    pub fn stream_error(&self) -> Option<String> {
        self.streams
            .iter()
            .find_map(|s| s.counters.error.lock().ok().and_then(|e| e.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sequence gaps are losses, a late packet cancels one and counts as out of order; jitter
    /// follows the transit time's changes (RFC 1889).
    #[test]
    fn udp_loss_order_and_jitter_as_iperf3() {
        let mut t = UdpTally::default();
        for seq in [1, 2, 3] {
            t.packet(seq, 0.010);
        }
        assert_eq!((t.highest, t.lost, t.out_of_order), (3, 0, 0));
        assert_eq!(t.jitter, 0.0);
        t.packet(6, 0.010);
        assert_eq!((t.highest, t.lost), (6, 2));
        t.packet(4, 0.026);
        assert_eq!((t.highest, t.lost, t.out_of_order), (6, 1, 1));
        assert!((t.jitter - 0.001).abs() < 1e-9, "{}", t.jitter);
    }

    #[test]
    fn payload_is_not_all_one_byte() {
        let p = payload(4096);
        assert_eq!(p.len(), 4096);
        assert!(p.iter().any(|b| *b != p[0]));
    }
}
