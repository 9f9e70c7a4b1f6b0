//! One URL's transfer, with its redirects: resolve (or `--resolve`, `--connect-to`, a Unix
//! socket), connect, CONNECT through a proxy, TLS, then the request through the shared HTTP
//! client, whose hooks time each event for `-w`, log `-v`/`--trace-ascii`, keep cookies, and
//! write headers and body where they go. Every step is bounded by `--max-time`.

use super::body::{self, Payload};
use super::cli::{Config, Resume};
use super::codes::{self, Code, CurlError, R, fail};
use super::cookies::Jar;
use super::log::Log;
use super::model::Report;
use super::output::Output;
use super::request::{self, Parts, Post30x};
use crate::dns::{self, Family};
use crate::http::{self, Flow, Head, Hooks, Next};
use crate::sys::conn::{self, Stream, TlsError, TlsInfo, is_timeout};
use crate::tls;
use std::io::{self, IsTerminal, Write};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use url::Url;

/// State shared by every URL of one command line: the TLS setup, the cookie jar, the log.
pub struct Session {
    tls: Option<(Arc<rustls::ClientConfig>, Arc<tls::Recorder>)>,
    pub jar: Jar,
    /// `-b 'a=1; b=2'`: sent as given, on every request.
    pub literal_cookies: Option<String>,
    pub log: Log,
    /// curl prints the meter's heading once per command.
    pub meter_shown: bool,
}

impl Session {
    pub fn new(cfg: &Config) -> R<Session> {
        let mut jar = Jar::default();
        let mut literal: Vec<String> = Vec::new();
        for c in &cfg.cookies {
            if c.contains('=') {
                literal.push(c.clone());
            } else if let Ok(bytes) = body::read_file(c) {
                // A missing cookie file only starts an empty jar, as in curl.
                jar.load(&String::from_utf8_lossy(&bytes));
            }
        }
        let log = Log::open(cfg.verbose, cfg.trace_ascii.as_deref()).map_err(|e| {
            CurlError::new(
                Code::WriteError,
                format!("Failed to open trace file: {}", crate::error::os_text(&e)),
            )
        })?;
        Ok(Session {
            tls: None,
            jar,
            literal_cookies: (!literal.is_empty()).then(|| literal.join("; ")),
            log,
            meter_shown: false,
        })
    }

    fn tls_config(&mut self, c: &Config) -> R<(Arc<rustls::ClientConfig>, Arc<tls::Recorder>)> {
        if let Some(t) = &self.tls {
            return Ok(t.clone());
        }
        let built = tls::client_config(&tls::Settings {
            insecure: c.insecure,
            cacert: c.cacert.as_deref(),
            capath: c.capath.as_deref(),
            cert: c.cert.as_deref(),
            key: c.key.as_deref(),
        })
        .map_err(|e| codes::tls_config_error(&e))?;
        self.tls = Some(built.clone());
        Ok(built)
    }
}

pub struct Transfer<'a> {
    pub cfg: &'a Config,
    pub s: &'a mut Session,
    pub report: Report,
    pub start: Instant,
    pub deadline: Option<Instant>,
    pub out: Output,
    /// `-D`: where the response heads go.
    dump: Option<Box<dyn Write>>,
    referer: Option<String>,
    /// `-C`: the byte offset asked for.
    resume_from: u64,
    /// This URL's body goes to a file named after it (`-O`).
    pub remote: bool,
    /// The IPv6 zone the URL named (`[fe80::1%25eth0]`).
    pub zone: Option<String>,
}

/// A redirect to follow: where, and the status that asked for it.
struct Redirect {
    location: String,
    status: u16,
}

/// What is sent: the method and the body.
struct Ask {
    method: String,
    payload: Payload,
}

impl<'a> Transfer<'a> {
    pub fn new(
        cfg: &'a Config,
        s: &'a mut Session,
        start: Instant,
        output: Option<String>,
    ) -> Self {
        let mut out = Output::new(output);
        out.max_filesize = cfg.max_filesize;
        out.limit_rate = cfg.limit_rate;
        Transfer {
            cfg,
            s,
            report: Report::default(),
            start,
            deadline: cfg.max_time.map(|m| start + m),
            out,
            dump: None,
            referer: cfg.referer.clone(),
            resume_from: 0,
            remote: false,
            zone: None,
        }
    }

