//! One worker's part of a checkpoint, gathered from its tasks.
//!
//! Every task of a worker contributes once per checkpoint `k`: a source split its position
//! when it injects barrier `k` (or its final position when it had already ended), a stage its
//! key groups' state when its inputs aligned on `k` (or its final state when they had all
//! ended). When every task contributed, the worker's snapshot — one section per key group,
//! each state named `stage/state` — is archived, written and acknowledged on a helper thread
//! while the worker goes on processing.

use super::control::{Ack, Event, Shared, SnapshotWriter};
use crate::checkpoint::{GroupSnapshot, StateSnapshot, WorkerSnapshot};
use crate::error::Error;
use crate::source::RangePosition;
use crate::state::operator::OperatorSnapshot;
use crate::state::{KeyedStateStore, OperatorStateStore};
use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The contributions to one checkpoint so far.
#[derive(Default)]
struct Pending {
    contributions: usize,
    groups: BTreeMap<u16, Vec<StateSnapshot>>,
    positions: Vec<RangePosition>,
    operator: Vec<OperatorSnapshot>,
    dead_letter_len: u64,
    pause: Duration,
    /// Run files of mmap-backed states, and those of them new (to fsync).
    runs: Vec<crate::checkpoint::RunSet>,
    new_runs: super::snapshot_runs::Durable,
}

/// Gathers a worker's contributions to checkpoints and acknowledges complete ones.
pub struct Checkpoints {
    worker: usize,
    tasks: usize,
    key_groups: Range<u16>,
    writer: Option<Arc<dyn SnapshotWriter>>,
    shared: Arc<Shared>,
    pending: BTreeMap<u64, Pending>,
    /// The newest checkpoint this worker acknowledged (or restored from).
    pub last_acked: u64,
    /// The lazy checks of the run files this worker restored, until they are settled: the
    /// first snapshot after a restore waits for them (see `state::mmap::lazy`).
    pub restored: Option<crate::state::RestoreChecks>,
}

impl Checkpoints {
    /// A worker with `tasks` tasks owning `key_groups`; `writer` is `None` without
    /// checkpointing.
    pub fn new(
        worker: usize,
        tasks: usize,
        key_groups: Range<u16>,
        writer: Option<Arc<dyn SnapshotWriter>>,
        shared: Arc<Shared>,
        last_checkpoint: u64,
    ) -> Self {
        Checkpoints {
            worker,
            tasks,
            key_groups,
            writer,
            shared,
            pending: BTreeMap::new(),
            last_acked: last_checkpoint,
            restored: None,
        }
    }

    /// Whether checkpointing is on.
    pub fn enabled(&self) -> bool {
        self.writer.is_some()
    }

    /// A source split's contribution: its position at barrier `k` and the dead-letter file
    /// length after its dead letters before the barrier.
    ///
    /// # Errors
    /// Starting the snapshot writer failed.
    pub fn add_position(
        &mut self,
        k: u64,
        positions: Vec<RangePosition>,
        dead_letter_len: u64,
    ) -> crate::Result<()> {
        let p = self.pending.entry(k).or_default();
        p.positions.extend(positions);
        p.dead_letter_len = p.dead_letter_len.max(dead_letter_len);
        self.contributed(k)
    }

    /// Part of a stage's contribution (before [`Checkpoints::add_states`]): the dead-letter
    /// file length after the stage appended its late records of checkpoint `k`'s epoch
    /// (the MANIFEST records the largest length any task saw; see `runtime::late_letters`).
    pub fn add_dead_letter_len(&mut self, k: u64, dead_letter_len: u64) {
        let p = self.pending.entry(k).or_default();
        p.dead_letter_len = p.dead_letter_len.max(dead_letter_len);
    }

    /// Part of a stage's contribution (before [`Checkpoints::add_states`], which completes
    /// it): the lists of its operator state, named `stage/state`.
    pub fn add_operator_states(
        &mut self,
        k: u64,
        stage: &str,
        states: Vec<&mut dyn OperatorStateStore>,
    ) {
        let p = self.pending.entry(k).or_default();
        for s in states {
            p.operator.push(OperatorSnapshot {
                name: format!("{stage}/{}", s.name()),
                union: s.redistribution() == crate::state::operator::Redistribution::Union,
                items: s.snapshot(),
            });
        }
    }

