//! `ss`: who listens and who is connected, from NETLINK_SOCK_DIAG, printed as iproute2 6.1's ss
//! prints it (columns, widths, port names from /etc/services), with `-j` for JSON.
//!
//! Tables are listed in ss's order (unix, raw, udp, tcp), each family v4 then v6. The kernel
//! filters by state; the filter expression runs here on each socket (ss also compiles it to the
//! kernel's bytecode, which selects the same sockets).

pub mod cli;
pub mod columns;
pub mod filter;
pub mod model;
pub mod show;

use crate::error::{Error, Result};
use crate::output::ArrayWriter;
use crate::sys::sockdiag::SockDiag;
use clap::{Arg, ArgAction, Command};
use cli::{AF_INET, AF_INET6, AF_UNIX, Cmd, Db, Opts};
use columns::{COL_ADDR, COL_NETID, COL_PROC, COL_RECVQ, COL_SENDQ, COL_STATE, Columns};
use std::ffi::OsString;
use std::io;

pub fn command() -> Command {
    Command::new("ss")
        .about("list sockets (iproute2's ss: TCP, UDP, raw, Unix) over sock_diag")
        .override_usage("ss [ OPTIONS ] [ FILTER ]")
        .disable_help_flag(true)
        .arg(
            Arg::new("tcp")
                .short('t')
                .action(ArgAction::SetTrue)
                .help("TCP sockets"),
        )
        .arg(
            Arg::new("udp")
                .short('u')
                .action(ArgAction::SetTrue)
                .help("UDP sockets"),
        )
        .arg(
            Arg::new("listening")
                .short('l')
                .action(ArgAction::SetTrue)
                .help("listening sockets"),
        )
        .arg(
            Arg::new("all")
                .short('a')
                .action(ArgAction::SetTrue)
                .help("all sockets"),
        )
        .arg(
            Arg::new("numeric")
                .short('n')
                .action(ArgAction::SetTrue)
                .help("no service names"),
        )
        .arg(
            Arg::new("processes")
                .short('p')
                .action(ArgAction::SetTrue)
                .help("owning processes"),
        )
        .arg(
            Arg::new("json")
                .short('j')
                .action(ArgAction::SetTrue)
                .help("JSON (debugbox)"),
        )
        .arg(
            Arg::new("help")
                .short('h')
                .action(ArgAction::SetTrue)
                .help("usage"),
        )
        .arg(
            Arg::new("filter")
                .num_args(0..)
                .help("state and filter expression"),
        )
}

pub fn run(args: &[OsString]) -> Result<i32> {
    let args: Vec<String> = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let opts = match cli::parse(&args)? {
        Cmd::Help => {
            crate::output::print(cli::usage())?;
            return Ok(0);
        }
        Cmd::Version => {
            crate::output::print(&format!(
                "ss utility, debugbox-{}\n",
                env!("CARGO_PKG_VERSION")
            ))?;
            return Ok(0);
        }
        Cmd::Run(o) => o,
    };
    let write_err = |e: io::Error| Error::local(format!("cannot write output: {e}"));
    if opts.summary {
        crate::output::print(&summary())?;
        if opts.do_default && opts.filter.is_none() {
            return Ok(0);
        }
    }
    if opts.sel.dbs == 0 {
        eprintln!("ss: no socket tables to show with such filter.");
        return Ok(0);
    }
    if opts.sel.families == 0 {
        eprintln!("ss: no families to show with such filter.");
        return Ok(0);
    }
    if opts.sel.states == 0 {
        eprintln!("ss: no socket states to show with such filter.");
        return Ok(0);
    }
    let stdout = io::stdout();
    let mut sink = if opts.json {
        Sink::Json(ArrayWriter::new(stdout.lock(), true, false))
    } else {
        let screen = terminal_width();
        let mut cols = Columns::new(
            io::BufWriter::with_capacity(64 * 1024, stdout.lock()),
            screen,
        );
        let one = |bits: u32| bits & bits.wrapping_sub(1) == 0;
        if one(opts.sel.dbs) {
            cols.disable(COL_NETID);
        }
        if one(opts.sel.states) {
            cols.disable(COL_STATE);
        }
        if opts.header {
            cols.header().map_err(write_err)?;
        }
        Sink::Text(Box::new(cols))
    };
    list(&opts, &mut sink)?;
    match sink {
        Sink::Json(w) => w.finish().map_err(write_err)?,
        Sink::Text(c) => {
            c.finish().map_err(write_err)?;
        }
    }
    Ok(0)
}

