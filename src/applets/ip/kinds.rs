//! `ip -d link`: what a link's kind says about it (bridge, bridge port, vxlan, macvlan, vlan),
//! in iproute2 6.1's words and order (ip/iplink_bridge.c, iplink_bridge_slave.c, iplink_vxlan.c,
//! iplink_macvlan.c, iplink_vlan.c). veth has no options of its own, as in iproute2. Each field
//! is written once for the text and once for `-j`, the way iproute2's print_* helpers do.

use super::model::Printed;
use super::parse::Names;
use netlink_packet_route::link::{
    BridgeId, BridgePortState, InfoBridge, InfoBridgePort, InfoData, InfoMacVlan, InfoPortData,
    InfoVlan, InfoVxlan, MacVlanMode, VlanQosMapping, VxlanDf,
};
use serde_json::{Value, json};
use std::fmt::Write;

/// br_dump_bridge_id: the priority as four hex digits, then the MAC as ether_ntoa prints it
/// (no zero padding).
fn bridge_id(id: &BridgeId) -> String {
    let mac: Vec<String> = id.address.iter().map(|b| format!("{b:x}")).collect();
    format!("{:04x}.{}", id.priority, mac.join(":"))
}

/// ll_proto_n2a.
fn vlan_protocol(p: u16) -> String {
    crate::services::ll_protocol_name(p)
}

fn mac(a: &[u8; 6]) -> String {
    crate::applets::ip::names::link_addr(a, 1)
}

/// IFLA_INFO_DATA of the link's own kind, when iproute2 prints it.
pub fn info_data(data: &InfoData, names: &Names) -> Option<Printed> {
    let mut k = Printed::default();
    match data {
        InfoData::Bridge(attrs) => bridge(&mut k, attrs),
        InfoData::Vxlan(attrs) => vxlan(&mut k, attrs, names),
        InfoData::MacVlan(attrs) => macvlan(&mut k, attrs),
        InfoData::Vlan(attrs) => vlan(&mut k, attrs),
        _ => return None,
    }
    Some(k)
}

/// IFLA_INFO_SLAVE_DATA: the port's view of its master.
pub fn port_data(data: &InfoPortData) -> Option<Printed> {
    let mut k = Printed::default();
    match data {
        InfoPortData::BridgePort(attrs) => bridge_port(&mut k, attrs),
        _ => return None,
    }
    Some(k)
}

/// How a field prints; see the Printed helpers.
enum Field {
    Uint(u64),
    Str(String),
    OnOff(bool),
    Hex(u64),
    Timer(u64),
    /// Text only (iproute2 prints fast leave twice, the second time without JSON).
    Text(String),
}

/// Fields arrive in the kernel's attribute order; iproute2 prints them in its own, given here
/// as a rank per field.
fn emit(k: &mut Printed, mut fields: Vec<(u8, &'static str, &'static str, Field)>) {
    fields.sort_by_key(|f| f.0);
    for (_, key, word, f) in fields {
        match f {
            Field::Uint(v) => k.uint(key, word, v),
            Field::Str(v) => k.string(key, word, &v),
            Field::OnOff(v) => k.on_off(key, word, v),
            Field::Hex(v) => k.hex(key, word, v),
            Field::Timer(v) => k.timer(key, v),
            Field::Text(t) => k.text.push_str(&t),
        }
    }
}

