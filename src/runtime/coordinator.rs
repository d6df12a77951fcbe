//! The coordinator: restores at start, triggers checkpoints on a timer, collects the workers'
//! acknowledgements, commits the MANIFEST, then lets the sink publish the epoch.

use super::config::{CheckpointConfig, CheckpointStat, RestoreFrom};
use super::control::{Ack, Shared, SnapshotWriter, StateRestore};
use crate::checkpoint::{CheckpointStore, FileEntry, Manifest, Restored, WorkerSnapshot};
use crate::error::Error;
use crate::source::RangePosition;
use std::ops::Range;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

impl SnapshotWriter for CheckpointStore {
    fn write(&self, id: u64, snapshot: &WorkerSnapshot) -> crate::Result<FileEntry> {
        self.write_worker_state(id, snapshot)
    }

    fn checkpoint_dir(&self, id: u64) -> Option<std::path::PathBuf> {
        Some(self.checkpoint_path(id))
    }
}

impl StateRestore for Restored {
    fn sections(
        &self,
        range: Range<u16>,
        f: &mut super::control::SectionVisitor<'_>,
    ) -> crate::Result<()> {
        Restored::sections(self, range, f)
    }

    fn runs(&self) -> (std::path::PathBuf, &[crate::checkpoint::RunSet]) {
        (self.path.clone(), &self.manifest.runs)
    }
}

/// What the run starts from.
pub(crate) struct Start {
    /// The open checkpoint store (checkpointing on).
    pub store: Option<Arc<CheckpointStore>>,
    /// The restored checkpoint.
    pub restored: Option<Arc<Restored>>,
    /// Id of the restored checkpoint, or of the newest existing one on a fresh start (ids
    /// continue after it); 0 when there is none.
    pub last_id: u64,
}

/// Opens the checkpoint store and finds the checkpoint to restore.
///
/// # Errors
/// A locked or unusable checkpoint directory; `--restore-required` without a checkpoint; a
/// checkpoint of another pipeline, or whose state sections `checks` reject; an unrewindable
/// source without `--allow-at-least-once`.
pub(crate) fn start(
    cc: &CheckpointConfig,
    fingerprint: u64,
    replayable: bool,
    checks: &crate::checkpoint::SectionChecks<'_>,
) -> crate::Result<Start> {
    let store = CheckpointStore::open(&cc.dir)?;
    for removed in store.clean_incomplete()? {
        tracing::info!(path = %removed.display(), "removed incomplete checkpoint");
    }
    let restored = match &cc.restore {
        RestoreFrom::None => None,
        RestoreFrom::Latest => store.load_latest_checked(fingerprint, checks)?,
        RestoreFrom::Path(p) => Some(store.load_checked(p, fingerprint, checks)?),
    };
    match &restored {
        None if cc.restore != RestoreFrom::None => {
            if cc.restore_required {
                return Err(Error::Checkpoint {
                    path: cc.dir.clone(),
                    reason: "no checkpoint to restore (--restore-required)".into(),
                });
            }
            tracing::warn!(dir = %cc.dir.display(), "no checkpoint to restore; starting fresh");
        }
        Some(r) => {
            if !replayable && !cc.allow_at_least_once {
                return Err(Error::Checkpoint {
                    path: r.path.clone(),
                    reason:
                        "the source cannot rewind (stdin): restoring would lose or repeat records; \
                             pass --allow-at-least-once to accept that"
                            .into(),
                });
            }
            tracing::info!(checkpoint = r.manifest.id, path = %r.path.display(), "restoring");
        }
        None => {}
    }
    // The run continues the lineage of the restored checkpoint (or starts a new one): later
    // checkpoints describe sink output that the restore discards, so they go too.
    // A pre-flight's fresh lineage keeps the older ones until its first commit instead.
    let restored_id = restored.as_ref().map_or(0, |r| r.manifest.id);
    let keep_older = restored.is_none() && cc.lineage.is_some();
    if !keep_older {
        for id in store.discard_after(restored_id)? {
            tracing::info!(
                checkpoint = id,
                "discarded a checkpoint newer than the restore point"
            );
        }
    }
    // Ids continue after any checkpoint still present (and from a fresh lineage's start).
    let fresh_start = match (&restored, &cc.lineage) {
        (None, Some(l)) => l.start.saturating_sub(1),
        _ => 0,
    };
    let last_id = restored_id.max(newest_id(&cc.dir)).max(fresh_start);
    Ok(Start {
        store: Some(Arc::new(store)),
        restored: restored.map(Arc::new),
        last_id,
    })
}

