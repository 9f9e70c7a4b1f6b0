//! `dig`: bind 9.18's dig for the common forms (`@server`, name, type, `-x`, `-p`, `-4/-6`,
//! `+short`, `+search`, `+tcp`, `+timeout`, `+tries`, section toggles, `-f` batches), with dig's
//! layout and exit codes (9 when no server answered), and `+explain` / `--explain`.

use crate::dns::present::{self, Explain, ResponseView};
use crate::dns::resolver::{
    Asked, Backoff, Policy, Proto, QueryOpts, Resolver, Transport, check_name,
};
use crate::dns::{self, Family};
use crate::error::{Error, Result};
use crate::output;
use clap::{Arg, ArgAction, Command};
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::rdata::opt::EdnsOption;
use hickory_proto::rr::{Name, RecordType};
use std::ffi::OsString;
use std::fmt::Write;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::time::{Duration, SystemTime};

pub fn command() -> Command {
    Command::new("dig")
        .about("DNS lookup like bind's dig; +explain shows the pod's search-list walk")
        .override_usage("dig [@SERVER] [NAME] [TYPE] [-x ADDR] [-p PORT] [-4|-6] [-f FILE] [+short] [+search] [+tcp] [+timeout=N] [+tries=N]")
        .disable_help_flag(true)
        .arg(Arg::new("reverse").short('x').value_name("ADDR").help("reverse look-up"))
        .arg(Arg::new("port").short('p').value_name("PORT").help("server port"))
        .arg(Arg::new("type").short('t').value_name("TYPE").help("query type"))
        .arg(Arg::new("file").short('f').value_name("FILE").help("batch mode: one query per line"))
        .arg(Arg::new("inet").short('4').action(ArgAction::SetTrue).help("IPv4 transport only"))
        .arg(Arg::new("inet6").short('6').action(ArgAction::SetTrue).help("IPv6 transport only"))
        .arg(Arg::new("json").short('j').long("json").action(ArgAction::SetTrue).help("JSON output"))
        .arg(Arg::new("explain").long("explain").action(ArgAction::SetTrue).help("show the search-list walk a glibc program makes"))
        .arg(Arg::new("args").num_args(0..).trailing_var_arg(true).allow_hyphen_values(true).help("[@SERVER] NAME [TYPE] [+OPTIONS]"))
}

const USAGE: &str = "Usage:  dig [@global-server] [domain] [q-type] [q-class] {q-opt}
            {global-d-opt} host [@local-server] {local-d-opt}
            [ host [@local-server] {local-d-opt} [...]]

Use \"dig -h\" (or \"dig -h | more\") for complete list of options
";

/// `dig -h`: bind's layout, with the options debugbox's dig takes.
const HELP: &str = "Usage:  dig [@global-server] [domain] [q-type] [q-class] {q-opt}
            {global-d-opt} host [@local-server] {local-d-opt}
            [ host [@local-server] {local-d-opt} [...]]
