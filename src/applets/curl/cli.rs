//! curl's flags -> a typed configuration. Pure, except that `-K` config files and `-w @file`
//! are read here (bounded in size), as curl reads them while parsing its options.

use crate::error::{Error, Parsed, Result};
use clap::{Arg, ArgAction, ArgMatches, Command};
use std::ffi::OsString;
use std::net::IpAddr;
use std::time::Duration;

/// Config files and `-w @file` larger than this are refused.
const MAX_OPTION_FILE: u64 = 1 << 20;

type Spec = (&'static str, Option<char>, &'static str);

/// Flags without a value: (id, short, help). The id is the long name.
const FLAGS: &[Spec] = &[
    (
        "remote-name-all",
        None,
        "Use the remote file name for all URLs",
    ),
    (
        "remote-header-name",
        Some('J'),
        "Use the header-provided filename (with -O)",
    ),
    ("silent", Some('s'), "Silent mode"),
    ("show-error", Some('S'), "Show error even when -s is used"),
    ("verbose", Some('v'), "Make the operation more talkative"),
    (
        "include",
        Some('i'),
        "Include protocol response headers in the output",
    ),
    ("head", Some('I'), "Show document info only"),
    ("get", Some('G'), "Put the post data in the URL and use GET"),
    ("location", Some('L'), "Follow redirects"),
    (
        "location-trusted",
        None,
        "Like --location, and send authentication to other hosts",
    ),
    (
        "post301",
        None,
        "Do not switch to GET after following a 301",
    ),
    (
        "post302",
        None,
        "Do not switch to GET after following a 302",
    ),
    (
        "post303",
        None,
        "Do not switch to GET after following a 303",
    ),
    ("insecure", Some('k'), "Allow insecure server connections"),
    ("fail", Some('f'), "Fail fast with no output on HTTP errors"),
    (
        "fail-with-body",
        None,
        "Fail on HTTP errors but save the body",
    ),
    ("ipv4", Some('4'), "Resolve names to IPv4 addresses"),
    ("ipv6", Some('6'), "Resolve names to IPv6 addresses"),
    (
        "compressed",
        None,
        "Request compressed response (gzip, deflate)",
    ),
    ("http1.0", Some('0'), "Use HTTP 1.0"),
    ("http1.1", None, "Use HTTP 1.1"),
    (
        "retry-all-errors",
        None,
        "Retry all errors (use with --retry)",
    ),
    (
        "retry-connrefused",
        None,
        "Retry on connection refused (use with --retry)",
    ),
    (
        "wjson",
        Some('j'),
        "Print the write-out variables as one JSON object (debugbox; same as -w '%{json}')",
    ),
    ("version", Some('V'), "Show version number and quit"),
];

