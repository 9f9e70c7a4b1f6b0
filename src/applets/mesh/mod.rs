//! `mesh`: a DaemonSet agent in which every node checks the others — ICMP echo, a full-size
//! packet with don't-fragment (the MTU), a TCP connect and the peer agent's /healthz — K peers a
//! round chosen by rendezvous hashing (every pair within n/K rounds, O(K) load per agent), plus
//! the cluster DNS and listed Services. It serves /healthz, /metrics (Prometheus), /matrix.json
//! (its view; `?all=1` merges every peer's) and an HTML page; `mesh status --from URL` prints
//! the matrix and names what the bad links have in common. No privilege, no writes.

pub mod agent;
pub mod cli;
mod fetch;
mod metrics;
pub mod model;
mod page;
mod sample;
mod serve;
mod state;
mod status;
pub mod verdict;

use crate::error::Result;
use std::ffi::OsString;

pub use cli::command;

pub fn run(args: &[OsString]) -> Result<i32> {
    let Some(cfg) =
        cli::parse(args)?.or_print(|| format!("debugbox mesh {}\n", env!("CARGO_PKG_VERSION")))?
    else {
        return Ok(0);
    };
    crate::sys::process::ignore_sigpipe();
    match cfg {
        cli::Config::Agent(a) => agent::run(*a),
        cli::Config::Status(s) => status::run(&s),
    }
}
