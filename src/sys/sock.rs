//! Plain sockets for nc: connect (TCP, UDP, Unix) with an optional timeout, listen and accept,
//! the UDP "is anybody there" probe, and the relay between stdin/stdout and a socket.

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use socket2::{Domain, SockAddr, Socket, Type};
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsFd, BorrowedFd};
use std::time::{Duration, Instant};

/// Where our end is bound (`-s`, `-p`) and the TTL of what we send (`-M`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Local {
    pub addr: Option<IpAddr>,
    pub port: Option<u16>,
    pub ttl: Option<u8>,
}

fn prepare(dst: SocketAddr, ty: Type, local: &Local) -> io::Result<Socket> {
    let sock = Socket::new(Domain::for_address(dst), ty, None)?;
    if local.addr.is_some() || local.port.is_some() {
        sock.set_reuse_address(true)?;
        let ip = local.addr.unwrap_or(match dst {
            SocketAddr::V4(_) => IpAddr::from([0u8; 4]),
            SocketAddr::V6(_) => IpAddr::from([0u16; 8]),
        });
        sock.bind(&SockAddr::from(SocketAddr::new(
            ip,
            local.port.unwrap_or(0),
        )))?;
    }
    if let Some(t) = local.ttl {
        match dst {
            SocketAddr::V4(_) => sock.set_ttl_v4(t.into())?,
            SocketAddr::V6(_) => sock.set_unicast_hops_v6(t.into())?,
        }
    }
    Ok(sock)
}

/// A TCP connection to `dst`; `timeout` bounds the handshake (None: the kernel's own limit).
/// A timeout is `ErrorKind::TimedOut`.
pub fn connect_tcp(
    dst: SocketAddr,
    local: &Local,
    timeout: Option<Duration>,
) -> io::Result<Socket> {
    let sock = prepare(dst, Type::STREAM, local)?;
    match timeout {
        Some(t) => sock.connect_timeout(&SockAddr::from(dst), t)?,
        None => sock.connect(&SockAddr::from(dst))?,
    }
    Ok(sock)
}

/// A connected UDP socket (no packet is sent).
pub fn connect_udp(dst: SocketAddr, local: &Local) -> io::Result<Socket> {
    let sock = prepare(dst, Type::DGRAM, local)?;
    sock.connect(&SockAddr::from(dst))?;
    Ok(sock)
}

/// nc's UDP test: "X" written five times over three seconds; a port that is closed answers
/// with ICMP port unreachable, which fails a later write (ECONNREFUSED).
pub fn udp_probe(sock: &Socket) -> io::Result<()> {
    for i in 0..5 {
        if i >= 2 {
            std::thread::sleep(Duration::from_secs(1));
        }
        sock.send(b"X")?;
    }
    Ok(())
}

pub fn connect_unix(path: &str) -> io::Result<Socket> {
    let sock = Socket::new(Domain::UNIX, Type::STREAM, None)?;
    sock.connect(&SockAddr::unix(path)?)?;
    Ok(sock)
}

/// A listening TCP socket, or a bound UDP one, on `addr`.
pub fn listen(addr: SocketAddr, udp: bool) -> io::Result<Socket> {
    let ty = if udp { Type::DGRAM } else { Type::STREAM };
    let sock = Socket::new(Domain::for_address(addr), ty, None)?;
    sock.set_reuse_address(true)?;
    if addr.is_ipv6() {
        // `nc -6 -l` takes IPv6 only, as nc sets no dual-stack.
        let _ = sock.set_only_v6(true);
    }
    sock.bind(&SockAddr::from(addr))?;
    if !udp {
        sock.listen(1)?;
    }
    Ok(sock)
}

/// A TCP listener for a server that takes many connections (the mesh agent): a long backlog,
/// dual-stack off for an IPv6 address as above.
pub fn listen_many(addr: SocketAddr) -> io::Result<std::net::TcpListener> {
    let sock = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    sock.set_reuse_address(true)?;
    if addr.is_ipv6() {
        let _ = sock.set_only_v6(true);
    }
    sock.bind(&SockAddr::from(addr))?;
    sock.listen(128)?;
    Ok(sock.into())
}

pub fn listen_unix(path: &str) -> io::Result<Socket> {
    let sock = Socket::new(Domain::UNIX, Type::STREAM, None)?;
    sock.bind(&SockAddr::unix(path)?)?;
    sock.listen(1)?;
    Ok(sock)
}