/// Flags with one value (the last one given wins): (id, short, value name).
const VALUES: &[(&str, Option<char>, &str, &str)] = &[
    (
        "request",
        Some('X'),
        "method",
        "Specify request method to use",
    ),
    (
        "user",
        Some('u'),
        "user:password",
        "Server user and password",
    ),
    (
        "proxy-user",
        Some('U'),
        "user:password",
        "Proxy user and password",
    ),
    (
        "user-agent",
        Some('A'),
        "name",
        "Send User-Agent <name> to server",
    ),
    (
        "referer",
        Some('e'),
        "URL",
        "Referrer URL (;auto follows redirects)",
    ),
    (
        "max-redirs",
        None,
        "num",
        "Maximum number of redirects allowed",
    ),
    (
        "cacert",
        None,
        "file",
        "CA certificate to verify peer against",
    ),
    ("capath", None, "dir", "CA directory to verify peer against"),
    ("cert", Some('E'), "certificate", "Client certificate file"),
    ("key", None, "key", "Private key file name"),
    (
        "connect-timeout",
        None,
        "seconds",
        "Maximum time allowed for connection",
    ),
    (
        "max-time",
        Some('m'),
        "seconds",
        "Maximum time allowed for transfer",
    ),
    (
        "proxy",
        Some('x'),
        "[protocol://]host[:port]",
        "Use this proxy",
    ),
    (
        "noproxy",
        None,
        "no-proxy-list",
        "List of hosts which do not use proxy",
    ),
    (
        "unix-socket",
        None,
        "path",
        "Connect through this Unix domain socket",
    ),
    (
        "interface",
        None,
        "name",
        "Use network INTERFACE (or address)",
    ),
    (
        "write-out",
        Some('w'),
        "format",
        "Use output FORMAT after completion",
    ),
    (
        "retry",
        None,
        "num",
        "Retry request if transient problems occur",
    ),
    ("retry-delay", None, "seconds", "Wait time between retries"),
    (
        "retry-max-time",
        None,
        "seconds",
        "Retry only within this period",
    ),
    (
        "dump-header",
        Some('D'),
        "filename",
        "Write the received headers to <filename>",
    ),
    (
        "trace-ascii",
        None,
        "file",
        "Like --trace, but without hex output",
    ),
    (
        "cookie-jar",
        Some('c'),
        "filename",
        "Write cookies to <filename> after operation",
    ),
    (
        "upload-file",
        Some('T'),
        "file",
        "Transfer local FILE to destination",
    ),
    (
        "range",
        Some('r'),
        "range",
        "Retrieve only the bytes within RANGE",
    ),
    (
        "continue-at",
        Some('C'),
        "offset",
        "Resumed transfer offset (- for automatic)",
    ),
    (
        "max-filesize",
        None,
        "bytes",
        "Maximum file size to download",
    ),
    ("limit-rate", None, "speed", "Limit transfer speed to RATE"),
    ("url", None, "url", "URL to work with"),
    ("config", Some('K'), "file", "Read config from a file"),
];

/// Flags that may be given many times, kept in order.
const MANY: &[(&str, Option<char>, &str, &str)] = &[
    (
        "header",
        Some('H'),
        "header",
        "Pass custom header(s) to server",
    ),
    ("data", Some('d'), "data", "HTTP POST data"),
    ("data-ascii", None, "data", "HTTP POST ASCII data"),
    ("data-raw", None, "data", "HTTP POST data, '@' allowed"),
    ("data-binary", None, "data", "HTTP POST binary data"),
    ("data-urlencode", None, "data", "HTTP POST data url encoded"),
    ("json", None, "data", "HTTP POST JSON"),
    (
        "form",
        Some('F'),
        "name=content",
        "Specify multipart MIME data",
    ),
    (
        "form-string",
        None,
        "name=string",
        "Specify multipart MIME data (literal)",
    ),
    (
        "resolve",
        None,
        "host:port:addr[,addr]...",
        "Resolve the host+port to this address",
    ),
    (
        "connect-to",
        None,
        "HOST1:PORT1:HOST2:PORT2",
        "Connect to host",
    ),
    (
        "cookie",
        Some('b'),
        "data|filename",
        "Send cookies from string/file",
    ),
];

pub fn command() -> Command {
    let mut cmd = Command::new("curl")
        .about("transfer a URL over HTTP or HTTPS, curl compatible (rustls, the pod's resolver)")
        .override_usage("curl [options...] <url>")
        .disable_version_flag(true)
        .args_override_self(true);
    for (id, short, help) in FLAGS {
        let mut a = Arg::new(*id)
            .long(*id)
            .action(ArgAction::SetTrue)
            .help(*help);
        if let Some(s) = short {
            a = a.short(*s);
        }
        cmd = cmd.arg(a);
    }
    for (id, short, name, help) in VALUES {
        let mut a = Arg::new(*id)
            .long(*id)
            .value_name(*name)
            .action(ArgAction::Set)
            .allow_hyphen_values(true)
            .help(*help);
        if let Some(s) = short {
            a = a.short(*s);
        }
        cmd = cmd.arg(a);
    }
    for (id, short, name, help) in MANY {
        let mut a = Arg::new(*id)
            .long(*id)
            .value_name(*name)
            .action(ArgAction::Append)
            .allow_hyphen_values(true)
            .help(*help);
        if let Some(s) = short {
            a = a.short(*s);
        }
        cmd = cmd.arg(a);
    }
    cmd.arg(
        Arg::new("output")
            .short('o')
            .long("output")
            .value_name("file")
            .action(ArgAction::Append)
            .allow_hyphen_values(true)
            .help("Write to file instead of stdout (one per URL)"),
    )
    .arg(
        Arg::new("remote-name")
            .short('O')
            .long("remote-name")
            .action(ArgAction::Count)
            .help("Write output to a file named as the remote file (one per URL)"),
    )
    .arg(
        Arg::new("urls")
            .value_name("url")
            .num_args(0..)
            .action(ArgAction::Append)
            .help("URL"),
    )
}

