//! The pushing side of a dataflow edge, as one worker sees it.
//!
//! A task (a source split or a stage reading rings) hands its output batches to an [`Emit`].
//! Forward edges are fused (Flink's operator chaining): a stateless step ([`MapEmit`]) runs on
//! the batch and hands its result to the next [`Emit`], a sink partition ([`SinkEmit`]) writes
//! it — no ring, no copy. An exchange edge ([`ExchangeEmit`]) routes each record by its key
//! group into the outbox of an N×N mesh. A stream with several consumers fans out
//! ([`FanOut`]). Barriers, watermarks and the end of stream follow the same path.

use crate::exchange::{KeyedBatch, Msg, Outbox, Route, Scatter};
use crate::sink::{SinkPartition, SinkStats};
use crate::state::KeyGroupRouter;
use crate::time::WatermarkEvent;

/// Where a task's output goes (one edge or a fused chain of them), on one worker.
pub trait Emit<T>: Send {
    /// Takes every record of `batch`, leaving it empty (an exchange may take the buffer
    /// itself and leave another, spare one in its place).
    ///
    /// # Errors
    /// Sink I/O errors.
    fn push(&mut self, batch: &mut Vec<T>) -> crate::Result<()>;

    /// Checkpoint barrier `k`: everything pushed before belongs to checkpoint `k`.
    ///
    /// # Errors
    /// Sink I/O errors (pre-commit).
    fn barrier(&mut self, k: u64) -> crate::Result<()>;

    /// The sender's event-time watermark advanced, or the sender went idle.
    fn watermark(&mut self, event: WatermarkEvent);

    /// Nothing follows. Barriers may still come (a finished task takes part in later
    /// checkpoints): exchanges ignore them, sinks pre-commit.
    ///
    /// # Errors
    /// Sink I/O errors.
    fn end(&mut self) -> crate::Result<()>;

    /// Whether output is queued for ring space: the task must not push more until
    /// [`Emit::flush`] has moved it (backpressure; the queue holds at most one batch's
    /// expansion per destination plus control messages).
    fn blocked(&self) -> bool;

    /// Moves queued output into the rings; true if anything moved.
    fn flush(&mut self) -> bool;

    /// Sends partially filled batches too (the task's input ran dry: latency over batching).
    fn flush_partial(&mut self) {}

    /// End of the worker: closes sink partitions and adds their figures to `stats`.
    ///
    /// # Errors
    /// Sink I/O errors.
    fn finish(&mut self, stats: &mut SinkStats) -> crate::Result<()>;
}

/// A fused stateless step: `step` turns the batch into `scratch`, which goes on to `next`.
pub struct MapEmit<T, U, F> {
    step: F,
    scratch: Vec<U>,
    next: Box<dyn Emit<U>>,
    _t: std::marker::PhantomData<fn(T)>,
}

