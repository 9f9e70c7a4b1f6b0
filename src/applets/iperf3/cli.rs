//! `iperf3` flags (iperf3 3.12's names and meanings) -> a typed configuration. Pure.

use super::proto;
use super::units::{parse_rate, parse_size};
use crate::error::{Error, Parsed, Result};
use clap::{Arg, ArgAction, Command};
use std::ffi::OsString;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq)]
pub enum Mode {
    Server { one_off: bool },
    Client { host: String },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub mode: Mode,
    pub port: u16,
    pub time: u32,
    /// -O: seconds of warm-up reported as omitted and not counted.
    pub omit: u32,
    pub bytes: u64,
    pub blocks: u64,
    pub parallel: u32,
    pub reverse: bool,
    pub bidir: bool,
    pub udp: bool,
    /// Bits per second per stream (`-b`); None: unlimited for TCP, 1 Mbit/s for UDP.
    pub rate: Option<u64>,
    pub len: Option<usize>,
    pub window: Option<u32>,
    pub mss: Option<u32>,
    pub no_delay: bool,
    pub interval: f64,
    pub json: bool,
    pub verbose: bool,
    /// None: either family; Some(true) IPv6 only, Some(false) IPv4 only.
    pub v6: Option<bool>,
    pub congestion: Option<String>,
    pub connect_timeout: Option<Duration>,
    pub rcv_timeout: Duration,
    pub format: char,
    pub bind: Option<String>,
    pub cport: Option<u16>,
    pub title: Option<String>,
    pub udp_counters_64bit: bool,
    pub idle_timeout: Option<Duration>,
}

pub fn command() -> Command {
    let value = |name: &'static str, short: char, long: &'static str, help: &'static str| {
        Arg::new(name)
            .short(short)
            .long(long)
            .value_name("#")
            .help(help)
    };
    let flag = |name: &'static str, short: char, long: &'static str, help: &'static str| {
        Arg::new(name)
            .short(short)
            .long(long)
            .action(ArgAction::SetTrue)
            .help(help)
    };
    Command::new("iperf3")
        .about("measure throughput between two hosts, speaking iperf3's protocol (client and server)")
        .override_usage("iperf3 [-s|-c host] [options]")
        .disable_version_flag(true)
        .args_override_self(true)
        .arg(value("port", 'p', "port", "server port to listen on/connect to"))
        .arg(value("format", 'f', "format", "format to report: Kbits, Mbits, Gbits, Tbits").value_name("kmgtKMGT"))
        .arg(value("interval", 'i', "interval", "seconds between periodic throughput reports"))
        .arg(flag("verbose", 'V', "verbose", "more detailed output"))
        .arg(flag("json", 'J', "json", "output in JSON format"))
        .arg(Arg::new("json_short").short('j').action(ArgAction::SetTrue).hide(true))
        .arg(Arg::new("bind").short('B').long("bind").value_name("host").help("bind to the interface associated with the address <host>"))
        .arg(Arg::new("rcv-timeout").long("rcv-timeout").value_name("#").help("idle timeout for receiving data (default 120000 ms)"))
        .arg(flag("version", 'v', "version", "show version information and quit"))
        .arg(flag("server", 's', "server", "run in server mode"))
        .arg(flag("one-off", '1', "one-off", "handle one client connection then exit"))
        .arg(Arg::new("idle-timeout").long("idle-timeout").value_name("#").help("restart idle server after # seconds in case it got stuck (default - no timeout)"))
        .arg(Arg::new("client").short('c').long("client").value_name("host").help("run in client mode, connecting to <host>"))
        .arg(flag("udp", 'u', "udp", "use UDP rather than TCP"))
        .arg(Arg::new("connect-timeout").long("connect-timeout").value_name("#").help("timeout for control connection setup (ms)"))
        .arg(value("bitrate", 'b', "bitrate", "target bitrate in bits/sec (0 for unlimited) (default 1 Mbit/sec for UDP, unlimited for TCP)").value_name("#[KMG]"))
        .arg(Arg::new("bandwidth").long("bandwidth").value_name("#[KMG]").hide(true))
        .arg(value("time", 't', "time", "time in seconds to transmit for (default 10 secs)"))
        .arg(value("omit", 'O', "omit", "perform pre-test for N seconds and omit the pre-test statistics").value_name("N"))
        .arg(Arg::new("forceflush").long("forceflush").action(ArgAction::SetTrue).help("force flushing output at every interval (always done)"))
        .arg(value("bytes", 'n', "bytes", "number of bytes to transmit (instead of -t)").value_name("#[KMG]"))
        .arg(value("blockcount", 'k', "blockcount", "number of blocks (packets) to transmit (instead of -t or -n)").value_name("#[KMG]"))
        .arg(value("length", 'l', "length", "length of buffer to read or write (default 128 KB for TCP, dynamic or 1460 for UDP)").value_name("#[KMG]"))
        .arg(Arg::new("cport").long("cport").value_name("port").help("bind to a specific client port (TCP and UDP, default: ephemeral port)"))
        .arg(value("parallel", 'P', "parallel", "number of parallel client streams to run"))
        .arg(flag("reverse", 'R', "reverse", "run in reverse mode (server sends, client receives)"))
        .arg(Arg::new("bidir").long("bidir").action(ArgAction::SetTrue).help("run in bidirectional mode. Client and server send and receive data."))
        .arg(value("window", 'w', "window", "set send/receive socket buffer sizes (indirectly sets TCP window size)").value_name("#[KMG]"))
        .arg(Arg::new("congestion").short('C').long("congestion").value_name("algo").help("set TCP congestion control algorithm"))
        .arg(value("set-mss", 'M', "set-mss", "set TCP maximum segment size (MTU - 40 bytes)"))
        .arg(flag("no-delay", 'N', "no-delay", "set TCP no delay, disabling Nagle's Algorithm"))
        .arg(flag("version4", '4', "version4", "only use IPv4"))
        .arg(flag("version6", '6', "version6", "only use IPv6"))
        .arg(Arg::new("title").short('T').long("title").value_name("str").help("prefix every output line with this string"))
        .arg(Arg::new("udp-counters-64bit").long("udp-counters-64bit").action(ArgAction::SetTrue).help("use 64-bit counters in UDP test packets"))
        .arg(flag("zerocopy", 'Z', "zerocopy", "use a 'zero copy' method of sending data (always on where the kernel allows)"))
}