#[derive(Debug, Clone, PartialEq)]
pub enum Data {
    /// `-d`/`--data-ascii`: text; `@file` reads a file and strips CR and LF.
    Ascii(String),
    /// `--data-raw`: text, `@` is literal.
    Raw(String),
    /// `--data-binary`: `@file` is read as is.
    Binary(String),
    /// `--data-urlencode`: `content`, `=content`, `name=content`, `@file`, `name@file`.
    UrlEncode(String),
    /// `--json`: like --data-binary, and JSON headers.
    Json(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Resolve {
    pub host: String,
    pub port: u16,
    pub addrs: Vec<IpAddr>,
}

/// `--connect-to HOST1:PORT1:HOST2:PORT2`: empty parts match any / keep the original.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectTo {
    pub from_host: Option<String>,
    pub from_port: Option<u16>,
    pub to_host: Option<String>,
    pub to_port: Option<u16>,
}

/// Where one URL's body goes (`-o FILE`, `-O`), in command-line order; URLs without one
/// write to stdout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Out {
    File(String),
    Remote,
}

/// `-C`: resume where the output file ends, or at an offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resume {
    Auto,
    At(u64),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub urls: Vec<String>,
    pub outputs: Vec<Out>,
    /// `--remote-name-all`: `-O` for every URL without its own output.
    pub remote_name_all: bool,
    pub remote_header_name: bool,
    pub silent: bool,
    pub show_error: bool,
    pub verbose: bool,
    pub include: bool,
    pub head: bool,
    pub get: bool,
    pub method: Option<String>,
    pub headers: Vec<String>,
    pub data: Vec<Data>,
    /// `-F` / `--form-string` parts, in order (`true`: literal, no `@`/`<`).
    pub form: Vec<(String, bool)>,
    pub user: Option<String>,
    pub proxy_user: Option<String>,
    pub user_agent: Option<String>,
    pub referer: Option<String>,
    pub auto_referer: bool,
    pub follow: bool,
    /// --location-trusted: credentials go to every host of a redirect chain.
    pub location_trusted: bool,
    pub max_redirs: i64,
    pub post301: bool,
    pub post302: bool,
    pub post303: bool,
    pub insecure: bool,
    pub cacert: Option<String>,
    pub capath: Option<String>,
    pub cert: Option<String>,
    pub key: Option<String>,
    pub fail: bool,
    pub fail_with_body: bool,
    pub connect_timeout: Option<Duration>,
    pub max_time: Option<Duration>,
    pub resolve: Vec<Resolve>,
    pub connect_to: Vec<ConnectTo>,
    pub ipv4: bool,
    pub ipv6: bool,
    pub proxy: Option<String>,
    pub noproxy: Option<String>,
    pub unix_socket: Option<String>,
    pub interface: Option<String>,
    pub write_out: Option<String>,
    pub json: bool,
    pub compressed: bool,
    pub http10: bool,
    pub retry: u32,
    pub retry_delay: Option<Duration>,
    pub retry_max_time: Option<Duration>,
    pub retry_all_errors: bool,
    pub retry_connrefused: bool,
    pub dump_header: Option<String>,
    pub trace_ascii: Option<String>,
    /// `-b`: cookie strings (`a=1; b=2`) and cookie files to read.
    pub cookies: Vec<String>,
    pub cookie_jar: Option<String>,
    pub upload_file: Option<String>,
    pub range: Option<String>,
    pub resume: Option<Resume>,
    pub max_filesize: Option<u64>,
    pub limit_rate: Option<u64>,
}

/// curl's messages for option problems: `curl: option X: blah` and exit 2.
fn bad(msg: String) -> Error {
    Error::verbatim(
        2,
        format!("curl: {msg}\ncurl: try 'curl --help' for more information"),
    )
}

