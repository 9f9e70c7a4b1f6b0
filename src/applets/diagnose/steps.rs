//! From what was read and probed to steps and findings: the troubleshooting flowchart as code.
//! Pure functions over the gathered facts, so every rule is unit-tested.

use super::kube::{
    self, ApiError, EndpointSlice, IntOrString, Pod, Read, Route, Service, ServicePort,
};
use super::report::{Finding, Status, Step};
use crate::probe::{Probe, Tcp};
use std::collections::BTreeMap;
use std::net::IpAddr;

/// What the API said, read by read. `None`: not asked (or not in a cluster).
#[derive(Debug, Default)]
pub struct ApiData {
    pub service: Option<Result<Service, ApiError>>,
    /// Namespaces where a Service of the same name exists (when not found where looked).
    pub elsewhere: Vec<String>,
    pub slices: Option<Result<Vec<EndpointSlice>, ApiError>>,
    pub pods: Option<Result<Vec<Pod>, ApiError>>,
    pub nodes: Option<Result<Vec<kube::Node>, ApiError>>,
    pub ingresses: Option<Result<Vec<kube::Ingress>, ApiError>>,
    pub policies: Option<Result<Vec<super::policy::NetworkPolicy>, ApiError>>,
    /// This pod's namespace's policies and pods, when it is not the Service's.
    pub home_policies: Option<Result<Vec<super::policy::NetworkPolicy>, ApiError>>,
    pub home_pods: Option<Result<Vec<Pod>, ApiError>>,
    /// Every read made, with its outcome (for the API step).
    pub reads: Vec<(Read, Result<usize, ApiError>)>,
    pub time_ms: f64,
}

impl ApiData {
    pub fn service(&self) -> Option<&Service> {
        self.service.as_ref().and_then(|r| r.as_ref().ok())
    }

    pub fn pods(&self) -> Option<&[Pod]> {
        self.pods
            .as_ref()
            .and_then(|r| r.as_ref().ok())
            .map(|v| v.as_slice())
    }

    /// The policies and pods of this pod's namespace (the Service's when they share it), for
    /// its egress policies and its own labels.
    pub fn home(&self) -> (Option<&[super::policy::NetworkPolicy]>, Option<&[Pod]>) {
        fn ok<T>(r: &Option<Result<Vec<T>, ApiError>>) -> Option<&[T]> {
            r.as_ref()
                .and_then(|r| r.as_ref().ok())
                .map(|v| v.as_slice())
        }
        if self.home_policies.is_some() || self.home_pods.is_some() {
            (ok(&self.home_policies), ok(&self.home_pods))
        } else {
            (ok(&self.policies), self.pods())
        }
    }

    pub fn slices(&self) -> Option<&[EndpointSlice]> {
        self.slices
            .as_ref()
            .and_then(|r| r.as_ref().ok())
            .map(|v| v.as_slice())
    }
}

/// What DNS said about the target.
#[derive(Debug, Default, Clone)]
pub struct DnsData {
    /// The name looked up as a pod's resolver would (the target as typed).
    pub name: String,
    pub addrs: Vec<IpAddr>,
    /// gai-style error when the lookup failed.
    pub error: Option<String>,
    pub not_found: bool,
    pub timed_out: bool,
    /// The candidate that answered (absolute).
    pub answered_as: Option<String>,
    pub candidates: Vec<String>,
    pub findings: Vec<String>,
    /// Whether the cluster DNS answers at all (kubernetes.default.svc.DOMAIN).
    pub alive: Option<bool>,
    pub servers: Vec<String>,
    pub search: Vec<String>,
    /// Other names asked and their answers: the FQDN in the Service's real namespace, SRV…
    pub extra: Vec<(String, Result<Vec<String>, String>)>,
    /// The cluster DNS Service's pods, each asked directly over UDP and TCP.
    pub pods: Vec<DnsPodCheck>,
    /// Why the DNS pods were not asked, when the API could have said who they are.
    pub pods_unknown: Option<String>,
    pub time_ms: f64,
}

/// One DNS pod (an endpoint of the nameserver's Service) asked directly: the time of an answer
/// in ms, or why none came, for UDP and for TCP.
#[derive(Debug, Clone, PartialEq)]
pub struct DnsPodCheck {
    pub label: String,
    pub ip: IpAddr,
    pub namespace: String,
    /// The DNS Service's selector: labels the pod surely has.
    pub selector: BTreeMap<String, String>,
    pub udp: Result<f64, String>,
    pub tcp: Result<f64, String>,
}

impl DnsPodCheck {
    pub fn answers(&self) -> bool {
        self.udp.is_ok() && self.tcp.is_ok()
    }

    pub fn text(&self) -> String {
        let one = |r: &Result<f64, String>, proto: &str| match r {
            Ok(ms) => format!("{proto} answers ({ms} ms)"),
            Err(e) => format!("{proto}: {e}"),
        };
        format!(
            "DNS pod {}: {}, {}",
            self.label,
            one(&self.udp, "UDP"),
            one(&self.tcp, "TCP")
        )
    }
}

/// The Service port being checked and how it maps to the pods.
#[derive(Debug, Clone, Default)]
pub struct PortPlan {
    pub port: Option<u16>,
    pub name: Option<String>,
    pub target: Option<IntOrString>,
    pub node_port: Option<u16>,
    pub protocol: String,
    /// How the port was chosen.
    pub note: Option<String>,
}

impl PortPlan {
    pub fn from_service_port(p: &ServicePort) -> Self {
        PortPlan {
            port: Some(p.port),
            name: p.name.clone(),
            target: p.target_port.clone().or(Some(IntOrString::Int(p.port))),
            node_port: p.node_port,
            protocol: p.protocol.clone(),
            note: None,
        }
    }

    pub fn describe(&self) -> String {
        let mut s = match (&self.name, self.port) {
            (Some(n), Some(p)) => format!("port {n} {p}"),
            (None, Some(p)) => format!("port {p}"),
            (Some(n), None) => format!("port {n}"),
            (None, None) => "no port".into(),
        };
        match &self.target {
            Some(IntOrString::Int(t)) if Some(*t) != self.port => {
                s.push_str(&format!(" -> targetPort {t}"))
            }
            Some(IntOrString::Str(t)) => s.push_str(&format!(" -> targetPort {t}")),
            _ => {}
        }
        if let Some(np) = self.node_port {
            s.push_str(&format!(", nodePort {np}"));
        }
        s
    }
}

/// An endpoint the Service has (from the API) or was given (--endpoints).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointRef {
    pub ip: IpAddr,
    pub port: u16,
    pub ready: bool,
    pub pod: Option<String>,
}

/// Endpoints from the EndpointSlices, on the slice port that matches the Service port.
pub fn endpoints_of(
    slices: &[EndpointSlice],
    plan: &PortPlan,
    pods: Option<&[Pod]>,
) -> Vec<EndpointRef> {
    let mut out = Vec::new();
    // Linear in the number of endpoints: one look-up table for pods, one set for duplicates.
    let by_name: std::collections::HashMap<&str, &Pod> = pods
        .unwrap_or(&[])
        .iter()
        .map(|p| (p.metadata.name.as_str(), p))
        .collect();
    let mut seen: std::collections::HashSet<(IpAddr, u16)> = std::collections::HashSet::new();
    for s in slices {
        let slice_port = s.ports.as_ref().and_then(|ports| {
            ports
                .iter()
                .find(|p| {
                    p.name.as_deref().unwrap_or("") == plan.name.as_deref().unwrap_or("")
                        || ports.len() == 1
                })
                .and_then(|p| p.port)
        });
        for e in s.endpoints.iter().flatten() {
            let pod_name = e
                .target_ref
                .as_ref()
                .filter(|t| t.kind == "Pod")
                .map(|t| t.name.clone());
            for a in &e.addresses {
                let Ok(ip) = a.parse::<IpAddr>() else {
                    continue;
                };
                let port = slice_port.or_else(|| {
                    target_port_for(
                        plan,
                        pod_name.as_deref().and_then(|n| by_name.get(n).copied()),
                    )
                });
                let Some(port) = port else { continue };
                if !seen.insert((ip, port)) {
                    continue;
                }
                out.push(EndpointRef {
                    ip,
                    port,
                    ready: e.conditions.ready != Some(false),
                    pod: pod_name.clone(),
                });
            }
        }
    }
    out
}

