//! What a transfer reports: curl's `-w` variables (measured at the real events), their
//! formatting and `%{json}`. Pure.

use serde_json::{Map, Value, json};
use std::fmt::Write;
use std::time::Duration;

/// Everything `-w` can print about a finished (or failed) transfer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    pub http_code: u16,
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
    pub url_effective: String,
    pub redirect_url: String,
    pub num_redirects: u32,
    pub num_connects: u32,
    pub content_type: String,
    pub ssl_verify_result: i64,
    pub scheme: String,
    pub method: String,
    pub exitcode: i32,
    pub errormsg: String,
    pub filename_effective: String,
}

fn secs(d: Duration) -> String {
    format!("{:.6}", d.as_secs_f64())
}

impl Report {
    pub fn speed_download(&self) -> u64 {
        let t = self.time_total.as_secs_f64();
        if t > 0.0 {
            (self.size_download as f64 / t) as u64
        } else {
            0
        }
    }

    /// One `%{name}` variable as text; None for an unknown name.
    pub fn var(&self, name: &str) -> Option<String> {
        Some(match name {
            "http_code" | "response_code" => format!("{:03}", self.http_code),
            "http_version" => self.http_version.clone(),
            "time_namelookup" => secs(self.time_namelookup),
            "time_connect" => secs(self.time_connect),
            "time_appconnect" => secs(self.time_appconnect),
            "time_pretransfer" => secs(self.time_pretransfer),
            "time_starttransfer" => secs(self.time_starttransfer),
            "time_redirect" => secs(self.time_redirect),
            "time_total" => secs(self.time_total),
            "size_download" => self.size_download.to_string(),
            "size_header" => self.size_header.to_string(),
            "size_request" => self.size_request.to_string(),
            "size_upload" => self.size_upload.to_string(),
            "speed_download" => self.speed_download().to_string(),
            "speed_upload" => "0".into(),
            "remote_ip" => self.remote_ip.clone(),
            "remote_port" => {
                if self.remote_port == 0 {
                    String::new()
                } else {
                    self.remote_port.to_string()
                }
            }
            "local_ip" => self.local_ip.clone(),
            "local_port" => {
                if self.local_port == 0 {
                    String::new()
                } else {
                    self.local_port.to_string()
                }
            }
            "url_effective" | "url" => self.url_effective.clone(),
            "redirect_url" => self.redirect_url.clone(),
            "num_redirects" => self.num_redirects.to_string(),
            "num_connects" => self.num_connects.to_string(),
            "content_type" => self.content_type.clone(),
            "ssl_verify_result" => self.ssl_verify_result.to_string(),
            "scheme" => self.scheme.to_uppercase(),
            "method" => self.method.clone(),
            "exitcode" => self.exitcode.to_string(),
            "errormsg" => self.errormsg.clone(),
            "filename_effective" => self.filename_effective.clone(),
            "json" => self.json().to_string(),
            _ => return None,
        })
    }

    /// `%{json}`: every variable, keys sorted as curl prints them.
    pub fn json(&self) -> Value {
        let opt = |s: &str| if s.is_empty() { Value::Null } else { json!(s) };
        let mut m = Map::new();
        m.insert("content_type".into(), opt(&self.content_type));
        m.insert("errormsg".into(), opt(&self.errormsg));
        m.insert("exitcode".into(), json!(self.exitcode));
        m.insert("filename_effective".into(), opt(&self.filename_effective));
        m.insert("http_code".into(), json!(self.http_code));
        m.insert("http_version".into(), json!(self.http_version));
        m.insert("local_ip".into(), json!(self.local_ip));
        m.insert("local_port".into(), json!(self.local_port));
        m.insert("method".into(), json!(self.method));
        m.insert("num_connects".into(), json!(self.num_connects));
        m.insert("num_redirects".into(), json!(self.num_redirects));
        m.insert("redirect_url".into(), opt(&self.redirect_url));
        m.insert("remote_ip".into(), json!(self.remote_ip));
        m.insert("remote_port".into(), json!(self.remote_port));
        m.insert("response_code".into(), json!(self.http_code));
        m.insert("scheme".into(), json!(self.scheme.to_uppercase()));
        m.insert("size_download".into(), json!(self.size_download));
        m.insert("size_header".into(), json!(self.size_header));
        m.insert("size_request".into(), json!(self.size_request));
        m.insert("size_upload".into(), json!(self.size_upload));
        m.insert("speed_download".into(), json!(self.speed_download()));
        m.insert("ssl_verify_result".into(), json!(self.ssl_verify_result));
        for (k, v) in [
            ("time_appconnect", self.time_appconnect),
            ("time_connect", self.time_connect),
            ("time_namelookup", self.time_namelookup),
            ("time_pretransfer", self.time_pretransfer),
            ("time_redirect", self.time_redirect),
            ("time_starttransfer", self.time_starttransfer),
            ("time_total", self.time_total),
        ] {
            m.insert(k.into(), json!((v.as_secs_f64() * 1e6).round() / 1e6));
        }
        m.insert("url_effective".into(), json!(self.url_effective));
        m.insert(
            "curl_version".into(),
            json!(format!("debugbox/{} rustls", env!("CARGO_PKG_VERSION"))),
        );
        Value::Object(m)
    }
}

