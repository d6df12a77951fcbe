//! [`TimerService`]: per-key timers in event time and processing time (Flink's
//! `TimerService`), stored per key group and checkpointed like keyed state.
//!
//! Each owned key group keeps its timers in a binary heap with lazy deletion beside a table of
//! each key's registered times (`time::timer_queue`): registering or deleting a timer costs
//! `O(log n)`, registering one twice keeps one, and in steady state nothing allocates. A
//! worker-wide min-tree holds each group's earliest time, so taking the next due timer is
//! `O(log groups + log n)`: firing costs grow with the timers due, never with the keys or
//! timers held. Timers fire in `(time, key group, key hash)` order.
//!
//! Section format (one key group): empty when the group has no timer; otherwise a version
//! byte ([`SECTION_V1`]), then for event time and then processing time: a count (u32) and
//! that many `time i64, key` entries in [`StateCodec`] encoding. Changing it changes the
//! checkpoint format: bump `FORMAT_VERSION`.

use super::timer_queue::{GroupTimers, Queue};
use crate::state::{CodecError, KeyContext, KeyedStateStore, StableKey, StateCodec};
use std::ops::Range;

/// Version byte of a timer section.
pub const SECTION_V1: u8 = 1;

/// The clock a timer follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeDomain {
    /// Fires when the watermark reaches the timer's time.
    EventTime,
    /// Fires when the processing time (ms since the epoch) reaches it.
    ProcessingTime,
}

/// A due timer: its time and key, with what is needed to rebuild the key's [`KeyContext`].
#[derive(Clone, Debug, PartialEq)]
pub struct Timer<K> {
    /// The time the timer was registered for.
    pub time: i64,
    /// The key.
    pub key: K,
    /// The key's stable hash.
    pub hash: u64,
    /// The key's group within the worker's range (as [`KeyContext::local_group`]).
    pub local_group: usize,
}

impl<K> Timer<K> {
    /// The key context to handle this timer in, at processing time `now_ms`.
    pub fn ctx(&self, now_ms: u64) -> KeyContext<'_, K> {
        KeyContext {
            key: &self.key,
            local_group: self.local_group,
            hash: self.hash,
            now_ms,
        }
    }
}

/// Per-key timers of one operator, in both domains; see the module docs.
///
/// ```
/// use weir::state::{KeyContext, KeyedStateStore, StableKey};
/// use weir::time::{TimeDomain, TimerService};
///
/// let mut timers = TimerService::<u64>::new("timers");
/// timers.set_key_groups(0..1);
/// for (key, t) in [(7u64, 30), (8, 10), (7, 20)] {
///     let ctx = KeyContext { key: &key, local_group: 0, hash: key.stable_hash(), now_ms: 0 };
///     timers.register(TimeDomain::EventTime, &ctx, t);
/// }
/// let due: Vec<_> = timers.advance_to(TimeDomain::EventTime, 25).into_iter()
///     .map(|t| (t.time, t.key)).collect();
/// assert_eq!(due, [(10, 8), (20, 7)]);
/// ```
///
/// # Panics
/// The per-key methods panic when `ctx.local_group` is outside the range given to
/// [`KeyedStateStore::set_key_groups`] (a runtime bug).
pub struct TimerService<K> {
    name: String,
    range: Range<u16>,
    event: Queue<K>,
    processing: Queue<K>,
}

impl<K: Eq + Clone> TimerService<K> {
    /// No timers, no key groups; `name` is the state's name in checkpoints.
    pub fn new(name: &str) -> Self {
        TimerService {
            name: name.to_string(),
            range: 0..0,
            event: Queue::new(0),
            processing: Queue::new(0),
        }
    }

    fn queue(&mut self, domain: TimeDomain) -> &mut Queue<K> {
        match domain {
            TimeDomain::EventTime => &mut self.event,
            TimeDomain::ProcessingTime => &mut self.processing,
        }
    }

    /// Registers a timer at `time` for the current key; false when it was already there.
    pub fn register(&mut self, domain: TimeDomain, ctx: &KeyContext<'_, K>, time: i64) -> bool {
        self.queue(domain)
            .register(ctx.local_group, ctx.hash, ctx.key, time)
    }

    /// Deletes the current key's timer at `time`; false when there was none.
    pub fn delete(&mut self, domain: TimeDomain, ctx: &KeyContext<'_, K>, time: i64) -> bool {
        self.queue(domain)
            .delete(ctx.local_group, ctx.hash, ctx.key, time)
    }

