//! One socket as ss prints it (sock_state_print, inet_addr_print, unix_stats_print,
//! proc_ctx_print, tcp_timer_print, sock_details_print, print_skmeminfo, tcp_show_info), as a
//! row of column texts plus the same facts as a JSON object for `-j`.

use super::cli::{AF_INET6, AF_UNIX, Opts};
use super::model::{LinkSock, Sock};
use crate::sys::procs::Owners;
use serde_json::{Map, Value, json};
use std::fmt::Write;
use std::net::IpAddr;

/// A row's JSON object: None unless `-j` asked for it, so text output builds none.
pub type Obj = Option<Map<String, Value>>;

/// Insert into an `Obj` when there is one; the value is not even computed otherwise.
macro_rules! put {
    ($obj:expr, $key:expr, $value:expr $(,)?) => {
        if let Some(m) = $obj.as_mut() {
            m.insert($key, $value);
        }
    };
}

/// What printing needs besides the socket: names of ports and devices, owners, the local port
/// range, and the table being listed.
pub struct Ctx<'a> {
    pub opts: &'a Opts,
    pub services: &'a crate::services::Services,
    pub owners: Option<&'a Owners>,
    pub ephemeral: (u32, u32),
    /// "tcp", "udp" or "raw": the table (ss's dg_proto) for service names.
    pub table: &'static str,
    pub ifname: &'a dyn Fn(u32) -> String,
    pub host_name: &'a dyn Fn(IpAddr) -> Option<String>,
    /// cg_id_to_path.
    pub cgroup: &'a dyn Fn(u64) -> String,
}

/// The texts of one socket's columns (Netid … Process) and its JSON object.
pub struct Row {
    pub netid: &'static str,
    pub state: &'static str,
    pub recv_q: String,
    pub send_q: String,
    pub local: String,
    pub local_port: String,
    pub peer: String,
    pub peer_port: String,
    /// Everything after the addresses: users, timer, details, memory, TCP information.
    pub rest: String,
    /// The JSON object, built only for `-j`.
    pub json: Obj,
}

const STATES: [&str; 12] = [
    "UNKNOWN",
    "ESTAB",
    "SYN-SENT",
    "SYN-RECV",
    "FIN-WAIT-1",
    "FIN-WAIT-2",
    "TIME-WAIT",
    "UNCONN",
    "CLOSE-WAIT",
    "LAST-ACK",
    "LISTEN",
    "CLOSING",
];

fn netid(s: &Sock) -> &'static str {
    if s.family == AF_UNIX {
        return match s.kind as i32 {
            libc::SOCK_STREAM => "u_str",
            libc::SOCK_SEQPACKET => "u_seq",
            _ => "u_dgr",
        };
    }
    match s.kind {
        0 => "raw",
        17 => "udp",
        6 => "tcp",
        132 => "sctp",
        33 => "dccp",
        58 => "icmp6",
        _ => "???",
    }
}

