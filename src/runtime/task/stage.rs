//! The stage task: one worker's share of a stage fed by rings (a keyed stage, a two-input
//! keyed stage, a union).
//!
//! # Why a graph of stages cannot deadlock on bounded rings
//! A worker never waits on one ring: each round it steps every task, the last stages of the
//! graph first. A task pushes output only while its output is not blocked (nothing queued
//! for ring space), and it queues at most one batch's expansion per destination; otherwise
//! it yields and the worker goes on with the other tasks. Sinks always accept. So, by
//! induction from the sinks backwards, every stage eventually consumes whatever precedes a
//! barrier on its open channels: a stage stops reading only the channels that already
//! delivered barrier `k`, and everything before `k` on the other channels was sent by
//! upstream tasks that had not yet forwarded `k` and is therefore readable. Every channel
//! thus delivers `k` (or ends), alignment completes, the channels reopen. (Tested with ring
//! capacity 1–2, batch size 1 and checkpoints every few milliseconds: tests/graph_runtime.rs.)

use super::{Task, TaskCx};
use crate::exchange::{Consumer, KeyedBatch, Msg, Producer};
use crate::operator::{KeyedOperator, KeyedRun};
use crate::runtime::align::Aligner;
use crate::runtime::control::WorkerStats;
use crate::runtime::emit::Emit;
use crate::time::{WatermarkEvent, WatermarkTracker};
use std::ops::Range;

/// How many records ahead the keyed loop prefetches state.
const PREFETCH_DISTANCE: usize = 16;

/// Messages read from one channel before moving to the next (fairness).
const CHANNEL_BUDGET: usize = 8;

/// A stage's input channels on one worker: every input edge's rings from every worker, of
/// batches `B`.
pub struct StageInputs<B> {
    /// Data rings (edge-major: edge 0's N senders, then edge 1's).
    pub channels: Vec<Consumer<Msg<B>>>,
    /// Return rings of drained batch buffers, one per channel, to its sender.
    pub returns: Vec<Producer<B>>,
}

/// Runs a keyed operator on the records of the worker's key groups.
pub struct StageTask<K, I, O, Op> {
    name: String,
    op: Op,
    inputs: StageInputs<KeyedBatch<K, I>>,
    aligner: Aligner,
    watermarks: WatermarkTracker,
    out: Box<dyn Emit<O>>,
    /// One emit per side output of the operator (index = side output index).
    sides: Vec<Box<dyn Emit<O>>>,
    outputs: Vec<O>,
    key_groups: Range<u16>,
    kg_mask: u64,
    /// The newest checkpoint this stage contributed to.
    contributed: u64,
    /// Processing time last passed to the operator.
    last_now: u64,
    closed: bool,
    /// Records read and emitted so far, and sent to late side outputs (published to `live`
    /// once per step).
    records_in: u64,
    records_out: u64,
    late: u64,
    /// Which side outputs carry late records (`late`, `late_left`, ...).
    late_sides: Vec<bool>,
    /// Live counters for the metrics endpoint, when enabled.
    live: Option<std::sync::Arc<crate::metrics::stage::StageCounters>>,
    /// Latency stamps of the input channels (latency runs only).
    stamps: crate::runtime::stamp::ChannelStamps,
}

