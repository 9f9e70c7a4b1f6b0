//! Per-hop statistics and mtr's report (text and JSON), as mtr 0.95 prints them. Pure.

use serde::Serialize;
use std::net::IpAddr;

/// One hop's counters, in whole microseconds as mtr keeps them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Hop {
    /// Every address that answered at this TTL, the first one first.
    pub addrs: Vec<IpAddr>,
    pub sent: u32,
    pub returned: u32,
    pub last: i64,
    pub best: i64,
    pub worst: i64,
    avg: f64,
    ssd: f64,
}

impl Hop {
    pub fn sent(&mut self) {
        self.sent += 1;
    }

    /// An answer from `from` after `usec` microseconds (mtr's running mean and variance).
    pub fn answer(&mut self, from: IpAddr, usec: i64) {
        if !self.addrs.contains(&from) {
            self.addrs.push(from);
        }
        self.last = usec;
        if self.returned == 0 {
            self.best = usec;
            self.worst = usec;
            self.avg = 0.0;
            self.ssd = 0.0;
        }
        self.best = self.best.min(usec);
        self.worst = self.worst.max(usec);
        self.returned += 1;
        let old = self.avg;
        self.avg += (usec as f64 - old) / self.returned as f64;
        self.ssd += (usec as f64 - old) * (usec as f64 - self.avg);
    }

    /// Loss in thousandths of a percent (mtr's integer).
    pub fn loss(&self) -> i64 {
        if self.sent == 0 {
            return 0;
        }
        (self.sent - self.returned.min(self.sent)) as i64 * 100_000 / self.sent as i64
    }

    pub fn avg(&self) -> i64 {
        self.avg as i64
    }

    pub fn stdev(&self) -> i64 {
        if self.returned > 1 {
            (self.ssd / (self.returned - 1) as f64).sqrt() as i64
        } else {
            0
        }
    }
}

/// One column of the report: its letter, title, width and how a hop fills it.
struct Field {
    key: char,
    title: &'static str,
    width: usize,
    text: fn(&Hop) -> String,
}

fn ms(usec: i64) -> String {
    format!(" {:5.1}", usec as f64 / 1000.0)
}

/// mtr's data_fields (the ones a report shows).
const FIELDS: &[Field] = &[
    Field {
        key: ' ',
        title: " ",
        width: 1,
        text: |_| " ".into(),
    },
    Field {
        key: 'L',
        title: "Loss%",
        width: 6,
        text: |h| format!(" {:4.1}%", h.loss() as f64 / 1000.0),
    },
    Field {
        key: 'D',
        title: "Drop",
        width: 5,
        text: |h| format!(" {:4}", h.sent - h.returned.min(h.sent)),
    },
    Field {
        key: 'R',
        title: "Rcv",
        width: 6,
        text: |h| format!(" {:5}", h.returned),
    },
    Field {
        key: 'S',
        title: "Snt",
        width: 6,
        text: |h| format!(" {:5}", h.sent),
    },
    Field {
        key: 'N',
        title: "Last",
        width: 6,
        text: |h| ms(h.last),
    },
    Field {
        key: 'B',
        title: "Best",
        width: 6,
        text: |h| ms(h.best),
    },
    Field {
        key: 'A',
        title: "Avg",
        width: 6,
        text: |h| ms(h.avg()),
    },
    Field {
        key: 'W',
        title: "Wrst",
        width: 6,
        text: |h| ms(h.worst),
    },
    Field {
        key: 'V',
        title: "StDev",
        width: 6,
        text: |h| ms(h.stdev()),
    },
];

fn field(key: char) -> Option<&'static Field> {
    FIELDS.iter().find(|f| f.key == key)
}

/// Write `text` at column `at` the way mtr's snprintf(buf + len) does: whatever stood there
/// (a long name, the end of a wider value) is cut off.
fn put(buf: &mut String, at: usize, text: &str) {
    let mut chars: Vec<char> = buf.chars().collect();
    chars.resize(at, ' ');
    buf.clear();
    buf.extend(chars);
    buf.push_str(text);
}

/// The hops shown: up to the first that is the destination or ends the path (an
/// unreachable), else one past the last that answered (mtr's net_max).
pub fn shown(hops: &[Hop], dst: IpAddr, ends: &[bool]) -> usize {
    let mut max = 0;
    for (at, h) in hops.iter().enumerate() {
        if h.addrs.first() == Some(&dst) || ends.get(at).copied().unwrap_or(false) {
            return at + 1;
        }
        if !h.addrs.is_empty() {
            max = at + 2;
        }
    }
    max.min(hops.len())
}

pub struct Report<'a> {
    pub local_host: &'a str,
    pub hops: &'a [Hop],
    /// Index of the first TTL probed (`-f`).
    pub first: usize,
    pub count: usize,
    pub fields: &'a str,
    pub wide: bool,
}

