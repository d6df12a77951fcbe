//! Deterministic crash points for tests: `WEIR_CRASH_AT=<point>:<checkpoint id>` aborts the
//! process (no cleanup, no flush — like `kill -9`) when checkpoint `id` reaches `point`:
//!
//! - `after-state-write`: a worker's state file is written and flushed, not yet acknowledged;
//! - `after-manifest`: the MANIFEST is committed, the sink's pending files not yet published;
//! - `run-write` (mmap backend): the N-th background write of a flushed run in the process
//!   has written its temporary file, not yet renamed it (the number is that N, not a
//!   checkpoint id);
//! - `run-link` (mmap backend): the N-th background linking of a checkpoint's run files in the
//!   process has made (and fsynced) its first link, not yet the others nor replied (N
//!   likewise).
//!
//! Random `kill -9` (scripts/crash_test.sh) rarely hits these narrow windows; these hooks hit
//! them every time. Unset, a crash point costs one cached environment lookup per checkpoint.

use std::sync::OnceLock;

fn configured() -> Option<&'static (String, u64)> {
    static SPEC: OnceLock<Option<(String, u64)>> = OnceLock::new();
    SPEC.get_or_init(|| {
        let spec = std::env::var("WEIR_CRASH_AT").ok()?;
        let (point, id) = spec.rsplit_once(':')?;
        Some((point.to_string(), id.parse().ok()?))
    })
    .as_ref()
}

/// Aborts the process if `WEIR_CRASH_AT` names this point and checkpoint.
pub(crate) fn crash_point(point: &str, checkpoint: u64) {
    if let Some((p, id)) = configured() {
        if p == point && *id == checkpoint {
            eprintln!("weir: crash point {point} at checkpoint {checkpoint}");
            std::process::abort();
        }
    }
}
