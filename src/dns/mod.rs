//! Name resolution shared by every applet: resolv.conf and /etc/hosts read as glibc reads them,
//! DNS messages through hickory-proto, and the search walk with its trace (`--explain`).

pub mod conf;
pub mod hosts;
pub mod present;
pub mod resolver;
pub mod sort;

pub use resolver::{Family, LookupError, Resolver};

/// The resolver as the system configures it, over real sockets.
pub fn system() -> Resolver<crate::sys::dns::SocketTransport> {
    Resolver::new(
        conf::system(),
        hosts::Hosts::system(),
        crate::sys::dns::SocketTransport,
    )
}
