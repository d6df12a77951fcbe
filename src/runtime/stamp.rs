//! Latency stamps: the scheduled time of the input a batch was made from, carried through
//! every stage of a graph, so that an open-loop latency run can charge each output row
//! `now − scheduled time` of the input that made it determinable.
//!
//! # Design: a stamp per batch, not per record
//! Rows do not carry a stamp (a join or a window builds new rows, and a field per row would
//! cost every run). Instead every *batch* has one: the scheduled time of the **earliest**
//! event in the source batch it comes from, so latency is never under-reported (the other
//! events of a batch were scheduled later, their true latency is smaller).
//!
//! - A worker runs all its tasks on one thread and pushes a task's output synchronously
//!   down its fused chain, so "the stamp of the batch being worked on" is a thread-local
//!   [`current`] value: the open-loop source sets it when it polls a batch, a stage sets it
//!   from its input channel before running the operator on a batch, and whatever the
//!   operator emits (stateless steps, joins, updating aggregates, top-N…) inherits it. The
//!   latency sink reads it when the batch reaches it.
//! - Across an exchange the stamp travels as a [`crate::exchange::Msg::Stamp`] message in
//!   front of the batch (or watermark, or end) it belongs to. An outbox batch mixes records
//!   of several input batches: it carries the earliest of their stamps.
//! - Watermarks carry a stamp too: a source stamps its watermark with the earliest stamp of
//!   the batches read since its previous watermark (the event that moved the watermark past a
//!   window's end is among them, so a window fired by that watermark is charged from no later
//!   than that event's scheduled time). A stage charges what a watermark fires from the stamp
//!   of the channel whose watermark advanced it, and forwards that stamp with it.
//! - Processing-time firings are charged from the tick that fired them (the clock is the
//!   input that made them determinable); what a stage emits when all its inputs ended, from
//!   the latest stamp of its channels (the end of the last input).
//!
//! Only latency runs pay for this: [`enable`] switches it on for outboxes made afterwards;
//! otherwise no `Stamp` message is ever sent and the stage and source tasks skip the
//! bookkeeping after one check per batch.

use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

/// "No stamp" (the clock of [`crate::metrics::clock::now_ns`] is positive once running; a
/// source maps a scheduled time of 0 to 1).
pub const NONE: u64 = 0;

/// Latency runs in progress (stamps are on while any is).
static ENABLED: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// The stamp of the batch this worker thread is working on.
    static CURRENT: Cell<u64> = const { Cell::new(NONE) };
}

/// Whether stamps are carried (a latency run is being built or running).
#[inline]
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed) > 0
}

/// Switches stamps on until the guard is dropped (outboxes made meanwhile carry them;
/// guards nest, so concurrent latency runs in one process do not switch each other off).
pub fn enable() -> Enabled {
    ENABLED.fetch_add(1, Ordering::Relaxed);
    Enabled(())
}

/// Keeps stamps on while alive (see [`enable`]).
#[must_use = "stamps are switched off again when the guard is dropped"]
pub struct Enabled(());

impl Drop for Enabled {
    fn drop(&mut self) {
        ENABLED.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The stamp of the batch this thread is working on ([`NONE`] if none was set).
#[inline]
pub fn current() -> u64 {
    CURRENT.with(Cell::get)
}

/// Sets the stamp of the batch this thread is working on.
#[inline]
pub fn set(stamp: u64) {
    CURRENT.with(|c| c.set(stamp));
}

/// A source task's stamps: the earliest since its last watermark, and the latest.
#[derive(Debug)]
pub struct SourceStamps {
    on: bool,
    /// Earliest stamp of the batches read since the last watermark (`u64::MAX`: none).
    since_watermark: u64,
    /// Stamp of the last batch read.
    latest: u64,
}

impl SourceStamps {
    /// Bookkeeping for a source task (inactive unless stamps are [`enabled`]).
    pub fn new() -> Self {
        SourceStamps {
            on: enabled(),
            since_watermark: u64::MAX,
            latest: NONE,
        }
    }

    /// A batch was just polled (its split set [`current`]).
    #[inline]
    pub fn on_batch(&mut self) {
        if self.on {
            let s = current();
            if s != NONE {
                self.since_watermark = self.since_watermark.min(s);
                self.latest = s;
            }
        }
    }

    /// A watermark is about to be emitted: it carries the earliest stamp since the last one.
    #[inline]
    pub fn before_watermark(&mut self) {
        if self.on {
            if self.since_watermark != u64::MAX {
                set(self.since_watermark);
            } else if self.latest != NONE {
                set(self.latest);
            }
            self.since_watermark = u64::MAX;
        }
    }

    /// The end of the split is about to be sent: it carries the last batch's stamp.
    pub fn before_end(&mut self) {
        if self.on && self.latest != NONE {
            set(self.latest);
        }
    }
}

impl Default for SourceStamps {
    fn default() -> Self {
        Self::new()
    }
}

/// A stage task's stamps: the last one received on each input channel.
#[derive(Debug, Default)]
pub struct ChannelStamps {
    /// Per channel (empty until a stamp arrives: runs without stamps allocate nothing).
    stamps: Vec<u64>,
}

impl ChannelStamps {
    /// Channel `i` announced that what follows on it carries `stamp`.
    pub fn receive(&mut self, i: usize, stamp: u64, channels: usize) {
        if self.stamps.len() < channels {
            self.stamps.resize(channels, NONE);
        }
        if let Some(s) = self.stamps.get_mut(i) {
            *s = stamp;
        }
    }

    /// The stage works on what channel `i` sent: its stamp becomes [`current`].
    #[inline]
    pub fn enter(&self, i: usize) {
        if let Some(&s) = self.stamps.get(i) {
            set(s);
        }
    }

    /// Every input ended: the latest stamp of the channels becomes [`current`].
    pub fn enter_latest(&self) {
        if let Some(&s) = self.stamps.iter().max() {
            if s != NONE {
                set(s);
            }
        }
    }

    /// A processing-time tick: when stamps are carried, it is charged from now.
    #[inline]
    pub fn enter_tick(&self) {
        if !self.stamps.is_empty() {
            set(crate::metrics::clock::now_ns().max(1));
        }
    }
}

#[cfg(test)]
#[path = "stamp_tests.rs"]
mod flow_tests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_stamp_watermarks_with_the_earliest_batch_since_the_last() {
        let mut s = SourceStamps {
            on: true,
            ..SourceStamps::new()
        };
        for b in [30, 10, 20] {
            set(b);
            s.on_batch();
        }
        set(99);
        s.before_watermark();
        assert_eq!(current(), 10);
        set(40);
        s.on_batch();
        s.before_watermark();
        assert_eq!(current(), 40);
        // No batch since: the watermark keeps the latest stamp.
        set(7);
        s.before_watermark();
        assert_eq!(current(), 40);
        set(7);
        s.before_end();
        assert_eq!(current(), 40);
    }

    #[test]
    fn stages_take_the_stamp_of_their_channel() {
        let mut c = ChannelStamps::default();
        set(5);
        c.enter(1);
        assert_eq!(current(), 5, "no stamps received: current is left alone");
        c.receive(0, 100, 2);
        c.receive(1, 200, 2);
        c.enter(0);
        assert_eq!(current(), 100);
        c.enter(1);
        assert_eq!(current(), 200);
        set(1);
        c.enter_latest();
        assert_eq!(current(), 200);
    }
}
