//! ss's filter expressions (misc/ssfilter.y): `sport = :3000`, `dst 10.0.0.0/8`,
//! `( dport = :http or dport = :https ) and not src 127.0.0.1`, `dev eth0`, `autobound`.
//!
//! Words are split on blanks inside each argument as ss's lexer does. Operators have no
//! precedence in ss's grammar (`a or b and c` is `(a or b) and c`), and two expressions side by
//! side are joined with `and`. Evaluation follows run_ssfilter.

use super::cli::{AF_INET, AF_INET6, AF_UNIX, Opts};
use super::model::Sock;
use crate::error::{Error, Result};
use std::net::IpAddr;

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    /// dst/src (and dport/sport `=`): address and/or port conditions.
    Dst(HostCond),
    Src(HostCond),
    DportGe(u32),
    DportLe(u32),
    SportGe(u32),
    SportLe(u32),
    Dev(u32),
    Mark {
        mark: u32,
        mask: u32,
    },
    Autobound,
}

/// A parsed ADDRESS[:PORT] condition (struct aafilter and its list of resolved addresses).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HostCond {
    /// -1: any port.
    pub port: i64,
    /// Prefixes (address, bit length); empty: any address.
    pub addrs: Vec<(IpAddr, u8)>,
    /// `unix:PATTERN` (fnmatch, case-insensitive).
    pub unix: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Not,
    And,
    Or,
    Open,
    Close,
    Dst,
    Src,
    Dport,
    Sport,
    Dev,
    Fwmark,
    Geq,
    Leq,
    Neq,
    Eq,
    Gt,
    Lt,
    Autobound,
    Word(String),
}

/// get_token_from_line: blanks split, a backslash escapes the next character.
fn words(args: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for a in args {
        let mut cur = String::new();
        let mut started = false;
        let mut chars = a.chars();
        while let Some(c) = chars.next() {
            match c {
                ' ' | '\t' => {
                    if started {
                        out.push(std::mem::take(&mut cur));
                        started = false;
                    }
                }
                '\\' => {
                    started = true;
                    if let Some(n) = chars.next() {
                        cur.push(n);
                    }
                }
                c => {
                    started = true;
                    cur.push(c);
                }
            }
        }
        if started {
            out.push(cur);
        }
    }
    out
}

fn lex(w: &str) -> Tok {
    match w {
        "!" | "not" => Tok::Not,
        "&" | "&&" | "and" => Tok::And,
        "|" | "||" | "or" => Tok::Or,
        "(" => Tok::Open,
        ")" => Tok::Close,
        "dst" => Tok::Dst,
        "src" => Tok::Src,
        "dport" => Tok::Dport,
        "sport" => Tok::Sport,
        "dev" => Tok::Dev,
        "fwmark" => Tok::Fwmark,
        ">=" | "ge" | "geq" => Tok::Geq,
        "<=" | "le" | "leq" => Tok::Leq,
        "!=" | "ne" | "neq" => Tok::Neq,
        "=" | "==" | "eq" => Tok::Eq,
        ">" | "gt" => Tok::Gt,
        "<" | "lt" => Tok::Lt,
        "autobound" => Tok::Autobound,
        other => Tok::Word(other.to_string()),
    }
}

struct Parser<'a> {
    toks: Vec<Tok>,
    pos: usize,
    opts: &'a mut Opts,
}

fn syntax() -> Error {
    Error::usage("ss: bison bellows (while parsing filter): \"syntax error!\"")
        .hint("see ss -h for the filter words")
}

