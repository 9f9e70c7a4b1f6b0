//! `nslookup`: bind 9.18's non-interactive nslookup (same options, same output, same exit codes),
//! asking the DNS server only, through the pod's search list and ndots — plus `--explain`, which
//! shows the walk a glibc program (ping, curl) makes for the same name and what it means.

use crate::dns::present::{self, Explain, ResponseView};
use crate::dns::resolver::{Asked, Backoff, Policy, QueryOpts, Resolver, Transport, check_name};
use crate::dns::{self, Family};
use crate::error::{Error, Result};
use crate::output;
use clap::{Arg, ArgAction, Command};
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use std::ffi::OsString;
use std::fmt::Write;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::time::Duration;

pub fn command() -> Command {
    Command::new("nslookup")
        .about(
            "query the DNS server like bind's nslookup; --explain shows the pod's search-list walk",
        )
        .override_usage("nslookup [-option...] NAME [SERVER]")
        .disable_help_flag(true)
        .arg(
            Arg::new("type")
                .long("type")
                .value_name("TYPE")
                .help("-type=TYPE (also -query=): A AAAA SRV PTR CNAME TXT MX NS SOA ANY"),
        )
        .arg(
            Arg::new("port")
                .long("port")
                .value_name("PORT")
                .help("-port=PORT"),
        )
        .arg(
            Arg::new("timeout")
                .long("timeout")
                .value_name("SECONDS")
                .help("-timeout=SECONDS per try"),
        )
        .arg(
            Arg::new("retry")
                .long("retry")
                .value_name("N")
                .help("-retry=N tries"),
        )
        .arg(
            Arg::new("debug")
                .long("debug")
                .action(ArgAction::SetTrue)
                .help("-debug: print the whole messages"),
        )
        .arg(
            Arg::new("vc")
                .long("vc")
                .action(ArgAction::SetTrue)
                .help("-vc: use TCP"),
        )
        .arg(
            Arg::new("nosearch")
                .long("nosearch")
                .action(ArgAction::SetTrue)
                .help("-nosearch: no search list"),
        )
        .arg(
            Arg::new("explain")
                .long("explain")
                .action(ArgAction::SetTrue)
                .help("show the search-list walk a glibc program makes, and findings"),
        )
        .arg(
            Arg::new("json")
                .short('j')
                .long("json")
                .action(ArgAction::SetTrue)
                .help("JSON output"),
        )
        .arg(Arg::new("name").help("name or address to look up"))
        .arg(Arg::new("server").help("server to ask (default: resolv.conf)"))
}

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub name: String,
    pub server: Option<String>,
    /// None: the default lookups (A, then AAAA).
    pub qtype: Option<RecordType>,
    pub port: u16,
    pub timeout: Option<u64>,
    pub tries: Option<u32>,
    pub debug: bool,
    pub vc: bool,
    pub search: bool,
    pub recurse: bool,
    pub ndots: Option<u32>,
    pub explain: bool,
    pub json: bool,
    /// Lines bind prints for options it did not understand (`unknown query type: X`).
    pub warnings: Vec<String>,
}

fn opt_value<'a>(opt: &'a str, keys: &[&str]) -> Option<&'a str> {
    let lower = opt.to_ascii_lowercase();
    for k in keys {
        if lower.starts_with(k) {
            return Some(&opt[k.len()..]);
        }
    }
    None
}

