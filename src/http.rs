//! The one HTTP/1.1 client: curl, diagnose's probes, the Kubernetes API client and mesh all send
//! their requests through [`exchange`].
//!
//! ureq-proto (the sans-IO engine of ureq) writes the request and parses the response head and
//! chunked bodies; this module moves the bytes over a [`Stream`] whose deadline bounds every
//! system call. It tells the caller what happens as it happens (request sent, first byte, each
//! interim 1xx head, the final head, each piece of the body) through [`Hooks`], which is where
//! curl takes its `-w` timings and writes its output, and it ends in a typed [`Error`] that each
//! caller puts in its own words (curl's exit codes, diagnose's evidence).
//!
//! Bodies: Content-Length bodies are counted and passed on straight from the receive buffer,
//! chunked bodies go through ureq-proto's decoder (a size line split across reads just waits
//! for more), and a body with neither is read to the end of the connection.

use crate::sys::conn::{Stream, is_timeout};

/// What an exchange runs over: a [`Stream`] (TCP, a Unix socket, TLS), or bytes in a test.
pub trait Conn: Read + Write {
    fn is_tls(&self) -> bool;
    /// Does data arrive within `timeout` (or is some already waiting)?
    fn readable_within(&self, timeout: Duration) -> io::Result<bool>;
}

impl Conn for Stream {
    fn is_tls(&self) -> bool {
        Stream::is_tls(self)
    }

    fn readable_within(&self, timeout: Duration) -> io::Result<bool> {
        Stream::readable_within(self, timeout)
    }
}
use std::borrow::Cow;
use std::fmt;
use std::io::{self, Read, Write};
use std::time::{Duration, Instant};
use ureq_proto::client::{Call, RecvResponseResult, SendRequestResult, header_raw};
use ureq_proto::http;

/// Response heads larger than this are refused (curl's limit).
pub const MAX_HEAD: usize = 300 * 1024;
/// Request heads may be this large (curl sends headers of any size; this bounds memory only).
const MAX_REQUEST_HEAD: usize = 16 << 20;
const READ_CHUNK: usize = 64 * 1024;

/// What to send.
pub struct Request<'a> {
    pub method: &'a str,
    /// The absolute URI (`http://host:port/path?query`); the request line takes its path.
    pub uri: &'a str,
    /// Header lines in the order they are sent. ureq-proto adds none of its own when `Host`
    /// and the body's framing header are here.
    pub headers: &'a [(String, String)],
    pub body: Body<'a>,
    /// `--http1.0`: an HTTP/1.0 request line.
    pub http10: bool,
}

/// A request body.
pub enum Body<'a> {
    Empty,
    Bytes(&'a [u8]),
    /// Read as it is sent (an upload from a file or stdin). The headers must give its
    /// Content-Length, or `Transfer-Encoding: chunked`.
    Reader(&'a mut dyn Read),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    Http10,
    Http11,
}

/// How the response body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    None,
    Length(u64),
    Chunked,
    /// Until the server closes the connection.
    Close,
}

/// A response head: the status line, the header lines and the bytes as received.
#[derive(Debug, Clone)]
pub struct Head {
    pub version: Version,
    pub status: u16,
    /// Names as the server spelled them; values as bytes (they need not be UTF-8).
    pub headers: Vec<(String, Vec<u8>)>,
    /// The head exactly as it came, with its final empty line.
    pub raw: Vec<u8>,
    pub framing: Framing,
}

impl Head {
    /// The last value of header `name` (case-insensitive), as text when it is UTF-8.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.get_bytes(name)
            .and_then(|v| std::str::from_utf8(v).ok())
    }

    pub fn get_bytes(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .rev()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }

    /// Every value of header `name`, in order.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }
}

/// What to do with the body once the head is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Pass it to [`Hooks::body`].
    Read,
    /// Leave it unread (the caller closes the connection).
    Stop,
}

/// Whether to go on reading the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    More,
    Enough,
}

/// What the exchange tells its caller as it goes. Every method has a default that ignores it.
pub trait Hooks {
    /// The request head went out (the bytes as sent).
    fn request_sent(&mut self, _head: &[u8]) {}
    /// A piece of the request body went out (`total`: bytes sent so far).
    fn body_sent(&mut self, _data: &[u8], _total: u64) {}
    /// The first byte of the response arrived.
    fn first_byte(&mut self) {}
    /// An interim 1xx response (100 Continue, 103 Early Hints), skipped.
    fn interim(&mut self, _head: &Head) {}
    /// The final response head.
    fn head(&mut self, _head: &Head) -> Next {
        Next::Read
    }
    /// A piece of the decoded body. An error ends the exchange as [`Error::Sink`].
    fn body(&mut self, _data: &[u8]) -> io::Result<Flow> {
        Ok(Flow::More)
    }
}

