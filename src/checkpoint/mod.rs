//! Checkpoints: per-worker rkyv snapshots in memory-mapped files, an atomically committed
//! MANIFEST, restore with validation and fallback, retention, inspection.
//!
//! (Interface skeleton; the storage is being implemented.)

use crate::source::RangePosition;
use serde::{Deserialize, Serialize};
use std::ops::Range;
use std::path::{Path, PathBuf};

/// Version of the on-disk format (MANIFEST and state files). Bump on any change.
pub const FORMAT_VERSION: u32 = 1;

/// One state's entries in one key group, encoded with [`crate::state::StateCodec`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StateSnapshot {
    /// The state's name.
    pub name: String,
    /// Number of entries.
    pub entries: u64,
    /// Encoded entries.
    pub bytes: Vec<u8>,
}

/// All states of one key group.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GroupSnapshot {
    /// The key group.
    pub key_group: u16,
    /// Its states.
    pub states: Vec<StateSnapshot>,
}

/// Everything one worker snapshots at a barrier.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WorkerSnapshot {
    /// The worker index.
    pub worker: u32,
    /// Its key groups, ascending.
    pub groups: Vec<GroupSnapshot>,
}

/// A state file as listed in the MANIFEST.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// File name inside the checkpoint directory (`w0.state`).
    pub name: String,
    /// Length in bytes.
    pub len: u64,
    /// CRC32C of the whole file.
    pub checksum: u32,
    /// The key groups whose sections the file holds.
    pub key_groups: Range<u16>,
}

/// The MANIFEST of a checkpoint: it exists only once the checkpoint is complete.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// On-disk format version ([`FORMAT_VERSION`]).
    pub format_version: u32,
    /// Checkpoint id.
    pub id: u64,
    /// Wall-clock time of the commit, ms since the Unix epoch.
    pub created_ms: u64,
    /// Fingerprint of the pipeline that wrote it.
    pub fingerprint: u64,
    /// Number of key groups.
    pub max_parallelism: u16,
    /// Worker count of the run that wrote it.
    pub workers: u32,
    /// State files.
    pub files: Vec<FileEntry>,
    /// Replay positions, per source split (index = worker of the writing run).
    pub sources: Vec<Vec<RangePosition>>,
    /// Sink epochs `≤ sink_epoch` are committed by this checkpoint.
    pub sink_epoch: u64,
    /// True for the final checkpoint of a job that ran to completion.
    pub finished: bool,
}

/// A directory of checkpoints.
pub struct CheckpointStore {
    dir: PathBuf,
}

impl CheckpointStore {
    /// Opens (creating) the checkpoint directory.
    ///
    /// # Errors
    /// I/O errors, or the directory is locked by another process.
    pub fn open(dir: &Path) -> crate::Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| crate::Error::io(dir, e))?;
        Ok(CheckpointStore {
            dir: dir.to_path_buf(),
        })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}