pub fn parse(args: &[String]) -> std::result::Result<Config, Error> {
    let mut c = Config {
        name: String::new(),
        server: None,
        qtype: None,
        port: 53,
        timeout: None,
        tries: None,
        debug: false,
        vc: false,
        search: true,
        recurse: true,
        ndots: None,
        explain: false,
        json: false,
        warnings: Vec::new(),
    };
    let mut positional = Vec::new();
    for a in args {
        match a.as_str() {
            "--explain" => c.explain = true,
            "-j" | "--json" => c.json = true,
            "-h" | "--help" => return Err(Error::usage("usage")),
            s if s.starts_with('-') && s.len() > 1 => {
                let opt = &s[1..];
                if let Some(v) =
                    opt_value(opt, &["querytype=", "query=", "type=", "qu=", "ty=", "q="])
                {
                    match RecordType::from_str(&v.to_ascii_uppercase()) {
                        Ok(t) => c.qtype = Some(t),
                        Err(_) => c.warnings.push(format!("unknown query type: {v}")),
                    }
                } else if let Some(v) = opt_value(opt, &["class=", "cl="]) {
                    if !v.eq_ignore_ascii_case("IN") {
                        c.warnings.push(format!("unknown query class: {v}"));
                    }
                } else if let Some(v) = opt_value(opt, &["port=", "po="]) {
                    c.port = v
                        .parse()
                        .map_err(|_| Error::new(1, format!("invalid port '{v}'")))?;
                } else if let Some(v) = opt_value(opt, &["timeout=", "ti="]) {
                    // bind warns and keeps its default for a bad number.
                    match present::bind_uint(v, u32::MAX) {
                        Ok(n) => c.timeout = Some(n as u64),
                        Err(why) => c.warnings.push(format!("invalid timeout '{v}': {why}")),
                    }
                } else if let Some(v) = opt_value(opt, &["retry=", "ret="]) {
                    match present::bind_uint(v, u32::MAX) {
                        Ok(n) => c.tries = Some(n.max(1)),
                        Err(why) => c.warnings.push(format!("invalid tries '{v}': {why}")),
                    }
                } else if let Some(v) = opt_value(opt, &["ndots="]) {
                    c.ndots = Some(
                        v.parse()
                            .map_err(|_| Error::new(1, format!("invalid ndots '{v}'")))?,
                    );
                } else {
                    match opt.to_ascii_lowercase().as_str() {
                        "debug" | "d2" | "deb" => c.debug = true,
                        "nodebug" | "nod2" | "nodeb" => c.debug = false,
                        "vc" => c.vc = true,
                        "novc" => c.vc = false,
                        "search" | "sea" => c.search = true,
                        "nosearch" | "nosea" => c.search = false,
                        "recurse" | "rec" => c.recurse = true,
                        "norecurse" | "norec" => c.recurse = false,
                        "fail" | "nofail" | "defname" | "nodefname" | "sil" | "silent" => {}
                        "version" => {
                            return Err(Error::verbatim(
                                0,
                                format!("nslookup from debugbox {}", env!("CARGO_PKG_VERSION")),
                            ));
                        }
                        other => c.warnings.push(format!("*** Invalid option: {other}")),
                    }
                }
            }
            _ => positional.push(a.clone()),
        }
    }
    match positional.len() {
        0 => {
            return Err(
                Error::usage("give a name to look up: interactive mode is not available")
                    .hint("nslookup NAME [SERVER]"),
            );
        }
        n => {
            c.name = positional[0].clone();
            if n > 1 {
                c.server = Some(positional[1].clone());
            }
        }
    }
    Ok(c)
}

pub fn run(args: &[OsString]) -> Result<i32> {
    let args: Vec<String> = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let cfg = match parse(&args) {
        Ok(c) => c,
        Err(e) if e.message == "usage" => {
            output::print(&command().render_help().to_string())?;
            return Ok(0);
        }
        Err(e) if e.verbatim && e.code == 0 => {
            output::print(&format!("{}\n", e.message))?;
            return Ok(0);
        }
        Err(e) => return Err(e),
    };
    let mut resolver = dns::system();
    let (text, code) = lookup(&cfg, &mut resolver)?;
    output::print(&text)?;
    Ok(code)
}

