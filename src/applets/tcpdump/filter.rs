//! tcpdump's filter expressions (pcap-filter(7)) for what people type: `host/net/port/portrange`
//! with `src/dst`, the protocols (`tcp udp icmp icmp6 arp rarp ip ip6 sctp`), `and/or/not` and
//! parentheses (and and or with equal precedence, left to right, as libpcap), `vlan [ID]`,
//! `greater/less`, `proto N`, `ether host/src/dst MAC`, and relations over loads such as
//! `tcp[tcpflags] & (tcp-syn) != 0`. An expression is parsed into a tree and compiled to classic
//! BPF for one link type; the kernel runs the program on the socket, `bpf::run` on packets read
//! from a file. Names (hosts, ports) are looked up through the functions the caller passes.
//! Pure.

use super::bpf::{self, Insn};
use std::net::{IpAddr, Ipv4Addr};

/// Where the link layer puts the EtherType and the network header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// Ethernet frames (DLT_EN10MB).
    Ether,
    /// What a cooked (SOCK_DGRAM) packet socket hands the kernel filter: the network header at
    /// 0, the EtherType in the ancillary `proto` word.
    Cooked,
    /// Linux cooked headers in a file: v1 (16 bytes) and v2 (20 bytes).
    Sll,
    Sll2,
    /// Bare IP packets (DLT_RAW).
    Raw,
}

/// A failed compile, said as tcpdump says it (`syntax error`, `unknown host 'x'`, …).
pub type Error = String;

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Num(u32),
    LParen,
    RParen,
    LBracket,
    RBracket,
    Colon,
    Op(&'static str),
}

fn number(w: &str) -> Option<u32> {
    if let Some(h) = w.strip_prefix("0x").or_else(|| w.strip_prefix("0X")) {
        u32::from_str_radix(h, 16).ok()
    } else if w.len() > 1 && w.starts_with('0') && w.bytes().all(|b| b.is_ascii_digit()) {
        u32::from_str_radix(&w[1..], 8).ok()
    } else if w.bytes().all(|b| b.is_ascii_digit()) {
        w.parse().ok()
    } else {
        None
    }
}

fn lex(text: &str) -> Result<Vec<Tok>, Error> {
    const OPS: [&str; 17] = [
        "&&", "||", "==", "!=", "<=", ">=", "<<", ">>", "!", "<", ">", "=", "&", "|", "+", "*", "%",
    ];
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut depth = 0usize;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let single = match c {
            b'(' => Some(Tok::LParen),
            b')' => Some(Tok::RParen),
            b'[' => Some(Tok::LBracket),
            b']' => Some(Tok::RBracket),
            b':' if depth > 0 => Some(Tok::Colon),
            b'-' => Some(Tok::Op("-")),
            b'/' if depth > 0 => Some(Tok::Op("/")),
            b'^' => Some(Tok::Op("^")),
            _ => None,
        };
        if let Some(t) = single {
            match t {
                Tok::LBracket => depth += 1,
                Tok::RBracket => depth = depth.saturating_sub(1),
                _ => {}
            }
            out.push(t);
            i += 1;
            continue;
        }
        if let Some(op) = OPS.iter().find(|op| text[i..].starts_with(**op)) {
            out.push(Tok::Op(op));
            i += op.len();
            continue;
        }
        let word_byte = |x: u8| {
            x.is_ascii_alphanumeric()
                || matches!(x, b'.' | b'_' | b'-')
                || (depth == 0 && matches!(x, b':' | b'/'))
        };
        if !word_byte(c) {
            return Err(syntax());
        }
        let start = i;
        while i < b.len() && word_byte(b[i]) {
            i += 1;
        }
        let w = &text[start..i];
        out.push(match number(w) {
            Some(n) => Tok::Num(n),
            None => Tok::Word(w.to_string()),
        });
    }
    Ok(out)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    Any,
    Src,
    Dst,
    Both,
}

/// Protocol qualifier of a primitive (`tcp port 80`, `ip host x`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proto {
    Default,
    Ether,
    Ip,
    Ip6,
    Arp,
    Rarp,
    Tcp,
    Udp,
    Sctp,
    Icmp,
    Icmp6,
}

impl Proto {
    fn of(w: &str) -> Option<Proto> {
        Some(match w {
            "ether" | "link" => Proto::Ether,
            "ip" => Proto::Ip,
            "ip6" => Proto::Ip6,
            "arp" => Proto::Arp,
            "rarp" => Proto::Rarp,
            "tcp" => Proto::Tcp,
            "udp" => Proto::Udp,
            "sctp" => Proto::Sctp,
            "icmp" => Proto::Icmp,
            "icmp6" => Proto::Icmp6,
            _ => return None,
        })
    }

