//! `ip` command line -> typed request. Pure: no sockets here.
//!
//! iproute2's grammar is not clap's: options are single-dash words that may be abbreviated
//! (`-br`, `-j`, `-json`, `-s -s`), objects and verbs are matched by prefix in a fixed order
//! (`ip a` is `address`, `ip r g` is `route get`, and `ip link s` is `set`), and any unknown word in
//! `ip addr show` is a device name. This module reproduces that matching, including its order.

use crate::error::{Error, Result};
use std::net::IpAddr;

/// iproute2's `matches(prefix, word)`: `arg` is a non-empty prefix of `word`.
pub fn matches(arg: &str, word: &str) -> bool {
    !arg.is_empty() && word.starts_with(arg)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Family {
    #[default]
    Unspec,
    Inet,
    Inet6,
    /// `-0` / `-f link`: links only.
    Packet,
}

impl Family {
    pub fn bit_len(self) -> u8 {
        match self {
            Family::Inet => 32,
            Family::Inet6 => 128,
            _ => 0,
        }
    }

    fn verbose(self) -> &'static str {
        match self {
            Family::Inet => "inet",
            Family::Inet6 => "inet6",
            Family::Packet => "link",
            Family::Unspec => "any valid",
        }
    }
}

/// The global options that change what is printed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Opts {
    pub family: Family,
    pub stats: u8,
    pub details: u8,
    pub oneline: bool,
    pub json: bool,
    pub pretty: bool,
    pub brief: bool,
    pub human: bool,
    pub iec: bool,
    /// `-N`: numbers instead of names.
    pub numeric: bool,
    /// `-c[olor][=always|auto|never]`.
    pub color: Color,
}

/// iproute2's colour choice: never by default, `-c` alone means always.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Color {
    #[default]
    Never,
    Auto,
    Always,
}

/// matches_color: `-c`, `-col`, `-color`, each with an optional `=always|auto|never`.
fn color_option(opt: &str) -> Option<Color> {
    let (name, value) = opt.split_once('=').unwrap_or((opt, ""));
    if !matches(name, "-color") {
        return None;
    }
    match value {
        "" | "always" => Some(Color::Always),
        "auto" => Some(Color::Auto),
        "never" => Some(Color::Never),
        _ => None,
    }
}

/// A prefix as iproute2's `get_prefix` reads it (`default`, `all`, `10.0.0.0/8`, `fd00::1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Prefix {
    pub family: Family,
    /// Address bytes, left-aligned (IPv4 uses the first four).
    pub bytes: [u8; 16],
    pub bitlen: u8,
    /// A `/len` was given, or the word was `default`.
    pub len_given: bool,
}

impl Prefix {
    /// Do the first `bits` bits of `addr` equal ours? (iproute2's `inet_addr_match` == 0)
    pub fn first_bits_match(&self, addr: &[u8; 16], bits: u8) -> bool {
        let bits = bits as usize;
        let whole = bits / 8;
        if self.bytes[..whole] != addr[..whole] {
            return false;
        }
        let rest = bits % 8;
        if rest == 0 {
            return true;
        }
        let mask = 0xffu8 << (8 - rest);
        (self.bytes[whole] ^ addr[whole]) & mask == 0
    }

    /// Is this a filter at all (iproute2: `family || PREFIXLEN_SPECIFIED`)?
    pub fn active(&self) -> bool {
        self.family != Family::Unspec || self.len_given
    }
}

pub fn ip_bytes(addr: IpAddr) -> [u8; 16] {
    let mut b = [0u8; 16];
    match addr {
        IpAddr::V4(a) => b[..4].copy_from_slice(&a.octets()),
        IpAddr::V6(a) => b.copy_from_slice(&a.octets()),
    }
    b
}

/// iproute2's `get_prefix`, including its error message.
pub fn parse_prefix(arg: &str, family: Family) -> Result<Prefix> {
    let bad = || {
        Error::usage(format!(
            "{} prefix is expected rather than \"{arg}\"",
            family.verbose()
        ))
    };
    let (addr, len) = match arg.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (arg, None),
    };
    let mut p = Prefix {
        family,
        ..Default::default()
    };
    match addr {
        "default" | "all" | "any" => {
            if len.is_some() {
                return Err(bad());
            }
            p.len_given = addr == "default";
            p.bitlen = 0;
            return Ok(p);
        }
        _ => {}
    }
    let ip: IpAddr = if addr.contains(':') {
        if !matches!(family, Family::Unspec | Family::Inet6) {
            return Err(bad());
        }
        IpAddr::V6(addr.parse().map_err(|_| bad())?)
    } else {
        if !matches!(family, Family::Unspec | Family::Inet) {
            return Err(bad());
        }
        IpAddr::V4(parse_inet4_loose(addr).ok_or_else(bad)?)
    };
    p.family = if ip.is_ipv4() {
        Family::Inet
    } else {
        Family::Inet6
    };
    p.bytes = ip_bytes(ip);
    let max = p.family.bit_len();
    p.bitlen = match len {
        Some(l) => {
            let n: u8 = l.parse().map_err(|_| bad())?;
            if n > max {
                return Err(bad());
            }
            p.len_given = true;
            n
        }
        None => max,
    };
    Ok(p)
}

/// iproute2 accepts short dotted forms (`10`, `10.1`) as IPv4 prefixes, padding with zeros.
fn parse_inet4_loose(s: &str) -> Option<std::net::Ipv4Addr> {
    let parts: Vec<&str> = s.split('.').collect();
    if parts.is_empty() || parts.len() > 4 {
        return None;
    }
    let mut o = [0u8; 4];
    for (i, part) in parts.iter().enumerate() {
        o[i] = part.parse().ok()?;
    }
    Some(o.into())
}

