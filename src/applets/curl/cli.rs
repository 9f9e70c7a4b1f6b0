//! curl's flags -> a typed configuration. Pure (reading `@file` data happens in mod.rs).

use crate::error::{ClapEnd, Error, Parsed, Result};
use clap::{Arg, ArgAction, ArgMatches, Command};
use std::ffi::OsString;
use std::net::IpAddr;
use std::time::Duration;

pub fn command() -> Command {
    let flag = |id: &'static str, short: Option<char>, long: &'static str, help: &'static str| {
        let mut a = Arg::new(id)
            .long(long)
            .action(ArgAction::SetTrue)
            .help(help);
        if let Some(s) = short {
            a = a.short(s);
        }
        a
    };
    let value = |id: &'static str,
                 short: Option<char>,
                 long: &'static str,
                 name: &'static str,
                 help: &'static str| {
        let mut a = Arg::new(id)
            .long(long)
            .value_name(name)
            .action(ArgAction::Set)
            .help(help);
        if let Some(s) = short {
            a = a.short(s);
        }
        a
    };
    let many = |id: &'static str,
                short: Option<char>,
                long: &'static str,
                name: &'static str,
                help: &'static str| {
        let mut a = Arg::new(id)
            .long(long)
            .value_name(name)
            .action(ArgAction::Append)
            .allow_hyphen_values(true)
            .help(help);
        if let Some(s) = short {
            a = a.short(s);
        }
        a
    };
    Command::new("curl")
        .about("transfer a URL over HTTP or HTTPS, curl compatible (rustls, the pod's resolver)")
        .override_usage("curl [options...] <url>")
        .disable_version_flag(true)
        .args_override_self(true)
        .arg(value(
            "output",
            Some('o'),
            "output",
            "file",
            "Write to file instead of stdout",
        ))
        .arg(flag(
            "remote-name",
            Some('O'),
            "remote-name",
            "Write output to a file named as the remote file",
        ))
        .arg(flag("silent", Some('s'), "silent", "Silent mode"))
        .arg(flag(
            "show-error",
            Some('S'),
            "show-error",
            "Show error even when -s is used",
        ))
        .arg(flag(
            "verbose",
            Some('v'),
            "verbose",
            "Make the operation more talkative",
        ))
        .arg(flag(
            "include",
            Some('i'),
            "include",
            "Include protocol response headers in the output",
        ))
        .arg(flag("head", Some('I'), "head", "Show document info only"))
        .arg(value(
            "request",
            Some('X'),
            "request",
            "method",
            "Specify request method to use",
        ))
        .arg(many(
            "header",
            Some('H'),
            "header",
            "header",
            "Pass custom header(s) to server",
        ))
        .arg(many("data", Some('d'), "data", "data", "HTTP POST data"))
        .arg(many(
            "data-raw",
            None,
            "data-raw",
            "data",
            "HTTP POST data, '@' allowed",
        ))
        .arg(many(
            "data-binary",
            None,
            "data-binary",
            "data",
            "HTTP POST binary data",
        ))
        .arg(many("json", None, "json", "data", "HTTP POST JSON"))
        .arg(value(
            "user",
            Some('u'),
            "user",
            "user:password",
            "Server user and password",
        ))
        .arg(value(
            "user-agent",
            Some('A'),
            "user-agent",
            "name",
            "Send User-Agent <name> to server",
        ))
        .arg(flag("location", Some('L'), "location", "Follow redirects"))
        .arg(flag(
            "location-trusted",
            None,
            "location-trusted",
            "Like --location, and send authentication to other hosts",
        ))
        .arg(flag(
            "post301",
            None,
            "post301",
            "Do not switch to GET after following a 301",
        ))
        .arg(flag(
            "post302",
            None,
            "post302",
            "Do not switch to GET after following a 302",
        ))
        .arg(flag(
            "post303",
            None,
            "post303",
            "Do not switch to GET after following a 303",
        ))
        .arg(value(
            "max-redirs",
            None,
            "max-redirs",
            "num",
            "Maximum number of redirects allowed",
        ))
        .arg(flag(
            "insecure",
            Some('k'),
            "insecure",
            "Allow insecure server connections",
        ))
        .arg(value(
            "cacert",
            None,
            "cacert",
            "file",
            "CA certificate to verify peer against",
        ))
        .arg(value(
            "cert",
            Some('E'),
            "cert",
            "certificate",
            "Client certificate file",
        ))
        .arg(value("key", None, "key", "key", "Private key file name"))
        .arg(flag(
            "fail",
            Some('f'),
            "fail",
            "Fail fast with no output on HTTP errors",
        ))
        .arg(value(
            "connect-timeout",
            None,
            "connect-timeout",
            "seconds",
            "Maximum time allowed for connection",
        ))
        .arg(value(
            "max-time",
            Some('m'),
            "max-time",
            "seconds",
            "Maximum time allowed for transfer",
        ))
        .arg(many(
            "resolve",
            None,
            "resolve",
            "host:port:addr[,addr]...",
            "Resolve the host+port to this address",
        ))
        .arg(flag(
            "ipv4",
            Some('4'),
            "ipv4",
            "Resolve names to IPv4 addresses",
        ))
        .arg(flag(
            "ipv6",
            Some('6'),
            "ipv6",
            "Resolve names to IPv6 addresses",
        ))
        .arg(value(
            "proxy",
            Some('x'),
            "proxy",
            "[protocol://]host[:port]",
            "Use this proxy",
        ))
        .arg(value(
            "noproxy",
            None,
            "noproxy",
            "no-proxy-list",
            "List of hosts which do not use proxy",
        ))
        .arg(value(
            "write-out",
            Some('w'),
            "write-out",
            "format",
            "Use output FORMAT after completion",
        ))
        .arg(flag(
            "wjson",
            Some('j'),
            "wjson",
            "Print the write-out variables as one JSON object (debugbox; same as -w '%{json}')",
        ))
        .arg(value("url", None, "url", "url", "URL to work with"))
        .arg(flag(
            "version",
            Some('V'),
            "version",
            "Show version number and quit",
        ))
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
    /// `-d`: text; `@file` reads a file and strips CR and LF.
    Ascii(String),
    /// `--data-raw`: text, `@` is literal.
    Raw(String),
    /// `--data-binary`: `@file` is read as is.
    Binary(String),
    /// `--json`: like --data-binary, and JSON headers.
    Json(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Resolve {
    pub host: String,
    pub port: u16,
    pub addrs: Vec<IpAddr>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub urls: Vec<String>,
    pub output: Option<String>,
    pub remote_name: bool,
    pub silent: bool,
    pub show_error: bool,
    pub verbose: bool,
    pub include: bool,
    pub head: bool,
    pub method: Option<String>,
    pub headers: Vec<String>,
    pub data: Vec<Data>,
    pub user: Option<String>,
    pub user_agent: Option<String>,
    pub follow: bool,
    /// --location-trusted: credentials go to every host of a redirect chain.
    pub location_trusted: bool,
    pub post301: bool,
    pub post302: bool,
    pub post303: bool,
    pub max_redirs: i64,
    pub insecure: bool,
    pub cacert: Option<String>,
    pub cert: Option<String>,
    pub key: Option<String>,
    pub fail: bool,
    pub connect_timeout: Option<Duration>,
    pub max_time: Option<Duration>,
    pub resolve: Vec<Resolve>,
    pub ipv4: bool,
    pub ipv6: bool,
    pub proxy: Option<String>,
    pub noproxy: Option<String>,
    pub write_out: Option<String>,
    pub json: bool,
}

/// curl's messages for option problems: `curl: option X: blah` and exit 2.
fn bad(msg: String) -> Error {
    Error::verbatim(
        2,
        format!("curl: {msg}\ncurl: try 'curl --help' for more information"),
    )
}

fn seconds(m: &ArgMatches, id: &str, flag: &str) -> Result<Option<Duration>> {
    match m.get_one::<String>(id) {
        None => Ok(None),
        Some(v) => match v.parse::<f64>() {
            Ok(s) if s.is_finite() && (0.0..1e9).contains(&s) => {
                Ok(Some(Duration::from_secs_f64(s)))
            }
            _ => Err(bad(format!(
                "option --{flag}: expected a proper numerical parameter"
            ))),
        },
    }
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

pub fn parse(args: &[OsString]) -> Result<Parsed<Box<Config>>> {
    let argv = std::iter::once(OsString::from("curl")).chain(args.iter().cloned());
    let m = match command().try_get_matches_from(argv) {
        Ok(m) => m,
        Err(e) => {
            return match ClapEnd::of(&e) {
                ClapEnd::Help(text) => Ok(Parsed::Help(text)),
                ClapEnd::Usage(line) => Err(bad(line)),
            };
        }
    };
    if m.get_flag("version") {
        return Ok(Parsed::Version);
    }
    let strings = |id: &str| {
        m.get_many::<String>(id)
            .map(|v| v.cloned().collect::<Vec<_>>())
            .unwrap_or_default()
    };
    let mut urls = strings("urls");
    if let Some(u) = m.get_one::<String>("url") {
        urls.insert(0, u.clone());
    }
    if urls.is_empty() {
        return Err(bad("no URL specified".into()));
    }
    // Keep -d, --data-raw, --data-binary and --json in command-line order.
    let mut data: Vec<(usize, Data)> = Vec::new();
    for (id, make) in [
        ("data", Data::Ascii as fn(String) -> Data),
        ("data-raw", Data::Raw as fn(String) -> Data),
        ("data-binary", Data::Binary as fn(String) -> Data),
        ("json", Data::Json as fn(String) -> Data),
    ] {
        if let (Some(vals), Some(idx)) = (m.get_many::<String>(id), m.indices_of(id)) {
            for (v, i) in vals.zip(idx) {
                data.push((i, make(v.clone())));
            }
        }
    }
    data.sort_by_key(|(i, _)| *i);
    let max_redirs = match m.get_one::<String>("max-redirs") {
        None => 50,
        Some(v) => v.parse::<i64>().map_err(|_| {
            bad("option --max-redirs: expected a proper numerical parameter".into())
        })?,
    };
    let resolve = strings("resolve")
        .iter()
        .map(|s| parse_resolve(s))
        .collect::<Result<Vec<_>>>()?;
    let mut write_out = m.get_one::<String>("write-out").cloned();
    if let Some(w) = &write_out
        && let Some(file) = w.strip_prefix('@')
    {
        write_out = Some(if file == "-" {
            std::io::read_to_string(std::io::stdin()).unwrap_or_default()
        } else {
            std::fs::read_to_string(file)
                .map_err(|e| bad(format!("option -w: error reading {file}: {e}")))?
        });
    }
    Ok(Parsed::Run(Box::new(Config {
        urls,
        output: m.get_one::<String>("output").cloned(),
        remote_name: m.get_flag("remote-name"),
        silent: m.get_flag("silent"),
        show_error: m.get_flag("show-error"),
        verbose: m.get_flag("verbose"),
        include: m.get_flag("include"),
        head: m.get_flag("head"),
        method: m.get_one::<String>("request").cloned(),
        headers: strings("header"),
        data: data.into_iter().map(|(_, d)| d).collect(),
        user: m.get_one::<String>("user").cloned(),
        user_agent: m.get_one::<String>("user-agent").cloned(),
        follow: m.get_flag("location") || m.get_flag("location-trusted"),
        location_trusted: m.get_flag("location-trusted"),
        post301: m.get_flag("post301"),
        post302: m.get_flag("post302"),
        post303: m.get_flag("post303"),
        max_redirs,
        insecure: m.get_flag("insecure"),
        cacert: m.get_one::<String>("cacert").cloned(),
        cert: m.get_one::<String>("cert").cloned(),
        key: m.get_one::<String>("key").cloned(),
        fail: m.get_flag("fail"),
        connect_timeout: seconds(&m, "connect-timeout", "connect-timeout")?,
        max_time: seconds(&m, "max-time", "max-time")?,
        resolve,
        ipv4: m.get_flag("ipv4"),
        ipv6: m.get_flag("ipv6"),
        proxy: m.get_one::<String>("proxy").cloned(),
        noproxy: m.get_one::<String>("noproxy").cloned(),
        write_out,
        json: m.get_flag("wjson"),
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
        assert_eq!(c.output.as_deref(), Some("out"));
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
    }

    #[test]
    fn bad_options() {
        for s in [
            "",
            "-m abc x",
            "--resolve nonsense x",
            "--max-redirs x y",
            "--bogus x",
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
