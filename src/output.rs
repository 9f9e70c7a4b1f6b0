//! Human versus `--json` rendering helpers shared by the applets.
//!
//! Applets build `#[derive(Serialize)]` view structs; text goes through their own renderers, JSON
//! through here. `ip` uses [`IprouteFormatter`], which writes byte for byte what iproute2's
//! `json_writer.c` writes (compact with `-j`, its own indentation with `-j -p`), so jq scripts and
//! diffs written against iproute2 keep working.

use serde::Serialize;
use serde_json::ser::Formatter;
use std::io::{self, Write};

/// A serde_json formatter that mimics iproute2's json_writer: `[ {`, four-space indentation,
/// `[ "a","b" ]` for arrays, `"key": value` in pretty mode; no whitespace in compact mode.
pub struct IprouteFormatter {
    pretty: bool,
    depth: usize,
    /// For each open array or object: has it received a value yet?
    filled: Vec<bool>,
}

impl IprouteFormatter {
    #[cfg(test)]
    pub fn new(pretty: bool) -> Self {
        IprouteFormatter {
            pretty,
            depth: 0,
            filled: Vec::new(),
        }
    }

    /// The state after `[`: what an element of a streamed array is written with, so that it
    /// comes out as it would inside the whole array.
    fn inside_array(pretty: bool) -> Self {
        IprouteFormatter {
            pretty,
            depth: 1,
            filled: vec![true],
        }
    }

    fn newline<W: ?Sized + Write>(&self, w: &mut W) -> io::Result<()> {
        if self.pretty {
            w.write_all(b"\n")?;
            for _ in 0..self.depth {
                w.write_all(b"    ")?;
            }
        }
        Ok(())
    }

    fn mark_filled(&mut self) {
        if let Some(f) = self.filled.last_mut() {
            *f = true;
        }
    }
}

impl Formatter for IprouteFormatter {
    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.depth += 1;
        self.filled.push(false);
        w.write_all(if self.pretty { b"[ " } else { b"[" })
    }

    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.depth -= 1;
        let filled = self.filled.pop().unwrap_or(false);
        if self.pretty && filled {
            w.write_all(b" ")?;
        }
        w.write_all(b"]")
    }

    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.mark_filled();
        if first { Ok(()) } else { w.write_all(b",") }
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, _w: &mut W) -> io::Result<()> {
        Ok(())
    }

    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.depth += 1;
        self.filled.push(false);
        w.write_all(b"{")
    }

    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.depth -= 1;
        if self.filled.pop().unwrap_or(false) {
            self.newline(w)?;
        }
        w.write_all(b"}")
    }

    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.mark_filled();
        if !first {
            w.write_all(b",")?;
        }
        self.newline(w)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(if self.pretty { b": " } else { b":" })
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, _w: &mut W) -> io::Result<()> {
        Ok(())
    }
}

/// Serialize `value` the way iproute2's `-j` (and `-j -p`) does, with its trailing newline: what
/// `ArrayWriter` writes element by element, whole (the tests' reference).
#[cfg(test)]
pub fn iproute_json<T: Serialize + ?Sized>(value: &T, pretty: bool) -> String {
    let mut buf = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, IprouteFormatter::new(pretty));
    // Serializing plain view structs into a Vec cannot fail.
    if value.serialize(&mut ser).is_err() {
        return String::from("[]\n");
    }
    buf.push(b'\n');
    String::from_utf8(buf).unwrap_or_default()
}

/// A stream of views, written as they come: iproute2's text, or its JSON array element by
/// element (`[ {…},{…} ]` exactly as `iproute_json` writes the whole array).
pub struct ArrayWriter<W: Write> {
    out: io::BufWriter<W>,
    json: bool,
    pretty: bool,
    count: usize,
    text: String,
    element: Vec<u8>,
}

impl<W: Write> ArrayWriter<W> {
    pub fn new(out: W, json: bool, pretty: bool) -> Self {
        ArrayWriter {
            out: io::BufWriter::with_capacity(64 * 1024, out),
            json,
            pretty,
            count: 0,
            text: String::with_capacity(4096),
            element: Vec::with_capacity(4096),
        }
    }

    /// One element: `render` writes its text form.
    pub fn push<T: Serialize>(
        &mut self,
        value: &T,
        render: impl FnOnce(&T, &mut String),
    ) -> io::Result<()> {
        let r = if self.json {
            self.element.clear();
            self.element
                .extend_from_slice(match (self.count, self.pretty) {
                    (0, true) => b"[ ",
                    (0, false) => b"[",
                    _ => b",",
                });
            let mut ser = serde_json::Serializer::with_formatter(
                &mut self.element,
                IprouteFormatter::inside_array(self.pretty),
            );
            value.serialize(&mut ser).map_err(io::Error::other)?;
            self.out.write_all(&unraw(&self.element))
        } else {
            self.text.clear();
            render(value, &mut self.text);
            self.out.write_all(&raw_bytes(&self.text))
        };
        self.count += 1;
        r
    }

