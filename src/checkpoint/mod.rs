//! Checkpoints: per-worker rkyv snapshots in memory-mapped files, an atomically committed
//! MANIFEST, restore with validation and fallback, retention, inspection.
//!
//! ```text
//! DIR/
//!   LOCK                        flock'ed by the one weir process using DIR
//!   chk-0000000042/ MANIFEST  w0.state  w1.state  ...
//!   chk-0000000043/ w0.state    (no MANIFEST: incomplete, does not exist, cleaned up)
//! ```
//!
//! * A **state file** (`w{worker}.state`, [`CheckpointStore::write_worker_state`]) is a 32-byte
//!   header (magic `WEIRSTAT`, [`FORMAT_VERSION`], header length, body length, segment count)
//!   followed by one or more segments, each a 16-byte segment header and the rkyv archive of a
//!   [`WorkerSnapshot`], 16-byte aligned. A snapshot over about 1 GiB is split into several
//!   segments (`segments`: rkyv's 32-bit relative offsets address 2 GiB per archive); adjacent
//!   pieces of one key group's state join again on restore. Each archive's `groups` vector is
//!   an index of key-group sections: fixed-size entries sorted by key group, each pointing at
//!   its states' bytes, found by binary search.
//! * The **MANIFEST** ([`CheckpointStore::commit`]) is pretty JSON of a [`Manifest`], then one
//!   line `{"crc32":N}` holding the CRC32 of the JSON body's bytes (a JSON stream: `jq` reads
//!   it). It is written to `MANIFEST.tmp`, fsynced, renamed, and the directories fsynced.
//! * **Restore** ([`CheckpointStore::load_latest`], [`Restored::sections`]) checks the
//!   MANIFEST checksum, format version and pipeline fingerprint, each file's length and
//!   checksum, maps the files and reads them through validating `rkyv::access` only;
//!   [`CheckpointStore::load_latest_checked`] also decodes every state section with the
//!   pipeline's states ([`SectionChecks`], one thread per state file) so that an unusable
//!   checkpoint is skipped.
//!
//! Checksums are CRC32 (IEEE polynomial, the `crc32fast` crate), not CRC32C.
//!
//! ```
//! use weir::checkpoint::{CheckpointStore, GroupSnapshot, Manifest, StateSnapshot, WorkerSnapshot};
//!
//! let dir = tempfile::tempdir()?;
//! let store = CheckpointStore::open(dir.path())?;
//! store.clean_incomplete()?;
//! // Each worker, at barrier 1 (concurrently for different workers):
//! let state = StateSnapshot { name: "sum".into(), entries: 1, bytes: vec![1, 2, 3] };
//! let group = GroupSnapshot { key_group: 5, states: vec![state] };
//! let snapshot = WorkerSnapshot { worker: 0, key_groups: 0..128, groups: vec![group] };
//! let entry = store.write_worker_state(1, &snapshot)?;
//! // The coordinator, once every worker acknowledged:
//! let mut manifest = Manifest::new(1, 0xfeed, 128, 1);
//! manifest.files.push(entry);
//! store.commit(&manifest)?;
//! store.retain(3)?;
//! // A restore with two workers: the one owning key groups 0..64.
//! let restored = store.load_latest(0xfeed)?.expect("a checkpoint");
//! let mut seen = Vec::new();
//! restored.sections(0..64, |kg, name, bytes| {
//!     seen.push((kg, name.to_string(), bytes.to_vec()));
//!     Ok(())
//! })?;
//! assert_eq!(seen, vec![(5, "sum".to_string(), vec![1, 2, 3])]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod format;
mod inspect;
mod mmap;
mod quarantine;
mod restore;
mod runs;
mod segments;
mod store;
#[cfg(test)]
mod tests;
mod verify;

pub use inspect::{
    describe, list, CheckpointDetail, CheckpointSummary, CheckpointTable, GroupDetail, StateDetail,
};
pub use quarantine::{quarantine, QUARANTINED};
pub(crate) use restore::read_manifest;
pub use restore::Restored;
pub(crate) use runs::{check_run_files, is_run_file_name};
pub use runs::{run_states, runs_for, CheckpointBytes, RunFileEntry, RunSet};
pub use segments::DEFAULT_SEGMENT_BYTES;
pub(crate) use store::scan;
pub use store::CheckpointStore;
pub use verify::{check_section, restore_section, SectionCheck, SectionChecks};

use crate::source::RangePosition;
use serde::{Deserialize, Serialize};
use std::ops::Range;

/// Version of the on-disk format (MANIFEST and state files). Bump on any change.
///
/// History: 1 — one archive per state file; 2 — state files in segments (see the module
/// docs), so that a worker's state may exceed rkyv's 2 GiB archive limit, and the MANIFEST's
/// `lineage`, `lineage_start` and `dead_letter_path`; 3 — a job is a graph: state sections
/// are named `stage/state` and source positions carry their source's name; 4 — the
/// MANIFEST's `runs`: run files of states kept by the mmap backend (incremental checkpoints).
pub const FORMAT_VERSION: u32 = 4;

