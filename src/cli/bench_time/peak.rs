//! [`PeakHeld`]: wraps a keyed operator and records the most state entries it held, sampled
//! after every watermark; at the end each worker adds its peak to a shared total.

use crate::operator::KeyedOperator;
use crate::state::{KeyContext, KeyedStateStore, OperatorStateStore};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// A keyed operator with its state peak recorded (see the module docs).
pub(crate) struct PeakHeld<Op> {
    inner: Op,
    held: fn(&Op) -> usize,
    peak: usize,
    total: Arc<AtomicU64>,
}

impl<Op> PeakHeld<Op> {
    /// Wraps `inner`, whose held entries `held` counts; adds the peak to `total` at the end.
    pub(crate) fn new(inner: Op, held: fn(&Op) -> usize, total: Arc<AtomicU64>) -> Self {
        PeakHeld {
            inner,
            held,
            peak: 0,
            total,
        }
    }

    fn sample(&mut self) {
        self.peak = self.peak.max((self.held)(&self.inner));
    }
}

impl<K, I, O, Op: KeyedOperator<K, I, O>> KeyedOperator<K, I, O> for PeakHeld<Op> {
    #[inline]
    fn process(&mut self, ctx: &KeyContext<'_, K>, input: &mut I, out: &mut Vec<O>) {
        self.inner.process(ctx, input, out);
    }
    #[inline]
    fn prefetch(&self, local_group: usize, hash: u64) {
        self.inner.prefetch(local_group, hash);
    }
    fn states(&mut self) -> Vec<&mut dyn KeyedStateStore> {
        self.inner.states()
    }
    fn operator_states(&mut self) -> Vec<&mut dyn OperatorStateStore> {
        self.inner.operator_states()
    }
    fn on_watermark(&mut self, watermark_ms: i64, out: &mut Vec<O>) {
        // Before firing: what the watermark is about to free was held until now.
        self.sample();
        self.inner.on_watermark(watermark_ms, out);
    }
    fn on_processing_time(&mut self, now_ms: u64, out: &mut Vec<O>) {
        self.inner.on_processing_time(now_ms, out);
    }
    fn side_outputs(&self) -> Vec<&'static str> {
        self.inner.side_outputs()
    }
    fn drain_side(&mut self, index: usize, out: &mut Vec<O>) {
        self.inner.drain_side(index, out);
    }
    fn close(&mut self, out: &mut Vec<O>) {
        self.sample();
        self.inner.close(out);
        self.total.fetch_add(self.peak as u64, Ordering::Relaxed);
    }
}
