//! `ip rule` and `ip nexthop`: policy rules and next-hop objects, read-only, printed as
//! iproute2 6.1 prints them (ip/iprule.c print_rule, ip/ipnexthop.c __print_nexthop_entry).
//!
//! Rules come decoded by netlink-packet-route. Next-hop objects are a message family it does not
//! know (RTM_NEWNEXTHOP), so their attributes are walked with netlink-packet-core's NlasIterator.

use super::cli::{Family, NexthopFilter, Prefix, RuleFilter, ip_bytes};
use super::model::{Paint, Printed};
use super::names;
use super::parse::{Names, realm_name, rt_flags};
use netlink_packet_core::{DefaultNla, Emitable, NlasIterator};
use netlink_packet_route::AddressFamily;
use netlink_packet_route::rule::{RuleAction, RuleAttribute, RuleFlags, RuleMessage};
use serde_json::{Value, json};
use std::net::IpAddr;

fn family_paint(f: AddressFamily) -> Option<Paint> {
    match f {
        AddressFamily::Inet => Some(Paint::Inet),
        AddressFamily::Inet6 => Some(Paint::Inet6),
        _ => None,
    }
}

fn host_len(f: AddressFamily) -> u8 {
    match f {
        AddressFamily::Inet6 => 128,
        _ => 32,
    }
}

/// frh_get_table: FRA_TABLE when present, else the header's 8-bit table.
fn rule_table(r: &RuleMessage) -> u32 {
    r.attributes
        .iter()
        .find_map(|a| match a {
            RuleAttribute::Table(t) => Some(*t),
            _ => None,
        })
        .unwrap_or(r.header.table as u32)
}

fn rule_priority(r: &RuleMessage) -> u32 {
    r.attributes
        .iter()
        .find_map(|a| match a {
            RuleAttribute::Priority(p) => Some(*p),
            _ => None,
        })
        .unwrap_or(0)
}

/// inet_addr_match_rta, with the length check filter_nlmsg does first.
fn prefix_matches(p: &Prefix, rule_len: u8, addr: Option<&IpAddr>) -> bool {
    if p.bitlen > rule_len {
        return false;
    }
    match addr {
        None => true,
        Some(_) if p.bitlen == 0 => true,
        Some(a) => p.first_bits_match(&ip_bytes(*a), p.bitlen),
    }
}

