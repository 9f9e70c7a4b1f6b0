//! The agent: who it is, where its peers are, one round of probes after another, and the
//! answers to /healthz, /metrics, /matrix.json and /. Rounds and the server share the state
//! behind one lock, never held while a probe or a fetch waits on the network.

use super::cli::{Agent, Peers};
use super::model::{Check, Checks, Health, Merged, Missing, Named, View};
use super::serve::{self, Request, Response};
use super::state::{Outcome, State, check_of};
use super::{fetch, metrics, page, sample, verdict};
use crate::dns::{self, Family};
use crate::error::{Error, Result};
use crate::pathmtu::{self, Outcome as Packet};
use crate::sys::conn;
use crate::sys::icmp::{IcmpSocket, SocketKind};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Shared {
    cfg: Agent,
    state: Mutex<State>,
}

/// Where the peer list is read from, ready to read.
enum Source {
    List(Vec<IpAddr>),
    Dns(String),
    Api {
        api: crate::kube::Api,
        namespace: String,
        service: String,
    },
}

/// A peer as the list names it; the API also knows its node and zone.
#[derive(Debug, Clone)]
pub struct Found {
    pub address: IpAddr,
    pub node: Option<String>,
    pub zone: Option<String>,
}

impl Shared {
    fn view(&self) -> View {
        match self.state.lock() {
            Ok(s) => s.view(Instant::now()),
            Err(p) => p.into_inner().view(Instant::now()),
        }
    }

    fn with_state<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        match self.state.lock() {
            Ok(mut s) => f(&mut s),
            Err(p) => f(&mut p.into_inner()),
        }
    }
}

/// Peers above this many are asked for their bad links only when views are merged.
const FULL_VIEWS_UP_TO: usize = 100;
/// At most this many fetches of peers' views run at once.
const FETCH_WORKERS: usize = 16;

