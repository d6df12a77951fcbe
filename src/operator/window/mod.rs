//! Event-time windows per key: tumbling, sliding and (merging) session windows; the same on
//! processing time in [`ProcessingWindowed`].
//!
//! [`Windowed`] is generic over the key, the input and a [`WindowFunction`] (the timestamp of
//! an input, an accumulator, its merge, the output); [`WindowOperator`] is the instance of the
//! CLI's rows with the aggregates of [`rolling`](super::rolling), whose output row is the key
//! fields, `window_start`, `window_end` (timestamps), then one value per aggregate.
//!
//! A window `[start, end)` is emitted when the watermark reaches `end - 1`, and again,
//! updated, for every allowed-late input (one arriving after that while the watermark is
//! below `end - 1 + allowed_lateness`). Its state is freed when the watermark reaches
//! `end - 1 + allowed_lateness`. An input none of whose windows accepts it any more (or
//! without a timestamp) goes to the side output `late` ([`WindowFunction::late`]).
//!
//! Session windows: an input at `ts` opens `[ts, ts + gap)`; windows of a key that overlap
//! (`a.start < b.end && b.start < a.end`; touching is not overlapping) merge.
//!
//! State: the windows of each key ([`Windows`] in a [`ValueState`]) and one event-time timer
//! per pending fire or cleanup time ([`TimerService`]), both per key group: firing scans
//! only what is due. The current watermark is not keyed state: after a restore the runtime
//! must call [`KeyedOperator::on_watermark`] with the checkpointed watermark before any
//! input (no timer fires then: the due ones fired before the checkpoint).

mod assign;
mod processing;
mod rows;
mod state;
#[cfg(test)]
mod tests;

pub use assign::{WindowKind, WindowKindError, MAX_WINDOWS_PER_RECORD};
pub use processing::{Arrival, ProcessingWindowOperator, ProcessingWindowed};
pub(crate) use rows::event_time;
pub use rows::{RowAggregates, WindowConfig, WindowOperator};
pub use state::{Win, Windows};

use super::KeyedOperator;
use crate::state::{KeyContext, KeyedStateStore, StableKey, StateCodec, ValueState};
use crate::time::{TimeDomain, TimerService};
use smallvec::SmallVec;
use std::hash::Hash;

/// What a window computes over its inputs (Flink's `AggregateFunction` plus the timestamp
/// assigner and the result of a fired window).
pub trait WindowFunction<K, I, O>: Send {
    /// The accumulator of one window (part of the checkpoint through its codec).
    type Acc: Clone + StateCodec + Send;
    /// The event time of `input`; `None` sends it to the `late` side output.
    fn timestamp(&self, input: &I) -> Option<i64>;
    /// The accumulator of an empty window.
    fn create(&self) -> Self::Acc;
    /// Folds `input` into `acc`.
    fn add(&self, acc: &mut Self::Acc, input: &I);
    /// Folds `other` (another window's accumulator) into `acc` (sessions merging).
    fn merge(&self, acc: &mut Self::Acc, other: &Self::Acc);
    /// The output of window `[start, end)` of `key`.
    fn output(&self, key: &K, start: i64, end: i64, acc: &Self::Acc) -> O;
    /// Takes back the accumulator of a window whose state was freed (fired and cleaned up,
    /// or merged into another session), so that [`create`](Self::create) can reuse its
    /// memory: windows open and close all the time, and must not allocate each time.
    /// The default drops it.
    fn recycle(&self, acc: Self::Acc) {
        drop(acc);
    }
    /// What a late input becomes on the `late` side output (`None`: counted only).
    fn late(&self, input: I) -> Option<O>;
}

/// The window operator, generic over the window function; see the module docs.
pub struct Windowed<K, I, O, F: WindowFunction<K, I, O>> {
    kind: WindowKind,
    /// ms, `>= 0`.
    lateness: i64,
    f: F,
    windows: ValueState<K, Windows<F::Acc>>,
    timers: TimerService<K>,
    /// The current watermark (`i64::MIN`: none yet).
    watermark: i64,
    /// Late inputs not yet drained.
    late: Vec<O>,
    /// Late inputs so far (also those with no side-output form).
    late_count: u64,
    _input: std::marker::PhantomData<fn(I)>,
}

