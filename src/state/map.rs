//! [`MapState`]: a map from user keys to user values per key.

use super::groups::{KeyGroupMaps, Map};
use super::{KeyContext, KeyedStateStore, StableKey, StateCodec, Ttl};
use std::borrow::Borrow;
use std::hash::Hash;

/// A map `UK → UV` per key of type `K`, stored per key group. An empty map is not stored: a
/// key whose last user key is removed is absent.
///
/// With TTL, a key's whole map expires together (any write refreshes it).
///
/// # Panics
/// Every per-key method panics when `ctx.local_group` is outside the range given to
/// [`KeyedStateStore::set_key_groups`] (a runtime bug).
pub struct MapState<K, UK, UV> {
    name: String,
    maps: KeyGroupMaps<K, Map<UK, UV>>,
}

impl<K, UK, UV> MapState<K, UK, UV>
where
    K: Hash + Eq + Clone,
    UK: Hash + Eq,
{
    /// An empty state named `name` (unique within its operator), without TTL.
    pub fn new(name: &str) -> Self {
        MapState {
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

    /// Hints the CPU to load the state of the key with stable hash `hash` in local key group
    /// `local_group`, ahead of an access (see [`crate::operator::KeyedOperator::prefetch`]).
    /// Changes nothing; a no-op for a group out of range.
    #[inline]
    pub fn prefetch(&self, local_group: usize, hash: u64) {
        self.maps.prefetch(local_group, hash);
    }

    /// The value of user key `uk` of the current key.
    #[inline]
    pub fn get<Q>(&self, ctx: &KeyContext<'_, K>, uk: &Q) -> Option<&UV>
    where
        UK: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.maps.get(ctx)?.get(uk)
    }

    /// Sets user key `uk` of the current key to `uv`; returns the previous value.
    #[inline]
    pub fn put(&mut self, ctx: &KeyContext<'_, K>, uk: UK, uv: UV) -> Option<UV> {
        self.maps
            .get_or_insert_with(ctx, Map::default)
            .insert(uk, uv)
    }

    /// Removes user key `uk` of the current key; returns its value.
    pub fn remove<Q>(&mut self, ctx: &KeyContext<'_, K>, uk: &Q) -> Option<UV>
    where
        UK: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let map = self.maps.get_mut(ctx)?;
        let old = map.remove(uk);
        if map.is_empty() {
            self.maps.remove(ctx);
        }
        old
    }

    /// Whether the current key's map holds user key `uk`.
    #[inline]
    pub fn contains<Q>(&self, ctx: &KeyContext<'_, K>, uk: &Q) -> bool
    where
        UK: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.maps.get(ctx).is_some_and(|m| m.contains_key(uk))
    }

    /// Iterates over the (user key, user value) entries of the current key (any order).
    pub fn iter(&self, ctx: &KeyContext<'_, K>) -> impl Iterator<Item = (&UK, &UV)> {
        self.maps.get(ctx).into_iter().flat_map(|m| m.iter())
    }

    /// Number of user keys of the current key.
    pub fn len(&self, ctx: &KeyContext<'_, K>) -> usize {
        self.maps.get(ctx).map_or(0, Map::len)
    }

    /// Whether the current key has no user key.
    pub fn is_empty(&self, ctx: &KeyContext<'_, K>) -> bool {
        self.len(ctx) == 0
    }

    /// Removes the current key's whole map; returns how many user keys it had (0 when
    /// absent or expired).
    pub fn clear(&mut self, ctx: &KeyContext<'_, K>) -> usize {
        self.maps.remove(ctx).map_or(0, |m| m.len())
    }

    /// Iterates over all stored (key, user key, user value) triples, including expired ones
    /// not yet removed.
    pub fn entries(&self) -> impl Iterator<Item = (&K, &UK, &UV)> {
        self.maps
            .iter(None)
            .flat_map(|(k, m)| m.iter().map(move |(uk, uv)| (k, uk, uv)))
    }

    /// Removes every key whose map expired at `now_ms`; returns how many keys.
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

impl<K, UK, UV> KeyedStateStore for MapState<K, UK, UV>
where
    K: Hash + Eq + Clone + StableKey + StateCodec + Send,
    UK: Hash + Eq + StateCodec + Send,
    UV: StateCodec + Send,
{
    super::groups::keyed_state_store_body!();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::test_util::{ctx, RANGE_ALL};

    #[test]
    fn user_keys_are_per_key() {
        let mut s = MapState::<u64, String, i32>::new("m");
        s.set_key_groups(RANGE_ALL);
        let (c1, c2) = (ctx(&1, &RANGE_ALL, 0), ctx(&2, &RANGE_ALL, 0));
        assert_eq!(s.put(&c1, "a".into(), 1), None);
        assert_eq!(s.put(&c1, "a".into(), 2), Some(1));
        s.put(&c1, "b".into(), 3);
        s.put(&c2, "a".into(), 10);
        assert_eq!(s.get(&c1, "a"), Some(&2));
        assert_eq!(s.get(&c2, "a"), Some(&10));
        assert!(s.contains(&c1, "b") && !s.contains(&c2, "b"));
        let mut e: Vec<_> = s.iter(&c1).map(|(k, v)| (k.clone(), *v)).collect();
        e.sort();
        assert_eq!(e, vec![("a".to_string(), 2), ("b".to_string(), 3)]);
        assert_eq!((s.len(&c1), s.len(&c2)), (2, 1));
        assert_eq!(s.entries().count(), 3);
    }

    #[test]
    fn remove_last_user_key_removes_key_and_clear() {
        let mut s = MapState::<u64, u8, u8>::new("m");
        s.set_key_groups(RANGE_ALL);
        let c = ctx(&5, &RANGE_ALL, 0);
        s.put(&c, 1, 1);
        s.put(&c, 2, 2);
        assert_eq!(s.remove(&c, &1), Some(1));
        assert_eq!(s.remove(&c, &1), None);
        assert_eq!(s.remove(&c, &2), Some(2));
        assert!(s.is_empty(&c));
        assert_eq!(s.entries_in_group(crate::state::test_util::kg(&5u64)), 0);
        s.put(&c, 3, 3);
        s.put(&ctx(&6, &RANGE_ALL, 0), 3, 3);
        assert_eq!(s.clear(&c), 1);
        assert_eq!(s.clear(&c), 0);
        assert_eq!(s.get(&ctx(&6, &RANGE_ALL, 0), &3), Some(&3));
    }

    #[test]
    fn ttl_refresh_on_read_keeps_map_alive() {
        let mut s = MapState::<u64, u8, u8>::new("m").with_ttl(Ttl::after_access(10));
        s.set_key_groups(RANGE_ALL);
        s.put(&ctx(&1, &RANGE_ALL, 0), 1, 1);
        s.put(&ctx(&2, &RANGE_ALL, 0), 1, 1);
        for t in [8, 16, 24] {
            assert!(s.contains(&ctx(&1, &RANGE_ALL, t), &1));
        }
        assert_eq!(s.get(&ctx(&2, &RANGE_ALL, 24), &1), None);
        assert_eq!(
            s.remove(&ctx(&2, &RANGE_ALL, 24), &1),
            None,
            "expired map is gone"
        );
        assert_eq!(
            s.entries().count(),
            1,
            "expired map removed lazily by the write"
        );
        assert_eq!(s.put(&ctx(&1, &RANGE_ALL, 40), 2, 2), None);
        assert_eq!(
            s.len(&ctx(&1, &RANGE_ALL, 40)),
            1,
            "expired map restarts empty"
        );
    }
}