/// iprule.c filter_nlmsg.
pub fn rule_passes(r: &RuleMessage, f: &RuleFilter) -> bool {
    let want = match f.family {
        Family::Inet6 => AddressFamily::Inet6,
        _ => AddressFamily::Inet,
    };
    if r.header.family != want {
        return false;
    }
    if f.pref.is_some_and(|p| p != rule_priority(r)) {
        return false;
    }
    if f.not && !r.header.flags.contains(RuleFlags::Invert) {
        return false;
    }
    let find = |pick: &dyn Fn(&RuleAttribute) -> bool| r.attributes.iter().find(|a| pick(a));
    if let Some(p) = &f.from {
        let src = find(&|a| matches!(a, RuleAttribute::Source(_))).and_then(|a| match a {
            RuleAttribute::Source(ip) => Some(ip),
            _ => None,
        });
        if !prefix_matches(p, r.header.src_len, src) {
            return false;
        }
    }
    if let Some(p) = &f.to {
        let dst = find(&|a| matches!(a, RuleAttribute::Destination(_))).and_then(|a| match a {
            RuleAttribute::Destination(ip) => Some(ip),
            _ => None,
        });
        if !prefix_matches(p, r.header.dst_len, dst) {
            return false;
        }
    }
    if f.tos.is_some_and(|t| t != r.header.tos) {
        return false;
    }
    let u32_attr = |pick: fn(&RuleAttribute) -> Option<u32>| r.attributes.iter().find_map(pick);
    if let Some(m) = f.fwmark
        && m != 0
        && u32_attr(|a| match a {
            RuleAttribute::FwMark(v) => Some(*v),
            _ => None,
        })
        .unwrap_or(0)
            != m
    {
        return false;
    }
    if let Some(m) = f.fwmask
        && m != 0
        && u32_attr(|a| match a {
            RuleAttribute::FwMask(v) => Some(*v),
            _ => None,
        })
        .unwrap_or(0)
            != m
    {
        return false;
    }
    let name = |pick: fn(&RuleAttribute) -> Option<&String>| r.attributes.iter().find_map(pick);
    if let Some(i) = &f.iif
        && name(|a| match a {
            RuleAttribute::Iifname(n) => Some(n),
            _ => None,
        }) != Some(i)
    {
        return false;
    }
    if let Some(o) = &f.oif
        && name(|a| match a {
            RuleAttribute::Oifname(n) => Some(n),
            _ => None,
        }) != Some(o)
    {
        return false;
    }
    if f.l3mdev
        && !r
            .attributes
            .iter()
            .any(|a| matches!(a, RuleAttribute::L3MDev(true)))
    {
        return false;
    }
    if let Some((s, e)) = f.uidrange
        && !r
            .attributes
            .iter()
            .any(|a| matches!(a, RuleAttribute::UidRange(u) if u.start == s && u.end == e))
    {
        return false;
    }
    if let Some(p) = f.ipproto {
        let have = r
            .attributes
            .iter()
            .find_map(|a| match a {
                RuleAttribute::IpProtocol(p) => Some(u8::from(*p)),
                _ => None,
            })
            .unwrap_or(0);
        if p != 0 && have != p {
            return false;
        }
    }
    if let Some((s, e)) = f.sport
        && s != 0
        && !r
            .attributes
            .iter()
            .any(|a| matches!(a, RuleAttribute::SourcePortRange(p) if p.start == s && p.end == e))
    {
        return false;
    }
    if let Some((s, e)) = f.dport
        && s != 0
        && !r.attributes.iter().any(
            |a| matches!(a, RuleAttribute::DestinationPortRange(p) if p.start == s && p.end == e),
        )
    {
        return false;
    }
    if let Some(t) = f.tun_id
        && t != 0
        && !r
            .attributes
            .iter()
            .any(|a| matches!(a, RuleAttribute::TunId(v) if u64::from_be(*v) == t))
    {
        return false;
    }
    if let Some(t) = f.table
        && t > 0
        && t != rule_table(r)
    {
        return false;
    }
    if let Some(p) = f.protocol {
        let have = r.attributes.iter().find_map(|a| match a {
            RuleAttribute::Protocol(p) => Some(u8::from(*p)),
            _ => None,
        });
        if have != Some(p) {
            return false;
        }
    }
    true
}

