//! `ping` flags (iputils) -> a typed configuration. Pure.

use crate::error::{Error, Parsed, Result};
use crate::sys::icmp::SocketKind;
use clap::{Arg, ArgAction, ArgMatches, Command};
use std::ffi::OsString;
use std::net::IpAddr;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Any,
    V4,
    V6,
}

/// `-I`: an interface name or a source address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Device(String),
    Address(IpAddr),
}

pub use crate::sys::icmp::Pmtudisc;

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub target: String,
    pub count: Option<u64>,
    pub interval: Duration,
    /// -W: how long to wait for a reply when none came (iputils' linger time).
    pub timeout: Option<Duration>,
    /// -w: stop after this long whatever happens.
    pub deadline: Option<Duration>,
    pub size: usize,
    pub ttl: Option<u8>,
    /// `-M`: path MTU discovery (do: never fragment, want, dont, probe).
    pub pmtudisc: Option<Pmtudisc>,
    pub quiet: bool,
    pub numeric: bool,
    pub timestamps: bool,
    pub outstanding: bool,
    pub source: Option<Source>,
    pub family: Family,
    pub tcp_port: Option<u16>,
    pub json: bool,
    pub socket: Option<SocketKind>,
}

pub fn command() -> Command {
    Command::new("ping")
        .about("send ICMP echo requests (or TCP connect probes) and report replies, like iputils ping")
        .override_usage("ping [options] <destination>")
        .disable_version_flag(true)
        // getopt semantics: a repeated option takes its last value.
        .args_override_self(true)
        .arg(Arg::new("count").short('c').value_name("count").help("stop after <count> replies"))
        .arg(Arg::new("interval").short('i').value_name("interval").help("seconds between sending each packet"))
        .arg(Arg::new("timeout").short('W').value_name("timeout").help("time to wait for response"))
        .arg(Arg::new("deadline").short('w').value_name("deadline").help("reply wait <deadline> in seconds"))
        .arg(Arg::new("size").short('s').value_name("size").help("use <size> as number of data bytes to be sent"))
        .arg(Arg::new("ttl").short('t').value_name("ttl").help("define time to live"))
        .arg(Arg::new("pmtudisc").short('M').value_name("pmtud opt").help("define path MTU discovery, can be one of <do|dont|want|probe>"))
        .arg(Arg::new("quiet").short('q').action(ArgAction::SetTrue).help("quiet output"))
        .arg(Arg::new("numeric").short('n').action(ArgAction::SetTrue).help("no dns name resolution"))
        .arg(Arg::new("timestamps").short('D').action(ArgAction::SetTrue).help("print timestamps"))
        .arg(Arg::new("outstanding").short('O').action(ArgAction::SetTrue).help("report outstanding replies"))
        .arg(Arg::new("interface").short('I').value_name("interface").help("either interface name or address"))
        .arg(Arg::new("ipv4").short('4').action(ArgAction::SetTrue).conflicts_with("ipv6").help("use IPv4"))
        .arg(Arg::new("ipv6").short('6').action(ArgAction::SetTrue).help("use IPv6"))
        .arg(
            Arg::new("tcp")
                .long("tcp")
                .value_name("PORT")
                .help("TCP connect probes to PORT instead of ICMP (no privilege needed; works through ClusterIPs)"),
        )
        .arg(
            Arg::new("socket")
                .long("socket")
                .value_name("KIND")
                .value_parser(["raw", "dgram"])
                .help("use only this ICMP socket kind (default: raw, else datagram)"),
        )
        .arg(Arg::new("json").short('j').long("json").action(ArgAction::SetTrue).help("one JSON object per reply and one for the summary"))
        .arg(Arg::new("version").short('V').action(ArgAction::SetTrue).help("print version and exit"))
        .arg(Arg::new("destination").value_name("destination").help("dns name or ip address"))
}

fn number<T: std::str::FromStr>(
    m: &ArgMatches,
    id: &str,
    flag: &str,
    what: &str,
) -> Result<Option<T>> {
    match m.get_one::<String>(id) {
        None => Ok(None),
        Some(v) => v.parse::<T>().map(Some).map_err(|_| {
            Error::usage(format!("invalid argument for {flag}: '{v}'")).hint(what.to_string())
        }),
    }
}

fn seconds(m: &ArgMatches, id: &str, flag: &str, what: &str) -> Result<Option<Duration>> {
    let Some(v) = number::<f64>(m, id, flag, what)? else {
        return Ok(None);
    };
    if !v.is_finite() || v < 0.0 || v > (i32::MAX / 1000) as f64 {
        return Err(
            Error::usage(format!("invalid argument for {flag}: '{v}'")).hint(what.to_string())
        );
    }
    Ok(Some(Duration::from_secs_f64(v)))
}