pub fn parse(args: &[String], opts: &mut Opts) -> Result<Option<Expr>> {
    let toks: Vec<Tok> = words(args).iter().map(|w| lex(w)).collect();
    if toks.is_empty() {
        return Ok(None);
    }
    let mut p = Parser { toks, pos: 0, opts };
    let e = p.exprlist()?;
    if p.pos != p.toks.len() {
        return Err(syntax());
    }
    Ok(Some(e))
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn exprlist(&mut self) -> Result<Expr> {
        let mut left = self.expr()?;
        loop {
            match self.peek() {
                Some(Tok::Or) => {
                    self.pos += 1;
                    left = Expr::Or(Box::new(left), Box::new(self.expr()?));
                }
                Some(Tok::And) => {
                    self.pos += 1;
                    left = Expr::And(Box::new(left), Box::new(self.expr()?));
                }
                Some(Tok::Close) | None => return Ok(left),
                Some(_) => left = Expr::And(Box::new(left), Box::new(self.expr()?)),
            }
        }
    }

    fn word(&mut self) -> Result<String> {
        match self.next() {
            Some(Tok::Word(w)) => Ok(w),
            // A condition word may itself look like a keyword (`dst :ssh`? no: `dev eq`…).
            _ => Err(syntax()),
        }
    }

    /// The optional `=` of `dst = X`.
    fn eq(&mut self) {
        if self.peek() == Some(&Tok::Eq) {
            self.pos += 1;
        }
    }

    /// `dev`/`fwmark`'s operator: `!=` (true), else an optional `=` (false).
    fn eq_or_neq(&mut self) -> bool {
        if self.peek() == Some(&Tok::Neq) {
            self.pos += 1;
            return true;
        }
        self.eq();
        false
    }

    fn expr(&mut self) -> Result<Expr> {
        match self.next().ok_or_else(syntax)? {
            Tok::Open => {
                let e = self.exprlist()?;
                if self.next() != Some(Tok::Close) {
                    return Err(syntax());
                }
                Ok(e)
            }
            Tok::Not => Ok(Expr::Not(Box::new(self.expr()?))),
            Tok::Dst => {
                self.eq();
                let w = self.word()?;
                Ok(Expr::Dst(self.hostcond(&w, false)?))
            }
            Tok::Src => {
                self.eq();
                let w = self.word()?;
                Ok(Expr::Src(self.hostcond(&w, false)?))
            }
            t @ (Tok::Dport | Tok::Sport) => {
                let dst = t == Tok::Dport;
                let op = match self.peek() {
                    Some(Tok::Geq | Tok::Leq | Tok::Gt | Tok::Lt | Tok::Neq | Tok::Eq) => {
                        self.next()
                    }
                    _ => None,
                };
                let w = self.word()?;
                let cond = self.hostcond(&w, true)?;
                let port = cond.port;
                type Bound = fn(u32) -> Expr;
                let (ge, le): (Bound, Bound) = if dst {
                    (Expr::DportGe, Expr::DportLe)
                } else {
                    (Expr::SportGe, Expr::SportLe)
                };
                let eq = || {
                    if dst {
                        Expr::Dst(cond.clone())
                    } else {
                        Expr::Src(cond.clone())
                    }
                };
                let p = port.max(0) as u32;
                Ok(match op {
                    Some(Tok::Geq) => ge(p),
                    Some(Tok::Leq) => le(p),
                    Some(Tok::Gt) => Expr::Not(Box::new(le(p))),
                    Some(Tok::Lt) => Expr::Not(Box::new(ge(p))),
                    Some(Tok::Neq) => Expr::Not(Box::new(eq())),
                    _ => eq(),
                })
            }
            Tok::Dev => {
                let neq = self.eq_or_neq();
                let e = Expr::Dev(devcond(&self.word()?)?);
                Ok(if neq { Expr::Not(Box::new(e)) } else { e })
            }
            Tok::Fwmark => {
                let neq = self.eq_or_neq();
                let e = markmask(&self.word()?)?;
                Ok(if neq { Expr::Not(Box::new(e)) } else { e })
            }
            Tok::Autobound => Ok(Expr::Autobound),
            _ => Err(syntax()),
        }
    }

    /// parse_hostcond.
    fn hostcond(&mut self, text: &str, is_port: bool) -> Result<HostCond> {
        let mut fam = self.opts.family;
        let mut addr = text;
        for (prefix, af) in [("unix:", AF_UNIX), ("inet:", AF_INET), ("inet6:", AF_INET6)] {
            if let Some(rest) = addr.strip_prefix(prefix) {
                fam = af;
                addr = rest;
            }
        }
        for prefix in ["link:", "netlink:", "vsock:"] {
            if addr.starts_with(prefix) {
                return Err(Error::usage(format!(
                    "\"{prefix}\" addresses are not available in debugbox ss"
                )));
            }
        }
        let mut cond = HostCond {
            port: -1,
            ..Default::default()
        };
        if fam == AF_UNIX {
            cond.unix = Some(addr.to_string());
            self.narrow(fam);
            return Ok(cond);
        }
        let (host, port): (&str, Option<&str>) = if is_port {
            (addr, Some(addr.strip_prefix(':').unwrap_or(addr)))
        } else if let Some(rest) = addr.strip_prefix('[') {
            let Some((h, p)) = rest.split_once(']') else {
                return Err(Error::usage(format!(
                    "an inet prefix is expected rather than \"{text}\""
                )));
            };
            (h, Some(p.strip_prefix(':').unwrap_or(p)))
        } else if let Some(p) = addr.strip_prefix('*') {
            ("*", Some(p.strip_prefix(':').unwrap_or(p)))
        } else {
            // strrchr(':') after any '/', so `10.0.0.0/8:22` and `1.2.3.4:22` split right.
            let from = addr.find('/').unwrap_or(0);
            match addr[from..].rfind(':') {
                Some(i) => (&addr[..from + i], Some(&addr[from + i + 1..])),
                None => (addr, None),
            }
        };
        if let Some(p) = port
            && !p.is_empty()
            && p != "*"
        {
            cond.port = match p.parse::<i64>() {
                Ok(n) => n,
                Err(_) => self.service(p)?,
            };
        }
        if !is_port && !host.is_empty() && host != "*" {
            cond.addrs = prefix_or_host(host, fam)?;
        }
        self.narrow(fam);
        Ok(cond)
    }

    /// A port name, from the tables the command lists.
    fn service(&self, name: &str) -> Result<i64> {
        let services = crate::services::Services::system();
        let udp = if self.opts.sel.has_db(super::cli::Db::Udp) {
            services.port(name, "udp")
        } else {
            None
        };
        let tcp = if self.opts.sel.has_db(super::cli::Db::Tcp) {
            services.port(name, "tcp")
        } else {
            None
        };
        match (udp, tcp) {
            (Some(a), Some(b)) if a != b => Err(Error::usage(format!("ambiguous port \"{name}\""))),
            (Some(p), _) | (_, Some(p)) => Ok(p as i64),
            _ => Err(Error::usage(format!(
                "\"{name}\" does not look like a port"
            ))),
        }
    }

    /// An explicit family in a condition narrows the listing to it (as ss does).
    fn narrow(&mut self, fam: u32) {
        if fam == 0 {
            return;
        }
        self.opts.sel.families = 1 << fam;
    }
}

