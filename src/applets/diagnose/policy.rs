//! NetworkPolicies, read the way the network plugin applies them to traffic from this pod to
//! the Service's endpoints: which policies select an endpoint pod for ingress, and whether any
//! of their rules admits this pod (by its labels and namespace, its address, the port). Pure.

use super::kube::{IntOrString, Pod};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::IpAddr;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LabelSelector {
    #[serde(default)]
    pub match_labels: BTreeMap<String, String>,
    #[serde(default)]
    pub match_expressions: Vec<Requirement>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Requirement {
    pub key: String,
    pub operator: String,
    #[serde(default)]
    pub values: Vec<String>,
}

impl LabelSelector {
    /// Kubernetes' label selector semantics (an empty selector selects everything).
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.match_labels
            .iter()
            .all(|(k, v)| labels.get(k) == Some(v))
            && self.match_expressions.iter().all(|r| {
                let have = labels.get(&r.key);
                match r.operator.as_str() {
                    "In" => have.is_some_and(|v| r.values.contains(v)),
                    "NotIn" => have.is_none_or(|v| !r.values.contains(v)),
                    "Exists" => have.is_some(),
                    "DoesNotExist" => have.is_none(),
                    _ => false,
                }
            })
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Meta {
    pub name: String,
    #[serde(default)]
    pub namespace: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct NetworkPolicy {
    pub metadata: Meta,
    #[serde(default)]
    pub spec: PolicySpec,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicySpec {
    #[serde(default)]
    pub pod_selector: LabelSelector,
    #[serde(default)]
    pub policy_types: Vec<String>,
    #[serde(default)]
    pub ingress: Option<Vec<Rule>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Rule {
    #[serde(default)]
    pub from: Vec<Peer>,
    #[serde(default)]
    pub ports: Vec<PolicyPort>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Peer {
    #[serde(default)]
    pub pod_selector: Option<LabelSelector>,
    #[serde(default)]
    pub namespace_selector: Option<LabelSelector>,
    #[serde(default)]
    pub ip_block: Option<IpBlock>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct IpBlock {
    pub cidr: String,
    #[serde(default)]
    pub except: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyPort {
    #[serde(default)]
    pub protocol: Option<String>,
    #[serde(default)]
    pub port: Option<IntOrString>,
    #[serde(default)]
    pub end_port: Option<u16>,
}

impl NetworkPolicy {
    /// Does this policy isolate its pods for ingress? (policyTypes names Ingress, or, when it
    /// names nothing, every policy does.)
    fn for_ingress(&self) -> bool {
        self.spec.policy_types.is_empty() || self.spec.policy_types.iter().any(|t| t == "Ingress")
    }

    pub fn selects(&self, pod: &Pod) -> bool {
        self.metadata.namespace == pod.metadata.namespace
            && self.for_ingress()
            && self.spec.pod_selector.matches(&pod.metadata.labels)
    }

    /// A default deny: every pod of the namespace, no rule.
    pub fn is_default_deny(&self) -> bool {
        self.for_ingress()
            && self.spec.pod_selector.match_labels.is_empty()
            && self.spec.pod_selector.match_expressions.is_empty()
            && self.spec.ingress.as_ref().is_none_or(|r| r.is_empty())
    }
}

/// This pod, as policies see it: its address, namespace and labels (when known).
#[derive(Debug, Clone)]
pub struct Me {
    pub ips: Vec<IpAddr>,
    pub namespace: Option<String>,
    pub labels: Option<BTreeMap<String, String>>,
}

/// Whether a rule admits this pod; None when it depends on what is not known (this pod's
/// labels, or a namespace's labels other than its name).
fn peer_admits(peer: &Peer, policy_ns: &str, me: &Me) -> Option<bool> {
    if let Some(b) = &peer.ip_block {
        return Some(me.ips.iter().any(|ip| in_block(*ip, b)));
    }
    let ns_ok = match &peer.namespace_selector {
        None => Some(me.namespace.as_deref() == Some(policy_ns)),
        Some(sel) => {
            let ns = me.namespace.as_ref()?;
            // Namespaces are not read; every namespace carries its name as a label.
            let mut labels = BTreeMap::new();
            labels.insert("kubernetes.io/metadata.name".to_string(), ns.clone());
            let only_name = sel
                .match_labels
                .keys()
                .chain(sel.match_expressions.iter().map(|r| &r.key))
                .all(|k| k == "kubernetes.io/metadata.name");
            if only_name {
                Some(sel.matches(&labels))
            } else {
                None
            }
        }
    };
    let pod_ok = match &peer.pod_selector {
        None => Some(true),
        Some(sel) => me.labels.as_ref().map(|l| sel.matches(l)),
    };
    match (ns_ok, pod_ok) {
        (Some(false), _) | (_, Some(false)) => Some(false),
        (Some(true), Some(true)) => Some(true),
        _ => None,
    }
}

fn in_block(ip: IpAddr, b: &IpBlock) -> bool {
    let inside = |cidr: &str| -> bool {
        let Some((net, len)) = cidr.split_once('/') else {
            return false;
        };
        let (Ok(net), Ok(len)) = (net.parse::<IpAddr>(), len.parse::<u32>()) else {
            return false;
        };
        match (ip, net) {
            (IpAddr::V4(a), IpAddr::V4(n)) if len <= 32 => {
                let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
                u32::from(a) & mask == u32::from(n) & mask
            }
            (IpAddr::V6(a), IpAddr::V6(n)) if len <= 128 => {
                let mask = if len == 0 {
                    0
                } else {
                    u128::MAX << (128 - len)
                };
                u128::from(a) & mask == u128::from(n) & mask
            }
            _ => false,
        }
    };
    inside(&b.cidr) && !b.except.iter().any(|e| inside(e))
}

fn port_admits(ports: &[PolicyPort], endpoint: &Pod, port: u16) -> bool {
    ports.is_empty()
        || ports.iter().any(|p| {
            if p.protocol.as_deref().is_some_and(|proto| proto != "TCP") {
                return false;
            }
            match &p.port {
                None => true,
                Some(IntOrString::Int(n)) => {
                    *n == port || p.end_port.is_some_and(|end| port >= *n && port <= end)
                }
                Some(name @ IntOrString::Str(_)) => endpoint.resolve_port(name) == Some(port),
            }
        })
}

/// What the policies say about traffic from this pod to `endpoint` on `port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// No policy selects the endpoint: not isolated.
    Open,
    /// A rule of one of these policies admits it.
    Admitted(Vec<String>),
    /// These policies select the endpoint and none admits this pod.
    Denied(Vec<String>),
    /// These policies select the endpoint; whether they admit this pod is not known.
    Unknown(Vec<String>),
}

pub fn admission(policies: &[NetworkPolicy], endpoint: &Pod, port: u16, me: &Me) -> Admission {
    let selecting: Vec<&NetworkPolicy> = policies.iter().filter(|p| p.selects(endpoint)).collect();
    if selecting.is_empty() {
        return Admission::Open;
    }
    let names = |v: &[&NetworkPolicy]| v.iter().map(|p| p.metadata.name.clone()).collect();
    let mut unknown = false;
    for p in &selecting {
        for rule in p.spec.ingress.iter().flatten() {
            if !port_admits(&rule.ports, endpoint, port) {
                continue;
            }
            if rule.from.is_empty() {
                return Admission::Admitted(vec![p.metadata.name.clone()]);
            }
            for peer in &rule.from {
                match peer_admits(peer, &p.metadata.namespace, me) {
                    Some(true) => return Admission::Admitted(vec![p.metadata.name.clone()]),
                    Some(false) => {}
                    None => unknown = true,
                }
            }
        }
    }
    if unknown {
        Admission::Unknown(names(&selecting))
    } else {
        Admission::Denied(names(&selecting))
    }
}

/// Endpoints that time out: do NetworkPolicies explain it? `timed_out` are the endpoints
/// (pod name, port) that did not answer. Returns a finding naming the policies that select them
/// and admit no traffic from this pod, or, when that depends on what is not known, evidence
/// saying so.
pub fn explain_timeouts(
    policies: &[NetworkPolicy],
    pods: &[Pod],
    timed_out: &[(String, u16)],
    me: &Me,
) -> (Option<super::report::Finding>, Vec<String>) {
    let mut denied: Vec<String> = Vec::new();
    let mut unknown: Vec<String> = Vec::new();
    let mut default_deny: Vec<String> = Vec::new();
    for (name, port) in timed_out {
        let Some(pod) = pods.iter().find(|p| &p.metadata.name == name) else {
            continue;
        };
        match admission(policies, pod, *port, me) {
            Admission::Denied(v) => denied.extend(v),
            Admission::Unknown(v) => unknown.extend(v),
            Admission::Open | Admission::Admitted(_) => {}
        }
        default_deny.extend(
            policies
                .iter()
                .filter(|p| p.selects(pod) && p.is_default_deny())
                .map(|p| p.metadata.name.clone()),
        );
    }
    for v in [&mut denied, &mut unknown, &mut default_deny] {
        v.sort();
        v.dedup();
    }
    let who = match (&me.labels, &me.namespace) {
        (Some(l), Some(ns)) if !l.is_empty() => format!(
            "this pod ({} in namespace {ns})",
            l.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(",")
        ),
        (_, Some(ns)) => format!("this pod (namespace {ns})"),
        _ => "this pod".to_string(),
    };
    if !denied.is_empty() {
        let mut evidence = vec![];
        if !default_deny.is_empty() {
            evidence.push(format!(
                "{} {} a default deny: every pod of the namespace, no rule",
                default_deny.join(", "),
                if default_deny.len() == 1 { "is" } else { "are" }
            ));
        }
        let f = super::report::Finding {
            hop: "endpoints",
            cause: "networkpolicy",
            message: format!(
                "NetworkPolic{} {} select{s} the endpoint pods and admit{s} no traffic from {who}: the endpoints time out",
                if denied.len() == 1 { "y" } else { "ies" },
                denied.join(", "),
                s = if denied.len() == 1 { "s" } else { "" }
            ),
            evidence,
            hint: Some(format!(
                "kubectl describe networkpolicy {}; test from a client they admit: kubectl debugbox diagnose SVC --from POD",
                denied.join(" ")
            )),
        };
        return (Some(f), vec![]);
    }
    if !unknown.is_empty() {
        return (
            None,
            vec![format!(
                "NetworkPolicies {} select the endpoint pods; whether they admit {who} is unknown (its labels, or a namespace's labels, could not be read)",
                unknown.join(", ")
            )],
        );
    }
    (None, vec![])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(json: &str) -> NetworkPolicy {
        serde_json::from_str(json).unwrap()
    }

    fn web() -> Pod {
        serde_json::from_str(
            r#"{"metadata":{"name":"web1","namespace":"shop","labels":{"app":"web"}},
                "spec":{"containers":[{"ports":[{"name":"http","containerPort":8080}]}]}}"#,
        )
        .unwrap()
    }

    fn me(labels: Option<&[(&str, &str)]>, ns: &str) -> Me {
        Me {
            ips: vec!["10.244.1.5".parse().unwrap()],
            namespace: Some(ns.into()),
            labels: labels.map(|l| {
                l.iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect()
            }),
        }
    }

    const FRONTEND_ONLY: &str = r#"{"metadata":{"name":"web-from-frontend","namespace":"shop"},
        "spec":{"podSelector":{"matchLabels":{"app":"web"}},"policyTypes":["Ingress"],
        "ingress":[{"from":[{"podSelector":{"matchLabels":{"app":"frontend"}}}],"ports":[{"port":"http"}]}]}}"#;

    #[test]
    fn a_policy_for_other_clients_denies_this_pod() {
        let p = vec![policy(FRONTEND_ONLY)];
        let debug = me(Some(&[("run", "debug")]), "shop");
        assert_eq!(
            admission(&p, &web(), 8080, &debug),
            Admission::Denied(vec!["web-from-frontend".into()])
        );
        let frontend = me(Some(&[("app", "frontend")]), "shop");
        assert!(matches!(
            admission(&p, &web(), 8080, &frontend),
            Admission::Admitted(_)
        ));
        // The named port resolves to 8080 on the pod: another port is not admitted.
        assert!(matches!(
            admission(&p, &web(), 9090, &frontend),
            Admission::Denied(_)
        ));
        // From another namespace a bare podSelector never matches.
        assert!(matches!(
            admission(&p, &web(), 8080, &me(Some(&[("app", "frontend")]), "other")),
            Admission::Denied(_)
        ));
        // Labels unknown: say so, do not guess.
        assert!(matches!(
            admission(&p, &web(), 8080, &me(None, "shop")),
            Admission::Unknown(_)
        ));
    }

    #[test]
    fn default_deny_ip_blocks_and_namespaces() {
        let deny = policy(
            r#"{"metadata":{"name":"default-deny","namespace":"shop"},"spec":{"podSelector":{},"policyTypes":["Ingress"]}}"#,
        );
        assert!(deny.is_default_deny());
        assert!(matches!(
            admission(std::slice::from_ref(&deny), &web(), 8080, &me(None, "shop")),
            Admission::Denied(_)
        ));
        let block = policy(
            r#"{"metadata":{"name":"from-pods","namespace":"shop"},"spec":{"podSelector":{},
            "ingress":[{"from":[{"ipBlock":{"cidr":"10.244.0.0/16","except":["10.244.2.0/24"]}}]}]}}"#,
        );
        assert!(matches!(
            admission(&[deny.clone(), block.clone()], &web(), 8080, &me(None, "x")),
            Admission::Admitted(_)
        ));
        let ns = policy(
            r#"{"metadata":{"name":"from-monitoring","namespace":"shop"},"spec":{"podSelector":{"matchExpressions":[{"key":"app","operator":"In","values":["web","api"]}]},
            "ingress":[{"from":[{"namespaceSelector":{"matchLabels":{"kubernetes.io/metadata.name":"monitoring"}}}]}]}}"#,
        );
        assert!(matches!(
            admission(
                std::slice::from_ref(&ns),
                &web(),
                8080,
                &me(None, "monitoring")
            ),
            Admission::Admitted(_)
        ));
        assert!(matches!(
            admission(&[ns], &web(), 8080, &me(None, "shop")),
            Admission::Denied(_)
        ));
        // Egress-only policies do not isolate for ingress.
        let egress = policy(
            r#"{"metadata":{"name":"e","namespace":"shop"},"spec":{"podSelector":{},"policyTypes":["Egress"]}}"#,
        );
        assert_eq!(
            admission(&[egress], &web(), 8080, &me(None, "shop")),
            Admission::Open
        );
    }

    #[test]
    fn timeouts_explained_by_the_policy() {
        let p = vec![policy(FRONTEND_ONLY)];
        let timed_out = vec![("web1".to_string(), 8080)];
        let (f, _) = explain_timeouts(
            &p,
            &[web()],
            &timed_out,
            &me(Some(&[("run", "debug")]), "shop"),
        );
        let f = f.unwrap();
        assert_eq!(f.cause, "networkpolicy");
        assert!(
            f.message.starts_with("NetworkPolicy web-from-frontend selects the endpoint pods and admits no traffic from this pod (run=debug in namespace shop)"),
            "{}",
            f.message
        );
        let (f, evidence) = explain_timeouts(&p, &[web()], &timed_out, &me(None, "shop"));
        assert!(f.is_none());
        assert!(evidence[0].contains("is unknown"), "{evidence:?}");
        assert_eq!(
            explain_timeouts(&[], &[web()], &timed_out, &me(None, "shop")).0,
            None
        );
    }

    /// Any policy JSON that parses never panics the evaluation.
    #[test]
    fn any_policy_bytes_never_panic() {
        crate::testing::check(&[FRONTEND_ONLY.as_bytes()], 5000, |bytes| {
            if let Ok(p) = serde_json::from_slice::<NetworkPolicy>(bytes) {
                let _ = admission(&[p], &web(), 8080, &me(Some(&[("a", "b")]), "shop"));
            }
        });
    }
}