impl Report<'_> {
    pub fn text(&self, name: &mut dyn FnMut(IpAddr) -> String) -> String {
        let hops = &self.hops[self.first.min(self.count)..self.count];
        let names: Vec<String> = hops
            .iter()
            .map(|h| {
                h.addrs
                    .first()
                    .map_or_else(|| "???".to_string(), |a| name(*a))
            })
            .collect();
        let len_hosts = if self.wide {
            names
                .iter()
                .map(|n| n.chars().count())
                .chain(std::iter::once(self.local_host.chars().count()))
                .max()
                .unwrap_or(0)
        } else {
            33
        };
        let mut out = String::new();
        let mut line = format!("HOST: {:<len_hosts$}", self.local_host);
        let mut at = if self.wide {
            line.chars().count()
        } else {
            len_hosts
        };
        for f in self.fields.chars().filter_map(field) {
            put(&mut line, at, &format!("{:>w$}", f.title, w = f.width));
            at += f.width;
        }
        out.push_str(&line);
        out.push('\n');
        for (i, (h, n)) in hops.iter().zip(&names).enumerate() {
            let mut line = format!(" {:2}.|-- {:<len_hosts$}", self.first + i + 1, n);
            let mut at = if self.wide {
                line.chars().count()
            } else {
                len_hosts
            };
            for f in self.fields.chars().filter_map(field) {
                put(&mut line, at, &(f.text)(h));
                at += f.width;
            }
            out.push_str(&line);
            out.push('\n');
            for (z, extra) in h.addrs.iter().enumerate().skip(1) {
                let lead = if z == 1 {
                    "    |  `|-- "
                } else {
                    "    |   |-- "
                };
                out.push_str(&format!("{lead}{extra}\n"));
            }
        }
        out
    }

    /// mtr --json's shape.
    pub fn json(
        &self,
        dst: &str,
        packet_size: usize,
        tests: u32,
        name: &mut dyn FnMut(IpAddr) -> String,
    ) -> JsonReport {
        let hubs = self.hops[self.first.min(self.count)..self.count]
            .iter()
            .enumerate()
            .map(|(i, h)| Hub {
                count: self.first + i + 1,
                host: h
                    .addrs
                    .first()
                    .map_or_else(|| "???".to_string(), |a| name(*a)),
                loss: h.loss() as f64 / 1000.0,
                sent: h.sent,
                last: h.last as f64 / 1000.0,
                avg: h.avg() as f64 / 1000.0,
                best: h.best as f64 / 1000.0,
                worst: h.worst as f64 / 1000.0,
                stdev: h.stdev() as f64 / 1000.0,
            })
            .collect();
        JsonReport {
            report: Body {
                mtr: Meta {
                    src: self.local_host.to_string(),
                    dst: dst.to_string(),
                    tos: 0,
                    tests,
                    psize: packet_size.to_string(),
                    bitpattern: "0x00",
                },
                hubs,
            },
        }
    }
}

#[derive(Debug, Serialize)]
pub struct JsonReport {
    report: Body,
}

#[derive(Debug, Serialize)]
struct Body {
    mtr: Meta,
    hubs: Vec<Hub>,
}

#[derive(Debug, Serialize)]
struct Meta {
    src: String,
    dst: String,
    tos: u8,
    tests: u32,
    psize: String,
    bitpattern: &'static str,
}

#[derive(Debug, Serialize)]
struct Hub {
    count: usize,
    host: String,
    #[serde(rename = "Loss%")]
    loss: f64,
    #[serde(rename = "Snt")]
    sent: u32,
    #[serde(rename = "Last")]
    last: f64,
    #[serde(rename = "Avg")]
    avg: f64,
    #[serde(rename = "Best")]
    best: f64,
    #[serde(rename = "Wrst")]
    worst: f64,
    #[serde(rename = "StDev")]
    stdev: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hop(addr: Option<[u8; 4]>, samples: &[i64], sent: u32) -> Hop {
        let mut h = Hop::default();
        for _ in 0..sent {
            h.sent();
        }
        for s in samples {
            h.answer(IpAddr::from(addr.unwrap()), *s);
        }
        h
    }

    #[test]
    fn report_as_mtr_prints_it() {
        let hops = vec![hop(Some([10, 1, 0, 1]), &[110, 118], 2), hop(None, &[], 2)];
        let r = Report {
            local_host: "vm",
            hops: &hops,
            first: 0,
            count: 2,
            fields: super::super::cli::DEFAULT_FIELDS,
            wide: false,
        };
        let text = r.text(&mut |ip| ip.to_string());
        assert_eq!(
            text,
            "HOST: vm                          Loss%   Snt   Last   Avg  Best  Wrst StDev\n  1.|-- 10.1.0.1                   0.0%     2    0.1   0.1   0.1   0.1   0.0\n  2.|-- ???                       100.0     2    0.0   0.0   0.0   0.0   0.0\n"
        );
        assert_eq!((hops[0].avg(), hops[0].stdev()), (114, 5));
        let wide = Report { wide: true, ..r };
        assert!(
            wide.text(&mut |ip| ip.to_string())
                .starts_with("HOST: vm       Loss%")
        );
    }

    #[test]
    fn shown_hops_follow_net_max() {
        let dst = IpAddr::from([10, 3, 0, 2]);
        let hops = vec![
            hop(Some([10, 1, 0, 1]), &[1], 1),
            hop(None, &[], 1),
            hop(None, &[], 1),
        ];
        assert_eq!(shown(&hops, dst, &[]), 2);
        let hops = vec![
            hop(Some([10, 1, 0, 1]), &[1], 1),
            hop(Some([10, 3, 0, 2]), &[1], 1),
            hop(Some([10, 3, 0, 2]), &[1], 1),
        ];
        assert_eq!(shown(&hops, dst, &[]), 2);
    }
}