    fn ip_number(self) -> Option<u8> {
        match self {
            Proto::Tcp => Some(6),
            Proto::Udp => Some(17),
            Proto::Sctp => Some(132),
            Proto::Icmp => Some(1),
            Proto::Icmp6 => Some(58),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Host,
    Net,
    Port,
    PortRange,
}

/// Arithmetic over packet bytes (`tcp[13] & 2`, `len - 20`).
#[derive(Debug, Clone, PartialEq)]
enum Arith {
    Num(u32),
    Len,
    /// proto[index : size]
    Load(Proto, Box<Arith>, u16),
    Bin(u16, Box<Arith>, Box<Arith>),
}

/// The expression tree.
#[derive(Debug, Clone, PartialEq)]
enum Node {
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
    Not(Box<Node>),
    /// A protocol on its own (`tcp`, `ip6`).
    Proto(Proto),
    Host(Proto, Dir, IpAddr),
    Net(Proto, Dir, IpAddr, u8),
    EtherHost(Dir, [u8; 6]),
    Port(Proto, Dir, u16, u16),
    IpProto(Proto, u8),
    EtherProto(u16),
    Vlan(Option<u16>),
    Relation(&'static str, Arith, Arith),
    Greater(u32),
    Less(u32),
}

/// Lookups the compiler needs from outside: host names to addresses, service names to ports.
pub struct Names<'a> {
    pub host: &'a mut dyn FnMut(&str) -> Option<Vec<IpAddr>>,
    pub port: &'a dyn Fn(&str, &str) -> Option<u16>,
}

struct Parser<'a, 'n> {
    toks: Vec<Tok>,
    at: usize,
    names: &'a mut Names<'n>,
    /// The qualifiers of the last primitive, for `host a or b` and `port 80 or 443`.
    last: Option<(Proto, Dir, Kind)>,
}

fn syntax() -> Error {
    "can't parse filter expression: syntax error".into()
}

impl Parser<'_, '_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at)
    }

    fn word(&self) -> Option<&str> {
        match self.peek() {
            Some(Tok::Word(w)) => Some(w.as_str()),
            _ => None,
        }
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn expr(&mut self) -> Result<Node, Error> {
        let mut left = self.term()?;
        loop {
            let op = match self.peek() {
                Some(Tok::Word(w)) if w == "and" => "and",
                Some(Tok::Op("&&")) => "and",
                Some(Tok::Word(w)) if w == "or" => "or",
                Some(Tok::Op("||")) => "or",
                _ => return Ok(left),
            };
            self.at += 1;
            let right = self.term()?;
            left = if op == "and" {
                Node::And(Box::new(left), Box::new(right))
            } else {
                Node::Or(Box::new(left), Box::new(right))
            };
        }
    }

    fn term(&mut self) -> Result<Node, Error> {
        match self.peek() {
            Some(Tok::Word(w)) if w == "not" => {
                self.at += 1;
                Ok(Node::Not(Box::new(self.term()?)))
            }
            Some(Tok::Op("!")) => {
                self.at += 1;
                Ok(Node::Not(Box::new(self.term()?)))
            }
            Some(Tok::LParen) => {
                let save = self.at;
                self.at += 1;
                if let Ok(n) = self.expr()
                    && self.peek() == Some(&Tok::RParen)
                {
                    self.at += 1;
                    if !matches!(self.peek(), Some(Tok::Op(_))) || self.is_bool_op() {
                        return Ok(n);
                    }
                }
                self.at = save;
                self.relation()
            }
            // `port 80 or 443`: a bare number repeats the last qualifiers; else arithmetic.
            Some(Tok::Num(_))
                if self.last.is_some()
                    && !matches!(self.toks.get(self.at + 1), Some(Tok::Op(op)) if !matches!(*op, "&&" | "||" | "!")) =>
            {
                self.primitive()
            }
            Some(Tok::Num(_)) => self.relation(),
            Some(Tok::Word(w)) if w == "len" => self.relation(),
            Some(Tok::Word(w))
                if Proto::of(w).is_some() && self.toks.get(self.at + 1) == Some(&Tok::LBracket) =>
            {
                self.relation()
            }
            _ => self.primitive(),
        }
    }

    fn is_bool_op(&self) -> bool {
        matches!(self.peek(), Some(Tok::Op("&&" | "||" | "!")))
    }

    fn relation(&mut self) -> Result<Node, Error> {
        let left = self.arith(0)?;
        let op = match self.next() {
            Some(Tok::Op(op @ ("=" | "==" | "!=" | "<" | "<=" | ">" | ">="))) => op,
            _ => return Err(syntax()),
        };
        let right = self.arith(0)?;
        Ok(Node::Relation(op, left, right))
    }

    /// Precedence climbing over C's operator levels for what pcap-filter allows.
    fn arith(&mut self, min: u8) -> Result<Arith, Error> {
        let mut left = self.arith_atom()?;
        loop {
            let (op, prec) = match self.peek() {
                Some(Tok::Op("|")) => (bpf::OR, 1),
                Some(Tok::Op("^")) => (bpf::XOR, 2),
                Some(Tok::Op("&")) => (bpf::AND, 3),
                Some(Tok::Op("<<")) => (bpf::LSH, 4),
                Some(Tok::Op(">>")) => (bpf::RSH, 4),
                Some(Tok::Op("+")) => (bpf::ADD, 5),
                Some(Tok::Op("-")) => (bpf::SUB, 5),
                Some(Tok::Op("*")) => (bpf::MUL, 6),
                Some(Tok::Op("/")) => (bpf::DIV, 6),
                Some(Tok::Op("%")) => (bpf::MOD, 6),
                _ => return Ok(left),
            };
            if prec < min {
                return Ok(left);
            }
            self.at += 1;
            let right = self.arith(prec + 1)?;
            left = Arith::Bin(op, Box::new(left), Box::new(right));
        }
    }

    fn arith_atom(&mut self) -> Result<Arith, Error> {
        match self.next() {
            Some(Tok::Num(n)) => Ok(Arith::Num(n)),
            Some(Tok::LParen) => {
                let a = self.arith(0)?;
                match self.next() {
                    Some(Tok::RParen) => Ok(a),
                    _ => Err(syntax()),
                }
            }
            Some(Tok::Op("-")) => {
                let a = self.arith_atom()?;
                Ok(Arith::Bin(bpf::SUB, Box::new(Arith::Num(0)), Box::new(a)))
            }
            Some(Tok::Word(w)) if w == "len" => Ok(Arith::Len),
            Some(Tok::Word(w)) => {
                if let Some(p) = Proto::of(&w)
                    && self.peek() == Some(&Tok::LBracket)
                {
                    self.at += 1;
                    let index = self.arith(0)?;
                    let size = if self.peek() == Some(&Tok::Colon) {
                        self.at += 1;
                        match self.next() {
                            Some(Tok::Num(1)) => bpf::B,
                            Some(Tok::Num(2)) => bpf::H,
                            Some(Tok::Num(4)) => bpf::W,
                            _ => return Err("data size must be 1, 2, or 4".into()),
                        }
                    } else {
                        bpf::B
                    };
                    if self.next() != Some(Tok::RBracket) {
                        return Err(syntax());
                    }
                    return Ok(Arith::Load(p, Box::new(index), size));
                }
                match constant(&w) {
                    Some(n) => Ok(Arith::Num(n)),
                    None => Err(syntax()),
                }
            }
            _ => Err(syntax()),
        }
    }

    fn primitive(&mut self) -> Result<Node, Error> {
        let Some(first) = self.word().map(str::to_string) else {
            return match self.peek() {
                // A bare value after and/or repeats the last qualifiers.
                Some(Tok::Num(_)) if self.last.is_some() => {
                    let (p, d, k) = self.last.unwrap_or((Proto::Default, Dir::Any, Kind::Host));
                    self.value(p, d, k)
                }
                _ => Err(syntax()),
            };
        };
        match first.as_str() {
            "greater" | "less" => {
                self.at += 1;
                let Some(Tok::Num(n)) = self.next() else {
                    return Err(syntax());
                };
                return Ok(if first == "greater" {
                    Node::Greater(n)
                } else {
                    Node::Less(n)
                });
            }
            "vlan" => {
                self.at += 1;
                if let Some(Tok::Num(n)) = self.peek().cloned() {
                    self.at += 1;
                    if n > 4095 {
                        return Err(format!("VLAN tag {n} greater than maximum 4095"));
                    }
                    return Ok(Node::Vlan(Some(n as u16)));
                }
                return Ok(Node::Vlan(None));
            }
            _ => {}
        }
        let mut proto = Proto::Default;
        if let Some(p) = Proto::of(&first) {
            proto = p;
            self.at += 1;
            // `ip proto N`, `ip6 proto N`, `proto N`
            if self.word() == Some("proto") {
                self.at += 1;
                if proto == Proto::Ether {
                    // `ether proto 0x88cc`
                    return match self.next() {
                        Some(Tok::Num(n)) if n <= 0xffff => Ok(Node::EtherProto(n as u16)),
                        _ => Err(syntax()),
                    };
                }
                return self.ip_proto(proto);
            }
            if !self.qualifier_follows() {
                return Ok(Node::Proto(p));
            }
        } else if first == "proto" {
            self.at += 1;
            return self.ip_proto(Proto::Default);
        }
        let mut dir = Dir::Any;
        match self.word() {
            Some("src") | Some("dst") => {
                let w = self.word().unwrap_or_default().to_string();
                self.at += 1;
                dir = if w == "src" { Dir::Src } else { Dir::Dst };
                // `src or dst`, `src and dst`
                let two = (self.word(), self.toks.get(self.at + 1));
                if let (Some(j @ ("or" | "and")), Some(Tok::Word(other))) = two
                    && (other == "src" || other == "dst")
                    && *other != w
                {
                    dir = if j == "or" { Dir::Any } else { Dir::Both };
                    self.at += 2;
                }
            }
            _ => {}
        }
        let kind = match self.word() {
            Some("host") => Some(Kind::Host),
            Some("net") => Some(Kind::Net),
            Some("port") => Some(Kind::Port),
            Some("portrange") => Some(Kind::PortRange),
            _ => None,
        };
        if kind.is_some() {
            self.at += 1;
        } else if proto == Proto::Default
            && dir == Dir::Any
            && let Some((p, d, k)) = self.last
        {
            // `host a or b`: b takes a's qualifiers.
            return self.value(p, d, k);
        }
        self.value(proto, dir, kind.unwrap_or(Kind::Host))
    }

    fn qualifier_follows(&self) -> bool {
        matches!(
            self.word(),
            Some("src" | "dst" | "host" | "net" | "port" | "portrange")
        )
    }

    fn ip_proto(&mut self, proto: Proto) -> Result<Node, Error> {
        let n = match self.next() {
            Some(Tok::Num(n)) if n < 256 => n as u8,
            Some(Tok::Word(w)) => match Proto::of(&w).and_then(Proto::ip_number) {
                Some(n) => n,
                None => return Err(format!("unknown ip proto '{w}'")),
            },
            _ => return Err(syntax()),
        };
        Ok(Node::IpProto(proto, n))
    }

    fn value(&mut self, proto: Proto, dir: Dir, kind: Kind) -> Result<Node, Error> {
        self.last = Some((proto, dir, kind));
        let text = match self.next() {
            Some(Tok::Word(w)) => w,
            Some(Tok::Num(n)) => n.to_string(),
            _ => return Err(syntax()),
        };
        match kind {
            Kind::Port | Kind::PortRange => {
                let (lo, hi) = if kind == Kind::PortRange {
                    let (a, b) = match text.split_once('-') {
                        Some(ab) => ab,
                        None => {
                            // `portrange 1000-2000` lexes as 1000, -, 2000
                            let Some(Tok::Op("-")) = self.next() else {
                                return Err(syntax());
                            };
                            let b = match self.next() {
                                Some(Tok::Num(n)) => n.to_string(),
                                Some(Tok::Word(w)) => w,
                                _ => return Err(syntax()),
                            };
                            let a = text.clone();
                            return self.range(proto, dir, &a, &b);
                        }
                    };
                    return self.range(proto, dir, a, b);
                } else {
                    let p = self.port(&text, proto)?;
                    (p, p)
                };
                if !matches!(
                    proto,
                    Proto::Default | Proto::Tcp | Proto::Udp | Proto::Sctp | Proto::Ip | Proto::Ip6
                ) {
                    return Err("illegal qualifier of 'port'".into());
                }
                Ok(Node::Port(proto, dir, lo, hi))
            }
            Kind::Host if proto == Proto::Ether => Ok(Node::EtherHost(dir, mac(&text)?)),
            Kind::Host => {
                if !matches!(
                    proto,
                    Proto::Default | Proto::Ip | Proto::Ip6 | Proto::Arp | Proto::Rarp
                ) {
                    return Err("illegal qualifier of 'host'".into());
                }
                if text.contains('/') {
                    return Err(format!("'{text}' is not a host; use 'net'"));
                }
                let addrs = match text.parse::<IpAddr>() {
                    Ok(a) => vec![a],
                    Err(_) => match (self.names.host)(&text) {
                        Some(v) if !v.is_empty() => v,
                        _ => return Err(format!("unknown host '{text}'")),
                    },
                };
                let mut node: Option<Node> = None;
                for a in addrs {
                    let n = Node::Host(proto, dir, a);
                    node = Some(match node {
                        None => n,
                        Some(prev) => Node::Or(Box::new(prev), Box::new(n)),
                    });
                }
                node.ok_or_else(syntax)
            }
            Kind::Net => {
                let (addr, len) = self.net(&text)?;
                Ok(Node::Net(proto, dir, addr, len))
            }
        }
    }

    fn range(&mut self, proto: Proto, dir: Dir, a: &str, b: &str) -> Result<Node, Error> {
        let (lo, hi) = (self.port(a, proto)?, self.port(b, proto)?);
        Ok(Node::Port(proto, dir, lo.min(hi), lo.max(hi)))
    }

    fn port(&self, text: &str, proto: Proto) -> Result<u16, Error> {
        if let Some(n) = number(text) {
            return u16::try_from(n).map_err(|_| format!("illegal port number {n} > 65535"));
        }
        let p = match proto {
            Proto::Udp => "udp",
            Proto::Sctp => "sctp",
            _ => "tcp",
        };
        (self.names.port)(text, p)
            .or_else(|| (self.names.port)(text, "udp"))
            .ok_or_else(|| format!("unknown port '{text}'"))
    }

    /// `net 10.1.0.0/16`, `net 10.1`, `net fd00::/8`, `net 10.0.0.0 mask 255.0.0.0`.
    fn net(&mut self, text: &str) -> Result<(IpAddr, u8), Error> {
        let (addr_text, len) = match text.split_once('/') {
            Some((a, l)) => (a, Some(l.parse::<u8>().map_err(|_| syntax())?)),
            None => (text, None),
        };
        let (addr, natural) = if let Ok(a) = addr_text.parse::<IpAddr>() {
            (a, if a.is_ipv4() { 32 } else { 128 })
        } else {
            // libpcap's partial dotted forms: "10" is 10/8, "10.1" 10.1/16, "10.1.2" /24.
            let parts: Vec<&str> = addr_text.split('.').collect();
            if parts.len() > 3 || parts.iter().any(|p| p.parse::<u8>().is_err()) {
                return Err(format!("invalid net '{text}'"));
            }
            let mut o = [0u8; 4];
            for (i, p) in parts.iter().enumerate() {
                o[i] = p.parse().unwrap_or(0);
            }
            (IpAddr::V4(Ipv4Addr::from(o)), 8 * parts.len() as u8)
        };
        let mut len = len.unwrap_or(natural);
        if self.word() == Some("mask") {
            self.at += 1;
            let m = match self.next() {
                Some(Tok::Word(w)) => w.parse::<Ipv4Addr>().map_err(|_| syntax())?,
                _ => return Err(syntax()),
            };
            let bits = u32::from(m);
            if bits.leading_ones() + bits.trailing_zeros() != 32 {
                return Err("non-contiguous netmask".into());
            }
            len = bits.leading_ones() as u8;
        }
        let max = if addr.is_ipv4() { 32 } else { 128 };
        if len > max {
            return Err(format!("mask length must be <= {max}"));
        }
        let masked = match addr {
            IpAddr::V4(a) => {
                let m = if len == 0 { 0 } else { u32::MAX << (32 - len) };
                let v = u32::from(a);
                if v & !m != 0 {
                    return Err("non-network bits set in \"".to_string() + text + "\"");
                }
                IpAddr::V4(a)
            }
            IpAddr::V6(a) => {
                let m = if len == 0 {
                    0
                } else {
                    u128::MAX << (128 - len)
                };
                if u128::from(a) & !m != 0 {
                    return Err("non-network bits set in \"".to_string() + text + "\"");
                }
                IpAddr::V6(a)
            }
        };
        Ok((masked, len))
    }
}