fn bridge(k: &mut Printed, attrs: &[InfoBridge]) {
    use Field::*;
    use InfoBridge as B;
    let mut f = Vec::new();
    for a in attrs {
        let (rank, key, word, v) = match a {
            B::ForwardDelay(v) => (0, "forward_delay", "forward_delay", Uint(*v as u64)),
            B::HelloTime(v) => (1, "hello_time", "hello_time", Uint(*v as u64)),
            B::MaxAge(v) => (2, "max_age", "max_age", Uint(*v as u64)),
            B::AgeingTime(v) => (3, "ageing_time", "ageing_time", Uint(*v as u64)),
            B::StpState(v) => (4, "stp_state", "stp_state", Uint(u32::from(*v) as u64)),
            B::Priority(v) => (5, "priority", "priority", Uint(*v as u64)),
            B::VlanFiltering(v) => (6, "vlan_filtering", "vlan_filtering", Uint(*v as u64)),
            B::VlanProtocol(p) => (
                7,
                "vlan_protocol",
                "vlan_protocol",
                Str(vlan_protocol(u16::from(*p))),
            ),
            B::BridgeId(id) => (8, "bridge_id", "bridge_id", Str(bridge_id(id))),
            B::RootId(id) => (9, "root_id", "designated_root", Str(bridge_id(id))),
            B::RootPort(v) => (10, "root_port", "root_port", Uint(*v as u64)),
            B::RootPathCost(v) => (11, "root_path_cost", "root_path_cost", Uint(*v as u64)),
            B::TopologyChange(v) => (12, "topology_change", "topology_change", Uint(*v as u64)),
            B::TopologyChangeDetected(v) => (
                13,
                "topology_change_detected",
                "topology_change_detected",
                Uint(*v as u64),
            ),
            B::HelloTimer(v) => (14, "hello_timer", "", Timer(*v)),
            B::TcnTimer(v) => (15, "tcn_timer", "", Timer(*v)),
            B::TopologyChangeTimer(v) => (16, "topology_change_timer", "", Timer(*v)),
            B::GcTimer(v) => (17, "gc_timer", "", Timer(*v)),
            B::VlanDefaultPvid(v) => (
                18,
                "vlan_default_pvid",
                "vlan_default_pvid",
                Uint(*v as u64),
            ),
            B::VlanStatsEnabled(v) => (
                19,
                "vlan_stats_enabled",
                "vlan_stats_enabled",
                Uint(*v as u64),
            ),
            B::VlanStatsPerPort(v) => (
                20,
                "vlan_stats_per_port",
                "vlan_stats_per_port",
                Uint(*v as u64),
            ),
            B::GroupFwdMask(v) => (21, "group_fwd_mask", "group_fwd_mask", Hex(*v as u64)),
            B::GroupAddr(m) => (22, "group_addr", "group_address", Str(mac(m))),
            B::MulticastSnooping(v) => (23, "mcast_snooping", "mcast_snooping", Uint(*v as u64)),
            B::MultiBoolOpt(o) => {
                use netlink_packet_route::link::BridgeBooleanOptionFlags as F;
                for (flag, key, rank) in [
                    (F::NoLinkLocalLearn, "no_linklocal_learn", 24),
                    (F::VlanMulticastSnooping, "mcast_vlan_snooping", 25),
                ] {
                    if o.mask.contains(flag) {
                        f.push((rank, key, key, Uint(o.value.contains(flag) as u64)));
                    }
                }
                continue;
            }
            B::MulticastRouter(v) => (
                26,
                "mcast_router",
                "mcast_router",
                Uint(u8::from(*v) as u64),
            ),
            B::MulticastQueryUseIfaddr(v) => (
                27,
                "mcast_query_use_ifaddr",
                "mcast_query_use_ifaddr",
                Uint(*v as u64),
            ),
            B::MulticastQuerier(v) => (28, "mcast_querier", "mcast_querier", Uint(*v as u64)),
            B::MulticastHashElasticity(v) => (
                29,
                "mcast_hash_elasticity",
                "mcast_hash_elasticity",
                Uint(*v as u64),
            ),
            B::MulticastHashMax(v) => (30, "mcast_hash_max", "mcast_hash_max", Uint(*v as u64)),
            B::MulticastLastMemberCount(v) => (
                31,
                "mcast_last_member_cnt",
                "mcast_last_member_count",
                Uint(*v as u64),
            ),
            B::MulticastStartupQueryCount(v) => (
                32,
                "mcast_startup_query_cnt",
                "mcast_startup_query_count",
                Uint(*v as u64),
            ),
            B::MulticastLastMemberInterval(v) => (
                33,
                "mcast_last_member_intvl",
                "mcast_last_member_interval",
                Uint(*v),
            ),
            B::MulticastMembershipInterval(v) => (
                34,
                "mcast_membership_intvl",
                "mcast_membership_interval",
                Uint(*v),
            ),
            B::MulticastQuerierInterval(v) => (
                35,
                "mcast_querier_intvl",
                "mcast_querier_interval",
                Uint(*v),
            ),
            B::MulticastQueryInterval(v) => {
                (36, "mcast_query_intvl", "mcast_query_interval", Uint(*v))
            }
            B::MulticastQueryResponseInterval(v) => (
                37,
                "mcast_query_response_intvl",
                "mcast_query_response_interval",
                Uint(*v),
            ),
            B::MulticastStartupQueryInterval(v) => (
                38,
                "mcast_startup_query_intvl",
                "mcast_startup_query_interval",
                Uint(*v),
            ),
            B::MulticastStatsEnabled(v) => (
                39,
                "mcast_stats_enabled",
                "mcast_stats_enabled",
                Uint(*v as u64),
            ),
            B::MulticastIgmpVersion(v) => (
                40,
                "mcast_igmp_version",
                "mcast_igmp_version",
                Uint(*v as u64),
            ),
            B::MulticastMldVersion(v) => (
                41,
                "mcast_mld_version",
                "mcast_mld_version",
                Uint(*v as u64),
            ),
            B::NfCallIpTables(v) => (42, "nf_call_iptables", "nf_call_iptables", Uint(*v as u64)),
            B::NfCallIp6Tables(v) => (
                43,
                "nf_call_ip6tables",
                "nf_call_ip6tables",
                Uint(*v as u64),
            ),
            B::NfCallArpTables(v) => (
                44,
                "nf_call_arptables",
                "nf_call_arptables",
                Uint(*v as u64),
            ),
            _ => continue,
        };
        f.push((rank, key, word, v));
    }
    emit(k, f);
}