/// print_rule.
pub fn rule_view(r: &RuleMessage, details: bool, names: &Names, color: Option<bool>) -> Printed {
    let mut p = Printed {
        color,
        ..Default::default()
    };
    let fam = r.header.family;
    let paint = family_paint(fam);
    let hl = host_len(fam);
    let prio = rule_priority(r);
    p.both("priority", format_args!("{prio}:\t"), json!(prio));
    if r.header.flags.contains(RuleFlags::Invert) {
        p.both("not", format_args!("not "), Value::Null);
    }
    let attr = |pick: fn(&RuleAttribute) -> bool| r.attributes.iter().find(|a| pick(a));
    match attr(|a| matches!(a, RuleAttribute::Source(_))) {
        Some(RuleAttribute::Source(ip)) => {
            p.fp(format_args!("from "));
            let s = ip.to_string();
            p.painted("src", paint, format_args!("{s}"), &s);
            if r.header.src_len != hl {
                p.both(
                    "srclen",
                    format_args!("/{}", r.header.src_len),
                    json!(r.header.src_len),
                );
            }
        }
        _ if r.header.src_len != 0 => {
            p.both("src", format_args!("from 0"), json!("0"));
            p.both(
                "srclen",
                format_args!("/{}", r.header.src_len),
                json!(r.header.src_len),
            );
        }
        _ => p.both("src", format_args!("from all"), json!("all")),
    }
    match attr(|a| matches!(a, RuleAttribute::Destination(_))) {
        Some(RuleAttribute::Destination(ip)) => {
            p.fp(format_args!(" to "));
            let s = ip.to_string();
            p.painted("dst", paint, format_args!("{s}"), &s);
            if r.header.dst_len != hl {
                p.both(
                    "dstlen",
                    format_args!("/{}", r.header.dst_len),
                    json!(r.header.dst_len),
                );
            }
        }
        _ if r.header.dst_len != 0 => {
            p.both("dst", format_args!(" to 0"), json!("0"));
            p.both(
                "dstlen",
                format_args!("/{}", r.header.dst_len),
                json!(r.header.dst_len),
            );
        }
        _ => {}
    }
    if r.header.tos != 0 {
        let t = format!("{:#04x}", r.header.tos);
        p.both("tos", format_args!(" tos {t}"), json!(t));
    }
    let mark = r.attributes.iter().find_map(|a| match a {
        RuleAttribute::FwMark(v) => Some(*v),
        _ => None,
    });
    let mask = r.attributes.iter().find_map(|a| match a {
        RuleAttribute::FwMask(v) => Some(*v),
        _ => None,
    });
    if mark.is_some() || mask.is_some() {
        let hex = |v: u32| {
            if v == 0 {
                "0".to_string()
            } else {
                format!("{v:#x}")
            }
        };
        let m = hex(mark.unwrap_or(0));
        p.both("fwmark", format_args!(" fwmark {m}"), json!(m));
        if let Some(k) = mask
            && k != u32::MAX
        {
            let k = hex(k);
            p.both("fwmask", format_args!("/{k}"), json!(k));
        }
    }
    for (pick, key, detached) in [
        (
            (|a: &RuleAttribute| match a {
                RuleAttribute::Iifname(n) => Some(n.clone()),
                _ => None,
            }) as fn(&RuleAttribute) -> Option<String>,
            "iif",
            RuleFlags::IifDetached,
        ),
        (
            |a: &RuleAttribute| match a {
                RuleAttribute::Oifname(n) => Some(n.clone()),
                _ => None,
            },
            "oif",
            RuleFlags::OifDetached,
        ),
    ] {
        if let Some(n) = r.attributes.iter().find_map(pick) {
            p.fp(format_args!(" {key} "));
            p.painted(key, Some(Paint::Ifname), format_args!("{n}"), &n);
            if r.header.flags.contains(detached) {
                let k = if key == "iif" {
                    "iif_detached"
                } else {
                    "oif_detached"
                };
                p.both(k, format_args!(" [detached]"), Value::Null);
            }
        }
    }
    if r.attributes
        .iter()
        .any(|a| matches!(a, RuleAttribute::L3MDev(true)))
    {
        p.both(
            "l3mdev",
            format_args!(" lookup [l3mdev-table]"),
            Value::Null,
        );
    }
    for a in &r.attributes {
        if let RuleAttribute::UidRange(u) = a {
            p.both(
                "uid_start",
                format_args!(" uidrange {}", u.start),
                json!(u.start),
            );
            p.both("uid_end", format_args!("-{}", u.end), json!(u.end));
        }
    }
    for a in &r.attributes {
        if let RuleAttribute::IpProtocol(ip) = a {
            let name = names::ip_protocol(u8::from(*ip), names.numeric);
            p.both("ipproto", format_args!(" ipproto {name}"), json!(name));
        }
    }
    for (word, key) in [("sport", "sport"), ("dport", "dport")] {
        let range = r.attributes.iter().find_map(|a| match (a, word) {
            (RuleAttribute::SourcePortRange(p), "sport") => Some(*p),
            (RuleAttribute::DestinationPortRange(p), "dport") => Some(*p),
            _ => None,
        });
        if let Some(range) = range {
            if range.start == range.end {
                p.both(
                    key,
                    format_args!(" {word} {}", range.start),
                    json!(range.start),
                );
            } else {
                let (ks, ke) = if word == "sport" {
                    ("sport_start", "sport_end")
                } else {
                    ("dport_start", "dport_end")
                };
                p.both(
                    ks,
                    format_args!(" {word} {}", range.start),
                    json!(range.start),
                );
                p.both(ke, format_args!("-{}", range.end), json!(range.end));
            }
        }
    }
    for a in &r.attributes {
        if let RuleAttribute::TunId(t) = a {
            let t = u64::from_be(*t);
            p.both("tun_id", format_args!(" tun_id {t}"), json!(t));
        }
    }
    let table = rule_table(r);
    if table != 0 {
        let t = names.table(table);
        p.both("table", format_args!(" lookup {t}"), json!(t));
        for a in &r.attributes {
            match a {
                RuleAttribute::SuppressPrefixLen(l) if *l as i32 != -1 => {
                    let l = *l as i32;
                    p.both(
                        "suppress_prefixlen",
                        format_args!(" suppress_prefixlength {l}"),
                        json!(l),
                    );
                }
                RuleAttribute::SuppressIfGroup(g) if *g as i32 != -1 => {
                    let g = names.group(*g);
                    p.both(
                        "suppress_ifgroup",
                        format_args!(" suppress_ifgroup {g}"),
                        json!(g),
                    );
                }
                _ => {}
            }
        }
    }
    for a in &r.attributes {
        if let RuleAttribute::Realm(realm) = a {
            if realm.source != 0 {
                let f = realm_name(realm.source as u32);
                p.both("flow_from", format_args!(" realms {f}/"), json!(f));
            } else {
                p.fp(format_args!(" realms "));
            }
            let t = realm_name(realm.destination as u32);
            p.both("flow_to", format_args!("{t}"), json!(t));
        }
    }
    match r.header.action {
        RuleAction::Goto => {
            match r.attributes.iter().find_map(|a| match a {
                RuleAttribute::Goto(g) => Some(*g),
                _ => None,
            }) {
                Some(g) => p.both("goto", format_args!(" goto {g}"), json!(g)),
                None => p.both("goto", format_args!(" goto none"), json!("none")),
            }
            if r.header.flags.contains(RuleFlags::Unresolved) {
                p.both("unresolved", format_args!(" [unresolved]"), Value::Null);
            }
        }
        RuleAction::Nop => p.both("nop", format_args!(" nop"), Value::Null),
        RuleAction::ToTable => {}
        other => {
            let t = names.route_type(u8::from(other));
            p.both("action", format_args!(" {t}"), json!(t));
        }
    }
    for a in &r.attributes {
        if let RuleAttribute::Protocol(proto) = a {
            let n = u8::from(*proto);
            if (n != 0 && n != 2) || details {
                let name = names.protocol(n);
                p.both("protocol", format_args!(" proto {name}"), json!(name));
            }
        }
    }
    p.fp(format_args!("\n"));
    p
}

