//! The kernel's routing decision for a destination, asked without sending anything.

use std::io;
use std::net::{IpAddr, SocketAddr, SocketAddrV6};

/// `dst:port`, with the IPv6 zone `scope` (0: none).
pub fn scoped(dst: IpAddr, port: u16, scope: u32) -> SocketAddr {
    match dst {
        IpAddr::V6(a) if scope != 0 => SocketAddr::V6(SocketAddrV6::new(a, port, 0, scope)),
        _ => SocketAddr::new(dst, port),
    }
}

/// The source address the kernel would use towards `dst` (connecting a UDP socket sends no
/// packet). Fails with ENETUNREACH when there is no route.
pub fn source_for(dst: IpAddr, device: Option<&str>) -> io::Result<IpAddr> {
    source_for_scoped(dst, 0, device)
}

/// As `source_for`, for an IPv6 address with a zone (`scope`: the interface index).
pub fn source_for_scoped(dst: IpAddr, scope: u32, device: Option<&str>) -> io::Result<IpAddr> {
    let s = socket2::Socket::new(
        socket2::Domain::for_address(SocketAddr::new(dst, 0)),
        socket2::Type::DGRAM,
        None,
    )?;
    if let Some(d) = device {
        s.bind_device(Some(d.as_bytes()))?;
    }
    s.connect(&scoped(dst, 1025, scope).into())?;
    s.local_addr()?
        .as_socket()
        .map(|a| a.ip())
        .ok_or_else(|| io::Error::other("no local address"))
}

/// The interface index the kernel routes `dst` out of (`ip route get`'s dev), if any route.
/// On a node this is the host side of a pod's veth when `dst` is a local pod's address.
pub fn device_for(dst: IpAddr) -> io::Result<Option<u32>> {
    use netlink_packet_route::AddressFamily;
    use netlink_packet_route::route::{RouteAddress, RouteAttribute, RouteMessage};
    let mut r = RouteMessage::default();
    let (family, addr, len) = match dst {
        IpAddr::V4(a) => (AddressFamily::Inet, RouteAddress::Inet(a), 32),
        IpAddr::V6(a) => (AddressFamily::Inet6, RouteAddress::Inet6(a), 128),
    };
    r.header.address_family = family;
    r.header.destination_prefix_length = len;
    r.attributes.push(RouteAttribute::Destination(addr));
    let answer = super::netlink::Rtnl::open()?.route_get(r)?;
    Ok(answer.attributes.iter().find_map(|a| match a {
        RouteAttribute::Oif(i) => Some(*i),
        _ => None,
    }))
}