/// Why an exchange failed.
#[derive(Debug)]
pub enum Error {
    /// The request could not be written (a bad method or header).
    Request(String),
    /// Sending failed.
    Send(io::Error),
    /// The deadline passed: how much of the body had arrived, of how much (when known).
    Timeout {
        received: u64,
        expected: Option<u64>,
    },
    /// The server closed the connection without a byte of response.
    EmptyReply,
    /// The server closed the connection in the middle of the response head.
    HeadCut,
    /// The response head is larger than [`MAX_HEAD`].
    HeadTooLarge(usize),
    /// More header lines than ureq-proto takes.
    TooManyHeaders,
    /// Not an HTTP response.
    Malformed(String),
    /// A chunked body that does not decode.
    BadBody(String),
    /// The connection ended before the body did (`missing` is unknown for chunked bodies).
    ClosedEarly {
        received: u64,
        missing: Option<u64>,
    },
    Recv(io::Error),
    /// The body's destination refused a write.
    Sink(io::Error),
    /// The request body's source could not be read (an upload from a file or stdin).
    Upload(io::Error),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let os = crate::error::os_text;
        match self {
            Error::Request(why) => write!(f, "bad request: {why}"),
            Error::Send(e) => write!(f, "send failed: {}", os(e)),
            Error::Timeout { .. } => f.write_str("timed out"),
            Error::EmptyReply => f.write_str("closed without a reply"),
            Error::HeadCut => f.write_str("closed in the middle of the response head"),
            Error::HeadTooLarge(n) => write!(f, "response head too large ({n} bytes)"),
            Error::TooManyHeaders => write!(
                f,
                "more than {} header lines",
                ureq_proto::client::MAX_RESPONSE_HEADERS
            ),
            Error::Malformed(why) => write!(f, "not HTTP: {why}"),
            Error::BadBody(why) => write!(f, "bad chunked body: {why}"),
            Error::ClosedEarly {
                received,
                missing: Some(n),
            } => write!(
                f,
                "closed after {received} bytes of the body, {n} bytes short"
            ),
            Error::ClosedEarly {
                received,
                missing: None,
            } => write!(
                f,
                "closed after {received} bytes, before the end of the chunked body"
            ),
            Error::Recv(e) => write!(f, "receive failed: {}", os(e)),
            Error::Sink(e) => write!(f, "cannot write the body: {}", os(e)),
            Error::Upload(e) => write!(f, "cannot read the upload: {}", os(e)),
        }
    }
}

/// The outcome of an exchange that got a final response.
#[derive(Debug)]
pub struct Response {
    pub head: Head,
    /// Decoded body bytes passed to the hooks.
    pub received: u64,
    /// The hooks stopped the body early ([`Next::Stop`] or [`Flow::Enough`]).
    pub stopped: bool,
}

/// Send `req` on `stream` and read the response, within the stream's deadline.
pub fn exchange(
    stream: &mut dyn Conn,
    req: &mut Request<'_>,
    hooks: &mut dyn Hooks,
) -> Result<Response, Error> {
    let mut inbox = Inbox {
        buf: Vec::with_capacity(16 * 1024),
        start: 0,
    };
    let call = send(stream, req, &mut inbox, hooks)?;
    receive(stream, call, inbox, hooks)
}

/// How long a request with `Expect: 100-continue` waits for the go-ahead before it sends its
/// body anyway (curl's default).
const EXPECT_WAIT: Duration = Duration::from_secs(1);

type RecvCall = Call<ureq_proto::client::state::RecvResponse>;

