//! Moving test data without copying it through user space: a TCP sender that hands the kernel
//! pages of a memory file (sendfile), and a TCP receiver that moves what arrives into a pipe
//! and on to /dev/null (splice). Both honour the socket's send and receive timeouts.

use nix::fcntl::{FcntlArg, OFlag, SpliceFFlags, fcntl, splice};
use nix::sys::memfd::{MFdFlags, memfd_create};
use nix::sys::sendfile::sendfile;
use std::fs::File;
use std::io::{self, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

/// A memory file holding one block of payload, sent again and again.
pub struct Source {
    file: File,
    len: usize,
}

impl Source {
    pub fn new(payload: &[u8]) -> io::Result<Source> {
        let fd =
            memfd_create(c"debugbox-payload", MFdFlags::MFD_CLOEXEC).map_err(io::Error::from)?;
        let mut file = File::from(fd);
        file.write_all(payload)?;
        Ok(Source {
            file,
            len: payload.len(),
        })
    }

    /// Send one block (or what the socket takes of it before its timeout).
    pub fn send(&self, sock: BorrowedFd<'_>) -> io::Result<usize> {
        let mut offset: libc::off_t = 0;
        sendfile(sock, self.file.as_fd(), Some(&mut offset), self.len).map_err(io::Error::from)
    }
}

/// A pipe to /dev/null that received data is spliced through.
pub struct Sink {
    read: OwnedFd,
    write: OwnedFd,
    null: File,
}

impl Sink {
    pub fn new() -> io::Result<Sink> {
        let (read, write) = nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(io::Error::from)?;
        // A larger pipe means fewer splices; the default (64 KiB) works too.
        let _ = fcntl(&write, FcntlArg::F_SETPIPE_SZ(1 << 20));
        let null = File::options().write(true).open("/dev/null")?;
        Ok(Sink { read, write, null })
    }

    /// Move up to `max` bytes from the socket to /dev/null; 0 at the end of the stream.
    pub fn drain(&self, sock: BorrowedFd<'_>, max: usize) -> io::Result<usize> {
        let n = splice(
            sock,
            None,
            &self.write,
            None,
            max,
            SpliceFFlags::SPLICE_F_MOVE,
        )
        .map_err(io::Error::from)?;
        let mut left = n;
        while left > 0 {
            let m = splice(
                &self.read,
                None,
                &self.null,
                None,
                left,
                SpliceFFlags::SPLICE_F_MOVE,
            )
            .map_err(io::Error::from)?;
            if m == 0 {
                break;
            }
            left -= m;
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    /// A block sent from the memory file arrives whole; a spliced receive counts it all and
    /// sees the end of the stream.
    #[test]
    fn sendfile_and_splice_over_loopback() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let c = std::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (mut s, _) = l.accept().unwrap();
        let payload: Vec<u8> = (0..100_000u32).map(|i| i as u8).collect();
        let src = Source::new(&payload).unwrap();
        let sent = src.send(c.as_fd()).unwrap();
        assert!(sent > 0);
        let mut got = vec![0u8; sent];
        s.read_exact(&mut got).unwrap();
        assert_eq!(&got[..], &payload[..sent]);
        // The other way: spliced away.
        let sink = Sink::new().unwrap();
        (&s).write_all(&payload).unwrap();
        drop(s);
        let mut total = 0;
        loop {
            let n = sink.drain(c.as_fd(), 1 << 20).unwrap();
            if n == 0 {
                break;
            }
            total += n;
        }
        assert_eq!(total, payload.len());
    }
}