/// _bitmask2str over the group forward mask: named bits, other bits as hex, `0x0` when empty.
fn fwd_mask_names(mask: u16) -> String {
    let mut parts = Vec::new();
    for bit in 0..16 {
        if mask & (1 << bit) != 0 {
            parts.push(match bit {
                0 => "stp".to_string(),
                2 => "lacp".to_string(),
                14 => "lldp".to_string(),
                _ => format!("{:#x}", 1u32 << bit),
            });
        }
    }
    if parts.is_empty() {
        "0x0".into()
    } else {
        parts.join(",")
    }
}

fn bridge_port(k: &mut Printed, attrs: &[InfoBridgePort]) {
    use Field::*;
    use InfoBridgePort as P;
    let mut f = Vec::new();
    for a in attrs {
        let (rank, key, word, v) = match a {
            P::State(s) => {
                let n = u8::from(*s);
                if let BridgePortState::Other(_) = s {
                    k.json.insert("state_index".into(), json!(n));
                    f.push((0, "state_index", "", Text(format!("state ({n}) "))));
                    continue;
                }
                let name = [
                    "disabled",
                    "listening",
                    "learning",
                    "forwarding",
                    "blocking",
                ];
                (0, "state", "state", Str(name[n as usize].into()))
            }
            P::Priority(v) => (1, "priority", "priority", Uint(*v as u64)),
            P::Cost(v) => (2, "cost", "cost", Uint(*v as u64)),
            P::HairpinMode(v) => (3, "hairpin", "hairpin", OnOff(*v)),
            P::Guard(v) => (4, "guard", "guard", OnOff(*v)),
            P::Protect(v) => (5, "root_block", "root_block", OnOff(*v)),
            P::FastLeave(v) => {
                let w = if *v { "on" } else { "off" };
                f.push((23, "", "", Text(format!("mcast_fast_leave {w} "))));
                (6, "fastleave", "fastleave", OnOff(*v))
            }
            P::Learning(v) => (7, "learning", "learning", OnOff(*v)),
            P::UnicastFlood(v) => (8, "flood", "flood", OnOff(*v)),
            P::PortId(v) => (9, "id", "port_id", Hex(*v as u64)),
            P::PortNumber(v) => (10, "no", "port_no", Hex(*v as u64)),
            P::DesignatedPort(v) => (11, "designated_port", "designated_port", Uint(*v as u64)),
            P::DesignatedCost(v) => (12, "designated_cost", "designated_cost", Uint(*v as u64)),
            P::BridgeId(id) => (13, "bridge_id", "designated_bridge", Str(bridge_id(id))),
            P::RootId(id) => (14, "root_id", "designated_root", Str(bridge_id(id))),
            P::HoldTimer(v) => (15, "hold_timer", "", Timer(*v)),
            P::MessageAgeTimer(v) => (16, "message_age_timer", "", Timer(*v)),
            P::ForwardDelayTimer(v) => (17, "forward_delay_timer", "", Timer(*v)),
            P::TopologyChangeAck(v) => (
                18,
                "topology_change_ack",
                "topology_change_ack",
                Uint(*v as u64),
            ),
            P::ConfigPending(v) => (19, "config_pending", "config_pending", Uint(*v as u64)),
            P::ProxyARP(v) => (20, "proxy_arp", "proxy_arp", OnOff(*v)),
            P::ProxyARPWifi(v) => (21, "proxy_arp_wifi", "proxy_arp_wifi", OnOff(*v)),
            P::MulticastRouter(v) => (
                22,
                "multicast_router",
                "mcast_router",
                Uint(u8::from(*v) as u64),
            ),
            P::MulticastFlood(v) => (24, "mcast_flood", "mcast_flood", OnOff(*v)),
            P::BroadcastFlood(v) => (25, "bcast_flood", "bcast_flood", OnOff(*v)),
            P::MulticastToUnicast(v) => (26, "mcast_to_unicast", "mcast_to_unicast", OnOff(*v)),
            P::NeighSupress(v) => (27, "neigh_suppress", "neigh_suppress", OnOff(*v)),
            P::GroupFwdMask(m) => {
                f.push((
                    29,
                    "group_fwd_mask_str",
                    "group_fwd_mask_str",
                    Str(fwd_mask_names(*m)),
                ));
                (28, "group_fwd_mask", "group_fwd_mask", Hex(*m as u64))
            }
            P::VlanTunnel(v) => (30, "vlan_tunnel", "vlan_tunnel", OnOff(*v)),
            P::Isolated(v) => (31, "isolated", "isolated", OnOff(*v)),
            P::Locked(v) => (32, "locked", "locked", OnOff(*v)),
            _ => continue,
        };
        f.push((rank, key, word, v));
    }
    emit(k, f);
}

