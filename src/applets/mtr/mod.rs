//! `mtr --report`: rounds of probes to every hop, then mtr 0.95's table of loss and round trips
//! per hop (or its JSON). The probes are traceroute's (crate::trace): ICMP echo by default,
//! `-u` UDP, `-T` TCP SYN, all unprivileged where the kernel allows and one flow per trace.
//! The live screen is not built in: every run is a report. Exit 0 when the destination
//! answered, 1 when not.

pub mod cli;
pub mod model;

use crate::error::{EXIT_FAIL, Error, Result, os_text};
use crate::output;
use crate::sys::process;
use crate::trace::probers::{self, IcmpProber, TcpProber, UdpProber};
use crate::trace::{self, Prober};
use cli::{Config, Method};
use std::collections::HashMap;
use std::ffi::OsString;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant, SystemTime};

pub use cli::command;

fn prober(cfg: &Config, dst: IpAddr) -> Result<Box<dyn Prober>> {
    let header = if dst.is_ipv6() { 48 } else { 28 };
    let data = cfg.packet_size.saturating_sub(header);
    let device = cfg.device.as_deref();
    Ok(match cfg.method {
        Method::Icmp => Box::new(IcmpProber::open(dst, device, cfg.source, data, 1).map_err(
            |e| {
                crate::icmp::open_error(
                    e,
                    dst.is_ipv6(),
                    "",
                    "use -u (UDP) or -T -P PORT (TCP), which need no privilege",
                )
            },
        )?),
        Method::Udp => Box::new(
            UdpProber::open(
                SocketAddr::new(dst, cfg.port.unwrap_or(probers::UDP_PORT)),
                device,
                cfg.source,
                0,
                data.max(4),
                false,
            )
            .map_err(|e| Error::local(format!("udp socket: {}", os_text(&e))))?,
        ),
        Method::Tcp => Box::new(TcpProber::new(
            SocketAddr::new(dst, cfg.port.unwrap_or(probers::TCP_PORT)),
            cfg.device.clone(),
            cfg.source,
            0,
        )),
    })
}

/// Probe every TTL in `first..=limit` once (as many at a time as the prober allows), for at
/// most `budget`. Returns (ttl, answer) pairs.
fn round(
    prober: &mut dyn Prober,
    ttls: std::ops::RangeInclusive<u8>,
    next_seq: &mut u32,
    budget: Duration,
    hops: &mut [model::Hop],
) -> std::io::Result<Vec<(u8, trace::Reply)>> {
    let deadline = Instant::now() + budget;
    let mut waiting: Vec<u8> = ttls.rev().collect();
    let mut in_flight: HashMap<u32, (u8, SystemTime)> = HashMap::new();
    let mut answers = vec![];
    loop {
        while in_flight.len() < prober.max_in_flight() {
            let Some(ttl) = waiting.pop() else { break };
            *next_seq += 1;
            let at = prober.send(*next_seq, ttl)?;
            hops[ttl as usize - 1].sent();
            in_flight.insert(*next_seq, (ttl, at));
        }
        let now = Instant::now();
        if in_flight.is_empty() || now >= deadline || process::interrupted() {
            break;
        }
        for (seq, reply) in prober.wait(deadline - now)? {
            if let Some((ttl, sent)) = in_flight.remove(&seq) {
                let usec = reply
                    .at
                    .duration_since(sent)
                    .unwrap_or_default()
                    .as_micros() as i64;
                hops[ttl as usize - 1].answer(reply.from, usec);
                answers.push((ttl, reply));
            }
        }
    }
    for seq in in_flight.keys() {
        prober.expire(*seq);
    }
    Ok(answers)
}

pub fn run(args: &[OsString]) -> Result<i32> {
    let Some(cfg) = cli::parse(args, process::is_root())?.or_print(|| {
        format!(
            "mtr from debugbox {} (mtr 0.95 report compatible)\n",
            env!("CARGO_PKG_VERSION")
        )
    })?
    else {
        return Ok(0);
    };
    let dst = trace::resolve(&cfg.target, cfg.v6, false)?;
    let v6 = dst.is_ipv6();
    let mut prober = prober(&cfg, dst)?;
    let started = SystemTime::now();
    let max = cfg.max_ttl as usize;
    let mut hops = vec![model::Hop::default(); max];
    let mut ends = vec![false; max];
    let mut limit = cfg.max_ttl;
    let mut seq = 0u32;
    process::catch_interrupt();
    for cycle in 0..cfg.cycles {
        if process::interrupted() {
            break;
        }
        let began = Instant::now();
        // A round waits for its answers at most one interval (and at least a second, so
        // that a slow hop is not counted lost on a fast schedule).
        let budget = cfg.interval.max(Duration::from_secs(1));
        let answers = round(
            prober.as_mut(),
            cfg.first_ttl..=limit,
            &mut seq,
            budget,
            &mut hops,
        )
        .map_err(|e| Error::local(format!("probe: {}", os_text(&e))))?;
        for (ttl, reply) in answers {
            let last = reply.from == dst || trace::meaning(v6, &reply.kind).is_some_and(|m| m.last);
            if last {
                ends[ttl as usize - 1] = true;
                limit = limit.min(ttl);
            }
        }
        if cycle + 1 < cfg.cycles {
            let spent = began.elapsed();
            if spent < cfg.interval {
                std::thread::sleep(cfg.interval - spent);
            }
        }
    }
    let count = model::shown(&hops, dst, &ends);
    let reached = count > 0 && hops[count - 1].addrs.contains(&dst);
    let local_host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "localhost".into());
    let mut names = (!cfg.numeric).then(crate::dns::Names::system);
    let show_ips = cfg.show_ips;
    let mut name = |ip: IpAddr| -> String {
        match names.as_mut().and_then(|n| n.lookup(ip)) {
            Some(n) if show_ips => format!("{n} ({ip})"),
            Some(n) => n,
            None => ip.to_string(),
        }
    };
    let report = model::Report {
        local_host: &local_host,
        hops: &hops,
        first: cfg.first_ttl as usize - 1,
        count,
        fields: &cfg.fields,
        wide: cfg.wide,
    };
    let text = if cfg.json {
        let value = report.json(&cfg.target, cfg.packet_size, cfg.cycles, &mut name);
        let mut buf = Vec::new();
        let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
        let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
        serde::Serialize::serialize(&value, &mut ser)
            .map_err(|e| Error::local(format!("json: {e}")))?;
        String::from_utf8_lossy(&buf).into_owned() + "\n"
    } else {
        format!(
            "Start: {}\n{}",
            output::Civil::utc(started).iso(),
            report.text(&mut name)
        )
    };
    output::print(&text)?;
    Ok(if reached { 0 } else { EXIT_FAIL })
}
