//! `tcpdump`: capture packets on an interface, on all of them (`any`), or on the node-side
//! interface of a pod (`--pod-ip`), filter them in the kernel with tcpdump's expressions
//! compiled to classic BPF, and print tcpdump 4.99's lines, write pcap (`-w`, `-w -` for a
//! pipe into Wireshark) or read it back (`-r`). Capturing needs CAP_NET_RAW; reading a file
//! needs nothing. Exit 0, or 2 for a usage or local error (no privilege, no such interface, a
//! bad filter or file).

pub mod bpf;
pub mod cli;
pub mod decode;
pub mod filter;
pub mod model;
pub mod pcap;

use crate::error::{EXIT_USAGE, Error, Result, os_text};
use crate::output;
use crate::services::Services;
use crate::sys::capture::{self, Capture, Meta, PACKET_OUTGOING};
use cli::{Config, Direction};
use decode::{
    LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2, LINKTYPE_RAW, Namer, Opts, Printer,
};
use filter::Link;
use std::collections::HashMap;
use std::ffi::OsString;
use std::io::{self, BufWriter, Read, Write};
use std::net::IpAddr;
use std::time::{Duration, Instant};

pub use cli::command;

/// The tcpdump release whose output this follows.
pub const VERSION: &str = "4.99.3";

/// Names as tcpdump prints them: reverse DNS and /etc/services, or numbers under `-n`.
struct SysNamer {
    numeric: bool,
    services: Option<Services>,
    dns: Option<crate::dns::Names>,
    ifnames: HashMap<u32, String>,
}

impl SysNamer {
    fn new(numeric: bool) -> Self {
        SysNamer {
            numeric,
            services: (!numeric).then(Services::system),
            dns: None,
            ifnames: HashMap::new(),
        }
    }
}

impl Namer for SysNamer {
    fn host(&mut self, ip: IpAddr) -> String {
        if self.numeric {
            return ip.to_string();
        }
        let dns = self.dns.get_or_insert_with(crate::dns::Names::system);
        dns.lookup(ip).unwrap_or_else(|| ip.to_string())
    }

    fn port(&mut self, port: u16, udp: bool) -> String {
        match &self.services {
            Some(s) => s
                .name(port, if udp { "udp" } else { "tcp" })
                .map(str::to_string)
                .unwrap_or_else(|| port.to_string()),
            None => port.to_string(),
        }
    }

    fn ifname(&mut self, index: u32) -> String {
        self.ifnames
            .entry(index)
            .or_insert_with(|| crate::sys::netdev::name_of(index).unwrap_or_else(|| "?".into()))
            .clone()
    }
}

fn compile(cfg: &Config, link: Link) -> Result<Vec<bpf::Insn>> {
    let mut resolver: Option<crate::dns::Resolver<crate::dns::SocketTransport>> = None;
    let services = Services::system();
    let mut host = |name: &str| -> Option<Vec<IpAddr>> {
        let r = resolver.get_or_insert_with(crate::dns::system);
        r.lookup_ip(name, crate::dns::Family::Any)
            .result
            .ok()
            .map(|l| l.addrs)
    };
    let port = |name: &str, proto: &str| services.port(name, proto);
    let mut names = filter::Names {
        host: &mut host,
        port: &port,
    };
    filter::compile(&cfg.filter, link, cfg.snaplen, &mut names)
        .map_err(|e| Error::usage(e).hint("see pcap-filter(7) for the expression syntax"))
}

/// Where packets go: lines on stdout, JSON objects, or a pcap file.
struct Sink {
    cfg: Config,
    linktype: u32,
    printer: Printer,
    names: SysNamer,
    out: Box<dyn Write>,
    pcap: Option<pcap::Writer<Box<dyn Write>>>,
    captured: u64,
    first: Option<(u64, u32)>,
    prev: Option<(u64, u32)>,
    zone: Option<(i64, i64)>,
}

/// `b - a` in microseconds (negative when the kernel stamped a packet earlier than the one
/// before it, which tcpdump prints with a minus sign).
fn delta_us(a: (u64, u32), b: (u64, u32)) -> i128 {
    let at = |t: (u64, u32)| t.0 as i128 * 1_000_000 + (t.1 / 1000) as i128;
    at(b) - at(a)
}

