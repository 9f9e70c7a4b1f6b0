//! The walk, as phases that pass facts along: identify (which Service, which name to look up)
//! → gather (DNS and the API at the same time) → choose the port → plan the probes, hop by hop
//! → run them all at once → judge (steps and findings, causes before symptoms) → report.

use super::cli::{Kind, Options, Port};
use super::gather::{self, SvcRef};
use super::kube::{self, ApiError, IntOrString, Route, Service};
use super::policy;
use super::report::{Finding, Report, Status, Step, Verdict};
use super::steps::{self, ApiData, DnsData, EndpointRef, PortPlan};
use super::{Here, WORKERS, api_step, here, ms, mtu, short_api_error, span, where_step};
use crate::dns::Family;
use crate::probe::{self, HttpAsk, Probe, Spec};
use hickory_proto::rr::RecordType;
use serde_json::json;
use std::net::{IpAddr, SocketAddr};
use std::ops::Range;
use std::time::Instant;

/// What the target names: a Service, an address or a host, and the name to look up.
struct Target {
    svc: Option<SvcRef>,
    dns_name: Option<String>,
    fixed_ip: Option<IpAddr>,
    /// A short Service name resolved through this pod's search list.
    short_name: bool,
    /// The Service port an Ingress rule names, when the target is an Ingress host.
    port_from_rule: Option<u16>,
    /// The API read that failed while identifying the Service.
    failure: Option<gather::ReadFailure>,
}

/// Everything known before probing.
struct Facts {
    target: Target,
    dns: Option<DnsData>,
    api: Option<ApiData>,
    /// The namespace first searched, when the Service turned out to live in another one.
    searched_namespace: Option<String>,
    service: Option<Service>,
    plan: PortPlan,
    port_finding: Option<Finding>,
    /// Whether the port speaks HTTP (Some), over TLS (Some(true)).
    http: Option<bool>,
}

/// Why a hop is not probed.
#[derive(Default)]
struct Skips {
    clusterip: Option<String>,
    nodeport: Option<String>,
    loadbalancer: Option<String>,
    ingress: Option<String>,
}

/// The probes to run, grouped by hop.
#[derive(Default)]
struct Plan {
    specs: Vec<Spec>,
    groups: Vec<(&'static str, Range<usize>)>,
    routes: Vec<(Route, Range<usize>)>,
    endpoints: Vec<EndpointRef>,
    /// The endpoints came from --endpoints, not the API.
    given: bool,
    pods: Option<Vec<kube::Pod>>,
    skip: Skips,
    lb_pending: bool,
    /// The target is no Service: probe it as a client would.
    host_probe: bool,
    display_name: String,
    cluster_ips: Vec<String>,
}

impl Plan {
    fn push(&mut self, group: &'static str, list: Vec<Spec>) {
        let a = self.specs.len();
        self.specs.extend(list);
        self.groups.push((group, a..self.specs.len()));
    }
}

pub fn diagnose(opts: &Options, given: Option<kube::Client>) -> Report {
    let start = Instant::now();
    let here = here(opts, given);
    let client = here.api.as_ref().ok();
    let target = identify(opts, &here, client);
    let mut facts = gather_facts(opts, &here, client, target);
    choose_port(opts, &here, &mut facts);
    let plan = plan_probes(opts, &here, &facts);
    let tls_config = if plan
        .specs
        .iter()
        .any(|s| s.http.as_ref().is_some_and(|h| h.tls))
    {
        probe::insecure_tls()
    } else {
        None
    };
    // The path MTU to each endpoint address, at the same time as the probes.
    let mut mtu_targets: Vec<mtu::Target> = Vec::new();
    for e in &plan.endpoints {
        if !mtu_targets.iter().any(|t| t.addr.ip() == e.ip) {
            mtu_targets.push(mtu::Target {
                label: e.pod.clone().unwrap_or_else(|| e.ip.to_string()),
                addr: std::net::SocketAddr::new(e.ip, e.port),
            });
        }
    }
    let (results, mtu_checks) = std::thread::scope(|s| {
        let m = s.spawn(|| mtu::check_all(&mtu_targets, opts.timeout, WORKERS));
        let results = probe::run_all(&plan.specs, opts.timeout, WORKERS, tls_config.as_ref());
        (results, m.join().unwrap_or_default())
    });
    judge(opts, &here, &facts, &plan, (&results, &mtu_checks), start)
}

/// Which Service, and which name to look up.
fn identify(opts: &Options, here: &Here, client: Option<&kube::Client>) -> Target {
    let mut t = Target {
        svc: None,
        dns_name: None,
        fixed_ip: None,
        short_name: false,
        port_from_rule: None,
        failure: None,
    };
    match &opts.target.kind {
        Kind::Service {
            name, namespace, ..
        } => {
            let ns = namespace
                .clone()
                .or_else(|| opts.namespace.clone())
                .or_else(|| here.namespace.clone())
                .unwrap_or_else(|| "default".into());
            let short = namespace.is_none();
            // With -n, look the Service up by its namespaced name, as a client in any
            // namespace would.
            t.dns_name = Some(if short && opts.namespace.is_some() {
                format!("{name}.{ns}")
            } else {
                opts.target.host.clone()
            });
            t.svc = Some(SvcRef {
                name: name.clone(),
                namespace: ns,
            });
            t.short_name = short && opts.namespace.is_none();
        }
        Kind::Address(ip) => {
            t.fixed_ip = Some(*ip);
            match client.map(|c| gather::service_by_ip(c, *ip)) {
                Some(Ok(s)) => t.svc = s,
                Some(Err(e)) => t.failure = Some(e),
                None => {}
            }
        }
        Kind::Host(h) => {
            t.dns_name = Some(h.clone());
            match client.map(|c| gather::service_by_host(c, h)) {
                Some(Ok(Some((s, p)))) => {
                    t.port_from_rule = p;
                    t.svc = Some(s);
                }
                Some(Ok(None)) | None => {}
                Some(Err(e)) => t.failure = Some(e),
            }
        }
    }
    t
}

/// The reverse look-up of an address target.
fn reverse_lookup(here: &Here, ip: IpAddr, opts: &Options) -> DnsData {
    let t = Instant::now();
    let mut r = gather::resolver(here, opts.timeout);
    let ptr = r.reverse(ip, opts.timeout);
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
        ptr.map(|p| vec![p])
            .ok_or_else(|| "no PTR record".to_string()),
    ));
    d.time_ms = ms(t.elapsed());
    d
}