    /// Removes and returns the earliest timer with a time `<= up_to`, if any. Handlers may
    /// register new timers between calls; those fire in the same round when due.
    pub fn pop_due(&mut self, domain: TimeDomain, up_to: i64) -> Option<Timer<K>> {
        let (time, hash, key, local_group) = self.queue(domain).pop_due(up_to)?;
        Some(Timer {
            time,
            key,
            hash,
            local_group,
        })
    }

    /// Removes and returns every timer with a time `<= up_to`, in time order.
    pub fn advance_to(&mut self, domain: TimeDomain, up_to: i64) -> Vec<Timer<K>> {
        std::iter::from_fn(|| self.pop_due(domain, up_to)).collect()
    }

    /// The earliest registered time, if any.
    pub fn next_time(&self, domain: TimeDomain) -> Option<i64> {
        let q = match domain {
            TimeDomain::EventTime => &self.event,
            TimeDomain::ProcessingTime => &self.processing,
        };
        q.first_time()
    }

    /// Number of timers registered in `domain`.
    pub fn len(&self, domain: TimeDomain) -> usize {
        match domain {
            TimeDomain::EventTime => self.event.len,
            TimeDomain::ProcessingTime => self.processing.len,
        }
    }

    /// Whether no timer is registered in either domain.
    pub fn is_empty(&self) -> bool {
        self.event.len + self.processing.len == 0
    }

    fn local(&self, kg: u16) -> Option<usize> {
        self.range
            .contains(&kg)
            .then(|| (kg - self.range.start) as usize)
    }
}

/// Writes a group's timers in firing order; returns how many.
fn encode_group<K: StateCodec + Eq + Clone>(g: &GroupTimers<K>, out: &mut Vec<u8>) -> usize {
    let timers = g.sorted();
    u32::try_from(timers.len())
        .expect("more than u32::MAX timers in one key group")
        .encode(out);
    for (time, key) in &timers {
        time.encode(out);
        key.encode(out);
    }
    timers.len()
}

fn decode_group<K: StateCodec>(input: &mut &[u8]) -> Result<Vec<(i64, K)>, CodecError> {
    let n = u32::decode(input)? as usize;
    let mut v = Vec::with_capacity(n.min(input.len()));
    for _ in 0..n {
        v.push((i64::decode(input)?, K::decode(input)?));
    }
    Ok(v)
}

impl<K> KeyedStateStore for TimerService<K>
where
    K: Eq + Clone + StableKey + StateCodec + Send,
{
    fn name(&self) -> &str {
        &self.name
    }

    fn set_key_groups(&mut self, range: Range<u16>) {
        self.event = Queue::new(range.len());
        self.processing = Queue::new(range.len());
        self.range = range;
    }

    fn snapshot_group(&self, kg: u16, _now_ms: u64, out: &mut Vec<u8>) -> usize {
        let Some(g) = self.local(kg) else { return 0 };
        if self.event.groups[g].len() == 0 && self.processing.groups[g].len() == 0 {
            return 0;
        }
        out.push(SECTION_V1);
        encode_group(&self.event.groups[g], out) + encode_group(&self.processing.groups[g], out)
    }

    fn restore_group(&mut self, kg: u16, bytes: &[u8]) -> Result<(), CodecError> {
        let g = self
            .local(kg)
            .ok_or(CodecError::Invalid("key group outside this worker's range"))?;
        let Some((&version, mut input)) = bytes.split_first() else {
            return Ok(());
        };
        if version != SECTION_V1 {
            return Err(CodecError::Invalid("timer section version"));
        }
        let event = decode_group::<K>(&mut input)?;
        let processing = decode_group::<K>(&mut input)?;
        if !input.is_empty() {
            return Err(CodecError::Invalid("trailing bytes after the last timer"));
        }
        for (q, timers) in [(&mut self.event, event), (&mut self.processing, processing)] {
            for (time, key) in timers {
                q.register(g, key.stable_hash(), &key, time);
            }
        }
        Ok(())
    }

    fn entries_in_group(&self, kg: u16) -> usize {
        self.local(kg).map_or(0, |g| {
            self.event.groups[g].len() + self.processing.groups[g].len()
        })
    }
}

impl<K: Eq + Clone> TimerService<K> {
    /// Drops every timer of key group `kg` (e.g. before restoring it again). A no-op for a
    /// group not owned.
    pub fn clear_group(&mut self, kg: u16) {
        if let Some(g) = self.local(kg) {
            self.event.clear_group(g);
            self.processing.clear_group(g);
        }
    }
}

#[cfg(test)]
#[path = "timers_tests.rs"]
mod tests;
