//! Packet capture sockets (AF_PACKET): one interface or all of them, the frame as the wire had
//! it (SOCK_RAW) or without its link header (SOCK_DGRAM, "cooked", for `any` and links that
//! are not Ethernet); a classic BPF program attached before the socket is bound, so nothing
//! unfiltered is ever queued; the kernel's receive time, direction, interface, EtherType and
//! the VLAN tag it took off (PACKET_AUXDATA) with each packet; the kernel's counts
//! (PACKET_STATISTICS). Opening one needs CAP_NET_RAW.
//!
//! Packets come through a TPACKET_V3 ring shared with the kernel, as libpcap takes them: the
//! kernel fills blocks of packets and hands over a block when it is full or 50 ms old, so a
//! flood costs one wake-up a block instead of two system calls a packet (measured: recvmsg per
//! packet took 17x tcpdump's CPU writing pcap under a 50,000 packets/s flood). Where the ring
//! cannot be set up, packets are read one by one with recvmsg.
//!
//! pnet's datalink channel was the first candidate; it exposes neither the filter, nor the
//! direction and interface of a packet on `any`, nor the statistics, all of which tcpdump's
//! output needs, so the socket is driven here directly.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::Duration;

/// One packet and what the kernel said about it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Meta {
    /// Bytes copied into the buffer.
    pub caplen: usize,
    /// Bytes the packet had on the wire.
    pub wire_len: u32,
    pub sec: u64,
    pub nsec: u32,
    pub ifindex: u32,
    /// PACKET_HOST, _BROADCAST, _MULTICAST, _OTHERHOST, _OUTGOING.
    pub pkttype: u8,
    /// EtherType (host order).
    pub protocol: u16,
    /// ARPHRD_ type of the interface.
    pub hatype: u16,
    pub halen: u8,
    pub addr: [u8; 8],
    /// The 802.1Q tag the kernel removed from the frame, if any (TCI and TPID).
    pub vlan: Option<(u16, u16)>,
}

pub const PACKET_OUTGOING: u8 = 4;

/// An instruction of a classic BPF program, as the kernel takes it.
pub type Insn = (u16, u8, u8, u32);

pub struct Capture {
    fd: OwnedFd,
    ring: Option<Ring>,
    /// Totals of the kernel's counters, which reset on every read.
    packets: u64,
    drops: u64,
}

/// The mapped TPACKET_V3 ring: `blocks` blocks of `block_size` bytes, read in turn.
struct Ring {
    base: *mut u8,
    block_size: usize,
    blocks: usize,
    next: usize,
}

impl Drop for Ring {
    fn drop(&mut self) {
        // SAFETY: base and the length are what mmap returned and was given.
        unsafe {
            libc::munmap(
                self.base as *mut libc::c_void,
                self.block_size * self.blocks,
            );
        }
    }
}

/// How long the kernel keeps a block that is not full before it hands it over, in ms.
const BLOCK_TIMEOUT_MS: u32 = 50;

fn check(rc: libc::c_int) -> io::Result<()> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

fn setopt<T>(fd: &OwnedFd, level: libc::c_int, name: libc::c_int, value: &T) -> io::Result<()> {
    // SAFETY: value points to a live T of the size passed.
    check(unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            value as *const T as *const libc::c_void,
            std::mem::size_of::<T>() as libc::socklen_t,
        )
    })
}