const NHA_ID: u16 = 1;
const NHA_GROUP: u16 = 2;
const NHA_GROUP_TYPE: u16 = 3;
const NHA_BLACKHOLE: u16 = 4;
const NHA_OIF: u16 = 5;
const NHA_GATEWAY: u16 = 6;
const NHA_ENCAP_TYPE: u16 = 7;
const NHA_GROUPS: u16 = 9;
const NHA_MASTER: u16 = 10;
const NHA_FDB: u16 = 11;
const NHA_RES_GROUP: u16 = 12;
const NHA_RES_GROUP_BUCKETS: u16 = 1;
const NHA_RES_GROUP_IDLE_TIMER: u16 = 2;
const NHA_RES_GROUP_UNBALANCED_TIMER: u16 = 3;
const NHA_RES_GROUP_UNBALANCED_TIME: u16 = 4;
/// struct nhmsg: family, scope, protocol, reserved, flags.
const NHMSG_LEN: usize = 8;

/// A decoded RTM_NEWNEXTHOP (iproute2's struct nh_entry).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Nexthop {
    pub family: u8,
    pub scope: u8,
    pub protocol: u8,
    pub flags: u32,
    pub id: u32,
    /// Member id and weight as the kernel stores it (iproute2 prints weight + 1).
    pub group: Vec<(u32, u8)>,
    pub group_type: u16,
    pub resilient: Option<Resilient>,
    pub blackhole: bool,
    pub oif: u32,
    pub gateway: Option<IpAddr>,
    pub encap_type: Option<u16>,
    pub fdb: bool,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Resilient {
    pub buckets: u16,
    /// Clock ticks (centiseconds).
    pub idle_timer: u32,
    pub unbalanced_timer: u32,
    pub unbalanced_time: u64,
}

