//! `ip -s link` counters: text (print_stats64) and `-j` keys.

use super::*;
use serde::ser::{Serialize, SerializeMap, Serializer};
use std::fmt::Write;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    pub rx_packets: u64,
    pub tx_packets: u64,
    pub rx_bytes: u64,
    pub tx_bytes: u64,
    pub rx_errors: u64,
    pub tx_errors: u64,
    pub rx_dropped: u64,
    pub tx_dropped: u64,
    pub multicast: u64,
    pub collisions: u64,
    pub rx_length_errors: u64,
    pub rx_over_errors: u64,
    pub rx_crc_errors: u64,
    pub rx_frame_errors: u64,
    pub rx_fifo_errors: u64,
    pub rx_missed_errors: u64,
    pub tx_aborted_errors: u64,
    pub tx_carrier_errors: u64,
    pub tx_fifo_errors: u64,
    pub tx_heartbeat_errors: u64,
    pub tx_window_errors: u64,
    pub rx_compressed: u64,
    pub tx_compressed: u64,
    pub rx_nohandler: u64,
    pub rx_otherhost_dropped: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkStats {
    /// "stats64", or "stats" when the kernel only gave 32-bit counters.
    pub key: &'static str,
    pub counters: Counters,
    pub carrier_changes: Option<u32>,
    /// How many -s were given (2 adds the error breakdown).
    pub level: u8,
}

/// One "RX:" or "TX:" block of `ip -s link`: the heading line and the six counters under it,
/// with a seventh column ("compressed") only when its counter is not zero.
fn counter_block(
    out: &mut String,
    cols: &[usize; 8],
    layout: &Layout,
    dir: &str,
    names: [&str; 6],
    values: [u64; 6],
    compressed: u64,
) {
    let sl = layout.sl;
    let _ = write!(
        out,
        "    {dir}: {:>w0$} {:>w1$} {:>w2$} {:>w3$} {:>w4$} {:>w5$} {:>w6$}{sl}",
        names[0],
        names[1],
        names[2],
        names[3],
        names[4],
        names[5],
        if compressed != 0 { "compressed" } else { "" },
        w0 = cols[0] - 4,
        w1 = cols[1],
        w2 = cols[2],
        w3 = cols[3],
        w4 = cols[4],
        w5 = cols[5],
        w6 = cols[6],
    );
    out.push_str("    ");
    for (w, v) in cols.iter().zip(values) {
        write_num(out, *w, v, layout);
    }
    if compressed != 0 {
        write_num(out, cols[6], compressed, layout);
    }
}

impl LinkStats {
    /// Column widths: iproute2 widens a column to its largest number (not with -h).
    fn widths(&self, layout: &Layout) -> [usize; 8] {
        let s = &self.counters;
        let mut cols = [10usize, 7, 6, 7, 7, 7, 10, 9];
        if layout.human {
            return cols;
        }
        let mut rows = vec![
            [
                s.rx_bytes,
                s.rx_packets,
                s.rx_errors,
                s.rx_dropped,
                s.rx_missed_errors,
                s.multicast,
                s.rx_compressed,
                0,
            ],
            [
                s.tx_bytes,
                s.tx_packets,
                s.tx_errors,
                s.tx_dropped,
                s.tx_carrier_errors,
                s.collisions,
                s.tx_compressed,
                0,
            ],
        ];
        if self.level > 1 {
            rows.push([
                0,
                s.rx_length_errors,
                s.rx_crc_errors,
                s.rx_frame_errors,
                s.rx_fifo_errors,
                s.rx_over_errors,
                s.rx_nohandler,
                s.rx_otherhost_dropped,
            ]);
            rows.push([
                0,
                0,
                s.tx_aborted_errors,
                s.tx_fifo_errors,
                s.tx_window_errors,
                s.tx_heartbeat_errors,
                self.carrier_changes.unwrap_or(0) as u64,
                0,
            ]);
        }
        for row in rows {
            for (c, v) in cols.iter_mut().zip(row) {
                *c = (*c).max(digits(v));
            }
        }
        cols
    }

    /// iproute2's print_stats64 in text mode.
    pub fn render(&self, out: &mut String, layout: &Layout) {
        let s = &self.counters;
        let cols = self.widths(layout);
        counter_block(
            out,
            &cols,
            layout,
            "RX",
            ["bytes", "packets", "errors", "dropped", "missed", "mcast"],
            [
                s.rx_bytes,
                s.rx_packets,
                s.rx_errors,
                s.rx_dropped,
                s.rx_missed_errors,
                s.multicast,
            ],
            s.rx_compressed,
        );
        if self.level > 1 {
            self.rx_errors(out, &cols, layout);
        }
        out.push_str(layout.sl);
        counter_block(
            out,
            &cols,
            layout,
            "TX",
            [
                "bytes", "packets", "errors", "dropped", "carrier", "collsns",
            ],
            [
                s.tx_bytes,
                s.tx_packets,
                s.tx_errors,
                s.tx_dropped,
                s.tx_carrier_errors,
                s.collisions,
            ],
            s.tx_compressed,
        );
        if self.level > 1 {
            self.tx_errors(out, &cols, layout);
        }
    }