fn vxlan(k: &mut Printed, attrs: &[InfoVxlan], names: &Names) {
    use InfoVxlan as V;
    let get = |f: &dyn Fn(&V) -> bool| attrs.iter().find(|a| f(a));
    let on = |f: &dyn Fn(&V) -> Option<bool>| attrs.iter().find_map(f).unwrap_or(false);
    if on(&|a| match a {
        V::CollectMetadata(v) => Some(*v),
        _ => None,
    }) {
        k.flag("external", "external");
    }
    if on(&|a| match a {
        V::Vnifilter(v) => Some(*v),
        _ => None,
    }) {
        // iproute2 prints this one without a trailing space.
        k.both("vnifilter", format_args!("vnifilter"), json!(true));
    }
    for a in attrs {
        if let V::Id(id) = a {
            k.uint("id", "id", *id as u64);
        }
    }
    if let Some(V::Group(g)) = get(&|a| matches!(a, V::Group(_))) {
        if !g.is_unspecified() {
            let key = if g.is_multicast() { "group" } else { "remote" };
            k.string(key, key, &g.to_string());
        }
    } else if let Some(V::Group6(g)) = get(&|a| matches!(a, V::Group6(_)))
        && !g.is_unspecified()
    {
        let (key, word) = if g.is_multicast() {
            ("group6", "group")
        } else {
            ("remote6", "remote")
        };
        k.string(key, word, &g.to_string());
    }
    if let Some(V::Local(l)) = get(&|a| matches!(a, V::Local(_))) {
        if !l.is_unspecified() {
            k.string("local", "local", &l.to_string());
        }
    } else if let Some(V::Local6(l)) = get(&|a| matches!(a, V::Local6(_)))
        && !l.is_unspecified()
    {
        k.string("local6", "local", &l.to_string());
    }
    for a in attrs {
        if let V::Link(i) = a
            && *i != 0
        {
            k.string("link", "dev", &names.name(*i));
        }
    }
    for a in attrs {
        if let V::PortRange((lo, hi)) = a {
            k.both(
                "port_range",
                format_args!("srcport {lo} {hi} "),
                json!({"low": lo, "high": hi}),
            );
        }
    }
    for a in attrs {
        if let V::Port(p) = a {
            k.uint("port", "dstport", *p as u64);
        }
    }
    for a in attrs {
        if let V::Learning(l) = a {
            k.json.insert("learning".into(), json!(l));
            if !l {
                k.text.push_str("nolearning ");
            }
        }
    }
    for (key, word) in ["proxy", "rsc", "l2miss", "l3miss"].map(|w| (w, w)) {
        let set = attrs.iter().any(|a| match a {
            V::Proxy(v) => *v && key == "proxy",
            V::Rsc(v) => *v && key == "rsc",
            V::L2Miss(v) => *v && key == "l2miss",
            V::L3Miss(v) => *v && key == "l3miss",
            _ => false,
        });
        if set {
            k.flag(key, word);
        }
    }
    let tos = attrs
        .iter()
        .find_map(|a| match a {
            V::Tos(t) => Some(*t),
            _ => None,
        })
        .unwrap_or(0);
    if tos == 1 {
        k.text.push_str("tos inherit ");
        k.json.insert("tos".into(), json!("0x1"));
    } else if tos != 0 {
        k.hex("tos", "tos", tos as u64);
    }
    let ttl_inherit = attrs
        .iter()
        .any(|a| matches!(a, V::TtlInherit(t) if *t != 0));
    if ttl_inherit {
        k.text.push_str("ttl inherit ");
    } else if let Some(ttl) = attrs.iter().find_map(|a| match a {
        V::Ttl(t) => Some(*t),
        _ => None,
    }) {
        k.json.insert("ttl".into(), json!(ttl));
        if ttl == 0 {
            k.text.push_str("ttl auto ");
        } else {
            let _ = write!(k.text, "ttl {ttl} ");
        }
    }
    for a in attrs {
        if let V::Df(df) = a {
            match df {
                VxlanDf::Unset => {
                    k.json.insert("df".into(), json!("unset"));
                }
                VxlanDf::Set => k.string("df", "df", "set"),
                VxlanDf::Inherit => k.string("df", "df", "inherit"),
                _ => {}
            }
        }
    }
    for a in attrs {
        if let V::Label(l) = a
            && *l != 0
        {
            k.hex("label", "flowlabel", u32::from_be(*l) as u64);
        }
    }
    for a in attrs {
        if let V::Ageing(age) = a {
            if *age == 0 {
                k.both("ageing", format_args!("ageing none "), json!(0));
            } else {
                k.uint("ageing", "ageing", *age as u64);
            }
        }
    }
    for a in attrs {
        if let V::Limit(l) = a
            && *l != 0
        {
            k.uint("limit", "maxaddr", *l as u64);
        }
    }
    for (key, word) in [
        ("udp_csum", "udpcsum"),
        ("udp_zero_csum6_tx", "udp6zerocsumtx"),
        ("udp_zero_csum6_rx", "udp6zerocsumrx"),
    ] {
        let v = attrs.iter().find_map(|a| match (a, key) {
            (V::UDPCsum(v), "udp_csum") => Some(*v),
            (V::UDPZeroCsumTX(v), "udp_zero_csum6_tx") => Some(*v),
            (V::UDPZeroCsumRX(v), "udp_zero_csum6_rx") => Some(*v),
            _ => None,
        });
        if let Some(v) = v {
            let no = if v { "" } else { "no" };
            k.both(key, format_args!("{no}{word} "), json!(v));
        }
    }
    if attrs.iter().any(|a| matches!(a, V::RemCsumTX(true))) {
        k.flag("remcsum_tx", "remcsumtx");
    }
    if attrs.iter().any(|a| matches!(a, V::RemCsumRX(true))) {
        k.flag("remcsum_rx", "remcsumrx");
    }
    if attrs.iter().any(|a| matches!(a, V::Gbp)) {
        k.flag("gbp", "gbp");
    }
    if attrs.iter().any(|a| matches!(a, V::Gpe)) {
        k.flag("gpe", "gpe");
    }
}