/// C's `%g` (and `%.Ng`): N significant digits, trailing zeros dropped, an exponent when the
/// number is very small or large.
pub fn fmt_g(x: f64, precision: usize) -> String {
    if x == 0.0 {
        return "0".into();
    }
    if !x.is_finite() {
        return if x.is_nan() {
            "nan".into()
        } else if x > 0.0 {
            "inf".into()
        } else {
            "-inf".into()
        };
    }
    let p = precision.max(1);
    let exp = {
        // The exponent after rounding to p significant digits.
        let s = format!("{:.*e}", p - 1, x);
        s.rsplit('e')
            .next()
            .and_then(|e| e.parse::<i32>().ok())
            .unwrap_or(0)
    };
    if exp < -4 || exp >= p as i32 {
        let s = format!("{:.*e}", p - 1, x);
        let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
        let m = trim_zeros(m);
        let e: i32 = e.parse().unwrap_or(0);
        format!("{m}e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs())
    } else {
        let decimals = (p as i32 - 1 - exp).max(0) as usize;
        trim_zeros(&format!("{x:.decimals$}")).to_string()
    }
}

fn trim_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// print_ms_timer.
pub fn ms_timer(timeout: u32) -> String {
    let mut secs = timeout / 1000;
    let minutes = secs / 60;
    secs %= 60;
    let mut msecs = timeout % 1000;
    let mut out = String::new();
    if minutes > 0 {
        msecs = 0;
        let _ = write!(out, "{minutes}min");
        if minutes > 9 {
            secs = 0;
        }
    }
    if secs > 0 {
        if secs > 9 {
            msecs = 0;
        }
        let _ = write!(out, "{secs}{}", if msecs > 0 { "." } else { "sec" });
    }
    if msecs > 0 {
        let _ = write!(out, "{msecs:03}ms");
    }
    out
}

/// sprint_bw.
pub fn bw(v: f64, numeric: bool) -> String {
    if numeric {
        format!("{v:.0}")
    } else if v >= 1e12 {
        format!("{}T", fmt_g(v / 1e12, 3))
    } else if v >= 1e9 {
        format!("{}G", fmt_g(v / 1e9, 3))
    } else if v >= 1e6 {
        format!("{}M", fmt_g(v / 1e6, 3))
    } else if v >= 1e3 {
        format!("{}k", fmt_g(v / 1e3, 3))
    } else {
        fmt_g(v, 6)
    }
}

impl Ctx<'_> {
    /// resolve_service.
    fn service(&self, port: u32) -> String {
        if port == 0 {
            return "*".into();
        }
        if self.opts.numeric {
            return port.to_string();
        }
        if self.table == "raw" {
            return crate::services::ip_protocol_name(port as u8, false);
        }
        let ephemeral = port >= self.ephemeral.0 && port <= self.ephemeral.1;
        if !ephemeral && let Some(n) = self.services.name(port as u16, self.table) {
            return n.to_string();
        }
        port.to_string()
    }

    /// inet_addr_print's address part.
    fn inet_addr(&self, s: &Sock, a: Option<&IpAddr>) -> String {
        let Some(a) = a else { return "*".into() };
        if s.family == AF_INET6 {
            if !s.v6only.unwrap_or(false) && a.is_unspecified() {
                return "*".into();
            }
            let text = self.host(a);
            if text.contains(':') {
                return format!("[{text}]");
            }
            return text;
        }
        self.host(a)
    }

    /// format_host: numeric unless -r.
    fn host(&self, a: &IpAddr) -> String {
        if self.opts.resolve
            && !a.is_unspecified()
            && let Some(n) = (self.host_name)(*a)
        {
            return n;
        }
        a.to_string()
    }
}

