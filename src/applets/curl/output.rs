//! Where a response body goes and what happens on the way: `--compressed` decoding (gzip,
//! deflate) with a guard against compression bombs, `--max-filesize`, `--limit-rate`, the file
//! (created at the first byte, appended to with `-C`) or stdout, and curl's progress meter.
//! Failures carry curl's exit code (23 for a write that fails, 61 for a bad encoding, 63 for a
//! size limit).

use super::codes::{Code, CurlError, as_io};
use std::io::{self, Write};
use std::time::{Duration, Instant};

/// Without --max-filesize, decoding stops once the output passes this many bytes while being
/// more than `BOMB_RATIO` times the compressed input: gzip of real data does not do that.
const BOMB_FLOOR: u64 = 16 << 20;
const BOMB_RATIO: u64 = 200;

/// A Content-Encoding being undone.
enum Decoder {
    Gzip(flate2::write::MultiGzDecoder<Vec<u8>>),
    Deflate(flate2::write::ZlibDecoder<Vec<u8>>),
}

impl Decoder {
    fn for_encoding(enc: &str) -> Option<Option<Decoder>> {
        match enc.trim().to_ascii_lowercase().as_str() {
            "" | "identity" => Some(None),
            "gzip" | "x-gzip" => Some(Some(Decoder::Gzip(flate2::write::MultiGzDecoder::new(
                Vec::new(),
            )))),
            "deflate" => Some(Some(Decoder::Deflate(flate2::write::ZlibDecoder::new(
                Vec::new(),
            )))),
            _ => None,
        }
    }

    fn push(&mut self, data: &[u8]) -> io::Result<Vec<u8>> {
        match self {
            Decoder::Gzip(d) => {
                d.write_all(data)?;
                Ok(std::mem::take(d.get_mut()))
            }
            Decoder::Deflate(d) => {
                d.write_all(data)?;
                Ok(std::mem::take(d.get_mut()))
            }
        }
    }

    fn finish(&mut self) -> io::Result<Vec<u8>> {
        match self {
            Decoder::Gzip(d) => {
                d.try_finish()?;
                Ok(std::mem::take(d.get_mut()))
            }
            Decoder::Deflate(d) => {
                d.try_finish()?;
                Ok(std::mem::take(d.get_mut()))
            }
        }
    }
}

fn unencoding_error(why: &str) -> io::Error {
    as_io(CurlError::new(
        Code::BadContentEncoding,
        format!("Error while processing content unencoding: {why}"),
    ))
}

/// curl's progress meter (on stderr, at most once a second, a last line at the end).
struct Meter {
    start: Instant,
    last: Instant,
    total: Option<u64>,
}

/// A size in five characters, as curl's meter writes it.
pub fn max5(bytes: u64) -> String {
    const K: u64 = 1024;
    const M: u64 = K * 1024;
    const G: u64 = M * 1024;
    const T: u64 = G * 1024;
    if bytes < 100_000 {
        format!("{bytes:5}")
    } else if bytes < 10_000 * K {
        format!("{:4}k", bytes / K)
    } else if bytes < 100 * M {
        format!("{:2}.{}M", bytes / M, (bytes % M) / (M / 10))
    } else if bytes < 10_000 * M {
        format!("{:4}M", bytes / M)
    } else if bytes < 100 * G {
        format!("{:2}.{}G", bytes / G, (bytes % G) / (G / 10))
    } else if bytes < 10_000 * G {
        format!("{:4}G", bytes / G)
    } else if bytes < 10_000 * T {
        format!("{:4}T", bytes / T)
    } else {
        format!("{:4}P", bytes / (T * 1024))
    }
}

