//! What agents say to each other and to `mesh status`: one agent's view (`/matrix.json`), the
//! merged view (`/matrix.json?all=1`), and `/healthz`. The same structs are written by the
//! agent and read from the network by other agents and by `status`, so reading is bounded and
//! never trusts a field to be there.

use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// `/healthz`: who answers (the prober learns its peer's name and zone from it).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Health {
    pub node: String,
    pub address: IpAddr,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
}

/// One check's last result: passed (`ok`, with its time) or failed (with why).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Check {
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Check {
    pub fn pass(ms: f64) -> Check {
        Check {
            ok: true,
            ms: Some(ms),
            error: None,
        }
    }

    pub fn fail(error: impl Into<String>) -> Check {
        Check {
            ok: false,
            ms: None,
            error: Some(error.into()),
        }
    }
}

/// The checks of one link; a check not run (no ICMP socket here, the small packet lost so the
/// MTU is unknown) is absent.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Checks {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icmp: Option<Check>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtu: Option<Check>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp: Option<Check>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<Check>,
}

/// The names of the checks, in the order they are shown.
pub const CHECKS: [&str; 4] = ["icmp", "mtu", "tcp", "http"];

impl Checks {
    pub fn get(&self, name: &str) -> Option<&Check> {
        match name {
            "icmp" => self.icmp.as_ref(),
            "mtu" => self.mtu.as_ref(),
            "tcp" => self.tcp.as_ref(),
            "http" => self.http.as_ref(),
            _ => None,
        }
    }

    /// Why the link is bad, as one word from a fixed list (`REASONS`), or "ok". The first
    /// broken layer names it: nothing answers (timeout, unreachable), nothing listens
    /// (refused), the agent answers wrong (http), only large packets vanish (mtu), only ICMP is
    /// blocked (icmp).
    pub fn reason(&self) -> &'static str {
        let failed = |c: &Option<Check>| c.as_ref().is_some_and(|c| !c.ok);
        if failed(&self.tcp) {
            return error_word(self.tcp.as_ref().and_then(|c| c.error.as_deref()));
        }
        if failed(&self.http) {
            return "http";
        }
        if failed(&self.mtu) {
            return "mtu";
        }
        if failed(&self.icmp) {
            return "icmp";
        }
        "ok"
    }

    /// One line of evidence: "icmp lost, tcp timed out".
    pub fn words(&self) -> String {
        let mut parts = Vec::new();
        for name in CHECKS {
            if let Some(c) = self.get(name) {
                parts.push(match (&c.error, c.ms) {
                    (Some(e), _) => format!("{name} {e}"),
                    (None, Some(ms)) => format!("{name} {ms} ms"),
                    (None, None) => format!("{name} ok"),
                });
            }
        }
        parts.join(", ")
    }
}

/// Every reason a link can carry: a fixed list, so that the error series in /metrics stay few.
pub const REASONS: [&str; 8] = [
    "timeout",
    "unreachable",
    "refused",
    "reset",
    "http",
    "mtu",
    "icmp",
    "error",
];

/// A connection error's text in one of `REASONS`.
pub fn error_word(error: Option<&str>) -> &'static str {
    match error.unwrap_or("") {
        e if e.contains("timed out") || e.contains("lost") => "timeout",
        e if e.contains("refused") => "refused",
        e if e.contains("unreachable") || e.contains("No route") || e.contains("prohibited") => {
            "unreachable"
        }
        e if e.contains("reset") => "reset",
        _ => "error",
    }
}

/// This agent's last word on one peer.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Link {
    pub to: IpAddr,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    /// "ok" or one of `REASONS`.
    pub reason: String,
    #[serde(default)]
    pub checks: Checks,
    /// Seconds since the last probe.
    #[serde(default)]
    pub age_s: f64,
    #[serde(default)]
    pub probes: u64,
    #[serde(default)]
    pub failures: u64,
    /// Probes in a row that failed, up to the last one.
    #[serde(default)]
    pub failing_for: u64,
}

impl Link {
    pub fn ok(&self) -> bool {
        self.reason == "ok"
    }
}

/// A name lookup or a Service target, checked each round.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Named {
    pub name: String,
    pub check: Check,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<IpAddr>,
}

/// One agent's view: `/matrix.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct View {
    pub node: String,
    pub address: IpAddr,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    #[serde(default)]
    pub round: u64,
    #[serde(default)]
    pub interval_s: f64,
    #[serde(default)]
    pub sample: usize,
    /// Peers known now (from the list, DNS or the API), this agent not counted.
    #[serde(default)]
    pub peers: usize,
    /// The round by which every known peer had been probed at least once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub covered_at_round: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns: Option<Named>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<Named>,
    #[serde(default)]
    pub links: Vec<Link>,
}

/// A peer whose view could not be fetched for the merged view.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Missing {
    pub address: IpAddr,
    pub error: String,
}

/// `/matrix.json?all=1`: the views of every agent the one asked could reach.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Merged {
    pub from: String,
    pub views: Vec<View>,
    #[serde(default)]
    pub missing: Vec<Missing>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_broken_layer_names_the_link() {
        let mut c = Checks {
            icmp: Some(Check::fail("lost")),
            mtu: None,
            tcp: Some(Check::fail("timed out")),
            http: None,
        };
        assert_eq!(c.reason(), "timeout");
        c.tcp = Some(Check::fail("Connection refused"));
        assert_eq!(c.reason(), "refused");
        c.tcp = Some(Check::pass(0.2));
        c.http = Some(Check::fail("HTTP 500"));
        assert_eq!(c.reason(), "http");
        c.http = Some(Check::pass(0.4));
        c.mtu = Some(Check::fail("1500-byte packet lost"));
        assert_eq!(c.reason(), "mtu");
        c.mtu = Some(Check::pass(0.3));
        assert_eq!(c.reason(), "icmp");
        c.icmp = Some(Check::pass(0.1));
        assert_eq!(c.reason(), "ok");
        assert_eq!(
            c.words(),
            "icmp 0.1 ms, mtu 0.3 ms, tcp 0.2 ms, http 0.4 ms"
        );
        assert!(REASONS.contains(&error_word(Some("No route to host"))));
    }

    /// Views come from other agents over the network: random and mutated bytes never panic.
    #[test]
    fn reading_views_from_the_network_never_panics() {
        let view = View {
            node: "node1".into(),
            address: "10.1.0.1".parse().unwrap(),
            zone: Some("a".into()),
            round: 4,
            interval_s: 5.0,
            sample: 10,
            peers: 2,
            covered_at_round: Some(1),
            dns: None,
            targets: vec![],
            links: vec![Link {
                to: "10.1.0.2".parse().unwrap(),
                node: Some("node2".into()),
                zone: None,
                reason: "ok".into(),
                checks: Checks {
                    tcp: Some(Check::pass(0.2)),
                    ..Default::default()
                },
                age_s: 1.0,
                probes: 3,
                failures: 0,
                failing_for: 0,
            }],
        };
        let merged = Merged {
            from: "node1".into(),
            views: vec![view.clone()],
            missing: vec![],
        };
        let good = serde_json::to_vec(&merged).unwrap();
        let back: Merged = serde_json::from_slice(&good).unwrap();
        assert_eq!(back, merged);
        let health = br#"{"node":"n","address":"10.1.0.2","zone":"a"}"#;
        crate::testing::check(&[&good, health], 3000, |bytes| {
            let _ = serde_json::from_slice::<Merged>(bytes);
            let _ = serde_json::from_slice::<View>(bytes);
            let _ = serde_json::from_slice::<Health>(bytes);
        });
    }
}
