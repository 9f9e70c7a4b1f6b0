//! diagnose's flags and the forms TARGET takes: `svc`, `svc.ns`, `svc.ns.svc[.DOMAIN]`, any of
//! those with `:port`, a URL, an `IP:port` (or `[IPv6]:port`), or another host name.

use crate::error::{Error, Parsed, Result};
use clap::{Arg, ArgAction, Command};
use std::ffi::OsString;
use std::net::IpAddr;
use std::time::Duration;

pub fn command() -> Command {
    Command::new("diagnose")
        .about("walk a Service's paths (DNS, ClusterIP, endpoints, NodePort, LoadBalancer, Ingress) and name the broken hop")
        .override_usage("diagnose TARGET [--port P] [-n NS] [--path /healthz] [--endpoints IP,…] [--node-ip IP,…] [-j]")
        .after_help(
            "TARGET: svc, svc.ns, svc.ns.svc.cluster.local, svc.ns:port, http://svc.ns:port/path, IP:port, or an Ingress host.\n\
             Exit status: 0 every path checked works, 1 a hop failed, 2 usage or local error.",
        )
        .arg(Arg::new("target").value_name("TARGET").required(true).help("the Service (or address, URL, Ingress host) to check"))
        .arg(Arg::new("port").short('p').long("port").value_name("PORT").help("Service port: a number, or a port name (looked up by SRV without the API)"))
        .arg(Arg::new("namespace").short('n').long("namespace").value_name("NS").help("the Service's namespace (default: this pod's)"))
        .arg(Arg::new("path").long("path").value_name("PATH").help("HTTP path to ask for on every hop (default /)"))
        .arg(Arg::new("endpoints").long("endpoints").value_name("IP[:PORT],…").help("endpoints to probe when the API cannot be read (port: the targetPort, else the Service port)"))
        .arg(Arg::new("node-ip").long("node-ip").value_name("IP,…").help("node addresses for the NodePort check when the API cannot be read"))
        .arg(Arg::new("objects").long("objects").value_name("FILE|-").help("Kubernetes objects instead of the API: the JSON of `kubectl get services,endpointslices,pods,nodes,ingresses -A -o json` (- for stdin)"))
        .arg(Arg::new("node-port").long("node-port").value_name("PORT").help("the Service's nodePort, probed on --node-ip when the API cannot be read"))
        .arg(Arg::new("lb").long("lb").value_name("IP[:PORT]").action(ArgAction::Append).help("a LoadBalancer address to probe when the API cannot be read (port: the Service port); repeatable"))
        .arg(Arg::new("ingress").long("ingress").value_name("HOST[@IP[:PORT]]").action(ArgAction::Append).help("an Ingress host to probe (at IP, else where DNS says; port 80); repeatable"))
        .arg(Arg::new("timeout").long("timeout").value_name("SECONDS").default_value("2").help("deadline for each probe and API read"))
        .arg(Arg::new("serviceaccount").long("serviceaccount").value_name("DIR").help("service account directory (token, ca.crt, namespace)"))
        .arg(Arg::new("json").short('j').long("json").action(ArgAction::SetTrue).help("JSON report with every step and probe"))
        .arg(Arg::new("no-color").long("no-color").action(ArgAction::SetTrue).help("no colour (NO_COLOR is honoured too)"))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Port {
    Number(u16),
    Name(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// A Service by name; the namespace when the target says it; the cluster domain when given.
    Service {
        name: String,
        namespace: Option<String>,
        domain: Option<String>,
    },
    /// An address (a ClusterIP, a pod IP, a node IP…).
    Address(IpAddr),
    /// Some other host name: an Ingress host, an external name.
    Host(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub kind: Kind,
    /// The host part as given (no scheme, port or path): the name a client would look up.
    pub host: String,
    pub port: Option<Port>,
    pub path: Option<String>,
    /// The target was an https:// URL.
    pub https: bool,
}

#[derive(Debug, Clone)]
pub struct Options {
    pub target: Target,
    pub target_text: String,
    pub namespace: Option<String>,
    /// Endpoint addresses, with their port when given (`IP:port`, `[IPv6]:port`).
    pub endpoints: Vec<(IpAddr, Option<u16>)>,
    pub node_ips: Vec<IpAddr>,
    /// `--objects`: where the objects come from (a path, or `-`).
    pub objects: Option<String>,
    pub node_port: Option<u16>,
    pub lbs: Vec<(IpAddr, Option<u16>)>,
    /// `--ingress HOST[@IP[:PORT]]`.
    pub ingresses: Vec<IngressFlag>,
    pub timeout: Duration,
    pub serviceaccount: Option<String>,
    pub json: bool,
    pub no_color: bool,
}

/// An Ingress host given on the command line, with where to reach its controller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngressFlag {
    pub host: String,
    pub ip: Option<IpAddr>,
    pub port: Option<u16>,
}

fn ingress_flag(v: &str) -> Result<IngressFlag> {
    let bad = || usage(format!("--ingress {v}: HOST, HOST@IP or HOST@IP:PORT"));
    let (host, at) = match v.split_once('@') {
        Some((h, a)) => (h, Some(a)),
        None => (v, None),
    };
    if host.is_empty()
        || !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
    {
        return Err(bad());
    }
    let (ip, port) = match at {
        None => (None, None),
        Some(a) => match (a.parse::<std::net::SocketAddr>(), a.parse::<IpAddr>()) {
            (Ok(sa), _) => (Some(sa.ip()), Some(sa.port())),
            (_, Ok(ip)) => (Some(ip), None),
            _ => return Err(bad()),
        },
    };
    Ok(IngressFlag {
        host: host.to_ascii_lowercase(),
        ip,
        port,
    })
}

fn usage(msg: impl Into<String>) -> Error {
    Error::usage(msg).hint("debugbox diagnose --help")
}

pub fn parse(args: &[OsString]) -> Result<Parsed<Options>> {
    let argv = std::iter::once(OsString::from("diagnose")).chain(args.iter().cloned());
    let m = match crate::error::clap_matches(command(), argv, usage)? {
        Ok(m) => m,
        Err(p) => return Ok(p),
    };
    let target_text = m.get_one::<String>("target").cloned().unwrap_or_default();
    let mut target = parse_target(&target_text).map_err(usage)?;
    if let Some(p) = m.get_one::<String>("port") {
        let port = parse_port(p).map_err(usage)?;
        if target.port.as_ref().is_some_and(|t| *t != port) {
            return Err(usage(format!(
                "port given twice: in {target_text} and --port {p}"
            )));
        }
        target.port = Some(port);
    }
    if let Some(p) = m.get_one::<String>("path") {
        if !p.starts_with('/') {
            return Err(usage(format!("--path {p}: a path starts with /")));
        }
        target.path = Some(p.clone());
    }
    let namespace = m.get_one::<String>("namespace").cloned();
    if let Some(ns) = &namespace
        && !dns_label(ns)
    {
        return Err(usage(format!(
            "-n {ns}: a namespace is a DNS label (lower-case letters, digits and '-', at most 63)"
        )));
    }
    if let (
        Some(ns),
        Kind::Service {
            namespace: Some(in_target),
            ..
        },
    ) = (&namespace, &target.kind)
        && ns != in_target
    {
        return Err(usage(format!(
            "namespace given twice: {in_target} in {target_text} and -n {ns}"
        )));
    }
    let timeout: f64 = m
        .get_one::<String>("timeout")
        .and_then(|t| t.parse().ok())
        .filter(|t: &f64| t.is_finite() && *t > 0.0 && *t <= 300.0)
        .ok_or_else(|| usage("--timeout takes seconds between 0 and 300"))?;
    Ok(Parsed::Run(Options {
        target,
        target_text,
        namespace,
        endpoints: endpoint_list(m.get_one::<String>("endpoints"))?,
        node_ips: ip_list(m.get_one::<String>("node-ip"), "--node-ip")?,
        objects: m.get_one::<String>("objects").cloned(),
        node_port: match m.get_one::<String>("node-port") {
            None => None,
            Some(p) => Some(
                p.parse::<u16>()
                    .ok()
                    .filter(|p| *p > 0)
                    .ok_or_else(|| usage(format!("--node-port {p}: a port number")))?,
            ),
        },
        lbs: m
            .get_many::<String>("lb")
            .into_iter()
            .flatten()
            .map(|v| endpoint_list(Some(v)))
            .collect::<Result<Vec<_>>>()?
            .into_iter()
            .flatten()
            .collect(),
        ingresses: m
            .get_many::<String>("ingress")
            .into_iter()
            .flatten()
            .map(|v| ingress_flag(v))
            .collect::<Result<Vec<_>>>()?,
        timeout: Duration::from_secs_f64(timeout),
        serviceaccount: m.get_one::<String>("serviceaccount").cloned(),
        json: m.get_flag("json"),
        no_color: m.get_flag("no-color"),
    }))
}

fn endpoint_list(v: Option<&String>) -> Result<Vec<(IpAddr, Option<u16>)>> {
    let Some(v) = v else { return Ok(Vec::new()) };
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            if let Ok(sa) = s.parse::<std::net::SocketAddr>() {
                return Ok((sa.ip(), Some(sa.port())));
            }
            s.parse::<IpAddr>()
                .map(|ip| (ip, None))
                .map_err(|_| usage(format!("--endpoints: {s} is not IP or IP:port")))
        })
        .collect()
}

