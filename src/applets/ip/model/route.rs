//! Routes: `ip route` lines, metrics, next hops and cache info, and their `-j` keys.

use super::*;
use serde::ser::{Serialize, SerializeMap, Serializer};
use std::fmt::Write;

/// One route metric (RTA_METRICS), already converted the way iproute2 prints it.
#[derive(Debug, Clone, PartialEq)]
pub struct Metric {
    pub name: String,
    pub locked: bool,
    pub value: MetricValue,
}

#[derive(Debug, Clone, PartialEq)]
pub enum MetricValue {
    Num(u32),
    /// rtt, rttvar, rto_min: milliseconds, printed as `Nms` or `N.Ns`.
    Millis(u32),
    /// features: `ecn` and/or a hex remainder.
    Features {
        ecn: bool,
        rest: Option<u32>,
    },
    Text(String),
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct NextHop {
    pub gateway: Option<String>,
    pub dev: String,
    pub weight: u32,
    pub flags: Vec<&'static str>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct CacheInfo {
    pub expires: Option<i32>,
    pub error: Option<u32>,
    pub users: Option<u32>,
    pub used: Option<u32>,
    pub age: Option<u32>,
    pub ipid: Option<u32>,
    pub ts: Option<(u32, u32)>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct RouteView {
    pub kind: Option<String>,
    pub dst: String,
    pub from: Option<String>,
    pub nhid: Option<u32>,
    pub tos: Option<String>,
    pub gateway: Option<String>,
    pub dev: Option<String>,
    pub table: Option<String>,
    pub protocol: Option<String>,
    pub scope: Option<String>,
    pub prefsrc: Option<String>,
    pub metric: Option<u32>,
    pub flags: Vec<&'static str>,
    pub mark: Option<u32>,
    pub realm: Option<(Option<String>, String)>,
    pub uid: Option<u32>,
    /// IPv4 cloned routes (`ip route get`): the `cache <…>` line.
    pub cache: Option<Vec<&'static str>>,
    pub cache_unknown: Option<u32>,
    pub cacheinfo: Option<CacheInfo>,
    pub metrics: Vec<Metric>,
    pub iif: Option<String>,
    pub pref: Option<String>,
    /// `-d` with `nhid`: the next-hop object the route points at (print_cache_nexthop_id).
    pub nh_info: Option<Printed>,
    pub nexthops: Option<Vec<NextHop>>,
}

impl RouteView {
    /// iproute2's print_route.
    pub fn render(&self, out: &mut String, layout: &Layout) {
        let sl = layout.sl;
        if let Some(k) = &self.kind {
            let _ = write!(out, "{k} ");
        }
        let paint = Paint::for_address(&self.dst);
        layout.paint(out, paint, format_args!("{} ", self.dst));
        if let Some(f) = &self.from {
            layout.paint(out, paint, format_args!("from {f} "));
        }
        if let Some(n) = self.nhid {
            let _ = write!(out, "nhid {n} ");
        }
        if let Some(t) = &self.tos {
            let _ = write!(out, "tos {t} ");
        }
        if let Some(g) = &self.gateway {
            out.push_str("via ");
            layout.paint(out, Paint::for_address(g), format_args!("{g} "));
        }
        if let Some(d) = &self.dev {
            out.push_str("dev ");
            layout.paint(out, Some(Paint::Ifname), format_args!("{d} "));
        }
        if let Some(t) = &self.table {
            let _ = write!(out, "table {t} ");
        }
        if let Some(p) = &self.protocol {
            let _ = write!(out, "proto {p} ");
        }
        if let Some(s) = &self.scope {
            let _ = write!(out, "scope {s} ");
        }
        if let Some(s) = &self.prefsrc {
            out.push_str("src ");
            layout.paint(out, Paint::for_address(s), format_args!("{s} "));
        }
        if let Some(m) = self.metric {
            let _ = write!(out, "metric {m} ");
        }
        for f in &self.flags {
            let _ = write!(out, "{f} ");
        }
        if let Some(mark) = self.mark {
            if mark >= 16 {
                let _ = write!(out, "mark {mark:#x} ");
            } else {
                let _ = write!(out, "mark {mark} ");
            }
        }
        if let Some((from, to)) = &self.realm {
            match from {
                Some(f) => {
                    let _ = write!(out, "realms {f}/{to} ");
                }
                None => {
                    let _ = write!(out, "realm {to} ");
                }
            }
        }
        if let Some(u) = self.uid {
            let _ = write!(out, "uid {u} ");
        }
        if let Some(cache) = &self.cache {
            let _ = write!(out, "{sl}    cache ");
            if !cache.is_empty() || self.cache_unknown.is_some() {
                out.push('<');
                for (i, c) in cache.iter().enumerate() {
                    out.push_str(c);
                    let last = i + 1 == cache.len() && self.cache_unknown.is_none();
                    out.push_str(if last { "> " } else { "," });
                }
                if let Some(u) = self.cache_unknown {
                    let _ = write!(out, "{u:x}>");
                }
            }
        }
        if let Some(ci) = &self.cacheinfo {
            if let Some(e) = ci.expires {
                let _ = write!(out, "expires {e}sec ");
            }
            if let Some(e) = ci.error {
                let _ = write!(out, "error {e} ");
            }
            if let Some(u) = ci.users {
                let _ = write!(out, "users {u} ");
            }
            if let Some(u) = ci.used {
                let _ = write!(out, "used {u} ");
            }
            if let Some(a) = ci.age {
                let _ = write!(out, "age {a}sec ");
            }
            if let Some(id) = ci.ipid {
                let _ = write!(out, "ipid 0x{id:04x} ");
            }
            if let Some((ts, age)) = ci.ts {
                let _ = write!(out, "ts {ts:#x}tsage {age}sec ");
            }
        }
        for m in &self.metrics {
            let _ = write!(out, "{} ", m.name);
            if m.locked {
                out.push_str("lock ");
            }
            match &m.value {
                MetricValue::Num(v) => {
                    let _ = write!(out, "{v} ");
                }
                MetricValue::Millis(v) => {
                    if *v >= 1000 {
                        let _ = write!(out, "{}s ", fmt_g(*v as f64 / 1e3));
                    } else {
                        let _ = write!(out, "{v}ms ");
                    }
                }
                MetricValue::Features { ecn, rest } => {
                    if *ecn {
                        out.push_str("ecn ");
                    }
                    if let Some(r) = rest {
                        let _ = write!(out, "{r:#x} ");
                    }
                }
                MetricValue::Text(t) => {
                    let _ = write!(out, "{t} ");
                }
            }
        }
        if let Some(i) = &self.iif {
            let _ = write!(out, "iif {i} ");
        }
        if let Some(p) = &self.pref {
            let _ = write!(out, "pref {p}");
        }
        if let Some(nh) = &self.nh_info {
            out.push_str("\n\tnh_info ");
            out.push_str(&nh.text);
        }
        if let Some(nhs) = &self.nexthops {
            for nh in nhs {
                let _ = write!(out, "{sl}\tnexthop ");
                if let Some(g) = &nh.gateway {
                    out.push_str("via ");
                    layout.paint(out, Paint::for_address(g), format_args!("{g} "));
                }
                // iproute2 6.1 does not colour a multipath hop's device.
                let _ = write!(out, "dev {} weight {} ", nh.dev, nh.weight);
                for f in &nh.flags {
                    let _ = write!(out, "{f} ");
                }
            }
        }
        out.push('\n');
    }
}

impl Serialize for RouteView {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let mut m = ser.serialize_map(None)?;
        if let Some(k) = &self.kind {
            m.serialize_entry("type", k)?;
        }
        m.serialize_entry("dst", &self.dst)?;
        if let Some(f) = &self.from {
            m.serialize_entry("from", f)?;
        }
        if let Some(n) = self.nhid {
            m.serialize_entry("nhid", &n)?;
        }
        if let Some(t) = &self.tos {
            m.serialize_entry("tos", t)?;
        }
        if let Some(g) = &self.gateway {
            m.serialize_entry("gateway", g)?;
        }
        if let Some(d) = &self.dev {
            m.serialize_entry("dev", d)?;
        }
        if let Some(t) = &self.table {
            m.serialize_entry("table", t)?;
        }
        if let Some(p) = &self.protocol {
            m.serialize_entry("protocol", p)?;
        }
        if let Some(s) = &self.scope {
            m.serialize_entry("scope", s)?;
        }
        if let Some(s) = &self.prefsrc {
            m.serialize_entry("prefsrc", s)?;
        }
        if let Some(v) = self.metric {
            m.serialize_entry("metric", &v)?;
        }
        m.serialize_entry("flags", &self.flags)?;
        if let Some(v) = self.mark {
            m.serialize_entry("mark", &v)?;
        }
        if let Some((from, to)) = &self.realm {
            m.serialize_entry("flow", &Flow(from.as_deref(), to))?;
        }
        if let Some(u) = self.uid {
            m.serialize_entry("uid", &u)?;
        }
        if let Some(cache) = &self.cache {
            m.serialize_entry("cache", cache)?;
            if let Some(u) = self.cache_unknown {
                m.serialize_entry("flags", &format!("{u:x}"))?;
            }
        }
        if let Some(ci) = &self.cacheinfo {
            if let Some(e) = ci.expires {
                m.serialize_entry("expires", &e)?;
            }
            if let Some(e) = ci.error {
                m.serialize_entry("error", &e)?;
            }
            if let Some(u) = ci.users {
                m.serialize_entry("users", &u)?;
            }
            if let Some(u) = ci.used {
                m.serialize_entry("used", &u)?;
            }
            if let Some(a) = ci.age {
                m.serialize_entry("age", &a)?;
            }
            if let Some(id) = ci.ipid {
                m.serialize_entry("ipid", &format!("{id:#x}"))?;
            }
            if let Some((ts, age)) = ci.ts {
                m.serialize_entry("ts", &format!("{ts:#x}"))?;
                m.serialize_entry("tsage", &age)?;
            }
        }
        if !self.metrics.is_empty() {
            m.serialize_entry("metrics", &[MetricsJson(&self.metrics)])?;
        }
        if let Some(i) = &self.iif {
            m.serialize_entry("iif", i)?;
        }
        if let Some(p) = &self.pref {
            m.serialize_entry("pref", p)?;
        }
        if let Some(nh) = &self.nh_info {
            m.serialize_entry("nh_info", nh)?;
        }
        if let Some(nhs) = &self.nexthops {
            m.serialize_entry("nexthops", &nhs.iter().map(NextHopJson).collect::<Vec<_>>())?;
        }
        m.end()
    }
}

struct Flow<'a>(Option<&'a str>, &'a str);

impl Serialize for Flow<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let mut m = ser.serialize_map(None)?;
        if let Some(f) = self.0 {
            m.serialize_entry("from", f)?;
        }
        m.serialize_entry("to", self.1)?;
        m.end()
    }
}

struct MetricsJson<'a>(&'a [Metric]);

impl Serialize for MetricsJson<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let mut m = ser.serialize_map(None)?;
        for metric in self.0 {
            match &metric.value {
                MetricValue::Num(v) | MetricValue::Millis(v) => {
                    m.serialize_entry(&metric.name, v)?
                }
                MetricValue::Features { ecn, rest } => {
                    if *ecn {
                        m.serialize_entry("ecn", &())?;
                    }
                    if let Some(r) = rest {
                        m.serialize_entry("features", &format!("{r:#x}"))?;
                    }
                }
                MetricValue::Text(t) => m.serialize_entry("congestion", t)?,
            }
        }
        m.end()
    }
}

struct NextHopJson<'a>(&'a NextHop);

impl Serialize for NextHopJson<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let nh = self.0;
        let mut m = ser.serialize_map(None)?;
        if let Some(g) = &nh.gateway {
            m.serialize_entry("gateway", g)?;
        }
        m.serialize_entry("dev", &nh.dev)?;
        m.serialize_entry("weight", &nh.weight)?;
        m.serialize_entry("flags", &nh.flags)?;
        m.end()
    }
}
