//! `nc`: OpenBSD netcat as Debian ships it (netcat-openbsd 1.219). Connect and relay stdin and
//! stdout, `-z` port scans with nc's `-v` lines, `-l` to stand in for a backend, `-u` for UDP,
//! `-U` for Unix sockets. Names go through debugbox's resolver (the pod's search list).
//!
//! Exit codes: 0 when a connection was made (with `-z`: when any port answered), 1 when none
//! was, 2 for usage and local errors (nc itself says 1 for everything).

pub mod cli;

use crate::dns::{self, Resolver, SocketTransport};
use crate::error::{EXIT_FAIL, Error, Result, os_text};
use crate::services::Services;
use crate::sys::sock::{self, Local, Relay};
use clap::{Arg, ArgAction, Command};
use cli::{Config, Family, Mode};
use serde::Serialize;
use std::ffi::OsString;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

pub fn command() -> Command {
    let flag = |id: &'static str, short: char, help: &'static str| {
        Arg::new(id)
            .short(short)
            .action(ArgAction::SetTrue)
            .help(help)
    };
    let value = |id: &'static str, short: char, name: &'static str, help: &'static str| {
        Arg::new(id).short(short).value_name(name).help(help)
    };
    Command::new("nc")
        .about("OpenBSD netcat: connect, listen, scan ports (TCP, UDP, Unix)")
        .override_usage(
            "nc [-46CdhjklNnUuvz] [-M ttl] [-p source_port] [-q seconds] [-s sourceaddr]\n          [-w timeout] [destination] [port]",
        )
        .disable_help_flag(true)
        .disable_version_flag(true)
        .arg(flag("ipv4", '4', "Use IPv4"))
        .arg(flag("ipv6", '6', "Use IPv6"))
        .arg(flag("crlf", 'C', "Send CRLF as line-ending"))
        .arg(flag("detach", 'd', "Detach from stdin"))
        .arg(flag("help", 'h', "This help text"))
        .arg(flag("json", 'j', "With -z: the results as JSON (debugbox)"))
        .arg(flag("keep", 'k', "Keep inbound sockets open for multiple connects"))
        .arg(flag("listen", 'l', "Listen mode, for inbound connects"))
        .arg(value("ttl", 'M', "ttl", "Outgoing TTL / Hop Limit"))
        .arg(flag("shutdown", 'N', "Shutdown the network socket after EOF on stdin"))
        .arg(flag("numeric", 'n', "Suppress name/port resolutions"))
        .arg(value("port", 'p', "port", "Specify local port for remote connects"))
        .arg(value("quit", 'q', "secs", "quit after EOF on stdin and delay of secs"))
        .arg(value("source", 's', "sourceaddr", "Local source address"))
        .arg(flag("unix", 'U', "Use UNIX domain socket"))
        .arg(flag("udp", 'u', "UDP mode"))
        .arg(flag("verbose", 'v', "Verbose"))
        .arg(value("timeout", 'w', "timeout", "Timeout for connects and final net reads"))
        .arg(flag("zero", 'z', "Zero-I/O mode [used for scanning]"))
        .arg(Arg::new("destination").help("host to connect to (or, with -l, address to listen on)"))
        .arg(Arg::new("ports").num_args(0..).help("port, name or range (1-1024)"))
}

/// One `-z` result, for `-j`.
#[derive(Debug, Serialize)]
struct Probe {
    host: String,
    address: Option<String>,
    port: u16,
    protocol: &'static str,
    open: bool,
    error: Option<String>,
    time_ms: f64,
}

struct Ctx {
    cfg: Config,
    services: Services,
    resolver: Resolver<SocketTransport>,
}