fn u16_of(b: &[u8]) -> Option<u16> {
    Some(u16::from_ne_bytes(b.get(..2)?.try_into().ok()?))
}

fn u32_of(b: &[u8]) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(..4)?.try_into().ok()?))
}

fn u64_of(b: &[u8]) -> Option<u64> {
    Some(u64::from_ne_bytes(b.get(..8)?.try_into().ok()?))
}

/// Decode a next-hop message body (after the netlink header). Malformed attributes end the
/// walk; a body shorter than struct nhmsg is not a next hop.
pub fn parse_nexthop(body: &[u8]) -> Option<Nexthop> {
    let h = body.get(..NHMSG_LEN)?;
    let mut nh = Nexthop {
        family: h[0],
        scope: h[1],
        protocol: h[2],
        flags: u32_of(&h[4..])?,
        ..Default::default()
    };
    for nla in NlasIterator::new(&body[NHMSG_LEN..]) {
        let Ok(nla) = nla else { break };
        let v = nla.value();
        match nla.kind() & 0x3fff {
            NHA_ID => nh.id = u32_of(v).unwrap_or(0),
            NHA_GROUP => {
                nh.group = v
                    .chunks_exact(8)
                    .map(|g| (u32::from_ne_bytes([g[0], g[1], g[2], g[3]]), g[4]))
                    .collect()
            }
            NHA_GROUP_TYPE => nh.group_type = u16_of(v).unwrap_or(0),
            NHA_BLACKHOLE => nh.blackhole = true,
            NHA_OIF => nh.oif = u32_of(v).unwrap_or(0),
            NHA_GATEWAY => {
                nh.gateway = match v.len() {
                    4 => Some(IpAddr::from([v[0], v[1], v[2], v[3]])),
                    16 => <[u8; 16]>::try_from(v).ok().map(IpAddr::from),
                    _ => None,
                }
            }
            NHA_ENCAP_TYPE => nh.encap_type = u16_of(v),
            NHA_FDB => nh.fdb = true,
            NHA_RES_GROUP => {
                let mut r = Resilient::default();
                for inner in NlasIterator::new(v) {
                    let Ok(inner) = inner else { break };
                    let iv = inner.value();
                    match inner.kind() & 0x3fff {
                        NHA_RES_GROUP_BUCKETS => r.buckets = u16_of(iv).unwrap_or(0),
                        NHA_RES_GROUP_IDLE_TIMER => r.idle_timer = u32_of(iv).unwrap_or(0),
                        NHA_RES_GROUP_UNBALANCED_TIMER => {
                            r.unbalanced_timer = u32_of(iv).unwrap_or(0)
                        }
                        NHA_RES_GROUP_UNBALANCED_TIME => {
                            r.unbalanced_time = u64_of(iv).unwrap_or(0)
                        }
                        _ => {}
                    }
                }
                nh.resilient = Some(r);
            }
            _ => {}
        }
    }
    Some(nh)
}