/// The newest checkpoint id present in `dir` (complete or not), 0 when none.
fn newest_id(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter_map(|e| {
                    crate::checkpoint::parse_checkpoint_dir_name(&e.file_name().to_string_lossy())
                })
                .max()
                .unwrap_or(0)
        })
        .unwrap_or(0)
}

/// Source positions for the new workers, per source: old split `i`'s ranges of a source go to
/// new worker `i % workers`. Ranges without a source tag (one-source jobs of format 1) belong
/// to every source name they are asked for.
pub(crate) fn redistribute(
    sources: &[Vec<RangePosition>],
    source: &str,
    workers: usize,
) -> Vec<Vec<RangePosition>> {
    let mut out = vec![Vec::new(); workers];
    for (i, ranges) in sources.iter().enumerate() {
        out[i % workers].extend(
            ranges
                .iter()
                .filter(|r| r.source == source || r.source.is_empty())
                .cloned(),
        );
    }
    out
}

struct InFlight {
    id: u64,
    started: Instant,
    acks: Vec<Ack>,
}

/// The checkpoint timer and the commit protocol (runs on the job's calling thread).
pub(crate) struct Coordinator {
    store: Arc<CheckpointStore>,
    config: CheckpointConfig,
    fingerprint: u64,
    max_parallelism: u16,
    workers: usize,
    next_id: u64,
    next_trigger: Instant,
    in_flight: Option<InFlight>,
    /// Completed checkpoints.
    pub stats: Vec<CheckpointStat>,
    /// Checkpoints that failed.
    pub failed: u64,
}

impl Coordinator {
    /// A coordinator whose first checkpoint is `last_id + 1`.
    pub fn new(
        store: Arc<CheckpointStore>,
        config: CheckpointConfig,
        fingerprint: u64,
        max_parallelism: u16,
        workers: usize,
        last_id: u64,
    ) -> Self {
        let next_trigger = Instant::now() + config.interval;
        Coordinator {
            store,
            config,
            fingerprint,
            max_parallelism,
            workers,
            next_id: last_id + 1,
            next_trigger,
            in_flight: None,
            stats: Vec::new(),
            failed: 0,
        }
    }

    /// The checkpoint being taken, if any.
    pub fn in_flight_id(&self) -> Option<u64> {
        self.in_flight.as_ref().map(|f| f.id)
    }

    /// Triggers a checkpoint now (unless one is in flight); returns the id of the checkpoint
    /// that will complete next.
    pub fn trigger_now(&mut self, shared: &Shared) -> u64 {
        if let Some(f) = &self.in_flight {
            return f.id;
        }
        self.next_trigger = Instant::now();
        self.tick(shared, true);
        self.in_flight.as_ref().map_or(self.next_id - 1, |f| f.id)
    }

    /// Whether checkpoint `id` is no longer pending (committed or failed).
    pub fn settled(&self, id: u64) -> bool {
        self.in_flight.as_ref().is_none_or(|f| f.id != id)
    }

    /// The id of the newest committed checkpoint of this run, if any.
    pub fn last_committed(&self) -> Option<u64> {
        self.stats.last().map(|s| s.id)
    }

    /// How long the caller may wait for events before [`Coordinator::tick`] is due.
    pub fn timeout(&self) -> Duration {
        if self.in_flight.is_some() {
            Duration::from_millis(50)
        } else {
            self.next_trigger
                .saturating_duration_since(Instant::now())
                .max(Duration::from_millis(1))
        }
    }

    /// Triggers the next checkpoint when due and none is in flight. `may_trigger` is false once a
    /// worker has finished (a new barrier could no longer be aligned everywhere).
    pub fn tick(&mut self, shared: &Shared, may_trigger: bool) {
        let now = Instant::now();
        if !may_trigger || self.in_flight.is_some() || now < self.next_trigger {
            return;
        }
        let id = self.next_id;
        self.next_id += 1;
        self.next_trigger = now + self.config.interval;
        self.in_flight = Some(InFlight {
            id,
            started: now,
            acks: Vec::with_capacity(self.workers),
        });
        shared.trigger.store(id, Ordering::Release);
        tracing::debug!(checkpoint = id, "triggered");
    }