/// get_prefix_1, else the name through the resolver (every address it has).
fn prefix_or_host(host: &str, fam: u32) -> Result<Vec<(IpAddr, u8)>> {
    let (a, len) = match host.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (host, None),
    };
    if let Ok(ip) = a
        .parse::<IpAddr>()
        .or_else(|e| crate::dns::resolver::inet_aton(a).map(IpAddr::V4).ok_or(e))
    {
        let max = if ip.is_ipv4() { 32 } else { 128 };
        let bits = match len {
            Some(l) => l.parse::<u8>().ok().filter(|b| *b <= max).ok_or_else(|| {
                Error::usage(format!("an inet prefix is expected rather than \"{host}\""))
            })?,
            None => max,
        };
        return Ok(vec![(ip, bits)]);
    }
    if len.is_some() {
        return Err(Error::usage(format!(
            "an inet prefix is expected rather than \"{host}\""
        )));
    }
    let family = match fam {
        AF_INET => crate::dns::Family::V4,
        AF_INET6 => crate::dns::Family::V6,
        _ => crate::dns::Family::Any,
    };
    match crate::dns::system().lookup_ip(host, family).result {
        Ok(l) => Ok(l
            .addrs
            .iter()
            .map(|ip| (*ip, if ip.is_ipv4() { 32 } else { 128 }))
            .collect()),
        Err(_) => Err(Error::usage(format!(
            "an inet prefix is expected rather than \"{host}\""
        ))),
    }
}

fn devcond(name: &str) -> Result<u32> {
    if let Ok(n) = name.parse::<u32>() {
        return Ok(n);
    }
    crate::sys::netdev::index_of_name(name.as_bytes())
        .ok_or_else(|| Error::usage("Cannot parse device."))
}

