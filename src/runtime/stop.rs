//! Stop requests (Ctrl-C / SIGTERM): the first makes a running job take a final checkpoint and
//! stop; the CLI exits on the second (code 130).
//!
//! The request is process-wide, like the signal it comes from.

use std::sync::atomic::{AtomicUsize, Ordering};

static REQUESTS: AtomicUsize = AtomicUsize::new(0);

/// Asks the running job to stop after a final checkpoint; returns how many stops were
/// requested so far (including this one).
pub fn request_stop() -> usize {
    REQUESTS.fetch_add(1, Ordering::SeqCst) + 1
}

/// Whether a stop was requested.
pub fn stop_requested() -> bool {
    REQUESTS.load(Ordering::Relaxed) > 0
}
