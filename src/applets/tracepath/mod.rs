//! `tracepath`: the hops to a host and the path MTU, as iputils' tracepath finds and prints them:
//! one UDP probe at a time with growing TTLs and the DF bit set, as large as the path allows,
//! the routers' answers (time exceeded, fragmentation needed) read from the socket's error queue.
//! No privilege needed. Exit 0 when the destination answered, 1 when not (iputils exits 0).

pub mod cli;
pub mod model;

use crate::error::{EXIT_FAIL, Error, Result, os_text};
use crate::output;
use crate::sys::errqueue::{Pmtudisc, QueuedError};
use crate::sys::probe::UdpProbe;
use crate::sys::process;
use crate::trace;
use cli::Config;
use model::{Event, Line};
use nix::sys::time::TimeSpec;
use nix::time::{ClockId, clock_gettime};
use std::ffi::OsString;
use std::io::{self, Write};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

pub use cli::command;

/// The probe's own header, at the start of its data: the TTL it was sent with and when.
const PROBE_HEADER: usize = 24;
const HISTORY: usize = 64;

fn now() -> TimeSpec {
    clock_gettime(ClockId::CLOCK_MONOTONIC).unwrap_or(TimeSpec::new(0, 0))
}

fn since(then: TimeSpec) -> Duration {
    let d = now() - then;
    if d.tv_sec() < 0 {
        return Duration::ZERO;
    }
    Duration::new(d.tv_sec() as u64, d.tv_nsec() as u32)
}

/// The probe header a router quoted back: (ttl, send time), or None when it is garbled.
fn quoted_header(q: &[u8]) -> Option<Option<(u32, TimeSpec)>> {
    let b = q.get(..PROBE_HEADER)?;
    let ttl = u32::from_ne_bytes(b[0..4].try_into().ok()?);
    let sec = i64::from_ne_bytes(b[8..16].try_into().ok()?);
    let nsec = i64::from_ne_bytes(b[16..24].try_into().ok()?);
    if ttl == 0 || (sec == 0 && nsec == 0) {
        return Some(None);
    }
    Some(Some((ttl, TimeSpec::new(sec, nsec))))
}

struct Run<'a, W: Write> {
    cfg: &'a Config,
    sock: UdpProbe,
    dst: IpAddr,
    v6: bool,
    ttl: u32,
    mtu: u32,
    overhead: u32,
    history: [(u32, TimeSpec); HISTORY],
    slot: usize,
    hops_to: Option<u32>,
    hops_back: Option<i64>,
    reached: bool,
    lines: Vec<Line>,
    out: &'a mut W,
    names: &'a mut dyn FnMut(IpAddr) -> String,
}

/// What reading the error queue came to: nothing, progress (go on), or the end of the trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Progress {
    Nothing,
    Some,
    Done,
}