/// `ip address show` / `ip link show` filters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddrFilter {
    pub dev: Option<String>,
    pub up: bool,
    pub to: Option<Prefix>,
    /// (scope value, mask): `scope all` clears the mask.
    pub scope: Option<u8>,
    pub kind: Option<String>,
    pub master: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RouteFilter {
    /// None: all tables. Default: main.
    pub table: Option<u32>,
    /// Only cloned (cached) routes.
    pub cloned: bool,
    pub protocol: Option<u8>,
    pub scope: Option<u8>,
    pub kind: Option<u8>,
    pub tos: Option<u8>,
    pub oif: Option<String>,
    pub iif: Option<String>,
    pub metric: Option<u32>,
    pub root: Prefix,
    pub matching: Prefix,
    pub src_root: Prefix,
    pub src_matching: Prefix,
    pub via: Option<Prefix>,
    pub prefsrc: Option<Prefix>,
    /// The family the dump asks for (iproute2's `dump_family`).
    pub family: Family,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RouteGet {
    pub dst: Prefix,
    pub from: Option<Prefix>,
    pub iif: Option<String>,
    pub oif: Option<String>,
    pub mark: Option<u32>,
    pub uid: Option<u32>,
    pub tos: Option<u8>,
    pub ipproto: Option<u8>,
    pub sport: Option<u16>,
    pub dport: Option<u16>,
    pub fibmatch: bool,
    pub family: Family,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NeighFilter {
    pub dev: Option<String>,
    /// NUD state bits to show; 0x100 means "entries with no state".
    pub state: u32,
    pub to: Option<Prefix>,
    pub proxy: bool,
    pub family: Family,
}

/// `ip rule show` selectors (iprule.c's filter).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleFilter {
    pub family: Family,
    pub pref: Option<u32>,
    pub not: bool,
    pub tos: Option<u8>,
    pub fwmark: Option<u32>,
    pub fwmask: Option<u32>,
    pub iif: Option<String>,
    pub oif: Option<String>,
    pub l3mdev: bool,
    pub uidrange: Option<(u32, u32)>,
    pub tun_id: Option<u64>,
    pub table: Option<u32>,
    pub from: Option<Prefix>,
    pub to: Option<Prefix>,
    pub protocol: Option<u8>,
    pub ipproto: Option<u8>,
    pub sport: Option<(u16, u16)>,
    pub dport: Option<(u16, u16)>,
}

/// `ip nexthop show` selectors; `id` asks the kernel for that one entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NexthopFilter {
    pub family: Family,
    pub id: Option<u32>,
    pub dev: Option<String>,
    pub groups: bool,
    pub master: Option<String>,
    pub protocol: Option<u8>,
    pub fdb: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cmd {
    /// `ip address show` (link: false) or `ip link show` (link: true).
    AddrShow {
        filter: AddrFilter,
        link: bool,
    },
    RouteShow(RouteFilter),
    RouteGet(RouteGet),
    NeighShow(NeighFilter),
    RuleShow(RuleFilter),
    NexthopShow(NexthopFilter),
    /// Explicit help: usage on stdout, exit 0.
    Help(&'static str),
    /// No object given: usage on stderr, exit 2 (as iproute2).
    Usage,
    Version,
}

const READ_ONLY: &str = "debugbox is read-only";

fn read_only(object: &str, verb: &str) -> Error {
    Error::usage(format!(
        "\"ip {object} {verb}\" changes the network and {READ_ONLY}"
    ))
    .hint("use iproute2 on the node to change it")
}

/// Objects in iproute2's own order: the first whose name starts with the argument wins.
const OBJECTS: &[&str] = &[
    "address",
    "addrlabel",
    "maddress",
    "route",
    "rule",
    "neighbor",
    "neighbour",
    "ntable",
    "ntbl",
    "link",
    "l2tp",
    "fou",
    "ila",
    "macsec",
    "tunnel",
    "tunl",
    "tuntap",
    "tap",
    "token",
    "tcpmetrics",
    "tcp_metrics",
    "monitor",
    "xfrm",
    "mroute",
    "mrule",
    "netns",
    "netconf",
    "vrf",
    "sr",
    "nexthop",
    "mptcp",
    "ioam",
    "help",
    "stats",
];

pub fn parse(args: &[String]) -> Result<(Opts, Cmd)> {
    let mut opts = Opts::default();
    let mut i = 0;
    while i < args.len() {
        let arg = args[i].as_str();
        if arg == "--" {
            i += 1;
            break;
        }
        if !arg.starts_with('-') {
            break;
        }
        // `--json` is read as `-json`.
        let opt = if arg.starts_with("--") {
            &arg[1..]
        } else {
            arg
        };
        let need_value = |i: &mut usize| -> Result<String> {
            *i += 1;
            args.get(*i)
                .cloned()
                .ok_or_else(|| Error::usage(format!("option \"{arg}\" needs a value")))
        };
        if matches(opt, "-loops") {
            need_value(&mut i)?;
        } else if matches(opt, "-family") {
            let f = need_value(&mut i)?;
            opts.family = match f.as_str() {
                "inet" => Family::Inet,
                "inet6" => Family::Inet6,
                "link" => Family::Packet,
                _ => {
                    return Err(Error::usage(format!(
                        "argument \"{f}\" is wrong: invalid protocol family"
                    )));
                }
            };
        } else if opt == "-4" {
            opts.family = Family::Inet;
        } else if opt == "-6" {
            opts.family = Family::Inet6;
        } else if opt == "-0" {
            opts.family = Family::Packet;
        } else if matches(opt, "-human") || matches(opt, "-human-readable") {
            opts.human = true;
        } else if matches(opt, "-iec") {
            opts.iec = true;
        } else if matches(opt, "-stats") || matches(opt, "-statistics") {
            opts.stats = opts.stats.saturating_add(1);
        } else if matches(opt, "-details") {
            opts.details = opts.details.saturating_add(1);
        } else if matches(opt, "-resolve") {
            return Err(Error::usage(
                "option -resolve is not supported: addresses are always printed numerically",
            )
            .hint("use nslookup ADDR to look a name up"));
        } else if matches(opt, "-oneline") {
            opts.oneline = true;
        } else if matches(opt, "-timestamp") || matches(opt, "-tshort") {
            // Only meaningful for `ip monitor`, which debugbox does not have.
        } else if matches(opt, "-Version") {
            return Ok((opts, Cmd::Version));
        } else if matches(opt, "-force") {
        } else if matches(opt, "-batch") {
            return Err(
                Error::usage("option -batch is not supported").hint("run one ip command per line")
            );
        } else if matches(opt, "-brief") {
            opts.brief = true;
        } else if matches(opt, "-json") {
            opts.json = true;
        } else if matches(opt, "-pretty") {
            opts.pretty = true;
        } else if matches(opt, "-rcvbuf") {
            need_value(&mut i)?;
        } else if let Some(c) = color_option(opt) {
            opts.color = c;
        } else if matches(opt, "-help") {
            return Ok((opts, Cmd::Help("")));
        } else if matches(opt, "-netns") {
            return Err(Error::usage(
                "option -netns is not supported: debugbox shows the namespace it runs in",
            )
            .hint("run debugbox inside the namespace, e.g. ip netns exec NAME debugbox ip ..."));
        } else if matches(opt, "-Numeric") {
            opts.numeric = true;
        } else if matches(opt, "-all") || opt == "-echo" {
        } else {
            return Err(Error::usage(format!(
                "Option \"{arg}\" is unknown, try \"ip -help\""
            )));
        }
        i += 1;
    }
    let rest = &args[i..];
    let Some(object) = rest.first() else {
        return Ok((opts, Cmd::Usage));
    };
    let Some(object) = OBJECTS.iter().find(|o| matches(object, o)) else {
        return Err(Error::usage(format!(
            "Object \"{object}\" is unknown, try \"ip help\""
        )));
    };
    let cmd = match *object {
        "address" => parse_addr(&opts, &rest[1..], false)?,
        "link" => parse_link(&opts, &rest[1..])?,
        "route" => parse_route(&opts, &rest[1..])?,
        "neighbor" | "neighbour" => parse_neigh(&opts, &rest[1..])?,
        "rule" => parse_rule(&opts, &rest[1..])?,
        "nexthop" => parse_nexthop(&opts, &rest[1..])?,
        "help" => Cmd::Help(""),
        other => {
            return Err(Error::usage(format!(
                "object \"{other}\" is not available in debugbox ip"
            ))
            .hint("it has address, link, route, neighbour, rule and nexthop"));
        }
    };
    Ok((opts, cmd))
}

fn parse_addr(opts: &Opts, args: &[String], link: bool) -> Result<Cmd> {
    let Some(verb) = args.first() else {
        return Ok(Cmd::AddrShow {
            filter: AddrFilter::default(),
            link,
        });
    };
    let v = verb.as_str();
    for mutating in ["add", "change", "replace", "delete"] {
        if matches(v, mutating) {
            return Err(read_only("address", mutating));
        }
    }
    if v == "chg" {
        return Err(read_only("address", "change"));
    }
    if matches(v, "list") || matches(v, "show") || matches(v, "lst") {
        return Ok(Cmd::AddrShow {
            filter: parse_addr_filter(opts, &args[1..])?,
            link,
        });
    }
    for mutating in ["flush", "save", "showdump", "restore"] {
        if matches(v, mutating) {
            return if mutating == "flush" || mutating == "restore" {
                Err(read_only("address", mutating))
            } else {
                Err(Error::usage(format!(
                    "\"ip address {mutating}\" is not available in debugbox ip"
                )))
            };
        }
    }
    if matches(v, "help") {
        return Ok(Cmd::Help("address"));
    }
    Err(Error::usage(format!(
        "Command \"{v}\" is unknown, try \"ip address help\""
    )))
}

fn parse_link(opts: &Opts, args: &[String]) -> Result<Cmd> {
    let Some(verb) = args.first() else {
        return Ok(Cmd::AddrShow {
            filter: AddrFilter::default(),
            link: true,
        });
    };
    let v = verb.as_str();
    // iproute2 tries these first, so `ip link s` means `set`.
    for mutating in ["add", "set", "change", "replace", "delete"] {
        if matches(v, mutating) {
            return Err(read_only("link", mutating));
        }
    }
    if matches(v, "show") || matches(v, "lst") || matches(v, "list") {
        return Ok(Cmd::AddrShow {
            filter: parse_addr_filter(opts, &args[1..])?,
            link: true,
        });
    }
    for other in ["xstats", "afstats", "property"] {
        if matches(v, other) {
            return Err(Error::usage(format!(
                "\"ip link {other}\" is not available in debugbox ip"
            )));
        }
    }
    if matches(v, "help") {
        return Ok(Cmd::Help("link"));
    }
    Err(Error::usage(format!(
        "Command \"{v}\" is unknown, try \"ip link help\""
    )))
}

fn next<'a>(args: &'a [String], i: &mut usize, key: &str) -> Result<&'a str> {
    *i += 1;
    args.get(*i).map(String::as_str).ok_or_else(|| {
        Error::usage(format!(
            "Command line is not complete. Try option \"help\" (after \"{key}\")"
        ))
    })
}

