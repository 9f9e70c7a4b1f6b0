//! `curl`: HTTP/1.1 and HTTPS transfers with curl's flags, output, `-w` variables and exit codes.
//!
//! ureq-proto (the sans-IO HTTP/1.1 engine of ureq) writes the requests and reads the
//! responses; rustls does TLS; names go through the pod's resolver. The transfer loop here owns
//! the sockets' deadlines, so every phase is timed at its real event (name resolved, TCP
//! connected, TLS done, first byte) and nothing waits past `--max-time`.

pub mod cli;
pub mod model;
pub mod tls;

use crate::dns::{self, Family};
use crate::error::Result;
use crate::output;
use crate::sys::conn::{self, Stream, TlsError, TlsInfo};
use cli::{Config, Data, Parsed};
use model::Report;
use std::ffi::OsString;
use std::io::{self, IsTerminal, Read, Write};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};
use ureq_proto::client::{Call, RecvBodyResult, RecvResponseResult, SendRequestResult, header_raw};
use ureq_proto::http;
use url::Url;

pub use cli::command;

/// A failed transfer: curl's exit code and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurlError {
    pub code: i32,
    pub message: String,
}

fn fail<T>(code: i32, message: impl Into<String>) -> std::result::Result<T, CurlError> {
    Err(CurlError {
        code,
        message: message.into(),
    })
}

type R<T> = std::result::Result<T, CurlError>;

/// Larger response heads than this are refused (curl's limit).
const MAX_HEADER_BYTES: usize = 300 * 1024;
const USER_AGENT: &str = concat!("curl/7.88.1 debugbox/", env!("CARGO_PKG_VERSION"));

pub fn run(args: &[OsString]) -> Result<i32> {
    let cfg = match cli::parse(args)? {
        Parsed::Run(c) => c,
        Parsed::Help(h) => {
            output::print(&h)?;
            return Ok(0);
        }
        Parsed::Version => {
            output::print(&format!(
                "curl 7.88.1-compatible (debugbox {}) rustls\nProtocols: http https\n",
                env!("CARGO_PKG_VERSION")
            ))?;
            return Ok(0);
        }
    };
    let mut code = 0;
    for url in &cfg.urls {
        code = transfer(&cfg, url);
    }
    Ok(code)
}

/// Where the body goes: stdout, or a file opened when the first byte arrives.
struct Sink {
    path: Option<String>,
    file: Option<std::fs::File>,
    written: u64,
    progress: Option<indicatif::ProgressBar>,
}

impl Sink {
    fn write(&mut self, data: &[u8]) -> R<()> {
        let res = match &self.path {
            None => {
                let mut out = io::stdout().lock();
                out.write_all(data).and_then(|_| out.flush())
            }
            Some(p) => {
                if self.file.is_none() {
                    self.file = Some(std::fs::File::create(p).map_err(|_| CurlError {
                        code: 23,
                        message: "Failure writing output to destination".into(),
                    })?);
                }
                self.file
                    .as_mut()
                    .map(|f| f.write_all(data))
                    .unwrap_or(Ok(()))
            }
        };
        match res {
            Ok(()) => {}
            // A closed pipe (`| head`): stop quietly, as curl does with SIGPIPE.
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                return fail(23, "Failure writing output to destination");
            }
            Err(_) => return fail(23, "Failure writing output to destination"),
        }
        self.written += data.len() as u64;
        if let Some(p) = &self.progress {
            p.set_position(self.written);
        }
        Ok(())
    }

    fn finish(&mut self) -> R<()> {
        if self.path.is_some() && self.file.is_none() {
            self.write(&[])?;
        }
        if let Some(p) = self.progress.take() {
            p.finish_and_clear();
        }
        Ok(())
    }
}

/// Verbose (`-v`) lines on stderr.
struct Verbose(bool);

impl Verbose {
    fn info(&self, line: &str) {
        if self.0 {
            eprintln!("* {line}");
        }
    }

    fn lines(&self, prefix: &str, head: &[u8]) {
        if self.0 {
            let text = String::from_utf8_lossy(head);
            let mut err = io::stderr().lock();
            for line in text.split("\r\n") {
                let _ = writeln!(err, "{prefix} {line}");
            }
        }
    }
}

struct Transfer<'a> {
    cfg: &'a Config,
    verbose: Verbose,
    report: Report,
    start: Instant,
    deadline: Option<Instant>,
    tls: Option<(Arc<rustls::ClientConfig>, Arc<tls::Recorder>)>,
    sink: Sink,
    header_out: bool,
}

