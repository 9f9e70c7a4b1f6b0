//! Process-wide settings made once at start-up.

/// Let a closed stdout pipe end the process quietly, as it does for C tools, instead of every
/// write returning EPIPE (Rust ignores SIGPIPE by default).
pub fn restore_sigpipe() {
    // SAFETY: setting a signal disposition to SIG_DFL has no memory-safety preconditions.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