impl<K, I, O, Op> StageTask<K, I, O, Op>
where
    K: Send,
    I: Send,
    O: Send,
    Op: KeyedOperator<K, I, O>,
{
    /// The task of stage `name` on the worker owning `key_groups` of `max_parallelism`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        name: String,
        mut op: Op,
        inputs: StageInputs<KeyedBatch<K, I>>,
        out: Box<dyn Emit<O>>,
        sides: Vec<Box<dyn Emit<O>>>,
        key_groups: Range<u16>,
        max_parallelism: u16,
        last_checkpoint: u64,
    ) -> Self {
        for s in op.states() {
            s.set_key_groups(key_groups.clone());
        }
        let n = inputs.channels.len();
        let late_sides = op
            .side_outputs()
            .iter()
            .map(|name| name.starts_with("late"))
            .collect();
        StageTask {
            name,
            op,
            inputs,
            aligner: Aligner::new(n),
            watermarks: WatermarkTracker::new(n),
            out,
            sides,
            outputs: Vec::new(),
            key_groups,
            kg_mask: max_parallelism as u64 - 1,
            contributed: last_checkpoint,
            last_now: 0,
            closed: false,
            records_in: 0,
            records_out: 0,
            late: 0,
            late_sides,
            live: None,
            stamps: Default::default(),
        }
    }

    /// Publishes the stage's figures to `counters` (the metrics endpoint) once per step.
    pub fn with_live(
        mut self,
        counters: std::sync::Arc<crate::metrics::stage::StageCounters>,
    ) -> Self {
        self.live = Some(counters);
        self
    }

    fn publish(&self) {
        if let Some(live) = &self.live {
            let queued: usize = self.inputs.channels.iter().map(|c| c.len()).sum();
            live.publish(
                self.records_in,
                self.records_out,
                self.late,
                self.watermarks.current(),
                queued as u64,
            );
        }
    }

    fn blocked(&self) -> bool {
        self.out.blocked() || self.sides.iter().any(|s| s.blocked())
    }

    fn flush(&mut self) -> bool {
        let mut moved = self.out.flush();
        for s in &mut self.sides {
            moved |= s.flush();
        }
        moved
    }

    /// Pushes the operator's main and side outputs on.
    fn emit(&mut self) -> crate::Result<()> {
        self.records_out += self.outputs.len() as u64;
        if !self.outputs.is_empty() {
            self.out.push(&mut self.outputs)?;
        }
        for (i, side) in self.sides.iter_mut().enumerate() {
            self.op.drain_side(i, &mut self.outputs);
            self.records_out += self.outputs.len() as u64;
            if self.late_sides.get(i).copied().unwrap_or(false) {
                self.late += self.outputs.len() as u64;
            }
            if !self.outputs.is_empty() {
                side.push(&mut self.outputs)?;
            }
        }
        Ok(())
    }

    /// Runs the operator over one batch, prefetching state ahead.
    fn process(&mut self, batch: &mut KeyedBatch<K, I>, now_ms: u64) -> crate::Result<()> {
        let (hashes, keys, values) = batch.parts_mut();
        self.records_in += values.len() as u64;
        // Records are processed in their slots (no copy out of the batch); the batch goes back
        // to its sender with what is left of them (see `KeyedOperator::process`). The loop
        // (prefetching state PREFETCH_DISTANCE records ahead) runs inside the operator.
        let run = KeyedRun {
            hashes,
            keys,
            values,
            first_group: self.key_groups.start,
            kg_mask: self.kg_mask,
            now_ms,
            prefetch_distance: PREFETCH_DISTANCE,
        };
        self.op.process_batch(run, &mut self.outputs);
        self.emit()
    }

    /// Channel `i` sent `event`: when the combined watermark advances, timers fire and the
    /// watermark goes downstream; when every input is idle, so is this stage's output.
    fn on_watermark(&mut self, i: usize, event: WatermarkEvent) -> crate::Result<()> {
        let forward = match self.watermarks.update(i, event) {
            Some(wm) => {
                // The clock of event-time TTL, before the operator reads its state.
                self.op
                    .states()
                    .into_iter()
                    .for_each(|s| s.advance_watermark(wm));
                self.op.on_watermark(wm, &mut self.outputs);
                self.emit()?;
                WatermarkEvent::Watermark(wm)
            }
            None if self.watermarks.is_idle() => WatermarkEvent::Idle,
            None => return Ok(()),
        };
        self.out.watermark(forward);
        self.sides.iter_mut().for_each(|s| s.watermark(forward));
        Ok(())
    }

    /// Reads channel `i` until it is empty, closed by a barrier, out of budget or the output
    /// is blocked; true when it stopped on the budget (more is waiting).
    fn drain_channel(&mut self, i: usize, now_ms: u64) -> crate::Result<(bool, bool)> {
        let mut progress = false;
        for _ in 0..CHANNEL_BUDGET {
            if !self.aligner.is_open(i) || self.blocked() {
                return Ok((progress, false));
            }
            let Some(msg) = self.inputs.channels[i].pop() else {
                return Ok((progress, false));
            };
            progress = true;
            if !matches!(msg, Msg::Stamp(_) | Msg::Barrier(_)) {
                self.stamps.enter(i);
            }
            match msg {
                Msg::Stamp(s) => self.stamps.receive(i, s, self.aligner.len()),
                Msg::Data(mut records) => {
                    self.process(&mut records, now_ms)?;
                    // Hand the spent batch back to its sender, which clears it there (so a
                    // row's buffers are recycled by the thread that made them); drop it if
                    // that ring is full.
                    let _ = self.inputs.returns[i].push(records);
                }
                Msg::Barrier(k) => self.aligner.barrier(i, k),
                Msg::Watermark(wm) => self.on_watermark(i, WatermarkEvent::Watermark(wm))?,
                Msg::Idle => self.on_watermark(i, WatermarkEvent::Idle)?,
                Msg::End => {
                    self.aligner.end(i);
                    self.on_watermark(i, WatermarkEvent::Watermark(i64::MAX))?;
                }
            }
        }
        Ok((progress, true))
    }

    /// Checkpoint `k`: the barrier downstream, then the state of every key group.
    ///
    /// The order matters: forwarding the barrier pre-commits the sinks fused after this stage
    /// (their output up to `k` becomes pending epoch `k`), and the contribution may complete
    /// the worker's acknowledgement, after which the coordinator may commit the MANIFEST and
    /// publish epoch `k` at once — which must find that output pending, not in progress.
    fn snapshot(&mut self, k: u64, cx: &mut TaskCx<'_>) -> crate::Result<()> {
        self.out.barrier(k)?;
        for s in &mut self.sides {
            s.barrier(k)?;
        }
        // Late records without consumer were appended to the dead letters by the barrier.
        cx.checkpoints.add_dead_letter_len(k, cx.dead.file_len()?);
        cx.checkpoints
            .add_operator_states(k, &self.name, self.op.operator_states());
        let (entries, bytes) =
            cx.checkpoints
                .add_states(k, &self.name, self.op.states(), cx.now_ms)?;
        if let Some(live) = &self.live {
            live.publish_state(entries, bytes);
        }
        self.contributed = k;
        Ok(())
    }

    /// Every input ended: the operator emits what is left, the end goes downstream.
    fn close(&mut self) -> crate::Result<()> {
        self.stamps.enter_latest();
        self.op.close(&mut self.outputs);
        self.emit()?;
        self.out.end()?;
        for s in &mut self.sides {
            s.end()?;
        }
        self.closed = true;
        Ok(())
    }
}

