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
    /// `-c`: None for plain text, else whether the terminal background is dark (COLORFGBG).
    pub color: Option<bool>,
}

impl Default for Layout {
    fn default() -> Self {
        Layout {
            sl: "\n",
            human: false,
            iec: false,
            color: None,
        }
    }
}

/// What iproute2 colours (lib/color.c): interface names, hardware addresses, IPv4 and IPv6
/// addresses, and the UP/DOWN operational states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paint {
    Ifname,
    Mac,
    Inet,
    Inet6,
    Up,
    Down,
}

impl Paint {
    /// The colour for an address as text: IPv4 or IPv6 by its form, none for anything else
    /// (`default`, link-layer words).
    pub fn for_address(text: &str) -> Option<Paint> {
        let addr = text.split('/').next().unwrap_or(text);
        match addr.parse::<std::net::IpAddr>() {
            Ok(std::net::IpAddr::V4(_)) => Some(Paint::Inet),
            Ok(std::net::IpAddr::V6(_)) => Some(Paint::Inet6),
            Err(_) => None,
        }
    }
}

impl Layout {
    /// color_fprintf: the text wrapped in the attribute's colour when colour is on.
    pub fn paint(&self, out: &mut String, paint: Option<Paint>, text: std::fmt::Arguments) {
        let (Some(dark), Some(p)) = (self.color, paint) else {
            let _ = out.write_fmt(text);
            return;
        };
        let code = match p {
            Paint::Ifname => "36",
            Paint::Mac => "33",
            Paint::Inet => "35",
            Paint::Inet6 => "34",
            Paint::Up => "32",
            Paint::Down => "31",
        };
        let bold = if dark { "1;" } else { "" };
        let _ = write!(out, "\x1b[{bold}{code}m");
        let _ = out.write_fmt(text);
        out.push_str("\x1b[0m");
    }
}

mod addr;
mod link;
mod neigh;
mod printed;
mod route;
mod stats;

pub use addr::*;
pub use link::*;
pub use neigh::*;
pub use printed::*;
pub use route::*;
pub use stats::*;

/// `{n:>width$}` without the formatting machinery: `ip -s` prints a dozen counters a link,
/// tens of thousands on a big node.
pub(super) fn push_right(out: &mut String, width: usize, n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    let mut v = n;
    loop {
        i -= 1;
        digits[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    for _ in digits.len() - i..width {
        out.push(' ');
    }
    // ASCII digits: always UTF-8.
    out.push_str(std::str::from_utf8(&digits[i..]).unwrap_or("0"));
}

pub(super) fn write_num(out: &mut String, width: usize, count: u64, layout: &Layout) {
    // iproute2's print_num: "%*llu " or, with -h, a scaled value with 2 significant decimals.
    let base: u64 = if layout.iec { 1024 } else { 1000 };
    if !layout.human || count < base {
        push_right(out, width, count);
        out.push(' ');
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

pub(super) fn digits(mut v: u64) -> usize {
    let mut len = 1;
    while v > 9 {
        len += 1;
        v /= 10;
    }
    len
}

/// An ordered JSON object of numbers.
pub(super) struct Pairs<'a>(pub &'a [(&'a str, u64)]);

impl Serialize for Pairs<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let mut m = ser.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

/// C's `%g` for the few values iproute2 prints with it.
pub fn fmt_g(v: f64) -> String {
    let s = format!("{v:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn numbers_right_aligned_as_format_does() {
        for (w, n) in [
            (0, 0u64),
            (7, 0),
            (10, 1234567),
            (3, 123456),
            (20, u64::MAX),
            (1, 9),
        ] {
            let mut a = String::new();
            super::push_right(&mut a, w, n);
            assert_eq!(a, format!("{n:>w$}"));
        }
    }

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
        n.render(&mut out, &Layout::default());
        assert_eq!(
            out,
            "10.244.1.1 dev eth0 lladdr aa:bb:cc:dd:ee:ff REACHABLE \n"
        );
    }
}
