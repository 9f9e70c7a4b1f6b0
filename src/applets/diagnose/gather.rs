//! Gathering facts: the API reads about one Service (in parallel), the DNS look-ups a client
//! makes for its name, and which probes a port deserves (HTTP or not, TLS or not).

use super::kube::{self, ApiError, Read, Service};
use super::steps::{ApiData, DnsData, PortPlan};
use super::{Here, ms};
use crate::dns::present::findings as dns_findings;
use crate::dns::resolver::{Backoff, QueryOpts};
use crate::dns::{self, Family, LookupError, SocketTransport};
use crate::probe::HttpAsk;
use hickory_proto::rr::{RData, RecordType};
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// An API read that failed, and how.
pub type ReadFailure = Box<(Read, ApiError)>;

/// The Service being diagnosed.
#[derive(Debug, Clone)]
pub struct SvcRef {
    pub name: String,
    pub namespace: String,
}

/// The cluster DNS Service behind each nameserver of resolv.conf, and its pods (the Service's
/// ready endpoints), each asked for `kubernetes.default` directly over UDP and over TCP: when the
/// DNS address does not answer, this tells the pods from the service proxy in front of them.
/// Returns the checks, or why there are none.
pub fn dns_pods(
    here: &Here,
    client: &kube::Client,
    timeout: Duration,
) -> (Vec<super::steps::DnsPodCheck>, Option<String>) {
    // (label, address, the Service's namespace and selector)
    type Found = (
        String,
        IpAddr,
        String,
        std::collections::BTreeMap<String, String>,
    );
    let mut pods: Vec<Found> = Vec::new();
    for server in here.conf.servers() {
        let svc = match service_with_ip(client, server.ip()) {
            Ok(Some(s)) => s,
            Ok(None) => continue,
            Err(e) => return (Vec::new(), Some(e.1.words(&e.0))),
        };
        let selector = url::form_urlencoded::byte_serialize(
            format!("kubernetes.io/service-name={}", svc.metadata.name).as_bytes(),
        )
        .collect::<String>();
        let read = Read::list("endpointslices", Some(&svc.metadata.namespace))
            .with_query(format!("labelSelector={selector}"));
        let slices = match client.list::<kube::EndpointSlice>(&read) {
            Ok(s) => s,
            Err(e) => return (Vec::new(), Some(e.words(&read))),
        };
        for e in slices.iter().flat_map(|s| s.endpoints.iter().flatten()) {
            if e.conditions.ready == Some(false) {
                continue;
            }
            let name = e.target_ref.as_ref().map(|t| t.name.clone());
            for a in &e.addresses {
                if let Ok(ip) = a.parse::<IpAddr>()
                    && !pods.iter().any(|(_, p, ..)| *p == ip)
                {
                    let label = match &name {
                        Some(n) => format!("{n} {ip}"),
                        None => ip.to_string(),
                    };
                    let selector = svc.spec.selector.clone().unwrap_or_default();
                    pods.push((label, ip, svc.metadata.namespace.clone(), selector));
                }
            }
        }
    }
    if pods.is_empty() {
        return (Vec::new(), None);
    }
    let name = format!("kubernetes.default.svc.{}.", here.domain);
    let ask_one = |ip: IpAddr, tcp: bool| -> std::result::Result<f64, String> {
        let mut conf = here.conf.clone();
        conf.nameservers = vec![std::net::SocketAddr::new(ip, 53)];
        conf.use_vc = tcp;
        conf.timeout = timeout.max(Duration::from_millis(100));
        conf.attempts = 1;
        let mut r = dns::Resolver::new(conf, here.hosts.clone(), SocketTransport::default());
        let t = Instant::now();
        ask(&mut r, &name, RecordType::A, timeout).map(|_| ms(t.elapsed()))
    };
    let checks = std::thread::scope(|s| {
        let handles: Vec<_> = pods
            .iter()
            .map(|(label, ip, namespace, selector)| {
                let ip = *ip;
                s.spawn(move || super::steps::DnsPodCheck {
                    label: label.clone(),
                    ip,
                    namespace: namespace.clone(),
                    selector: selector.clone(),
                    udp: ask_one(ip, false),
                    tcp: ask_one(ip, true),
                })
            })
            .collect();
        handles
            .into_iter()
            .filter_map(|h| h.join().ok())
            .collect::<Vec<_>>()
    });
    (checks, None)
}

