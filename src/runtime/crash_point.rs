//! Deterministic crash points for tests: `WEIR_CRASH_AT=<point>:<checkpoint id>` aborts the
//! process (no cleanup, no flush — like `kill -9`) when checkpoint `id` reaches `point`:
//!
//! - `after-state-write`: a worker's state file is written and flushed, not yet acknowledged;
//! - `before-manifest`: every worker's state is written (or, for the final checkpoint at the
//!   end of the input, all output is), the MANIFEST not yet committed;
//! - `after-manifest`: the MANIFEST is committed, the sink's pending files not yet published;
//! - `run-write` (mmap backend): the N-th background write of a flushed run in the process
//!   has written its temporary file, not yet renamed it (the number is that N, not a
//!   checkpoint id);
//! - `run-link` (mmap backend): the N-th background linking of a checkpoint's run files in the
//!   process has made (and fsynced) its first link, not yet the others nor replied (N
//!   likewise).
//!
//! The id may be `*`: the first time the point is reached, whatever the checkpoint (e.g.
//! `before-manifest:*` aborts a run before any checkpoint of it commits, like a kill before
//! its first checkpoint — but at a moment that does not depend on the machine's speed).
//!
//! Random `kill -9` (scripts/crash_test.sh) rarely hits these narrow windows; these hooks hit
//! them every time. Unset, a crash point costs one cached environment lookup per checkpoint.

use std::sync::OnceLock;

/// The configured point and checkpoint id (`None`: any checkpoint).
fn configured() -> Option<&'static (String, Option<u64>)> {
    static SPEC: OnceLock<Option<(String, Option<u64>)>> = OnceLock::new();
    SPEC.get_or_init(|| parse(&std::env::var("WEIR_CRASH_AT").ok()?))
        .as_ref()
}

/// `point:id` or `point:*`.
fn parse(spec: &str) -> Option<(String, Option<u64>)> {
    let (point, id) = spec.rsplit_once(':')?;
    let id = match id {
        "*" => None,
        n => Some(n.parse().ok()?),
    };
    Some((point.to_string(), id))
}

/// Aborts the process if `WEIR_CRASH_AT` names this point and checkpoint.
pub(crate) fn crash_point(point: &str, checkpoint: u64) {
    if let Some((p, id)) = configured() {
        if p == point && id.is_none_or(|id| id == checkpoint) {
            eprintln!("weir: crash point {point} at checkpoint {checkpoint}");
            std::process::abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn parses_an_id_or_a_wildcard() {
        assert_eq!(
            parse("after-manifest:3"),
            Some(("after-manifest".into(), Some(3)))
        );
        assert_eq!(
            parse("after-state-write:*"),
            Some(("after-state-write".into(), None))
        );
        assert_eq!(parse("after-manifest:x"), None);
        assert_eq!(parse("after-manifest"), None);
    }
}