/// One URL, with its error line and `-w` output. Returns curl's exit code.
fn transfer(cfg: &Config, url: &str) -> i32 {
    let start = Instant::now();
    let path = if cfg.remote_name {
        remote_name(url)
    } else {
        cfg.output.clone().filter(|o| o != "-")
    };
    let mut t = Transfer {
        cfg,
        verbose: Verbose(cfg.verbose),
        report: Report {
            num_connects: 0,
            ..Default::default()
        },
        start,
        deadline: cfg.max_time.map(|m| start + m),
        tls: None,
        sink: Sink {
            path: path.clone(),
            file: None,
            written: 0,
            progress: None,
        },
        header_out: cfg.include || cfg.head,
    };
    t.report.filename_effective = path.clone().unwrap_or_default();
    let result = if cfg.remote_name && path.is_none() {
        fail(23, "Remote file name has no length!")
    } else {
        t.perform(url)
    };
    let _ = t.sink.finish();
    t.report.time_total = start.elapsed();
    t.report.size_download = t.report.size_download.max(0);
    let code = match &result {
        Ok(()) => 0,
        Err(e) => e.code,
    };
    t.report.exitcode = code;
    if let Err(e) = &result {
        t.report.errormsg = e.message.clone();
        if !cfg.silent || cfg.show_error {
            eprintln!("curl: ({}) {}", e.code, e.message);
        }
    }
    let format = if cfg.json {
        Some("%{json}\n".to_string())
    } else {
        cfg.write_out.clone()
    };
    if let Some(f) = format {
        let mut unknown = Vec::new();
        let text = model::write_out(&f, &t.report, &mut unknown);
        for u in unknown {
            eprintln!("curl: unknown --write-out variable: '{u}'");
        }
        let mut out = io::stdout().lock();
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    }
    code
}

fn remote_name(url: &str) -> Option<String> {
    let u = parse_url(url).ok()?;
    let last = u.path_segments()?.next_back()?.to_string();
    (!last.is_empty()).then_some(last)
}

/// A URL as curl reads it: no scheme means http.
pub fn parse_url(text: &str) -> R<Url> {
    let with_scheme = if text.contains("://") {
        text.to_string()
    } else {
        format!("http://{text}")
    };
    let u = Url::parse(&with_scheme).map_err(|_| CurlError {
        code: 3,
        message: "URL using bad/illegal format or missing URL".into(),
    })?;
    if u.host_str().is_none_or(|h| h.is_empty()) {
        return fail(3, "URL using bad/illegal format or missing URL");
    }
    match u.scheme() {
        "http" | "https" => Ok(u),
        other => fail(
            1,
            format!("Protocol \"{other}\" not supported or disabled in libcurl"),
        ),
    }
}

fn host_of(u: &Url) -> String {
    match u.host() {
        Some(url::Host::Ipv6(a)) => a.to_string(),
        Some(h) => h.to_string(),
        None => String::new(),
    }
}

/// The proxy for `url`: --proxy, else the environment (http_proxy, HTTPS_PROXY, ALL_PROXY),
/// unless --noproxy / NO_PROXY excludes the host.
fn proxy_for(cfg: &Config, url: &Url) -> R<Option<Url>> {
    let env = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| std::env::var(n).ok().filter(|v| !v.is_empty()))
    };
    let chosen = cfg.proxy.clone().or_else(|| match url.scheme() {
        "https" => env(&["https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"]),
        _ => env(&["http_proxy", "all_proxy", "ALL_PROXY"]),
    });
    let Some(p) = chosen.filter(|p| !p.is_empty()) else {
        return Ok(None);
    };
    let noproxy = cfg
        .noproxy
        .clone()
        .or_else(|| env(&["no_proxy", "NO_PROXY"]))
        .unwrap_or_default();
    if no_proxy_matches(&noproxy, &host_of(url)) {
        return Ok(None);
    }
    let with_scheme = if p.contains("://") {
        p
    } else {
        format!("http://{p}")
    };
    let pu = Url::parse(&with_scheme).map_err(|_| CurlError {
        code: 5,
        message: format!("Could not resolve proxy: {with_scheme}"),
    })?;
    if pu.scheme() != "http" {
        return fail(
            1,
            format!("Proxy protocol \"{}\" not supported", pu.scheme()),
        );
    }
    Ok(Some(pu))
}

/// NO_PROXY: `*`, host names (a leading dot optional, matching subdomains), addresses and CIDRs.
pub fn no_proxy_matches(list: &str, host: &str) -> bool {
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase();
    let ip = host.parse::<IpAddr>().ok();
    list.split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .any(|entry| {
            if entry == "*" {
                return true;
            }
            if let (Some(ip), Some((net, len))) = (ip, entry.split_once('/')) {
                if let (Ok(net), Ok(len)) = (net.parse::<IpAddr>(), len.parse::<u32>()) {
                    return in_cidr(ip, net, len);
                }
            }
            let e = entry.trim_start_matches('.').to_ascii_lowercase();
            host == e || host.ends_with(&format!(".{e}"))
        })
}