fn mac(text: &str) -> Result<[u8; 6], Error> {
    let parts: Vec<&str> = text.split([':', '-', '.']).collect();
    let mut m = [0u8; 6];
    if parts.len() != 6 {
        return Err(format!("bogus ethernet address {text}"));
    }
    for (i, p) in parts.iter().enumerate() {
        m[i] = u8::from_str_radix(p, 16).map_err(|_| format!("bogus ethernet address {text}"))?;
    }
    Ok(m)
}

/// pcap-filter's named constants for header fields and values.
fn constant(w: &str) -> Option<u32> {
    Some(match w {
        "icmptype" | "icmp6type" => 0,
        "icmpcode" | "icmp6code" => 1,
        "tcpflags" => 13,
        "tcp-fin" => 0x01,
        "tcp-syn" => 0x02,
        "tcp-rst" => 0x04,
        "tcp-push" => 0x08,
        "tcp-ack" => 0x10,
        "tcp-urg" => 0x20,
        "tcp-ece" => 0x40,
        "tcp-cwr" => 0x80,
        "icmp-echoreply" => 0,
        "icmp-unreach" => 3,
        "icmp-sourcequench" => 4,
        "icmp-redirect" => 5,
        "icmp-echo" => 8,
        "icmp-routeradvert" => 9,
        "icmp-routersolicit" => 10,
        "icmp-timxceed" => 11,
        "icmp-paramprob" => 12,
        "icmp-tstamp" => 13,
        "icmp-tstampreply" => 14,
        "icmp-ireq" => 15,
        "icmp-ireqreply" => 16,
        "icmp-maskreq" => 17,
        "icmp-maskreply" => 18,
        "icmp6-destinationunreach" => 1,
        "icmp6-packettoobig" => 2,
        "icmp6-timeexceeded" => 3,
        "icmp6-parameterproblem" => 4,
        "icmp6-echo" => 128,
        "icmp6-echoreply" => 129,
        "icmp6-multicastlistenerquery" => 130,
        "icmp6-multicastlistenerreportv1" => 131,
        "icmp6-multicastlistenerdone" => 132,
        "icmp6-routersolicit" => 133,
        "icmp6-routeradvert" => 134,
        "icmp6-neighborsolicit" => 135,
        "icmp6-neighboradvert" => 136,
        "icmp6-redirect" => 137,
        _ => return None,
    })
}

