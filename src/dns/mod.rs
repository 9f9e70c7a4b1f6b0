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