enum Sink<'a> {
    Json(ArrayWriter<io::StdoutLock<'a>>),
    Text(Box<Columns<io::BufWriter<io::StdoutLock<'a>>>>),
}

impl Sink<'_> {
    fn push(&mut self, row: show::Row) -> io::Result<()> {
        match self {
            Sink::Json(w) => w.push(
                &serde_json::Value::Object(row.json.unwrap_or_default()),
                |_, _| {},
            ),
            Sink::Text(c) => {
                c.set(COL_NETID)?;
                c.out_str(row.netid);
                c.set(COL_STATE)?;
                c.out_str(row.state);
                c.set(COL_RECVQ)?;
                c.out_str(&row.recv_q);
                c.set(COL_SENDQ)?;
                c.out_str(&row.send_q);
                c.set(COL_ADDR)?;
                c.out(&crate::output::raw_bytes(&row.local));
                c.next()?;
                c.out_str(&row.local_port);
                c.next()?;
                c.out(&crate::output::raw_bytes(&row.peer));
                c.next()?;
                c.out_str(&row.peer_port);
                c.next()?;
                debug_assert_eq!(COL_PROC, 8);
                c.out(&crate::output::raw_bytes(&row.rest));
                Ok(())
            }
        }
    }
}

fn diag_error(e: io::Error) -> Error {
    Error::local(format!(
        "cannot list sockets over netlink (sock_diag): {}",
        crate::error::os_text(&e)
    ))
}

