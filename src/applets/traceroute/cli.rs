//! `traceroute` flags (Debian's traceroute 2.1) -> a typed configuration. Pure.

use crate::error::{Error, Parsed, Result};
use crate::trace::Plan;
use clap::{Arg, ArgAction, ArgMatches, Command};
use std::ffi::OsString;
use std::net::IpAddr;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// UDP datagrams to a port nothing listens on (the default).
    Udp,
    /// ICMP echo requests (`-I`).
    Icmp,
    /// TCP SYNs to a port (`-T`).
    Tcp,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub target: String,
    pub method: Method,
    /// None: either family; Some(true): IPv6 only (`-6`), Some(false): IPv4 only (`-4`).
    pub v6: Option<bool>,
    pub numeric: bool,
    pub plan: Plan,
    /// `-p`: the UDP/TCP destination port, or the first ICMP sequence number.
    pub port: Option<u16>,
    pub source: Option<IpAddr>,
    pub source_port: u16,
    pub device: Option<String>,
    pub dont_fragment: bool,
    /// The `packetlen` argument: the whole packet, headers included.
    pub packet_len: Option<usize>,
    pub json: bool,
}

pub fn command() -> Command {
    Command::new("traceroute")
        .about("print the route packets take to a host, like traceroute 2.1 (UDP, ICMP or TCP probes, unprivileged)")
        .override_usage("traceroute [options] host [packetlen]")
        .disable_version_flag(true)
        .args_override_self(true)
        .arg(Arg::new("ipv4").short('4').action(ArgAction::SetTrue).help("use IPv4"))
        .arg(Arg::new("ipv6").short('6').action(ArgAction::SetTrue).help("use IPv6"))
        .arg(Arg::new("icmp").short('I').long("icmp").action(ArgAction::SetTrue).help("use ICMP ECHO for tracerouting"))
        .arg(Arg::new("tcp").short('T').long("tcp").action(ArgAction::SetTrue).help("use TCP SYN for tracerouting (default port is 80)"))
        .arg(Arg::new("udp").short('U').long("udp").action(ArgAction::SetTrue).help("use UDP to a particular port (default 53)"))
        .arg(Arg::new("dont-fragment").short('F').long("dont-fragment").action(ArgAction::SetTrue).help("do not fragment packets"))
        .arg(Arg::new("first").short('f').long("first").value_name("first_ttl").help("start from the first_ttl hop (instead from 1)"))
        .arg(Arg::new("interface").short('i').long("interface").value_name("device").help("specify a network interface to operate with"))
        .arg(Arg::new("max-hops").short('m').long("max-hops").value_name("max_ttl").help("set the max number of hops (max TTL to be reached); default 30"))
        .arg(Arg::new("sim-queries").short('N').long("sim-queries").value_name("squeries").help("set the number of probes to be tried simultaneously (default 16)"))
        .arg(Arg::new("numeric").short('n').action(ArgAction::SetTrue).help("do not resolve IP addresses to their domain names"))
        .arg(Arg::new("port").short('p').long("port").value_name("port").help("destination port (UDP 33434, -U 53, -T 80), or first ICMP sequence"))
        .arg(Arg::new("wait").short('w').long("wait").value_name("MAX,HERE,NEAR").help("wait for a probe no more than HERE (3) times longer than a response from the same hop, or NEAR (10) times than some next hop, or MAX (5) seconds"))
        .arg(Arg::new("queries").short('q').long("queries").value_name("nqueries").help("set the number of probes per each hop (default 3)"))
        .arg(Arg::new("source").short('s').long("source").value_name("src_addr").help("use source src_addr for outgoing packets"))
        .arg(Arg::new("sendwait").short('z').long("sendwait").value_name("sendwait").help("minimal time between probes (seconds, or milliseconds when above 10)"))
        .arg(Arg::new("sport").long("sport").value_name("num").help("use source port num for outgoing packets (implies -N 1)"))
        .arg(Arg::new("json").short('j').long("json").action(ArgAction::SetTrue).help("print the trace as one JSON object (debugbox)"))
        .arg(Arg::new("version").short('V').long("version").action(ArgAction::SetTrue).help("print version and exit"))
        .arg(Arg::new("host").value_name("host").help("the host to traceroute to"))
        .arg(Arg::new("packetlen").value_name("packetlen").help("the full packet length (default: an IP header plus 40)"))
}

fn number<T: std::str::FromStr>(m: &ArgMatches, id: &str, what: &str) -> Result<Option<T>> {
    match m.get_one::<String>(id) {
        None => Ok(None),
        Some(v) => v.parse::<T>().map(Some).map_err(|_| {
            Error::usage(format!("Cannot handle `-{id}' option with arg `{v}'"))
                .hint(what.to_string())
        }),
    }
}

/// `-w MAX[,HERE[,NEAR]]`: seconds, then the two factors; a lone MAX turns the factors off.
fn wait_specs(text: &str, plan: &mut Plan) -> Result<()> {
    let bad = || {
        Error::usage(format!("bad wait specifications `{text}' used"))
            .hint("-w MAX[,HERE[,NEAR]], seconds and factors, e.g. -w 1 or -w 5,3,10")
    };
    let parts: Vec<f64> = text
        .split(',')
        .map(|p| p.parse::<f64>().map_err(|_| bad()))
        .collect::<Result<_>>()?;
    if parts.len() > 3 || parts.iter().any(|v| !v.is_finite() || *v < 0.0) || parts[0] > 1e6 {
        return Err(bad());
    }
    plan.wait = Duration::from_secs_f64(parts[0]);
    plan.here = parts.get(1).copied().unwrap_or(0.0);
    plan.near = parts.get(2).copied().unwrap_or(0.0);
    Ok(())
}

