//! The kernel's routing decision for a destination, asked without sending anything.

use std::io;
use std::net::{IpAddr, SocketAddr};

/// The source address the kernel would use towards `dst` (connecting a UDP socket sends no
/// packet). Fails with ENETUNREACH when there is no route.
pub fn source_for(dst: IpAddr, device: Option<&str>) -> io::Result<IpAddr> {
    let s = socket2::Socket::new(
        socket2::Domain::for_address(SocketAddr::new(dst, 0)),
        socket2::Type::DGRAM,
        None,
    )?;
    if let Some(d) = device {
        s.bind_device(Some(d.as_bytes()))?;
    }
    s.connect(&SocketAddr::new(dst, 1025).into())?;
    s.local_addr()?
        .as_socket()
        .map(|a| a.ip())
        .ok_or_else(|| io::Error::other("no local address"))
}