fn send(
    stream: &mut dyn Conn,
    req: &mut Request<'_>,
    inbox: &mut Inbox,
    hooks: &mut dyn Hooks,
) -> Result<RecvCall, Error> {
    let has_body = !matches!(req.body, Body::Empty);
    // ureq-proto sends a chunked body with every POST, PUT and PATCH; a bodiless one (curl's
    // `-X POST` without data) is written as a GET and its method put back in the request line.
    let stand_in = !has_body && matches!(req.method, "POST" | "PUT" | "PATCH");
    let method = if stand_in { "GET" } else { req.method };
    let mut builder = http::Request::builder().method(method).uri(req.uri);
    if req.http10 {
        builder = builder.version(http::Version::HTTP_10);
    }
    for (k, v) in req.headers {
        builder = header_raw(builder, k, v.as_bytes());
    }
    let request = builder
        .body(())
        .map_err(|e| Error::Request(e.to_string()))?;
    let mut call = Call::new(request).map_err(|e| Error::Request(e.to_string()))?;
    call.allow_non_standard_methods(true);
    if has_body
        && matches!(
            req.method,
            "GET" | "HEAD" | "DELETE" | "OPTIONS" | "CONNECT" | "TRACE"
        )
    {
        call.force_send_body();
    }
    let mut call = call.proceed();
    // The head, written in as many pieces as it takes; a line longer than the buffer grows it.
    let mut out = vec![0u8; 16 * 1024];
    let mut head = Vec::new();
    while !call.can_proceed() {
        match call.write(&mut out) {
            Ok(n) => head.extend_from_slice(&out[..n]),
            Err(ureq_proto::Error::OutputOverflow) if out.len() < MAX_REQUEST_HEAD => {
                out.resize(out.len() * 2, 0)
            }
            Err(e) => return Err(Error::Request(e.to_string())),
        }
    }
    if stand_in && let Some(rest) = head.strip_prefix(b"GET ") {
        let mut real = format!("{} ", req.method).into_bytes();
        real.extend_from_slice(rest);
        head = real;
    }
    write_all(stream, &head)?;
    hooks.request_sent(&head);
    match call.proceed() {
        Ok(Some(SendRequestResult::RecvResponse(c))) => Ok(c),
        Ok(Some(SendRequestResult::SendBody(sb))) => send_body(stream, sb, req, hooks),
        Ok(Some(SendRequestResult::Await100(mut aw))) => {
            // Wait (briefly) for 100 Continue; a final answer instead means the body is not
            // wanted, and it stays in the inbox for the response.
            let until = Instant::now() + EXPECT_WAIT;
            while aw.can_keep_await_100() {
                let left = until.saturating_duration_since(Instant::now());
                if left.is_zero() || !stream.readable_within(left).map_err(Error::Recv)? {
                    break;
                }
                if inbox.fill(stream).map_err(|e| recv_error(e, 0, None))? == 0 {
                    break;
                }
                let used = aw
                    .try_read_100(inbox.pending())
                    .map_err(|e| Error::Malformed(e.to_string()))?;
                inbox.consume(used);
            }
            match aw.proceed() {
                Ok(ureq_proto::client::Await100Result::SendBody(sb)) => {
                    send_body(stream, sb, req, hooks)
                }
                Ok(ureq_proto::client::Await100Result::RecvResponse(c)) => Ok(c),
                Err(e) => Err(Error::Request(e.to_string())),
            }
        }
        Ok(None) => Err(Error::Request("the request was not complete".into())),
        Err(e) => Err(Error::Request(e.to_string())),
    }
}

fn send_body(
    stream: &mut dyn Conn,
    mut sb: Call<ureq_proto::client::state::SendBody>,
    req: &mut Request<'_>,
    hooks: &mut dyn Hooks,
) -> Result<RecvCall, Error> {
    let mut sent: u64 = 0;
    let mut input = vec![0u8; READ_CHUNK];
    let mut out = vec![0u8; READ_CHUNK + 64];
    loop {
        let (data, last): (&[u8], bool) = match &mut req.body {
            Body::Empty => (&[], true),
            Body::Bytes(b) => {
                let d = &b[sent as usize..];
                let n = d.len().min(READ_CHUNK);
                (&d[..n], n == d.len())
            }
            Body::Reader(r) => {
                let n = read_some(*r, &mut input).map_err(Error::Upload)?;
                (&input[..n], n == 0)
            }
        };
        let mut offset = 0;
        while offset < data.len() {
            let (used, produced) = sb
                .write(&data[offset..], &mut out)
                .map_err(|e| Error::Request(e.to_string()))?;
            offset += used;
            write_all(stream, &out[..produced])?;
        }
        sent += data.len() as u64;
        if !data.is_empty() {
            hooks.body_sent(data, sent);
        }
        if last {
            let (_, produced) = sb
                .write(&[], &mut out)
                .map_err(|e| Error::Request(e.to_string()))?;
            write_all(stream, &out[..produced])?;
            break;
        }
    }
    sb.proceed()
        .ok_or_else(|| Error::Request("the body is shorter than its Content-Length".into()))
}

