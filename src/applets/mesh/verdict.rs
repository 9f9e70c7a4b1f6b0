//! From the merged view to a verdict: the bad links, and what they have in common — one node
//! (down, or only its inbound or outbound traffic), one link, one zone or subnet, the MTU of one
//! node, one node's DNS or the cluster's. Pure: the merged view in, findings out.

use super::model::{Link, Merged, Named};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

/// One bad link, as status and the page list it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct BadLink {
    pub from: String,
    pub from_address: IpAddr,
    pub to: String,
    pub to_address: IpAddr,
    pub reason: String,
    pub evidence: String,
    pub failing_for: u64,
}

impl BadLink {
    pub fn text(&self) -> String {
        format!(
            "{} -> {} {}: {} ({}), {} probe{} in a row",
            self.from,
            self.to,
            self.to_address,
            self.reason,
            self.evidence,
            self.failing_for,
            if self.failing_for == 1 { "" } else { "s" }
        )
    }
}

/// What the bad links have in common.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Finding {
    /// node, into-node, out-of-node, link, zone, subnet, mtu, dns, cluster-dns, target, view,
    /// links.
    pub factor: &'static str,
    /// The node, pair, zone or name it is about.
    pub subject: String,
    pub message: String,
    pub evidence: Vec<String>,
}

/// The whole judgement on a merged view.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Verdict {
    pub nodes: usize,
    pub views: usize,
    pub links_checked: usize,
    pub bad: Vec<BadLink>,
    pub findings: Vec<Finding>,
}

impl Verdict {
    pub fn healthy(&self) -> bool {
        self.bad.is_empty() && self.findings.is_empty()
    }
}

/// Every node the merged view knows: address, name and zone, ordered by name.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub address: IpAddr,
    pub name: String,
    pub zone: Option<String>,
}

pub fn nodes(m: &Merged) -> Vec<Node> {
    let mut by_addr: BTreeMap<IpAddr, Node> = BTreeMap::new();
    for v in &m.views {
        by_addr.insert(
            v.address,
            Node {
                address: v.address,
                name: v.node.clone(),
                zone: v.zone.clone(),
            },
        );
    }
    let links = m.views.iter().flat_map(|v| v.links.iter());
    for l in links {
        by_addr.entry(l.to).or_insert_with(|| Node {
            address: l.to,
            name: l.node.clone().unwrap_or_else(|| l.to.to_string()),
            zone: l.zone.clone(),
        });
    }
    for miss in &m.missing {
        by_addr.entry(miss.address).or_insert_with(|| Node {
            address: miss.address,
            name: miss.address.to_string(),
            zone: None,
        });
    }
    let mut out: Vec<Node> = by_addr.into_values().collect();
    out.sort_by_key(|n| natural(&n.name));
    out
}

/// A name's sort key with digit runs compared as numbers: node2 before node10.
fn natural(s: &str) -> Vec<(u8, u64, String)> {
    let mut out = Vec::new();
    let mut digits = String::new();
    let mut text = String::new();
    for c in s.chars() {
        if c.is_ascii_digit() {
            if !text.is_empty() {
                out.push((1, 0, std::mem::take(&mut text)));
            }
            digits.push(c);
        } else {
            if !digits.is_empty() {
                out.push((
                    0,
                    digits.parse().unwrap_or(u64::MAX),
                    std::mem::take(&mut digits),
                ));
            }
            text.push(c);
        }
    }
    if !digits.is_empty() {
        out.push((0, digits.parse().unwrap_or(u64::MAX), digits));
    }
    if !text.is_empty() {
        out.push((1, 0, text));
    }
    out
}

struct Edge<'a> {
    from: IpAddr,
    to: IpAddr,
    link: &'a Link,
}