fn markmask(text: &str) -> Result<Expr> {
    let num = |s: &str| -> Option<u32> {
        match s.strip_prefix("0x") {
            Some(h) => u32::from_str_radix(h, 16).ok(),
            None => s.parse().ok(),
        }
    };
    let (m, k) = match text.split_once('/') {
        Some((m, k)) => (num(m), num(k)),
        None => (num(text), Some(u32::MAX)),
    };
    match (m, k) {
        (Some(mark), Some(mask)) => Ok(Expr::Mark { mark, mask }),
        _ => Err(Error::usage("Cannot parse mark.")),
    }
}

/// inet2_addr_match: a v4-mapped IPv6 socket address matches an IPv4 prefix.
fn prefix_match(addr: &IpAddr, (p, bits): &(IpAddr, u8)) -> bool {
    let addr = match (addr, p) {
        (IpAddr::V6(a), IpAddr::V4(_)) => match a.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => return false,
        },
        _ => *addr,
    };
    match (addr, p) {
        (IpAddr::V4(a), IpAddr::V4(p)) => {
            let mask = if *bits == 0 {
                0
            } else {
                u32::MAX << (32 - *bits as u32)
            };
            u32::from(a) & mask == u32::from(*p) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(p)) => {
            let mask = if *bits == 0 {
                0
            } else {
                u128::MAX << (128 - *bits as u32)
            };
            u128::from(a) & mask == u128::from(*p) & mask
        }
        _ => false,
    }
}

/// fnmatch(pattern, name, FNM_CASEFOLD) for the patterns people use: `*`, `?`, `[...]`.
fn glob(pattern: &[u8], name: &[u8]) -> bool {
    let (p, n) = (pattern, name);
    match p.first() {
        None => n.is_empty(),
        Some(b'*') => (0..=n.len()).any(|i| glob(&p[1..], &n[i..])),
        Some(b'?') => !n.is_empty() && glob(&p[1..], &n[1..]),
        Some(b'[') => {
            let Some(end) = p.iter().skip(1).position(|c| *c == b']') else {
                return !n.is_empty() && n[0] == b'[' && glob(&p[1..], &n[1..]);
            };
            let set = &p[1..end + 1];
            let Some(c) = n.first() else { return false };
            let (neg, set) = match set.first() {
                Some(b'!' | b'^') => (true, &set[1..]),
                _ => (false, set),
            };
            let c = c.to_ascii_lowercase();
            let mut hit = false;
            let mut i = 0;
            while i < set.len() {
                if i + 2 < set.len() && set[i + 1] == b'-' {
                    let (lo, hi) = (set[i].to_ascii_lowercase(), set[i + 2].to_ascii_lowercase());
                    hit |= lo <= c && c <= hi;
                    i += 3;
                } else {
                    hit |= set[i].to_ascii_lowercase() == c;
                    i += 1;
                }
            }
            hit != neg && glob(&p[end + 2..], &n[1..])
        }
        Some(c) => !n.is_empty() && c.eq_ignore_ascii_case(&n[0]) && glob(&p[1..], &n[1..]),
    }
}

fn host_matches(
    cond: &HostCond,
    addr: Option<&IpAddr>,
    port: u32,
    unix_name: Option<&[u8]>,
) -> bool {
    if let Some(pattern) = &cond.unix {
        return match unix_name {
            Some(name) => glob(pattern.as_bytes(), name),
            None => glob(pattern.as_bytes(), b""),
        };
    }
    if cond.port != -1 && cond.port != port as i64 {
        return false;
    }
    if cond.addrs.is_empty() {
        return true;
    }
    match addr {
        Some(a) => cond.addrs.iter().any(|p| prefix_match(a, p)),
        None => false,
    }
}