/// The oldest format version this weir still reads (older state sections name no stage).
pub const MIN_FORMAT_VERSION: u32 = 3;

/// One state's entries in one key group, encoded with [`crate::state::StateCodec`].
///
/// Persisted (archived in state files): changing fields changes the format: bump
/// [`FORMAT_VERSION`]. Do not reorder fields.
#[derive(Clone, Debug, Default, PartialEq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub struct StateSnapshot {
    /// The state's name.
    pub name: String,
    /// Number of entries.
    pub entries: u64,
    /// Encoded entries.
    pub bytes: Vec<u8>,
}

/// All states of one key group.
///
/// Persisted (archived in state files): changing fields changes the format: bump
/// [`FORMAT_VERSION`]. Do not reorder fields.
#[derive(Clone, Debug, Default, PartialEq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub struct GroupSnapshot {
    /// The key group.
    pub key_group: u16,
    /// Its states.
    pub states: Vec<StateSnapshot>,
}

/// Everything one worker snapshots at a barrier: the root of a state file's archive.
///
/// Persisted (archived in state files): changing fields changes the format: bump
/// [`FORMAT_VERSION`]. Do not reorder fields.
#[derive(Clone, Debug, Default, PartialEq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub struct WorkerSnapshot {
    /// The worker index (the file is `w{worker}.state`).
    pub worker: u32,
    /// The key groups the worker owns (`[w*M/N, (w+1)*M/N)`), whether or not they hold state.
    pub key_groups: Range<u16>,
    /// Its key groups that hold state, strictly ascending, all inside `key_groups`. This
    /// vector is the file's section index.
    pub groups: Vec<GroupSnapshot>,
}

/// A state file as listed in the MANIFEST.
///
/// Persisted (in MANIFEST): changing fields changes the format: bump [`FORMAT_VERSION`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// File name inside the checkpoint directory (`w0.state`).
    pub name: String,
    /// Length in bytes.
    pub len: u64,
    /// CRC32 (IEEE, `crc32fast`) of the whole file, header included.
    pub checksum: u32,
    /// The key groups whose sections the file holds.
    pub key_groups: Range<u16>,
}

/// The MANIFEST of a checkpoint: it exists only once the checkpoint is complete.
///
/// Persisted (as JSON): changing fields changes the format: bump [`FORMAT_VERSION`].
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
    /// State files; their key-group ranges must tile `0..max_parallelism`.
    pub files: Vec<FileEntry>,
    /// Replay positions, per source split (index = worker of the writing run).
    pub sources: Vec<Vec<RangePosition>>,
    /// Sink epochs `≤ sink_epoch` are committed by this checkpoint.
    pub sink_epoch: u64,
    /// True for the final checkpoint of a job that ran to completion.
    pub finished: bool,
    /// Length of the dead-letter file at this checkpoint (a restore truncates it back).
    #[serde(default)]
    pub dead_letter_len: Option<u64>,
    /// Id of the lineage (the runs continuing one fresh start) that wrote it; `None` in
    /// format 1. The sink directory's marker names the lineages whose output it holds.
    #[serde(default)]
    pub lineage: Option<String>,
    /// The first checkpoint id (and sink epoch) of the lineage: part files of older epochs
    /// belong to an older lineage. `None` in format 1.
    #[serde(default)]
    pub lineage_start: Option<u64>,
    /// The lineage's dead-letter file, absolute; a restore must name the same one. `None` in
    /// format 1.
    #[serde(default)]
    pub dead_letter_path: Option<std::path::PathBuf>,
    /// Operator state (not keyed) per worker (index = worker), each list named `stage/state`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub operator_state: Vec<Vec<crate::state::operator::OperatorSnapshot>>,
    /// Run files of the states kept by the mmap backend (their entries are not in the state
    /// files' sections), per worker and state; see [`RunSet`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub runs: Vec<RunSet>,
}

impl Manifest {
    /// A manifest of this format version, created now, with no files, sources or epochs yet.
    pub fn new(id: u64, fingerprint: u64, max_parallelism: u16, workers: u32) -> Self {
        let created_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        Manifest {
            format_version: FORMAT_VERSION,
            id,
            created_ms,
            fingerprint,
            max_parallelism,
            workers,
            sink_epoch: id,
            ..Manifest::default()
        }
    }
}

/// The directory name of checkpoint `id` (`chk-0000000042`).
pub fn checkpoint_dir_name(id: u64) -> String {
    format!("chk-{id:010}")
}

/// The id of a checkpoint directory name, if it is one.
pub fn parse_checkpoint_dir_name(name: &str) -> Option<u64> {
    let digits = name.strip_prefix("chk-")?;
    if digits.len() < 10 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// The file name of worker `worker`'s state file (`w3.state`).
pub fn state_file_name(worker: u32) -> String {
    format!("w{worker}.state")
}
