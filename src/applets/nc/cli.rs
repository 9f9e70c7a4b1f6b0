//! OpenBSD netcat's arguments (as Debian's netcat-openbsd 1.219 takes them) -> a typed
//! configuration. Pure: port names come from the /etc/services table passed in.

use crate::error::{Error, Parsed, Result};
use crate::services::Services;
use std::net::IpAddr;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Family {
    #[default]
    Any,
    V4,
    V6,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// Connect to `host` on each port (one port unless `-z`).
    Connect { host: String, ports: Vec<u16> },
    /// Wait for one peer (more with `-k`) on `addr`:`port`.
    Listen { addr: Option<String>, port: u16 },
    /// `-U`: a Unix stream socket path, to connect to or (with `-l`) to listen on.
    Unix { path: String, listen: bool },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub mode: Mode,
    pub family: Family,
    pub udp: bool,
    pub scan: bool,
    pub verbose: bool,
    pub numeric: bool,
    pub keep: bool,
    /// `-d`: never read stdin.
    pub no_stdin: bool,
    /// `-N`: shut the socket's sending side down after EOF on stdin.
    pub shutdown_on_eof: bool,
    /// `-q`: after EOF on stdin, quit this long after (None: when the peer closes, as nc's -1).
    pub quit_after: Option<Duration>,
    /// `-w`: connect timeout, and how long an idle connection lasts.
    pub timeout: Option<Duration>,
    /// `-C`: send CRLF for each LF read from stdin.
    pub crlf: bool,
    pub source: Option<IpAddr>,
    pub source_port: Option<u16>,
    /// `-M`: the TTL / hop limit of what we send.
    pub ttl: Option<u8>,
    /// `-j` (debugbox): the `-z` results as JSON.
    pub json: bool,
}

/// Options nc has that debugbox's nc does not (proxies, TCP MD5, routing tables, telnet…).
const UNSUPPORTED: &str = "bDFIiOPSTtVWXxZmr";

fn usage(msg: impl Into<String>) -> Error {
    Error::usage(msg).hint("nc -h lists the options")
}

/// One port as nc reads it: a number 1-65535 or a name from /etc/services.
pub fn port(s: &str, proto: &str, services: &Services) -> Result<u16> {
    if let Ok(n) = s.parse::<i64>() {
        return match n {
            ..=0 => Err(usage(format!("port number too small: {s}"))),
            65536.. => Err(usage(format!("port number too large: {s}"))),
            _ => Ok(n as u16),
        };
    }
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(usage(format!("port number too large: {s}")));
    }
    services
        .port(s, proto)
        .ok_or_else(|| usage(format!("port number invalid: {s}")))
}

/// `80`, `http`, or a range `1-1024` (either order), as nc's build_ports.
pub fn ports(s: &str, proto: &str, services: &Services) -> Result<Vec<u16>> {
    match s.split_once('-') {
        Some((a, b)) if !a.is_empty() => {
            let (a, b) = (port(a, proto, services)?, port(b, proto, services)?);
            let (lo, hi) = (a.min(b), a.max(b));
            Ok((lo..=hi).collect())
        }
        _ => Ok(vec![port(s, proto, services)?]),
    }
}

fn help() -> String {
    super::command().render_help().to_string()
}

fn seconds(s: &str, what: &str) -> Result<u64> {
    s.parse::<u64>()
        .ok()
        .filter(|n| *n <= 100_000_000)
        .ok_or_else(|| usage(format!("{what} {s}")))
}