fn invarg(arg: &str, msg: &str) -> Error {
    Error::usage(format!("argument \"{arg}\" is wrong: {msg}"))
}

fn parse_addr_filter(opts: &Opts, args: &[String]) -> Result<AddrFilter> {
    let mut f = AddrFilter::default();
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        match a {
            "to" => {
                let v = next(args, &mut i, a)?;
                f.to = Some(parse_prefix(v, opts.family)?);
            }
            "scope" => {
                let v = next(args, &mut i, a)?;
                f.scope = if v == "all" {
                    None
                } else {
                    Some(
                        super::names::scope_from_name(v)
                            .ok_or_else(|| invarg(v, "invalid \"scope\""))?,
                    )
                };
            }
            "up" => f.up = true,
            "type" => f.kind = Some(next(args, &mut i, a)?.to_string()),
            "master" => f.master = Some(next(args, &mut i, a)?.to_string()),
            "label" | "group" | "vrf" | "nomaster" | "permanent" | "dynamic" | "secondary"
            | "temporary" | "primary" | "tentative" | "-tentative" | "deprecated"
            | "-deprecated" | "dadfailed" | "-dadfailed" | "home" | "nodad" | "mngtmpaddr"
            | "noprefixroute" | "autojoin" => {
                return Err(Error::usage(format!(
                    "filter \"{a}\" is not available in debugbox ip"
                )));
            }
            _ => {
                let dev = if a == "dev" {
                    next(args, &mut i, a)?
                } else if matches(a, "help") {
                    return Ok(f);
                } else {
                    a
                };
                if f.dev.is_some() {
                    return Err(Error::usage(format!(
                        "either \"dev\" is duplicate, or \"{dev}\" is a garbage"
                    )));
                }
                f.dev = Some(dev.to_string());
            }
        }
        i += 1;
    }
    Ok(f)
}

