//! The agent's memory: the peers it knows and its last word on each, the round counter, the
//! DNS and target checks, and counters for /metrics. Bounded: one record per known peer (a peer
//! that leaves the list is forgotten) with a fixed-size histogram, whatever the run's length.

use super::model::{Check, Checks, Health, Link, Named, View};
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// Upper bounds of the round-trip histogram, in seconds.
pub const BUCKETS: [f64; 10] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
];

#[derive(Debug, Clone, Default)]
pub struct Histogram {
    /// Observations at or below each bound (not cumulative; /metrics sums them).
    pub counts: [u64; BUCKETS.len()],
    pub sum: f64,
    pub count: u64,
}

impl Histogram {
    pub fn observe(&mut self, seconds: f64) {
        if let Some(i) = BUCKETS.iter().position(|b| seconds <= *b) {
            self.counts[i] += 1;
        }
        self.sum += seconds;
        self.count += 1;
    }
}

/// What one probe of a peer found: the checks, and who answered /healthz.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub checks: Checks,
    pub health: Option<Health>,
}

#[derive(Debug, Clone)]
pub struct Peer {
    pub node: Option<String>,
    pub zone: Option<String>,
    pub checks: Checks,
    pub last: Option<Instant>,
    pub probes: u64,
    pub failures: u64,
    pub failing_for: u64,
    /// TCP connect times (always measured; ICMP may not be allowed).
    pub rtt: Histogram,
}

pub struct State {
    pub me: Health,
    pub interval: Duration,
    pub sample: usize,
    pub round: u64,
    pub peers: BTreeMap<IpAddr, Peer>,
    /// Known peers not yet probed since they became known (coverage).
    unprobed: BTreeSet<IpAddr>,
    pub covered_at_round: Option<u64>,
    pub dns: Option<Named>,
    pub targets: Vec<Named>,
    /// (check, passed) → probes.
    pub probes_total: BTreeMap<(&'static str, bool), u64>,
    /// TCP connect times to every peer together (the per-peer ones stop at some size).
    pub all_rtt: Histogram,
}

impl State {
    pub fn new(me: Health, interval: Duration, sample: usize) -> State {
        State {
            me,
            interval,
            sample,
            round: 0,
            peers: BTreeMap::new(),
            unprobed: BTreeSet::new(),
            covered_at_round: None,
            dns: None,
            targets: Vec::new(),
            probes_total: BTreeMap::new(),
            all_rtt: Histogram::default(),
        }
    }

    /// The peers known now (with their node and zone when the list names them); records of
    /// peers that left are dropped.
    pub fn set_known(&mut self, found: &[super::agent::Found]) {
        let known: BTreeSet<IpAddr> = found
            .iter()
            .map(|f| f.address)
            .filter(|a| *a != self.me.address)
            .collect();
        self.peers.retain(|a, _| known.contains(a));
        self.unprobed.retain(|a| known.contains(a));
        for a in &known {
            if !self.peers.contains_key(a) {
                self.peers.insert(
                    *a,
                    Peer {
                        node: None,
                        zone: None,
                        checks: Checks::default(),
                        last: None,
                        probes: 0,
                        failures: 0,
                        failing_for: 0,
                        rtt: Histogram::default(),
                    },
                );
                self.unprobed.insert(*a);
            }
        }
        for f in found {
            if let Some(p) = self.peers.get_mut(&f.address) {
                p.node = p.node.take().or_else(|| f.node.clone());
                p.zone = p.zone.take().or_else(|| f.zone.clone());
            }
        }
    }

    pub fn record(&mut self, addr: IpAddr, outcome: Outcome, now: Instant) {
        let Some(p) = self.peers.get_mut(&addr) else {
            return;
        };
        for name in super::model::CHECKS {
            if let Some(c) = outcome.checks.get(name) {
                *self.probes_total.entry((name, c.ok)).or_default() += 1;
            }
        }
        if let Some(ms) = outcome.checks.tcp.as_ref().and_then(|c| c.ms) {
            p.rtt.observe(ms / 1000.0);
            self.all_rtt.observe(ms / 1000.0);
        }
        if let Some(h) = outcome.health {
            // Names come from the peer: kept short so a hostile one cannot grow the state.
            p.node = Some(h.node.chars().take(253).collect());
            p.zone = h.zone.map(|z| z.chars().take(63).collect());
        }
        p.probes += 1;
        if outcome.checks.reason() == "ok" {
            p.failing_for = 0;
        } else {
            p.failures += 1;
            p.failing_for += 1;
        }
        p.checks = outcome.checks;
        p.last = Some(now);
        self.unprobed.remove(&addr);
    }

