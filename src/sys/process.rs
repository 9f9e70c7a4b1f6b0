//! Process-wide settings made once at start-up.

/// Let a closed stdout pipe end the process quietly, as it does for C tools, instead of every
/// write returning EPIPE (Rust ignores SIGPIPE by default).
pub fn restore_sigpipe() {
    // SAFETY: setting a signal disposition to SIG_DFL has no memory-safety preconditions.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
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
