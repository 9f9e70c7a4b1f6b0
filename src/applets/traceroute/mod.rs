//! `traceroute`: the hops to a host, as Debian's traceroute 2.1 prints them, with UDP (default),
//! ICMP (`-I`) or TCP SYN (`-T`) probes that need no privilege (the error queue carries the
//! routers' answers) and keep one flow per trace (Paris traceroute, see crate::trace::probers).
//! Exit 0 when the destination answered, 1 when it did not (traceroute itself always exits 0).

pub mod cli;
pub mod model;

use crate::dns;
use crate::error::{EXIT_FAIL, Error, Result, os_text};
use crate::output;
use crate::sys::process;
use crate::trace::probers::{self, IcmpProber, TcpProber, UdpProber};
use crate::trace::{self, Prober};
use cli::Method;
use std::ffi::OsString;
use std::io::{self, Write};
use std::net::{IpAddr, SocketAddr};

pub use cli::command;

pub fn run(args: &[OsString]) -> Result<i32> {
    let Some(cfg) = cli::parse(args)?.or_print(|| {
        format!(
            "traceroute from debugbox {} (traceroute 2.1 compatible)\n",
            env!("CARGO_PKG_VERSION")
        )
    })?
    else {
        return Ok(0);
    };
    // traceroute takes IPv4 when a name has both, unless told otherwise.
    let dst = trace::resolve(&cfg.target, cfg.v6, true)?;
    let v6 = dst.is_ipv6();
    let ip_header = if v6 { 40 } else { 20 };
    // What follows the IP header: 8 bytes of UDP or ICMP header and 32 of data by default; a
    // SYN is 40 bytes of TCP header with its options and no data.
    let transport = if cfg.method == Method::Tcp { 40 } else { 8 };
    let default_data = if cfg.method == Method::Tcp { 0 } else { 32 };
    let data_len = match cfg.packet_len {
        Some(n) if n >= ip_header + transport => n - ip_header - transport,
        Some(_) => 0,
        None => default_data,
    };
    let data_len = if cfg.method == Method::Udp {
        data_len.max(4)
    } else {
        data_len
    };
    let data_len = if cfg.method == Method::Tcp {
        0
    } else {
        data_len
    };
    let packet_size = ip_header + transport + data_len;
    let device = cfg.device.as_deref();
    let mut prober: Box<dyn Prober> = match cfg.method {
        Method::Udp => Box::new(
            UdpProber::open(
                SocketAddr::new(dst, cfg.port.unwrap_or(probers::UDP_PORT)),
                device,
                cfg.source,
                cfg.source_port,
                data_len,
                cfg.dont_fragment,
            )
            .map_err(|e| socket_error(&e))?,
        ),
        Method::Icmp => Box::new(
            IcmpProber::open(dst, device, cfg.source, data_len, cfg.port.unwrap_or(1))
                .map_err(|e| {
                    crate::icmp::open_error(
                        e,
                        v6,
                        " for -I",
                        "trace with UDP (no flag) or TCP (-T -p PORT), or set the sysctl net.ipv4.ping_group_range=\"0 2147483647\"",
                    )
                })?,
        ),
        Method::Tcp => Box::new(TcpProber::new(
            SocketAddr::new(dst, cfg.port.unwrap_or(probers::TCP_PORT)),
            cfg.device.clone(),
            cfg.source,
            cfg.source_port,
        )),
    };

    let mut names = (!cfg.numeric).then(dns::Names::system);
    // traceroute: `NAME (ADDR)`, the address standing in for a name it has not; -n: `ADDR`.
    let mut name = |ip: IpAddr| -> String {
        match names.as_mut() {
            None => ip.to_string(),
            Some(n) => format!("{} ({ip})", n.lookup(ip).unwrap_or_else(|| ip.to_string())),
        }
    };
    let method = match cfg.method {
        Method::Udp => "udp",
        Method::Icmp => "icmp",
        Method::Tcp => "tcp",
    };
    process::catch_interrupt();
    let stdout = io::stdout();
    let mut out = output::Watched::new(stdout.lock());
    let mut hops: Vec<model::HopView> = Vec::new();
    if !cfg.json {
        write!(
            out,
            "{}",
            model::header(&cfg.target, dst, cfg.plan.max, packet_size)
        )
        .and_then(|_| out.flush())
        .map_err(out_err)?;
    }
    let reached = trace::trace(
        prober.as_mut(),
        &cfg.plan,
        v6,
        &process::interrupted,
        &mut |hop, i| {
            if cfg.json {
                if i == 0 {
                    hops.push(model::HopView {
                        ttl: hop[0].ttl,
                        probes: vec![],
                    });
                }
                let shown = hop[i]
                    .reply
                    .as_ref()
                    .filter(|_| !cfg.numeric)
                    .map(|r| name(r.from));
                if let Some(h) = hops.last_mut() {
                    h.probes.push(model::ProbeView::of(&hop[i], shown));
                }
                return Ok(());
            }
            write!(out, "{}", model::probe_text(hop, i, &mut name))?;
            out.flush()
        },
    )
    .map_err(|e| {
        if out.failed {
            out_err(e)
        } else {
            socket_error(&e)
        }
    })?;
    if cfg.json {
        let view = model::TraceView {
            target: cfg.target.clone(),
            address: dst,
            method,
            max_hops: cfg.plan.max,
            packet_size,
            hops,
            reached,
        };
        write!(out, "{}", output::json_line(&view)).map_err(out_err)?;
    } else {
        writeln!(out).map_err(out_err)?;
    }
    out.flush().map_err(out_err)?;
    Ok(if reached { 0 } else { EXIT_FAIL })
}

fn out_err(e: io::Error) -> Error {
    Error::local(format!("cannot write output: {}", os_text(&e)))
}

fn socket_error(e: &io::Error) -> Error {
    match e.raw_os_error() {
        Some(libc::ENODEV) => Error::local(format!("setsockopt SO_BINDTODEVICE: {}", os_text(e)))
            .hint("ip link shows the interfaces"),
        Some(libc::EADDRNOTAVAIL) => {
            Error::local(format!("bind: {}", os_text(e))).hint("-s must be an address of this host")
        }
        Some(libc::ENETUNREACH) => Error::new(EXIT_FAIL, format!("send: {}", os_text(e)))
            .hint("ip route get ADDRESS shows the route the kernel would take"),
        _ => Error::local(format!("send probe: {}", os_text(e))),
    }
}