impl Capture {
    /// A capture socket on interface `ifindex` (None: every interface), `cooked` for
    /// SOCK_DGRAM, the program `filter` attached first, then bound.
    /// `buffer`: the ring's size in bytes (the receive buffer's without a ring); `snaplen`:
    /// the most bytes kept of a packet.
    pub fn open(
        ifindex: Option<u32>,
        cooked: bool,
        filter: &[Insn],
        buffer: usize,
        snaplen: u32,
    ) -> io::Result<Capture> {
        let ty = if cooked {
            libc::SOCK_DGRAM
        } else {
            libc::SOCK_RAW
        };
        // Protocol 0: the socket receives nothing until bind names ETH_P_ALL, after the filter.
        // SAFETY: plain socket(2) call.
        let raw = unsafe { libc::socket(libc::AF_PACKET, ty | libc::SOCK_CLOEXEC, 0) };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: raw is a new descriptor nobody else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let mut cap = Capture {
            fd,
            ring: None,
            packets: 0,
            drops: 0,
        };
        cap.set_filter(filter)?;
        let one: libc::c_int = 1;
        setopt(&cap.fd, libc::SOL_PACKET, libc::PACKET_AUXDATA, &one)?;
        setopt(&cap.fd, libc::SOL_SOCKET, libc::SO_TIMESTAMPNS, &one)?;
        let size = buffer.min(i32::MAX as usize) as libc::c_int;
        // The forced size needs CAP_NET_ADMIN; the plain one is capped by rmem_max.
        if setopt(&cap.fd, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, &size).is_err() {
            let _ = setopt(&cap.fd, libc::SOL_SOCKET, libc::SO_RCVBUF, &size);
        }
        cap.ring = cap.map_ring(buffer, snaplen).ok();
        // SAFETY: sockaddr_ll is plain old data; zero is a valid start.
        let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        sll.sll_family = libc::AF_PACKET as u16;
        sll.sll_protocol = (libc::ETH_P_ALL as u16).to_be();
        sll.sll_ifindex = ifindex.unwrap_or(0) as i32;
        // SAFETY: sll is a valid sockaddr_ll of the size passed.
        check(unsafe {
            libc::bind(
                cap.fd.as_raw_fd(),
                &sll as *const libc::sockaddr_ll as *const libc::sockaddr,
                std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        })?;
        Ok(cap)
    }

    fn set_filter(&self, prog: &[Insn]) -> io::Result<()> {
        let mut code: Vec<libc::sock_filter> = prog
            .iter()
            .map(|&(code, jt, jf, k)| libc::sock_filter { code, jt, jf, k })
            .collect();
        let fprog = libc::sock_fprog {
            len: code.len() as u16,
            filter: code.as_mut_ptr(),
        };
        setopt(&self.fd, libc::SOL_SOCKET, libc::SO_ATTACH_FILTER, &fprog)
    }

    /// Promiscuous mode on `ifindex` for as long as this socket lives (the kernel counts
    /// memberships and drops this one when the socket closes: nothing stays changed).
    pub fn promiscuous(&self, ifindex: u32) -> io::Result<()> {
        // SAFETY: packet_mreq is plain old data.
        let mut mr: libc::packet_mreq = unsafe { std::mem::zeroed() };
        mr.mr_ifindex = ifindex as i32;
        mr.mr_type = libc::PACKET_MR_PROMISC as u16;
        setopt(&self.fd, libc::SOL_PACKET, libc::PACKET_ADD_MEMBERSHIP, &mr)
    }

    /// Ask for a TPACKET_V3 ring of about `buffer` bytes in blocks that hold a whole packet of
    /// `snaplen` bytes (libpcap's sizing), and map it.
    fn map_ring(&self, buffer: usize, snaplen: u32) -> io::Result<Ring> {
        let version = libc::tpacket_versions::TPACKET_V3 as libc::c_int;
        setopt(&self.fd, libc::SOL_PACKET, libc::PACKET_VERSION, &version)?;
        let frame = snaplen as usize + libc::TPACKET3_HDRLEN + 64;
        let mut block_size = 1usize << 16;
        while block_size < frame {
            block_size <<= 1;
        }
        let blocks = (buffer / block_size).clamp(4, 1 << 12);
        let req = libc::tpacket_req3 {
            tp_block_size: block_size as u32,
            tp_block_nr: blocks as u32,
            // One frame a block: V3 packs packets of any size into a block.
            tp_frame_size: block_size as u32,
            tp_frame_nr: blocks as u32,
            tp_retire_blk_tov: BLOCK_TIMEOUT_MS,
            tp_sizeof_priv: 0,
            tp_feature_req_word: 0,
        };
        setopt(&self.fd, libc::SOL_PACKET, libc::PACKET_RX_RING, &req)?;
        // SAFETY: mapping the ring the kernel just made for this socket, shared, of its size.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                block_size * blocks,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                self.fd.as_raw_fd(),
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(Ring {
            base: base as *mut u8,
            block_size,
            blocks,
            next: 0,
        })
    }

    /// Wait at most `timeout` for packets, then hand each one that is there to `f` (with its
    /// bytes: `buf` holds them when there is no ring); `f` returns false to stop early.
    pub fn each(
        &mut self,
        buf: &mut [u8],
        timeout: Duration,
        f: &mut dyn FnMut(&Meta, &[u8]) -> bool,
    ) -> io::Result<()> {
        if self.ring.is_none() {
            let mut next = self.recv(buf, timeout);
            loop {
                match next? {
                    Some(m) => {
                        if !f(&m, &buf[..m.caplen]) {
                            return Ok(());
                        }
                    }
                    None => return Ok(()),
                }
                next = self.recv_now(buf);
            }
        }
        if !self.block_ready() {
            self.wait(timeout)?;
        }
        while self.block_ready() {
            let go = self.read_block(f);
            if !go {
                return Ok(());
            }
        }
        Ok(())
    }

    fn block_desc(&self) -> Option<*mut libc::tpacket_block_desc> {
        let r = self.ring.as_ref()?;
        // SAFETY: next < blocks, so the block lies inside the mapping.
        Some(unsafe { r.base.add(r.next * r.block_size) } as *mut libc::tpacket_block_desc)
    }

    /// The current block belongs to us (the kernel handed it over).
    fn block_ready(&self) -> bool {
        let Some(d) = self.block_desc() else {
            return false;
        };
        // SAFETY: d points at a block header in the mapping; the kernel writes the status, so
        // it is read volatile, and the fence orders the packet reads after it.
        let status = unsafe { std::ptr::read_volatile(&(*d).hdr.bh1.block_status) };
        std::sync::atomic::fence(std::sync::atomic::Ordering::Acquire);
        status & libc::TP_STATUS_USER != 0
    }

    fn wait(&self, timeout: Duration) -> io::Result<()> {
        let mut pfd = libc::pollfd {
            fd: self.fd.as_raw_fd(),
            events: libc::POLLIN | libc::POLLERR,
            revents: 0,
        };
        let ms = timeout.as_millis().min(i32::MAX as u128) as libc::c_int;
        // SAFETY: one valid pollfd.
        let n = unsafe { libc::poll(&mut pfd, 1, ms) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(e);
            }
        }
        Ok(())
    }

