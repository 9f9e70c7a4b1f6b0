//! Probes (diagnose, mesh): a TCP connect to one address and port, then (when the port may speak HTTP) one GET
//! with the right Host header and SNI, all before a deadline. Many probes run at once on a
//! bounded number of threads.

use crate::http;
use crate::sys::conn::{self, Stream, TlsError};
use crate::tls;
use serde::Serialize;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What a probe asks once connected.
#[derive(Debug, Clone)]
pub struct HttpAsk {
    /// The Host header (and the SNI name under TLS).
    pub host: String,
    pub path: String,
    pub tls: bool,
}

/// One probe to run.
#[derive(Debug, Clone)]
pub struct Spec {
    pub addr: SocketAddr,
    /// What the address is: a pod name, a node name, "ClusterIP", an Ingress host…
    pub label: String,
    pub http: Option<HttpAsk>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Tcp {
    /// Connected.
    Open,
    /// A reset came back: the host is there, nothing listens (or kube-proxy rejects).
    Refused,
    /// Nothing came back before the deadline: dropped on the way.
    Timeout,
    /// An ICMP error (no route, host unreachable, administratively prohibited).
    Unreachable,
    /// A local error (no route at all, address family not available…).
    Error,
}

impl Tcp {
    pub fn words(self) -> &'static str {
        match self {
            Tcp::Open => "connected",
            Tcp::Refused => "connection refused",
            Tcp::Timeout => "timed out",
            Tcp::Unreachable => "unreachable",
            Tcp::Error => "failed",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct HttpResult {
    pub status: Option<u16>,
    pub time_ms: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The first line of the body, for default-backend pages and error texts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Probe {
    pub address: String,
    pub label: String,
    pub tcp: Tcp,
    pub tcp_ms: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tcp_error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http: Option<HttpResult>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// When the probe ended, counted from the start of all probes: a hop's real time is
    /// when its last probe ended (many probes share a few workers).
    #[serde(skip)]
    pub done_ms: f64,
}

impl Probe {
    pub fn http_status(&self) -> Option<u16> {
        self.http.as_ref().and_then(|h| h.status)
    }

    /// "10.96.0.100:3000 connected, HTTP 200 (1.2 ms)".
    pub fn summary(&self) -> String {
        let mut s = format!("{} {}", self.address, self.tcp.words());
        if let Some(h) = &self.http {
            match (h.status, &h.error) {
                (Some(code), _) => s.push_str(&format!(", HTTP {code}")),
                (None, Some(e)) => s.push_str(&format!(", no HTTP reply ({e})")),
                _ => {}
            }
        }
        let ms = self.tcp_ms + self.http.as_ref().map(|h| h.time_ms).unwrap_or(0.0);
        s.push_str(&format!(" ({ms:.1} ms)"));
        s
    }
}

pub fn show_addr(a: &SocketAddr) -> String {
    match a {
        SocketAddr::V4(v) => v.to_string(),
        SocketAddr::V6(v) => format!("[{}]:{}", v.ip(), v.port()),
    }
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 10_000.0).round() / 10.0
}

fn classify(e: &io::Error) -> Tcp {
    match e.raw_os_error() {
        Some(libc::ECONNREFUSED) => Tcp::Refused,
        Some(libc::ETIMEDOUT) => Tcp::Timeout,
        Some(libc::EHOSTUNREACH)
        | Some(libc::ENETUNREACH)
        | Some(libc::EACCES)
        | Some(libc::EPERM) => Tcp::Unreachable,
        _ if e.kind() == io::ErrorKind::TimedOut || e.kind() == io::ErrorKind::WouldBlock => {
            Tcp::Timeout
        }
        _ => Tcp::Error,
    }
}

/// Run one probe, finishing before `timeout` (connect and HTTP each get at most that).
pub fn run(
    spec: &Spec,
    timeout: Duration,
    tls_config: Option<&Arc<rustls::ClientConfig>>,
) -> Probe {
    let start = Instant::now();
    let mut probe = Probe {
        address: show_addr(&spec.addr),
        label: spec.label.clone(),
        tcp: Tcp::Open,
        tcp_ms: 0.0,
        tcp_error: None,
        http: None,
        host: spec.http.as_ref().map(|h| h.host.clone()),
        done_ms: 0.0,
    };
    let stream = conn::connect(spec.addr, start + timeout, &conn::Local::default());
    probe.tcp_ms = ms(start.elapsed());
    let stream = match stream {
        Ok(s) => s,
        Err(e) => {
            probe.tcp = classify(&e);
            probe.tcp_error = Some(crate::error::os_text(&e));
            return probe;
        }
    };
    if let Some(ask) = &spec.http {
        let t = Instant::now();
        let mut stream = stream;
        stream.set_deadline(Some(t + timeout));
        let result = ask_http(stream, ask, tls_config);
        let time_ms = ms(t.elapsed());
        probe.http = Some(match result {
            Ok(reply) => HttpResult {
                status: Some(reply.head.status),
                time_ms,
                error: None,
                body: first_line(&reply.body),
            },
            Err(e) => HttpResult {
                status: None,
                time_ms,
                error: Some(e),
                body: None,
            },
        });
    }
    probe
}

fn first_line(body: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    let line = text.lines().map(str::trim).find(|l| !l.is_empty())?;
    let mut s: String = line.chars().take(80).collect();
    if line.chars().count() > 80 {
        s.push('…');
    }
    Some(s)
}

fn ask_http(
    mut stream: Stream,
    ask: &HttpAsk,
    tls_config: Option<&Arc<rustls::ClientConfig>>,
) -> Result<http::Fetched, String> {
    if ask.tls {
        let config = match tls_config {
            Some(c) => c.clone(),
            None => return Err("no TLS configuration".into()),
        };
        let name = rustls::pki_types::ServerName::try_from(sni_name(&ask.host).to_string())
            .map_err(|_| format!("bad TLS name {}", ask.host))?;
        stream = match stream.into_tls(config, name) {
            Ok((s, _)) => s,
            Err(TlsError::Tls(e)) => return Err(format!("TLS: {e}")),
            Err(TlsError::Io(e)) => return Err(format!("TLS: {}", io_words(&e))),
        };
    }
    http::get(&mut stream, &ask.host, &ask.path, &[], BODY_PEEK).map_err(|e| http_words(&e))
}

/// How much of a probe's response body is read: enough for its first line.
const BODY_PEEK: usize = 4096;

/// A TLS configuration for probes: they check that a path answers, not the certificate (the
/// API client verifies its own with the service account's CA).
pub fn insecure_tls() -> Option<Arc<rustls::ClientConfig>> {
    tls::unverified().ok()
}

/// A socket error in a probe's words: "timed out" rather than the kernel's EINPROGRESS or
/// EAGAIN story, "connection reset", else the system's text.
pub fn io_words(e: &io::Error) -> String {
    if conn::is_timeout(e) {
        return "timed out".into();
    }
    match e.raw_os_error() {
        Some(libc::ECONNRESET) => "connection reset".into(),
        _ => crate::error::os_text(e),
    }
}

/// An exchange's failure in a probe's words.
pub fn http_words(e: &http::Error) -> String {
    match e {
        http::Error::Timeout { .. } => "timed out".into(),
        http::Error::Send(e) | http::Error::Recv(e) => io_words(e),
        other => other.to_string(),
    }
}

/// The TLS server name in a Host header value: no port, no brackets.
pub fn sni_name(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match host.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') && p.chars().all(|c| c.is_ascii_digit()) => h,
        _ => host,
    }
}

/// Run every probe, at most `workers` at a time, keeping their order.
pub fn run_all(
    specs: &[Spec],
    timeout: Duration,
    workers: usize,
    tls_config: Option<&Arc<rustls::ClientConfig>>,
) -> Vec<Probe> {
    let start = Instant::now();
    crate::pool::map(specs, workers, |spec| {
        let mut p = run(spec, timeout, tls_config);
        p.done_ms = ms(start.elapsed());
        p
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpListener;

    #[test]
    fn sni_names() {
        assert_eq!(sni_name("web.default:3000"), "web.default");
        assert_eq!(sni_name("[fd00::1]:8443"), "fd00::1");
        assert_eq!(sni_name("[fd00::1]"), "fd00::1");
        assert_eq!(sni_name("shop.example.com"), "shop.example.com");
    }

    #[test]
    fn refused_and_open_on_loopback() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let open = l.local_addr().unwrap();
        let closed = {
            let t = TcpListener::bind("127.0.0.1:0").unwrap();
            t.local_addr().unwrap()
        };
        let specs = vec![
            Spec {
                addr: open,
                label: "open".into(),
                http: None,
            },
            Spec {
                addr: closed,
                label: "closed".into(),
                http: None,
            },
        ];
        let got = run_all(&specs, Duration::from_secs(2), 4, None);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].tcp, Tcp::Open);
        assert_eq!(got[0].label, "open");
        assert_eq!(got[1].tcp, Tcp::Refused);
    }