fn macvlan(k: &mut Printed, attrs: &[InfoMacVlan]) {
    use InfoMacVlan as M;
    let Some(mode) = attrs.iter().find_map(|a| match a {
        M::Mode(m) => Some(*m),
        _ => None,
    }) else {
        return;
    };
    let name = match mode {
        MacVlanMode::Private => "private",
        MacVlanMode::Vepa => "vepa",
        MacVlanMode::Bridge => "bridge",
        MacVlanMode::Passthrough => "passthru",
        MacVlanMode::Source => "source",
        _ => "unknown",
    };
    k.string("mode", "mode", name);
    let flags = attrs
        .iter()
        .find_map(|a| match a {
            M::Flags(f) => Some(f.bits()),
            _ => None,
        })
        .unwrap_or(0);
    if flags & 1 != 0 {
        k.flag("nopromisc", "nopromisc");
    }
    if flags & 2 != 0 {
        k.flag("nodst", "nodst");
    }
    for a in attrs {
        if let M::BcQueueLen(n) = a {
            k.uint("bcqueuelen", "bcqueuelen", *n as u64);
        }
    }
    for a in attrs {
        if let M::BcQueueLenUsed(n) = a {
            k.uint("usedbcqueuelen", "usedbcqueuelen", *n as u64);
        }
    }
    if !matches!(mode, MacVlanMode::Source) {
        return;
    }
    let Some(count) = attrs.iter().find_map(|a| match a {
        M::MacAddrCount(n) => Some(*n),
        _ => None,
    }) else {
        return;
    };
    k.both(
        "macaddr_count",
        format_args!("remotes ({}) ", count as i32),
        json!(count as i32),
    );
    for a in attrs {
        if let M::MacAddrData(list) = a {
            let mut macs = Vec::new();
            for m in list {
                if let M::MacAddr(addr) = m {
                    let s = mac(addr);
                    let _ = write!(k.text, "{s} ");
                    macs.push(Value::from(s));
                }
            }
            k.json.insert("macaddr_data".into(), Value::Array(macs));
        }
    }
}

