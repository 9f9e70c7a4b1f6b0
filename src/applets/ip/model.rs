//! What `ip` shows, as plain data: one view struct per link, address, route and neighbour.
//!
//! `parse.rs` decides which fields a view carries (that depends on -d, -s, -4 …); this file only
//! renders them: `Serialize` writes iproute2's `-j` keys in iproute2's order, and the `render_*`
//! functions write iproute2's text byte for byte (ipaddress.c, iproute.c, ipneigh.c in 6.1).

use serde::ser::{Serialize, SerializeMap, Serializer};
use std::fmt::Write;

/// How the text is laid out: iproute2's `_SL_` line separator (`\` under -o) and `-h` numbers.
#[derive(Debug, Clone, Copy)]
pub struct Layout {
    pub sl: &'static str,
    pub human: bool,
    pub iec: bool,
}

impl Default for Layout {
    fn default() -> Self {
        Layout {
            sl: "\n",
            human: false,
            iec: false,
        }
    }
}

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

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkDetails {
    pub promiscuity: Option<u32>,
    pub allmulti: Option<u32>,
    pub min_mtu: Option<u32>,
    pub max_mtu: Option<u32>,
    pub info_kind: Option<String>,
    pub info_slave_kind: Option<String>,
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

/// Link counters (struct rtnl_link_stats64).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    pub rx_packets: u64,
    pub tx_packets: u64,
    pub rx_bytes: u64,
    pub tx_bytes: u64,
    pub rx_errors: u64,
    pub tx_errors: u64,
    pub rx_dropped: u64,
    pub tx_dropped: u64,
    pub multicast: u64,
    pub collisions: u64,
    pub rx_length_errors: u64,
    pub rx_over_errors: u64,
    pub rx_crc_errors: u64,
    pub rx_frame_errors: u64,
    pub rx_fifo_errors: u64,
    pub rx_missed_errors: u64,
    pub tx_aborted_errors: u64,
    pub tx_carrier_errors: u64,
    pub tx_fifo_errors: u64,
    pub tx_heartbeat_errors: u64,
    pub tx_window_errors: u64,
    pub rx_compressed: u64,
    pub tx_compressed: u64,
    pub rx_nohandler: u64,
    pub rx_otherhost_dropped: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkStats {
    /// "stats64", or "stats" when the kernel only gave 32-bit counters.
    pub key: &'static str,
    pub counters: Counters,
    pub carrier_changes: Option<u32>,
    /// How many -s were given (2 adds the error breakdown).
    pub level: u8,
}

#[derive(Debug, Clone, PartialEq, Eq)]
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

fn write_num(out: &mut String, width: usize, count: u64, layout: &Layout) {
    // iproute2's print_num: "%*llu " or, with -h, a scaled value with 2 significant decimals.
    let base: u64 = if layout.iec { 1024 } else { 1000 };
    if !layout.human || count < base {
        let _ = write!(out, "{count:>width$} ");
        return;
    }
    let prefixes = b"kMGTPE";
    let mut idx = 0;
    let mut powi: u64 = 1;
    loop {
        powi = powi.saturating_mul(base);
        if count / base < powi {
            break;
        }
        if idx + 1 >= prefixes.len() {
            break;
        }
        idx += 1;
    }
    let mut precision = 2;
    let mut powj: u64 = 1;
    while precision > 0 {
        powj *= 10;
        if count / powi < powj {
            break;
        }
        precision -= 1;
    }
    let s = format!(
        "{:.*}{}{}",
        precision,
        count as f64 / powi as f64,
        prefixes[idx] as char,
        if layout.iec { "i" } else { "" }
    );
    let _ = write!(out, "{s:>width$} ");
}

fn digits(mut v: u64) -> usize {
    let mut len = 1;
    while v > 9 {
        len += 1;
        v /= 10;
    }
    len
}

impl LinkStats {
    /// iproute2's print_stats64 in text mode.
    pub fn render(&self, out: &mut String, layout: &Layout) {
        let s = &self.counters;
        let sl = layout.sl;
        let mut cols = [10usize, 7, 6, 7, 7, 7, 10, 9];
        let mut size = |vals: [u64; 8]| {
            if layout.human {
                return;
            }
            for (c, v) in cols.iter_mut().zip(vals) {
                *c = (*c).max(digits(v));
            }
        };
        size([
            s.rx_bytes,
            s.rx_packets,
            s.rx_errors,
            s.rx_dropped,
            s.rx_missed_errors,
            s.multicast,
            s.rx_compressed,
            0,
        ]);
        if self.level > 1 {
            size([
                0,
                s.rx_length_errors,
                s.rx_crc_errors,
                s.rx_frame_errors,
                s.rx_fifo_errors,
                s.rx_over_errors,
                s.rx_nohandler,
                s.rx_otherhost_dropped,
            ]);
        }
        size([
            s.tx_bytes,
            s.tx_packets,
            s.tx_errors,
            s.tx_dropped,
            s.tx_carrier_errors,
            s.collisions,
            s.tx_compressed,
            0,
        ]);
        if self.level > 1 {
            let cc = self.carrier_changes.unwrap_or(0) as u64;
            size([
                0,
                0,
                s.tx_aborted_errors,
                s.tx_fifo_errors,
                s.tx_window_errors,
                s.tx_heartbeat_errors,
                cc,
                0,
            ]);
        }
        let _ = write!(
            out,
            "    RX: {:>w0$} {:>w1$} {:>w2$} {:>w3$} {:>w4$} {:>w5$} {:>w6$}{sl}",
            "bytes",
            "packets",
            "errors",
            "dropped",
            "missed",
            "mcast",
            if s.rx_compressed != 0 {
                "compressed"
            } else {
                ""
            },
            w0 = cols[0] - 4,
            w1 = cols[1],
            w2 = cols[2],
            w3 = cols[3],
            w4 = cols[4],
            w5 = cols[5],
            w6 = cols[6],
        );
        out.push_str("    ");
        for (w, v) in cols.iter().zip([
            s.rx_bytes,
            s.rx_packets,
            s.rx_errors,
            s.rx_dropped,
            s.rx_missed_errors,
            s.multicast,
        ]) {
            write_num(out, *w, v, layout);
        }
        if s.rx_compressed != 0 {
            write_num(out, cols[6], s.rx_compressed, layout);
        }
        if self.level > 1 {
            out.push_str(sl);
            let _ = write!(
                out,
                "    RX errors:{:w0$} {:>w1$} {:>w2$} {:>w3$} {:>w4$} {:>w5$}{:>w6$}{:>w7$}{sl}",
                "",
                "length",
                "crc",
                "frame",
                "fifo",
                "overrun",
                if s.rx_nohandler != 0 {
                    " nohandler"
                } else {
                    ""
                },
                if s.rx_otherhost_dropped != 0 {
                    " otherhost"
                } else {
                    ""
                },
                w0 = cols[0] - 10,
                w1 = cols[1],
                w2 = cols[2],
                w3 = cols[3],
                w4 = cols[4],
                w5 = cols[5],
                w6 = if s.rx_nohandler != 0 { cols[6] + 1 } else { 0 },
                w7 = if s.rx_otherhost_dropped != 0 {
                    cols[7] + 1
                } else {
                    0
                },
            );
            let _ = write!(out, "{:w$}", "", w = cols[0] + 5);
            for (w, v) in cols[1..].iter().zip([
                s.rx_length_errors,
                s.rx_crc_errors,
                s.rx_frame_errors,
                s.rx_fifo_errors,
                s.rx_over_errors,
            ]) {
                write_num(out, *w, v, layout);
            }
            if s.rx_nohandler != 0 {
                write_num(out, cols[6], s.rx_nohandler, layout);
            }
            if s.rx_otherhost_dropped != 0 {
                write_num(out, cols[7], s.rx_otherhost_dropped, layout);
            }
        }
        out.push_str(sl);
        let _ = write!(
            out,
            "    TX: {:>w0$} {:>w1$} {:>w2$} {:>w3$} {:>w4$} {:>w5$} {:>w6$}{sl}",
            "bytes",
            "packets",
            "errors",
            "dropped",
            "carrier",
            "collsns",
            if s.tx_compressed != 0 {
                "compressed"
            } else {
                ""
            },
            w0 = cols[0] - 4,
            w1 = cols[1],
            w2 = cols[2],
            w3 = cols[3],
            w4 = cols[4],
            w5 = cols[5],
            w6 = cols[6],
        );
        out.push_str("    ");
        for (w, v) in cols.iter().zip([
            s.tx_bytes,
            s.tx_packets,
            s.tx_errors,
            s.tx_dropped,
            s.tx_carrier_errors,
            s.collisions,
        ]) {
            write_num(out, *w, v, layout);
        }
        if s.tx_compressed != 0 {
            write_num(out, cols[6], s.tx_compressed, layout);
        }
        if self.level > 1 {
            out.push_str(sl);
            let _ = write!(
                out,
                "    TX errors:{:w0$} {:>w1$} {:>w2$} {:>w3$} {:>w4$} {:>w5$}{sl}",
                "",
                "aborted",
                "fifo",
                "window",
                "heartbt",
                if self.carrier_changes.is_some() {
                    "transns"
                } else {
                    ""
                },
                w0 = cols[0] - 10,
                w1 = cols[1],
                w2 = cols[2],
                w3 = cols[3],
                w4 = cols[4],
                w5 = cols[5],
            );
            let _ = write!(out, "{:w$}", "", w = cols[0] + 5);
            for (w, v) in cols[1..].iter().zip([
                s.tx_aborted_errors,
                s.tx_fifo_errors,
                s.tx_window_errors,
                s.tx_heartbeat_errors,
            ]) {
                write_num(out, *w, v, layout);
            }
            if let Some(cc) = self.carrier_changes {
                write_num(out, cols[5], cc as u64, layout);
            }
        }
    }
}

impl Serialize for LinkStats {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let s = &self.counters;
        let mut m = ser.serialize_map(None)?;
        let mut rx: Vec<(&str, u64)> = vec![
            ("bytes", s.rx_bytes),
            ("packets", s.rx_packets),
            ("errors", s.rx_errors),
            ("dropped", s.rx_dropped),
            ("over_errors", s.rx_over_errors),
            ("multicast", s.multicast),
        ];
        if s.rx_compressed != 0 {
            rx.push(("compressed", s.rx_compressed));
        }
        if self.level > 1 {
            rx.extend([
                ("length_errors", s.rx_length_errors),
                ("crc_errors", s.rx_crc_errors),
                ("frame_errors", s.rx_frame_errors),
                ("fifo_errors", s.rx_fifo_errors),
                ("missed_errors", s.rx_missed_errors),
            ]);
            if s.rx_nohandler != 0 {
                rx.push(("nohandler", s.rx_nohandler));
            }
            if s.rx_otherhost_dropped != 0 {
                rx.push(("otherhost", s.rx_otherhost_dropped));
            }
        }
        let mut tx: Vec<(&str, u64)> = vec![
            ("bytes", s.tx_bytes),
            ("packets", s.tx_packets),
            ("errors", s.tx_errors),
            ("dropped", s.tx_dropped),
            ("carrier_errors", s.tx_carrier_errors),
            ("collisions", s.collisions),
        ];
        if s.tx_compressed != 0 {
            tx.push(("compressed", s.tx_compressed));
        }
        if self.level > 1 {
            tx.extend([
                ("aborted_errors", s.tx_aborted_errors),
                ("fifo_errors", s.tx_fifo_errors),
                ("window_errors", s.tx_window_errors),
                ("heartbeat_errors", s.tx_heartbeat_errors),
            ]);
            if let Some(cc) = self.carrier_changes {
                tx.push(("carrier_changes", cc as u64));
            }
        }
        m.serialize_entry("rx", &Pairs(&rx))?;
        m.serialize_entry("tx", &Pairs(&tx))?;
        m.end()
    }
}