/// Run the lookups and return what nslookup prints and its exit code.
pub fn lookup<T: Transport>(cfg: &Config, resolver: &mut Resolver<T>) -> Result<(String, i32)> {
    let mut out = String::new();
    for w in &cfg.warnings {
        let _ = writeln!(out, "{w}");
    }
    if let Some(n) = cfg.ndots {
        resolver.conf.ndots = n;
    }
    // The server: resolv.conf's, or the one named (an address, or a name resolved as usual).
    let (servers, server_label) = match &cfg.server {
        None => {
            let list: Vec<SocketAddr> = resolver
                .conf
                .servers()
                .into_iter()
                .map(|s| SocketAddr::new(s.ip(), cfg.port))
                .collect();
            (list, None)
        }
        Some(s) => {
            let ip = match s.parse::<IpAddr>() {
                Ok(ip) => ip,
                Err(_) => match resolver.lookup_ip(s, Family::Any).result {
                    Ok(l) => l.addrs[0],
                    Err(_) => {
                        return Err(Error::verbatim(
                            1,
                            format!("nslookup: couldn't get address for '{s}': not found"),
                        ));
                    }
                },
            };
            (vec![SocketAddr::new(ip, cfg.port)], Some(s.clone()))
        }
    };
    let opts = QueryOpts {
        servers: servers.clone(),
        backoff: Backoff::Fixed(Duration::from_secs(
            cfg.timeout
                .unwrap_or(resolver.conf.timeout.as_secs())
                .max(1),
        )),
        attempts: cfg.tries.unwrap_or(3),
        tcp: cfg.vc,
        recursion_desired: cfg.recurse,
        edns: None,
        tcp_on_truncation: true,
    };

    // A reverse look-up for an address, as bind does when no other type was asked for.
    let reverse = cfg
        .name
        .parse::<IpAddr>()
        .ok()
        .filter(|_| matches!(cfg.qtype, None | Some(RecordType::PTR)));
    let default_lookups = cfg.qtype.is_none();
    let qtype = if reverse.is_some() {
        RecordType::PTR
    } else {
        cfg.qtype.unwrap_or(RecordType::A)
    };
    let name = match reverse {
        Some(ip) => crate::dns::name::text(&Name::from(ip)),
        None => cfg.name.clone(),
    };
    if let Err(why) = check_name(&name) {
        let reason = crate::dns::present::bind_reason(&why);
        // bind: a name too long to encode is "not a legal name" (exit 10); a bad label is a
        // syntax error (exit 1).
        if reason == "ran out of space" {
            return Err(Error::verbatim(
                10,
                format!("nslookup: '{}' is not a legal name ({reason})", cfg.name),
            ));
        }
        return Err(Error::verbatim(
            1,
            format!(
                "nslookup: '{}' is not in legal name syntax ({reason})",
                cfg.name
            ),
        ));
    }

    let walk = if reverse.is_some() || !cfg.search {
        let mut q = crate::dns::name::parse(&name).map_err(|e| {
            Error::verbatim(
                1,
                format!(
                    "nslookup: '{name}' is not in legal name syntax ({})",
                    crate::dns::present::bind_reason(&e)
                ),
            )
        })?;
        q.set_fqdn(true);
        let asked = resolver.query(&q, qtype, &opts);
        vec![asked]
    } else {
        let w = resolver.search(&name, &[qtype], &opts, Policy::Bind);
        match w.hit {
            Some(h) => h.asked,
            None => w.last,
        }
    };
    let mut responses = Vec::new();
    let mut failed = false;
    let mut a_noanswer = false;
    let show_server = |out: &mut String, asked: &Asked| {
        let srv = asked.answer().map(|(x, _)| x.server).unwrap_or(servers[0]);
        // bind says so before anything else when the server failed the query.
        if let Some((x, a)) = asked.answer()
            && a.message.metadata.response_code == hickory_proto::op::ResponseCode::ServFail
        {
            out.insert_str(
                0,
                &format!(";; Got SERVFAIL reply from {}\n", x.server.ip()),
            );
        }
        let label = server_label.clone().unwrap_or_else(|| srv.ip().to_string());
        let _ = write!(
            out,
            "Server:\t\t{label}\nAddress:\t{}#{}\n\n",
            srv.ip(),
            srv.port()
        );
    };
    let mut queue: Vec<Asked> = walk;
    let mut first = true;
    while let Some(asked) = (!queue.is_empty()).then(|| queue.remove(0)) {
        responses.push(ResponseView::from_asked(&asked));
        out.push_str(&present::exchange_lines(&asked));
        let Some((_, answer)) = asked.answer() else {
            let _ = writeln!(out, ";; no servers could be reached");
            out.push('\n');
            return finish(cfg, resolver, out, responses, 1);
        };
        let m = &answer.message;
        let is_a = asked.qtype == RecordType::A;
        if !default_lookups || (is_a && first) {
            show_server(&mut out, &asked);
        }
        first = false;
        if cfg.debug {
            out.push_str("------------\n");
            out.push_str(&detail(m));
            out.push_str("------------\n");
        }
        let rc = m.metadata.response_code;
        if rc != ResponseCode::NoError {
            let _ = writeln!(
                out,
                "** server can't find {}: {}",
                present::bare(&asked.name),
                present::rcode_name(rc)
            );
            failed = true;
            continue;
        }
        if default_lookups && is_a {
            // Then AAAA for the name the CNAME chain ends at, without the search list.
            let target = chase_cname(m, &asked.name);
            if let Ok(mut q) = crate::dns::name::parse(&target) {
                q.set_fqdn(true);
                queue.push(resolver.query(&q, RecordType::AAAA, &opts));
            }
        }
        let aa = m.metadata.authoritative;
        if !aa && (!default_lookups || is_a) {
            out.push_str("Non-authoritative answer:\n");
        }
        if !m.answers.is_empty() {
            out.push_str(&present::nslookup_section(&m.answers, true));
        } else if default_lookups && is_a {
            a_noanswer = true;
        } else if !default_lookups || (asked.qtype == RecordType::AAAA && a_noanswer) {
            let shown = if default_lookups {
                present::bare(&asked.name).to_string()
            } else {
                cfg.name.clone()
            };
            let _ = writeln!(out, "*** Can't find {shown}: No answer");
        }
        if !aa && asked.qtype != RecordType::A && asked.qtype != RecordType::AAAA {
            out.push_str("\nAuthoritative answers can be found from:\n");
            out.push_str(&present::nslookup_section(&m.authorities, false));
            out.push_str(&present::nslookup_section(&m.additionals, false));
        }
    }
    out.push('\n');
    finish(cfg, resolver, out, responses, i32::from(failed))
}