// ---- code generation ----

/// The operands of a chain of `and`s, left to right.
fn conjuncts<'a>(n: &'a Node, out: &mut Vec<&'a Node>) {
    match n {
        Node::And(a, b) => {
            conjuncts(a, out);
            conjuncts(b, out);
        }
        other => out.push(other),
    }
}

/// A jump target while the program is being built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Label(usize),
    Accept,
    Reject,
}

#[derive(Debug, Clone, Copy)]
enum Item {
    Insn(Insn),
    /// A conditional jump (code, k) to two targets.
    Jump(u16, u32, Target, Target),
    Label(usize),
}

/// Where, for the packet at hand, the link layer ends and what says its protocol.
#[derive(Debug, Clone, Copy)]
struct Frame {
    link: Link,
    /// Extra bytes before the network header (an in-band VLAN tag).
    shift: u32,
}

impl Frame {
    fn net(&self) -> u32 {
        self.shift
            + match self.link {
                Link::Ether => 14,
                Link::Sll => 16,
                Link::Sll2 => 20,
                Link::Cooked | Link::Raw => 0,
            }
    }
}

/// A piece of code that jumps to its first target when its test holds, else to the second.
type Test<'a> = &'a dyn Fn(&mut Gen, Target, Target);
type OwnedTest = Box<dyn Fn(&mut Gen, Target, Target)>;

struct Gen {
    items: Vec<Item>,
    labels: usize,
    scratch: usize,
}

impl Gen {
    fn label(&mut self) -> usize {
        self.labels += 1;
        self.labels
    }

    fn put(&mut self, i: Insn) {
        self.items.push(Item::Insn(i));
    }

    fn jump(&mut self, code: u16, k: u32, t: Target, f: Target) {
        self.items.push(Item::Jump(bpf::JMP | code, k, t, f));
    }

    /// Jump to `t` when the accumulator holds one of `values`, else to `f`.
    fn one_of(&mut self, values: &[u8], t: Target, f: Target) {
        for (i, v) in values.iter().enumerate() {
            let next = if i + 1 == values.len() {
                f
            } else {
                Target::Label(self.label())
            };
            self.jump(bpf::JEQ, *v as u32, t, next);
            if let Target::Label(l) = next {
                self.here(l);
            }
        }
    }

    /// An unconditional jump.
    fn goto(&mut self, t: Target) {
        self.items.push(Item::Jump(bpf::JMP | bpf::JA, 0, t, t));
    }

    fn here(&mut self, l: usize) {
        self.items.push(Item::Label(l));
    }

    /// Jump to `t` when the link-layer protocol is `ethertype`, else to `f`.
    fn ethertype(&mut self, fr: Frame, ethertype: u16, t: Target, f: Target) {
        match fr.link {
            Link::Ether => self.put(Insn::stmt(bpf::LD | bpf::H | bpf::ABS, 12 + fr.shift)),
            Link::Sll => self.put(Insn::stmt(bpf::LD | bpf::H | bpf::ABS, 14)),
            Link::Sll2 => self.put(Insn::stmt(bpf::LD | bpf::H | bpf::ABS, 0)),
            Link::Cooked => self.put(Insn::stmt(bpf::LD | bpf::W | bpf::ABS, bpf::AD_PROTOCOL)),
            Link::Raw => {
                let version = match ethertype {
                    0x0800 => 0x40,
                    0x86dd => 0x60,
                    _ => {
                        self.goto(f);
                        return;
                    }
                };
                self.put(Insn::stmt(bpf::LD | bpf::B | bpf::ABS, 0));
                self.put(Insn::stmt(bpf::ALU | bpf::AND | bpf::K, 0xf0));
                self.jump(bpf::JEQ, version, t, f);
                return;
            }
        }
        self.jump(bpf::JEQ, ethertype as u32, t, f);
    }

    /// Go on below when the link-layer protocol is `ethertype`, else jump to `f`.
    fn only(&mut self, fr: Frame, ethertype: u16, f: Target) {
        let go = self.label();
        self.ethertype(fr, ethertype, Target::Label(go), f);
        self.here(go);
    }

    /// Compare the `size` field at `off` (masked when `mask` is not all ones) with `v`.
    fn field(&mut self, size: u16, off: u32, mask: u32, v: u32, t: Target, f: Target) {
        self.put(Insn::stmt(bpf::LD | size | bpf::ABS, off));
        if mask != u32::MAX {
            self.put(Insn::stmt(bpf::ALU | bpf::AND | bpf::K, mask));
        }
        self.jump(bpf::JEQ, v & mask, t, f);
    }

    /// Both of `a` then `b` (each given its own targets by the closures).
    fn all(&mut self, parts: &[Test], t: Target, f: Target) {
        for (i, p) in parts.iter().enumerate() {
            if i + 1 == parts.len() {
                p(self, t, f);
            } else {
                let next = self.label();
                p(self, Target::Label(next), f);
                self.here(next);
            }
        }
    }

    fn any(&mut self, parts: &[Test], t: Target, f: Target) {
        for (i, p) in parts.iter().enumerate() {
            if i + 1 == parts.len() {
                p(self, t, f);
            } else {
                let next = self.label();
                p(self, t, Target::Label(next));
                self.here(next);
            }
        }
    }

