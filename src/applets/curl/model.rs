//! What a transfer reports: curl's `-w` variables, measured at the real events, in one table
//! that drives both `%{name}` and `%{json}` (as curl's tool_writeout.c keeps them). Pure.

use serde_json::{Map, Value, json};
use std::time::Duration;

/// Everything `-w` can print about a finished (or failed) transfer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    pub http_code: u16,
    /// The CONNECT reply from a proxy (0 without one).
    pub http_connect: u16,
    /// `1.1`, or `1` for HTTP/1.0 (curl prints the major only then).
    pub http_version: String,
    pub time_namelookup: Duration,
    pub time_connect: Duration,
    pub time_appconnect: Duration,
    pub time_pretransfer: Duration,
    pub time_starttransfer: Duration,
    pub time_redirect: Duration,
    pub time_total: Duration,
    pub size_download: u64,
    pub size_header: u64,
    pub size_request: u64,
    pub size_upload: u64,
    pub remote_ip: String,
    pub remote_port: u16,
    pub local_ip: String,
    pub local_port: u16,
    /// The URL as given, and its number on the command line.
    pub url: String,
    pub urlnum: usize,
    pub url_effective: String,
    pub redirect_url: String,
    pub referer: String,
    pub num_redirects: u32,
    pub num_connects: u32,
    pub content_type: String,
    pub ssl_verify_result: i64,
    /// The server's certificates as `%{certs}` prints them (only when asked for).
    pub certs: String,
    pub num_certs: usize,
    pub scheme: String,
    pub method: String,
    pub exitcode: i32,
    pub errormsg: String,
    pub filename_effective: String,
    /// The last response's header lines (name as sent, value), for `%header{}` and
    /// `%{header_json}`.
    pub headers: Vec<(String, String)>,
}

fn secs(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e6
}

fn per_second(bytes: u64, t: Duration) -> u64 {
    let t = t.as_secs_f64();
    if t > 0.0 {
        (bytes as f64 / t) as u64
    } else {
        0
    }
}

/// A variable's value: how it prints in text and in JSON follows from its kind.
enum Val {
    /// Text; in JSON a string, even when empty.
    Str(String),
    /// Text; in JSON null when empty.
    Opt(String),
    Int(i64),
    /// An HTTP status: `%03d` in text.
    Code(u16),
    Time(Duration),
    /// A port: empty text when 0, a number in JSON.
    Port(u16),
}

impl Val {
    fn text(&self) -> String {
        match self {
            Val::Str(s) | Val::Opt(s) => s.clone(),
            Val::Int(n) => n.to_string(),
            Val::Code(c) => format!("{c:03}"),
            Val::Time(d) => format!("{:.6}", d.as_secs_f64()),
            Val::Port(0) => String::new(),
            Val::Port(p) => p.to_string(),
        }
    }

    fn json(&self) -> Value {
        match self {
            Val::Str(s) => json!(s),
            Val::Opt(s) if s.is_empty() => Value::Null,
            Val::Opt(s) => json!(s),
            Val::Int(n) => json!(n),
            Val::Code(c) => json!(c),
            Val::Time(d) => json!(secs(*d)),
            Val::Port(p) => json!(p),
        }
    }
}

struct Var {
    name: &'static str,
    get: fn(&Report) -> Val,
}