/// An ordered JSON object of numbers.
struct Pairs<'a>(&'a [(&'a str, u64)]);

impl Serialize for Pairs<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let mut m = ser.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
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
        if self.stats_after_addresses {
            if let Some(st) = &self.stats {
                st.render(out, layout);
                out.push_str(layout.sl);
            }
        }
    }

    fn render_link(&self, out: &mut String, layout: &Layout) {
        let sl = layout.sl;
        let _ = write!(out, "{}: {}: ", self.ifindex, self.name_with_link());
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
                let _ = write!(out, "state {s} ");
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
                out.push_str(a);
            }
            if let Some(b) = &self.broadcast {
                out.push_str(if self.pointtopoint { " peer " } else { " brd " });
                out.push_str(b);
            }
            if let Some(p) = &self.permaddr {
                let _ = write!(out, " permaddr {p}");
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
            }
            if let Some(k) = &d.info_slave_kind {
                let _ = write!(out, "{sl}    {k}_slave ");
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
        if !self.stats_after_addresses {
            if let Some(st) = &self.stats {
                out.push_str(sl);
                st.render(out, layout);
            }
        }
        if let Some(names) = &self.altnames {
            for n in names {
                let _ = write!(out, "{sl}    altname {n}");
            }
        }
        out.push('\n');
    }

    fn render_brief(&self, out: &mut String, layout: &Layout) {
        let _ = write!(out, "{:<16} ", self.name_with_link());
        match &self.operstate {
            Some(OperState::Known(s)) => {
                let _ = write!(out, "{s:<14} ");
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
                    let _ = write!(out, "{a} ");
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
                    m.serialize_entry("flags", &self.flags)?;
                }
            }
            return m.end();
        }
        m.serialize_entry("flags", &self.flags)?;
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
        if !self.stats_after_addresses {
            if let Some(st) = &self.stats {
                m.serialize_entry(st.key, st)?;
            }
        }
        if let Some(names) = &self.altnames {
            m.serialize_entry("altnames", names)?;
        }
        if let Some(addrs) = &self.addr_info {
            m.serialize_entry("addr_info", addrs)?;
        }
        if self.stats_after_addresses {
            if let Some(st) = &self.stats {
                m.serialize_entry(st.key, st)?;
            }
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
        }
        if let Some(k) = &self.0.info_slave_kind {
            m.serialize_entry("info_slave_kind", k)?;
        }
        m.end()
    }
}

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
        if let Some(local) = &self.local {
            out.push_str(local);
            if let Some(peer) = &self.peer {
                let _ = write!(out, " peer {peer}");
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
            let _ = write!(out, "brd {b} ");
        }
        if let Some(a) = &self.anycast {
            let _ = write!(out, "any {a} ");
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
    pub nexthops: Option<Vec<NextHop>>,
}

impl RouteView {
    /// iproute2's print_route.
    pub fn render(&self, out: &mut String, layout: &Layout) {
        let sl = layout.sl;
        if let Some(k) = &self.kind {
            let _ = write!(out, "{k} ");
        }
        let _ = write!(out, "{} ", self.dst);
        if let Some(f) = &self.from {
            let _ = write!(out, "from {f} ");
        }
        if let Some(n) = self.nhid {
            let _ = write!(out, "nhid {n} ");
        }
        if let Some(t) = &self.tos {
            let _ = write!(out, "tos {t} ");
        }
        if let Some(g) = &self.gateway {
            let _ = write!(out, "via {g} ");
        }
        if let Some(d) = &self.dev {
            let _ = write!(out, "dev {d} ");
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
            let _ = write!(out, "src {s} ");
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
        if let Some(nhs) = &self.nexthops {
            for nh in nhs {
                let _ = write!(out, "{sl}\tnexthop ");
                if let Some(g) = &nh.gateway {
                    let _ = write!(out, "via {g} ");
                }
                let _ = write!(out, "dev {} weight {} ", nh.dev, nh.weight);
                for f in &nh.flags {
                    let _ = write!(out, "{f} ");
                }
            }
        }
        out.push('\n');
    }
}

/// C's `%g` for the few values iproute2 prints with it.
pub fn fmt_g(v: f64) -> String {
    let s = format!("{v:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
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
    pub fn render(&self, out: &mut String) {
        if self.brief {
            if let Some(d) = &self.dst {
                let _ = write!(out, "{d:<39} ");
            }
            if let Some(d) = &self.dev {
                let _ = write!(out, "{d:<16} ");
            }
            if let Some(l) = &self.lladdr {
                out.push_str(l);
            }
            out.push('\n');
            return;
        }
        if let Some(d) = &self.dst {
            let _ = write!(out, "{d} ");
        }
        if let Some(d) = &self.dev {
            let _ = write!(out, "dev {d} ");
        }
        if let Some(l) = &self.lladdr {
            let _ = write!(out, "lladdr {l} ");
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

#[cfg(test)]
mod tests {
    use super::*;

    fn lo() -> LinkView {
        LinkView {
            ifindex: 1,
            link: None,
            ifname: "lo".into(),
            mdown: false,
            flags: vec!["LOOPBACK".into(), "UP".into(), "LOWER_UP".into()],
            mtu: Some(65536),
            qdisc: Some("noqueue".into()),
            master: None,
            operstate: Some(OperState::Known("UNKNOWN")),
            linkmode: None,
            group: Some("default".into()),
            txqlen: Some(1000),
            link_type: Some("loopback".into()),
            address: Some("00:00:00:00:00:00".into()),
            pointtopoint: false,
            broadcast: Some("00:00:00:00:00:00".into()),
            permaddr: None,
            link_netns: None,
            proto_down: false,
            details: None,
            ifalias: None,
            stats: None,
            stats_after_addresses: false,
            altnames: None,
            brief: false,
            addr_only: false,
            addr_info: Some(vec![AddrView {
                index_dev: None,
                family: "inet".into(),
                local: Some("127.0.0.1".into()),
                peer: None,
                prefixlen: 8,
                metric: None,
                broadcast: None,
                anycast: None,
                scope: "host".into(),
                flags: vec![],
                unknown_flags: None,
                label: Some("lo".into()),
                lifetimes: Some(Lifetimes {
                    valid: INFINITY_LIFE_TIME,
                    preferred: INFINITY_LIFE_TIME,
                    deprecated: false,
                }),
                brief: false,
                hidden: false,
            }]),
        }
    }

    #[test]
    fn address_text_matches_iproute2() {
        let mut out = String::new();
        lo().render(&mut out, &Layout::default());
        assert_eq!(
            out,
            "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000\n    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n    inet 127.0.0.1/8 scope host lo\n       valid_lft forever preferred_lft forever\n"
        );
    }

    #[test]
    fn address_json_matches_iproute2() {
        let json = crate::output::iproute_json(&[lo()], false);
        assert_eq!(
            json,
            "[{\"ifindex\":1,\"ifname\":\"lo\",\"flags\":[\"LOOPBACK\",\"UP\",\"LOWER_UP\"],\"mtu\":65536,\"qdisc\":\"noqueue\",\"operstate\":\"UNKNOWN\",\"group\":\"default\",\"txqlen\":1000,\"link_type\":\"loopback\",\"address\":\"00:00:00:00:00:00\",\"broadcast\":\"00:00:00:00:00:00\",\"addr_info\":[{\"family\":\"inet\",\"local\":\"127.0.0.1\",\"prefixlen\":8,\"scope\":\"host\",\"label\":\"lo\",\"valid_life_time\":4294967295,\"preferred_life_time\":4294967295}]}]\n"
        );
    }

    #[test]
    fn route_text() {
        let r = RouteView {
            dst: "10.244.1.0/24".into(),
            dev: Some("eth0".into()),
            protocol: Some("kernel".into()),
            scope: Some("link".into()),
            prefsrc: Some("10.244.1.5".into()),
            ..Default::default()
        };
        let mut out = String::new();
        r.render(&mut out, &Layout::default());
        assert_eq!(
            out,
            "10.244.1.0/24 dev eth0 proto kernel scope link src 10.244.1.5 \n"
        );
        let get = RouteView {
            dst: "10.244.2.10".into(),
            gateway: Some("10.244.1.1".into()),
            dev: Some("eth0".into()),
            prefsrc: Some("10.244.1.5".into()),
            uid: Some(0),
            cache: Some(vec![]),
            ..Default::default()
        };
        let mut out = String::new();
        get.render(&mut out, &Layout::default());
        assert_eq!(
            out,
            "10.244.2.10 via 10.244.1.1 dev eth0 src 10.244.1.5 uid 0 \n    cache \n"
        );
    }

    #[test]
    fn stats_text_matches_iproute2() {
        let st = LinkStats {
            key: "stats64",
            counters: Counters {
                rx_bytes: 1234,
                rx_packets: 12,
                tx_bytes: 99,
                tx_packets: 1,
                ..Default::default()
            },
            carrier_changes: Some(2),
            level: 1,
        };
        let mut out = String::new();
        st.render(&mut out, &Layout::default());
        assert_eq!(
            out,
            "    RX:  bytes packets errors dropped  missed   mcast           \n          1234      12      0       0       0       0 \n    TX:  bytes packets errors dropped carrier collsns           \n            99       1      0       0       0       0 "
        );
    }

    #[test]
    fn human_numbers() {
        let l = Layout {
            human: true,
            ..Default::default()
        };
        let mut out = String::new();
        write_num(&mut out, 6, 1_234_567, &l);
        assert_eq!(out, " 1.23M ");
        out.clear();
        write_num(&mut out, 6, 999, &l);
        assert_eq!(out, "   999 ");
        out.clear();
        write_num(&mut out, 6, 12_345, &l);
        assert_eq!(out, " 12.3k ");
    }

    #[test]
    fn neigh_text() {
        let n = NeighView {
            dst: Some("10.244.1.1".into()),
            dev: Some("eth0".into()),
            lladdr: Some("aa:bb:cc:dd:ee:ff".into()),
            state: vec!["REACHABLE"],
            ..Default::default()
        };
        let mut out = String::new();
        n.render(&mut out);
        assert_eq!(
            out,
            "10.244.1.1 dev eth0 lladdr aa:bb:cc:dd:ee:ff REACHABLE \n"
        );
    }
}