impl<W: Write> Run<'_, W> {
    fn emit(&mut self, line: Line) -> io::Result<()> {
        if !self.cfg.json {
            self.out.write_all(line.text().as_bytes())?;
            self.out.flush()?;
        }
        self.lines.push(line);
        Ok(())
    }

    fn shown(&mut self, addr: IpAddr) -> String {
        let numeric = addr.to_string();
        if self.cfg.numeric {
            let both = self.cfg.both.then(|| (self.names)(addr));
            model::host_column(&numeric, both.as_deref())
        } else {
            let name = (self.names)(addr);
            model::host_column(&name, self.cfg.both.then_some(numeric.as_str()))
        }
    }

    /// Read and print everything on the error queue (iputils' recverr).
    fn read_errors(&mut self) -> io::Result<Progress> {
        let mut progress = Progress::Nothing;
        while let Some(e) = self.sock.recv_error()? {
            progress = Progress::Some;
            if self.one_error(e)? {
                return Ok(Progress::Done);
            }
        }
        Ok(progress)
    }

    /// One error-queue entry; true when it ends the trace.
    fn one_error(&mut self, e: QueuedError) -> io::Result<bool> {
        let mut sent_ttl = None;
        let mut sent_at = None;
        let slot = e
            .dest
            .map_or(-1, |d| d.port() as i64 - self.cfg.port as i64);
        if (0..HISTORY as i64 - 1).contains(&slot) && self.history[slot as usize].0 != 0 {
            let (hops, at) = self.history[slot as usize];
            sent_ttl = Some(hops);
            sent_at = Some(at);
            self.history[slot as usize].0 = 0;
        }
        let mut broken = false;
        match quoted_header(&e.quoted) {
            Some(Some((ttl, at))) => {
                sent_ttl = Some(ttl);
                sent_at = Some(at);
            }
            Some(None) => broken = true,
            None => {}
        }
        // iputils guesses the hops back from the TTL the answer came with (-1 when none).
        let back = {
            let r = e.recv_ttl.map_or(-1, |t| t as i64);
            if r <= 64 {
                65 - r
            } else if r <= 128 {
                129 - r
            } else {
                256 - r
            }
        };
        let address = if e.from_network { e.offender } else { None };
        let (ttl, sure) = match (address, sent_ttl) {
            (Some(_), Some(t)) if t > 0 => (t, true),
            _ => (self.ttl, false),
        };
        let shown = match address {
            Some(a) => self.shown(a),
            None => String::new(),
        };
        let exceeded_type = if self.v6 { 3 } else { 11 };
        let time_exceeded = e.from_network && e.icmp_type == exceeded_type && e.code == 0;
        let (event, last) = match e.errno {
            libc::ETIMEDOUT => (Event::Timeout, false),
            libc::EMSGSIZE => {
                self.mtu = e.info;
                (Event::Pmtu { mtu: e.info }, false)
            }
            libc::ECONNREFUSED => {
                self.hops_to = Some(sent_ttl.unwrap_or(self.ttl));
                self.hops_back = Some(back);
                self.reached = true;
                (Event::Reached, true)
            }
            libc::EPROTO => (Event::Unreachable { code: "!P" }, true),
            libc::EHOSTUNREACH if time_exceeded => {
                let asymm = (back >= 0 && back != sent_ttl.unwrap_or(self.ttl) as i64)
                    .then_some(back as u32);
                (Event::Hop { asymm }, false)
            }
            libc::EHOSTUNREACH => (Event::Unreachable { code: "!H" }, true),
            libc::ENETUNREACH => (Event::Unreachable { code: "!N" }, true),
            libc::EACCES => (Event::Unreachable { code: "!A" }, true),
            errno => (Event::Error { errno }, true),
        };
        let line = Line {
            ttl,
            sure,
            address,
            shown,
            rtt: sent_at.map(since),
            broken,
            event,
        };
        self.emit(line)?;
        if let Event::Error { errno } = self
            .lines
            .last()
            .map(|l| l.event.clone())
            .unwrap_or(Event::Timeout)
        {
            eprintln!(
                "tracepath: NET ERROR: {}",
                os_text(&io::Error::from_raw_os_error(errno))
            );
        }
        Ok(last)
    }

    /// Send one probe at the current TTL and read what comes back (iputils' probe_ttl).
    fn probe(&mut self) -> io::Result<Progress> {
        let mut restarts = 0;
        'restart: loop {
            let mut sent = false;
            for _ in 0..10 {
                let size = self
                    .mtu
                    .saturating_sub(self.overhead)
                    .max(PROBE_HEADER as u32) as usize;
                let mut buf = vec![0u8; size];
                let at = now();
                buf[0..4].copy_from_slice(&self.ttl.to_ne_bytes());
                buf[8..16].copy_from_slice(&at.tv_sec().to_ne_bytes());
                buf[16..24].copy_from_slice(&at.tv_nsec().to_ne_bytes());
                self.history[self.slot] = (self.ttl, at);
                let port = self.cfg.port.wrapping_add(self.slot as u16);
                if let Ok(n) = self.sock.send_to(&buf, SocketAddr::new(self.dst, port))
                    && n > 0
                {
                    sent = true;
                    break;
                }
                let r = self.read_errors()?;
                self.history[self.slot].0 = 0;
                match r {
                    Progress::Done => return Ok(Progress::Done),
                    Progress::Some if restarts < 100 => {
                        restarts += 1;
                        continue 'restart;
                    }
                    _ => {}
                }
            }
            self.slot = (self.slot + 1) % HISTORY;
            if !sent {
                let text = format!("{:2}:  send failed\n", self.ttl);
                if !self.cfg.json {
                    self.out.write_all(text.as_bytes())?;
                }
                return Ok(Progress::Done);
            }
            crate::sys::poll::readable(&[self.sock.fd()], Duration::from_secs(1))?;
            // An error pending from an ICMP answer fails this read; the queue tells the rest.
            if let Ok(Some(_)) = self.sock.recv() {
                self.reached = true;
                if !self.cfg.json {
                    writeln!(self.out, "{:2}?: reply received 8)", self.ttl)?;
                }
                return Ok(Progress::Done);
            }
            return self.read_errors();
        }
    }

    fn walk(&mut self) -> io::Result<()> {
        for ttl in 1..=self.cfg.max_hops as u32 {
            if process::interrupted() {
                return Ok(());
            }
            self.ttl = ttl;
            self.sock.set_ttl(ttl as u8)?;
            let mut result = Progress::Nothing;
            let mut tries = 0;
            while tries < 3 {
                let before = self.mtu;
                result = self.probe()?;
                if self.mtu != before {
                    tries = 0;
                    continue;
                }
                match result {
                    Progress::Done => return Ok(()),
                    Progress::Some => break,
                    Progress::Nothing => tries += 1,
                }
            }
            if result == Progress::Nothing {
                self.emit(Line {
                    ttl,
                    sure: true,
                    address: None,
                    shown: String::new(),
                    rtt: None,
                    broken: false,
                    event: Event::NoReply,
                })?;
            }
        }
        if !self.cfg.json {
            writeln!(self.out, "     Too many hops: pmtu {}", self.mtu)?;
        }
        Ok(())
    }
}

