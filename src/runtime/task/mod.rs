//! Tasks: what one worker runs of each stage of the dataflow graph.
//!
//! A worker runs one task per source (read a batch from its split, push it down the fused
//! chain) and one task per stage fed by rings (align its channels, run the operator on its
//! key groups, push its output down the fused chain). Fused steps and sinks are not tasks:
//! they run inside the task whose output they consume ([`super::emit`]).

mod source;
mod stage;

pub use source::{EventTime, SourceTask};
pub use stage::{StageInputs, StageTask};

use super::control::WorkerStats;
use super::snapshot::Checkpoints;
use crate::source::DeadLetters;

/// What a task sees of its worker during one step.
pub struct TaskCx<'a> {
    /// The newest checkpoint the coordinator requested (read once per round; 0 when
    /// checkpointing is off).
    pub trigger: u64,
    /// Processing time in milliseconds since the epoch, read once per round.
    pub now_ms: u64,
    /// The worker's dead-letter output.
    pub dead: &'a mut DeadLetters,
    /// The worker's checkpoint contributions.
    pub checkpoints: &'a mut Checkpoints,
}

/// One worker's share of one stage.
pub trait Task: Send {
    /// The stage's name (state sections are named `stage/state`).
    fn name(&self) -> &str;

    /// Does a bounded amount of work without blocking; true if anything moved.
    ///
    /// # Errors
    /// Source, sink and state failures.
    fn step(&mut self, cx: &mut TaskCx<'_>) -> crate::Result<bool>;

    /// Whether the task sent the end of its stream and all its output left the worker.
    fn done(&self) -> bool;

    /// Restores one state section of a key group this worker owns.
    ///
    /// # Errors
    /// The state is unknown to the task or its bytes do not decode.
    fn restore(&mut self, key_group: u16, state: &str, bytes: &[u8]) -> crate::Result<()> {
        let _ = (key_group, bytes);
        Err(crate::Error::Runtime(format!(
            "checkpoint holds state {state:?} for stage {:?}, which has no state",
            self.name()
        )))
    }

    /// Restores state `state` from the run files `names` of checkpoint directory `dir` (the
    /// mmap backend's incremental checkpoints, see [`crate::checkpoint::RunSet`]).
    ///
    /// # Errors
    /// The state is unknown to the task, or a run file is missing or damaged.
    fn restore_runs(
        &mut self,
        state: &str,
        dir: &std::path::Path,
        names: &[crate::state::RunSource],
    ) -> crate::Result<()> {
        let _ = (dir, names);
        self.restore(0, state, &[])
    }

    /// End of the worker: closes sink partitions, adds its figures to `stats`.
    ///
    /// # Errors
    /// Sink I/O errors.
    fn finish(&mut self, stats: &mut WorkerStats) -> crate::Result<()>;
}