impl Sink {
    fn new(cfg: &Config, linktype: u32) -> Result<Sink> {
        let stdout: Box<dyn Write> = Box::new(BufWriter::with_capacity(1 << 16, io::stdout()));
        let pcap = match &cfg.write {
            Some(path) => {
                let target: Box<dyn Write> = if path == "-" {
                    Box::new(BufWriter::with_capacity(1 << 16, io::stdout()))
                } else {
                    let f = std::fs::File::create(path)
                        .map_err(|e| Error::local(format!("{path}: {}", os_text(&e))))?;
                    Box::new(BufWriter::with_capacity(1 << 16, f))
                };
                Some(
                    pcap::Writer::new(target, cfg.snaplen, linktype)
                        .map_err(|e| Error::local(format!("{path}: {}", os_text(&e))))?,
                )
            }
            None => None,
        };
        Ok(Sink {
            cfg: cfg.clone(),
            linktype,
            printer: Printer::new(Opts {
                eflag: cfg.eflag,
                qflag: cfg.qflag,
                vflag: cfg.vflag,
                absolute: cfg.absolute_seq,
            }),
            names: SysNamer::new(cfg.numeric),
            out: stdout,
            pcap,
            captured: 0,
            first: None,
            prev: None,
            zone: None,
        })
    }

    fn time_of_day(&mut self, sec: u64) -> (i64, i64) {
        // The zone's offset, asked again when the hour changes (summer time).
        let hour = sec as i64 / 3600;
        let off = match self.zone {
            Some((h, off)) if h == hour => off,
            _ => {
                let off = capture::utc_offset(sec as i64);
                self.zone = Some((hour, off));
                off
            }
        };
        let local = sec as i64 + off;
        (local.div_euclid(86400), local.rem_euclid(86400))
    }

    fn stamp(&mut self, sec: u64, nsec: u32) -> String {
        let us = nsec / 1000;
        let hms = |t: i64| format!("{:02}:{:02}:{:02}", t / 3600, (t % 3600) / 60, t % 60);
        match self.cfg.tflag {
            1 => String::new(),
            2 => format!("{sec}.{us:06} "),
            3 | 5 => {
                let base = if self.cfg.tflag == 3 {
                    self.prev
                } else {
                    self.first
                };
                let d = base.map_or(0, |b| delta_us(b, (sec, nsec)));
                let sign = if d < 0 { '-' } else { ' ' };
                let d = d.unsigned_abs();
                format!(
                    "{sign}{}.{:06} ",
                    hms((d / 1_000_000) as i64),
                    d % 1_000_000
                )
            }
            4 => {
                let (days, t) = self.time_of_day(sec);
                let c = output::Civil::utc(
                    std::time::UNIX_EPOCH + Duration::from_secs((days * 86400).max(0) as u64),
                );
                format!(
                    "{:04}-{:02}-{:02} {}.{us:06} ",
                    c.year,
                    c.month,
                    c.day,
                    hms(t)
                )
            }
            _ => {
                let (_, t) = self.time_of_day(sec);
                format!("{}.{us:06} ", hms(t))
            }
        }
    }