fn parse_route(opts: &Opts, args: &[String]) -> Result<Cmd> {
    let Some(verb) = args.first() else {
        return Ok(Cmd::RouteShow(parse_route_filter(opts, &[])?));
    };
    let v = verb.as_str();
    for mutating in [
        "add", "change", "replace", "prepend", "append", "test", "delete",
    ] {
        if matches(v, mutating) {
            return Err(read_only("route", mutating));
        }
    }
    if v == "chg" {
        return Err(read_only("route", "change"));
    }
    if matches(v, "list") || matches(v, "show") || matches(v, "lst") {
        return Ok(Cmd::RouteShow(parse_route_filter(opts, &args[1..])?));
    }
    if matches(v, "get") {
        return Ok(Cmd::RouteGet(parse_route_get(opts, &args[1..])?));
    }
    if matches(v, "flush") || matches(v, "restore") {
        return Err(read_only(
            "route",
            if matches(v, "flush") {
                "flush"
            } else {
                "restore"
            },
        ));
    }
    for other in ["save", "showdump"] {
        if matches(v, other) {
            return Err(Error::usage(format!(
                "\"ip route {other}\" is not available in debugbox ip"
            )));
        }
    }
    if matches(v, "help") {
        return Ok(Cmd::Help("route"));
    }
    Err(Error::usage(format!(
        "Command \"{v}\" is unknown, try \"ip route help\""
    )))
}

fn parse_table(v: &str) -> Option<u32> {
    match v {
        "main" => Some(254),
        "local" => Some(255),
        "default" => Some(253),
        "unspec" => Some(0),
        _ => v.parse().ok(),
    }
}

fn parse_route_filter(opts: &Opts, args: &[String]) -> Result<RouteFilter> {
    let mut f = RouteFilter {
        table: Some(254),
        family: opts.family,
        ..Default::default()
    };
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        if matches(a, "table") {
            let v = next(args, &mut i, a)?;
            match parse_table(v) {
                Some(t) => f.table = Some(t),
                None if v == "all" => f.table = None,
                None if v == "cache" => f.cloned = true,
                None => return Err(invarg(v, "table id value is invalid")),
            }
        } else if matches(a, "cached") || matches(a, "cloned") {
            f.cloned = true;
        } else if a == "tos" || matches(a, "dsfield") {
            let v = next(args, &mut i, a)?;
            f.tos = Some(parse_u8_any(v).ok_or_else(|| invarg(v, "TOS value is invalid"))?);
        } else if matches(a, "protocol") {
            let v = next(args, &mut i, a)?;
            f.protocol = if v == "all" {
                None
            } else {
                Some(
                    super::names::protocol_from_name(v)
                        .ok_or_else(|| invarg(v, "invalid \"protocol\""))?,
                )
            };
        } else if matches(a, "scope") {
            let v = next(args, &mut i, a)?;
            f.scope = if v == "all" {
                None
            } else {
                Some(
                    super::names::scope_from_name(v)
                        .ok_or_else(|| invarg(v, "invalid \"scope\""))?,
                )
            };
        } else if matches(a, "type") {
            let v = next(args, &mut i, a)?;
            f.kind = Some(
                super::names::route_type_from_name(v)
                    .ok_or_else(|| invarg(v, "node type value is invalid"))?,
            );
        } else if a == "dev" || a == "oif" {
            f.oif = Some(next(args, &mut i, a)?.to_string());
        } else if a == "iif" {
            f.iif = Some(next(args, &mut i, a)?.to_string());
        } else if matches(a, "metric") || matches(a, "priority") || a == "preference" {
            let v = next(args, &mut i, a)?;
            f.metric = Some(
                v.parse()
                    .map_err(|_| invarg(v, "\"metric\" value is invalid"))?,
            );
        } else if a == "via" {
            let mut v = next(args, &mut i, a)?;
            let mut fam = f.family;
            if let Some(explicit) = family_word(v) {
                fam = explicit;
                v = next(args, &mut i, a)?;
            }
            f.via = Some(parse_prefix(v, fam)?);
        } else if a == "src" {
            let v = next(args, &mut i, a)?;
            f.prefsrc = Some(parse_prefix(v, f.family)?);
        } else if matches(a, "from") {
            let mut v = next(args, &mut i, a)?;
            if matches(v, "root") {
                v = next(args, &mut i, a)?;
                f.src_root = parse_prefix(v, f.family)?;
            } else if matches(v, "match") {
                v = next(args, &mut i, a)?;
                f.src_matching = parse_prefix(v, f.family)?;
            } else {
                if matches(v, "exact") {
                    v = next(args, &mut i, a)?;
                }
                f.src_matching = parse_prefix(v, f.family)?;
                f.src_root = f.src_matching;
            }
        } else if a == "mark" || matches(a, "realms") || matches(a, "vrf") {
            return Err(Error::usage(format!(
                "filter \"{a}\" is not available in debugbox ip"
            )));
        } else {
            let mut v = a;
            if matches(v, "to") {
                v = next(args, &mut i, a)?;
            }
            if matches(v, "root") {
                v = next(args, &mut i, a)?;
                f.root = parse_prefix(v, f.family)?;
            } else if matches(v, "match") {
                v = next(args, &mut i, a)?;
                f.matching = parse_prefix(v, f.family)?;
            } else {
                if matches(v, "exact") {
                    v = next(args, &mut i, a)?;
                }
                if matches(v, "help") {
                    return Err(Error::usage("see \"ip route help\""));
                }
                f.matching = parse_prefix(v, f.family)?;
                f.root = f.matching;
            }
        }
        i += 1;
    }
    if f.family == Family::Unspec && f.table.is_some() {
        f.family = Family::Inet;
    }
    Ok(f)
}