    fn node(&mut self, n: &Node, fr: Frame, t: Target, f: Target) -> Result<(), Error> {
        match n {
            Node::And(a, b) => {
                // `… and vlan [ID] and REST`: what follows the tag is read past it.
                let mut parts = Vec::new();
                conjuncts(n, &mut parts);
                if let Some(i) = parts.iter().position(|p| matches!(p, Node::Vlan(_))) {
                    for p in &parts[..i] {
                        let mid = self.label();
                        self.node(p, fr, Target::Label(mid), f)?;
                        self.here(mid);
                    }
                    let rest = parts[i + 1..].iter().fold(None, |acc: Option<Node>, p| {
                        Some(match acc {
                            None => (*p).clone(),
                            Some(prev) => Node::And(Box::new(prev), Box::new((*p).clone())),
                        })
                    });
                    let Node::Vlan(id) = parts[i] else {
                        return Err(syntax());
                    };
                    return self.vlan(*id, rest.as_ref(), fr, t, f);
                }
                let mid = self.label();
                self.node(a, fr, Target::Label(mid), f)?;
                self.here(mid);
                self.node(b, fr, t, f)
            }
            Node::Or(a, b) => {
                let mid = self.label();
                self.node(a, fr, t, Target::Label(mid))?;
                self.here(mid);
                self.node(b, fr, t, f)
            }
            Node::Not(a) => self.node(a, fr, f, t),
            Node::Proto(p) => self.proto(*p, fr, t, f),
            Node::EtherProto(v) => {
                self.ethertype(fr, *v, t, f);
                Ok(())
            }
            Node::IpProto(p, n) => {
                let n = *n;
                match p {
                    Proto::Ip => self.ip4_proto(fr, n, t, f),
                    Proto::Ip6 => self.ip6_proto(fr, n, t, f),
                    _ => self.any(
                        &[
                            &|g: &mut Gen, t, f| g.ip4_proto(fr, n, t, f),
                            &|g: &mut Gen, t, f| g.ip6_proto(fr, n, t, f),
                        ],
                        t,
                        f,
                    ),
                }
                Ok(())
            }
            Node::Host(p, d, a) => self.host(*p, *d, *a, fr, t, f),
            Node::Net(p, d, a, len) => self.net(*p, *d, *a, *len, fr, t, f),
            Node::EtherHost(d, m) => {
                if fr.link != Link::Ether {
                    return Err("'ether' qualifier not supported on this link type".into());
                }
                let m = *m;
                let one = move |g: &mut Gen, off: u32, t, f| {
                    let hi = u32::from_be_bytes([m[0], m[1], m[2], m[3]]);
                    let lo = u16::from_be_bytes([m[4], m[5]]) as u32;
                    let mid = g.label();
                    g.field(bpf::W, off, u32::MAX, hi, Target::Label(mid), f);
                    g.here(mid);
                    g.field(bpf::H, off + 4, u32::MAX, lo, t, f);
                };
                self.dir(
                    *d,
                    &|g: &mut Gen, t, f| one(g, 6, t, f),
                    &|g: &mut Gen, t, f| one(g, 0, t, f),
                    t,
                    f,
                );
                Ok(())
            }
            Node::Port(p, d, lo, hi) => self.port(*p, *d, *lo, *hi, fr, t, f),
            Node::Vlan(id) => self.vlan(*id, None, fr, t, f),
            Node::Greater(n) => {
                self.put(Insn::stmt(bpf::LD | bpf::W | bpf::LEN, 0));
                self.jump(bpf::JGE, *n, t, f);
                Ok(())
            }
            Node::Less(n) => {
                self.put(Insn::stmt(bpf::LD | bpf::W | bpf::LEN, 0));
                self.jump(bpf::JGT, *n, f, t);
                Ok(())
            }
            Node::Relation(op, l, r) => self.relation(op, l, r, fr, t, f),
        }
    }

    fn proto(&mut self, p: Proto, fr: Frame, t: Target, f: Target) -> Result<(), Error> {
        match p {
            Proto::Ip => self.ethertype(fr, 0x0800, t, f),
            Proto::Ip6 => self.ethertype(fr, 0x86dd, t, f),
            Proto::Arp => self.ethertype(fr, 0x0806, t, f),
            Proto::Rarp => self.ethertype(fr, 0x8035, t, f),
            Proto::Ether | Proto::Default => return Err(syntax()),
            Proto::Icmp => self.ip4_proto(fr, 1, t, f),
            Proto::Icmp6 => self.ip6_proto(fr, 58, t, f),
            Proto::Tcp | Proto::Udp | Proto::Sctp => {
                let n = p.ip_number().unwrap_or(0);
                self.any(
                    &[
                        &|g: &mut Gen, t, f| g.ip4_proto(fr, n, t, f),
                        &|g: &mut Gen, t, f| g.ip6_proto(fr, n, t, f),
                    ],
                    t,
                    f,
                );
            }
        }
        Ok(())
    }

    fn ip4_proto(&mut self, fr: Frame, n: u8, t: Target, f: Target) {
        self.only(fr, 0x0800, f);
        self.field(bpf::B, fr.net() + 9, u32::MAX, n as u32, t, f);
    }

    /// The IPv6 next header, or the one after a fragment header, as libpcap checks it.
    fn ip6_proto(&mut self, fr: Frame, n: u8, t: Target, f: Target) {
        self.only(fr, 0x86dd, f);
        let frag = self.label();
        self.field(
            bpf::B,
            fr.net() + 6,
            u32::MAX,
            n as u32,
            t,
            Target::Label(frag),
        );
        self.here(frag);
        let next = self.label();
        self.jump(bpf::JEQ, 44, Target::Label(next), f);
        self.here(next);
        self.field(bpf::B, fr.net() + 40, u32::MAX, n as u32, t, f);
    }

    /// Source test, destination test, combined as `dir` says.
    fn dir(&mut self, d: Dir, src: Test, dst: Test, t: Target, f: Target) {
        match d {
            Dir::Src => src(self, t, f),
            Dir::Dst => dst(self, t, f),
            Dir::Any => self.any(&[src, dst], t, f),
            Dir::Both => self.all(&[src, dst], t, f),
        }
    }

    /// Words at `off` equal to `addr` under `len` bits of mask.
    fn words(&mut self, off: u32, addr: &[u8], len: u32, t: Target, f: Target) {
        let n = addr.len() / 4;
        let used: Vec<usize> = (0..n).filter(|i| len > 32 * *i as u32).collect();
        if used.is_empty() {
            self.goto(t);
            return;
        }
        for (k, &i) in used.iter().enumerate() {
            let bits = (len - 32 * i as u32).min(32);
            let mask = if bits == 32 {
                u32::MAX
            } else {
                !(u32::MAX >> bits)
            };
            let v = u32::from_be_bytes([
                addr[4 * i],
                addr[4 * i + 1],
                addr[4 * i + 2],
                addr[4 * i + 3],
            ]);
            let last = k + 1 == used.len();
            let next = if last { t } else { Target::Label(self.label()) };
            self.field(bpf::W, off + 4 * i as u32, mask, v, next, f);
            if let Target::Label(l) = next
                && !last
            {
                self.here(l);
            }
        }
    }

    fn host(
        &mut self,
        p: Proto,
        d: Dir,
        a: IpAddr,
        fr: Frame,
        t: Target,
        f: Target,
    ) -> Result<(), Error> {
        let len = if a.is_ipv4() { 32 } else { 128 };
        self.net(p, d, a, len, fr, t, f)
    }

