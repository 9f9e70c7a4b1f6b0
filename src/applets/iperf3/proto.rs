//! iperf3's control protocol (3.x): the cookie that names a test, the one-byte states, the
//! JSON documents framed by a 4-byte big-endian length (the parameters the client sends, the
//! results both sides exchange), and the UDP stream handshake. Pure, except for the framing
//! helpers that read and write a stream with a deadline.

use serde_json::{Map, Value, json};
use std::io::{self, Read, Write};

pub const COOKIE_SIZE: usize = 37;
pub const DEFAULT_PORT: u16 = 5201;
pub const DEFAULT_TCP_LEN: usize = 128 * 1024;
pub const DEFAULT_UDP_LEN: usize = 1460;
/// The default UDP rate: 1 Mbit/s as iperf3 counts it (1024 * 1024).
pub const DEFAULT_UDP_RATE: f64 = 1024.0 * 1024.0;
/// The largest UDP payload (65535 - 8 - 20).
pub const MAX_UDP_LEN: usize = 65535 - 8 - 20;
/// The largest TCP block (iperf3's MAX_BLOCKSIZE): also what a peer may make this side hold.
pub const MAX_TCP_LEN: usize = 1024 * 1024;
/// Parameter and result documents larger than this are refused (a hostile peer).
pub const MAX_JSON: u32 = 8 * 1024 * 1024;

/// The client's 4-byte hello on a UDP stream and the server's reply (written in host order by
/// iperf3, so both byte orders are accepted), and the reply of servers before 3.1.
pub const UDP_CONNECT_MSG: u32 = 0x3637_3839;
pub const UDP_CONNECT_REPLY: u32 = 0x3938_3736;
pub const LEGACY_UDP_CONNECT_REPLY: u32 = 987_654_321;

/// The states of a test, as the one signed byte on the control connection says them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    TestStart,
    TestRunning,
    TestEnd,
    ParamExchange,
    CreateStreams,
    ServerTerminate,
    ClientTerminate,
    ExchangeResults,
    DisplayResults,
    IperfStart,
    IperfDone,
    AccessDenied,
    ServerError,
    Unknown(i8),
}

impl State {
    pub fn from_byte(b: u8) -> State {
        match b as i8 {
            1 => State::TestStart,
            2 => State::TestRunning,
            4 => State::TestEnd,
            9 => State::ParamExchange,
            10 => State::CreateStreams,
            11 => State::ServerTerminate,
            12 => State::ClientTerminate,
            13 => State::ExchangeResults,
            14 => State::DisplayResults,
            15 => State::IperfStart,
            16 => State::IperfDone,
            -1 => State::AccessDenied,
            -2 => State::ServerError,
            n => State::Unknown(n),
        }
    }

    pub fn byte(self) -> u8 {
        (match self {
            State::TestStart => 1,
            State::TestRunning => 2,
            State::TestEnd => 4,
            State::ParamExchange => 9,
            State::CreateStreams => 10,
            State::ServerTerminate => 11,
            State::ClientTerminate => 12,
            State::ExchangeResults => 13,
            State::DisplayResults => 14,
            State::IperfStart => 15,
            State::IperfDone => 16,
            State::AccessDenied => -1,
            State::ServerError => -2,
            State::Unknown(n) => n,
        }) as u8
    }
}

/// A new test's cookie: 36 characters of iperf3's alphabet and a NUL.
pub fn make_cookie() -> [u8; COOKIE_SIZE] {
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut out = [0u8; COOKIE_SIZE];
    let mut random = [0u8; COOKIE_SIZE];
    if getrandom(&mut random).is_err() {
        // Time and pid, spread: a cookie only has to tell concurrent tests apart.
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0)
            ^ ((std::process::id() as u64) << 32);
        let mut x = seed | 1;
        for b in random.iter_mut() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *b = x as u8;
        }
    }
    for (o, r) in out.iter_mut().zip(random.iter()).take(COOKIE_SIZE - 1) {
        *o = CHARS[(*r as usize) % CHARS.len()];
    }
    out
}

fn getrandom(buf: &mut [u8]) -> io::Result<()> {
    let mut f = std::fs::File::open("/dev/urandom")?;
    f.read_exact(buf)
}

