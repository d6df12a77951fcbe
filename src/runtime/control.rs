//! What workers and the coordinator share: the stop flag, the checkpoint trigger, and the
//! events workers send (checkpoint acknowledgements, their end).

use crate::checkpoint::{FileEntry, WorkerSnapshot};
use crate::sink::SinkStats;
use crate::source::RangePosition;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::time::Duration;

/// Writes a worker's snapshot of checkpoint `id` (the checkpoint store).
pub trait SnapshotWriter: Send + Sync {
    /// Writes and flushes the snapshot; returns its file entry for the MANIFEST.
    ///
    /// # Errors
    /// I/O errors (the checkpoint then fails, the job goes on).
    fn write(&self, id: u64, snapshot: &WorkerSnapshot) -> crate::Result<FileEntry>;

    /// The directory of checkpoint `id`, where states kept by the mmap backend link their run
    /// files; `None`: such states are written as sections (the default).
    fn checkpoint_dir(&self, id: u64) -> Option<std::path::PathBuf> {
        let _ = id;
        None
    }
}

/// A callback over `(key_group, state_name, bytes)` sections of a checkpoint.
pub type SectionVisitor<'a> = dyn FnMut(u16, &str, &[u8]) -> crate::Result<()> + 'a;

/// Reads the state sections of a restored checkpoint.
pub trait StateRestore: Send + Sync {
    /// Calls `f(kg, state_name, bytes)` for every section of the key groups in `range`.
    ///
    /// # Errors
    /// A checkpoint error when the archive is invalid, or what `f` returns.
    fn sections(&self, range: Range<u16>, f: &mut SectionVisitor<'_>) -> crate::Result<()>;

    /// The checkpoint's directory and the run files of its mmap-backed states (none by
    /// default).
    fn runs(&self) -> (std::path::PathBuf, &[crate::checkpoint::RunSet]) {
        (std::path::PathBuf::new(), &[])
    }
}

/// State shared by the workers and the coordinator.
pub struct Shared {
    /// Set when the job must stop (a worker failed, or a requested stop settled).
    pub stop: AtomicBool,
    /// Id of the newest checkpoint requested by the coordinator (0: none).
    pub trigger: AtomicU64,
    /// Events for the coordinator.
    pub events: crossbeam::channel::Sender<Event>,
}

/// A worker's acknowledgement of checkpoint `id`.
pub struct Ack {
    /// Checkpoint id.
    pub id: u64,
    /// Worker index.
    pub worker: usize,
    /// The state file, or why it could not be written.
    pub file: crate::Result<FileEntry>,
    /// The positions of the worker's source splits at the barrier (each tagged with its
    /// source's name).
    pub positions: Vec<RangePosition>,
    /// The operator state of the worker's stages.
    pub operator: Vec<crate::state::operator::OperatorSnapshot>,
    /// The dead-letter file length after the worker's dead letters before the barrier.
    pub dead_letter_len: u64,
    /// How long the worker paused processing for the snapshot (all its stages).
    pub pause: Duration,
    /// The run files of its states kept by the mmap backend.
    pub runs: Vec<crate::checkpoint::RunSet>,
}

/// What a worker reports when it ends.
#[derive(Debug, Default, Clone)]
pub struct WorkerStats {
    /// Well-formed records read by the worker's source splits.
    pub records_in: u64,
    /// Records dead-lettered by the worker's splits.
    pub dead_lettered: u64,
    /// Records the worker's stages sent to their late side outputs (or dead letters).
    pub late: u64,
    /// The sink partitions' figures.
    pub sink: SinkStats,
    /// The sink epoch of the records after the last barrier (the final epoch).
    pub final_epoch: u64,
    /// The splits' final positions (tagged with their source's name).
    pub positions: Vec<RangePosition>,
}

/// Messages from workers to the coordinator.
pub enum Event {
    /// A checkpoint acknowledgement.
    Ack(Ack),
    /// The worker ended.
    Done {
        /// Worker index.
        worker: usize,
        /// Its figures, or the failure.
        result: crate::Result<WorkerStats>,
    },
}