fn family_word(v: &str) -> Option<Family> {
    match v {
        "inet" => Some(Family::Inet),
        "inet6" => Some(Family::Inet6),
        _ => None,
    }
}

fn parse_u8_any(v: &str) -> Option<u8> {
    if let Some(hex) = v.strip_prefix("0x") {
        u8::from_str_radix(hex, 16).ok()
    } else {
        v.parse().ok()
    }
}

fn parse_route_get(opts: &Opts, args: &[String]) -> Result<RouteGet> {
    let mut g = RouteGet {
        family: opts.family,
        ..Default::default()
    };
    let mut have_dst = false;
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        if a == "tos" || matches(a, "dsfield") {
            let v = next(args, &mut i, a)?;
            g.tos = Some(parse_u8_any(v).ok_or_else(|| invarg(v, "TOS value is invalid"))?);
        } else if matches(a, "from") {
            let v = next(args, &mut i, a)?;
            let p = parse_prefix(v, g.family)?;
            if g.family == Family::Unspec {
                g.family = p.family;
            }
            g.from = Some(p);
        } else if matches(a, "iif") {
            g.iif = Some(next(args, &mut i, a)?.to_string());
        } else if matches(a, "mark") {
            let v = next(args, &mut i, a)?;
            g.mark = Some(parse_u32_any(v).ok_or_else(|| invarg(v, "invalid mark value"))?);
        } else if matches(a, "oif") || a == "dev" {
            g.oif = Some(next(args, &mut i, a)?.to_string());
        } else if matches(a, "uid") {
            let v = next(args, &mut i, a)?;
            g.uid = Some(parse_u32_any(v).ok_or_else(|| invarg(v, "invalid UID"))?);
        } else if matches(a, "fibmatch") {
            g.fibmatch = true;
        } else if matches(a, "sport") {
            let v = next(args, &mut i, a)?;
            g.sport = Some(v.parse().map_err(|_| invarg(v, "invalid sport"))?);
        } else if matches(a, "dport") {
            let v = next(args, &mut i, a)?;
            g.dport = Some(v.parse().map_err(|_| invarg(v, "invalid dport"))?);
        } else if matches(a, "ipproto") {
            let v = next(args, &mut i, a)?;
            g.ipproto = Some(
                super::names::ip_protocol_from_name(v)
                    .ok_or_else(|| invarg(v, "Invalid \"ipproto\" value"))?,
            );
        } else if matches(a, "notify") || matches(a, "connected") || matches(a, "vrf") || a == "as"
        {
            return Err(Error::usage(format!(
                "\"{a}\" is not available in debugbox ip route get"
            )));
        } else {
            let mut v = a;
            if v == "to" {
                v = next(args, &mut i, a)?;
            }
            if matches(v, "help") {
                return Err(Error::usage("see \"ip route help\""));
            }
            let mut p = parse_prefix(v, g.family)?;
            if g.family == Family::Unspec {
                g.family = p.family;
            }
            // The kernel looks up one address: any /len is replaced by the host length.
            p.bitlen = p.family.bit_len();
            g.dst = p;
            have_dst = true;
        }
        i += 1;
    }
    if !have_dst {
        return Err(Error::usage("need at least a destination address"));
    }
    if g.family == Family::Unspec {
        g.family = Family::Inet;
    }
    Ok(g)
}

fn parse_u32_any(v: &str) -> Option<u32> {
    if let Some(hex) = v.strip_prefix("0x") {
        u32::from_str_radix(hex, 16).ok()
    } else {
        v.parse().ok()
    }
}

