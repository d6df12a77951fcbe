//! `weir run --restore latest` past a checkpoint found damaged after its restore started.
//!
//! The mmap backend's run files are checked lazily, per key group (`state::mmap::lazy`), so a
//! damaged group can show up after records have flowed. The restored attempt then fails with
//! [`crate::Error::RestoredStateDamaged`] before its first checkpoint (nothing it did is committed:
//! its file sink output is uncommitted and is discarded by the next restore, as after a
//! crash). Here the checkpoint is quarantined ([`crate::checkpoint::quarantine`]) and the job
//! is built and run again from scratch, restoring the newest checkpoint still usable — the
//! same fallback a checkpoint found corrupt at startup takes. With `--restore PATH` the error
//! stands (exit 78).

use super::build;
use crate::pipeline::Plan;
use crate::runtime::{JobReport, RestoreFrom, RunConfig};

/// At most this many checkpoints are quarantined by one run.
const MAX_FALLBACKS: usize = 16;

/// Builds and runs the job of `plan`, falling back as the module docs say.
///
/// # Errors
/// The job's error; a damaged restore that cannot fall back (`--restore PATH`, too many).
pub(super) fn run_job(plan: &Plan, config: &RunConfig) -> crate::Result<JobReport> {
    let mut fallbacks = 0;
    loop {
        let result = build::job(plan).run(config);
        let Err(e) = &result else {
            return result;
        };
        let (Some(chk), Some(cc)) = (e.damaged_restore(), &config.checkpoint) else {
            return result;
        };
        if cc.restore != RestoreFrom::Latest || fallbacks >= MAX_FALLBACKS {
            return result;
        }
        crate::checkpoint::quarantine(&cc.dir, chk, &e.to_string())?;
        tracing::warn!(checkpoint = %chk.display(), error = %e,
            "restored state is damaged; quarantined the checkpoint, restarting from the previous one");
        eprintln!("weir: {e}; falling back to the previous checkpoint");
        fallbacks += 1;
    }
}