pub fn judge(m: &Merged) -> Verdict {
    let all = nodes(m);
    let name = |a: IpAddr| -> String {
        all.iter()
            .find(|n| n.address == a)
            .map(|n| n.name.clone())
            .unwrap_or_else(|| a.to_string())
    };
    let edges: Vec<Edge> = m
        .views
        .iter()
        .flat_map(|v| {
            v.links.iter().filter(|l| l.probes > 0).map(move |l| Edge {
                from: v.address,
                to: l.to,
                link: l,
            })
        })
        .collect();
    let bad_links: Vec<BadLink> = edges
        .iter()
        .filter(|e| !e.link.ok())
        .map(|e| BadLink {
            from: name(e.from),
            from_address: e.from,
            to: name(e.to),
            to_address: e.to,
            reason: e.link.reason.clone(),
            evidence: e.link.checks.words(),
            failing_for: e.link.failing_for,
        })
        .collect();
    let mut findings = Vec::new();
    findings.extend(dns(m, &name));
    findings.extend(targets(m, &name));
    let (mtu, other): (Vec<&Edge>, Vec<&Edge>) = edges
        .iter()
        .filter(|e| !e.link.ok())
        .partition(|e| e.link.reason == "mtu");
    let missing: BTreeSet<IpAddr> = m.missing.iter().map(|x| x.address).collect();
    if !mtu.is_empty() {
        findings.push(mtu_finding(&mtu, &edges, &all, &name));
    }
    findings.extend(link_findings(other, &edges, &missing, &all, &name));
    for miss in &m.missing {
        let covered = findings.iter().any(|f| f.subject == name(miss.address));
        if !covered {
            findings.push(Finding {
                factor: "view",
                subject: name(miss.address),
                message: format!(
                    "{}'s view could not be fetched ({}), though the probes of it pass",
                    name(miss.address),
                    miss.error
                ),
                evidence: vec![],
            });
        }
    }
    Verdict {
        nodes: all.len(),
        views: m.views.len(),
        links_checked: edges.len(),
        bad: bad_links,
        findings,
    }
}

fn evidence_of(bad: &[&Edge], name: &dyn Fn(IpAddr) -> String) -> Vec<String> {
    let mut out: Vec<String> = bad
        .iter()
        .take(5)
        .map(|e| {
            format!(
                "{} -> {}: {} ({})",
                name(e.from),
                name(e.to),
                e.link.reason,
                e.link.checks.words()
            )
        })
        .collect();
    if bad.len() > 5 {
        out.push(format!("and {} more", bad.len() - 5));
    }
    out
}

fn dns(m: &Merged, name: &dyn Fn(IpAddr) -> String) -> Option<Finding> {
    let checked: Vec<(IpAddr, &Named)> = m
        .views
        .iter()
        .filter_map(|v| v.dns.as_ref().map(|d| (v.address, d)))
        .collect();
    let failing: Vec<&(IpAddr, &Named)> = checked.iter().filter(|(_, d)| !d.check.ok).collect();
    let first = failing.first()?;
    let evidence: Vec<String> = failing
        .iter()
        .take(5)
        .map(|(a, d)| {
            format!(
                "{}: {} {}",
                name(*a),
                d.name,
                d.check.error.as_deref().unwrap_or("failed")
            )
        })
        .collect();
    if failing.len() == checked.len() && checked.len() > 1 {
        return Some(Finding {
            factor: "cluster-dns",
            subject: first.1.name.clone(),
            message: format!(
                "every node's lookup of {} fails: the cluster DNS, or the way to it from every node",
                first.1.name
            ),
            evidence,
        });
    }
    let who: Vec<String> = failing.iter().map(|(a, _)| name(*a)).collect();
    Some(Finding {
        factor: "dns",
        subject: who.join(", "),
        message: format!(
            "DNS on {} {}: the lookup of {} fails there while {} other node{} resolve it (its resolv.conf, or the way from it to the DNS server)",
            if who.len() == 1 { "node" } else { "nodes" },
            who.join(", "),
            first.1.name,
            checked.len() - failing.len(),
            if checked.len() - failing.len() == 1 {
                ""
            } else {
                "s"
            }
        ),
        evidence,
    })
}

fn targets(m: &Merged, name: &dyn Fn(IpAddr) -> String) -> Vec<Finding> {
    // Per target: how many nodes checked it, and the failing ones.
    type Failing<'a> = Vec<(IpAddr, &'a Named)>;
    let mut by_target: BTreeMap<&str, (usize, Failing)> = BTreeMap::new();
    for v in &m.views {
        for t in &v.targets {
            let e = by_target.entry(t.name.as_str()).or_default();
            e.0 += 1;
            if !t.check.ok {
                e.1.push((v.address, t));
            }
        }
    }
    by_target
        .into_iter()
        .filter(|(_, (_, failing))| !failing.is_empty())
        .map(|(target, (total, failing))| {
            let who: Vec<String> = failing.iter().map(|(a, _)| name(*a)).collect();
            Finding {
                factor: "target",
                subject: target.to_string(),
                message: if failing.len() == total {
                    format!("{target} fails from every node ({total})")
                } else {
                    format!(
                        "{target} fails from {} of {total} nodes: {}",
                        failing.len(),
                        who.join(", ")
                    )
                },
                evidence: failing
                    .iter()
                    .take(5)
                    .map(|(a, t)| {
                        format!(
                            "{}: {}",
                            name(*a),
                            t.check.error.as_deref().unwrap_or("failed")
                        )
                    })
                    .collect(),
            }
        })
        .collect()
}