pub fn run(args: &[OsString]) -> Result<i32> {
    let Some(cfg) = cli::parse(args)?.or_print(|| {
        format!(
            "tracepath from debugbox {} (iputils 20221126 compatible)\n",
            env!("CARGO_PKG_VERSION")
        )
    })?
    else {
        return Ok(0);
    };
    let dst = trace::resolve(&cfg.target, cfg.v6, false)?;
    let v6 = dst.is_ipv6();
    let overhead = if v6 { 48 } else { 28 };
    let mtu = cfg.length.unwrap_or(if v6 { 128_000 } else { 65_535 });
    if mtu <= overhead {
        return Err(Error::usage(format!(
            "pktlen must be within: {overhead} < value <= 2147483647"
        )));
    }
    let sock = UdpProbe::open(v6, None, None, 0, Pmtudisc::Probe)
        .map_err(|e| Error::local(format!("socket: {}", os_text(&e))))?;
    let mut reverse = crate::dns::Names::system();
    let mut names = |ip: IpAddr| -> String { reverse.lookup(ip).unwrap_or_else(|| ip.to_string()) };
    process::catch_interrupt();
    let stdout = io::stdout();
    let mut out = output::Watched::new(stdout.lock());
    let mut run = Run {
        cfg: &cfg,
        sock,
        dst,
        v6,
        ttl: 1,
        mtu,
        overhead,
        history: [(0, TimeSpec::new(0, 0)); HISTORY],
        slot: 0,
        hops_to: None,
        hops_back: None,
        reached: false,
        lines: Vec::new(),
        out: &mut out,
        names: &mut names,
    };
    let walked = run.walk();
    let (reached, final_mtu, hops_to, hops_back) =
        (run.reached, run.mtu, run.hops_to, run.hops_back);
    let lines = std::mem::take(&mut run.lines);
    walked.map_err(|e| Error::local(format!("probe: {}", os_text(&e))))?;
    let text = if cfg.json {
        output::json_line(&model::PathView {
            target: cfg.target.clone(),
            address: dst,
            pmtu: final_mtu,
            hops: hops_to,
            back: hops_back,
            reached,
            lines,
        })
    } else {
        model::resume(final_mtu, hops_to, hops_back)
    };
    out.write_all(text.as_bytes())
        .and_then(|_| out.flush())
        .map_err(|e| Error::local(format!("cannot write output: {}", os_text(&e))))?;
    Ok(if reached { 0 } else { EXIT_FAIL })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_probe_headers() {
        let mut b = vec![0u8; 30];
        b[0..4].copy_from_slice(&3u32.to_ne_bytes());
        b[8..16].copy_from_slice(&5i64.to_ne_bytes());
        let (ttl, at) = quoted_header(&b).unwrap().unwrap();
        assert_eq!((ttl, at.tv_sec()), (3, 5));
        assert_eq!(quoted_header(&b[..10]), None);
        assert_eq!(quoted_header(&[0u8; 24]), Some(None));
    }

    /// Whatever a router quotes back, reading it never panics.
    #[test]
    fn quoted_headers_survive_any_bytes() {
        crate::testing::check(&[&[0u8; 24][..], &[0xffu8; 40][..]], 20_000, |bytes| {
            let _ = quoted_header(bytes);
        });
    }
}
