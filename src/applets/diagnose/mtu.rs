//! What the path MTU checks (crate::pathmtu) say in diagnose's report: the endpoints step's
//! summary line, and the finding when large packets vanish while small ones pass.

use super::report::Finding;
pub use crate::pathmtu::{MtuCheck, Outcome, Target, check_all};

/// The verdict when large packets vanish towards some endpoints while small ones pass.
pub fn finding(checks: &[MtuCheck]) -> Option<Finding> {
    let holes: Vec<&MtuCheck> = checks.iter().filter(|c| c.black_hole()).collect();
    let first = holes.first()?;
    let names: Vec<String> = holes
        .iter()
        .map(|c| format!("{} {}", c.label, c.address))
        .collect();
    Some(Finding {
        hop: "endpoints",
        cause: "mtu-black-hole",
        message: format!(
            "small packets reach {} but {}-byte packets (this pod's MTU) with don't-fragment vanish on the way, and no \"fragmentation needed\" comes back: connections open, then large requests, responses and TLS handshakes hang",
            names.join(", "),
            first.large_size,
        ),
        evidence: holes.iter().map(|c| c.text()).collect(),
        hint: Some(
            "compare the MTU of the pod network with the path between the nodes (ip link on each node: an overlay's MTU must leave room for its encapsulation), and let ICMP \"fragmentation needed\" / ICMPv6 \"packet too big\" through firewalls".into(),
        ),
    })
}

/// One line for the endpoints step: how many endpoints took a full-size packet.
pub fn summary(checks: &[MtuCheck]) -> Option<String> {
    let first = checks.first()?;
    let passed = checks
        .iter()
        .filter(|c| matches!(c.large, Outcome::Passed { .. }))
        .count();
    let mut vias: Vec<&str> = checks.iter().map(|c| c.via).collect();
    vias.sort();
    vias.dedup();
    Some(format!(
        "path MTU: {passed}/{} endpoints take a {}-byte packet with don't-fragment ({})",
        checks.len(),
        first.large_size,
        vias.iter()
            .map(|v| if *v == "icmp" { "ICMP echo" } else { "TCP" })
            .collect::<Vec<_>>()
            .join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::pathmtu::check_of;

    #[test]
    fn a_black_hole_is_a_finding_and_a_summary() {
        let hole = check_of(Outcome::Passed { ms: 0.2 }, Outcome::Lost);
        let fine = check_of(Outcome::Passed { ms: 0.2 }, Outcome::Passed { ms: 0.3 });
        let pmtud = check_of(Outcome::Passed { ms: 0.2 }, Outcome::Smaller { mtu: 1400 });
        let dead = check_of(Outcome::Lost, Outcome::Lost);
        let f = finding(&[fine.clone(), hole.clone()]).unwrap();
        assert_eq!((f.hop, f.cause), ("endpoints", "mtu-black-hole"));
        assert!(
            f.message
                .starts_with("small packets reach web2 10.244.2.10 but 1500-byte packets"),
            "{}",
            f.message
        );
        assert_eq!(
            f.evidence,
            vec![
                "web2 10.244.2.10: 1500-byte packet with don't-fragment lost, 84-byte passed (0.2 ms) (ICMP echo)"
            ]
        );
        assert!(finding(&[fine.clone(), pmtud, dead]).is_none());
        assert_eq!(
            summary(&[fine, hole]).unwrap(),
            "path MTU: 1/2 endpoints take a 1500-byte packet with don't-fragment (ICMP echo)"
        );
    }
}