/// The socket file a Unix listener made, removed when it is done (as nc does).
pub fn remove_unix(path: &str) {
    let _ = std::fs::remove_file(path);
}

pub fn local_addr(sock: &Socket) -> Option<SocketAddr> {
    sock.local_addr().ok()?.as_socket()
}

/// The next connection on a listening socket, and who it comes from (None for Unix peers).
pub fn accept(sock: &Socket) -> io::Result<(Socket, Option<SocketAddr>)> {
    loop {
        match sock.accept() {
            Ok((s, a)) => return Ok((s, a.as_socket())),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
}

/// On a bound UDP socket: wait for the first datagram (left queued) and connect to its sender,
/// so the relay talks to that peer only, as nc -u -l does.
pub fn udp_first_peer(sock: &Socket) -> io::Result<SocketAddr> {
    let mut buf = [std::mem::MaybeUninit::<u8>::uninit(); 1];
    let (_, from) = sock.peek_from(&mut buf)?;
    let from = from
        .as_socket()
        .ok_or_else(|| io::Error::from(io::ErrorKind::InvalidData))?;
    sock.connect(&SockAddr::from(from))?;
    Ok(from)
}

/// How the relay ends, as nc's options say.
#[derive(Debug, Clone, Copy, Default)]
pub struct Relay {
    /// `-d`: stdin is not read.
    pub no_stdin: bool,
    /// `-N`: after EOF on stdin, shut down the sending side.
    pub shutdown_on_eof: bool,
    /// `-q`: after EOF on stdin, end this long after.
    pub quit_after: Option<Duration>,
    /// `-w`: end when nothing moved for this long.
    pub idle: Option<Duration>,
    /// `-l`: end as soon as the peer closes its side.
    pub listening: bool,
    /// `-C`: LF from stdin goes out as CRLF.
    pub crlf: bool,
    /// A datagram socket: each read from stdin is one datagram.
    pub datagram: bool,
}

const CHUNK: usize = 64 * 1024;

/// The relay's state: which directions are still open, what waits to be written, and when
/// `-q` ends it.
struct Pump<'a> {
    net: &'a Socket,
    opts: &'a Relay,
    stdin_open: bool,
    net_in_open: bool,
    net_out_open: bool,
    stdout_open: bool,
    to_net: Vec<u8>,
    to_stdout: Vec<u8>,
    quit_at: Option<Instant>,
}

impl Pump<'_> {
    /// nc's ends: both inputs ended with nothing left to write, both outputs gone, or (`-l`)
    /// the peer closed.
    fn done(&self) -> bool {
        let drained = self.to_net.is_empty() && self.to_stdout.is_empty();
        (!self.stdin_open && !self.net_in_open && drained)
            || (!self.net_out_open && !self.stdout_open)
            || (self.opts.listening && !self.net_in_open && drained)
            || self.quit_at.is_some_and(|q| Instant::now() >= q)
    }

    /// EOF on stdin (or `-d`): `-N` shuts the sending side down; either way nothing more goes
    /// out, and `-q` starts counting.
    fn stdin_ended(&mut self) {
        if self.opts.shutdown_on_eof && self.net_out_open {
            let _ = self.net.shutdown(std::net::Shutdown::Write);
        }
        self.net_out_open = false;
        self.quit_at = self.opts.quit_after.map(|q| Instant::now() + q);
    }

    fn read_stdin(&mut self, fd: BorrowedFd<'_>, buf: &mut [u8]) {
        match nix::unistd::read(fd, buf) {
            Ok(0) | Err(_) => {
                self.stdin_open = false;
                if self.to_net.is_empty() {
                    self.stdin_ended();
                }
            }
            Ok(n) if self.opts.crlf => {
                for b in &buf[..n] {
                    if *b == b'\n' && self.to_net.last() != Some(&b'\r') {
                        self.to_net.push(b'\r');
                    }
                    self.to_net.push(*b);
                }
            }
            Ok(n) => self.to_net.extend_from_slice(&buf[..n]),
        }
    }

    fn read_net(&mut self, buf: &mut [u8]) {
        match recv(self.net, buf) {
            Ok(0) if !self.opts.datagram => {
                self.net_in_open = false;
                self.stdout_open = self.stdout_open && !self.to_stdout.is_empty();
            }
            Ok(n) => self.to_stdout.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            // A UDP peer that is not there yet (ICMP port unreachable) is not an end.
            Err(e) if self.opts.datagram && e.raw_os_error() == Some(libc::ECONNREFUSED) => {}
            Err(_) => {
                self.net_in_open = false;
                self.stdout_open = self.stdout_open && !self.to_stdout.is_empty();
            }
        }
    }

    fn write_net(&mut self) {
        match self.net.send(&self.to_net) {
            // A datagram goes whole or not at all.
            Ok(_) if self.opts.datagram => self.to_net.clear(),
            Ok(n) => {
                self.to_net.drain(..n);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) if self.opts.datagram && e.raw_os_error() == Some(libc::ECONNREFUSED) => {
                self.to_net.clear();
            }
            Err(_) => {
                self.net_out_open = false;
                self.to_net.clear();
            }
        }
        if self.to_net.is_empty() && !self.stdin_open && self.net_out_open {
            self.stdin_ended();
        }
    }

    fn write_stdout(&mut self, fd: BorrowedFd<'_>) {
        match nix::unistd::write(fd, &self.to_stdout) {
            Ok(n) => {
                self.to_stdout.drain(..n);
            }
            Err(nix::errno::Errno::EAGAIN) | Err(nix::errno::Errno::EINTR) => {}
            Err(_) => {
                self.stdout_open = false;
                self.to_stdout.clear();
            }
        }
        if self.to_stdout.is_empty() && !self.net_in_open {
            self.stdout_open = false;
        }
    }
}

