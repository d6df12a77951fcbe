//! `--state-backend` and `--state-dir` (of `weir run` and `weir bench`).

use crate::runtime::RunConfig;
use crate::state::{BackendKind, StateBackend};
use std::path::Path;

/// Environment variable that picks the backend when `--state-backend` is not given (over the
/// pipeline's `[state] backend`): `heap` or `mmap`, e.g. to run a test suite on either.
pub const BACKEND_ENV: &str = "WEIR_STATE_BACKEND";

/// The backend named by [`BACKEND_ENV`], if set to a backend's name (anything else is ignored
/// with a warning).
fn env_kind() -> Option<BackendKind> {
    let v = std::env::var(BACKEND_ENV).ok()?;
    match v.as_str() {
        "heap" => Some(BackendKind::Heap),
        "mmap" => Some(BackendKind::Mmap),
        _ => {
            tracing::warn!("{BACKEND_ENV}={v:?} is not heap or mmap; ignored");
            None
        }
    }
}

/// Applies the flags over the pipeline's `[state]`: `--state-backend` (else
/// [`BACKEND_ENV`]) picks the backend (keeping the pipeline's directory unless `--state-dir`
/// is given), `--state-dir` alone sets the directory of an mmap backend. Inside a memory
/// cgroup, the mmap cache is capped to fit its limit ([`crate::state::memory_budget`]).
pub fn apply(config: &mut RunConfig, kind: Option<BackendKind>, dir: Option<&Path>) {
    let kind = kind.or_else(env_kind);
    let (old_dir, old_cache) = match &config.state_backend {
        StateBackend::Mmap { dir, cache_entries } => (dir.clone(), Some(*cache_entries)),
        StateBackend::Heap => (None, None),
    };
    let kind = kind.unwrap_or(config.state_backend.kind());
    let dir = dir.map(Path::to_path_buf).or(old_dir);
    let backend = StateBackend::from_kind(kind, dir).with_cache_entries(old_cache);
    config.state_backend = crate::state::memory_budget::cap(
        backend,
        config.workers,
        crate::state::memory_budget::cgroup_memory_limit(),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_override_the_pipeline() {
        let mut c = RunConfig::default();
        apply(&mut c, None, None);
        assert_eq!(c.state_backend, StateBackend::Heap);
        c.state_backend = StateBackend::from_kind(BackendKind::Mmap, Some("/a".into()));
        apply(&mut c, None, Some(Path::new("/b")));
        assert!(
            matches!(&c.state_backend, StateBackend::Mmap { dir: Some(d), .. } if d.as_path() == Path::new("/b"))
        );
        apply(&mut c, Some(BackendKind::Heap), None);
        assert_eq!(c.state_backend, StateBackend::Heap);
    }
}
