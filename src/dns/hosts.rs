//! /etc/hosts, looked up before DNS as glibc's `files` source does. Pure.

use std::net::IpAddr;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hosts {
    /// (address, canonical name, aliases) per line, in file order.
    entries: Vec<(IpAddr, String, Vec<String>)>,
}

impl Hosts {
    pub fn parse(text: &str) -> Self {
        let mut entries = Vec::new();
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or("");
            let mut words = line.split_whitespace();
            let (Some(addr), Some(name)) = (words.next(), words.next()) else {
                continue;
            };
            let Ok(ip) = addr.split('%').next().unwrap_or(addr).parse::<IpAddr>() else {
                continue;
            };
            entries.push((ip, name.to_string(), words.map(String::from).collect()));
        }
        Hosts { entries }
    }

    pub fn system() -> Self {
        // Bytes, as glibc reads them: a stray non-UTF-8 byte spoils its own word, not the file.
        let bytes = crate::sys::files::read_bounded(std::path::Path::new("/etc/hosts"), 16 << 20)
            .unwrap_or_default();
        Hosts::parse(&String::from_utf8_lossy(&bytes))
    }

    /// Addresses for `name` (case-insensitive, a trailing dot ignored) and the canonical name of
    /// the first matching line.
    pub fn lookup(&self, name: &str) -> Option<(String, Vec<IpAddr>)> {
        let want = name.trim_end_matches('.');
        let mut canon = None;
        let mut addrs = Vec::new();
        for (ip, canonical, aliases) in &self.entries {
            let hit = canonical.eq_ignore_ascii_case(want)
                || aliases.iter().any(|a| a.eq_ignore_ascii_case(want));
            if hit {
                canon.get_or_insert_with(|| canonical.clone());
                if !addrs.contains(ip) {
                    addrs.push(*ip);
                }
            }
        }
        canon.map(|c| (c, addrs))
    }

    /// The canonical name of the first line holding `ip`.
    pub fn reverse(&self, ip: IpAddr) -> Option<String> {
        self.entries
            .iter()
            .find(|(a, _, _)| *a == ip)
            .map(|(_, n, _)| n.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_and_reverse() {
        let h = Hosts::parse(
            "127.0.0.1 localhost\n::1 localhost ip6-localhost # v6\n10.244.1.5\tdbg dbg.default\nbad line\n",
        );
        let (canon, addrs) = h.lookup("LOCALHOST").unwrap();
        assert_eq!(canon, "localhost");
        assert_eq!(addrs.len(), 2);
        assert_eq!(
            h.lookup("dbg.default.").unwrap().1,
            vec!["10.244.1.5".parse::<IpAddr>().unwrap()]
        );
        assert!(h.lookup("web").is_none());
        assert_eq!(
            h.reverse("10.244.1.5".parse().unwrap()).as_deref(),
            Some("dbg")
        );
    }
}