impl<K, I, O, Op> Task for StageTask<K, I, O, Op>
where
    K: Send,
    I: Send,
    O: Send,
    Op: KeyedOperator<K, I, O>,
{
    fn name(&self) -> &str {
        &self.name
    }

    fn step(&mut self, cx: &mut TaskCx<'_>) -> crate::Result<bool> {
        let mut progress = self.flush();
        if self.closed {
            // A finished stage still takes part in later checkpoints with its final state.
            if cx.trigger > self.contributed && !self.blocked() {
                self.snapshot(cx.trigger, cx)?;
                progress = true;
            }
            return Ok(progress);
        }
        if cx.now_ms != self.last_now && !self.blocked() {
            self.last_now = cx.now_ms;
            self.stamps.enter_tick();
            self.op.on_processing_time(cx.now_ms, &mut self.outputs);
            self.emit()?;
        }
        let mut saturated = false;
        for i in 0..self.aligner.len() {
            let (moved, more) = self.drain_channel(i, cx.now_ms)?;
            progress |= moved;
            saturated |= more;
        }
        if let Some(k) = self.aligner.aligned() {
            self.snapshot(k, cx)?;
            self.aligner.release();
            progress = true;
        }
        if self.aligner.all_ended() && !self.blocked() {
            self.close()?;
            progress = true;
        }
        if !saturated {
            self.out.flush_partial();
            self.sides.iter_mut().for_each(|s| s.flush_partial());
        }
        if progress {
            self.publish();
        }
        Ok(self.flush() | progress)
    }

    fn done(&self) -> bool {
        self.closed && !self.blocked()
    }

    fn restore(&mut self, key_group: u16, state: &str, bytes: &[u8]) -> crate::Result<()> {
        let mut states = self.op.states();
        // The path is filled in by the reader of the state file (`Error::in_state_file`).
        crate::checkpoint::restore_section(&mut states, key_group, state, bytes).map_err(|reason| {
            crate::Error::CheckpointState {
                path: std::path::PathBuf::new(),
                key_group,
                state: format!("{}/{state}", self.name),
                reason,
            }
        })
    }

    fn restore_runs(
        &mut self,
        state: &str,
        dir: &std::path::Path,
        names: &[crate::state::RunSource],
    ) -> crate::Result<()> {
        let full = format!("{}/{state}", self.name);
        crate::runtime::restore_runs::restore_state(self.op.states(), &full, state, dir, names)
    }

    fn finish(&mut self, stats: &mut WorkerStats) -> crate::Result<()> {
        stats.late += self.late;
        self.out.finish(&mut stats.sink)?;
        self.sides
            .iter_mut()
            .try_for_each(|s| s.finish(&mut stats.sink))
    }
}
