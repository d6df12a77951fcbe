//! `weir inspect DIR | head` must end quietly, as other Unix tools do, not panic on a closed
//! pipe: the Rust runtime ignores SIGPIPE (so writes fail with `EPIPE` and `print!` panics);
//! the command line restores the default action before anything is written.

#![allow(unsafe_code)]

/// Restores SIGPIPE's default action (terminate quietly) for this process.
pub fn restore_default() {
    // SAFETY: 1. `signal` with `SIG_DFL` installs no handler code, so there is no
    // async-signal-safety concern; 2. it runs at the start of `cli::main`, before weir starts
    // any thread of its own, so no other thread changes signal dispositions concurrently.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
