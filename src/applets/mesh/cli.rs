//! `mesh`'s command line: the agent's flags, and `mesh status --from URL`. Pure: arguments in,
//! a typed configuration out.

use crate::error::{Error, Parsed, Result};
use clap::{Arg, ArgAction, ArgMatches, Command};
use std::ffi::OsString;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// Where the peers come from.
#[derive(Debug, Clone, PartialEq)]
pub enum Peers {
    List(Vec<IpAddr>),
    /// The A and AAAA records of a name (a headless Service).
    Dns(String),
    /// The endpoints of this Service (in the agent's own namespace), read from the API: they
    /// also give each peer's node name and zone.
    Api(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Agent {
    pub listen: SocketAddr,
    /// The port the peers' agents listen on.
    pub port: u16,
    pub peers: Peers,
    pub interval: Duration,
    pub sample: usize,
    pub timeout: Duration,
    /// How often the peer list is read again (DNS).
    pub refresh: Duration,
    pub targets: Vec<String>,
    pub dns_name: Option<String>,
    pub name: Option<String>,
    pub zone: Option<String>,
    pub me: Option<IpAddr>,
    /// Stop after this many rounds and print this node's view (None: serve for ever).
    pub rounds: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Status {
    pub from: String,
    pub timeout: Duration,
    pub json: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Config {
    Agent(Box<Agent>),
    Status(Status),
}

pub const DEFAULT_PORT: u16 = 9797;

pub fn command() -> Command {
    let value = |id: &'static str, name: &'static str, help: &'static str| {
        Arg::new(id).long(id).value_name(name).help(help)
    };
    Command::new("mesh")
        .about("every node checks the others (ICMP, MTU, TCP, HTTP, DNS) as a DaemonSet; serves /metrics, /matrix.json and a page; `mesh status` names the bad links' common factor")
        .disable_version_flag(true)
        .arg(Arg::new("version").short('V').long("version").action(ArgAction::SetTrue).help("print the version"))
        .args_conflicts_with_subcommands(true)
        .arg(value("listen", "ADDR:PORT", "where to serve /healthz, /metrics, /matrix.json and / [default: 0.0.0.0:9797]"))
        .arg(value("port", "PORT", "the port the peers' agents listen on [default: --listen's]"))
        .arg(value("peers", "IP,...", "the peers' addresses"))
        .arg(value("peers-dns", "NAME", "the peers are the A/AAAA records of NAME (a headless Service: no API access needed)"))
        .arg(value("peers-api", "SERVICE", "the peers are the endpoints of SERVICE in this pod's namespace, read from the API (names and zones too; needs list on endpointslices) [default: debugbox-mesh]").num_args(0..=1).default_missing_value("debugbox-mesh"))
        .arg(value("interval", "SECONDS", "time between probe rounds [default: 5]"))
        .arg(value("sample", "K", "peers probed each round (all when fewer); every pair is probed within n/K rounds [default: 10]"))
        .arg(value("timeout", "SECONDS", "deadline of each check [default: 2, at most the interval]"))
        .arg(value("refresh", "SECONDS", "how often --peers-dns is looked up again [default: 30]"))
        .arg(value("targets", "HOST:PORT,...", "Services to check each round too: host:port (TCP) or http://host:port/path (HTTP, status below 500)"))
        .arg(value("dns-name", "NAME", "the name the DNS check looks up each round [default: kubernetes.default.svc.DOMAIN in a cluster, else --peers-dns's name]"))
        .arg(value("name", "NODE", "this node's name [default: $NODE_NAME, else the host name]"))
        .arg(value("zone", "ZONE", "this node's zone, for the verdict [default: $MESH_ZONE]"))
        .arg(value("rounds", "N", "a one-off check: stop after N rounds and print this node's view as JSON (exit 1 when a link fails)"))
        .arg(value("self", "IP", "this agent's address [default: $POD_IP, else --listen's, else the source address towards the first peer]"))
        .subcommand(
            Command::new("status")
                .about("fetch an agent's merged view, print the node x node matrix and name the bad links' common factor")
                .arg(Arg::new("from").long("from").value_name("URL").required(true).help("an agent, e.g. http://10.244.1.5:9797"))
                .arg(value("timeout", "SECONDS", "deadline of the fetch [default: 10]"))
                .arg(Arg::new("json").short('j').long("json").action(ArgAction::SetTrue).help("print the verdict and the merged view as JSON")),
        )
}

fn seconds(m: &ArgMatches, id: &str, default: f64) -> Result<Duration> {
    let Some(v) = m.get_one::<String>(id) else {
        return Ok(Duration::from_secs_f64(default));
    };
    match v.parse::<f64>() {
        Ok(s) if s.is_finite() && s > 0.0 && s <= 86_400.0 => Ok(Duration::from_secs_f64(s)),
        _ => Err(Error::usage(format!("invalid --{id} '{v}'")).hint("seconds, more than 0")),
    }
}

fn ip_list(v: &str) -> Result<Vec<IpAddr>> {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<IpAddr>().map_err(|_| {
                Error::usage(format!("invalid address '{s}' in --peers"))
                    .hint("--peers 10.1.0.2,10.1.0.3, or --peers-dns NAME for names")
            })
        })
        .collect()
}

pub fn parse(args: &[OsString]) -> Result<Parsed<Config>> {
    let argv = std::iter::once(OsString::from("mesh")).chain(args.iter().cloned());
    let m = match crate::error::clap_matches(command(), argv, |line| {
        Error::usage(line).hint("mesh --help")
    })? {
        Ok(m) => m,
        Err(p) => return Ok(p),
    };
    if let Some(s) = m.subcommand_matches("status") {
        return Ok(Parsed::Run(Config::Status(Status {
            from: s.get_one::<String>("from").cloned().unwrap_or_default(),
            timeout: seconds(s, "timeout", 10.0)?,
            json: s.get_flag("json"),
        })));
    }
    agent(&m, &|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
        .map(|a| Parsed::Run(Config::Agent(Box::new(a))))
}

fn agent(m: &ArgMatches, env: &dyn Fn(&str) -> Option<String>) -> Result<Agent> {
    let get = |k: &str| m.get_one::<String>(k).cloned();
    let listen_text = get("listen").unwrap_or_else(|| format!("0.0.0.0:{DEFAULT_PORT}"));
    let listen: SocketAddr = listen_text.parse().map_err(|_| {
        Error::usage(format!("invalid --listen '{listen_text}'"))
            .hint("ADDR:PORT, e.g. 0.0.0.0:9797 or [::]:9797")
    })?;
    let port = match get("port") {
        Some(p) => p
            .parse()
            .map_err(|_| Error::usage(format!("invalid --port '{p}'")))?,
        None => listen.port(),
    };
    let peers = match (get("peers"), get("peers-dns"), get("peers-api")) {
        (Some(l), None, None) => Peers::List(ip_list(&l)?),
        (None, Some(n), None) if !n.trim().is_empty() => Peers::Dns(n.trim().to_string()),
        (None, None, Some(s)) if !s.trim().is_empty() => Peers::Api(s.trim().to_string()),
        (None, None, None) => {
            return Err(Error::usage(
                "where are the peers? give --peers IP,..., --peers-dns NAME or --peers-api [SERVICE]",
            )
            .hint(
                "in a cluster: --peers-dns with the headless Service of image/k8s/daemonset.yaml",
            ));
        }
        _ => {
            return Err(Error::usage(
                "give one of --peers, --peers-dns and --peers-api",
            ));
        }
    };
    let interval = seconds(m, "interval", 5.0)?;
    let timeout = seconds(m, "timeout", 2.0)?.min(interval);
    let sample = match get("sample") {
        Some(k) => match k.parse::<usize>() {
            Ok(k) if k > 0 && k <= 1000 => k,
            _ => return Err(Error::usage(format!("invalid --sample '{k}'")).hint("1 to 1000")),
        },
        None => 10,
    };
    let me = match get("self").or_else(|| env("POD_IP")) {
        Some(s) => Some(
            s.parse::<IpAddr>()
                .map_err(|_| Error::usage(format!("invalid --self '{s}'")))?,
        ),
        None => None,
    };
    let targets = get("targets")
        .map(|t| {
            t.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
    Ok(Agent {
        listen,
        port,
        peers,
        interval,
        sample,
        timeout,
        refresh: seconds(m, "refresh", 30.0)?,
        targets,
        dns_name: get("dns-name"),
        name: get("name").or_else(|| env("NODE_NAME")),
        zone: get("zone").or_else(|| env("MESH_ZONE")),
        me,
        rounds: match get("rounds") {
            Some(n) => Some(n.parse::<u64>().ok().filter(|n| *n > 0).ok_or_else(|| {
                Error::usage(format!("invalid --rounds '{n}'"))
                    .hint("a number of rounds, 1 or more")
            })?),
            None => None,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_with(args: &[&str], env: &[(&str, &str)]) -> Result<Agent> {
        let m = command()
            .try_get_matches_from(std::iter::once("mesh").chain(args.iter().copied()))
            .unwrap();
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        agent(&m, &|k| {
            env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
        })
    }

    #[test]
    fn agent_flags_defaults_and_environment() {
        let a = parse_with(
            &["--peers-dns", "mesh.debugbox.svc.cluster.local"],
            &[("POD_IP", "10.244.1.5"), ("NODE_NAME", "node-a")],
        )
        .unwrap();
        assert_eq!(a.listen, "0.0.0.0:9797".parse().unwrap());
        assert_eq!((a.port, a.sample), (9797, 10));
        assert_eq!(a.interval, Duration::from_secs(5));
        assert_eq!(a.timeout, Duration::from_secs(2));
        assert_eq!(a.me, Some("10.244.1.5".parse().unwrap()));
        assert_eq!(a.name.as_deref(), Some("node-a"));
        assert_eq!(
            a.peers,
            Peers::Dns("mesh.debugbox.svc.cluster.local".into())
        );
        let b = parse_with(
            &[
                "--listen",
                "10.1.0.2:8080",
                "--peers",
                "10.1.0.3, 10.1.0.4",
                "--interval",
                "1",
                "--timeout",
                "3",
                "--sample",
                "5",
                "--targets",
                "web.default:80,http://x:8080/ready",
            ],
            &[],
        )
        .unwrap();
        assert_eq!(b.port, 8080);
        assert_eq!(
            b.timeout,
            Duration::from_secs(1),
            "a check never outlasts the interval"
        );
        assert_eq!(
            b.peers,
            Peers::List(vec![
                "10.1.0.3".parse().unwrap(),
                "10.1.0.4".parse().unwrap()
            ])
        );
        assert_eq!(b.targets, vec!["web.default:80", "http://x:8080/ready"]);
        assert_eq!(
            parse_with(&["--peers-api"], &[]).unwrap().peers,
            Peers::Api("debugbox-mesh".into())
        );
        assert_eq!(
            parse_with(&["--peers-api", "m"], &[]).unwrap().peers,
            Peers::Api("m".into())
        );
    }

    #[test]
    fn bad_input_is_one_usage_line() {
        for args in [
            &["--peers", "10.1.0.300"][..],
            &[][..],
            &["--peers", "10.1.0.3", "--peers-dns", "x"][..],
            &["--peers-dns", "x", "--peers-api"][..],
            &["--peers-dns", "x", "--interval", "0"][..],
            &["--peers-dns", "x", "--sample", "0"][..],
            &["--peers-dns", "x", "--listen", "nowhere"][..],
        ] {
            let e = parse_with(args, &[]).unwrap_err();
            assert_eq!(e.code, 2, "{args:?}");
            assert!(!e.message.contains('\n'));
        }
    }
}
