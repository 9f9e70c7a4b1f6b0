//! The pcap file format (what `tcpdump -w` writes and `-r` reads; tshark and Wireshark read it):
//! a 24-byte file header (magic, version 2.4, snapshot length, link type) and a 16-byte record
//! header before each packet (seconds, micro- or nanoseconds, captured and wire length). Files
//! in either byte order and with either time resolution are read. Pure over Read/Write.

use std::io::{self, Read, Write};

const MAGIC_US: u32 = 0xa1b2_c3d4;
const MAGIC_NS: u32 = 0xa1b2_3c4d;
/// Records claiming more than this are a corrupt file, not a packet (libpcap's limit).
pub const MAX_RECORD: u32 = 256 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub snaplen: u32,
    pub linktype: u32,
    swapped: bool,
    nanos: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub sec: u32,
    /// Nanoseconds within the second.
    pub nsec: u32,
    pub wire_len: u32,
    pub data: Vec<u8>,
}

/// Why a file cannot be read, as tcpdump words it.
#[derive(Debug)]
pub enum ReadError {
    Io(io::Error),
    Format(String),
}

fn read_full(r: &mut dyn Read, buf: &mut [u8]) -> Result<bool, ReadError> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) if got == 0 => return Ok(false),
            Ok(0) => {
                return Err(ReadError::Format(
                    "truncated dump file; tried to read 16 file header bytes, only got fewer"
                        .into(),
                ));
            }
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(ReadError::Io(e)),
        }
    }
    Ok(true)
}

pub struct Reader<R: Read> {
    inner: R,
    pub header: Header,
}

impl<R: Read> Reader<R> {
    pub fn new(mut inner: R) -> Result<Self, ReadError> {
        let mut h = [0u8; 24];
        if !read_full(&mut inner, &mut h)? {
            return Err(ReadError::Format("file is empty".into()));
        }
        let header = parse_header(&h)?;
        Ok(Reader { inner, header })
    }

    /// The next record, None at the end of the file.
    pub fn next_record(&mut self) -> Result<Option<Record>, ReadError> {
        let mut h = [0u8; 16];
        if !read_full(&mut self.inner, &mut h)? {
            return Ok(None);
        }
        let word = |i: usize| {
            let b = [h[i], h[i + 1], h[i + 2], h[i + 3]];
            if self.header.swapped {
                u32::from_be_bytes(b)
            } else {
                u32::from_le_bytes(b)
            }
        };
        let (sec, frac, caplen, wire_len) = (word(0), word(4), word(8), word(12));
        if caplen > MAX_RECORD {
            return Err(ReadError::Format(format!(
                "invalid packet capture length {caplen}, bigger than maximum of {MAX_RECORD}"
            )));
        }
        let mut data = vec![0u8; caplen as usize];
        if !read_full(&mut self.inner, &mut data)? && caplen > 0 {
            return Err(ReadError::Format(format!(
                "truncated dump file; tried to read {caplen} captured bytes, only got 0"
            )));
        }
        let nsec = if self.header.nanos {
            frac.min(999_999_999)
        } else {
            frac.min(999_999) * 1000
        };
        Ok(Some(Record {
            sec,
            nsec,
            wire_len: wire_len.max(caplen),
            data,
        }))
    }
}

pub fn parse_header(h: &[u8]) -> Result<Header, ReadError> {
    let Some(h) = h.get(..24) else {
        return Err(ReadError::Format("truncated dump file".into()));
    };
    let le = u32::from_le_bytes([h[0], h[1], h[2], h[3]]);
    let be = u32::from_be_bytes([h[0], h[1], h[2], h[3]]);
    let (swapped, nanos) = match (le, be) {
        (MAGIC_US, _) => (false, false),
        (MAGIC_NS, _) => (false, true),
        (_, MAGIC_US) => (true, false),
        (_, MAGIC_NS) => (true, true),
        _ if le == 0x0a0d_0d0a => {
            return Err(ReadError::Format(
                "pcapng files are not read; save the capture as pcap (tshark -F pcap)".into(),
            ));
        }
        _ => return Err(ReadError::Format("unknown file format".into())),
    };
    let word = |i: usize| {
        let b = [h[i], h[i + 1], h[i + 2], h[i + 3]];
        if swapped {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        }
    };
    let major = if swapped {
        u16::from_be_bytes([h[4], h[5]])
    } else {
        u16::from_le_bytes([h[4], h[5]])
    };
    if major != 2 {
        return Err(ReadError::Format(format!(
            "unsupported pcap version {major}"
        )));
    }
    Ok(Header {
        snaplen: word(16),
        linktype: word(20) & 0x03ff_ffff,
        swapped,
        nanos,
    })
}