pub fn parse(args: &[OsString], is_root: bool) -> Result<Parsed<Config>> {
    let argv = std::iter::once(OsString::from("ping")).chain(args.iter().cloned());
    let m = match crate::error::clap_matches(command(), argv, |line| {
        Error::usage(line).hint("ping -h")
    })? {
        Ok(m) => m,
        Err(p) => return Ok(p),
    };
    let Some(target) = m.get_one::<String>("destination").cloned() else {
        return Err(Error::usage("usage error: Destination address required")
            .hint("ping [options] <destination>"));
    };
    let count = number::<u64>(&m, "count", "-c", "a count from 1")?;
    if count == Some(0) {
        return Err(Error::usage("invalid argument for -c: '0'").hint("a count from 1"));
    }
    let interval = seconds(&m, "interval", "-i", "seconds, fractions allowed")?;
    let min_user = Duration::from_millis(2);
    if let Some(i) = interval
        && !is_root
        && i < min_user
    {
        return Err(
            Error::usage("cannot flood; minimal interval allowed for user is 2ms")
                .hint("use -i 0.002 or more"),
        );
    }
    let timeout = seconds(&m, "timeout", "-W", "seconds to wait for a reply")?;
    if let Some(t) = timeout
        && t < Duration::from_millis(1)
    {
        return Err(
            Error::usage(format!("bad linger time: {}", t.as_secs_f64()))
                .hint("at least 0.001 seconds"),
        );
    }
    // -w 0 is no deadline, as in iputils.
    let deadline = number::<u32>(&m, "deadline", "-w", "whole seconds")?
        .filter(|s| *s > 0)
        .map(|s| Duration::from_secs(s as u64));
    // Any size iputils takes; one no datagram can carry fails at send time, as there.
    let size = number::<u32>(&m, "size", "-s", "a byte count")?.unwrap_or(56);
    if size > i32::MAX as u32 {
        return Err(Error::usage(format!(
            "invalid argument: '{size}': out of range: 0 <= value <= 2147483647"
        )));
    }
    let size = size as usize;
    let ttl = number::<u8>(&m, "ttl", "-t", "a TTL from 0 to 255")?;
    let pmtudisc = match m.get_one::<String>("pmtudisc").map(String::as_str) {
        None => None,
        Some("do") => Some(Pmtudisc::Do),
        Some("dont") => Some(Pmtudisc::Dont),
        Some("want") => Some(Pmtudisc::Want),
        Some("probe") => Some(Pmtudisc::Probe),
        Some(v) => {
            return Err(
                Error::usage(format!("invalid -M argument: {v}")).hint("do, dont, want or probe")
            );
        }
    };
    let source = m
        .get_one::<String>("interface")
        .map(|s| match s.parse::<IpAddr>() {
            Ok(ip) => Source::Address(ip),
            Err(_) => Source::Device(s.clone()),
        });
    let family = if m.get_flag("ipv4") {
        Family::V4
    } else if m.get_flag("ipv6") {
        Family::V6
    } else {
        Family::Any
    };
    let tcp_port = match m.get_one::<String>("tcp") {
        None => None,
        Some(p) => match p.parse::<u16>() {
            Ok(0) | Err(_) => {
                return Err(Error::usage(format!("invalid --tcp port: '{p}'"))
                    .hint("a port from 1 to 65535"));
            }
            Ok(n) => Some(n),
        },
    };
    let socket = m.get_one::<String>("socket").map(|s| {
        if s == "raw" {
            SocketKind::Raw
        } else {
            SocketKind::Dgram
        }
    });
    Ok(Parsed::Run(Config {
        target,
        count,
        interval: interval.unwrap_or(Duration::from_secs(1)),
        timeout,
        deadline,
        size,
        ttl,
        pmtudisc,
        quiet: m.get_flag("quiet"),
        numeric: m.get_flag("numeric"),
        timestamps: m.get_flag("timestamps"),
        outstanding: m.get_flag("outstanding"),
        source,
        family,
        tcp_port,
        json: m.get_flag("json"),
        socket,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<Parsed<Config>> {
        let args: Vec<OsString> = s.split_whitespace().map(OsString::from).collect();
        parse(&args, false)
    }

    fn cfg(s: &str) -> Config {
        match p(s).unwrap() {
            Parsed::Run(c) => c,
            _ => panic!("not a run"),
        }
    }

    #[test]
    fn iputils_flags() {
        let c = cfg("-c3 -i 0.2 -W 1 -w 5 -s 100 -t 9 -q -n -D -O -4 10.0.0.1");
        assert_eq!(c.count, Some(3));
        assert_eq!(c.interval, Duration::from_millis(200));
        assert_eq!(c.timeout, Some(Duration::from_secs(1)));
        assert_eq!(c.deadline, Some(Duration::from_secs(5)));
        assert_eq!((c.size, c.ttl), (100, Some(9)));
        assert!(c.quiet && c.numeric && c.timestamps && c.outstanding);
        assert_eq!(c.family, Family::V4);
        let c = cfg("-qn -c 1 -I eth0 host");
        assert!(c.quiet && c.numeric);
        assert_eq!(c.source, Some(Source::Device("eth0".into())));
        let c = cfg("-I 10.244.1.5 --tcp 3000 -j web");
        assert_eq!(
            c.source,
            Some(Source::Address("10.244.1.5".parse().unwrap()))
        );
        assert_eq!(c.tcp_port, Some(3000));
        assert!(c.json);
    }

    #[test]
    fn bad_values_are_usage_errors() {
        for bad in [
            "-c 0 x",
            "-c abc x",
            "-i nope x",
            "-i 0.001 x",
            "-W 0 x",
            "-w -1 x",
            "-s 2147483648 x",
            "-t 300 x",
            "--tcp 0 x",
            "--tcp http x",
            "-4 -6 x",
            "-Z x",
            "",
        ] {
            let e = match p(bad) {
                Err(e) => e,
                Ok(_) => panic!("{bad:?} was accepted"),
            };
            assert_eq!(e.code, 2, "{bad}");
            assert!(!e.message.contains('\n'), "{bad}: {}", e.message);
        }
    }

    #[test]
    fn root_may_ping_fast() {
        let args: Vec<OsString> = ["-i", "0.001", "x"].iter().map(OsString::from).collect();
        assert!(matches!(parse(&args, true), Ok(Parsed::Run(_))));
    }
}
