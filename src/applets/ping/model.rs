//! What ping prints: iputils' lines and statistics (integer microseconds, its rounding, its
//! `%g` loss), and the `-j` events. Pure.

use serde::Serialize;
use std::fmt::Write;
use std::time::{Duration, SystemTime};

/// iputils' counters (ping_common.c: nreceived, nrepeats, nerrors, tmin/tmax/tsum/tsum2 in µs).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stats {
    pub transmitted: u64,
    pub received: u64,
    pub repeats: u64,
    pub errors: u64,
    pub tmin: i64,
    pub tmax: i64,
    pub tsum: i64,
    pub tsum2: f64,
    /// Replies that carried a time (all of them here).
    pub timed: u64,
}

impl Stats {
    /// gather_statistics(): times count for duplicates too; a duplicate is not "received".
    pub fn record_reply(&mut self, rtt_us: i64, dup: bool) {
        if self.timed == 0 || rtt_us < self.tmin {
            self.tmin = rtt_us;
        }
        if rtt_us > self.tmax {
            self.tmax = rtt_us;
        }
        self.timed += 1;
        self.tsum += rtt_us;
        self.tsum2 += (rtt_us as f64) * (rtt_us as f64);
        if dup {
            self.repeats += 1;
        } else {
            self.received += 1;
        }
    }

    pub fn loss_percent(&self) -> f64 {
        if self.transmitted == 0 {
            return 0.0;
        }
        (self.transmitted.saturating_sub(self.received)) as f64 * 100.0 / self.transmitted as f64
    }

    /// (min, avg, max, mdev) in µs, computed as iputils does (integer, llsqrt).
    pub fn rtt(&self) -> Option<(i64, i64, i64, i64)> {
        if self.received == 0 {
            return None;
        }
        let total = (self.received + self.repeats) as i64;
        let avg = self.tsum / total;
        let var = if self.tsum < i32::MAX as i64 {
            ((self.tsum2 - ((self.tsum * self.tsum) as f64 / total as f64)) / total as f64) as i64
        } else {
            (self.tsum2 / total as f64) as i64 - avg * avg
        };
        Some((self.tmin, avg, self.tmax, isqrt(var)))
    }
}

/// iputils' llsqrt (Newton's method on integers).
fn isqrt(a: i64) -> i64 {
    if a <= 0 {
        return 0;
    }
    let mut prev = i64::MAX;
    let mut x = a;
    while x < prev {
        prev = x;
        x = (x + a / x) / 2;
    }
    x
}

/// C's `%g` (six significant digits, trailing zeros removed), for the loss percentage.
pub fn fmt_g(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let exp = v.abs().log10().floor() as i32;
    if !(-5..6).contains(&exp) {
        return format!("{v:e}");
    }
    let decimals = (5 - exp).max(0) as usize;
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// The reply time as iputils prints it: 3 significant decimals below 1 ms, fewer above.
pub fn rtt_text(us: i64) -> String {
    if us >= 100_000 - 50 {
        format!("{}", (us + 500) / 1000)
    } else if us >= 10_000 - 5 {
        format!("{}.{}", (us + 50) / 1000, ((us + 50) % 1000) / 100)
    } else if us >= 1000 {
        format!("{}.{:02}", (us + 5) / 1000, ((us + 5) % 1000) / 10)
    } else {
        format!("{}.{:03}", us / 1000, us % 1000)
    }
}

fn ms3(us: i64) -> String {
    format!("{}.{:03}", us / 1000, us % 1000)
}

/// `-D`: `[seconds.micros] `.
pub fn timestamp_prefix(t: SystemTime) -> String {
    let d = t.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    format!("[{}.{:06}] ", d.as_secs(), d.subsec_micros())
}

/// The summary block (finish() in ping_common.c), starting with its blank line.
pub fn summary(host: &str, s: &Stats, elapsed: Duration) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "\n--- {host} ping statistics ---\n{} packets transmitted, {} received",
        s.transmitted, s.received
    );
    if s.repeats > 0 {
        let _ = write!(out, ", +{} duplicates", s.repeats);
    }
    if s.errors > 0 {
        let _ = write!(out, ", +{} errors", s.errors);
    }
    if s.transmitted > 0 {
        let ms = elapsed.as_secs() * 1000 + ((elapsed.subsec_nanos() as u64 + 500_000) / 1_000_000);
        let _ = write!(
            out,
            ", {}% packet loss, time {ms}ms",
            fmt_g(s.loss_percent() as f32 as f64)
        );
    }
    out.push('\n');
    // iputils ends with a newline whether or not the rtt line is there (a blank line after 100%
    // loss).
    if let Some((min, avg, max, mdev)) = s.rtt() {
        let _ = write!(
            out,
            "rtt min/avg/max/mdev = {}/{}/{}/{} ms",
            ms3(min),
            ms3(avg),
            ms3(max),
            ms3(mdev)
        );
    }
    out.push('\n');
    out
}

/// One reply line: `64 bytes from 10.244.1.10: icmp_seq=1 ttl=64 time=0.045 ms`.
pub struct ReplyLine<'a> {
    pub stamp: Option<SystemTime>,
    /// None for TCP probes (no payload to count).
    pub bytes: Option<usize>,
    pub from: &'a str,
    pub seq_label: &'a str,
    pub seq: u16,
    pub ttl: Option<u8>,
    pub rtt_us: i64,
    pub dup: bool,
    pub truncated: bool,
    pub note: Option<&'a str>,
}