/// The cookie as text (up to its NUL).
pub fn cookie_text(c: &[u8]) -> String {
    let end = c.iter().position(|b| *b == 0).unwrap_or(c.len());
    String::from_utf8_lossy(&c[..end]).into_owned()
}

/// Write one JSON document: its length (4 bytes, big-endian), then the text.
pub fn write_json(w: &mut impl Write, v: &Value) -> io::Result<()> {
    let text = serde_json::to_vec(v).map_err(io::Error::other)?;
    let mut buf = Vec::with_capacity(4 + text.len());
    buf.extend_from_slice(&(text.len() as u32).to_be_bytes());
    buf.extend_from_slice(&text);
    w.write_all(&buf)
}

/// Read one JSON document (an object), at most MAX_JSON bytes.
pub fn read_json(r: &mut impl Read) -> io::Result<Value> {
    let mut len = [0u8; 4];
    r.read_exact(&mut len)?;
    let n = u32::from_be_bytes(len);
    if n > MAX_JSON {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("a {n}-byte JSON document"),
        ));
    }
    let mut body = vec![0u8; n as usize];
    r.read_exact(&mut body)?;
    parse_object(&body)
}

/// A JSON object from bytes (what the length prefix announced).
pub fn parse_object(body: &[u8]) -> io::Result<Value> {
    let v: Value =
        serde_json::from_slice(body).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    if !v.is_object() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "not a JSON object",
        ));
    }
    Ok(v)
}

/// The test's parameters: what the client asks for and the server follows.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    pub udp: bool,
    pub omit: u32,
    pub time: u32,
    pub bytes: u64,
    pub blocks: u64,
    pub parallel: u32,
    pub reverse: bool,
    pub bidirectional: bool,
    pub window: u32,
    pub len: usize,
    /// Bits per second per stream; 0: unlimited.
    pub bandwidth: u64,
    pub pacing_timer: u32,
    pub mss: u32,
    pub nodelay: bool,
    pub congestion: Option<String>,
    pub udp_counters_64bit: bool,
    pub client_version: Option<String>,
    pub title: Option<String>,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            udp: false,
            omit: 0,
            time: 10,
            bytes: 0,
            blocks: 0,
            parallel: 1,
            reverse: false,
            bidirectional: false,
            window: 0,
            len: DEFAULT_TCP_LEN,
            bandwidth: 0,
            pacing_timer: 1000,
            mss: 0,
            nodelay: false,
            congestion: None,
            udp_counters_64bit: false,
            client_version: None,
            title: None,
        }
    }
}

