//! tracepath's lines (iputils), and the JSON view of a run. Pure.

use serde::Serialize;
use std::net::IpAddr;
use std::time::Duration;

/// The width iputils pads a hop's host column to.
const HOST_COLUMN: usize = 52;

/// What ends a line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A router on the way (time exceeded); `asymm` when the way back seems to have another
    /// number of hops.
    Hop { asymm: Option<u32> },
    /// The path MTU is smaller: this is the new one.
    Pmtu { mtu: u32 },
    /// The destination answered (port unreachable).
    Reached,
    /// An unreachable: `!H`, `!N`, `!A` (prohibited), `!P`.
    Unreachable { code: &'static str },
    /// Any other error (printed as tracepath's NET ERROR).
    Error { errno: i32 },
    /// The probe timed out at the kernel (ETIMEDOUT).
    Timeout,
    /// Three probes at this TTL and no answer.
    NoReply,
}

/// One line of tracepath's output for an error-queue entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Line {
    /// The TTL shown: the probe's own when known (`N:`), the current one otherwise (`N?:`).
    pub ttl: u32,
    pub sure: bool,
    /// None: the local host (`[LOCALHOST]`).
    pub address: Option<IpAddr>,
    #[serde(skip)]
    pub shown: String,
    #[serde(serialize_with = "ms", rename = "rtt_ms")]
    pub rtt: Option<Duration>,
    /// The router garbled the probe's header it quoted back.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub broken: bool,
    #[serde(flatten)]
    pub event: Event,
}

fn ms<S: serde::Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_f64((d.as_secs_f64() * 1e6).round() / 1e3),
        None => s.serialize_none(),
    }
}

/// `host (addr)` as iputils' print_host pads it.
pub fn host_column(a: &str, b: Option<&str>) -> String {
    let mut s = a.to_string();
    if let Some(b) = b {
        s.push_str(&format!(" ({b})"));
    }
    let len = s.chars().count().min(HOST_COLUMN - 1);
    s.push_str(&" ".repeat(HOST_COLUMN - len));
    s
}

impl Line {
    pub fn text(&self) -> String {
        if self.event == Event::NoReply {
            return format!("{:2}:  no reply\n", self.ttl);
        }
        let mut s = match (&self.address, self.sure) {
            (None, _) => format!("{:2}?: {:<32} ", self.ttl, "[LOCALHOST]"),
            (Some(_), true) => format!("{:2}:  {}", self.ttl, self.shown),
            (Some(_), false) => format!("{:2}?: {}", self.ttl, self.shown),
        };
        if let Some(rtt) = self.rtt {
            let us = rtt.as_micros();
            s.push_str(&format!("{:3}.{:03}ms ", us / 1000, us % 1000));
            if self.broken {
                s.push_str("(This broken router returned corrupted payload) ");
            }
        }
        match &self.event {
            Event::Hop { asymm: Some(n) } => s.push_str(&format!("asymm {n:2} ")),
            Event::Hop { asymm: None } | Event::Timeout | Event::Error { .. } | Event::NoReply => {}
            Event::Pmtu { mtu } => s.push_str(&format!("pmtu {mtu}")),
            Event::Reached => s.push_str("reached"),
            Event::Unreachable { code } => s.push_str(code),
        }
        s.push('\n');
        s
    }
}

/// The last line: `     Resume: pmtu N hops N back N `.
pub fn resume(mtu: u32, hops_to: Option<u32>, hops_back: Option<i64>) -> String {
    let mut s = format!("     Resume: pmtu {mtu} ");
    if let Some(h) = hops_to {
        s.push_str(&format!("hops {h} "));
    }
    if let Some(b) = hops_back {
        s.push_str(&format!("back {b} "));
    }
    s.push('\n');
    s
}

#[derive(Debug, Serialize)]
pub struct PathView {
    pub target: String,
    pub address: IpAddr,
    pub pmtu: u32,
    pub hops: Option<u32>,
    pub back: Option<i64>,
    pub reached: bool,
    pub lines: Vec<Line>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_as_iputils_prints_them() {
        let local = Line {
            ttl: 1,
            sure: false,
            address: None,
            shown: String::new(),
            rtt: None,
            broken: false,
            event: Event::Pmtu { mtu: 1500 },
        };
        assert_eq!(
            local.text(),
            " 1?: [LOCALHOST]                      pmtu 1500\n"
        );
        let hop = Line {
            ttl: 3,
            sure: true,
            address: Some(IpAddr::from([10, 3, 0, 2])),
            shown: host_column("10.3.0.2", None),
            rtt: Some(Duration::from_micros(31)),
            broken: false,
            event: Event::Reached,
        };
        assert_eq!(
            hop.text(),
            " 3:  10.3.0.2                                              0.031ms reached\n"
        );
        assert_eq!(
            resume(1400, Some(3), Some(3)),
            "     Resume: pmtu 1400 hops 3 back 3 \n"
        );
        assert_eq!(resume(1500, None, None), "     Resume: pmtu 1500 \n");
        assert_eq!(host_column(&"x".repeat(60), None).len(), 61);
    }
}
