//! Links: `ip link`, the link half of `ip addr`, `-d` details and `-br`.

use super::*;
use serde::ser::{Serialize, SerializeMap, Serializer};
use std::fmt::Write;

/// The `@…` part of `eth0@if5`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkRef {
    /// The lower device lives in this namespace.
    Name(String),
    /// The peer lives in another namespace: only its index is meaningful.
    Index(u32),
    /// IFLA_LINK is 0.
    None,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetnsRef {
    pub id: i32,
    /// The /run/netns name for that id, when this namespace can see one.
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OperState {
    Known(&'static str),
    Index(u8),
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct LinkDetails {
    pub promiscuity: Option<u32>,
    pub allmulti: Option<u32>,
    pub min_mtu: Option<u32>,
    pub max_mtu: Option<u32>,
    pub info_kind: Option<String>,
    pub info_data: Option<Printed>,
    pub info_slave_kind: Option<String>,
    pub info_slave_data: Option<Printed>,
    pub addrgenmode: Option<String>,
    pub num_tx_queues: Option<u32>,
    pub num_rx_queues: Option<u32>,
    pub gso_max_size: Option<u32>,
    pub gso_max_segs: Option<u32>,
    pub tso_max_size: Option<u32>,
    pub tso_max_segs: Option<u32>,
    pub gro_max_size: Option<u32>,
    pub phys_port_name: Option<String>,
    pub phys_port_id: Option<String>,
    pub phys_switch_id: Option<String>,
    pub parentbus: Option<String>,
    pub parentdev: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LinkView {
    pub ifindex: u32,
    pub link: Option<LinkRef>,
    pub ifname: String,
    /// The lower device is down (`M-DOWN`).
    pub mdown: bool,
    pub flags: Vec<String>,
    pub mtu: Option<u32>,
    pub qdisc: Option<String>,
    pub master: Option<String>,
    pub operstate: Option<OperState>,
    pub linkmode: Option<String>,
    pub group: Option<String>,
    pub txqlen: Option<u32>,
    /// The `link/ether …` line (absent under `ip -4 addr`).
    pub link_type: Option<String>,
    pub address: Option<String>,
    pub pointtopoint: bool,
    pub broadcast: Option<String>,
    pub permaddr: Option<String>,
    pub link_netns: Option<NetnsRef>,
    pub proto_down: bool,
    pub details: Option<LinkDetails>,
    pub ifalias: Option<String>,
    pub stats: Option<LinkStats>,
    /// `ip -s addr` prints the counters after the addresses, `ip -s link` before.
    pub stats_after_addresses: bool,
    pub altnames: Option<Vec<String>>,
    /// `ip addr`: the addresses of this link; `ip link`: None.
    pub addr_info: Option<Vec<AddrView>>,
    /// -br: name, state and addresses (or hardware address and flags) only.
    pub brief: bool,
    /// `ip -o addr`: only the addresses are printed, each prefixed with its link.
    pub addr_only: bool,
}

impl LinkView {
    fn name_with_link(&self) -> String {
        match &self.link {
            Some(LinkRef::Name(l)) => format!("{}@{l}", self.ifname),
            Some(LinkRef::Index(i)) => format!("{}@if{i}", self.ifname),
            Some(LinkRef::None) => format!("{}@NONE", self.ifname),
            None => self.ifname.clone(),
        }
    }

    fn flags_text(&self) -> String {
        let mut s = String::from("<");
        s.push_str(&self.flags.join(","));
        if self.mdown {
            s.push_str(",M-DOWN");
        }
        s.push_str("> ");
        s
    }

    /// iproute2's print_linkinfo (or print_linkinfo_brief), then the addresses for `ip addr`.
    pub fn render(&self, out: &mut String, layout: &Layout) {
        if self.brief {
            self.render_brief(out, layout);
            return;
        }
        if !self.addr_only {
            self.render_link(out, layout);
        }
        if let Some(addrs) = &self.addr_info {
            for a in addrs {
                a.render(out, layout);
            }
        }
        if self.stats_after_addresses
            && let Some(st) = &self.stats
        {
            st.render(out, layout);
            out.push_str(layout.sl);
        }
    }

    fn render_link(&self, out: &mut String, layout: &Layout) {
        let sl = layout.sl;
        let _ = write!(out, "{}: ", self.ifindex);
        layout.paint(
            out,
            Some(Paint::Ifname),
            format_args!("{}: ", self.name_with_link()),
        );
        out.push_str(&self.flags_text());
        if let Some(v) = self.mtu {
            let _ = write!(out, "mtu {v} ");
        }
        if let Some(v) = &self.qdisc {
            let _ = write!(out, "qdisc {v} ");
        }
        if let Some(v) = &self.master {
            let _ = write!(out, "master {v} ");
        }
        match &self.operstate {
            Some(OperState::Known(s)) => {
                out.push_str("state ");
                layout.paint(out, state_paint(s), format_args!("{s} "));
            }
            Some(OperState::Index(i)) => {
                let _ = write!(out, "state {i:#x}");
            }
            None => {}
        }
        if let Some(v) = &self.linkmode {
            let _ = write!(out, "mode {v} ");
        }
        if let Some(v) = &self.group {
            let _ = write!(out, "group {v} ");
        }
        if let Some(v) = self.txqlen {
            let _ = write!(out, "qlen {v}");
        }
        if let Some(t) = &self.link_type {
            let _ = write!(out, "{sl}    link/{t} ");
            if let Some(a) = &self.address {
                layout.paint(out, Some(Paint::Mac), format_args!("{a}"));
            }
            if let Some(b) = &self.broadcast {
                out.push_str(if self.pointtopoint { " peer " } else { " brd " });
                layout.paint(out, Some(Paint::Mac), format_args!("{b}"));
            }
            if let Some(p) = &self.permaddr {
                out.push_str(" permaddr ");
                layout.paint(out, Some(Paint::Mac), format_args!("{p}"));
            }
        }
        if let Some(ns) = &self.link_netns {
            match (&ns.name, ns.id) {
                (Some(name), _) => {
                    let _ = write!(out, " link-netns {name}");
                }
                (None, id) if id >= 0 => {
                    let _ = write!(out, " link-netnsid {id}");
                }
                _ => out.push_str(" link-netnsid unknown"),
            }
        }
        if self.proto_down {
            out.push_str(" protodown on ");
        }
        if let Some(d) = &self.details {
            if let Some(v) = d.promiscuity {
                let _ = write!(out, " promiscuity {v} ");
            }
            if let Some(v) = d.allmulti {
                let _ = write!(out, " allmulti {v} ");
            }
            if let Some(v) = d.min_mtu {
                let _ = write!(out, "minmtu {v} ");
            }
            if let Some(v) = d.max_mtu {
                let _ = write!(out, "maxmtu {v} ");
            }
            if let Some(k) = &d.info_kind {
                let _ = write!(out, "{sl}    {k} ");
                if let Some(data) = &d.info_data {
                    out.push_str(&data.text);
                }
            }
            if let Some(k) = &d.info_slave_kind {
                let _ = write!(out, "{sl}    {k}_slave ");
                if let Some(data) = &d.info_slave_data {
                    out.push_str(&data.text);
                }
            }
            let words: [(&str, Option<u32>); 7] = [
                ("numtxqueues", d.num_tx_queues),
                ("numrxqueues", d.num_rx_queues),
                ("gso_max_size", d.gso_max_size),
                ("gso_max_segs", d.gso_max_segs),
                ("tso_max_size", d.tso_max_size),
                ("tso_max_segs", d.tso_max_segs),
                ("gro_max_size", d.gro_max_size),
            ];
            if let Some(m) = &d.addrgenmode {
                let _ = write!(out, "addrgenmode {m} ");
            }
            for (word, v) in words {
                if let Some(v) = v {
                    let _ = write!(out, "{word} {v} ");
                }
            }
            for (word, v) in [
                ("portname", &d.phys_port_name),
                ("portid", &d.phys_port_id),
                ("switchid", &d.phys_switch_id),
                ("parentbus", &d.parentbus),
                ("parentdev", &d.parentdev),
            ] {
                if let Some(v) = v {
                    let _ = write!(out, "{word} {v} ");
                }
            }
        }
        if let Some(a) = &self.ifalias {
            let _ = write!(out, "{sl}    alias {a}");
        }
        if !self.stats_after_addresses
            && let Some(st) = &self.stats
        {
            out.push_str(sl);
            st.render(out, layout);
        }
        if let Some(names) = &self.altnames {
            for n in names {
                let _ = write!(out, "{sl}    altname {n}");
            }
        }
        out.push('\n');
    }

    fn render_brief(&self, out: &mut String, layout: &Layout) {
        layout.paint(
            out,
            Some(Paint::Ifname),
            format_args!("{:<16} ", self.name_with_link()),
        );
        match &self.operstate {
            Some(OperState::Known(s)) => {
                layout.paint(out, state_paint(s), format_args!("{s:<14} "));
            }
            Some(OperState::Index(i)) => {
                let _ = write!(out, "state {i:#x}");
            }
            None => {}
        }
        match &self.addr_info {
            // `ip -br link`
            None => {
                if let Some(a) = &self.address {
                    layout.paint(out, Some(Paint::Mac), format_args!("{a} "));
                }
                out.push_str(&self.flags_text());
                out.push('\n');
            }
            Some(addrs) => {
                for a in addrs {
                    a.render(out, layout);
                }
                out.push('\n');
            }
        }
    }
}

/// oper_state_color: UP and DOWN only.
fn state_paint(state: &str) -> Option<Paint> {
    match state {
        "UP" => Some(Paint::Up),
        "DOWN" => Some(Paint::Down),
        _ => None,
    }
}

impl LinkView {
    /// The flags as `-j` lists them: `M-DOWN` last when the lower device is down (iproute2
    /// prints it inside the same array).
    fn json_flags(&self) -> Vec<&str> {
        let mut f: Vec<&str> = self.flags.iter().map(String::as_str).collect();
        if self.mdown {
            f.push("M-DOWN");
        }
        f
    }
}

impl Serialize for LinkView {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let mut m = ser.serialize_map(None)?;
        if self.addr_only {
            m.serialize_entry("addr_info", &self.addr_info)?;
            return m.end();
        }
        if !self.brief {
            m.serialize_entry("ifindex", &self.ifindex)?;
        }
        match &self.link {
            Some(LinkRef::Name(l)) => m.serialize_entry("link", l)?,
            Some(LinkRef::Index(i)) => m.serialize_entry("link_index", i)?,
            Some(LinkRef::None) => m.serialize_entry("link", &())?,
            None => {}
        }
        m.serialize_entry("ifname", &self.ifname)?;
        if self.brief {
            match &self.operstate {
                Some(OperState::Known(s)) => m.serialize_entry("operstate", s)?,
                Some(OperState::Index(i)) => m.serialize_entry("operstate_index", i)?,
                None => {}
            }
            match &self.addr_info {
                Some(addrs) => m.serialize_entry("addr_info", addrs)?,
                None => {
                    if let Some(a) = &self.address {
                        m.serialize_entry("address", a)?;
                    }
                    m.serialize_entry("flags", &self.json_flags())?;
                }
            }
            return m.end();
        }
        m.serialize_entry("flags", &self.json_flags())?;
        if let Some(v) = self.mtu {
            m.serialize_entry("mtu", &v)?;
        }
        if let Some(v) = &self.qdisc {
            m.serialize_entry("qdisc", v)?;
        }
        if let Some(v) = &self.master {
            m.serialize_entry("master", v)?;
        }
        match &self.operstate {
            Some(OperState::Known(s)) => m.serialize_entry("operstate", s)?,
            Some(OperState::Index(i)) => m.serialize_entry("operstate_index", i)?,
            None => {}
        }
        if let Some(v) = &self.linkmode {
            m.serialize_entry("linkmode", v)?;
        }
        if let Some(v) = &self.group {
            m.serialize_entry("group", v)?;
        }
        if let Some(v) = self.txqlen {
            m.serialize_entry("txqlen", &v)?;
        }
        if let Some(t) = &self.link_type {
            m.serialize_entry("link_type", t)?;
        }
        if self.link_type.is_some() {
            if let Some(a) = &self.address {
                m.serialize_entry("address", a)?;
            }
            if let Some(b) = &self.broadcast {
                if self.pointtopoint {
                    m.serialize_entry("link_pointtopoint", &true)?;
                }
                m.serialize_entry("broadcast", b)?;
            }
            if let Some(p) = &self.permaddr {
                m.serialize_entry("permaddr", p)?;
            }
        }
        if let Some(ns) = &self.link_netns {
            m.serialize_entry("link_netnsid", &ns.id)?;
        }
        if self.proto_down {
            m.serialize_entry("proto_down", &true)?;
        }
        if let Some(d) = &self.details {
            for (k, v) in [
                ("promiscuity", d.promiscuity),
                ("allmulti", d.allmulti),
                ("min_mtu", d.min_mtu),
                ("max_mtu", d.max_mtu),
            ] {
                if let Some(v) = v {
                    m.serialize_entry(k, &v)?;
                }
            }
            if d.info_kind.is_some() || d.info_slave_kind.is_some() {
                m.serialize_entry("linkinfo", &LinkInfoJson(d))?;
            }
            if let Some(g) = &d.addrgenmode {
                m.serialize_entry("inet6_addr_gen_mode", g)?;
            }
            for (k, v) in [
                ("num_tx_queues", d.num_tx_queues),
                ("num_rx_queues", d.num_rx_queues),
                ("gso_max_size", d.gso_max_size),
                ("gso_max_segs", d.gso_max_segs),
                ("tso_max_size", d.tso_max_size),
                ("tso_max_segs", d.tso_max_segs),
                ("gro_max_size", d.gro_max_size),
            ] {
                if let Some(v) = v {
                    m.serialize_entry(k, &v)?;
                }
            }
            for (k, v) in [
                ("phys_port_name", &d.phys_port_name),
                ("phys_port_id", &d.phys_port_id),
                ("phys_switch_id", &d.phys_switch_id),
                ("parentbus", &d.parentbus),
                ("parentdev", &d.parentdev),
            ] {
                if let Some(v) = v {
                    m.serialize_entry(k, v)?;
                }
            }
        }
        if let Some(a) = &self.ifalias {
            m.serialize_entry("ifalias", a)?;
        }
        if !self.stats_after_addresses
            && let Some(st) = &self.stats
        {
            m.serialize_entry(st.key, st)?;
        }
        if let Some(names) = &self.altnames {
            m.serialize_entry("altnames", names)?;
        }
        if let Some(addrs) = &self.addr_info {
            m.serialize_entry("addr_info", addrs)?;
        }
        if self.stats_after_addresses
            && let Some(st) = &self.stats
        {
            m.serialize_entry(st.key, st)?;
        }
        m.end()
    }
}

struct LinkInfoJson<'a>(&'a LinkDetails);

impl Serialize for LinkInfoJson<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let mut m = ser.serialize_map(None)?;
        if let Some(k) = &self.0.info_kind {
            m.serialize_entry("info_kind", k)?;
            if let Some(data) = &self.0.info_data {
                m.serialize_entry("info_data", &data.json)?;
            }
        }
        if let Some(k) = &self.0.info_slave_kind {
            m.serialize_entry("info_slave_kind", k)?;
            if let Some(data) = &self.0.info_slave_data {
                m.serialize_entry("info_slave_data", &data.json)?;
            }
        }
        m.end()
    }
}