fn vlan(k: &mut Printed, attrs: &[InfoVlan]) {
    use InfoVlan as L;
    let Some(id) = attrs.iter().find_map(|a| match a {
        L::Id(i) => Some(*i),
        _ => None,
    }) else {
        return;
    };
    let protocol = attrs
        .iter()
        .find_map(|a| match a {
            L::Protocol(p) => Some(vlan_protocol(u16::from(*p))),
            _ => None,
        })
        .unwrap_or_else(|| "802.1q".into());
    k.string("protocol", "protocol", &protocol);
    k.uint("id", "id", id as u64);
    for a in attrs {
        if let L::Flags((flags, _mask)) = a {
            let mut bits = flags.bits();
            let mut words: Vec<String> = Vec::new();
            for (bit, name) in [
                (0x1, "REORDER_HDR"),
                (0x2, "GVRP"),
                (0x8, "MVRP"),
                (0x4, "LOOSE_BINDING"),
                (0x10, "BRIDGE_BINDING"),
            ] {
                if bits & bit != 0 {
                    bits &= !bit;
                    words.push(name.into());
                }
            }
            if bits != 0 {
                words.push(format!("{bits:x}"));
            }
            k.both(
                "flags",
                format_args!("<{}> ", words.join(",")),
                json!(words),
            );
        }
    }
    for (key, word, ingress) in [
        ("ingress_qos", "ingress-qos-map", true),
        ("egress_qos", "egress-qos-map", false),
    ] {
        for a in attrs {
            let maps = match (a, ingress) {
                (L::IngressQos(m), true) | (L::EgressQos(m), false) => m,
                _ => continue,
            };
            let _ = write!(k.text, "\n      {word} {{ ");
            let mut list = Vec::new();
            for m in maps {
                if let VlanQosMapping::Mapping(from, to) = m {
                    let _ = write!(k.text, "{from}:{to} ");
                    list.push(json!({"from": from, "to": to}));
                }
            }
            k.text.push_str("} ");
            k.json.insert(key.into(), Value::Array(list));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netlink_packet_route::link::{VlanFlags, VlanProtocol};

    #[test]
    fn bridge_ids_and_timers_as_iproute2() {
        let id = BridgeId {
            priority: 0x8000,
            address: [0xc2, 0x56, 0x2f, 0x0e, 0x73, 0xcd],
        };
        assert_eq!(bridge_id(&id), "8000.c2:56:2f:e:73:cd");
        let mut k = Printed::default();
        k.timer("hello_timer", 1234);
        k.hex("group_fwd_mask", "group_fwd_mask", 0);
        k.hex("id", "port_id", 0x8001);
        assert_eq!(
            k.text,
            "hello_timer   12.34 group_fwd_mask 0 port_id 0x8001 "
        );
        assert_eq!(k.json["hello_timer"], json!(12.34));
        assert_eq!(k.json["group_fwd_mask"], json!("0"));
        assert_eq!(fwd_mask_names(0), "0x0");
        assert_eq!(fwd_mask_names(0b101 | 1 << 3), "stp,lacp,0x8");
    }

    #[test]
    fn vlan_as_iproute2() {
        // No kernel here has the 8021q module, so the vlan printer is checked on a message.
        let attrs = vec![
            InfoVlan::Protocol(VlanProtocol::Ieee8021Q),
            InfoVlan::Id(100),
            InfoVlan::Flags((VlanFlags::ReorderHdr, VlanFlags::all())),
            InfoVlan::EgressQos(vec![VlanQosMapping::Mapping(1, 5)]),
        ];
        let mut k = Printed::default();
        vlan(&mut k, &attrs);
        assert_eq!(
            k.text,
            "protocol 802.1Q id 100 <REORDER_HDR> \n      egress-qos-map { 1:5 } "
        );
        assert_eq!(
            serde_json::to_string(&k.json).unwrap(),
            r#"{"protocol":"802.1Q","id":100,"flags":["REORDER_HDR"],"egress_qos":[{"from":1,"to":5}]}"#
        );
    }
}