/// The node every bad edge touches, if one does.
fn common_node(bad: &[&Edge]) -> Option<IpAddr> {
    let first = bad.first()?;
    [first.from, first.to]
        .into_iter()
        .find(|x| bad.iter().all(|e| e.from == *x || e.to == *x))
}

fn mtu_finding(
    bad: &[&Edge],
    edges: &[Edge],
    all: &[Node],
    name: &dyn Fn(IpAddr) -> String,
) -> Finding {
    let evidence = evidence_of(bad, name);
    if let Some(x) = common_node(bad).filter(|_| bad.len() > 1) {
        let touching = edges
            .iter()
            .filter(|e| (e.from == x || e.to == x) && e.link.checks.mtu.is_some())
            .count();
        return Finding {
            factor: "mtu",
            subject: name(x),
            message: format!(
                "MTU on node {}: full-size packets with don't-fragment to or from it vanish ({} of {} links checked) while small ones pass, and no \"fragmentation needed\" comes back: its interface's or its path's MTU is lower than the others'",
                name(x),
                bad.len(),
                touching
            ),
            evidence,
        };
    }
    let group = group_factor(bad, all);
    Finding {
        factor: "mtu",
        subject: group
            .clone()
            .unwrap_or_else(|| format!("{} links", bad.len())),
        message: match group {
            Some(g) => format!(
                "MTU between {g} and the rest: full-size packets vanish on {} links crossing it",
                bad.len()
            ),
            None => format!(
                "full-size packets vanish on {} links with no single node in common",
                bad.len()
            ),
        },
        evidence,
    }
}

/// One node's probes: into it and out of it, all and failed.
#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    in_total: usize,
    in_bad: usize,
    out_total: usize,
    out_bad: usize,
}

fn link_findings(
    mut bad: Vec<&Edge>,
    edges: &[Edge],
    missing: &BTreeSet<IpAddr>,
    all: &[Node],
    name: &dyn Fn(IpAddr) -> String,
) -> Vec<Finding> {
    // Every node's probes in and out, all and failed: counted once (the edges do not change
    // while the bad ones are explained away).
    let mut tally: BTreeMap<IpAddr, Tally> = BTreeMap::new();
    for e in edges {
        let failed = usize::from(!e.link.ok());
        let t = tally.entry(e.to).or_default();
        t.in_total += 1;
        t.in_bad += failed;
        let t = tally.entry(e.from).or_default();
        t.out_total += 1;
        t.out_bad += failed;
    }
    let of = |x: IpAddr| tally.get(&x).copied().unwrap_or_default();
    let mut out = Vec::new();
    while !bad.is_empty() {
        if let Some(f) = pair_finding(&bad, missing, name) {
            out.push(f);
            break;
        }
        // The node that best explains what is left: one every bad edge touches, then one that
        // every probe into it failed, then one whose view is missing, then the most touched.
        let mut touches: BTreeMap<IpAddr, usize> = BTreeMap::new();
        for e in &bad {
            *touches.entry(e.from).or_default() += 1;
            *touches.entry(e.to).or_default() += 1;
        }
        let rank = |x: IpAddr, n: usize| {
            let t = of(x);
            (
                bad.iter().all(|e| e.from == x || e.to == x),
                t.in_total > 0 && t.in_bad == t.in_total,
                missing.contains(&x),
                n,
                std::cmp::Reverse(x),
            )
        };
        let x = touches
            .iter()
            .max_by_key(|(a, n)| rank(**a, **n))
            .map(|(a, _)| *a)
            .unwrap_or(bad[0].to);
        let Tally {
            in_total,
            in_bad,
            out_total,
            out_bad,
        } = of(x);
        let explains =
            bad.iter().all(|e| e.from == x || e.to == x) || (in_total >= 2 && in_bad == in_total);
        if !explains {
            let group = group_factor(&bad, all);
            out.push(scattered(&bad, group, name));
            break;
        }
        let mine: Vec<&Edge> = bad
            .iter()
            .copied()
            .filter(|e| e.from == x || e.to == x)
            .collect();
        out.push(node_finding(
            x,
            &mine,
            (in_bad, in_total),
            (out_bad, out_total),
            missing.contains(&x),
            name,
        ));
        bad.retain(|e| e.from != x && e.to != x);
    }
    out
}

