//! [`ValueState`]: one value per key.

use super::{CodecError, KeyContext, KeyedStateStore, StateCodec, Ttl};
use ahash::AHashMap;
use std::hash::Hash;
use std::ops::Range;

/// One value of type `V` per key of type `K`, stored per key group.
pub struct ValueState<K, V> {
    name: String,
    range: Range<u16>,
    /// One map per owned key group, indexed by `kg - range.start`.
    groups: Vec<AHashMap<K, V>>,
    ttl: Option<Ttl>,
}

impl<K: Hash + Eq + Clone, V> ValueState<K, V> {
    /// An empty state named `name` (unique within its operator).
    pub fn new(name: &str) -> Self {
        ValueState {
            name: name.to_string(),
            range: 0..0,
            groups: Vec::new(),
            ttl: None,
        }
    }

    /// The value of the current key, if any.
    #[inline]
    pub fn get(&self, ctx: &KeyContext<'_, K>) -> Option<&V> {
        self.groups[ctx.local_group].get(ctx.key)
    }

    /// The value of the current key, inserted with `init` when absent.
    #[inline]
    pub fn get_or_insert_with(
        &mut self,
        ctx: &KeyContext<'_, K>,
        init: impl FnOnce() -> V,
    ) -> &mut V {
        let map = &mut self.groups[ctx.local_group];
        map.entry(ctx.key.clone()).or_insert_with(init)
    }

    /// Sets the value of the current key.
    #[inline]
    pub fn update(&mut self, ctx: &KeyContext<'_, K>, value: V) {
        self.groups[ctx.local_group].insert(ctx.key.clone(), value);
    }

    /// Removes the value of the current key.
    #[inline]
    pub fn clear(&mut self, ctx: &KeyContext<'_, K>) -> Option<V> {
        self.groups[ctx.local_group].remove(ctx.key)
    }

    /// Iterates over all (key, value) pairs of all owned key groups.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.groups.iter().flat_map(|m| m.iter())
    }

    /// The TTL configured (placeholder until TTL lands for ValueState).
    pub fn ttl(&self) -> Option<Ttl> {
        self.ttl
    }
}

impl<K, V> KeyedStateStore for ValueState<K, V>
where
    K: Hash + Eq + Clone + StateCodec + Send,
    V: StateCodec + Send,
{
    fn name(&self) -> &str {
        &self.name
    }

    fn set_key_groups(&mut self, range: Range<u16>) {
        self.groups = (range.start..range.end).map(|_| AHashMap::new()).collect();
        self.range = range;
    }

    fn snapshot_group(&self, kg: u16, _now_ms: u64, out: &mut Vec<u8>) -> usize {
        let map = &self.groups[(kg - self.range.start) as usize];
        for (k, v) in map {
            k.encode(out);
            v.encode(out);
        }
        map.len()
    }

    fn restore_group(&mut self, kg: u16, mut bytes: &[u8]) -> Result<(), CodecError> {
        if !self.range.contains(&kg) {
            return Err(CodecError::Invalid("key group outside this worker's range"));
        }
        let map = &mut self.groups[(kg - self.range.start) as usize];
        while !bytes.is_empty() {
            let k = K::decode(&mut bytes)?;
            let v = V::decode(&mut bytes)?;
            map.insert(k, v);
        }
        Ok(())
    }

    fn entries_in_group(&self, kg: u16) -> usize {
        self.groups[(kg - self.range.start) as usize].len()
    }
}
