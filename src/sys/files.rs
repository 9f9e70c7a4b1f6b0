//! Reading files given on the command line (CA bundles, `-w @file`, `dig -f`, `-K`) with a size
//! bound, so a mistaken `/dev/zero` or a huge file ends in an error instead of eating memory.

use std::io::{self, Read};
use std::path::Path;

/// The whole of `path` (or standard input for `-`), refusing anything larger than `max` bytes.
pub fn read_bounded(path: &Path, max: u64) -> io::Result<Vec<u8>> {
    if path.as_os_str() == "-" {
        return read_all_bounded(io::stdin().lock(), max);
    }
    read_all_bounded(std::fs::File::open(path)?, max)
}

/// Everything `r` gives, refusing more than `max` bytes.
pub fn read_all_bounded(r: impl Read, max: u64) -> io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    r.take(max.saturating_add(1)).read_to_end(&mut buf)?;
    if buf.len() as u64 > max {
        return Err(io::Error::new(
            io::ErrorKind::FileTooLarge,
            format!("larger than {max} bytes"),
        ));
    }
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_reads() {
        assert_eq!(read_all_bounded(&b"abc"[..], 3).unwrap(), b"abc");
        let e = read_all_bounded(&b"abcd"[..], 3).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::FileTooLarge);
        assert!(read_bounded(Path::new("/nonexistent/x"), 10).is_err());
    }
}
