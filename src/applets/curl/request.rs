//! What curl sends, decided without I/O: the URL as curl reads it, the proxy for it, the header
//! lines in curl's order, and the rules for following a redirect (which method and body go on,
//! and which credentials stay behind). Pure.

use super::codes::{Code, CurlError, R, bad_url, fail};
use std::net::IpAddr;
use url::Url;

pub const USER_AGENT: &str = concat!("curl/7.88.1 debugbox/", env!("CARGO_PKG_VERSION"));

/// A URL as curl reads it: no scheme means http; only http and https are spoken.
pub fn parse_url(text: &str) -> R<Url> {
    if text.is_empty() || text.bytes().any(|b| b.is_ascii_control() || b == b' ') {
        return Err(bad_url());
    }
    let with_scheme = if text.contains("://") {
        text.to_string()
    } else {
        format!("http://{text}")
    };
    let u = Url::parse(&with_scheme).map_err(|_| bad_url())?;
    if u.host_str().is_none_or(|h| h.is_empty()) {
        return Err(bad_url());
    }
    check_scheme(&u)?;
    Ok(u)
}

pub fn check_scheme(u: &Url) -> R<()> {
    match u.scheme() {
        "http" | "https" => Ok(()),
        other => fail(
            Code::UnsupportedProtocol,
            format!("Protocol \"{other}\" not supported or disabled in libcurl"),
        ),
    }
}

/// An IPv6 zone in a URL (`http://[fe80::1%25eth0]/`, or `%eth0` as curl also takes it):
/// the URL without it (the url crate takes none) and the zone.
pub fn split_zone(text: &str) -> (String, Option<String>) {
    let (Some(open), Some(close)) = (text.find('['), text.find(']')) else {
        return (text.to_string(), None);
    };
    if close < open {
        return (text.to_string(), None);
    }
    let inside = &text[open + 1..close];
    let Some(pct) = inside.find('%') else {
        return (text.to_string(), None);
    };
    let zone = &inside[pct + 1..];
    let zone = zone
        .strip_prefix("25")
        .filter(|z| !z.is_empty())
        .unwrap_or(zone);
    let without = format!("{}{}", &text[..open + 1 + pct], &text[close..]);
    (without, Some(zone.to_string()))
}

/// The host of a URL without brackets (an IPv6 address as text).
pub fn host_of(u: &Url) -> String {
    match u.host() {
        Some(url::Host::Ipv6(a)) => a.to_string(),
        Some(h) => h.to_string(),
        None => String::new(),
    }
}

