//! The agent's small HTTP/1.1 server: GET only, one request a connection, heads of at most
//! 8 KiB read before a deadline, at most `MAX_CONNECTIONS` at once (more are closed at once), so
//! neither a slow client nor a flood holds the agent.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

pub const MAX_HEAD: usize = 8192;
const MAX_CONNECTIONS: usize = 64;
const READ_DEADLINE: Duration = Duration::from_secs(5);
/// Writing may wait for a merged view to be gathered first: that has its own deadline.
const WRITE_DEADLINE: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
}

impl Request {
    pub fn flag(&self, name: &str) -> bool {
        self.query
            .iter()
            .any(|(k, v)| k == name && !matches!(v.as_str(), "0" | "false" | "no"))
    }
}

#[derive(Debug, PartialEq)]
pub enum Head {
    Complete(Request),
    /// More bytes are needed.
    Partial,
    Bad,
}

/// A request head from the first bytes of a connection.
pub fn parse_head(buf: &[u8]) -> Head {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(buf) {
        Ok(httparse::Status::Complete(_)) => {
            let target = req.path.unwrap_or("/");
            let (path, query) = target.split_once('?').unwrap_or((target, ""));
            Head::Complete(Request {
                method: req.method.unwrap_or("").to_string(),
                path: path.to_string(),
                query: url::form_urlencoded::parse(query.as_bytes())
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .take(16)
                    .collect(),
            })
        }
        Ok(httparse::Status::Partial) if buf.len() < MAX_HEAD => Head::Partial,
        _ => Head::Bad,
    }
}

pub struct Response {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

impl Response {
    pub fn ok(content_type: &'static str, body: impl Into<Vec<u8>>) -> Response {
        Response {
            status: 200,
            content_type,
            body: body.into(),
        }
    }

    pub fn error(status: u16, text: &str) -> Response {
        Response {
            status,
            content_type: "text/plain; charset=utf-8",
            body: format!("{text}\n").into_bytes(),
        }
    }

    fn head(&self) -> String {
        let reason = match self.status {
            200 => "OK",
            400 => "Bad Request",
            404 => "Not Found",
            405 => "Method Not Allowed",
            _ => "Error",
        };
        format!(
            "HTTP/1.1 {} {reason}\r\nContent-Type: {}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
            self.status,
            self.content_type,
            self.body.len()
        )
    }
}

pub type Handler = Arc<dyn Fn(&Request) -> Response + Send + Sync>;

/// Accept connections for ever, each answered on its own thread.
pub fn run(listener: TcpListener, handler: Handler) {
    let active = Arc::new(AtomicUsize::new(0));
    for conn in listener.incoming() {
        let Ok(stream) = conn else { continue };
        if active.load(Ordering::Relaxed) >= MAX_CONNECTIONS {
            continue;
        }
        active.fetch_add(1, Ordering::Relaxed);
        let (mine, handler) = (active.clone(), handler.clone());
        let spawned = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || {
                answer(stream, &handler);
                mine.fetch_sub(1, Ordering::Relaxed);
            });
        if spawned.is_err() {
            // No thread, no answer: the stream closed with the closure; the count goes back.
            active.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

fn answer(mut stream: TcpStream, handler: &Handler) {
    let _ = stream.set_read_timeout(Some(READ_DEADLINE));
    let _ = stream.set_write_timeout(Some(WRITE_DEADLINE));
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 2048];
    let response = loop {
        let n = match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        buf.extend_from_slice(&chunk[..n]);
        match parse_head(&buf) {
            Head::Partial => continue,
            Head::Bad => break Response::error(400, "bad request"),
            Head::Complete(req) if req.method != "GET" => {
                break Response::error(405, "only GET");
            }
            Head::Complete(req) => break handler(&req),
        }
    };
    let _ = stream.write_all(response.head().as_bytes());
    let _ = stream.write_all(&response.body);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_are_read_and_bounded() {
        let Head::Complete(r) =
            parse_head(b"GET /matrix.json?all=1&x=%41 HTTP/1.1\r\nHost: a\r\n\r\n")
        else {
            panic!()
        };
        assert_eq!(r.path, "/matrix.json");
        assert!(r.flag("all"));
        assert!(r.query.contains(&("x".into(), "A".into())));
        assert!(!r.flag("links"));
        assert_eq!(parse_head(b"GET / HTTP/1.1\r\nHost"), Head::Partial);
        assert_eq!(parse_head(b"\x00\x01 nonsense\r\n\r\n"), Head::Bad);
        let long = [b"GET /".as_slice(), &vec![b'a'; MAX_HEAD]].concat();
        assert_eq!(parse_head(&long), Head::Bad);
    }

    /// Request heads come from anyone on the network: random and mutated bytes never panic.
    #[test]
    fn hostile_heads_never_panic() {
        crate::testing::check(
            &[b"GET /metrics?a=1&b HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n"],
            5000,
            |b| {
                let _ = parse_head(b);
            },
        );
    }
}