fn number<T: std::str::FromStr>(v: &str, what: &str) -> Result<T> {
    v.trim()
        .parse::<T>()
        .map_err(|_| Error::usage(format!("parameter error - invalid {what} '{v}'")))
}

pub fn parse(args: &[OsString]) -> Result<Parsed<Config>> {
    let argv = std::iter::once(OsString::from("iperf3")).chain(args.iter().cloned());
    let m = match crate::error::clap_matches(command(), argv, |line| {
        Error::usage(line).hint("iperf3 [-s|-c host] [options]")
    })? {
        Ok(m) => m,
        Err(p) => return Ok(p),
    };
    let get = |k: &str| m.get_one::<String>(k).map(String::as_str);
    let mode = match (m.get_flag("server"), get("client")) {
        (true, Some(_)) => {
            return Err(Error::usage(
                "parameter error - cannot be both server and client",
            ));
        }
        (true, None) => Mode::Server {
            one_off: m.get_flag("one-off"),
        },
        (false, Some(h)) => Mode::Client {
            host: h.to_string(),
        },
        (false, None) => {
            return Err(Error::usage(
                "parameter error - must either be a client (-c) or server (-s)",
            )
            .hint("iperf3 [-s|-c host] [options]"));
        }
    };
    if m.get_flag("version4") && m.get_flag("version6") {
        return Err(Error::usage(
            "parameter error - only one of -4 and -6 may be given",
        ));
    }
    let port = match get("port") {
        Some(v) => number::<u16>(v, "port")?,
        None => proto::DEFAULT_PORT,
    };
    let size = |k: &str, what: &str| -> Result<Option<f64>> {
        match get(k) {
            Some(v) => parse_size(v)
                .map(Some)
                .ok_or_else(|| Error::usage(format!("parameter error - invalid {what} '{v}'"))),
            None => Ok(None),
        }
    };
    let rate =
        match get("bitrate").or(get("bandwidth")) {
            // "#[KMG][/#]": the burst count after the slash is accepted and ignored (paced per packet).
            Some(v) => {
                let r = v.split('/').next().unwrap_or(v);
                Some(parse_rate(r).ok_or_else(|| {
                    Error::usage(format!("parameter error - invalid bitrate '{v}'"))
                })? as u64)
            }
            None => None,
        };
    let udp = m.get_flag("udp");
    let len = size("length", "block size")?.map(|n| n as usize);
    if let Some(l) = len {
        let max = if udp {
            proto::MAX_UDP_LEN
        } else {
            proto::MAX_TCP_LEN
        };
        if l == 0 || l > max {
            return Err(Error::usage(format!(
                "parameter error - block size too large (maximum = {max} bytes)"
            )));
        }
    }
    let parallel = match get("parallel") {
        Some(v) => number::<u32>(v, "number of streams")?,
        None => 1,
    };
    if parallel == 0 || parallel > 128 {
        return Err(Error::usage(
            "parameter error - number of parallel streams too large (maximum = 128)",
        ));
    }
    let time = match get("time") {
        Some(v) => number::<u32>(v, "time")?,
        None => 10,
    };
    if time > 86400 {
        return Err(Error::usage(
            "parameter error - test duration too long (maximum = 86400 seconds)",
        ));
    }
    let interval = match get("interval") {
        Some(v) => number::<f64>(v, "interval")?,
        None => 1.0,
    };
    if interval != 0.0 && !(0.1..=60.0).contains(&interval) {
        return Err(Error::usage(
            "parameter error - invalid report interval (min = 0.1, max = 60.0 seconds)",
        ));
    }
    let format = match get("format") {
        Some(f) if f.len() == 1 && "kmgtKMGT".contains(f) => f.chars().next().unwrap_or('a'),
        Some(f) => {
            return Err(Error::usage(format!(
                "parameter error - bad format specifier '{f}'"
            )));
        }
        None => 'a',
    };
    let ms = |k: &str| -> Result<Option<Duration>> {
        Ok(match get(k) {
            Some(v) => Some(Duration::from_millis(number::<u64>(v, k)?)),
            None => None,
        })
    };
    let cfg = Config {
        mode,
        port,
        time,
        omit: match get("omit") {
            Some(v) => number::<u32>(v, "omit")?.min(600),
            None => 0,
        },
        bytes: size("bytes", "bytes")?.map(|n| n as u64).unwrap_or(0),
        blocks: size("blockcount", "block count")?
            .map(|n| n as u64)
            .unwrap_or(0),
        parallel,
        reverse: m.get_flag("reverse"),
        bidir: m.get_flag("bidir"),
        udp,
        rate,
        len,
        window: size("window", "window size")?.map(|n| n as u32),
        mss: match get("set-mss") {
            Some(v) => Some(number::<u32>(v, "MSS")?),
            None => None,
        },
        no_delay: m.get_flag("no-delay"),
        interval,
        json: m.get_flag("json") || m.get_flag("json_short"),
        verbose: m.get_flag("verbose"),
        v6: if m.get_flag("version6") {
            Some(true)
        } else if m.get_flag("version4") {
            Some(false)
        } else {
            None
        },
        congestion: get("congestion").map(str::to_string),
        connect_timeout: ms("connect-timeout")?,
        rcv_timeout: ms("rcv-timeout")?.unwrap_or(Duration::from_secs(120)),
        format,
        bind: get("bind").map(str::to_string),
        cport: match get("cport") {
            Some(v) => Some(number::<u16>(v, "client port")?),
            None => None,
        },
        title: get("title").map(str::to_string),
        udp_counters_64bit: m.get_flag("udp-counters-64bit"),
        idle_timeout: match get("idle-timeout") {
            Some(v) => Some(Duration::from_secs(number::<u64>(v, "idle timeout")?)),
            None => None,
        },
    };
    Ok(Parsed::Run(cfg))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<Config> {
        let args: Vec<OsString> = args.iter().map(OsString::from).collect();
        match parse(&args)? {
            Parsed::Run(c) => Ok(c),
            _ => panic!("not a run"),
        }
    }

    #[test]
    fn client_and_server_forms() {
        let c = run(&[
            "-c", "10.0.0.2", "-t", "3", "-P", "4", "-R", "-u", "-b", "10M", "-l", "1400", "-J",
        ])
        .unwrap();
        assert_eq!(
            c.mode,
            Mode::Client {
                host: "10.0.0.2".into()
            }
        );
        assert_eq!(
            (c.time, c.parallel, c.reverse, c.udp, c.json),
            (3, 4, true, true, true)
        );
        assert_eq!(c.rate, Some(10_000_000));
        assert_eq!(c.len, Some(1400));
        let s = run(&["-s", "-p", "5999", "-1"]).unwrap();
        assert_eq!(s.mode, Mode::Server { one_off: true });
        assert_eq!(s.port, 5999);
        let n = run(&[
            "-c",
            "h",
            "-n",
            "10M",
            "--bidir",
            "-w",
            "4M",
            "-C",
            "cubic",
            "--connect-timeout",
            "500",
            "-O",
            "2",
        ])
        .unwrap();
        assert_eq!(n.omit, 2);
        assert_eq!(
            (n.bytes, n.bidir, n.window),
            (10_485_760, true, Some(4_194_304))
        );
        assert_eq!(n.connect_timeout, Some(Duration::from_millis(500)));
        assert_eq!(n.congestion.as_deref(), Some("cubic"));
    }

    #[test]
    fn bad_input_is_a_usage_error() {
        for bad in [
            &["-c", "h", "-s"][..],
            &["-t", "5"],
            &["-c", "h", "-P", "0"],
            &["-c", "h", "-b", "fast"],
            &["-c", "h", "-u", "-l", "70000"],
            &["-c", "h", "-l", "2M"],
            &["-c", "h", "-4", "-6"],
            &["-c", "h", "-i", "0.01"],
            &["-c", "h", "-p", "70000"],
        ] {
            let e = run(bad).unwrap_err();
            assert_eq!(e.code, 2, "{bad:?}: {e:?}");
        }
    }
}