/// Expand a `-w` format: `%{var}`, `%%`, and the `\n \r \t \\` escapes. Unknown variables are
/// reported (curl prints a warning) and expand to nothing.
pub fn write_out(format: &str, report: &Report, unknown: &mut Vec<String>) -> String {
    let mut out = String::new();
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '%' => match chars.peek() {
                Some('%') => {
                    chars.next();
                    out.push('%');
                }
                Some('{') => {
                    chars.next();
                    let mut name = String::new();
                    let mut closed = false;
                    for ch in chars.by_ref() {
                        if ch == '}' {
                            closed = true;
                            break;
                        }
                        name.push(ch);
                    }
                    if !closed {
                        let _ = write!(out, "%{{{name}");
                        continue;
                    }
                    match report.var(&name) {
                        Some(v) => out.push_str(&v),
                        None => unknown.push(name),
                    }
                }
                _ => out.push('%'),
            },
            '\\' => match chars.peek().copied() {
                Some('n') => {
                    chars.next();
                    out.push('\n');
                }
                Some('r') => {
                    chars.next();
                    out.push('\r');
                }
                Some('t') => {
                    chars.next();
                    out.push('\t');
                }
                Some('\\') => {
                    chars.next();
                    out.push('\\');
                }
                _ => out.push('\\'),
            },
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> Report {
        Report {
            http_code: 200,
            time_namelookup: Duration::from_micros(1_234),
            time_total: Duration::from_millis(2),
            size_download: 16,
            remote_ip: "10.96.0.100".into(),
            remote_port: 3000,
            url_effective: "http://web:3000/".into(),
            content_type: "text/plain".into(),
            scheme: "http".into(),
            ..Default::default()
        }
    }

    #[test]
    fn variables_and_escapes() {
        let mut unknown = vec![];
        let r = report();
        assert_eq!(write_out("%{http_code}\\n", &r, &mut unknown), "200\n");
        assert_eq!(
            write_out(
                "%{time_namelookup} %{remote_ip}:%{remote_port}\\t%%",
                &r,
                &mut unknown
            ),
            "0.001234 10.96.0.100:3000\t%"
        );
        assert_eq!(write_out("%{speed_download}", &r, &mut unknown), "8000");
        assert_eq!(write_out("%{bogus}x", &r, &mut unknown), "x");
        assert_eq!(unknown, vec!["bogus"]);
        assert_eq!(write_out("%{unclosed", &r, &mut unknown), "%{unclosed");
        let none = Report::default();
        assert_eq!(write_out("%{http_code}", &none, &mut unknown), "000");
    }

    #[test]
    fn json_has_every_variable() {
        let v: serde_json::Value =
            serde_json::from_str(&write_out("%{json}", &report(), &mut vec![])).unwrap();
        assert_eq!(v["http_code"], 200);
        assert_eq!(v["remote_port"], 3000);
        assert_eq!(v["time_namelookup"], 0.001234);
        assert_eq!(v["errormsg"], serde_json::Value::Null);
        assert_eq!(v["scheme"], "HTTP");
    }
}
