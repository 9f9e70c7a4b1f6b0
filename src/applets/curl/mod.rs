//! `curl`: HTTP/1.1 and HTTPS transfers with curl's flags, output, `-w` variables and exit codes.
//!
//! `cli` reads the flags, `request` decides what is sent (pure), `transfer` does one URL's I/O
//! through the shared HTTP client (`crate::http`) and TLS setup (`crate::tls`), `model` is the
//! `-w` table, `codes` curl's exit codes. Names go through the pod's resolver.

pub mod cli;
pub mod codes;
pub mod model;
pub mod request;
pub mod transfer;

use crate::error::{Parsed, Result};
use crate::output;
use cli::Config;
use codes::{Code, CurlError};
use std::ffi::OsString;
use std::io::{self, Write};
use std::time::Instant;
use transfer::Transfer;

pub use cli::command;

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
    for (n, url) in cfg.urls.iter().enumerate() {
        code = transfer(&cfg, n, url);
    }
    Ok(code)
}

/// One URL, with its error line and `-w` output. Returns curl's exit code.
fn transfer(cfg: &Config, urlnum: usize, url_text: &str) -> i32 {
    let start = Instant::now();
    let parsed = request::parse_url(url_text);
    let path = match (&parsed, cfg.remote_name) {
        (Ok(u), true) => request::remote_name(u),
        (_, true) => None,
        _ => cfg.output.clone().filter(|o| o != "-"),
    };
    let mut t = Transfer::new(cfg, start, path.clone());
    t.report.url = url_text.to_string();
    t.report.urlnum = urlnum;
    t.report.filename_effective = path.clone().unwrap_or_default();
    let result = match parsed {
        Err(e) => Err(e),
        Ok(_) if cfg.remote_name && path.is_none() => Err(CurlError::new(
            Code::WriteError,
            "Remote file name has no length!",
        )),
        Ok(u) => t.perform(&u),
    };
    let result = result.and_then(|()| t.sink.finish());
    t.report.time_total = start.elapsed();
    let code = match &result {
        Ok(()) => 0,
        Err(e) => e.code.number(),
    };
    t.report.exitcode = code;
    if let Err(e) = &result {
        t.report.errormsg = e.message.clone();
        if !cfg.silent || cfg.show_error {
            eprintln!("{e}");
        }
    }
    let format = if cfg.json {
        Some("%{json}\n".to_string())
    } else {
        cfg.write_out.clone()
    };
    if let Some(f) = format {
        let mut unknown = Vec::new();
        let pieces = model::write_out(&f, &t.report, &mut unknown);
        for u in unknown {
            eprintln!("curl: unknown --write-out variable: '{u}'");
        }
        for (stream, text) in pieces {
            let _ = match stream {
                model::Stream::Stdout => {
                    let mut out = io::stdout().lock();
                    out.write_all(text.as_bytes()).and_then(|_| out.flush())
                }
                model::Stream::Stderr => io::stderr().write_all(text.as_bytes()),
            };
        }
    }
    code
}
