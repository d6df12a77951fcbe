//! [`ValueState`]: one value per key.

use super::groups::KeyGroupMaps;
use super::{KeyContext, KeyedStateStore, StableKey, StateCodec, Ttl};
use std::hash::Hash;

/// One value of type `V` per key of type `K`, stored per key group.
///
/// ```
/// use weir::state::{KeyContext, KeyedStateStore, StableKey, Ttl, ValueState};
///
/// let mut counts = ValueState::<u64, i64>::new("count").with_ttl(Ttl::after_write(60_000));
/// counts.set_key_groups(0..128); // done by the runtime
/// let ctx = KeyContext { key: &7, local_group: 5, hash: 7u64.stable_hash(), now_ms: 1_000 };
/// *counts.get_or_insert_with(&ctx, || 0) += 1;
/// assert_eq!(counts.get(&ctx), Some(&1));
/// let later = KeyContext { now_ms: 61_000, ..ctx };
/// assert_eq!(counts.get(&later), None); // expired
/// ```
///
/// # Panics
/// Every per-key method panics when `ctx.local_group` is outside the range given to
/// [`KeyedStateStore::set_key_groups`] (a runtime bug).
pub struct ValueState<K, V> {
    name: String,
    maps: KeyGroupMaps<K, V>,
}

impl<K: Hash + Eq + Clone, V> ValueState<K, V> {
    /// An empty state named `name` (unique within its operator), without TTL.
    pub fn new(name: &str) -> Self {
        ValueState {
            name: name.to_string(),
            maps: KeyGroupMaps::new(),
        }
    }

    /// Sizes each key group's table for `keys` keys when the key groups are assigned (like
    /// `HashMap::with_capacity`: avoids rehashing while the key space fills; a builder, call
    /// it at construction). With K keys in total, pass about `K / max_parallelism`.
    pub fn with_expected_keys_per_group(mut self, keys: usize) -> Self {
        self.maps.set_expected_keys_per_group(keys);
        self
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

    /// The value of the current key, if any (and not expired).
    #[inline]
    pub fn get(&self, ctx: &KeyContext<'_, K>) -> Option<&V> {
        self.maps.get(ctx)
    }

    /// The value of the current key, inserted with `init` when absent (or expired).
    ///
    /// One hash lookup; the key is cloned only on insert.
    #[inline]
    pub fn get_or_insert_with(
        &mut self,
        ctx: &KeyContext<'_, K>,
        init: impl FnOnce() -> V,
    ) -> &mut V {
        self.maps.get_or_insert_with(ctx, init)
    }

    /// Sets the value of the current key.
    #[inline]
    pub fn update(&mut self, ctx: &KeyContext<'_, K>, value: V) {
        self.maps.insert(ctx, value);
    }

    /// Removes the value of the current key; returns it unless it was absent or expired.
    #[inline]
    pub fn clear(&mut self, ctx: &KeyContext<'_, K>) -> Option<V> {
        self.maps.remove(ctx)
    }

    /// Iterates over all stored (key, value) pairs of all owned key groups, including
    /// expired entries not yet removed (see [`ValueState::iter_live`]).
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.maps.iter(None)
    }

    /// Iterates over the (key, value) pairs live at `now_ms`.
    pub fn iter_live(&self, now_ms: u64) -> impl Iterator<Item = (&K, &V)> {
        self.maps.iter(Some(now_ms))
    }

    /// Calls `f` with every stored (key, value) pair, like [`ValueState::iter`] but without
    /// keeping decoded entries in memory with the mmap backend (for scans of large state).
    pub fn for_each(&self, f: impl FnMut(&K, &V)) {
        self.maps.for_each(None, f);
    }

    /// Removes every entry expired at `now_ms`; returns how many.
    pub fn purge_expired(&mut self, now_ms: u64) -> usize {
        self.maps.purge_expired(now_ms)
    }

    /// Number of stored entries (expired entries not yet removed included).
    pub fn len(&self) -> usize {
        self.maps.len()
    }