    /// One packet that passed the filter.
    fn packet(
        &mut self,
        sec: u64,
        nsec: u32,
        wire_len: u32,
        data: &[u8],
        iface: Option<String>,
        dir: Option<&'static str>,
    ) -> io::Result<()> {
        self.captured += 1;
        if let Some(w) = &mut self.pcap {
            w.write(sec as u32, nsec, wire_len, data)?;
            if self.cfg.packet_buffered {
                w.flush()?;
            }
            return Ok(());
        }
        let (line, hdr) = self
            .printer
            .packet(self.linktype, data, wire_len, &mut self.names);
        let stamp = self.stamp(sec, nsec);
        self.first.get_or_insert((sec, nsec));
        self.prev = Some((sec, nsec));
        if self.cfg.json {
            let mut p = model::Packet {
                time: format!("{sec}.{nsec:09}"),
                interface: iface,
                direction: dir,
                length: wire_len,
                captured: data.len(),
                summary: line,
                ..model::Packet::default()
            };
            model::layers(&mut p, self.linktype, data);
            self.out.write_all(output::json_line(&p).as_bytes())?;
        } else {
            let mut text = String::with_capacity(line.len() + 40);
            if self.cfg.number {
                text.push_str(&format!("{:5}  ", self.captured));
            }
            text.push_str(&stamp);
            text.push_str(&line);
            let body = data.get(hdr..).unwrap_or(&[]);
            if self.cfg.big_x > 0 {
                decode::hex_ascii(
                    &mut text,
                    "\n\t",
                    if self.cfg.big_x > 1 { data } else { body },
                );
            } else if self.cfg.xflag > 0 {
                decode::hex(
                    &mut text,
                    "\n\t",
                    if self.cfg.xflag > 1 { data } else { body },
                );
            } else if self.cfg.aflag {
                decode::ascii(&mut text, body);
            }
            text.push('\n');
            self.out.write_all(text.as_bytes())?;
        }
        if self.cfg.line_buffered || self.cfg.packet_buffered {
            self.out.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        if let Some(w) = &mut self.pcap {
            w.flush()?;
        }
        self.out.flush()
    }
}

fn quiet_pipe(e: io::Error) -> Result<()> {
    if e.kind() == io::ErrorKind::BrokenPipe {
        Ok(())
    } else {
        Err(Error::local(os_text(&e)))
    }
}

pub fn run(args: &[OsString]) -> Result<i32> {
    let Some(cfg) = cli::parse(args)?.or_print(|| {
        format!(
            "tcpdump version {VERSION} (debugbox {})\n",
            env!("CARGO_PKG_VERSION")
        )
    })?
    else {
        return Ok(0);
    };
    crate::sys::process::ignore_sigpipe();
    if cfg.list_interfaces {
        return list_interfaces();
    }
    match &cfg.read {
        Some(path) => read_file(&cfg, path),
        None => live(&cfg),
    }
}

fn list_interfaces() -> Result<i32> {
    let mut lines = Vec::new();
    let all = capture::interfaces();
    let mut rank: Vec<(u8, String)> = Vec::new();
    for (_, name, up, running, lo) in &all {
        let state = if *lo {
            "[Up, Running, Loopback]".to_string()
        } else if *up && *running {
            "[Up, Running, Connected]".to_string()
        } else if *up {
            "[Up, Disconnected]".to_string()
        } else {
            "[none]".to_string()
        };
        let order = if *lo {
            2
        } else if *up && *running {
            0
        } else {
            3
        };
        rank.push((order, format!("{name} {state}")));
    }
    rank.push((
        1,
        "any (Pseudo-device that captures on all interfaces) [Up, Running]".into(),
    ));
    rank.sort_by_key(|r| r.0);
    for (i, (_, text)) in rank.iter().enumerate() {
        lines.push(format!("{}.{text}\n", i + 1));
    }
    output::print(&lines.concat())?;
    Ok(0)
}

fn file_link(linktype: u32) -> Option<Link> {
    Some(match linktype {
        LINKTYPE_ETHERNET => Link::Ether,
        LINKTYPE_LINUX_SLL => Link::Sll,
        LINKTYPE_LINUX_SLL2 => Link::Sll2,
        LINKTYPE_RAW => Link::Raw,
        _ => return None,
    })
}

fn read_file(cfg: &Config, path: &str) -> Result<i32> {
    let input: Box<dyn Read> = if path == "-" {
        Box::new(io::BufReader::with_capacity(1 << 16, io::stdin()))
    } else {
        let f = std::fs::File::open(path)
            .map_err(|e| Error::local(format!("{path}: {}", os_text(&e))))?;
        Box::new(io::BufReader::with_capacity(1 << 16, f))
    };
    let format_error = |e: pcap::ReadError| match e {
        pcap::ReadError::Io(e) => Error::local(format!("{path}: {}", os_text(&e))),
        pcap::ReadError::Format(m) => Error::local(m),
    };
    let mut reader = pcap::Reader::new(input).map_err(format_error)?;
    let lt = reader.header.linktype;
    let link = file_link(lt);
    let prog = match link {
        Some(l) => compile(cfg, l)?,
        None if cfg.filter.trim().is_empty() => Vec::new(),
        None => {
            return Err(Error::usage(format!(
                "unsupported data link type {lt} for a filter"
            )));
        }
    };
    if cfg.dump_program {
        output::print(&bpf::listing(&prog))?;
        return Ok(0);
    }
    let (short, long) = decode::linktype_name(lt);
    eprintln!(
        "reading from file {path}, link-type {short} ({long}), snapshot length {}",
        reader.header.snaplen
    );
    let mut sink = Sink::new(cfg, lt)?;
    loop {
        let rec = match reader.next_record() {
            Ok(Some(r)) => r,
            Ok(None) => break,
            Err(e) => {
                sink.flush().or_else(quiet_pipe)?;
                return Err(format_error(e));
            }
        };
        if !prog.is_empty() && bpf::run(&prog, &rec.data, rec.wire_len, bpf::Meta::default()) == 0 {
            continue;
        }
        if let Err(e) = sink.packet(
            rec.sec as u64,
            rec.nsec,
            rec.wire_len,
            &rec.data,
            None,
            None,
        ) {
            return quiet_pipe(e).map(|_| 0);
        }
        if cfg.count.is_some_and(|c| sink.captured >= c) {
            break;
        }
    }
    sink.flush().or_else(quiet_pipe)?;
    Ok(0)
}

/// The interface to capture on: its name, index (None for `any`), and how its frames look.
struct Source {
    name: String,
    index: Option<u32>,
    cooked: bool,
    link: Link,
    linktype: u32,
}

fn source(cfg: &Config) -> Result<Source> {
    let name = match (&cfg.interface, cfg.pod_ip) {
        (Some(i), _) => i.clone(),
        (None, Some(ip)) => {
            let index = crate::sys::route::device_for(ip)
                .map_err(|e| Error::local(format!("--pod-ip {ip}: no route ({})", os_text(&e))))?
                .ok_or_else(|| {
                    Error::local(format!("--pod-ip {ip}: the route names no interface"))
                })?;
            let name = crate::sys::netdev::name_of(index).unwrap_or_default();
            eprintln!(
                "tcpdump: --pod-ip {ip}: capturing on {name}, the interface that routes to it"
            );
            name
        }
        (None, None) => capture::interfaces()
            .into_iter()
            .find(|(_, _, up, running, lo)| *up && *running && !*lo)
            .map(|i| i.1)
            .unwrap_or_else(|| "any".to_string()),
    };
    if name == "any" {
        return Ok(Source {
            name,
            index: None,
            cooked: true,
            link: Link::Cooked,
            linktype: LINKTYPE_LINUX_SLL2,
        });
    }
    let index = crate::sys::netdev::index_of_name(name.as_bytes()).ok_or_else(|| {
        Error::local(format!("{name}: No such device exists"))
            .hint("tcpdump -D lists the interfaces")
    })?;
    let hatype = capture::hardware_type(&name).unwrap_or(1);
    let (cooked, link, linktype) = match hatype {
        // Ethernet and loopback frames carry an Ethernet header.
        1 | 772 => (false, Link::Ether, LINKTYPE_ETHERNET),
        // Tunnels without a link header (tun, wireguard, ipip, sit, gre).
        0xfffe | 768 | 769 | 776 | 778 | 823 => (false, Link::Raw, LINKTYPE_RAW),
        _ => (true, Link::Cooked, LINKTYPE_LINUX_SLL),
    };
    Ok(Source {
        name,
        index: Some(index),
        cooked,
        link,
        linktype,
    })
}

fn permission_error(name: &str, e: &io::Error) -> Error {
    Error::new(
        EXIT_USAGE,
        format!("{name}: capturing needs CAP_NET_RAW, which this process does not have ({})", os_text(e)),
    )
    .hint("run it as root with NET_RAW: the capture node pod in image/k8s/capture.yaml, `kubectl debugbox capture POD`, or kubectl debug --profile=netadmin")
}

/// The record as a file of this link type holds it: a cooked header built from what the
/// kernel said, and a VLAN tag the kernel took off put back where it was.
fn record(src: &Source, m: &Meta, payload: &[u8], out: &mut Vec<u8>) {
    out.clear();
    match src.linktype {
        LINKTYPE_LINUX_SLL2 => {
            let proto = m.vlan.map_or(m.protocol, |v| v.1);
            out.extend_from_slice(&proto.to_be_bytes());
            out.extend_from_slice(&[0, 0]);
            out.extend_from_slice(&m.ifindex.to_be_bytes());
            out.extend_from_slice(&m.hatype.to_be_bytes());
            out.push(m.pkttype);
            out.push(m.halen);
            out.extend_from_slice(&m.addr);
            if let Some((tci, _)) = m.vlan {
                out.extend_from_slice(&tci.to_be_bytes());
                out.extend_from_slice(&m.protocol.to_be_bytes());
            }
            out.extend_from_slice(payload);
        }
        LINKTYPE_LINUX_SLL => {
            out.extend_from_slice(&(m.pkttype as u16).to_be_bytes());
            out.extend_from_slice(&m.hatype.to_be_bytes());
            out.extend_from_slice(&(m.halen as u16).to_be_bytes());
            out.extend_from_slice(&m.addr);
            out.extend_from_slice(&m.protocol.to_be_bytes());
            out.extend_from_slice(payload);
        }
        _ => match m.vlan {
            Some((tci, tpid)) if src.linktype == LINKTYPE_ETHERNET && payload.len() >= 12 => {
                out.extend_from_slice(&payload[..12]);
                out.extend_from_slice(&tpid.to_be_bytes());
                out.extend_from_slice(&tci.to_be_bytes());
                out.extend_from_slice(&payload[12..]);
            }
            _ => out.extend_from_slice(payload),
        },
    }
}

fn live(cfg: &Config) -> Result<i32> {
    let src = source(cfg)?;
    let prog = compile(cfg, src.link)?;
    if cfg.dump_program {
        output::print(&bpf::listing(&prog))?;
        return Ok(0);
    }
    let kernel: Vec<capture::Insn> = prog.iter().map(|i| (i.code, i.jt, i.jf, i.k)).collect();
    // tcpdump's default buffer: 2 MiB.
    let buffer = cfg.buffer_kib.map_or(2 << 20, |k| (k as usize) << 10);
    let mut sock = match Capture::open(src.index, src.cooked, &kernel, buffer, cfg.snaplen) {
        Ok(s) => s,
        Err(e) if matches!(e.raw_os_error(), Some(libc::EPERM | libc::EACCES)) => {
            return Err(permission_error(&src.name, &e));
        }
        Err(e) => return Err(Error::local(format!("{}: {}", src.name, os_text(&e)))),
    };
    if cfg.promiscuous
        && let Some(i) = src.index
    {
        let _ = sock.promiscuous(i);
    }
    let (short, long) = decode::linktype_name(src.linktype);
    if src.name == "any" {
        eprintln!("tcpdump: data link type {short}");
    }
    if cfg.write.is_some() {
        eprintln!(
            "tcpdump: listening on {}, link-type {short} ({long}), snapshot length {} bytes",
            src.name, cfg.snaplen
        );
    } else {
        if cfg.vflag == 0 && !cfg.json {
            eprintln!("tcpdump: verbose output suppressed, use -v[v]... for full protocol decode");
        }
        eprintln!(
            "listening on {}, link-type {short} ({long}), snapshot length {} bytes",
            src.name, cfg.snaplen
        );
    }
    let mut sink = Sink::new(cfg, src.linktype)?;
    crate::sys::process::catch_interrupt_and_term();
    let lo = crate::sys::netdev::index_of_name(b"lo");
    let deadline = cfg
        .duration
        .map(|d| Instant::now() + Duration::from_secs_f64(d));
    let mut buf = vec![0u8; cfg.snaplen as usize + 64];
    let mut rec = Vec::with_capacity(buf.len() + 24);
    let mut ifnames = SysNamer::new(true);
    'outer: loop {
        if crate::sys::process::interrupted() {
            break;
        }
        let mut wait = Duration::from_millis(200);
        if let Some(d) = deadline {
            let now = Instant::now();
            if now >= d {
                break;
            }
            wait = wait.min(d - now);
        }
        let mut failed: Option<io::Error> = None;
        let mut done = false;
        let got = sock.each(&mut buf, wait, &mut |m: &Meta, payload: &[u8]| {
            let outgoing = m.pkttype == PACKET_OUTGOING;
            let skip = match cfg.direction {
                Direction::In => outgoing,
                Direction::Out => !outgoing,
                Direction::InOut => false,
            } || (src.index.is_none() && outgoing && Some(m.ifindex) == lo);
            if skip {
                return true;
            }
            record(&src, m, payload, &mut rec);
            let keep = rec.len().min(cfg.snaplen as usize);
            let wire = m.wire_len + (rec.len() - m.caplen) as u32;
            let (iface, dir) = if cfg.json {
                (
                    Some(ifnames.ifname(m.ifindex)),
                    Some(if outgoing { "out" } else { "in" }),
                )
            } else {
                (None, None)
            };
            if let Err(e) = sink.packet(m.sec, m.nsec, wire, &rec[..keep], iface, dir) {
                failed = Some(e);
                return false;
            }
            if cfg.count.is_some_and(|c| sink.captured >= c) {
                done = true;
                return false;
            }
            true
        });
        if let Err(e) = got {
            sink.flush().or_else(quiet_pipe)?;
            return Err(Error::local(format!("{}: {}", src.name, os_text(&e))));
        }
        if let Some(e) = failed {
            quiet_pipe(e)?;
            break 'outer;
        }
        if done {
            break 'outer;
        }
        if let Err(e) = sink.flush() {
            quiet_pipe(e)?;
            break;
        }
    }
    // As tcpdump: stopped by a signal, a line may have been cut short, so one more newline.
    if crate::sys::process::interrupted() && cfg.write.is_none() && !cfg.json {
        let _ = sink.out.write_all(b"\n");
    }
    if let Err(e) = sink.flush() {
        quiet_pipe(e)?;
    }
    let (received, dropped) = sock.stats();
    eprintln!(
        "{} packet{} captured",
        sink.captured,
        if sink.captured == 1 { "" } else { "s" }
    );
    eprintln!(
        "{received} packet{} received by filter",
        if received == 1 { "" } else { "s" }
    );
    eprintln!(
        "{dropped} packet{} dropped by kernel",
        if dropped == 1 { "" } else { "s" }
    );
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deltas_go_negative_as_tcpdumps() {
        assert_eq!(delta_us((10, 500_000_000), (11, 1_000)), 500_001);
        assert_eq!(delta_us((10, 5_000), (10, 3_000)), -2);
        assert_eq!(delta_us((10, 0), (9, 999_999_000)), -1);
    }