fn ip_list(v: Option<&String>, flag: &str) -> Result<Vec<IpAddr>> {
    let Some(v) = v else { return Ok(Vec::new()) };
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse()
                .map_err(|_| usage(format!("{flag}: {s} is not an IP address")))
        })
        .collect()
}

pub fn parse_port(p: &str) -> std::result::Result<Port, String> {
    if !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()) {
        return match p.parse::<u16>() {
            Ok(n) if n > 0 => Ok(Port::Number(n)),
            _ => Err(format!("bad port {p}: 1-65535")),
        };
    }
    // An IANA service name, as Kubernetes port names are (lowercase, digits, dashes, ≤ 15).
    let ok = !p.is_empty()
        && p.len() <= 15
        && p.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !p.starts_with('-')
        && !p.ends_with('-');
    if ok {
        Ok(Port::Name(p.to_string()))
    } else {
        Err(format!("bad port {p:?}: a number or a port name"))
    }
}

fn dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

pub fn parse_target(text: &str) -> std::result::Result<Target, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("empty TARGET".into());
    }
    if text.contains("://") {
        let u = url::Url::parse(text).map_err(|e| format!("bad URL {text}: {e}"))?;
        let https = match u.scheme() {
            "http" => false,
            "https" => true,
            s => return Err(format!("{s}:// is not checked: use http:// or https://")),
        };
        let host = match u.host() {
            Some(url::Host::Ipv4(ip)) => Kind::Address(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => Kind::Address(IpAddr::V6(ip)),
            Some(url::Host::Domain(d)) => classify(d)?,
            None => return Err(format!("no host in {text}")),
        };
        let path = match (u.path(), u.query()) {
            ("/", None) => None,
            (p, None) => Some(p.to_string()),
            (p, Some(q)) => Some(format!("{p}?{q}")),
        };
        return Ok(Target {
            kind: host,
            host: u.host_str().unwrap_or("").to_string(),
            port: u.port_or_known_default().map(Port::Number),
            path,
            https,
        });
    }
    // [v6]:port, v6, v4:port, v4, name:port, name
    if let Some(rest) = text.strip_prefix('[') {
        let (ip, after) = rest
            .split_once(']')
            .ok_or_else(|| format!("bad address {text}"))?;
        let ip: IpAddr = ip.parse().map_err(|_| format!("bad address {text}"))?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(parse_port(p)?),
            None if after.is_empty() => None,
            None => return Err(format!("bad address {text}")),
        };
        return Ok(Target {
            kind: Kind::Address(ip),
            host: ip.to_string(),
            port,
            path: None,
            https: false,
        });
    }
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Ok(Target {
            kind: Kind::Address(ip),
            host: text.to_string(),
            port: None,
            path: None,
            https: false,
        });
    }
    let (host, port) = match text.rsplit_once(':') {
        Some((h, p)) => (h, Some(parse_port(p)?)),
        None => (text, None),
    };
    let kind = match host.parse::<IpAddr>() {
        Ok(ip) => Kind::Address(ip),
        Err(_) => classify(host)?,
    };
    Ok(Target {
        kind,
        host: host.to_string(),
        port,
        path: None,
        https: false,
    })
}