fn number_error(flag: &str) -> Error {
    bad(format!(
        "option --{flag}: expected a proper numerical parameter"
    ))
}

/// Seconds as curl takes them (a decimal number; 0 means no limit).
fn seconds(m: &ArgMatches, id: &str) -> Result<Option<Duration>> {
    match m.get_one::<String>(id) {
        None => Ok(None),
        Some(v) => match v.parse::<f64>() {
            Ok(s) if s.is_finite() && (0.0..1e9).contains(&s) => {
                Ok((s > 0.0).then(|| Duration::from_secs_f64(s)))
            }
            _ => Err(number_error(id)),
        },
    }
}

/// A size with curl's suffixes: `100`, `10k`, `1M`, `2G` (binary multiples).
pub fn size(v: &str) -> Option<u64> {
    let v = v.trim();
    let (num, mult) = match v.chars().last()? {
        'k' | 'K' => (&v[..v.len() - 1], 1u64 << 10),
        'm' | 'M' => (&v[..v.len() - 1], 1 << 20),
        'g' | 'G' => (&v[..v.len() - 1], 1 << 30),
        _ => (v, 1),
    };
    let n: f64 = num.parse().ok()?;
    (n.is_finite() && n >= 0.0).then_some((n * mult as f64) as u64)
}

fn parse_resolve(s: &str) -> Result<Resolve> {
    // host:port:addr[,addr]; IPv6 addresses may be bracketed.
    let err = || bad(format!("option --resolve: bad format '{s}'"));
    let (host, rest) = s.split_once(':').ok_or_else(err)?;
    let (port, addrs) = rest.split_once(':').ok_or_else(err)?;
    let port: u16 = port.parse().map_err(|_| err())?;
    let addrs = addrs
        .split(',')
        .map(|a| {
            a.trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<IpAddr>()
                .map_err(|_| err())
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Resolve {
        host: host.to_ascii_lowercase(),
        port,
        addrs,
    })
}

/// Split `a:b:c:d` where parts may be bracketed IPv6 addresses.
fn split_colons(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut bracket = false;
    for c in s.chars() {
        match c {
            '[' => bracket = true,
            ']' => bracket = false,
            ':' if !bracket => {
                out.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        if c != '[' && c != ']' {
            cur.push(c);
        }
    }
    out.push(cur);
    out
}

fn parse_connect_to(s: &str) -> Result<ConnectTo> {
    let err = || bad(format!("option --connect-to: bad format '{s}'"));
    let parts = split_colons(s);
    let [h1, p1, h2, p2] = parts.as_slice() else {
        return Err(err());
    };
    let port = |p: &str| -> Result<Option<u16>> {
        if p.is_empty() {
            Ok(None)
        } else {
            p.parse().map(Some).map_err(|_| err())
        }
    };
    let host = |h: &str| (!h.is_empty()).then(|| h.to_ascii_lowercase());
    Ok(ConnectTo {
        from_host: host(h1),
        from_port: port(p1)?,
        to_host: host(h2),
        to_port: port(p2)?,
    })
}

/// One `-K` config file line as command-line words: `--name value`, `name = "value"`,
/// `name: value`, `-o file`. Comments and empty lines give nothing.
pub fn config_line(line: &str) -> Result<Vec<String>> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return Ok(Vec::new());
    }
    let split = line
        .find(|c: char| c.is_whitespace() || c == '=' || c == ':')
        .unwrap_or(line.len());
    let (name, rest) = line.split_at(split);
    let rest = rest.trim_start();
    let rest = rest
        .strip_prefix('=')
        .or_else(|| rest.strip_prefix(':'))
        .unwrap_or(rest)
        .trim_start();
    let opt = if name.starts_with('-') {
        name.to_string()
    } else {
        format!("--{name}")
    };
    if rest.is_empty() {
        return Ok(vec![opt]);
    }
    let value = if let Some(q) = rest.strip_prefix('"') {
        let mut v = String::new();
        let mut chars = q.chars();
        let mut closed = false;
        while let Some(c) = chars.next() {
            match c {
                '"' => {
                    closed = true;
                    break;
                }
                '\\' => match chars.next() {
                    Some('t') => v.push('\t'),
                    Some('n') => v.push('\n'),
                    Some('r') => v.push('\r'),
                    Some('v') => v.push('\u{b}'),
                    Some(other) => v.push(other),
                    None => {}
                },
                c => v.push(c),
            }
        }
        if !closed {
            return Err(bad(format!("config file: unfinished quote in '{line}'")));
        }
        v
    } else {
        rest.split_whitespace().next().unwrap_or("").to_string()
    };
    Ok(vec![opt, value])
}

/// Replace every `-K FILE` / `--config FILE` with the options the file holds.
fn expand_config(args: &[OsString], depth: u32) -> Result<Vec<OsString>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = args[i].to_string_lossy();
        let file = if a == "-K" || a == "--config" {
            i += 1;
            Some(
                args.get(i)
                    .map(|f| f.to_string_lossy().into_owned())
                    .ok_or_else(|| bad(format!("option {a}: requires parameter")))?,
            )
        } else {
            a.strip_prefix("-K")
                .filter(|f| !f.is_empty())
                .map(|f| f.to_string())
        };
        match file {
            Some(f) if depth < 4 => {
                let bytes =
                    crate::sys::files::read_bounded(std::path::Path::new(&f), MAX_OPTION_FILE)
                        .map_err(|e| {
                            bad(format!(
                                "cannot read config from '{f}': {}",
                                crate::error::os_text(&e)
                            ))
                        })?;
                let text = String::from_utf8_lossy(&bytes);
                let mut words: Vec<OsString> = Vec::new();
                for line in text.lines() {
                    words.extend(config_line(line)?.into_iter().map(OsString::from));
                }
                out.extend(expand_config(&words, depth + 1)?);
            }
            Some(_) => return Err(bad("config files nest too deep".into())),
            None => out.push(args[i].clone()),
        }
        i += 1;
    }
    Ok(out)
}