/// `host:port`, bracketed for IPv6 (a CONNECT target and the URI's authority).
pub fn authority(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// The Host header: the port only when the URL names one.
pub fn host_header(u: &Url) -> String {
    let host = host_of(u);
    let h = if host.contains(':') {
        format!("[{host}]")
    } else {
        host
    };
    match u.port() {
        Some(p) => format!("{h}:{p}"),
        None => h,
    }
}

/// The path and query as the request line carries them.
pub fn target(u: &Url) -> String {
    match u.query() {
        Some(q) => format!("{}?{q}", u.path()),
        None => u.path().to_string(),
    }
}

/// The last path segment, for `-O` (None when the URL ends in `/`).
pub fn remote_name(u: &Url) -> Option<String> {
    let last = u.path_segments()?.next_back()?;
    let decoded = url::form_urlencoded::parse(format!("x={last}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| last.to_string());
    (!decoded.is_empty() && !decoded.contains('/')).then_some(decoded)
}

/// User and password from the URL (`http://user:pass@host/`), percent-decoded.
pub fn url_credentials(u: &Url) -> Option<String> {
    if u.username().is_empty() && u.password().is_none() {
        return None;
    }
    let dec = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8_lossy()
            .into_owned()
    };
    Some(format!(
        "{}:{}",
        dec(u.username()),
        dec(u.password().unwrap_or(""))
    ))
}

/// The proxy for `url`: `proxy` (from -x), else the environment (http_proxy, HTTPS_PROXY,
/// ALL_PROXY), unless `noproxy` (--noproxy, else NO_PROXY) excludes the host.
pub fn proxy_for(
    proxy: Option<&str>,
    noproxy: Option<&str>,
    url: &Url,
    env: &dyn Fn(&str) -> Option<String>,
) -> R<Option<Url>> {
    let pick = |names: &[&str]| names.iter().find_map(|n| env(n).filter(|v| !v.is_empty()));
    let chosen = proxy.map(String::from).or_else(|| match url.scheme() {
        "https" => pick(&["https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"]),
        _ => pick(&["http_proxy", "all_proxy", "ALL_PROXY"]),
    });
    let Some(p) = chosen.filter(|p| !p.is_empty()) else {
        return Ok(None);
    };
    let noproxy = noproxy
        .map(String::from)
        .or_else(|| pick(&["no_proxy", "NO_PROXY"]))
        .unwrap_or_default();
    if no_proxy_matches(&noproxy, &host_of(url)) {
        return Ok(None);
    }
    let with_scheme = if p.contains("://") {
        p
    } else {
        format!("http://{p}")
    };
    let pu = Url::parse(&with_scheme).map_err(|_| {
        CurlError::new(
            Code::CouldntResolveProxy,
            format!("Could not resolve proxy: {with_scheme}"),
        )
    })?;
    if pu.scheme() != "http" {
        return fail(
            Code::UnsupportedProtocol,
            format!("Proxy protocol \"{}\" not supported", pu.scheme()),
        );
    }
    Ok(Some(pu))
}

/// NO_PROXY: `*`, host names (a leading dot optional, matching subdomains), addresses and CIDRs.
pub fn no_proxy_matches(list: &str, host: &str) -> bool {
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase();
    let ip = host.parse::<IpAddr>().ok();
    list.split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .any(|entry| {
            if entry == "*" {
                return true;
            }
            if let (Some(ip), Some((net, len))) = (ip, entry.split_once('/'))
                && let (Ok(net), Ok(len)) = (net.parse::<IpAddr>(), len.parse::<u32>())
            {
                return in_cidr(ip, net, len);
            }
            let e = entry.trim_start_matches('.').to_ascii_lowercase();
            host == e || host.ends_with(&format!(".{e}"))
        })
}

fn in_cidr(ip: IpAddr, net: IpAddr, len: u32) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(b)) if len <= 32 => {
            let mask = u32::MAX.checked_shl(32 - len).unwrap_or(0);
            u32::from(a) & mask == u32::from(b) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(b)) if len <= 128 => {
            let mask = u128::MAX.checked_shl(128 - len).unwrap_or(0);
            u128::from(a) & mask == u128::from(b) & mask
        }
        _ => false,
    }
}

/// A custom header from `-H`: set, remove a default (`Name:`), or send empty (`Name;`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Custom {
    Set(String, String),
    Remove(String),
    Empty(String),
}

pub fn custom_header(h: &str) -> Option<Custom> {
    if let Some((name, value)) = h.split_once(':') {
        let (name, value) = (name.trim(), value.trim());
        if name.is_empty() {
            return None;
        }
        return Some(if value.is_empty() {
            Custom::Remove(name.to_string())
        } else {
            Custom::Set(name.to_string(), value.to_string())
        });
    }
    h.strip_suffix(';')
        .map(|n| Custom::Empty(n.trim().to_string()))
        .filter(|c| !matches!(c, Custom::Empty(n) if n.is_empty()))
}

/// What goes into one request's header lines besides the custom ones.
#[derive(Debug, Clone, Default)]
pub struct Parts<'a> {
    pub host: String,
    /// `user:password` for Basic auth (from -u or the URL), when allowed for this host.
    pub basic: Option<&'a str>,
    pub range: Option<String>,
    pub user_agent: Option<&'a str>,
    pub accept_encoding: Option<&'a str>,
    pub referer: Option<&'a str>,
    pub cookie: Option<String>,
    /// The -H headers, in order.
    pub custom: &'a [String],
    /// Authorization and Cookie from -H go only where credentials may go.
    pub send_credentials: bool,
    /// Content-Length, Content-Type (and Expect) of the body, in that order.
    pub body: Vec<(String, String)>,
    /// `--json` adds Content-Type and Accept among the custom headers.
    pub json: bool,
}