impl Ctx {
    fn proto(&self) -> &'static str {
        if self.cfg.udp { "udp" } else { "tcp" }
    }

    fn local(&self) -> Local {
        Local {
            addr: self.cfg.source,
            port: self.cfg.source_port,
            ttl: self.cfg.ttl,
        }
    }

    fn relay(&self, listening: bool) -> Relay {
        Relay {
            no_stdin: self.cfg.no_stdin,
            shutdown_on_eof: self.cfg.shutdown_on_eof,
            quit_after: self.cfg.quit_after,
            idle: if listening { None } else { self.cfg.timeout },
            listening,
            crlf: self.cfg.crlf,
            datagram: self.cfg.udp,
        }
    }

    /// A peer's name for the -v lines: /etc/hosts or PTR (nc's getnameinfo), the address with -n.
    fn name_of(&mut self, ip: IpAddr) -> String {
        if self.cfg.numeric || ip.is_unspecified() {
            return ip.to_string();
        }
        self.resolver
            .reverse(ip, Duration::from_secs(2))
            .map(|n| n.trim_end_matches('.').to_string())
            .unwrap_or_else(|| ip.to_string())
    }

    fn resolve(&mut self, host: &str, port: u16) -> Result<Vec<IpAddr>> {
        let family = match self.cfg.family {
            Family::Any => dns::Family::Any,
            Family::V4 => dns::Family::V4,
            Family::V6 => dns::Family::V6,
        };
        let literal = host.parse::<IpAddr>().is_ok();
        let failed = |msg: &str| {
            Error::usage(format!(
                "getaddrinfo for host \"{host}\" port {port}: {msg}"
            ))
        };
        if self.cfg.numeric && !literal {
            return Err(failed("Name or service not known").hint("-n takes addresses only"));
        }
        let lookup = self.resolver.lookup_ip(host, family).result.map_err(|e| {
            failed(e.gai_message()).hint("nslookup --explain NAME shows each query")
        })?;
        Ok(dns::ordered(&lookup.addrs))
    }
}

fn warn(line: &str) {
    eprintln!("nc: {line}");
}

pub fn run(args: &[OsString]) -> Result<i32> {
    let args: Vec<String> = args
        .iter()
        .map(|a| {
            a.to_str()
                .map(str::to_string)
                .ok_or_else(|| Error::usage(format!("argument {a:?} is not UTF-8")))
        })
        .collect::<Result<_>>()?;
    let services = Services::system();
    let Some(cfg) = cli::parse(&args, &services)?
        .or_print(|| format!("nc from debugbox {}\n", env!("CARGO_PKG_VERSION")))?
    else {
        return Ok(0);
    };
    let mut ctx = Ctx {
        cfg,
        services,
        resolver: dns::system(),
    };
    match ctx.cfg.mode.clone() {
        Mode::Connect { host, ports } => connect(&mut ctx, &host, &ports),
        Mode::Listen { addr, port } => listen(&mut ctx, addr.as_deref(), port),
        Mode::Unix { path, listen } => unix(&ctx, &path, listen),
    }
}

fn connect(ctx: &mut Ctx, host: &str, ports: &[u16]) -> Result<i32> {
    let addrs = ctx.resolve(host, ports[0])?;
    let proto = ctx.proto();
    let mut any = false;
    let mut results = Vec::new();
    for &port in ports {
        let mut probe = Probe {
            host: host.to_string(),
            address: None,
            port,
            protocol: proto,
            open: false,
            error: None,
            time_ms: 0.0,
        };
        for &ip in &addrs {
            let shown = if host == ip.to_string() {
                ip.to_string()
            } else {
                format!("{host} ({ip})")
            };
            let dst = SocketAddr::new(ip, port);
            let start = Instant::now();
            let attempt = if ctx.cfg.udp {
                sock::connect_udp(dst, &ctx.local()).and_then(|s| {
                    if ctx.cfg.verbose {
                        sock::udp_probe(&s)?;
                    }
                    Ok(s)
                })
            } else {
                sock::connect_tcp(dst, &ctx.local(), ctx.cfg.timeout)
            };
            probe.address = Some(ip.to_string());
            probe.time_ms = start.elapsed().as_secs_f64() * 1e3;
            let s = match attempt {
                Ok(s) => s,
                Err(e) => {
                    let why = if e.kind() == io::ErrorKind::TimedOut {
                        "timed out: Operation now in progress".to_string()
                    } else {
                        format!("failed: {}", os_text(&e))
                    };
                    // nc's UDP test fails without a word.
                    if ctx.cfg.verbose && !ctx.cfg.udp {
                        warn(&format!("connect to {shown} port {port} ({proto}) {why}"));
                    }
                    probe.error = Some(why);
                    continue;
                }
            };
            any = true;
            probe.open = true;
            probe.error = None;
            if ctx.cfg.verbose {
                let service = match ctx.cfg.numeric {
                    true => None,
                    false => ctx.services.name(port, proto),
                };
                eprintln!(
                    "Connection to {shown} {port} port [{proto}/{}] succeeded!",
                    service.unwrap_or("*")
                );
            }
            if !ctx.cfg.scan {
                sock::relay(&s, &ctx.relay(false))
                    .map_err(|e| Error::local(format!("relay: {}", os_text(&e))))?;
                return Ok(0);
            }
            break;
        }
        results.push(probe);
    }
    if ctx.cfg.json {
        crate::output::print(&crate::output::json_line(&results))?;
    }
    Ok(if any { 0 } else { EXIT_FAIL })
}