/// Every `-w` variable of curl 7.88 that `%{json}` prints, in curl's (alphabetical) order.
const VARS: &[Var] = &[
    Var {
        name: "certs",
        get: |r| Val::Str(r.certs.clone()),
    },
    Var {
        name: "content_type",
        get: |r| Val::Opt(r.content_type.clone()),
    },
    Var {
        name: "errormsg",
        get: |r| Val::Opt(r.errormsg.clone()),
    },
    Var {
        name: "exitcode",
        get: |r| Val::Int(r.exitcode as i64),
    },
    Var {
        name: "filename_effective",
        get: |r| Val::Opt(r.filename_effective.clone()),
    },
    Var {
        name: "ftp_entry_path",
        get: |_| Val::Opt(String::new()),
    },
    Var {
        name: "http_code",
        get: |r| Val::Code(r.http_code),
    },
    Var {
        name: "http_connect",
        get: |r| Val::Code(r.http_connect),
    },
    Var {
        name: "http_version",
        get: |r| Val::Str(r.http_version.clone()),
    },
    Var {
        name: "local_ip",
        get: |r| Val::Str(r.local_ip.clone()),
    },
    Var {
        name: "local_port",
        get: |r| Val::Port(r.local_port),
    },
    Var {
        name: "method",
        get: |r| Val::Str(r.method.clone()),
    },
    Var {
        name: "num_certs",
        get: |r| Val::Int(r.num_certs as i64),
    },
    Var {
        name: "num_connects",
        get: |r| Val::Int(r.num_connects as i64),
    },
    Var {
        name: "num_headers",
        get: |r| Val::Int(r.headers.len() as i64),
    },
    Var {
        name: "num_redirects",
        get: |r| Val::Int(r.num_redirects as i64),
    },
    Var {
        name: "proxy_ssl_verify_result",
        get: |_| Val::Int(0),
    },
    Var {
        name: "redirect_url",
        get: |r| Val::Opt(r.redirect_url.clone()),
    },
    Var {
        name: "referer",
        get: |r| Val::Opt(r.referer.clone()),
    },
    Var {
        name: "remote_ip",
        get: |r| Val::Str(r.remote_ip.clone()),
    },
    Var {
        name: "remote_port",
        get: |r| Val::Port(r.remote_port),
    },
    Var {
        name: "response_code",
        get: |r| Val::Code(r.http_code),
    },
    Var {
        name: "scheme",
        get: |r| Val::Str(r.scheme.to_uppercase()),
    },
    Var {
        name: "size_download",
        get: |r| Val::Int(r.size_download as i64),
    },
    Var {
        name: "size_header",
        get: |r| Val::Int(r.size_header as i64),
    },
    Var {
        name: "size_request",
        get: |r| Val::Int(r.size_request as i64),
    },
    Var {
        name: "size_upload",
        get: |r| Val::Int(r.size_upload as i64),
    },
    Var {
        name: "speed_download",
        get: |r| Val::Int(per_second(r.size_download, r.time_total) as i64),
    },
    Var {
        name: "speed_upload",
        get: |r| Val::Int(per_second(r.size_upload, r.time_total) as i64),
    },
    Var {
        name: "ssl_verify_result",
        get: |r| Val::Int(r.ssl_verify_result),
    },
    Var {
        name: "time_appconnect",
        get: |r| Val::Time(r.time_appconnect),
    },
    Var {
        name: "time_connect",
        get: |r| Val::Time(r.time_connect),
    },
    Var {
        name: "time_namelookup",
        get: |r| Val::Time(r.time_namelookup),
    },
    Var {
        name: "time_pretransfer",
        get: |r| Val::Time(r.time_pretransfer),
    },
    Var {
        name: "time_redirect",
        get: |r| Val::Time(r.time_redirect),
    },
    Var {
        name: "time_starttransfer",
        get: |r| Val::Time(r.time_starttransfer),
    },
    Var {
        name: "time_total",
        get: |r| Val::Time(r.time_total),
    },
    Var {
        name: "url",
        get: |r| Val::Str(r.url.clone()),
    },
    Var {
        name: "url_effective",
        get: |r| Val::Str(r.url_effective.clone()),
    },
    Var {
        name: "urlnum",
        get: |r| Val::Int(r.urlnum as i64),
    },
];

/// Where `-w` output goes; `%{stdout}` and `%{stderr}` switch it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