/// DNS and the API at the same time; then, for a Service not found where looked, the
/// namespace where it does exist.
fn gather_facts(
    opts: &Options,
    here: &Here,
    client: Option<&kube::Client>,
    mut target: Target,
) -> Facts {
    let timeout = opts.timeout;
    let (mut dns, mut api) = std::thread::scope(|s| {
        let dns_thread = s.spawn(|| match (&target.dns_name, target.fixed_ip) {
            (Some(n), _) => Some(gather::lookup(here, n, timeout)),
            (None, Some(ip)) => Some(reverse_lookup(here, ip, opts)),
            _ => None,
        });
        // Who the cluster DNS is: its pods, asked directly (at the same time).
        let pods_thread = s.spawn(|| client.map(|c| gather::dns_pods(here, c, timeout)));
        let api = match (client, &target.svc) {
            (Some(c), Some(sv)) => Some(gather::fetch(c, sv, here.namespace.as_deref())),
            _ => None,
        };
        let mut dns = dns_thread.join().unwrap_or_else(|_| {
            Some(DnsData {
                error: Some("the DNS look-up stopped unexpectedly".into()),
                ..Default::default()
            })
        });
        if let (Some(d), Ok(Some((pods, why)))) = (dns.as_mut(), pods_thread.join()) {
            d.pods = pods;
            d.pods_unknown = why;
        }
        (dns, api)
    });
    let mut searched_namespace = None;
    if let (Some(c), Some(sv), Some(data)) = (client, target.svc.clone(), api.as_mut())
        && matches!(data.service, Some(Err(ApiError::NotFound)))
        && let Some(moved) = move_to_elsewhere(c, &sv, data, here.namespace.as_deref())
    {
        searched_namespace = Some(sv.namespace.clone());
        // Does the Service's own name resolve? (It should: the namespace was the problem.)
        if let Some(d) = dns.as_mut() {
            let fqdn = format!("{}.{}.svc.{}", moved.name, moved.namespace, here.domain);
            let mut r = gather::resolver(here, timeout);
            let got = gather::ask(&mut r, &format!("{fqdn}."), RecordType::A, timeout);
            d.extra.push((fqdn, got));
        }
        target.svc = Some(moved);
    }
    // An address whose PTR names a Service (when the API could not say): that Service.
    if target.svc.is_none()
        && target.fixed_ip.is_some()
        && let Some(Ok(names)) = dns.as_ref().and_then(|d| d.extra.first()).map(|(_, r)| r)
        && let Some(n) = names.first()
    {
        let labels: Vec<&str> = n.split('.').collect();
        if labels.len() >= 3 && labels[2] == "svc" {
            target.svc = Some(SvcRef {
                name: labels[0].to_string(),
                namespace: labels[1].to_string(),
            });
        }
    }
    let service = api.as_ref().and_then(|d| d.service().cloned());
    Facts {
        target,
        dns,
        api,
        searched_namespace,
        service,
        plan: PortPlan {
            protocol: "TCP".into(),
            ..Default::default()
        },
        port_finding: None,
        http: None,
    }
}