impl Params {
    /// The document iperf3's client sends (send_parameters): only the keys that are set.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert(if self.udp { "udp" } else { "tcp" }.into(), json!(true));
        m.insert("omit".into(), json!(self.omit));
        m.insert("time".into(), json!(self.time));
        m.insert("num".into(), json!(self.bytes));
        m.insert("blockcount".into(), json!(self.blocks));
        if self.mss > 0 {
            m.insert("MSS".into(), json!(self.mss));
        }
        if self.nodelay {
            m.insert("nodelay".into(), json!(true));
        }
        m.insert("parallel".into(), json!(self.parallel));
        if self.reverse {
            m.insert("reverse".into(), json!(true));
        }
        if self.bidirectional {
            m.insert("bidirectional".into(), json!(true));
        }
        if self.window > 0 {
            m.insert("window".into(), json!(self.window));
        }
        m.insert("len".into(), json!(self.len));
        if self.bandwidth > 0 {
            m.insert("bandwidth".into(), json!(self.bandwidth));
        }
        m.insert("pacing_timer".into(), json!(self.pacing_timer));
        if let Some(t) = &self.title {
            m.insert("title".into(), json!(t));
        }
        if let Some(c) = &self.congestion {
            m.insert("congestion".into(), json!(c));
        }
        if self.udp_counters_64bit {
            m.insert("udp_counters_64bit".into(), json!(1));
        }
        m.insert(
            "client_version".into(),
            json!(self.client_version.as_deref().unwrap_or(super::VERSION)),
        );
        Value::Object(m)
    }

    /// What a client sent (get_parameters): a key's presence sets a flag; numbers may come as
    /// integers or floats. Out-of-range values are refused.
    pub fn from_json(v: &Value) -> Result<Params, String> {
        let has = |k: &str| v.get(k).is_some();
        let num = |k: &str| -> Result<Option<f64>, String> {
            match v.get(k) {
                None | Some(Value::Null) => Ok(None),
                Some(x) => x
                    .as_f64()
                    .filter(|n| n.is_finite() && *n >= 0.0)
                    .map(Some)
                    .ok_or_else(|| format!("parameter {k}: not a number >= 0")),
            }
        };
        let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        let mut p = Params {
            udp: has("udp"),
            reverse: has("reverse"),
            bidirectional: has("bidirectional"),
            nodelay: has("nodelay"),
            udp_counters_64bit: has("udp_counters_64bit"),
            congestion: text("congestion"),
            client_version: text("client_version"),
            title: text("title"),
            ..Params::default()
        };
        let small = |k: &str, n: f64, max: f64| -> Result<f64, String> {
            if n > max {
                Err(format!("parameter {k}: {n} is out of range"))
            } else {
                Ok(n)
            }
        };
        if let Some(n) = num("omit")? {
            p.omit = small("omit", n, 86400.0)? as u32;
        }
        if let Some(n) = num("time")? {
            p.time = small("time", n, 86400.0)? as u32;
        }
        if let Some(n) = num("num")? {
            p.bytes = n as u64;
        }
        if let Some(n) = num("blockcount")? {
            p.blocks = n as u64;
        }
        if let Some(n) = num("parallel")? {
            p.parallel = small("parallel", n, 128.0)?.max(1.0) as u32;
        }
        if let Some(n) = num("window")? {
            p.window = small("window", n, i32::MAX as f64)? as u32;
        }
        p.len = if p.udp {
            DEFAULT_UDP_LEN
        } else {
            DEFAULT_TCP_LEN
        };
        if let Some(n) = num("len")? {
            let max = if p.udp { MAX_UDP_LEN } else { MAX_TCP_LEN };
            p.len = (small("len", n, max as f64)? as usize).max(16);
        }
        if let Some(n) = num("bandwidth")? {
            p.bandwidth = n as u64;
        }
        if let Some(n) = num("pacing_timer")? {
            p.pacing_timer = small("pacing_timer", n, 1e9)? as u32;
        }
        if let Some(n) = num("MSS")? {
            p.mss = small("MSS", n, 65535.0)? as u32;
        }
        Ok(p)
    }
}

/// One stream's line in the results document.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamResult {
    pub id: i64,
    pub bytes: u64,
    /// -1 when this side does not count them (it received, or has no TCP_INFO).
    pub retransmits: i64,
    /// Seconds (the receiver's RFC 1889 estimate; 0 from a sender).
    pub jitter: f64,
    pub errors: i64,
    pub packets: i64,
    pub start_time: f64,
    pub end_time: f64,
}

/// The results document each side sends the other after the test.
#[derive(Debug, Clone, PartialEq)]
pub struct Results {
    pub cpu_util: [f64; 3],
    /// 1 yes, 0 no, -1 this side only received.
    pub sender_has_retransmits: i64,
    pub congestion_used: Option<String>,
    pub streams: Vec<StreamResult>,
}