/// The request body for a next-hop dump (or, with an id, a get): struct nhmsg and the
/// kernel-side filters iproute2 sends (nh_dump_filter).
pub fn nexthop_request(f: &NexthopFilter, names: &Names) -> Result<Vec<u8>, String> {
    let family = match f.family {
        Family::Inet => libc::AF_INET as u8,
        Family::Inet6 => libc::AF_INET6 as u8,
        _ => 0,
    };
    let mut nlas = Vec::new();
    if let Some(id) = f.id {
        nlas.push(DefaultNla::new(NHA_ID, id.to_ne_bytes().to_vec()));
    } else {
        let index = |n: &str| {
            names
                .index(n)
                .ok_or_else(|| format!("argument \"{n}\" is wrong: Device does not exist"))
        };
        if let Some(d) = &f.dev {
            nlas.push(DefaultNla::new(NHA_OIF, index(d)?.to_ne_bytes().to_vec()));
        }
        if f.groups {
            nlas.push(DefaultNla::new(NHA_GROUPS, Vec::new()));
        }
        if let Some(m) = &f.master {
            nlas.push(DefaultNla::new(
                NHA_MASTER,
                index(m)?.to_ne_bytes().to_vec(),
            ));
        }
        if f.fdb {
            nlas.push(DefaultNla::new(NHA_FDB, Vec::new()));
        }
    }
    Ok(nhmsg(family, 0, &nlas))
}

/// struct nhmsg followed by attributes.
fn nhmsg(family: u8, scope: u8, nlas: &[DefaultNla]) -> Vec<u8> {
    let mut body = vec![0u8; NHMSG_LEN + nlas.buffer_len()];
    body[0] = family;
    body[1] = scope;
    nlas.emit(&mut body[NHMSG_LEN..]);
    body
}

/// lwtunnel_encap_types names, for `encap` (the encapsulation itself is not printed).
fn encap_name(t: u16) -> String {
    match t {
        1 => "mpls".into(),
        2 => "ip".into(),
        3 => "ila".into(),
        4 => "ip6".into(),
        5 => "seg6".into(),
        6 => "bpf".into(),
        7 => "seg6local".into(),
        8 => "rpl".into(),
        9 => "ioam6".into(),
        n => n.to_string(),
    }
}

/// print_tv's `%g` of clock ticks in seconds.
fn seconds(ticks: u64) -> (String, Value) {
    let s = ticks as f64 / 100.0;
    if s.fract() == 0.0 {
        (format!("{}", s as u64), json!(s as u64))
    } else {
        (format!("{s}"), json!(s))
    }
}

/// print_nexthop: the entry and its line end.
pub fn nexthop_view(nh: &Nexthop, details: bool, names: &Names, color: Option<bool>) -> Printed {
    let mut p = nexthop_entry(nh, details, names, color);
    p.fp(format_args!("\n"));
    p
}

/// __print_nexthop_entry.
pub fn nexthop_entry(nh: &Nexthop, details: bool, names: &Names, color: Option<bool>) -> Printed {
    let mut p = Printed {
        color,
        ..Default::default()
    };
    p.both("id", format_args!("id {} ", nh.id), json!(nh.id));
    if !nh.group.is_empty() {
        p.fp(format_args!("group "));
        let mut list = Vec::new();
        for (i, (id, weight)) in nh.group.iter().enumerate() {
            if i > 0 {
                p.fp(format_args!("/"));
            }
            p.fp(format_args!("{id}"));
            let mut o = serde_json::Map::new();
            o.insert("id".into(), json!(id));
            if *weight != 0 {
                let w = *weight as u32 + 1;
                p.fp(format_args!(",{w}"));
                o.insert("weight".into(), json!(w));
            }
            list.push(Value::Object(o));
        }
        p.fp(format_args!(" "));
        p.js("group", Value::Array(list));
    }
    if nh.group_type != 0 {
        let t = if nh.group_type == 1 {
            "resilient".to_string()
        } else {
            "<unknown type>".to_string()
        };
        p.string("type", "type", &t);
    }
    if let Some(r) = &nh.resilient {
        let mut sub = Printed::default();
        sub.uint("buckets", "buckets", r.buckets as u64);
        for (key, ticks) in [
            ("idle_timer", r.idle_timer as u64),
            ("unbalanced_timer", r.unbalanced_timer as u64),
            ("unbalanced_time", r.unbalanced_time),
        ] {
            let (text, v) = seconds(ticks);
            sub.both(key, format_args!("{key} {text} "), v);
        }
        p.fp(format_args!("{}", sub.text));
        p.js("resilient_args", Value::Object(sub.json));
    }
    if let Some(t) = nh.encap_type {
        let t = encap_name(t);
        p.both("encap", format_args!("encap {t} "), json!(t));
    }
    if let Some(g) = &nh.gateway {
        let s = g.to_string();
        p.fp(format_args!("via "));
        p.painted("gateway", Paint::for_address(&s), format_args!("{s} "), &s);
    }
    if nh.oif != 0 {
        let n = names.name(nh.oif);
        p.fp(format_args!("dev "));
        p.painted("dev", Some(Paint::Ifname), format_args!("{n} "), &n);
    }
    if nh.scope != 0 || details {
        let s = names.scope(nh.scope);
        p.string("scope", "scope", &s);
    }
    if nh.blackhole {
        p.both("blackhole", format_args!("blackhole "), Value::Null);
    }
    if nh.protocol != 0 || details {
        let name = names.protocol(nh.protocol);
        p.string("protocol", "proto", &name);
    }
    let flags = rt_flags(nh.flags);
    for f in &flags {
        p.fp(format_args!("{f} "));
    }
    p.js("flags", json!(flags));
    if nh.fdb {
        p.both("fdb", format_args!("fdb"), Value::Null);
    }
    p
}

