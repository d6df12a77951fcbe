//! Operators: the keyed process function interface and the built-in operators.

use crate::state::{KeyContext, KeyedStateStore, OperatorStateStore};

/// A keyed process function: sees each record with its key set, owns keyed state objects.
///
/// One instance runs per worker and sees only the keys of the worker's key groups.
pub trait KeyedOperator<K, I, O>: Send {
    /// Processes one record of the current key (`ctx.key`), appending outputs to `out`.
    ///
    /// The record stays in its slot of the batch that brought it (no copy per record): the
    /// operator reads it, or moves parts out of it (`std::mem::take`) when it keeps or emits
    /// them. After the batch, the runtime hands the buffer with what is left back to the
    /// sending worker, so that a row's heap buffers are freed on (and recycled by) the thread
    /// that made them ([`crate::record::Text`]); an operator that emits its input row should
    /// therefore clone it when the clone is cheap to make from that recycled storage.
    fn process(&mut self, ctx: &KeyContext<'_, K>, input: &mut I, out: &mut Vec<O>);

    /// Processes a batch of records in order ([`KeyedRun`]): by default [`Self::process`]
    /// per record with [`Self::prefetch`] a few records ahead. The runtime calls this once
    /// per batch, so that a boxed operator costs one indirect call per batch, not two per
    /// record; an override must process every record in order, as the default does.
    #[inline]
    fn process_batch(&mut self, run: KeyedRun<'_, K, I>, out: &mut Vec<O>) {
        run.run(self, out)
    }

    /// A hint that a record of key hash `hash` in local key group `local_group` will be
    /// processed soon: the operator may prefetch that key's state (the runtime calls it a few
    /// records ahead so that cache misses of consecutive records overlap).
    #[inline]
    fn prefetch(&self, local_group: usize, hash: u64) {
        let _ = (local_group, hash);
    }

    /// The operator's keyed state objects, for key-group assignment, snapshots and restore.
    fn states(&mut self) -> Vec<&mut dyn KeyedStateStore> {
        Vec::new()
    }

    /// The operator instance's operator state (not keyed: e.g. offsets), checkpointed and
    /// redistributed on restore ([`crate::state::operator`]).
    fn operator_states(&mut self) -> Vec<&mut dyn OperatorStateStore> {
        Vec::new()
    }

    /// The event-time watermark advanced to `watermark_ms` (timers fire here).
    fn on_watermark(&mut self, watermark_ms: i64, out: &mut Vec<O>) {
        let _ = (watermark_ms, out);
    }

    /// Processing time advanced to `now_ms` (called about once per batch and when idle;
    /// processing-time timers fire here).
    fn on_processing_time(&mut self, now_ms: u64, out: &mut Vec<O>) {
        let _ = (now_ms, out);
    }

    /// Names of the operator's side outputs, in index order (e.g. `["late"]`). A side output
    /// carries the operator's output type; a pipeline refers to it as `NAME.OUTPUT`.
    fn side_outputs(&self) -> Vec<&'static str> {
        Vec::new()
    }

    /// Moves the records emitted to side output `index` since the last call into `out`. The
    /// runtime calls it after every batch, watermark, timer round and at close.
    fn drain_side(&mut self, index: usize, out: &mut Vec<O>) {
        let _ = (index, out);
    }

    /// End of input: emit what is left.
    fn close(&mut self, out: &mut Vec<O>) {
        let _ = out;
    }
}

/// Passes records through unchanged (the keyed stage of an unkeyed pipeline).
#[derive(Debug, Default, Clone, Copy)]
pub struct Passthrough;

impl<K, T: Send + Clone> KeyedOperator<K, T, T> for Passthrough {
    #[inline]
    fn process(&mut self, _ctx: &KeyContext<'_, K>, input: &mut T, out: &mut Vec<T>) {
        out.push(input.clone());
    }
}

/// Applies `f` to every output of the inner operator (stateless ops after the keyed stage).
pub struct MapOutput<Op, F, O> {
    /// The keyed operator.
    pub inner: Op,
    /// The map applied to each output; `None` drops it.
    pub f: F,
    /// Scratch buffer of the inner operator's outputs.
    pub scratch: Vec<O>,
}

