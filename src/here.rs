//! "Where am I": this pod's (or node's) addresses and default routes, and what its resolv.conf
//! says about the cluster — its domain and this pod's namespace. diagnose's first step reports
//! it and the shell prints it on start; neither reaches into `ip`'s internals for it.

use crate::dns::conf::ResolvConf;
use crate::sys::netlink::Rtnl;
use netlink_packet_route::AddressFamily;
use netlink_packet_route::address::{AddressAttribute, AddressScope};
use netlink_packet_route::link::LinkAttribute;
use netlink_packet_route::route::{RouteAddress, RouteAttribute};
use std::fmt;
use std::io;
use std::net::IpAddr;
use std::path::Path;

/// A global address on an interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Addr {
    pub dev: String,
    pub ip: IpAddr,
    pub prefix: u8,
}

impl fmt::Display for Addr {
    /// `eth0 10.244.1.5/24`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}/{}", self.dev, self.ip, self.prefix)
    }
}

/// A default route in the main table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefaultRoute {
    pub via: Option<IpAddr>,
    pub dev: String,
}

impl fmt::Display for DefaultRoute {
    /// `default via 10.244.1.1 dev eth0`, as `ip route` starts the line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("default")?;
        if let Some(gw) = self.via {
            write!(f, " via {gw}")?;
        }
        if !self.dev.is_empty() {
            write!(f, " dev {}", self.dev)?;
        }
        Ok(())
    }
}

/// This network namespace's global addresses and default routes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Network {
    pub addresses: Vec<Addr>,
    pub defaults: Vec<DefaultRoute>,
}

/// Read the addresses and default routes over netlink (no privilege needed). A netlink failure
/// is an error, not an empty answer.
pub fn network() -> io::Result<Network> {
    let mut rtnl = Rtnl::open()?;
    let names: Vec<(u32, String)> = rtnl
        .links()?
        .into_iter()
        .map(|l| {
            let name = l
                .attributes
                .iter()
                .find_map(|a| match a {
                    LinkAttribute::IfName(n) => Some(n.clone()),
                    _ => None,
                })
                .unwrap_or_else(|| format!("if{}", l.header.index));
            (l.header.index, name)
        })
        .collect();
    let name = |index: u32| {
        names
            .iter()
            .find(|(i, _)| *i == index)
            .map(|(_, n)| n.clone())
            .unwrap_or_else(|| format!("if{index}"))
    };
    let mut net = Network::default();
    for a in rtnl.addresses()? {
        if a.header.scope != AddressScope::Universe {
            continue;
        }
        let local = a.attributes.iter().find_map(|x| match x {
            AddressAttribute::Local(ip) => Some(*ip),
            _ => None,
        });
        let ip = local.or_else(|| {
            a.attributes.iter().find_map(|x| match x {
                AddressAttribute::Address(ip) => Some(*ip),
                _ => None,
            })
        });
        if let Some(ip) = ip {
            net.addresses.push(Addr {
                dev: name(a.header.index),
                ip,
                prefix: a.header.prefix_len,
            });
        }
    }
    for fam in [AddressFamily::Inet, AddressFamily::Inet6] {
        for r in rtnl.routes(fam)? {
            let table = r
                .attributes
                .iter()
                .find_map(|a| match a {
                    RouteAttribute::Table(t) => Some(*t),
                    _ => None,
                })
                .unwrap_or(r.header.table as u32);
            if r.header.destination_prefix_length != 0 || table != 254 {
                continue;
            }
            let mut route = DefaultRoute {
                via: None,
                dev: String::new(),
            };
            for a in &r.attributes {
                match a {
                    RouteAttribute::Gateway(RouteAddress::Inet(ip)) => {
                        route.via = Some(IpAddr::V4(*ip))
                    }
                    RouteAttribute::Gateway(RouteAddress::Inet6(ip)) => {
                        route.via = Some(IpAddr::V6(*ip))
                    }
                    RouteAttribute::Oif(i) => route.dev = name(*i),
                    _ => {}
                }
            }
            net.defaults.push(route);
        }
    }
    Ok(net)
}

/// The cluster domain as the kubelet wrote it into the search list (`svc.DOMAIN`).
pub fn cluster_domain(conf: &ResolvConf) -> Option<String> {
    conf.search
        .iter()
        .find_map(|s| s.strip_prefix("svc.").map(String::from))
        .filter(|d| !d.is_empty())
}

/// This pod's namespace from the first search domain (`NS.svc.DOMAIN`).
pub fn namespace_from_search(conf: &ResolvConf, domain: &str) -> Option<String> {
    conf.search
        .first()
        .and_then(|s| s.strip_suffix(&format!(".svc.{domain}")))
        .filter(|n| !n.is_empty() && !n.contains('.'))
        .map(String::from)
}

/// The namespace of the service account mounted at `dir`, if any.
pub fn namespace_file(dir: &Path) -> Option<String> {
    std::fs::read_to_string(dir.join("namespace"))
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// Where the kubelet mounts a pod's service account.
pub const SERVICEACCOUNT_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

#[cfg(test)]
mod tests {
    use super::*;

    fn conf(search: &[&str]) -> ResolvConf {
        ResolvConf {
            search: search.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn domain_and_namespace_from_the_search_list() {
        let c = conf(&[
            "shop.svc.corp.internal",
            "svc.corp.internal",
            "corp.internal",
        ]);
        assert_eq!(cluster_domain(&c).as_deref(), Some("corp.internal"));
        assert_eq!(
            namespace_from_search(&c, "corp.internal").as_deref(),
            Some("shop")
        );
        let plain = conf(&["example.com"]);
        assert_eq!(cluster_domain(&plain), None);
        assert_eq!(namespace_from_search(&plain, "cluster.local"), None);
    }

    #[test]
    fn routes_read_like_ip() {
        let r = DefaultRoute {
            via: Some("10.244.1.1".parse().unwrap()),
            dev: "eth0".into(),
        };
        assert_eq!(r.to_string(), "default via 10.244.1.1 dev eth0");
        let a = Addr {
            dev: "eth0".into(),
            ip: "10.244.1.5".parse().unwrap(),
            prefix: 24,
        };
        assert_eq!(a.to_string(), "eth0 10.244.1.5/24");
    }

    #[test]
    fn loopback_namespace_reads() {
        // Any namespace has links and answers route dumps; nothing here may fail.
        assert!(network().is_ok());
    }
}