fn parse_neigh(opts: &Opts, args: &[String]) -> Result<Cmd> {
    let show =
        |args: &[String]| -> Result<Cmd> { Ok(Cmd::NeighShow(parse_neigh_filter(opts, args)?)) };
    let Some(verb) = args.first() else {
        return show(&[]);
    };
    let v = verb.as_str();
    for mutating in ["add", "change", "replace", "delete"] {
        if matches(v, mutating) {
            return Err(read_only("neigh", mutating));
        }
    }
    if v == "chg" {
        return Err(read_only("neigh", "change"));
    }
    if matches(v, "get") {
        return Err(
            Error::usage("\"ip neigh get\" is not available in debugbox ip")
                .hint("use ip neigh show ADDR"),
        );
    }
    if matches(v, "show") || matches(v, "lst") || matches(v, "list") {
        return show(&args[1..]);
    }
    if matches(v, "flush") {
        return Err(read_only("neigh", "flush"));
    }
    if matches(v, "help") {
        return Ok(Cmd::Help("neigh"));
    }
    Err(Error::usage(format!(
        "Command \"{v}\" is unknown, try \"ip neigh help\""
    )))
}

const NUD_NOARP: u32 = 0x40;

/// The verb of a read-only object: show/list/lst (or nothing) lists; a changing verb is refused;
/// any other word is an unknown command, as iproute2 says.
fn show_verb<'a>(
    object: &str,
    args: &'a [String],
    changing: &[&str],
) -> Result<Option<&'a [String]>> {
    let Some(verb) = args.first() else {
        return Ok(Some(args));
    };
    let v = verb.as_str();
    if matches(v, "list") || matches(v, "show") || matches(v, "lst") {
        return Ok(Some(&args[1..]));
    }
    if matches(v, "help") {
        return Ok(None);
    }
    if let Some(word) = changing.iter().find(|w| matches(v, w)) {
        return Err(read_only(object, word));
    }
    Err(Error::usage(format!(
        "Command \"{v}\" is unknown, try \"ip {object} help\""
    )))
}

fn parse_rule(opts: &Opts, args: &[String]) -> Result<Cmd> {
    let Some(args) = show_verb("rule", args, &["add", "delete", "flush", "save", "restore"])?
    else {
        return Ok(Cmd::Help("rule"));
    };
    let mut f = RuleFilter {
        family: match opts.family {
            Family::Inet6 => Family::Inet6,
            _ => Family::Inet,
        },
        ..Default::default()
    };
    let range = |v: &str, msg: &str| -> Result<(u16, u16)> {
        let (a, b) = v.split_once('-').unwrap_or((v, v));
        match (a.parse(), b.parse()) {
            (Ok(a), Ok(b)) => Ok((a, b)),
            _ => Err(invarg(v, msg)),
        }
    };
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        if matches(a, "preference") || matches(a, "order") || matches(a, "priority") {
            let v = next(args, &mut i, a)?;
            f.pref =
                Some(parse_u32_any(v).ok_or_else(|| invarg(v, "preference value is invalid"))?);
        } else if a == "not" {
            f.not = true;
        } else if a == "tos" || a == "dsfield" {
            let v = next(args, &mut i, a)?;
            f.tos = Some(parse_u8_any(v).ok_or_else(|| invarg(v, "TOS value is invalid"))?);
        } else if a == "fwmark" {
            let v = next(args, &mut i, a)?;
            let (mark, mask) = match v.split_once('/') {
                Some((m, k)) => (m, Some(k)),
                None => (v, None),
            };
            f.fwmark =
                Some(parse_u32_any(mark).ok_or_else(|| invarg(mark, "fwmark value is invalid"))?);
            if let Some(k) = mask {
                f.fwmask =
                    Some(parse_u32_any(k).ok_or_else(|| invarg(k, "fwmask value is invalid"))?);
            }
        } else if a == "dev" || a == "iif" {
            f.iif = Some(next(args, &mut i, a)?.to_string());
        } else if a == "oif" {
            f.oif = Some(next(args, &mut i, a)?.to_string());
        } else if a == "l3mdev" {
            f.l3mdev = true;
        } else if a == "uidrange" {
            let v = next(args, &mut i, a)?;
            let r = v
                .split_once('-')
                .and_then(|(s, e)| Some((s.parse().ok()?, e.parse().ok()?)));
            f.uidrange = Some(r.ok_or_else(|| invarg(v, "invalid UID range"))?);
        } else if matches(a, "tun_id") {
            let v = next(args, &mut i, a)?;
            f.tun_id = Some(
                v.parse()
                    .map_err(|_| invarg(v, "\"tun_id\" value is invalid"))?,
            );
        } else if matches(a, "lookup") || matches(a, "table") {
            let v = next(args, &mut i, a)?;
            f.table = Some(parse_table(v).ok_or_else(|| invarg(v, "table id value is invalid"))?);
        } else if matches(a, "from") || matches(a, "src") {
            let v = next(args, &mut i, a)?;
            f.from =
                Some(parse_prefix(v, f.family).map_err(|_| invarg(v, "from value is invalid"))?);
        } else if matches(a, "protocol") {
            let v = next(args, &mut i, a)?;
            f.protocol = match super::names::protocol_from_name(v) {
                Some(p) => Some(p),
                None if v == "all" => None,
                None => return Err(invarg(v, "invalid \"protocol\"")),
            };
        } else if a == "ipproto" {
            let v = next(args, &mut i, a)?;
            f.ipproto = Some(
                super::names::ip_protocol_from_name(v)
                    .ok_or_else(|| invarg(v, "Invalid \"ipproto\" value"))?,
            );
        } else if a == "sport" {
            f.sport = Some(range(next(args, &mut i, a)?, "invalid port range")?);
        } else if a == "dport" {
            f.dport = Some(range(next(args, &mut i, a)?, "invalid dport range")?);
        } else {
            let mut v = a;
            if matches(a, "dst") || matches(a, "to") {
                v = next(args, &mut i, a)?;
            }
            f.to = Some(parse_prefix(v, f.family).map_err(|_| invarg(v, "to value is invalid"))?);
        }
        i += 1;
    }
    Ok(Cmd::RuleShow(f))
}

