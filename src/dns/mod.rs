//! Name resolution shared by every applet: resolv.conf and /etc/hosts read as glibc reads them,
//! DNS messages through hickory-proto, and the search walk with its trace (`--explain`).

pub mod conf;
pub mod hosts;
pub mod name;
pub mod present;
pub mod resolver;
pub mod sort;
pub mod transport;

pub use resolver::{Family, LookupError, Resolver};
pub use transport::SocketTransport;

/// The resolver as the system configures it, over real sockets.
pub fn system() -> Resolver<SocketTransport> {
    Resolver::new(
        conf::system(),
        hosts::Hosts::system(),
        SocketTransport::default(),
    )
}

/// Reverse names for tools that print the addresses they meet (hops, peers): each address is
/// asked once, for at most two seconds, and the answer, or that there was none, is kept.
pub struct Names {
    resolver: Resolver<SocketTransport>,
    cache: std::collections::HashMap<std::net::IpAddr, Option<String>>,
}

impl Names {
    pub fn system() -> Names {
        Names {
            resolver: system(),
            cache: std::collections::HashMap::new(),
        }
    }

    /// The PTR name (or /etc/hosts name) of `ip`, if it has one.
    pub fn lookup(&mut self, ip: std::net::IpAddr) -> Option<String> {
        let resolver = &mut self.resolver;
        self.cache
            .entry(ip)
            .or_insert_with(|| resolver.reverse(ip, std::time::Duration::from_secs(2)))
            .clone()
    }
}

/// Addresses in getaddrinfo's order, the source for each destination being the one the
/// kernel's routes choose (an address without a route goes last).
pub fn ordered(addrs: &[std::net::IpAddr]) -> Vec<std::net::IpAddr> {
    sort::sort(addrs, |a| crate::sys::route::source_for(a, None).ok())
        .into_iter()
        .map(|(a, _)| a)
        .collect()
}

/// bind's mnemonic for a response code (`NOERROR`, `NXDOMAIN`, …).
pub fn rcode_name(rc: hickory_proto::op::ResponseCode) -> String {
    const NAMES: [&str; 17] = [
        "NOERROR",
        "FORMERR",
        "SERVFAIL",
        "NXDOMAIN",
        "NOTIMP",
        "REFUSED",
        "YXDOMAIN",
        "YXRRSET",
        "NXRRSET",
        "NOTAUTH",
        "NOTZONE",
        "RESERVED11",
        "RESERVED12",
        "RESERVED13",
        "RESERVED14",
        "RESERVED15",
        "BADVERS",
    ];
    let n = u16::from(rc) as usize;
    NAMES
        .get(n)
        .map(|s| s.to_string())
        .unwrap_or_else(|| format!("?{n}"))
}
