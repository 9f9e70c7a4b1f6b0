//! Addresses: the `inet`/`inet6` lines of `ip addr` and their `-j` keys.

use super::*;
use serde::ser::{Serialize, SerializeMap, Serializer};
use std::fmt::Write;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddrView {
    /// `ip -o addr` prefixes each address with its link.
    pub index_dev: Option<(u32, String)>,
    pub family: String,
    pub local: Option<String>,
    pub peer: Option<String>,
    pub prefixlen: u8,
    pub metric: Option<u32>,
    pub broadcast: Option<String>,
    pub anycast: Option<String>,
    pub scope: String,
    /// (json key, text word) in iproute2's order; `dynamic` included.
    pub flags: Vec<&'static str>,
    pub unknown_flags: Option<u32>,
    pub label: Option<String>,
    pub lifetimes: Option<Lifetimes>,
    /// -br: only local/prefixlen are shown.
    pub brief: bool,
    /// Dropped by a scope or prefix filter: no text, and `{}` in JSON (as iproute2).
    pub hidden: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetimes {
    pub valid: u32,
    pub preferred: u32,
    pub deprecated: bool,
}

pub const INFINITY_LIFE_TIME: u32 = u32::MAX;

impl AddrView {
    /// iproute2's print_addrinfo.
    pub fn render(&self, out: &mut String, layout: &Layout) {
        if self.hidden {
            return;
        }
        if !self.brief {
            if let Some((idx, dev)) = &self.index_dev {
                let _ = write!(out, "{idx}: {dev}");
            }
            let _ = write!(out, "    {} ", self.family);
        }
        let paint = match self.family.as_str() {
            "inet" => Some(Paint::Inet),
            "inet6" => Some(Paint::Inet6),
            _ => None,
        };
        if let Some(local) = &self.local {
            layout.paint(out, paint, format_args!("{local}"));
            if let Some(peer) = &self.peer {
                out.push_str(" peer ");
                layout.paint(out, paint, format_args!("{peer}"));
            }
            let _ = write!(out, "/{} ", self.prefixlen);
            if let Some(m) = self.metric {
                let _ = write!(out, "metric {m} ");
            }
        }
        if self.brief {
            return;
        }
        if let Some(b) = &self.broadcast {
            out.push_str("brd ");
            layout.paint(out, paint, format_args!("{b} "));
        }
        if let Some(a) = &self.anycast {
            out.push_str("any ");
            layout.paint(out, paint, format_args!("{a} "));
        }
        let _ = write!(out, "scope {} ", self.scope);
        for f in &self.flags {
            let _ = write!(out, "{f} ");
        }
        if let Some(u) = self.unknown_flags {
            let _ = write!(out, "flags {u:02x} ");
        }
        if let Some(l) = &self.label {
            out.push_str(l);
        }
        if let Some(lt) = &self.lifetimes {
            let _ = write!(out, "{}       valid_lft ", layout.sl);
            if lt.valid == INFINITY_LIFE_TIME {
                out.push_str("forever");
            } else {
                let _ = write!(out, "{}sec", lt.valid);
            }
            out.push_str(" preferred_lft ");
            if lt.preferred == INFINITY_LIFE_TIME {
                out.push_str("forever");
            } else if lt.deprecated {
                let _ = write!(out, "{}sec", lt.preferred as i32);
            } else {
                let _ = write!(out, "{}sec", lt.preferred);
            }
        }
        out.push('\n');
    }
}

impl Serialize for AddrView {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let mut m = ser.serialize_map(None)?;
        if self.hidden {
            return m.end();
        }
        if !self.brief {
            if let Some((idx, dev)) = &self.index_dev {
                m.serialize_entry("index", idx)?;
                m.serialize_entry("dev", dev)?;
            }
            m.serialize_entry("family", &self.family)?;
        }
        if let Some(local) = &self.local {
            m.serialize_entry("local", local)?;
            if let Some(peer) = &self.peer {
                m.serialize_entry("address", peer)?;
            }
            m.serialize_entry("prefixlen", &self.prefixlen)?;
            if let Some(metric) = self.metric {
                m.serialize_entry("metric", &metric)?;
            }
        }
        if self.brief {
            return m.end();
        }
        if let Some(b) = &self.broadcast {
            m.serialize_entry("broadcast", b)?;
        }
        if let Some(a) = &self.anycast {
            m.serialize_entry("anycast", a)?;
        }
        m.serialize_entry("scope", &self.scope)?;
        for f in &self.flags {
            m.serialize_entry(f, &true)?;
        }
        if let Some(u) = self.unknown_flags {
            m.serialize_entry("ifa_flags", &format!("{u:02x}"))?;
        }
        if let Some(l) = &self.label {
            m.serialize_entry("label", l)?;
        }
        if let Some(lt) = &self.lifetimes {
            m.serialize_entry("valid_life_time", &lt.valid)?;
            if lt.deprecated && lt.preferred != INFINITY_LIFE_TIME {
                m.serialize_entry("preferred_life_time", &(lt.preferred as i32))?;
            } else {
                m.serialize_entry("preferred_life_time", &lt.preferred)?;
            }
        }
        m.end()
    }
}
