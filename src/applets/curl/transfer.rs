//! One URL's transfer, with its redirects: resolve, connect, CONNECT through a proxy, TLS, then
//! the request through the shared HTTP client, whose hooks time each event for `-w`, print `-v`
//! and `-i`, and write the body where it goes. Every step is bounded by `--max-time`.

use super::cli::{Config, Data};
use super::codes::{self, Code, CurlError, R, fail};
use super::model::Report;
use super::request::{self, Parts, Post30x};
use crate::dns::{self, Family};
use crate::http::{self, Flow, Head, Hooks, Next};
use crate::sys::conn::{self, Stream, TlsError, TlsInfo, is_timeout};
use crate::tls;
use std::io::{self, IsTerminal, Write};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};
use url::Url;

/// Where the body goes: stdout, or a file created when the first byte arrives.
pub struct Sink {
    pub path: Option<String>,
    file: Option<std::fs::File>,
    pub written: u64,
    progress: Option<indicatif::ProgressBar>,
}

impl Sink {
    pub fn new(path: Option<String>) -> Self {
        Sink {
            path,
            file: None,
            written: 0,
            progress: None,
        }
    }

    fn write(&mut self, data: &[u8]) -> io::Result<()> {
        match &self.path {
            None => {
                let mut out = io::stdout().lock();
                out.write_all(data)?;
                out.flush()?;
            }
            Some(p) => {
                if self.file.is_none() {
                    self.file = Some(std::fs::File::create(p)?);
                }
                if let Some(f) = self.file.as_mut() {
                    f.write_all(data)?;
                }
            }
        }
        self.written += data.len() as u64;
        if let Some(p) = &self.progress {
            p.set_position(self.written);
        }
        Ok(())
    }

    /// An empty download still creates its file, as curl does.
    pub fn finish(&mut self) -> R<()> {
        if self.path.is_some() && self.file.is_none() {
            self.write(&[]).map_err(|e| codes::sink_error(&e))?;
        }
        if let Some(f) = self.file.as_mut() {
            f.flush().map_err(|e| codes::sink_error(&e))?;
        }
        if let Some(p) = self.progress.take() {
            p.finish_and_clear();
        }
        Ok(())
    }
}

/// Verbose (`-v`) lines on stderr.
pub struct Verbose(pub bool);

impl Verbose {
    pub fn info(&self, line: &str) {
        if self.0 {
            eprintln!("* {line}");
        }
    }

    fn lines(&self, prefix: &str, head: &[u8]) {
        if self.0 {
            let text = String::from_utf8_lossy(head);
            let text = text.strip_suffix("\r\n\r\n").unwrap_or(&text);
            let mut err = io::stderr().lock();
            for line in text.split("\r\n") {
                let _ = writeln!(err, "{prefix} {line}");
            }
        }
    }
}

pub struct Transfer<'a> {
    pub cfg: &'a Config,
    pub verbose: Verbose,
    pub report: Report,
    pub start: Instant,
    pub deadline: Option<Instant>,
    tls: Option<(Arc<rustls::ClientConfig>, Arc<tls::Recorder>)>,
    pub sink: Sink,
}