pub fn run(cfg: Agent) -> Result<i32> {
    let listener = crate::sys::sock::listen_many(cfg.listen).map_err(|e| {
        Error::local(format!(
            "cannot listen on {}: {}",
            cfg.listen,
            crate::error::os_text(&e)
        ))
        .hint("another --listen port, or an address of this host")
    })?;
    let source = open_source(&cfg)?;
    let known = match (read_peers(&source, cfg.timeout), &source) {
        (Ok(k), _) => k,
        // The API said no: say what and how to check, rather than run blind.
        (Err(e), Source::Api { .. }) => {
            return Err(Error::local(e)
                .hint("use --peers-dns with the headless Service, which needs no API access"));
        }
        (Err(_), _) => Vec::new(),
    };
    let addrs = |k: &[Found]| k.iter().map(|f| f.address).collect::<Vec<IpAddr>>();
    let mut me = identify(&cfg, &addrs(&known))?;
    if me.zone.is_none() {
        me.zone = known
            .iter()
            .find(|f| f.address == me.address)
            .and_then(|f| f.zone.clone());
    }
    // The one line on stdout (a log shows when the agent came up and with what).
    println!(
        "debugbox mesh: {} {} listening on {}, {} peers from {}, a round every {} s probing {} of them",
        me.node,
        me.address,
        cfg.listen,
        known.iter().filter(|f| f.address != me.address).count(),
        match &source {
            Source::List(_) => "--peers".to_string(),
            Source::Dns(n) => format!("DNS {n}"),
            Source::Api {
                namespace, service, ..
            } => format!("the API (endpoints of {namespace}/{service})"),
        },
        cfg.interval.as_secs_f64(),
        cfg.sample
    );
    let icmp = IcmpSocket::open(me.address.is_ipv6(), Some(SocketKind::Dgram))
        .or_else(|_| IcmpSocket::open(me.address.is_ipv6(), Some(SocketKind::Raw)))
        .is_ok();
    if !icmp {
        eprintln!(
            "debugbox mesh: no ICMP socket here (net.ipv4.ping_group_range excludes gid {}, and no CAP_NET_RAW): ICMP checks are skipped, the MTU is checked over TCP",
            crate::sys::process::gid()
        );
    }
    let shared = Arc::new(Shared {
        state: Mutex::new(State::new(me.clone(), cfg.interval, cfg.sample)),
        cfg: cfg.clone(),
    });
    shared.with_state(|s| s.set_known(&known));
    let mut known: Vec<IpAddr> = addrs(&known);
    let for_server = shared.clone();
    let handler: serve::Handler = Arc::new(move |req: &Request| handle(&for_server, req));
    std::thread::spawn(move || serve::run(listener, handler));
    let dns_name = dns_check_name(&cfg);
    let mut refreshed = Instant::now();
    loop {
        let started = Instant::now();
        if started.duration_since(refreshed) >= cfg.refresh || known.is_empty() {
            if let Ok(list) = read_peers(&source, cfg.timeout) {
                shared.with_state(|s| s.set_known(&list));
                known = addrs(&list);
            }
            refreshed = started;
        }
        let round = shared.with_state(|s| s.round);
        let picks = sample::pick(me.address, &known, round, cfg.sample);
        let (results, dns, targets) = std::thread::scope(|scope| {
            let dns = scope.spawn(|| dns_name.as_deref().map(|n| lookup(n, cfg.timeout)));
            let targets = scope.spawn(|| {
                cfg.targets
                    .iter()
                    .map(|t| check_target(t, cfg.timeout))
                    .collect::<Vec<_>>()
            });
            let results = crate::pool::map(&picks, cfg.sample.min(64), |a| {
                probe_peer(*a, cfg.port, cfg.timeout, icmp)
            });
            (
                results,
                dns.join().ok().flatten(),
                targets.join().unwrap_or_default(),
            )
        });
        let now = Instant::now();
        shared.with_state(|s| {
            for (a, r) in picks.iter().zip(results) {
                s.record(*a, r, now);
            }
            s.dns = dns;
            s.targets = targets;
            s.end_round();
        });
        if let Some(n) = cfg.rounds
            && shared.with_state(|s| s.round) >= n
        {
            let view = shared.view();
            let text = serde_json::to_string_pretty(&view).unwrap_or_default();
            crate::output::print(&format!("{text}\n"))?;
            let ok = view.links.iter().all(|l| l.probes == 0 || l.ok())
                && view.dns.as_ref().is_none_or(|d| d.check.ok)
                && view.targets.iter().all(|t| t.check.ok);
            return Ok(if ok { 0 } else { crate::error::EXIT_FAIL });
        }
        std::thread::sleep(cfg.interval.saturating_sub(started.elapsed()));
    }
}

/// This agent's name and address.
fn identify(cfg: &Agent, known: &[IpAddr]) -> Result<Health> {
    let listen_ip = Some(cfg.listen.ip()).filter(|ip| !ip.is_unspecified());
    let towards_peer = || {
        known
            .iter()
            .find_map(|p| crate::sys::route::source_for(*p, None).ok())
    };
    let address = cfg.me.or(listen_ip).or_else(towards_peer).ok_or_else(|| {
        Error::local("cannot tell this agent's own address")
            .hint("give --self IP (the DaemonSet passes POD_IP), or --listen on that address")
    })?;
    let node = cfg.name.clone().unwrap_or_else(|| {
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_string())
            .unwrap_or_else(|_| address.to_string())
    });
    Ok(Health {
        node,
        address,
        zone: cfg.zone.clone(),
    })
}

