//! The report: one step per hop with its status, time and evidence, the probes behind it, and
//! the verdict. Rendered as text (✔/✘, colour on a terminal) or as JSON.

use crate::probe::Probe;
use serde::Serialize;
use serde_json::Value;
use std::fmt::Write;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Fail,
    Skipped,
}

#[derive(Debug, Clone, Serialize)]
pub struct Step {
    /// where, api, dns, clusterip, endpoints, nodeport, loadbalancer, ingress, host.
    pub id: &'static str,
    pub title: &'static str,
    pub status: Status,
    pub summary: String,
    pub time_ms: f64,
    pub evidence: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub probes: Vec<Probe>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<Value>,
}

impl Step {
    pub fn new(
        id: &'static str,
        title: &'static str,
        status: Status,
        summary: impl Into<String>,
    ) -> Self {
        Step {
            id,
            title,
            status,
            summary: summary.into(),
            time_ms: 0.0,
            evidence: Vec::new(),
            probes: Vec::new(),
            details: None,
        }
    }

    pub fn skipped(id: &'static str, title: &'static str, why: impl Into<String>) -> Self {
        Step::new(id, title, Status::Skipped, why)
    }
}

/// What a failing hop means: the hop, a short cause id, plain words, the evidence, a next step.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Finding {
    pub hop: &'static str,
    pub cause: &'static str,
    pub message: String,
    pub evidence: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    pub ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hop: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<&'static str>,
    pub message: String,
    pub evidence: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// Other failing hops, after the first.
    pub also: Vec<Finding>,
    /// What could not be checked and why (API reads denied, no port…).
    pub notes: Vec<String>,
}

impl Verdict {
    /// The first finding is the verdict; the rest follow it.
    pub fn from(findings: Vec<Finding>, notes: Vec<String>, target: &str) -> Self {
        let mut it = findings.into_iter();
        match it.next() {
            None => Verdict {
                ok: true,
                hop: None,
                cause: None,
                message: if notes.is_empty() {
                    format!("every path to {target} that was checked works")
                } else {
                    format!(
                        "every path to {target} that could be checked works; some could not be checked"
                    )
                },
                evidence: Vec::new(),
                hint: None,
                also: Vec::new(),
                notes,
            },
            Some(f) => Verdict {
                ok: false,
                hop: Some(f.hop),
                cause: Some(f.cause),
                message: f.message,
                evidence: f.evidence,
                hint: f.hint,
                also: it.filter(|f| !is_consequence(f.cause)).collect(),
                notes,
            },
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub target: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<Value>,
    pub steps: Vec<Step>,
    pub verdict: Verdict,
    pub time_ms: f64,
}

pub struct Style {
    pub color: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    fn mark(&self, s: Status) -> String {
        match s {
            Status::Ok => self.paint("32", "✔"),
            Status::Fail => self.paint("31", "✘"),
            Status::Skipped => self.paint("2", "–"),
        }
    }
}

impl Report {
    pub fn render(&self, style: &Style) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "diagnose {}", self.target);
        let width = self
            .steps
            .iter()
            .map(|s| s.title.chars().count())
            .max()
            .unwrap_or(0);
        for s in &self.steps {
            let time = if s.status == Status::Skipped {
                String::new()
            } else {
                format!("  ({:.1} ms)", s.time_ms)
            };
            let title = format!("{:<width$}", s.title);
            let title = if s.status == Status::Fail {
                style.paint("1", &title)
            } else {
                title
            };
            let _ = writeln!(
                out,
                " {} {}  {}{}",
                style.mark(s.status),
                title,
                s.summary,
                style.paint("2", &time)
            );
            // Evidence under failing steps, and under the first-line facts of `where`.
            if s.status == Status::Fail || s.id == "where" {
                for e in &s.evidence {
                    let _ = writeln!(out, "   {:width$}    {e}", "");
                }
            }
        }
        let v = &self.verdict;
        out.push('\n');
        if v.ok {
            let _ = writeln!(out, "{} {}", style.paint("32;1", "Verdict: OK."), v.message);
        } else {
            let hop = v.hop.map(hop_title).unwrap_or("");
            let _ = writeln!(
                out,
                "{} {}",
                style.paint("31;1", &format!("Verdict: {hop} is broken.")),
                v.message
            );
            for e in &v.evidence {
                let _ = writeln!(out, "  - {e}");
            }
            if let Some(h) = &v.hint {
                let _ = writeln!(out, "  Next: {h}");
            }
            for f in &v.also {
                let _ = writeln!(out, "  Also {}: {}", hop_title(f.hop), f.message);
            }
        }
        for n in &v.notes {
            let _ = writeln!(out, "  Not checked: {n}");
        }
        out
    }
}

