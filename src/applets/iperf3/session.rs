//! What client and server share around a test: the control connection with a deadline on every
//! read, the output (text lines as they come, or one JSON document at the end), and the socket
//! options a data stream gets.

use super::engine::{Control, Stream, Test};
use super::proto::{self, Params, State};
use serde_json::{Map, Value, json};
use socket2::Socket;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::os::fd::AsFd;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// How long the peer may take for any control step outside the test itself.
pub const CONTROL_WAIT: Duration = Duration::from_secs(30);

pub struct Ctrl {
    pub stream: TcpStream,
}

fn left(deadline: Instant) -> io::Result<Duration> {
    let d = deadline.saturating_duration_since(Instant::now());
    if d.is_zero() {
        Err(io::Error::from(io::ErrorKind::TimedOut))
    } else {
        Ok(d)
    }
}

impl Ctrl {
    pub fn new(stream: TcpStream) -> io::Result<Ctrl> {
        stream.set_nodelay(true)?;
        Ok(Ctrl { stream })
    }

    /// The next state byte; None when the peer closed the connection.
    pub fn read_state(&mut self, deadline: Instant) -> io::Result<Option<State>> {
        self.stream.set_read_timeout(Some(left(deadline)?))?;
        let mut b = [0u8; 1];
        loop {
            match self.stream.read(&mut b) {
                Ok(0) => return Ok(None),
                Ok(_) => return Ok(Some(State::from_byte(b[0]))),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    return Err(io::Error::from(io::ErrorKind::TimedOut));
                }
                Err(e) => return Err(e),
            }
        }
    }

    pub fn write_state(&mut self, s: State) -> io::Result<()> {
        self.stream.set_write_timeout(Some(CONTROL_WAIT))?;
        self.stream.write_all(&[s.byte()])
    }

    pub fn read_exact(&mut self, buf: &mut [u8], deadline: Instant) -> io::Result<()> {
        self.stream.set_read_timeout(Some(left(deadline)?))?;
        self.stream.read_exact(buf)
    }

    pub fn read_json(&mut self, deadline: Instant) -> io::Result<Value> {
        self.stream.set_read_timeout(Some(left(deadline)?))?;
        proto::read_json(&mut self.stream)
    }

    pub fn write_json(&mut self, v: &Value) -> io::Result<()> {
        self.stream.set_write_timeout(Some(CONTROL_WAIT))?;
        proto::write_json(&mut self.stream, v)
    }

    /// Whether something (a state byte, or the end) is waiting, within `timeout`.
    pub fn readable(&self, timeout: Duration) -> bool {
        crate::sys::poll::readable(&[self.stream.as_fd()], timeout)
            .map(|r| r.first().copied().unwrap_or(false))
            .unwrap_or(true)
    }
}

/// Text as it comes, or JSON gathered for the end.
pub struct Output {
    pub json: bool,
    title: Option<String>,
    pub start: Map<String, Value>,
    pub connected: Vec<Value>,
    pub intervals: Vec<Value>,
}

impl Output {
    pub fn new(json: bool, title: Option<String>) -> Output {
        let mut start = Map::new();
        start.insert("connected".into(), json!([]));
        start.insert("version".into(), json!(super::version_line()));
        start.insert("system_info".into(), json!(system_info()));
        Output {
            json,
            title,
            start,
            connected: Vec::new(),
            intervals: Vec::new(),
        }
    }

    /// One text line (nothing under -J), with -T's prefix.
    pub fn line(&self, text: &str) {
        if self.json {
            return;
        }
        let mut out = io::stdout().lock();
        let _ = match &self.title {
            Some(t) => writeln!(out, "{t}:  {text}"),
            None => writeln!(out, "{text}"),
        };
        let _ = out.flush();
    }

    /// A data stream is connected: its line, or its entry in `start.connected`.
    pub fn stream(&mut self, s: &Stream) {
        self.line(&super::report::connected(s.fd, &s.local, &s.remote));
        let ip = super::report::plain_ip;
        self.connected
            .push(json!({"socket": s.fd, "local_host": ip(s.local.ip()),
            "local_port": s.local.port(), "remote_host": ip(s.remote.ip()),
            "remote_port": s.remote.port()}));
    }

    /// The test starts: `start.test_start`.
    pub fn test_start(&mut self, p: &Params) {
        self.start.insert(
            "test_start".into(),
            json!({"protocol": if p.udp { "UDP" } else { "TCP" }, "num_streams": p.parallel,
                   "blksize": p.len, "omit": p.omit, "duration": p.time, "bytes": p.bytes,
                   "blocks": p.blocks, "reverse": p.reverse as i32, "tos": 0,
                   "target_bitrate": p.bandwidth}),
        );
    }

    pub fn lines(&self, lines: &[String]) {
        for l in lines {
            self.line(l);
        }
    }