/// Read everything about one Service, the reads in parallel; and, when this pod lives in
/// another namespace (`home`), that namespace's NetworkPolicies and pods (its egress policies
/// and its own labels).
pub fn fetch(client: &kube::Client, svc: &SvcRef, home: Option<&str>) -> ApiData {
    let start = Instant::now();
    let selector = url::form_urlencoded::byte_serialize(
        format!("kubernetes.io/service-name={}", svc.name).as_bytes(),
    )
    .collect::<String>();
    let r_service = Read::get("services", &svc.namespace, &svc.name);
    let r_slices = Read::list("endpointslices", Some(&svc.namespace))
        .with_query(format!("labelSelector={selector}"));
    let r_pods = Read::list("pods", Some(&svc.namespace));
    let r_nodes = Read::list("nodes", None);
    let r_ingresses = Read::list("ingresses", Some(&svc.namespace));
    let r_policies = Read::list("networkpolicies", Some(&svc.namespace));
    let home = home.filter(|h| *h != svc.namespace);
    let r_home_policies = home.map(|h| Read::list("networkpolicies", Some(h)));
    let r_home_pods = home.map(|h| Read::list("pods", Some(h)));
    let (service, slices, pods, nodes, ingresses, policies, home_data) = std::thread::scope(|s| {
        let a = s.spawn(|| client.read::<Service>(&r_service));
        let b = s.spawn(|| client.list::<kube::EndpointSlice>(&r_slices));
        let c = s.spawn(|| client.list::<kube::Pod>(&r_pods));
        let d = s.spawn(|| client.list::<kube::Node>(&r_nodes));
        let e = s.spawn(|| client.list::<kube::Ingress>(&r_ingresses));
        let f = s.spawn(|| client.list::<super::policy::NetworkPolicy>(&r_policies));
        let g = s.spawn(|| {
            let (Some(rp), Some(rq)) = (&r_home_policies, &r_home_pods) else {
                return None;
            };
            Some((
                client.list::<super::policy::NetworkPolicy>(rp),
                client.list::<kube::Pod>(rq),
            ))
        });
        (
            joined(a.join()),
            joined(b.join()),
            joined(c.join()),
            joined(d.join()),
            joined(e.join()),
            joined(f.join()),
            g.join().ok().flatten(),
        )
    });
    let mut data = ApiData::default();
    data.reads
        .push((r_service, service.as_ref().map(|_| 1).map_err(Clone::clone)));
    data.reads.push((r_slices, counted(&slices)));
    data.reads.push((r_pods, counted(&pods)));
    let needs_nodes = service
        .as_ref()
        .map(|s| s.spec.kind == "NodePort" || s.spec.kind == "LoadBalancer")
        .unwrap_or(true);
    if needs_nodes {
        data.reads.push((r_nodes, counted(&nodes)));
    }
    data.reads.push((r_ingresses, counted(&ingresses)));
    data.reads.push((r_policies, counted(&policies)));
    if let (Some(rp), Some(rq), Some((hp, hq))) = (r_home_policies, r_home_pods, home_data) {
        data.reads.push((rp, counted(&hp)));
        data.reads.push((rq, counted(&hq)));
        data.home_policies = Some(hp);
        data.home_pods = Some(hq);
    }
    data.service = Some(service);
    data.slices = Some(slices);
    data.pods = Some(pods);
    data.nodes = Some(nodes);
    data.ingresses = Some(ingresses);
    data.policies = Some(policies);
    data.time_ms = ms(start.elapsed());
    data
}

/// A list read's outcome for the API step: how many objects came back.
fn counted<T>(r: &std::result::Result<Vec<T>, ApiError>) -> std::result::Result<usize, ApiError> {
    r.as_ref().map(Vec::len).map_err(Clone::clone)
}

/// A reader thread's result; a reader that panicked counts as an unreachable API.
fn joined<T>(
    r: std::thread::Result<std::result::Result<T, ApiError>>,
) -> std::result::Result<T, ApiError> {
    r.unwrap_or_else(|_| Err(ApiError::Unreachable("the reader stopped".into())))
}

/// Namespaces that hold a Service called `name`.
pub fn find_elsewhere(
    client: &kube::Client,
    name: &str,
) -> (Vec<String>, Option<(Read, ApiError)>) {
    let read =
        Read::list("services", None).with_query(format!("fieldSelector=metadata.name%3D{name}"));
    match client.list::<Service>(&read) {
        Ok(l) => (
            l.into_iter()
                .filter(|s| s.metadata.name == name)
                .map(|s| s.metadata.namespace)
                .collect(),
            None,
        ),
        Err(e) => (Vec::new(), Some((read, e))),
    }
}

