//! Restoring the states a checkpoint holds as run files (the mmap backend's incremental
//! checkpoints, [`crate::checkpoint::RunSet`]): each worker maps the runs of the writers whose
//! key groups overlap its own, without decoding them (a state on the heap backend decodes them
//! into its tables instead).

use super::control::StateRestore;
use super::task::Task;
use crate::checkpoint::{run_states, runs_for};
use crate::error::Error;
use crate::state::KeyedStateStore;
use std::ops::Range;
use std::path::Path;

/// Hands every state with run files in the restored checkpoint the runs that cover
/// `key_groups`.
///
/// # Errors
/// A state of a stage this job does not have; a missing or damaged run file.
pub(crate) fn restore_tasks_runs(
    tasks: &mut [Box<dyn Task>],
    restore: &dyn StateRestore,
    key_groups: &Range<u16>,
) -> crate::Result<()> {
    let (dir, runs) = restore.runs();
    for name in run_states(runs) {
        let names = runs_for(runs, &name, key_groups);
        if names.is_empty() {
            continue;
        }
        let (task, state) = task_of(tasks, &name)?;
        task.restore_runs(state, &dir, &names)?;
    }
    Ok(())
}

/// Restores the state named `state` among `states` from the run files `names` of `dir`.
///
/// # Errors
/// No such state, or its runs cannot be used.
pub(crate) fn restore_state(
    mut states: Vec<&mut dyn KeyedStateStore>,
    full_name: &str,
    state: &str,
    dir: &Path,
    names: &[crate::state::RunSource],
) -> crate::Result<()> {
    let s = states
        .iter_mut()
        .find(|s| s.name() == state)
        .ok_or_else(|| Error::Runtime(format!("checkpoint holds unknown state {full_name:?}")))?;
    s.restore_files(dir, names).map(drop).map_err(|e| match e {
        // A damaged file falls back to an older checkpoint (`weir run --restore latest`).
        crate::state::RunError::Damaged { path, what } => Error::RestoredRunDamaged {
            checkpoint: dir.to_path_buf(),
            file: path,
            what,
        },
        e => Error::Checkpoint {
            path: dir.to_path_buf(),
            reason: format!("state {full_name}: {e}"),
        },
    })
}

/// The task a checkpointed state `stage/state` belongs to, and the state's name in it.
///
/// # Errors
/// The job has no stage of that name.
pub(crate) fn task_of<'t, 'n>(
    tasks: &'t mut [Box<dyn Task>],
    name: &'n str,
) -> crate::Result<(&'t mut Box<dyn Task>, &'n str)> {
    let (stage, state) = name.split_once('/').unwrap_or(("", name));
    let task = tasks
        .iter_mut()
        .find(|t| t.name() == stage)
        .ok_or_else(|| {
            Error::Runtime(format!(
                "checkpoint holds state {name:?} of a stage this job does not have"
            ))
        })?;
    Ok((task, state))
}