pub fn row(s: &Sock, ctx: &Ctx) -> Row {
    match &s.link {
        Some(LinkSock::Netlink { .. }) => return netlink_row(s, ctx),
        Some(LinkSock::Packet { .. }) => return packet_row(s, ctx),
        _ => {}
    }
    let opts = ctx.opts;
    let mut json = opts.json.then(Map::new);
    let netid = netid(s);
    let state = STATES.get(s.state as usize).copied().unwrap_or("UNKNOWN");
    put!(json, "netid".into(), json!(netid));
    put!(json, "state".into(), json!(state));
    put!(json, "recv_q".into(), json!(s.recv_q));
    put!(json, "send_q".into(), json!(s.send_q));
    let (local, local_port, peer, peer_port);
    if s.family == AF_UNIX {
        let name = s
            .name
            .as_deref()
            .map(crate::output::raw_text)
            .unwrap_or_else(|| "*".into());
        local = format!("{name} ");
        local_port = s.lport.to_string();
        peer = "* ".to_string();
        peer_port = s.rport.to_string();
        put!(json, "local_address".into(), json!(name));
        put!(json, "local_port".into(), json!(s.lport));
        put!(json, "peer_address".into(), json!("*"));
        put!(json, "peer_port".into(), json!(s.rport));
    } else {
        let la = ctx.inet_addr(s, s.local.as_ref());
        local = match s.iface {
            0 => format!("{la}:"),
            i => format!("{la}%{}:", (ctx.ifname)(i)),
        };
        local_port = ctx.service(s.lport);
        let ra = ctx.inet_addr(s, s.remote.as_ref());
        peer = format!("{ra}:");
        peer_port = ctx.service(s.rport);
        put!(json, "local_address".into(), json!(la));
        if s.iface != 0 {
            put!(json, "interface".into(), json!((ctx.ifname)(s.iface)));
        }
        put!(json, "local_port".into(), json!(local_port));
        put!(json, "peer_address".into(), json!(ra));
        put!(json, "peer_port".into(), json!(peer_port));
    }
    let mut rest = String::new();
    if let Some(owners) = ctx.owners
        && let Some(list) = owners.get(&s.inode)
        && s.inode != 0
    {
        let parts: Vec<String> = list
            .iter()
            .map(|o| {
                if opts.threads {
                    format!("(\"{}\",pid={},tid={},fd={})", o.comm, o.pid, o.tid, o.fd)
                } else {
                    format!("(\"{}\",pid={},fd={})", o.comm, o.pid, o.fd)
                }
            })
            .collect();
        let _ = write!(rest, " users:({})", parts.join(","));
        put!(
            json,
            "users".into(),
            list.iter()
                .map(|o| json!({"name": o.comm, "pid": o.pid, "fd": o.fd}))
                .collect()
        );
    }
    if s.family == AF_UNIX {
        unix_rest(s, opts, &mut rest, &mut json);
    } else {
        inet_rest(s, ctx, &mut rest, &mut json);
    }
    Row {
        netid,
        state,
        recv_q: format!("{:<6}", s.recv_q as i32),
        send_q: format!("{:<6}", s.send_q as i32),
        local,
        local_port,
        peer,
        peer_port,
        rest,
        json,
    }
}

/// nl_proto_n2a.
fn netlink_protocol(p: u8, numeric: bool) -> String {
    const NAMES: [&str; 23] = [
        "rtnl",
        "unused",
        "usersock",
        "fw",
        "tcpdiag",
        "nflog",
        "xfrm",
        "selinux",
        "iscsi",
        "audit",
        "fiblookup",
        "connector",
        "nft",
        "ip6fw",
        "dec-rt",
        "uevent",
        "genl",
        "",
        "scsi-trans",
        "ecryptfs",
        "rdma",
        "crypto",
        "smc",
    ];
    match NAMES.get(p as usize) {
        Some(n) if !numeric && !n.is_empty() => n.to_string(),
        _ => p.to_string(),
    }
}

fn empty_row(s: &Sock, netid: &'static str, json: bool) -> Row {
    let mut json = json.then(Map::new);
    put!(json, "netid".into(), json!(netid));
    put!(json, "state".into(), json!("UNCONN"));
    put!(json, "recv_q".into(), json!(s.recv_q));
    put!(json, "send_q".into(), json!(s.send_q));
    Row {
        netid,
        state: "UNCONN",
        recv_q: format!("{:<6}", s.recv_q as i32),
        send_q: format!("{:<6}", s.send_q as i32),
        local: String::new(),
        local_port: String::new(),
        peer: "*".into(),
        peer_port: String::new(),
        rest: String::new(),
        json,
    }
}