    #[test]
    fn records_carry_the_cooked_header_and_the_vlan_tag_back() {
        let m = Meta {
            caplen: 4,
            wire_len: 4,
            ifindex: 7,
            pkttype: 4,
            protocol: 0x0800,
            hatype: 1,
            halen: 6,
            addr: [1, 2, 3, 4, 5, 6, 0, 0],
            vlan: None,
            ..Meta::default()
        };
        let any = Source {
            name: "any".into(),
            index: None,
            cooked: true,
            link: Link::Cooked,
            linktype: LINKTYPE_LINUX_SLL2,
        };
        let mut out = Vec::new();
        record(&any, &m, &[0x45, 0, 0, 4], &mut out);
        assert_eq!(&out[..12], &[8, 0, 0, 0, 0, 0, 0, 7, 0, 1, 4, 6]);
        assert_eq!(out.len(), 24);
        let eth = Source {
            name: "eth0".into(),
            index: Some(2),
            cooked: false,
            link: Link::Ether,
            linktype: LINKTYPE_ETHERNET,
        };
        let tagged = Meta {
            vlan: Some((0x2005, 0x8100)),
            ..m
        };
        let frame: Vec<u8> = (0..20).collect();
        record(&eth, &tagged, &frame, &mut out);
        assert_eq!(&out[12..16], &[0x81, 0x00, 0x20, 0x05]);
        assert_eq!(&out[16..], &frame[12..]);
    }
}