fn open_source(cfg: &Agent) -> Result<Source> {
    Ok(match &cfg.peers {
        Peers::List(l) => Source::List(l.clone()),
        Peers::Dns(n) => Source::Dns(n.clone()),
        Peers::Api(service) => {
            let dir = crate::kube::serviceaccount_dir(None);
            let api = crate::kube::load(
                &dir,
                std::env::var("KUBERNETES_SERVICE_HOST").ok(),
                std::env::var("KUBERNETES_SERVICE_PORT").ok(),
                cfg.timeout.max(Duration::from_secs(5)),
            )
            .map_err(|e| {
                Error::local(format!("--peers-api: {e}"))
                    .hint("use --peers-dns with the headless Service, which needs no API access")
            })?;
            let namespace = crate::here::namespace_file(&dir).unwrap_or_else(|| "default".into());
            Source::Api {
                api,
                namespace,
                service: service.clone(),
            }
        }
    })
}

/// EndpointSlices with only what the agent reads.
#[derive(serde::Deserialize)]
struct Slice {
    #[serde(default)]
    endpoints: Vec<SliceEndpoint>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct SliceEndpoint {
    #[serde(default)]
    addresses: Vec<String>,
    #[serde(default)]
    node_name: Option<String>,
    #[serde(default)]
    zone: Option<String>,
}

fn read_peers(source: &Source, timeout: Duration) -> std::result::Result<Vec<Found>, String> {
    let bare = |l: Vec<IpAddr>| {
        l.into_iter()
            .map(|address| Found {
                address,
                node: None,
                zone: None,
            })
            .collect()
    };
    match source {
        Source::List(l) => Ok(bare(l.clone())),
        Source::Dns(name) => {
            let n = lookup(name, timeout);
            if n.check.ok {
                Ok(bare(n.addresses))
            } else {
                Err(n.check.error.unwrap_or_default())
            }
        }
        Source::Api {
            api,
            namespace,
            service,
        } => {
            let read =
                crate::kube::Read::list("endpointslices", Some(namespace)).with_query(format!(
                    "labelSelector=kubernetes.io%2Fservice-name%3D{}",
                    url::form_urlencoded::byte_serialize(service.as_bytes()).collect::<String>()
                ));
            let slices = api
                .read::<crate::kube::List<Slice>>(&read)
                .map_err(|e| match e {
                    crate::kube::ApiError::Forbidden(_) => {
                        format!("{} ({})", e.words(&read), read.can_i())
                    }
                    _ => e.words(&read),
                })?;
            Ok(peers_of(slices.items))
        }
    }
}

fn peers_of(slices: Vec<Slice>) -> Vec<Found> {
    slices
        .into_iter()
        .flat_map(|s| s.endpoints)
        .flat_map(|e| {
            let (node, zone) = (e.node_name, e.zone);
            e.addresses.into_iter().filter_map(move |a| {
                Some(Found {
                    address: a.parse().ok()?,
                    node: node.clone(),
                    zone: zone.clone(),
                })
            })
        })
        .collect()
}

/// The name the DNS check asks each round: --dns-name, else the API's name in the cluster
/// domain, else the peers' name.
fn dns_check_name(cfg: &Agent) -> Option<String> {
    cfg.dns_name.clone().or_else(|| {
        let conf = dns::conf::system();
        crate::here::cluster_domain(&conf)
            .map(|d| format!("kubernetes.default.svc.{d}"))
            .or_else(|| match &cfg.peers {
                Peers::Dns(n) => Some(n.clone()),
                Peers::List(_) | Peers::Api(_) => None,
            })
    })
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

/// One lookup as the pod's resolver does it (resolv.conf read again each time).
fn lookup(name: &str, timeout: Duration) -> Named {
    let start = Instant::now();
    let mut r = dns::system();
    r.deadline = Some(start + timeout);
    let res = r.lookup_ip(name, Family::Any);
    let (check, addresses) = match res.result {
        Ok(l) if !l.addrs.is_empty() => (Check::pass(ms(start.elapsed())), l.addrs),
        Ok(_) => (Check::fail("no addresses"), vec![]),
        Err(e) => (Check::fail(e.gai_message()), vec![]),
    };
    Named {
        name: name.to_string(),
        check,
        addresses,
    }
}

/// A `--targets` entry: `host:port` is connected to; `http://host:port/path` is asked too and
/// passes below status 500.
fn check_target(target: &str, timeout: Duration) -> Named {
    let deadline = Instant::now() + timeout;
    let (host, port, path) = match split_target(target) {
        Ok(t) => t,
        Err(e) => {
            return Named {
                name: target.to_string(),
                check: Check::fail(e),
                addresses: vec![],
            };
        }
    };
    let found = lookup(&host, timeout);
    let Some(ip) = found.addresses.first().copied() else {
        return Named {
            name: target.to_string(),
            check: found.check,
            addresses: vec![],
        };
    };
    let addr = SocketAddr::new(ip, port);
    let start = Instant::now();
    let result = conn::connect(addr, deadline, &conn::Local::default())
        .map_err(|e| crate::probe::io_words(&e))
        .and_then(|mut s| match &path {
            None => Ok(()),
            Some(p) => {
                let host_header = if port == 80 {
                    host.clone()
                } else {
                    format!("{host}:{port}")
                };
                match crate::http::get(&mut s, &host_header, p, &[], 4096) {
                    Ok(f) if f.head.status < 500 => Ok(()),
                    Ok(f) => Err(format!("HTTP {}", f.head.status)),
                    Err(e) => Err(crate::probe::http_words(&e)),
                }
            }
        })
        .map(|_| ms(start.elapsed()));
    Named {
        name: target.to_string(),
        check: check_of(result),
        addresses: vec![ip],
    }
}

/// `host:port` or `http://host[:port]/path` → host, port and the path to GET (None: TCP only).
pub fn split_target(t: &str) -> std::result::Result<(String, u16, Option<String>), String> {
    if t.starts_with("http://") {
        let u = url::Url::parse(t).map_err(|e| format!("bad URL ({e})"))?;
        let host = u
            .host_str()
            .ok_or("no host")?
            .trim_matches(['[', ']'])
            .to_string();
        let mut path = u.path().to_string();
        if let Some(q) = u.query() {
            path = format!("{path}?{q}");
        }
        return Ok((host, u.port().unwrap_or(80), Some(path)));
    }
    let (host, port) = t.rsplit_once(':').ok_or("not host:port")?;
    let port = port
        .parse::<u16>()
        .map_err(|_| format!("bad port '{port}'"))?;
    Ok((host.trim_matches(['[', ']']).to_string(), port, None))
}

/// One peer: ICMP echo small and full-size with don't-fragment (or TCP when ICMP is not
/// allowed), then a TCP connect to its agent and a GET of its /healthz.
fn probe_peer(addr: IpAddr, port: u16, timeout: Duration, icmp: bool) -> Outcome {
    let target = pathmtu::Target {
        label: String::new(),
        addr: SocketAddr::new(addr, port),
    };
    let m = pathmtu::check(&target, Instant::now() + timeout);
    let small_passed = matches!(m.small, Packet::Passed { .. });
    let icmp_check = match (m.via, &m.small) {
        ("icmp", Packet::Passed { ms }) => Some(Check::pass(*ms)),
        _ if icmp => Some(Check::fail("lost")),
        _ => None,
    };
    let mtu_check = small_passed.then(|| match &m.large {
        Packet::Passed { ms } => Check::pass(*ms),
        Packet::Smaller { .. } => Check {
            ok: true,
            ms: None,
            error: None,
        },
        Packet::Lost => Check::fail(format!(
            "{}-byte packet with don't-fragment lost, {}-byte passed",
            m.large_size, m.small_size
        )),
        Packet::Error { error } => Check::fail(error.clone()),
    });
    let (tcp, http, health) = tcp_http(target.addr, timeout);
    Outcome {
        checks: Checks {
            icmp: icmp_check,
            mtu: mtu_check,
            tcp: Some(tcp),
            http,
        },
        health,
    }
}

fn tcp_http(addr: SocketAddr, timeout: Duration) -> (Check, Option<Check>, Option<Health>) {
    let start = Instant::now();
    let mut s = match conn::connect(addr, start + timeout, &conn::Local::default()) {
        Ok(s) => s,
        Err(e) => return (Check::fail(crate::probe::io_words(&e)), None, None),
    };
    let tcp = Check::pass(ms(start.elapsed()));
    let t = Instant::now();
    s.set_deadline(Some(t + timeout));
    let host = crate::probe::show_addr(&addr);
    let (http, health) = match crate::http::get(&mut s, &host, "/healthz", &[], 4096) {
        Ok(f) if f.head.status == 200 => match serde_json::from_slice::<Health>(&f.body) {
            Ok(h) => (Check::pass(ms(t.elapsed())), Some(h)),
            Err(_) => (Check::fail("not a debugbox mesh agent"), None),
        },
        Ok(f) => (Check::fail(format!("HTTP {}", f.head.status)), None),
        Err(e) => (Check::fail(crate::probe::http_words(&e)), None),
    };
    (tcp, Some(http), health)
}

fn json(value: &impl serde::Serialize) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => Response::ok("application/json", body),
        Err(e) => Response::error(500, &e.to_string()),
    }
}