pub fn parse(args: &[String], services: &Services) -> Result<Parsed<Config>> {
    let mut c = Config {
        mode: Mode::Listen {
            addr: None,
            port: 0,
        },
        family: Family::Any,
        udp: false,
        scan: false,
        verbose: false,
        numeric: false,
        keep: false,
        no_stdin: false,
        shutdown_on_eof: false,
        quit_after: None,
        timeout: None,
        crlf: false,
        source: None,
        source_port: None,
        ttl: None,
        json: false,
    };
    let (mut listen, mut unix) = (false, false);
    let mut source_text = None;
    let mut source_port_text = None;
    let mut rest: Vec<&str> = Vec::new();
    let mut i = 0;
    let mut only_operands = false;
    while i < args.len() {
        let a = args[i].as_str();
        i += 1;
        if only_operands || a == "-" || !a.starts_with('-') {
            rest.push(a);
            continue;
        }
        if a == "--" {
            only_operands = true;
            continue;
        }
        match a {
            "--help" => return Ok(Parsed::Help(help())),
            "--version" => return Ok(Parsed::Version),
            "--json" => {
                c.json = true;
                continue;
            }
            _ if a.starts_with("--") => {
                return Err(usage(format!("unrecognized option '{a}'")));
            }
            _ => {}
        }
        let flags: Vec<char> = a[1..].chars().collect();
        let mut k = 0;
        while k < flags.len() {
            let f = flags[k];
            k += 1;
            let takes = "pqswM".contains(f);
            let value = if takes {
                if k < flags.len() {
                    let v: String = flags[k..].iter().collect();
                    k = flags.len();
                    v
                } else if i < args.len() {
                    i += 1;
                    args[i - 1].clone()
                } else {
                    return Err(usage(format!("option requires an argument -- '{f}'")));
                }
            } else {
                String::new()
            };
            match f {
                '4' => c.family = Family::V4,
                '6' => c.family = Family::V6,
                'C' => c.crlf = true,
                'd' => c.no_stdin = true,
                'h' => return Ok(Parsed::Help(help())),
                'j' => c.json = true,
                'k' => c.keep = true,
                'l' => listen = true,
                'N' => c.shutdown_on_eof = true,
                'n' => c.numeric = true,
                'U' => unix = true,
                'u' => c.udp = true,
                'v' => c.verbose = true,
                'z' => c.scan = true,
                'p' => source_port_text = Some(value),
                's' => source_text = Some(value),
                'q' => {
                    // nc: a negative value waits for the peer, as no -q does.
                    c.quit_after = match value.parse::<i64>() {
                        Ok(n) if n < 0 => None,
                        _ => Some(Duration::from_secs(seconds(&value, "quit time")?)),
                    }
                }
                'w' => {
                    let n = seconds(&value, "timeout")?;
                    c.timeout = (n > 0).then(|| Duration::from_secs(n));
                }
                'M' => {
                    c.ttl = Some(
                        value
                            .parse::<u8>()
                            .map_err(|_| usage(format!("ttl is invalid: {value}")))?,
                    )
                }
                _ if UNSUPPORTED.contains(f) => {
                    return Err(Error::usage(format!(
                        "option -{f} is not available in debugbox nc"
                    ))
                    .hint("debugbox nc has -4 -6 -C -d -k -l -M -N -n -p -q -s -U -u -v -w -z"));
                }
                _ => return Err(usage(format!("invalid option -- '{f}'"))),
            }
        }
    }
    operands(
        c,
        Flags {
            listen,
            unix,
            source_text,
            source_port_text,
        },
        &rest,
        services,
    )
}

/// What the option scan leaves for the operands to settle.
struct Flags {
    listen: bool,
    unix: bool,
    source_text: Option<String>,
    source_port_text: Option<String>,
}