fn listen(ctx: &mut Ctx, addr: Option<&str>, port: u16) -> Result<i32> {
    let ip = match addr {
        Some(a) => ctx.resolve(a, port)?[0],
        None if ctx.cfg.family == Family::V6 => IpAddr::from([0u16; 8]),
        None => IpAddr::from([0u8; 4]),
    };
    let bind = SocketAddr::new(ip, port);
    let l = sock::listen(bind, ctx.cfg.udp)
        .map_err(|e| Error::local(os_text(&e)).hint(format!("cannot listen on {bind}")))?;
    let bound = sock::local_addr(&l).unwrap_or(bind);
    if ctx.cfg.verbose {
        let word = if ctx.cfg.udp {
            "Bound on"
        } else {
            "Listening on"
        };
        let name = ctx.name_of(bound.ip());
        eprintln!("{word} {name} {}", bound.port());
    }
    loop {
        let (conn, peer) = if ctx.cfg.udp {
            let peer = sock::udp_first_peer(&l)
                .map_err(|e| Error::local(format!("recvfrom: {}", os_text(&e))))?;
            (None, Some(peer))
        } else {
            let (s, peer) =
                sock::accept(&l).map_err(|e| Error::local(format!("accept: {}", os_text(&e))))?;
            (Some(s), peer)
        };
        if ctx.cfg.verbose
            && let Some(p) = peer
        {
            let name = ctx.name_of(p.ip());
            eprintln!("Connection received on {name} {}", p.port());
        }
        let relay = ctx.relay(true);
        let r = match &conn {
            Some(s) => sock::relay(s, &relay),
            None => sock::relay(&l, &relay),
        };
        r.map_err(|e| Error::local(format!("relay: {}", os_text(&e))))?;
        if !ctx.cfg.keep || ctx.cfg.udp {
            return Ok(0);
        }
    }
}

fn unix(ctx: &Ctx, path: &str, listen: bool) -> Result<i32> {
    if !listen {
        let s = match sock::connect_unix(path) {
            Ok(s) => s,
            Err(e) => {
                if ctx.cfg.verbose {
                    warn(&format!("{path}: {}", os_text(&e)));
                }
                return Ok(EXIT_FAIL);
            }
        };
        if ctx.cfg.scan {
            return Ok(0);
        }
        sock::relay(&s, &ctx.relay(false))
            .map_err(|e| Error::local(format!("relay: {}", os_text(&e))))?;
        return Ok(0);
    }
    let l =
        sock::listen_unix(path).map_err(|e| Error::local(format!("{path}: {}", os_text(&e))))?;
    let result = (|| {
        loop {
            let (s, _) =
                sock::accept(&l).map_err(|e| Error::local(format!("accept: {}", os_text(&e))))?;
            sock::relay(&s, &ctx.relay(true))
                .map_err(|e| Error::local(format!("relay: {}", os_text(&e))))?;
            if !ctx.cfg.keep {
                return Ok(0);
            }
        }
    })();
    sock::remove_unix(path);
    result
}
