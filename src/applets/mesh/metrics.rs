//! `/metrics` in Prometheus' text format (0.0.4): per-peer success and round-trip histogram, the
//! reason of a failing peer as a series whose `reason` comes from a fixed list, the DNS and
//! target checks, and counters. Every family has its `# HELP` and `# TYPE`; label values are
//! escaped (node names come from the peers). Series per peer are n² across a cluster: above
//! `PER_PEER_UP_TO` peers only failing peers get them, next to totals over all peers, so 5,000
//! agents expose about 25 series each rather than 85,000.

use super::model::{CHECKS, REASONS};
use super::state::{BUCKETS, State};
use std::fmt::Write;

/// A label value with `\`, `"` and newlines escaped.
fn esc(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// Up to this many known peers every peer has its own series; above, only failing ones.
pub const PER_PEER_UP_TO: usize = 100;

pub fn render(s: &State) -> String {
    let mut out = String::new();
    family(
        &mut out,
        "debugbox_mesh_peers",
        "gauge",
        "Peers this agent knows.",
    );
    let _ = writeln!(out, "debugbox_mesh_peers {}", s.peers.len());
    family(
        &mut out,
        "debugbox_mesh_rounds_total",
        "counter",
        "Probe rounds run.",
    );
    let _ = writeln!(out, "debugbox_mesh_rounds_total {}", s.round);
    family(
        &mut out,
        "debugbox_mesh_probes_total",
        "counter",
        "Checks run, by check and result.",
    );
    for ((check, ok), n) in &s.probes_total {
        let result = if *ok { "ok" } else { "fail" };
        let _ = writeln!(
            out,
            "debugbox_mesh_probes_total{{check=\"{check}\",result=\"{result}\"}} {n}"
        );
    }
    let every = s.peers.len() <= PER_PEER_UP_TO;
    let peers: Vec<_> = s
        .peers
        .iter()
        .filter(|(_, p)| p.probes > 0 && (every || p.checks.reason() != "ok"))
        .collect();
    let probed = s.peers.values().filter(|p| p.probes > 0);
    let failing = probed.clone().filter(|p| p.checks.reason() != "ok").count();
    family(
        &mut out,
        "debugbox_mesh_peers_probed",
        "gauge",
        "Known peers probed at least once.",
    );
    let _ = writeln!(out, "debugbox_mesh_peers_probed {}", probed.count());
    family(
        &mut out,
        "debugbox_mesh_peers_failing",
        "gauge",
        "Peers whose last probe failed a check.",
    );
    let _ = writeln!(out, "debugbox_mesh_peers_failing {failing}");
    family(
        &mut out,
        "debugbox_mesh_all_rtt_seconds",
        "histogram",
        "TCP connect time to any peer's agent.",
    );
    histogram(&mut out, "debugbox_mesh_all_rtt_seconds", "", &s.all_rtt);
    let labels = |a: &std::net::IpAddr, p: &super::state::Peer| {
        format!(
            "peer=\"{a}\",node=\"{}\"",
            esc(p.node.as_deref().unwrap_or(""))
        )
    };
    family(
        &mut out,
        "debugbox_mesh_peer_up",
        "gauge",
        "1 when the last probe of the peer passed every check, else 0.",
    );
    for (a, p) in &peers {
        let up = u8::from(p.checks.reason() == "ok");
        let _ = writeln!(out, "debugbox_mesh_peer_up{{{}}} {up}", labels(a, p));
    }
    family(
        &mut out,
        "debugbox_mesh_check_success",
        "gauge",
        "Last result of each check of a peer: 1 passed, 0 failed (absent when not run).",
    );
    for (a, p) in &peers {
        for check in CHECKS {
            if let Some(c) = p.checks.get(check) {
                let _ = writeln!(
                    out,
                    "debugbox_mesh_check_success{{{},check=\"{check}\"}} {}",
                    labels(a, p),
                    u8::from(c.ok)
                );
            }
        }
    }
    family(
        &mut out,
        "debugbox_mesh_peer_error",
        "gauge",
        "1 for a failing peer, labelled with the reason of its last failure (one of a fixed list).",
    );
    for (a, p) in &peers {
        let reason = p.checks.reason();
        if reason != "ok" && REASONS.contains(&reason) {
            let _ = writeln!(
                out,
                "debugbox_mesh_peer_error{{{},reason=\"{reason}\"}} 1",
                labels(a, p)
            );
        }
    }
    family(
        &mut out,
        "debugbox_mesh_peer_failing_probes",
        "gauge",
        "Probes of the peer in a row that failed, up to the last.",
    );
    for (a, p) in &peers {
        let _ = writeln!(
            out,
            "debugbox_mesh_peer_failing_probes{{{}}} {}",
            labels(a, p),
            p.failing_for
        );
    }
    family(
        &mut out,
        "debugbox_mesh_rtt_seconds",
        "histogram",
        "TCP connect time to the peer's agent.",
    );
    for (a, p) in &peers {
        histogram(&mut out, "debugbox_mesh_rtt_seconds", &labels(a, p), &p.rtt);
    }
    if let Some(d) = &s.dns {
        family(
            &mut out,
            "debugbox_mesh_dns_success",
            "gauge",
            "1 when this node's last lookup of the DNS check's name passed.",
        );
        let _ = writeln!(
            out,
            "debugbox_mesh_dns_success{{name=\"{}\"}} {}",
            esc(&d.name),
            u8::from(d.check.ok)
        );
    }
    if !s.targets.is_empty() {
        family(
            &mut out,
            "debugbox_mesh_target_success",
            "gauge",
            "1 when the last check of a --targets entry passed.",
        );
        for t in &s.targets {
            let _ = writeln!(
                out,
                "debugbox_mesh_target_success{{target=\"{}\"}} {}",
                esc(&t.name),
                u8::from(t.check.ok)
            );
        }
    }
    out
}

/// A histogram's lines; `labels` (without braces) go before `le`.
fn histogram(out: &mut String, name: &str, labels: &str, h: &super::state::Histogram) {
    let comma = if labels.is_empty() { "" } else { "," };
    let mut cumulative = 0;
    for (b, n) in BUCKETS.iter().zip(h.counts) {
        cumulative += n;
        let _ = writeln!(
            out,
            "{name}_bucket{{{labels}{comma}le=\"{b}\"}} {cumulative}"
        );
    }
    let _ = writeln!(
        out,
        "{name}_bucket{{{labels}{comma}le=\"+Inf\"}} {}",
        h.count
    );
    let braces = if labels.is_empty() {
        String::new()
    } else {
        format!("{{{labels}}}")
    };
    let _ = writeln!(out, "{name}_sum{braces} {}", h.sum);
    let _ = writeln!(out, "{name}_count{braces} {}", h.count);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::applets::mesh::model::{Check, Checks, Health};
    use crate::applets::mesh::state::Outcome;
    use std::time::{Duration, Instant};

    #[test]
    fn families_have_help_and_type_and_hostile_names_are_escaped() {
        let a = "10.1.0.2".parse().unwrap();
        let mut s = State::new(
            Health {
                node: "n1".into(),
                address: "10.1.0.1".parse().unwrap(),
                zone: None,
            },
            Duration::from_secs(5),
            10,
        );
        s.set_known(&[crate::applets::mesh::agent::Found {
            address: a,
            node: None,
            zone: None,
        }]);
        s.record(
            a,
            Outcome {
                checks: Checks {
                    tcp: Some(Check::pass(0.7)),
                    http: Some(Check::fail("HTTP 500")),
                    ..Default::default()
                },
                health: Some(Health {
                    node: "evil\"\n} 1\nx{".into(),
                    address: a,
                    zone: None,
                }),
            },
            Instant::now(),
        );
        let text = render(&s);
        assert!(text.contains("debugbox_mesh_peer_error{peer=\"10.1.0.2\",node=\"evil\\\"\\n} 1\\nx{\",reason=\"http\"} 1\n"), "{text}");
        assert!(text.contains("le=\"0.001\"} 1\n"));
        assert!(text.contains("le=\"0.0005\"} 0\n"));
        for line in text.lines() {
            assert!(!line.is_empty());
        }
        let mut seen_type = std::collections::BTreeSet::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                seen_type.insert(rest.split(' ').next().unwrap().to_string());
            } else if !line.starts_with('#') {
                let name = line.split(['{', ' ']).next().unwrap();
                let base = ["_bucket", "_sum", "_count"]
                    .iter()
                    .find_map(|s| name.strip_suffix(s).filter(|b| seen_type.contains(*b)))
                    .unwrap_or(name);
                assert!(seen_type.contains(base), "{line}");
            }
        }
    }

    #[test]
    fn above_the_cut_off_only_failing_peers_have_series() {
        use crate::applets::mesh::agent::Found;
        let mut s = State::new(
            Health {
                node: "n0".into(),
                address: "10.2.0.1".parse().unwrap(),
                zone: None,
            },
            Duration::from_secs(5),
            10,
        );
        let found: Vec<Found> = (0..150u8)
            .map(|i| Found {
                address: std::net::IpAddr::from([10, 2, 1, i]),
                node: None,
                zone: None,
            })
            .collect();
        s.set_known(&found);
        for (i, f) in found.iter().enumerate() {
            let tcp = if i == 7 {
                Check::fail("timed out")
            } else {
                Check::pass(0.4)
            };
            let checks = Checks {
                tcp: Some(tcp),
                ..Default::default()
            };
            s.record(
                f.address,
                Outcome {
                    checks,
                    health: None,
                },
                Instant::now(),
            );
        }
        let text = render(&s);
        assert_eq!(text.matches("debugbox_mesh_peer_up{").count(), 1, "{text}");
        assert!(text.contains("debugbox_mesh_peer_up{peer=\"10.2.1.7\",node=\"\"} 0"));
        assert!(text.contains("debugbox_mesh_peers_probed 150\n"));
        assert!(text.contains("debugbox_mesh_peers_failing 1\n"));
        assert!(
            text.contains("debugbox_mesh_all_rtt_seconds_count 149\n"),
            "{text}"
        );
    }
}