/// curl's warning text: `Warning: ` before each line, wrapped at 79 columns on blanks.
pub fn warning(msg: &str) -> String {
    const WIDTH: usize = 79 - "Warning: ".len();
    let mut out = String::new();
    let mut rest = msg;
    while !rest.is_empty() {
        if rest.len() <= WIDTH {
            out.push_str(&format!("Warning: {rest}\n"));
            break;
        }
        let cut = rest[..WIDTH]
            .rfind(' ')
            .filter(|c| *c > 0)
            .unwrap_or(WIDTH - 1);
        out.push_str(&format!("Warning: {}\n", &rest[..=cut]));
        rest = &rest[cut + 1..];
    }
    out
}

/// curl allows one request kind: `-I`, `-d`, `-F` and `-T` exclude each other.
fn one_method(m: &ArgMatches) -> Result<()> {
    let kinds: &[(&[&str], &str)] = &[
        (&["head"], "HEAD (-I, --head)"),
        (
            &[
                "data",
                "data-ascii",
                "data-raw",
                "data-binary",
                "data-urlencode",
                "json",
            ],
            "POST (-d, --data)",
        ),
        (&["form", "form-string"], "multipart formpost (-F, --form)"),
        (&["upload-file"], "PUT (-T, --upload-file)"),
    ];
    let mut seen: Vec<(usize, &str)> = Vec::new();
    for (ids, name) in kinds {
        let first = ids
            .iter()
            .filter(|id| m.value_source(id) == Some(clap::parser::ValueSource::CommandLine))
            .filter_map(|id| m.indices_of(id).and_then(|mut i| i.next()))
            .min();
        if let Some(i) = first {
            seen.push((i, name));
        }
    }
    seen.sort();
    if let [(_, old), (_, new), ..] = seen.as_slice() {
        let text = warning(&format!(
            "You can only select one HTTP request method! You asked for both {new} and {old}."
        ));
        return Err(Error::verbatim(2, text.trim_end()));
    }
    Ok(())
}