/// The header lines in curl's order: Host, Authorization, Range, User-Agent, Accept,
/// Accept-Encoding, Referer, Cookie, the custom headers, then the body's headers. A custom
/// header replaces the default of the same name; `Name:` removes it.
pub fn headers(p: &Parts) -> Vec<(String, String)> {
    let mut custom: Vec<(String, String)> = Vec::new();
    if p.json {
        custom.push(("Content-Type".into(), "application/json".into()));
        custom.push(("Accept".into(), "application/json".into()));
    }
    let mut removed: Vec<String> = Vec::new();
    for h in p.custom {
        let Some(c) = custom_header(h) else { continue };
        let name = match &c {
            Custom::Set(n, _) | Custom::Remove(n) | Custom::Empty(n) => n.clone(),
        };
        if !p.send_credentials
            && (name.eq_ignore_ascii_case("authorization") || name.eq_ignore_ascii_case("cookie"))
        {
            continue;
        }
        custom.retain(|(n, _)| !n.eq_ignore_ascii_case(&name));
        match c {
            Custom::Set(n, v) => custom.push((n, v)),
            Custom::Remove(n) => removed.push(n),
            Custom::Empty(n) => custom.push((n, String::new())),
        }
    }
    let overridden = |name: &str| {
        custom.iter().any(|(n, _)| n.eq_ignore_ascii_case(name))
            || removed.iter().any(|n| n.eq_ignore_ascii_case(name))
    };
    let mut out: Vec<(String, String)> = vec![("Host".into(), p.host.clone())];
    if let Some(up) = p.basic {
        use base64::Engine;
        let enc = base64::engine::general_purpose::STANDARD.encode(up.as_bytes());
        out.push(("Authorization".into(), format!("Basic {enc}")));
    }
    if let Some(r) = &p.range {
        out.push(("Range".into(), format!("bytes={r}")));
    }
    out.push((
        "User-Agent".into(),
        p.user_agent.unwrap_or(USER_AGENT).to_string(),
    ));
    out.push(("Accept".into(), "*/*".into()));
    if let Some(e) = p.accept_encoding {
        out.push(("Accept-Encoding".into(), e.to_string()));
    }
    if let Some(r) = p.referer {
        out.push(("Referer".into(), r.to_string()));
    }
    if let Some(c) = &p.cookie {
        out.push(("Cookie".into(), c.clone()));
    }
    out.retain(|(n, _)| !overridden(n));
    out.extend(custom.iter().cloned());
    for (n, v) in &p.body {
        if !overridden(n) {
            out.push((n.clone(), v.clone()));
        }
    }
    out
}

/// Which redirects keep a POST a POST.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Post30x {
    pub post301: bool,
    pub post302: bool,
    pub post303: bool,
}

/// The method for the request after a `status` redirect, and whether the body goes along, as
/// curl 7.88 decides it: `post` says the request carries `-d`/`-F` data (curl's POST request
/// kind, whatever -X says), `head` that it is `-I`. A 301 or 302 turns such a POST into a GET;
/// a 303 turns anything but HEAD into a GET; 307 and 308 keep everything. `custom` (-X) stays
/// the method name even where the body is dropped.
pub fn redirected_method(
    status: u16,
    method: &str,
    post: bool,
    head: bool,
    custom: Option<&str>,
    keep: Post30x,
) -> (String, bool) {
    let to_get = match status {
        301 => post && !keep.post301,
        302 => post && !keep.post302,
        303 => !(head || post && keep.post303),
        _ => false,
    };
    if !to_get {
        return (method.to_string(), true);
    }
    (custom.unwrap_or("GET").to_string(), false)
}