/// The Service whose ClusterIP (or load-balancer address) is `ip`.
pub fn service_by_ip(
    client: &kube::Client,
    ip: IpAddr,
) -> std::result::Result<Option<SvcRef>, ReadFailure> {
    Ok(service_with_ip(client, ip)?.map(|s| SvcRef {
        name: s.metadata.name,
        namespace: s.metadata.namespace,
    }))
}

fn service_with_ip(
    client: &kube::Client,
    ip: IpAddr,
) -> std::result::Result<Option<Service>, ReadFailure> {
    let read = Read::list("services", None);
    let list = client
        .list::<Service>(&read)
        .map_err(|e| Box::new((read, e)))?;
    let ip = ip.to_string();
    Ok(list.into_iter().find(|s| {
        s.spec.cluster_ip == ip
            || s.spec.cluster_ips.contains(&ip)
            || s.status
                .load_balancer
                .ingress
                .iter()
                .any(|i| i.ip.as_deref() == Some(&ip))
    }))
}

/// The Service an Ingress host routes to, with the port number when the rule names one.
pub fn service_by_host(
    client: &kube::Client,
    host: &str,
) -> std::result::Result<Option<(SvcRef, Option<u16>)>, ReadFailure> {
    let read = Read::list("ingresses", None);
    let list = client
        .list::<kube::Ingress>(&read)
        .map_err(|e| Box::new((read, e)))?;
    for ing in list {
        for rule in &ing.spec.rules {
            if rule.host.as_deref() != Some(host) {
                continue;
            }
            if let Some(b) = rule
                .http
                .iter()
                .flat_map(|h| &h.paths)
                .find_map(|p| p.backend.service.as_ref())
            {
                let svc = SvcRef {
                    name: b.name.clone(),
                    namespace: ing.metadata.namespace.clone(),
                };
                return Ok(Some((svc, b.port.as_ref().and_then(|p| p.number))));
            }
        }
    }
    Ok(None)
}

/// A resolver on the pod's resolv.conf and hosts as read at the start (no file is read again),
/// with one try per server and at most the probe deadline: diagnose reports a dead DNS quickly.
pub fn resolver(here: &Here, timeout: Duration) -> dns::Resolver<SocketTransport> {
    let mut conf = here.conf.clone();
    conf.timeout = conf.timeout.min(timeout).max(Duration::from_millis(100));
    conf.attempts = 1;
    dns::Resolver::new(conf, here.hosts.clone(), SocketTransport::default())
}

/// Ask one name directly (no search list), returning the address or SRV answers.
pub fn ask(
    r: &mut dns::Resolver<SocketTransport>,
    name: &str,
    qtype: RecordType,
    timeout: Duration,
) -> std::result::Result<Vec<String>, String> {
    let Ok(mut n) = crate::dns::name::parse(name) else {
        return Err("bad name".into());
    };
    n.set_fqdn(true);
    let mut opts = QueryOpts::from_conf(&r.conf);
    opts.backoff = Backoff::Fixed(timeout);
    opts.attempts = 1;
    let asked = r.query(&n, qtype, &opts);
    let Some((_, a)) = asked.answer() else {
        return Err(asked
            .error()
            .map(|e| e.to_string())
            .unwrap_or_else(|| "no answer".into()));
    };
    let answers: Vec<String> = a
        .message
        .answers
        .iter()
        .filter_map(|rec| match &rec.data {
            RData::A(ip) => Some(ip.0.to_string()),
            RData::AAAA(ip) => Some(ip.0.to_string()),
            RData::SRV(s) => Some(format!(
                "{} {}",
                s.port,
                crate::dns::name::text(&s.target).trim_end_matches('.')
            )),
            RData::PTR(p) => Some(
                crate::dns::name::text(&p.0)
                    .trim_end_matches('.')
                    .to_string(),
            ),
            _ => None,
        })
        .collect();
    if answers.is_empty() {
        Err(
            crate::dns::present::rcode_name(a.message.metadata.response_code)
                .to_string()
                .replace("NOERROR", "no records"),
        )
    } else {
        Ok(answers)
    }
}

