//! Neighbours: `ip neigh` lines and their `-j` keys.

use super::{Layout, Paint};
use serde::ser::{Serialize, SerializeMap, Serializer};
use std::fmt::Write;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NeighCache {
    pub refcnt: Option<u32>,
    pub used: u32,
    pub confirmed: u32,
    pub updated: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NeighView {
    pub dst: Option<String>,
    pub dev: Option<String>,
    pub lladdr: Option<String>,
    /// router, proxy, managed, extern_learn, offload
    pub flags: Vec<&'static str>,
    pub cache: Option<NeighCache>,
    pub probes: Option<u32>,
    pub state: Vec<&'static str>,
    pub protocol: Option<String>,
    pub brief: bool,
}

impl NeighView {
    /// iproute2's print_neigh.
    pub fn render(&self, out: &mut String, layout: &Layout) {
        let dst_paint = self.dst.as_deref().and_then(Paint::for_address);
        if self.brief {
            if let Some(d) = &self.dst {
                layout.paint(out, dst_paint, format_args!("{d:<39} "));
            }
            if let Some(d) = &self.dev {
                layout.paint(out, Some(Paint::Ifname), format_args!("{d:<16} "));
            }
            if let Some(l) = &self.lladdr {
                layout.paint(out, Some(Paint::Mac), format_args!("{l}"));
            }
            out.push('\n');
            return;
        }
        if let Some(d) = &self.dst {
            layout.paint(out, dst_paint, format_args!("{d} "));
        }
        if let Some(d) = &self.dev {
            out.push_str("dev ");
            layout.paint(out, Some(Paint::Ifname), format_args!("{d} "));
        }
        if let Some(l) = &self.lladdr {
            out.push_str("lladdr ");
            layout.paint(out, Some(Paint::Mac), format_args!("{l} "));
        }
        for f in &self.flags {
            let _ = write!(out, "{f} ");
        }
        if let Some(c) = &self.cache {
            if let Some(r) = c.refcnt {
                let _ = write!(out, " ref {r}");
            }
            let _ = write!(out, " used {}/{}/{}", c.used, c.confirmed, c.updated);
        }
        if let Some(p) = self.probes {
            let _ = write!(out, "probes {p} ");
        }
        for s in &self.state {
            let _ = write!(out, "{s} ");
        }
        if let Some(p) = &self.protocol {
            let _ = write!(out, "proto {p} ");
        }
        out.push('\n');
    }
}

impl Serialize for NeighView {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let mut m = ser.serialize_map(None)?;
        if let Some(d) = &self.dst {
            m.serialize_entry("dst", d)?;
        }
        if let Some(d) = &self.dev {
            m.serialize_entry("dev", d)?;
        }
        if let Some(l) = &self.lladdr {
            m.serialize_entry("lladdr", l)?;
        }
        if self.brief {
            return m.end();
        }
        for f in &self.flags {
            m.serialize_entry(f, &())?;
        }
        if let Some(c) = &self.cache {
            if let Some(r) = c.refcnt {
                m.serialize_entry("refcnt", &r)?;
            }
            m.serialize_entry("used", &c.used)?;
            m.serialize_entry("confirmed", &c.confirmed)?;
            m.serialize_entry("updated", &c.updated)?;
        }
        if let Some(p) = self.probes {
            m.serialize_entry("probes", &p)?;
        }
        if !self.state.is_empty() {
            m.serialize_entry("state", &self.state)?;
        }
        if let Some(p) = &self.protocol {
            m.serialize_entry("protocol", p)?;
        }
        m.end()
    }
}
