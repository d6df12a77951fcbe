//! Processing-time windows: the windows of [`Windowed`] on the wall clock instead of event
//! time.
//!
//! A record's time is the processing time at which the operator sees it; the clock is the
//! worker's (the runtime passes it in [`KeyContext::now_ms`] with every batch and in
//! [`KeyedOperator::on_processing_time`] on every round of the worker loop, also when no input
//! arrives), so tests drive it by hand. The clock never goes back: a clock reading older than
//! one already seen counts as the newer one.
//!
//! The operator is an event-time [`Windowed`] fed with `(arrival time, record)` whose
//! watermark is `clock - 1`: window `[start, end)` (aligned to multiples of its size on the
//! wall clock, like event-time windows on the epoch) fires once when the clock reaches `end`,
//! after every record that arrived before `end` was added. No record is ever late (allowed
//! lateness is 0). At end of input every open window fires (Flink's bounded input). Windows
//! and their timers are the event-time operator's keyed state, per key group; after a
//! restore the first clock reading fires every window whose end has passed.

use super::{WindowConfig, WindowFunction, WindowKind, WindowKindError, Windowed};
use crate::operator::window::RowAggregates;
use crate::operator::KeyedOperator;
use crate::record::{Row, RowKey};
use crate::state::{KeyContext, KeyedStateStore, StableKey, StateCodec};
use std::hash::Hash;

/// What a window operator's key must be (hashed into key groups, part of the checkpoint).
pub trait WindowKey: Hash + Eq + Clone + StableKey + StateCodec + Send {}

impl<K: Hash + Eq + Clone + StableKey + StateCodec + Send> WindowKey for K {}

/// A window function over `(arrival time, input)`: the time is the arrival time, the rest is
/// `F`'s.
pub struct Arrival<F>(F);

impl<K, I, O, F: WindowFunction<K, I, O>> WindowFunction<K, (i64, I), O> for Arrival<F> {
    type Acc = F::Acc;

    #[inline]
    fn timestamp(&self, input: &(i64, I)) -> Option<i64> {
        Some(input.0)
    }

    fn create(&self) -> F::Acc {
        self.0.create()
    }

    #[inline]
    fn add(&self, acc: &mut F::Acc, input: &(i64, I)) {
        self.0.add(acc, &input.1);
    }

    fn merge(&self, acc: &mut F::Acc, other: &F::Acc) {
        self.0.merge(acc, other);
    }

    fn output(&self, key: &K, start: i64, end: i64, acc: &F::Acc) -> O {
        self.0.output(key, start, end, acc)
    }

    fn late(&self, input: (i64, I)) -> Option<O> {
        self.0.late(input.1)
    }
}

/// The processing-time window operator, generic over the window function; see the module
/// docs.
pub struct ProcessingWindowed<K, I, O, F: WindowFunction<K, I, O>> {
    inner: Windowed<K, (i64, I), O, Arrival<F>>,
    /// The latest processing time seen, ms (`i64::MIN`: none yet).
    clock: i64,
}

impl<K: WindowKey, I: Send + Clone, O: Send, F: WindowFunction<K, I, O>>
    ProcessingWindowed<K, I, O, F>
{
    /// A processing-time window operator of `kind` computing `f` (its
    /// [`WindowFunction::timestamp`] is not used).
    ///
    /// # Errors
    /// [`WindowKindError`] when the window lengths are invalid.
    pub fn with_function(kind: WindowKind, f: F) -> Result<Self, WindowKindError> {
        Ok(ProcessingWindowed {
            inner: Windowed::with_function(kind, 0, Arrival(f))?,
            clock: i64::MIN,
        })
    }

    /// The latest processing time seen, ms (`i64::MIN` before the first).
    pub fn clock(&self) -> i64 {
        self.clock
    }

    /// Keys with at least one open window.
    pub fn keys_held(&self) -> usize {
        self.inner.keys_held()
    }

    /// Moves the clock to `now_ms` (if later) and fires the windows that ended by then.
    fn advance(&mut self, now_ms: u64, out: &mut Vec<O>) {
        let now = i64::try_from(now_ms).unwrap_or(i64::MAX);
        if now > self.clock {
            self.clock = now;
            self.inner.on_watermark(now.saturating_sub(1), out);
        }
    }
}

impl<K: WindowKey, I: Send + Clone, O: Send, F> KeyedOperator<K, I, O>
    for ProcessingWindowed<K, I, O, F>
where
    F: WindowFunction<K, I, O>,
{
    fn process(&mut self, ctx: &KeyContext<'_, K>, input: &mut I, out: &mut Vec<O>) {
        self.advance(ctx.now_ms, out);
        let mut stamped = (self.clock, input.clone());
        self.inner.process(ctx, &mut stamped, out);
    }

    #[inline]
    fn prefetch(&self, local_group: usize, hash: u64) {
        self.inner.prefetch(local_group, hash);
    }

    fn states(&mut self) -> Vec<&mut dyn KeyedStateStore> {
        self.inner.states()
    }

    /// Event time is not this operator's clock: watermarks are ignored.
    fn on_watermark(&mut self, _watermark_ms: i64, _out: &mut Vec<O>) {}

    fn on_processing_time(&mut self, now_ms: u64, out: &mut Vec<O>) {
        self.advance(now_ms, out);
    }

    fn side_outputs(&self) -> Vec<&'static str> {
        self.inner.side_outputs()
    }

    fn drain_side(&mut self, index: usize, out: &mut Vec<O>) {
        self.inner.drain_side(index, out);
    }

    /// End of input: every open window fires.
    fn close(&mut self, out: &mut Vec<O>) {
        self.inner.on_watermark(i64::MAX, out);
    }
}

/// The processing-time window operator over rows (output as [`super::WindowOperator`]'s).
pub type ProcessingWindowOperator = ProcessingWindowed<RowKey, Row, Row, RowAggregates>;

impl ProcessingWindowOperator {
    /// A row window operator for `cfg` on processing time (`cfg.ts_field` and
    /// `cfg.allowed_lateness_ms` are not used).
    ///
    /// # Errors
    /// [`WindowKindError`] when the window lengths are invalid.
    pub fn new(cfg: WindowConfig) -> Result<Self, WindowKindError> {
        let kind = cfg.kind;
        ProcessingWindowed::with_function(kind, RowAggregates::from_config(cfg))
    }
}

#[cfg(test)]
#[path = "processing_tests.rs"]
mod tests;