/// Copy stdin to `net` and `net` to stdout until nc would stop: both inputs ended, or both
/// outputs gone, or (`-l`) the peer closed, or the `-q`/`-w` time ran out.
pub fn relay(net: &Socket, opts: &Relay) -> io::Result<()> {
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let (stdin_fd, stdout_fd) = (stdin.as_fd(), stdout.as_fd());
    let mut p = Pump {
        net,
        opts,
        stdin_open: !opts.no_stdin,
        net_in_open: true,
        net_out_open: true,
        stdout_open: true,
        to_net: Vec::new(),
        to_stdout: Vec::new(),
        quit_at: None,
    };
    if opts.no_stdin {
        p.stdin_ended();
    }
    let mut buf = vec![0u8; CHUNK];
    while !p.done() {
        let wanted = [
            (
                p.stdin_open && p.to_net.is_empty(),
                stdin_fd,
                PollFlags::POLLIN,
            ),
            (
                p.net_in_open && p.to_stdout.is_empty(),
                net.as_fd(),
                PollFlags::POLLIN,
            ),
            (
                !p.to_net.is_empty() && p.net_out_open,
                net.as_fd(),
                PollFlags::POLLOUT,
            ),
            (
                !p.to_stdout.is_empty() && p.stdout_open,
                stdout_fd,
                PollFlags::POLLOUT,
            ),
        ];
        let mut set: Vec<PollFd<'_>> = Vec::with_capacity(4);
        let mut slots = [usize::MAX; 4];
        for (slot, (want, fd, ev)) in wanted.into_iter().enumerate() {
            if want {
                slots[slot] = set.len();
                set.push(PollFd::new(fd, ev));
            }
        }
        if set.is_empty() {
            // Nothing can move (an output is gone with data still queued for it).
            return Ok(());
        }
        let mut wait = opts.idle;
        if let Some(q) = p.quit_at {
            let left = q.saturating_duration_since(Instant::now());
            wait = Some(wait.map_or(left, |w| w.min(left)));
        }
        let t = match wait {
            None => PollTimeout::NONE,
            Some(w) => PollTimeout::try_from(w.as_millis().min(i32::MAX as u128) as i32)
                .unwrap_or(PollTimeout::MAX),
        };
        match poll(&mut set, t) {
            // The -q time is up, or -w: idle for the whole timeout.
            Ok(0) => return Ok(()),
            Ok(_) => {}
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
        }
        let ready: Vec<bool> = slots
            .iter()
            .map(|&i| i != usize::MAX && set[i].revents().is_some_and(|r| !r.is_empty()))
            .collect();
        drop(set);
        if ready[0] {
            p.read_stdin(stdin_fd, &mut buf);
        }
        if ready[1] {
            p.read_net(&mut buf);
        }
        if ready[2] {
            p.write_net();
        }
        if ready[3] {
            p.write_stdout(stdout_fd);
        }
    }
    Ok(())
}

fn recv(net: &Socket, buf: &mut [u8]) -> io::Result<usize> {
    use std::io::Read;
    let mut r: &Socket = net;
    r.read(buf)
}