/// `web` and `web.shop` are Services (kubectl's reading); `web.shop.svc` and
/// `web.shop.svc.DOMAIN` too; any other name is a host.
fn classify(name: &str) -> std::result::Result<Kind, String> {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    let labels: Vec<&str> = name.split('.').collect();
    if labels.iter().any(|l| l.is_empty()) {
        return Err(format!("bad name {name}"));
    }
    let svc_at = labels.iter().position(|l| *l == "svc");
    match (labels.len(), svc_at) {
        (1, _) if dns_label(labels[0]) => Ok(Kind::Service {
            name: name.clone(),
            namespace: None,
            domain: None,
        }),
        (2, _) if dns_label(labels[0]) && dns_label(labels[1]) => Ok(Kind::Service {
            name: labels[0].into(),
            namespace: Some(labels[1].into()),
            domain: None,
        }),
        (n, Some(2)) if n >= 3 && dns_label(labels[0]) && dns_label(labels[1]) => {
            Ok(Kind::Service {
                name: labels[0].into(),
                namespace: Some(labels[1].into()),
                domain: if n > 3 {
                    Some(labels[3..].join("."))
                } else {
                    None
                },
            })
        }
        _ if name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.') =>
        {
            Ok(Kind::Host(name.clone()))
        }
        _ => Err(format!("bad name {name}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn svc(name: &str, ns: Option<&str>, domain: Option<&str>) -> Kind {
        Kind::Service {
            name: name.into(),
            namespace: ns.map(String::from),
            domain: domain.map(String::from),
        }
    }

    #[test]
    fn service_forms() {
        assert_eq!(parse_target("web").unwrap().kind, svc("web", None, None));
        assert_eq!(
            parse_target("web.default").unwrap().kind,
            svc("web", Some("default"), None)
        );
        assert_eq!(
            parse_target("web.default.svc").unwrap().kind,
            svc("web", Some("default"), None)
        );
        assert_eq!(
            parse_target("web.default.svc.cluster.local").unwrap().kind,
            svc("web", Some("default"), Some("cluster.local"))
        );
        assert_eq!(
            parse_target("web.default.svc.cluster.local.").unwrap().kind,
            svc("web", Some("default"), Some("cluster.local"))
        );
        let t = parse_target("web.default:3000").unwrap();
        assert_eq!(t.kind, svc("web", Some("default"), None));
        assert_eq!(t.host, "web.default");
        assert_eq!(parse_target("web").unwrap().host, "web");
        assert_eq!(t.port, Some(Port::Number(3000)));
        assert_eq!(
            parse_target("web:http").unwrap().port,
            Some(Port::Name("http".into()))
        );
    }

    #[test]
    fn urls_addresses_and_hosts() {
        let t = parse_target("http://web.default:3000/healthz").unwrap();
        assert_eq!(t.kind, svc("web", Some("default"), None));
        assert_eq!(t.host, "web.default");
        assert_eq!(t.port, Some(Port::Number(3000)));
        assert_eq!(t.path.as_deref(), Some("/healthz"));
        let t = parse_target("https://kubernetes.default").unwrap();
        assert!(t.https);
        assert_eq!(t.port, Some(Port::Number(443)));
        assert_eq!(t.path, None);
        let t = parse_target("10.96.0.100:3000").unwrap();
        assert_eq!(t.kind, Kind::Address("10.96.0.100".parse().unwrap()));
        assert_eq!(t.port, Some(Port::Number(3000)));
        let t = parse_target("[fd00:10:96::100]:3000").unwrap();
        assert_eq!(t.kind, Kind::Address("fd00:10:96::100".parse().unwrap()));
        assert_eq!(parse_target("fd00:10:96::100").unwrap().port, None);
        assert_eq!(
            parse_target("shop.example.com").unwrap().kind,
            Kind::Host("shop.example.com".into())
        );
        assert_eq!(
            parse_target("http://shop.example.com/").unwrap().port,
            Some(Port::Number(80))
        );
    }

    #[test]
    fn bad_targets() {
        for bad in [
            "",
            "web:0",
            "web:99999999",
            "web..default",
            "ftp://x",
            "[::1",
            "web:Bad_Name",
            "we b",
        ] {
            assert!(parse_target(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn flags() {
        let args = |v: &[&str]| v.iter().map(OsString::from).collect::<Vec<_>>();
        let Parsed::Run(o) = parse(&args(&[
            "web",
            "-n",
            "shop",
            "--port",
            "80",
            "--endpoints",
            "10.0.0.1, 10.0.0.2:8080,[fd00::1]:80",
            "-j",
        ]))
        .unwrap() else {
            panic!()
        };
        assert_eq!(o.namespace.as_deref(), Some("shop"));
        assert_eq!(o.target.port, Some(Port::Number(80)));
        assert_eq!(
            o.endpoints,
            vec![
                ("10.0.0.1".parse().unwrap(), None),
                ("10.0.0.2".parse().unwrap(), Some(8080)),
                ("fd00::1".parse().unwrap(), Some(80))
            ]
        );
        assert!(o.json);
        assert!(parse(&args(&["web.a", "-n", "b"])).is_err());
        assert!(parse(&args(&["web:80", "--port", "81"])).is_err());
        assert!(parse(&args(&["web", "--timeout", "0"])).is_err());
        assert!(parse(&args(&["web", "--path", "healthz"])).is_err());
        assert!(parse(&args(&["web", "--node-ip", "node1"])).is_err());
        assert!(parse(&args(&[])).is_err());
    }
}