/// All bad edges between the same two nodes, both of which answer for their view: that link.
/// (Every other link of theirs passes, or was not probed yet; a node whose view is missing is
/// better explained as that node.)
fn pair_finding(
    bad: &[&Edge],
    missing: &BTreeSet<IpAddr>,
    name: &dyn Fn(IpAddr) -> String,
) -> Option<Finding> {
    let first = bad.first()?;
    let (a, b) = (first.from, first.to);
    let same = |e: &&Edge| (e.from == a && e.to == b) || (e.from == b && e.to == a);
    if !bad.iter().all(same) || missing.contains(&a) || missing.contains(&b) {
        return None;
    }
    let both = bad.iter().any(|e| e.from == b);
    Some(Finding {
        factor: "link",
        subject: format!(
            "{} {} {}",
            name(a),
            if both { "<->" } else { "->" },
            name(b)
        ),
        message: format!(
            "the link between {} and {} fails ({}) while every other link of theirs passes: a firewall or policy rule, or a route, between these two",
            name(a),
            name(b),
            if both { "both ways" } else { "one way" }
        ),
        evidence: evidence_of(bad, name),
    })
}

fn node_finding(
    x: IpAddr,
    mine: &[&Edge],
    (in_bad, in_total): (usize, usize),
    (out_bad, out_total): (usize, usize),
    view_missing: bool,
    name: &dyn Fn(IpAddr) -> String,
) -> Finding {
    let n = name(x);
    let in_all = in_total > 0 && in_bad == in_total;
    let out_all = view_missing || (out_total > 0 && out_bad == out_total);
    // Every probe into it that ran ICMP got an echo back: the node is there, its agent is not.
    let into: Vec<&&Edge> = mine.iter().filter(|e| e.to == x).collect();
    let pings = !into.is_empty()
        && into
            .iter()
            .all(|e| e.link.checks.icmp.as_ref().is_some_and(|c| c.ok));
    let (factor, message) = match (in_all, out_all) {
        (true, true) if pings => (
            "node",
            format!(
                "node {n}: it answers ICMP, but no node reaches its agent ({in_bad}/{in_total}: {}){}: the agent is down, or a firewall or policy drops its port",
                into[0].link.reason,
                if view_missing {
                    ", and its own view does not answer"
                } else {
                    ""
                }
            ),
        ),
        (true, true) => (
            "node",
            format!(
                "node {n}: every node that probed it lost it ({in_bad}/{in_total}){}: down, or its network is cut",
                if view_missing {
                    ", and its own view does not answer".to_string()
                } else {
                    format!(", and it reaches none of the {out_total} it probed")
                }
            ),
        ),
        (true, false) => (
            "into-node",
            format!(
                "traffic into node {n}: every node that probed it failed ({in_bad}/{in_total}) while it reaches the others ({} of {out_total} pass): a firewall, policy or route on the way in",
                out_total - out_bad
            ),
        ),
        (false, true) => (
            "out-of-node",
            format!(
                "traffic out of node {n}: its probes fail ({out_bad}/{out_total}) while the others reach it ({} of {in_total} pass): a firewall, policy or route on its way out",
                in_total - in_bad
            ),
        ),
        (false, false) => (
            "node",
            format!(
                "node {n}: {} of its links fail ({in_bad}/{in_total} in, {out_bad}/{out_total} out)",
                mine.len()
            ),
        ),
    };
    Finding {
        factor,
        subject: n,
        message,
        evidence: evidence_of(mine, name),
    }
}