    /// `-s -s`: the receive errors, with nohandler and otherhost only when not zero.
    fn rx_errors(&self, out: &mut String, cols: &[usize; 8], layout: &Layout) {
        let s = &self.counters;
        let sl = layout.sl;
        out.push_str(sl);
        let _ = write!(
            out,
            "    RX errors:{:w0$} {:>w1$} {:>w2$} {:>w3$} {:>w4$} {:>w5$}{:>w6$}{:>w7$}{sl}",
            "",
            "length",
            "crc",
            "frame",
            "fifo",
            "overrun",
            if s.rx_nohandler != 0 {
                " nohandler"
            } else {
                ""
            },
            if s.rx_otherhost_dropped != 0 {
                " otherhost"
            } else {
                ""
            },
            w0 = cols[0] - 10,
            w1 = cols[1],
            w2 = cols[2],
            w3 = cols[3],
            w4 = cols[4],
            w5 = cols[5],
            w6 = if s.rx_nohandler != 0 { cols[6] + 1 } else { 0 },
            w7 = if s.rx_otherhost_dropped != 0 {
                cols[7] + 1
            } else {
                0
            },
        );
        let _ = write!(out, "{:w$}", "", w = cols[0] + 5);
        for (w, v) in cols[1..].iter().zip([
            s.rx_length_errors,
            s.rx_crc_errors,
            s.rx_frame_errors,
            s.rx_fifo_errors,
            s.rx_over_errors,
        ]) {
            write_num(out, *w, v, layout);
        }
        if s.rx_nohandler != 0 {
            write_num(out, cols[6], s.rx_nohandler, layout);
        }
        if s.rx_otherhost_dropped != 0 {
            write_num(out, cols[7], s.rx_otherhost_dropped, layout);
        }
    }

    /// `-s -s`: the transmit errors and the carrier transitions.
    fn tx_errors(&self, out: &mut String, cols: &[usize; 8], layout: &Layout) {
        let s = &self.counters;
        let sl = layout.sl;
        out.push_str(sl);
        let _ = write!(
            out,
            "    TX errors:{:w0$} {:>w1$} {:>w2$} {:>w3$} {:>w4$} {:>w5$}{sl}",
            "",
            "aborted",
            "fifo",
            "window",
            "heartbt",
            if self.carrier_changes.is_some() {
                "transns"
            } else {
                ""
            },
            w0 = cols[0] - 10,
            w1 = cols[1],
            w2 = cols[2],
            w3 = cols[3],
            w4 = cols[4],
            w5 = cols[5],
        );
        let _ = write!(out, "{:w$}", "", w = cols[0] + 5);
        for (w, v) in cols[1..].iter().zip([
            s.tx_aborted_errors,
            s.tx_fifo_errors,
            s.tx_window_errors,
            s.tx_heartbeat_errors,
        ]) {
            write_num(out, *w, v, layout);
        }
        if let Some(cc) = self.carrier_changes {
            write_num(out, cols[5], cc as u64, layout);
        }
    }
}

impl Serialize for LinkStats {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let s = &self.counters;
        let mut m = ser.serialize_map(None)?;
        let mut rx: Vec<(&str, u64)> = vec![
            ("bytes", s.rx_bytes),
            ("packets", s.rx_packets),
            ("errors", s.rx_errors),
            ("dropped", s.rx_dropped),
            ("over_errors", s.rx_over_errors),
            ("multicast", s.multicast),
        ];
        if s.rx_compressed != 0 {
            rx.push(("compressed", s.rx_compressed));
        }
        if self.level > 1 {
            rx.extend([
                ("length_errors", s.rx_length_errors),
                ("crc_errors", s.rx_crc_errors),
                ("frame_errors", s.rx_frame_errors),
                ("fifo_errors", s.rx_fifo_errors),
                ("missed_errors", s.rx_missed_errors),
            ]);
            if s.rx_nohandler != 0 {
                rx.push(("nohandler", s.rx_nohandler));
            }
            if s.rx_otherhost_dropped != 0 {
                rx.push(("otherhost", s.rx_otherhost_dropped));
            }
        }
        let mut tx: Vec<(&str, u64)> = vec![
            ("bytes", s.tx_bytes),
            ("packets", s.tx_packets),
            ("errors", s.tx_errors),
            ("dropped", s.tx_dropped),
            ("carrier_errors", s.tx_carrier_errors),
            ("collisions", s.collisions),
        ];
        if s.tx_compressed != 0 {
            tx.push(("compressed", s.tx_compressed));
        }
        if self.level > 1 {
            tx.extend([
                ("aborted_errors", s.tx_aborted_errors),
                ("fifo_errors", s.tx_fifo_errors),
                ("window_errors", s.tx_window_errors),
                ("heartbeat_errors", s.tx_heartbeat_errors),
            ]);
            if let Some(cc) = self.carrier_changes {
                tx.push(("carrier_changes", cc as u64));
            }
        }
        m.serialize_entry("rx", &Pairs(&rx))?;
        m.serialize_entry("tx", &Pairs(&tx))?;
        m.end()
    }
}