impl ReplyLine<'_> {
    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Some(t) = self.stamp {
            out.push_str(&timestamp_prefix(t));
        }
        match self.bytes {
            Some(b) => {
                let _ = write!(
                    out,
                    "{b} bytes from {}: {}={}",
                    self.from, self.seq_label, self.seq
                );
            }
            None => {
                let _ = write!(out, "from {}: {}={}", self.from, self.seq_label, self.seq);
            }
        }
        if let Some(t) = self.ttl {
            let _ = write!(out, " ttl={t}");
        }
        if self.truncated {
            out.push_str(" (truncated)\n");
            return out;
        }
        let _ = write!(out, " time={} ms", rtt_text(self.rtt_us));
        if self.dup {
            out.push_str(" (DUP!)");
        }
        if let Some(n) = self.note {
            let _ = write!(out, " ({n})");
        }
        out.push('\n');
        out
    }
}

/// `From 10.244.1.5 icmp_seq=1 Destination Host Unreachable`.
pub fn error_line(
    stamp: Option<SystemTime>,
    from: &str,
    seq_label: &str,
    seq: u16,
    text: &str,
) -> String {
    let mut out = String::new();
    if let Some(t) = stamp {
        out.push_str(&timestamp_prefix(t));
    }
    let _ = writeln!(out, "From {from} {seq_label}={seq} {text}");
    out
}

/// The `-j` events, one JSON object per line.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum JsonEvent<'a> {
    Start {
        host: &'a str,
        addr: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        port: Option<u16>,
        data_bytes: usize,
        probe: &'a str,
    },
    Reply {
        seq: u16,
        from: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        bytes: Option<usize>,
        #[serde(skip_serializing_if = "Option::is_none")]
        ttl: Option<u8>,
        time_ms: f64,
        dup: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        note: Option<&'a str>,
    },
    Error {
        seq: u16,
        from: String,
        error: String,
    },
    Outstanding {
        seq: u16,
    },
    Summary {
        host: &'a str,
        addr: String,
        transmitted: u64,
        received: u64,
        duplicates: u64,
        errors: u64,
        loss_percent: f64,
        time_ms: u64,
        #[serde(skip_serializing_if = "Option::is_none")]
        rtt_ms: Option<RttJson>,
        #[serde(skip_serializing_if = "Option::is_none")]
        hint: Option<String>,
    },
}

#[derive(Debug, Serialize)]
pub struct RttJson {
    pub min: f64,
    pub avg: f64,
    pub max: f64,
    pub mdev: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rtt_rounding_like_iputils() {
        assert_eq!(rtt_text(45), "0.045");
        assert_eq!(rtt_text(999), "0.999");
        assert_eq!(rtt_text(1234), "1.23");
        assert_eq!(rtt_text(9994), "9.99");
        assert_eq!(rtt_text(9995), "10.0");
        assert_eq!(rtt_text(12_345), "12.3");
        assert_eq!(rtt_text(99_950), "100");
        assert_eq!(rtt_text(123_456), "123");
    }

    #[test]
    fn loss_is_printed_with_percent_g() {
        assert_eq!(fmt_g(0.0), "0");
        assert_eq!(fmt_g(100.0), "100");
        assert_eq!(fmt_g(100.0 / 3.0), "33.3333");
        assert_eq!(fmt_g(200.0 / 3.0), "66.6667");
        assert_eq!(fmt_g(50.0), "50");
        assert_eq!(fmt_g(0.5), "0.5");
    }

    #[test]
    fn summary_like_iputils() {
        let mut s = Stats {
            transmitted: 3,
            ..Default::default()
        };
        for us in [45, 60, 51] {
            s.record_reply(us, false);
        }
        let text = summary("10.244.1.10", &s, Duration::from_millis(2003));
        assert_eq!(
            text,
            "\n--- 10.244.1.10 ping statistics ---\n3 packets transmitted, 3 received, 0% packet loss, time 2003ms\nrtt min/avg/max/mdev = 0.045/0.052/0.060/0.006 ms\n"
        );
        let lost = Stats {
            transmitted: 2,
            errors: 2,
            ..Default::default()
        };
        assert_eq!(
            summary("10.244.1.99", &lost, Duration::from_millis(1001)),
            "\n--- 10.244.1.99 ping statistics ---\n2 packets transmitted, 0 received, +2 errors, 100% packet loss, time 1001ms\n\n"
        );
    }

    #[test]
    fn duplicates_count_in_times_not_in_received() {
        let mut s = Stats {
            transmitted: 1,
            ..Default::default()
        };
        s.record_reply(100, false);
        s.record_reply(300, true);
        assert_eq!((s.received, s.repeats), (1, 1));
        assert_eq!(s.rtt().unwrap(), (100, 200, 300, 100));
        assert!(summary("h", &s, Duration::ZERO).contains("+1 duplicates"));
    }

    #[test]
    fn lines() {
        let l = ReplyLine {
            stamp: None,
            bytes: Some(64),
            from: "10.244.1.10",
            seq_label: "icmp_seq",
            seq: 1,
            ttl: Some(64),
            rtt_us: 367,
            dup: false,
            truncated: false,
            note: None,
        };
        assert_eq!(
            l.render(),
            "64 bytes from 10.244.1.10: icmp_seq=1 ttl=64 time=0.367 ms\n"
        );
        assert_eq!(
            error_line(
                None,
                "10.244.1.5",
                "icmp_seq",
                2,
                "Destination Host Unreachable"
            ),
            "From 10.244.1.5 icmp_seq=2 Destination Host Unreachable\n"
        );
        let t = ReplyLine {
            bytes: None,
            from: "10.96.0.100:3000",
            seq_label: "tcp_seq",
            ttl: None,
            note: Some("connection refused"),
            ..l
        };
        assert_eq!(
            t.render(),
            "from 10.96.0.100:3000: tcp_seq=1 time=0.367 ms (connection refused)\n"
        );
    }
}
