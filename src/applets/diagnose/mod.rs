//! `diagnose`: walk the paths to a Service (DNS, ClusterIP, endpoints, NodePort, LoadBalancer,
//! Ingress) from this pod, at once, and name the first broken hop with its likely cause.
//!
//! Order of work: where am I (local, no network); then DNS and the API reads in parallel; then
//! every probe (TCP connect, then one HTTP GET when the port may speak HTTP) on a bounded pool;
//! then `steps` turns the facts into steps and findings, and the first finding is the verdict.

pub mod cli;
pub mod kube;
pub mod probe;
pub mod report;
pub mod steps;

use crate::dns::SocketTransport;
use crate::dns::conf::ResolvConf;
use crate::dns::hosts::Hosts;
use crate::dns::present::findings as dns_findings;
use crate::dns::resolver::{Backoff, QueryOpts};
use crate::dns::{self, Family, LookupError};
use crate::error::Result;
use crate::error::{EXIT_FAIL, Parsed};
use crate::here;
use crate::output;
use cli::{Kind, Options, Port};
use hickory_proto::rr::{Name, RData, RecordType};
use kube::{ApiError, IntOrString, Read, Route, Service};
use probe::{HttpAsk, Probe, Spec};
use report::{Finding, Report, Status, Step, Style, Verdict};
use serde_json::json;
use std::ffi::OsString;
use std::io::IsTerminal;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use steps::{ApiData, DnsData, EndpointRef, PortPlan};

pub use cli::command;

/// Probes in flight at once: enough for 100 endpoints in a few rounds, few enough for a pod.
const WORKERS: usize = 32;

pub fn run(args: &[OsString]) -> Result<i32> {
    let opts = match cli::parse(args)? {
        Parsed::Run(o) => o,
        Parsed::Help(h) => {
            output::print(&h)?;
            return Ok(0);
        }
        Parsed::Version => {
            output::print(&format!(
                "diagnose from debugbox {}\n",
                env!("CARGO_PKG_VERSION")
            ))?;
            return Ok(0);
        }
    };
    let report = diagnose(&opts);
    if opts.json {
        let text = serde_json::to_string_pretty(&report)
            .map_err(|e| crate::error::Error::local(format!("cannot write JSON: {e}")))?;
        output::print(&format!("{text}\n"))?;
    } else {
        let color = !opts.no_color
            && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            && std::io::stdout().is_terminal();
        output::print(&report.render(&Style { color }))?;
    }
    Ok(if report.verdict.ok { 0 } else { EXIT_FAIL })
}

/// A step's time: its probes ran in parallel, so the slowest one.
fn span(probes: &[Probe]) -> f64 {
    let slowest = probes
        .iter()
        .map(|p| p.tcp_ms + p.http.as_ref().map(|h| h.time_ms).unwrap_or(0.0))
        .fold(0.0, f64::max);
    (slowest * 10.0).round() / 10.0
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 10_000.0).round() / 10.0
}

/// Where this pod stands: its addresses, routes, resolver and the API it can reach.
struct Here {
    /// The addresses and default routes, or why netlink could not tell.
    network: std::result::Result<here::Network, String>,
    conf: ResolvConf,
    /// /etc/hosts, read once for every resolver diagnose makes.
    hosts: Hosts,
    domain: String,
    domain_from: &'static str,
    namespace: Option<String>,
    namespace_from: &'static str,
    api: std::result::Result<kube::Client, String>,
    sa_dir: PathBuf,
    time_ms: f64,
}

fn here(opts: &Options) -> Here {
    let start = Instant::now();
    let network = here::network().map_err(|e| {
        format!(
            "cannot read the addresses and routes over netlink: {}",
            crate::error::os_text(&e)
        )
    });
    let conf = dns::conf::system();
    let sa_dir = kube::serviceaccount_dir(opts.serviceaccount.as_deref());
    let target_domain = match &opts.target.kind {
        Kind::Service {
            domain: Some(d), ..
        } => Some(d.clone()),
        _ => None,
    };
    let (domain, domain_from) = match (target_domain, here::cluster_domain(&conf)) {
        (Some(d), _) => (d, "the target"),
        (None, Some(d)) => (d, "the search list"),
        (None, None) => ("cluster.local".to_string(), "assumed"),
    };
    let (namespace, namespace_from) = match (
        here::namespace_file(&sa_dir),
        here::namespace_from_search(&conf, &domain),
    ) {
        (Some(n), _) => (Some(n), "the service account"),
        (None, Some(n)) => (Some(n), "the search list"),
        (None, None) => (None, "unknown"),
    };
    let api = kube::load(
        &sa_dir,
        std::env::var("KUBERNETES_SERVICE_HOST").ok(),
        std::env::var("KUBERNETES_SERVICE_PORT").ok(),
        opts.timeout,
    );
    Here {
        network,
        conf,
        hosts: Hosts::system(),
        domain,
        domain_from,
        namespace,
        namespace_from,
        api,
        sa_dir,
        time_ms: ms(start.elapsed()),
    }
}

/// The Service being diagnosed.
#[derive(Debug, Clone)]
struct SvcRef {
    name: String,
    namespace: String,
}

