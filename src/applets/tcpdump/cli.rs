//! `tcpdump` flags (tcpdump 4.99) -> a typed configuration. Pure.

use crate::error::{Error, Parsed, Result};
use clap::{Arg, ArgAction, Command};
use std::ffi::OsString;
use std::net::IpAddr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    In,
    Out,
    InOut,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// `-i`: an interface name or `any`; None: the first one that is up, as tcpdump picks.
    pub interface: Option<String>,
    pub list_interfaces: bool,
    pub numeric: bool,
    pub count: Option<u64>,
    pub snaplen: u32,
    pub write: Option<String>,
    pub read: Option<String>,
    pub line_buffered: bool,
    pub packet_buffered: bool,
    pub eflag: bool,
    pub qflag: bool,
    /// 0 none, 1 -t, 2 -tt, 3 -ttt, 4 -tttt, 5 -ttttt; default is 0 meaning the time of day.
    pub tflag: u8,
    pub vflag: u8,
    /// 1 `-x`, 2 `-xx` (with the link header).
    pub xflag: u8,
    pub big_x: u8,
    pub aflag: bool,
    pub direction: Direction,
    pub promiscuous: bool,
    pub absolute_seq: bool,
    pub number: bool,
    /// `-d`: print the compiled program and exit.
    pub dump_program: bool,
    /// `-B`: the kernel buffer in KiB.
    pub buffer_kib: Option<u32>,
    pub filter: String,
    /// debugbox: the pod whose traffic to capture (the host-side interface routing to it).
    pub pod_ip: Option<IpAddr>,
    pub duration: Option<f64>,
    pub json: bool,
}

pub fn command() -> Command {
    let flag = |name: &'static str, short: char, help: &'static str| {
        Arg::new(name)
            .short(short)
            .action(ArgAction::SetTrue)
            .help(help)
    };
    let count = |name: &'static str, short: char, help: &'static str| {
        Arg::new(name)
            .short(short)
            .action(ArgAction::Count)
            .help(help)
    };
    Command::new("tcpdump")
        .about("capture and print packets, tcpdump compatible: filters compiled to BPF in the kernel, pcap in and out")
        .override_usage("tcpdump [-AdDeflLnNOpqStuUvxX#] [-B size] [-c count] [-i interface] [-Q in|out|inout]\n               [-r file] [-s snaplen] [-w file] [--pod-ip IP] [--duration SECONDS] [-j] [expression]")
        .disable_version_flag(true)
        .args_override_self(true)
        .arg(flag("ascii", 'A', "print each packet (minus its link header) in ASCII"))
        .arg(Arg::new("buffer").short('B').long("buffer-size").value_name("KiB").help("kernel buffer size in KiB"))
        .arg(Arg::new("count").short('c').value_name("count").help("exit after receiving count packets"))
        .arg(flag("dump", 'd', "print the compiled filter program and exit"))
        .arg(flag("list", 'D', "print the interfaces tcpdump can capture on"))
        .arg(flag("link", 'e', "print the link-level header on each line"))
        .arg(Arg::new("interface").short('i').long("interface").value_name("interface").help("listen on interface (any: all of them)"))
        .arg(flag("line", 'l', "make stdout line buffered"))
        .arg(count("numeric", 'n', "don't convert addresses and ports to names"))
        .arg(flag("nopromisc", 'p', "don't put the interface into promiscuous mode"))
        .arg(flag("quick", 'q', "print less protocol information"))
        .arg(Arg::new("direction").short('Q').long("direction").value_name("in|out|inout").help("capture only packets received, sent, or both"))
        .arg(Arg::new("read").short('r').value_name("file").help("read packets from a pcap file (- for stdin)"))
        .arg(flag("absolute", 'S', "print absolute TCP sequence numbers"))
        .arg(Arg::new("snaplen").short('s').long("snapshot-length").value_name("snaplen").help("capture at most snaplen bytes of each packet (0: 262144)"))
        .arg(count("time", 't', "-t no time, -tt epoch seconds, -ttt delta, -tttt date, -ttttt since the first"))
        .arg(flag("packet_buffered", 'U', "flush the output after each packet (with -w: each packet written)"))
        .arg(count("verbose", 'v', "more protocol detail (-v, -vv)"))
        .arg(Arg::new("write").short('w').value_name("file").help("write the raw packets to a pcap file (- for stdout)"))
        .arg(count("hex", 'x', "print each packet in hex (-xx: with its link header)"))
        .arg(count("hexascii", 'X', "print each packet in hex and ASCII (-XX: with its link header)"))
        .arg(flag("number", '#', "print a packet number at the start of each line"))
        .arg(flag("version", 'V', "print the version and exit").long("version"))
        .arg(Arg::new("pod_ip").long("pod-ip").value_name("IP").help("capture the traffic of the pod with this IP, on the node's interface that routes to it (debugbox)"))
        .arg(Arg::new("duration").long("duration").value_name("SECONDS").help("stop capturing after SECONDS (debugbox)"))
        .arg(flag("json", 'j', "print one JSON object per packet (debugbox)").long("json"))
        .arg(Arg::new("expression").num_args(0..).trailing_var_arg(true).allow_hyphen_values(true).value_name("expression").help("filter expression (pcap-filter)"))
}

