//! One worker thread: its source split, routing into the rings, barrier alignment over its
//! input rings, the keyed operator on its key groups, and its sink partition.
//!
//! The loop never blocks: when an output ring is full the worker keeps draining its inputs
//! (which only feed the local sink), so N workers sending to each other cannot deadlock.

use super::message::{Keyed, Msg};
use super::outbox::Outbox;
use super::ring::{Consumer, Producer};
use crate::checkpoint::{FileEntry, GroupSnapshot, StateSnapshot, WorkerSnapshot};
use crate::error::Error;
use crate::operator::KeyedOperator;
use crate::sink::{SinkPartition, SinkStats};
use crate::source::{DeadLetters, Poll, RangePosition, SourceSplit};
use crate::state::key_group::{key_group_range, KeyGroupRouter};
use crate::state::KeyContext;
use std::collections::VecDeque;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Writes a worker's snapshot of checkpoint `id` (the checkpoint store).
pub trait SnapshotWriter: Send + Sync {
    /// Writes and flushes the snapshot; returns its file entry for the MANIFEST.
    ///
    /// # Errors
    /// I/O errors (the checkpoint then fails, the job goes on).
    fn write(&self, id: u64, snapshot: &WorkerSnapshot) -> crate::Result<FileEntry>;
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
}

/// State shared by the workers and the coordinator.
pub struct Shared {
    /// Set when the job must stop (a worker failed).
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
    /// The worker's source split position at the barrier.
    pub positions: Vec<RangePosition>,
    /// The dead-letter file length after the split's dead letters before the barrier.
    pub dead_letter_len: u64,
    /// How long the worker paused processing for the snapshot.
    pub pause: Duration,
}