/// netlink_show_one.
fn netlink_row(s: &Sock, ctx: &Ctx) -> Row {
    let Some(LinkSock::Netlink {
        protocol,
        portid,
        state,
        dst_group,
        dst_portid,
        groups,
    }) = s.link.clone()
    else {
        return empty_row(s, "nl", ctx.opts.json);
    };
    let opts = ctx.opts;
    let mut r = empty_row(s, "nl", ctx.opts.json);
    let proto = netlink_protocol(protocol, opts.numeric);
    let process = if portid == -1 {
        "*".to_string()
    } else if opts.numeric {
        portid.to_string()
    } else if portid == 0 {
        "kernel".to_string()
    } else {
        match crate::sys::procs::comm_of(portid) {
            Some(comm) => format!("{comm}/{portid}"),
            None => portid.to_string(),
        }
    };
    r.local = format!("{proto}:");
    r.local_port = process.clone();
    put!(r.json, "local_address".into(), json!(proto));
    put!(r.json, "local_port".into(), json!(process));
    // NETLINK_CONNECTED
    if state == 1 {
        r.peer = format!("{dst_group}:");
        r.peer_port = dst_portid.to_string();
        put!(r.json, "peer_address".into(), json!(dst_group));
        put!(r.json, "peer_port".into(), json!(dst_portid));
    }
    if opts.details > 0 {
        let _ = write!(r.rest, " sk=0 cb=0 groups=0x{groups:08x}");
        put!(r.json, "groups".into(), json!(groups));
    }
    if opts.mem
        && let Some(m) = &s.skmem
    {
        r.rest.push('\t');
        skmem(m, &mut r.rest, &mut r.json);
    }
    r
}

/// packet_stats_print and packet_show_sock.
fn packet_row(s: &Sock, ctx: &Ctx) -> Row {
    let Some(LinkSock::Packet {
        protocol,
        info,
        rx_ring,
        tx_ring,
        fanout,
    }) = s.link.clone()
    else {
        return empty_row(s, "p_raw", ctx.opts.json);
    };
    let opts = ctx.opts;
    let netid = if s.kind as i32 == libc::SOCK_RAW {
        "p_raw"
    } else {
        "p_dgr"
    };
    let mut r = empty_row(s, netid, ctx.opts.json);
    let proto = if protocol == 3 {
        "*".to_string()
    } else {
        crate::services::ll_protocol_name(protocol)
    };
    let dev = if s.iface == 0 {
        "*".to_string()
    } else {
        (ctx.ifname)(s.iface)
    };
    r.local = format!("{proto}:");
    r.local_port = dev.clone();
    put!(r.json, "local_address".into(), json!(proto));
    put!(r.json, "local_port".into(), json!(dev));
    if let Some(owners) = ctx.owners
        && let Some(list) = owners.get(&s.inode)
    {
        let parts: Vec<String> = list
            .iter()
            .map(|o| format!("(\"{}\",pid={},fd={})", o.comm, o.pid, o.fd))
            .collect();
        let _ = write!(r.rest, " users:({})", parts.join(","));
    }
    let nl = if opts.oneline { " " } else { "\n\t" };
    if opts.details > 0 {
        if s.uid != 0 {
            let _ = write!(r.rest, " uid:{}", s.uid);
        }
        let _ = write!(r.rest, " ino:{} sk:{:x}", s.inode, s.cookie);
        if let Some(i) = info {
            let _ = write!(r.rest, "{nl}ver:{} cpy_thresh:{} flags( ", i[1], i[3]);
            let flags = i[5];
            for (bit, word) in [
                (1, "running"),
                (2, " auxdata"),
                (4, " origdev"),
                (8, " vnethdr"),
                (16, " loss"),
            ] {
                if flags & bit != 0 {
                    r.rest.push_str(word);
                }
            }
            if flags == 0 {
                r.rest.push('0');
            }
            r.rest.push_str(" )");
        }
        for (name, ring) in [("ring_rx", rx_ring), ("ring_tx", tx_ring)] {
            if let Some(g) = ring {
                let _ = write!(
                    r.rest,
                    "{nl}{name}(blk_size:{},blk_nr:{},frm_size:{},frm_nr:{},tmo:{},features:0x{:x})",
                    g[0] as i32, g[1] as i32, g[2] as i32, g[3] as i32, g[4] as i32, g[5]
                );
            }
        }
        if let Some(f) = fanout {
            let kind = match (f >> 16) & 0xffff {
                0 => "hash".to_string(),
                1 => "lb".to_string(),
                2 => "cpu".to_string(),
                3 => "roll".to_string(),
                4 => "random".to_string(),
                5 => "qm".to_string(),
                t => format!("0x{t:x}"),
            };
            let _ = write!(r.rest, "{nl}fanout(id:{},type:{kind})", f & 0xffff);
        }
    }
    if opts.mem
        && let Some(m) = &s.skmem
    {
        skmem(m, &mut r.rest, &mut r.json);
    }
    r
}