fn in_cidr(ip: IpAddr, net: IpAddr, len: u32) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(b)) if len <= 32 => {
            let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
            u32::from(a) & mask == u32::from(b) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(b)) if len <= 128 => {
            let mask = if len == 0 {
                0
            } else {
                u128::MAX << (128 - len)
            };
            u128::from(a) & mask == u128::from(b) & mask
        }
        _ => false,
    }
}

/// The request body and its content type, from -d / --data-* / --json (joined with `&`, as
/// curl does; `@file` read from disk).
fn request_body(cfg: &Config) -> R<Option<(Vec<u8>, &'static str)>> {
    if cfg.data.is_empty() {
        return Ok(None);
    }
    let mut parts: Vec<Vec<u8>> = Vec::new();
    let mut json = false;
    for d in &cfg.data {
        let (text, file_mode) = match d {
            Data::Ascii(s) => (s, Some(true)),
            Data::Raw(s) => (s, None),
            Data::Binary(s) => (s, Some(false)),
            Data::Json(s) => {
                json = true;
                (s, Some(false))
            }
        };
        let bytes = match (text.strip_prefix('@'), file_mode) {
            (Some(path), Some(strip)) => {
                let read = if path == "-" {
                    io::read_to_string(io::stdin()).map(String::into_bytes)
                } else {
                    std::fs::read(path)
                };
                match read {
                    Ok(mut b) => {
                        if strip {
                            b.retain(|c| *c != b'\r' && *c != b'\n');
                        }
                        b
                    }
                    Err(_) => {
                        eprintln!(
                            "Warning: Couldn't read data from file \"{path}\", this makes an empty POST."
                        );
                        Vec::new()
                    }
                }
            }
            _ => text.as_bytes().to_vec(),
        };
        parts.push(bytes);
    }
    let body = parts.join(&b'&');
    Ok(Some((
        body,
        if json {
            "application/json"
        } else {
            "application/x-www-form-urlencoded"
        },
    )))
}

fn io_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

