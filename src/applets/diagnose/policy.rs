//! NetworkPolicies, read the way the network plugin applies them to traffic from this pod:
//! which policies select an endpoint pod for ingress and whether any of their rules admits this
//! pod (by its labels and namespace, its address, the port), and which select this pod for
//! egress and whether they let it reach the endpoints and the cluster DNS. Pure.

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
        self.says(labels, false) == Some(true)
    }

    /// Whether the selector selects a pod with these labels; with `partial` (only some of the
    /// pod's labels are known, e.g. a Service's selector) a term about an unknown label is
    /// unknown, and so is the answer unless another term decides it.
    pub fn says(&self, labels: &BTreeMap<String, String>, partial: bool) -> Option<bool> {
        let absent = |when_complete: bool| if partial { None } else { Some(when_complete) };
        let terms = self
            .match_labels
            .iter()
            .map(|(k, v)| match labels.get(k) {
                Some(have) => Some(have == v),
                None => absent(false),
            })
            .chain(self.match_expressions.iter().map(|r| {
                let have = labels.get(&r.key);
                match (r.operator.as_str(), have) {
                    ("In", Some(v)) => Some(r.values.contains(v)),
                    ("NotIn", Some(v)) => Some(!r.values.contains(v)),
                    ("Exists", Some(_)) => Some(true),
                    ("DoesNotExist", Some(_)) => Some(false),
                    ("In" | "Exists", None) => absent(false),
                    ("NotIn" | "DoesNotExist", None) => absent(true),
                    _ => Some(false),
                }
            }));
        let mut unknown = false;
        for t in terms {
            match t {
                Some(false) => return Some(false),
                None => unknown = true,
                Some(true) => {}
            }
        }
        (!unknown).then_some(true)
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
    #[serde(default)]
    pub egress: Option<Vec<EgressRule>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct EgressRule {
    #[serde(default)]
    pub to: Vec<Peer>,
    #[serde(default)]
    pub ports: Vec<PolicyPort>,
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

    /// For egress? (policyTypes names Egress, or, when it names nothing, the policy has egress
    /// rules: the API server's defaulting.)
    fn for_egress(&self) -> bool {
        if self.spec.policy_types.is_empty() {
            self.spec.egress.as_ref().is_some_and(|r| !r.is_empty())
        } else {
            self.spec.policy_types.iter().any(|t| t == "Egress")
        }
    }

    pub fn selects(&self, pod: &Pod) -> bool {
        self.metadata.namespace == pod.metadata.namespace
            && self.for_ingress()
            && self.spec.pod_selector.matches(&pod.metadata.labels)
    }

    /// Whether it isolates `who` for egress; None when `who`'s labels are not known and the
    /// selector needs them.
    fn selects_for_egress(&self, who: &Party) -> Option<bool> {
        if !self.for_egress() || who.namespace.as_deref() != Some(&self.metadata.namespace) {
            return Some(false);
        }
        let none = BTreeMap::new();
        let (labels, partial) = match &who.labels {
            Some(l) => (l, who.partial),
            None => (&none, true),
        };
        self.spec.pod_selector.says(labels, partial)
    }

    /// A default deny: every pod of the namespace, no rule.
    pub fn is_default_deny(&self) -> bool {
        self.for_ingress()
            && self.spec.pod_selector.match_labels.is_empty()
            && self.spec.pod_selector.match_expressions.is_empty()
            && self.spec.ingress.as_ref().is_none_or(|r| r.is_empty())
    }
}

/// One end of a connection as policies see it: its addresses, namespace and labels (when
/// known; `partial` when only some of its labels are, e.g. a Service's selector for its pods).
#[derive(Debug, Clone, Default)]
pub struct Party {
    pub ips: Vec<IpAddr>,
    pub namespace: Option<String>,
    pub labels: Option<BTreeMap<String, String>>,
    pub partial: bool,
}

impl Party {
    /// A pod read from the API: everything is known.
    pub fn of_pod(pod: &Pod) -> Party {
        Party {
            ips: pod
                .status
                .pod_ip
                .as_deref()
                .and_then(|ip| ip.parse().ok())
                .into_iter()
                .collect(),
            namespace: Some(pod.metadata.namespace.clone()),
            labels: Some(pod.metadata.labels.clone()),
            partial: false,
        }
    }

    /// "this pod (app=x in namespace y)", for messages.
    pub fn words(&self) -> String {
        match (&self.labels, &self.namespace) {
            (Some(l), Some(ns)) if !l.is_empty() => format!(
                "this pod ({} in namespace {ns})",
                l.iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            (_, Some(ns)) => format!("this pod (namespace {ns})"),
            _ => "this pod".to_string(),
        }
    }
}

/// Whether a rule's peer is `other` (the client of an ingress rule, the destination of an
/// egress rule); None when it depends on what is not known (labels, or a namespace's labels
/// other than its name). `policy_ns` is the namespace a bare podSelector means.
fn peer_is(peer: &Peer, policy_ns: &str, other: &Party) -> Option<bool> {
    if let Some(b) = &peer.ip_block {
        return Some(other.ips.iter().any(|ip| in_block(*ip, b)));
    }
    let ns_ok = match &peer.namespace_selector {
        None => Some(other.namespace.as_deref() == Some(policy_ns)),
        Some(sel) => {
            let ns = other.namespace.as_ref()?;
            // Namespaces are not read; every namespace carries its name as a label.
            let mut labels = BTreeMap::new();
            labels.insert("kubernetes.io/metadata.name".to_string(), ns.clone());
            sel.says(&labels, true)
        }
    };
    let pod_ok = match &peer.pod_selector {
        None => Some(true),
        Some(sel) => other
            .labels
            .as_ref()
            .and_then(|l| sel.says(l, other.partial)),
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

/// Whether a rule's ports admit `port`/`protocol` on the destination; a named port is looked up
/// in the destination pod's containers, and is unknown (None) without the pod.
fn port_admits(
    ports: &[PolicyPort],
    dest: Option<&Pod>,
    port: u16,
    protocol: &str,
) -> Option<bool> {
    if ports.is_empty() {
        return Some(true);
    }
    let mut unknown = false;
    for p in ports {
        if p.protocol.as_deref().unwrap_or("TCP") != protocol {
            continue;
        }
        let ok = match &p.port {
            None => Some(true),
            Some(IntOrString::Int(n)) => {
                Some(*n == port || p.end_port.is_some_and(|end| port >= *n && port <= end))
            }
            Some(name @ IntOrString::Str(_)) => {
                dest.map(|pod| pod.resolve_port(name) == Some(port))
            }
        };
        match ok {
            Some(true) => return Some(true),
            None => unknown = true,
            Some(false) => {}
        }
    }
    (!unknown).then_some(false)
}

/// What the policies say about one connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// No policy isolates that end: not isolated.
    Open,
    /// A rule of one of these policies admits it.
    Admitted(Vec<String>),
    /// These policies isolate it and none admits the connection.
    Denied(Vec<String>),
    /// These policies isolate it (or may); whether they admit the connection is not known.
    Unknown(Vec<String>),
}

/// Ingress: may `me` reach `endpoint` on TCP `port`, as far as the policies that select the
/// endpoint pod say?
pub fn admission(policies: &[NetworkPolicy], endpoint: &Pod, port: u16, me: &Party) -> Admission {
    let selecting: Vec<&NetworkPolicy> = policies.iter().filter(|p| p.selects(endpoint)).collect();
    let rules = selecting.iter().map(|p| {
        let rules = p.spec.ingress.iter().flatten().map(|r| (&r.from, &r.ports));
        (*p, Some(true), rules.collect::<Vec<_>>())
    });
    decide(rules.collect(), Some(endpoint), port, "TCP", me)
}

/// Egress: may `me` reach `dest` (`dest_pod` when it was read) on `port`/`protocol`, as far as
/// the policies that select this pod for egress say?
pub fn egress_admission(
    policies: &[NetworkPolicy],
    me: &Party,
    dest: &Party,
    dest_pod: Option<&Pod>,
    port: u16,
    protocol: &str,
) -> Admission {
    let rules = policies
        .iter()
        .map(|p| (p, p.selects_for_egress(me)))
        .filter(|(_, sel)| *sel != Some(false))
        .map(|(p, sel)| {
            let rules = p.spec.egress.iter().flatten().map(|r| (&r.to, &r.ports));
            (p, sel, rules.collect::<Vec<_>>())
        });
    decide(rules.collect(), dest_pod, port, protocol, dest)
}

/// A policy that isolates one end, whether it surely selects it, and its (peers, ports) rules.
type Isolating<'a> = (
    &'a NetworkPolicy,
    Option<bool>,
    Vec<(&'a Vec<Peer>, &'a Vec<PolicyPort>)>,
);

/// The rules of the policies that isolate one end against the other end.
fn decide(
    isolating: Vec<Isolating<'_>>,
    dest_pod: Option<&Pod>,
    port: u16,
    protocol: &str,
    other: &Party,
) -> Admission {
    if isolating.is_empty() {
        return Admission::Open;
    }
    let names = || {
        isolating
            .iter()
            .map(|(p, ..)| p.metadata.name.clone())
            .collect()
    };
    let mut unknown = isolating.iter().any(|(_, sel, _)| sel.is_none());
    for (p, sel, rules) in &isolating {
        for (peers, ports) in rules {
            let peers_ok = if peers.is_empty() {
                Some(true)
            } else {
                let mut any = Some(false);
                for peer in peers.iter() {
                    match peer_is(peer, &p.metadata.namespace, other) {
                        Some(true) => {
                            any = Some(true);
                            break;
                        }
                        None => any = None,
                        Some(false) => {}
                    }
                }
                any
            };
            let ports_ok = port_admits(ports, dest_pod, port, protocol);
            match (peers_ok, ports_ok) {
                (Some(true), Some(true)) if *sel == Some(true) => {
                    return Admission::Admitted(vec![p.metadata.name.clone()]);
                }
                (Some(false), _) | (_, Some(false)) => {}
                _ => unknown = true,
            }
        }
    }
    if unknown {
        Admission::Unknown(names())
    } else {
        Admission::Denied(names())
    }
}

/// Endpoints that time out: do NetworkPolicies explain it? `timed_out` are the endpoints
/// (pod name, port) that did not answer. Returns a finding naming the policies that select them
/// and admit no traffic from this pod, or the egress policies of this pod that let it reach
/// none of them, or, when that depends on what is not known, evidence saying so.
pub fn explain_timeouts(
    policies: &[NetworkPolicy],
    pods: &[Pod],
    timed_out: &[(String, u16)],
    me: &Party,
) -> (Option<super::report::Finding>, Vec<String>) {
    let mut denied: Vec<String> = Vec::new();
    let mut unknown: Vec<String> = Vec::new();
    let mut default_deny: Vec<String> = Vec::new();
    let mut egress_denied: Vec<String> = Vec::new();
    let mut egress_unknown: Vec<String> = Vec::new();
    let mut ports: Vec<u16> = Vec::new();
    for (name, port) in timed_out {
        let Some(pod) = pods.iter().find(|p| &p.metadata.name == name) else {
            continue;
        };
        ports.push(*port);
        match egress_admission(policies, me, &Party::of_pod(pod), Some(pod), *port, "TCP") {
            Admission::Denied(v) => egress_denied.extend(v),
            Admission::Unknown(v) => egress_unknown.extend(v),
            Admission::Open | Admission::Admitted(_) => {}
        }
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
    for v in [
        &mut denied,
        &mut unknown,
        &mut default_deny,
        &mut egress_denied,
        &mut egress_unknown,
    ] {
        v.sort();
        v.dedup();
    }
    ports.sort();
    ports.dedup();
    let who = me.words();
    let plural = |v: &[String]| v.len() != 1;
    if !egress_denied.is_empty() {
        let f = super::report::Finding {
            hop: "endpoints",
            cause: "networkpolicy-egress",
            message: format!(
                "NetworkPolic{} {} select{s} {who} for egress and allow{s} it no traffic to the endpoint pods (TCP port {}): the endpoints time out",
                if plural(&egress_denied) { "ies" } else { "y" },
                egress_denied.join(", "),
                ports
                    .iter()
                    .map(u16::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
                s = if plural(&egress_denied) { "" } else { "s" }
            ),
            evidence: vec![],
            hint: Some(format!(
                "kubectl describe networkpolicy {}: add an egress rule to the Service's pods and port",
                egress_denied.join(" ")
            )),
        };
        return (Some(f), vec![]);
    }
    if !denied.is_empty() {
        let mut evidence = vec![];
        if !default_deny.is_empty() {
            evidence.push(format!(
                "{} {} a default deny: every pod of the namespace, no rule",
                default_deny.join(", "),
                if plural(&default_deny) { "are" } else { "is" }
            ));
        }
        let f = super::report::Finding {
            hop: "endpoints",
            cause: "networkpolicy",
            message: format!(
                "NetworkPolic{} {} select{s} the endpoint pods and admit{s} no traffic from {who}: the endpoints time out",
                if plural(&denied) { "ies" } else { "y" },
                denied.join(", "),
                s = if plural(&denied) { "" } else { "s" }
            ),
            evidence,
            hint: Some(format!(
                "kubectl describe networkpolicy {}; test from a client they admit: kubectl debugbox diagnose SVC --from POD",
                denied.join(" ")
            )),
        };
        return (Some(f), vec![]);
    }
    let mut evidence = vec![];
    if !unknown.is_empty() {
        evidence.push(format!(
            "NetworkPolicies {} select the endpoint pods; whether they admit {who} is unknown (its labels, or a namespace's labels, could not be read)",
            unknown.join(", ")
        ));
    }
    if !egress_unknown.is_empty() {
        evidence.push(format!(
            "egress NetworkPolicies {} may select {who}; whether they let it reach the endpoints is unknown (its labels could not be read)",
            egress_unknown.join(", ")
        ));
    }
    (None, evidence)
}

/// A cluster DNS pod as policies see it: its address and namespace, and the DNS Service's
/// selector as the part of its labels that is known.
pub struct DnsPod {
    pub label: String,
    pub party: Party,
}

/// The cluster DNS does not answer: do this pod's egress policies explain it? Each DNS pod on
/// UDP port 53 (what every lookup starts with). A finding when the policies allow none of them.
pub fn explain_dns(
    policies: &[NetworkPolicy],
    me: &Party,
    dns_pods: &[DnsPod],
) -> (Option<super::report::Finding>, Vec<String>) {
    if dns_pods.is_empty() {
        return (None, vec![]);
    }
    let mut denied: Vec<String> = Vec::new();
    let mut unknown: Vec<String> = Vec::new();
    for pod in dns_pods {
        match egress_admission(policies, me, &pod.party, None, 53, "UDP") {
            Admission::Denied(v) => denied.extend(v),
            Admission::Unknown(v) => unknown.extend(v),
            Admission::Open | Admission::Admitted(_) => return (None, vec![]),
        }
    }
    denied.sort();
    denied.dedup();
    unknown.sort();
    unknown.dedup();
    let who = me.words();
    if !unknown.is_empty() {
        return (
            None,
            vec![format!(
                "egress NetworkPolicies {} may keep {who} from the cluster DNS; that is unknown (labels could not be read, or a rule names the DNS pods' port by name)",
                unknown.join(", ")
            )],
        );
    }
    let many = denied.len() != 1;
    let f = super::report::Finding {
        hop: "dns",
        cause: "networkpolicy-egress",
        message: format!(
            "NetworkPolic{} {} select{s} {who} for egress and allow{s} no traffic to the cluster DNS pods ({}) on UDP port 53: every lookup times out",
            if many { "ies" } else { "y" },
            denied.join(", "),
            dns_pods
                .iter()
                .map(|p| p.label.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            s = if many { "" } else { "s" }
        ),
        evidence: vec![],
        hint: Some(format!(
            "add an egress rule to namespace kube-system, pods k8s-app=kube-dns, ports 53 UDP and TCP (kubectl describe networkpolicy {})",
            denied.join(" ")
        )),
    };
    (Some(f), vec![])
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

    fn me(labels: Option<&[(&str, &str)]>, ns: &str) -> Party {
        Party {
            ips: vec!["10.244.1.5".parse().unwrap()],
            namespace: Some(ns.into()),
            labels: labels.map(|l| {
                l.iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect()
            }),
            partial: false,
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

    #[test]
    fn partial_labels_decide_only_what_they_can() {
        let sel: LabelSelector = serde_json::from_str(
            r#"{"matchLabels":{"k8s-app":"kube-dns"},"matchExpressions":[{"key":"tier","operator":"NotIn","values":["x"]}]}"#,
        )
        .unwrap();
        let dns: BTreeMap<String, String> =
            [("k8s-app".to_string(), "kube-dns".to_string())].into();
        let other: BTreeMap<String, String> = [("k8s-app".to_string(), "web".to_string())].into();
        // Complete labels: tier is absent, so NotIn holds.
        assert_eq!(sel.says(&dns, false), Some(true));
        // Partial: tier may be there with value x.
        assert_eq!(sel.says(&dns, true), None);
        // A known label that contradicts decides even when partial.
        assert_eq!(sel.says(&other, true), Some(false));
        assert!(LabelSelector::default().matches(&BTreeMap::new()));
    }

    const EGRESS_TO_WEB: &str = r#"{"metadata":{"name":"only-web","namespace":"shop"},
        "spec":{"podSelector":{},"policyTypes":["Egress"],
        "egress":[{"to":[{"podSelector":{"matchLabels":{"app":"web"}}}],"ports":[{"protocol":"TCP","port":8080}]}]}}"#;

    fn coredns() -> Party {
        Party {
            ips: vec!["10.244.1.53".parse().unwrap()],
            namespace: Some("kube-system".into()),
            labels: Some([("k8s-app".to_string(), "kube-dns".to_string())].into()),
            partial: true,
        }
    }

    #[test]
    fn egress_policies_of_this_pod() {
        let p = vec![policy(EGRESS_TO_WEB)];
        let debug = me(Some(&[("run", "debug")]), "shop");
        let web = web();
        // To web's pods on 8080: admitted; on another port: denied.
        assert!(matches!(
            egress_admission(&p, &debug, &Party::of_pod(&web), Some(&web), 8080, "TCP"),
            Admission::Admitted(_)
        ));
        assert_eq!(
            egress_admission(&p, &debug, &Party::of_pod(&web), Some(&web), 9090, "TCP"),
            Admission::Denied(vec!["only-web".into()])
        );
        // The cluster DNS is not allowed: a finding naming the policy.
        let pods = [DnsPod {
            label: "coredns 10.244.1.53".into(),
            party: coredns(),
        }];
        let (f, _) = explain_dns(&p, &debug, &pods);
        let f = f.unwrap();
        assert_eq!((f.hop, f.cause), ("dns", "networkpolicy-egress"));
        assert!(
            f.message.starts_with("NetworkPolicy only-web selects this pod (run=debug in namespace shop) for egress and allows no traffic to the cluster DNS pods (coredns 10.244.1.53) on UDP port 53"),
            "{}",
            f.message
        );
        // A pod in another namespace is not selected by it.
        assert!(explain_dns(&p, &me(None, "other"), &pods).0.is_none());
        // A rule that allows DNS to kube-system's kube-dns pods: fine.
        let dns_ok = policy(
            r#"{"metadata":{"name":"dns","namespace":"shop"},"spec":{"podSelector":{},"policyTypes":["Egress"],
            "egress":[{"to":[{"namespaceSelector":{"matchLabels":{"kubernetes.io/metadata.name":"kube-system"}},
                              "podSelector":{"matchLabels":{"k8s-app":"kube-dns"}}}],
                       "ports":[{"protocol":"UDP","port":53},{"protocol":"TCP","port":53}]}]}}"#,
        );
        assert!(
            explain_dns(&[p[0].clone(), dns_ok], &debug, &pods)
                .0
                .is_none()
        );
        // A rule that names the port by name cannot be decided without the pod: said so.
        let named = policy(
            r#"{"metadata":{"name":"dns-named","namespace":"shop"},"spec":{"podSelector":{},"policyTypes":["Egress"],
            "egress":[{"ports":[{"protocol":"UDP","port":"dns"}]}]}}"#,
        );
        let (f, evidence) = explain_dns(&[named], &debug, &pods);
        assert!(f.is_none());
        assert!(evidence[0].contains("dns-named"), "{evidence:?}");
        // Endpoints timing out under this pod's egress policy: the egress cause.
        let (f, _) = explain_timeouts(
            &p,
            std::slice::from_ref(&web),
            &[("web1".into(), 9090)],
            &debug,
        );
        assert_eq!(f.unwrap().cause, "networkpolicy-egress");
        // This pod's labels unknown and a policy selecting by label: unknown, not denied.
        let by_label = policy(
            r#"{"metadata":{"name":"by-label","namespace":"shop"},"spec":{"podSelector":{"matchLabels":{"run":"debug"}},
            "policyTypes":["Egress"],"egress":[]}}"#,
        );
        assert!(matches!(
            egress_admission(&[by_label], &me(None, "shop"), &coredns(), None, 53, "UDP"),
            Admission::Unknown(_)
        ));
    }

    /// Any policy JSON that parses never panics the evaluation.
    #[test]
    fn any_policy_bytes_never_panic() {
        crate::testing::check(&[FRONTEND_ONLY.as_bytes()], 5000, |bytes| {
            if let Ok(p) = serde_json::from_slice::<NetworkPolicy>(bytes) {
                let _ = admission(
                    std::slice::from_ref(&p),
                    &web(),
                    8080,
                    &me(Some(&[("a", "b")]), "shop"),
                );
                let _ = egress_admission(&[p], &me(None, "shop"), &coredns(), None, 53, "UDP");
            }
        });
    }
}