    /// A stage's contribution: every key group's entries of `states`, named `stage/state`;
    /// returns the entries and encoded bytes written.
    ///
    /// # Errors
    /// Starting the snapshot writer failed.
    pub fn add_states(
        &mut self,
        k: u64,
        stage: &str,
        mut states: Vec<&mut dyn KeyedStateStore>,
        now_ms: u64,
    ) -> crate::Result<(u64, u64)> {
        let started = Instant::now();
        // No checkpoint may reference a restored group before it was found intact.
        if let Some(mut restored) = self.restored.take() {
            restored.settle()?;
        }
        let (mut total_entries, mut total_bytes) = (0u64, 0u64);
        let linked = match self.writer.as_ref().and_then(|w| w.checkpoint_dir(k)) {
            Some(dir) => super::snapshot_runs::link_states(
                &dir,
                self.worker,
                &self.key_groups,
                stage,
                &mut states,
            ),
            None => Default::default(),
        };
        let p = self.pending.entry(k).or_default();
        p.runs.extend(linked.sets);
        p.new_runs.add(linked.durable);
        // States whose run files were linked have no sections.
        let mut linked = linked.linked.into_iter();
        states.retain(|_| !linked.next().unwrap_or(false));
        for kg in self.key_groups.clone() {
            for s in &states {
                let mut bytes = Vec::new();
                let entries = s.snapshot_group(kg, now_ms, &mut bytes) as u64;
                if entries > 0 {
                    total_entries += entries;
                    total_bytes += bytes.len() as u64;
                    p.groups.entry(kg).or_default().push(StateSnapshot {
                        name: format!("{stage}/{}", s.name()),
                        entries,
                        bytes,
                    });
                }
            }
        }
        p.pause += started.elapsed();
        self.contributed(k)?;
        Ok((total_entries, total_bytes))
    }

    fn contributed(&mut self, k: u64) -> crate::Result<()> {
        let p = self.pending.get_mut(&k).expect("contribution recorded");
        p.contributions += 1;
        if p.contributions < self.tasks {
            return Ok(());
        }
        let p = self.pending.remove(&k).expect("present");
        // Older checkpoints that never completed here (the coordinator gave up on them).
        self.pending.retain(|&id, _| id > k);
        self.last_acked = self.last_acked.max(k);
        self.write(k, p)
    }

    /// Archives, writes, flushes and acknowledges on a helper thread. At most one per worker
    /// is in flight: the coordinator triggers the next checkpoint only after this one is
    /// acknowledged.
    fn write(&self, k: u64, p: Pending) -> crate::Result<()> {
        let Some(writer) = self.writer.clone() else {
            return Err(Error::Runtime(
                "barrier received but checkpointing is off".into(),
            ));
        };
        let snap = WorkerSnapshot {
            worker: self.worker as u32,
            key_groups: self.key_groups.clone(),
            groups: p
                .groups
                .into_iter()
                .map(|(key_group, states)| GroupSnapshot { key_group, states })
                .collect(),
        };
        let (events, worker) = (self.shared.events.clone(), self.worker);
        let (positions, dead_letter_len, pause) = (p.positions, p.dead_letter_len, p.pause);
        let (operator, runs, new_runs) = (p.operator, p.runs, p.new_runs);
        let write = move || {
            let file = new_runs.sync().and_then(|()| writer.write(k, &snap));
            super::crash_point::crash_point("after-state-write", k);
            let _ = events.send(Event::Ack(Ack {
                id: k,
                worker,
                file,
                positions,
                operator,
                dead_letter_len,
                pause,
                runs,
            }));
        };
        std::thread::Builder::new()
            .name(format!("weir-snap-w{worker}"))
            .spawn(write)
            .map_err(|e| Error::Runtime(format!("cannot start the snapshot writer: {e}")))?;
        Ok(())
    }
}