/// A Service not found in `sv.namespace`: when exactly one other namespace has it, read it
/// there instead (that is the Service the user means) and say so.
fn move_to_elsewhere(
    client: &kube::Client,
    sv: &SvcRef,
    data: &mut ApiData,
    home: Option<&str>,
) -> Option<SvcRef> {
    let (elsewhere, err) = gather::find_elsewhere(client, &sv.name);
    if let Some((read, e)) = err {
        data.reads.push((read, Err(e)));
    }
    data.elsewhere = elsewhere.clone();
    if elsewhere.len() != 1 {
        return None;
    }
    let moved = SvcRef {
        name: sv.name.clone(),
        namespace: elsewhere[0].clone(),
    };
    let mut again = gather::fetch(client, &moved, home);
    again.elsewhere = elsewhere;
    let mut reads = std::mem::take(&mut data.reads);
    reads.append(&mut again.reads);
    again.reads = reads;
    again.time_ms += data.time_ms;
    *data = again;
    Some(moved)
}

/// The port to check: the one asked for, else the Service's first TCP port; without the API,
/// a named port's number from the cluster DNS's SRV record.
fn choose_port(opts: &Options, here: &Here, f: &mut Facts) {
    let wanted = opts
        .target
        .port
        .clone()
        .or(f.target.port_from_rule.map(Port::Number));
    if let Some(s) = &f.service {
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
                f.plan = PortPlan::from_service_port(p);
                if wanted.is_none() && s.spec.ports.len() > 1 {
                    f.plan.note = Some(format!(
                        "checking the first of {} ports (use --port)",
                        s.spec.ports.len()
                    ));
                }
            }
            None if !s.spec.ports.is_empty() => f.port_finding = Some(no_such_port(s, &wanted)),
            None => {}
        }
    } else {
        match &wanted {
            Some(Port::Number(n)) => f.plan.port = Some(*n),
            Some(Port::Name(n)) => {
                f.plan.name = Some(n.clone());
                // A named port without the API: the cluster DNS's SRV record says its number.
                if let (Some(sv), Some(d)) = (&f.target.svc, f.dns.as_mut()) {
                    let srv = format!("_{n}._tcp.{}.{}.svc.{}", sv.name, sv.namespace, here.domain);
                    let mut r = gather::resolver(here, opts.timeout);
                    let got =
                        gather::ask(&mut r, &format!("{srv}."), RecordType::SRV, opts.timeout);
                    if let Ok(answers) = &got {
                        f.plan.port = answers
                            .first()
                            .and_then(|a| a.split(' ').next())
                            .and_then(|p| p.parse().ok());
                    }
                    d.extra.push((format!("SRV {srv}"), got));
                }
            }
            None => {
                if matches!(opts.target.kind, Kind::Host(_)) {
                    f.plan.port = Some(if opts.target.https { 443 } else { 80 });
                }
            }
        }
        // Without the Service, its nodePort is what --node-port says.
        f.plan.node_port = opts.node_port;
    }
    f.http = gather::http_kind(&f.plan, opts.target.https);
}

fn no_such_port(s: &Service, wanted: &Option<Port>) -> Finding {
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
    Finding {
        hop: "service",
        cause: "no-such-port",
        message: format!(
            "Service {} has no port {}; its ports: {}",
            s.metadata.name,
            match wanted {
                Some(Port::Number(n)) => n.to_string(),
                Some(Port::Name(n)) => n.clone(),
                None => String::new(),
            },
            have.join(", ")
        ),
        evidence: vec![],
        hint: Some("use one of the Service's ports".into()),
    }
}

/// Every probe, hop by hop.
fn plan_probes(opts: &Options, here: &Here, f: &Facts) -> Plan {
    let mut p = Plan {
        display_name: f
            .target
            .dns_name
            .clone()
            .unwrap_or_else(|| f.target.fixed_ip.map(|i| i.to_string()).unwrap_or_default()),
        pods: f.api.as_ref().and_then(|d| d.pods()).map(|p| p.to_vec()),
        ..Default::default()
    };
    plan_clusterip(opts, f, &mut p);
    plan_endpoints(opts, f, &mut p);
    plan_nodeport(opts, f, &mut p);
    plan_loadbalancer(opts, f, &mut p);
    plan_ingress(opts, here, f, &mut p);
    plan_host(opts, f, &mut p);
    p
}

fn path(opts: &Options) -> String {
    opts.target.path.clone().unwrap_or_else(|| "/".into())
}