/// Read everything about one Service, the reads in parallel.
fn fetch(client: &kube::Client, svc: &SvcRef) -> ApiData {
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
    let (service, slices, pods, nodes, ingresses) = std::thread::scope(|s| {
        let a = s.spawn(|| client.read::<Service>(&r_service));
        let b = s.spawn(|| client.list::<kube::EndpointSlice>(&r_slices));
        let c = s.spawn(|| client.list::<kube::Pod>(&r_pods));
        let d = s.spawn(|| client.list::<kube::Node>(&r_nodes));
        let e = s.spawn(|| client.list::<kube::Ingress>(&r_ingresses));
        (
            joined(a.join()),
            joined(b.join()),
            joined(c.join()),
            joined(d.join()),
            joined(e.join()),
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
    data.service = Some(service);
    data.slices = Some(slices);
    data.pods = Some(pods);
    data.nodes = Some(nodes);
    data.ingresses = Some(ingresses);
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
fn find_elsewhere(client: &kube::Client, name: &str) -> (Vec<String>, Option<(Read, ApiError)>) {
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
fn service_by_ip(
    client: &kube::Client,
    ip: IpAddr,
) -> std::result::Result<Option<SvcRef>, (Read, ApiError)> {
    let read = Read::list("services", None);
    let list = client.list::<Service>(&read).map_err(|e| (read, e))?;
    let ip = ip.to_string();
    Ok(list
        .into_iter()
        .find(|s| {
            s.spec.cluster_ip == ip
                || s.spec.cluster_ips.contains(&ip)
                || s.status
                    .load_balancer
                    .ingress
                    .iter()
                    .any(|i| i.ip.as_deref() == Some(&ip))
        })
        .map(|s| SvcRef {
            name: s.metadata.name,
            namespace: s.metadata.namespace,
        }))
}

/// The Service an Ingress host routes to, with the port number when the rule names one.
fn service_by_host(
    client: &kube::Client,
    host: &str,
) -> std::result::Result<Option<(SvcRef, Option<u16>)>, (Read, ApiError)> {
    let read = Read::list("ingresses", None);
    let list = client.list::<kube::Ingress>(&read).map_err(|e| (read, e))?;
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
fn resolver(here: &Here, timeout: Duration) -> dns::Resolver<SocketTransport> {
    let mut conf = here.conf.clone();
    conf.timeout = conf.timeout.min(timeout).max(Duration::from_millis(100));
    conf.attempts = 1;
    dns::Resolver::new(conf, here.hosts.clone(), SocketTransport)
}

/// Ask one name directly (no search list), returning the address or SRV answers.
fn ask(
    r: &mut dns::Resolver<SocketTransport>,
    name: &str,
    qtype: RecordType,
    timeout: Duration,
) -> std::result::Result<Vec<String>, String> {
    let Ok(mut n) = Name::from_ascii(name) else {
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
                s.target.to_ascii().trim_end_matches('.')
            )),
            RData::PTR(p) => Some(p.0.to_ascii().trim_end_matches('.').to_string()),
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
fn lookup(here: &Here, name: &str, timeout: Duration) -> DnsData {
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
        !matches!(&alive, Err(e) if e.contains("timed out") || e.contains("refused") || e.contains("unreachable")),
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
fn http_kind(plan: &PortPlan, https_target: bool) -> Option<bool> {
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

fn ask_for(host: &str, port: u16, path: &str, tls: Option<bool>) -> Option<HttpAsk> {
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

pub fn diagnose(opts: &Options) -> Report {
    let start = Instant::now();
    let here = here(opts);
    let mut notes: Vec<String> = Vec::new();
    let mut findings: Vec<Finding> = Vec::new();
    let client = here.api.as_ref().ok();
    let path = opts.target.path.clone().unwrap_or_else(|| "/".into());

    // Which Service, and which name to look up.
    let mut identify_failure: Option<(Read, ApiError)> = None;
    let mut port_from_rule: Option<u16> = None;
    let (mut svc, dns_name, fixed_ip, short_name): (
        Option<SvcRef>,
        Option<String>,
        Option<IpAddr>,
        bool,
    ) = match &opts.target.kind {
        Kind::Service {
            name, namespace, ..
        } => {
            let ns = namespace
                .clone()
                .or_else(|| opts.namespace.clone())
                .or_else(|| here.namespace.clone())
                .unwrap_or_else(|| "default".into());
            let host = opts.target.host.clone();
            let short = namespace.is_none();
            // With -n, look the Service up by its namespaced name, as a client in any namespace would.
            let dns_name = if short && opts.namespace.is_some() {
                format!("{name}.{ns}")
            } else {
                host
            };
            (
                Some(SvcRef {
                    name: name.clone(),
                    namespace: ns,
                }),
                Some(dns_name),
                None,
                short && opts.namespace.is_none(),
            )
        }
        Kind::Address(ip) => {
            let svc = match client.map(|c| service_by_ip(c, *ip)) {
                Some(Ok(s)) => s,
                Some(Err(e)) => {
                    identify_failure = Some(e);
                    None
                }
                None => None,
            };
            (svc, None, Some(*ip), false)
        }
        Kind::Host(h) => {
            let svc = match client.map(|c| service_by_host(c, h)) {
                Some(Ok(Some((s, p)))) => {
                    port_from_rule = p;
                    Some(s)
                }
                Some(Ok(None)) => None,
                Some(Err(e)) => {
                    identify_failure = Some(e);
                    None
                }
                None => None,
            };
            (svc, Some(h.clone()), None, false)
        }
    };

    // DNS and the API, at the same time.
    let timeout = opts.timeout;
    let (mut dns_data, mut api_data) = std::thread::scope(|s| {
        let dns_thread = s.spawn(|| match (&dns_name, fixed_ip) {
            (Some(n), _) => Some(lookup(&here, n, timeout)),
            (None, Some(ip)) => {
                let t = Instant::now();
                let mut r = resolver(&here, timeout);
                let ptr = r.reverse(ip, timeout);
                let mut d = DnsData {
                    name: ip.to_string(),
                    servers: here
                        .conf
                        .servers()
                        .iter()
                        .map(|s| s.ip().to_string())
                        .collect(),
                    search: here.conf.search.clone(),
                    ..Default::default()
                };
                d.extra.push((
                    format!("PTR {ip}"),
                    ptr.clone()
                        .map(|p| vec![p])
                        .ok_or_else(|| "no PTR record".to_string()),
                ));
                d.time_ms = ms(t.elapsed());
                Some(d)
            }
            _ => None,
        });
        let api = match (client, &svc) {
            (Some(c), Some(sv)) => Some(fetch(c, sv)),
            _ => None,
        };
        (dns_thread.join().ok().flatten(), api)
    });

    // Not found where looked: is it elsewhere? Then that is the Service the user means.
    let mut searched_namespace = None;
    if let (Some(c), Some(sv), Some(data)) = (client, svc.clone(), api_data.as_mut())
        && matches!(data.service, Some(Err(ApiError::NotFound)))
    {
        let (elsewhere, err) = find_elsewhere(c, &sv.name);
        if let Some((read, e)) = err {
            data.reads.push((read, Err(e)));
        }
        data.elsewhere = elsewhere.clone();
        if elsewhere.len() == 1 {
            searched_namespace = Some(sv.namespace.clone());
            let moved = SvcRef {
                name: sv.name.clone(),
                namespace: elsewhere[0].clone(),
            };
            let mut again = fetch(c, &moved);
            again.elsewhere = elsewhere;
            let mut reads = std::mem::take(&mut data.reads);
            reads.extend(again.reads.drain(..));
            again.reads = reads;
            again.time_ms += data.time_ms;
            *data = again;
            // Does the Service's own name resolve? (It should: the namespace was the problem.)
            if let Some(d) = dns_data.as_mut() {
                let fqdn = format!("{}.{}.svc.{}", moved.name, moved.namespace, here.domain);
                let mut r = resolver(&here, timeout);
                let got = ask(&mut r, &format!("{fqdn}."), RecordType::A, timeout);
                d.extra.push((fqdn, got));
            }
            svc = Some(moved);
        }
    }
    // An address whose PTR names a Service (when the API could not say): that Service.
    if svc.is_none()
        && fixed_ip.is_some()
        && let Some(Ok(names)) = dns_data
            .as_ref()
            .and_then(|d| d.extra.first())
            .map(|(_, r)| r.clone())
        && let Some(n) = names.first()
    {
        let labels: Vec<&str> = n.split('.').collect();
        if labels.len() >= 3 && labels[2] == "svc" {
            svc = Some(SvcRef {
                name: labels[0].to_string(),
                namespace: labels[1].to_string(),
            });
        }
    }
    let service: Option<Service> = api_data.as_ref().and_then(|d| d.service().cloned());

    // The port to check.
    let mut plan = PortPlan {
        protocol: "TCP".into(),
        ..Default::default()
    };
    let wanted = opts
        .target
        .port
        .clone()
        .or(port_from_rule.map(Port::Number));
    let mut port_finding: Option<Finding> = None;
    if let Some(s) = &service {
        let tcp_ports: Vec<&kube::ServicePort> = s.spec.ports.iter().collect();
        let chosen = match &wanted {
            Some(Port::Number(n)) => s.spec.ports.iter().find(|p| p.port == *n),
            Some(Port::Name(n)) => s
                .spec
                .ports
                .iter()
                .find(|p| p.name.as_deref() == Some(n.as_str())),
            None => s.spec.ports.iter().find(|p| p.protocol == "TCP"),
        };
        match chosen {
            Some(p) => {
                plan = PortPlan::from_service_port(p);
                if wanted.is_none() && tcp_ports.len() > 1 {
                    plan.note = Some(format!(
                        "checking the first of {} ports (use --port)",
                        tcp_ports.len()
                    ));
                }
            }
            None if !s.spec.ports.is_empty() => {
                let have: Vec<String> = s
                    .spec
                    .ports
                    .iter()
                    .map(|p| {
                        format!("{} {}", p.name.clone().unwrap_or_default(), p.port)
                            .trim()
                            .to_string()
                    })
                    .collect();
                port_finding = Some(Finding {
                    hop: "service",
                    cause: "no-such-port",
                    message: format!(
                        "Service {} has no port {}; its ports: {}",
                        s.metadata.name,
                        match &wanted {
                            Some(Port::Number(n)) => n.to_string(),
                            Some(Port::Name(n)) => n.clone(),
                            None => String::new(),
                        },
                        have.join(", ")
                    ),
                    evidence: vec![],
                    hint: Some("use one of the Service's ports".into()),
                });
            }
            None => {}
        }
    } else {
        match &wanted {
            Some(Port::Number(n)) => plan.port = Some(*n),
            Some(Port::Name(n)) => {
                plan.name = Some(n.clone());
                // A named port without the API: the cluster DNS's SRV record says its number.
                if let (Some(sv), Some(d)) = (&svc, dns_data.as_mut()) {
                    let srv = format!("_{n}._tcp.{}.{}.svc.{}", sv.name, sv.namespace, here.domain);
                    let mut r = resolver(&here, timeout);
                    let got = ask(&mut r, &format!("{srv}."), RecordType::SRV, timeout);
                    if let Ok(answers) = &got {
                        plan.port = answers
                            .first()
                            .and_then(|a| a.split(' ').next())
                            .and_then(|p| p.parse().ok());
                    }
                    d.extra.push((format!("SRV {srv}"), got));
                }
            }
            None => {
                if matches!(opts.target.kind, Kind::Host(_)) {
                    plan.port = Some(if opts.target.https { 443 } else { 80 });
                }
            }
        }
    }
    let http = http_kind(&plan, opts.target.https);

    // Addresses to probe.
    let svc_type = service
        .as_ref()
        .map(|s| s.spec.kind.clone())
        .unwrap_or_default();
    let headless = service
        .as_ref()
        .is_some_and(|s| s.spec.cluster_ip == "None");
    let cluster_ips: Vec<String> = service
        .as_ref()
        .map(|s| {
            if s.spec.cluster_ips.is_empty() {
                vec![s.spec.cluster_ip.clone()]
            } else {
                s.spec.cluster_ips.clone()
            }
        })
        .unwrap_or_default()
        .into_iter()
        .filter(|ip| !ip.is_empty())
        .collect();
    let mut clusterip_addrs: Vec<IpAddr> = cluster_ips
        .iter()
        .filter_map(|ip| ip.parse().ok())
        .collect();
    let mut clusterip_skip: Option<String> = None;
    if service.is_none() {
        match (fixed_ip, &dns_data) {
            (Some(ip), _) => clusterip_addrs = vec![ip],
            (None, Some(d)) if svc.is_some() => clusterip_addrs = d.addrs.clone(),
            _ => {}
        }
    }
    if headless {
        clusterip_skip =
            Some("headless Service (clusterIP: None): clients get the pod IPs from DNS".into());
    } else if svc_type == "ExternalName" {
        clusterip_skip = Some(format!(
            "ExternalName Service: DNS points to {}",
            service
                .as_ref()
                .and_then(|s| s.spec.external_name.clone())
                .unwrap_or_default()
        ));
    } else if plan.port.is_none() {
        clusterip_skip = Some(if port_finding.is_some() {
            "no such port".into()
        } else {
            "no port known: give TARGET:PORT or --port".into()
        });
    } else if clusterip_addrs.is_empty() {
        clusterip_skip =
            Some("no address: the name did not resolve and the API was not read".into());
    }
    let display_name = dns_name
        .clone()
        .unwrap_or_else(|| fixed_ip.map(|i| i.to_string()).unwrap_or_default());
    let mut specs: Vec<Spec> = Vec::new();
    let mut groups: Vec<(&'static str, std::ops::Range<usize>)> = Vec::new();
    let mut push = |group: &'static str, list: Vec<Spec>, specs: &mut Vec<Spec>| {
        let a = specs.len();
        specs.extend(list);
        groups.push((group, a..specs.len()));
    };
    if clusterip_skip.is_none()
        && let Some(port) = plan.port
    {
        let list = clusterip_addrs
            .iter()
            .map(|ip| Spec {
                addr: SocketAddr::new(*ip, port),
                label: "ClusterIP".into(),
                http: ask_for(&display_name, port, &path, http),
            })
            .collect();
        push("clusterip", list, &mut specs);
    }

    // Endpoints: from the API, or given.
    let pods = api_data.as_ref().and_then(|d| d.pods()).map(|p| p.to_vec());
    let mut endpoints: Vec<EndpointRef> = match api_data.as_ref().and_then(|d| d.slices()) {
        Some(slices) if service.is_some() => steps::endpoints_of(slices, &plan, pods.as_deref()),
        _ => Vec::new(),
    };
    let given = endpoints.is_empty() && !opts.endpoints.is_empty();
    if given {
        let port = match &plan.target {
            Some(IntOrString::Int(p)) => Some(*p),
            _ => plan.port,
        };
        endpoints = opts
            .endpoints
            .iter()
            .filter_map(|(ip, p)| {
                Some(EndpointRef {
                    ip: *ip,
                    port: p.or(port)?,
                    ready: true,
                    pod: None,
                })
            })
            .collect();
    }
    let ep_specs: Vec<Spec> = endpoints
        .iter()
        .map(|e| Spec {
            addr: SocketAddr::new(e.ip, e.port),
            label: e.pod.clone().unwrap_or_else(|| e.ip.to_string()),
            http: ask_for(&e.ip.to_string(), e.port, &path, http),
        })
        .collect();
    push("endpoints", ep_specs, &mut specs);
    // The pods' declared ports, when the targetPort is not one of them (a wrong targetPort).
    let mut declared: Vec<Spec> = Vec::new();
    if let Some(pods) = &pods {
        for e in endpoints.iter().filter(|e| e.ready).take(3) {
            let Some(p) = pods
                .iter()
                .find(|p| Some(&p.metadata.name) == e.pod.as_ref())
            else {
                continue;
            };
            let ports = p.container_ports();
            if !ports.is_empty()
                && !ports.iter().any(|cp| cp.container_port == e.port)
                && let Some(cp) = ports.first()
            {
                declared.push(Spec {
                    addr: SocketAddr::new(e.ip, cp.container_port),
                    label: format!("{} (containerPort)", p.metadata.name),
                    http: ask_for(&e.ip.to_string(), cp.container_port, &path, http),
                });
            }
        }
    }
    push("declared", declared, &mut specs);

    // NodePort.
    let node_port = plan.node_port;
    let mut nodeport_skip = None;
    let mut node_list: Vec<(String, IpAddr)> = Vec::new();
    if service.is_some() && !(svc_type == "NodePort" || svc_type == "LoadBalancer") {
        nodeport_skip = Some(format!("Service type {svc_type} has no NodePort"));
    } else if node_port.is_none() {
        nodeport_skip = Some(if service.is_none() {
            "no Service read from the API: the nodePort is unknown".into()
        } else {
            "the port has no nodePort".into()
        });
    } else {
        match api_data.as_ref().and_then(|d| d.nodes.as_ref()) {
            Some(Ok(nodes)) => {
                for n in nodes {
                    if let Some(ip) = n.internal_ips().into_iter().next() {
                        node_list.push((n.metadata.name.clone(), ip));
                    }
                }
            }
            Some(Err(e)) if opts.node_ips.is_empty() => {
                nodeport_skip = Some(format!("{}: give --node-ip", short_api_error(e)))
            }
            _ => {}
        }
        if node_list.is_empty() {
            node_list = opts
                .node_ips
                .iter()
                .map(|ip| (ip.to_string(), *ip))
                .collect();
        }
        if node_list.is_empty() && nodeport_skip.is_none() {
            nodeport_skip = Some("no node addresses: give --node-ip".into());
        }
    }
    if nodeport_skip.is_none()
        && let Some(np) = node_port
    {
        let list = node_list
            .iter()
            .map(|(name, ip)| Spec {
                addr: SocketAddr::new(*ip, np),
                label: name.clone(),
                http: ask_for(&ip.to_string(), np, &path, http),
            })
            .collect();
        push("nodeport", list, &mut specs);
    }

    // LoadBalancer.
    let mut lb_skip = None;
    let mut lb_pending = false;
    if svc_type != "LoadBalancer" {
        lb_skip = Some(if service.is_some() {
            format!("Service type {svc_type}")
        } else {
            "no Service read from the API".into()
        });
    } else if let (Some(s), Some(port)) = (&service, plan.port) {
        let addrs: Vec<IpAddr> = s
            .status
            .load_balancer
            .ingress
            .iter()
            .filter_map(|i| i.ip.as_deref())
            .filter_map(|ip| ip.parse().ok())
            .collect();
        if addrs.is_empty() {
            lb_pending = true;
        }
        let list = addrs
            .iter()
            .map(|ip| Spec {
                addr: SocketAddr::new(*ip, port),
                label: "LoadBalancer".into(),
                http: ask_for(&ip.to_string(), port, &path, http),
            })
            .collect();
        push("loadbalancer", list, &mut specs);
    } else {
        lb_skip = Some("no port".into());
    }

    // Ingress: every rule whose backend is this Service port.
    let mut routes: Vec<Route> = Vec::new();
    let mut ingress_skip = None;
    match (
        &service,
        api_data.as_ref().and_then(|d| d.ingresses.as_ref()),
    ) {
        (Some(s), Some(Ok(list))) => {
            for sp in s.spec.ports.iter().filter(|p| Some(p.port) == plan.port) {
                for ing in list {
                    routes.extend(ing.routes_to(&s.metadata.name, sp));
                }
            }
            if routes.is_empty() {
                ingress_skip = Some(format!(
                    "no Ingress routes to {}:{}",
                    s.metadata.name,
                    plan.port.unwrap_or(0)
                ));
            }
        }
        (Some(_), Some(Err(e))) => ingress_skip = Some(short_api_error(e)),
        _ => ingress_skip = Some("no Service read from the API".into()),
    }
    let mut route_groups: Vec<(Route, std::ops::Range<usize>)> = Vec::new();
    for route in &routes {
        let port = if route.tls { 443 } else { 80 };
        let mut addrs: Vec<IpAddr> = route
            .addresses
            .iter()
            .filter_map(|a| a.parse().ok())
            .collect();
        if addrs.is_empty()
            && let Some(h) = &route.host
        {
            let mut r = resolver(&here, timeout);
            addrs = r
                .lookup_ip(h, Family::Any)
                .result
                .map(|l| l.addrs)
                .unwrap_or_default();
        }
        let host = route
            .host
            .clone()
            .unwrap_or_else(|| addrs.first().map(|a| a.to_string()).unwrap_or_default());
        let route_path = opts
            .target
            .path
            .clone()
            .unwrap_or_else(|| route.path.clone());
        let list: Vec<Spec> = addrs
            .iter()
            .map(|ip| Spec {
                addr: SocketAddr::new(*ip, port),
                label: host.clone(),
                http: Some(HttpAsk {
                    host: host.clone(),
                    path: route_path.clone(),
                    tls: route.tls,
                }),
            })
            .collect();
        let a = specs.len();
        specs.extend(list);
        route_groups.push((route.clone(), a..specs.len()));
    }

    // A host that is no Service: probe it as a client would.
    let host_probe = service.is_none() && svc.is_none();
    if host_probe && let (Some(port), Some(d)) = (plan.port, &dns_data) {
        let addrs = if let Some(ip) = fixed_ip {
            vec![ip]
        } else {
            d.addrs.clone()
        };
        let list = addrs
            .iter()
            .map(|ip| Spec {
                addr: SocketAddr::new(*ip, port),
                label: display_name.clone(),
                http: ask_for(&display_name, port, &path, http),
            })
            .collect();
        push("host", list, &mut specs);
    }

    // Every probe at once.
    let tls_config: Option<Arc<rustls::ClientConfig>> =
        if specs.iter().any(|s| s.http.as_ref().is_some_and(|h| h.tls)) {
            probe::insecure_tls()
        } else {
            None
        };
    let results = probe::run_all(&specs, timeout, WORKERS, tls_config.as_ref());
    let group = |name: &str| -> Vec<Probe> {
        groups
            .iter()
            .filter(|(g, _)| *g == name)
            .flat_map(|(_, r)| results.get(r.clone()).unwrap_or(&[]).to_vec())
            .collect()
    };

    // Steps, in the order traffic takes them.
    let mut out_steps: Vec<Step> = Vec::new();
    out_steps.push(where_step(&here));
    out_steps.push(api_step(
        &here,
        api_data.as_ref(),
        identify_failure.as_ref(),
        &mut notes,
    ));

    if let Some(f) = port_finding {
        findings.push(f);
    }
    // The Service itself: not found anywhere.
    if let (Some(d), Some(sv)) = (api_data.as_ref(), &svc)
        && matches!(d.service, Some(Err(ApiError::NotFound)))
    {
        findings.push(Finding {
            hop: "service",
            cause: "service-not-found",
            message: if d.elsewhere.is_empty() {
                format!(
                    "there is no Service {} in namespace {} (nor in any other namespace)",
                    sv.name, sv.namespace
                )
            } else {
                format!(
                    "there is no Service {} in namespace {}; namespaces with one: {}",
                    sv.name,
                    sv.namespace,
                    d.elsewhere.join(", ")
                )
            },
            evidence: vec![],
            hint: Some(format!("kubectl get services -A | grep {}", sv.name)),
        });
    }

    if let Some(d) = &dns_data {
        if fixed_ip.is_some() {
            let mut s = Step::new("dns", "DNS", Status::Ok, "");
            let ptr = d
                .extra
                .first()
                .map(|(_, r)| r.clone())
                .unwrap_or(Err("not asked".into()));
            match ptr {
                Ok(names) => s.summary = format!("{} is {}", d.name, names.join(", ")),
                Err(e) => {
                    s.status = Status::Skipped;
                    s.summary = format!("{}: {e} (an address needs no lookup)", d.name);
                }
            }
            s.time_ms = d.time_ms;
            out_steps.push(s);
        } else {
            let real_ns = svc.as_ref().map(|s| s.namespace.as_str());
            let c = steps::DnsContext {
                dns: d,
                searched_namespace: searched_namespace.as_deref(),
                service_namespace: real_ns,
                service_name: svc.as_ref().map(|s| s.name.as_str()),
                service_exists: api_data
                    .as_ref()
                    .and_then(|a| a.service.as_ref())
                    .map(|r| r.is_ok()),
                // Only a Service's own name must resolve to its ClusterIP (not an Ingress host).
                cluster_ips: if searched_namespace.is_some()
                    || !matches!(opts.target.kind, Kind::Service { .. })
                {
                    &[]
                } else {
                    &cluster_ips
                },
                is_short_name: short_name,
            };
            let (mut step, f) = steps::dns_step(&c);
            if let Some(f) = f {
                findings.push(f);
            }
            step.details = Some(json!({"candidates": d.candidates, "findings": d.findings}));
            out_steps.push(step);
        }
    }

    let ep_probes = group("endpoints");
    let declared_probes = group("declared");
    let unknown_because = match api_data.as_ref() {
        None => Some(
            here.api
                .as_ref()
                .err()
                .cloned()
                .unwrap_or_else(|| "the Service was not identified".into()),
        ),
        Some(d) => match (&d.service, &d.slices) {
            (Some(Err(e)), _) | (_, Some(Err(e))) => Some(short_api_error(e)),
            _ => None,
        },
    };
    let (mut ep_step, ep_finding) = steps::endpoints_step(&steps::EndpointContext {
        service: service.as_ref(),
        pods: pods.as_deref(),
        endpoints: &endpoints,
        given,
        plan: &plan,
        probes: &ep_probes,
        declared_probes: &declared_probes,
        namespace: svc
            .as_ref()
            .map(|s| s.namespace.as_str())
            .unwrap_or("default"),
        unknown_because,
    });
    ep_step.time_ms = span(&ep_step.probes);
    let endpoints_known = !endpoints.is_empty() || service.is_some();
    let endpoints_ok = if endpoints_known {
        Some(ep_finding.is_none() && ep_probes.iter().any(|p| p.tcp == probe::Tcp::Open))
    } else {
        None
    };

    let cip_probes = group("clusterip");
    let (mut cip_step, cip_finding) = steps::clusterip_step(
        &cip_probes,
        clusterip_skip,
        endpoints_ok,
        ep_finding.as_ref(),
    );
    cip_step.time_ms = span(&cip_probes);
    if let Some(note) = &plan.note {
        cip_step.evidence.push(note.clone());
    }
    let clusterip_ok = cip_step.status != Status::Fail;
    let service_status = cip_probes
        .iter()
        .chain(ep_probes.iter())
        .find_map(|p| p.http_status());
    if let Some(f) = ep_finding {
        findings.push(f);
    }
    if let Some(f) = cip_finding {
        findings.push(f);
    }
    out_steps.push(cip_step);
    out_steps.push(ep_step);

    let (mut np_step, np_finding) =
        steps::nodeport_step(&group("nodeport"), nodeport_skip, node_port, clusterip_ok);
    np_step.time_ms = span(&np_step.probes);
    findings.extend(np_finding);
    out_steps.push(np_step);

    let (mut lb_step, lb_finding) =
        steps::loadbalancer_step(&group("loadbalancer"), lb_skip, lb_pending, clusterip_ok);
    lb_step.time_ms = span(&lb_step.probes);
    findings.extend(lb_finding);
    out_steps.push(lb_step);

    let route_results: Vec<(Route, Vec<Probe>)> = route_groups
        .into_iter()
        .map(|(r, range)| (r, results.get(range).unwrap_or(&[]).to_vec()))
        .collect();
    let backend_ok = clusterip_ok && !findings.iter().any(|f| f.hop == "endpoints");
    let (mut ing_step, ing_finding) = steps::ingress_step(
        &route_results,
        ingress_skip,
        service_status,
        backend_ok,
        svc.as_ref().map(|s| s.namespace.as_str()).unwrap_or(""),
    );
    ing_step.time_ms = span(&ing_step.probes);
    findings.extend(ing_finding);
    out_steps.push(ing_step);

    if host_probe {
        let probes = group("host");
        let (mut s, f) = steps::host_step(&probes, plan.port.is_none(), &display_name);
        findings.extend(f);
        s.time_ms = span(&probes);
        out_steps.push(s);
    }

    // Paths a DNS failure stops clients from reaching are still probed above by address; the
    // order of findings is the order traffic meets the hops, causes before their symptoms.
    let rank = |hop: &str| {
        [
            "service",
            "dns",
            "endpoints",
            "clusterip",
            "nodeport",
            "loadbalancer",
            "ingress",
            "host",
        ]
        .iter()
        .position(|h| *h == hop)
        .unwrap_or(99)
    };
    findings.sort_by_key(|f| rank(f.hop));
    let shown = svc
        .as_ref()
        .map(|s| format!("{}.{}", s.name, s.namespace))
        .unwrap_or_else(|| display_name.clone());
    let verdict = Verdict::from(findings, notes, &shown);
    let service_json = service.as_ref().map(|s| {
        json!({
            "name": s.metadata.name,
            "namespace": s.metadata.namespace,
            "type": s.spec.kind,
            "clusterIPs": cluster_ips,
            "port": plan.port,
            "portName": plan.name,
            "targetPort": match &plan.target { Some(IntOrString::Int(p)) => json!(p), Some(IntOrString::Str(n)) => json!(n), None => json!(null) },
            "nodePort": plan.node_port,
            "selector": s.spec.selector,
        })
    });
    let mut target = opts.target_text.clone();
    if let Some(s) = &service {
        target.push_str(&format!(
            " (Service {}/{}, {}, {})",
            s.metadata.namespace,
            s.metadata.name,
            s.spec.kind,
            plan.describe()
        ));
    }
    Report {
        target,
        service: service_json,
        steps: out_steps,
        verdict,
        time_ms: ms(start.elapsed()),
    }
}

fn short_api_error(e: &ApiError) -> String {
    match e {
        ApiError::Forbidden(_) => "the API denied the read".into(),
        ApiError::Unauthorized => "the API refused the token (401)".into(),
        ApiError::NotFound => "not found".into(),
        ApiError::Status(c, _) => format!("the API answered {c}"),
        ApiError::Unreachable(w) => format!("API unreachable ({w})"),
    }
}

fn where_step(here: &Here) -> Step {
    let (addresses, routes): (Vec<String>, Vec<String>) = match &here.network {
        Ok(n) => (
            n.addresses.iter().map(|a| a.to_string()).collect(),
            n.defaults.iter().map(|r| r.to_string()).collect(),
        ),
        Err(_) => (Vec::new(), Vec::new()),
    };
    let summary = match &here.network {
        Err(why) => why.clone(),
        Ok(_) => format!(
            "{}; {}",
            if addresses.is_empty() {
                "no global address".to_string()
            } else {
                addresses.join(", ")
            },
            routes
                .first()
                .cloned()
                .unwrap_or_else(|| "no default route".into())
        ),
    };
    let status = if here.network.is_ok() {
        Status::Ok
    } else {
        Status::Fail
    };
    let mut s = Step::new("where", "Where am I", status, summary);
    s.evidence.push(format!(
        "resolv.conf: nameserver {}; search {}; ndots:{}",
        here.conf
            .servers()
            .iter()
            .map(|a| a.ip().to_string())
            .collect::<Vec<_>>()
            .join(" "),
        if here.conf.search.is_empty() {
            "(none)".into()
        } else {
            here.conf.search.join(" ")
        },
        here.conf.ndots
    ));
    s.evidence.push(format!(
        "cluster domain {} (from {}); namespace {} (from {})",
        here.domain,
        here.domain_from,
        here.namespace.as_deref().unwrap_or("unknown"),
        here.namespace_from
    ));
    for w in &here.conf.warnings {
        s.evidence.push(format!("resolv.conf: {w}"));
    }
    s.evidence.push(match &here.api {
        Ok(c) => format!(
            "Kubernetes API {} with the service account in {}",
            c.endpoint,
            here.sa_dir.display()
        ),
        Err(why) => format!("Kubernetes API: {why}"),
    });
    s.details = Some(json!({
        "addresses": addresses,
        "routes": routes,
        "nameservers": here.conf.servers().iter().map(|a| a.ip().to_string()).collect::<Vec<_>>(),
        "search": here.conf.search,
        "ndots": here.conf.ndots,
        "cluster_domain": here.domain,
        "namespace": here.namespace,
        "api": here.api.as_ref().ok().map(|c| c.endpoint.clone()),
        "serviceaccount": here.sa_dir.display().to_string(),
    }));
    s.time_ms = here.time_ms;
    s
}

fn api_step(
    here: &Here,
    data: Option<&ApiData>,
    identify: Option<&(Read, ApiError)>,
    notes: &mut Vec<String>,
) -> Step {
    let title = "Kubernetes API";
    let client = match &here.api {
        Ok(c) => c,
        Err(why) => {
            notes.push(format!("the Kubernetes API ({why}): endpoints, NodePort, LoadBalancer and Ingress come from it"));
            return Step::skipped("api", title, why.clone());
        }
    };
    let mut reads: Vec<(Read, std::result::Result<usize, ApiError>)> =
        data.map(|d| d.reads.clone()).unwrap_or_default();
    if let Some((r, e)) = identify {
        reads.insert(0, (r.clone(), Err(e.clone())));
    }
    let mut s = Step::new("api", title, Status::Ok, "");
    let mut ok_parts = Vec::new();
    if let Some(d) = data {
        if let Some(svc) = d.service() {
            ok_parts.push(format!(
                "Service {}/{}",
                svc.metadata.namespace, svc.metadata.name
            ));
        }
        let plural = |n: usize, one: &str| format!("{n} {one}{}", if n == 1 { "" } else { "s" });
        if let Some(Ok(v)) = &d.slices {
            ok_parts.push(plural(v.len(), "EndpointSlice"));
        }
        if let Some(Ok(v)) = &d.pods {
            ok_parts.push(plural(v.len(), "pod"));
        }
        if let Some(Ok(v)) = &d.nodes {
            ok_parts.push(plural(v.len(), "node"));
        }
        if let Some(Ok(v)) = &d.ingresses {
            ok_parts.push(plural(v.len(), "Ingress"));
        }
    }
    for (read, outcome) in &reads {
        match outcome {
            Ok(_) => {}
            Err(ApiError::NotFound) => s.evidence.push(format!("{}: not found", read.words())),
            Err(e) => {
                s.status = Status::Fail;
                s.evidence.push(e.words(read));
                if let ApiError::Forbidden(_) = e {
                    notes.push(format!(
                        "the API denied: {} ({})",
                        read.words(),
                        read.can_i()
                    ));
                } else {
                    notes.push(format!("{}: {}", read.words(), e.words(read)));
                }
            }
        }
    }
    let denied = reads
        .iter()
        .filter(|(_, o)| matches!(o, Err(ApiError::Forbidden(_))))
        .count();
    s.summary = if reads.is_empty() {
        format!("{} (nothing to read for this target)", client.endpoint)
    } else if s.status == Status::Ok {
        format!(
            "{}: read {} ({} requests)",
            client.endpoint,
            ok_parts.join(", "),
            reads.len()
        )
    } else if denied > 0 {
        format!(
            "{}: {denied} of {} reads denied; continuing with DNS and the flags",
            client.endpoint,
            reads.len()
        )
    } else {
        format!(
            "{}: {} of {} reads failed",
            client.endpoint,
            reads
                .iter()
                .filter(|(_, o)| o.is_err() && !matches!(o, Err(ApiError::NotFound)))
                .count(),
            reads.len()
        )
    };
    s.time_ms = data.map(|d| d.time_ms).unwrap_or(0.0);
    s
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