    /// Records an acknowledgement; commits the checkpoint when every worker acknowledged.
    ///
    /// # Errors
    /// Publishing the sink's output failed (fatal: output would be lost).
    pub fn on_ack(
        &mut self,
        ack: Ack,
        sink_commit: &dyn Fn(u64) -> crate::Result<()>,
    ) -> crate::Result<()> {
        let Some(flight) = self.in_flight.as_mut() else {
            tracing::warn!(checkpoint = ack.id, "unexpected acknowledgement");
            return Ok(());
        };
        if flight.id != ack.id {
            tracing::warn!(
                checkpoint = ack.id,
                expected = flight.id,
                "acknowledgement of another checkpoint"
            );
            return Ok(());
        }
        flight.acks.push(ack);
        if flight.acks.len() < self.workers {
            return Ok(());
        }
        let flight = self.in_flight.take().expect("checked above");
        self.complete(flight, sink_commit)
    }

    fn complete(
        &mut self,
        mut flight: InFlight,
        sink_commit: &dyn Fn(u64) -> crate::Result<()>,
    ) -> crate::Result<()> {
        let id = flight.id;
        flight.acks.sort_by_key(|a| a.worker);
        let max_pause = flight
            .acks
            .iter()
            .map(|a| a.pause)
            .max()
            .unwrap_or_default();
        let mut manifest = Manifest::new(
            id,
            self.fingerprint,
            self.max_parallelism,
            self.workers as u32,
        );
        manifest.sink_epoch = id;
        crate::safety::lineage::stamp(self.config.lineage.as_ref(), &mut manifest);
        for ack in flight.acks {
            match ack.file {
                Ok(file) => manifest.files.push(file),
                Err(e) => {
                    self.failed += 1;
                    tracing::warn!(checkpoint = id, worker = ack.worker, error = %e, "checkpoint failed; the job goes on");
                    return Ok(());
                }
            }
            manifest.sources.push(ack.positions);
            manifest.operator_state.push(ack.operator);
            manifest.runs.extend(ack.runs);
            manifest.dead_letter_len = manifest.dead_letter_len.max(Some(ack.dead_letter_len));
        }
        super::crash_point::crash_point("before-manifest", id);
        if let Err(e) = self.store.commit(&manifest) {
            self.failed += 1;
            tracing::warn!(checkpoint = id, error = %e, "checkpoint commit failed; the job goes on");
            return Ok(());
        }
        super::crash_point::crash_point("after-manifest", id);
        sink_commit(id)?;
        crate::safety::lineage::after_commit(&self.store, self.config.lineage.as_mut());
        if let Err(e) = self.store.retain(self.config.retain.max(1)) {
            tracing::warn!(error = %e, "could not remove old checkpoints");
        }
        let written = crate::checkpoint::CheckpointBytes::of(&manifest);
        let (bytes, shared_bytes) = (written.new, written.shared);
        let duration = flight.started.elapsed();
        if let Some(live) = crate::metrics::live::get() {
            live.checkpoint_committed(duration);
        }
        self.stats.push(CheckpointStat {
            id,
            duration,
            bytes,
            shared_bytes,
            max_pause,
        });
        tracing::info!(checkpoint = id, bytes, shared_bytes, "checkpoint committed");
        Ok(())
    }

    /// After every worker finished: commits the final, `finished` checkpoint of epoch
    /// `final_epoch` (no state: the job is complete) and publishes the sink's last epoch.
    ///
    /// # Errors
    /// The MANIFEST or the sink's publication failed.
    pub fn finish(
        &mut self,
        final_epoch: u64,
        positions: Vec<Vec<RangePosition>>,
        dead_letter_len: u64,
        sink_commit: &dyn Fn(u64) -> crate::Result<()>,
    ) -> crate::Result<()> {
        let mut manifest = Manifest::new(
            final_epoch,
            self.fingerprint,
            self.max_parallelism,
            self.workers as u32,
        );
        manifest.sink_epoch = final_epoch;
        manifest.finished = true;
        manifest.sources = positions;
        manifest.dead_letter_len = Some(dead_letter_len);
        crate::safety::lineage::stamp(self.config.lineage.as_ref(), &mut manifest);
        // No worker wrote state for this epoch, so its directory may not exist yet.
        let dir = self.store.checkpoint_path(final_epoch);
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        super::crash_point::crash_point("before-manifest", final_epoch);
        self.store.commit(&manifest)?;
        sink_commit(final_epoch)?;
        crate::safety::lineage::after_commit(&self.store, self.config.lineage.as_mut());
        if let Err(e) = self.store.retain(self.config.retain.max(1)) {
            tracing::warn!(error = %e, "could not remove old checkpoints");
        }
        Ok(())
    }
}