    /// Whether no entry is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
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

impl<K, V> KeyedStateStore for ValueState<K, V>
where
    K: Hash + Eq + Clone + StableKey + StateCodec + Send,
    V: StateCodec + Send,
{
    super::groups::keyed_state_store_body!();
}

#[cfg(test)]
impl<K, V> ValueState<K, V>
where
    K: Hash + Eq + Clone + crate::state::StateCodec + crate::state::StableKey,
    V: crate::state::StateCodec,
{
    /// mmap backend: waits for the background writes and merges (tests).
    pub(crate) fn settle(&mut self) {
        self.maps.settle();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::test_util::{ctx, kg, owned, RANGE_ALL};

    #[test]
    fn keys_are_isolated_and_clear_removes_one() {
        let mut s = ValueState::<u64, i64>::new("v");
        s.set_key_groups(RANGE_ALL);
        for k in 0..100u64 {
            *s.get_or_insert_with(&ctx(&k, &RANGE_ALL, 0), || 0) += k as i64;
        }
        s.update(&ctx(&7, &RANGE_ALL, 0), -1);
        assert_eq!(s.get(&ctx(&7, &RANGE_ALL, 0)), Some(&-1));
        assert_eq!(s.get(&ctx(&8, &RANGE_ALL, 0)), Some(&8));
        assert_eq!(s.clear(&ctx(&8, &RANGE_ALL, 0)), Some(8));
        assert_eq!(s.get(&ctx(&8, &RANGE_ALL, 0)), None);
        assert_eq!(s.get(&ctx(&9, &RANGE_ALL, 0)), Some(&9));
        assert_eq!(s.len(), 99);
        assert_eq!(
            s.iter().map(|(_, v)| *v).sum::<i64>(),
            (0..100).sum::<i64>() - 8 - 7 - 1
        );
    }

    #[test]
    fn ttl_expires_and_write_refreshes() {
        let ttl = Ttl {
            millis: 10,
            refresh_on_read: false,
        };
        let mut s = ValueState::<String, u32>::new("v").with_ttl(ttl);
        s.set_key_groups(RANGE_ALL);
        let k = "a".to_string();
        s.update(&ctx(&k, &RANGE_ALL, 100), 1);
        assert_eq!(s.get(&ctx(&k, &RANGE_ALL, 109)), Some(&1));
        // A read does not refresh: still expires at 110.
        assert_eq!(s.get(&ctx(&k, &RANGE_ALL, 110)), None);
        assert_eq!(s.iter_live(110).count(), 0);
        assert_eq!(s.iter().count(), 1, "not yet removed");
        // Expired entries restart from init.
        assert_eq!(*s.get_or_insert_with(&ctx(&k, &RANGE_ALL, 110), || 5), 5);
        *s.get_or_insert_with(&ctx(&k, &RANGE_ALL, 115), || 0) += 1;
        assert_eq!(s.get(&ctx(&k, &RANGE_ALL, 124)), Some(&6));
        assert_eq!(
            s.clear(&ctx(&k, &RANGE_ALL, 125)),
            None,
            "expired value is not returned"
        );
        assert!(s.is_empty());
    }

    #[test]
    fn ttl_refresh_on_read_and_purge() {
        let ttl = Ttl {
            millis: 10,
            refresh_on_read: true,
        };
        let mut s = ValueState::<u64, u8>::new("v").with_ttl(ttl);
        s.set_key_groups(RANGE_ALL);
        s.update(&ctx(&1, &RANGE_ALL, 0), 1);
        s.update(&ctx(&2, &RANGE_ALL, 0), 2);
        assert_eq!(s.get(&ctx(&1, &RANGE_ALL, 9)), Some(&1));
        assert_eq!(
            s.get(&ctx(&1, &RANGE_ALL, 18)),
            Some(&1),
            "read at 9 refreshed"
        );
        assert_eq!(s.purge_expired(18), 1);
        assert_eq!(s.get(&ctx(&2, &RANGE_ALL, 0)), None, "purged");
    }

    #[test]
    fn snapshot_skips_expired_and_keeps_timestamps() {
        let ttl = Ttl {
            millis: 10,
            refresh_on_read: false,
        };
        let range = owned(0, 2);
        let mut s = ValueState::<u64, u64>::new("v").with_ttl(ttl);
        s.set_key_groups(range.clone());
        for k in (0..400u64).filter(|k| range.contains(&kg(k))) {
            s.update(&ctx(&k, &range, k % 2 * 5), k); // odd keys written at 5, even at 0
        }
        let mut total = 0;
        let mut sections = Vec::new();
        for kg in range.clone() {
            let mut out = Vec::new();
            let n = s.snapshot_group(kg, 12, &mut out);
            assert_eq!(n == 0, out.is_empty());
            total += n;
            sections.push((kg, out));
        }
        let odd_in_range = s.iter_live(12).count();
        assert_eq!(total, odd_in_range);
        assert!(total > 0 && s.iter_live(12).all(|(k, _)| k % 2 == 1));
        let mut r = ValueState::<u64, u64>::new("v").with_ttl(ttl);
        r.set_key_groups(range.clone());
        for (kg, bytes) in &sections {
            r.restore_group(*kg, bytes).unwrap();
        }
        assert_eq!(r.iter_live(14).count(), total);
        assert_eq!(
            r.iter_live(15).count(),
            0,
            "restored entries keep their timestamp 5"
        );
    }

    #[test]
    fn ttl_mode_mismatch_and_foreign_group_are_errors() {
        let range = owned(0, 2);
        let mut plain = ValueState::<u64, u64>::new("v");
        plain.set_key_groups(range.clone());
        let k = (0..).find(|k: &u64| range.contains(&kg(k))).unwrap();
        let c = ctx(&k, &range, 0);
        plain.update(&c, 1);
        let kg = c.local_group as u16 + range.start;
        let mut out = Vec::new();
        assert_eq!(plain.snapshot_group(kg, 0, &mut out), 1);
        let mut timed = ValueState::<u64, u64>::new("v").with_ttl(Ttl {
            millis: 1,
            refresh_on_read: false,
        });
        timed.set_key_groups(range.clone());
        assert!(timed.restore_group(kg, &out).is_err());
        assert!(plain.restore_group(range.end, &out).is_err());
        assert_eq!(plain.entries_in_group(kg), 1);
    }
}