fn target_port_for(plan: &PortPlan, pod: Option<&Pod>) -> Option<u16> {
    match plan.target.as_ref()? {
        IntOrString::Int(p) => Some(*p),
        t @ IntOrString::Str(_) => pod?.resolve_port(t),
    }
}

fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn ok_probe(p: &Probe) -> bool {
    p.tcp == Tcp::Open && p.http_status().is_none_or(|s| s < 500)
}

fn probe_list(probes: &[Probe], max: usize) -> String {
    let mut parts: Vec<String> = probes
        .iter()
        .take(max)
        .map(|p| format!("{} {}", p.label, p.summary()))
        .collect();
    if probes.len() > max {
        parts.push(format!("… {} more", probes.len() - max));
    }
    parts.join("; ")
}

/// The probes' outcome in a few words: "2/2 answer (HTTP 200)", "0/2 answer: 2 timed out".
fn tally(probes: &[Probe]) -> String {
    let ok = probes.iter().filter(|p| ok_probe(p)).count();
    let mut codes: Vec<u16> = probes.iter().filter_map(|p| p.http_status()).collect();
    codes.sort_unstable();
    codes.dedup();
    let mut s = format!("{ok}/{} answer", probes.len());
    if !codes.is_empty() {
        s.push_str(&format!(
            " (HTTP {})",
            codes
                .iter()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let mut bad: BTreeMap<&str, usize> = BTreeMap::new();
    for p in probes.iter().filter(|p| p.tcp != Tcp::Open) {
        *bad.entry(p.tcp.words()).or_default() += 1;
    }
    if !bad.is_empty() {
        s.push_str(": ");
        s.push_str(
            &bad.iter()
                .map(|(w, n)| format!("{n} {w}"))
                .collect::<Vec<_>>()
                .join(", "),
        );
    }
    s
}

// ---- DNS ----

pub struct DnsContext<'a> {
    pub dns: &'a DnsData,
    /// The Service's namespace as the pod would guess it (from its search list), and where the
    /// API found it.
    pub searched_namespace: Option<&'a str>,
    pub service_namespace: Option<&'a str>,
    pub service_name: Option<&'a str>,
    pub service_exists: Option<bool>,
    pub cluster_ips: &'a [String],
    pub is_short_name: bool,
    /// This pod's egress NetworkPolicies and the cluster DNS: a finding when they allow no
    /// lookup, else evidence (when that is unknown).
    pub egress: (Option<Finding>, Vec<String>),
}

pub fn dns_step(c: &DnsContext) -> (Step, Option<Finding>) {
    let d = c.dns;
    let mut step;
    let mut finding = None;
    let (silent, answering): (Vec<&DnsPodCheck>, Vec<&DnsPodCheck>) =
        d.pods.iter().partition(|p| !p.answers());
    if d.error.is_none() {
        let via = match &d.answered_as {
            Some(a) if a.trim_end_matches('.') != d.name.trim_end_matches('.') => {
                format!(" (as {})", a.trim_end_matches('.'))
            }
            _ => String::new(),
        };
        let addrs: Vec<String> = d.addrs.iter().map(|a| a.to_string()).collect();
        step = Step::new(
            "dns",
            "DNS",
            Status::Ok,
            format!("{}{via} -> {}", d.name, addrs.join(", ")),
        );
        // A record that disagrees with the Service: stale DNS or a different Service.
        if !c.cluster_ips.is_empty() && c.cluster_ips.iter().all(|ip| ip != "None") {
            let matches = d
                .addrs
                .iter()
                .any(|a| c.cluster_ips.iter().any(|ip| ip == &a.to_string()));
            if !matches {
                step.status = Status::Fail;
                finding = Some(Finding {
                    hop: "dns",
                    cause: "dns-mismatch",
                    message: format!("{} resolves to {} but the Service's ClusterIP is {}", d.name, addrs.join(", "), c.cluster_ips.join(", ")),
                    evidence: d.findings.clone(),
                    hint: Some("check /etc/hosts and hostAliases, and that the name is the Service you mean".into()),
                });
            }
        }
    } else {
        step = Step::new(
            "dns",
            "DNS",
            Status::Fail,
            format!("{}: {}", d.name, d.error.as_deref().unwrap_or("no answer")),
        );
        let mut evidence = d.findings.clone();
        for (name, r) in &d.extra {
            evidence.push(match r {
                Ok(a) => format!("{name} -> {}", a.join(", ")),
                Err(e) => format!("{name}: {e}"),
            });
        }
        for p in &d.pods {
            evidence.push(p.text());
        }
        let pods_answering: Vec<&DnsPodCheck> = d.pods.iter().filter(|p| p.udp.is_ok()).collect();
        finding = Some(
            if (d.timed_out || d.alive == Some(false)) && !pods_answering.is_empty() {
                // The pods answer when asked directly: what is between is this node's Service proxy.
                Finding {
                hop: "dns",
                cause: "dns-service-proxy",
                message: format!(
                    "the cluster DNS address {} does not answer, but the DNS pods do when asked directly ({}): this node's service proxy (kube-proxy) does not forward the DNS Service",
                    d.servers.join(", "),
                    pods_answering.iter().map(|p| p.label.as_str()).collect::<Vec<_>>().join(", ")
                ),
                evidence,
                hint: Some("check kube-proxy on this node (its logs; iptables-save | grep the DNS address), and that the Service's endpoints are current".into()),
            }
            } else if d.timed_out || d.alive == Some(false) {
                Finding {
                hop: "dns",
                cause: "dns-unreachable",
                message: format!("the cluster DNS ({}) does not answer", d.servers.join(", ")),
                evidence,
                hint: Some("check the kube-dns Service and the CoreDNS pods (kubectl -n kube-system get pods -l k8s-app=kube-dns), and NetworkPolicies on port 53 UDP and TCP".into()),
            }
            } else if let (Some(real), Some(name)) = (c.service_namespace, c.service_name)
                && c.searched_namespace.is_some_and(|s| s != real)
                && c.is_short_name
            {
                Finding {
                    hop: "dns",
                    cause: "dns-wrong-namespace",
                    message: format!(
                        "`{}` is looked up in namespace {} (this pod's search list starts with {}) but Service {name} lives in namespace {real}",
                        d.name,
                        c.searched_namespace.unwrap_or("?"),
                        d.search.first().map(String::as_str).unwrap_or("?"),
                    ),
                    evidence,
                    hint: Some(format!(
                        "use {name}.{real} (or {name}.{real}.svc), or run diagnose with -n {real}"
                    )),
                }
            } else if c.service_exists == Some(true) {
                Finding {
                hop: "dns",
                cause: "dns-missing-record",
                message: format!("Service {} exists but the cluster DNS has no record for {}", c.service_name.unwrap_or("?"), d.name),
                evidence,
                hint: Some("check the CoreDNS logs and its kubernetes plugin (cluster domain, RBAC to watch Services)".into()),
            }
            } else {
                Finding {
                hop: "dns",
                cause: "dns-not-found",
                message: format!("{} does not resolve: {}", d.name, d.error.as_deref().unwrap_or("no answer")),
                evidence,
                hint: Some("check the Service's name and namespace (a short name only finds Services in this pod's namespace)".into()),
            }
            },
        );
    }
    // Some DNS pods answer and some do not: lookups through the Service fail or stall whenever
    // the proxy picks a silent one. That is the DNS hop's failure even when this name resolved.
    if !silent.is_empty() && !answering.is_empty() {
        step.status = Status::Fail;
        let labels = |v: &[&DnsPodCheck]| {
            v.iter()
                .map(|p| p.label.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        finding = Some(Finding {
            hop: "dns",
            cause: "dns-pod-down",
            message: format!(
                "{} of {} cluster DNS pods do{} not answer ({}) while {} do{}: lookups through {} fail or wait for a retry whenever the service proxy picks {}",
                silent.len(),
                d.pods.len(),
                if silent.len() == 1 { "es" } else { "" },
                labels(&silent),
                labels(&answering),
                if answering.len() == 1 { "es" } else { "" },
                d.servers.join(", "),
                if silent.len() == 1 {
                    "it"
                } else {
                    "one of them"
                },
            ),
            evidence: silent.iter().map(|p| p.text()).collect(),
            hint: Some(format!(
                "kubectl -n {} get pods -o wide -l {}; then the silent pod's logs and its node's network",
                silent[0].namespace,
                silent[0]
                    .selector
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(",")
            )),
        });
    } else if d.error.is_some() && (d.timed_out || d.alive == Some(false)) {
        // Nothing answers: this pod's egress policies may be why.
        let (egress_finding, evidence) = c.egress.clone();
        step.evidence.extend(evidence);
        if let Some(f) = egress_finding {
            step.evidence.push(f.message.clone());
            finding = Some(f);
        }
    }
    for p in &d.pods {
        step.evidence.push(p.text());
    }
    if let Some(why) = &d.pods_unknown {
        step.evidence.push(format!("DNS pods not asked: {why}"));
    }
    let alive = match d.alive {
        Some(true) => "answers",
        Some(false) => "does not answer",
        None => "was not checked",
    };
    step.evidence.push(format!(
        "resolver: nameserver {}; search {}; the cluster DNS {alive}",
        d.servers.join(" "),
        if d.search.is_empty() {
            "(none)".into()
        } else {
            d.search.join(" ")
        }
    ));
    if d.error.is_some() || d.candidates.len() > 1 {
        step.evidence.push(format!(
            "tried {}",
            d.candidates
                .iter()
                .map(|c| c.trim_end_matches('.'))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    for f in &d.findings {
        if !step.evidence.contains(f) {
            step.evidence.push(f.clone());
        }
    }
    for (name, r) in &d.extra {
        let line = match r {
            Ok(a) => format!("{name} -> {}", a.join(", ")),
            Err(e) => format!("{name}: {e}"),
        };
        if !step.evidence.contains(&line) {
            step.evidence.push(line);
        }
    }
    step.time_ms = d.time_ms;
    (step, finding)
}

// ---- Endpoints ----

pub struct EndpointContext<'a> {
    pub service: Option<&'a Service>,
    pub pods: Option<&'a [Pod]>,
    pub endpoints: &'a [EndpointRef],
    /// The endpoints came from --endpoints, not the API.
    pub given: bool,
    pub plan: &'a PortPlan,
    pub probes: &'a [Probe],
    /// Probes of the pods' declared container ports, when the targetPort is not among them.
    pub declared_probes: &'a [Probe],
    pub namespace: &'a str,
    /// Why the endpoints are unknown (API not readable…), when they are.
    pub unknown_because: Option<String>,
}

pub fn endpoints_step(c: &EndpointContext) -> (Step, Option<Finding>) {
    let title = "Endpoints";
    if c.endpoints.is_empty() && c.service.is_none() {
        let why = c
            .unknown_because
            .clone()
            .unwrap_or_else(|| "no endpoints known (the API was not read)".into());
        return (
            Step::skipped(
                "endpoints",
                title,
                format!("{why}; give --endpoints IP,… to probe them"),
            ),
            None,
        );
    }
    let ready: Vec<&EndpointRef> = c.endpoints.iter().filter(|e| e.ready).collect();
    let port = c.endpoints.first().map(|e| e.port);
    if let Some(svc) = c.service.filter(|_| c.endpoints.is_empty()) {
        return no_endpoints(c, svc);
    }
    let port_text = port.map(|p| format!(":{p}")).unwrap_or_default();
    let source = if c.given { "given" } else { "from the API" };
    let mut step = Step::new(
        "endpoints",
        title,
        Status::Ok,
        format!(
            "{}/{} ready ({source}), {} on {port_text}",
            ready.len(),
            c.endpoints.len(),
            tally(c.probes)
        ),
    );
    step.probes = c.probes.to_vec();
    if !c.given && ready.is_empty() {
        step.status = Status::Fail;
        let answering = c.probes.iter().filter(|p| ok_probe(p)).count();
        let mut evidence = vec![format!("probes: {}", probe_list(c.probes, 5))];
        if answering > 0 {
            evidence.push(format!("{answering} of them answer on {port_text} all the same: the readiness probe may test the wrong thing"));
        }
        // What each not-ready pod says about itself: its Ready condition, restarts, waiting.
        for e in c.endpoints {
            if let Some(pod) = c.pods.and_then(|pods| {
                pods.iter()
                    .find(|p| Some(&p.metadata.name) == e.pod.as_ref())
            }) {
                evidence.push(pod.readiness_text());
            }
        }
        let pods: Vec<String> = c
            .endpoints
            .iter()
            .map(|e| e.pod.clone().unwrap_or_else(|| e.ip.to_string()))
            .collect();
        let f = Finding {
            hop: "endpoints",
            cause: "endpoints-not-ready",
            message: format!(
                "0 of {} ready: {} not Ready, so the Service sends traffic nowhere",
                count(c.endpoints.len(), "endpoint is", "endpoints are"),
                pods.join(", ")
            ),
            evidence,
            hint: Some("kubectl describe pod: the readiness probe and its failures".into()),
        };
        step.evidence = f.evidence.clone();
        return (step, Some(f));
    }
    failing_endpoints(c, step, port, &port_text)
}

/// A Service with no endpoint at all: a missing selector, a selector that matches no pod, or
/// pods that are not ready.
fn no_endpoints(c: &EndpointContext, svc: &Service) -> (Step, Option<Finding>) {
    let title = "Endpoints";
    let selector = svc.spec.selector.clone().unwrap_or_default();
    let mut step = Step::new(
        "endpoints",
        title,
        Status::Fail,
        "the Service has no endpoints",
    );
    if selector.is_empty() {
        let f = Finding {
            hop: "endpoints",
            cause: "no-endpoints",
            message: format!(
                "Service {} has no selector and no endpoints: its EndpointSlices are managed by hand and hold no address",
                svc.metadata.name
            ),
            evidence: vec![],
            hint: Some("create an EndpointSlice for it, or give the Service a selector".into()),
        };
        step.evidence.push(f.message.clone());
        return (step, Some(f));
    }
    let sel = kube::selector_text(&selector);
    let Some(pods) = c.pods else {
        let f = Finding {
            hop: "endpoints",
            cause: "no-endpoints",
            message: format!(
                "Service {} (selector {sel}) has no endpoints",
                svc.metadata.name
            ),
            evidence: vec!["pods could not be read to compare their labels".into()],
            hint: Some(format!("kubectl get pods -n {} -l {sel}", c.namespace)),
        };
        step.evidence.push(f.message.clone());
        return (step, Some(f));
    };
    let matching: Vec<&Pod> = pods
        .iter()
        .filter(|p| kube::selects(&selector, &p.metadata.labels))
        .collect();
    if matching.is_empty() {
        return selector_mismatch(c, &selector, &sel, pods, step);
    }
    let names: Vec<&str> = matching.iter().map(|p| p.metadata.name.as_str()).collect();
    // A named targetPort that none of the selected pods declares: the EndpointSlice controller
    // leaves every such pod out, so the Service has no endpoints although its pods run.
    if let Some(IntOrString::Str(port_name)) = &c.plan.target
        && matching.iter().all(|p| {
            p.resolve_port(&IntOrString::Str(port_name.clone()))
                .is_none()
        })
    {
        let declared: Vec<String> = matching
            .iter()
            .flat_map(|p| p.container_ports())
            .map(|cp| match &cp.name {
                Some(n) => format!("{n}:{}", cp.container_port),
                None => cp.container_port.to_string(),
            })
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let f = Finding {
            hop: "endpoints",
            cause: "targetport-name-unknown",
            message: format!(
                "targetPort {port_name} is a name no container of the selected pods declares ({}), so none of them becomes an endpoint",
                if declared.is_empty() {
                    "they declare no ports".to_string()
                } else {
                    format!("they declare {}", declared.join(", "))
                }
            ),
            evidence: vec![format!("selector {sel} matches {}", names.join(", "))],
            hint: Some(
                "name the container port as the Service's targetPort, or give the targetPort as a number".into(),
            ),
        };
        step.evidence.push(f.message.clone());
        return (step, Some(f));
    }
    let not_ready: Vec<&str> = matching
        .iter()
        .filter(|p| !p.ready())
        .map(|p| p.metadata.name.as_str())
        .collect();
    let f = if !not_ready.is_empty() && not_ready.len() == matching.len() {
        Finding {
            hop: "endpoints",
            cause: "endpoints-not-ready",
            message: format!(
                "selector {sel} matches {} ({}) but none is Ready",
                count(matching.len(), "pod", "pods"),
                names.join(", ")
            ),
            evidence: matching
                .iter()
                .filter(|p| !p.ready())
                .map(|p| p.readiness_text())
                .collect(),
            hint: Some("kubectl describe pod: readiness probe, crash loops".into()),
        }
    } else {
        Finding {
            hop: "endpoints",
            cause: "no-endpoints",
            message: format!(
                "selector {sel} matches {} ({}) but the Service has no endpoints",
                count(matching.len(), "pod", "pods"),
                names.join(", ")
            ),
            evidence: vec![],
            hint: Some(
                "check the EndpointSlice controller (kube-controller-manager) and the pods' IPs"
                    .into(),
            ),
        }
    };
    step.evidence.push(f.message.clone());
    (step, Some(f))
}

/// The selector matches no pod: name the labels the pods carry for its keys.
fn selector_mismatch(
    c: &EndpointContext,
    selector: &BTreeMap<String, String>,
    sel: &str,
    pods: &[Pod],
    mut step: Step,
) -> (Step, Option<Finding>) {
    let mut evidence = Vec::new();
    // The key=value labels the pods do carry for the selector's keys.
    let mut carried = Vec::new();
    for key in selector.keys() {
        let mut by_value: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for p in pods {
            if let Some(v) = p.metadata.labels.get(key) {
                by_value
                    .entry(v.as_str())
                    .or_default()
                    .push(p.metadata.name.as_str());
            }
        }
        if by_value.is_empty() {
            evidence.push(format!("no pod in {} has a label {key}", c.namespace));
        }
        for (v, names) in by_value {
            carried.push(format!("{key}={v}"));
            evidence.push(format!(
                "{} carry {key}={v} ({})",
                count(names.len(), "pod", "pods"),
                names.join(", ")
            ));
        }
    }
    let mut message = format!(
        "Service selector {sel} matches 0 of {} in {}",
        count(pods.len(), "pod", "pods"),
        c.namespace
    );
    if !carried.is_empty() {
        message.push_str(&format!("; pods carry {}", carried.join(", ")));
    }
    step.summary = format!("0 endpoints: selector {sel} matches no pod");
    step.evidence = evidence.clone();
    (
        step,
        Some(Finding {
            hop: "endpoints",
            cause: "selector-mismatch",
            message,
            evidence,
            hint: Some(
                "fix the Service's selector or the pods' labels (kubectl get pods --show-labels)"
                    .into(),
            ),
        }),
    )
}

/// Ready endpoints that fail their probes: what kind of failure, in the order the causes are
/// most likely.
fn failing_endpoints(
    c: &EndpointContext,
    mut step: Step,
    port: Option<u16>,
    port_text: &str,
) -> (Step, Option<Finding>) {
    let label_of = |p: &Probe| p.label.clone();
    let ready: std::collections::HashSet<String> = c
        .endpoints
        .iter()
        .filter(|e| e.ready)
        .map(|e| crate::probe::show_addr(&std::net::SocketAddr::new(e.ip, e.port)))
        .collect();
    let ready_probes: Vec<&Probe> = c
        .probes
        .iter()
        .filter(|p| ready.contains(&p.address))
        .collect();
    let failing: Vec<&Probe> = ready_probes
        .iter()
        .copied()
        .filter(|p| !ok_probe(p))
        .collect();
    if failing.is_empty() {
        return (step, None);
    }
    step.status = Status::Fail;
    let refused = failing.iter().filter(|p| p.tcp == Tcp::Refused).count();
    let timed_out = failing
        .iter()
        .filter(|p| matches!(p.tcp, Tcp::Timeout | Tcp::Unreachable))
        .count();
    let server_errors: Vec<&&Probe> = failing.iter().filter(|p| p.tcp == Tcp::Open).collect();
    let mut evidence = vec![format!(
        "probes: {}",
        probe_list(&failing.iter().map(|p| (*p).clone()).collect::<Vec<_>>(), 5)
    )];
    let declared_ok: Vec<&Probe> = c.declared_probes.iter().filter(|p| ok_probe(p)).collect();
    let f = if refused > 0
        && refused == failing.len()
        && (!declared_ok.is_empty() || declared_mismatch(c))
    {
        let declared = declared_ports(c);
        if !declared_ok.is_empty() {
            evidence.push(format!(
                "the pods answer on their declared port: {}",
                probe_list(
                    &declared_ok.iter().map(|p| (*p).clone()).collect::<Vec<_>>(),
                    3
                )
            ));
        }
        let target = match &c.plan.target {
            Some(IntOrString::Int(t)) => t.to_string(),
            Some(IntOrString::Str(s)) => s.clone(),
            None => port.map(|p| p.to_string()).unwrap_or_default(),
        };
        Finding {
            hop: "endpoints",
            cause: "wrong-targetport",
            message: format!(
                "Service targetPort {target} but the pods listen on {declared}: the endpoints refuse {port_text}"
            ),
            evidence,
            hint: Some(format!(
                "set the Service's targetPort to {declared} (or to the container port's name)"
            )),
        }
    } else if refused == failing.len() {
        Finding {
            hop: "endpoints",
            cause: "endpoints-refused",
            message: format!(
                "{} refuse connections on {port_text}: nothing listens there",
                count(refused, "endpoint", "endpoints")
            ),
            evidence,
            hint: Some(
                "check the container's listen address (0.0.0.0, not 127.0.0.1) and port".into(),
            ),
        }
    } else if timed_out > 0 {
        Finding {
            hop: "endpoints",
            cause: "endpoints-unreachable",
            message: format!(
                "{} of {} do not answer on {port_text} ({})",
                timed_out,
                count(ready_probes.len(), "ready endpoint", "ready endpoints"),
                failing
                    .iter()
                    .map(|p| label_of(p))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            evidence,
            hint: Some(
                "a NetworkPolicy, or the pod network between nodes (CNI), drops the traffic".into(),
            ),
        }
    } else if !server_errors.is_empty() {
        Finding {
            hop: "endpoints",
            cause: "app-error",
            message: format!(
                "{} answer with a server error",
                server_errors
                    .iter()
                    .map(|p| format!("{} (HTTP {})", p.label, p.http_status().unwrap_or(0)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            evidence,
            hint: Some("the network works; check the application's logs".into()),
        }
    } else {
        Finding {
            hop: "endpoints",
            cause: "endpoints-failing",
            message: format!(
                "{} of {} fail",
                failing.len(),
                count(ready_probes.len(), "ready endpoint", "ready endpoints")
            ),
            evidence,
            hint: None,
        }
    };
    step.evidence = f.evidence.clone();
    (step, Some(f))
}

/// The container ports the matching pods declare, as "8080 (http)".
fn declared_ports(c: &EndpointContext) -> String {
    let mut seen: Vec<String> = Vec::new();
    let by_name: std::collections::HashMap<&str, &Pod> = c
        .pods
        .unwrap_or(&[])
        .iter()
        .map(|p| (p.metadata.name.as_str(), p))
        .collect();
    let mut pods_seen: std::collections::HashSet<&str> = std::collections::HashSet::new();
    for e in c.endpoints {
        let Some(pod) = e.pod.as_deref().and_then(|n| by_name.get(n).copied()) else {
            continue;
        };
        if !pods_seen.insert(pod.metadata.name.as_str()) {
            continue;
        }
        for cp in pod.container_ports() {
            let s = match &cp.name {
                Some(n) => format!("{} ({n})", cp.container_port),
                None => cp.container_port.to_string(),
            };
            if !seen.contains(&s) {
                seen.push(s);
            }
        }
    }
    if seen.is_empty() {
        "another port".into()
    } else {
        seen.join(", ")
    }
}

/// The targetPort is not among the ports the endpoints' pods declare.
fn declared_mismatch(c: &EndpointContext) -> bool {
    let Some(pods) = c.pods else { return false };
    let by_name: std::collections::HashMap<&str, &Pod> =
        pods.iter().map(|p| (p.metadata.name.as_str(), p)).collect();
    c.endpoints.iter().any(|e| {
        e.pod
            .as_deref()
            .and_then(|n| by_name.get(n))
            .is_some_and(|p| {
                !p.container_ports().is_empty()
                    && !p
                        .container_ports()
                        .iter()
                        .any(|cp| cp.container_port == e.port)
            })
    })
}

// ---- ClusterIP, NodePort and LoadBalancer: steps that are their probes ----

/// A step made of `probes`: ok when every probe answers, failed otherwise; the failing probes
/// come back for the cause.
fn probed<'a>(
    id: &'static str,
    title: &'static str,
    summary: String,
    probes: &'a [Probe],
) -> (Step, Vec<&'a Probe>) {
    let mut step = Step::new(id, title, Status::Ok, summary);
    step.probes = probes.to_vec();
    let failing: Vec<&Probe> = probes.iter().filter(|p| !ok_probe(p)).collect();
    if !failing.is_empty() {
        step.status = Status::Fail;
    }
    (step, failing)
}

/// "10.96.0.100:3000 connected, HTTP 200 (1.2 ms); …", each led by its label if asked.
fn summaries(probes: &[Probe], labelled: bool) -> String {
    probes
        .iter()
        .map(|p| {
            if labelled {
                format!("{} {}", p.label, p.summary())
            } else {
                p.summary()
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// "10.96.0.100:3000 timed out", one per failing probe.
fn failed_words(failing: &[&Probe]) -> Vec<String> {
    failing
        .iter()
        .map(|p| format!("{} {}", p.address, p.tcp.words()))
        .collect()
}

pub fn clusterip_step(
    probes: &[Probe],
    skipped: Option<String>,
    endpoints_ok: Option<bool>,
    endpoints_finding: Option<&Finding>,
) -> (Step, Option<Finding>) {
    let title = "ClusterIP";
    if let Some(why) = skipped {
        return (Step::skipped("clusterip", title, why), None);
    }
    let (mut step, failing) = probed("clusterip", title, summaries(probes, false), probes);
    if failing.is_empty() {
        return (step, None);
    }
    let words = failed_words(&failing);
    let refused = failing.iter().all(|p| p.tcp == Tcp::Refused);
    let f = match (endpoints_ok, endpoints_finding) {
        (_, Some(ef)) => Finding {
            hop: "clusterip",
            cause: "no-ready-endpoints",
            message: format!("{}: the Service has nowhere to send traffic ({})", words.join(", "), ef.cause),
            evidence: vec![],
            hint: None,
        },
        (Some(true), None) if failing.iter().all(|p| p.tcp == Tcp::Open) => Finding {
            hop: "clusterip",
            cause: "clusterip-http-error",
            message: format!("{} while the endpoints answer", failing.iter().map(|p| p.summary()).collect::<Vec<_>>().join(", ")),
            evidence: vec![],
            hint: None,
        },
        (Some(true), None) => Finding {
            hop: "clusterip",
            cause: "kube-proxy",
            message: if refused {
                format!("{} while the endpoints answer directly: the service proxy rejects the traffic as if the Service had no endpoints", words.join(", "))
            } else {
                format!(
                    "{} while the endpoints answer directly: the ClusterIP is not translated on this node; kube-proxy (or the CNI's service proxy) is not running or has not programmed this Service",
                    words.join(", ")
                )
            },
            evidence: vec![],
            hint: Some("kubectl -n kube-system get pods -l k8s-app=kube-proxy -o wide, and its logs on this pod's node; iptables-save | grep the ClusterIP on the node".into()),
        },
        _ => Finding {
            hop: "clusterip",
            cause: "clusterip-unreachable",
            message: format!("{} (the endpoints could not be checked)", words.join(", ")),
            evidence: vec![],
            hint: Some("give --endpoints to tell a dead Service from a dead service proxy".into()),
        },
    };
    step.evidence.push(f.message.clone());
    (step, Some(f))
}

/// externalTrafficPolicy: Local: which nodes have an endpoint of their own (EndpointSlices'
/// nodeName), and kube-proxy's health check on each node (healthCheckNodePort).
#[derive(Debug, Clone, Default)]
pub struct LocalTraffic {
    pub with_endpoints: Vec<String>,
    pub health: Vec<Probe>,
}

pub fn nodeport_step(
    probes: &[Probe],
    skipped: Option<String>,
    node_port: Option<u16>,
    clusterip_ok: bool,
    local: Option<&LocalTraffic>,
) -> (Step, Option<Finding>) {
    let title = "NodePort";
    if let Some(why) = skipped {
        return (Step::skipped("nodeport", title, why), None);
    }
    let np = node_port.map(|p| p.to_string()).unwrap_or_default();
    let summary = format!("{np} on {}", summaries(probes, true));
    let (mut step, mut failing) = probed("nodeport", title, summary, probes);
    if let Some(l) = local {
        step.evidence.push(format!(
            "externalTrafficPolicy: Local: nodes with a local endpoint: {}",
            if l.with_endpoints.is_empty() {
                "none".to_string()
            } else {
                l.with_endpoints.join(", ")
            }
        ));
        if !l.health.is_empty() {
            step.evidence.push(format!(
                "health check (healthCheckNodePort): {}",
                l.health
                    .iter()
                    .map(|p| match p.http_status() {
                        Some(code) => format!("{} HTTP {code}", p.label),
                        None => format!("{} {}", p.label, p.tcp.words()),
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        // A node without a local endpoint drops NodePort traffic by design: explained, not broken.
        let (by_design, real): (Vec<&Probe>, Vec<&Probe>) = failing
            .into_iter()
            .partition(|p| !l.with_endpoints.contains(&p.label));
        for p in &by_design {
            step.evidence.push(format!(
                "{} {} {}: no local endpoint there, and externalTrafficPolicy: Local drops the traffic by design",
                p.label,
                p.address,
                p.tcp.words()
            ));
        }
        failing = real;
        if failing.is_empty() {
            step.status = Status::Ok;
            return (step, None);
        }
    }
    if failing.is_empty() {
        return (step, None);
    }
    let where_: Vec<String> = failing
        .iter()
        .map(|p| format!("{} {} {}", p.label, p.address, p.tcp.words()))
        .collect();
    // Under externalTrafficPolicy: Local only the nodes with an endpoint count.
    let considered = local.map_or(probes.len(), |l| {
        probes
            .iter()
            .filter(|p| l.with_endpoints.contains(&p.label))
            .count()
    });
    let f = if !clusterip_ok {
        Finding {
            hop: "nodeport",
            cause: "nodeport-follows-clusterip",
            message: format!(
                "NodePort {np} fails too ({}), as the ClusterIP does",
                where_.join(", ")
            ),
            evidence: vec![],
            hint: None,
        }
    } else if failing.len() == considered {
        Finding {
            hop: "nodeport",
            cause: "nodeport-blocked",
            message: format!(
                "NodePort {np} fails on every node ({}) while the ClusterIP answers: a firewall in front of the nodes (cloud security group, host firewall) drops the NodePort range",
                where_.join(", ")
            ),
            evidence: vec![],
            hint: Some("allow TCP 30000-32767 from where clients come to the nodes".into()),
        }
    } else {
        Finding {
            hop: "nodeport",
            cause: "nodeport-partial",
            message: format!(
                "NodePort {np} fails on {} but answers on the other nodes: that node's kube-proxy or firewall",
                where_.join(", ")
            ),
            evidence: vec![],
            hint: Some("check kube-proxy and the firewall on the failing nodes".into()),
        }
    };
    step.evidence.push(f.message.clone());
    (step, Some(f))
}

pub fn loadbalancer_step(
    probes: &[Probe],
    skipped: Option<String>,
    pending: bool,
    clusterip_ok: bool,
    local: Option<&LocalTraffic>,
) -> (Step, Option<Finding>) {
    let title = "LoadBalancer";
    if let Some(why) = skipped {
        return (Step::skipped("loadbalancer", title, why), None);
    }
    if pending {
        let f = Finding {
            hop: "loadbalancer",
            cause: "loadbalancer-pending",
            message: "the Service is type LoadBalancer but has no external address yet (EXTERNAL-IP <pending>)".into(),
            evidence: vec![],
            hint: Some("check the cloud controller or MetalLB: kubectl describe service (events)".into()),
        };
        let mut step = Step::new(
            "loadbalancer",
            title,
            Status::Fail,
            "no address assigned (pending)",
        );
        step.evidence.push(f.message.clone());
        return (step, Some(f));
    }
    let (mut step, failing) = probed("loadbalancer", title, summaries(probes, false), probes);
    // Under externalTrafficPolicy: Local the load balancer sends outside clients only to nodes
    // whose health check says 200; from inside the cluster kube-proxy answers the address itself,
    // so this pod's probe passing does not show that outside clients get through.
    if let Some(l) = local.filter(|l| !l.health.is_empty()) {
        let healthy: Vec<&str> = l
            .health
            .iter()
            .filter(|p| p.http_status() == Some(200))
            .map(|p| p.label.as_str())
            .collect();
        step.evidence.push(format!(
            "externalTrafficPolicy: Local: outside clients are sent only to nodes whose health check answers 200: {}; from inside the cluster kube-proxy handles this address as the ClusterIP",
            if healthy.is_empty() { "none".to_string() } else { healthy.join(", ") }
        ));
        if healthy.is_empty() && failing.is_empty() {
            let f = Finding {
                hop: "loadbalancer",
                cause: "loadbalancer-no-healthy-node",
                message: "under externalTrafficPolicy: Local no node's health check answers 200: the load balancer has no healthy node to send outside clients to (this pod's probe passes only because kube-proxy answers the address inside the cluster)".into(),
                evidence: vec![],
                hint: Some("check that the Service's pods are ready and on nodes the load balancer uses, or set externalTrafficPolicy: Cluster".into()),
            };
            step.status = Status::Fail;
            step.evidence.push(f.message.clone());
            return (step, Some(f));
        }
    }
    if failing.is_empty() {
        return (step, None);
    }
    let words = failed_words(&failing);
    let f = Finding {
        hop: "loadbalancer",
        cause: if clusterip_ok {
            "loadbalancer-unreachable"
        } else {
            "loadbalancer-follows-clusterip"
        },
        message: if clusterip_ok {
            format!(
                "{} while the ClusterIP answers: the load balancer does not forward to the nodes",
                words.join(", ")
            )
        } else {
            format!("{} fails too, as the ClusterIP does", words.join(", "))
        },
        evidence: vec![],
        hint: clusterip_ok.then(|| {
            "check the load balancer's health checks and the NodePorts behind it".to_string()
        }),
    };
    step.evidence.push(f.message.clone());
    (step, Some(f))
}

// ---- A host that is no Service ----

/// Probes of an address or name diagnose found no Service behind: it fails when nothing
/// accepts a connection.
pub fn host_step(probes: &[Probe], no_port: bool, name: &str) -> (Step, Option<Finding>) {
    if probes.is_empty() {
        let why = if no_port {
            "no port: give TARGET:PORT or --port"
        } else {
            "no address to probe"
        };
        return (Step::skipped("host", "Host", why), None);
    }
    let mut step = Step::new("host", "Host", Status::Ok, summaries(probes, false));
    step.probes = probes.to_vec();
    if probes.iter().any(|p| p.tcp == Tcp::Open) {
        return (step, None);
    }
    step.status = Status::Fail;
    let all: Vec<&Probe> = probes.iter().collect();
    let f = Finding {
        hop: "host",
        cause: "host-unreachable",
        message: format!("{name} does not answer: {}", failed_words(&all).join(", ")),
        evidence: vec![],
        hint: None,
    };
    (step, Some(f))
}

// ---- Ingress ----

/// `backend_ok`: the Service's ClusterIP and endpoints work, so an ingress failure is its own.
pub fn ingress_step(
    routes: &[(Route, Vec<Probe>)],
    skipped: Option<String>,
    service_status: Option<u16>,
    backend_ok: bool,
    namespace: &str,
) -> (Step, Option<Finding>) {
    let title = "Ingress";
    if let Some(why) = skipped {
        return (Step::skipped("ingress", title, why), None);
    }
    let mut parts = Vec::new();
    let mut step = Step::new("ingress", title, Status::Ok, "");
    let mut finding = None;
    for (route, probes) in routes {
        let host = route.host.clone().unwrap_or_else(|| "*".into());
        if probes.is_empty() {
            parts.push(format!("{host}{}: no address", route.path));
            step.status = Status::Fail;
            finding.get_or_insert(Finding {
                hop: "ingress",
                cause: "ingress-no-address",
                message: format!(
                    "Ingress {namespace}/{} has no address and {host} does not resolve",
                    route.ingress
                ),
                evidence: vec![],
                hint: Some("is an ingress controller running for this Ingress's class?".into()),
            });
            continue;
        }
        for p in probes {
            parts.push(format!("{host}{} via {}", route.path, p.summary()));
            step.probes.push(p.clone());
            let status = p.http_status();
            let body = p.http.as_ref().and_then(|h| h.body.clone());
            let f = if p.tcp != Tcp::Open {
                Some(Finding {
                    hop: "ingress",
                    cause: "ingress-unreachable",
                    message: format!(
                        "the ingress address {} {} for {host}",
                        p.address,
                        p.tcp.words()
                    ),
                    evidence: vec![],
                    hint: Some("check the ingress controller's Service and pods".into()),
                })
            } else if status == Some(404) && service_status.is_some_and(|s| s != 404) {
                Some(Finding {
                    hop: "ingress",
                    cause: "ingress-not-routed",
                    message: format!(
                        "the ingress controller at {} answers 404 for Host {host}{}{} while the Service answers {}: the controller has not loaded Ingress {namespace}/{}",
                        p.address,
                        route.path,
                        body.map(|b| format!(" (\"{b}\")")).unwrap_or_default(),
                        service_status.unwrap_or(0),
                        route.ingress
                    ),
                    evidence: vec![],
                    hint: Some(format!(
                        "check the Ingress's class ({}) against the controller's, and the controller's logs",
                        route.class.clone().unwrap_or_else(|| "none set".into())
                    )),
                })
            } else if matches!(status, Some(502..=504)) || status.is_none() {
                let what = match status {
                    Some(code) => format!("answers {code}"),
                    None => format!(
                        "gives no HTTP reply ({})",
                        p.http
                            .as_ref()
                            .and_then(|h| h.error.clone())
                            .unwrap_or_default()
                    ),
                };
                Some(Finding {
                    hop: "ingress",
                    cause: if backend_ok { "ingress-backend-error" } else { "ingress-follows-backend" },
                    message: if backend_ok {
                        format!("the ingress controller at {} {what} for Host {host} while the Service answers: it cannot reach the Service's endpoints", p.address)
                    } else {
                        format!("the ingress controller at {} {what} for Host {host}, as the Service behind it fails", p.address)
                    },
                    evidence: vec![],
                    hint: backend_ok.then(|| "check the Ingress backend's service name and port, and NetworkPolicies from the controller's namespace".to_string()),
                })
            } else {
                None
            };
            if let Some(f) = f {
                step.status = Status::Fail;
                step.evidence.push(f.message.clone());
                finding.get_or_insert(f);
            }
        }
    }
    step.summary = parts.join("; ");
    (step, finding)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::HttpResult;

    fn probe(label: &str, addr: &str, tcp: Tcp, status: Option<u16>) -> Probe {
        Probe {
            address: addr.into(),
            label: label.into(),
            tcp,
            tcp_ms: 0.5,
            tcp_error: None,
            http: status.map(|s| HttpResult {
                status: Some(s),
                time_ms: 0.5,
                error: None,
                body: None,
            }),
            host: None,
            done_ms: 1.0,
        }
    }

    fn service(selector: &str, target: u16) -> Service {
        serde_json::from_str(&format!(
            r#"{{"metadata":{{"name":"web","namespace":"default"}},"spec":{{"type":"NodePort","selector":{selector},"clusterIP":"10.96.0.100",
                "ports":[{{"name":"http","port":3000,"targetPort":{target},"nodePort":30080}}]}}}}"#
        ))
        .unwrap()
    }

    fn pod(name: &str, app: &str, ready: bool) -> Pod {
        serde_json::from_str(&format!(
            r#"{{"metadata":{{"name":"{name}","labels":{{"app":"{app}"}}}},"spec":{{"containers":[{{"name":"c","ports":[{{"name":"http","containerPort":8080}}]}}]}},
                "status":{{"podIP":"10.0.0.1","conditions":[{{"type":"Ready","status":"{}"}}]}}}}"#,
            if ready { "True" } else { "False" }
        ))
        .unwrap()
    }

    fn ep(ip: &str, port: u16, ready: bool, pod: &str) -> EndpointRef {
        EndpointRef {
            ip: ip.parse().unwrap(),
            port,
            ready,
            pod: Some(pod.into()),
        }
    }

    #[test]
    fn selector_matching_no_pod_names_the_labels() {
        let svc = service(r#"{"app":"web-v2"}"#, 8080);
        let pods = vec![
            pod("web1", "web", true),
            pod("web2", "web", true),
            pod("db", "postgres", true),
        ];
        let plan = PortPlan::from_service_port(&svc.spec.ports[0]);
        let c = EndpointContext {
            service: Some(&svc),
            pods: Some(&pods),
            endpoints: &[],
            given: false,
            plan: &plan,
            probes: &[],
            declared_probes: &[],
            namespace: "default",
            unknown_because: None,
        };
        let (step, f) = endpoints_step(&c);
        assert_eq!(step.status, Status::Fail);
        let f = f.unwrap();
        assert_eq!((f.hop, f.cause), ("endpoints", "selector-mismatch"));
        assert!(f.message.starts_with("Service selector app=web-v2 matches 0 of 3 pods in default; pods carry app=postgres, app=web"), "{}", f.message);
        assert!(
            f.evidence
                .contains(&"2 pods carry app=web (web1, web2)".to_string()),
            "{:?}",
            f.evidence
        );
    }

    #[test]
    fn a_named_target_port_no_pod_declares() {
        let mut svc = service(r#"{"app":"web"}"#, 8080);
        svc.spec.ports[0].target_port = Some(IntOrString::Str("web".into()));
        let pods = vec![pod("web1", "web", true), pod("web2", "web", true)];
        let plan = PortPlan::from_service_port(&svc.spec.ports[0]);
        let c = EndpointContext {
            service: Some(&svc),
            pods: Some(&pods),
            endpoints: &[],
            given: false,
            plan: &plan,
            probes: &[],
            declared_probes: &[],
            namespace: "default",
            unknown_because: None,
        };
        let f = endpoints_step(&c).1.unwrap();
        assert_eq!(f.cause, "targetport-name-unknown");
        assert!(
            f.message.starts_with("targetPort web is a name no container of the selected pods declares (they declare http:8080)"),
            "{}",
            f.message
        );
        // The same pods with the name declared: not this cause.
        let mut named = svc.clone();
        named.spec.ports[0].target_port = Some(IntOrString::Str("http".into()));
        let plan = PortPlan::from_service_port(&named.spec.ports[0]);
        let c = EndpointContext {
            service: Some(&named),
            plan: &plan,
            ..c
        };
        assert_ne!(
            endpoints_step(&c).1.unwrap().cause,
            "targetport-name-unknown"
        );
    }

    #[test]
    fn not_ready_endpoints() {
        let svc = service(r#"{"app":"web"}"#, 8080);
        let pods = vec![pod("web1", "web", false), pod("web2", "web", false)];
        let plan = PortPlan::from_service_port(&svc.spec.ports[0]);
        let eps = vec![
            ep("10.244.1.10", 8080, false, "web1"),
            ep("10.244.2.10", 8080, false, "web2"),
        ];
        let probes = vec![
            probe("web1", "10.244.1.10:8080", Tcp::Open, Some(200)),
            probe("web2", "10.244.2.10:8080", Tcp::Open, Some(200)),
        ];
        let c = EndpointContext {
            service: Some(&svc),
            pods: Some(&pods),
            endpoints: &eps,
            given: false,
            plan: &plan,
            probes: &probes,
            declared_probes: &[],
            namespace: "default",
            unknown_because: None,
        };
        let f = endpoints_step(&c).1.unwrap();
        assert_eq!(f.cause, "endpoints-not-ready");
        assert!(f.message.contains("web1, web2 not Ready"), "{}", f.message);
        assert!(
            f.evidence
                .iter()
                .any(|e| e.contains("readiness probe may test the wrong thing"))
        );
    }

    #[test]
    fn wrong_target_port_is_named_with_the_declared_port() {
        let svc = service(r#"{"app":"web"}"#, 9090);
        let pods = vec![pod("web1", "web", true)];
        let plan = PortPlan::from_service_port(&svc.spec.ports[0]);
        let eps = vec![ep("10.244.1.10", 9090, true, "web1")];
        let probes = vec![probe("web1", "10.244.1.10:9090", Tcp::Refused, None)];
        let declared = vec![probe("web1", "10.244.1.10:8080", Tcp::Open, Some(200))];
        let c = EndpointContext {
            service: Some(&svc),
            pods: Some(&pods),
            endpoints: &eps,
            given: false,
            plan: &plan,
            probes: &probes,
            declared_probes: &declared,
            namespace: "default",
            unknown_because: None,
        };
        let f = endpoints_step(&c).1.unwrap();
        assert_eq!(f.cause, "wrong-targetport");
        assert_eq!(
            f.message,
            "Service targetPort 9090 but the pods listen on 8080 (http): the endpoints refuse :9090"
        );
    }

    #[test]
    fn healthy_endpoints_pass() {
        let svc = service(r#"{"app":"web"}"#, 8080);
        let plan = PortPlan::from_service_port(&svc.spec.ports[0]);
        let eps = vec![ep("10.244.1.10", 8080, true, "web1")];
        let probes = vec![probe("web1", "10.244.1.10:8080", Tcp::Open, Some(200))];
        let c = EndpointContext {
            service: Some(&svc),
            pods: None,
            endpoints: &eps,
            given: false,
            plan: &plan,
            probes: &probes,
            declared_probes: &[],
            namespace: "default",
            unknown_because: None,
        };
        let (step, f) = endpoints_step(&c);
        assert!(f.is_none());
        assert_eq!(step.status, Status::Ok);
        assert_eq!(
            step.summary,
            "1/1 ready (from the API), 1/1 answer (HTTP 200) on :8080"
        );
    }

    #[test]
    fn clusterip_failing_while_endpoints_answer_is_kube_proxy() {
        let probes = vec![probe("ClusterIP", "10.96.0.100:3000", Tcp::Timeout, None)];
        let f = clusterip_step(&probes, None, Some(true), None).1.unwrap();
        assert_eq!(f.cause, "kube-proxy");
        assert!(
            f.message
                .starts_with("10.96.0.100:3000 timed out while the endpoints answer directly")
        );
        let f = clusterip_step(&probes, None, None, None).1.unwrap();
        assert_eq!(f.cause, "clusterip-unreachable");
        assert!(
            clusterip_step(
                &[probe("ClusterIP", "10.96.0.100:3000", Tcp::Open, Some(200))],
                None,
                Some(true),
                None
            )
            .1
            .is_none()
        );
    }

    #[test]
    fn a_host_fails_only_when_nothing_connects() {
        let dead = vec![
            probe("x", "10.0.0.9:80", Tcp::Timeout, None),
            probe("x", "[fd00::9]:80", Tcp::Refused, None),
        ];
        let (step, f) = host_step(&dead, false, "x.example");
        assert_eq!(step.status, Status::Fail);
        assert_eq!(
            f.unwrap().message,
            "x.example does not answer: 10.0.0.9:80 timed out, [fd00::9]:80 connection refused"
        );
        let one = vec![
            probe("x", "10.0.0.9:80", Tcp::Timeout, None),
            probe("x", "[fd00::9]:80", Tcp::Open, Some(200)),
        ];
        assert!(host_step(&one, false, "x.example").1.is_none());
        assert_eq!(
            host_step(&[], true, "x").0.summary,
            "no port: give TARGET:PORT or --port"
        );
    }

    #[test]
    fn nodeport_blocked_everywhere_or_on_some_nodes() {
        let all = vec![
            probe("node1", "172.18.0.11:30080", Tcp::Timeout, None),
            probe("node2", "172.18.0.12:30080", Tcp::Timeout, None),
        ];
        assert_eq!(
            nodeport_step(&all, None, Some(30080), true, None)
                .1
                .unwrap()
                .cause,
            "nodeport-blocked"
        );
        let some = vec![
            probe("node1", "172.18.0.11:30080", Tcp::Open, Some(200)),
            probe("node2", "172.18.0.12:30080", Tcp::Timeout, None),
        ];
        let f = nodeport_step(&some, None, Some(30080), true, None)
            .1
            .unwrap();
        assert_eq!(f.cause, "nodeport-partial");
        assert!(f.message.contains("node2 172.18.0.12:30080 timed out"));
        assert_eq!(
            nodeport_step(&all, None, Some(30080), false, None)
                .1
                .unwrap()
                .cause,
            "nodeport-follows-clusterip"
        );
    }

    #[test]
    fn local_traffic_policy_excuses_nodes_without_endpoints() {
        let some = vec![
            probe("node1", "172.18.0.11:30080", Tcp::Open, Some(200)),
            probe("node2", "172.18.0.12:30080", Tcp::Timeout, None),
        ];
        let local = LocalTraffic {
            with_endpoints: vec!["node1".into()],
            health: vec![],
        };
        let (step, f) = nodeport_step(&some, None, Some(30080), true, Some(&local));
        assert!(f.is_none());
        assert_eq!(step.status, Status::Ok);
        assert!(
            step.evidence
                .iter()
                .any(|e| e.contains("node2 172.18.0.12:30080 timed out: no local endpoint"))
        );
        // The node that has the endpoint failing is broken, and it is every node that counts.
        let bad = vec![
            probe("node1", "172.18.0.11:30080", Tcp::Timeout, None),
            probe("node2", "172.18.0.12:30080", Tcp::Timeout, None),
        ];
        let f = nodeport_step(&bad, None, Some(30080), true, Some(&local))
            .1
            .unwrap();
        assert_eq!(f.cause, "nodeport-blocked");
        assert!(!f.message.contains("node2"), "{}", f.message);
    }

    #[test]
    fn local_traffic_policy_and_the_load_balancer() {
        let health =
            |node: &str, code: u16| probe(node, "172.18.0.11:32100", Tcp::Open, Some(code));
        let lb = [probe(
            "LoadBalancer",
            "172.18.0.240:3000",
            Tcp::Open,
            Some(200),
        )];
        let local = LocalTraffic {
            with_endpoints: vec!["node1".into()],
            health: vec![health("node1", 200), health("node2", 503)],
        };
        let (step, f) = loadbalancer_step(&lb, None, false, true, Some(&local));
        assert!(f.is_none());
        assert!(
            step.evidence[0].starts_with("externalTrafficPolicy: Local: outside clients are sent only to nodes whose health check answers 200: node1;"),
            "{:?}",
            step.evidence
        );
        let none = LocalTraffic {
            with_endpoints: vec![],
            health: vec![health("node1", 503), health("node2", 503)],
        };
        let (step, f) = loadbalancer_step(&lb, None, false, true, Some(&none));
        assert_eq!(step.status, Status::Fail);
        assert_eq!(f.unwrap().cause, "loadbalancer-no-healthy-node");
    }

    #[test]
    fn ingress_404_while_the_service_answers_is_not_routed() {
        let route = Route {
            ingress: "shop".into(),
            host: Some("shop.example.com".into()),
            path: "/".into(),
            tls: false,
            class: Some("nginx".into()),
            addresses: vec!["172.18.0.241".into()],
            port: None,
        };
        let mut p = probe("shop.example.com", "172.18.0.241:80", Tcp::Open, Some(404));
        if let Some(h) = p.http.as_mut() {
            h.body = Some("default backend - 404".into());
        }
        let (step, f) = ingress_step(
            &[(route.clone(), vec![p])],
            None,
            Some(200),
            true,
            "default",
        );
        assert_eq!(step.status, Status::Fail);
        let f = f.unwrap();
        assert_eq!(f.cause, "ingress-not-routed");
        assert!(f.message.contains("answers 404 for Host shop.example.com/ (\"default backend - 404\") while the Service answers 200"), "{}", f.message);
        // A 404 the Service gives too is the application's answer, not a routing problem.
        let p = probe("shop.example.com", "172.18.0.241:80", Tcp::Open, Some(404));
        assert!(
            ingress_step(
                &[(route.clone(), vec![p])],
                None,
                Some(404),
                true,
                "default"
            )
            .1
            .is_none()
        );
        // A 502 behind a failing Service is that failure again.
        let p = probe("shop.example.com", "172.18.0.241:80", Tcp::Open, Some(502));
        assert_eq!(
            ingress_step(
                &[(route.clone(), vec![p.clone()])],
                None,
                None,
                false,
                "default"
            )
            .1
            .unwrap()
            .cause,
            "ingress-follows-backend"
        );
        assert_eq!(
            ingress_step(&[(route, vec![p])], None, Some(200), true, "default")
                .1
                .unwrap()
                .cause,
            "ingress-backend-error"
        );
    }

    #[test]
    fn dns_wrong_namespace() {
        let d = DnsData {
            name: "web".into(),
            error: Some("Name or service not known".into()),
            not_found: true,
            candidates: vec![
                "web.other.svc.cluster.local.".into(),
                "web.svc.cluster.local.".into(),
            ],
            alive: Some(true),
            servers: vec!["10.96.0.10".into()],
            search: vec!["other.svc.cluster.local".into()],
            ..Default::default()
        };
        let c = DnsContext {
            dns: &d,
            searched_namespace: Some("other"),
            service_namespace: Some("default"),
            service_name: Some("web"),
            service_exists: Some(true),
            cluster_ips: &[],
            is_short_name: true,
            egress: (None, vec![]),
        };
        let f = dns_step(&c).1.unwrap();
        assert_eq!(f.cause, "dns-wrong-namespace");
        assert!(
            f.message.contains("lives in namespace default"),
            "{}",
            f.message
        );
        assert_eq!(
            f.hint.as_deref(),
            Some("use web.default (or web.default.svc), or run diagnose with -n default")
        );
        let dead = DnsData {
            timed_out: true,
            alive: Some(false),
            ..d.clone()
        };
        let c = DnsContext { dns: &dead, ..c };
        assert_eq!(dns_step(&c).1.unwrap().cause, "dns-unreachable");
        // Nothing answers and this pod's egress policies allow no DNS: that is the cause.
        let egress = Finding {
            hop: "dns",
            cause: "networkpolicy-egress",
            message: "NetworkPolicy deny-egress ...".into(),
            evidence: vec![],
            hint: None,
        };
        let c2 = DnsContext {
            egress: (Some(egress), vec![]),
            ..c
        };
        assert_eq!(dns_step(&c2).1.unwrap().cause, "networkpolicy-egress");
    }

    fn dns_pod(label: &str, ip: &str, up: bool) -> DnsPodCheck {
        DnsPodCheck {
            label: format!("{label} {ip}"),
            ip: ip.parse().unwrap(),
            namespace: "kube-system".into(),
            selector: [("k8s-app".to_string(), "kube-dns".to_string())].into(),
            udp: if up {
                Ok(0.4)
            } else {
                Err("connection refused".into())
            },
            tcp: if up {
                Ok(0.6)
            } else {
                Err("connection refused".into())
            },
        }
    }

    /// One DNS pod of two is silent: a failing DNS hop, even when this lookup happened to
    /// resolve, naming the silent pod; all silent is not this cause.
    #[test]
    fn one_dns_pod_down_fails_the_hop() {
        let d = DnsData {
            name: "web".into(),
            addrs: vec!["10.96.0.100".parse().unwrap()],
            alive: Some(true),
            servers: vec!["10.96.0.10".into()],
            pods: vec![
                dns_pod("coredns-a", "10.244.1.53", true),
                dns_pod("coredns-b", "10.244.2.53", false),
            ],
            ..Default::default()
        };
        let c = DnsContext {
            dns: &d,
            searched_namespace: None,
            service_namespace: Some("default"),
            service_name: Some("web"),
            service_exists: Some(true),
            cluster_ips: &[],
            is_short_name: true,
            egress: (None, vec![]),
        };
        let (step, f) = dns_step(&c);
        let f = f.unwrap();
        assert_eq!(step.status, Status::Fail);
        assert_eq!(f.cause, "dns-pod-down");
        assert!(
            f.message.starts_with("1 of 2 cluster DNS pods does not answer (coredns-b 10.244.2.53) while coredns-a 10.244.1.53 does"),
            "{}",
            f.message
        );
        assert_eq!(
            f.hint.as_deref(),
            Some(
                "kubectl -n kube-system get pods -o wide -l k8s-app=kube-dns; then the silent pod's logs and its node's network"
            )
        );
        let all_down = DnsData {
            pods: vec![dns_pod("coredns-b", "10.244.2.53", false)],
            ..d.clone()
        };
        assert!(
            dns_step(&DnsContext {
                dns: &all_down,
                ..c
            })
            .1
            .is_none()
        );
    }

    #[test]
    fn endpoints_come_from_the_slice_port() {
        let slices: Vec<EndpointSlice> = serde_json::from_str(
            r#"[{"metadata":{"name":"web-x"},"addressType":"IPv4","ports":[{"name":"http","port":8080}],
                "endpoints":[{"addresses":["10.244.1.10"],"conditions":{"ready":true},"targetRef":{"kind":"Pod","name":"web1"}},
                             {"addresses":["10.244.2.10"],"conditions":{"ready":false},"targetRef":{"kind":"Pod","name":"web2"}}]}]"#,
        )
        .unwrap();
        let plan = PortPlan {
            port: Some(3000),
            name: Some("http".into()),
            target: Some(IntOrString::Str("http".into())),
            ..Default::default()
        };
        let eps = endpoints_of(&slices, &plan, None);
        assert_eq!(
            eps,
            vec![
                ep("10.244.1.10", 8080, true, "web1"),
                ep("10.244.2.10", 8080, false, "web2")
            ]
        );
    }
}