fn parse_nexthop(opts: &Opts, args: &[String]) -> Result<Cmd> {
    let args = match args.first().map(String::as_str) {
        Some(v) if matches(v, "get") => &args[1..],
        Some(v) if matches(v, "bucket") => {
            return Err(
                Error::usage("\"ip nexthop bucket\" is not available in debugbox ip")
                    .hint("ip nexthop show lists the groups and their buckets' settings"),
            );
        }
        _ => match show_verb("nexthop", args, &["add", "replace", "delete", "flush"])? {
            Some(rest) => rest,
            None => return Ok(Cmd::Help("nexthop")),
        },
    };
    let mut f = NexthopFilter {
        family: opts.family,
        ..Default::default()
    };
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        if matches(a, "dev") {
            f.dev = Some(next(args, &mut i, a)?.to_string());
        } else if matches(a, "groups") {
            f.groups = true;
        } else if matches(a, "master") || matches(a, "vrf") {
            f.master = Some(next(args, &mut i, a)?.to_string());
        } else if a == "id" {
            let v = next(args, &mut i, a)?;
            f.id = Some(match parse_u32_any(v) {
                Some(id) if id != 0 => id,
                _ => return Err(invarg(v, "invalid id value")),
            });
            break;
        } else if matches(a, "protocol") {
            let v = next(args, &mut i, a)?;
            f.protocol = Some(parse_u8_any(v).ok_or_else(|| invarg(v, "invalid protocol value"))?);
        } else if matches(a, "fdb") {
            f.fdb = true;
        } else if matches(a, "help") {
            return Ok(Cmd::Help("nexthop"));
        } else {
            return Err(invarg(a, ""));
        }
        i += 1;
    }
    Ok(Cmd::NexthopShow(f))
}