impl<K, I, O, O2, Op, F> KeyedOperator<K, I, O2> for MapOutput<Op, F, O>
where
    Op: KeyedOperator<K, I, O>,
    F: FnMut(O) -> Option<O2> + Send,
    O: Send,
{
    #[inline]
    fn process(&mut self, ctx: &KeyContext<'_, K>, input: &mut I, out: &mut Vec<O2>) {
        self.inner.process(ctx, input, &mut self.scratch);
        out.extend(self.scratch.drain(..).filter_map(&mut self.f));
    }

    fn states(&mut self) -> Vec<&mut dyn KeyedStateStore> {
        self.inner.states()
    }

    fn operator_states(&mut self) -> Vec<&mut dyn OperatorStateStore> {
        self.inner.operator_states()
    }

    #[inline]
    fn prefetch(&self, local_group: usize, hash: u64) {
        self.inner.prefetch(local_group, hash);
    }

    fn on_watermark(&mut self, watermark_ms: i64, out: &mut Vec<O2>) {
        self.inner.on_watermark(watermark_ms, &mut self.scratch);
        out.extend(self.scratch.drain(..).filter_map(&mut self.f));
    }

    fn on_processing_time(&mut self, now_ms: u64, out: &mut Vec<O2>) {
        self.inner.on_processing_time(now_ms, &mut self.scratch);
        out.extend(self.scratch.drain(..).filter_map(&mut self.f));
    }

    fn close(&mut self, out: &mut Vec<O2>) {
        self.inner.close(&mut self.scratch);
        out.extend(self.scratch.drain(..).filter_map(&mut self.f));
    }
}

pub mod aggregate;
pub mod aggregate_acc;
mod co_box;
mod keyed_run;
pub use keyed_run::KeyedRun;
pub mod dedup;
pub mod dedup_event;
pub mod interval_join;
pub mod join;
pub mod join_state;
pub mod max_rows;
pub mod max_rows_window;
pub mod rolling;
mod rolling_plan;
#[cfg(test)]
pub(crate) mod test_harness;
pub mod top_n;
#[cfg(test)]
mod ttl_memory_tests;
pub mod window;
pub mod zscore;
pub mod zscore_window;

impl<K, I, O> KeyedOperator<K, I, O> for Box<dyn KeyedOperator<K, I, O>> {
    #[inline]
    fn process(&mut self, ctx: &KeyContext<'_, K>, input: &mut I, out: &mut Vec<O>) {
        (**self).process(ctx, input, out)
    }
    #[inline]
    fn process_batch(&mut self, run: KeyedRun<'_, K, I>, out: &mut Vec<O>) {
        // One indirect call per batch: the loop runs monomorphised for the boxed operator.
        (**self).process_batch(run, out)
    }
    #[inline]
    fn prefetch(&self, local_group: usize, hash: u64) {
        (**self).prefetch(local_group, hash)
    }
    fn states(&mut self) -> Vec<&mut dyn KeyedStateStore> {
        (**self).states()
    }
    fn operator_states(&mut self) -> Vec<&mut dyn OperatorStateStore> {
        (**self).operator_states()
    }
    fn on_watermark(&mut self, watermark_ms: i64, out: &mut Vec<O>) {
        (**self).on_watermark(watermark_ms, out)
    }
    fn on_processing_time(&mut self, now_ms: u64, out: &mut Vec<O>) {
        (**self).on_processing_time(now_ms, out)
    }
    fn side_outputs(&self) -> Vec<&'static str> {
        (**self).side_outputs()
    }
    fn drain_side(&mut self, index: usize, out: &mut Vec<O>) {
        (**self).drain_side(index, out)
    }
    fn close(&mut self, out: &mut Vec<O>) {
        (**self).close(out)
    }
}

/// A two-input keyed operator (Flink's `KeyedCoProcessFunction`): both inputs are keyed by the
/// same key type and share the operator's keyed state; `process1` sees the first input's
/// records, `process2` the second's.
pub trait KeyedCoOperator<K, A, B, O>: Send {
    /// Processes one record of the first input for the current key (in its batch slot, as
    /// [`KeyedOperator::process`]).
    fn process1(&mut self, ctx: &KeyContext<'_, K>, input: &mut A, out: &mut Vec<O>);

    /// Processes one record of the second input for the current key.
    fn process2(&mut self, ctx: &KeyContext<'_, K>, input: &mut B, out: &mut Vec<O>);

    /// See [`KeyedOperator::prefetch`].
    #[inline]
    fn prefetch(&self, local_group: usize, hash: u64) {
        let _ = (local_group, hash);
    }

    /// See [`KeyedOperator::states`].
    fn states(&mut self) -> Vec<&mut dyn KeyedStateStore> {
        Vec::new()
    }

    /// See [`KeyedOperator::operator_states`].
    fn operator_states(&mut self) -> Vec<&mut dyn OperatorStateStore> {
        Vec::new()
    }

    /// See [`KeyedOperator::on_watermark`]; the watermark is the minimum over both inputs.
    fn on_watermark(&mut self, watermark_ms: i64, out: &mut Vec<O>) {
        let _ = (watermark_ms, out);
    }

    /// See [`KeyedOperator::on_processing_time`].
    fn on_processing_time(&mut self, now_ms: u64, out: &mut Vec<O>) {
        let _ = (now_ms, out);
    }

    /// See [`KeyedOperator::side_outputs`].
    fn side_outputs(&self) -> Vec<&'static str> {
        Vec::new()
    }

    /// See [`KeyedOperator::drain_side`].
    fn drain_side(&mut self, index: usize, out: &mut Vec<O>) {
        let _ = (index, out);
    }

    /// End of both inputs: emit what is left.
    fn close(&mut self, out: &mut Vec<O>) {
        let _ = out;
    }
}
