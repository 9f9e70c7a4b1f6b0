//! `iperf3`: throughput between two points, speaking iperf3's own protocol (3.x), so a
//! debugbox client measures against any iperf3 server and any iperf3 client against a debugbox
//! server. TCP in large writes, UDP with iperf3's packet header (loss, jitter, order), `-R`,
//! `--bidir`, `-P`, `-b`, `-J` in iperf3's JSON shape, iperf3 3.12's text report. No privilege.
//! Exit 0 when the test ran, 1 when it failed (also under -J, where iperf3 exits 0 with an
//! "error" key), 2 on a usage error.

pub mod cli;
mod client;
mod engine;
pub mod proto;
pub mod report;
mod server;
mod session;
pub mod units;

use crate::error::Result;
use cli::Mode;
use std::ffi::OsString;

pub use cli::command;

/// The iperf3 version whose protocol and output this follows.
pub const VERSION: &str = "3.12";

pub fn version_line() -> String {
    format!("iperf {VERSION} (debugbox {})", env!("CARGO_PKG_VERSION"))
}

pub fn run(args: &[OsString]) -> Result<i32> {
    let Some(cfg) = cli::parse(args)?.or_print(|| format!("{}\n", version_line()))? else {
        return Ok(0);
    };
    crate::sys::process::ignore_sigpipe();
    Ok(match &cfg.mode {
        Mode::Client { host } => client::run(&cfg, host),
        Mode::Server { one_off } => server::run(&cfg, *one_off),
    })
}
