//! Client connections for the HTTP client (curl, diagnose, the API client, mesh): TCP or a Unix
//! socket, optionally wrapped in rustls.
//!
//! One deadline model: a stream carries an absolute deadline, and every system call it makes
//! (each read, each write, each step of the TLS handshake) is bounded by the time left. A peer
//! that drips one byte a second cannot stretch the deadline, since no call ever gets more than
//! what is left of it.

use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection};
use socket2::{Domain, SockAddr, Socket, Type};
use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The time left before `deadline` (None: no limit); an error once it has passed.
pub fn time_left(deadline: Option<Instant>) -> io::Result<Option<Duration>> {
    match deadline {
        None => Ok(None),
        Some(d) => {
            let left = d.saturating_duration_since(Instant::now());
            if left.is_zero() {
                Err(io::Error::new(io::ErrorKind::TimedOut, "deadline reached"))
            } else {
                Ok(Some(left))
            }
        }
    }
}

/// Is this error the end of the time allowed (a socket timeout or the deadline)?
pub fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// A connected byte stream without TLS.
enum Plain {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Plain {
    fn arm_read(&self, deadline: Option<Instant>) -> io::Result<()> {
        let t = time_left(deadline)?;
        match self {
            Plain::Tcp(s) => s.set_read_timeout(t),
            Plain::Unix(s) => s.set_read_timeout(t),
        }
    }

    fn arm_write(&self, deadline: Option<Instant>) -> io::Result<()> {
        let t = time_left(deadline)?;
        match self {
            Plain::Tcp(s) => s.set_write_timeout(t),
            Plain::Unix(s) => s.set_write_timeout(t),
        }
    }
}

/// A socket timeout reads as WouldBlock on Linux; callers see TimedOut.
fn timed(r: io::Result<usize>) -> io::Result<usize> {
    match r {
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
            Err(io::Error::new(io::ErrorKind::TimedOut, "timed out"))
        }
        other => other,
    }
}

impl Read for Plain {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Plain::Tcp(s) => s.read(buf),
            Plain::Unix(s) => s.read(buf),
        }
    }
}