/// A zone (when every node has one) or a subnet (/24, /64) that every bad edge enters or
/// leaves, or stays within.
fn group_factor(bad: &[&Edge], all: &[Node]) -> Option<String> {
    let zoned = all.iter().all(|n| n.zone.is_some());
    let group = |a: IpAddr| -> String {
        match (zoned, all.iter().find(|n| n.address == a)) {
            (true, Some(Node { zone: Some(z), .. })) => format!("zone {z}"),
            _ => match a {
                IpAddr::V4(v) => {
                    let o = v.octets();
                    format!("subnet {}.{}.{}.0/24", o[0], o[1], o[2])
                }
                IpAddr::V6(v) => {
                    let s = v.segments();
                    format!("subnet {:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
                }
            },
        }
    };
    let groups: BTreeSet<String> = all.iter().map(|n| group(n.address)).collect();
    if groups.len() < 2 {
        return None;
    }
    groups.into_iter().find(|g| {
        bad.iter()
            .all(|e| (group(e.from) == *g) != (group(e.to) == *g))
            || bad.iter().all(|e| group(e.from) == *g && group(e.to) == *g)
    })
}

fn scattered(bad: &[&Edge], group: Option<String>, name: &dyn Fn(IpAddr) -> String) -> Finding {
    match group {
        Some(g) => Finding {
            factor: if g.starts_with("zone") {
                "zone"
            } else {
                "subnet"
            },
            subject: g.clone(),
            message: format!(
                "{} bad links, all of them entering or leaving {g} (or all within it): the network of {g}",
                bad.len()
            ),
            evidence: evidence_of(bad, name),
        },
        None => Finding {
            factor: "links",
            subject: format!("{} links", bad.len()),
            message: format!(
                "{} bad links with no single node, zone or subnet in common",
                bad.len()
            ),
            evidence: evidence_of(bad, name),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::applets::mesh::model::{Check, Checks, Missing, View};

    fn addr(i: usize) -> IpAddr {
        // Two /24s: nodes 1-4 in 10.1.1.0/24, 5-8 in 10.1.2.0/24.
        IpAddr::from([10, 1, if i <= 4 { 1 } else { 2 }, i as u8])
    }

    fn checks(reason: &str) -> Checks {
        let fail = |e: &str| Some(Check::fail(e));
        let pass = Some(Check::pass(0.2));
        match reason {
            "ok" => Checks {
                icmp: pass.clone(),
                mtu: pass.clone(),
                tcp: pass.clone(),
                http: pass,
            },
            "mtu" => Checks {
                icmp: pass.clone(),
                mtu: fail("1500-byte packet with don't-fragment lost, 84-byte passed"),
                tcp: pass.clone(),
                http: pass,
            },
            _ => Checks {
                icmp: fail("lost"),
                mtu: None,
                tcp: fail("timed out"),
                http: None,
            },
        }
    }

    /// n nodes, every link probed; `bad(from, to)` gives a link's reason; `zones` names them.
    fn mesh(
        n: usize,
        zones: bool,
        bad: impl Fn(usize, usize) -> Option<&'static str>,
        missing: &[usize],
    ) -> Merged {
        let mut views = Vec::new();
        for i in 1..=n {
            if missing.contains(&i) {
                continue;
            }
            let links = (1..=n)
                .filter(|j| *j != i)
                .map(|j| {
                    let reason = bad(i, j).unwrap_or("ok");
                    Link {
                        to: addr(j),
                        node: Some(format!("node{j}")),
                        zone: None,
                        reason: checks(reason).reason().into(),
                        checks: checks(reason),
                        age_s: 1.0,
                        probes: 3,
                        failures: 0,
                        failing_for: u64::from(reason != "ok"),
                    }
                })
                .collect();
            views.push(View {
                node: format!("node{i}"),
                address: addr(i),
                zone: zones.then(|| if i <= 4 { "a".into() } else { "b".into() }),
                round: 10,
                interval_s: 5.0,
                sample: 10,
                peers: n - 1,
                covered_at_round: Some(1),
                dns: None,
                targets: vec![],
                links,
            });
        }
        Merged {
            from: "node1".into(),
            views,
            missing: missing
                .iter()
                .map(|i| Missing {
                    address: addr(*i),
                    error: "timed out".into(),
                })
                .collect(),
        }
    }

    fn factors(v: &Verdict) -> Vec<(&'static str, String)> {
        v.findings
            .iter()
            .map(|f| (f.factor, f.subject.clone()))
            .collect()
    }

    #[test]
    fn a_healthy_mesh_has_no_finding() {
        let v = judge(&mesh(8, false, |_, _| None, &[]));
        assert!(v.healthy());
        assert_eq!((v.nodes, v.views, v.links_checked), (8, 8, 56));
    }

    #[test]
    fn one_pair_is_a_link_one_way_or_both() {
        let both = |a, b| ((a, b) == (3, 6) || (a, b) == (6, 3)).then_some("timeout");
        let v = judge(&mesh(8, false, both, &[]));
        assert_eq!(factors(&v), vec![("link", "node3 <-> node6".into())]);
        assert_eq!(v.bad.len(), 2);
        let one = |a, b| ((a, b) == (3, 6)).then_some("timeout");
        assert_eq!(
            factors(&judge(&mesh(8, false, one, &[]))),
            vec![("link", "node3 -> node6".into())]
        );
    }

    #[test]
    fn in_a_mesh_of_two_one_failing_direction_is_the_link() {
        let v = judge(&mesh(
            2,
            false,
            |a, b| ((a, b) == (1, 2)).then_some("timeout"),
            &[],
        ));
        assert_eq!(factors(&v), vec![("link", "node1 -> node2".into())]);
    }

    #[test]
    fn a_node_that_pings_but_whose_agent_is_cut_off_is_that_node() {
        // The demo's firewall: node2 drops TCP to its agent from node1; node1 cannot fetch
        // node2's view either, so only node1's word is there.
        let cut = |a, b| ((a, b) == (1, 2)).then_some("timeout");
        let mut m = mesh(2, false, cut, &[2]);
        m.views[0].links[0].checks.icmp = Some(Check::pass(0.1));
        let v = judge(&m);
        assert_eq!(factors(&v), vec![("node", "node2".into())]);
        assert!(
            v.findings[0].message.starts_with("node node2: it answers ICMP, but no node reaches its agent (1/1: timeout), and its own view does not answer"),
            "{}",
            v.findings[0].message
        );
    }

    #[test]
    fn a_dead_node_and_one_direction_of_a_node() {
        let dead = |a, b| (a == 7 || b == 7).then_some("timeout");
        let v = judge(&mesh(8, false, dead, &[7]));
        assert_eq!(factors(&v), vec![("node", "node7".into())]);
        assert!(
            v.findings[0].message.contains(
                "every node that probed it lost it (7/7), and its own view does not answer"
            ),
            "{}",
            v.findings[0].message
        );
        let inbound = |_, b| (b == 2).then_some("timeout");
        let v = judge(&mesh(8, false, inbound, &[]));
        assert_eq!(factors(&v), vec![("into-node", "node2".into())]);
        let outbound = |a, _| (a == 5).then_some("timeout");
        assert_eq!(
            factors(&judge(&mesh(8, false, outbound, &[]))),
            vec![("out-of-node", "node5".into())]
        );
    }

    #[test]
    fn links_between_zones_or_subnets_name_the_group() {
        let across = |a: usize, b: usize| {
            ((a <= 4) != (b <= 4) && (a + b).is_multiple_of(2)).then_some("timeout")
        };
        let v = judge(&mesh(8, true, across, &[]));
        assert_eq!(factors(&v), vec![("zone", "zone a".into())]);
        let v = judge(&mesh(8, false, across, &[]));
        assert_eq!(factors(&v), vec![("subnet", "subnet 10.1.1.0/24".into())]);
    }

    #[test]
    fn mtu_on_one_node_and_dns_on_one_or_all() {
        let mtu = |a, b| (a == 4 || b == 4).then_some("mtu");
        let v = judge(&mesh(8, false, mtu, &[]));
        assert_eq!(factors(&v), vec![("mtu", "node4".into())]);
        let mut m = mesh(6, false, |_, _| None, &[]);
        for (i, view) in m.views.iter_mut().enumerate() {
            view.dns = Some(Named {
                name: "kubernetes.default.svc.cluster.local".into(),
                check: if i == 2 {
                    Check::fail("Temporary failure in name resolution")
                } else {
                    Check::pass(1.0)
                },
                addresses: vec![],
            });
        }
        assert_eq!(factors(&judge(&m)), vec![("dns", "node3".into())]);
        for view in m.views.iter_mut() {
            view.dns.as_mut().unwrap().check = Check::fail("Temporary failure in name resolution");
        }
        assert_eq!(factors(&judge(&m))[0].0, "cluster-dns");
    }

    #[test]
    fn scattered_failures_have_no_single_factor() {
        let scattered = |a, b| {
            matches!((a, b), (1, 2) | (3, 4) | (5, 6) | (7, 8) | (2, 7)).then_some("timeout")
        };
        let v = judge(&mesh(8, false, scattered, &[]));
        assert_eq!(
            v.findings.last().unwrap().factor,
            "links",
            "{:?}",
            factors(&v)
        );
    }
}