/// Causes that only repeat an earlier hop's failure (a NodePort fails because the Service has no
/// endpoints): shown on their step, left out of the verdict's "also".
pub fn is_consequence(cause: &str) -> bool {
    matches!(
        cause,
        "no-ready-endpoints"
            | "nodeport-follows-clusterip"
            | "loadbalancer-follows-clusterip"
            | "ingress-follows-backend"
    )
}

pub fn hop_title(hop: &str) -> &'static str {
    match hop {
        "service" => "the Service",
        "dns" => "DNS",
        "endpoints" => "Endpoints",
        "clusterip" => "the ClusterIP",
        "nodeport" => "the NodePort",
        "loadbalancer" => "the LoadBalancer",
        "ingress" => "the Ingress",
        "host" => "the host",
        _ => "a hop",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(hop: &'static str, cause: &'static str) -> Finding {
        Finding {
            hop,
            cause,
            message: format!("{cause} happened"),
            evidence: vec!["seen".into()],
            hint: Some("look".into()),
        }
    }

    #[test]
    fn first_finding_is_the_verdict() {
        let v = Verdict::from(
            vec![
                finding("endpoints", "selector-mismatch"),
                finding("clusterip", "no-ready-endpoints"),
                finding("ingress", "ingress-not-routed"),
            ],
            vec![],
            "web",
        );
        assert!(!v.ok);
        assert_eq!(v.hop, Some("endpoints"));
        assert_eq!(v.cause, Some("selector-mismatch"));
        // The ClusterIP failing for lack of endpoints is the same problem; the Ingress is another.
        assert_eq!(
            v.also.iter().map(|f| f.cause).collect::<Vec<_>>(),
            vec!["ingress-not-routed"]
        );
        let ok = Verdict::from(vec![], vec!["nodes: denied".into()], "web");
        assert!(ok.ok);
        assert!(ok.message.contains("could not be checked"));
    }

    #[test]
    fn text_marks_and_no_color_without_a_tty() {
        let mut fail = Step::new(
            "clusterip",
            "ClusterIP",
            Status::Fail,
            "10.96.0.100:3000 timed out",
        );
        fail.evidence.push("endpoints answer".into());
        let r = Report {
            target: "web".into(),
            service: None,
            steps: vec![
                Step::new("dns", "DNS", Status::Ok, "web -> 10.96.0.100"),
                fail,
                Step::skipped("ingress", "Ingress", "no Ingress"),
            ],
            verdict: Verdict::from(vec![finding("clusterip", "kube-proxy")], vec![], "web"),
            time_ms: 1.0,
        };
        let text = r.render(&Style { color: false });
        assert!(text.contains(" ✔ DNS        web -> 10.96.0.100"), "{text}");
        assert!(
            text.contains(" ✘ ClusterIP  10.96.0.100:3000 timed out"),
            "{text}"
        );
        assert!(text.contains("endpoints answer"), "{text}");
        assert!(text.contains(" – Ingress    no Ingress"), "{text}");
        assert!(
            text.contains("Verdict: the ClusterIP is broken. kube-proxy happened"),
            "{text}"
        );
        assert!(!text.contains('\x1b'));
        assert!(
            r.render(&Style { color: true })
                .contains("\x1b[32m✔\x1b[0m")
        );
    }
}
