//! curl's cookie engine, the part scripts use: `-b 'a=1; b=2'` sends a literal Cookie header,
//! `-b FILE` loads a Netscape cookie file (or Set-Cookie lines), Set-Cookie answers are kept
//! for the requests that follow (redirects), and `-c FILE` writes them out in curl's format.
//! Cookies only go to the hosts and paths they belong to. Pure, but for reading and writing
//! the files.

use url::Url;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cookie {
    /// The host or domain, without a leading dot.
    pub domain: String,
    /// Also for subdomains (a Domain attribute, or a leading dot in a file).
    pub tailmatch: bool,
    pub path: String,
    pub secure: bool,
    pub httponly: bool,
    /// Seconds since the epoch; 0 for a session cookie.
    pub expires: i64,
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Jar {
    pub cookies: Vec<Cookie>,
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn default_path(url: &Url) -> String {
    let p = url.path();
    match p.rfind('/') {
        Some(0) | None => "/".into(),
        Some(i) => p[..i].to_string(),
    }
}

fn host_of(url: &Url) -> String {
    url.host_str()
        .unwrap_or("")
        .trim_matches(|c| c == '[' || c == ']')
        .to_ascii_lowercase()
}

impl Jar {
    fn add(&mut self, c: Cookie) {
        self.cookies
            .retain(|o| !(o.name == c.name && o.domain == c.domain && o.path == c.path));
        // An expired cookie (Max-Age=0, a past date) only deletes.
        if c.expires == 0 || c.expires > now() {
            self.cookies.push(c);
        }
    }

    /// Lines of a Netscape cookie file (`#HttpOnly_` prefixes taken), or Set-Cookie header
    /// lines (which curl also reads from a `-b` file).
    pub fn load(&mut self, text: &str) {
        for line in text.lines() {
            let line = line.trim_end_matches('\r');
            if let Some(h) = line
                .strip_prefix("Set-Cookie:")
                .or_else(|| line.strip_prefix("set-cookie:"))
            {
                if let Ok(u) = Url::parse("http://localhost/") {
                    self.set_cookie(h.trim(), &u);
                }
                continue;
            }
            let (httponly, line) = match line.strip_prefix("#HttpOnly_") {
                Some(rest) => (true, rest),
                None => (false, line),
            };
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let f: Vec<&str> = line.split('\t').collect();
            if f.len() < 7 {
                continue;
            }
            let domain = f[0].trim_start_matches('.').to_ascii_lowercase();
            self.add(Cookie {
                tailmatch: f[1].eq_ignore_ascii_case("TRUE") || f[0].starts_with('.'),
                domain,
                path: f[2].to_string(),
                secure: f[3].eq_ignore_ascii_case("TRUE"),
                httponly,
                expires: f[4].parse().unwrap_or(0),
                name: f[5].to_string(),
                value: f[6].to_string(),
            });
        }
    }

    /// One Set-Cookie header received for `url`. Cookies for another domain are refused.
    pub fn set_cookie(&mut self, header: &str, url: &Url) {
        let mut parts = header.split(';');
        let Some((name, value)) = parts.next().and_then(|nv| nv.split_once('=')) else {
            return;
        };
        let host = host_of(url);
        let mut c = Cookie {
            domain: host.clone(),
            tailmatch: false,
            path: default_path(url),
            secure: false,
            httponly: false,
            expires: 0,
            name: name.trim().to_string(),
            value: value.trim().to_string(),
        };
        if c.name.is_empty() {
            return;
        }
        let mut max_age = None;
        for attr in parts {
            let (k, v) = attr.split_once('=').unwrap_or((attr, ""));
            let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
            match k.as_str() {
                "domain" if !v.is_empty() => {
                    let d = v.trim_start_matches('.').to_ascii_lowercase();
                    // Only this host or a domain it is in.
                    if host != d && !host.ends_with(&format!(".{d}")) {
                        return;
                    }
                    c.domain = d;
                    c.tailmatch = true;
                }
                "path" if v.starts_with('/') => c.path = v.to_string(),
                "secure" => c.secure = true,
                "httponly" => c.httponly = true,
                "expires" => {
                    if let Ok(t) = httpdate::parse_http_date(v)
                        && let Ok(d) = t.duration_since(std::time::UNIX_EPOCH)
                    {
                        c.expires = d.as_secs() as i64;
                    }
                }
                "max-age" => max_age = v.parse::<i64>().ok(),
                _ => {}
            }
        }
        if let Some(age) = max_age {
            // Max-Age wins over Expires; 0 or less deletes now.
            c.expires = if age <= 0 { 1 } else { now() + age };
        }
        self.add(c);
    }

    /// The Cookie header value for a request to `url`, if any cookie matches.
    pub fn header_for(&self, url: &Url) -> Option<String> {
        let host = host_of(url);
        let path = url.path();
        let https = url.scheme() == "https";
        let t = now();
        let mut matching: Vec<&Cookie> = self
            .cookies
            .iter()
            .filter(|c| {
                let host_ok =
                    host == c.domain || (c.tailmatch && host.ends_with(&format!(".{}", c.domain)));
                let path_ok = path == c.path
                    || (path.starts_with(&c.path)
                        && (c.path.ends_with('/') || path[c.path.len()..].starts_with('/')));
                host_ok && path_ok && (!c.secure || https) && (c.expires == 0 || c.expires > t)
            })
            .collect();
        if matching.is_empty() {
            return None;
        }
        // Longer paths first, as curl (and RFC 6265) order them.
        matching.sort_by_key(|c| std::cmp::Reverse(c.path.len()));
        Some(
            matching
                .iter()
                .map(|c| format!("{}={}", c.name, c.value))
                .collect::<Vec<_>>()
                .join("; "),
        )
    }

    /// The jar in curl's Netscape format.
    pub fn netscape(&self) -> String {
        let mut out = String::from(
            "# Netscape HTTP Cookie File\n# https://curl.se/docs/http-cookies.html\n# This file was generated by libcurl! Edit at your own risk.\n\n",
        );
        for c in self.cookies.iter().rev() {
            out.push_str(&format!(
                "{}{}{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
                if c.httponly { "#HttpOnly_" } else { "" },
                if c.tailmatch { "." } else { "" },
                c.domain,
                if c.tailmatch { "TRUE" } else { "FALSE" },
                c.path,
                if c.secure { "TRUE" } else { "FALSE" },
                c.expires,
                c.name,
                c.value
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn set_and_send() {
        let mut j = Jar::default();
        j.set_cookie("a=1; Path=/", &u("http://web.test/x/y"));
        j.set_cookie("b=2", &u("http://web.test/x/y"));
        j.set_cookie("c=3; Domain=.test; Secure", &u("http://web.test/"));
        j.set_cookie("evil=1; Domain=other.test", &u("http://web.test/"));
        assert_eq!(
            j.header_for(&u("http://web.test/x/z")).as_deref(),
            Some("b=2; a=1")
        );
        assert_eq!(j.header_for(&u("http://web.test/")).as_deref(), Some("a=1"));
        assert_eq!(
            j.header_for(&u("https://api.test/")).as_deref(),
            Some("c=3")
        );
        assert_eq!(j.header_for(&u("http://other.example/")), None);
        j.set_cookie("a=gone; Max-Age=0; Path=/", &u("http://web.test/"));
        assert_eq!(j.header_for(&u("http://web.test/")), None);
    }

    #[test]
    fn netscape_round_trip() {
        let mut j = Jar::default();
        j.set_cookie("s=v; HttpOnly; Domain=web.test", &u("http://web.test/"));
        j.set_cookie(
            "e=1; Expires=Wed, 21 Oct 2099 07:28:00 GMT",
            &u("http://web.test/"),
        );
        let text = j.netscape();
        assert!(text.starts_with("# Netscape HTTP Cookie File\n"));
        assert!(
            text.contains("#HttpOnly_.web.test\tTRUE\t/\tFALSE\t0\ts\tv\n"),
            "{text}"
        );
        assert!(
            text.contains("web.test\tFALSE\t/\tFALSE\t4096250880\te\t1\n"),
            "{text}"
        );
        let mut k = Jar::default();
        k.load(&text);
        assert_eq!(k.cookies.len(), 2);
        assert_eq!(
            k.header_for(&u("http://a.web.test/")).as_deref(),
            Some("s=v")
        );
    }

    /// Cookie files, Set-Cookie values and the other small parsers of what servers and files
    /// say take any bytes without panicking.
    #[test]
    fn any_input_never_panics() {
        let url = u("http://web.test/a/b");
        crate::testing::check(
            &[
                b"sid=abc; Path=/; Domain=.test; Expires=Wed, 21 Oct 2099 07:28:00 GMT; Max-Age=5; Secure; HttpOnly",
                b"#HttpOnly_.web.test\tTRUE\t/\tFALSE\t0\ts\tv\n",
                b"attachment; filename=\"a.txt\"",
                b"url = \"http://x/\"",
            ],
            20_000,
            |input| {
                let text = String::from_utf8_lossy(input);
                let mut j = Jar::default();
                j.set_cookie(&text, &url);
                j.load(&text);
                let _ = j.header_for(&url);
                let _ = j.netscape();
                let _ = super::super::transfer::content_disposition_filename(&text);
                let _ = super::super::transfer::location_text(input);
                let _ = super::super::cli::config_line(&text);
                let _ = super::super::request::split_zone(&text);
                let _ = super::super::request::parse_url(&text);
                let _ = super::super::cli::size(&text);
            },
        );
    }
}