/// What a worker reports when it ends.
#[derive(Debug, Default, Clone)]
pub struct WorkerStats {
    /// Well-formed records read by the worker's split.
    pub records_in: u64,
    /// Records dead-lettered by the worker's split.
    pub dead_lettered: u64,
    /// The sink partition's figures.
    pub sink: SinkStats,
    /// The sink epoch of the records after the last barrier (the final epoch).
    pub final_epoch: u64,
    /// The split's final position.
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

/// Everything one worker owns.
pub struct WorkerEnv<K, T, O> {
    /// Worker index.
    pub id: usize,
    /// Number of workers.
    pub workers: usize,
    /// Number of key groups.
    pub max_parallelism: u16,
    /// Records per ring batch.
    pub batch_size: usize,
    /// True for unkeyed jobs: every record stays on this worker.
    pub local: bool,
    /// The source split.
    pub split: Box<dyn SourceSplit<Keyed<K, T>>>,
    /// Rings to every worker (index = destination).
    pub outs: Vec<Producer<Msg<Keyed<K, T>>>>,
    /// Rings from every worker (index = sender).
    pub ins: Vec<Consumer<Msg<Keyed<K, T>>>>,
    /// Return rings of drained batch buffers to every sender (index = sender).
    pub returns: Vec<Producer<Vec<Keyed<K, T>>>>,
    /// Return rings of drained batch buffers from every destination (index = destination).
    pub returned: Vec<Consumer<Vec<Keyed<K, T>>>>,
    /// The sink partition.
    pub sink: Box<dyn SinkPartition<O>>,
    /// Dead-letter output.
    pub dead: DeadLetters,
    /// Shared with the coordinator.
    pub shared: Arc<Shared>,
    /// Where snapshots go (checkpointing on).
    pub snapshots: Option<Arc<dyn SnapshotWriter>>,
    /// The checkpoint to restore state from.
    pub restore: Option<Arc<dyn StateRestore>>,
    /// The id of the last checkpoint (restored or 0); barriers and epochs continue after it.
    pub last_checkpoint: u64,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Input {
    Open,
    /// Barrier `k` arrived; the input is not read until all inputs delivered `k` (alignment).
    Barrier(u64),
    Ended,
}

/// How many records ahead the keyed loop prefetches state.
const PREFETCH_DISTANCE: usize = 16;

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Runs a worker to the end of its inputs.
///
/// # Errors
/// Source, sink and state failures; [`Error::Runtime`] when stopped because another worker failed.
pub fn run_worker<K, T, O, Op>(
    mut env: WorkerEnv<K, T, O>,
    mut op: Op,
) -> crate::Result<WorkerStats>
where
    K: Clone + Send,
    T: Send,
    O: Send,
    Op: KeyedOperator<K, T, O>,
{
    let n = env.workers;
    let range = key_group_range(env.id, n, env.max_parallelism);
    for s in op.states() {
        s.set_key_groups(range.clone());
    }
    if let Some(restore) = env.restore.take() {
        restore_states(&mut op, restore.as_ref(), range.clone())?;
    }
    let router = KeyGroupRouter::new(n, env.max_parallelism);
    let kg_mask = env.max_parallelism as u64 - 1;
    let batch = env.batch_size.max(1);
    let mut src_buf: Vec<Keyed<K, T>> = Vec::with_capacity(batch);
    let mut outbox = Outbox::new(
        batch,
        std::mem::take(&mut env.outs),
        std::mem::take(&mut env.returned),
    );
    let mut inputs = vec![Input::Open; n];
    let mut source_running = true;
    let mut injected = env.last_checkpoint;
    // Per injected barrier: the split's position and the dead-letter file length after this
    // split's dead letters up to the barrier were appended.
    let mut injected_positions: VecDeque<(u64, Vec<RangePosition>, u64)> = VecDeque::new();
    let mut epoch = env.last_checkpoint + 1;
    let mut outputs: Vec<O> = Vec::with_capacity(batch);
    let mut idle = 0u32;

    loop {
        if env.shared.stop.load(Ordering::Relaxed) {
            // Another worker failed, or a stop was requested after a final checkpoint.
            return Err(Error::Runtime("stopped: the job is stopping".into()));
        }
        let mut progress = false;

        // 1. Keyed side: drain the open inputs (a few batches each, for fairness).
        for (i, input) in inputs.iter_mut().enumerate() {
            let mut budget = 8;
            while *input == Input::Open && budget > 0 {
                let Some(msg) = env.ins[i].pop() else { break };
                progress = true;
                budget -= 1;
                match msg {
                    Msg::Data(mut records) => {
                        let now = now_ms();
                        let local = |hash: u64| {
                            ((hash & kg_mask) as u16).wrapping_sub(range.start) as usize
                        };
                        // Prefetch the state of the record PREFETCH_DISTANCE ahead so that the
                        // cache misses of consecutive records overlap.
                        for r in records.iter().take(PREFETCH_DISTANCE) {
                            op.prefetch(local(r.hash), r.hash);
                        }
                        let mut drain = records.drain(..);
                        while let Some(rec) = drain.next() {
                            if let Some(ahead) = drain.as_slice().get(PREFETCH_DISTANCE - 1) {
                                op.prefetch(local(ahead.hash), ahead.hash);
                            }
                            let ctx = KeyContext {
                                key: &rec.key,
                                local_group: local(rec.hash),
                                hash: rec.hash,
                                now_ms: now,
                            };
                            op.process(&ctx, rec.value, &mut outputs);
                        }
                        drop(drain);
                        if !outputs.is_empty() {
                            env.sink.write_batch(&outputs)?;
                            outputs.clear();
                        }
                        // Hand the empty buffer back to its sender; drop it if that ring is full.
                        let _ = env.returns[i].push(records);
                    }
                    Msg::Barrier(k) => *input = Input::Barrier(k),
                    Msg::End => *input = Input::Ended,
                    Msg::Watermark(wm) => op.on_watermark(wm, &mut outputs),
                }
            }
        }

        // 2. Alignment: every input delivered barrier k or ended.
        if let Some(k) = aligned_barrier(&inputs) {
            let (positions, dead_len) =
                match injected_positions.iter().position(|(id, ..)| *id == k) {
                    Some(at) => injected_positions
                        .remove(at)
                        .map(|(_, p, d)| (p, d))
                        .unwrap_or_default(),
                    // This split ended before barrier k: its position is final.
                    None => (env.split.position(), env.dead.append(true)?),
                };
            snapshot(
                &mut env,
                &mut op,
                k,
                range.clone(),
                now_ms(),
                positions,
                dead_len,
            )?;
            for input in inputs.iter_mut() {
                if let Input::Barrier(_) = input {
                    *input = Input::Open;
                }
            }
            epoch = k + 1;
            progress = true;
        }
        // Done when every input ended and everything this worker sent has left its outbox
        // (its own End reaches itself first; other destinations may still be waiting).
        if inputs.iter().all(|i| *i == Input::Ended) && outbox.idle() {
            break;
        }

        // 3. Hand queued messages to the rings.
        progress |= outbox.send();

        // 4. Source side: read and route one batch when nothing is queued (backpressure).
        if source_running && outbox.idle() {
            let trigger = env.shared.trigger.load(Ordering::Acquire);
            if trigger > injected {
                outbox.broadcast(|| Msg::Barrier(trigger));
                let dead_len = env.dead.append(true)?;
                injected_positions.push_back((trigger, env.split.position(), dead_len));
                injected = trigger;
                progress = true;
            } else {
                let poll = env.split.poll_batch(&mut src_buf, batch, &mut env.dead)?;
                let got = src_buf.len();
                for rec in src_buf.drain(..) {
                    let dest = if env.local {
                        env.id
                    } else {
                        router.worker(router.key_group(rec.hash))
                    };
                    outbox.push(dest, rec);
                }
                if got > 0 {
                    progress = true;
                }
                match poll {
                    Poll::Ready if got >= batch => {}
                    Poll::Ready | Poll::Idle => outbox.flush_partial(),
                    Poll::End => {
                        let trigger = env.shared.trigger.load(Ordering::Acquire);
                        if trigger > injected {
                            outbox.broadcast(|| Msg::Barrier(trigger));
                            let dead_len = env.dead.append(true)?;
                            injected_positions.push_back((trigger, env.split.position(), dead_len));
                            injected = trigger;
                        }
                        env.dead.append(true)?;
                        outbox.broadcast(|| Msg::End);
                        source_running = false;
                        progress = true;
                    }
                }
            }
        }

        if progress {
            idle = 0;
        } else {
            idle = idle.saturating_add(1);
            backoff(idle);
        }
    }

    // End of all inputs: close the operator, flush the sink.
    op.close(&mut outputs);
    if !outputs.is_empty() {
        env.sink.write_batch(&outputs)?;
        outputs.clear();
    }
    if env.snapshots.is_some() {
        env.sink.pre_commit(epoch)?;
    }
    let sink = env.sink.finish()?;
    env.dead.flush()?;
    Ok(WorkerStats {
        records_in: env.split.records_read(),
        dead_lettered: env.dead.count(),
        sink,
        final_epoch: epoch,
        positions: env.split.position(),
    })
}

/// The barrier all inputs are aligned on, if any: every input is at barrier `k` or ended, and
/// at least one is at `k`.
fn aligned_barrier(inputs: &[Input]) -> Option<u64> {
    let mut k = None;
    for input in inputs {
        match input {
            Input::Open => return None,
            Input::Ended => {}
            Input::Barrier(b) => match k {
                None => k = Some(*b),
                Some(prev) if prev != *b => return None,
                Some(_) => {}
            },
        }
    }
    k
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

/// Snapshots the operator's state for checkpoint `k`, pre-commits the sink, acknowledges.
fn snapshot<K, T, O, Op>(
    env: &mut WorkerEnv<K, T, O>,
    op: &mut Op,
    k: u64,
    range: Range<u16>,
    now: u64,
    positions: Vec<RangePosition>,
    dead_letter_len: u64,
) -> crate::Result<()>
where
    Op: KeyedOperator<K, T, O>,
{
    let started = Instant::now();
    // The sink's epoch boundary is the barrier, whether or not the state write succeeds: a
    // failed checkpoint's pending output is published by the next committed one.
    env.sink.pre_commit(k)?;
    let Some(writer) = env.snapshots.clone() else {
        return Err(Error::Runtime(
            "barrier received but checkpointing is off".into(),
        ));
    };
    // Synchronous part (the worker's pause): encode every key group's state into buffers.
    let states = op.states();
    let mut groups = Vec::with_capacity(range.len());
    for kg in range.clone() {
        let mut group = GroupSnapshot {
            key_group: kg,
            states: Vec::new(),
        };
        for s in &states {
            let mut bytes = Vec::new();
            let entries = s.snapshot_group(kg, now, &mut bytes) as u64;
            if entries > 0 {
                group.states.push(StateSnapshot {
                    name: s.name().to_string(),
                    entries,
                    bytes,
                });
            }
        }
        if !group.states.is_empty() {
            groups.push(group);
        }
    }
    let snap = WorkerSnapshot {
        worker: env.id as u32,
        key_groups: range,
        groups,
    };
    let pause = started.elapsed();
    // Asynchronous part: archive, write through the map, msync, fsync, acknowledge — on a
    // helper thread, while the worker goes on processing. At most one per worker is in flight
    // (the coordinator triggers the next checkpoint only after this one is acknowledged).
    let (events, worker) = (env.shared.events.clone(), env.id);
    let write = move || {
        let file = writer.write(k, &snap);
        super::crash_point::crash_point("after-state-write", k);
        let _ = events.send(Event::Ack(Ack {
            id: k,
            worker,
            file,
            positions,
            dead_letter_len,
            pause,
        }));
    };
    std::thread::Builder::new()
        .name(format!("weir-snap-w{worker}"))
        .spawn(write)
        .map_err(|e| Error::Runtime(format!("cannot start the snapshot writer: {e}")))?;
    Ok(())
}

fn restore_states<K, T, O, Op>(
    op: &mut Op,
    restore: &dyn StateRestore,
    range: Range<u16>,
) -> crate::Result<()>
where
    Op: KeyedOperator<K, T, O>,
{
    let mut states = op.states();
    restore.sections(range, &mut |kg, name, bytes| {
        // The path is filled in by the reader of the state file (`Error::in_state_file`).
        crate::checkpoint::restore_section(&mut states, kg, name, bytes).map_err(|reason| {
            Error::CheckpointState {
                path: std::path::PathBuf::new(),
                key_group: kg,
                state: name.to_string(),
                reason,
            }
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alignment_rules() {
        use Input::*;
        assert_eq!(aligned_barrier(&[Barrier(3), Barrier(3)]), Some(3));
        assert_eq!(aligned_barrier(&[Barrier(3), Open]), None);
        assert_eq!(aligned_barrier(&[Barrier(3), Ended]), Some(3));
        assert_eq!(aligned_barrier(&[Ended, Ended]), None);
        assert_eq!(aligned_barrier(&[Barrier(3), Barrier(4)]), None);
    }
}
