//! ss's column layout (misc/ss.c: out, field_next, render): every field of every socket is kept
//! as a token; the widths come from the longest token of each column, and the rows are written
//! when the buffer reaches ss's limit (five chunks of 1 MiB) and at the end. ss's chunk
//! accounting is reproduced byte for byte, because it decides where a long listing is cut into
//! separately aligned blocks; the tokens themselves are kept in one buffer.

use std::io::{self, Write};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

#[derive(Debug, Clone)]
struct Col {
    align: Align,
    header: &'static str,
    ldelim: &'static str,
    disabled: bool,
    width: usize,
    max_len: usize,
}

pub const COL_NETID: usize = 0;
pub const COL_STATE: usize = 1;
pub const COL_RECVQ: usize = 2;
pub const COL_SENDQ: usize = 3;
pub const COL_ADDR: usize = 4;
pub const COL_PROC: usize = 8;
const COL_MAX: usize = 10;

const BUF_CHUNK: i64 = 1024 * 1024;
/// offsetof(struct buf_chunk, data) on 64-bit: two pointers.
const CHUNK_HEAD: i64 = 16;
const BUF_CHUNKS_MAX: usize = 5;
/// sizeof(buf_token.len).
const LEN_SIZE: i64 = 2;

pub struct Columns<W: Write> {
    cols: Vec<Col>,
    current: usize,
    /// Token bytes, and each token's (start, len); the last token is the one being written.
    bytes: Vec<u8>,
    tokens: Vec<(usize, usize)>,
    /// ss's chunk bookkeeping: is there a buffer, bytes used in the tail chunk, whether the
    /// current token starts its chunk, the number of chunks.
    has_head: bool,
    used: i64,
    cur_first: bool,
    chunks: usize,
    /// The terminal's width (tty output), or None for compact output.
    screen: Option<usize>,
    out: W,
}

impl<W: Write> Columns<W> {
    pub fn new(out: W, screen: Option<usize>) -> Self {
        let col = |align, header, ldelim| Col {
            align,
            header,
            ldelim,
            disabled: false,
            width: 0,
            max_len: 0,
        };
        Columns {
            cols: vec![
                col(Align::Left, "Netid", ""),
                col(Align::Left, "State", " "),
                col(Align::Left, "Recv-Q", " "),
                col(Align::Left, "Send-Q", " "),
                col(Align::Right, "Local Address:", " "),
                col(Align::Left, "Port", ""),
                col(Align::Right, "Peer Address:", " "),
                col(Align::Left, "Port", ""),
                col(Align::Left, "Process", ""),
                col(Align::Left, "", ""),
            ],
            current: 0,
            bytes: Vec::new(),
            tokens: Vec::new(),
            has_head: false,
            used: 0,
            cur_first: false,
            chunks: 0,
            screen,
            out,
        }
    }

    pub fn disable(&mut self, col: usize) {
        self.cols[col].disabled = true;
    }

    fn new_chunk(&mut self) {
        self.has_head = true;
        self.chunks += 1;
        self.used = LEN_SIZE;
        self.cur_first = true;
        self.tokens.push((self.bytes.len(), 0));
    }

    /// out(): append to the current field.
    pub fn out(&mut self, text: &[u8]) {
        if self.cols[self.current].disabled {
            return;
        }
        if !self.has_head {
            self.new_chunk();
        }
        let len = text.len() as i64;
        let avail = BUF_CHUNK - CHUNK_HEAD - self.used;
        if !(len < avail || self.cur_first) {
            // The token moves to a new chunk, whole.
            let cur_len = self.tokens.last().map_or(0, |t| t.1) as i64;
            self.chunks += 1;
            self.used = LEN_SIZE + cur_len;
            self.cur_first = true;
        }
        self.used += len;
        self.bytes.extend_from_slice(text);
        if let Some(t) = self.tokens.last_mut() {
            t.1 += text.len();
        }
    }

    pub fn out_str(&mut self, text: &str) {
        self.out(text.as_bytes());
    }

    /// field_flush: close the current token and start the next.
    fn flush(&mut self) {
        let col = self.current;
        if self.cols[col].disabled {
            return;
        }
        if !self.has_head {
            self.new_chunk();
        }
        let cur_len = self.tokens.last().map_or(0, |t| t.1);
        if cur_len > self.cols[col].max_len {
            self.cols[col].max_len = cur_len;
        }
        let pad = (cur_len % 2) as i64;
        let avail = BUF_CHUNK - CHUNK_HEAD - self.used;
        if avail - pad < LEN_SIZE {
            self.new_chunk();
            return;
        }
        self.used += pad + LEN_SIZE;
        self.cur_first = false;
        self.tokens.push((self.bytes.len(), 0));
    }

    /// field_next.
    pub fn next(&mut self) -> io::Result<()> {
        let last = self.current == COL_MAX - 1;
        if last && self.chunks >= BUF_CHUNKS_MAX {
            return self.render();
        }
        self.flush();
        self.current = if last { 0 } else { self.current + 1 };
        Ok(())
    }

    /// field_set: move to column `id`, closing the fields in between.
    pub fn set(&mut self, id: usize) -> io::Result<()> {
        while self.current != id {
            self.next()?;
        }
        Ok(())
    }