fn plan_clusterip(opts: &Options, f: &Facts, p: &mut Plan) {
    let service = f.service.as_ref();
    let svc_type = service.map(|s| s.spec.kind.as_str()).unwrap_or_default();
    p.cluster_ips = service
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
    let mut addrs: Vec<IpAddr> = p
        .cluster_ips
        .iter()
        .filter_map(|ip| ip.parse().ok())
        .collect();
    if service.is_none() {
        match (f.target.fixed_ip, &f.dns) {
            (Some(ip), _) => addrs = vec![ip],
            (None, Some(d)) if f.target.svc.is_some() => addrs = d.addrs.clone(),
            _ => {}
        }
    }
    p.skip.clusterip = if service.is_some_and(|s| s.spec.cluster_ip == "None") {
        Some("headless Service (clusterIP: None): clients get the pod IPs from DNS".into())
    } else if svc_type == "ExternalName" {
        Some(format!(
            "ExternalName Service: DNS points to {}",
            service
                .and_then(|s| s.spec.external_name.clone())
                .unwrap_or_default()
        ))
    } else if f.plan.port.is_none() {
        Some(if f.port_finding.is_some() {
            "no such port".into()
        } else {
            "no port known: give TARGET:PORT or --port".into()
        })
    } else if addrs.is_empty() {
        Some("no address: the name did not resolve and the API was not read".into())
    } else {
        None
    };
    if p.skip.clusterip.is_none()
        && let Some(port) = f.plan.port
    {
        let list = addrs
            .iter()
            .map(|ip| Spec {
                addr: SocketAddr::new(*ip, port),
                label: "ClusterIP".into(),
                http: gather::ask_for(&p.display_name, port, &path(opts), f.http),
            })
            .collect();
        p.push("clusterip", list);
    }
}

/// Endpoints from the API (or --endpoints), and the pods' declared ports when the targetPort
/// is not one of them (a wrong targetPort).
fn plan_endpoints(opts: &Options, f: &Facts, p: &mut Plan) {
    let path = path(opts);
    p.endpoints = match f.api.as_ref().and_then(|d| d.slices()) {
        Some(slices) if f.service.is_some() => {
            steps::endpoints_of(slices, &f.plan, p.pods.as_deref())
        }
        _ => Vec::new(),
    };
    p.given = p.endpoints.is_empty() && !opts.endpoints.is_empty();
    if p.given {
        let port = match &f.plan.target {
            Some(IntOrString::Int(n)) => Some(*n),
            _ => f.plan.port,
        };
        p.endpoints = opts
            .endpoints
            .iter()
            .filter_map(|(ip, n)| {
                Some(EndpointRef {
                    ip: *ip,
                    port: n.or(port)?,
                    ready: true,
                    pod: None,
                })
            })
            .collect();
    }
    let list = p
        .endpoints
        .iter()
        .map(|e| Spec {
            addr: SocketAddr::new(e.ip, e.port),
            label: e.pod.clone().unwrap_or_else(|| e.ip.to_string()),
            http: gather::ask_for(&e.ip.to_string(), e.port, &path, f.http),
        })
        .collect();
    p.push("endpoints", list);
    let mut declared: Vec<Spec> = Vec::new();
    if let Some(pods) = &p.pods {
        for e in p.endpoints.iter().filter(|e| e.ready).take(3) {
            let Some(pod) = pods
                .iter()
                .find(|pod| Some(&pod.metadata.name) == e.pod.as_ref())
            else {
                continue;
            };
            let ports = pod.container_ports();
            if !ports.is_empty()
                && !ports.iter().any(|cp| cp.container_port == e.port)
                && let Some(cp) = ports.first()
            {
                declared.push(Spec {
                    addr: SocketAddr::new(e.ip, cp.container_port),
                    label: format!("{} (containerPort)", pod.metadata.name),
                    http: gather::ask_for(&e.ip.to_string(), cp.container_port, &path, f.http),
                });
            }
        }
    }
    p.push("declared", declared);
}

fn plan_nodeport(opts: &Options, f: &Facts, p: &mut Plan) {
    let svc_type = f
        .service
        .as_ref()
        .map(|s| s.spec.kind.as_str())
        .unwrap_or_default();
    let mut nodes: Vec<(String, IpAddr)> = Vec::new();
    let mut skip = None;
    let node_port = f.plan.node_port;
    if f.service.is_some() && !(svc_type == "NodePort" || svc_type == "LoadBalancer") {
        skip = Some(format!("Service type {svc_type} has no NodePort"));
    } else if node_port.is_none() {
        skip = Some(if f.service.is_none() {
            "no Service read from the API: give --node-port and --node-ip".into()
        } else {
            "the port has no nodePort".into()
        });
    } else {
        match f.api.as_ref().and_then(|d| d.nodes.as_ref()) {
            Some(Ok(list)) => {
                for n in list {
                    if let Some(ip) = n.internal_ips().into_iter().next() {
                        nodes.push((n.metadata.name.clone(), ip));
                    }
                }
            }
            Some(Err(e)) if opts.node_ips.is_empty() => {
                skip = Some(format!("{}: give --node-ip", short_api_error(e)))
            }
            _ => {}
        }
        if nodes.is_empty() {
            nodes = opts
                .node_ips
                .iter()
                .map(|ip| (ip.to_string(), *ip))
                .collect();
        }
        if nodes.is_empty() && skip.is_none() {
            skip = Some("no node addresses: give --node-ip".into());
        }
    }
    // externalTrafficPolicy: Local: kube-proxy answers on healthCheckNodePort whether the node
    // has a local endpoint (200) or not (503), as the cloud's load balancer asks it.
    if skip.is_none()
        && let Some(s) = &f.service
        && s.spec.local_traffic()
        && let Some(hc) = s.spec.health_check_node_port
    {
        let list = nodes
            .iter()
            .map(|(name, ip)| Spec {
                addr: SocketAddr::new(*ip, hc),
                label: name.clone(),
                http: gather::ask_for(&ip.to_string(), hc, "/healthz", Some(false)),
            })
            .collect();
        p.push("healthcheck", list);
    }
    if skip.is_none()
        && let Some(np) = node_port
    {
        let list = nodes
            .iter()
            .map(|(name, ip)| Spec {
                addr: SocketAddr::new(*ip, np),
                label: name.clone(),
                http: gather::ask_for(&ip.to_string(), np, &path(opts), f.http),
            })
            .collect();
        p.push("nodeport", list);
    }
    p.skip.nodeport = skip;
}