/// The protocol filter iproute2 applies to dumped next hops.
pub fn nexthop_passes(nh: &Nexthop, f: &NexthopFilter) -> bool {
    f.protocol.is_none_or(|p| p == 0 || p == nh.protocol)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(attrs: &[(u16, Vec<u8>)]) -> Vec<u8> {
        let nlas: Vec<DefaultNla> = attrs
            .iter()
            .map(|(k, v)| DefaultNla::new(*k, v.clone()))
            .collect();
        nhmsg(2, 253, &nlas)
    }

    #[test]
    fn nexthop_lines_as_iproute2() {
        let mut names = Names::default();
        names.learn(crate::sys::netlink::LinkName {
            index: 2,
            name: b"a0".to_vec(),
            flags: 0,
            link_type: 1,
        });
        let nh = parse_nexthop(&body(&[
            (NHA_ID, 1u32.to_ne_bytes().to_vec()),
            (NHA_GATEWAY, vec![10, 9, 0, 2]),
            (NHA_OIF, 2u32.to_ne_bytes().to_vec()),
        ]))
        .unwrap();
        let p = nexthop_view(&nh, false, &names, None);
        assert_eq!(p.text, "id 1 via 10.9.0.2 dev a0 scope link \n");
        assert_eq!(
            serde_json::to_string(&p).unwrap(),
            r#"{"id":1,"gateway":"10.9.0.2","dev":"a0","scope":"link","flags":[]}"#
        );
        let mut group = Vec::new();
        for (id, w) in [(1u32, 0u8), (2, 4)] {
            group.extend_from_slice(&id.to_ne_bytes());
            group.extend_from_slice(&[w, 0, 0, 0]);
        }
        let mut b = body(&[(NHA_ID, 3u32.to_ne_bytes().to_vec()), (NHA_GROUP, group)]);
        b[1] = 0;
        let p = nexthop_view(&parse_nexthop(&b).unwrap(), false, &names, None);
        assert_eq!(p.text, "id 3 group 1/2,5 \n");
    }

    #[test]
    fn any_nexthop_bytes_never_panic() {
        let seed = body(&[
            (NHA_ID, 7u32.to_ne_bytes().to_vec()),
            (NHA_GROUP, vec![1, 0, 0, 0, 3, 0, 0, 0]),
            (NHA_RES_GROUP, vec![6, 0, 1, 0, 8, 0, 0, 0]),
            (NHA_GATEWAY, vec![0; 16]),
        ]);
        crate::testing::check(&[&seed], 4000, |bytes| {
            if let Some(nh) = parse_nexthop(bytes) {
                let _ = nexthop_view(&nh, true, &Names::default(), Some(true));
            }
        });
    }
}