impl Write for Plain {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Plain::Tcp(s) => s.write(buf),
            Plain::Unix(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

enum Inner {
    Plain(Plain),
    Tls(Box<ClientConnection>, Plain),
}

pub struct Stream {
    inner: Inner,
    deadline: Option<Instant>,
}

/// What the TLS handshake settled on.
#[derive(Debug, Clone, Default)]
pub struct TlsInfo {
    pub version: String,
    pub cipher: String,
    pub alpn: Option<String>,
    /// The server's certificate chain (DER), leaf first.
    pub peer_chain: Vec<Vec<u8>>,
}

#[derive(Debug)]
pub enum TlsError {
    /// rustls refused: a certificate, an alert, a protocol error.
    Tls(rustls::Error),
    /// The connection failed or the deadline passed.
    Io(io::Error),
}

impl Stream {
    fn plain(&self) -> &Plain {
        match &self.inner {
            Inner::Plain(p) | Inner::Tls(_, p) => p,
        }
    }

    /// Bound every following read and write by `deadline` (None: no limit).
    pub fn set_deadline(&mut self, deadline: Option<Instant>) {
        self.deadline = deadline;
    }

    pub fn is_tls(&self) -> bool {
        matches!(self.inner, Inner::Tls(..))
    }

    /// Does data arrive within `timeout` (or is some already waiting)?
    pub fn readable_within(&self, timeout: Duration) -> io::Result<bool> {
        use std::os::fd::AsFd;
        if let Inner::Tls(conn, _) = &self.inner
            && !conn.wants_read()
        {
            return Ok(true);
        }
        let fd = match self.plain() {
            Plain::Tcp(s) => s.as_fd(),
            Plain::Unix(s) => s.as_fd(),
        };
        Ok(super::poll::readable(&[fd], timeout)?
            .first()
            .copied()
            .unwrap_or(false))
    }

    pub fn local_addr(&self) -> Option<SocketAddr> {
        match self.plain() {
            Plain::Tcp(s) => s.local_addr().ok(),
            Plain::Unix(_) => None,
        }
    }

    pub fn peer_addr(&self) -> Option<SocketAddr> {
        match self.plain() {
            Plain::Tcp(s) => s.peer_addr().ok(),
            Plain::Unix(_) => None,
        }
    }

    /// Wrap this connection in TLS (a CONNECT tunnel becomes an HTTPS connection), completing
    /// the handshake within the stream's deadline, one bounded system call at a time.
    pub fn into_tls(
        self,
        config: Arc<ClientConfig>,
        name: ServerName<'static>,
    ) -> Result<(Stream, TlsInfo), TlsError> {
        let deadline = self.deadline;
        let Inner::Plain(mut sock) = self.inner else {
            return Err(TlsError::Io(io::Error::other(
                "TLS inside TLS is not supported",
            )));
        };
        let mut conn = ClientConnection::new(config, name).map_err(TlsError::Tls)?;
        while conn.is_handshaking() {
            flush_tls(&mut conn, &mut sock, deadline).map_err(TlsError::Io)?;
            if !conn.is_handshaking() {
                break;
            }
            sock.arm_read(deadline).map_err(TlsError::Io)?;
            let n = match timed(conn.read_tls(&mut sock)) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(TlsError::Io(e)),
            };
            if n == 0 {
                return Err(TlsError::Io(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the server closed the connection during the TLS handshake",
                )));
            }
            if let Err(e) = conn.process_new_packets() {
                // Tell the server why (best effort), then report it.
                let _ = flush_tls(&mut conn, &mut sock, deadline);
                return Err(TlsError::Tls(e));
            }
        }
        flush_tls(&mut conn, &mut sock, deadline).map_err(TlsError::Io)?;
        let info = TlsInfo {
            version: conn
                .protocol_version()
                .map(|v| format!("{v:?}").replace("TLSv1_", "TLSv1."))
                .unwrap_or_default(),
            // IANA names, as OpenSSL prints them for TLS 1.3 (rustls says TLS13_…).
            cipher: conn
                .negotiated_cipher_suite()
                .map(|c| format!("{:?}", c.suite()).replacen("TLS13_", "TLS_", 1))
                .unwrap_or_default(),
            alpn: conn
                .alpn_protocol()
                .map(|p| String::from_utf8_lossy(p).into_owned()),
            peer_chain: conn
                .peer_certificates()
                .map(|c| c.iter().map(|d| d.as_ref().to_vec()).collect())
                .unwrap_or_default(),
        };
        Ok((
            Stream {
                inner: Inner::Tls(Box::new(conn), sock),
                deadline,
            },
            info,
        ))
    }
}