/// Every value of `ids` in command-line order, with which id gave it.
fn ordered<'m>(m: &'m ArgMatches, ids: &[&'static str]) -> Vec<(&'static str, &'m String)> {
    let mut all: Vec<(usize, &'static str, &String)> = Vec::new();
    for id in ids {
        if let (Some(vals), Some(idx)) = (m.get_many::<String>(id), m.indices_of(id)) {
            for (v, i) in vals.zip(idx) {
                all.push((i, id, v));
            }
        }
    }
    all.sort_by_key(|(i, _, _)| *i);
    all.into_iter().map(|(_, id, v)| (id, v)).collect()
}

/// `-o` and `-O` in command-line order.
fn outputs(m: &ArgMatches) -> Vec<Out> {
    let mut all: Vec<(usize, Out)> = Vec::new();
    if let (Some(vals), Some(idx)) = (m.get_many::<String>("output"), m.indices_of("output")) {
        all.extend(idx.zip(vals).map(|(i, v)| (i, Out::File(v.clone()))));
    }
    // A count flag has a default value (0) with an index of its own: only given ones count.
    if m.value_source("remote-name") == Some(clap::parser::ValueSource::CommandLine)
        && let Some(idx) = m.indices_of("remote-name")
    {
        all.extend(idx.map(|i| (i, Out::Remote)));
    }
    all.sort_by_key(|(i, _)| *i);
    all.into_iter().map(|(_, o)| o).collect()
}

fn write_out(m: &ArgMatches) -> Result<Option<String>> {
    let Some(w) = m.get_one::<String>("write-out") else {
        return Ok(None);
    };
    let Some(file) = w.strip_prefix('@') else {
        return Ok(Some(w.clone()));
    };
    let bytes = crate::sys::files::read_bounded(std::path::Path::new(file), MAX_OPTION_FILE)
        .map_err(|e| {
            bad(format!(
                "option -w: error reading {file}: {}",
                crate::error::os_text(&e)
            ))
        })?;
    Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))
}