fn read_some(r: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match r.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            other => return other,
        }
    }
}

fn write_all(stream: &mut dyn Conn, mut bytes: &[u8]) -> Result<(), Error> {
    while !bytes.is_empty() {
        match stream.write(bytes) {
            Ok(0) => {
                return Err(Error::Send(io::Error::new(
                    io::ErrorKind::WriteZero,
                    "connection closed",
                )));
            }
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if is_timeout(&e) => {
                return Err(Error::Timeout {
                    received: 0,
                    expected: None,
                });
            }
            Err(e) => return Err(Error::Send(e)),
        }
    }
    stream.flush().map_err(Error::Send)
}

/// Bytes received but not yet used, with a read position (no shifting on every use).
struct Inbox {
    buf: Vec<u8>,
    start: usize,
}

impl Inbox {
    fn pending(&self) -> &[u8] {
        &self.buf[self.start..]
    }

    fn consume(&mut self, n: usize) {
        self.start += n;
        if self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        }
    }

    /// Read more from the stream; Ok(0) at the end of the connection.
    fn fill(&mut self, stream: &mut dyn Conn) -> io::Result<usize> {
        if self.start > 0 && self.start * 2 >= self.buf.len() {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        let len = self.buf.len();
        self.buf.resize(len + READ_CHUNK, 0);
        let r = loop {
            match stream.read(&mut self.buf[len..]) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                other => break other,
            }
        };
        self.buf.truncate(len + *r.as_ref().unwrap_or(&0));
        r
    }
}

fn receive(
    stream: &mut dyn Conn,
    mut call: RecvCall,
    mut inbox: Inbox,
    hooks: &mut dyn Hooks,
) -> Result<Response, Error> {
    let mut first = inbox.pending().is_empty();
    if !first {
        hooks.first_byte();
    }
    let (head, response) = loop {
        if let Some(end) = head_end(inbox.pending()) {
            let raw = inbox.pending()[..end].to_vec();
            let clean = normalize_head(&raw);
            match call.try_response(&clean, false) {
                Ok((_, Some(r))) => {
                    inbox.consume(end);
                    break (raw, r);
                }
                Ok((used, None)) if used > 0 => {
                    // An interim 1xx response: skipped, the final one follows.
                    if let Some(h) = parse_head(&raw) {
                        hooks.interim(&h);
                    }
                    inbox.consume(end);
                    continue;
                }
                Ok((_, None)) => return Err(Error::Malformed("incomplete status line".into())),
                Err(ureq_proto::Error::HttpParseTooManyHeaders) => {
                    return Err(Error::TooManyHeaders);
                }
                Err(e) => return Err(Error::Malformed(e.to_string())),
            }
        }
        if inbox.pending().len() > MAX_HEAD {
            return Err(Error::HeadTooLarge(inbox.pending().len()));
        }
        let n = inbox.fill(stream).map_err(|e| recv_error(e, 0, None))?;
        if n == 0 {
            return Err(if inbox.pending().is_empty() {
                Error::EmptyReply
            } else {
                Error::HeadCut
            });
        }
        if first {
            first = false;
            hooks.first_byte();
        }
    };
    let mut head = parse_head(&head).ok_or_else(|| Error::Malformed("bad status line".into()))?;
    head.version = match response.version() {
        http::Version::HTTP_10 => Version::Http10,
        _ => Version::Http11,
    };
    head.status = response.status().as_u16();
    let rb = match call.proceed() {
        Some(RecvResponseResult::RecvBody(rb)) => Some(rb),
        _ => None,
    };
    head.framing = match &rb {
        None => Framing::None,
        Some(rb) => match rb.body_mode() {
            ureq_proto::BodyMode::LengthDelimited(n) => Framing::Length(n),
            ureq_proto::BodyMode::Chunked => Framing::Chunked,
            ureq_proto::BodyMode::CloseDelimited => Framing::Close,
            _ => Framing::None,
        },
    };
    let mut resp = Response {
        head,
        received: 0,
        stopped: false,
    };
    if hooks.head(&resp.head) == Next::Stop {
        resp.stopped = true;
        return Ok(resp);
    }
    let (received, stopped) = match (resp.head.framing, rb) {
        (Framing::Length(n), _) => read_length(stream, &mut inbox, n, hooks)?,
        (Framing::Chunked, Some(rb)) => read_chunked(stream, &mut inbox, rb, hooks)?,
        (Framing::Close, _) => read_to_close(stream, &mut inbox, hooks)?,
        _ => (0, false),
    };
    resp.received = received;
    resp.stopped = stopped;
    Ok(resp)
}