fn shutdown_text(mask: u8) -> String {
    format!(
        " {}-{}",
        if mask & 1 != 0 { '-' } else { '<' },
        if mask & 2 != 0 { '-' } else { '>' }
    )
}

fn unix_rest(s: &Sock, opts: &Opts, rest: &mut String, json: &mut Obj) {
    if opts.mem
        && let Some(m) = &s.skmem
    {
        skmem(m, rest, json);
    }
    if opts.details > 0 {
        if let Some(m) = s.shutdown {
            rest.push_str(&shutdown_text(m));
            put!(json, "shutdown".into(), json!(m));
        }
        if let Some((ino, dev)) = s.vfs {
            let (major, minor) = (libc::major(dev as u64), libc::minor(dev as u64));
            let _ = write!(rest, " ino:{ino} dev:{major}/{minor}");
            put!(
                json,
                "vfs".into(),
                json!({"inode": ino, "dev": format!("{major}/{minor}")}),
            );
        }
        if let Some(peers) = &s.icons {
            rest.push_str(" peers:");
            for p in peers {
                let _ = write!(rest, " {p}");
            }
            put!(json, "peers".into(), json!(peers));
        }
    }
}

fn skmem(m: &[u32], rest: &mut String, json: &mut Obj) {
    let g = |i: usize| m.get(i).copied().unwrap_or(0);
    let _ = write!(
        rest,
        " skmem:(r{},rb{},t{},tb{},f{},w{},o{}",
        g(0),
        g(1),
        g(2),
        g(3),
        g(4),
        g(5),
        g(6)
    );
    let mut j = json!({
        "rmem_alloc": g(0), "rcvbuf": g(1), "wmem_alloc": g(2), "sndbuf": g(3),
        "fwd_alloc": g(4), "wmem_queued": g(5), "optmem": g(6),
    });
    if m.len() > 7 {
        let _ = write!(rest, ",bl{}", g(7));
        j["backlog"] = json!(g(7));
    }
    if m.len() > 8 {
        let _ = write!(rest, ",d{}", g(8));
        j["drops"] = json!(g(8));
    }
    rest.push(')');
    put!(json, "skmem".into(), j);
}

fn inet_rest(s: &Sock, ctx: &Ctx, rest: &mut String, json: &mut Obj) {
    let opts = ctx.opts;
    if opts.options && s.timer != 0 {
        const NAMES: [&str; 6] = ["off", "on", "keepalive", "timewait", "persist", "unknown"];
        let t = NAMES[(s.timer as usize).min(5)];
        let _ = write!(rest, " timer:({t},{},{})", ms_timer(s.expires), s.retrans);
        put!(
            json,
            "timer".into(),
            json!({"name": t, "expires_ms": s.expires, "retrans": s.retrans}),
        );
    }
    if opts.details > 0 {
        if s.uid != 0 {
            let _ = write!(rest, " uid:{}", s.uid);
        }
        let _ = write!(rest, " ino:{} sk:{:x}", s.inode, s.cookie);
        put!(json, "uid".into(), json!(s.uid));
        put!(json, "inode".into(), json!(s.inode));
        put!(json, "sk".into(), json!(format!("{:x}", s.cookie)));
        if s.mark != 0 {
            let _ = write!(rest, " fwmark:{:#x}", s.mark);
            put!(json, "fwmark".into(), json!(s.mark));
        }
        if s.cgroup != 0 {
            let path = (ctx.cgroup)(s.cgroup);
            let _ = write!(rest, " cgroup:{path}");
            put!(json, "cgroup".into(), json!(path));
        }
        if s.family == AF_INET6
            && let Some(v) = s.v6only
        {
            let _ = write!(rest, " v6only:{}", v as u8);
            put!(json, "v6only".into(), json!(v));
        }
        if let Some(m) = s.shutdown {
            rest.push_str(&shutdown_text(m));
            put!(json, "shutdown".into(), json!(m));
        }
    }
    if opts.tos {
        if let Some(t) = s.tos {
            let _ = write!(rest, " tos:{}", c_hex(t as u32));
            put!(json, "tos".into(), json!(t));
        }
        if let Some(t) = s.tclass {
            let _ = write!(rest, " tclass:{}", c_hex(t as u32));
            put!(json, "tclass".into(), json!(t));
        }
    }
    if opts.mem || (opts.info && s.kind != 17) {
        if !opts.oneline {
            rest.push_str("\n\t");
        }
        if let Some(m) = &s.skmem {
            skmem(m, rest, json);
        }
        if let Some(t) = &s.tcp {
            tcp_info(s, t, opts, rest, json);
        }
    }
}