/// The checks across options, and the operands: host and ports, a listen address, a path.
fn operands(mut c: Config, f: Flags, rest: &[&str], services: &Services) -> Result<Parsed<Config>> {
    let Flags {
        listen,
        unix,
        source_text,
        source_port_text,
    } = f;
    if c.json && !c.scan {
        return Err(usage("-j goes with -z (it prints the scan's results)"));
    }
    let proto = if c.udp { "udp" } else { "tcp" };
    if let Some(p) = source_port_text {
        c.source_port = Some(port(&p, proto, services)?);
    }
    if let Some(s) = source_text {
        c.source = Some(
            s.split('%')
                .next()
                .unwrap_or(&s)
                .parse()
                .map_err(|_| usage(format!("invalid source address: {s}")))?,
        );
    }
    if listen && c.scan {
        return Err(usage("cannot use -z and -l"));
    }
    if !listen && c.keep {
        return Err(usage("must use -l with -k"));
    }
    if unix {
        if c.udp {
            return Err(Error::usage("-U with -u is not available in debugbox nc")
                .hint("Unix stream sockets only"));
        }
        let [path] = rest[..] else {
            return Err(usage("missing socket path (nc -U PATH)"));
        };
        c.mode = Mode::Unix {
            path: path.to_string(),
            listen,
        };
        return Ok(Parsed::Run(c));
    }
    c.mode = if listen {
        let (addr, port_text) = match rest[..] {
            [] if c.source_port.is_some() => (None, None),
            [] => return Err(usage("missing port number")),
            [p] => (None, Some(p)),
            [h, p] => (Some(h.to_string()), Some(p)),
            _ => return Err(usage("too many arguments")),
        };
        let port = match port_text {
            Some(p) => {
                if p.contains('-') {
                    return Err(usage("port range not valid"));
                }
                self::port(p, proto, services)?
            }
            // Debian's `nc -l -p PORT`.
            None => c.source_port.take().unwrap_or(0),
        };
        Mode::Listen {
            addr: addr.or_else(|| c.source.map(|s| s.to_string())),
            port,
        }
    } else {
        let Some((host, port_args)) = rest.split_first() else {
            return Err(usage("missing hostname and port"));
        };
        if port_args.is_empty() {
            return Err(usage("missing port number"));
        }
        if port_args.len() > 1 && !c.scan {
            return Err(usage("too many arguments").hint("several ports go with -z"));
        }
        let mut list = Vec::new();
        for p in port_args {
            list.extend(ports(p, proto, services)?);
        }
        if list.len() > 1 && !c.scan {
            return Err(usage("port range not valid").hint("port ranges go with -z"));
        }
        Mode::Connect {
            host: host.to_string(),
            ports: list,
        }
    };
    Ok(Parsed::Run(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn svc() -> Services {
        Services::parse(b"http 80/tcp www\nssh 22/tcp\ndomain 53/udp\ndomain 53/tcp\n")
    }

    fn p(s: &str) -> Result<Config> {
        let args: Vec<String> = s.split_whitespace().map(String::from).collect();
        match parse(&args, &svc())? {
            Parsed::Run(c) => Ok(c),
            _ => panic!("not a run"),
        }
    }

    #[test]
    fn client_scan_and_listen_forms() {
        let c = p("-zv 10.0.0.1 80 20-22 ssh").unwrap();
        assert_eq!(
            c.mode,
            Mode::Connect {
                host: "10.0.0.1".into(),
                ports: vec![80, 20, 21, 22, 22]
            }
        );
        assert!(c.scan && c.verbose);
        assert_eq!(
            p("-z h 5-3").unwrap().mode,
            Mode::Connect {
                host: "h".into(),
                ports: vec![3, 4, 5]
            }
        );
        assert_eq!(
            p("-l 3000").unwrap().mode,
            Mode::Listen {
                addr: None,
                port: 3000
            }
        );
        assert_eq!(
            p("-l -p 3000").unwrap().mode,
            Mode::Listen {
                addr: None,
                port: 3000
            }
        );
        assert_eq!(
            p("-lk 127.0.0.1 http").unwrap().mode,
            Mode::Listen {
                addr: Some("127.0.0.1".into()),
                port: 80
            }
        );
        let c = p("-w3 -q 0 -N host 80 -u").unwrap();
        assert_eq!(c.timeout, Some(Duration::from_secs(3)));
        assert_eq!(c.quit_after, Some(Duration::ZERO));
        assert!(c.shutdown_on_eof && c.udp);
        assert_eq!(p("-q -1 h 1").unwrap().quit_after, None);
        assert_eq!(
            p("-U /run/x.sock").unwrap().mode,
            Mode::Unix {
                path: "/run/x.sock".into(),
                listen: false
            }
        );
    }

    #[test]
    fn bad_input_is_refused_with_nc_words() {
        let msg = |s: &str| p(s).unwrap_err().line("nc");
        assert!(msg("-z h 0").contains("port number too small: 0"));
        assert!(msg("-z h 70000").contains("port number too large: 70000"));
        assert!(msg("-z h abc").contains("port number invalid: abc"));
        assert!(msg("-z -l 80").contains("cannot use -z and -l"));
        assert!(msg("h").contains("missing port number"));
        assert!(msg("").contains("missing hostname and port"));
        assert!(msg("-x proxy h 80").contains("not available"));
        assert!(msg("-w").contains("requires an argument"));
        assert!(msg("-k h 80").contains("must use -l with -k"));
        assert!(msg("h 1-5").contains("port range"));
        assert!(msg("-j h 80").contains("-j goes with -z"));
        for s in ["-z h 0", "-x p h 1", "h"] {
            assert_eq!(p(s).unwrap_err().code, 2);
        }
    }
}