    #[test]
    fn http_status_and_body_line() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            let mut buf = [0u8; 2048];
            let n = s.read(&mut buf).unwrap();
            let req = String::from_utf8_lossy(&buf[..n]).to_string();
            s.write_all(
                b"HTTP/1.1 404 Not Found\r\nContent-Length: 22\r\n\r\ndefault backend - 404\n",
            )
            .unwrap();
            req
        });
        let spec = Spec {
            addr,
            label: "x".into(),
            http: Some(HttpAsk {
                host: "shop.example.com".into(),
                path: "/healthz".into(),
                tls: false,
            }),
        };
        let p = run(&spec, Duration::from_secs(2), None);
        let req = server.join().unwrap();
        assert!(req.starts_with("GET /healthz HTTP/1.1\r\n"), "{req}");
        assert!(
            req.contains("\r\nhost: shop.example.com\r\n")
                || req.contains("\r\nHost: shop.example.com\r\n"),
            "{req}"
        );
        assert_eq!(p.http_status(), Some(404));
        assert_eq!(
            p.http.unwrap().body.as_deref(),
            Some("default backend - 404")
        );
    }

    #[test]
    fn silence_is_a_timeout_not_a_hang() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let spec = Spec {
            addr,
            label: "x".into(),
            http: Some(HttpAsk {
                host: "h".into(),
                path: "/".into(),
                tls: false,
            }),
        };
        let p = run(&spec, Duration::from_millis(200), None);
        assert_eq!(p.tcp, Tcp::Open);
        assert_eq!(p.http.unwrap().error.as_deref(), Some("timed out"));
        drop(l);
    }
}