impl<K, I: Clone, O, F> Windowed<K, I, O, F>
where
    K: Hash + Eq + Clone + StableKey + StateCodec + Send,
    F: WindowFunction<K, I, O>,
{
    /// A window operator of `kind` with `allowed_lateness_ms` (negative = 0) computing `f`.
    ///
    /// # Errors
    /// [`WindowKindError`] when the window lengths are invalid.
    pub fn with_function(
        kind: WindowKind,
        allowed_lateness_ms: i64,
        f: F,
    ) -> Result<Self, WindowKindError> {
        kind.validate()?;
        Ok(Windowed {
            kind,
            lateness: allowed_lateness_ms.max(0),
            f,
            windows: ValueState::new("window"),
            timers: TimerService::new("window_timers"),
            watermark: i64::MIN,
            late: Vec::new(),
            late_count: 0,
            _input: std::marker::PhantomData,
        })
    }

    /// The current watermark.
    pub fn watermark(&self) -> i64 {
        self.watermark
    }

    /// Late inputs so far (for the run summary).
    pub fn late_count(&self) -> u64 {
        self.late_count
    }

    /// Keys with at least one window held now.
    pub fn keys_held(&self) -> usize {
        self.windows.len()
    }

    /// Counts a late input and keeps a clone of it for the `late` side output.
    fn push_late(&mut self, input: &I) {
        self.late_count += 1;
        self.late.extend(self.f.late(input.clone()));
    }

    /// Folds an input into its tumbling or sliding windows. Timers are registered when a
    /// window is created (its times never change); the key's windows are updated in place.
    fn process_fixed(&mut self, ctx: &KeyContext<'_, K>, ts: i64, input: &I, out: &mut Vec<O>) {
        let Windowed {
            kind,
            lateness,
            f,
            windows,
            timers,
            watermark,
            ..
        } = self;
        let wm = *watermark;
        let mut set: Option<&mut Windows<F::Acc>> = None;
        // Taken by the first live window: the key's entry is created only then.
        let mut windows = Some(windows);
        kind.for_each_window(ts, |start, end| {
            let max_ts = end.saturating_sub(1);
            let cleanup = max_ts.saturating_add(*lateness);
            if cleanup <= wm {
                return;
            }
            if let Some(w) = windows.take() {
                set = Some(w.get_or_insert_with(ctx, Windows::default));
            }
            let Some(set) = set.as_deref_mut() else {
                return;
            };
            let found = set.0.iter().position(|w| w.start == start && w.end == end);
            let i = found.unwrap_or_else(|| {
                set.0.push(Win {
                    start,
                    end,
                    acc: f.create(),
                });
                if max_ts > wm {
                    timers.register(TimeDomain::EventTime, ctx, max_ts);
                }
                if cleanup != max_ts {
                    timers.register(TimeDomain::EventTime, ctx, cleanup);
                }
                set.0.len() - 1
            });
            let w = &mut set.0[i];
            f.add(&mut w.acc, input);
            if max_ts <= wm {
                out.push(f.output(ctx.key, start, end, &w.acc));
            }
        });
        if set.is_none() {
            self.push_late(input);
        }
    }

    /// Opens the input's session window, merging the key's windows it overlaps. The key's
    /// windows are edited in place in the state table (one lookup, no allocation per record).
    fn process_session(&mut self, ctx: &KeyContext<'_, K>, ts: i64, input: &I, out: &mut Vec<O>) {
        let Some(&(start, end)) = self.kind.assign(ts).first() else {
            self.push_late(input);
            return;
        };
        let Windowed {
            lateness,
            f,
            windows,
            timers,
            watermark,
            ..
        } = self;
        let (lateness, wm) = (*lateness, *watermark);
        let cleanup = |w: &Win<F::Acc>| w.max_timestamp().saturating_add(lateness);
        let mut merged = Win {
            start,
            end,
            acc: f.create(),
        };
        let set = windows.get_or_insert_with(ctx, Windows::default);
        // The fire and cleanup times of the merged-away windows, in the set's order.
        let mut dropped: SmallVec<[i64; 4]> = SmallVec::new();
        let mut i = 0;
        while i < set.0.len() {
            let w = &set.0[i];
            if !(w.start < end && start < w.end) {
                i += 1;
                continue;
            }
            let w = set.0.remove(i);
            merged.start = merged.start.min(w.start);
            merged.end = merged.end.max(w.end);
            f.merge(&mut merged.acc, &w.acc);
            dropped.extend([w.max_timestamp(), cleanup(&w)]);
            f.recycle(w.acc);
        }
        if dropped.is_empty() && cleanup(&merged) <= wm {
            // Late, and it touches no window: the key's windows are as they were (an entry
            // made just now for it is removed again).
            f.recycle(merged.acc);
            if set.0.is_empty() {
                windows.clear(ctx);
            }
            self.push_late(input);
            return;
        }
        f.add(&mut merged.acc, input);
        // Delete the timers of merged-away windows that no remaining window needs.
        let needs = |w: &Win<F::Acc>, t: i64| w.max_timestamp() == t || cleanup(w) == t;
        for &t in &dropped {
            if !needs(&merged, t) && !set.0.iter().any(|w| needs(w, t)) {
                timers.delete(TimeDomain::EventTime, ctx, t);
            }
        }
        // The fire timer (or the output now, for a window the watermark already passed) and
        // the cleanup timer of the merged window.
        if merged.max_timestamp() <= wm {
            out.push(f.output(ctx.key, merged.start, merged.end, &merged.acc));
        } else {
            timers.register(TimeDomain::EventTime, ctx, merged.max_timestamp());
        }
        timers.register(TimeDomain::EventTime, ctx, cleanup(&merged));
        set.0.push(merged);
    }

    /// Handles a due timer at `time`: emits the key's windows ending there, frees those
    /// past their cleanup time.
    fn on_timer(&mut self, ctx: &KeyContext<'_, K>, time: i64, out: &mut Vec<O>) {
        let Windowed {
            lateness,
            f,
            windows,
            ..
        } = self;
        // Updated in place; a timer only exists for a key with windows, so this inserts
        // nothing (an empty entry would be removed below).
        let set = windows.get_or_insert_with(ctx, Windows::default);
        for w in &set.0 {
            if w.max_timestamp() == time {
                out.push(f.output(ctx.key, w.start, w.end, &w.acc));
            }
        }
        let mut i = 0;
        while i < set.0.len() {
            if set.0[i].max_timestamp().saturating_add(*lateness) > time {
                i += 1;
            } else {
                f.recycle(set.0.remove(i).acc);
            }
        }
        if set.0.is_empty() {
            windows.clear(ctx);
        }
    }
}

