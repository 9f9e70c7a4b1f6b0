//! `mtr` flags (mtr 0.95, report mode) -> a typed configuration. Pure.

use crate::error::{Error, Parsed, Result};
use clap::{Arg, ArgAction, ArgMatches, Command};
use std::ffi::OsString;
use std::net::IpAddr;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Icmp,
    Udp,
    Tcp,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub target: String,
    pub method: Method,
    /// None: either family; Some(true): IPv6 only.
    pub v6: Option<bool>,
    pub numeric: bool,
    pub show_ips: bool,
    pub wide: bool,
    pub cycles: u32,
    pub interval: Duration,
    pub first_ttl: u8,
    pub max_ttl: u8,
    pub port: Option<u16>,
    pub packet_size: usize,
    pub source: Option<IpAddr>,
    pub device: Option<String>,
    /// `-o`: the columns, by their letters.
    pub fields: String,
    pub json: bool,
}

/// mtr's default columns: Loss%, Snt, a space, Last, Avg, Best, Wrst, StDev.
pub const DEFAULT_FIELDS: &str = "LS NABWV";

pub fn command() -> Command {
    Command::new("mtr")
        .about("a traceroute that keeps probing and reports loss and round trips per hop (mtr 0.95 --report)")
        .override_usage("mtr [options] hostname")
        .disable_version_flag(true)
        .args_override_self(true)
        .arg(Arg::new("report").short('r').long("report").action(ArgAction::SetTrue).help("output using report mode (the only mode here)"))
        .arg(Arg::new("report-wide").short('w').long("report-wide").action(ArgAction::SetTrue).help("output wide report"))
        .arg(Arg::new("report-cycles").short('c').long("report-cycles").value_name("COUNT").help("set the number of pings sent (default 10)"))
        .arg(Arg::new("no-dns").short('n').long("no-dns").action(ArgAction::SetTrue).help("do not resolve host names"))
        .arg(Arg::new("show-ips").short('b').long("show-ips").action(ArgAction::SetTrue).help("show IP numbers and host names"))
        .arg(Arg::new("json").short('j').long("json").action(ArgAction::SetTrue).help("output json"))
        .arg(Arg::new("interval").short('i').long("interval").value_name("SECONDS").help("ICMP echo request interval (default 1)"))
        .arg(Arg::new("first-ttl").short('f').long("first-ttl").value_name("NUMBER").help("set what TTL to start"))
        .arg(Arg::new("max-ttl").short('m').long("max-ttl").value_name("NUMBER").help("maximum number of hops (default 30)"))
        .arg(Arg::new("udp").short('u').long("udp").action(ArgAction::SetTrue).help("use UDP instead of ICMP echo"))
        .arg(Arg::new("tcp").short('T').long("tcp").action(ArgAction::SetTrue).help("use TCP instead of ICMP echo"))
        .arg(Arg::new("port").short('P').long("port").value_name("PORT").help("target port number for TCP, SCTP, or UDP"))
        .arg(Arg::new("psize").short('s').long("psize").value_name("PACKETSIZE").help("set the packet size used for probing (default 64)"))
        .arg(Arg::new("address").short('a').long("address").value_name("ADDRESS").help("bind the outgoing socket to ADDRESS"))
        .arg(Arg::new("interface").short('I').long("interface").value_name("NAME").help("use named network interface"))
        .arg(Arg::new("order").short('o').long("order").value_name("FIELDS").help("select output fields (L D R S N B A W V and space)"))
        .arg(Arg::new("ipv4").short('4').action(ArgAction::SetTrue).help("use IPv4 only"))
        .arg(Arg::new("ipv6").short('6').action(ArgAction::SetTrue).help("use IPv6 only"))
        .arg(Arg::new("version").short('v').long("version").action(ArgAction::SetTrue).help("output version information and exit"))
        .arg(Arg::new("hostname").value_name("hostname"))
}

fn value<T: std::str::FromStr>(m: &ArgMatches, id: &str, what: &str) -> Result<Option<T>> {
    match m.get_one::<String>(id) {
        None => Ok(None),
        Some(v) => v
            .parse::<T>()
            .map(Some)
            .map_err(|_| Error::usage(format!("invalid argument: '{v}'")).hint(what.to_string())),
    }
}