/// run_ssfilter. `ephemeral` is the local port range (ip_local_port_range).
pub fn matches(e: &Expr, s: &Sock, ephemeral: (u32, u32)) -> bool {
    match e {
        Expr::And(a, b) => matches(a, s, ephemeral) && matches(b, s, ephemeral),
        Expr::Or(a, b) => matches(a, s, ephemeral) || matches(b, s, ephemeral),
        Expr::Not(a) => !matches(a, s, ephemeral),
        Expr::Dst(c) => host_matches(c, s.remote.as_ref(), s.rport, s.peer_name.as_deref()),
        Expr::Src(c) => host_matches(c, s.local.as_ref(), s.lport, s.name.as_deref()),
        Expr::DportGe(p) => s.rport >= *p,
        Expr::DportLe(p) => s.rport <= *p,
        Expr::SportGe(p) => s.lport >= *p,
        Expr::SportLe(p) => s.lport <= *p,
        Expr::Dev(i) => s.iface == *i,
        Expr::Mark { mark, mask } => s.mark & mask == *mark,
        Expr::Autobound => {
            if s.family == AF_UNIX {
                return match &s.name {
                    None => true,
                    Some(n) => {
                        n.len() == 6
                            && n[0] == b'@'
                            && n[1..].iter().all(|c| b"0123456789abcdef".contains(c))
                    }
                };
            }
            s.lport >= ephemeral.0 && s.lport <= ephemeral.1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expr(line: &str) -> Expr {
        let mut o = Opts::default();
        let args: Vec<String> = vec![line.to_string()];
        parse(&args, &mut o).unwrap().unwrap()
    }

    fn sock(local: &str, lport: u32, remote: &str, rport: u32) -> Sock {
        Sock {
            family: AF_INET,
            local: local.parse().ok(),
            lport,
            remote: remote.parse().ok(),
            rport,
            ..Default::default()
        }
    }

    #[test]
    fn expressions_as_ss() {
        let s = sock("10.0.0.5", 3000, "10.1.2.3", 443);
        let eph = (32768, 60999);
        for (e, want) in [
            ("sport = :3000", true),
            ("sport :3000", true),
            ("sport != :3000", false),
            ("dport = :443", true),
            ("dport > :400", true),
            ("dport < :400", false),
            ("dport >= :443 and dport <= :443", true),
            ("dst 10.0.0.0/8", true),
            ("dst 10.1.2.3:443", true),
            ("dst 10.1.2.3:80", false),
            ("src 192.168.0.0/16 or sport = :3000", true),
            ("( sport = :1 or sport = :2 ) and dport = :443", false),
            ("not dst 127.0.0.1", true),
            ("sport = :1 or sport = :3000 dport = :1", false),
            ("dst *:443", true),
            ("autobound", false),
        ] {
            assert_eq!(matches(&expr(e), &s, eph), want, "{e}");
        }
        let mapped = sock("::ffff:10.0.0.5", 3000, "::ffff:10.1.2.3", 443);
        assert!(matches(&expr("dst 10.1.0.0/16"), &mapped, eph));
        let mut o = Opts::default();
        assert!(parse(&["( sport = :1".to_string()], &mut o).is_err());
        assert!(parse(&["dst 10.0.0.0/99".to_string()], &mut o).is_err());
        assert!(glob(b"/run/*.SOCK", b"/run/x.sock"));
        assert!(!glob(b"/run/?", b"/run/xy"));
    }

    #[test]
    fn any_expression_never_panics() {
        // Random sentences over ss's words and literal operands (no names: those would go to
        // the resolver), parsed and run against a socket.
        const VOCAB: [&str; 24] = [
            "(",
            ")",
            "not",
            "and",
            "or",
            "dst",
            "src",
            "sport",
            "dport",
            "=",
            "!=",
            ">=",
            "<",
            ":3000",
            "10.0.0.0/8",
            "[::1]:80",
            "*:22",
            "unix:/run/*",
            "autobound",
            "dev",
            "1",
            "fwmark",
            "0x1/0xff",
            "0/0",
        ];
        let s = sock("10.0.0.5", 3000, "10.1.2.3", 443);
        let mut rng = crate::testing::Rng::new(7);
        for _ in 0..5000 {
            let n = rng.below(8);
            let line: Vec<&str> = (0..n).map(|_| VOCAB[rng.below(VOCAB.len())]).collect();
            let mut o = Opts::default();
            if let Ok(Some(e)) = parse(&[line.join(" ")], &mut o) {
                let _ = matches(&e, &s, (32768, 60999));
            }
        }
    }
}