fn plan_loadbalancer(opts: &Options, f: &Facts, p: &mut Plan) {
    let svc_type = f
        .service
        .as_ref()
        .map(|s| s.spec.kind.as_str())
        .unwrap_or_default();
    // Addresses given with --lb, when the API gave none.
    if f.service.is_none() && !opts.lbs.is_empty() {
        let list: Vec<Spec> = opts
            .lbs
            .iter()
            .filter_map(|(ip, port)| {
                let port = port.or(f.plan.port)?;
                Some(Spec {
                    addr: SocketAddr::new(*ip, port),
                    label: "LoadBalancer".into(),
                    http: gather::ask_for(&ip.to_string(), port, &path(opts), f.http),
                })
            })
            .collect();
        if list.is_empty() {
            p.skip.loadbalancer =
                Some("--lb without a port, and the Service port is unknown".into());
        } else {
            p.push("loadbalancer", list);
        }
        return;
    }
    if svc_type != "LoadBalancer" {
        p.skip.loadbalancer = Some(if f.service.is_some() {
            format!("Service type {svc_type}")
        } else {
            "no Service read from the API: give --lb IP[:PORT]".into()
        });
        return;
    }
    let (Some(s), Some(port)) = (&f.service, f.plan.port) else {
        p.skip.loadbalancer = Some("no port".into());
        return;
    };
    let addrs: Vec<IpAddr> = s
        .status
        .load_balancer
        .ingress
        .iter()
        .filter_map(|i| i.ip.as_deref())
        .filter_map(|ip| ip.parse().ok())
        .collect();
    p.lb_pending = addrs.is_empty();
    let list = addrs
        .iter()
        .map(|ip| Spec {
            addr: SocketAddr::new(*ip, port),
            label: "LoadBalancer".into(),
            http: gather::ask_for(&ip.to_string(), port, &path(opts), f.http),
        })
        .collect();
    p.push("loadbalancer", list);
}