    /// The JSON document (under -J): start, intervals, end and, when it failed, the error.
    pub fn finish(&mut self, end: Option<Value>, error: Option<&str>) {
        if !self.json {
            return;
        }
        self.start
            .insert("connected".into(), Value::Array(self.connected.clone()));
        let mut top = Map::new();
        top.insert("start".into(), Value::Object(self.start.clone()));
        top.insert("intervals".into(), Value::Array(self.intervals.clone()));
        top.insert("end".into(), end.unwrap_or_else(|| json!({})));
        if let Some(t) = &self.title {
            top.insert("title".into(), json!(t));
        }
        if let Some(e) = error {
            top.insert("error".into(), json!(e));
        }
        let text = serde_json::to_string_pretty(&Value::Object(top)).unwrap_or_default();
        let mut out = io::stdout().lock();
        let _ = writeln!(out, "{text}");
        let _ = out.flush();
    }
}

/// `uname -a`'s first fields, as iperf3's system_info: "Linux HOST RELEASE VERSION MACHINE".
pub fn system_info() -> String {
    let read = |f: &str| {
        crate::sys::files::read_bounded(std::path::Path::new(f), 4096)
            .map(|b| String::from_utf8_lossy(&b).trim().to_string())
            .unwrap_or_default()
    };
    format!(
        "{} {} {} {} {}",
        read("/proc/sys/kernel/ostype"),
        read("/proc/sys/kernel/hostname"),
        read("/proc/sys/kernel/osrelease"),
        read("/proc/sys/kernel/version"),
        std::env::consts::ARCH
    )
}

/// The options a data stream gets before it connects or once accepted: socket buffers (-w),
/// MSS (-M), no delay (-N), congestion control (-C). Returns the algorithm in use.
pub fn stream_options(sock: &Socket, p: &Params) -> io::Result<Option<String>> {
    if p.window > 0 {
        sock.set_send_buffer_size(p.window as usize)?;
        sock.set_recv_buffer_size(p.window as usize)?;
    }
    if p.udp {
        return Ok(None);
    }
    if p.mss > 0 {
        sock.set_tcp_mss(p.mss)?;
    }
    if p.nodelay {
        sock.set_tcp_nodelay(true)?;
    }
    if let Some(c) = &p.congestion {
        sock.set_tcp_congestion(c.as_bytes())?;
    }
    Ok(sock.tcp_congestion().ok().map(|b| {
        String::from_utf8_lossy(&b)
            .trim_end_matches('\0')
            .to_string()
    }))
}

/// The control thread's clock during a test: an interval report whenever one is due, and the
/// end of patience when receiving stays idle past --rcv-timeout.
pub struct Pacer {
    step: Duration,
    next: Instant,
    receiving: bool,
    last_rx: (u64, Instant),
    rcv_timeout: Duration,
}

impl Pacer {
    /// `interval` 0 reports no interval before the last.
    pub fn new(test: &Test, ctl: &Control, interval: f64, rcv_timeout: Duration) -> Pacer {
        let step = Duration::from_secs_f64(if interval > 0.0 { interval } else { 3600.0 });
        Pacer {
            step,
            next: test.start + step,
            receiving: test.streams.iter().any(|s| !s.sender),
            last_rx: (ctl.received.load(Ordering::Relaxed), Instant::now()),
            rcv_timeout,
        }
    }

    /// When to look again: the next interval (or the end of -O's warm-up), at most `cap` from
    /// now.
    pub fn wake(&self, cap: Duration, test: &Test) -> Instant {
        let mut at = self.next.min(Instant::now() + cap);
        if test.omitting {
            at = at.min(test.start + Duration::from_secs(test.params.omit as u64));
        }
        at
    }

    /// -O's warm-up ends: forget what was counted, restart the clocks (and the intervals').
    fn end_omit(&mut self, test: &mut Test, ctl: &Control) {
        test.end_omit();
        for c in [&ctl.sent, &ctl.blocks, &ctl.received, &ctl.blocks_received] {
            c.store(0, Ordering::Relaxed);
        }
        self.next = test.start + self.step;
        self.last_rx = (0, Instant::now());
    }

    /// Report an interval if one is due (and the test's end, `until`, has not come), and check
    /// that data still arrives.
    pub fn on_time(
        &mut self,
        test: &mut Test,
        ctl: &Control,
        out: &mut Output,
        until: Option<Instant>,
    ) -> Result<(), String> {
        let now = Instant::now();
        if now >= self.next && until.is_none_or(|u| now < u) {
            test.tick();
            if let Some((lines, v)) = test.interval_report() {
                out.lines(&lines);
                out.intervals.push(v);
            }
            self.next += self.step;
        }
        if test.omitting && test.elapsed() >= test.params.omit as f64 {
            self.end_omit(test, ctl);
        }
        if self.receiving {
            let rx = ctl.received.load(Ordering::Relaxed);
            if rx != self.last_rx.0 {
                self.last_rx = (rx, now);
            } else if now.duration_since(self.last_rx.1) > self.rcv_timeout {
                return Err("idle timeout for receiving data".into());
            }
        }
        Ok(())
    }
}

/// The end of the test on this side: the CPU used, and the last (partial) interval, reported
/// even under -i 0 (then it is the whole test), as iperf3.
pub fn last_interval(test: &mut Test, out: &mut Output) {
    test.tick();
    test.measure_cpu();
    if let Some((lines, v)) = test.interval_report() {
        out.lines(&lines);
        out.intervals.push(v);
    }
}