fn finish<T: Transport>(
    cfg: &Config,
    resolver: &mut Resolver<T>,
    mut out: String,
    responses: Vec<ResponseView>,
    code: i32,
) -> Result<(String, i32)> {
    let explain = cfg.explain.then(|| explain(cfg, resolver));
    if cfg.json {
        let v = serde_json::json!({ "responses": responses, "explain": explain });
        return Ok((output::json_line(&v), code));
    }
    if let Some(e) = explain {
        out.push_str(&e.render(""));
    }
    Ok((out, code))
}

/// The glibc walk for the same name (what ping and curl do), with findings.
pub fn explain<T: Transport>(cfg: &Config, resolver: &mut Resolver<T>) -> Explain {
    // The same server, timeout and tries the user asked nslookup for.
    if let Some(s) = &cfg.server
        && let Ok(ip) = s.parse::<IpAddr>()
    {
        resolver.conf.nameservers = vec![SocketAddr::new(ip, cfg.port)];
    }
    if let Some(t) = cfg.timeout {
        resolver.conf.timeout = Duration::from_secs(t.max(1));
    }
    if let Some(n) = cfg.tries {
        resolver.conf.attempts = n;
    }
    match cfg.qtype {
        None | Some(RecordType::A) | Some(RecordType::AAAA) => {
            let family = match cfg.qtype {
                Some(RecordType::A) => Family::V4,
                Some(RecordType::AAAA) => Family::V6,
                _ => Family::Any,
            };
            let r = resolver.lookup_ip(&cfg.name, family);
            Explain::new(
                &cfg.name,
                &resolver.conf,
                &r.result,
                &r.trace,
                &r.candidates,
            )
        }
        Some(t) => {
            let opts = QueryOpts::from_conf(&resolver.conf);
            let w = resolver.search(&cfg.name, &[t], &opts, Policy::Glibc);
            let result = match &w.hit {
                Some(h) => Ok(dns::resolver::Lookup {
                    canonical: h.candidate.trim_end_matches('.').to_string(),
                    addrs: Vec::new(),
                    from_hosts: false,
                    literal: false,
                }),
                None => Err(w.error.clone().unwrap_or(dns::LookupError::NotFound)),
            };
            let mut e = Explain::new(&cfg.name, &resolver.conf, &result, &w.trace, &w.candidates);
            if let Some(h) = &w.hit {
                e.answer = Some(
                    h.asked
                        .iter()
                        .filter_map(|a| a.answer())
                        .flat_map(|(_, a)| {
                            a.message
                                .answers
                                .iter()
                                .map(|r| present::rdata_text(&r.data))
                        })
                        .collect(),
                );
            }
            e
        }
    }
}

