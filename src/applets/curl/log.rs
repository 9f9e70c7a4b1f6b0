//! What `-v` and `--trace-ascii` say about a transfer: curl's `* `, `> `, `< ` lines on stderr,
//! or its trace dump (`== Info:`, `=> Send header, N bytes (0xN)` and the bytes 64 to a line) to
//! a file or stdout. The dump layout is pure and tested.

use std::fmt::Write as _;
use std::io::Write;

pub enum Log {
    Quiet,
    Verbose,
    /// `--trace-ascii FILE|-` (it replaces -v, as in curl).
    Trace(Box<dyn Write>),
}

impl Log {
    pub fn open(verbose: bool, trace: Option<&str>) -> std::io::Result<Log> {
        Ok(match trace {
            Some("-") => Log::Trace(Box::new(std::io::stdout())),
            Some(path) => Log::Trace(Box::new(std::fs::File::create(path)?)),
            None if verbose => Log::Verbose,
            None => Log::Quiet,
        })
    }

    pub fn is_verbose(&self) -> bool {
        matches!(self, Log::Verbose)
    }

    pub fn info(&mut self, line: &str) {
        match self {
            Log::Quiet => {}
            Log::Verbose => eprintln!("* {line}"),
            Log::Trace(w) => {
                let _ = writeln!(w, "== Info: {line}");
            }
        }
    }

    /// A request head as sent.
    pub fn sent_head(&mut self, head: &[u8]) {
        match self {
            Log::Quiet => {}
            Log::Verbose => lines("> ", head),
            Log::Trace(w) => {
                let _ = w.write_all(dump("=> Send header", head).as_bytes());
            }
        }
    }

    pub fn sent_data(&mut self, data: &[u8]) {
        if let Log::Trace(w) = self {
            let _ = w.write_all(dump("=> Send data", data).as_bytes());
        }
    }

    /// A response head as received (interim, redirect or final).
    pub fn received_head(&mut self, head: &[u8]) {
        match self {
            Log::Quiet => {}
            Log::Verbose => lines("< ", head),
            Log::Trace(w) => {
                // curl reports a head one line at a time.
                for line in head.split_inclusive(|&b| b == b'\n') {
                    let _ = w.write_all(dump("<= Recv header", line).as_bytes());
                }
            }
        }
    }

    pub fn received_data(&mut self, data: &[u8]) {
        if let Log::Trace(w) = self {
            let _ = w.write_all(dump("<= Recv data", data).as_bytes());
        }
    }

    pub fn flush(&mut self) {
        if let Log::Trace(w) = self {
            let _ = w.flush();
        }
    }
}

/// `-v`: each line of a head with its prefix, without the final empty line.
fn lines(prefix: &str, head: &[u8]) {
    let text = String::from_utf8_lossy(head);
    let text = text
        .strip_suffix("\r\n\r\n")
        .or_else(|| text.strip_suffix("\n\n"))
        .unwrap_or(&text);
    let mut err = std::io::stderr().lock();
    for line in text.split('\n') {
        let _ = writeln!(err, "{prefix}{}", line.strip_suffix('\r').unwrap_or(line));
    }
}

/// curl's ASCII trace of one block: a title with the size, then up to 64 characters a line
/// after a hex offset; a CRLF ends a line early, and bytes outside printable ASCII are dots.
pub fn dump(title: &str, data: &[u8]) -> String {
    let mut out = format!("{title}, {} bytes (0x{:x})\n", data.len(), data.len());
    let mut i = 0;
    while i < data.len() {
        let _ = write!(out, "{i:04x}: ");
        let mut c = 0;
        let mut next = i + 64;
        while c < 64 && i + c < data.len() {
            if i + c + 1 < data.len() && data[i + c] == b'\r' && data[i + c + 1] == b'\n' {
                next = i + c + 2;
                break;
            }
            let b = data[i + c];
            out.push(if (0x20..0x80).contains(&b) {
                b as char
            } else {
                '.'
            });
            if i + c + 2 < data.len() && data[i + c + 1] == b'\r' && data[i + c + 2] == b'\n' {
                next = i + c + 3;
                break;
            }
            c += 1;
        }
        out.push('\n');
        i = next;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trace_dump_like_curl() {
        // What curl 7.88 prints for the same request head.
        let head = b"POST /x HTTP/1.1\r\nHost: 127.0.0.1:18081\r\nContent-Length: 3\r\n\r\n";
        assert_eq!(
            dump("=> Send header", head),
            "=> Send header, 62 bytes (0x3e)\n0000: POST /x HTTP/1.1\n0012: Host: 127.0.0.1:18081\n0029: Content-Length: 3\n003c: \n"
        );
        assert_eq!(
            dump("<= Recv data", b"ok"),
            "<= Recv data, 2 bytes (0x2)\n0000: ok\n"
        );
        let long = vec![b'a'; 70];
        assert_eq!(
            dump("d", &long),
            format!(
                "d, 70 bytes (0x46)\n0000: {}\n0040: aaaaaa\n",
                "a".repeat(64)
            )
        );
        assert_eq!(dump("d", b"\x01\xff"), "d, 2 bytes (0x2)\n0000: ..\n");
    }
}