/// May credentials (Authorization, -H Cookie, -u, URL user) go to `next` when they were given
/// for `first`? Only to the same scheme, host and port, as curl checks since CVE-2022-27776,
/// unless --location-trusted.
pub fn same_origin(first: &Url, next: &Url) -> bool {
    first.scheme() == next.scheme()
        && host_of(first).eq_ignore_ascii_case(&host_of(next))
        && first.port_or_known_default() == next.port_or_known_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_like_curl() {
        assert_eq!(parse_url("web:3000").unwrap().as_str(), "http://web:3000/");
        assert_eq!(
            parse_url("svc.ns:3000/healthz").unwrap().as_str(),
            "http://svc.ns:3000/healthz"
        );
        assert_eq!(
            host_of(&parse_url("http://[fd00::1]:8080/").unwrap()),
            "fd00::1"
        );
        assert_eq!(
            host_header(&parse_url("http://[fd00::1]:8080/").unwrap()),
            "[fd00::1]:8080"
        );
        assert_eq!(
            parse_url("https://kubernetes.default")
                .unwrap()
                .port_or_known_default(),
            Some(443)
        );
        assert_eq!(parse_url("ht!tp://x").unwrap_err().code, Code::UrlMalformat);
        assert_eq!(parse_url("http://").unwrap_err().code, Code::UrlMalformat);
        assert_eq!(
            parse_url("http://a b/").unwrap_err().code,
            Code::UrlMalformat
        );
        assert_eq!(
            parse_url("ftp://x/").unwrap_err().code,
            Code::UnsupportedProtocol
        );
        let rn = |s: &str| remote_name(&parse_url(s).unwrap());
        assert_eq!(
            rn("http://h/dir/file.tar.gz").as_deref(),
            Some("file.tar.gz")
        );
        assert_eq!(rn("http://h/"), None);
        assert_eq!(
            url_credentials(&parse_url("http://us%40er:p%3Ass@h/").unwrap()).as_deref(),
            Some("us@er:p:ss")
        );
        assert_eq!(url_credentials(&parse_url("http://h/").unwrap()), None);
    }

    #[test]
    fn zones_come_out_of_urls() {
        assert_eq!(
            split_zone("http://[fe80::1%25eth0]:8080/x"),
            (
                "http://[fe80::1]:8080/x".to_string(),
                Some("eth0".to_string())
            )
        );
        assert_eq!(
            split_zone("[fe80::1%eth0]"),
            ("[fe80::1]".to_string(), Some("eth0".to_string()))
        );
        assert_eq!(split_zone("http://[fd00::1]/").1, None);
        assert_eq!(split_zone("http://web/%25").1, None);
    }

    #[test]
    fn no_proxy_rules() {
        assert!(no_proxy_matches("*", "anything"));
        assert!(no_proxy_matches("example.com", "api.example.com"));
        assert!(no_proxy_matches(".example.com", "api.example.com"));
        assert!(no_proxy_matches("example.com", "example.com"));
        assert!(!no_proxy_matches("example.com", "notexample.com"));
        assert!(no_proxy_matches("10.96.0.0/12, .svc", "10.96.0.100"));
        assert!(no_proxy_matches("10.96.0.0/12,.svc", "web.default.svc"));
        assert!(!no_proxy_matches("10.96.0.0/12", "10.244.1.10"));
        assert!(no_proxy_matches("fd00::/8", "[fd00:10:96::100]"));
        assert!(no_proxy_matches("0.0.0.0/0", "1.2.3.4"));
    }

    #[test]
    fn header_order_and_overrides() {
        let custom = vec![
            "X-A: 1".to_string(),
            "Accept:".to_string(),
            "Authorization: Bearer t".to_string(),
            "X-Empty;".to_string(),
        ];
        let p = Parts {
            host: "h:1".into(),
            basic: Some("a:b"),
            range: Some("0-10".into()),
            referer: Some("http://ref/"),
            cookie: Some("c=1".into()),
            accept_encoding: Some("deflate, gzip"),
            custom: &custom,
            send_credentials: true,
            body: vec![("Content-Length".into(), "3".into())],
            ..Default::default()
        };
        let names: Vec<String> = headers(&p).into_iter().map(|(n, _)| n).collect();
        assert_eq!(
            names.join(","),
            "Host,Range,User-Agent,Accept-Encoding,Referer,Cookie,X-A,Authorization,X-Empty,Content-Length"
        );
        let p2 = Parts {
            send_credentials: false,
            basic: None,
            ..p
        };
        let h = headers(&p2);
        assert!(h.iter().all(|(n, _)| n != "Authorization"), "{h:?}");
    }

    #[test]
    fn redirect_methods_like_curl() {
        let none = Post30x {
            post301: false,
            post302: false,
            post303: false,
        };
        let r = |st, m, post, custom| redirected_method(st, m, post, m == "HEAD", custom, none);
        assert_eq!(r(302, "POST", true, None), ("GET".into(), false));
        assert_eq!(r(301, "POST", true, None), ("GET".into(), false));
        assert_eq!(r(303, "PUT", false, None), ("GET".into(), false));
        assert_eq!(r(307, "POST", true, None), ("POST".into(), true));
        assert_eq!(r(308, "PUT", false, None), ("PUT".into(), true));
        assert_eq!(r(302, "POST", true, Some("POST")), ("POST".into(), false));
        // -X PUT -d x: still curl's POST kind, so a 302 drops the body and keeps "PUT".
        assert_eq!(r(302, "PUT", true, Some("PUT")), ("PUT".into(), false));
        // -T (an upload, PUT kind) keeps its body on a 302.
        assert_eq!(r(302, "PUT", false, None), ("PUT".into(), true));
        assert_eq!(r(303, "HEAD", false, None), ("HEAD".into(), true));
        let keep = Post30x {
            post301: true,
            post302: true,
            post303: true,
        };
        assert_eq!(
            redirected_method(302, "POST", true, false, None, keep),
            ("POST".into(), true)
        );
        let a = parse_url("http://a:80/x").unwrap();
        assert!(same_origin(&a, &parse_url("http://A/y").unwrap()));
        assert!(!same_origin(&a, &parse_url("http://a:81/").unwrap()));
        assert!(!same_origin(&a, &parse_url("https://a/").unwrap()));
        assert!(!same_origin(&a, &parse_url("http://b/").unwrap()));
    }
}