    /// Hand the packets of the current block to `f`, give the block back to the kernel and
    /// move on; false when `f` asked to stop.
    fn read_block(&mut self, f: &mut dyn FnMut(&Meta, &[u8]) -> bool) -> bool {
        let Some(d) = self.block_desc() else {
            return false;
        };
        let Some(ring) = self.ring.as_ref() else {
            return false;
        };
        let block_size = ring.block_size;
        let mut go = true;
        // SAFETY: the block is ours until its status is written back. Every offset the kernel
        // wrote is checked against the block's size before it is followed; headers are read
        // unaligned.
        unsafe {
            let block = d as *const u8;
            let bh = std::ptr::read_unaligned(&(*d).hdr.bh1);
            let mut off = bh.offset_to_first_pkt as usize;
            for _ in 0..bh.num_pkts {
                if off + libc::TPACKET3_HDRLEN > block_size {
                    break;
                }
                let h: libc::tpacket3_hdr =
                    std::ptr::read_unaligned(block.add(off) as *const libc::tpacket3_hdr);
                let sll_at = off + libc::TPACKET_ALIGN(std::mem::size_of::<libc::tpacket3_hdr>());
                let sll: libc::sockaddr_ll =
                    std::ptr::read_unaligned(block.add(sll_at) as *const libc::sockaddr_ll);
                let data_at = off + h.tp_mac as usize;
                let len = h.tp_snaplen as usize;
                if data_at + len > block_size {
                    break;
                }
                let data = std::slice::from_raw_parts(block.add(data_at), len);
                let vlan = (h.tp_status & libc::TP_STATUS_VLAN_VALID != 0).then(|| {
                    let tpid = if h.tp_status & libc::TP_STATUS_VLAN_TPID_VALID != 0 {
                        h.hv1.tp_vlan_tpid
                    } else {
                        0x8100
                    };
                    (h.hv1.tp_vlan_tci as u16, tpid)
                });
                let m = Meta {
                    caplen: len,
                    wire_len: h.tp_len,
                    sec: h.tp_sec as u64,
                    nsec: h.tp_nsec,
                    ifindex: sll.sll_ifindex as u32,
                    pkttype: sll.sll_pkttype,
                    protocol: u16::from_be(sll.sll_protocol),
                    hatype: sll.sll_hatype,
                    halen: sll.sll_halen.min(8),
                    addr: sll.sll_addr,
                    vlan,
                };
                if !f(&m, data) {
                    go = false;
                    break;
                }
                if h.tp_next_offset == 0 {
                    break;
                }
                off += h.tp_next_offset as usize;
            }
            std::sync::atomic::fence(std::sync::atomic::Ordering::Release);
            std::ptr::write_volatile(&mut (*d).hdr.bh1.block_status, libc::TP_STATUS_KERNEL);
        }
        if let Some(r) = self.ring.as_mut() {
            r.next = (r.next + 1) % r.blocks;
        }
        go
    }

