//! `mesh status --from URL`: an agent's merged view on a terminal — the matrix, the bad links,
//! and the verdict naming what they have in common. Exit 0 when every link passes, 1 when some
//! do not (or the agent cannot be reached), 2 on a usage error.

use super::cli::{DEFAULT_PORT, Status};
use super::fetch;
use super::model::Merged;
use super::page::cell;
use super::verdict::{self, Verdict};
use crate::dns::{self, Family};
use crate::error::{EXIT_FAIL, Error, Result};
use crate::output;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

/// Above this many nodes the terminal matrix is left out.
const GRID_UP_TO: usize = 60;

pub fn run(cfg: &Status) -> Result<i32> {
    let merged = fetch_merged(cfg)?;
    let v = verdict::judge(&merged);
    if cfg.json {
        let body = serde_json::json!({ "verdict": v, "merged": merged });
        output::print(&format!(
            "{}\n",
            serde_json::to_string_pretty(&body).unwrap_or_default()
        ))?;
    } else {
        output::print(&text(&merged, &v))?;
    }
    Ok(if v.healthy() { 0 } else { EXIT_FAIL })
}

fn fetch_merged(cfg: &Status) -> Result<Merged> {
    let from = if cfg.from.contains("://") {
        cfg.from.clone()
    } else {
        format!("http://{}", cfg.from)
    };
    let url = url::Url::parse(&from).map_err(|e| {
        Error::usage(format!("invalid --from '{}' ({e})", cfg.from)).hint("http://AGENT:9797")
    })?;
    if url.scheme() != "http" {
        return Err(Error::usage(format!(
            "--from {}: agents serve plain http",
            cfg.from
        )));
    }
    let host = url
        .host_str()
        .unwrap_or("")
        .trim_matches(['[', ']'])
        .to_string();
    let port = url.port().unwrap_or(DEFAULT_PORT);
    let deadline = Instant::now() + cfg.timeout;
    let ip: IpAddr = match host.parse() {
        Ok(ip) => ip,
        Err(_) => {
            let mut r = dns::system();
            r.deadline = Some(deadline);
            let res = r.lookup_ip(&host, Family::Any);
            let addrs = res
                .result
                .map(|l| l.addrs)
                .map_err(|e| Error::new(EXIT_FAIL, format!("{host}: {}", e.gai_message())))?;
            *addrs
                .first()
                .ok_or_else(|| Error::new(EXIT_FAIL, format!("{host}: no address")))?
        }
    };
    let addr = SocketAddr::new(ip, port);
    let host_header = match url.port() {
        Some(p) => format!("{}:{p}", url.host_str().unwrap_or("")),
        None => url.host_str().unwrap_or("").to_string(),
    };
    let left = deadline.saturating_duration_since(Instant::now());
    fetch::json::<Merged>(addr, &host_header, "/matrix.json?all=1", left, fetch::MERGED_LIMIT).map_err(|e| {
        Error::new(EXIT_FAIL, format!("cannot read {}'s merged view: {e}", crate::probe::show_addr(&addr)))
            .hint("is a mesh agent listening there? kubectl -n debugbox get pods -l app=debugbox-mesh -o wide")
    })
}

pub fn text(m: &Merged, v: &Verdict) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "mesh of {} nodes seen from {}: {} views, {} links checked, {} bad",
        v.nodes,
        m.from,
        v.views,
        v.links_checked,
        v.bad.len()
    );
    grid(&mut out, m);
    if !v.bad.is_empty() {
        let _ = writeln!(out, "\nbad links ({}):", v.bad.len());
        for b in &v.bad {
            let _ = writeln!(out, "  {}", b.text());
        }
    }
    if !m.missing.is_empty() {
        let _ = writeln!(out, "\nviews not fetched ({}):", m.missing.len());
        for x in &m.missing {
            let _ = writeln!(out, "  {}: {}", x.address, x.error);
        }
    }
    let _ = writeln!(out, "\nverdict:");
    if v.healthy() {
        let _ = writeln!(
            out,
            "  all {} nodes reach each other ({} links checked)",
            v.nodes, v.links_checked
        );
    }
    for f in &v.findings {
        let _ = writeln!(out, "  {}: {}", f.factor, f.message);
        for e in &f.evidence {
            let _ = writeln!(out, "    {e}");
        }
    }
    out
}

fn grid(out: &mut String, m: &Merged) {
    let all = verdict::nodes(m);
    if all.len() > GRID_UP_TO || all.is_empty() {
        return;
    }
    let views: BTreeMap<IpAddr, &super::model::View> =
        m.views.iter().map(|v| (v.address, v)).collect();
    let width = all
        .iter()
        .map(|n| n.name.chars().count())
        .max()
        .unwrap_or(0)
        .min(24);
    let _ = writeln!(
        out,
        "\nrow probes column: . ok  X failing  m large packets lost  - not probed yet  ? no view"
    );
    let _ = write!(out, "{:>w$}", "", w = width + 5);
    for i in 1..=all.len() {
        let _ = write!(out, "{:>3}", i);
    }
    out.push('\n');
    for (i, row) in all.iter().enumerate() {
        let name: String = row.name.chars().take(width).collect();
        let _ = write!(out, "{:>3} {:<w$} ", i + 1, name, w = width);
        for col in &all {
            let mark = match cell(views.get(&row.address).copied(), row.address, col.address).0 {
                "self" => "\\",
                "ok" => ".",
                "bad" => "X",
                "mtu" => "m",
                "noview" => "?",
                _ => "-",
            };
            let _ = write!(out, "{:>3}", mark);
        }
        out.push('\n');
    }
}
