//! Run configuration and the report of a finished run.

use crate::sink::SinkStats;
use crate::source::dead_letter::OnError;
use std::path::PathBuf;
use std::time::Duration;

/// Which checkpoint to restore from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RestoreFrom {
    /// Start fresh (default).
    None,
    /// The newest valid checkpoint in the checkpoint directory; fresh start if there is none.
    Latest,
    /// A given checkpoint directory (`ckpt/chk-0000000042`).
    Path(PathBuf),
}

/// Checkpointing settings.
#[derive(Clone, Debug)]
pub struct CheckpointConfig {
    /// Directory holding `chk-*` checkpoint directories.
    pub dir: PathBuf,
    /// Time between checkpoint triggers.
    pub interval: Duration,
    /// Complete checkpoints to keep.
    pub retain: usize,
    /// What to restore from.
    pub restore: RestoreFrom,
    /// With `restore`, fail when there is no checkpoint to restore.
    pub restore_required: bool,
    /// Allow restoring a pipeline whose source cannot rewind (output is then at-least-once).
    pub allow_at_least_once: bool,
    /// The lineage decided by a pre-flight (the CLI's): recorded in every MANIFEST; a fresh
    /// start then keeps older checkpoints until its first commit. `None`: the runtime starts
    /// fresh by deleting older checkpoints (library use).
    pub lineage: Option<crate::safety::Lineage>,
}

/// How a job runs.
#[derive(Clone, Debug)]
pub struct RunConfig {
    /// Worker threads (default: number of cores).
    pub workers: usize,
    /// Number of key groups (power of two, fixed for a checkpoint lineage).
    pub max_parallelism: u16,
    /// Records per batch on the rings.
    pub batch_size: usize,
    /// Capacity of each ring, in messages (batches).
    pub ring_capacity: usize,
    /// Pin worker `w` to core `w` (failure is a warning).
    pub pin: bool,
    /// Where malformed input goes.
    pub dead_letter_path: PathBuf,
    /// What to do with malformed input.
    pub on_error: OnError,
    /// Checkpointing, when enabled.
    pub checkpoint: Option<CheckpointConfig>,
    /// A fingerprint of the pipeline (checkpoints of another pipeline are refused).
    pub fingerprint: u64,
    /// A pre-flight (the CLI's, [`crate::safety`]) checked the paths and settled the output
    /// and dead-letter files of a fresh start: the runtime then deletes nothing at start.
    pub preflight: bool,
    /// Where keyed state lives (`[state]`, `--state-backend`).
    pub state_backend: crate::state::StateBackend,
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            workers: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            max_parallelism: crate::state::DEFAULT_MAX_PARALLELISM,
            batch_size: 1024,
            ring_capacity: 64,
            pin: true,
            dead_letter_path: PathBuf::from("weir-dead-letters.jsonl"),
            on_error: OnError::DeadLetter,
            checkpoint: None,
            fingerprint: 0,
            preflight: false,
            state_backend: crate::state::StateBackend::Heap,
        }
    }
}

/// Figures of one checkpoint.
#[derive(Clone, Debug, Default)]
pub struct CheckpointStat {
    /// Checkpoint id.
    pub id: u64,
    /// From trigger to committed MANIFEST.
    pub duration: Duration,
    /// Bytes written new: state files and new run files (mmap backend).
    pub bytes: u64,
    /// Bytes of run files shared with earlier checkpoints (hard links, not written again).
    pub shared_bytes: u64,
    /// Longest time any worker was paused taking its snapshot.
    pub max_pause: Duration,
}

/// What a finished run reports.
#[derive(Clone, Debug, Default)]
pub struct JobReport {
    /// Records read from sources (well-formed).
    pub records_in: u64,
    /// Records written by the sink, and their checksum.
    pub sink: SinkStats,
    /// Malformed records sent to the dead-letter output.
    pub dead_lettered: u64,
    /// Records that came too late for their stage (event time), whether they went to a
    /// `late` side output or to the dead-letter output.
    pub late: u64,
    /// Of [`JobReport::late`], those written to the dead-letter output (no consumer).
    pub late_dead_lettered: u64,
    /// Wall time of the run.
    pub elapsed: Duration,
    /// Completed checkpoints.
    pub checkpoints: Vec<CheckpointStat>,
    /// Checkpoints that failed (logged; the job went on).
    pub failed_checkpoints: u64,
    /// The checkpoint the run restored from, if any.
    pub restored_from: Option<u64>,
    /// True when the restored checkpoint was the final one of a completed job.
    pub already_complete: bool,
    /// The run was stopped on request ([`super::stop::request_stop`]) before its input ended:
    /// the id of its last committed checkpoint (resume from it), or `None` without checkpoints.
    pub stopped: Option<Option<u64>>,
}