    /// Wait at most `timeout` for a packet and copy it into `buf`; None when none came.
    fn recv(&self, buf: &mut [u8], timeout: Duration) -> io::Result<Option<Meta>> {
        let mut pfd = libc::pollfd {
            fd: self.fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = timeout.as_millis().min(i32::MAX as u128) as libc::c_int;
        // SAFETY: one valid pollfd.
        let n = unsafe { libc::poll(&mut pfd, 1, ms) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                return Ok(None);
            }
            return Err(e);
        }
        if n == 0 {
            return Ok(None);
        }
        self.recv_now(buf)
    }

    /// Take a packet that is already queued (None when there is none).
    fn recv_now(&self, buf: &mut [u8]) -> io::Result<Option<Meta>> {
        // SAFETY: sockaddr_ll is plain old data.
        let mut from: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        let mut iov = libc::iovec {
            iov_base: buf.as_mut_ptr() as *mut libc::c_void,
            iov_len: buf.len(),
        };
        let mut control = [0u64; 16];
        // SAFETY: msghdr is plain old data.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_name = &mut from as *mut libc::sockaddr_ll as *mut libc::c_void;
        msg.msg_namelen = std::mem::size_of::<libc::sockaddr_ll>() as u32;
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr() as *mut libc::c_void;
        msg.msg_controllen = std::mem::size_of_val(&control);
        // SAFETY: every pointer in msg refers to a live buffer of the length given.
        let n = unsafe {
            libc::recvmsg(
                self.fd.as_raw_fd(),
                &mut msg,
                libc::MSG_TRUNC | libc::MSG_DONTWAIT,
            )
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            return match e.kind() {
                io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted => Ok(None),
                _ => Err(e),
            };
        }
        let mut m = Meta {
            caplen: (n as usize).min(buf.len()),
            wire_len: n as u32,
            ifindex: from.sll_ifindex as u32,
            pkttype: from.sll_pkttype,
            protocol: u16::from_be(from.sll_protocol),
            hatype: from.sll_hatype,
            halen: from.sll_halen.min(8),
            addr: from.sll_addr,
            ..Meta::default()
        };
        // SAFETY: the CMSG macros walk the control buffer the kernel filled, within
        // msg_controllen; each payload is read unaligned.
        unsafe {
            let mut c = libc::CMSG_FIRSTHDR(&msg);
            while !c.is_null() {
                let data = libc::CMSG_DATA(c);
                match ((*c).cmsg_level, (*c).cmsg_type) {
                    (libc::SOL_SOCKET, libc::SCM_TIMESTAMPNS) => {
                        let ts: libc::timespec =
                            std::ptr::read_unaligned(data as *const libc::timespec);
                        m.sec = ts.tv_sec as u64;
                        m.nsec = ts.tv_nsec as u32;
                    }
                    (libc::SOL_PACKET, libc::PACKET_AUXDATA) => {
                        let aux: libc::tpacket_auxdata =
                            std::ptr::read_unaligned(data as *const libc::tpacket_auxdata);
                        m.wire_len = aux.tp_len;
                        if aux.tp_status & libc::TP_STATUS_VLAN_VALID != 0 {
                            let tpid = if aux.tp_status & libc::TP_STATUS_VLAN_TPID_VALID != 0 {
                                aux.tp_vlan_tpid
                            } else {
                                0x8100
                            };
                            m.vlan = Some((aux.tp_vlan_tci, tpid));
                        }
                    }
                    _ => {}
                }
                c = libc::CMSG_NXTHDR(&msg, c);
            }
        }
        Ok(Some(m))
    }