/// The request body and its content type, from -d / --data-* / --json (joined with `&`, as
/// curl does; `@file` read from disk).
fn request_body(cfg: &Config) -> Option<(Vec<u8>, &'static str)> {
    if cfg.data.is_empty() {
        return None;
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
    Some((
        body,
        if json {
            "application/json"
        } else {
            "application/x-www-form-urlencoded"
        },
    ))
}

/// A redirect to follow: where, and the status that asked for it.
struct Redirect {
    location: String,
    status: u16,
}

impl<'a> Transfer<'a> {
    pub fn new(cfg: &'a Config, start: Instant, output: Option<String>) -> Self {
        Transfer {
            cfg,
            verbose: Verbose(cfg.verbose),
            report: Report::default(),
            start,
            deadline: cfg.max_time.map(|m| start + m),
            tls: None,
            sink: Sink::new(output),
        }
    }

    fn elapsed_ms(&self) -> u128 {
        self.start.elapsed().as_millis()
    }

    fn timeout_error(&self, received: u64, expected: Option<u64>) -> CurlError {
        codes::timeout(self.elapsed_ms(), received, expected)
    }

    /// The transfer of one URL, following redirects when -L asks for it.
    pub fn perform(&mut self, first: &Url) -> R<()> {
        let cfg = self.cfg;
        let mut url = first.clone();
        let body = request_body(cfg);
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
            let credentials = cfg.location_trusted || request::same_origin(first, &url);
            let Some(next) = self.exchange(&url, &method, body.as_ref(), credentials)? else {
                return Ok(());
            };
            redirects += 1;
            if cfg.max_redirs >= 0 && redirects > cfg.max_redirs {
                return fail(
                    Code::TooManyRedirects,
                    format!("Maximum ({}) redirects followed", cfg.max_redirs),
                );
            }
            self.report.num_redirects += 1;
            self.report.time_redirect = self.start.elapsed();
            let next_url = url.join(&next.location).map_err(|_| codes::bad_url())?;
            self.verbose
                .info(&format!("Issue another request to this URL: '{next_url}'"));
            let (m, keep_body) = request::redirected_method(
                next.status,
                &method,
                cfg.method.as_deref(),
                Post30x {
                    post301: cfg.post301,
                    post302: cfg.post302,
                    post303: cfg.post303,
                },
            );
            method = m;
            if !keep_body {
                body = None;
            }
            url = next_url;
            request::check_scheme(&url)?;
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
        resolver.deadline = self.deadline;
        match resolver.lookup_ip(host, family).result {
            Ok(l) => {
                let sorted =
                    dns::sort::sort(&l.addrs, |a| crate::sys::route::source_for(a, None).ok());
                Ok(sorted.into_iter().map(|(a, _)| a).collect())
            }
            Err(_) if self.deadline.is_some_and(|d| Instant::now() >= d) => fail(
                Code::OperationTimedout,
                format!(
                    "Resolving timed out after {} milliseconds",
                    self.elapsed_ms()
                ),
            ),
            Err(_) => fail(
                Code::CouldntResolveHost,
                format!("Could not resolve host: {host}"),
            ),
        }
    }

    /// Connect to the first address that answers, within --connect-timeout and --max-time.
    fn connect(&mut self, host: &str, port: u16, addrs: &[IpAddr]) -> R<Stream> {
        let cfg = self.cfg;
        let by_connect = Instant::now() + cfg.connect_timeout.unwrap_or(Duration::from_secs(300));
        let connect_deadline = match self.deadline {
            Some(d) => by_connect.min(d),
            None => by_connect,
        };
        let mut timed_out = false;
        for ip in addrs {
            let sa = SocketAddr::new(*ip, port);
            let shown = if ip.is_ipv6() {
                format!("[{ip}]:{port}")
            } else {
                sa.to_string()
            };
            self.verbose.info(&format!("  Trying {shown}..."));
            match conn::connect(sa, connect_deadline, &conn::Local::default()) {
                Ok(mut s) => {
                    self.report.num_connects += 1;
                    self.verbose
                        .info(&format!("Connected to {host} ({ip}) port {port} (#0)"));
                    s.set_deadline(self.deadline);
                    return Ok(s);
                }
                Err(e) => {
                    timed_out = is_timeout(&e) || Instant::now() >= connect_deadline;
                    if Instant::now() >= connect_deadline {
                        break;
                    }
                }
            }
        }
        let ms = self.elapsed_ms();
        if timed_out {
            fail(
                Code::OperationTimedout,
                format!(
                    "Failed to connect to {host} port {port} after {ms} ms: Timeout was reached"
                ),
            )
        } else {
            fail(
                Code::CouldntConnect,
                format!(
                    "Failed to connect to {host} port {port} after {ms} ms: Couldn't connect to server"
                ),
            )
        }
    }

    fn tls_config(&mut self) -> R<(Arc<rustls::ClientConfig>, Arc<tls::Recorder>)> {
        if let Some(t) = &self.tls {
            return Ok(t.clone());
        }
        let c = self.cfg;
        let built = tls::client_config(&tls::Settings {
            insecure: c.insecure,
            cacert: c.cacert.as_deref(),
            capath: None,
            cert: c.cert.as_deref(),
            key: c.key.as_deref(),
        })
        .map_err(|e| codes::tls_config_error(&e))?;
        self.tls = Some(built.clone());
        Ok(built)
    }

    fn handshake(&mut self, stream: Stream, host: &str) -> R<(Stream, TlsInfo)> {
        let (config, recorder) = self.tls_config()?;
        let name = rustls::pki_types::ServerName::try_from(host.to_string())
            .map_err(|_| codes::bad_url())?;
        self.verbose.info("ALPN: offers http/1.1");
        match stream.into_tls(config, name) {
            Ok((s, info)) => {
                let (outcome, leaf) = recorder.last();
                let failure = match &outcome {
                    Some(Err(e)) => tls::Failure::of(e, host, leaf.as_deref()),
                    _ => None,
                };
                self.report.ssl_verify_result = failure.as_ref().map_or(0, |f| f.openssl_code());
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
                    match &failure {
                        None => self.verbose.info(" SSL certificate verify ok."),
                        Some(f) => {
                            let why = codes::certificate_error(f).message;
                            self.verbose.info(&format!(" {why} (ignored: --insecure)"));
                        }
                    }
                }
                Ok((s, info))
            }
            Err(TlsError::Tls(e)) => {
                let (_, leaf) = recorder.last();
                match tls::Failure::of(&e, host, leaf.as_deref()) {
                    Some(f) => {
                        self.report.ssl_verify_result = f.openssl_code();
                        Err(codes::certificate_error(&f))
                    }
                    None => fail(Code::SslConnectError, format!("TLS connect error: {e}")),
                }
            }
            Err(TlsError::Io(e)) if is_timeout(&e) => Err(self.timeout_error(0, None)),
            Err(TlsError::Io(e)) => fail(
                Code::SslConnectError,
                format!("TLS connect error: {}", crate::error::os_text(&e)),
            ),
        }
    }

    /// CONNECT through an HTTP proxy (for http and https targets alike).
    fn tunnel(&mut self, stream: &mut Stream, authority: &str) -> R<()> {
        self.verbose
            .info(&format!("Establish HTTP proxy tunnel to {authority}"));
        let headers = vec![
            ("Host".to_string(), authority.to_string()),
            ("User-Agent".to_string(), request::USER_AGENT.to_string()),
        ];
        let uri = format!("http://{authority}");
        let mut req = http::Request {
            method: "CONNECT",
            uri: &uri,
            headers: &headers,
            body: http::Body::Empty,
            http10: false,
        };
        let mut hooks = ConnectHooks {
            verbose: &self.verbose,
        };
        let resp = http::exchange(stream, &mut req, &mut hooks).map_err(|e| match e {
            http::Error::EmptyReply | http::Error::HeadCut => {
                CurlError::new(Code::RecvError, "Proxy CONNECT aborted")
            }
            other => codes::exchange_error(&other, self.elapsed_ms()),
        })?;
        self.report.http_connect = resp.head.status;
        if !(200..300).contains(&resp.head.status) {
            return fail(
                Code::RecvError,
                format!(
                    "Received HTTP code {} from proxy after CONNECT",
                    resp.head.status
                ),
            );
        }
        self.verbose.info("CONNECT phase completed");
        Ok(())
    }

    /// Resolve, connect, tunnel and handshake: a stream ready for the request.
    fn open(&mut self, url: &Url) -> R<Stream> {
        let cfg = self.cfg;
        let host = request::host_of(url);
        let port = url.port_or_known_default().unwrap_or(80);
        let env = |n: &str| std::env::var(n).ok();
        let proxy = request::proxy_for(cfg.proxy.as_deref(), cfg.noproxy.as_deref(), url, &env)?;
        let (conn_host, conn_port) = match &proxy {
            Some(p) => (
                request::host_of(p),
                p.port_or_known_default().unwrap_or(1080),
            ),
            None => (host.clone(), port),
        };
        let addrs = match self.resolve(&conn_host, conn_port) {
            Err(e) if proxy.is_some() && e.code == Code::CouldntResolveHost => {
                return fail(
                    Code::CouldntResolveProxy,
                    format!("Could not resolve proxy: {conn_host}"),
                );
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
        if proxy.is_some() {
            self.tunnel(&mut stream, &request::authority(&host, port))?;
        }
        if url.scheme() == "https" {
            let (s, _) = self.handshake(stream, &host)?;
            stream = s;
            self.report.time_appconnect = self.start.elapsed();
        }
        Ok(stream)
    }

    /// One request and response. Returns the redirect to follow, if any.
    fn exchange(
        &mut self,
        url: &Url,
        method: &str,
        body: Option<&(Vec<u8>, &'static str)>,
        credentials: bool,
    ) -> R<Option<Redirect>> {
        let cfg = self.cfg;
        let mut stream = self.open(url)?;
        let url_user = request::url_credentials(url);
        let basic = if credentials {
            cfg.user.as_deref().or(url_user.as_deref())
        } else {
            None
        };
        let mut body_headers = Vec::new();
        if let Some((b, ctype)) = body {
            body_headers.push(("Content-Length".to_string(), b.len().to_string()));
            body_headers.push(("Content-Type".to_string(), ctype.to_string()));
        }
        let headers = request::headers(&Parts {
            host: request::host_header(url),
            basic,
            user_agent: cfg.user_agent.as_deref(),
            custom: &cfg.headers,
            send_credentials: credentials,
            body: body_headers,
            json: body.is_some_and(|(_, t)| *t == "application/json"),
            ..Default::default()
        });
        let host = request::host_of(url);
        let port = url.port_or_known_default().unwrap_or(80);
        let uri = format!(
            "{}://{}{}",
            url.scheme(),
            request::authority(&host, port),
            request::target(url)
        );
        let mut req = http::Request {
            method,
            uri: &uri,
            headers: &headers,
            body: match body {
                Some((b, _)) => http::Body::Bytes(b),
                None => http::Body::Empty,
            },
            http10: false,
        };
        self.report.time_pretransfer = self.start.elapsed();
        let mut hooks = CurlHooks {
            t: self,
            url,
            redirect: None,
            failed: None,
        };
        let result = http::exchange(&mut stream, &mut req, &mut hooks);
        let redirect = hooks.redirect.take();
        if let Some(e) = hooks.failed.take() {
            return Err(e);
        }
        match result {
            Ok(resp) => {
                if redirect.is_none() {
                    self.report.size_download = resp.received;
                }
            }
            Err(e) => return Err(codes::exchange_error(&e, self.elapsed_ms())),
        }
        if cfg.fail && self.report.http_code >= 400 {
            return fail(
                Code::HttpReturnedError,
                format!(
                    "The requested URL returned error: {}",
                    self.report.http_code
                ),
            );
        }
        self.verbose.info("Closing connection 0");
        Ok(redirect)
    }
}

/// `-v` for a proxy's CONNECT exchange.
struct ConnectHooks<'v> {
    verbose: &'v Verbose,
}

impl Hooks for ConnectHooks<'_> {
    fn request_sent(&mut self, head: &[u8]) {
        self.verbose.lines(">", head);
    }

    fn head(&mut self, head: &Head) -> Next {
        self.verbose.lines("<", &head.raw);
        Next::Stop
    }
}

/// What curl does as the response comes in.
struct CurlHooks<'t, 'a> {
    t: &'t mut Transfer<'a>,
    url: &'t Url,
    redirect: Option<Redirect>,
    /// Writing the head (`-i`) failed: the transfer ends with this.
    failed: Option<CurlError>,
}

impl Hooks for CurlHooks<'_, '_> {
    fn request_sent(&mut self, head: &[u8]) {
        self.t.verbose.lines(">", head);
        self.t.report.size_request += head.len() as u64;
    }

    fn body_sent(&mut self, total: u64) {
        self.t.report.size_upload = total;
    }

    fn first_byte(&mut self) {
        self.t.report.time_starttransfer = self.t.start.elapsed();
    }

    fn interim(&mut self, head: &Head) {
        self.t.verbose.lines("<", &head.raw);
        self.t.report.size_header += head.raw.len() as u64;
    }

    fn head(&mut self, head: &Head) -> Next {
        let t = &mut *self.t;
        let cfg = t.cfg;
        t.report.size_request += t.report.size_upload;
        let status = head.status;
        t.report.http_code = status;
        t.report.http_version = match head.version {
            http::Version::Http10 => "1".into(),
            http::Version::Http11 => "1.1".into(),
        };
        t.report.size_header += head.raw.len() as u64;
        t.report.content_type = head.get("content-type").unwrap_or("").to_string();
        t.report.headers = head
            .headers
            .iter()
            .map(|(n, v)| (n.clone(), String::from_utf8_lossy(v).into_owned()))
            .collect();
        let location = head.get("location").map(String::from);
        t.report.redirect_url = match (&location, (300..400).contains(&status)) {
            (Some(l), true) => self.url.join(l).map(|u| u.to_string()).unwrap_or_default(),
            _ => String::new(),
        };
        t.verbose.lines("<", &head.raw);
        let following =
            cfg.follow && (300..400).contains(&status) && status != 304 && location.is_some();
        if cfg.fail && status >= 400 {
            return Next::Stop;
        }
        if (cfg.include || cfg.head)
            && let Err(e) = t.sink.write(&head.raw)
        {
            self.failed = Some(codes::sink_error(&e));
            return Next::Stop;
        }
        if following {
            self.redirect = location.map(|location| Redirect { location, status });
            return Next::Stop;
        }
        if let http::Framing::Length(n) = head.framing
            && t.sink.path.is_some()
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
            t.sink.progress = Some(bar);
        }
        Next::Read
    }

    fn body(&mut self, data: &[u8]) -> io::Result<Flow> {
        self.t.sink.write(data)?;
        Ok(Flow::More)
    }
}