pub fn parse(args: &[OsString]) -> Result<Parsed<Box<Config>>> {
    let args = expand_config(args, 0)?;
    let argv = std::iter::once(OsString::from("curl")).chain(args);
    let m = match crate::error::clap_matches(command(), argv, bad)? {
        Ok(m) => m,
        Err(p) => return Ok(p),
    };
    one_method(&m).map_err(|e| {
        // -s mutes curl's warnings; the exit code stays.
        if m.get_flag("silent") {
            Error::verbatim(e.code, "")
        } else {
            e
        }
    })?;
    let one = |id: &str| m.get_one::<String>(id).cloned();
    let strings = |id: &str| {
        m.get_many::<String>(id)
            .map(|v| v.cloned().collect::<Vec<_>>())
            .unwrap_or_default()
    };
    let mut urls = strings("urls");
    if let Some(u) = one("url") {
        urls.insert(0, u);
    }
    if urls.is_empty() {
        return Err(bad("no URL specified".into()));
    }
    let data = ordered(
        &m,
        &[
            "data",
            "data-ascii",
            "data-raw",
            "data-binary",
            "data-urlencode",
            "json",
        ],
    )
    .into_iter()
    .map(|(id, v)| match id {
        "data" | "data-ascii" => Data::Ascii(v.clone()),
        "data-raw" => Data::Raw(v.clone()),
        "data-binary" => Data::Binary(v.clone()),
        "data-urlencode" => Data::UrlEncode(v.clone()),
        _ => Data::Json(v.clone()),
    })
    .collect();
    let form = ordered(&m, &["form", "form-string"])
        .into_iter()
        .map(|(id, v)| (v.clone(), id == "form-string"))
        .collect();
    let max_redirs = match one("max-redirs") {
        None => 50,
        Some(v) => v.parse::<i64>().map_err(|_| number_error("max-redirs"))?,
    };
    let referer = one("referer");
    let (referer, auto_referer) = match referer {
        Some(r) => match r.strip_suffix(";auto") {
            Some(base) => ((!base.is_empty()).then(|| base.to_string()), true),
            None => (Some(r), false),
        },
        None => (None, false),
    };
    let resume = match one("continue-at").as_deref() {
        None => None,
        Some("-") => Some(Resume::Auto),
        Some(v) => Some(Resume::At(
            v.parse().map_err(|_| number_error("continue-at"))?,
        )),
    };
    let sized = |id: &str| -> Result<Option<u64>> {
        one(id)
            .map(|v| size(&v).ok_or_else(|| number_error(id)))
            .transpose()
    };
    let retry = match one("retry") {
        None => 0,
        Some(v) => v.parse::<u32>().map_err(|_| number_error("retry"))?,
    };
    Ok(Parsed::Run(Box::new(Config {
        urls,
        outputs: outputs(&m),
        remote_name_all: m.get_flag("remote-name-all"),
        remote_header_name: m.get_flag("remote-header-name"),
        silent: m.get_flag("silent"),
        show_error: m.get_flag("show-error"),
        verbose: m.get_flag("verbose"),
        include: m.get_flag("include"),
        head: m.get_flag("head"),
        get: m.get_flag("get"),
        method: one("request"),
        headers: strings("header"),
        data,
        form,
        user: one("user"),
        proxy_user: one("proxy-user"),
        user_agent: one("user-agent"),
        referer,
        auto_referer,
        follow: m.get_flag("location") || m.get_flag("location-trusted"),
        location_trusted: m.get_flag("location-trusted"),
        max_redirs,
        post301: m.get_flag("post301"),
        post302: m.get_flag("post302"),
        post303: m.get_flag("post303"),
        insecure: m.get_flag("insecure"),
        cacert: one("cacert"),
        capath: one("capath"),
        cert: one("cert"),
        key: one("key"),
        fail: m.get_flag("fail") || m.get_flag("fail-with-body"),
        fail_with_body: m.get_flag("fail-with-body"),
        connect_timeout: seconds(&m, "connect-timeout")?,
        max_time: seconds(&m, "max-time")?,
        resolve: strings("resolve")
            .iter()
            .map(|s| parse_resolve(s))
            .collect::<Result<Vec<_>>>()?,
        connect_to: strings("connect-to")
            .iter()
            .map(|s| parse_connect_to(s))
            .collect::<Result<Vec<_>>>()?,
        ipv4: m.get_flag("ipv4"),
        ipv6: m.get_flag("ipv6"),
        proxy: one("proxy"),
        noproxy: one("noproxy"),
        unix_socket: one("unix-socket"),
        interface: one("interface"),
        write_out: write_out(&m)?,
        json: m.get_flag("wjson"),
        compressed: m.get_flag("compressed"),
        http10: m.get_flag("http1.0") && !m.get_flag("http1.1"),
        retry,
        retry_delay: seconds(&m, "retry-delay")?,
        retry_max_time: seconds(&m, "retry-max-time")?,
        retry_all_errors: m.get_flag("retry-all-errors"),
        retry_connrefused: m.get_flag("retry-connrefused"),
        dump_header: one("dump-header"),
        trace_ascii: one("trace-ascii"),
        cookies: strings("cookie"),
        cookie_jar: one("cookie-jar"),
        upload_file: one("upload-file"),
        range: one("range"),
        resume,
        max_filesize: sized("max-filesize")?,
        limit_rate: sized("limit-rate")?.filter(|r| *r > 0),
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(s: &str) -> Config {
        let args: Vec<OsString> = s.split_whitespace().map(OsString::from).collect();
        match parse(&args).unwrap() {
            Parsed::Run(c) => *c,
            _ => panic!(),
        }
    }

    #[test]
    fn curl_flags() {
        let c = cfg(
            "-sSfL -o out -X PUT -H a:1 -H b:2 -d x=1 --data-binary @f --max-redirs 3 -k -m 2.5 --connect-timeout 1 web:3000",
        );
        assert!(c.silent && c.show_error && c.fail && c.follow && c.insecure);
        assert_eq!(c.outputs, vec![Out::File("out".into())]);
        assert_eq!(c.method.as_deref(), Some("PUT"));
        assert_eq!(c.headers, vec!["a:1", "b:2"]);
        assert_eq!(
            c.data,
            vec![Data::Ascii("x=1".into()), Data::Binary("@f".into())]
        );
        assert_eq!(c.max_redirs, 3);
        assert_eq!(c.max_time, Some(Duration::from_millis(2500)));
        assert_eq!(c.urls, vec!["web:3000"]);
        let c = cfg("--resolve web:3000:10.0.0.1,[fd00::1] -w %{http_code} -j http://web:3000/");
        assert_eq!(c.resolve[0].addrs.len(), 2);
        assert!(c.json);
        assert_eq!(c.write_out.as_deref(), Some("%{http_code}"));
        let c = cfg(
            "-m 0 --connect-timeout 0 -C - --limit-rate 10k --max-filesize 1M -e http://r/;auto x",
        );
        assert_eq!(c.max_time, None);
        assert_eq!(c.connect_timeout, None);
        assert_eq!(c.resume, Some(Resume::Auto));
        assert_eq!(c.limit_rate, Some(10 * 1024));
        assert_eq!(c.max_filesize, Some(1 << 20));
        assert_eq!(c.referer.as_deref(), Some("http://r/"));
        assert!(c.auto_referer);
        let c = cfg("--connect-to a:80:[fd00::1]:8080 --connect-to ::b: x");
        assert_eq!(c.connect_to[0].to_host.as_deref(), Some("fd00::1"));
        assert_eq!(c.connect_to[0].to_port, Some(8080));
        assert_eq!(c.connect_to[1].from_host, None);
        assert_eq!(c.connect_to[1].to_host.as_deref(), Some("b"));
        let c = cfg("-O -o b u1 u2 u3");
        assert_eq!(c.outputs, vec![Out::Remote, Out::File("b".into())]);
        let c = cfg("-F a=1 --form-string b=@x x");
        assert_eq!(c.form, vec![("a=1".into(), false), ("b=@x".into(), true)]);
        let c = cfg("-d x --data-urlencode q=a+b x");
        assert_eq!(c.data[1], Data::UrlEncode("q=a+b".into()));
    }

    #[test]
    fn config_files_like_curl() {
        assert_eq!(
            config_line("url = \"http://a/b c\"").unwrap(),
            vec!["--url", "http://a/b c"]
        );
        assert_eq!(config_line("--silent").unwrap(), vec!["--silent"]);
        assert_eq!(config_line("silent").unwrap(), vec!["--silent"]);
        assert_eq!(config_line("-o out").unwrap(), vec!["-o", "out"]);
        assert_eq!(
            config_line("header: \"X-A: \\\"q\\\"\"").unwrap(),
            vec!["--header", "X-A: \"q\""]
        );
        assert!(config_line("# comment").unwrap().is_empty());
        assert!(config_line("url = \"unfinished").is_err());
        let dir = std::env::temp_dir().join(format!("dbx-curlrc-{}", std::process::id()));
        std::fs::write(&dir, "silent\nmax-time = 3\nurl = \"http://x/\"\n").unwrap();
        let c = cfg(&format!("-K {}", dir.display()));
        assert!(c.silent);
        assert_eq!(c.max_time, Some(Duration::from_secs(3)));
        assert_eq!(c.urls, vec!["http://x/"]);
        let _ = std::fs::remove_file(dir);
    }

    #[test]
    fn warnings_wrap_like_curl() {
        let args: Vec<OsString> = ["-I", "-d", "a=1", "x"]
            .iter()
            .map(OsString::from)
            .collect();
        let e = parse(&args).unwrap_err();
        assert_eq!(e.code, 2);
        assert_eq!(
            e.message,
            "Warning: You can only select one HTTP request method! You asked for both POST \nWarning: (-d, --data) and HEAD (-I, --head)."
        );
    }

    #[test]
    fn sizes() {
        assert_eq!(size("100"), Some(100));
        assert_eq!(size("1k"), Some(1024));
        assert_eq!(size("1.5M"), Some(1572864));
        assert_eq!(size("x"), None);
        assert_eq!(size(""), None);
    }

    #[test]
    fn bad_options() {
        for s in [
            "",
            "-m abc x",
            "--resolve nonsense x",
            "--max-redirs x y",
            "--bogus x",
            "--connect-to a:b x",
            "--retry many x",
            "--limit-rate fast x",
            "-K /nonexistent/curlrc",
        ] {
            let args: Vec<OsString> = s.split_whitespace().map(OsString::from).collect();
            let e = match parse(&args) {
                Err(e) => e,
                Ok(_) => panic!("{s:?} accepted"),
            };
            assert_eq!(e.code, 2, "{s}");
            assert!(e.message.starts_with("curl: "), "{s}: {}", e.message);
        }
    }
}