    /// The kernel's counts so far: packets that passed the filter, and of those the ones
    /// dropped for want of buffer space.
    pub fn stats(&mut self) -> (u64, u64) {
        // SAFETY: tpacket_stats is plain old data.
        let mut st: libc::tpacket_stats = unsafe { std::mem::zeroed() };
        let mut len = std::mem::size_of::<libc::tpacket_stats>() as libc::socklen_t;
        // SAFETY: st and len describe a live buffer of the right size.
        let rc = unsafe {
            libc::getsockopt(
                self.fd.as_raw_fd(),
                libc::SOL_PACKET,
                libc::PACKET_STATISTICS,
                &mut st as *mut libc::tpacket_stats as *mut libc::c_void,
                &mut len,
            )
        };
        if rc == 0 {
            self.packets += st.tp_packets as u64;
            self.drops += st.tp_drops as u64;
        }
        (self.packets, self.drops)
    }
}

/// The ARPHRD_ type of interface `name` (SIOCGIFHWADDR).
pub fn hardware_type(name: &str) -> io::Result<u16> {
    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::DGRAM, None)?;
    // SAFETY: ifreq is plain old data; an all-zero value is valid.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    let bytes = name.as_bytes();
    if bytes.len() >= req.ifr_name.len() {
        return Err(io::Error::from_raw_os_error(libc::ENODEV));
    }
    for (dst, src) in req.ifr_name.iter_mut().zip(bytes) {
        *dst = *src as libc::c_char;
    }
    // SAFETY: a valid socket and an initialised ifreq that outlives the call.
    check(unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFHWADDR as _, &mut req) })?;
    // SAFETY: SIOCGIFHWADDR fills ifru_hwaddr.
    Ok(unsafe { req.ifr_ifru.ifru_hwaddr.sa_family })
}

/// Interfaces with their flags, for `tcpdump -D`: (index, name, up, running, loopback).
pub fn interfaces() -> Vec<(u32, String, bool, bool, bool)> {
    use nix::net::if_::InterfaceFlags as F;
    let mut out: Vec<(u32, String, bool, bool, bool)> = Vec::new();
    if let Ok(addrs) = nix::ifaddrs::getifaddrs() {
        for a in addrs {
            if out.iter().any(|o| o.1 == a.interface_name) {
                continue;
            }
            let index = nix::net::if_::if_nametoindex(a.interface_name.as_str()).unwrap_or(0);
            out.push((
                index,
                a.interface_name.clone(),
                a.flags.contains(F::IFF_UP),
                a.flags.contains(F::IFF_RUNNING),
                a.flags.contains(F::IFF_LOOPBACK),
            ));
        }
    }
    out.sort_by_key(|o| o.0);
    out
}

/// Seconds east of UTC at `sec` in this machine's time zone (TZ or /etc/localtime), for
/// tcpdump's time stamps; 0 when the zone cannot be read.
pub fn utc_offset(sec: i64) -> i64 {
    let t = sec as libc::time_t;
    // SAFETY: tm is plain old data; localtime_r writes only into it.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers refer to live values.
    let r = unsafe { libc::localtime_r(&t, &mut tm) };
    if r.is_null() { 0 } else { tm.tm_gmtoff }
}
