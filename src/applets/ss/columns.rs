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

fn spaces(out: &mut impl Write, mut n: usize) -> io::Result<()> {
    const SPACES: [u8; 64] = [b' '; 64];
    while n > 0 {
        let k = n.min(SPACES.len());
        out.write_all(&SPACES[..k])?;
        n -= k;
    }
    Ok(())
}

pub struct Columns<W: Write> {
    cols: Vec<Col>,
    current: usize,
    /// The tokens as ss keeps them: each a two-byte length and its bytes, one after the other;
    /// `cur` is where the length of the token being written sits.
    bytes: Vec<u8>,
    cur: usize,
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
            // What ss keeps before it renders: reserved once, so growing never copies.
            bytes: Vec::with_capacity(BUF_CHUNKS_MAX * BUF_CHUNK as usize),
            cur: 0,
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
        self.start_token();
    }

    fn start_token(&mut self) {
        self.cur = self.bytes.len();
        self.bytes.extend_from_slice(&[0, 0]);
    }

    /// The length of the token being written.
    fn cur_len(&self) -> usize {
        match self.bytes.get(self.cur..self.cur + 2) {
            Some(b) => u16::from_ne_bytes([b[0], b[1]]) as usize,
            None => 0,
        }
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
            let cur_len = self.cur_len() as i64;
            self.chunks += 1;
            self.used = LEN_SIZE + cur_len;
            self.cur_first = true;
        }
        self.used += len;
        // A token's length is ss's u16: longer text is cut there.
        let room = (u16::MAX as usize).saturating_sub(self.cur_len());
        let text = &text[..text.len().min(room)];
        self.bytes.extend_from_slice(text);
        let new_len = (self.cur_len() + text.len()) as u16;
        self.bytes[self.cur..self.cur + 2].copy_from_slice(&new_len.to_ne_bytes());
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
        let cur_len = self.cur_len();
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
        self.start_token();
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
        let bytes = std::mem::take(&mut self.bytes);
        let mut start = 0usize;
        while start + 2 <= bytes.len() {
            let len = u16::from_ne_bytes([bytes[start], bytes[start + 1]]) as usize;
            start += 2;
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
                    spaces(&mut self.out, s as usize)?;
                    printed += s as usize;
                }
            }
            self.out.write_all(&bytes[start..start + len])?;
            start += len;
            printed += len;
            if f_col.width > 0 && f_col.align == Align::Left {
                let s = f_col.width as isize - printed as isize;
                if s > 0 {
                    spaces(&mut self.out, s as usize)?;
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
        self.bytes = bytes;
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