impl Report {
    /// One `%{name}` variable as text; None for an unknown name.
    pub fn var(&self, name: &str) -> Option<String> {
        if name == "json" {
            return Some(self.json().to_string());
        }
        if name == "header_json" {
            return Some(self.header_json());
        }
        VARS.iter()
            .find(|v| v.name == name)
            .map(|v| (v.get)(self).text())
    }

    /// `%{json}`: every variable, in curl's order, then curl_version.
    pub fn json(&self) -> Value {
        let mut m = Map::new();
        for v in VARS {
            m.insert(v.name.into(), (v.get)(self).json());
        }
        m.insert(
            "curl_version".into(),
            json!(format!("debugbox/{} rustls", env!("CARGO_PKG_VERSION"))),
        );
        Value::Object(m)
    }

    /// `%{header_json}`: each header name (lower case) with the list of its values, in the
    /// order the names first appeared, one name per line as curl prints it.
    pub fn header_json(&self) -> String {
        let mut names: Vec<String> = Vec::new();
        for (n, _) in &self.headers {
            let l = n.to_ascii_lowercase();
            if !names.contains(&l) {
                names.push(l);
            }
        }
        let rows: Vec<String> = names
            .iter()
            .map(|n| {
                let vals: Vec<Value> = self
                    .headers
                    .iter()
                    .filter(|(h, _)| h.eq_ignore_ascii_case(n))
                    .map(|(_, v)| json!(v))
                    .collect();
                format!("{}:{}", json!(n), Value::Array(vals))
            })
            .collect();
        format!("{{{}\n}}", rows.join(",\n"))
    }

