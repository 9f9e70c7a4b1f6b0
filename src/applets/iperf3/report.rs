//! iperf3 3.12's text report lines (iperf_locale.c's formats) from plain numbers. Pure.

use super::units::{g2, unit};

pub const SEPARATOR: &str = "- - - - - - - - - - - - - - - - - - - - - - - - -";
pub const SERVER_RULE: &str = "-----------------------------------------------------------";

/// Which column header a block of lines gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Header {
    Plain,
    Retrans,
    RetransCwnd,
    Udp,
    UdpSender,
}

pub fn header(h: Header, bidir: bool) -> String {
    let id = if bidir { "[ ID][Role]" } else { "[ ID]" };
    let cols = match h {
        Header::Plain => "",
        Header::Retrans => "         Retr",
        Header::RetransCwnd => "         Retr  Cwnd",
        Header::Udp => "         Jitter    Lost/Total Datagrams",
        Header::UdpSender => "         Total Datagrams",
    };
    format!("{id} Interval           Transfer     Bitrate{cols}")
}

/// What follows the bitrate on a line.
#[derive(Debug, Clone, PartialEq)]
pub enum Tail {
    Plain,
    Retrans(i64),
    RetransCwnd(i64, u64),
    /// Jitter in ms, lost, total datagrams.
    Udp(f64, i64, i64),
    /// Datagrams sent; `wide` in bidirectional tests (ten spaces more).
    UdpSender(i64, bool),
}

/// One report line. `who` is the stream's socket (or None for `[SUM]`), `role` `[TX-C]` and
/// the like in bidirectional tests, `end_word` "sender", "receiver", "(omitted)" or "".
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub who: Option<i32>,
    pub role: String,
    pub start: f64,
    pub end: f64,
    pub bytes: f64,
    /// Bytes per second.
    pub rate: f64,
    pub tail: Tail,
    pub end_word: &'static str,
}

pub fn line(l: &Line, format: char) -> String {
    let id = match l.who {
        Some(fd) => format!("[{fd:3}]"),
        None => "[SUM]".to_string(),
    };
    let head = format!(
        "{id}{} {:6.2}-{:<6.2} sec  {}s  {}s/sec",
        l.role,
        l.start,
        l.end,
        unit(l.bytes, 'A'),
        unit(l.rate, format)
    );
    let w = l.end_word;
    match &l.tail {
        Tail::Plain => format!("{head}                  {w}"),
        Tail::Retrans(r) => format!("{head}  {r:3}             {w}"),
        Tail::RetransCwnd(r, cwnd) => {
            format!("{head}  {r:3}   {}s       {w}", unit(*cwnd as f64, 'A'))
        }
        Tail::Udp(jitter, lost, total) => {
            let pct = if *total > 0 {
                100.0 * *lost as f64 / *total as f64
            } else {
                0.0
            };
            format!(
                "{head}  {jitter:5.3} ms  {lost}/{total} ({}%)  {w}",
                g2(pct)
            )
        }
        Tail::UdpSender(n, wide) => {
            let z = if *wide { "          " } else { "" };
            format!("{head} {z} {n}  {w}")
        }
    }
}

/// `[  5] local 10.0.0.1 port 45678 connected to 10.0.0.2 port 5201`
pub fn connected(fd: i32, local: &std::net::SocketAddr, remote: &std::net::SocketAddr) -> String {
    format!(
        "[{fd:3}] local {} port {} connected to {} port {}",
        plain_ip(local.ip()),
        local.port(),
        plain_ip(remote.ip()),
        remote.port()
    )
}

/// An address as iperf3 prints it: IPv4-mapped IPv6 addresses as plain IPv4.
pub fn plain_ip(ip: std::net::IpAddr) -> String {
    match ip {
        std::net::IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => v6.to_string(),
        },
        v4 => v4.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(tail: Tail, bytes: f64, rate: f64, word: &'static str) -> Line {
        Line {
            who: Some(5),
            role: String::new(),
            start: 0.0,
            end: 1.0,
            bytes,
            rate,
            tail,
            end_word: word,
        }
    }

    /// Lines copied from iperf3 3.12 runs, with the numbers that made them.
    #[test]
    fn lines_as_iperf3_prints_them() {
        assert_eq!(
            line(
                &l(
                    Tail::RetransCwnd(2, 1_174_405),
                    2_759_360_512.0,
                    2_762_500_000.0,
                    ""
                ),
                'a'
            ),
            "[  5]   0.00-1.00   sec  2.57 GBytes  22.1 Gbits/sec    2   1.12 MBytes       "
        );
        assert_eq!(
            line(
                &l(Tail::Retrans(0), 5_452_595_200.0, 2_726_297_600.0, "sender"),
                'a'
            ),
            "[  5]   0.00-1.00   sec  5.08 GBytes  21.8 Gbits/sec    0             sender"
        );
        assert_eq!(
            line(
                &l(Tail::Plain, 5_452_595_200.0, 2_726_297_600.0, "receiver"),
                'a'
            ),
            "[  5]   0.00-1.00   sec  5.08 GBytes  21.8 Gbits/sec                  receiver"
        );
        assert_eq!(
            line(
                &l(Tail::Udp(0.048, 0, 39), 1_277_952.0, 1_277_952.0, ""),
                'a'
            ),
            "[  5]   0.00-1.00   sec  1.22 MBytes  10.2 Mbits/sec  0.048 ms  0/39 (0%)  "
        );
        assert_eq!(
            line(
                &l(Tail::UdpSender(20, false), 655_360.0, 655_360.0, ""),
                'a'
            ),
            "[  5]   0.00-1.00   sec   640 KBytes  5.24 Mbits/sec  20  "
        );
        let mut sum = l(Tail::Retrans(0), 2_244_120_000.0, 2_237_500_000.0, "");
        sum.who = None;
        assert_eq!(
            line(&sum, 'a'),
            "[SUM]   0.00-1.00   sec  2.09 GBytes  17.9 Gbits/sec    0             "
        );
        let mut bidir = l(Tail::Plain, 2_458_000_000.0, 2_458_000_000.0, "");
        bidir.who = Some(7);
        bidir.role = "[RX-C]".into();
        assert_eq!(
            line(&bidir, 'a'),
            "[  7][RX-C]   0.00-1.00   sec  2.29 GBytes  19.7 Gbits/sec                  "
        );
        assert_eq!(
            header(Header::RetransCwnd, true),
            "[ ID][Role] Interval           Transfer     Bitrate         Retr  Cwnd"
        );
        assert_eq!(
            header(Header::Udp, false),
            "[ ID] Interval           Transfer     Bitrate         Jitter    Lost/Total Datagrams"
        );
    }
}