/// `%#x`: `0` for zero, `0x…` otherwise.
fn c_hex(v: u32) -> String {
    if v == 0 {
        "0".into()
    } else {
        format!("{v:#x}")
    }
}

/// tcp_show_info + tcp_stats_print.
fn tcp_info(
    s: &Sock,
    i: &netlink_packet_sock_diag::inet::nlas::TcpInfo,
    opts: &Opts,
    rest: &mut String,
    json: &mut Obj,
) {
    let mut j = Map::new();
    let mut put = |rest: &mut String, key: &str, text: String, v: Value| {
        rest.push_str(&text);
        j.insert(key.to_string(), v);
    };
    if opts.options {
        for (bit, word) in [
            (1, "ts"),
            (2, "sack"),
            (8, "ecn"),
            (16, "ecnseen"),
            (32, "fastopen"),
        ] {
            if i.options & bit != 0 {
                put(rest, word, format!(" {word}"), json!(true));
            }
        }
    }
    if let Some(c) = &s.cong {
        put(rest, "congestion", format!(" {c}"), json!(c));
    }
    if i.options & 4 != 0 {
        let (snd, rcv) = (i.wscale & 0xf, i.wscale >> 4);
        put(
            rest,
            "wscale",
            format!(" wscale:{snd},{rcv}"),
            json!([snd, rcv]),
        );
    }
    let ms = |us: u32| us as f64 / 1000.0;
    if i.rto != 0 && i.rto != 3_000_000 {
        put(
            rest,
            "rto",
            format!(" rto:{}", fmt_g(ms(i.rto), 6)),
            json!(ms(i.rto)),
        );
    }
    if i.backoff != 0 {
        put(
            rest,
            "backoff",
            format!(" backoff:{}", i.backoff),
            json!(i.backoff),
        );
    }
    if i.rtt != 0 {
        put(
            rest,
            "rtt",
            format!(" rtt:{}/{}", fmt_g(ms(i.rtt), 6), fmt_g(ms(i.rttvar), 6)),
            json!([ms(i.rtt), ms(i.rttvar)]),
        );
    }
    if i.ato != 0 {
        put(
            rest,
            "ato",
            format!(" ato:{}", fmt_g(ms(i.ato), 6)),
            json!(ms(i.ato)),
        );
    }
    let nz = |rest: &mut String,
              put: &mut dyn FnMut(&mut String, &str, String, Value),
              key: &str,
              v: u64| {
        if v != 0 {
            put(rest, key, format!(" {key}:{v}"), json!(v));
        }
    };
    nz(rest, &mut put, "mss", i.snd_mss as u64);
    nz(rest, &mut put, "pmtu", i.pmtu as u64);
    nz(rest, &mut put, "rcvmss", i.rcv_mss as u64);
    nz(rest, &mut put, "advmss", i.advmss as u64);
    nz(rest, &mut put, "cwnd", i.snd_cwnd as u64);
    if i.snd_ssthresh < 0xffff {
        nz(rest, &mut put, "ssthresh", i.snd_ssthresh as u64);
    }
    nz(rest, &mut put, "bytes_sent", i.bytes_sent);
    nz(rest, &mut put, "bytes_retrans", i.bytes_retrans);
    nz(rest, &mut put, "bytes_acked", i.bytes_acked);
    nz(rest, &mut put, "bytes_received", i.bytes_received);
    nz(rest, &mut put, "segs_out", i.segs_out as u64);
    nz(rest, &mut put, "segs_in", i.segs_in as u64);
    nz(rest, &mut put, "data_segs_out", i.data_segs_out as u64);
    nz(rest, &mut put, "data_segs_in", i.data_segs_in as u64);
    if let Some([enabled, ce_state, alpha, ab_ecn, ab_tot]) = s.dctcp {
        if enabled != 0 {
            put(
                rest,
                "dctcp",
                format!(
                    " dctcp:(ce_state:{ce_state},alpha:{alpha},ab_ecn:{ab_ecn},ab_tot:{ab_tot})"
                ),
                json!({"ce_state": ce_state, "alpha": alpha, "ab_ecn": ab_ecn, "ab_tot": ab_tot}),
            );
        } else {
            put(
                rest,
                "dctcp",
                " dctcp:fallback_mode".into(),
                json!("fallback_mode"),
            );
        }
    }
    if let Some((bbw, min_rtt, pacing_gain, cwnd_gain)) = s.bbr {
        let mut t = format!(
            " bbr:(bw:{}bps,mrtt:{}",
            bw(bbw as f64 * 8.0, opts.numeric),
            fmt_g(min_rtt as f64 / 1000.0, 6)
        );
        if pacing_gain != 0 {
            let _ = write!(t, ",pacing_gain:{}", fmt_g(pacing_gain as f64 / 256.0, 6));
        }
        if cwnd_gain != 0 {
            let _ = write!(t, ",cwnd_gain:{}", fmt_g(cwnd_gain as f64 / 256.0, 6));
        }
        t.push(')');
        put(
            rest,
            "bbr",
            t,
            json!({"bw": bbw * 8, "mrtt": min_rtt as f64 / 1000.0}),
        );
    }
    let mut rtt = i.rtt as f64;
    if let Some(v) = s.vegas_rtt
        && v != 0
        && v != 0x7fff_ffff
    {
        rtt = v as f64;
    }
    if rtt > 0.0 && i.snd_mss != 0 && i.snd_cwnd != 0 {
        let send = i.snd_cwnd as f64 * i.snd_mss as f64 * 8_000_000.0 / rtt;
        put(
            rest,
            "send",
            format!(" send {}bps", bw(send, opts.numeric)),
            json!(send),
        );
    }
    nz(rest, &mut put, "lastsnd", i.last_data_sent as u64);
    nz(rest, &mut put, "lastrcv", i.last_data_recv as u64);
    nz(rest, &mut put, "lastack", i.last_ack_recv as u64);
    if i.pacing_rate != 0 && i.pacing_rate != u64::MAX {
        let mut t = format!(
            " pacing_rate {}bps",
            bw(i.pacing_rate as f64 * 8.0, opts.numeric)
        );
        if i.max_pacing_rate != 0 && i.max_pacing_rate != u64::MAX {
            let _ = write!(
                t,
                "/{}bps",
                bw(i.max_pacing_rate as f64 * 8.0, opts.numeric)
            );
        }
        put(rest, "pacing_rate", t, json!(i.pacing_rate * 8));
    }
    if i.delivery_rate != 0 {
        put(
            rest,
            "delivery_rate",
            format!(
                " delivery_rate {}bps",
                bw(i.delivery_rate as f64 * 8.0, opts.numeric)
            ),
            json!(i.delivery_rate * 8),
        );
    }
    nz(rest, &mut put, "delivered", i.delivered as u64);
    nz(rest, &mut put, "delivered_ce", i.delivered_ce as u64);
    if i.delivery_rate_app_limited & 1 != 0 {
        put(rest, "app_limited", " app_limited".into(), json!(true));
    }
    if i.busy_time != 0 {
        put(
            rest,
            "busy",
            format!(" busy:{}ms", i.busy_time / 1000),
            json!(i.busy_time / 1000),
        );
        if i.rwnd_limited != 0 {
            put(
                rest,
                "rwnd_limited",
                format!(
                    " rwnd_limited:{}ms({:.1}%)",
                    i.rwnd_limited / 1000,
                    100.0 * i.rwnd_limited as f64 / i.busy_time as f64
                ),
                json!(i.rwnd_limited / 1000),
            );
        }
        if i.sndbuf_limited != 0 {
            put(
                rest,
                "sndbuf_limited",
                format!(
                    " sndbuf_limited:{}ms({:.1}%)",
                    i.sndbuf_limited / 1000,
                    100.0 * i.sndbuf_limited as f64 / i.busy_time as f64
                ),
                json!(i.sndbuf_limited / 1000),
            );
        }
    }
    nz(rest, &mut put, "unacked", i.unacked as u64);
    if i.retrans != 0 || i.total_retrans != 0 {
        put(
            rest,
            "retrans",
            format!(" retrans:{}/{}", i.retrans, i.total_retrans),
            json!([i.retrans, i.total_retrans]),
        );
    }
    nz(rest, &mut put, "lost", i.lost as u64);
    if i.sacked != 0 && s.state != 10 {
        put(
            rest,
            "sacked",
            format!(" sacked:{}", i.sacked),
            json!(i.sacked),
        );
    }
    nz(rest, &mut put, "dsack_dups", i.dsack_dups as u64);
    nz(rest, &mut put, "fackets", i.fackets as u64);
    if i.reordering != 3 {
        put(
            rest,
            "reordering",
            format!(" reordering:{}", i.reordering as i32),
            json!(i.reordering),
        );
    }
    if i.reord_seen != 0 {
        put(
            rest,
            "reord_seen",
            format!(" reord_seen:{}", i.reord_seen as i32),
            json!(i.reord_seen),
        );
    }
    if i.rcv_rtt != 0 {
        put(
            rest,
            "rcv_rtt",
            format!(" rcv_rtt:{}", fmt_g(ms(i.rcv_rtt), 6)),
            json!(ms(i.rcv_rtt)),
        );
    }
    if i.rcv_space != 0 {
        put(
            rest,
            "rcv_space",
            format!(" rcv_space:{}", i.rcv_space as i32),
            json!(i.rcv_space),
        );
    }
    nz(rest, &mut put, "rcv_ssthresh", i.rcv_ssthresh as u64);
    if i.notsent_bytes != 0 {
        put(
            rest,
            "notsent",
            format!(" notsent:{}", i.notsent_bytes),
            json!(i.notsent_bytes),
        );
    }
    if i.min_rtt != 0 && i.min_rtt != u32::MAX {
        put(
            rest,
            "minrtt",
            format!(" minrtt:{}", fmt_g(ms(i.min_rtt), 6)),
            json!(ms(i.min_rtt)),
        );
    }
    nz(rest, &mut put, "rcv_ooopack", i.rcv_ooopack as u64);
    nz(rest, &mut put, "snd_wnd", i.snd_wnd as u64);
    put!(json, "tcp_info".into(), Value::Object(j));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_number_forms() {
        assert_eq!(fmt_g(0.2, 6), "0.2");
        assert_eq!(fmt_g(200.0, 6), "200");
        assert_eq!(fmt_g(0.059, 6), "0.059");
        assert_eq!(fmt_g(1234567.0, 6), "1.23457e+06");
        assert_eq!(fmt_g(0.00001, 6), "1e-05");
        assert_eq!(fmt_g(25.6, 3), "25.6");
        assert_eq!(fmt_g(999.95, 3), "1e+03");
        assert_eq!(bw(2_621_440_000.0, false), "2.62G");
        assert_eq!(bw(512.0, false), "512");
        assert_eq!(ms_timer(0), "");
        assert_eq!(ms_timer(200), "200ms");
        assert_eq!(ms_timer(1500), "1.500ms");
        assert_eq!(ms_timer(10_500), "10sec");
        assert_eq!(ms_timer(119 * 60_000 + 30_000), "119min");
        assert_eq!(ms_timer(61_000), "1min1sec");
    }
}