    /// print_header.
    pub fn header(&mut self) -> io::Result<()> {
        while self.current != COL_MAX - 1 {
            if !self.cols[self.current].disabled {
                let h = self.cols[self.current].header;
                self.out_str(h);
            }
            self.next()?;
        }
        Ok(())
    }

    /// render_calc_width.
    fn calc_width(&mut self) {
        let screen = self.screen.unwrap_or(usize::MAX);
        let mut first = true;
        for c in self.cols.iter_mut() {
            if c.disabled {
                continue;
            }
            c.width = if !first && c.max_len > 0 {
                c.max_len + c.ldelim.len()
            } else {
                c.max_len
            };
            c.width = c.width.min(screen);
            if c.width > 0 {
                first = false;
            }
        }
        if self.screen.is_none() {
            return;
        }
        // Lines that overflow the terminal are broken, and the spare room is spread.
        let mut len = 0usize;
        let mut linecols = 0usize;
        let mut eol: isize = -1;
        let mut c = 0isize;
        while (c as usize) < COL_MAX {
            let ci = c as usize;
            if self.cols[ci].width == 0 {
                c += 1;
                continue;
            }
            linecols += 1;
            len += self.cols[ci].width;
            let last = !self.cols[ci + 1..].iter().any(|t| t.width > 0);
            if !last && len < screen {
                c += 1;
                continue;
            }
            if len != screen {
                if len > screen {
                    len -= self.cols[ci].width;
                    c -= 1;
                    linecols -= 1;
                }
                let pad = screen.saturating_sub(len);
                let (spacing, mut rem) =
                    match (pad.checked_div(linecols), pad.checked_rem(linecols)) {
                        (Some(s), Some(r)) => (s, r),
                        _ => (0, 0),
                    };
                let mut t = c;
                while t > eol {
                    let ti = t as usize;
                    if self.cols[ti].width > 0 {
                        self.cols[ti].width += spacing;
                        if rem > 0 {
                            self.cols[ti].width += 1;
                            rem -= 1;
                        }
                    }
                    t -= 1;
                }
            }
            eol = c;
            len = 0;
            linecols = 0;
            c += 1;
        }
    }

    /// render: write the buffered rows with their spacing, then start over.
    pub fn render(&mut self) -> io::Result<()> {
        if !self.has_head {
            return Ok(());
        }
        self.calc_width();
        let mut f = 0usize;
        while f < COL_MAX && self.cols[f].width == 0 {
            f += 1;
        }
        let mut line_started = false;
        let tokens = std::mem::take(&mut self.tokens);
        for (start, len) in tokens {
            let f_col = &self.cols[f.min(COL_MAX - 1)];
            let mut printed = 0usize;
            if line_started {
                self.out.write_all(f_col.ldelim.as_bytes())?;
                printed = f_col.ldelim.len();
            }
            line_started = true;
            if f_col.width > 0 && f_col.align == Align::Right {
                let s = f_col.width as isize - len as isize - printed as isize;
                if s > 0 {
                    write!(self.out, "{:1$}", "", s as usize)?;
                    printed += s as usize;
                }
            }
            self.out.write_all(&self.bytes[start..start + len])?;
            printed += len;
            if f_col.width > 0 && f_col.align == Align::Left {
                let s = f_col.width as isize - printed as isize;
                if s > 0 {
                    write!(self.out, "{:1$}", "", s as usize)?;
                }
            }
            loop {
                if f >= COL_MAX - 1 {
                    self.out.write_all(b"\n")?;
                    f = 0;
                    line_started = false;
                } else {
                    f += 1;
                }
                if !self.cols[f].disabled {
                    break;
                }
            }
        }
        if line_started {
            self.out.write_all(b"\n")?;
        }
        self.bytes.clear();
        self.has_head = false;
        self.chunks = 0;
        self.used = 0;
        self.current = 0;
        Ok(())
    }

    pub fn finish(mut self) -> io::Result<W> {
        self.render()?;
        self.out.flush()?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_layout_as_ss() {
        let mut c = Columns::new(Vec::new(), None);
        c.disable(COL_NETID);
        c.header().unwrap();
        for (state, laddr, lport) in [("LISTEN", "0.0.0.0", "22"), ("LISTEN", "[::]", "8080")] {
            c.set(COL_STATE).unwrap();
            c.out_str(state);
            c.set(COL_RECVQ).unwrap();
            c.out_str(&format!("{:<6}", 0));
            c.set(COL_SENDQ).unwrap();
            c.out_str(&format!("{:<6}", 128));
            c.set(COL_ADDR).unwrap();
            c.out_str(&format!("{laddr}:"));
            c.next().unwrap();
            c.out_str(lport);
            c.next().unwrap();
            c.out_str("0.0.0.0:");
            c.next().unwrap();
            c.out_str("*");
            c.next().unwrap();
        }
        let text = String::from_utf8(c.finish().unwrap()).unwrap();
        assert_eq!(
            text,
            "State  Recv-Q Send-Q Local Address:Port Peer Address:PortProcess\n\
             LISTEN 0      128          0.0.0.0:22        0.0.0.0:*          \n\
             LISTEN 0      128             [::]:8080      0.0.0.0:*          \n"
        );
    }
}