/// Follow CNAMEs in the answer from `name` to the name that holds the data.
fn chase_cname(m: &Message, name: &str) -> String {
    let mut current = name.to_string();
    for _ in 0..m.answers.len() {
        let next = m.answers.iter().find_map(|r| match &r.data {
            RData::CNAME(c) if crate::dns::name::text(&r.name).eq_ignore_ascii_case(&current) => {
                Some(crate::dns::name::text(&c.0))
            }
            _ => None,
        });
        match next {
            Some(n) => current = n,
            None => break,
        }
    }
    current
}

/// nslookup -debug: the sections of a message, one record per block (detailsection).
fn detail(m: &Message) -> String {
    let mut out = String::new();
    out.push_str("    QUESTIONS:\n");
    for q in &m.queries {
        let _ = writeln!(
            out,
            "\t{}, type = {}, class = {}",
            present::bare(&crate::dns::name::text(q.name())),
            q.query_type(),
            present::class_name(q.query_class())
        );
    }
    let section = |title: &str, recs: &[Record], out: &mut String| {
        let _ = writeln!(out, "    {title}:");
        for r in recs {
            let _ = writeln!(
                out,
                "    ->  {}",
                present::bare(&crate::dns::name::text(&r.name))
            );
            match &r.data {
                RData::SOA(_) => {
                    let text = present::nslookup_section(std::slice::from_ref(r), false);
                    for line in text.lines().skip(1) {
                        let _ = writeln!(out, "{line}");
                    }
                }
                _ => {
                    let _ = writeln!(
                        out,
                        "\t{}{}",
                        present::nslookup_word(r.record_type(), false),
                        present::rdata_text(&r.data)
                    );
                }
            }
            let _ = writeln!(out, "\tttl = {}", r.ttl);
        }
    };
    section("ANSWERS", &m.answers, &mut out);
    section("AUTHORITY RECORDS", &m.authorities, &mut out);
    section("ADDITIONAL RECORDS", &m.additionals, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::hosts::Hosts;
    use crate::dns::resolver::tests::{Canned, kube_conf};

    fn cfg(args: &str) -> Config {
        parse(
            &args
                .split_whitespace()
                .map(String::from)
                .collect::<Vec<_>>(),
        )
        .unwrap()
    }

    fn run_canned(args: &str, zone: &[(&str, ResponseCode, &[&str], &[&str])]) -> (String, i32) {
        let mut c = Canned::default();
        for (n, rc, v4, v6) in zone {
            c.zone.insert(
                n.to_string(),
                (
                    *rc,
                    v4.iter().map(|s| s.parse().unwrap()).collect(),
                    v6.iter().map(|s| s.parse().unwrap()).collect(),
                ),
            );
        }
        let mut r = Resolver::new(kube_conf(), Hosts::default(), c);
        lookup(&cfg(args), &mut r).unwrap()
    }

    #[test]
    fn options_like_bind() {
        let c = cfg("-type=aaaa -port=5353 -timeout=1 -retry=2 -debug -vc web 10.0.0.1");
        assert_eq!(c.qtype, Some(RecordType::AAAA));
        assert_eq!((c.port, c.timeout, c.tries), (5353, Some(1), Some(2)));
        assert!(c.debug && c.vc);
        assert_eq!(c.server.as_deref(), Some("10.0.0.1"));
        assert_eq!(cfg("-query=SRV x").qtype, Some(RecordType::SRV));
        assert_eq!(cfg("-q=mx x").qtype, Some(RecordType::MX));
        assert_eq!(cfg("-type=FOO x").warnings, vec!["unknown query type: FOO"]);
        assert!(parse(&[]).is_err());
    }

    #[test]
    fn short_name_through_the_search_list() {
        let (text, code) = run_canned(
            "web",
            &[(
                "web.default.svc.cluster.local.",
                ResponseCode::NoError,
                &["10.96.0.100"],
                &["fd00:10:96::100"],
            )],
        );
        assert_eq!(code, 0);
        assert_eq!(
            text,
            "Server:\t\t10.96.0.10\nAddress:\t10.96.0.10#53\n\nNon-authoritative answer:\nName:\tweb.default.svc.cluster.local\nAddress: 10.96.0.100\nName:\tweb.default.svc.cluster.local\nAddress: fd00:10:96::100\n\n"
        );
    }

    #[test]
    fn nxdomain_names_the_last_candidate() {
        let (text, code) = run_canned("nosuch", &[]);
        assert_eq!(code, 1);
        assert!(
            text.ends_with("** server can't find nosuch: NXDOMAIN\n\n"),
            "{text}"
        );
    }

    #[test]
    fn dead_server() {
        let c = Canned {
            dead: true,
            ..Default::default()
        };
        let mut r = Resolver::new(kube_conf(), Hosts::default(), c);
        let (text, code) = lookup(&cfg("-timeout=1 -retry=1 web"), &mut r).unwrap();
        assert_eq!(code, 1);
        assert_eq!(
            text,
            ";; communications error to 10.96.0.10#53: timed out\n;; no servers could be reached\n\n"
        );
    }

    #[test]
    fn bad_names_are_bind_errors() {
        let mut r = Resolver::new(kube_conf(), Hosts::default(), Canned::default());
        let e = lookup(&cfg("a..b"), &mut r).unwrap_err();
        assert_eq!(
            e.line("nslookup"),
            "nslookup: 'a..b' is not in legal name syntax (empty label)"
        );
        assert_eq!(e.code, 1);
        let long = "a".repeat(64);
        let e = lookup(&cfg(&long), &mut r).unwrap_err();
        assert!(e.message.ends_with("(label too long)"), "{}", e.message);
        assert!(r.transport.asked.is_empty());
    }

    #[test]
    fn explain_names_the_search_domain() {
        let (text, _) = run_canned(
            "--explain web.default",
            &[(
                "web.default.svc.cluster.local.",
                ResponseCode::NoError,
                &["10.96.0.100"],
                &[],
            )],
        );
        assert!(
            text.contains("web.default.default.svc.cluster.local."),
            "{text}"
        );
        assert!(text.contains("<- answer"), "{text}");
        assert!(
            text.contains(
                "resolved through search domain `svc.cluster.local` after 1 NXDOMAIN candidate"
            ),
            "{text}"
        );
        assert!(
            text.contains("read as Service `web` in namespace `default`"),
            "{text}"
        );
    }

    #[test]
    fn explain_counts_wasted_queries_for_external_names() {
        let (text, _) = run_canned(
            "--explain api.example.com",
            &[(
                "api.example.com.",
                ResponseCode::NoError,
                &["172.18.0.241"],
                &[],
            )],
        );
        assert!(
            text.contains("has 2 dots < ndots:5: 3 search-list candidates went to NXDOMAIN"),
            "{text}"
        );
        assert!(text.contains("`api.example.com.`"), "{text}");
    }
}