/// Every Ingress rule whose backend is this Service port, probed at the Ingress address with
/// its Host header.
fn plan_ingress(opts: &Options, here: &Here, f: &Facts, p: &mut Plan) {
    let mut routes: Vec<Route> = Vec::new();
    match (
        &f.service,
        f.api.as_ref().and_then(|d| d.ingresses.as_ref()),
    ) {
        (Some(s), Some(Ok(list))) => {
            for sp in s
                .spec
                .ports
                .iter()
                .filter(|sp| Some(sp.port) == f.plan.port)
            {
                for ing in list {
                    routes.extend(ing.routes_to(&s.metadata.name, sp));
                }
            }
            if routes.is_empty() {
                p.skip.ingress = Some(format!(
                    "no Ingress routes to {}:{}",
                    s.metadata.name,
                    f.plan.port.unwrap_or(0)
                ));
            }
        }
        (Some(_), Some(Err(e))) => p.skip.ingress = Some(short_api_error(e)),
        _ => p.skip.ingress = Some("no Service read from the API: give --ingress HOST".into()),
    }
    // Hosts given with --ingress: probed as the API's rules would be.
    for g in &opts.ingresses {
        routes.push(Route {
            ingress: "--ingress".into(),
            host: Some(g.host.clone()),
            path: "/".into(),
            tls: g.port == Some(443),
            class: None,
            addresses: g.ip.iter().map(|ip| ip.to_string()).collect(),
            port: g.port,
        });
        p.skip.ingress = None;
    }
    for route in routes {
        let port = route.port.unwrap_or(if route.tls { 443 } else { 80 });
        let mut addrs: Vec<IpAddr> = route
            .addresses
            .iter()
            .filter_map(|a| a.parse().ok())
            .collect();
        if addrs.is_empty()
            && let Some(h) = &route.host
        {
            let mut r = gather::resolver(here, opts.timeout);
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
        let a = p.specs.len();
        p.specs.extend(list);
        p.routes.push((route, a..p.specs.len()));
    }
}

/// A target that is no Service: probed as a client would.
fn plan_host(opts: &Options, f: &Facts, p: &mut Plan) {
    p.host_probe = f.service.is_none() && f.target.svc.is_none();
    if !p.host_probe {
        return;
    }
    if let (Some(port), Some(d)) = (f.plan.port, &f.dns) {
        let addrs = match f.target.fixed_ip {
            Some(ip) => vec![ip],
            None => d.addrs.clone(),
        };
        let list = addrs
            .iter()
            .map(|ip| Spec {
                addr: SocketAddr::new(*ip, port),
                label: p.display_name.clone(),
                http: gather::ask_for(&p.display_name, port, &path(opts), f.http),
            })
            .collect();
        p.push("host", list);
    }
}

/// The probes of one hop.
fn group(plan: &Plan, results: &[Probe], name: &str) -> Vec<Probe> {
    plan.groups
        .iter()
        .filter(|(g, _)| *g == name)
        .flat_map(|(_, r)| results.get(r.clone()).unwrap_or(&[]).to_vec())
        .collect()
}

/// Steps in the order traffic takes them, findings ranked causes first, and the report.
fn judge(
    opts: &Options,
    here: &Here,
    f: &Facts,
    plan: &Plan,
    (results, mtu_checks): (&[Probe], &[mtu::MtuCheck]),
    start: Instant,
) -> Report {
    let mut notes: Vec<String> = Vec::new();
    let mut findings: Vec<Finding> = Vec::new();
    let mut out: Vec<Step> = vec![
        where_step(here),
        api_step(
            here,
            f.api.as_ref(),
            f.target.failure.as_deref(),
            &mut notes,
        ),
    ];
    if let Some(pf) = &f.port_finding {
        findings.push(pf.clone());
    }
    findings.extend(service_not_found(f));
    if let Some(d) = &f.dns {
        let (step, finding) = dns_step(opts, here, f, plan, d);
        findings.extend(finding);
        out.push(step);
    }
    let (service_status, clusterip_ok) = service_steps(
        here,
        f,
        plan,
        (results, mtu_checks),
        &mut out,
        &mut findings,
    );
    edge_steps(
        f,
        plan,
        results,
        service_status,
        clusterip_ok,
        &mut out,
        &mut findings,
    );

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
    let shown = f
        .target
        .svc
        .as_ref()
        .map(|s| format!("{}.{}", s.name, s.namespace))
        .unwrap_or_else(|| plan.display_name.clone());
    let verdict = Verdict::from(findings, notes, &shown);
    let service_json = f.service.as_ref().map(|s| {
        json!({
            "name": s.metadata.name,
            "namespace": s.metadata.namespace,
            "type": s.spec.kind,
            "clusterIPs": plan.cluster_ips,
            "port": f.plan.port,
            "portName": f.plan.name,
            "targetPort": match &f.plan.target { Some(IntOrString::Int(p)) => json!(p), Some(IntOrString::Str(n)) => json!(n), None => json!(null) },
            "nodePort": f.plan.node_port,
            "selector": s.spec.selector,
        })
    });
    let mut target = opts.target_text.clone();
    if let Some(s) = &f.service {
        target.push_str(&format!(
            " (Service {}/{}, {}, {})",
            s.metadata.namespace,
            s.metadata.name,
            s.spec.kind,
            f.plan.describe()
        ));
    }
    Report {
        target,
        service: service_json,
        steps: out,
        verdict,
        time_ms: ms(start.elapsed()),
    }
}

/// The Service itself: not found anywhere.
fn service_not_found(f: &Facts) -> Option<Finding> {
    let (Some(d), Some(sv)) = (f.api.as_ref(), &f.target.svc) else {
        return None;
    };
    if !matches!(d.service, Some(Err(ApiError::NotFound))) {
        return None;
    }
    Some(Finding {
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
    })
}

/// This pod as NetworkPolicies see it: its addresses, namespace, and labels when the API (or
/// the objects given) list it among its namespace's pods.
fn me(here: &Here, d: &ApiData) -> policy::Party {
    let ips: Vec<IpAddr> = here
        .network
        .as_ref()
        .map(|n| n.addresses.iter().map(|a| a.ip).collect())
        .unwrap_or_default();
    let labels = d.home().1.and_then(|pods| {
        pods.iter()
            .find(|p| {
                p.status
                    .pod_ip
                    .as_ref()
                    .and_then(|ip| ip.parse::<IpAddr>().ok())
                    .is_some_and(|ip| ips.contains(&ip))
            })
            .map(|p| p.metadata.labels.clone())
    });
    policy::Party {
        labels,
        ips,
        namespace: here.namespace.clone(),
        partial: false,
    }
}

/// Whether this pod's egress policies keep it from the cluster DNS pods.
fn dns_egress(here: &Here, f: &Facts, d: &DnsData) -> (Option<Finding>, Vec<String>) {
    let Some(api) = f.api.as_ref() else {
        return (None, vec![]);
    };
    let Some(policies) = api.home().0 else {
        return (None, vec![]);
    };
    let pods: Vec<policy::DnsPod> = d
        .pods
        .iter()
        .map(|p| policy::DnsPod {
            label: p.label.clone(),
            party: policy::Party {
                ips: vec![p.ip],
                namespace: Some(p.namespace.clone()),
                labels: Some(p.selector.clone()),
                partial: true,
            },
        })
        .collect();
    policy::explain_dns(policies, &me(here, api), &pods)
}

fn dns_step(
    opts: &Options,
    here: &Here,
    f: &Facts,
    plan: &Plan,
    d: &DnsData,
) -> (Step, Option<Finding>) {
    if f.target.fixed_ip.is_some() {
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
        return (s, None);
    }
    // Only a Service's own name must resolve to its ClusterIP (not an Ingress host, not a
    // name searched in the wrong namespace).
    let own_name =
        f.searched_namespace.is_none() && matches!(opts.target.kind, Kind::Service { .. });
    let c = steps::DnsContext {
        dns: d,
        searched_namespace: f.searched_namespace.as_deref(),
        service_namespace: f.target.svc.as_ref().map(|s| s.namespace.as_str()),
        service_name: f.target.svc.as_ref().map(|s| s.name.as_str()),
        service_exists: f
            .api
            .as_ref()
            .and_then(|a| a.service.as_ref())
            .map(|r| r.is_ok()),
        cluster_ips: if own_name { &plan.cluster_ips } else { &[] },
        is_short_name: f.target.short_name,
        egress: dns_egress(here, f, d),
    };
    let (mut step, finding) = steps::dns_step(&c);
    step.details = Some(json!({"candidates": d.candidates, "findings": d.findings}));
    (step, finding)
}

/// The ClusterIP and endpoint steps. Returns the first HTTP status the Service answered with,
/// and whether the ClusterIP hop passed.
fn service_steps(
    here: &Here,
    f: &Facts,
    plan: &Plan,
    (results, mtu_checks): (&[Probe], &[mtu::MtuCheck]),
    out: &mut Vec<Step>,
    findings: &mut Vec<Finding>,
) -> (Option<u16>, bool) {
    let ep_probes = group(plan, results, "endpoints");
    let declared_probes = group(plan, results, "declared");
    let unknown_because = match f.api.as_ref() {
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
    let (mut ep_step, mut ep_finding) = steps::endpoints_step(&steps::EndpointContext {
        service: f.service.as_ref(),
        pods: plan.pods.as_deref(),
        endpoints: &plan.endpoints,
        given: plan.given,
        plan: &f.plan,
        probes: &ep_probes,
        declared_probes: &declared_probes,
        namespace: f
            .target
            .svc
            .as_ref()
            .map(|s| s.namespace.as_str())
            .unwrap_or("default"),
        unknown_because,
    });
    ep_step.time_ms = span(&ep_step.probes);
    // Endpoints that time out under NetworkPolicies: the policies that do not admit this pod.
    if ep_finding
        .as_ref()
        .is_some_and(|x| x.cause == "endpoints-unreachable")
        && let Some(d) = f.api.as_ref()
        && let Some(Ok(policies)) = d.policies.as_ref()
        && let Some(pods) = plan.pods.as_deref()
    {
        let timed_out: Vec<(String, u16)> = ep_probes
            .iter()
            .filter(|p| p.tcp == probe::Tcp::Timeout)
            .filter_map(|p| {
                plan.endpoints
                    .iter()
                    .find(|e| e.pod.as_deref() == Some(p.label.as_str()))
                    .map(|e| (p.label.clone(), e.port))
            })
            .collect();
        // The endpoints' policies (ingress) and this pod's (egress), once each.
        let mut all = policies.clone();
        if let Some(Ok(home)) = &d.home_policies {
            all.extend(home.iter().cloned());
        }
        let (found, evidence) = policy::explain_timeouts(&all, pods, &timed_out, &me(here, d));
        if let Some(nf) = found {
            ep_step.evidence.push(nf.message.clone());
            ep_finding = Some(nf);
        }
        ep_step.evidence.extend(evidence);
    }
    // Full-size packets: a black hole on the way is the endpoints' failure when nothing else
    // is, and evidence beside it when something is.
    ep_step.evidence.extend(mtu::summary(mtu_checks));
    let mut mtu_also = None;
    if let Some(m) = mtu::finding(mtu_checks) {
        ep_step.evidence.extend(m.evidence.iter().cloned());
        if ep_finding.is_none() {
            ep_step.status = Status::Fail;
            ep_step.evidence.push(m.message.clone());
            ep_finding = Some(m);
        } else {
            mtu_also = Some(m);
        }
    }
    if !mtu_checks.is_empty() {
        let details = ep_step.details.get_or_insert_with(|| json!({}));
        if let Some(d) = details.as_object_mut() {
            d.insert("mtu".into(), json!(mtu_checks));
        }
    }
    let endpoints_known = !plan.endpoints.is_empty() || f.service.is_some();
    let endpoints_ok = endpoints_known
        .then(|| ep_finding.is_none() && ep_probes.iter().any(|p| p.tcp == probe::Tcp::Open));
    let cip_probes = group(plan, results, "clusterip");
    let (mut cip_step, cip_finding) = steps::clusterip_step(
        &cip_probes,
        plan.skip.clusterip.clone(),
        endpoints_ok,
        ep_finding.as_ref(),
    );
    cip_step.time_ms = span(&cip_probes);
    if let Some(note) = &f.plan.note {
        cip_step.evidence.push(note.clone());
    }
    if f.service
        .as_ref()
        .and_then(|s| s.spec.session_affinity.as_deref())
        == Some("ClientIP")
    {
        cip_step.evidence.push(
            "sessionAffinity: ClientIP: every connection from this pod goes to the same endpoint, so repeated tests (and these probes) see one backend; the Endpoints step probes each".into(),
        );
    }
    let clusterip_ok = cip_step.status != Status::Fail;
    let service_status = cip_probes
        .iter()
        .chain(ep_probes.iter())
        .find_map(|p| p.http_status());
    findings.extend(ep_finding);
    findings.extend(cip_finding);
    findings.extend(mtu_also);
    out.push(cip_step);
    out.push(ep_step);
    (service_status, clusterip_ok)
}

/// NodePort, LoadBalancer, Ingress and (for a target that is no Service) the host itself.
fn edge_steps(
    f: &Facts,
    plan: &Plan,
    results: &[Probe],
    service_status: Option<u16>,
    clusterip_ok: bool,
    out: &mut Vec<Step>,
    findings: &mut Vec<Finding>,
) {
    // Under externalTrafficPolicy: Local, the nodes that have an endpoint of their own.
    let local = f
        .service
        .as_ref()
        .filter(|s| s.spec.local_traffic())
        .map(|_| {
            let mut with_endpoints: Vec<String> = f
                .api
                .as_ref()
                .and_then(|d| d.slices())
                .unwrap_or(&[])
                .iter()
                .flat_map(|s| s.endpoints.iter().flatten())
                .filter(|e| e.conditions.ready != Some(false))
                .filter_map(|e| e.node_name.clone())
                .collect();
            with_endpoints.sort();
            with_endpoints.dedup();
            steps::LocalTraffic {
                with_endpoints,
                health: group(plan, results, "healthcheck"),
            }
        });
    let (mut np_step, np_finding) = steps::nodeport_step(
        &group(plan, results, "nodeport"),
        plan.skip.nodeport.clone(),
        f.plan.node_port,
        clusterip_ok,
        local.as_ref(),
    );
    np_step.time_ms = span(&np_step.probes);
    findings.extend(np_finding);
    out.push(np_step);

    let (mut lb_step, lb_finding) = steps::loadbalancer_step(
        &group(plan, results, "loadbalancer"),
        plan.skip.loadbalancer.clone(),
        plan.lb_pending,
        clusterip_ok,
        local.as_ref(),
    );
    lb_step.time_ms = span(&lb_step.probes);
    findings.extend(lb_finding);
    out.push(lb_step);

    let route_results: Vec<(Route, Vec<Probe>)> = plan
        .routes
        .iter()
        .map(|(r, range)| {
            (
                r.clone(),
                results.get(range.clone()).unwrap_or(&[]).to_vec(),
            )
        })
        .collect();
    let backend_ok = clusterip_ok && !findings.iter().any(|f| f.hop == "endpoints");
    let (mut ing_step, ing_finding) = steps::ingress_step(
        &route_results,
        plan.skip.ingress.clone(),
        service_status,
        backend_ok,
        f.target
            .svc
            .as_ref()
            .map(|s| s.namespace.as_str())
            .unwrap_or(""),
    );
    ing_step.time_ms = span(&ing_step.probes);
    findings.extend(ing_finding);
    out.push(ing_step);

    if plan.host_probe {
        let probes = group(plan, results, "host");
        let (mut s, finding) = steps::host_step(&probes, f.plan.port.is_none(), &plan.display_name);
        findings.extend(finding);
        s.time_ms = span(&probes);
        out.push(s);
    }
}