    /// `%header{name}`: the values of one response header, joined by ", ".
    pub fn header(&self, name: &str) -> String {
        self.headers
            .iter()
            .filter(|(h, _)| h.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// One piece of expanded `-w` output and where it goes.
pub type Piece = (Stream, String);

/// Expand a `-w` format: `%{var}`, `%header{name}`, `%{stdout}`/`%{stderr}`, `%%`, and the
/// `\n \r \t \\` escapes. `%{onerror}` stops the output here unless the transfer failed.
/// Unknown variables are reported (curl prints a warning) and expand to nothing.
pub fn write_out(format: &str, report: &Report, unknown: &mut Vec<String>) -> Vec<Piece> {
    let mut pieces: Vec<Piece> = Vec::new();
    let mut stream = Stream::Stdout;
    let mut out = String::new();
    let mut rest = format;
    while let Some(c) = rest.chars().next() {
        rest = &rest[c.len_utf8()..];
        match c {
            '%' if rest.starts_with('%') => {
                rest = &rest[1..];
                out.push('%');
            }
            '%' if rest.starts_with('{') || rest.starts_with("header{") => {
                let is_header = rest.starts_with("header{");
                let open = if is_header { 7 } else { 1 };
                let Some(close) = rest[open..].find('}') else {
                    out.push('%');
                    continue;
                };
                let name = &rest[open..open + close];
                rest = &rest[open + close + 1..];
                if is_header {
                    out.push_str(&report.header(name));
                    continue;
                }
                match name {
                    "stdout" | "stderr" => {
                        pieces.push((stream, std::mem::take(&mut out)));
                        stream = if name == "stdout" {
                            Stream::Stdout
                        } else {
                            Stream::Stderr
                        };
                    }
                    "onerror" => {
                        if report.exitcode == 0 {
                            break;
                        }
                    }
                    _ => match report.var(name) {
                        Some(v) => out.push_str(&v),
                        None => unknown.push(name.to_string()),
                    },
                }
            }
            '\\' => {
                let esc = match rest.chars().next() {
                    Some('n') => Some('\n'),
                    Some('r') => Some('\r'),
                    Some('t') => Some('\t'),
                    Some('\\') => Some('\\'),
                    _ => None,
                };
                match esc {
                    Some(e) => {
                        rest = &rest[1..];
                        out.push(e);
                    }
                    None => out.push('\\'),
                }
            }
            c => out.push(c),
        }
    }
    pieces.push((stream, out));
    pieces.retain(|(_, s)| !s.is_empty());
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> Report {
        Report {
            http_code: 200,
            http_version: "1.1".into(),
            time_namelookup: Duration::from_micros(1_234),
            time_total: Duration::from_millis(2),
            size_download: 16,
            remote_ip: "10.96.0.100".into(),
            remote_port: 3000,
            url_effective: "http://web:3000/".into(),
            content_type: "text/plain".into(),
            scheme: "http".into(),
            headers: vec![
                ("Content-Type".into(), "text/plain".into()),
                ("Set-Cookie".into(), "a=1".into()),
                ("set-cookie".into(), "b=2".into()),
            ],
            ..Default::default()
        }
    }

    fn text(format: &str, r: &Report, unknown: &mut Vec<String>) -> String {
        write_out(format, r, unknown)
            .into_iter()
            .map(|(_, s)| s)
            .collect()
    }

    #[test]
    fn variables_and_escapes() {
        let mut unknown = vec![];
        let r = report();
        assert_eq!(text("%{http_code}\\n", &r, &mut unknown), "200\n");
        assert_eq!(
            text(
                "%{time_namelookup} %{remote_ip}:%{remote_port}\\t%%",
                &r,
                &mut unknown
            ),
            "0.001234 10.96.0.100:3000\t%"
        );
        assert_eq!(text("%{speed_download}", &r, &mut unknown), "8000");
        assert_eq!(text("%{bogus}x", &r, &mut unknown), "x");
        assert_eq!(unknown, vec!["bogus"]);
        assert_eq!(text("%{unclosed", &r, &mut unknown), "%{unclosed");
        assert_eq!(text("%header{set-cookie}", &r, &mut unknown), "a=1, b=2");
        assert_eq!(text("%{num_headers}", &r, &mut unknown), "3");
        let none = Report::default();
        assert_eq!(text("%{http_code}", &none, &mut unknown), "000");
    }

    #[test]
    fn streams_and_onerror() {
        let r = report();
        let p = write_out("a%{stderr}b%{stdout}c", &r, &mut vec![]);
        assert_eq!(
            p,
            vec![
                (Stream::Stdout, "a".to_string()),
                (Stream::Stderr, "b".to_string()),
                (Stream::Stdout, "c".to_string())
            ]
        );
        assert_eq!(text("ok%{onerror}failed", &r, &mut vec![]), "ok");
        let failed = Report {
            exitcode: 7,
            ..report()
        };
        assert_eq!(text("ok%{onerror}failed", &failed, &mut vec![]), "okfailed");
    }

    #[test]
    fn json_has_every_variable_of_curl_788() {
        let v: Value = serde_json::from_str(&text("%{json}", &report(), &mut vec![])).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(|k| k.as_str()).collect();
        // curl 7.88.1's %{json} keys, in its order.
        let curl = "certs content_type errormsg exitcode filename_effective ftp_entry_path http_code http_connect http_version local_ip local_port method num_certs num_connects num_headers num_redirects proxy_ssl_verify_result redirect_url referer remote_ip remote_port response_code scheme size_download size_header size_request size_upload speed_download speed_upload ssl_verify_result time_appconnect time_connect time_namelookup time_pretransfer time_redirect time_starttransfer time_total url url_effective urlnum curl_version";
        assert_eq!(keys.join(" "), curl);
        assert_eq!(v["http_code"], 200);
        assert_eq!(v["remote_port"], 3000);
        assert_eq!(v["time_namelookup"], 0.001234);
        assert_eq!(v["errormsg"], Value::Null);
        assert_eq!(v["scheme"], "HTTP");
        let h = report().header_json();
        let hv: Value = serde_json::from_str(&h).unwrap();
        assert_eq!(hv["set-cookie"], json!(["a=1", "b=2"]));
    }
}
