//! Process-wide settings made once at start-up.

/// Let a closed stdout pipe end the process quietly, as it does for C tools, instead of every
/// write returning EPIPE (Rust ignores SIGPIPE by default).
pub fn restore_sigpipe() {
    // SAFETY: setting a signal disposition to SIG_DFL has no memory-safety preconditions.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// Let writes to a closed pipe fail with EPIPE instead of ending the process: curl reports
/// that as its error 23, and so does debugbox's curl.
pub fn ignore_sigpipe() {
    // SAFETY: setting a signal disposition to SIG_IGN has no memory-safety preconditions.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    }
}

/// Was this standard descriptor closed when the process started? Rust's runtime fills a
/// closed 0, 1 or 2 with /dev/null opened read-write, which is how it is told apart from a
/// shell's `>/dev/null` (write-only) or `</dev/null` (read-only).
fn was_closed(fd: std::os::fd::BorrowedFd<'_>) -> bool {
    use nix::fcntl::{FcntlArg, OFlag, fcntl};
    let Ok(st) = nix::sys::stat::fstat(fd) else {
        return true;
    };
    let dev_null = (st.st_mode & libc::S_IFMT) == libc::S_IFCHR
        && libc::major(st.st_rdev) == 1
        && libc::minor(st.st_rdev) == 3;
    let rdwr = fcntl(fd, FcntlArg::F_GETFL)
        .map(|f| OFlag::from_bits_truncate(f) & OFlag::O_ACCMODE == OFlag::O_RDWR)
        .unwrap_or(false);
    dev_null && rdwr
}

/// Give a stdout or stderr that was closed at start a descriptor whose writes fail, as the C
/// tools see one (curl's error 23, iputils' "write error"), instead of letting output vanish
/// into /dev/null: /dev/full (ENOSPC), or where there is none a pipe without a reader.
pub fn guard_std_fds() {
    use std::os::fd::{BorrowedFd, IntoRawFd};
    for fd in 1..3 {
        // SAFETY: 1 and 2 stay open (Rust's runtime guarantees it); only borrowed here.
        let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
        if !was_closed(borrowed) {
            continue;
        }
        let failing = match std::fs::OpenOptions::new().write(true).open("/dev/full") {
            Ok(f) => f.into_raw_fd(),
            Err(_) => match nix::unistd::pipe() {
                Ok((r, w)) => {
                    drop(r);
                    w.into_raw_fd()
                }
                Err(_) => return,
            },
        };
        // SAFETY: `failing` is ours; dup2 replaces the /dev/null stand-in at `fd`.
        unsafe {
            libc::dup2(failing, fd);
            libc::close(failing);
        }
    }
}

use std::sync::atomic::{AtomicBool, Ordering};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_interrupt(_: libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// Catch Ctrl-C (SIGINT) so a long-running applet can print its summary and leave; blocking
/// waits return early (no SA_RESTART), and `interrupted()` tells the loop to stop.
pub fn catch_interrupt() {
    use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};
    let action = SigAction::new(
        SigHandler::Handler(on_interrupt),
        SaFlags::empty(),
        SigSet::empty(),
    );
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
    unsafe {
        let _ = sigaction(Signal::SIGINT, &action);
    }
}

/// As `catch_interrupt`, for SIGTERM as well (what `kubectl exec` and `timeout` send), for
/// tools that print a summary on either, as tcpdump does.
pub fn catch_interrupt_and_term() {
    use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};
    catch_interrupt();
    let action = SigAction::new(
        SigHandler::Handler(on_interrupt),
        SaFlags::empty(),
        SigSet::empty(),
    );
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
    unsafe {
        let _ = sigaction(Signal::SIGTERM, &action);
    }
}

pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// The real user id (non-root users may not ping faster than every 2 ms, as with iputils).
pub fn is_root() -> bool {
    nix::unistd::getuid().is_root()
}

/// The kernel's ping_group_range, for the error that explains why ping sockets are refused.
pub fn ping_group_range() -> Option<String> {
    std::fs::read_to_string("/proc/sys/net/ipv4/ping_group_range")
        .ok()
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
}

pub fn gid() -> u32 {
    nix::unistd::getgid().as_raw()
}

/// The terminal's width in columns (TIOCGWINSZ on stdout), when it has one.
pub fn terminal_columns() -> Option<usize> {
    let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
    // SAFETY: TIOCGWINSZ writes a struct winsize into the pointer we pass, which is valid.
    let r = unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut ws) };
    (r == 0 && ws.ws_col > 0).then_some(ws.ws_col as usize)
}

/// This process's CPU time so far: (user, system) in seconds (getrusage).
pub fn cpu_times() -> (f64, f64) {
    // SAFETY: getrusage fills the zeroed struct it is given.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) } != 0 {
        return (0.0, 0.0);
    }
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    (secs(ru.ru_utime), secs(ru.ru_stime))
}