    #[allow(clippy::too_many_arguments)]
    fn net(
        &mut self,
        p: Proto,
        d: Dir,
        a: IpAddr,
        len: u8,
        fr: Frame,
        t: Target,
        f: Target,
    ) -> Result<(), Error> {
        let net = fr.net();
        let len = len as u32;
        match a {
            IpAddr::V4(v4) => {
                let o = v4.octets();
                let ip = move |g: &mut Gen, t, f| {
                    g.only(fr, 0x0800, f);
                    g.dir(
                        d,
                        &|g: &mut Gen, t, f| g.words(net + 12, &o, len, t, f),
                        &|g: &mut Gen, t, f| g.words(net + 16, &o, len, t, f),
                        t,
                        f,
                    );
                };
                let arp = move |g: &mut Gen, ethertype: u16, t, f| {
                    g.only(fr, ethertype, f);
                    g.dir(
                        d,
                        &|g: &mut Gen, t, f| g.words(net + 14, &o, len, t, f),
                        &|g: &mut Gen, t, f| g.words(net + 24, &o, len, t, f),
                        t,
                        f,
                    );
                };
                match p {
                    Proto::Ip => ip(self, t, f),
                    Proto::Arp => arp(self, 0x0806, t, f),
                    Proto::Rarp => arp(self, 0x8035, t, f),
                    Proto::Default => self.any(
                        &[
                            &ip,
                            &|g: &mut Gen, t, f| arp(g, 0x0806, t, f),
                            &|g: &mut Gen, t, f| arp(g, 0x8035, t, f),
                        ],
                        t,
                        f,
                    ),
                    _ => return Err("illegal qualifier of 'host'".into()),
                }
            }
            IpAddr::V6(v6) => {
                if !matches!(p, Proto::Default | Proto::Ip6) {
                    return Err("illegal qualifier of 'host'".into());
                }
                let o = v6.octets();
                self.only(fr, 0x86dd, f);
                self.dir(
                    d,
                    &|g: &mut Gen, t, f| g.words(net + 8, &o, len, t, f),
                    &|g: &mut Gen, t, f| g.words(net + 24, &o, len, t, f),
                    t,
                    f,
                );
            }
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn port(
        &mut self,
        p: Proto,
        d: Dir,
        lo: u16,
        hi: u16,
        fr: Frame,
        t: Target,
        f: Target,
    ) -> Result<(), Error> {
        let protos: Vec<u8> = match p {
            Proto::Tcp | Proto::Udp | Proto::Sctp => vec![p.ip_number().unwrap_or(0)],
            _ => vec![6, 17, 132],
        };
        let net = fr.net();
        let cmp = move |g: &mut Gen, t, f| {
            if lo == hi {
                g.jump(bpf::JEQ, lo as u32, t, f);
            } else {
                let mid = g.label();
                g.jump(bpf::JGE, lo as u32, Target::Label(mid), f);
                g.here(mid);
                g.jump(bpf::JGT, hi as u32, f, t);
            }
        };
        let protos4 = protos.clone();
        let v4 = move |g: &mut Gen, t, f| {
            g.only(fr, 0x0800, f);
            let ok = g.label();
            g.put(Insn::stmt(bpf::LD | bpf::B | bpf::ABS, net + 9));
            g.one_of(&protos4, Target::Label(ok), f);
            g.here(ok);
            // Not a later fragment: those carry no ports.
            let whole = g.label();
            g.put(Insn::stmt(bpf::LD | bpf::H | bpf::ABS, net + 6));
            g.jump(bpf::JSET, 0x1fff, f, Target::Label(whole));
            g.here(whole);
            let side = |off: u32| {
                move |g: &mut Gen, t, f| {
                    g.put(Insn::stmt(bpf::LDX | bpf::B | bpf::MSH, net));
                    g.put(Insn::stmt(bpf::LD | bpf::H | bpf::IND, net + off));
                    cmp(g, t, f);
                }
            };
            g.dir(d, &side(0), &side(2), t, f);
        };
        let v6 = move |g: &mut Gen, t, f| {
            g.only(fr, 0x86dd, f);
            let ok = g.label();
            g.put(Insn::stmt(bpf::LD | bpf::B | bpf::ABS, net + 6));
            g.one_of(&protos, Target::Label(ok), f);
            g.here(ok);
            let side = |off: u32| {
                move |g: &mut Gen, t, f| {
                    g.put(Insn::stmt(bpf::LD | bpf::H | bpf::ABS, net + 40 + off));
                    cmp(g, t, f);
                }
            };
            g.dir(d, &side(0), &side(2), t, f);
        };
        match p {
            Proto::Ip => v4(self, t, f),
            Proto::Ip6 => v6(self, t, f),
            _ => self.any(&[&v4, &v6], t, f),
        }
        Ok(())
    }

    /// `vlan [ID] and REST`: the tag the kernel took off (ancillary data), with REST at the
    /// usual offsets, or a tag still in the frame, with REST four bytes further on.
    fn vlan(
        &mut self,
        id: Option<u16>,
        rest: Option<&Node>,
        fr: Frame,
        t: Target,
        f: Target,
    ) -> Result<(), Error> {
        let inband_ok = fr.link == Link::Ether;
        // Live sockets answer the ancillary words (a file's packets never have them set); a
        // tag inside a tag is in the frame.
        let ancillary_ok = matches!(fr.link, Link::Ether | Link::Cooked) && fr.shift == 0;
        let next_inband = self.label();
        if ancillary_ok {
            let tagged = self.label();
            self.put(Insn::stmt(
                bpf::LD | bpf::B | bpf::ABS,
                bpf::AD_VLAN_TAG_PRESENT,
            ));
            self.jump(
                bpf::JEQ,
                1,
                Target::Label(tagged),
                Target::Label(next_inband),
            );
            self.here(tagged);
            let after = self.label();
            match id {
                Some(id) => {
                    self.put(Insn::stmt(bpf::LD | bpf::H | bpf::ABS, bpf::AD_VLAN_TAG));
                    self.put(Insn::stmt(bpf::ALU | bpf::AND | bpf::K, 0x0fff));
                    self.jump(bpf::JEQ, id as u32, Target::Label(after), f);
                }
                None => self.goto(Target::Label(after)),
            }
            self.here(after);
            match rest {
                Some(r) => self.node(r, fr, t, f)?,
                None => self.goto(t),
            }
        }
        self.here(next_inband);
        if !inband_ok {
            self.goto(f);
            return Ok(());
        }
        let tpid_ok = self.label();
        let off = 12 + fr.shift;
        self.put(Insn::stmt(bpf::LD | bpf::H | bpf::ABS, off));
        let try2 = self.label();
        self.jump(
            bpf::JEQ,
            0x8100,
            Target::Label(tpid_ok),
            Target::Label(try2),
        );
        self.here(try2);
        let try3 = self.label();
        self.jump(
            bpf::JEQ,
            0x88a8,
            Target::Label(tpid_ok),
            Target::Label(try3),
        );
        self.here(try3);
        self.jump(bpf::JEQ, 0x9100, Target::Label(tpid_ok), f);
        self.here(tpid_ok);
        let inner = Frame {
            link: fr.link,
            shift: fr.shift + 4,
        };
        let after = self.label();
        match id {
            Some(id) => self.field(bpf::H, off + 2, 0x0fff, id as u32, Target::Label(after), f),
            None => self.goto(Target::Label(after)),
        }
        self.here(after);
        match rest {
            Some(r) => self.node(r, inner, t, f),
            None => {
                self.goto(t);
                Ok(())
            }
        }
    }

    /// Leave the value of `a` in the accumulator.
    fn arith(&mut self, a: &Arith, fr: Frame) -> Result<(), Error> {
        match a {
            Arith::Num(n) => self.put(Insn::stmt(bpf::LD | bpf::IMM, *n)),
            Arith::Len => self.put(Insn::stmt(bpf::LD | bpf::W | bpf::LEN, 0)),
            Arith::Bin(op, l, r) => {
                if let Arith::Num(k) = **r {
                    self.arith(l, fr)?;
                    self.put(Insn::stmt(bpf::ALU | *op | bpf::K, k));
                } else {
                    self.arith(r, fr)?;
                    let slot = self.scratch_slot()?;
                    self.put(Insn::stmt(bpf::ST, slot));
                    self.arith(l, fr)?;
                    self.put(Insn::stmt(bpf::LDX | bpf::MEM, slot));
                    self.put(Insn::stmt(bpf::ALU | *op | bpf::X, 0));
                    self.scratch -= 1;
                }
            }
            Arith::Load(p, index, size) => {
                let net = fr.net();
                let link_base = net
                    - match fr.link {
                        Link::Ether => 14 + fr.shift,
                        _ => 0,
                    };
                // The index into X, plus the header's start when that is not fixed.
                let (base, variable) = match p {
                    Proto::Ether => {
                        if fr.link != Link::Ether {
                            return Err("'ether' qualifier not supported on this link type".into());
                        }
                        (link_base, false)
                    }
                    Proto::Ip | Proto::Arp | Proto::Rarp | Proto::Ip6 => (net, false),
                    Proto::Icmp6 => (net + 40, false),
                    Proto::Tcp | Proto::Udp | Proto::Sctp | Proto::Icmp => (net, true),
                    Proto::Default => return Err(syntax()),
                };
                if let (Arith::Num(k), false) = (&**index, variable) {
                    self.put(Insn::stmt(bpf::LD | *size | bpf::ABS, base + k));
                    return Ok(());
                }
                self.arith(index, fr)?;
                if variable {
                    let slot = self.scratch_slot()?;
                    self.put(Insn::stmt(bpf::ST, slot));
                    self.put(Insn::stmt(bpf::LDX | bpf::B | bpf::MSH, net));
                    self.put(Insn::stmt(bpf::MISC | bpf::TXA, 0));
                    self.put(Insn::stmt(bpf::LDX | bpf::MEM, slot));
                    self.put(Insn::stmt(bpf::ALU | bpf::ADD | bpf::X, 0));
                    self.scratch -= 1;
                }
                self.put(Insn::stmt(bpf::MISC | bpf::TAX, 0));
                self.put(Insn::stmt(bpf::LD | *size | bpf::IND, base));
            }
        }
        Ok(())
    }

    fn scratch_slot(&mut self) -> Result<u32, Error> {
        if self.scratch >= bpf::MEMWORDS {
            return Err("expression too complicated".into());
        }
        self.scratch += 1;
        Ok(self.scratch as u32 - 1)
    }

    /// The protocol checks a load implies (`tcp[13]` only on unfragmented-offset IPv4 TCP).
    fn load_guards(&mut self, a: &Arith, fr: Frame, t: Target, f: Target) -> Result<(), Error> {
        let mut protos = Vec::new();
        fn walk(a: &Arith, out: &mut Vec<Proto>) {
            match a {
                Arith::Load(p, i, _) => {
                    out.push(*p);
                    walk(i, out);
                }
                Arith::Bin(_, l, r) => {
                    walk(l, out);
                    walk(r, out);
                }
                _ => {}
            }
        }
        walk(a, &mut protos);
        protos.dedup();
        let mut checks: Vec<OwnedTest> = Vec::new();
        for p in protos {
            match p {
                Proto::Ip => checks.push(Box::new(move |g: &mut Gen, t, f| {
                    g.ethertype(fr, 0x0800, t, f)
                })),
                Proto::Ip6 => checks.push(Box::new(move |g: &mut Gen, t, f| {
                    g.ethertype(fr, 0x86dd, t, f)
                })),
                Proto::Arp => checks.push(Box::new(move |g: &mut Gen, t, f| {
                    g.ethertype(fr, 0x0806, t, f)
                })),
                Proto::Rarp => checks.push(Box::new(move |g: &mut Gen, t, f| {
                    g.ethertype(fr, 0x8035, t, f)
                })),
                Proto::Icmp6 => {
                    checks.push(Box::new(move |g: &mut Gen, t, f| g.ip6_proto(fr, 58, t, f)))
                }
                Proto::Tcp | Proto::Udp | Proto::Sctp | Proto::Icmp => {
                    let n = p.ip_number().unwrap_or(0);
                    let net = fr.net();
                    checks.push(Box::new(move |g: &mut Gen, t, f| {
                        let mid = g.label();
                        g.ip4_proto(fr, n, Target::Label(mid), f);
                        g.here(mid);
                        g.put(Insn::stmt(bpf::LD | bpf::H | bpf::ABS, net + 6));
                        g.jump(bpf::JSET, 0x1fff, f, t);
                    }));
                }
                _ => {}
            }
        }
        if checks.is_empty() {
            self.goto(t);
            return Ok(());
        }
        let refs: Vec<Test> = checks.iter().map(|c| c.as_ref()).collect();
        self.all(&refs, t, f);
        Ok(())
    }

    fn relation(
        &mut self,
        op: &str,
        l: &Arith,
        r: &Arith,
        fr: Frame,
        t: Target,
        f: Target,
    ) -> Result<(), Error> {
        let checked = self.label();
        let both = Arith::Bin(bpf::ADD, Box::new(l.clone()), Box::new(r.clone()));
        self.load_guards(&both, fr, Target::Label(checked), f)?;
        self.here(checked);
        let (code, swap) = match op {
            "=" | "==" => (bpf::JEQ, false),
            "!=" => (bpf::JEQ, true),
            ">" => (bpf::JGT, false),
            ">=" => (bpf::JGE, false),
            "<" => (bpf::JGE, true),
            _ => (bpf::JGT, true), // <=
        };
        let (t, f) = if swap { (f, t) } else { (t, f) };
        if let Arith::Num(k) = r {
            self.arith(l, fr)?;
            self.jump(code, *k, t, f);
        } else {
            self.arith(r, fr)?;
            let slot = self.scratch_slot()?;
            self.put(Insn::stmt(bpf::ST, slot));
            self.arith(l, fr)?;
            self.put(Insn::stmt(bpf::LDX | bpf::MEM, slot));
            self.scratch -= 1;
            self.jump(code | bpf::X, 0, t, f);
        }
        Ok(())
    }

    /// Resolve labels into offsets; `ret #snaplen` and `ret #0` go at the end.
    fn finish(self, snaplen: u32) -> Result<Vec<Insn>, Error> {
        let mut pos = std::collections::HashMap::new();
        let mut n = 0usize;
        for it in &self.items {
            match it {
                Item::Label(l) => {
                    pos.insert(*l, n);
                }
                _ => n += 1,
            }
        }
        let accept = n;
        let reject = n + 1;
        let at = |t: Target| match t {
            Target::Label(l) => pos.get(&l).copied().unwrap_or(reject),
            Target::Accept => accept,
            Target::Reject => reject,
        };
        let mut out = Vec::with_capacity(n + 2);
        for it in &self.items {
            match *it {
                Item::Label(_) => {}
                Item::Insn(i) => out.push(i),
                Item::Jump(code, k, t, f) => {
                    let here = out.len() + 1;
                    let (t, f) = (at(t), at(f));
                    if code & 0xf0 == bpf::JA {
                        out.push(Insn::stmt(bpf::JMP | bpf::JA, (t - here) as u32));
                        continue;
                    }
                    let (jt, jf) = (t - here, f - here);
                    if jt > 255 || jf > 255 {
                        return Err("expression too complicated".into());
                    }
                    out.push(Insn::jump(code, k, jt as u8, jf as u8));
                }
            }
        }
        out.push(Insn::stmt(bpf::RET | bpf::K, snaplen));
        out.push(Insn::stmt(bpf::RET | bpf::K, 0));
        Ok(out)
    }
}

/// Compile `text` for `link`; an empty expression takes every packet. The expression is
/// checked whole before any host name is looked up (a typo costs no DNS query).
pub fn compile(
    text: &str,
    link: Link,
    snaplen: u32,
    names: &mut Names,
) -> Result<Vec<Insn>, Error> {
    let mut placeholder = |_: &str| Some(vec![IpAddr::V4(Ipv4Addr::UNSPECIFIED)]);
    let mut dry = Names {
        host: &mut placeholder,
        port: names.port,
    };
    compile_with(text, link, snaplen, &mut dry)?;
    compile_with(text, link, snaplen, names)
}

fn compile_with(
    text: &str,
    link: Link,
    snaplen: u32,
    names: &mut Names,
) -> Result<Vec<Insn>, Error> {
    let toks = lex(text)?;
    let mut g = Gen {
        items: Vec::new(),
        labels: 0,
        scratch: 0,
    };
    if toks.is_empty() {
        return g.finish(snaplen);
    }
    let mut p = Parser {
        toks,
        at: 0,
        names,
        last: None,
    };
    let tree = p.expr()?;
    if p.at != p.toks.len() {
        return Err(syntax());
    }
    let fr = Frame { link, shift: 0 };
    g.node(&tree, fr, Target::Accept, Target::Reject)?;
    g.finish(snaplen)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prog(text: &str, link: Link) -> Result<Vec<Insn>, Error> {
        let mut host = |name: &str| (name == "web").then(|| vec!["10.9.0.2".parse().unwrap()]);
        let port = |name: &str, _: &str| (name == "http").then_some(80);
        let mut names = Names {
            host: &mut host,
            port: &port,
        };
        compile(text, link, 262144, &mut names)
    }

    fn hexbytes(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len() / 2)
            .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
            .collect()
    }

    /// An Ethernet frame: 10.9.0.1:35976 -> 10.9.0.2:8000 TCP SYN, 74 bytes.
    const SYN: &str = "16 97 e1 f3 bf 5d 5a 6d 9a 1b 11 9b 08 00 45 00 00 3c a1 42 40 00 40 06 85 6e 0a 09 00 01 0a 09 00 02 8c 88 1f 40 0c 47 1e 1c 00 00 00 00 a0 02 fa f0 14 43 00 00 02 04 05 b4 04 02 08 0a 6e 4c 1b 54 00 00 00 00 01 03 03 0a";

    #[test]
    fn expressions_select_as_libpcap_does() {
        let syn = hexbytes(SYN);
        let cases: &[(&str, bool)] = &[
            ("", true),
            ("tcp", true),
            ("udp", false),
            ("ip and tcp", true),
            ("ip6", false),
            ("host 10.9.0.2", true),
            ("host web", true),
            ("src host 10.9.0.2", false),
            ("dst host 10.9.0.2", true),
            ("net 10.9.0.0/24", true),
            ("net 10.9", true),
            ("net 10.8.0.0 mask 255.255.0.0", false),
            ("port 8000", true),
            ("src port 8000", false),
            ("tcp dst port 8000", true),
            ("udp port 8000", false),
            ("portrange 7000-9000", true),
            ("portrange 1-100 or port 8000", true),
            ("port 80 or 8000", true),
            ("not port 8000", false),
            ("tcp[tcpflags] & (tcp-syn) != 0", true),
            ("tcp[tcpflags] & tcp-ack != 0", false),
            ("tcp[13] = 2", true),
            ("ip[9] == 6 and ip[8] > 32", true),
            ("greater 74", true),
            ("greater 75", false),
            ("less 74", true),
            ("less 73", false),
            ("len - 14 = 60", true),
            ("ether src 5a:6d:9a:1b:11:9b", true),
            ("ether dst 5a:6d:9a:1b:11:9b", false),
            ("proto 6", true),
            ("ether proto 0x0800", true),
            ("not ether proto 0x88cc", true),
            ("ip proto 17", false),
            ("vlan", false),
            ("vlan and tcp", false),
            ("arp or (tcp and host 10.9.0.1)", true),
            // and/or have one precedence, left to right: (tcp or udp) and port 53.
            ("tcp or udp and port 53", false),
            ("port 53 and udp or tcp", true),
        ];
        for (text, want) in cases {
            let p = prog(text, Link::Ether).unwrap_or_else(|e| panic!("{text}: {e}"));
            let got = bpf::run(&p, &syn, syn.len() as u32, bpf::Meta::default()) != 0;
            assert_eq!(got, *want, "{text}\n{}", bpf::listing(&p));
        }
        // The same IP packet without a link header (cooked and raw links).
        let ip = &syn[14..];
        let meta = bpf::Meta {
            protocol: 0x0800,
            vlan: None,
        };
        for link in [Link::Cooked, Link::Raw] {
            for (text, want) in [
                ("tcp port 8000", true),
                ("host 10.9.0.1 and not udp", true),
                ("ip6", false),
                ("tcp[13] = 2", true),
            ] {
                let p = prog(text, link).unwrap();
                assert_eq!(
                    bpf::run(&p, ip, ip.len() as u32, meta) != 0,
                    want,
                    "{link:?} {text}"
                );
            }
        }
        // A tag the kernel took off, for a live socket.
        let tagged = bpf::Meta {
            protocol: 0x0800,
            vlan: Some(10),
        };
        let p = prog("vlan 10 and tcp", Link::Ether).unwrap();
        assert!(bpf::run(&p, &syn, 74, tagged) != 0);
        let p = prog("vlan 11", Link::Ether).unwrap();
        assert!(bpf::run(&p, &syn, 74, tagged) == 0);
        // A tag still in the frame, and what follows it four bytes further on.
        let mut inband = syn[..12].to_vec();
        inband.extend_from_slice(&[0x81, 0x00, 0x00, 0x0a]);
        inband.extend_from_slice(&syn[12..]);
        let p = prog("vlan 10 and host 10.9.0.2 and tcp port 8000", Link::Ether).unwrap();
        assert!(bpf::run(&p, &inband, 78, bpf::Meta::default()) != 0);
    }

    #[test]
    fn errors_are_tcpdumps() {
        for (text, says) in [
            ("port", "syntax error"),
            ("tcp port 99999", "illegal port number 99999 > 65535"),
            ("net 10.9.0.1/24", "non-network bits set"),
            ("host nosuch", "unknown host 'nosuch'"),
            ("port nosuch", "unknown port 'nosuch'"),
            ("(tcp", "syntax error"),
            ("tcp[13:3] = 1", "data size must be 1, 2, or 4"),
            ("vlan 5000", "VLAN tag 5000 greater than maximum 4095"),
            ("ether host 1:2:3", "bogus ethernet address"),
            ("net 10.0.0.0 mask 255.0.255.0", "non-contiguous netmask"),
        ] {
            let e = prog(text, Link::Ether).unwrap_err();
            assert!(e.contains(says), "{text}: {e}");
        }
        assert!(prog("ether host 01:02:03:04:05:06", Link::Cooked).is_err());
        assert!(prog("port http", Link::Ether).is_ok());
    }

    #[test]
    fn random_expressions_never_panic() {
        let words = [
            "host",
            "net",
            "port",
            "portrange",
            "src",
            "dst",
            "and",
            "or",
            "not",
            "(",
            ")",
            "tcp",
            "udp",
            "icmp",
            "ip6",
            "arp",
            "vlan",
            "greater",
            "less",
            "10.9.0.1",
            "fd00::1",
            "10.9.0.0/24",
            "80",
            "1-100",
            "tcp[13]",
            "&",
            "!=",
            "0",
            "=",
            "ether",
            "proto",
            "[",
            "]",
            ":",
            "2",
            "len",
            "-",
            "+",
            "mask",
            "255.0.0.0",
            "tcp-syn",
            "|",
            "web",
        ];
        let mut rng = crate::testing::Rng::new(7);
        let syn = hexbytes(SYN);
        for _ in 0..4000 {
            let n = 1 + rng.below(8);
            let text: Vec<&str> = (0..n).map(|_| words[rng.below(words.len())]).collect();
            let text = text.join(" ");
            for link in [Link::Ether, Link::Cooked, Link::Sll2, Link::Raw] {
                if let Ok(p) = prog(&text, link) {
                    bpf::run(&p, &syn, 74, bpf::Meta::default());
                }
            }
        }
        crate::testing::check(&[b"tcp port 80 and host 10.0.0.1"], 2000, |b| {
            let _ = prog(&String::from_utf8_lossy(b), Link::Ether);
        });
    }
}