fn list(opts: &Opts, sink: &mut Sink) -> Result<()> {
    let services = crate::services::Services::system();
    let owners =
        (opts.processes || opts.threads).then(|| crate::sys::procs::socket_owners(opts.threads));
    let ephemeral = ephemeral_range();
    let ifname = |i: u32| crate::sys::netdev::name_of(i).unwrap_or_else(|| i.to_string());
    let mut resolver = opts.resolve.then(crate::dns::system);
    let resolver_cell = std::cell::RefCell::new(&mut resolver);
    let host_name = |a: std::net::IpAddr| -> Option<String> {
        let mut r = resolver_cell.borrow_mut();
        r.as_mut()?.reverse(a, std::time::Duration::from_secs(2))
    };
    let cgroups = std::cell::OnceCell::new();
    let cgroup = |id: u64| -> String {
        cgroups
            .get_or_init(crate::sys::procs::cgroup_paths)
            .get(&id)
            .cloned()
            .unwrap_or_else(|| format!("unreachable:{id:x}"))
    };
    let mut diag = SockDiag::open().map_err(diag_error)?;
    let write_err = |e: io::Error| Error::local(format!("cannot write output: {e}"));
    let emit = |s: &model::Sock, table: &'static str, sink: &mut Sink| -> io::Result<()> {
        if let Some(f) = &opts.filter
            && !filter::matches(f, s, ephemeral)
        {
            return Ok(());
        }
        let ctx = show::Ctx {
            opts,
            services: &services,
            owners: owners.as_ref(),
            ephemeral,
            table,
            ifname: &ifname,
            host_name: &host_name,
            cgroup: &cgroup,
        };
        sink.push(show::row(s, &ctx))
    };
    let sel = &opts.sel;
    let closed = sel.states & (1 << cli::SS_CLOSE) != 0;
    if sel.has_db(Db::Netlink) && sel.has_family(cli::AF_NETLINK) && closed {
        // struct netlink_diag_req: family, protocol (all), pad, ino, show (groups, meminfo),
        // cookie.
        let mut req = [0u8; 20];
        req[0] = libc::AF_NETLINK as u8;
        req[1] = 255;
        req[8..12].copy_from_slice(&(1u32 | 2).to_ne_bytes());
        req[12..20].fill(0xff);
        diag.raw(&req, |bytes| match model::from_netlink(bytes) {
            Some(s) => emit(&s, "netlink", sink),
            None => Ok(()),
        })
        .map_err(diag_error)?;
    }
    if (sel.has_db(Db::PacketRaw) || sel.has_db(Db::PacketDgram))
        && sel.has_family(cli::AF_PACKET)
        && closed
    {
        // struct packet_diag_req: show info, mclist, rings, fanout, meminfo, filter.
        let mut req = [0u8; 20];
        req[0] = libc::AF_PACKET as u8;
        req[8..12].copy_from_slice(&(0x01u32 | 0x04 | 0x08 | 0x10 | 0x20).to_ne_bytes());
        req[12..20].fill(0xff);
        diag.raw(&req, |bytes| match model::from_packet(bytes) {
            Some(s) => {
                let wanted = if s.kind as i32 == libc::SOCK_RAW {
                    sel.has_db(Db::PacketRaw)
                } else {
                    sel.has_db(Db::PacketDgram)
                };
                if wanted {
                    emit(&s, "packet", sink)
                } else {
                    Ok(())
                }
            }
            None => Ok(()),
        })
        .map_err(diag_error)?;
    }
    if sel.dbs & cli::UNIX_DBM != 0 && sel.has_family(AF_UNIX) {
        const UDIAG_SHOW_NAME: u32 = 1;
        const UDIAG_SHOW_VFS: u32 = 2;
        const UDIAG_SHOW_PEER: u32 = 4;
        const UDIAG_SHOW_ICONS: u32 = 8;
        const UDIAG_SHOW_RQLEN: u32 = 16;
        const UDIAG_SHOW_MEMINFO: u32 = 32;
        let mut show = UDIAG_SHOW_NAME | UDIAG_SHOW_PEER | UDIAG_SHOW_RQLEN;
        if opts.mem {
            show |= UDIAG_SHOW_MEMINFO;
        }
        if opts.details > 0 {
            show |= UDIAG_SHOW_VFS | UDIAG_SHOW_ICONS;
        }
        diag.unix(sel.states, show, |a| {
            let s = model::from_answer(&a, 0);
            let wanted = match s.kind as i32 {
                libc::SOCK_STREAM => sel.has_db(Db::UnixStream),
                libc::SOCK_DGRAM => sel.has_db(Db::UnixDgram),
                libc::SOCK_SEQPACKET => sel.has_db(Db::UnixSeqpacket),
                _ => true,
            };
            if !wanted {
                return Ok(());
            }
            emit(&s, "unix", sink)
        })
        .map_err(|e| {
            if e.kind() == io::ErrorKind::Other {
                write_err(e)
            } else {
                diag_error(e)
            }
        })?;
    }
    for (db, protocol, table) in [
        (Db::Raw, libc::IPPROTO_RAW as u8, "raw"),
        (Db::Udp, libc::IPPROTO_UDP as u8, "udp"),
        (Db::Tcp, libc::IPPROTO_TCP as u8, "tcp"),
    ] {
        if !sel.has_db(db) || !(sel.has_family(AF_INET) || sel.has_family(AF_INET6)) {
            continue;
        }
        let families: &[u32] = match opts.family {
            AF_INET => &[AF_INET],
            AF_INET6 => &[AF_INET6],
            _ => &[AF_INET, AF_INET6],
        };
        let mut ext = 0u8;
        if opts.mem {
            ext |= 1 << 0; // INET_DIAG_MEMINFO
            ext |= 1 << 6; // INET_DIAG_SKMEMINFO
        }
        if opts.info {
            ext |= 1 << 1; // INET_DIAG_INFO
            ext |= 1 << 2; // INET_DIAG_VEGASINFO
            ext |= 1 << 3; // INET_DIAG_CONG
        }
        if opts.tos {
            ext |= 1 << 4; // INET_DIAG_TOS
            ext |= 1 << 5; // INET_DIAG_TCLASS
        }
        for fam in families {
            let r = diag.inet(*fam as u8, protocol, sel.states, ext, |a| {
                let s = model::from_answer(&a, if table == "raw" { 0 } else { protocol });
                if !sel.has_family(s.family) {
                    return Ok(());
                }
                emit(&s, table, sink)
            });
            match r {
                Ok(()) => {}
                // A kernel without raw_diag (or IPv6) answers ENOENT: nothing to list, as ss.
                Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {}
                Err(e) => return Err(diag_error(e)),
            }
        }
    }
    Ok(())
}

/// /proc/sys/net/ipv4/ip_local_port_range (ss's is_ephemeral; 1024-4999 when unreadable).
fn ephemeral_range() -> (u32, u32) {
    let text = crate::sys::files::read_bounded(
        std::path::Path::new("/proc/sys/net/ipv4/ip_local_port_range"),
        256,
    )
    .ok()
    .map(|b| String::from_utf8_lossy(&b).into_owned())
    .unwrap_or_default();
    let mut it = text
        .split_whitespace()
        .filter_map(|w| w.parse::<u32>().ok());
    match (it.next(), it.next()) {
        (Some(a), Some(b)) if a > 0 => (a, b),
        _ => (1024, 4999),
    }
}

fn terminal_width() -> Option<usize> {
    use std::io::IsTerminal;
    if !io::stdout().is_terminal() {
        return None;
    }
    crate::sys::process::terminal_columns()
}

/// print_summary: /proc/net/sockstat, sockstat6 and snmp.
fn summary() -> String {
    let read = |p: &str| {
        crate::sys::files::read_bounded(std::path::Path::new(p), 1 << 20)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    };
    summary_text(
        &read("/proc/net/sockstat"),
        &read("/proc/net/sockstat6"),
        &read("/proc/net/snmp"),
    )
}

