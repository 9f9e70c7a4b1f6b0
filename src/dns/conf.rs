//! resolv.conf as glibc reads it (resolv/res_init.c): nameserver, search/domain, options, and the
//! LOCALDOMAIN / RES_OPTIONS environment overrides. Pure: text in, settings out.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// glibc's limits: at most 3 nameservers (MAXNS), ndots at most 15, timeout at most 30 s,
/// attempts at most 5.
pub const MAXNS: usize = 3;
const MAX_NDOTS: u32 = 15;
const MAX_TIMEOUT: u32 = 30;
const MAX_ATTEMPTS: u32 = 5;
/// glibc keeps at most 6 search domains when reading the file (MAXDNSRCH).
const MAXDNSRCH: usize = 6;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvConf {
    pub nameservers: Vec<SocketAddr>,
    pub search: Vec<String>,
    pub ndots: u32,
    /// Per-try timeout (RES_TIMEOUT, 5 s by default).
    pub timeout: Duration,
    pub attempts: u32,
    pub rotate: bool,
    /// `options use-vc`: TCP for every query.
    pub use_vc: bool,
    pub edns0: bool,
    pub no_aaaa: bool,
    /// Lines glibc would ignore, kept so `--explain` and `diagnose` can point at them.
    pub warnings: Vec<String>,
}

impl Default for ResolvConf {
    fn default() -> Self {
        ResolvConf {
            nameservers: Vec::new(),
            search: Vec::new(),
            ndots: 1,
            timeout: Duration::from_secs(5),
            attempts: 2,
            rotate: false,
            use_vc: false,
            edns0: false,
            no_aaaa: false,
            warnings: Vec::new(),
        }
    }
}

impl ResolvConf {
    /// Parse resolv.conf text. `hostname` supplies the default search domain (the part after the
    /// first dot), as glibc does when neither `search` nor `domain` is given.
    #[cfg(test)]
    pub fn parse(text: &str, hostname: Option<&str>) -> Self {
        Self::parse_with(text, hostname, &|z| z.parse().ok())
    }

    /// As `parse`, with `zone` naming the interface index of an IPv6 zone (`fe80::1%eth0`).
    pub fn parse_with(
        text: &str,
        hostname: Option<&str>,
        zone: &dyn Fn(&str) -> Option<u32>,
    ) -> Self {
        let mut c = ResolvConf::default();
        let mut search_set = false;
        for (lineno, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
                continue;
            }
            let mut words = line.split_whitespace();
            let Some(key) = words.next() else { continue };
            match key {
                "nameserver" => {
                    let Some(addr) = words.next() else { continue };
                    if c.nameservers.len() >= MAXNS {
                        c.warnings.push(format!(
                            "line {}: nameserver {addr} ignored: glibc uses at most {MAXNS}",
                            lineno + 1
                        ));
                        continue;
                    }
                    match parse_nameserver(addr, zone) {
                        Some(sa) => c.nameservers.push(sa),
                        None => c.warnings.push(format!(
                            "line {}: bad nameserver address {addr}",
                            lineno + 1
                        )),
                    }
                }
                // The last of `domain` and `search` wins.
                "domain" => {
                    if let Some(d) = words.next() {
                        c.search = vec![d.trim_end_matches('.').to_string()];
                        search_set = true;
                    }
                }
                "search" => {
                    let mut list: Vec<String> =
                        words.map(|w| w.trim_end_matches('.').to_string()).collect();
                    if list.len() > MAXDNSRCH {
                        c.warnings.push(format!(
                            "line {}: {} search domains; glibc before 2.26 used only the first {MAXDNSRCH}",
                            lineno + 1,
                            list.len()
                        ));
                    }
                    list.retain(|d| !d.is_empty());
                    c.search = list;
                    search_set = true;
                }
                "options" => {
                    for w in words {
                        c.apply_option(w);
                    }
                }
                _ => {}
            }
        }
        if !search_set
            && let Some(domain) = hostname.and_then(|h| h.split_once('.')).map(|(_, d)| d)
            && !domain.is_empty()
        {
            c.search = vec![domain.to_string()];
        }
        c
    }

    /// `LOCALDOMAIN` replaces the search list; `RES_OPTIONS` adds options (glibc semantics).
    pub fn apply_env(&mut self, localdomain: Option<&str>, res_options: Option<&str>) {
        if let Some(ld) = localdomain {
            self.search = ld
                .split_whitespace()
                .map(|d| d.trim_end_matches('.').to_string())
                .collect();
        }
        if let Some(opts) = res_options {
            for w in opts.split_whitespace() {
                self.apply_option(w);
            }
        }
    }

    fn apply_option(&mut self, w: &str) {
        let num = |v: &str, max: u32| v.parse::<u32>().ok().map(|n| n.min(max));
        if let Some(v) = w.strip_prefix("ndots:") {
            if let Some(n) = num(v, MAX_NDOTS) {
                self.ndots = n;
            }
        } else if let Some(v) = w.strip_prefix("timeout:") {
            if let Some(n) = num(v, MAX_TIMEOUT) {
                self.timeout = Duration::from_secs(n.max(1) as u64);
            }
        } else if let Some(v) = w.strip_prefix("attempts:") {
            if let Some(n) = num(v, MAX_ATTEMPTS) {
                self.attempts = n.max(1);
            }
        } else {
            match w {
                "rotate" => self.rotate = true,
                "use-vc" => self.use_vc = true,
                "edns0" => self.edns0 = true,
                "no-aaaa" => self.no_aaaa = true,
                _ => {}
            }
        }
    }

    /// The servers to ask: glibc falls back to the local host when none is listed.
    pub fn servers(&self) -> Vec<SocketAddr> {
        if self.nameservers.is_empty() {
            vec![SocketAddr::new(IpAddr::from([127, 0, 0, 1]), 53)]
        } else {
            self.nameservers.clone()
        }
    }
}