impl Results {
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("cpu_util_total".into(), json!(self.cpu_util[0]));
        m.insert("cpu_util_user".into(), json!(self.cpu_util[1]));
        m.insert("cpu_util_system".into(), json!(self.cpu_util[2]));
        m.insert(
            "sender_has_retransmits".into(),
            json!(self.sender_has_retransmits),
        );
        if let Some(c) = &self.congestion_used {
            m.insert("congestion_used".into(), json!(c));
        }
        let streams: Vec<Value> = self
            .streams
            .iter()
            .map(|s| {
                json!({"id": s.id, "bytes": s.bytes, "retransmits": s.retransmits,
                       "jitter": s.jitter, "errors": s.errors, "packets": s.packets,
                       "start_time": s.start_time, "end_time": s.end_time})
            })
            .collect();
        m.insert("streams".into(), Value::Array(streams));
        Value::Object(m)
    }

    /// get_results: the CPU figures, sender_has_retransmits and each stream's id, bytes,
    /// retransmits, jitter, errors and packets are required; the times are optional (servers
    /// before 3.2 leave them out).
    pub fn from_json(v: &Value) -> Result<Results, String> {
        let f = |o: &Value, k: &str| -> Result<f64, String> {
            o.get(k)
                .and_then(Value::as_f64)
                .filter(|n| n.is_finite())
                .ok_or_else(|| format!("results: {k} missing"))
        };
        let cpu_util = [
            f(v, "cpu_util_total")?,
            f(v, "cpu_util_user")?,
            f(v, "cpu_util_system")?,
        ];
        let sender_has_retransmits = f(v, "sender_has_retransmits")? as i64;
        let list = v
            .get("streams")
            .and_then(Value::as_array)
            .ok_or("results: streams missing")?;
        let mut streams = Vec::with_capacity(list.len().min(256));
        for s in list.iter().take(1024) {
            streams.push(StreamResult {
                id: f(s, "id")? as i64,
                bytes: f(s, "bytes")?.max(0.0) as u64,
                retransmits: f(s, "retransmits")? as i64,
                jitter: f(s, "jitter")?,
                errors: f(s, "errors")? as i64,
                packets: f(s, "packets")? as i64,
                start_time: f(s, "start_time").unwrap_or(0.0),
                end_time: f(s, "end_time").unwrap_or(0.0),
            });
        }
        Ok(Results {
            cpu_util,
            sender_has_retransmits,
            congestion_used: v
                .get("congestion_used")
                .and_then(Value::as_str)
                .map(str::to_string),
            streams,
        })
    }
}

/// The stream ids iperf3 gives streams in the order they are made: 1, then 3, 4, 5, …
pub fn stream_id(index: usize) -> i64 {
    if index == 0 { 1 } else { index as i64 + 2 }
}

/// The UDP packet header: send time (seconds, microseconds) and sequence number, big-endian,
/// the number in 32 or 64 bits.
pub fn udp_header(buf: &mut [u8], secs: u32, usecs: u32, seq: u64, wide: bool) {
    if buf.len() < 12 {
        return;
    }
    buf[0..4].copy_from_slice(&secs.to_be_bytes());
    buf[4..8].copy_from_slice(&usecs.to_be_bytes());
    if wide && buf.len() >= 16 {
        buf[8..16].copy_from_slice(&seq.to_be_bytes());
    } else {
        buf[8..12].copy_from_slice(&(seq as u32).to_be_bytes());
    }
}

/// A received UDP packet's header: (seconds, microseconds, sequence); None when too short.
pub fn read_udp_header(buf: &[u8], wide: bool) -> Option<(u32, u32, u64)> {
    let secs = u32::from_be_bytes(buf.get(0..4)?.try_into().ok()?);
    let usecs = u32::from_be_bytes(buf.get(4..8)?.try_into().ok()?);
    let seq = if wide {
        u64::from_be_bytes(buf.get(8..16)?.try_into().ok()?)
    } else {
        u32::from_be_bytes(buf.get(8..12)?.try_into().ok()?) as u64
    };
    Some((secs, usecs, seq))
}