Where:  domain\t  is in the Domain Name System
        q-class  is one of (in,hs,ch,...) [default: in]
        q-type   is one of (a,any,mx,ns,soa,hinfo,axfr,txt,...) [default:a]
        q-opt    is one of:
                 -4                  (use IPv4 query transport only)
                 -6                  (use IPv6 query transport only)
                 -c class            (specify query class)
                 -f filename         (batch mode)
                 -p port             (specify port number)
                 -q name             (specify query name)
                 -t type             (specify query type)
                 -x dot-notation     (shortcut for reverse lookups)
                 -j, --json          (debugbox: the answers as JSON)
        d-opt    is of the form +keyword[=value], where keyword is:
                 +[no]additional     (Control display of additional section)
                 +[no]all            (Set or clear all display flags)
                 +[no]answer         (Control display of answer section)
                 +[no]authority      (Control display of authority section)
                 +bufsize[=###]      (Set EDNS0 Max UDP packet size)
                 +[no]cmd            (Control display of command line -
                                      global option)
                 +[no]comments       (Control display of packet header
                                      and section name comments)
                 +[no]edns[=###]     (Set EDNS version) [0]
                 +[no]explain        (debugbox: the search walk a glibc
                                      program makes for the name)
                 +[no]ignore         (Don't revert to TCP for TC responses.)
                 +ndots=###          (Set search NDOTS value)
                 +[no]question       (Control display of question section)
                 +[no]recurse        (Recursive mode (+[no]rdflag))
                 +retry=###          (Set number of UDP retries) [2]
                 +[no]search         (Set whether to use searchlist)
                 +[no]short          (Display nothing except short
                                      form of answers - global option)
                 +[no]stats          (Control display of statistics)
                 +[no]tcp            (TCP mode (+[no]vc))
                 +timeout=###        (Set query timeout) [5]
                 +tries=###          (Set number of UDP attempts) [3]
        global d-opts and servers (before host name) affect all queries.
        local d-opts and servers (after host name) affect only that lookup.
        -h                           (print help and exit)
        -v                           (print version and exit)
";

/// The display switches (+[no]cmd, +[no]comments, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Show {
    pub cmd: bool,
    pub comments: bool,
    pub question: bool,
    pub answer: bool,
    pub authority: bool,
    pub additional: bool,
    pub stats: bool,
    pub short: bool,
}

impl Default for Show {
    fn default() -> Self {
        Show {
            cmd: true,
            comments: true,
            question: true,
            answer: true,
            authority: true,
            additional: true,
            stats: true,
            short: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Opts {
    pub show: Show,
    pub search: bool,
    pub tcp: bool,
    pub timeout: Option<u64>,
    pub tries: Option<u32>,
    pub recurse: bool,
    pub edns: Option<u16>,
    pub ignore_tc: bool,
    pub port: u16,
    pub family: Option<Family>,
    pub server: Option<String>,
    pub explain: bool,
    pub json: bool,
    pub ndots: Option<u32>,
}

impl Default for Opts {
    fn default() -> Self {
        Opts {
            show: Show::default(),
            search: false,
            tcp: false,
            timeout: None,
            tries: None,
            recurse: true,
            edns: Some(1232),
            ignore_tc: false,
            port: 53,
            family: None,
            server: None,
            explain: false,
            json: false,
            ndots: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub name: String,
    pub qtype: RecordType,
    pub reverse: bool,
}

/// A query with the arguments it came from (dig's banner shows a batch line's own words).
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    pub query: Query,
    pub argline: String,
    /// Which batch line it came from (0: the command line): one banner per line.
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub opts: Opts,
    pub queries: Vec<Query>,
    pub batch: Option<String>,
    pub warnings: Vec<String>,
    /// The arguments as given, for dig's banner line.
    pub argline: String,
    /// Queries from a -f batch file, each with its line.
    pub batched: Vec<Planned>,
}

/// A usage error: dig prints its usage and exits 1.
fn usage_error(msg: String) -> Error {
    Error::verbatim(1, format!("{msg}\n{}", USAGE.trim_end()))
}

fn plus_option(o: &mut Opts, opt: &str) -> std::result::Result<(), Error> {
    let (no, body) = match opt.strip_prefix("no") {
        Some(rest) => (true, rest),
        None => (false, opt),
    };
    let (key, value) = match body.split_once('=') {
        Some((k, v)) => (k, Some(v)),
        None => (body, None),
    };
    let on = !no;
    let num = |v: Option<&str>| -> std::result::Result<u64, Error> {
        v.and_then(|v| v.parse().ok())
            .ok_or_else(|| usage_error(format!("Invalid option: +{opt}")))
    };
    // bind's parse_uint with its limits: "invalid timeout 'N': out of range", exit 10.
    let bounded = |v: Option<&str>, max: u32, what: &str| -> std::result::Result<u32, Error> {
        let v = v.unwrap_or("");
        present::bind_uint(v, max).map_err(|why| {
            Error::verbatim(
                10,
                format!("invalid {what} '{v}': {why}\ndig: Couldn't parse {what}"),
            )
        })
    };
    // dig accepts unique prefixes; the common spellings are listed.
    match key {
        "short" => o.show.short = on,
        "search" | "sea" => o.search = on,
        "tcp" | "vc" => o.tcp = on,
        "timeout" | "time" => o.timeout = Some(bounded(value, 0xffff, "timeout")?.max(1) as u64),
        "tries" | "tri" => o.tries = Some(bounded(value, u32::MAX, "tries")?.max(1)),
        "retry" | "ret" => o.tries = Some(bounded(value, u32::MAX, "retries")?.saturating_add(1)),
        "recurse" | "rec" => o.recurse = on,
        "edns" => o.edns = if on { Some(1232) } else { None },
        "bufsize" | "bufs" => o.edns = Some(bounded(value, 65535, "buffer size")? as u16),
        "ignore" => o.ignore_tc = on,
        "ndots" => o.ndots = Some(num(value)? as u32),
        "explain" => o.explain = on,
        "cmd" => o.show.cmd = on,
        "comments" | "comm" => o.show.comments = on,
        "question" | "qu" => o.show.question = on,
        "answer" | "ans" => o.show.answer = on,
        "authority" | "auth" => o.show.authority = on,
        "additional" | "add" => o.show.additional = on,
        "stats" | "st" => o.show.stats = on,
        "all" => {
            let keep = o.show.short;
            o.show = if on {
                Show::default()
            } else {
                Show {
                    cmd: false,
                    comments: false,
                    question: false,
                    answer: false,
                    authority: false,
                    additional: false,
                    stats: false,
                    short: false,
                }
            };
            o.show.short = keep;
        }
        "cookie" | "cl" | "class" | "ttlid" | "ttl" | "multiline" | "nsid" | "identify"
        | "besteffort" | "fail" | "qr" | "aaflag" | "adflag" | "cdflag" => {}
        _ => return Err(usage_error(format!("Invalid option: +{opt}"))),
    }
    Ok(())
}

pub fn parse(args: &[String]) -> std::result::Result<Config, Error> {
    let mut c = Config {
        opts: Opts::default(),
        queries: Vec::new(),
        batch: None,
        warnings: Vec::new(),
        argline: args.join(" "),
        batched: Vec::new(),
    };
    let mut i = 0;
    let mut pending_type: Option<RecordType> = None;
    let mut have_type_for_last = false;
    while i < args.len() {
        let a = args[i].as_str();
        let value = |i: &mut usize| -> std::result::Result<String, Error> {
            *i += 1;
            args.get(*i)
                .cloned()
                .ok_or_else(|| usage_error(format!("Option {a} needs a value")))
        };
        if let Some(s) = a.strip_prefix('@') {
            c.opts.server = Some(s.to_string());
        } else if let Some(o) = a.strip_prefix('+') {
            plus_option(&mut c.opts, o)?;
        } else if a == "--explain" {
            c.opts.explain = true;
        } else if a == "-j" || a == "--json" {
            c.opts.json = true;
        } else if a == "-h" || a == "--help" {
            return Err(Error::verbatim(0, HELP.trim_end().to_string()));
        } else if a == "-v" {
            // bind prints its version on stderr.
            return Err(Error::verbatim(
                0,
                format!(
                    "DiG 9.18-compatible (debugbox {})",
                    env!("CARGO_PKG_VERSION")
                ),
            ));
        } else if a == "-4" {
            c.opts.family = Some(Family::V4);
        } else if a == "-6" {
            c.opts.family = Some(Family::V6);
        } else if a == "-x" {
            let v = value(&mut i)?;
            let ip: IpAddr = v.parse().map_err(|_| {
                Error::verbatim(10, format!("dig: '{v}' is not a valid IP address"))
            })?;
            c.queries.push(Query {
                name: crate::dns::name::text(&Name::from(ip)),
                qtype: RecordType::PTR,
                reverse: true,
            });
            have_type_for_last = false;
        } else if a == "-p" {
            let v = value(&mut i)?;
            c.opts.port = v
                .parse()
                .map_err(|_| usage_error(format!("Invalid port: {v}")))?;
        } else if a == "-t" {
            let v = value(&mut i)?;
            match RecordType::from_str(&v.to_ascii_uppercase()) {
                Ok(t) => pending_type = Some(t),
                Err(_) => c
                    .warnings
                    .push(format!(";; Warning, ignoring invalid type {v}")),
            }
        } else if a == "-q" {
            let v = value(&mut i)?;
            c.queries.push(Query {
                name: v,
                qtype: pending_type.unwrap_or(RecordType::A),
                reverse: false,
            });
            have_type_for_last = pending_type.is_some();
        } else if a == "-c" {
            let v = value(&mut i)?;
            if !v.eq_ignore_ascii_case("IN") {
                c.warnings
                    .push(format!(";; Warning, ignoring invalid class {v}"));
            }
        } else if a == "-f" {
            c.batch = Some(value(&mut i)?);
        } else if a.starts_with('-') && a.len() > 1 {
            return Err(usage_error(format!("Invalid option: {a}")));
        } else if let Ok(t) = RecordType::from_str(&a.to_ascii_uppercase())
            .map_err(|_| ())
            .and_then(|t| {
                // A word that is a type name is a type, unless it is the first word and no name came yet
                // and it looks like a host name (dig's own rule is the same: types win).
                if matches!(t, RecordType::Unknown(_)) {
                    Err(())
                } else {
                    Ok(t)
                }
            })
        {
            match c.queries.last_mut() {
                Some(q) if !q.reverse => {
                    if have_type_for_last {
                        c.warnings.push(";; Warning, extra type option".into());
                    }
                    q.qtype = t;
                    have_type_for_last = true;
                }
                _ => pending_type = Some(t),
            }
        } else if a.eq_ignore_ascii_case("IN") || a.eq_ignore_ascii_case("CH") {
            // class: IN only
        } else {
            c.queries.push(Query {
                name: a.to_string(),
                qtype: pending_type.take().unwrap_or(RecordType::A),
                reverse: false,
            });
            have_type_for_last = false;
        }
        i += 1;
    }
    if c.queries.is_empty() && c.batch.is_none() {
        // dig with no name asks for the root's name servers.
        c.queries.push(Query {
            name: ".".into(),
            qtype: pending_type.unwrap_or(RecordType::NS),
            reverse: false,
        });
    }
    Ok(c)
}

pub fn run(args: &[OsString]) -> Result<i32> {
    let args: Vec<String> = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let mut cfg = match parse(&args) {
        Ok(c) => c,
        Err(e) if e.verbatim && e.code == 0 && e.message.starts_with("DiG ") => {
            eprintln!("{}", e.message);
            return Ok(0);
        }
        Err(e) if e.verbatim && e.code == 0 => {
            output::print(&format!("{}\n", e.message))?;
            return Ok(0);
        }
        // bind writes why a number was refused on stdout, then fails on stderr.
        Err(e) if e.verbatim && e.message.starts_with("invalid ") => {
            let (why, fail) = e.message.split_once('\n').unwrap_or(("", &e.message));
            output::print(&format!("{why}\n"))?;
            return Err(Error::verbatim(e.code, fail));
        }
        Err(e) => return Err(e),
    };
    if let Some(file) = cfg.batch.clone() {
        let bytes = crate::sys::files::read_bounded(std::path::Path::new(&file), 64 << 20)
            .map_err(|e| {
                Error::verbatim(
                    8,
                    format!(
                        "dig: couldn't open batch file '{file}': {}",
                        crate::error::os_text(&e)
                    ),
                )
            })?;
        let text = String::from_utf8_lossy(&bytes);
        for (lineno, line) in text.lines().enumerate() {
            let words: Vec<String> = line.split_whitespace().map(String::from).collect();
            if words.is_empty() || words[0].starts_with(';') || words[0].starts_with('#') {
                continue;
            }
            let sub = parse(&words).map_err(|e| Error::verbatim(e.code, e.message))?;
            // The line's own options add to the command line's.
            for w in &words {
                if let Some(o) = w.strip_prefix('+') {
                    let _ = plus_option(&mut cfg.opts, o);
                }
            }
            let line = words.join(" ");
            cfg.batched.extend(sub.queries.into_iter().map(|q| Planned {
                query: q,
                argline: line.clone(),
                line: lineno + 1,
            }));
        }
    }
    let mut resolver = dns::system();
    let (text, code) = dig(&cfg, &mut resolver, SystemTime::now())?;
    output::print(&text)?;
    Ok(code)
}

fn edns_lines(m: &Message) -> String {
    let Some(e) = &m.edns else {
        return String::new();
    };
    let mut out = String::from(";; OPT PSEUDOSECTION:\n");
    let flags = if e.flags().dnssec_ok { " do" } else { "" };
    let _ = writeln!(
        out,
        "; EDNS: version: {}, flags:{flags}; udp: {}",
        e.version(),
        e.max_payload()
    );
    for (_, opt) in &e.options().options {
        if let EdnsOption::Unknown(15, data) = opt
            && data.len() >= 2
        {
            let code = u16::from_be_bytes([data[0], data[1]]);
            let extra = String::from_utf8_lossy(&data[2..]).to_string();
            let _ = write!(out, "; EDE: {code} ({})", ede_text(code));
            if !extra.is_empty() {
                let _ = write!(out, ": ({extra})");
            }
            out.push('\n');
        }
    }
    out
}

/// RFC 8914 extended error names.
fn ede_text(code: u16) -> &'static str {
    const T: [&str; 25] = [
        "Other",
        "Unsupported DNSKEY Algorithm",
        "Unsupported DS Digest Type",
        "Stale Answer",
        "Forged Answer",
        "DNSSEC Indeterminate",
        "DNSSEC Bogus",
        "Signature Expired",
        "Signature Not Yet Valid",
        "DNSKEY Missing",
        "RRSIGs Missing",
        "No Zone Key Bit Set",
        "NSEC Missing",
        "Cached Error",
        "Not Ready",
        "Blocked",
        "Censored",
        "Filtered",
        "Prohibited",
        "Stale NXDOMAIN Answer",
        "Not Authoritative",
        "Not Supported",
        "No Reachable Authority",
        "Network Error",
        "Invalid Data",
    ];
    T.get(code as usize).copied().unwrap_or("Unknown")
}

/// `Wed Nov 25 18:05:38 UTC 2026`, always in UTC (a scratch image has no zone files).
fn when(t: SystemTime) -> String {
    let c = crate::output::Civil::utc(t);
    let (y, mo, d, h, m, s) = (c.year, c.month, c.day, c.hour, c.minute, c.second);
    const WD: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MO: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = c.days;
    format!(
        "{} {} {:02} {:02}:{:02}:{:02} UTC {}",
        WD[days.rem_euclid(7) as usize],
        MO[(mo - 1) as usize],
        d,
        h,
        m,
        s,
        y
    )
}

/// One query's answer in dig's layout.
fn render(
    asked: &Asked,
    show: &Show,
    server_label: &str,
    now: SystemTime,
    edns_sent: bool,
) -> String {
    let mut out = String::new();
    let Some((x, answer)) = asked.answer() else {
        return out;
    };
    let m = &answer.message;
    if show.short {
        for r in &m.answers {
            let _ = writeln!(out, "{}", present::rdata_text(&r.data));
        }
        return out;
    }
    let h = &m.metadata;
    if show.comments {
        out.push_str(";; Got answer:\n");
        let qname = m
            .queries
            .first()
            .map(|q| crate::dns::name::text(q.name()).to_ascii_lowercase())
            .unwrap_or_default();
        if qname == "local." || qname.ends_with(".local.") {
            out.push_str(";; WARNING: .local is reserved for Multicast DNS\n;; You are currently testing what happens when an mDNS query is leaked to DNS\n");
        }
        let _ = writeln!(
            out,
            ";; ->>HEADER<<- opcode: QUERY, status: {}, id: {}",
            present::rcode_name(h.response_code),
            h.id
        );
        let _ = writeln!(out, "{}\n", present::dig_flags(m));
        // A server that does not do EDNS refuses the query: bind says what to try.
        if edns_sent
            && m.edns.is_none()
            && matches!(
                h.response_code,
                ResponseCode::NotImp | ResponseCode::FormErr
            )
        {
            let _ = writeln!(
                out,
                ";; WARNING: EDNS query returned status {} - retry with '+noedns'\n",
                present::rcode_name(h.response_code)
            );
        }
        out.push_str(&edns_lines(m));
    }
    if show.question {
        if show.comments {
            out.push_str(";; QUESTION SECTION:\n");
        }
        for q in &m.queries {
            let _ = writeln!(
                out,
                "{}",
                present::dig_question(
                    &crate::dns::name::text(q.name()),
                    q.query_type(),
                    q.query_class()
                )
            );
        }
        if show.comments {
            out.push('\n');
        }
    }
    for (on, title, recs) in [
        (show.answer, "ANSWER", &m.answers),
        (show.authority, "AUTHORITY", &m.authorities),
        (show.additional, "ADDITIONAL", &m.additionals),
    ] {
        if !on || recs.is_empty() {
            continue;
        }
        if show.comments {
            let _ = writeln!(out, ";; {title} SECTION:");
        }
        for r in recs.iter() {
            let _ = writeln!(out, "{}", present::dig_record(r));
        }
        if show.comments {
            out.push('\n');
        }
    }
    if show.stats {
        let _ = writeln!(out, ";; Query time: {} msec", x.elapsed.as_millis());
        let _ = writeln!(
            out,
            ";; SERVER: {}#{}({server_label}) ({})",
            x.server.ip(),
            x.server.port(),
            if x.proto == Proto::Tcp { "TCP" } else { "UDP" }
        );
        let _ = writeln!(out, ";; WHEN: {}", when(now));
        let _ = writeln!(out, ";; MSG SIZE  rcvd: {}\n", answer.size);
    }
    out
}

/// Run every query; return what dig prints and its exit code.
pub fn dig<T: Transport>(
    cfg: &Config,
    resolver: &mut Resolver<T>,
    now: SystemTime,
) -> Result<(String, i32)> {
    let o = &cfg.opts;
    let mut out = String::new();
    for w in &cfg.warnings {
        eprintln!("{w}");
    }
    if let Some(n) = o.ndots {
        resolver.conf.ndots = n;
    }
    let (servers, label, found) = match &o.server {
        None => {
            let list: Vec<SocketAddr> = resolver
                .conf
                .servers()
                .into_iter()
                .filter(|s| match o.family {
                    Some(Family::V4) => s.is_ipv4(),
                    Some(Family::V6) => s.is_ipv6(),
                    _ => true,
                })
                .map(|s| SocketAddr::new(s.ip(), o.port))
                .collect();
            (list, None, None)
        }
        Some(s) => {
            let ips: Vec<IpAddr> = match s.parse::<IpAddr>() {
                Ok(ip) => vec![ip],
                Err(_) => match resolver
                    .lookup_ip(s, o.family.unwrap_or(Family::Any))
                    .result
                {
                    Ok(l) => l.addrs,
                    Err(_) => {
                        return Err(Error::verbatim(
                            1,
                            format!("dig: couldn't get address for '{s}': not found"),
                        ));
                    }
                },
            };
            let n = ips.len();
            (
                ips.into_iter()
                    .map(|ip| SocketAddr::new(ip, o.port))
                    .collect(),
                Some(s.clone()),
                Some(n),
            )
        }
    };
    if servers.is_empty() {
        return Err(Error::verbatim(
            10,
            "dig: no usable name servers for the asked address family".to_string(),
        ));
    }
    let qopts = QueryOpts {
        servers: servers.clone(),
        backoff: Backoff::Fixed(Duration::from_secs(o.timeout.unwrap_or(5))),
        attempts: o.tries.unwrap_or(3),
        tcp: o.tcp,
        recursion_desired: o.recurse,
        edns: o.edns,
        tcp_on_truncation: !o.ignore_tc,
    };
    let mut code = 0;
    let mut views = Vec::new();
    let mut explains = Vec::new();
    let mut first = true;
    let from_args = cfg.queries.iter().map(|q| Planned {
        query: q.clone(),
        argline: cfg.argline.clone(),
        line: 0,
    });
    let mut banner_for: Option<usize> = None;
    let planned: Vec<Planned> = from_args.chain(cfg.batched.iter().cloned()).collect();
    for p in &planned {
        let q = &p.query;
        if let Err(why) = check_name(&q.name) {
            return Err(Error::verbatim(
                10,
                format!(
                    "dig: '{}' is not a legal name ({})",
                    q.name,
                    crate::dns::present::bind_reason(&why)
                ),
            ));
        }
        let asked = if o.search && !q.reverse {
            let w = resolver.search(&q.name, &[q.qtype], &qopts, Policy::Bind);
            match w.hit {
                Some(mut h) => h.asked.remove(0),
                None => w.last.into_iter().next().unwrap_or_else(|| Asked {
                    name: q.name.clone(),
                    qtype: q.qtype,
                    exchanges: Vec::new(),
                }),
            }
        } else {
            let mut name = crate::dns::name::parse(&q.name).map_err(|e| {
                Error::verbatim(
                    10,
                    format!(
                        "dig: '{}' is not a legal name ({})",
                        q.name,
                        crate::dns::present::bind_reason(&e)
                    ),
                )
            })?;
            name.set_fqdn(true);
            // dig asks ANY over TCP (answers to ANY are large, and UDP ANY is refused by many).
            let mut qo = qopts.clone();
            qo.tcp |= q.qtype == RecordType::ANY;
            resolver.query(&name, q.qtype, &qo)
        };
        views.push(ResponseView::from_asked(&asked));
        if o.json {
            if o.explain {
                explains.push(explain(q, resolver));
            }
            if asked.answer().is_none() {
                code = 9;
            }
            continue;
        }
        // Errors come out as they happen, before the answer's banner.
        out.push_str(&present::exchange_lines(&asked));
        if o.show.cmd && !o.show.short && banner_for != Some(p.line) {
            banner_for = Some(p.line);
            // Only the first banner has a blank line before it; later answers end with one.
            if first {
                out.push('\n');
            }
            let _ = writeln!(
                out,
                "; <<>> debugbox dig {} <<>> {}",
                env!("CARGO_PKG_VERSION"),
                p.argline
            );
            if let Some(n) = found {
                let _ = writeln!(out, "; ({n} server{} found)", if n == 1 { "" } else { "s" });
            }
            if first {
                out.push_str(";; global options: +cmd\n");
            }
        }
        first = false;
        match asked.answer() {
            Some((x, _)) => {
                let label = label.clone().unwrap_or_else(|| x.server.ip().to_string());
                out.push_str(&render(&asked, &o.show, &label, now, o.edns.is_some()));
            }
            None => {
                let _ = writeln!(out, ";; no servers could be reached");
                code = 9;
            }
        }
        if o.explain {
            out.push_str(&explain(q, resolver).render(";; "));
        }
    }
    if o.json {
        let v = if o.explain {
            serde_json::json!({ "responses": views, "explain": explains })
        } else {
            serde_json::json!({ "responses": views })
        };
        return Ok((output::json_line(&v), code));
    }
    Ok((out, code))
}

fn explain<T: Transport>(q: &Query, resolver: &mut Resolver<T>) -> Explain {
    let family = match q.qtype {
        RecordType::A => Family::V4,
        RecordType::AAAA => Family::V6,
        _ => Family::Any,
    };
    let r = resolver.lookup_ip(&q.name, family);
    Explain::new(&q.name, &resolver.conf, &r.result, &r.trace, &r.candidates)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::hosts::Hosts;
    use crate::dns::resolver::tests::{Canned, kube_conf};
    use hickory_proto::op::ResponseCode;

    fn cfg(args: &str) -> std::result::Result<Config, Error> {
        parse(
            &args
                .split_whitespace()
                .map(String::from)
                .collect::<Vec<_>>(),
        )
    }

    #[test]
    fn arguments_like_dig() {
        let c = cfg("@10.96.0.10 web.default.svc.cluster.local AAAA +short +search +tcp +timeout=2 +tries=1 -p 5353 -4").unwrap();
        assert_eq!(c.opts.server.as_deref(), Some("10.96.0.10"));
        assert_eq!(
            c.queries,
            vec![Query {
                name: "web.default.svc.cluster.local".into(),
                qtype: RecordType::AAAA,
                reverse: false
            }]
        );
        assert!(c.opts.show.short && c.opts.search && c.opts.tcp);
        assert_eq!(
            (c.opts.timeout, c.opts.tries, c.opts.port),
            (Some(2), Some(1), 5353)
        );
        let c = cfg("-x 10.96.0.100").unwrap();
        assert_eq!(c.queries[0].name, "100.0.96.10.in-addr.arpa.");
        assert_eq!(c.queries[0].qtype, RecordType::PTR);
        let c = cfg("SRV _http._tcp.web").unwrap();
        assert_eq!(c.queries[0].qtype, RecordType::SRV);
        let c = cfg("").unwrap();
        assert_eq!(
            c.queries[0],
            Query {
                name: ".".into(),
                qtype: RecordType::NS,
                reverse: false
            }
        );
        assert_eq!(cfg("+bogus web").unwrap_err().code, 1);
        assert_eq!(cfg("-x notanip").unwrap_err().code, 10);
        assert_eq!(
            cfg("-t FOO web").unwrap().warnings,
            vec![";; Warning, ignoring invalid type FOO"]
        );
        let c = cfg("web +noall +answer").unwrap();
        assert!(c.opts.show.answer && !c.opts.show.question && !c.opts.show.cmd);
    }

    fn canned() -> Resolver<Canned> {
        let mut c = Canned::default();
        c.zone.insert(
            "web.default.svc.cluster.local.".into(),
            (
                ResponseCode::NoError,
                vec!["10.96.0.100".parse().unwrap()],
                vec![],
            ),
        );
        Resolver::new(kube_conf(), Hosts::default(), c)
    }

    #[test]
    fn layout_like_dig() {
        let mut r = canned();
        let c = cfg("web.default.svc.cluster.local").unwrap();
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1795629938);
        let (text, code) = dig(&c, &mut r, now).unwrap();
        assert_eq!(code, 0);
        assert!(text.starts_with("\n; <<>> debugbox dig "), "{text}");
        assert!(
            text.contains(";; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: "),
            "{text}"
        );
        assert!(
            text.contains(";; flags: qr; QUERY: 1, ANSWER: 1, AUTHORITY: 0, ADDITIONAL: 0\n\n"),
            "{text}"
        );
        assert!(text.contains(";; QUESTION SECTION:\n;web.default.svc.cluster.local.\tIN\tA\n\n;; ANSWER SECTION:\nweb.default.svc.cluster.local. 5 IN\tA\t10.96.0.100\n\n"), "{text}");
        assert!(text.contains(";; SERVER: 10.96.0.10#53(10.96.0.10) (UDP)\n;; WHEN: Wed Nov 25 18:05:38 UTC 2026\n"), "{text}");
        let (short, _) = dig(
            &cfg("+short web.default.svc.cluster.local").unwrap(),
            &mut r,
            now,
        )
        .unwrap();
        assert_eq!(short, "10.96.0.100\n");
    }

    #[test]
    fn search_and_no_server() {
        let mut r = canned();
        let (text, _) = dig(
            &cfg("+short +search web").unwrap(),
            &mut r,
            SystemTime::now(),
        )
        .unwrap();
        assert_eq!(text, "10.96.0.100\n");
        let mut dead = canned();
        dead.transport.dead = true;
        let (text, code) = dig(
            &cfg("+tries=1 +timeout=1 web").unwrap(),
            &mut dead,
            SystemTime::now(),
        )
        .unwrap();
        assert_eq!(code, 9);
        assert!(
            text.starts_with(";; communications error to 10.96.0.10#53: timed out\n"),
            "{text}"
        );
        assert!(text.ends_with(";; no servers could be reached\n"), "{text}");
    }

    #[test]
    fn dates() {
        assert_eq!(when(SystemTime::UNIX_EPOCH), "Thu Jan 01 00:00:00 UTC 1970");
        assert_eq!(
            when(SystemTime::UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "Tue Feb 29 00:00:00 UTC 2000"
        );
    }
}