impl<K, I, O, F> KeyedOperator<K, I, O> for Windowed<K, I, O, F>
where
    K: Hash + Eq + Clone + StableKey + StateCodec + Send,
    I: Send + Clone,
    O: Send,
    F: WindowFunction<K, I, O>,
{
    fn process(&mut self, ctx: &KeyContext<'_, K>, input: &mut I, out: &mut Vec<O>) {
        // Windows fold the input by reference; only a late input, kept on the side output,
        // is cloned (on this thread, see `KeyedOperator::process`).
        let input = &*input;
        let Some(ts) = self.f.timestamp(input) else {
            self.push_late(input);
            return;
        };
        if self.kind.is_merging() {
            self.process_session(ctx, ts, input, out);
        } else {
            self.process_fixed(ctx, ts, input, out);
        }
    }

    #[inline]
    fn prefetch(&self, local_group: usize, hash: u64) {
        self.windows.prefetch(local_group, hash);
    }

    fn states(&mut self) -> Vec<&mut dyn KeyedStateStore> {
        vec![&mut self.windows, &mut self.timers]
    }

    fn on_watermark(&mut self, watermark_ms: i64, out: &mut Vec<O>) {
        if watermark_ms <= self.watermark {
            return;
        }
        self.watermark = watermark_ms;
        while let Some(timer) = self.timers.pop_due(TimeDomain::EventTime, watermark_ms) {
            self.on_timer(&timer.ctx(0), timer.time, out);
        }
    }

    fn side_outputs(&self) -> Vec<&'static str> {
        vec!["late"]
    }

    fn drain_side(&mut self, index: usize, out: &mut Vec<O>) {
        if index == 0 {
            out.append(&mut self.late);
        }
    }
}