    /// A round ended: count it, and note when every known peer had been probed.
    pub fn end_round(&mut self) {
        self.round += 1;
        if self.covered_at_round.is_none() && self.unprobed.is_empty() && !self.peers.is_empty() {
            self.covered_at_round = Some(self.round);
        }
    }

    pub fn view(&self, now: Instant) -> View {
        View {
            node: self.me.node.clone(),
            address: self.me.address,
            zone: self.me.zone.clone(),
            round: self.round,
            interval_s: self.interval.as_secs_f64(),
            sample: self.sample,
            peers: self.peers.len(),
            covered_at_round: self.covered_at_round,
            dns: self.dns.clone(),
            targets: self.targets.clone(),
            links: self.peers.iter().map(|(a, p)| link(*a, p, now)).collect(),
        }
    }
}

fn link(to: IpAddr, p: &Peer, now: Instant) -> Link {
    Link {
        to,
        node: p.node.clone(),
        zone: p.zone.clone(),
        reason: if p.probes == 0 {
            "unprobed".into()
        } else {
            p.checks.reason().into()
        },
        checks: p.checks.clone(),
        age_s: p
            .last
            .map(|t| (now.saturating_duration_since(t).as_secs_f64() * 10.0).round() / 10.0)
            .unwrap_or(0.0),
        probes: p.probes,
        failures: p.failures,
        failing_for: p.failing_for,
    }
}

/// A check's result from a time or an error text.
pub fn check_of(result: Result<f64, String>) -> Check {
    match result {
        Ok(ms) => Check::pass(ms),
        Err(e) => Check::fail(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn me() -> Health {
        Health {
            node: "node1".into(),
            address: "10.1.0.1".parse().unwrap(),
            zone: None,
        }
    }

    fn found(l: &[IpAddr]) -> Vec<crate::applets::mesh::agent::Found> {
        l.iter()
            .map(|a| crate::applets::mesh::agent::Found {
                address: *a,
                node: None,
                zone: None,
            })
            .collect()
    }

    #[test]
    fn peers_come_and_go_and_coverage_is_noted() {
        let a: IpAddr = "10.1.0.2".parse().unwrap();
        let b: IpAddr = "10.1.0.3".parse().unwrap();
        let mut s = State::new(me(), Duration::from_secs(1), 1);
        s.set_known(&found(&[a, b, me().address]));
        assert_eq!(s.peers.keys().copied().collect::<Vec<_>>(), vec![a, b]);
        let pass = Outcome {
            checks: Checks {
                tcp: Some(Check::pass(0.3)),
                ..Default::default()
            },
            health: Some(Health {
                node: "node2".into(),
                address: a,
                zone: Some("z".into()),
            }),
        };
        s.record(a, pass.clone(), Instant::now());
        s.end_round();
        assert_eq!(s.covered_at_round, None);
        let fail = Outcome {
            checks: Checks {
                tcp: Some(Check::fail("connection timed out")),
                ..Default::default()
            },
            health: None,
        };
        s.record(b, fail.clone(), Instant::now());
        s.record(b, fail, Instant::now());
        s.end_round();
        assert_eq!(s.covered_at_round, Some(2));
        let v = s.view(Instant::now());
        assert_eq!(v.links[0].node.as_deref(), Some("node2"));
        assert_eq!(v.links[0].reason, "ok");
        assert_eq!(
            (v.links[1].reason.as_str(), v.links[1].failing_for),
            ("timeout", 2)
        );
        assert_eq!(s.peers[&a].rtt.count, 1);
        s.set_known(&found(&[a]));
        assert_eq!(s.peers.keys().copied().collect::<Vec<_>>(), vec![a]);
    }
}