    /// The end of the stream (the array's closing bracket).
    pub fn finish(mut self) -> io::Result<()> {
        if self.json {
            let end = match (self.count, self.pretty) {
                (0, true) => "[ ]\n",
                (0, false) => "[]\n",
                (_, true) => " ]\n",
                (_, false) => "]\n",
            };
            self.out.write_all(end.as_bytes())?;
        }
        self.out.flush()
    }
}

/// Private-use characters stand for the bytes of a name that is not UTF-8 (an interface
/// name is bytes to the kernel); they become those bytes again on the way out, as iproute2
/// prints them.
const RAW_BASE: u32 = 0x10_ff00;

/// Text for `bytes`: as they are when UTF-8, else every byte kept (non-ASCII ones as
/// private-use characters that `raw_bytes` turns back).
pub fn raw_text(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => bytes
            .iter()
            .map(|&b| {
                if b < 0x80 {
                    b as char
                } else {
                    char::from_u32(RAW_BASE + b as u32).unwrap_or('?')
                }
            })
            .collect(),
    }
}

/// The bytes to write for `text`, with `raw_text`'s stand-ins turned back into bytes.
pub fn raw_bytes(text: &str) -> std::borrow::Cow<'_, [u8]> {
    unraw(text.as_bytes())
}

/// `raw_bytes` of UTF-8 text given as bytes.
fn unraw(bytes: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    // The stand-ins (U+10FF80..U+10FFFF) all begin with the byte F4 in UTF-8: text without it
    // (nearly all text) goes out as it is.
    if !bytes.contains(&0xf4) {
        return std::borrow::Cow::Borrowed(bytes);
    }
    let Ok(text) = std::str::from_utf8(bytes) else {
        return std::borrow::Cow::Borrowed(bytes);
    };
    if !text
        .chars()
        .any(|c| (RAW_BASE + 0x80..=RAW_BASE + 0xff).contains(&(c as u32)))
    {
        return std::borrow::Cow::Borrowed(bytes);
    }
    let mut out = Vec::with_capacity(text.len());
    for c in text.chars() {
        let v = c as u32;
        if (RAW_BASE + 0x80..=RAW_BASE + 0xff).contains(&v) {
            out.push((v - RAW_BASE) as u8);
        } else {
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        }
    }
    std::borrow::Cow::Owned(out)
}

/// One JSON value on one line, the `-j` form of the other applets (one object per event).
pub fn json_line<T: Serialize + ?Sized>(value: &T) -> String {
    let mut s = serde_json::to_string(value).unwrap_or_else(|_| String::from("null"));
    s.push('\n');
    s
}

/// Write everything to stdout at once. A closed pipe (`| head`) is not an error worth reporting.
pub fn print(text: &str) -> crate::error::Result<()> {
    let mut out = io::stdout().lock();
    match out.write_all(&raw_bytes(text)).and_then(|_| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(crate::error::Error::local(format!(
            "cannot write output: {e}"
        ))),
    }
}

/// A writer that remembers whether a write failed (a full disk, a closed descriptor), for
/// tools that, like iputils, go on and report "write error" at the end.
pub struct Watched<W: Write> {
    inner: W,
    pub failed: bool,
}

impl<W: Write> Watched<W> {
    pub fn new(inner: W) -> Self {
        Watched {
            inner,
            failed: false,
        }
    }
}