pub fn parse(args: &[OsString]) -> Result<Parsed<Config>> {
    let argv = std::iter::once(OsString::from("traceroute")).chain(args.iter().cloned());
    let m = match crate::error::clap_matches(command(), argv, |line| {
        Error::usage(line).hint("traceroute --help")
    })? {
        Ok(m) => m,
        Err(p) => return Ok(p),
    };
    let Some(target) = m.get_one::<String>("host").cloned() else {
        return Err(
            Error::usage("Specify \"host\" missing argument.").hint("traceroute [options] host")
        );
    };
    let method = if m.get_flag("icmp") {
        Method::Icmp
    } else if m.get_flag("tcp") {
        Method::Tcp
    } else {
        Method::Udp
    };
    let v6 = if m.get_flag("ipv6") {
        Some(true)
    } else if m.get_flag("ipv4") {
        Some(false)
    } else {
        None
    };
    let mut plan = Plan::default();
    if let Some(f) = number::<u8>(&m, "first", "a TTL from 1 to 255")? {
        plan.first = f;
    }
    if let Some(v) = number::<u8>(&m, "max-hops", "at most 255")? {
        plan.max = v;
    }
    if plan.first == 0 || plan.first > plan.max {
        return Err(Error::usage("first hop out of range").hint("-f must be from 1 to -m"));
    }
    if let Some(q) = number::<usize>(&m, "queries", "1 to 10 probes")? {
        if q == 0 || q > 10 {
            return Err(Error::usage("no more than 10 probes per hop").hint("-q 1 to 10"));
        }
        plan.per_hop = q;
    }
    if let Some(n) = number::<usize>(&m, "sim-queries", "probes in flight")? {
        plan.in_flight = n.max(1);
    }
    if let Some(w) = m.get_one::<String>("wait") {
        wait_specs(w, &mut plan)?;
    }
    if let Some(z) = number::<f64>(&m, "sendwait", "seconds, or milliseconds above 10")? {
        if !z.is_finite() || z < 0.0 {
            return Err(Error::usage(format!("bad sendtime `{z}' specified")));
        }
        let secs = if z >= 10.0 { z / 1000.0 } else { z };
        plan.send_gap = Duration::from_secs_f64(secs);
    }
    let source_port = number::<u16>(&m, "sport", "a port")?.unwrap_or(0);
    if source_port != 0 {
        plan.in_flight = 1;
        plan.here = 0.0;
        plan.near = 0.0;
    }
    let source = match m.get_one::<String>("source") {
        None => None,
        Some(s) => Some(s.parse::<IpAddr>().map_err(|_| {
            Error::usage(format!("{s}: Name or service not known")).hint("-s takes an address")
        })?),
    };
    let packet_len = match m.get_one::<String>("packetlen") {
        None => None,
        Some(v) => match v.parse::<usize>() {
            Ok(n) if n <= 65000 => Some(n),
            Ok(n) => return Err(Error::usage(format!("too big packetlen {n} specified"))),
            Err(_) => {
                return Err(Error::usage(format!(
                    "Cannot handle \"packetlen\" cmdline arg `{v}' on position 2 (argc 2)"
                )));
            }
        },
    };
    let port = number::<u16>(&m, "port", "a port")?;
    let default_port = if m.get_flag("udp") { Some(53) } else { None };
    Ok(Parsed::Run(Config {
        target,
        method,
        v6,
        numeric: m.get_flag("numeric"),
        plan,
        port: port.or(default_port),
        source,
        source_port,
        device: m.get_one::<String>("interface").cloned(),
        dont_fragment: m.get_flag("dont-fragment"),
        packet_len,
        json: m.get_flag("json"),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(args: &str) -> Config {
        let argv: Vec<OsString> = args.split_whitespace().map(OsString::from).collect();
        match parse(&argv).unwrap() {
            Parsed::Run(c) => c,
            _ => panic!("not a run"),
        }
    }

    #[test]
    fn flags_as_traceroute_reads_them() {
        let c = cfg("-n -q 1 -w 0.5 -m 5 -I 10.0.0.1");
        assert_eq!(c.method, Method::Icmp);
        assert!(c.numeric);
        assert_eq!(c.plan.per_hop, 1);
        assert_eq!(c.plan.max, 5);
        assert_eq!(c.plan.wait, Duration::from_millis(500));
        assert_eq!((c.plan.here, c.plan.near), (0.0, 0.0));
        let c = cfg("-w 2,1.5,4 -T -p 443 -z 50 host 100");
        assert_eq!(c.method, Method::Tcp);
        assert_eq!(c.port, Some(443));
        assert_eq!((c.plan.here, c.plan.near), (1.5, 4.0));
        assert_eq!(c.plan.send_gap, Duration::from_millis(50));
        assert_eq!(c.packet_len, Some(100));
        assert_eq!(cfg("-U h").port, Some(53));
        assert_eq!(cfg("--sport 4000 h").plan.in_flight, 1);
    }

    #[test]
    fn bad_values_are_usage_errors() {
        for a in [
            "-f 9 -m 5 h",
            "-q 11 h",
            "-w x h",
            "-w 1,2,3,4 h",
            "-m 300 h",
            "",
            "h 70000",
        ] {
            let argv: Vec<OsString> = a.split_whitespace().map(OsString::from).collect();
            let e = parse(&argv).unwrap_err();
            assert_eq!(e.code, 2, "{a}");
        }
    }
}