fn recv_error(e: io::Error, received: u64, expected: Option<u64>) -> Error {
    if is_timeout(&e) {
        Error::Timeout { received, expected }
    } else {
        Error::Recv(e)
    }
}

fn deliver(hooks: &mut dyn Hooks, data: &[u8]) -> Result<bool, Error> {
    if data.is_empty() {
        return Ok(true);
    }
    match hooks.body(data).map_err(Error::Sink)? {
        Flow::More => Ok(true),
        Flow::Enough => Ok(false),
    }
}

fn read_length(
    stream: &mut dyn Conn,
    inbox: &mut Inbox,
    total: u64,
    hooks: &mut dyn Hooks,
) -> Result<(u64, bool), Error> {
    let mut received: u64 = 0;
    loop {
        let pending = inbox.pending();
        let take = ((total - received) as usize).min(pending.len());
        let more = deliver(hooks, &pending[..take])?;
        inbox.consume(take);
        received += take as u64;
        if !more {
            return Ok((received, true));
        }
        if received == total {
            return Ok((received, false));
        }
        let n = inbox
            .fill(stream)
            .map_err(|e| recv_error(e, received, Some(total)))?;
        if n == 0 {
            return Err(Error::ClosedEarly {
                received,
                missing: Some(total - received),
            });
        }
    }
}

fn read_chunked(
    stream: &mut dyn Conn,
    inbox: &mut Inbox,
    mut rb: Call<ureq_proto::client::state::RecvBody>,
    hooks: &mut dyn Hooks,
) -> Result<(u64, bool), Error> {
    let mut received: u64 = 0;
    let mut decoded = vec![0u8; READ_CHUNK];
    loop {
        if !inbox.pending().is_empty() {
            let (used, produced) = rb
                .read(inbox.pending(), &mut decoded)
                .map_err(|e| Error::BadBody(e.to_string()))?;
            inbox.consume(used);
            received += produced as u64;
            if !deliver(hooks, &decoded[..produced])? {
                return Ok((received, true));
            }
            if rb.can_proceed() {
                return Ok((received, false));
            }
            if used > 0 || produced > 0 {
                continue;
            }
            // Nothing decodable yet (a size line or CRLF split across reads): read more.
        } else if rb.can_proceed() {
            return Ok((received, false));
        }
        let n = inbox
            .fill(stream)
            .map_err(|e| recv_error(e, received, None))?;
        if n == 0 {
            // `0\r\n` then a close, without the final CRLF: the body is whole.
            if rb.is_ended_chunked() {
                return Ok((received, false));
            }
            return Err(Error::ClosedEarly {
                received,
                missing: None,
            });
        }
    }
}

fn read_to_close(
    stream: &mut dyn Conn,
    inbox: &mut Inbox,
    hooks: &mut dyn Hooks,
) -> Result<(u64, bool), Error> {
    let mut received: u64 = 0;
    loop {
        let n = inbox.pending().len();
        let more = deliver(hooks, inbox.pending())?;
        inbox.consume(n);
        received += n as u64;
        if !more {
            return Ok((received, true));
        }
        if inbox
            .fill(stream)
            .map_err(|e| recv_error(e, received, None))?
            == 0
        {
            return Ok((received, false));
        }
    }
}

/// Where the head ends in `buf`: just after its empty line (`\r\n\r\n`, or bare `\n` line
/// ends, which curl accepts too). None while the head is incomplete.
pub fn head_end(buf: &[u8]) -> Option<usize> {
    let mut i = 0;
    while let Some(p) = buf[i..].iter().position(|&b| b == b'\n') {
        let next = i + p + 1;
        match buf.get(next) {
            Some(b'\n') => return Some(next + 1),
            Some(b'\r') if buf.get(next + 1) == Some(&b'\n') => return Some(next + 2),
            _ => {}
        }
        i = next;
    }
    None
}

