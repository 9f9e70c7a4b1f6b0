//! Device ioctls that have no netlink form in every reply.

use std::io;

/// SIOCGIFTXQLEN: the transmit queue length of `name`. iproute2 falls back to this when a link
/// message carries no IFLA_TXQLEN (the AF_INET6 link dump behind `ip -6 addr` does not).
pub fn txqlen(name: &str) -> io::Result<u32> {
    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::DGRAM, None)?;
    // SAFETY: ifreq is plain old data; an all-zero value is valid.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    let bytes = name.as_bytes();
    if bytes.len() >= req.ifr_name.len() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "interface name too long",
        ));
    }
    for (dst, src) in req.ifr_name.iter_mut().zip(bytes) {
        *dst = *src as libc::c_char;
    }
    use std::os::fd::AsRawFd;
    // SAFETY: the fd is a valid socket and req is a properly initialised ifreq that outlives the call.
    let rc = unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFTXQLEN as _, &mut req) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: SIOCGIFTXQLEN fills the int member of the union (ifr_qlen, same place as ifru_metric).
    Ok(unsafe { req.ifr_ifru.ifru_metric } as u32)
}

/// The index of interface `zone` (an IPv6 zone: a name like `eth0`, or a number), if any.
/// The index of the interface with exactly this name (bytes, as the kernel keeps them).
pub fn index_of_name(name: &[u8]) -> Option<u32> {
    nix::net::if_::if_nametoindex(name).ok()
}

pub fn index_of(zone: &str) -> Option<u32> {
    if let Ok(n) = zone.parse::<u32>() {
        return (n > 0).then_some(n);
    }
    nix::net::if_::if_nametoindex(zone).ok()
}

/// The name of interface `index`, if there is one.
pub fn name_of(index: u32) -> Option<String> {
    nix::net::if_::if_indextoname(index)
        .ok()
        .map(|n| n.to_string_lossy().into_owned())
}
