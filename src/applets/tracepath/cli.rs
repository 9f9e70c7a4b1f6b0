//! `tracepath` flags (iputils 20221126) -> a typed configuration. Pure.

use crate::error::{Error, Parsed, Result};
use clap::{Arg, ArgAction, Command};
use std::ffi::OsString;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub target: String,
    /// None: either family; Some(true): IPv6 only (`-6`), Some(false): IPv4 only (`-4`).
    pub v6: Option<bool>,
    pub numeric: bool,
    pub both: bool,
    /// `-l`: the first probe's whole length (else as large as the protocol allows).
    pub length: Option<u32>,
    pub max_hops: u8,
    pub port: u16,
    pub json: bool,
}

pub fn command() -> Command {
    Command::new("tracepath")
        .about("trace the path to a host and find its MTU, like iputils tracepath (no privilege needed)")
        .override_usage("tracepath [options] <destination>")
        .disable_version_flag(true)
        .args_override_self(true)
        .arg(Arg::new("ipv4").short('4').action(ArgAction::SetTrue).help("use IPv4"))
        .arg(Arg::new("ipv6").short('6').action(ArgAction::SetTrue).help("use IPv6"))
        .arg(Arg::new("both").short('b').action(ArgAction::SetTrue).help("print both name and ip"))
        .arg(Arg::new("length").short('l').value_name("length").help("use packet <length>"))
        .arg(Arg::new("hops").short('m').value_name("hops").help("use maximum <hops>"))
        .arg(Arg::new("numeric").short('n').action(ArgAction::SetTrue).help("no dns name resolution"))
        .arg(Arg::new("port").short('p').value_name("port").help("use destination <port>"))
        .arg(Arg::new("json").short('j').long("json").action(ArgAction::SetTrue).help("print the path as one JSON object (debugbox)"))
        .arg(Arg::new("version").short('V').action(ArgAction::SetTrue).help("print version and exit"))
        .arg(Arg::new("destination").value_name("destination").help("dns name or ip address"))
}

fn ranged(v: &str, min: i64, max: i64) -> Result<i64> {
    match v.parse::<i64>() {
        Ok(n) if n >= min && n <= max => Ok(n),
        Ok(_) => Err(Error::usage(format!(
            "invalid argument: '{v}': out of range: {min} <= value <= {max}"
        ))),
        Err(_) => Err(Error::usage(format!("invalid argument: '{v}'"))),
    }
}

pub fn parse(args: &[OsString]) -> Result<Parsed<Config>> {
    let argv = std::iter::once(OsString::from("tracepath")).chain(args.iter().cloned());
    let m = match crate::error::clap_matches(command(), argv, |line| {
        Error::usage(line).hint("tracepath [options] <destination>")
    })? {
        Ok(m) => m,
        Err(p) => return Ok(p),
    };
    if m.get_flag("ipv4") && m.get_flag("ipv6") {
        return Err(Error::usage("Only one -4 or -6 option may be specified"));
    }
    let Some(dest) = m.get_one::<String>("destination").cloned() else {
        return Err(
            Error::usage("a destination is required").hint("tracepath [options] <destination>")
        );
    };
    let length = match m.get_one::<String>("length") {
        Some(v) => Some(ranged(v, 0, i32::MAX as i64)? as u32),
        None => None,
    };
    let max_hops = match m.get_one::<String>("hops") {
        Some(v) => ranged(v, 0, 255)? as u8,
        None => 30,
    };
    let mut port = match m.get_one::<String>("port") {
        Some(v) => ranged(v, 0, 65535)? as u16,
        None => 0,
    };
    // iputils still reads the old DESTINATION/PORT form when -p is not given.
    let mut target = dest.clone();
    if port == 0 {
        port = match dest.split_once('/') {
            Some((host, p)) => {
                target = host.to_string();
                ranged(p, 0, 65535)? as u16
            }
            None => 44444,
        };
    }
    Ok(Parsed::Run(Config {
        target,
        v6: if m.get_flag("ipv4") {
            Some(false)
        } else if m.get_flag("ipv6") {
            Some(true)
        } else {
            None
        },
        numeric: m.get_flag("numeric"),
        both: m.get_flag("both"),
        length,
        max_hops,
        port,
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
    fn flags_as_iputils_reads_them() {
        let Parsed::Run(c) = parse_str("-n -l 1000 -m 5 10.0.0.1/3000").unwrap() else {
            panic!()
        };
        assert_eq!(
            (c.target.as_str(), c.port, c.length, c.max_hops),
            ("10.0.0.1", 3000, Some(1000), 5)
        );
        let Parsed::Run(c) = parse_str("-p 7 h").unwrap() else {
            panic!()
        };
        assert_eq!(c.port, 7);
        for bad in ["-m 300 h", "-4 -6 h", "-l x h", ""] {
            assert_eq!(parse_str(bad).unwrap_err().code, 2, "{bad}");
        }
    }
}
