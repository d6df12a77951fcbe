//! The runtime: worker threads running every stage's tasks, barrier alignment, checkpoint
//! contributions, and the coordinator.
//!
//! ```text
//! job.rs          run_job: check, settle the restore point, build tasks, spawn, coordinate
//! worker.rs       one pinned thread: step every task, last stages first, never block
//! task/           what a worker runs of a stage: a source split, a ring-fed stage
//! emit.rs         the pushing side of an edge: fused steps, exchanges, sinks, fan-out
//! late_letters.rs late records without consumer into the dead letters, exactly once
//! align.rs        barrier alignment and watermark combination over a stage's channels
//! snapshot.rs     a worker's part of a checkpoint, gathered from its tasks
//! coordinator.rs  checkpoint triggers, acknowledgements, the MANIFEST commit
//! control.rs      what workers and the coordinator share
//! stamp.rs        latency stamps carried per batch through every stage (latency runs)
//! ```

pub mod align;
pub mod config;
pub mod control;
mod coordinator;
pub(crate) mod crash_point;
pub mod emit;
pub mod job;
pub mod late_letters;
pub mod restore_runs;
pub mod snapshot;
mod snapshot_runs;
pub mod stamp;
pub mod stop;
pub mod task;
pub mod worker;

pub use crate::dataflow::{Job, KeyedStream, Stream};
pub use crate::exchange::{ring, Keyed, Msg};
pub use config::{CheckpointConfig, JobReport, RestoreFrom, RunConfig};