fn number(v: &str, what: &str, max: u64) -> Result<u64> {
    match v.parse::<u64>() {
        Ok(n) if n <= max => Ok(n),
        _ => Err(Error::usage(format!("invalid {what} {v}"))),
    }
}

pub fn parse(args: &[OsString]) -> Result<Parsed<Config>> {
    let argv = std::iter::once(OsString::from("tcpdump")).chain(args.iter().cloned());
    let m = match crate::error::clap_matches(command(), argv, |line| {
        Error::usage(line).hint("tcpdump --help")
    })? {
        Ok(m) => m,
        Err(p) => return Ok(p),
    };
    let count = match m.get_one::<String>("count") {
        Some(v) => match number(v, "packet count", i32::MAX as u64)? {
            0 => return Err(Error::usage(format!("invalid packet count {v}"))),
            n => Some(n),
        },
        None => None,
    };
    let snaplen = match m.get_one::<String>("snaplen") {
        Some(v) => match number(v, "snaplen", 262144)? {
            0 => 262144,
            n => n as u32,
        },
        None => 262144,
    };
    let direction = match m.get_one::<String>("direction").map(String::as_str) {
        None | Some("inout") => Direction::InOut,
        Some("in") => Direction::In,
        Some("out") => Direction::Out,
        Some(other) => {
            return Err(Error::usage(format!("unknown capture direction '{other}'"))
                .hint("-Q in, out or inout"));
        }
    };
    let buffer_kib = match m.get_one::<String>("buffer") {
        Some(v) => Some(number(v, "buffer size", 1 << 22)? as u32),
        None => None,
    };
    let pod_ip = match m.get_one::<String>("pod_ip") {
        Some(v) => Some(
            v.parse::<IpAddr>()
                .map_err(|_| Error::usage(format!("--pod-ip {v}: not an IP address")))?,
        ),
        None => None,
    };
    let duration = match m.get_one::<String>("duration") {
        Some(v) => match v.parse::<f64>() {
            Ok(d) if d > 0.0 && d <= 31_536_000.0 => Some(d),
            _ => {
                return Err(Error::usage(format!(
                    "--duration {v}: not a number of seconds"
                )));
            }
        },
        None => None,
    };
    let filter: Vec<String> = m
        .get_many::<String>("expression")
        .map(|v| v.cloned().collect())
        .unwrap_or_default();
    let interface = m.get_one::<String>("interface").cloned();
    if pod_ip.is_some() && interface.is_some() {
        return Err(Error::usage("--pod-ip and -i both name the interface").hint("use one of them"));
    }
    let read = m.get_one::<String>("read").cloned();
    if read.is_some() && (pod_ip.is_some() || interface.is_some()) {
        return Err(
            Error::usage("-r reads a file; -i and --pod-ip capture live").hint("use one of them"),
        );
    }
    Ok(Parsed::Run(Config {
        interface,
        list_interfaces: m.get_flag("list"),
        numeric: m.get_count("numeric") > 0,
        count,
        snaplen,
        write: m.get_one::<String>("write").cloned(),
        read,
        line_buffered: m.get_flag("line"),
        packet_buffered: m.get_flag("packet_buffered"),
        eflag: m.get_flag("link"),
        qflag: m.get_flag("quick"),
        tflag: m.get_count("time").min(5),
        vflag: m.get_count("verbose"),
        xflag: m.get_count("hex"),
        big_x: m.get_count("hexascii"),
        aflag: m.get_flag("ascii"),
        direction,
        promiscuous: !m.get_flag("nopromisc"),
        absolute_seq: m.get_flag("absolute"),
        number: m.get_flag("number"),
        dump_program: m.get_flag("dump"),
        buffer_kib,
        filter: filter.join(" "),
        pod_ip,
        duration,
        json: m.get_flag("json"),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(s: &str) -> Result<Parsed<Config>> {
        let argv: Vec<OsString> = s.split_whitespace().map(OsString::from).collect();
        parse(&argv)
    }

    #[test]
    fn flags_as_tcpdump_reads_them() {
        let Parsed::Run(c) =
            parse_str("-i any -nn -c 5 -s 96 -tttt -vv -XX tcp port 80 and not host 10.0.0.1")
                .unwrap()
        else {
            panic!()
        };
        assert_eq!(c.interface.as_deref(), Some("any"));
        assert!(c.numeric);
        assert_eq!(
            (c.count, c.snaplen, c.tflag, c.vflag, c.big_x),
            (Some(5), 96, 4, 2, 2)
        );
        assert_eq!(c.filter, "tcp port 80 and not host 10.0.0.1");
        let Parsed::Run(c) =
            parse_str("-Q in --pod-ip 10.244.1.5 --duration 2.5 -w - icmp").unwrap()
        else {
            panic!()
        };
        assert_eq!(
            (c.direction, c.duration, c.write.as_deref()),
            (Direction::In, Some(2.5), Some("-"))
        );
        for bad in [
            "-c 0",
            "-c x",
            "-s 300000",
            "-Q sideways",
            "--pod-ip nope",
            "-i a --pod-ip 10.0.0.1",
            "--duration -1",
            "-r f -i eth0",
        ] {
            assert_eq!(parse_str(bad).unwrap_err().code, 2, "{bad}");
        }
    }
}
