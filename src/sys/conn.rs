//! Client connections for curl (and diagnose): TCP with a deadline, optionally wrapped in rustls,
//! every read and write bounded by the transfer's deadline.

use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, StreamOwned};
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub enum Stream {
    Tcp(TcpStream),
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
}

impl Stream {
    fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Tcp(s) => s,
            Stream::Tls(t) => &t.sock,
        }
    }

    /// Bound the next reads and writes by `deadline`; past it they fail with TimedOut.
    pub fn set_deadline(&self, deadline: Option<Instant>) -> io::Result<()> {
        let t = match deadline {
            None => None,
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(io::Error::new(io::ErrorKind::TimedOut, "deadline reached"));
                }
                Some(left)
            }
        };
        self.tcp().set_read_timeout(t)?;
        self.tcp().set_write_timeout(t)
    }

    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.tcp().local_addr().ok()
    }

    pub fn peer_addr(&self) -> Option<SocketAddr> {
        self.tcp().peer_addr().ok()
    }

    /// Wrap this connection in TLS (a CONNECT tunnel becomes an HTTPS connection), completing the
    /// handshake before `deadline`.
    pub fn into_tls(
        self,
        config: Arc<ClientConfig>,
        name: ServerName<'static>,
        deadline: Option<Instant>,
    ) -> Result<(Stream, TlsInfo), TlsError> {
        let Stream::Tcp(tcp) = self else {
            return Err(TlsError::Io(io::Error::other(
                "TLS inside TLS is not supported",
            )));
        };
        let mut conn = ClientConnection::new(config, name).map_err(TlsError::Tls)?;
        let mut tcp = tcp;
        let s = Stream::Tcp(tcp.try_clone().map_err(TlsError::Io)?);
        while conn.is_handshaking() {
            s.set_deadline(deadline).map_err(TlsError::Io)?;
            match conn.complete_io(&mut tcp) {
                Ok(_) => {}
                Err(e) => {
                    // rustls reports a failed verification as an io error wrapping its own.
                    if let Some(inner) = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>())
                    {
                        return Err(TlsError::Tls(inner.clone()));
                    }
                    return Err(TlsError::Io(e));
                }
            }
        }
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
        Ok((Stream::Tls(Box::new(StreamOwned::new(conn, tcp))), info))
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read(buf),
            Stream::Tls(t) => match t.read(buf) {
                // A peer that closes without close_notify ends the body like a TCP close.
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(0),
                other => other,
            },
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write(buf),
            Stream::Tls(t) => t.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.flush(),
            Stream::Tls(t) => t.flush(),
        }
    }
}

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
    Tls(rustls::Error),
    Io(io::Error),
}

/// Connect to `addr` before `deadline`.
pub fn connect(addr: SocketAddr, deadline: Instant) -> io::Result<Stream> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "connect deadline reached",
        ));
    }
    let s = TcpStream::connect_timeout(&addr, left.max(Duration::from_millis(1)))?;
    s.set_nodelay(true)?;
    Ok(Stream::Tcp(s))
}
