//! Where keyed state lives: [`StateBackend`].
//!
//! `heap` (the default) keeps every key group's entries in in-memory tables. `mmap` keeps
//! them in immutable, memory-mapped *run* files under a working directory, with a bounded
//! in-memory cache of the keys touched recently (see `state::mmap`): the OS pages
//! the files in and out, so the state can be larger than the memory the job may use. The
//! choice changes speed and footprint only: both backends give the same results, the same
//! TTL semantics and the same checkpoint sections.

use std::path::PathBuf;

/// Default number of decoded entries the mmap backend keeps in memory per state object.
pub const DEFAULT_CACHE_ENTRIES: usize = 1 << 20;

/// Which backend keyed state objects use; set by the runtime through
/// [`KeyedStateStore::set_backend`](super::KeyedStateStore::set_backend).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum StateBackend {
    /// In-memory tables (the default).
    #[default]
    Heap,
    /// Memory-mapped run files under `dir`, with a cache of `cache_entries` decoded entries.
    Mmap {
        /// Directory for the working files (each state object makes its own unique
        /// subdirectory there and removes only that); `None`: the system's temp directory.
        dir: Option<PathBuf>,
        /// Decoded entries kept in memory per state object before they are written to a run.
        cache_entries: usize,
    },
}

/// The name of a backend, as written in `[state] backend` and `--state-backend`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    /// [`StateBackend::Heap`].
    #[default]
    Heap,
    /// [`StateBackend::Mmap`].
    Mmap,
}

impl StateBackend {
    /// The backend `kind` with its working files under `dir` and the default cache size.
    pub fn from_kind(kind: BackendKind, dir: Option<PathBuf>) -> Self {
        match kind {
            BackendKind::Heap => StateBackend::Heap,
            BackendKind::Mmap => StateBackend::Mmap {
                dir,
                cache_entries: DEFAULT_CACHE_ENTRIES,
            },
        }
    }

    /// The backend with its working directory settled: an mmap backend without a directory
    /// puts its files under `checkpoint_dir/state` when checkpoints are on.
    pub fn resolve(&self, checkpoint_dir: Option<&std::path::Path>) -> StateBackend {
        match self {
            StateBackend::Mmap {
                dir: None,
                cache_entries,
            } => StateBackend::Mmap {
                dir: checkpoint_dir.map(|d| d.join("state")),
                cache_entries: *cache_entries,
            },
            other => other.clone(),
        }
    }

    /// The mmap backend with a cache of `n` entries (unchanged for `None` or the heap).
    pub fn with_cache_entries(self, n: Option<usize>) -> StateBackend {
        match (self, n) {
            (StateBackend::Mmap { dir, .. }, Some(n)) => StateBackend::Mmap {
                dir,
                cache_entries: n,
            },
            (other, _) => other,
        }
    }

    /// The backend's name (`heap` or `mmap`).
    pub fn kind(&self) -> BackendKind {
        match self {
            StateBackend::Heap => BackendKind::Heap,
            StateBackend::Mmap { .. } => BackendKind::Mmap,
        }
    }
}

impl std::fmt::Display for BackendKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            BackendKind::Heap => "heap",
            BackendKind::Mmap => "mmap",
        })
    }
}

/// The backend unit tests use: `WEIR_TEST_STATE_BACKEND=mmap` runs the keyed-state tests on
/// the mmap backend with a tiny cache (so that runs, merges and shadowing are exercised).
#[cfg(test)]
pub(crate) fn test_backend() -> Option<StateBackend> {
    match std::env::var("WEIR_TEST_STATE_BACKEND").ok()?.as_str() {
        "mmap" => Some(StateBackend::Mmap {
            dir: None,
            cache_entries: 8,
        }),
        _ => None,
    }
}