impl<W: Write> Write for Watched<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let r = self.inner.write(buf);
        self.failed |= r.is_err();
        r
    }

    fn flush(&mut self) -> io::Result<()> {
        let r = self.inner.flush();
        self.failed |= r.is_err();
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;

    #[derive(Serialize)]
    struct Addr {
        family: &'static str,
        prefixlen: u8,
    }

    #[derive(Serialize)]
    struct Link {
        ifindex: u32,
        flags: Vec<&'static str>,
        empty: Vec<&'static str>,
        addr_info: Vec<Addr>,
    }

    fn sample() -> Vec<Link> {
        vec![
            Link {
                ifindex: 1,
                flags: vec!["LOOPBACK", "UP"],
                empty: vec![],
                addr_info: vec![
                    Addr {
                        family: "inet",
                        prefixlen: 8,
                    },
                    Addr {
                        family: "inet6",
                        prefixlen: 128,
                    },
                ],
            },
            Link {
                ifindex: 2,
                flags: vec![],
                empty: vec![],
                addr_info: vec![],
            },
        ]
    }

    #[test]
    fn compact_matches_iproute2() {
        assert_eq!(
            iproute_json(&sample(), false),
            "[{\"ifindex\":1,\"flags\":[\"LOOPBACK\",\"UP\"],\"empty\":[],\"addr_info\":[{\"family\":\"inet\",\"prefixlen\":8},{\"family\":\"inet6\",\"prefixlen\":128}]},{\"ifindex\":2,\"flags\":[],\"empty\":[],\"addr_info\":[]}]\n"
        );
    }

    #[test]
    fn pretty_matches_iproute2() {
        // Shape copied from `ip -j -p addr` (iproute2 6.1).
        let want = r#"[ {
        "ifindex": 1,
        "flags": [ "LOOPBACK","UP" ],
        "empty": [ ],
        "addr_info": [ {
                "family": "inet",
                "prefixlen": 8
            },{
                "family": "inet6",
                "prefixlen": 128
            } ]
    },{
        "ifindex": 2,
        "flags": [ ],
        "empty": [ ],
        "addr_info": [ ]
    } ]
"#;
        assert_eq!(iproute_json(&sample(), true), want);
    }

    #[test]
    fn empty_top_level() {
        let v: Vec<Addr> = vec![];
        assert_eq!(iproute_json(&v, false), "[]\n");
        assert_eq!(iproute_json(&v, true), "[ ]\n");
    }

    #[test]
    fn streamed_arrays_are_the_whole_array() {
        #[derive(Serialize)]
        struct Inner {
            x: u32,
            y: Vec<u32>,
        }
        #[derive(Serialize)]
        struct V {
            a: u32,
            b: &'static str,
            c: Vec<&'static str>,
            d: Inner,
        }
        let items = [
            V {
                a: 1,
                b: "x",
                c: vec!["UP", "LOWER_UP"],
                d: Inner { x: 3, y: vec![] },
            },
            V {
                a: 2,
                b: "y\u{10ffff}",
                c: vec![],
                d: Inner { x: 4, y: vec![5] },
            },
        ];
        for pretty in [false, true] {
            let mut buf = Vec::new();
            let mut w = ArrayWriter::new(&mut buf, true, pretty);
            for i in &items {
                w.push(i, |_, _| {}).unwrap();
            }
            w.finish().unwrap();
            // A name's stand-in characters go out as the name's own bytes.
            assert_eq!(buf, raw_bytes(&iproute_json(&items, pretty)).to_vec());
            assert!(buf.windows(2).any(|w| w == b"y\xff"));
        }
        let mut buf = Vec::new();
        ArrayWriter::new(&mut buf, true, true).finish().unwrap();
        assert_eq!(
            String::from_utf8(buf).unwrap(),
            iproute_json(&Vec::<V>::new(), true)
        );
    }

    #[test]
    fn raw_names_round_trip() {
        let name = b"eth\xff\xfe0";
        let t = raw_text(name);
        assert_eq!(&*raw_bytes(&t), name);
        assert_eq!(raw_text(b"eth0"), "eth0");
        assert!(matches!(raw_bytes("plain"), std::borrow::Cow::Borrowed(_)));
    }
}

/// A UTC calendar time (the binary carries no time zone database; pods run in UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Civil {
    pub year: i64,
    pub month: i64,
    pub day: i64,
    pub hour: i64,
    pub minute: i64,
    pub second: i64,
    /// Days since the epoch (1970-01-01 was a Thursday).
    pub days: i64,
}

impl Civil {
    pub fn utc(t: std::time::SystemTime) -> Civil {
        let secs = t
            .duration_since(std::time::SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0) as i64;
        let days = secs.div_euclid(86400);
        let rem = secs.rem_euclid(86400);
        // Civil date from days since the epoch (Howard Hinnant's algorithm).
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        Civil {
            year: yoe + era * 400 + i64::from(month <= 2),
            month,
            day,
            hour: rem / 3600,
            minute: (rem % 3600) / 60,
            second: rem % 60,
            days,
        }
    }

    /// `Thu, 26 Nov 2026 07:55:52 GMT` (RFC 1123, as iperf3's timestamp).
    pub fn rfc1123(&self) -> String {
        const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        format!(
            "{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT",
            DAYS[self.days.rem_euclid(7) as usize],
            self.day,
            MONTHS[((self.month - 1).clamp(0, 11)) as usize],
            self.year,
            self.hour,
            self.minute,
            self.second
        )
    }

    /// `2026-11-26T04:39:53+0000` (ISO 8601, as mtr's report starts).
    pub fn iso(&self) -> String {
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}+0000",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}