/// The head as ureq-proto's strict parser takes it, accepting what curl accepts: folded
/// header lines (obs-fold) are joined, a bare CR inside a line becomes a space, whitespace
/// between a header name and its colon goes, and lines end in CRLF. A head with none of these
/// comes back as it is.
pub fn normalize_head(raw: &[u8]) -> Cow<'_, [u8]> {
    let lines: Vec<&[u8]> = raw
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .collect();
    let odd = raw.windows(2).any(|w| w[1] == b'\n' && w[0] != b'\r')
        || raw.first() == Some(&b'\n')
        || lines.iter().enumerate().any(|(i, l)| {
            l.contains(&b'\r')
                || (i > 0 && matches!(l.first(), Some(b' ') | Some(b'\t')))
                || l.iter()
                    .position(|&b| b == b':')
                    .is_some_and(|c| c > 0 && matches!(l[c - 1], b' ' | b'\t'))
        });
    if !odd {
        return Cow::Borrowed(raw);
    }
    let mut out: Vec<Vec<u8>> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let mut l: Vec<u8> = line
            .iter()
            .map(|&b| if b == b'\r' { b' ' } else { b })
            .collect();
        if i > 0 && matches!(l.first(), Some(b' ') | Some(b'\t')) && out.len() > 1 {
            // obs-fold: the line continues the previous header's value.
            let rest = l.trim_ascii_start().to_vec();
            if let Some(prev) = out.last_mut() {
                prev.push(b' ');
                prev.extend_from_slice(&rest);
            }
            continue;
        }
        if i > 0
            && let Some(c) = l.iter().position(|&b| b == b':')
        {
            let name = l[..c].trim_ascii_end().to_vec();
            let mut fixed = name;
            fixed.extend_from_slice(&l[c..]);
            l = fixed;
        }
        out.push(l);
    }
    // The split leaves empty pieces for the final empty line; keep exactly one.
    while out.last().is_some_and(|l| l.is_empty()) {
        out.pop();
    }
    let mut joined = Vec::with_capacity(raw.len() + out.len());
    for l in out {
        joined.extend_from_slice(&l);
        joined.extend_from_slice(b"\r\n");
    }
    joined.extend_from_slice(b"\r\n");
    Cow::Owned(joined)
}

/// The status line and header lines of a complete head (after [`normalize_head`]), for the
/// hooks; framing is filled in by the exchange.
fn parse_head(raw: &[u8]) -> Option<Head> {
    let clean = normalize_head(raw);
    let mut lines = clean
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let status_line = std::str::from_utf8(lines.next()?).ok()?;
    let mut parts = status_line.split(' ');
    let version = match parts.next()? {
        "HTTP/1.0" => Version::Http10,
        v if v.starts_with("HTTP/") => Version::Http11,
        _ => return None,
    };
    let status: u16 = parts.next()?.parse().ok()?;
    let headers = lines
        .filter(|l| !l.is_empty())
        .filter_map(|l| {
            let c = l.iter().position(|&b| b == b':')?;
            let name = String::from_utf8_lossy(&l[..c]).into_owned();
            Some((name, l[c + 1..].trim_ascii().to_vec()))
        })
        .collect();
    Some(Head {
        version,
        status,
        headers,
        raw: raw.to_vec(),
        framing: Framing::None,
    })
}

/// A body collected in memory up to `limit` bytes, saying whether it was cut there.
pub struct Collect {
    pub body: Vec<u8>,
    pub limit: usize,
    pub cut: bool,
}

impl Collect {
    pub fn new(limit: usize) -> Self {
        Collect {
            body: Vec::new(),
            limit,
            cut: false,
        }
    }
}

impl Hooks for Collect {
    fn body(&mut self, data: &[u8]) -> io::Result<Flow> {
        let room = self.limit - self.body.len();
        if data.len() > room {
            self.body.extend_from_slice(&data[..room]);
            self.cut = true;
            return Ok(Flow::Enough);
        }
        self.body.extend_from_slice(data);
        Ok(Flow::More)
    }
}

/// A GET answered in memory: the head and at most `limit` bytes of the body.
#[derive(Debug)]
pub struct Fetched {
    pub head: Head,
    pub body: Vec<u8>,
    /// The body went on past `limit` and was not read further.
    pub cut: bool,
}

pub const USER_AGENT: &str = concat!("debugbox/", env!("CARGO_PKG_VERSION"));

