//! `[state]`: where keyed state lives.
//!
//! ```toml
//! [state]
//! backend = "mmap"        # or "heap" (the default)
//! dir = "/var/tmp/weir"   # working files of the mmap backend (default: under the
//!                         # checkpoint directory, else the system's temp directory)
//! cache_entries = 262144  # decoded entries kept in memory per state object and worker
//! ```

use super::spec::RuntimeSpec;
use super::walk::{Errors, Section};
use crate::state::{BackendKind, StateBackend};
use std::path::PathBuf;

/// The `[state]` table.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StateSpec {
    /// `backend`.
    pub backend: BackendKind,
    /// `dir`.
    pub dir: Option<PathBuf>,
    /// `cache_entries` (default [`crate::state::backend::DEFAULT_CACHE_ENTRIES`]).
    pub cache_entries: Option<usize>,
}

impl StateSpec {
    /// The backend this table selects (the directory is resolved at run time, see
    /// [`StateBackend::resolve`]).
    pub fn backend(&self) -> StateBackend {
        StateBackend::from_kind(self.backend, self.dir.clone())
            .with_cache_entries(self.cache_entries)
    }
}

/// Reads `[state]` (when present) into `runtime`; `None` on errors.
pub(crate) fn with_state(
    root: &mut Section,
    errs: &mut Errors,
    runtime: Option<RuntimeSpec>,
) -> Option<RuntimeSpec> {
    if !root.has("state") {
        return runtime;
    }
    let mut s = root.table("state", errs)?;
    let kinds = [("heap", BackendKind::Heap), ("mmap", BackendKind::Mmap)];
    let backend = match s.has("backend") {
        true => s.choice("backend", errs, "state backend", &kinds),
        false => Some(BackendKind::Heap),
    };
    let dir = match s.has("dir") {
        true => s.name("dir", errs).map(|d| Some(PathBuf::from(d))),
        false => Some(None),
    };
    let cache_entries = match s.has("cache_entries") {
        true => s
            .int("cache_entries", errs, 1..=1 << 40)
            .map(|v| Some(v as usize)),
        false => Some(None),
    };
    s.finish(errs);
    let state = StateSpec {
        backend: backend?,
        dir: dir?,
        cache_entries: cache_entries?,
    };
    runtime.map(|r| RuntimeSpec { state, ..r })
}