/// A nameserver address; the port is always 53. glibc accepts IPv6 with a zone
/// (`fe80::1%eth0`, or a numeric index), which must name an interface.
fn parse_nameserver(s: &str, zone: &dyn Fn(&str) -> Option<u32>) -> Option<SocketAddr> {
    match s.split_once('%') {
        None => Some(SocketAddr::new(s.parse().ok()?, 53)),
        Some((addr, z)) => {
            let ip: std::net::Ipv6Addr = addr.parse().ok()?;
            let scope = zone(z)?;
            Some(SocketAddr::V6(std::net::SocketAddrV6::new(
                ip, 53, 0, scope,
            )))
        }
    }
}

/// Read the system's resolv.conf and environment the way glibc does.
pub fn system() -> ResolvConf {
    // Bytes, as glibc reads them: a stray non-UTF-8 byte spoils its own word, not the file.
    let bytes = crate::sys::files::read_bounded(std::path::Path::new("/etc/resolv.conf"), 1 << 20)
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes);
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname").ok();
    let mut c = ResolvConf::parse_with(
        &text,
        hostname.as_deref().map(str::trim),
        &crate::sys::netdev::index_of,
    );
    c.apply_env(
        std::env::var("LOCALDOMAIN").ok().as_deref(),
        std::env::var("RES_OPTIONS").ok().as_deref(),
    );
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    const KUBELET: &str = "search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n";

    #[test]
    fn kubelet_resolv_conf() {
        let c = ResolvConf::parse(KUBELET, Some("dbg"));
        assert_eq!(
            c.search,
            vec![
                "default.svc.cluster.local",
                "svc.cluster.local",
                "cluster.local"
            ]
        );
        assert_eq!(c.nameservers, vec!["10.96.0.10:53".parse().unwrap()]);
        assert_eq!(c.ndots, 5);
        assert_eq!(c.timeout, Duration::from_secs(5));
        assert_eq!(c.attempts, 2);
    }

    #[test]
    fn limits_and_last_wins() {
        let c = ResolvConf::parse(
            "nameserver 1.1.1.1\nnameserver 2.2.2.2\nnameserver 3.3.3.3\nnameserver 4.4.4.4\nsearch a b\ndomain c\noptions ndots:99 timeout:0 attempts:9 rotate\n",
            None,
        );
        assert_eq!(c.nameservers.len(), 3);
        assert_eq!(c.warnings.len(), 1);
        assert_eq!(c.search, vec!["c"]);
        assert_eq!(c.ndots, 15);
        assert_eq!(c.timeout, Duration::from_secs(1));
        assert_eq!(c.attempts, 5);
        assert!(c.rotate);
    }

    #[test]
    fn defaults_from_hostname_and_env() {
        let mut c = ResolvConf::parse("", Some("node1.example.internal"));
        assert_eq!(c.search, vec!["example.internal"]);
        assert_eq!(c.servers(), vec!["127.0.0.1:53".parse().unwrap()]);
        c.apply_env(Some("x.test y.test"), Some("ndots:3 attempts:1"));
        assert_eq!(c.search, vec!["x.test", "y.test"]);
        assert_eq!((c.ndots, c.attempts), (3, 1));
    }

    #[test]
    fn comments_garbage_and_ipv6() {
        let c = ResolvConf::parse_with(
            "# hi \u{fffd}\n; also\nnameserver fe80::1%eth0\nnameserver not-an-ip\nnameserver fe80::2%nosuch\nbogus line\nsearch a.test\n",
            None,
            &|z| (z == "eth0").then_some(7),
        );
        assert_eq!(c.nameservers, vec!["[fe80::1%7]:53".parse().unwrap()]);
        assert_eq!(c.warnings.len(), 2);
        assert_eq!(c.search, vec!["a.test"]);
    }

    /// resolv.conf and /etc/hosts of any bytes parse without panicking.
    #[test]
    fn any_file_bytes_never_panic() {
        crate::testing::check(
            &[
                KUBELET.as_bytes(),
                b"127.0.0.1 localhost\n::1 ip6-localhost ip6-loopback\n",
            ],
            20_000,
            |input| {
                let text = String::from_utf8_lossy(input);
                let c = ResolvConf::parse_with(&text, Some("pod.ns"), &|z| z.parse().ok());
                let _ = c.servers();
                let h = crate::dns::hosts::Hosts::parse(&text);
                let _ = h.lookup("localhost");
            },
        );
    }
}