/// A duration in eight characters (`--:--:--` when unknown).
pub fn time8(secs: Option<u64>) -> String {
    match secs {
        None | Some(0) => "--:--:--".into(),
        Some(s) if s / 3600 < 100 => format!("{:2}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60),
        Some(s) if s / 86400 < 1000 => format!("{:3}d {:02}h", s / 86400, (s / 3600) % 24),
        Some(s) => format!("{:7}d", s / 86400),
    }
}

/// One meter line for `done` bytes received of `total`, `elapsed` in.
pub fn meter_line(done: u64, total: Option<u64>, elapsed: Duration) -> String {
    let secs = elapsed.as_secs_f64();
    let speed = if secs > 0.0 {
        (done as f64 / secs) as u64
    } else {
        0
    };
    let pct = |d: u64| match total {
        Some(t) if t > 0 => (d.min(t) * 100 / t).to_string(),
        _ => "0".into(),
    };
    let (t_total, t_left) = match (total, speed) {
        (Some(t), s) if s > 0 => (Some(t / s), Some(t.saturating_sub(done) / s)),
        _ => (None, None),
    };
    format!(
        "{:>3} {}  {:>3} {}  {:>3} {}  {}  {} {} {} {} {}",
        pct(done),
        max5(total.unwrap_or(done)),
        pct(done),
        max5(done),
        0,
        max5(0),
        max5(speed),
        max5(0),
        time8(t_total),
        time8(Some(elapsed.as_secs())),
        time8(t_left),
        max5(speed)
    )
}

const METER_HEAD: &str = "  % Total    % Received % Xferd  Average Speed   Time    Time     Time  Current\n                                 Dload  Upload   Total   Spent    Left  Speed\n";

/// The body's destination.
pub struct Output {
    /// A file, or None for stdout.
    pub path: Option<String>,
    file: Option<std::fs::File>,
    /// `-C`: append to the file instead of replacing it.
    pub append: bool,
    /// Body bytes written (after decoding).
    pub written: u64,
    /// Body bytes received (before decoding).
    pub received: u64,
    decoder: Option<Decoder>,
    pub max_filesize: Option<u64>,
    pub limit_rate: Option<u64>,
    started: Option<Instant>,
    meter: Option<Meter>,
}

impl Output {
    pub fn new(path: Option<String>) -> Self {
        Output {
            path,
            file: None,
            append: false,
            written: 0,
            received: 0,
            decoder: None,
            max_filesize: None,
            limit_rate: None,
            started: None,
            meter: None,
        }
    }

    /// Show curl's progress meter for this body (`total` when the length is known), timed
    /// from `start`; its two heading lines only once per command (`head`).
    pub fn show_meter(&mut self, total: Option<u64>, start: Instant, head: bool) {
        if head {
            eprint!("{METER_HEAD}");
        }
        eprint!("{}", meter_line(0, None, Duration::ZERO));
        self.meter = Some(Meter {
            start,
            last: Instant::now(),
            total,
        });
    }

    /// Undo this Content-Encoding on what follows (`--compressed`). An encoding curl does not
    /// know is passed through untouched, as curl does.
    pub fn decode(&mut self, encoding: &str) {
        // The last of a list is the outermost; debugbox undoes one gzip/deflate layer.
        let enc = encoding.rsplit(',').next().unwrap_or("");
        if let Some(d) = Decoder::for_encoding(enc) {
            self.decoder = d;
        }
    }

    /// Start of a new response body (after a retry or a redirect): decoding starts over.
    pub fn reset_body(&mut self) {
        self.decoder = None;
        self.received = 0;
    }

    /// Raw body bytes as they arrive.
    pub fn body(&mut self, data: &[u8]) -> io::Result<()> {
        self.received += data.len() as u64;
        let decoded = match self.decoder.as_mut() {
            None => return self.write(data),
            Some(d) => d.push(data).map_err(|e| unencoding_error(&e.to_string()))?,
        };
        let total = self.written + decoded.len() as u64;
        match self.max_filesize {
            // --max-filesize bounds what decoding makes (curl checks only Content-Length).
            Some(max) if total > max => {
                return Err(as_io(CurlError::new(
                    Code::FilesizeExceeded,
                    "Maximum file size exceeded",
                )));
            }
            None if total > BOMB_FLOOR && total > BOMB_RATIO * self.received => {
                return Err(unencoding_error(&format!(
                    "the decoded body is over {BOMB_RATIO} times its compressed size (a compression bomb?); --max-filesize sets the limit"
                )));
            }
            _ => {}
        }
        self.write(&decoded)
    }

    /// The end of the body: the decoder's last bytes, the file flushed, the meter's last line.
    pub fn finish(&mut self) -> Result<(), CurlError> {
        if let Some(mut d) = self.decoder.take() {
            let rest = d
                .finish()
                .map_err(|e| super::codes::sink_error(&unencoding_error(&e.to_string())))?;
            self.write(&rest)
                .map_err(|e| super::codes::sink_error(&e))?;
        }
        if self.path.is_some() && self.file.is_none() {
            self.emit(&[]).map_err(|e| super::codes::sink_error(&e))?;
        }
        if let Some(f) = self.file.as_mut() {
            f.flush().map_err(|e| super::codes::sink_error(&e))?;
        }
        if let Some(m) = self.meter.take() {
            eprintln!("\r{}", meter_line(self.written, m.total, m.start.elapsed()));
        }
        Ok(())
    }

    /// Head bytes for `-i`: written as they are, not counted as body.
    pub fn body_raw(&mut self, data: &[u8]) -> io::Result<()> {
        self.emit(data)
    }

    fn write(&mut self, data: &[u8]) -> io::Result<()> {
        self.emit(data)?;
        self.written += data.len() as u64;
        self.pace();
        if let Some(m) = self.meter.as_mut()
            && m.last.elapsed() >= Duration::from_secs(1)
        {
            m.last = Instant::now();
            eprint!("\r{}", meter_line(self.written, m.total, m.start.elapsed()));
        }
        Ok(())
    }

    /// Into the file (created, or appended to with -C, at the first write) or stdout.
    fn emit(&mut self, data: &[u8]) -> io::Result<()> {
        match &self.path {
            None => {
                let mut out = io::stdout().lock();
                out.write_all(data)?;
                out.flush()
            }
            Some(p) => {
                if self.file.is_none() {
                    let f = if self.append {
                        std::fs::OpenOptions::new()
                            .append(true)
                            .create(true)
                            .open(p)?
                    } else {
                        std::fs::File::create(p)?
                    };
                    self.file = Some(f);
                }
                match self.file.as_mut() {
                    Some(f) => f.write_all(data),
                    None => Ok(()),
                }
            }
        }
    }

    /// `--limit-rate`: sleep until the average rate is back under the limit.
    fn pace(&mut self) {
        let Some(rate) = self.limit_rate else { return };
        let start = *self.started.get_or_insert_with(Instant::now);
        let due = Duration::from_secs_f64(self.written as f64 / rate as f64);
        let spent = start.elapsed();
        if due > spent {
            std::thread::sleep(due - spent);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meter_fields_like_curl() {
        assert_eq!(max5(0), "    0");
        assert_eq!(max5(99_999), "99999");
        assert_eq!(max5(100_000), "  97k");
        assert_eq!(max5(2255 * 1024), "2255k");
        assert_eq!(max5(15 * 1024 * 1024 + 600 * 1024), "15.5M");
        assert_eq!(max5(500 << 20), " 500M");
        assert_eq!(time8(None), "--:--:--");
        assert_eq!(time8(Some(0)), "--:--:--");
        assert_eq!(time8(Some(3661)), " 1:01:01");
        assert_eq!(time8(Some(200 * 3600)), "  8d 08h");
        let l = meter_line(100, Some(100), Duration::from_secs(1));
        assert!(
            l.starts_with(
                "100   100  100   100    0     0    100      0  0:00:01  0:00:01 --:--:--   100"
            ),
            "{l}"
        );
    }

    #[test]
    fn gzip_is_decoded_and_bombs_stop() {
        use flate2::write::GzEncoder;
        let mut e = GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(b"hello, hello, hello").unwrap();
        let gz = e.finish().unwrap();
        let dir = std::env::temp_dir().join(format!("dbx-out-{}", std::process::id()));
        let mut o = Output::new(Some(dir.to_string_lossy().into_owned()));
        o.decode("gzip");
        o.body(&gz[..5]).unwrap();
        o.body(&gz[5..]).unwrap();
        o.finish().unwrap();
        assert_eq!(std::fs::read(&dir).unwrap(), b"hello, hello, hello");
        // 64 MiB of zeros compress to about 64 KiB: decoding stops with curl's 61.
        let mut e = GzEncoder::new(Vec::new(), flate2::Compression::best());
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..64 {
            e.write_all(&zeros).unwrap();
        }
        let bomb = e.finish().unwrap();
        let mut o = Output::new(Some(dir.to_string_lossy().into_owned()));
        o.decode("gzip");
        let err = bomb
            .chunks(4096)
            .map(|c| o.body(c))
            .find_map(|r| r.err())
            .expect("a bomb is refused");
        assert_eq!(
            super::super::codes::sink_error(&err).code,
            Code::BadContentEncoding
        );
        let _ = std::fs::remove_file(dir);
    }

    #[test]
    fn max_filesize_bounds_decoding() {
        use flate2::write::GzEncoder;
        let mut e = GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(&[b'x'; 100_000]).unwrap();
        let gz = e.finish().unwrap();
        let dir = std::env::temp_dir().join(format!("dbx-max-{}", std::process::id()));
        let mut o = Output::new(Some(dir.to_string_lossy().into_owned()));
        o.max_filesize = Some(10);
        o.decode("gzip");
        let e = gz
            .chunks(64)
            .map(|c| o.body(c))
            .find_map(|r| r.err())
            .expect("decoding past --max-filesize fails");
        assert_eq!(
            super::super::codes::sink_error(&e).code,
            Code::FilesizeExceeded
        );
        let _ = std::fs::remove_file(dir);
    }
}