fn handle(shared: &Shared, req: &Request) -> Response {
    match req.path.as_str() {
        "/healthz" => json(&shared.with_state(|s| s.me.clone())),
        "/metrics" => Response::ok(
            "text/plain; version=0.0.4; charset=utf-8",
            shared.with_state(|s| metrics::render(s)),
        ),
        "/matrix.json" if req.flag("all") => json(&merged(shared)),
        "/matrix.json" => {
            let mut v = shared.view();
            if req.flag("bad") {
                v.links.retain(|l| !l.ok());
            }
            json(&v)
        }
        "/" | "/index.html" => {
            let m = merged(shared);
            let v = verdict::judge(&m);
            Response::ok("text/html; charset=utf-8", page::render(&m, &v))
        }
        _ => Response::error(
            404,
            "not found: /healthz, /metrics, /matrix.json, /matrix.json?all=1, /",
        ),
    }
}

/// This agent's view and every known peer's, fetched at once before the deadline.
fn merged(shared: &Shared) -> Merged {
    let own = shared.view();
    let known: Vec<IpAddr> = own.links.iter().map(|l| l.to).collect();
    let path = if known.len() > FULL_VIEWS_UP_TO {
        "/matrix.json?bad=1"
    } else {
        "/matrix.json"
    };
    let timeout = shared.cfg.timeout.max(Duration::from_secs(2));
    let port = shared.cfg.port;
    let fetched = crate::pool::map(&known, FETCH_WORKERS, |a| {
        let addr = SocketAddr::new(*a, port);
        fetch::json::<View>(
            addr,
            &crate::probe::show_addr(&addr),
            path,
            timeout,
            fetch::VIEW_LIMIT,
        )
    });
    let mut views = vec![own.clone()];
    let mut missing = Vec::new();
    for (a, r) in known.iter().zip(fetched) {
        match r {
            Ok(v) => views.push(v),
            Err(error) => missing.push(Missing { address: *a, error }),
        }
    }
    Merged {
        from: own.node,
        views,
        missing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_host_port_or_http_urls() {
        assert_eq!(
            split_target("web.default:80").unwrap(),
            ("web.default".into(), 80, None)
        );
        assert_eq!(
            split_target("http://web.default:8080/ready?x=1").unwrap(),
            ("web.default".into(), 8080, Some("/ready?x=1".into()))
        );
        assert_eq!(
            split_target("[fd00::1]:53").unwrap(),
            ("fd00::1".into(), 53, None)
        );
        assert!(split_target("web").is_err());
        assert!(split_target("web:99999").is_err());
    }
}