impl Transfer<'_> {
    fn elapsed_ms(&self) -> u128 {
        self.start.elapsed().as_millis()
    }

    fn timeout_error(&self, received: u64, total: Option<u64>) -> CurlError {
        let ms = self.elapsed_ms();
        let message = match total {
            Some(t) => format!(
                "Operation timed out after {ms} milliseconds with {received} out of {t} bytes received"
            ),
            None => format!(
                "Operation timed out after {ms} milliseconds with {received} bytes received"
            ),
        };
        CurlError { code: 28, message }
    }

    fn perform(&mut self, url_text: &str) -> R<()> {
        let cfg = self.cfg;
        let mut url = parse_url(url_text)?;
        let body = request_body(cfg)?;
        let mut method = match (&cfg.method, cfg.head, &body) {
            (Some(m), _, _) => m.clone(),
            (None, true, _) => "HEAD".into(),
            (None, false, Some(_)) => "POST".into(),
            (None, false, None) => "GET".into(),
        };
        let mut body = body;
        let mut redirects: i64 = 0;
        loop {
            self.report.url_effective = url.to_string();
            self.report.scheme = url.scheme().to_string();
            self.report.method = method.clone();
            let step_start = self.start.elapsed();
            let next = self.exchange(&url, &method, body.as_ref())?;
            match next {
                None => return Ok(()),
                Some((location, status)) => {
                    redirects += 1;
                    if cfg.max_redirs >= 0 && redirects > cfg.max_redirs {
                        return fail(
                            47,
                            format!("Maximum ({}) redirects followed", cfg.max_redirs),
                        );
                    }
                    self.report.num_redirects += 1;
                    self.report.time_redirect = self.start.elapsed();
                    let _ = step_start;
                    let next_url = url.join(&location).map_err(|_| CurlError {
                        code: 3,
                        message: "URL using bad/illegal format or missing URL".into(),
                    })?;
                    self.verbose
                        .info(&format!("Issue another request to this URL: '{next_url}'"));
                    // curl turns POST into GET after 301/302/303 (unless -X was given).
                    if cfg.method.is_none()
                        && (status == 303 || ((status == 301 || status == 302) && method == "POST"))
                    {
                        method = "GET".into();
                        body = None;
                    }
                    url = next_url;
                    if !matches!(url.scheme(), "http" | "https") {
                        return fail(
                            1,
                            format!(
                                "Protocol \"{}\" not supported or disabled in libcurl",
                                url.scheme()
                            ),
                        );
                    }
                }
            }
        }
    }

    fn resolve(&mut self, host: &str, port: u16) -> R<Vec<IpAddr>> {
        let cfg = self.cfg;
        if let Some(r) = cfg
            .resolve
            .iter()
            .find(|r| r.host == host.to_ascii_lowercase() && r.port == port)
        {
            self.verbose.info(&format!(
                "Added {}:{}:{} to DNS cache",
                r.host,
                r.port,
                r.addrs
                    .iter()
                    .map(|a| a.to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            ));
            return Ok(r.addrs.clone());
        }
        let family = if cfg.ipv4 {
            Family::V4
        } else if cfg.ipv6 {
            Family::V6
        } else {
            Family::Any
        };
        let mut resolver = dns::system();
        // Nothing may outlive --max-time, name resolution included.
        if let Some(d) = self.deadline {
            let left = d.saturating_duration_since(Instant::now());
            if left < resolver.conf.timeout {
                resolver.conf.timeout = left.max(Duration::from_secs(1));
                resolver.conf.attempts = 1;
            }
        }
        match resolver.lookup_ip(host, family).result {
            Ok(l) => {
                let sorted =
                    dns::sort::sort(&l.addrs, |a| crate::sys::route::source_for(a, None).ok());
                Ok(sorted.into_iter().map(|(a, _)| a).collect())
            }
            Err(_) if self.deadline.is_some_and(|d| Instant::now() >= d) => fail(
                28,
                format!(
                    "Resolving timed out after {} milliseconds",
                    self.elapsed_ms()
                ),
            ),
            Err(_) => fail(6, format!("Could not resolve host: {host}")),
        }
    }

    /// Connect to the first address that answers, within --connect-timeout and --max-time.
    fn connect(&mut self, host: &str, port: u16, addrs: &[IpAddr]) -> R<Stream> {
        let cfg = self.cfg;
        let connect_deadline = {
            let by_connect =
                Instant::now() + cfg.connect_timeout.unwrap_or(Duration::from_secs(300));
            match self.deadline {
                Some(d) => by_connect.min(d),
                None => by_connect,
            }
        };
        let mut last = None;
        for ip in addrs {
            let sa = SocketAddr::new(*ip, port);
            let shown = if ip.is_ipv6() {
                format!("[{ip}]:{port}")
            } else {
                sa.to_string()
            };
            self.verbose.info(&format!("  Trying {shown}..."));
            match conn::connect(sa, connect_deadline) {
                Ok(s) => {
                    self.report.num_connects += 1;
                    self.verbose
                        .info(&format!("Connected to {host} ({ip}) port {port} (#0)"));
                    return Ok(s);
                }
                Err(e) => {
                    let timed_out = io_timeout(&e) || Instant::now() >= connect_deadline;
                    last = Some((timed_out, e));
                    if Instant::now() >= connect_deadline {
                        break;
                    }
                }
            }
        }
        let ms = self.elapsed_ms();
        match last {
            Some((true, _)) => fail(
                28,
                format!(
                    "Failed to connect to {host} port {port} after {ms} ms: Timeout was reached"
                ),
            ),
            _ => fail(
                7,
                format!(
                    "Failed to connect to {host} port {port} after {ms} ms: Couldn't connect to server"
                ),
            ),
        }
    }

    fn tls_config(&mut self) -> R<(Arc<rustls::ClientConfig>, Arc<tls::Recorder>)> {
        if let Some(t) = &self.tls {
            return Ok(t.clone());
        }
        let c = self.cfg;
        let built = tls::client_config(
            c.insecure,
            c.cacert.as_deref(),
            c.cert.as_deref(),
            c.key.as_deref(),
        )
        .map_err(|e| CurlError {
            code: e.code,
            message: e.message,
        })?;
        self.tls = Some(built.clone());
        Ok(built)
    }

    fn handshake(&mut self, stream: Stream, host: &str) -> R<(Stream, TlsInfo)> {
        let (config, recorder) = self.tls_config()?;
        let name =
            rustls::pki_types::ServerName::try_from(host.to_string()).map_err(|_| CurlError {
                code: 3,
                message: "URL using bad/illegal format or missing URL".into(),
            })?;
        self.verbose.info("ALPN: offers http/1.1");
        match stream.into_tls(config, name, self.deadline) {
            Ok((s, info)) => {
                let outcome = recorder.outcome.lock().ok().and_then(|o| o.clone());
                let leaf = recorder.leaf.lock().ok().and_then(|l| l.clone());
                self.report.ssl_verify_result = tls::verify_code(&outcome, leaf.as_deref());
                self.verbose.info(&format!(
                    "SSL connection using {} / {}",
                    info.version, info.cipher
                ));
                match &info.alpn {
                    Some(p) => self.verbose.info(&format!("ALPN: server accepted {p}")),
                    None => self
                        .verbose
                        .info("ALPN: server did not agree on a protocol. Uses default."),
                }
                if let Some(der) = info.peer_chain.first() {
                    self.verbose.info("Server certificate:");
                    for line in tls::describe(der, host) {
                        self.verbose.info(&line);
                    }
                    match &outcome {
                        Some(Ok(())) | None => self.verbose.info(" SSL certificate verify ok."),
                        Some(Err(e)) => {
                            let (_, why) = tls::handshake_error(e, host, leaf.as_deref());
                            self.verbose.info(&format!(" {why} (ignored: --insecure)"));
                        }
                    }
                }
                Ok((s, info))
            }
            Err(TlsError::Tls(e)) => {
                let leaf = recorder.leaf.lock().ok().and_then(|l| l.clone());
                let (code, message) = tls::handshake_error(&e, host, leaf.as_deref());
                fail(code, message)
            }
            Err(TlsError::Io(e)) if io_timeout(&e) => Err(self.timeout_error(0, None)),
            Err(TlsError::Io(e)) => fail(35, format!("TLS connect error: {e}")),
        }
    }

    /// One request and response. Returns the next location when a redirect is to be followed.
    fn exchange(
        &mut self,
        url: &Url,
        method: &str,
        body: Option<&(Vec<u8>, &'static str)>,
    ) -> R<Option<(String, u16)>> {
        let cfg = self.cfg;
        let host = host_of(url);
        let port = url.port_or_known_default().unwrap_or(80);
        let proxy = proxy_for(cfg, url)?;
        let (conn_host, conn_port) = match &proxy {
            Some(p) => (host_of(p), p.port_or_known_default().unwrap_or(1080)),
            None => (host.clone(), port),
        };
        let addrs = match self.resolve(&conn_host, conn_port) {
            Err(e) if proxy.is_some() && e.code == 6 => {
                return fail(5, format!("Could not resolve proxy: {conn_host}"));
            }
            other => other?,
        };
        self.report.time_namelookup = self.start.elapsed();
        let mut stream = self.connect(&conn_host, conn_port, &addrs)?;
        self.report.time_connect = self.start.elapsed();
        if let Some(a) = stream.peer_addr() {
            self.report.remote_ip = a.ip().to_string();
            self.report.remote_port = a.port();
        }
        if let Some(a) = stream.local_addr() {
            self.report.local_ip = a.ip().to_string();
            self.report.local_port = a.port();
        }
        let authority = if host.contains(':') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        };
        if proxy.is_some() {
            self.tunnel(&mut stream, &authority)?;
        }
        if url.scheme() == "https" {
            let (s, _) = self.handshake(stream, &host)?;
            stream = s;
            self.report.time_appconnect = self.start.elapsed();
        }

        // The request, with curl's header names and order.
        let host_header = match url.port() {
            Some(p) => {
                if host.contains(':') {
                    format!("[{host}]:{p}")
                } else {
                    format!("{host}:{p}")
                }
            }
            None => {
                if host.contains(':') {
                    format!("[{host}]")
                } else {
                    host.clone()
                }
            }
        };
        let target = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        };
        let uri = format!("{}://{}{}", url.scheme(), authority, target);
        let mut builder = http::Request::builder().method(method).uri(&uri);
        // curl's order: Host, Authorization, User-Agent, Accept, the -H headers (--json adds its
        // two there), then Content-Length and Content-Type.
        let json_body = body.is_some_and(|(_, t)| *t == "application/json");
        let mut custom: Vec<(String, String)> = Vec::new();
        if json_body {
            custom.push(("Content-Type".into(), "application/json".into()));
            custom.push(("Accept".into(), "application/json".into()));
        }
        let mut removed: Vec<String> = Vec::new();
        for h in &cfg.headers {
            // "Name: value" sets, "Name:" removes a default, "Name;" sends an empty header.
            if let Some((name, value)) = h.split_once(':') {
                let (name, value) = (name.trim(), value.trim());
                custom.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
                if value.is_empty() {
                    removed.push(name.to_string());
                } else {
                    custom.push((name.to_string(), value.to_string()));
                }
            } else if let Some(name) = h.strip_suffix(';') {
                custom.push((name.trim().to_string(), String::new()));
            }
        }
        let overridden = |name: &str| {
            custom.iter().any(|(n, _)| n.eq_ignore_ascii_case(name))
                || removed.iter().any(|n| n.eq_ignore_ascii_case(name))
        };
        let mut headers: Vec<(String, String)> = Vec::new();
        headers.push(("Host".into(), host_header));
        if let Some(up) = &cfg.user {
            use base64::Engine;
            let enc = base64::engine::general_purpose::STANDARD.encode(up.as_bytes());
            headers.push(("Authorization".into(), format!("Basic {enc}")));
        }
        headers.push((
            "User-Agent".into(),
            cfg.user_agent
                .clone()
                .unwrap_or_else(|| USER_AGENT.to_string()),
        ));
        headers.push(("Accept".into(), "*/*".into()));
        headers.retain(|(n, _)| !overridden(n));
        headers.extend(custom.iter().cloned());
        if let Some((b, ctype)) = body {
            for (n, v) in [
                ("Content-Length", b.len().to_string()),
                ("Content-Type", ctype.to_string()),
            ] {
                if !overridden(n) {
                    headers.push((n.to_string(), v));
                }
            }
        }
        for (k, v) in &headers {
            builder = header_raw(builder, k, v.as_bytes());
        }
        let request = builder.body(()).map_err(|e| CurlError {
            code: 43,
            message: format!("bad request: {e}"),
        })?;
        let mut call = Call::new(request).map_err(|e| CurlError {
            code: 43,
            message: format!("bad request: {e}"),
        })?;
        call.allow_non_standard_methods(true);
        if body.is_some() && matches!(method, "GET" | "HEAD" | "DELETE" | "OPTIONS") {
            call.force_send_body();
        }
        let mut call = call.proceed();
        let mut out = vec![0u8; 64 * 1024];
        let n = call.write(&mut out).map_err(|e| CurlError {
            code: 43,
            message: format!("cannot write the request: {e}"),
        })?;
        self.report.time_pretransfer = self.start.elapsed();
        self.verbose.lines(">", &out[..n.saturating_sub(2)]);
        stream
            .set_deadline(self.deadline)
            .map_err(|_| self.timeout_error(0, None))?;
        self.send(&mut stream, &out[..n])?;
        self.report.size_request = n as u64;
        let mut call = match call.proceed() {
            Ok(Some(SendRequestResult::SendBody(mut sb))) => {
                let data = body.map(|(b, _)| b.as_slice()).unwrap_or(&[]);
                let mut offset = 0;
                loop {
                    let (used, produced) =
                        sb.write(&data[offset..], &mut out).map_err(|e| CurlError {
                            code: 55,
                            message: format!("Send failure: {e}"),
                        })?;
                    offset += used;
                    self.send(&mut stream, &out[..produced])?;
                    if offset >= data.len() {
                        let (_, produced) = sb.write(&[], &mut out).map_err(|e| CurlError {
                            code: 55,
                            message: format!("Send failure: {e}"),
                        })?;
                        self.send(&mut stream, &out[..produced])?;
                        break;
                    }
                }
                self.report.size_upload = data.len() as u64;
                self.report.size_request += data.len() as u64;
                match sb.proceed() {
                    Some(c) => c,
                    None => return fail(55, "Send failure: request body not complete"),
                }
            }
            Ok(Some(SendRequestResult::RecvResponse(c))) => c,
            Ok(Some(SendRequestResult::Await100(_))) | Ok(None) => return fail(55, "Send failure"),
            Err(e) => return fail(43, format!("bad request: {e}")),
        };

        // The response head.
        let mut inbuf: Vec<u8> = Vec::with_capacity(16 * 1024);
        let mut chunk = vec![0u8; 64 * 1024];
        let mut first_byte = false;
        let (head_len, response) = loop {
            match call.try_response(&inbuf, false) {
                Ok((used, Some(r))) => break (used, r),
                Ok((_, None)) => {}
                Err(ureq_proto::Error::HttpParseTooManyHeaders) => {
                    return fail(
                        56,
                        format!(
                            "Too large response headers: more than {} header lines",
                            ureq_proto::client::MAX_RESPONSE_HEADERS
                        ),
                    );
                }
                Err(e) => return fail(8, format!("Weird server reply: {e}")),
            }
            if inbuf.len() > MAX_HEADER_BYTES {
                return fail(
                    56,
                    format!(
                        "Too large response headers: {} > {MAX_HEADER_BYTES}",
                        inbuf.len()
                    ),
                );
            }
            if stream.set_deadline(self.deadline).is_err() {
                return Err(self.timeout_error(0, None));
            }
            let n = match stream.read(&mut chunk) {
                Ok(n) => n,
                Err(e) if io_timeout(&e) => return Err(self.timeout_error(0, None)),
                Err(e) => return fail(56, format!("Recv failure: {}", io_text(&e))),
            };
            if n == 0 {
                return if inbuf.is_empty() {
                    fail(52, "Empty reply from server")
                } else {
                    fail(8, "Weird server reply")
                };
            }
            if !first_byte {
                first_byte = true;
                self.report.time_starttransfer = self.start.elapsed();
            }
            inbuf.extend_from_slice(&chunk[..n]);
        };
        let status = response.status().as_u16();
        self.report.http_code = status;
        self.report.http_version = match response.version() {
            http::Version::HTTP_10 => "1.0".into(),
            _ => "1.1".into(),
        };
        self.report.size_header += head_len as u64;
        self.report.content_type = response
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let location = response
            .headers()
            .get(http::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(String::from);
        self.report.redirect_url = match (&location, (300..400).contains(&status)) {
            (Some(l), true) => url.join(l).map(|u| u.to_string()).unwrap_or_default(),
            _ => String::new(),
        };
        self.verbose
            .lines("<", &inbuf[..head_len.saturating_sub(2)]);
        let following =
            cfg.follow && (300..400).contains(&status) && status != 304 && location.is_some();
        if cfg.fail && status >= 400 {
            return fail(22, format!("The requested URL returned error: {status}"));
        }
        if self.header_out {
            let head = inbuf[..head_len].to_vec();
            self.sink.write(&head)?;
        }
        let leftover = inbuf.split_off(head_len);

        // The body.
        let mut total_expected = None;
        match call.proceed() {
            Some(RecvResponseResult::RecvBody(mut rb)) => {
                if let ureq_proto::BodyMode::LengthDelimited(n) = rb.body_mode() {
                    total_expected = Some(n);
                    if !following
                        && self.sink.path.is_some()
                        && io::stderr().is_terminal()
                        && !cfg.silent
                        && !cfg.verbose
                    {
                        let bar = indicatif::ProgressBar::new(n);
                        bar.set_style(
                            indicatif::ProgressStyle::with_template(
                                "{bytes:>10}/{total_bytes} {bar:30} {bytes_per_sec:>12} {eta}",
                            )
                            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
                        );
                        self.sink.progress = Some(bar);
                    }
                }
                let mut received: u64 = 0;
                let mut buf = vec![0u8; 64 * 1024];
                let mut filled = leftover.len().min(buf.len());
                buf[..filled].copy_from_slice(&leftover[..filled]);
                // A Content-Length body is counted, not decoded: written straight from the
                // receive buffer (one copy less on big downloads). Chunked and close-delimited
                // bodies go through ureq-proto's decoder.
                let mut remaining = match rb.body_mode() {
                    ureq_proto::BodyMode::LengthDelimited(n) => Some(n),
                    _ => None,
                };
                let mut decoded = if remaining.is_some() {
                    Vec::new()
                } else {
                    vec![0u8; 256 * 1024]
                };
                loop {
                    if filled > 0 {
                        match remaining.as_mut() {
                            Some(left) => {
                                let take = (*left).min(filled as u64) as usize;
                                if !following && take > 0 {
                                    self.sink.write(&buf[..take])?;
                                }
                                *left -= take as u64;
                                received += take as u64;
                                filled = 0;
                            }
                            None => {
                                let (used, produced) = rb
                                    .read(&buf[..filled], &mut decoded)
                                    .map_err(|e| CurlError {
                                        code: 56,
                                        message: format!("Recv failure: {e}"),
                                    })?;
                                received += produced as u64;
                                if !following && produced > 0 {
                                    self.sink.write(&decoded[..produced])?;
                                }
                                if used == 0 && produced == 0 && !rb.can_proceed() {
                                    return fail(56, "Recv failure: malformed body");
                                }
                                buf.copy_within(used..filled, 0);
                                filled -= used;
                                if filled > 0 && !rb.can_proceed() {
                                    continue;
                                }
                            }
                        }
                    }
                    let done = match remaining {
                        Some(left) => left == 0,
                        None => rb.can_proceed(),
                    };
                    if done {
                        break;
                    }
                    // The socket timeout is what is left of --max-time, renewed before each read.
                    if stream.set_deadline(self.deadline).is_err() {
                        return Err(self.timeout_error(received, total_expected));
                    }
                    let n = match stream.read(&mut buf[filled..]) {
                        Ok(n) => n,
                        Err(e) if io_timeout(&e) => {
                            return Err(self.timeout_error(received, total_expected));
                        }
                        Err(e) => return fail(56, format!("Recv failure: {}", io_text(&e))),
                    };
                    if n == 0 {
                        match (remaining, rb.body_mode()) {
                            (Some(left), _) if left > 0 => {
                                return fail(
                                    18,
                                    format!("transfer closed with {left} bytes remaining to read"),
                                );
                            }
                            (None, ureq_proto::BodyMode::Chunked) => {
                                return fail(
                                    18,
                                    "transfer closed with outstanding read data remaining",
                                );
                            }
                            _ => break,
                        }
                    }
                    filled += n;
                }
                if !following {
                    self.report.size_download = received;
                }
                let _ = rb.proceed();
            }
            Some(RecvResponseResult::Redirect(_)) | Some(RecvResponseResult::Cleanup(_)) | None => {
            }
        }
        self.verbose.info("Closing connection 0");
        let _ = RecvBodyResult::Cleanup;
        Ok(if following {
            location.map(|l| (l, status))
        } else {
            None
        })
    }

    fn send(&self, stream: &mut Stream, bytes: &[u8]) -> R<()> {
        match stream.write_all(bytes).and_then(|_| stream.flush()) {
            Ok(()) => Ok(()),
            Err(e) if io_timeout(&e) => Err(self.timeout_error(0, None)),
            Err(e) => fail(55, format!("Send failure: {}", io_text(&e))),
        }
    }

    /// CONNECT through an HTTP proxy (as ureq does, for http and https targets alike).
    fn tunnel(&mut self, stream: &mut Stream, authority: &str) -> R<()> {
        self.verbose
            .info(&format!("Establish HTTP proxy tunnel to {authority}"));
        let req = format!(
            "CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: {USER_AGENT}\r\n\r\n"
        );
        self.verbose.lines(">", req.trim_end().as_bytes());
        stream
            .set_deadline(self.deadline)
            .map_err(|_| self.timeout_error(0, None))?;
        self.send(stream, req.as_bytes())?;
        let mut buf = Vec::new();
        let mut byte = [0u8; 1];
        while !buf.ends_with(b"\r\n\r\n") {
            match stream.read(&mut byte) {
                Ok(0) => return fail(56, "Proxy CONNECT aborted"),
                Ok(_) => buf.push(byte[0]),
                Err(e) if io_timeout(&e) => return Err(self.timeout_error(0, None)),
                Err(e) => return fail(56, format!("Recv failure: {}", io_text(&e))),
            }
            if buf.len() > MAX_HEADER_BYTES {
                return fail(56, "Too large proxy response headers");
            }
        }
        self.verbose.lines("<", &buf[..buf.len() - 4]);
        let code: u16 = String::from_utf8_lossy(&buf)
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        if !(200..300).contains(&code) {
            return fail(
                56,
                format!("Received HTTP code {code} from proxy after CONNECT"),
            );
        }
        self.verbose.info("CONNECT phase completed");
        Ok(())
    }
}

