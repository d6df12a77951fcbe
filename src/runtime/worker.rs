//! One worker thread: every stage's task for the worker's source splits and key groups,
//! stepped round-robin, last stages first, never blocking on one ring.

use super::control::{Shared, StateRestore, WorkerStats};
use super::snapshot::Checkpoints;
use super::task::{Task, TaskCx};
use crate::error::Error;
use crate::source::DeadLetters;
use std::ops::Range;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// Everything one worker owns.
pub struct WorkerEnv {
    /// Worker index.
    pub id: usize,
    /// The worker's key groups.
    pub key_groups: Range<u16>,
    /// One task per source and per ring-fed stage, in topological order (sources first).
    pub tasks: Vec<Box<dyn Task>>,
    /// The worker's checkpoint contributions.
    pub checkpoints: Checkpoints,
    /// Dead-letter output.
    pub dead: DeadLetters,
    /// Shared with the coordinator.
    pub shared: Arc<Shared>,
    /// The checkpoint to restore state from.
    pub restore: Option<Arc<dyn StateRestore>>,
}

/// Processing time in milliseconds since the epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Runs a worker until every task is done.
///
/// # Errors
/// Source, sink and state failures; [`Error::Stopped`] when the job stops early.
pub fn run_worker(mut env: WorkerEnv) -> crate::Result<WorkerStats> {
    if let Some(restore) = env.restore.take() {
        restore_tasks(&mut env.tasks, restore.as_ref(), env.key_groups.clone())?;
        env.checkpoints.restored = crate::state::RestoreChecks::start();
    }
    let mut idle = 0u32;
    loop {
        if env.shared.stop.load(Ordering::Relaxed) {
            // Another worker failed, or a stop was requested after a final checkpoint.
            return Err(Error::Stopped);
        }
        let trigger = if env.checkpoints.enabled() {
            env.shared.trigger.load(Ordering::Acquire)
        } else {
            0
        };
        let mut cx = TaskCx {
            trigger,
            now_ms: now_ms(),
            dead: &mut env.dead,
            checkpoints: &mut env.checkpoints,
        };
        let mut progress = false;
        // Last stages first: they only feed later stages and sinks, so they free ring space
        // for the stages before them.
        for task in env.tasks.iter_mut().rev() {
            progress |= task.step(&mut cx)?;
        }
        // A damaged restored group fails the attempt before its next checkpoint.
        if let Some(damage) = env.checkpoints.restored.as_ref().and_then(|r| r.check()) {
            return Err(damage.into());
        }
        if env.tasks.iter().all(|t| t.done()) {
            break;
        }
        if progress {
            idle = 0;
        } else {
            idle = idle.saturating_add(1);
            backoff(idle);
        }
    }
    if let Some(mut restored) = env.checkpoints.restored.take() {
        restored.settle()?; // the worker's end commits nothing unchecked either
    }
    let mut stats = WorkerStats::default();
    for task in &mut env.tasks {
        task.finish(&mut stats)?;
    }
    // Lines after the last barrier: appended by the job once every worker ended.
    env.dead.defer();
    stats.dead_lettered = env.dead.count();
    stats.final_epoch = env.checkpoints.last_acked + 1;
    Ok(stats)
}

/// Hands every state section of the worker's key groups to the stage it names
/// (`stage/state`).
fn restore_tasks(
    tasks: &mut [Box<dyn Task>],
    restore: &dyn StateRestore,
    key_groups: Range<u16>,
) -> crate::Result<()> {
    restore.sections(key_groups.clone(), &mut |kg, name, bytes| {
        let (task, state) = super::restore_runs::task_of(tasks, name)?;
        task.restore(kg, state, bytes)
    })?;
    super::restore_runs::restore_tasks_runs(tasks, restore, &key_groups)
}

/// Waits a little when a round made no progress: spin, then yield, then sleep briefly.
fn backoff(idle: u32) {
    if idle < 64 {
        std::hint::spin_loop();
    } else if idle < 256 {
        std::thread::yield_now();
    } else {
        std::thread::sleep(Duration::from_micros(if idle < 1024 { 20 } else { 200 }));
    }
}