impl<T, U, F> MapEmit<T, U, F>
where
    F: FnMut(std::vec::Drain<'_, T>, &mut Vec<U>) + Send,
{
    /// A step in front of `next`.
    pub fn new(step: F, next: Box<dyn Emit<U>>) -> Self {
        MapEmit {
            step,
            scratch: Vec::new(),
            next,
            _t: std::marker::PhantomData,
        }
    }
}

impl<T, U: Send, F> Emit<T> for MapEmit<T, U, F>
where
    F: FnMut(std::vec::Drain<'_, T>, &mut Vec<U>) + Send,
{
    #[inline]
    fn push(&mut self, batch: &mut Vec<T>) -> crate::Result<()> {
        (self.step)(batch.drain(..), &mut self.scratch);
        if self.scratch.is_empty() {
            return Ok(());
        }
        self.next.push(&mut self.scratch)
    }
    fn barrier(&mut self, k: u64) -> crate::Result<()> {
        self.next.barrier(k)
    }
    fn watermark(&mut self, event: WatermarkEvent) {
        self.next.watermark(event)
    }
    fn end(&mut self) -> crate::Result<()> {
        self.next.end()
    }
    fn blocked(&self) -> bool {
        self.next.blocked()
    }
    fn flush(&mut self) -> bool {
        self.next.flush()
    }
    fn flush_partial(&mut self) {
        self.next.flush_partial()
    }
    fn finish(&mut self, stats: &mut SinkStats) -> crate::Result<()> {
        self.next.finish(stats)
    }
}

/// Copies every batch to several consumers (a stream read by more than one stage or sink).
pub struct FanOut<T> {
    /// The consumers; the last one takes the original batch.
    pub outs: Vec<Box<dyn Emit<T>>>,
    scratch: Vec<T>,
}

impl<T> FanOut<T> {
    /// A fan-out over `outs` (at least one).
    pub fn new(outs: Vec<Box<dyn Emit<T>>>) -> Self {
        FanOut {
            outs,
            scratch: Vec::new(),
        }
    }
}

impl<T: Clone + Send> Emit<T> for FanOut<T> {
    fn push(&mut self, batch: &mut Vec<T>) -> crate::Result<()> {
        let Some((last, rest)) = self.outs.split_last_mut() else {
            batch.clear();
            return Ok(());
        };
        for out in rest {
            self.scratch.extend_from_slice(batch);
            out.push(&mut self.scratch)?;
        }
        last.push(batch)
    }
    fn barrier(&mut self, k: u64) -> crate::Result<()> {
        self.outs.iter_mut().try_for_each(|o| o.barrier(k))
    }
    fn watermark(&mut self, event: WatermarkEvent) {
        self.outs.iter_mut().for_each(|o| o.watermark(event))
    }
    fn end(&mut self) -> crate::Result<()> {
        self.outs.iter_mut().try_for_each(|o| o.end())
    }
    fn blocked(&self) -> bool {
        self.outs.iter().any(|o| o.blocked())
    }
    fn flush(&mut self) -> bool {
        self.outs
            .iter_mut()
            .fold(false, |moved, o| o.flush() | moved)
    }
    fn flush_partial(&mut self) {
        self.outs.iter_mut().for_each(|o| o.flush_partial())
    }
    fn finish(&mut self, stats: &mut SinkStats) -> crate::Result<()> {
        self.outs.iter_mut().try_for_each(|o| o.finish(stats))
    }
}

/// Output nobody reads (an unused side output).
pub struct Discard;

impl<T: Send> Emit<T> for Discard {
    fn push(&mut self, batch: &mut Vec<T>) -> crate::Result<()> {
        batch.clear();
        Ok(())
    }
    fn barrier(&mut self, _k: u64) -> crate::Result<()> {
        Ok(())
    }
    fn watermark(&mut self, _event: WatermarkEvent) {}
    fn end(&mut self) -> crate::Result<()> {
        Ok(())
    }
    fn blocked(&self) -> bool {
        false
    }
    fn flush(&mut self) -> bool {
        false
    }
    fn finish(&mut self, _stats: &mut SinkStats) -> crate::Result<()> {
        Ok(())
    }
}

/// A sink partition at the end of a fused chain.
pub struct SinkEmit<T> {
    partition: Box<dyn SinkPartition<T>>,
    /// Pre-commit at barriers and at the end (checkpointing on).
    transactional: bool,
    /// Epoch of the records written since the last barrier.
    epoch: u64,
}

impl<T> SinkEmit<T> {
    /// Writes to `partition`; the first epoch is `first_epoch`.
    pub fn new(
        partition: Box<dyn SinkPartition<T>>,
        transactional: bool,
        first_epoch: u64,
    ) -> Self {
        SinkEmit {
            partition,
            transactional,
            epoch: first_epoch,
        }
    }
}

impl<T: Send + 'static> Emit<T> for SinkEmit<T> {
    #[inline]
    fn push(&mut self, batch: &mut Vec<T>) -> crate::Result<()> {
        self.partition.write_batch(batch)?;
        crate::exchange::spent::clear_spent(batch);
        Ok(())
    }
    fn barrier(&mut self, k: u64) -> crate::Result<()> {
        // The sink's epoch boundary is the barrier, whether or not the state write succeeds:
        // a failed checkpoint's pending output is published by the next committed one.
        if k >= self.epoch {
            self.partition.pre_commit(k)?;
            self.epoch = k + 1;
        }
        Ok(())
    }
    fn watermark(&mut self, _event: WatermarkEvent) {}
    fn end(&mut self) -> crate::Result<()> {
        Ok(())
    }
    fn blocked(&self) -> bool {
        false
    }
    fn flush(&mut self) -> bool {
        false
    }
    fn finish(&mut self, stats: &mut SinkStats) -> crate::Result<()> {
        if self.transactional {
            self.partition.pre_commit(self.epoch)?;
        }
        stats.merge(self.partition.finish()?);
        Ok(())
    }
}

/// The sending side of an exchange edge: keys each batch and converts its records to the
/// stage's input type ([`Route`]), and routes each record by key group into the outbox
/// ([`Scatter`]); the records of an unkeyed stream ([`Route::LOCAL_ONLY`]) stay on this worker.
pub struct ExchangeEmit<T, K, I, R> {
    outbox: Outbox<KeyedBatch<K, I>>,
    router: KeyGroupRouter,
    worker: usize,
    /// Number of workers (with one, batches are not routed record by record).
    workers: usize,
    route: R,
    /// Buffers for routing batches to several workers.
    scatter: Scatter<K, I>,
    ended: bool,
    _t: std::marker::PhantomData<fn(T)>,
}

impl<T, K, I, R> ExchangeEmit<T, K, I, R>
where
    K: Send + 'static,
    I: Send + 'static,
    R: Route<T, K, I>,
{
    /// The sending side of worker `worker` of `workers`.
    pub fn new(
        outbox: Outbox<KeyedBatch<K, I>>,
        worker: usize,
        workers: usize,
        max_parallelism: u16,
        route: R,
    ) -> Self {
        ExchangeEmit {
            outbox,
            router: KeyGroupRouter::new(workers, max_parallelism),
            worker,
            workers,
            route,
            scatter: Scatter::default(),
            ended: false,
            _t: std::marker::PhantomData,
        }
    }
}

impl<T, K: Send + 'static, I: Send + 'static, R> Emit<T> for ExchangeEmit<T, K, I, R>
where
    R: Route<T, K, I>,
{
    #[inline]
    fn push(&mut self, batch: &mut Vec<T>) -> crate::Result<()> {
        if self.workers == 1 || R::LOCAL_ONLY {
            // Every record stays here: the batch goes in whole (keys and hashes added beside
            // it; the records themselves are not copied when the outbox's batch is empty).
            self.route.append(batch, self.outbox.open(self.worker));
            self.outbox.close(self.worker);
            return Ok(());
        }
        // Each record is written once, into its destination's batch (`exchange::scatter`).
        self.scatter.route(
            batch,
            &self.route,
            &self.router,
            self.worker,
            &mut self.outbox,
        );
        Ok(())
    }
    fn barrier(&mut self, k: u64) -> crate::Result<()> {
        if !self.ended {
            self.outbox.broadcast(|| Msg::Barrier(k));
        }
        Ok(())
    }
    fn watermark(&mut self, event: WatermarkEvent) {
        if !self.ended {
            self.outbox.broadcast(|| match event {
                WatermarkEvent::Watermark(wm) => Msg::Watermark(wm),
                WatermarkEvent::Idle => Msg::Idle,
            });
        }
    }
    fn end(&mut self) -> crate::Result<()> {
        if !self.ended {
            self.outbox.broadcast(|| Msg::End);
            self.ended = true;
        }
        Ok(())
    }
    fn blocked(&self) -> bool {
        !self.outbox.idle()
    }
    fn flush(&mut self) -> bool {
        self.outbox.send()
    }
    fn flush_partial(&mut self) {
        self.outbox.flush_partial()
    }
    fn finish(&mut self, _stats: &mut SinkStats) -> crate::Result<()> {
        Ok(())
    }
}