fn io_text(e: &io::Error) -> String {
    let s = e.to_string();
    s.split(" (os error").next().unwrap_or(&s).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_like_curl() {
        assert_eq!(parse_url("web:3000").unwrap().as_str(), "http://web:3000/");
        assert_eq!(
            parse_url("svc.ns:3000/healthz").unwrap().as_str(),
            "http://svc.ns:3000/healthz"
        );
        assert_eq!(
            host_of(&parse_url("http://[fd00::1]:8080/").unwrap()),
            "fd00::1"
        );
        assert_eq!(
            parse_url("https://kubernetes.default")
                .unwrap()
                .port_or_known_default(),
            Some(443)
        );
        assert_eq!(parse_url("ht!tp://x").unwrap_err().code, 3);
        assert_eq!(parse_url("http://").unwrap_err().code, 3);
        assert_eq!(parse_url("ftp://x/").unwrap_err().code, 1);
        assert_eq!(
            remote_name("http://h/dir/file.tar.gz").as_deref(),
            Some("file.tar.gz")
        );
        assert_eq!(remote_name("http://h/"), None);
    }

    #[test]
    fn no_proxy_rules() {
        assert!(no_proxy_matches("*", "anything"));
        assert!(no_proxy_matches("example.com", "api.example.com"));
        assert!(no_proxy_matches(".example.com", "api.example.com"));
        assert!(no_proxy_matches("example.com", "example.com"));
        assert!(!no_proxy_matches("example.com", "notexample.com"));
        assert!(no_proxy_matches("10.96.0.0/12, .svc", "10.96.0.100"));
        assert!(no_proxy_matches("10.96.0.0/12,.svc", "web.default.svc"));
        assert!(!no_proxy_matches("10.96.0.0/12", "10.244.1.10"));
        assert!(no_proxy_matches("fd00::/8", "[fd00:10:96::100]"));
    }
}
