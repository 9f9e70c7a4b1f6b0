//! Waiting on several descriptors with a deadline.

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use std::io;
use std::os::fd::BorrowedFd;
use std::time::Duration;

/// Wait until one of `fds` is readable or has an error queued, at most `timeout`. Returns which
/// are ready. An interrupting signal (Ctrl-C) returns with none ready.
pub fn readable(fds: &[BorrowedFd<'_>], timeout: Duration) -> io::Result<Vec<bool>> {
    wait(fds, PollFlags::POLLIN | PollFlags::POLLERR, timeout)
}

/// Wait until one of `fds` is writable (a connect finished, either way), at most `timeout`.
pub fn writable(fds: &[BorrowedFd<'_>], timeout: Duration) -> io::Result<Vec<bool>> {
    wait(fds, PollFlags::POLLOUT, timeout)
}

fn wait(fds: &[BorrowedFd<'_>], events: PollFlags, timeout: Duration) -> io::Result<Vec<bool>> {
    let mut set: Vec<PollFd> = fds.iter().map(|fd| PollFd::new(*fd, events)).collect();
    let ms = timeout.as_millis().min(i32::MAX as u128) as i32;
    // Round a sub-millisecond wait up so we do not spin.
    let ms = if ms == 0 && !timeout.is_zero() { 1 } else { ms };
    let t = PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX);
    match poll(&mut set, t) {
        Ok(_) => Ok(set
            .iter()
            .map(|p| {
                p.revents()
                    .is_some_and(|r| r.intersects(events | PollFlags::POLLERR | PollFlags::POLLHUP))
            })
            .collect()),
        Err(nix::errno::Errno::EINTR) => Ok(vec![false; fds.len()]),
        Err(e) => Err(e.into()),
    }
}
