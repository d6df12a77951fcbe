//! Operators: the keyed process function interface and the built-in operators.

use crate::state::{KeyContext, KeyedStateStore};

/// A keyed process function: sees each record with its key set, owns keyed state objects.
///
/// One instance runs per worker and sees only the keys of the worker's key groups.
pub trait KeyedOperator<K, I, O>: Send {
    /// Processes one record of the current key (`ctx.key`), appending outputs to `out`.
    fn process(&mut self, ctx: &KeyContext<'_, K>, input: I, out: &mut Vec<O>);

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

    /// The event-time watermark advanced to `watermark_ms` (timers fire here).
    fn on_watermark(&mut self, watermark_ms: i64, out: &mut Vec<O>) {
        let _ = (watermark_ms, out);
    }

    /// End of input: emit what is left.
    fn close(&mut self, out: &mut Vec<O>) {
        let _ = out;
    }
}

/// Passes records through unchanged (the keyed stage of an unkeyed pipeline).
#[derive(Debug, Default, Clone, Copy)]
pub struct Passthrough;

impl<K, T: Send> KeyedOperator<K, T, T> for Passthrough {
    #[inline]
    fn process(&mut self, _ctx: &KeyContext<'_, K>, input: T, out: &mut Vec<T>) {
        out.push(input);
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
    fn process(&mut self, ctx: &KeyContext<'_, K>, input: I, out: &mut Vec<O2>) {
        self.inner.process(ctx, input, &mut self.scratch);
        out.extend(self.scratch.drain(..).filter_map(&mut self.f));
    }

    fn states(&mut self) -> Vec<&mut dyn KeyedStateStore> {
        self.inner.states()
    }

    #[inline]
    fn prefetch(&self, local_group: usize, hash: u64) {
        self.inner.prefetch(local_group, hash);
    }

    fn on_watermark(&mut self, watermark_ms: i64, out: &mut Vec<O2>) {
        self.inner.on_watermark(watermark_ms, &mut self.scratch);
        out.extend(self.scratch.drain(..).filter_map(&mut self.f));
    }

    fn close(&mut self, out: &mut Vec<O2>) {
        self.inner.close(&mut self.scratch);
        out.extend(self.scratch.drain(..).filter_map(&mut self.f));
    }
}

pub mod dedup;
pub mod rolling;
pub mod zscore;

impl<K, I, O> KeyedOperator<K, I, O> for Box<dyn KeyedOperator<K, I, O>> {
    #[inline]
    fn process(&mut self, ctx: &KeyContext<'_, K>, input: I, out: &mut Vec<O>) {
        (**self).process(ctx, input, out)
    }
    #[inline]
    fn prefetch(&self, local_group: usize, hash: u64) {
        (**self).prefetch(local_group, hash)
    }
    fn states(&mut self) -> Vec<&mut dyn KeyedStateStore> {
        (**self).states()
    }
    fn on_watermark(&mut self, watermark_ms: i64, out: &mut Vec<O>) {
        (**self).on_watermark(watermark_ms, out)
    }
    fn close(&mut self, out: &mut Vec<O>) {
        (**self).close(out)
    }
}
