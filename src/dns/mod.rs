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
