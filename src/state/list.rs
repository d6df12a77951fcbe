//! [`ListState`]: a list of elements per key.

use super::groups::KeyGroupMaps;
use super::{KeyContext, KeyedStateStore, StableKey, StateCodec, Ttl};
use std::hash::Hash;

/// A list of `T` per key of type `K`, stored per key group. An empty list is not stored: a
/// key whose list becomes empty is absent.
///
/// With TTL, a key's whole list expires together (any write refreshes it).
///
/// # Panics
/// Every per-key method panics when `ctx.local_group` is outside the range given to
/// [`KeyedStateStore::set_key_groups`] (a runtime bug).
pub struct ListState<K, T> {
    name: String,
    maps: KeyGroupMaps<K, Vec<T>>,
}

impl<K: Hash + Eq + Clone, T> ListState<K, T> {
    /// An empty state named `name` (unique within its operator), without TTL.
    pub fn new(name: &str) -> Self {
        ListState {
            name: name.to_string(),
            maps: KeyGroupMaps::new(),
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

    /// Appends `value` to the current key's list.
    #[inline]
    pub fn add(&mut self, ctx: &KeyContext<'_, K>, value: T) {
        self.maps.get_or_insert_with(ctx, Vec::new).push(value);
    }

    /// Appends all `values` to the current key's list.
    pub fn add_all(&mut self, ctx: &KeyContext<'_, K>, values: impl IntoIterator<Item = T>) {
        let mut values = values.into_iter().peekable();
        if values.peek().is_some() {
            self.maps.get_or_insert_with(ctx, Vec::new).extend(values);
        }
    }

    /// Hints the CPU to load the state of the key with stable hash `hash` in local key group
    /// `local_group`, ahead of an access (see [`crate::operator::KeyedOperator::prefetch`]).
    /// Changes nothing; a no-op for a group out of range.
    #[inline]
    pub fn prefetch(&self, local_group: usize, hash: u64) {
        self.maps.prefetch(local_group, hash);
    }

    /// The current key's list (empty when absent or expired).
    #[inline]
    pub fn get(&self, ctx: &KeyContext<'_, K>) -> &[T] {
        self.maps.get(ctx).map_or(&[], Vec::as_slice)
    }

    /// Iterates over the current key's list.
    pub fn iter(&self, ctx: &KeyContext<'_, K>) -> std::slice::Iter<'_, T> {
        self.get(ctx).iter()
    }

    /// Replaces the current key's list (an empty `values` removes the key).
    pub fn update(&mut self, ctx: &KeyContext<'_, K>, values: Vec<T>) {
        if values.is_empty() {
            self.maps.remove(ctx);
        } else {
            self.maps.insert(ctx, values);
        }
    }

    /// Removes the current key's list; returns it unless it was absent or expired.
    pub fn clear(&mut self, ctx: &KeyContext<'_, K>) -> Option<Vec<T>> {
        self.maps.remove(ctx)
    }

    /// Iterates over all stored (key, list) pairs, including expired ones not yet removed.
    pub fn entries(&self) -> impl Iterator<Item = (&K, &[T])> {
        self.maps.iter(None).map(|(k, v)| (k, v.as_slice()))
    }

    /// Removes every key whose list expired at `now_ms`; returns how many.
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

impl<K, T> KeyedStateStore for ListState<K, T>
where
    K: Hash + Eq + Clone + StableKey + StateCodec + Send,
    T: StateCodec + Send,
{
    super::groups::keyed_state_store_body!();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::test_util::{ctx, RANGE_ALL};

    #[test]
    fn lists_are_per_key_and_ordered() {
        let mut s = ListState::<u64, u32>::new("l");
        s.set_key_groups(RANGE_ALL);
        for i in 0..10u32 {
            s.add(&ctx(&(i as u64 % 3), &RANGE_ALL, 0), i);
        }
        assert_eq!(s.get(&ctx(&0, &RANGE_ALL, 0)), &[0, 3, 6, 9]);
        assert_eq!(s.get(&ctx(&1, &RANGE_ALL, 0)), &[1, 4, 7]);
        assert_eq!(
            s.iter(&ctx(&2, &RANGE_ALL, 0)).copied().collect::<Vec<_>>(),
            vec![2, 5, 8]
        );
        assert!(s.get(&ctx(&3, &RANGE_ALL, 0)).is_empty());
        s.add_all(&ctx(&3, &RANGE_ALL, 0), [7, 8]);
        s.add_all(&ctx(&4, &RANGE_ALL, 0), []);
        assert_eq!(s.get(&ctx(&3, &RANGE_ALL, 0)), &[7, 8]);
        assert_eq!(s.entries().count(), 4, "empty add_all stores nothing");
    }

    #[test]
    fn update_and_clear() {
        let mut s = ListState::<String, String>::new("l");
        s.set_key_groups(RANGE_ALL);
        let (a, b) = ("a".to_string(), "b".to_string());
        s.add(&ctx(&a, &RANGE_ALL, 0), "x".into());
        s.add(&ctx(&b, &RANGE_ALL, 0), "y".into());
        s.update(&ctx(&a, &RANGE_ALL, 0), vec!["p".into(), "q".into()]);
        assert_eq!(
            s.get(&ctx(&a, &RANGE_ALL, 0)),
            &["p".to_string(), "q".to_string()]
        );
        s.update(&ctx(&a, &RANGE_ALL, 0), Vec::new());
        assert!(s.get(&ctx(&a, &RANGE_ALL, 0)).is_empty());
        assert_eq!(
            s.clear(&ctx(&b, &RANGE_ALL, 0)),
            Some(vec!["y".to_string()])
        );
        assert_eq!(s.clear(&ctx(&b, &RANGE_ALL, 0)), None);
        assert_eq!(s.entries().count(), 0);
    }

    #[test]
    fn ttl_expires_whole_list_and_add_restarts_it() {
        let mut s = ListState::<u64, u8>::new("l").with_ttl(Ttl::after_write(5));
        s.set_key_groups(RANGE_ALL);
        s.add(&ctx(&1, &RANGE_ALL, 0), 1);
        s.add(&ctx(&1, &RANGE_ALL, 3), 2);
        assert_eq!(
            s.get(&ctx(&1, &RANGE_ALL, 7)),
            &[1, 2],
            "add at 3 refreshed"
        );
        assert!(s.get(&ctx(&1, &RANGE_ALL, 8)).is_empty());
        s.add(&ctx(&1, &RANGE_ALL, 8), 3);
        assert_eq!(s.get(&ctx(&1, &RANGE_ALL, 8)), &[3]);
        let mut out = Vec::new();
        let kg = crate::state::test_util::kg(&1u64);
        assert_eq!(s.snapshot_group(kg, 13, &mut out), 0);
        assert!(out.is_empty());
        assert_eq!(s.snapshot_group(kg, 12, &mut out), 1);
    }
}
