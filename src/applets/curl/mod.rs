//! `curl`: HTTP/1.1 and HTTPS transfers with curl's flags, output, `-w` variables and exit codes.
//!
//! `cli` reads the flags (and `-K` files), `request` decides the header lines and redirect rules
//! (pure), `body` builds request bodies, `transfer` does one URL's I/O through the shared HTTP
//! client (`crate::http`) and TLS setup (`crate::tls`), `output` is where the body goes,
//! `cookies` the cookie engine, `log` `-v` and `--trace-ascii`, `model` the `-w` table, `codes`
//! curl's exit codes. Names go through the pod's resolver.

pub mod body;
pub mod cli;
pub mod codes;
pub mod cookies;
pub mod log;
pub mod model;
pub mod output;
pub mod request;
pub mod transfer;

use crate::error::Result;
use cli::Config;
use codes::{Code, CurlError};
use std::ffi::OsString;
use std::io::{self, Write};
use std::time::{Duration, Instant};
use transfer::{Session, Transfer};

pub use cli::command;

pub fn run(args: &[OsString]) -> Result<i32> {
    crate::sys::process::ignore_sigpipe();
    let Some(cfg) = cli::parse(args)?.or_print(|| format!(
                "curl 7.88.1-compatible (debugbox {}) rustls\nProtocols: http https\nFeatures: alt-svc HTTPS-proxy IPv6 libz SSL UnixSockets\n",
                env!("CARGO_PKG_VERSION")
            ))? else {
        return Ok(0);
    };
    let mut session = match Session::new(&cfg) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return Ok(e.code.number());
        }
    };
    let mut code = 0;
    for (n, url) in cfg.urls.iter().enumerate() {
        code = with_retries(&cfg, &mut session, n, url);
    }
    if let Some(jar) = &cfg.cookie_jar {
        let text = session.jar.netscape();
        let written = if jar == "-" {
            io::stdout().write_all(text.as_bytes())
        } else {
            std::fs::write(jar, text)
        };
        if written.is_err() {
            eprintln!("curl: (23) Failed to save cookies in {jar}");
            if code == 0 {
                code = Code::WriteError.number();
            }
        }
    }
    Ok(code)
}

/// Is this failure worth another try under `--retry`? curl's transient errors: a timeout, HTTP
/// 408, 429, 500, 502, 503 and 504; a refused connection with `--retry-connrefused`; anything
/// with `--retry-all-errors`.
fn transient(cfg: &Config, code: i32, http_code: u16) -> bool {
    if code == 0 && http_code < 400 {
        return false;
    }
    cfg.retry_all_errors
        || code == Code::OperationTimedout.number()
        || (cfg.retry_connrefused && code == Code::CouldntConnect.number())
        || matches!(http_code, 408 | 429 | 500 | 502 | 503 | 504)
}

/// One URL, tried again while `--retry` allows it. Returns curl's exit code.
fn with_retries(cfg: &Config, session: &mut Session, urlnum: usize, url: &str) -> i32 {
    let first = Instant::now();
    let mut left = cfg.retry;
    let mut delay = Duration::from_secs(1);
    loop {
        let (result, report) = transfer(cfg, session, urlnum, url);
        let code = report.exitcode;
        let wait = cfg
            .retry_delay
            .or_else(|| retry_after(&report))
            .unwrap_or(delay)
            .min(Duration::from_secs(600));
        let again = left > 0
            && transient(cfg, code, report.http_code)
            && cfg
                .retry_max_time
                .is_none_or(|max| first.elapsed() + wait <= max);
        if !again {
            // Only the last attempt reports its error and -w output.
            if let Err(e) = &result
                && (!cfg.silent || cfg.show_error)
            {
                eprintln!("{e}");
            }
            write_out(cfg, &report);
            return code;
        }
        if !cfg.silent {
            let why = if cfg.retry_all_errors {
                "(retrying all errors)"
            } else if code == Code::OperationTimedout.number() {
                ": timeout"
            } else if code == Code::CouldntConnect.number() {
                ": connection refused"
            } else {
                ": HTTP error"
            };
            eprint!(
                "{}",
                cli::warning(&format!(
                    "Problem {why}. Will retry in {} seconds. {left} retries left.",
                    wait.as_secs()
                ))
            );
        }
        std::thread::sleep(wait);
        delay = (delay * 2).min(Duration::from_secs(600));
        left -= 1;
    }
}

/// The server's Retry-After (seconds), if it sent one.
fn retry_after(report: &model::Report) -> Option<Duration> {
    report
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("retry-after"))
        .and_then(|(_, v)| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}

/// One attempt at one URL: its outcome and what `-w` reports about it.
fn transfer(
    cfg: &Config,
    session: &mut Session,
    urlnum: usize,
    url_text: &str,
) -> (std::result::Result<(), CurlError>, model::Report) {
    let start = Instant::now();
    let (without_zone, zone) = request::split_zone(url_text);
    let parsed = request::parse_url(&without_zone);
    let out = cfg
        .outputs
        .get(urlnum)
        .cloned()
        .or_else(|| cfg.remote_name_all.then_some(cli::Out::Remote));
    let remote = out == Some(cli::Out::Remote);
    let path = match (&parsed, out) {
        (Ok(u), Some(cli::Out::Remote)) => request::remote_name(u),
        (_, Some(cli::Out::File(f))) if f != "-" => Some(f),
        _ => None,
    };
    let mut t = Transfer::new(cfg, session, start, path.clone());
    t.remote = remote;
    t.zone = zone;
    t.report.url = url_text.to_string();
    t.report.urlnum = urlnum;
    t.report.filename_effective = path.clone().unwrap_or_default();
    let result = match parsed {
        Err(e) => Err(e),
        Ok(_) if remote && path.is_none() => Err(CurlError::new(
            Code::WriteError,
            "Remote file name has no length!",
        )),
        Ok(u) => t.perform(&u),
    };
    t.report.time_total = start.elapsed();
    t.report.exitcode = match &result {
        Ok(()) => 0,
        Err(e) => e.code.number(),
    };
    if let Err(e) = &result {
        t.report.errormsg = e.message.clone();
    }
    (result, t.report)
}

fn write_out(cfg: &Config, report: &model::Report) {
    let format = if cfg.json {
        Some("%{json}\n".to_string())
    } else {
        cfg.write_out.clone()
    };
    let Some(f) = format else { return };
    let mut unknown = Vec::new();
    let pieces = model::write_out(&f, report, &mut unknown);
    for u in unknown {
        eprintln!("curl: unknown --write-out variable: '{u}'");
    }
    for (stream, text) in pieces {
        let _ = match stream {
            model::Stream::Stdout => {
                let mut o = io::stdout().lock();
                o.write_all(text.as_bytes()).and_then(|_| o.flush())
            }
            model::Stream::Stderr => io::stderr().write_all(text.as_bytes()),
        };
    }
}