/// Send whatever TLS records are queued, each write bounded by the deadline.
fn flush_tls(
    conn: &mut ClientConnection,
    sock: &mut Plain,
    deadline: Option<Instant>,
) -> io::Result<()> {
    while conn.wants_write() {
        sock.arm_write(deadline)?;
        match timed(conn.write_tls(sock)) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let deadline = self.deadline;
        match &mut self.inner {
            Inner::Plain(p) => {
                p.arm_read(deadline)?;
                timed(p.read(buf))
            }
            Inner::Tls(conn, sock) => loop {
                match conn.reader().read(buf) {
                    Ok(n) => return Ok(n),
                    // A peer that closes without close_notify ends the data like a TCP close.
                    Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(0),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => return Err(e),
                }
                flush_tls(conn, sock, deadline)?;
                sock.arm_read(deadline)?;
                match timed(conn.read_tls(sock)) {
                    Ok(_) => {}
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                }
                conn.process_new_packets()
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            },
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let deadline = self.deadline;
        match &mut self.inner {
            Inner::Plain(p) => {
                p.arm_write(deadline)?;
                timed(p.write(buf))
            }
            Inner::Tls(conn, sock) => {
                let n = conn.writer().write(buf)?;
                flush_tls(conn, sock, deadline)?;
                Ok(n)
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        let deadline = self.deadline;
        match &mut self.inner {
            Inner::Plain(_) => Ok(()),
            Inner::Tls(conn, sock) => flush_tls(conn, sock, deadline),
        }
    }
}

/// Where the local end of a connection is bound (curl's `--interface`, `--local-port`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Local {
    /// SO_BINDTODEVICE to this interface.
    pub device: Option<String>,
    pub addr: Option<IpAddr>,
    pub port: Option<u16>,
}

/// Connect to `addr` before `deadline`; the stream keeps `deadline` for what follows.
pub fn connect(addr: SocketAddr, deadline: Instant, local: &Local) -> io::Result<Stream> {
    let left = time_left(Some(deadline))?.unwrap_or(Duration::from_millis(1));
    let sock = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    if let Some(dev) = &local.device {
        sock.bind_device(Some(dev.as_bytes()))?;
    }
    if local.addr.is_some() || local.port.is_some() {
        let ip = local.addr.unwrap_or(if addr.is_ipv4() {
            IpAddr::from([0u8; 4])
        } else {
            IpAddr::from([0u16; 8])
        });
        sock.bind(&SockAddr::from(SocketAddr::new(
            ip,
            local.port.unwrap_or(0),
        )))?;
    }
    sock.connect_timeout(&SockAddr::from(addr), left.max(Duration::from_millis(1)))?;
    let s: TcpStream = sock.into();
    s.set_nodelay(true)?;
    Ok(Stream {
        inner: Inner::Plain(Plain::Tcp(s)),
        deadline: Some(deadline),
    })
}

/// Connect to the Unix socket at `path` before `deadline` (curl's `--unix-socket`).
pub fn connect_unix(path: &Path, deadline: Instant) -> io::Result<Stream> {
    let left = time_left(Some(deadline))?.unwrap_or(Duration::from_millis(1));
    let sock = Socket::new(Domain::UNIX, Type::STREAM, None)?;
    sock.connect_timeout(&SockAddr::unix(path)?, left)?;
    let s: UnixStream = sock.into();
    Ok(Stream {
        inner: Inner::Plain(Plain::Unix(s)),
        deadline: Some(deadline),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn a_silent_peer_is_a_timeout_at_the_deadline() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let start = Instant::now();
        let mut s = connect(addr, start + Duration::from_millis(300), &Local::default()).unwrap();
        let mut buf = [0u8; 16];
        let e = s.read(&mut buf).unwrap_err();
        assert!(is_timeout(&e), "{e:?}");
        // Past the deadline, nothing waits at all.
        let e = s.read(&mut buf).unwrap_err();
        assert!(is_timeout(&e), "{e:?}");
        drop(l);
    }

    #[test]
    fn a_dripping_tls_server_cannot_stretch_the_deadline() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            // A TLS handshake record header announcing 16 KiB, then one byte of it every 50 ms,
            // for longer than the deadline.
            let _ = s.write_all(&[0x16, 0x03, 0x03, 0x3f, 0xff]);
            for _ in 0..40 {
                if s.write_all(&[0]).is_err() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        let start = Instant::now();
        let s = connect(addr, start + Duration::from_millis(400), &Local::default()).unwrap();
        let config = crate::tls::unverified().unwrap();
        let name = ServerName::try_from("localhost").unwrap();
        match s.into_tls(config, name) {
            Err(TlsError::Io(e)) => assert!(is_timeout(&e), "{e:?}"),
            Err(TlsError::Tls(e)) => panic!("not a timeout: {e}"),
            Ok(_) => panic!("handshake with a dripping peer succeeded"),
        }
        server.join().unwrap();
    }
}
