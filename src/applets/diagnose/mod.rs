//! `diagnose`: walk the paths to a Service (DNS, ClusterIP, endpoints, NodePort, LoadBalancer,
//! Ingress) from this pod, at once, and name the first broken hop with its likely cause.
//!
//! Order of work (`walk`): where am I (local, no network); then DNS and the API reads in
//! parallel (`gather`); then every probe (TCP connect, then one HTTP GET when the port may speak
//! HTTP) on a bounded pool (`probe`); then `steps` turns the facts into steps and findings, and
//! the first finding is the verdict (`report`).

pub mod cli;
mod gather;
pub mod kube;
mod mtu;
pub mod objects;
pub mod policy;
pub mod report;
pub mod steps;
mod walk;

use crate::dns;
use crate::dns::conf::ResolvConf;
use crate::dns::hosts::Hosts;
use crate::error::{EXIT_FAIL, Result};
use crate::here;
use crate::output;
use crate::probe::Probe;
use cli::{Kind, Options};
use kube::{ApiError, Read};
use report::{Status, Step, Style};
use serde_json::json;
use std::ffi::OsString;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use steps::ApiData;

pub use cli::command;

/// Probes in flight at once: enough for 100 endpoints in a few rounds, few enough for a pod.
const WORKERS: usize = 32;

pub fn run(args: &[OsString]) -> Result<i32> {
    let Some(opts) = cli::parse(args)?
        .or_print(|| format!("diagnose from debugbox {}\n", env!("CARGO_PKG_VERSION")))?
    else {
        return Ok(0);
    };
    let given = match &opts.objects {
        None => None,
        Some(path) => Some(load_objects(path)?),
    };
    let report = walk::diagnose(&opts, given);
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

/// Read and check `--objects` (a file, or `-` for stdin): one line and exit 2 when malformed.
fn load_objects(path: &str) -> Result<kube::Client> {
    const MAX: u64 = 256 << 20;
    let bytes = crate::sys::files::read_bounded(std::path::Path::new(path), MAX).map_err(|e| {
        crate::error::Error::usage(format!("--objects {path}: {}", crate::error::os_text(&e)))
    })?;
    let objects = objects::Objects::parse(&bytes).map_err(|e| {
        crate::error::Error::usage(format!("--objects {path}: {e}")).hint(
            "give the JSON of kubectl get services,endpointslices,pods,nodes,ingresses -A -o json",
        )
    })?;
    let what = format!(
        "objects from {} ({} objects)",
        if path == "-" { "stdin" } else { path },
        objects.len()
    );
    Ok(kube::Client::given(objects, what))
}

/// A step's time: from the start of the probes until its last probe ended (they run on a
/// bounded pool, so with many probes that is more than the slowest one alone).
fn span(probes: &[Probe]) -> f64 {
    let last = probes.iter().map(|p| p.done_ms).fold(0.0, f64::max);
    (last * 10.0).round() / 10.0
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

fn here(opts: &Options, given: Option<kube::Client>) -> Here {
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
    let api = match given {
        Some(client) => Ok(client),
        None => kube::load(
            &sa_dir,
            std::env::var("KUBERNETES_SERVICE_HOST").ok(),
            std::env::var("KUBERNETES_SERVICE_PORT").ok(),
            opts.timeout,
        ),
    };
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
fn short_api_error(e: &ApiError) -> String {
    match e {
        ApiError::Forbidden(_) => "the API denied the read".into(),
        ApiError::Unauthorized => "the API refused the token (401)".into(),
        ApiError::NotFound => "not found".into(),
        ApiError::Status(c, _) => format!("the API answered {c}"),
        ApiError::Unreachable(w) => format!("API unreachable ({w})"),
        ApiError::Missing(r) => format!("no {r} in --objects"),
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
        Ok(c) if c.is_given() => format!("Kubernetes objects: {} (no API read)", c.endpoint),
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
        let plural =
            |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        if let Some(Ok(v)) = &d.slices {
            ok_parts.push(plural(v.len(), "EndpointSlice", "EndpointSlices"));
        }
        if let Some(Ok(v)) = &d.pods {
            ok_parts.push(plural(v.len(), "pod", "pods"));
        }
        if let Some(Ok(v)) = &d.nodes {
            ok_parts.push(plural(v.len(), "node", "nodes"));
        }
        if let Some(Ok(v)) = &d.ingresses {
            ok_parts.push(plural(v.len(), "Ingress", "Ingresses"));
        }
        if let Some(Ok(v)) = &d.policies {
            ok_parts.push(plural(v.len(), "NetworkPolicy", "NetworkPolicies"));
        }
    }
    for (read, outcome) in &reads {
        match outcome {
            Ok(_) => {}
            Err(ApiError::NotFound) => s.evidence.push(format!("{}: not found", read.words())),
            // Not given with --objects: said, and the walk does without it.
            Err(e @ ApiError::Missing(_)) => s.evidence.push(e.words(read)),
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
                .filter(|(_, o)| o.is_err()
                    && !matches!(o, Err(ApiError::NotFound | ApiError::Missing(_))))
                .count(),
            reads.len()
        )
    };
    s.time_ms = data.map(|d| d.time_ms).unwrap_or(0.0);
    s
}