pub fn parse(args: &[OsString], is_root: bool) -> Result<Parsed<Config>> {
    let argv = std::iter::once(OsString::from("mtr")).chain(args.iter().cloned());
    let m = match crate::error::clap_matches(command(), argv, |line| {
        Error::usage(line).hint("mtr --help")
    })? {
        Ok(m) => m,
        Err(p) => return Ok(p),
    };
    let Some(target) = m.get_one::<String>("hostname").cloned() else {
        return Err(Error::usage("no hostname given").hint("mtr -r [options] hostname"));
    };
    let cycles = value::<u32>(&m, "report-cycles", "a count from 1")?.unwrap_or(10);
    if cycles == 0 {
        return Err(Error::usage("invalid argument: '0'").hint("a count from 1"));
    }
    let secs = value::<f64>(&m, "interval", "seconds")?.unwrap_or(1.0);
    if !secs.is_finite() || !(0.0..=1e6).contains(&secs) {
        return Err(Error::usage(format!("invalid argument: '{secs}'")).hint("seconds"));
    }
    if secs < 1.0 && !is_root {
        return Err(Error::usage(
            "non-root users cannot request an interval < 1.0 seconds",
        ));
    }
    let first_ttl = value::<u8>(&m, "first-ttl", "1 to 255")?.unwrap_or(1);
    let max_ttl = value::<u8>(&m, "max-ttl", "1 to 255")?.unwrap_or(30);
    if first_ttl == 0 || max_ttl == 0 || first_ttl > max_ttl {
        return Err(Error::usage(
            "first-ttl and max-ttl must be from 1 to 255, first no larger than max",
        ));
    }
    let fields = m
        .get_one::<String>("order")
        .cloned()
        .unwrap_or_else(|| DEFAULT_FIELDS.to_string());
    if let Some(c) = fields.chars().find(|c| !" LDRSNBAWV".contains(*c)) {
        return Err(Error::usage(format!("unknown field identifier: {c}"))
            .hint("L D R S N B A W V and space"));
    }
    let source = match m.get_one::<String>("address") {
        None => None,
        Some(a) => Some(a.parse::<IpAddr>().map_err(|_| {
            Error::usage(format!("invalid address: '{a}'")).hint("-a takes an address of this host")
        })?),
    };
    let method = if m.get_flag("tcp") {
        Method::Tcp
    } else if m.get_flag("udp") {
        Method::Udp
    } else {
        Method::Icmp
    };
    Ok(Parsed::Run(Config {
        target,
        method,
        v6: if m.get_flag("ipv6") {
            Some(true)
        } else if m.get_flag("ipv4") {
            Some(false)
        } else {
            None
        },
        numeric: m.get_flag("no-dns"),
        show_ips: m.get_flag("show-ips"),
        wide: m.get_flag("report-wide"),
        cycles,
        interval: Duration::from_secs_f64(secs),
        first_ttl,
        max_ttl,
        port: value::<u16>(&m, "port", "a port")?,
        packet_size: value::<usize>(&m, "psize", "bytes")?.unwrap_or(64),
        source,
        device: m.get_one::<String>("interface").cloned(),
        fields,
        json: m.get_flag("json"),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(s: &str, root: bool) -> Result<Parsed<Config>> {
        let argv: Vec<OsString> = s.split_whitespace().map(OsString::from).collect();
        parse(&argv, root)
    }

    #[test]
    fn flags_as_mtr_reads_them() {
        let Parsed::Run(c) = parse_str("-r -n -c 3 -i 0.2 -T -P 443 -w h", true).unwrap() else {
            panic!()
        };
        assert_eq!(
            (c.cycles, c.method, c.port, c.wide, c.numeric),
            (3, Method::Tcp, Some(443), true, true)
        );
        assert_eq!(c.interval, Duration::from_millis(200));
        assert_eq!(c.fields, DEFAULT_FIELDS);
        assert!(parse_str("-i 0.5 h", false).is_err());
        assert!(parse_str("-o LZ h", true).is_err());
        assert!(parse_str("-c 0 h", true).is_err());
        assert!(parse_str("-f 5 -m 3 h", true).is_err());
    }
}