/// One GET on `stream`: `host` is the Host header (name or `[v6]`, with `:port` when not the
/// default), `headers` go after Host and User-Agent.
pub fn get(
    stream: &mut dyn Conn,
    host: &str,
    path: &str,
    headers: &[(&str, &str)],
    limit: usize,
) -> Result<Fetched, Error> {
    let scheme = if stream.is_tls() { "https" } else { "http" };
    let uri = format!("{scheme}://{host}{path}");
    let mut lines: Vec<(String, String)> = vec![
        ("Host".into(), host.into()),
        ("User-Agent".into(), USER_AGENT.into()),
    ];
    lines.extend(headers.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let mut req = Request {
        method: "GET",
        uri: &uri,
        headers: &lines,
        body: Body::Empty,
        http10: false,
    };
    let mut sink = Collect::new(limit);
    let resp = exchange(stream, &mut req, &mut sink)?;
    Ok(Fetched {
        head: resp.head,
        body: sink.body,
        cut: sink.cut,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::conn;
    use std::net::TcpListener;

    /// A one-connection server that writes `parts` with a pause between them.
    fn serve(parts: Vec<Vec<u8>>) -> std::net::SocketAddr {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            for p in parts {
                if s.write_all(&p).is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        });
        addr
    }

    fn fetch(parts: Vec<Vec<u8>>, limit: usize) -> Result<Fetched, Error> {
        let addr = serve(parts);
        let mut s = conn::connect(
            addr,
            Instant::now() + Duration::from_secs(5),
            &conn::Local::default(),
        )
        .unwrap();
        get(&mut s, "h", "/", &[], limit)
    }

    #[test]
    fn close_delimited_bodies_are_read_to_the_end() {
        let big = vec![b'x'; 200_000];
        let mut first = b"HTTP/1.0 200 OK\r\n\r\n".to_vec();
        first.extend_from_slice(&big[..1000]);
        let f = fetch(vec![first, big[1000..].to_vec()], 1 << 20).unwrap();
        assert_eq!(f.body.len(), 200_000);
        assert_eq!(f.head.framing, Framing::Close);
        assert!(!f.cut);
    }

    #[test]
    fn chunked_split_at_every_byte_decodes() {
        let wire = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n";
        let parts: Vec<Vec<u8>> = wire.iter().map(|b| vec![*b]).collect();
        let f = fetch(parts, 1 << 20).unwrap();
        assert_eq!(f.body, b"hello, world");
    }

    #[test]
    fn interim_responses_are_skipped_and_odd_heads_accepted() {
        let wire = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nX-Folded: a\r\n b\r\nContent-Length: 2\r\nX-Cr: a\rb\r\n\r\nok".to_vec();
        let f = fetch(vec![wire], 100).unwrap();
        assert_eq!(f.head.status, 200);
        assert_eq!(f.head.get("x-folded"), Some("a b"));
        assert_eq!(f.body, b"ok");
    }

    #[test]
    fn truncation_and_limits_are_errors_or_flagged() {
        let e = fetch(
            vec![b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc".to_vec()],
            100,
        )
        .unwrap_err();
        assert!(
            matches!(
                e,
                Error::ClosedEarly {
                    received: 3,
                    missing: Some(7)
                }
            ),
            "{e:?}"
        );
        let e = fetch(
            vec![b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab".to_vec()],
            100,
        )
        .unwrap_err();
        assert!(
            matches!(e, Error::ClosedEarly { missing: None, .. }),
            "{e:?}"
        );
        let f = fetch(
            vec![b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789".to_vec()],
            4,
        )
        .unwrap();
        assert!(f.cut);
        assert_eq!(f.body, b"0123");
        assert!(matches!(fetch(vec![], 10).unwrap_err(), Error::EmptyReply));
        assert!(matches!(
            fetch(vec![b"HTTP/1.1 200 OK\r\nX: 1\r\n".to_vec()], 10).unwrap_err(),
            Error::HeadCut
        ));
    }

    #[test]
    fn head_ends_and_normal_heads_stay_borrowed() {
        assert_eq!(head_end(b"HTTP/1.1 200 OK\r\n\r\nbody"), Some(19));
        assert_eq!(head_end(b"HTTP/1.1 200 OK\n\nbody"), Some(17));
        assert_eq!(head_end(b"HTTP/1.1 200 OK\r\nA: b\r\n"), None);
        let h = b"HTTP/1.1 200 OK\r\nA: b\r\n\r\n";
        assert!(matches!(normalize_head(h), Cow::Borrowed(_)));
        assert_eq!(
            &*normalize_head(b"HTTP/1.1 200 OK\nContent-Length : 2\n\n"),
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n"
        );
    }

    #[test]
    fn big_request_heads_are_sent() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            let mut got = Vec::new();
            let mut buf = [0u8; 65536];
            while head_end(&got).is_none() {
                let n = s.read(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&buf[..n]);
            }
            s.write_all(b"HTTP/1.1 204 No Content\r\n\r\n").unwrap();
            got.len()
        });
        let mut s = conn::connect(
            addr,
            Instant::now() + Duration::from_secs(5),
            &conn::Local::default(),
        )
        .unwrap();
        let value = "v".repeat(100 * 1024);
        let f = get(&mut s, "h", "/", &[("X-Big", &value)], 10).unwrap();
        assert_eq!(f.head.status, 204);
        assert!(server.join().unwrap() > 100 * 1024);
    }

    /// Bytes handed out in the pieces given, whatever is asked for; writes are kept.
    struct Script {
        pieces: std::collections::VecDeque<Vec<u8>>,
        written: Vec<u8>,
    }

    impl Read for Script {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let Some(mut p) = self.pieces.pop_front() else {
                return Ok(0);
            };
            let n = p.len().min(buf.len());
            buf[..n].copy_from_slice(&p[..n]);
            if n < p.len() {
                p.drain(..n);
                self.pieces.push_front(p);
            }
            Ok(n)
        }
    }

    impl Write for Script {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.written.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Conn for Script {
        fn is_tls(&self) -> bool {
            false
        }
        fn readable_within(&self, _: Duration) -> io::Result<bool> {
            Ok(!self.pieces.is_empty())
        }
    }

    fn over(pieces: Vec<Vec<u8>>, method: &str) -> Result<(Response, Vec<u8>), Error> {
        // An empty piece would read as the end of the connection.
        let mut conn = Script {
            pieces: pieces.into_iter().filter(|p| !p.is_empty()).collect(),
            written: Vec::new(),
        };
        let headers = vec![("Host".to_string(), "h".to_string())];
        let mut req = Request {
            method,
            uri: "http://h/",
            headers: &headers,
            body: Body::Empty,
            http10: false,
        };
        let mut sink = Collect::new(1 << 20);
        let r = exchange(&mut conn, &mut req, &mut sink)?;
        Ok((r, sink.body))
    }

    const SAMPLES: &[(&[u8], &[u8])] = &[
        (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", b"hello"),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n2\r\nde\r\n0\r\nTrailer: 1\r\n\r\n",
            b"abcde",
        ),
        (b"HTTP/1.0 200 OK\r\n\r\nto the end", b"to the end"),
        (
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
            b"",
        ),
        (
            b"HTTP/1.1 200 OK\nX-Fold: a\n b\nContent-Length : 2\n\nok",
            b"ok",
        ),
    ];

    /// Every response decodes the same, however the bytes are split on the way in: at every
    /// byte boundary into two reads, and one byte a read.
    #[test]
    fn every_split_decodes_the_same() {
        for (wire, body) in SAMPLES {
            for cut in 0..=wire.len() {
                let (_, got) = over(vec![wire[..cut].to_vec(), wire[cut..].to_vec()], "GET")
                    .unwrap_or_else(|e| panic!("cut at {cut}: {e:?}"));
                assert_eq!(&got, body, "cut at {cut}");
            }
            let bytes: Vec<Vec<u8>> = wire.iter().map(|b| vec![*b]).collect();
            let (_, got) = over(bytes, "GET").unwrap();
            assert_eq!(&got, body);
        }
    }

    /// Random and mutated responses end in an answer or an error, never a panic or a hang.
    #[test]
    fn hostile_responses_never_panic() {
        let samples: Vec<&[u8]> = SAMPLES.iter().map(|(w, _)| *w).collect();
        crate::testing::check(&samples, 20_000, |input| {
            let _ = over(vec![input.to_vec()], "GET");
            let _ = over(input.chunks(7).map(|c| c.to_vec()).collect(), "HEAD");
            let _ = normalize_head(input);
            let _ = head_end(input);
            let _ = parse_head(input);
        });
    }
}
