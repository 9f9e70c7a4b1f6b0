//! GETs of other agents' JSON (their views, their /healthz), over the one HTTP client, before a
//! deadline and with a size limit.

use crate::http;
use crate::sys::conn;
use serde::de::DeserializeOwned;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// A view of a few thousand links is a few hundred KiB; a merged view of hundreds of nodes more.
pub const VIEW_LIMIT: usize = 8 << 20;
pub const MERGED_LIMIT: usize = 256 << 20;

/// GET `path` from the agent at `addr` and read its JSON answer.
pub fn json<T: DeserializeOwned>(
    addr: SocketAddr,
    host: &str,
    path: &str,
    timeout: Duration,
    limit: usize,
) -> Result<T, String> {
    let deadline = Instant::now() + timeout;
    let mut s = conn::connect(addr, deadline, &conn::Local::default())
        .map_err(|e| crate::probe::io_words(&e))?;
    let f = http::get(&mut s, host, path, &[("Accept", "application/json")], limit)
        .map_err(|e| crate::probe::http_words(&e))?;
    if f.head.status != 200 {
        return Err(format!("HTTP {}", f.head.status));
    }
    if f.cut {
        return Err(format!("the answer is larger than {limit} bytes"));
    }
    serde_json::from_slice(&f.body).map_err(|e| format!("not a debugbox mesh answer ({e})"))
}