/// Look the target name up as the pod's resolver does, and ask the cluster DNS whether it
/// answers at all.
pub fn lookup(here: &Here, name: &str, timeout: Duration) -> DnsData {
    let start = Instant::now();
    let mut r = resolver(here, timeout);
    let alive_name = format!("kubernetes.default.svc.{}.", here.domain);
    let (res, alive) = std::thread::scope(|s| {
        let alive = s.spawn(|| {
            let mut r2 = resolver(here, timeout);
            ask(&mut r2, &alive_name, RecordType::A, timeout)
        });
        let res = r.lookup_ip(name, Family::Any);
        (res, alive.join().unwrap_or(Err("stopped".into())))
    });
    let findings = dns_findings(name, &r.conf, &res.result, &res.trace, &res.candidates);
    let mut d = DnsData {
        name: name.to_string(),
        candidates: res.candidates.clone(),
        findings,
        servers: here
            .conf
            .servers()
            .iter()
            .map(|s| s.ip().to_string())
            .collect(),
        search: here.conf.search.clone(),
        ..Default::default()
    };
    // "No answer" to kubernetes.default is a dead DNS; NXDOMAIN there just means another setup.
    d.alive = Some(
        !matches!(&alive, Err(e) if ["timed out", "refused", "unreachable", "not permitted"].iter().any(|w| e.contains(w))),
    );
    d.extra
        .push((alive_name.trim_end_matches('.').to_string(), alive));
    match &res.result {
        Ok(l) => {
            d.addrs = l.addrs.clone();
            d.answered_as = res
                .trace
                .iter()
                .find(|s| s.answered)
                .map(|s| s.name.clone())
                .or_else(|| Some(l.canonical.clone()));
        }
        Err(e) => {
            d.error = Some(e.gai_message().to_string());
            d.not_found = matches!(e, LookupError::NotFound | LookupError::NoData);
            d.timed_out =
                matches!(e, LookupError::TryAgain) && res.trace.iter().any(|s| s.error.is_some());
        }
    }
    d.time_ms = ms(start.elapsed());
    d
}

/// Does this Service port speak HTTP (worth a GET), and over TLS?
pub fn http_kind(plan: &PortPlan, https_target: bool) -> Option<bool> {
    if plan.protocol != "TCP" && !plan.protocol.is_empty() {
        return None;
    }
    let name = plan.name.clone().unwrap_or_default().to_ascii_lowercase();
    const NOT_HTTP: &[&str] = &[
        "dns",
        "dns-tcp",
        "grpc",
        "mysql",
        "postgres",
        "postgresql",
        "redis",
        "mongodb",
        "amqp",
        "kafka",
        "ssh",
        "smtp",
        "ldap",
        "tcp",
        "metrics-tcp",
    ];
    if NOT_HTTP
        .iter()
        .any(|n| name == *n || name.starts_with(&format!("{n}-")))
    {
        return None;
    }
    let tls = https_target
        || name.contains("https")
        || name.contains("tls")
        || matches!(plan.port, Some(443) | Some(6443) | Some(8443));
    Some(tls)
}

pub fn ask_for(host: &str, port: u16, path: &str, tls: Option<bool>) -> Option<HttpAsk> {
    let tls = tls?;
    let default_port = if tls { 443 } else { 80 };
    let host = if port == default_port {
        host.to_string()
    } else if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    Some(HttpAsk {
        host,
        path: path.to_string(),
        tls,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_or_not_by_port() {
        let plan = |name: &str, port: u16, proto: &str| PortPlan {
            name: Some(name.into()),
            port: Some(port),
            protocol: proto.into(),
            ..Default::default()
        };
        assert_eq!(http_kind(&plan("http", 3000, "TCP"), false), Some(false));
        assert_eq!(http_kind(&plan("https", 443, "TCP"), false), Some(true));
        assert_eq!(http_kind(&plan("", 6443, "TCP"), false), Some(true));
        assert_eq!(http_kind(&plan("dns-tcp", 53, "TCP"), false), None);
        assert_eq!(http_kind(&plan("dns", 53, "UDP"), false), None);
        assert_eq!(http_kind(&plan("grpc-api", 9000, "TCP"), false), None);
    }

    #[test]
    fn host_header_like_a_client() {
        assert_eq!(
            ask_for("web.default", 3000, "/", Some(false)).unwrap().host,
            "web.default:3000"
        );
        assert_eq!(
            ask_for("shop.example.com", 80, "/", Some(false))
                .unwrap()
                .host,
            "shop.example.com"
        );
        assert_eq!(
            ask_for("fd00::1", 8080, "/", Some(false)).unwrap().host,
            "[fd00::1]:8080"
        );
        assert_eq!(
            ask_for("kubernetes.default", 443, "/", Some(true))
                .unwrap()
                .host,
            "kubernetes.default"
        );
        assert!(ask_for("db", 5432, "/", None).is_none());
    }
}
