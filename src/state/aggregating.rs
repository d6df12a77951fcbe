//! [`AggregatingState`]: one accumulator per key, fed by an [`Aggregator`].

use super::groups::KeyGroupMaps;
use super::{KeyContext, KeyedStateStore, StableKey, StateCodec, Ttl};
use std::hash::Hash;

/// An incremental aggregation: inputs `In` are added to an accumulator `Acc`, which yields a
/// result `Out` (Flink's AggregateFunction without merge).
pub trait Aggregator {
    /// The type of the added values.
    type In;
    /// The accumulator stored per key (checkpointed).
    type Acc;
    /// The result type.
    type Out;
    /// A new, empty accumulator.
    fn create(&self) -> Self::Acc;
    /// Adds `v` to `acc`.
    fn add(&self, acc: &mut Self::Acc, v: &Self::In);
    /// The result of `acc`.
    fn result(&self, acc: &Self::Acc) -> Self::Out;
}

/// One accumulator per key of type `K`, stored per key group.
///
/// # Panics
/// Every per-key method panics when `ctx.local_group` is outside the range given to
/// [`KeyedStateStore::set_key_groups`] (a runtime bug).
pub struct AggregatingState<K, A: Aggregator> {
    name: String,
    maps: KeyGroupMaps<K, A::Acc>,
    agg: A,
}

impl<K: Hash + Eq + Clone, A: Aggregator> AggregatingState<K, A> {
    /// An empty state named `name` (unique within its operator) aggregating with `agg`.
    pub fn new(name: &str, agg: A) -> Self {
        AggregatingState {
            name: name.to_string(),
            maps: KeyGroupMaps::new(),
            agg,
        }
    }

    /// Enables processing-time TTL (builder; drops any content, so call it at construction).
    pub fn with_ttl(mut self, ttl: Ttl) -> Self {
        self.maps.set_ttl(Some(ttl));
        self
    }

    /// Enables event-time TTL: the clock is the stage's watermark ([`super::expiry`]; builder,
    /// drops any content, so call it at construction).
    pub fn with_event_time_ttl(mut self, ttl: Ttl) -> Self {
        self.maps.set_ttl(Some(ttl));
        self.maps.set_ttl_time(super::TtlTime::Event);
        self
    }

    /// Adds `value` to the current key's accumulator (created when absent or expired).
    #[inline]
    pub fn add(&mut self, ctx: &KeyContext<'_, K>, value: &A::In) {
        let agg = &self.agg;
        let acc = self.maps.get_or_insert_with(ctx, || agg.create());
        agg.add(acc, value);
    }

    /// Hints the CPU to load the state of the key with stable hash `hash` in local key group
    /// `local_group`, ahead of an access (see [`crate::operator::KeyedOperator::prefetch`]).
    /// Changes nothing; a no-op for a group out of range.
    #[inline]
    pub fn prefetch(&self, local_group: usize, hash: u64) {
        self.maps.prefetch(local_group, hash);
    }

    /// The current key's result; `None` when nothing was added (or it expired).
    #[inline]
    pub fn get(&self, ctx: &KeyContext<'_, K>) -> Option<A::Out> {
        self.maps.get(ctx).map(|acc| self.agg.result(acc))
    }

    /// Removes the current key's accumulator; returns it unless it was absent or expired.
    pub fn clear(&mut self, ctx: &KeyContext<'_, K>) -> Option<A::Acc> {
        self.maps.remove(ctx)
    }

    /// Iterates over all stored (key, accumulator) pairs, including expired ones not yet
    /// removed.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &A::Acc)> {
        self.maps.iter(None)
    }

    /// Removes every entry expired at `now_ms`; returns how many.
    pub fn purge_expired(&mut self, now_ms: u64) -> usize {
        self.maps.purge_expired(now_ms)
    }

    /// The aggregator.
    pub fn aggregator(&self) -> &A {
        &self.agg
    }

    /// The configured TTL.
    pub fn ttl(&self) -> Option<Ttl> {
        self.maps.ttl()
    }

    /// The clock the TTL reads.
    pub fn ttl_time(&self) -> super::TtlTime {
        self.maps.ttl_time()
    }
}

impl<K, A> KeyedStateStore for AggregatingState<K, A>
where
    K: Hash + Eq + Clone + StableKey + StateCodec + Send,
    A: Aggregator + Send,
    A::Acc: StateCodec + Send,
{
    super::groups::keyed_state_store_body!();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::test_util::{ctx, kg, RANGE_ALL};

    /// Average of f64 inputs; the accumulator is (sum, count).
    struct Avg;

    impl Aggregator for Avg {
        type In = f64;
        type Acc = (f64, u64);
        type Out = f64;
        fn create(&self) -> (f64, u64) {
            (0.0, 0)
        }
        fn add(&self, acc: &mut (f64, u64), v: &f64) {
            acc.0 += v;
            acc.1 += 1;
        }
        fn result(&self, acc: &(f64, u64)) -> f64 {
            acc.0 / acc.1 as f64
        }
    }

    #[test]
    fn aggregates_per_key_and_clears() {
        let mut s = AggregatingState::<u64, Avg>::new("avg", Avg);
        s.set_key_groups(RANGE_ALL);
        for (k, v) in [(1u64, 1.0), (2, 10.0), (1, 2.0), (1, 6.0)] {
            s.add(&ctx(&k, &RANGE_ALL, 0), &v);
        }
        assert_eq!(s.get(&ctx(&1, &RANGE_ALL, 0)), Some(3.0));
        assert_eq!(s.get(&ctx(&2, &RANGE_ALL, 0)), Some(10.0));
        assert_eq!(s.get(&ctx(&3, &RANGE_ALL, 0)), None);
        assert_eq!(s.clear(&ctx(&1, &RANGE_ALL, 0)), Some((9.0, 3)));
        assert_eq!(s.get(&ctx(&1, &RANGE_ALL, 0)), None);
        assert_eq!(s.iter().count(), 1);
    }

    #[test]
    fn ttl_and_snapshot_roundtrip() {
        let mut s = AggregatingState::<u64, Avg>::new("avg", Avg).with_ttl(Ttl::after_write(3));
        s.set_key_groups(RANGE_ALL);
        s.add(&ctx(&1, &RANGE_ALL, 0), &4.0);
        s.add(&ctx(&1, &RANGE_ALL, 2), &8.0);
        assert_eq!(s.get(&ctx(&1, &RANGE_ALL, 4)), Some(6.0));
        assert_eq!(s.get(&ctx(&1, &RANGE_ALL, 5)), None);
        s.add(&ctx(&1, &RANGE_ALL, 5), &1.0);
        let mut out = Vec::new();
        assert_eq!(s.snapshot_group(kg(&1u64), 5, &mut out), 1);
        let mut r = AggregatingState::<u64, Avg>::new("avg", Avg).with_ttl(Ttl::after_write(3));
        r.set_key_groups(RANGE_ALL);
        r.restore_group(kg(&1u64), &out).unwrap();
        assert_eq!(r.get(&ctx(&1, &RANGE_ALL, 7)), Some(1.0));
        // Truncated sections are errors and leave the group unchanged.
        let mut t = AggregatingState::<u64, Avg>::new("avg", Avg).with_ttl(Ttl::after_write(3));
        t.set_key_groups(RANGE_ALL);
        for cut in 1..out.len() {
            assert!(
                t.restore_group(kg(&1u64), &out[..cut]).is_err(),
                "cut {cut}"
            );
        }
        assert_eq!(t.entries_in_group(kg(&1u64)), 0);
    }
}