fn parse_neigh_filter(opts: &Opts, args: &[String]) -> Result<NeighFilter> {
    let mut f = NeighFilter {
        state: 0xff & !NUD_NOARP,
        family: opts.family,
        ..Default::default()
    };
    let mut state_given = false;
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        if a == "dev" {
            let v = next(args, &mut i, a)?;
            if f.dev.is_some() {
                return Err(Error::usage(format!(
                    "duplicate \"dev\": \"{v}\" is the second value"
                )));
            }
            f.dev = Some(v.to_string());
        } else if a == "nud" {
            let v = next(args, &mut i, a)?;
            if !state_given {
                state_given = true;
                f.state = 0;
            }
            let mut s = match super::names::nud_from_name(v) {
                Some(s) => s,
                None if v == "all" => !0,
                None => return Err(invarg(v, "nud state is bad")),
            };
            if s == 0 {
                s = 0x100;
            }
            f.state |= s;
        } else if a == "proxy" {
            f.proxy = true;
        } else if a == "unused"
            || a == "master"
            || a == "vrf"
            || a == "nomaster"
            || matches(a, "protocol")
        {
            return Err(Error::usage(format!(
                "filter \"{a}\" is not available in debugbox ip"
            )));
        } else {
            let mut v = a;
            if v == "to" {
                v = next(args, &mut i, a)?;
            }
            if matches(v, "help") {
                return Err(Error::usage("see \"ip neigh help\""));
            }
            let p = parse_prefix(v, f.family).map_err(|_| invarg(v, "to value is invalid"))?;
            if f.family == Family::Unspec {
                f.family = p.family;
            }
            f.to = Some(p);
        }
        i += 1;
    }
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<(Opts, Cmd)> {
        let args: Vec<String> = s.split_whitespace().map(String::from).collect();
        parse(&args)
    }

    #[test]
    fn abbreviations_follow_iproute2_order() {
        assert!(matches!(
            p("a").unwrap().1,
            Cmd::AddrShow { link: false, .. }
        ));
        assert!(matches!(
            p("addr show").unwrap().1,
            Cmd::AddrShow { link: false, .. }
        ));
        assert!(matches!(
            p("l").unwrap().1,
            Cmd::AddrShow { link: true, .. }
        ));
        assert!(matches!(p("r").unwrap().1, Cmd::RouteShow(_)));
        assert!(matches!(p("ro ls").unwrap().1, Cmd::RouteShow(_)));
        assert!(matches!(p("r g 10.0.0.1").unwrap().1, Cmd::RouteGet(_)));
        assert!(matches!(p("n").unwrap().1, Cmd::NeighShow(_)));
        assert!(matches!(p("neighbour show").unwrap().1, Cmd::NeighShow(_)));
        // `ip link s` is `set` in iproute2: mutating, so refused.
        let e = p("link s eth0 up").unwrap_err();
        assert!(e.message.contains("read-only"), "{}", e.message);
        assert_eq!(e.code, 2);
    }

    #[test]
    fn options() {
        let (o, _) = p("-br -4 -j -p -s -s -d -o a").unwrap();
        assert!(o.brief && o.json && o.pretty && o.oneline);
        assert_eq!((o.family, o.stats, o.details), (Family::Inet, 2, 1));
        let (o, _) = p("--json -6 r").unwrap();
        assert!(o.json);
        assert_eq!(o.family, Family::Inet6);
        let (o, _) = p("-family link a").unwrap();
        assert_eq!(o.family, Family::Packet);
    }

    #[test]
    fn mutating_verbs_are_refused() {
        for cmd in [
            "addr add 10.0.0.1/24 dev eth0",
            "a del 10.0.0.1/24 dev eth0",
            "route add default via 10.0.0.1",
            "r replace 10/8 dev eth0",
            "r flush table main",
            "link set eth0 down",
            "link delete veth0",
            "neigh add 10.0.0.1 lladdr 0:0:0:0:0:1 dev eth0",
            "n flush all",
            "a flush dev eth0",
        ] {
            let e = p(cmd).unwrap_err();
            assert_eq!(e.code, 2, "{cmd}");
            assert!(
                e.message.contains("debugbox is read-only"),
                "{cmd}: {}",
                e.message
            );
        }
    }

    #[test]
    fn unknown_things() {
        assert_eq!(
            p("-x a").unwrap_err().message,
            "Option \"-x\" is unknown, try \"ip -help\""
        );
        assert_eq!(
            p("bogus").unwrap_err().message,
            "Object \"bogus\" is unknown, try \"ip help\""
        );
        assert_eq!(
            p("route frobnicate").unwrap_err().message,
            "Command \"frobnicate\" is unknown, try \"ip route help\""
        );
        assert!(p("xfrm").unwrap_err().message.contains("not available"));
        assert!(
            p("rule add from all")
                .unwrap_err()
                .message
                .contains("read-only")
        );
        assert!(
            p("nexthop flush")
                .unwrap_err()
                .message
                .contains("read-only")
        );
        assert!(p("nexthop show id 0").is_err());
        assert!(matches!(p("rule show pref 5").unwrap().1, Cmd::RuleShow(f) if f.pref == Some(5)));
        assert!(matches!(p("-6 ru").unwrap().1, Cmd::RuleShow(f) if f.family == Family::Inet6));
        assert!(matches!(p("nexthop get id 7").unwrap().1, Cmd::NexthopShow(f) if f.id == Some(7)));
        assert_eq!(p("-c a").unwrap().0.color, Color::Always);
        assert_eq!(p("-color=auto a").unwrap().0.color, Color::Auto);
        assert!(p("-color=sometimes a").is_err());
        assert!(p("-N r").unwrap().0.numeric);
        assert!(p("r get").unwrap_err().message.contains("destination"));
        assert!(
            p("a show eth0 eth1")
                .unwrap_err()
                .message
                .contains("garbage")
        );
        assert!(p("-f").is_err());
    }

    #[test]
    fn addr_filters() {
        let (_, c) = p("a show dev eth0 up").unwrap();
        let Cmd::AddrShow { filter, .. } = c else {
            panic!()
        };
        assert_eq!(filter.dev.as_deref(), Some("eth0"));
        assert!(filter.up);
        // As in iproute2, a bare name right after `ip addr` is a verb, not a device.
        assert_eq!(
            p("a eth0").unwrap_err().message,
            "Command \"eth0\" is unknown, try \"ip address help\""
        );
        let (_, c) = p("addr show eth0").unwrap();
        let Cmd::AddrShow { filter, .. } = c else {
            panic!()
        };
        assert_eq!(filter.dev.as_deref(), Some("eth0"));
    }

    #[test]
    fn route_filters() {
        let (_, c) = p("r show table all").unwrap();
        let Cmd::RouteShow(f) = c else { panic!() };
        assert_eq!((f.table, f.family), (None, Family::Unspec));
        let (_, c) = p("r").unwrap();
        let Cmd::RouteShow(f) = c else { panic!() };
        assert_eq!((f.table, f.family), (Some(254), Family::Inet));
        let (_, c) = p("r show 10.0.0.0/8 dev eth0 proto kernel").unwrap();
        let Cmd::RouteShow(f) = c else { panic!() };
        assert_eq!(f.root.bitlen, 8);
        assert!(f.root.len_given);
        assert_eq!(f.oif.as_deref(), Some("eth0"));
        assert_eq!(f.protocol, Some(2));
        let (_, c) = p("r show default").unwrap();
        let Cmd::RouteShow(f) = c else { panic!() };
        assert!(f.root.active() && f.root.bitlen == 0);
        // iproute2 reads the prefix before it settles on IPv4: accepted, and it matches nothing.
        assert!(p("r show fd00::/64").is_ok());
        assert!(p("-4 r show fd00::/64").is_err());
        assert!(p("-6 r show fd00::/64").is_ok());
    }

    #[test]
    fn route_get() {
        let (_, c) = p("route get 10.96.0.1 from 10.244.1.5 oif eth0 mark 0x10").unwrap();
        let Cmd::RouteGet(g) = c else { panic!() };
        assert_eq!(g.family, Family::Inet);
        assert_eq!(&g.dst.bytes[..4], &[10, 96, 0, 1]);
        assert_eq!(g.dst.bitlen, 32);
        assert_eq!(g.oif.as_deref(), Some("eth0"));
        assert_eq!(g.mark, Some(16));
        let (_, c) = p("r g fd00::1").unwrap();
        let Cmd::RouteGet(g) = c else { panic!() };
        assert_eq!(g.family, Family::Inet6);
    }

    #[test]
    fn prefixes() {
        let x = parse_prefix("10.1/16", Family::Unspec).unwrap();
        assert_eq!(&x.bytes[..4], &[10, 1, 0, 0]);
        assert_eq!(x.bitlen, 16);
        assert!(parse_prefix("10.0.0.0/33", Family::Unspec).is_err());
        assert!(parse_prefix("nonsense", Family::Unspec).is_err());
        assert!(parse_prefix("default/8", Family::Unspec).is_err());
        let net = parse_prefix("10.244.0.0/16", Family::Inet).unwrap();
        let inside = ip_bytes("10.244.1.5".parse().unwrap());
        let outside = ip_bytes("10.245.1.5".parse().unwrap());
        assert!(net.first_bits_match(&inside, 16));
        assert!(!net.first_bits_match(&outside, 16));
        assert!(net.first_bits_match(&outside, 15));
    }

    #[test]
    fn neigh_filters() {
        let (_, c) = p("n show dev eth0 nud reachable").unwrap();
        let Cmd::NeighShow(f) = c else { panic!() };
        assert_eq!(f.dev.as_deref(), Some("eth0"));
        assert_eq!(f.state, 0x02);
        assert!(p("n show nud bogus").is_err());
    }
}