    fn elapsed_ms(&self) -> u128 {
        self.start.elapsed().as_millis()
    }

    /// Open `-D` and decide `-C`'s offset.
    fn prepare(&mut self) -> R<()> {
        if let Some(d) = &self.cfg.dump_header {
            self.dump = Some(if d == "-" {
                Box::new(io::stdout())
            } else {
                Box::new(
                    std::fs::File::create(d)
                        .map_err(|_| CurlError::new(Code::WriteError, "Failed writing header"))?,
                )
            });
        }
        self.resume_from = match self.cfg.resume {
            None => 0,
            Some(Resume::At(n)) => n,
            Some(Resume::Auto) => self
                .out
                .path
                .as_ref()
                .and_then(|p| std::fs::metadata(p).ok())
                .map(|m| m.len())
                .unwrap_or(0),
        };
        if self.cfg.resume.is_some() && self.out.path.is_some() {
            self.out.append = true;
        }
        Ok(())
    }

    /// The transfer of one URL, following redirects when -L asks for it.
    pub fn perform(&mut self, first: &Url) -> R<()> {
        let cfg = self.cfg;
        self.prepare()?;
        let mut payload = body::payload(cfg)?;
        let mut url = first.clone();
        if cfg.get
            && let Payload::Data { bytes, .. } = &payload
        {
            url =
                Url::parse(&body::with_query(url.as_str(), bytes)).map_err(|_| codes::bad_url())?;
            payload = Payload::None;
        }
        if let Payload::Upload { path, .. } = &payload
            && url.path().ends_with('/')
        {
            let name = std::path::Path::new(path)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            url = url.join(&name).map_err(|_| codes::bad_url())?;
        }
        let method = match (&cfg.method, cfg.head, &payload) {
            (Some(m), _, _) => m.clone(),
            (None, true, _) => "HEAD".into(),
            (None, false, Payload::Upload { .. }) => "PUT".into(),
            (None, false, Payload::None) => "GET".into(),
            (None, false, _) => "POST".into(),
        };
        let mut ask = Ask { method, payload };
        let mut redirects: i64 = 0;
        loop {
            self.report.url_effective = url.to_string();
            self.report.scheme = url.scheme().to_string();
            self.report.method = ask.method.clone();
            let credentials = cfg.location_trusted || request::same_origin(first, &url);
            let Some(next) = self.exchange(&url, &ask, credentials)? else {
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
            self.s
                .log
                .info(&format!("Issue another request to this URL: '{next_url}'"));
            let post = matches!(
                ask.payload,
                Payload::Data { .. } | Payload::Multipart { .. }
            );
            let (m, keep_body) = request::redirected_method(
                next.status,
                &ask.method,
                post,
                cfg.head,
                cfg.method.as_deref(),
                Post30x {
                    post301: cfg.post301,
                    post302: cfg.post302,
                    post303: cfg.post303,
                },
            );
            ask.method = m;
            if !keep_body {
                ask.payload = Payload::None;
            }
            if cfg.auto_referer {
                self.referer = Some(url.to_string());
            }
            self.out.reset_body();
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
            let shown = r
                .addrs
                .iter()
                .map(|a| a.to_string())
                .collect::<Vec<_>>()
                .join(",");
            self.s
                .log
                .info(&format!("Added {}:{}:{shown} to DNS cache", r.host, r.port));
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
            Ok(l) => Ok(dns::ordered(&l.addrs)),
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

    /// `--interface`: `if!NAME`, `host!ADDR`, or a name or an address.
    fn local(&self) -> conn::Local {
        let Some(i) = &self.cfg.interface else {
            return conn::Local::default();
        };
        let (kind, v) = match i.split_once('!') {
            Some((k, v)) => (k, v),
            None => ("", i.as_str()),
        };
        match (kind, v.parse::<IpAddr>()) {
            ("host", Ok(ip)) | ("", Ok(ip)) => conn::Local {
                addr: Some(ip),
                ..Default::default()
            },
            _ => conn::Local {
                device: Some(v.to_string()),
                ..Default::default()
            },
        }
    }

    fn connect_deadline(&self) -> Instant {
        let by_connect =
            Instant::now() + self.cfg.connect_timeout.unwrap_or(Duration::from_secs(300));
        match self.deadline {
            Some(d) => by_connect.min(d),
            None => by_connect,
        }
    }

    /// Connect to the first address that answers, within --connect-timeout and --max-time.
    fn connect(&mut self, host: &str, port: u16, addrs: &[IpAddr]) -> R<Stream> {
        let deadline = self.connect_deadline();
        let local = self.local();
        let scope = match &self.zone {
            None => 0,
            Some(z) => crate::sys::netdev::index_of(z).ok_or_else(|| {
                CurlError::new(
                    Code::CouldntConnect,
                    format!(
                        "Failed to connect to {host} port {port} after {} ms: no interface '{z}' for the IPv6 zone",
                        self.elapsed_ms()
                    ),
                )
            })?,
        };
        let mut timed_out = false;
        for ip in addrs {
            let sa = crate::sys::route::scoped(*ip, port, scope);
            let shown = if ip.is_ipv6() {
                format!("[{ip}]:{port}")
            } else {
                sa.to_string()
            };
            self.s.log.info(&format!("  Trying {shown}..."));
            match conn::connect(sa, deadline, &local) {
                Ok(mut s) => {
                    self.report.num_connects += 1;
                    self.s
                        .log
                        .info(&format!("Connected to {host} ({ip}) port {port} (#0)"));
                    s.set_deadline(self.deadline);
                    return Ok(s);
                }
                Err(e) if local.device.is_some() && e.raw_os_error() == Some(libc::ENODEV) => {
                    return fail(
                        Code::InterfaceFailed,
                        format!(
                            "Couldn't bind to '{}'",
                            local.device.clone().unwrap_or_default()
                        ),
                    );
                }
                Err(e) => {
                    self.s.log.info(&format!(
                        "connect to {ip} port {port} failed: {}",
                        crate::error::os_text(&e)
                    ));
                    timed_out = is_timeout(&e) || Instant::now() >= deadline;
                    if Instant::now() >= deadline {
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

    fn handshake(&mut self, stream: Stream, host: &str) -> R<(Stream, TlsInfo)> {
        let (config, recorder) = self.s.tls_config(self.cfg)?;
        let name = rustls::pki_types::ServerName::try_from(host.to_string())
            .map_err(|_| codes::bad_url())?;
        self.s.log.info("ALPN: offers http/1.1");
        match stream.into_tls(config, name) {
            Ok((s, info)) => {
                let (outcome, leaf) = recorder.last();
                let failure = match &outcome {
                    Some(Err(e)) => tls::Failure::of(e, host, leaf.as_deref()),
                    _ => None,
                };
                self.report.ssl_verify_result = failure.as_ref().map_or(0, |f| f.openssl_code());
                self.describe_tls(&info, host, failure.as_ref());
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
            Err(TlsError::Io(e)) if is_timeout(&e) => fail(
                Code::OperationTimedout,
                format!(
                    "Connection timed out after {} milliseconds",
                    self.elapsed_ms()
                ),
            ),
            Err(TlsError::Io(e)) => fail(
                Code::SslConnectError,
                format!("TLS connect error: {}", crate::error::os_text(&e)),
            ),
        }
    }

    /// `-v` lines about the session and `%{certs}`.
    fn describe_tls(&mut self, info: &TlsInfo, host: &str, failure: Option<&tls::Failure>) {
        let log = &mut self.s.log;
        log.info(&format!(
            "SSL connection using {} / {}",
            info.version, info.cipher
        ));
        match &info.alpn {
            Some(p) => log.info(&format!("ALPN: server accepted {p}")),
            None => log.info("ALPN: server did not agree on a protocol. Uses default."),
        }
        if let Some(der) = info.peer_chain.first() {
            log.info("Server certificate:");
            for line in tls::describe(der, host) {
                log.info(&line);
            }
            match failure {
                None => log.info(" SSL certificate verify ok."),
                Some(f) => {
                    let why = codes::certificate_error(f).message;
                    log.info(&format!(" {why} (ignored: --insecure)"));
                }
            }
        }
        if self
            .cfg
            .write_out
            .as_deref()
            .is_some_and(|w| w.contains("certs"))
        {
            self.report.num_certs = info.peer_chain.len();
            self.report.certs = info
                .peer_chain
                .iter()
                .filter_map(|d| tls::cert_info(d))
                .map(|c| {
                    format!(
                        "Subject:{}\nIssuer:{}\nVersion:2\nSerial Number:{}\nSignature Algorithm:{}\nStart date:{}\nExpire date:{}\nCert:{}",
                        c.subject, c.issuer, c.serial, c.signature, c.start, c.expire, c.pem
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
        }
    }

    /// CONNECT through an HTTP proxy (for http and https targets alike).
    fn tunnel(&mut self, stream: &mut Stream, authority: &str) -> R<()> {
        self.s
            .log
            .info(&format!("Establish HTTP proxy tunnel to {authority}"));
        let mut headers = vec![("Host".to_string(), authority.to_string())];
        if let Some(up) = &self.cfg.proxy_user {
            use base64::Engine;
            let enc = base64::engine::general_purpose::STANDARD.encode(up.as_bytes());
            headers.push(("Proxy-Authorization".into(), format!("Basic {enc}")));
        }
        headers.push(("User-Agent".into(), request::USER_AGENT.into()));
        let uri = format!("http://{authority}");
        let mut req = http::Request {
            method: "CONNECT",
            uri: &uri,
            headers: &headers,
            body: http::Body::Empty,
            http10: false,
        };
        let mut hooks = ConnectHooks {
            log: &mut self.s.log,
        };
        let ms = self.start.elapsed().as_millis();
        let resp = http::exchange(stream, &mut req, &mut hooks).map_err(|e| match e {
            http::Error::EmptyReply | http::Error::HeadCut => {
                CurlError::new(Code::RecvError, "Proxy CONNECT aborted")
            }
            other => codes::exchange_error(&other, ms),
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
        self.s.log.info("CONNECT phase completed");
        Ok(())
    }

    /// `--connect-to`: the host and port to connect to instead of the URL's.
    fn connect_target(&self, host: &str, port: u16) -> (String, u16) {
        for c in &self.cfg.connect_to {
            let host_ok = c
                .from_host
                .as_deref()
                .is_none_or(|h| h.eq_ignore_ascii_case(host));
            let port_ok = c.from_port.is_none_or(|p| p == port);
            if host_ok && port_ok {
                return (
                    c.to_host.clone().unwrap_or_else(|| host.to_string()),
                    c.to_port.unwrap_or(port),
                );
            }
        }
        (host.to_string(), port)
    }

    /// Resolve, connect, tunnel and handshake: a stream ready for the request.
    fn open(&mut self, url: &Url) -> R<Stream> {
        let cfg = self.cfg;
        let host = request::host_of(url);
        let port = url.port_or_known_default().unwrap_or(80);
        let mut stream = if let Some(path) = &cfg.unix_socket {
            self.report.time_namelookup = self.start.elapsed();
            self.s.log.info(&format!("  Trying {path}:{port}..."));
            let s = conn::connect_unix(std::path::Path::new(path), self.connect_deadline())
                .map_err(|e| {
                    CurlError::new(
                        Code::CouldntConnect,
                        format!(
                            "Failed to connect to {host} port {port} after {} ms: {}",
                            self.elapsed_ms(),
                            crate::error::os_text(&e)
                        ),
                    )
                })?;
            self.report.num_connects += 1;
            self.s
                .log
                .info(&format!("Connected to {host} ({path}) port {port} (#0)"));
            let mut s = s;
            s.set_deadline(self.deadline);
            self.report.time_connect = self.start.elapsed();
            s
        } else {
            let env = |n: &str| std::env::var(n).ok();
            let proxy =
                request::proxy_for(cfg.proxy.as_deref(), cfg.noproxy.as_deref(), url, &env)?;
            let (conn_host, conn_port) = match &proxy {
                Some(p) => (
                    request::host_of(p),
                    p.port_or_known_default().unwrap_or(1080),
                ),
                None => self.connect_target(&host, port),
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
            let mut s = self.connect(&conn_host, conn_port, &addrs)?;
            self.report.time_connect = self.start.elapsed();
            if let Some(a) = s.peer_addr() {
                self.report.remote_ip = a.ip().to_string();
                self.report.remote_port = a.port();
            }
            if let Some(a) = s.local_addr() {
                self.report.local_ip = a.ip().to_string();
                self.report.local_port = a.port();
            }
            if proxy.is_some() {
                self.tunnel(&mut s, &request::authority(&host, port))?;
            }
            s
        };
        if url.scheme() == "https" {
            let (s, _) = self.handshake(stream, &host)?;
            stream = s;
            self.report.time_appconnect = self.start.elapsed();
        }
        Ok(stream)
    }

    fn range(&self) -> Option<String> {
        if self.resume_from > 0 {
            return Some(format!("{}-", self.resume_from));
        }
        self.cfg.range.clone()
    }

    /// One request and response. Returns the redirect to follow, if any.
    fn exchange(&mut self, url: &Url, ask: &Ask, credentials: bool) -> R<Option<Redirect>> {
        let cfg = self.cfg;
        let mut stream = self.open(url)?;
        let url_user = request::url_credentials(url);
        let basic = if credentials {
            cfg.user.as_deref().or(url_user.as_deref())
        } else {
            None
        };
        let cookie = match (self.s.literal_cookies.clone(), self.s.jar.header_for(url)) {
            (Some(a), Some(b)) => Some(format!("{a}; {b}")),
            (a, b) => a.or(b),
        };
        let headers = request::headers(&Parts {
            host: request::host_header(url),
            basic,
            range: self.range(),
            user_agent: cfg.user_agent.as_deref(),
            accept_encoding: cfg.compressed.then_some("deflate, gzip"),
            referer: self.referer.as_deref(),
            cookie,
            custom: &cfg.headers,
            send_credentials: credentials,
            body: ask.payload.headers(cfg.http10),
            json: matches!(ask.payload, Payload::Data { json: true, .. }),
        });
        self.report.referer = self.referer.clone().unwrap_or_default();
        let host = request::host_of(url);
        let port = url.port_or_known_default().unwrap_or(80);
        let uri = format!(
            "{}://{}{}",
            url.scheme(),
            request::authority(&host, port),
            request::target(url)
        );
        let mut upload: Option<Box<dyn io::Read>> = match &ask.payload {
            Payload::Upload { path, .. } if path == "-" => Some(Box::new(io::stdin())),
            Payload::Upload { path, .. } => {
                Some(Box::new(std::fs::File::open(path).map_err(|_| {
                    CurlError::new(
                        Code::ReadError,
                        "Failed to open/read local data from file/application",
                    )
                })?))
            }
            _ => None,
        };
        let body = match (&ask.payload, upload.as_mut()) {
            (Payload::Data { bytes, .. }, _) | (Payload::Multipart { bytes, .. }, _) => {
                http::Body::Bytes(bytes)
            }
            (_, Some(r)) => http::Body::Reader(r.as_mut()),
            _ => http::Body::Empty,
        };
        let mut req = http::Request {
            method: &ask.method,
            uri: &uri,
            headers: &headers,
            body,
            http10: cfg.http10,
        };
        self.report.time_pretransfer = self.start.elapsed();
        let mut hooks = CurlHooks {
            t: self,
            url,
            redirect: None,
            failed: None,
            expected: None,
        };
        let result = http::exchange(&mut stream, &mut req, &mut hooks);
        let redirect = hooks.redirect.take();
        let failed = hooks.failed.take();
        self.s.log.flush();
        if let Some(e) = failed {
            return Err(e);
        }
        match result {
            Ok(resp) => {
                if redirect.is_none() {
                    self.report.size_download = resp.received;
                }
            }
            Err(http::Error::Upload(_)) => {
                return fail(
                    Code::ReadError,
                    "Failed to open/read local data from file/application",
                );
            }
            Err(e) => return Err(codes::exchange_error(&e, self.elapsed_ms())),
        }
        if redirect.is_none() {
            self.out.finish()?;
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
        self.s.log.info("Closing connection 0");
        Ok(redirect)
    }
}

/// `-v` for a proxy's CONNECT exchange.
struct ConnectHooks<'l> {
    log: &'l mut Log,
}

impl Hooks for ConnectHooks<'_> {
    fn request_sent(&mut self, head: &[u8]) {
        self.log.sent_head(head);
    }

    fn head(&mut self, head: &Head) -> Next {
        self.log.received_head(&head.raw);
        Next::Stop
    }
}

/// What curl does as the response comes in.
struct CurlHooks<'t, 'a> {
    t: &'t mut Transfer<'a>,
    url: &'t Url,
    redirect: Option<Redirect>,
    /// Set when the transfer must end with this error once the exchange returns.
    failed: Option<CurlError>,
    /// The body's announced length (for the meter).
    expected: Option<u64>,
}

impl CurlHooks<'_, '_> {
    /// Write a head to -D and, with -i/-I, to the output.
    fn head_out(&mut self, raw: &[u8], to_output: bool) -> io::Result<()> {
        if let Some(d) = self.t.dump.as_mut() {
            d.write_all(raw)?;
            d.flush()?;
        }
        if to_output {
            self.t.out.body_raw(raw)?;
        }
        Ok(())
    }

    /// `-J`: the file name from Content-Disposition (its last path component only).
    fn header_file_name(&mut self, head: &Head) -> Result<(), CurlError> {
        let Some(cd) = head.get("content-disposition") else {
            return Ok(());
        };
        let Some(name) = content_disposition_filename(cd) else {
            return Ok(());
        };
        if std::path::Path::new(&name).exists() {
            if !self.t.cfg.silent {
                eprint!(
                    "{}",
                    super::cli::warning(&format!("Failed to open the file {name}: File exists"))
                );
            }
            return Err(CurlError::new(Code::WriteError, "Failed writing header"));
        }
        self.t.report.filename_effective = name.clone();
        self.t.out.path = Some(name);
        Ok(())
    }

    /// Set-Cookie lines into the jar (when cookies are in use at all).
    fn keep_cookies(&mut self, head: &Head) {
        let cfg = self.t.cfg;
        if cfg.cookies.is_empty() && cfg.cookie_jar.is_none() {
            return;
        }
        for v in head.all("set-cookie") {
            self.t
                .s
                .jar
                .set_cookie(&String::from_utf8_lossy(v), self.url);
        }
    }
}

/// A Location header as a URL reference: bytes outside printable ASCII (and spaces) are
/// percent-encoded with lower-case hex, as curl does before following it.
pub fn location_text(raw: &[u8]) -> String {
    let mut out = String::with_capacity(raw.len());
    for &b in raw.trim_ascii() {
        if b <= b' ' || b >= 0x7f {
            out.push_str(&format!("%{b:02x}"));
        } else {
            out.push(b as char);
        }
    }
    out
}

/// The file name a Content-Disposition header gives, reduced to its last path component.
pub fn content_disposition_filename(cd: &str) -> Option<String> {
    let i = cd.to_ascii_lowercase().find("filename=")?;
    let v = cd[i + 9..].trim_start();
    let v = match v.strip_prefix('"') {
        Some(q) => q.split('"').next()?,
        None => v.split(';').next()?.trim(),
    };
    let base = v.rsplit(['/', '\\']).next()?.trim();
    (!base.is_empty()).then(|| base.to_string())
}

impl Hooks for CurlHooks<'_, '_> {
    fn request_sent(&mut self, head: &[u8]) {
        self.t.s.log.sent_head(head);
        self.t.report.size_request += head.len() as u64;
    }

    fn body_sent(&mut self, data: &[u8], total: u64) {
        self.t.s.log.sent_data(data);
        self.t.report.size_upload = total;
    }

    fn first_byte(&mut self) {
        self.t.report.time_starttransfer = self.t.start.elapsed();
    }

    fn interim(&mut self, head: &Head) {
        self.t.s.log.received_head(&head.raw);
        self.t.report.size_header += head.raw.len() as u64;
        let to_output = self.t.cfg.include;
        if let Err(e) = self.head_out(&head.raw, to_output) {
            self.failed = Some(codes::sink_error(&e));
        }
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
        let location = head
            .get_bytes("location")
            .map(location_text)
            .filter(|l| !l.is_empty());
        t.report.redirect_url = match (&location, (300..400).contains(&status)) {
            (Some(l), true) => self.url.join(l).map(|u| u.to_string()).unwrap_or_default(),
            _ => String::new(),
        };
        t.s.log.received_head(&head.raw);
        self.keep_cookies(head);
        let following =
            cfg.follow && (300..400).contains(&status) && status != 304 && location.is_some();
        if cfg.fail && !cfg.fail_with_body && status >= 400 {
            // -f: nothing of the failed response is written (but -D gets the head).
            if let Err(e) = self.head_out(&head.raw, false) {
                self.failed = Some(codes::sink_error(&e));
            }
            return Next::Stop;
        }
        if let Err(e) = self.head_out(&head.raw, cfg.include || cfg.head) {
            self.failed = Some(codes::sink_error(&e));
            return Next::Stop;
        }
        if following {
            self.redirect = location.map(|location| Redirect { location, status });
            return Next::Stop;
        }
        if self.t.resume_from > 0 && status == 200 {
            self.failed = Some(CurlError::new(
                Code::RangeError,
                "HTTP server doesn't seem to support byte ranges. Cannot resume.",
            ));
            return Next::Stop;
        }
        if cfg.remote_header_name
            && self.t.remote
            && let Err(e) = self.header_file_name(head)
        {
            self.failed = Some(e);
            return Next::Stop;
        }
        if let http::Framing::Length(n) = head.framing {
            self.expected = Some(n);
            if let Some(max) = cfg.max_filesize
                && n > max
            {
                self.failed = Some(CurlError::new(
                    Code::FilesizeExceeded,
                    "Maximum file size exceeded",
                ));
                return Next::Stop;
            }
        }
        if cfg.compressed
            && let Some(enc) = head.get("content-encoding")
        {
            self.t.out.decode(enc);
        }
        if !cfg.silent && !self.t.s.log.is_verbose() && !stdout_is_terminal(&self.t.out) {
            let head = !self.t.s.meter_shown;
            self.t.s.meter_shown = true;
            self.t.out.show_meter(self.expected, self.t.start, head);
        }
        Next::Read
    }

    fn body(&mut self, data: &[u8]) -> io::Result<Flow> {
        self.t.s.log.received_data(data);
        self.t.out.body(data)?;
        Ok(Flow::More)
    }
}

/// curl shows no progress meter when the body goes to a terminal.
fn stdout_is_terminal(out: &Output) -> bool {
    out.path.is_none() && io::stdout().is_terminal()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_like_curl() {
        assert_eq!(
            location_text(b" /caf\xc3\xa9?x=\xe2\x9c\x93 "),
            "/caf%c3%a9?x=%e2%9c%93"
        );
        assert_eq!(location_text(b"/a b"), "/a%20b");
        assert_eq!(location_text(b""), "");
    }

    #[test]
    fn content_disposition_names() {
        let f = content_disposition_filename;
        assert_eq!(
            f("attachment; filename=\"a.txt\"").as_deref(),
            Some("a.txt")
        );
        assert_eq!(
            f("attachment; filename=b.bin; x=1").as_deref(),
            Some("b.bin")
        );
        assert_eq!(
            f("attachment; filename=\"../../etc/passwd\"").as_deref(),
            Some("passwd")
        );
        assert_eq!(f("inline"), None);
        assert_eq!(f("attachment; filename=\"\""), None);
    }
}
