//! [`ReducingState`]: one value per key, folded with a reduce function.

use super::groups::KeyGroupMaps;
use super::{KeyContext, KeyedStateStore, StableKey, StateCodec, Ttl};
use std::hash::Hash;

/// One value of type `V` per key, combined with each added value by `F` (e.g. a sum).
///
/// # Panics
/// Every per-key method panics when `ctx.local_group` is outside the range given to
/// [`KeyedStateStore::set_key_groups`] (a runtime bug).
pub struct ReducingState<K, V, F> {
    name: String,
    maps: KeyGroupMaps<K, V>,
    reduce: F,
}

impl<K, V, F> ReducingState<K, V, F>
where
    K: Hash + Eq + Clone,
    F: Fn(&V, &V) -> V,
{
    /// An empty state named `name` (unique within its operator) reducing with `reduce`.
    pub fn new(name: &str, reduce: F) -> Self {
        ReducingState {
            name: name.to_string(),
            maps: KeyGroupMaps::new(),
            reduce,
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

    /// Folds `value` into the current key's value (`reduce(old, value)`), or stores it.
    #[inline]
    pub fn add(&mut self, ctx: &KeyContext<'_, K>, value: V) {
        match self.maps.get_mut(ctx) {
            Some(old) => *old = (self.reduce)(old, &value),
            None => {
                self.maps.insert(ctx, value);
            }
        }
    }

    /// Hints the CPU to load the state of the key with stable hash `hash` in local key group
    /// `local_group`, ahead of an access (see [`crate::operator::KeyedOperator::prefetch`]).
    /// Changes nothing; a no-op for a group out of range.
    #[inline]
    pub fn prefetch(&self, local_group: usize, hash: u64) {
        self.maps.prefetch(local_group, hash);
    }

    /// The current key's reduced value.
    #[inline]
    pub fn get(&self, ctx: &KeyContext<'_, K>) -> Option<&V> {
        self.maps.get(ctx)
    }

    /// Removes the current key's value; returns it unless it was absent or expired.
    pub fn clear(&mut self, ctx: &KeyContext<'_, K>) -> Option<V> {
        self.maps.remove(ctx)
    }

    /// Iterates over all stored (key, value) pairs, including expired ones not yet removed.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.maps.iter(None)
    }

    /// Removes every entry expired at `now_ms`; returns how many.
    pub fn purge_expired(&mut self, now_ms: u64) -> usize {
        self.maps.purge_expired(now_ms)
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

impl<K, V, F> KeyedStateStore for ReducingState<K, V, F>
where
    K: Hash + Eq + Clone + StableKey + StateCodec + Send,
    V: StateCodec + Send,
    F: Fn(&V, &V) -> V + Send,
{
    super::groups::keyed_state_store_body!();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::test_util::{ctx, kg, RANGE_ALL};

    #[test]
    fn reduces_per_key() {
        let mut s = ReducingState::new("max", |a: &i64, b: &i64| *a.max(b));
        s.set_key_groups(RANGE_ALL);
        for (k, v) in [(1u64, 5i64), (2, -3), (1, 2), (1, 9), (2, -7)] {
            s.add(&ctx(&k, &RANGE_ALL, 0), v);
        }
        assert_eq!(s.get(&ctx(&1, &RANGE_ALL, 0)), Some(&9));
        assert_eq!(s.get(&ctx(&2, &RANGE_ALL, 0)), Some(&-3));
        assert_eq!(s.clear(&ctx(&1, &RANGE_ALL, 0)), Some(9));
        s.add(&ctx(&1, &RANGE_ALL, 0), -100);
        assert_eq!(
            s.get(&ctx(&1, &RANGE_ALL, 0)),
            Some(&-100),
            "clear restarts the fold"
        );
        assert_eq!(s.iter().count(), 2);
    }

    #[test]
    fn ttl_restarts_fold_and_snapshot_roundtrips() {
        let sum = |a: &u64, b: &u64| a + b;
        let mut s = ReducingState::new("sum", sum).with_ttl(Ttl::after_write(10));
        s.set_key_groups(RANGE_ALL);
        s.add(&ctx(&1, &RANGE_ALL, 0), 1);
        s.add(&ctx(&1, &RANGE_ALL, 5), 2);
        assert_eq!(s.get(&ctx(&1, &RANGE_ALL, 14)), Some(&3));
        s.add(&ctx(&1, &RANGE_ALL, 15), 4);
        assert_eq!(
            s.get(&ctx(&1, &RANGE_ALL, 15)),
            Some(&4),
            "expired sum restarts"
        );
        let mut out = Vec::new();
        assert_eq!(s.snapshot_group(kg(&1u64), 15, &mut out), 1);
        let mut r = ReducingState::new("sum", sum).with_ttl(Ttl::after_write(10));
        r.set_key_groups(RANGE_ALL);
        r.restore_group(kg(&1u64), &out).unwrap();
        assert_eq!(r.get(&ctx(&1, &RANGE_ALL, 24)), Some(&4));
        assert_eq!(r.get(&ctx(&1, &RANGE_ALL, 25)), None);
    }
}