/// The words iperf3 uses for a server's error number (i_errno) where the client shows them.
pub fn server_error_words(code: i32) -> String {
    match code {
        1 => "bad parameter".into(),
        100 => "unable to start listener for connections".into(),
        101 => "unable to connect to server".into(),
        102 => "unable to accept connection from client".into(),
        107 => "control socket has closed unexpectedly".into(),
        111 => "unable to receive parameters from client".into(),
        200 => "unable to create a new stream".into(),
        201 => "unable to initialize stream".into(),
        202 => "unable to start stream listener".into(),
        203 => "unable to connect stream".into(),
        204 => "unable to accept stream connection".into(),
        n => format!("server error {n}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_round_trip_as_iperf3_sends_them() {
        let p = Params {
            udp: true,
            time: 3,
            parallel: 4,
            reverse: true,
            bandwidth: 10_000_000,
            len: 1448,
            ..Params::default()
        };
        let v = p.to_json();
        assert_eq!(v["udp"], true);
        assert!(v.get("tcp").is_none());
        assert_eq!(v["parallel"], 4);
        assert_eq!(v["client_version"], super::super::VERSION);
        let back = Params::from_json(&v).unwrap();
        assert_eq!(back.bandwidth, 10_000_000);
        assert_eq!(back.len, 1448);
        assert!(back.udp && back.reverse && !back.bidirectional);
        // What iperf3 3.12 sends for `-c HOST -t 1`.
        let real: Value = serde_json::from_str(
            r#"{"tcp":true,"omit":0,"time":1,"num":0,"blockcount":0,"parallel":1,"len":131072,"pacing_timer":1000,"client_version":"3.12"}"#,
        )
        .unwrap();
        let p = Params::from_json(&real).unwrap();
        assert_eq!((p.udp, p.time, p.len, p.parallel), (false, 1, 131072, 1));
        assert!(Params::from_json(&serde_json::json!({"parallel": -1})).is_err());
        assert!(Params::from_json(&serde_json::json!({"parallel": 1e12})).is_err());
        // A client may not make the server hold more than iperf3's largest block per stream.
        assert!(Params::from_json(&serde_json::json!({"tcp": true, "len": 1 << 30})).is_err());
        assert!(Params::from_json(&serde_json::json!({"tcp": true, "len": 1 << 20})).is_ok());
    }

    #[test]
    fn results_need_what_iperf3_needs() {
        let r = Results {
            cpu_util: [10.0, 1.0, 9.0],
            sender_has_retransmits: 1,
            congestion_used: Some("cubic".into()),
            streams: vec![StreamResult {
                id: 1,
                bytes: 1000,
                retransmits: 0,
                jitter: 0.0,
                errors: 0,
                packets: 0,
                start_time: 0.0,
                end_time: 1.0,
            }],
        };
        assert_eq!(Results::from_json(&r.to_json()).unwrap(), r);
        let mut v = r.to_json();
        v.as_object_mut().unwrap().remove("cpu_util_user");
        assert!(Results::from_json(&v).is_err());
    }

    #[test]
    fn framing_and_cookies() {
        let mut buf = Vec::new();
        write_json(&mut buf, &serde_json::json!({"a": 1})).unwrap();
        assert_eq!(&buf[..4], &7u32.to_be_bytes());
        assert_eq!(read_json(&mut &buf[..]).unwrap()["a"], 1);
        let mut huge = (MAX_JSON + 1).to_be_bytes().to_vec();
        huge.extend_from_slice(b"{}");
        assert!(read_json(&mut &huge[..]).is_err());
        let c = make_cookie();
        assert_eq!(c[36], 0);
        assert!(
            cookie_text(&c)
                .bytes()
                .all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b))
        );
        assert_eq!(cookie_text(&c).len(), 36);
        assert_eq!((stream_id(0), stream_id(1), stream_id(2)), (1, 3, 4));
        for s in [1u8, 2, 4, 9, 10, 13, 14, 16, 255, 254] {
            assert_eq!(State::from_byte(s).byte(), s);
        }
        let mut p = [0u8; 20];
        udp_header(&mut p, 5, 6, 7, false);
        assert_eq!(read_udp_header(&p, false), Some((5, 6, 7)));
        udp_header(&mut p, 5, 6, 1 << 40, true);
        assert_eq!(read_udp_header(&p, true), Some((5, 6, 1 << 40)));
        assert_eq!(read_udp_header(&p[..10], false), None);
    }

    /// Parameter and result documents and UDP headers from a peer never panic their readers.
    #[test]
    fn any_peer_bytes_never_panic() {
        let seeds: [&[u8]; 3] = [
            br#"{"tcp":true,"omit":0,"time":1,"num":0,"blockcount":0,"parallel":1,"len":131072,"pacing_timer":1000,"client_version":"3.12"}"#,
            br#"{"cpu_util_total":1,"cpu_util_user":0.5,"cpu_util_system":0.5,"sender_has_retransmits":1,"streams":[{"id":1,"bytes":5,"retransmits":0,"jitter":0,"errors":0,"packets":0,"start_time":0,"end_time":1}]}"#,
            &[0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4],
        ];
        crate::testing::check(&seeds, 3000, |bytes| {
            if let Ok(v) = parse_object(bytes) {
                let _ = Params::from_json(&v);
                let _ = Results::from_json(&v);
            }
            let _ = read_udp_header(bytes, false);
            let _ = read_udp_header(bytes, true);
            let mut framed = (bytes.len() as u32).to_be_bytes().to_vec();
            framed.extend_from_slice(bytes);
            let _ = read_json(&mut &framed[..]);
            let _ = read_json(&mut &bytes[..]);
        });
    }
}