/// Writes pcap in this machine's byte order with microsecond stamps, as tcpdump does.
pub struct Writer<W: Write> {
    inner: W,
}

impl<W: Write> Writer<W> {
    pub fn new(mut inner: W, snaplen: u32, linktype: u32) -> io::Result<Self> {
        let mut h = Vec::with_capacity(24);
        h.extend_from_slice(&MAGIC_US.to_ne_bytes());
        h.extend_from_slice(&2u16.to_ne_bytes());
        h.extend_from_slice(&4u16.to_ne_bytes());
        h.extend_from_slice(&0u32.to_ne_bytes());
        h.extend_from_slice(&0u32.to_ne_bytes());
        h.extend_from_slice(&snaplen.to_ne_bytes());
        h.extend_from_slice(&linktype.to_ne_bytes());
        inner.write_all(&h)?;
        Ok(Writer { inner })
    }

    pub fn write(&mut self, sec: u32, nsec: u32, wire_len: u32, data: &[u8]) -> io::Result<()> {
        let mut h = [0u8; 16];
        h[0..4].copy_from_slice(&sec.to_ne_bytes());
        h[4..8].copy_from_slice(&(nsec / 1000).to_ne_bytes());
        h[8..12].copy_from_slice(&(data.len() as u32).to_ne_bytes());
        h[12..16].copy_from_slice(&wire_len.to_ne_bytes());
        self.inner.write_all(&h)?;
        self.inner.write_all(data)
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_files_read_back() {
        let mut buf = Vec::new();
        {
            let mut w = Writer::new(&mut buf, 262144, 1).unwrap();
            w.write(100, 5_000, 60, &[1, 2, 3]).unwrap();
            w.write(101, 999_999_000, 3, &[9, 9, 9]).unwrap();
        }
        let mut r = Reader::new(&buf[..]).unwrap();
        assert_eq!(r.header.linktype, 1);
        assert_eq!(r.header.snaplen, 262144);
        let a = r.next_record().unwrap().unwrap();
        assert_eq!(
            (a.sec, a.nsec, a.wire_len, a.data),
            (100, 5_000, 60, vec![1, 2, 3])
        );
        let b = r.next_record().unwrap().unwrap();
        assert_eq!((b.sec, b.nsec), (101, 999_999_000));
        assert!(r.next_record().unwrap().is_none());
        // The other byte order with nanoseconds.
        let mut be = vec![0xa1, 0xb2, 0x3c, 0x4d, 0, 2, 0, 4];
        be.extend_from_slice(&[0; 8]);
        be.extend_from_slice(&65535u32.to_be_bytes());
        be.extend_from_slice(&101u32.to_be_bytes());
        be.extend_from_slice(&7u32.to_be_bytes());
        be.extend_from_slice(&123u32.to_be_bytes());
        be.extend_from_slice(&1u32.to_be_bytes());
        be.extend_from_slice(&1u32.to_be_bytes());
        be.push(0x45);
        let mut r = Reader::new(&be[..]).unwrap();
        assert_eq!(r.header.linktype, 101);
        let rec = r.next_record().unwrap().unwrap();
        assert_eq!((rec.sec, rec.nsec, rec.data), (7, 123, vec![0x45]));
        assert!(Reader::new(&b"not a pcap file at all.."[..]).is_err());
    }

    #[test]
    fn random_and_mutated_files_never_panic() {
        let mut good = Vec::new();
        {
            let mut w = Writer::new(&mut good, 262144, 1).unwrap();
            w.write(1, 2, 40, &[0x45; 40]).unwrap();
            w.write(1, 3, 20, &[0x60; 20]).unwrap();
        }
        crate::testing::check(&[&good], 3000, |bytes| {
            if let Ok(mut r) = Reader::new(bytes) {
                for _ in 0..100 {
                    match r.next_record() {
                        Ok(Some(_)) => {}
                        _ => break,
                    }
                }
            }
        });
    }
}