/// The summary from the three files' text (pure, for tests).
pub fn summary_text(sockstat: &str, sockstat6: &str, snmp: &str) -> String {
    #[derive(Default)]
    struct S {
        socks: i64,
        tcp_mem: i64,
        tcp_total: i64,
        tcp_orphans: i64,
        tcp_tws: i64,
        tcp4: i64,
        udp4: i64,
        raw4: i64,
        frag4: i64,
        tcp6: i64,
        udp6: i64,
        raw6: i64,
        frag6: i64,
    }
    let mut s = S::default();
    // `%*s%d…`: the numbers after every other word.
    let nums = |rest: &str| -> Vec<i64> {
        rest.split_whitespace()
            .skip(1)
            .step_by(2)
            .map(|w| w.parse().unwrap_or(0))
            .collect()
    };
    for line in sockstat.lines().chain(sockstat6.lines()) {
        let Some((id, rest)) = line.split_once(' ') else {
            continue;
        };
        let n = nums(rest);
        let g = |i: usize| n.get(i).copied().unwrap_or(0);
        match id {
            "sockets:" => s.socks = g(0),
            "UDP:" => s.udp4 = g(0),
            "UDP6:" => s.udp6 = g(0),
            "RAW:" => s.raw4 = g(0),
            "RAW6:" => s.raw6 = g(0),
            "TCP6:" => s.tcp6 = g(0),
            "FRAG:" => s.frag4 = g(0),
            "FRAG6:" => s.frag6 = g(0),
            "TCP:" => {
                s.tcp4 = g(0);
                s.tcp_orphans = g(1);
                s.tcp_tws = g(2);
                s.tcp_total = g(3);
                s.tcp_mem = g(4);
            }
            _ => {}
        }
    }
    let _ = s.tcp_mem;
    // get_snmp_int("Tcp:", "CurrEstab"): the key's column in the header line, then the value.
    let mut estab = 0i64;
    let mut lines = snmp.lines();
    while let Some(head) = lines.next() {
        if !head.starts_with("Tcp:") {
            continue;
        }
        let Some(pos) = head.split(' ').position(|w| w == "CurrEstab") else {
            continue;
        };
        if let Some(values) = lines.next() {
            estab = values
                .split(' ')
                .nth(pos)
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
        }
        break;
    }
    let mut out = String::new();
    use std::fmt::Write as _;
    let _ = writeln!(out, "Total: {}", s.socks);
    let _ = writeln!(
        out,
        "TCP:   {} (estab {}, closed {}, orphaned {}, timewait {})",
        s.tcp_total + s.tcp_tws,
        estab,
        s.tcp_total - (s.tcp4 + s.tcp6 - s.tcp_tws),
        s.tcp_orphans,
        s.tcp_tws
    );
    out.push('\n');
    out.push_str("Transport Total     IP        IPv6\n");
    let row = |out: &mut String, name: &str, a: i64, b: i64| {
        let _ = writeln!(out, "{name}\t  {:<9} {:<9} {:<9}", a + b, a, b);
    };
    row(&mut out, "RAW", s.raw4, s.raw6);
    row(&mut out, "UDP", s.udp4, s.udp6);
    row(&mut out, "TCP", s.tcp4, s.tcp6);
    row(
        &mut out,
        "INET",
        s.raw4 + s.udp4 + s.tcp4,
        s.raw6 + s.udp6 + s.tcp6,
    );
    row(&mut out, "FRAG", s.frag4, s.frag6);
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_as_ss() {
        let text = summary_text(
            "sockets: used 120\nTCP: inuse 5 orphan 0 tw 2 alloc 9 mem 1\nUDP: inuse 3 mem 2\nUDPLITE: inuse 0\nRAW: inuse 1\nFRAG: inuse 0 memory 0\n",
            "TCP6: inuse 4\nUDP6: inuse 2\nUDPLITE6: inuse 0\nRAW6: inuse 0\nFRAG6: inuse 0 memory 0\n",
            "Ip: Forwarding DefaultTTL\nIp: 1 64\nTcp: RtoAlgorithm RtoMin CurrEstab\nTcp: 1 200 3\n",
        );
        assert_eq!(
            text,
            "Total: 120\nTCP:   11 (estab 3, closed 2, orphaned 0, timewait 2)\n\n\
             Transport Total     IP        IPv6\n\
             RAW\t  1         1         0        \n\
             UDP\t  5         3         2        \n\
             TCP\t  9         5         4        \n\
             INET\t  15        9         6        \n\
             FRAG\t  0         0         0        \n\n"
        );
    }
}
