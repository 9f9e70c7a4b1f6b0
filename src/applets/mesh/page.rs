//! `/`: one HTML page, no scripts and no external assets (it works offline, behind a
//! port-forward): the verdict, the bad links with their evidence, then the node x node matrix
//! coloured by state. Everything from peers is escaped. It reloads itself every 10 seconds.

use super::model::Merged;
use super::verdict::{Verdict, nodes};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::net::IpAddr;

/// Above this many nodes the matrix is left out (the bad links and the verdict stay).
pub const MATRIX_UP_TO: usize = 100;

pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font:14px system-ui,sans-serif;margin:1.5em;color:#222}\
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}\
#matrix td{width:1.4em;height:1.4em;padding:0;text-align:center}\
#matrix th{font-weight:normal;font-size:12px}\
.ok{background:#4caf50}.bad{background:#e53935}.mtu{background:#fb8c00}.unprobed{background:#eee}\
.self{background:#555}.noview{background:#bbb}.finding{margin:.4em 0}.healthy{color:#2e7d32}\
.legend span{display:inline-block;width:1em;height:1em;margin:0 .3em 0 1em;vertical-align:middle}";

pub fn render(m: &Merged, v: &Verdict) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!doctype html><html><head><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"10\"><title>debugbox mesh: {} nodes, {} bad links</title><style>{STYLE}</style></head><body>",
        v.nodes,
        v.bad.len()
    );
    let _ = write!(
        h,
        "<h1>debugbox mesh</h1><p id=\"summary\">{} nodes, {} views, {} links checked, {} bad; seen from {}</p>",
        v.nodes,
        v.views,
        v.links_checked,
        v.bad.len(),
        esc(&m.from)
    );
    findings(&mut h, v);
    bad_links(&mut h, v);
    matrix(&mut h, m);
    h.push_str("</body></html>\n");
    h
}

fn findings(h: &mut String, v: &Verdict) {
    h.push_str("<section id=\"verdict\"><h2>Verdict</h2>");
    if v.healthy() {
        let _ = write!(
            h,
            "<p class=\"healthy\">all {} nodes reach each other ({} links checked)</p>",
            v.nodes, v.links_checked
        );
    }
    h.push_str("<ul>");
    for f in &v.findings {
        let _ = write!(
            h,
            "<li class=\"finding\" data-factor=\"{}\" data-subject=\"{}\">{}<ul>",
            f.factor,
            esc(&f.subject),
            esc(&f.message)
        );
        for e in &f.evidence {
            let _ = write!(h, "<li>{}</li>", esc(e));
        }
        h.push_str("</ul></li>");
    }
    h.push_str("</ul></section>");
}

fn bad_links(h: &mut String, v: &Verdict) {
    let _ = write!(
        h,
        "<section id=\"bad\"><h2>Bad links ({})</h2><table id=\"bad-links\"><tr><th>from</th><th>to</th><th>reason</th><th>evidence</th><th>failing probes in a row</th></tr>",
        v.bad.len()
    );
    for b in &v.bad {
        let _ = write!(
            h,
            "<tr class=\"{}\" data-from=\"{}\" data-to=\"{}\"><td>{}</td><td>{} {}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            if b.reason == "mtu" { "mtu" } else { "bad" },
            esc(&b.from),
            esc(&b.to),
            esc(&b.from),
            esc(&b.to),
            b.to_address,
            esc(&b.reason),
            esc(&b.evidence),
            b.failing_for
        );
    }
    h.push_str("</table></section>");
}

fn matrix(h: &mut String, m: &Merged) {
    let all = nodes(m);
    if all.len() > MATRIX_UP_TO {
        let _ = write!(
            h,
            "<p>{} nodes: the matrix is shown up to {MATRIX_UP_TO}; the bad links above are complete.</p>",
            all.len()
        );
        return;
    }
    let views: BTreeMap<IpAddr, &super::model::View> =
        m.views.iter().map(|v| (v.address, v)).collect();
    h.push_str("<section><h2>Matrix</h2><p>row probes column</p><table id=\"matrix\"><tr><th>from \\ to</th>");
    for n in &all {
        let _ = write!(h, "<th title=\"{}\">{}</th>", n.address, esc(&n.name));
    }
    h.push_str("</tr>");
    for row in &all {
        let _ = write!(
            h,
            "<tr data-node=\"{}\"><th title=\"{}\">{}</th>",
            esc(&row.name),
            row.address,
            esc(&row.name)
        );
        let view = views.get(&row.address);
        for col in &all {
            let (class, title) = cell(view.copied(), row.address, col.address);
            let _ = write!(
                h,
                "<td class=\"{class}\" title=\"{} -&gt; {}: {}\"></td>",
                esc(&row.name),
                esc(&col.name),
                esc(&title)
            );
        }
        h.push_str("</tr>");
    }
    h.push_str("</table><p class=\"legend\"><span class=\"ok\"></span>ok<span class=\"bad\"></span>failing<span class=\"mtu\"></span>large packets lost<span class=\"unprobed\"></span>not probed yet<span class=\"noview\"></span>no view from this node</p></section>");
}

/// A cell's class and tooltip.
pub fn cell(view: Option<&super::model::View>, from: IpAddr, to: IpAddr) -> (&'static str, String) {
    if from == to {
        return ("self", "itself".into());
    }
    let Some(v) = view else {
        return ("noview", "its view could not be fetched".into());
    };
    match v.links.iter().find(|l| l.to == to) {
        None => ("unprobed", "not a known peer".into()),
        Some(l) if l.probes == 0 => ("unprobed", "not probed yet".into()),
        Some(l) if l.ok() => ("ok", l.checks.words()),
        Some(l) if l.reason == "mtu" => ("mtu", l.checks.words()),
        Some(l) => ("bad", format!("{}: {}", l.reason, l.checks.words())),
    }
}
