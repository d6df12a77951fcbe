//! [`KeyGroupMaps`]: the storage shared by every keyed state kind.
//!
//! One hash map per owned key group, indexed by the *local* group (`kg - range.start`), with
//! optional processing-time TTL. Without TTL the maps hold the values themselves (no timestamp
//! is stored or checked); with TTL they hold [`Timed`] entries. Exactly one of the two map
//! vectors is in use, chosen by `ttl` — so iteration can chain both and skip the empty one.
//!
//! Section format (one key group, written by [`KeyGroupMaps::snapshot_group`]): empty when
//! the group has no live entry; otherwise a tag byte ([`TAG_PLAIN`] or [`TAG_TIMED`]), the
//! entry count (u32), then the entries, each `key, value` (plain) or
//! `key, timestamp u64, value` (timed), all in [`StateCodec`] encoding. The count makes any
//! truncation detectable. Changing the format changes the checkpoint format: bump
//! `FORMAT_VERSION`.

use super::{CodecError, KeyContext, StateCodec, Ttl};
use hashbrown::hash_map::RawEntryMut;
use std::cell::Cell;
use std::hash::Hash;
use std::ops::Range;

/// The map type of one key group: hashbrown with ahash's hasher (for its raw-entry API, which
/// looks a key up by reference and clones it only when inserting).
pub(crate) type Map<K, V> = hashbrown::HashMap<K, V, ahash::RandomState>;

/// Section tag: entries without timestamps.
pub(crate) const TAG_PLAIN: u8 = 0;
/// Section tag: entries with a last-access timestamp.
pub(crate) const TAG_TIMED: u8 = 1;

/// A value with the processing time (ms) of its last write (or read, with refresh-on-read).
///
/// The timestamp is a `Cell` so that a read through `&self` can refresh it.
pub(crate) struct Timed<V> {
    value: V,
    ts: Cell<u64>,
}

impl<V> Timed<V> {
    fn new(value: V, now_ms: u64) -> Self {
        Timed {
            value,
            ts: Cell::new(now_ms),
        }
    }
}

/// Whether an entry stamped at `ts` is expired at `now_ms` (Flink: `ts + ttl <= now`).
#[inline]
pub(crate) fn is_expired(ttl: &Ttl, ts: u64, now_ms: u64) -> bool {
    ts.saturating_add(ttl.millis) <= now_ms
}

/// One map per owned key group, with optional TTL; see the module docs.
pub(crate) struct KeyGroupMaps<K, V> {
    /// The owned key groups; `plain`/`timed` have `range.len()` maps when in use.
    range: Range<u16>,
    /// `None`: only `plain` is used; `Some`: only `timed` is used.
    ttl: Option<Ttl>,
    plain: Vec<Map<K, V>>,
    timed: Vec<Map<K, Timed<V>>>,
}

impl<K: Hash + Eq + Clone, V> KeyGroupMaps<K, V> {
    /// No key groups, no TTL.
    pub(crate) fn new() -> Self {
        KeyGroupMaps {
            range: 0..0,
            ttl: None,
            plain: Vec::new(),
            timed: Vec::new(),
        }
    }

    /// Sets the TTL (`None` disables it); drops all content.
    pub(crate) fn set_ttl(&mut self, ttl: Option<Ttl>) {
        self.ttl = ttl;
        self.set_range(self.range.clone());
    }

    /// The configured TTL.
    pub(crate) fn ttl(&self) -> Option<Ttl> {
        self.ttl
    }

    /// Owns the key groups `range`, with empty maps; drops all content.
    pub(crate) fn set_range(&mut self, range: Range<u16>) {
        let n = range.len();
        if self.ttl.is_some() {
            self.plain = Vec::new();
            self.timed = (0..n).map(|_| Map::default()).collect();
        } else {
            self.plain = (0..n).map(|_| Map::default()).collect();
            self.timed = Vec::new();
        }
        self.range = range;
    }

    /// The local index of key group `kg`, if owned.
    #[inline]
    fn local(&self, kg: u16) -> Option<usize> {
        self.range
            .contains(&kg)
            .then(|| (kg - self.range.start) as usize)
    }

    /// The live value of the current key. With refresh-on-read TTL, refreshes its timestamp.
    #[inline]
    pub(crate) fn get(&self, ctx: &KeyContext<'_, K>) -> Option<&V> {
        match &self.ttl {
            None => self.plain[ctx.local_group].get(ctx.key),
            Some(ttl) => {
                let e = self.timed[ctx.local_group].get(ctx.key)?;
                if is_expired(ttl, e.ts.get(), ctx.now_ms) {
                    return None;
                }
                if ttl.refresh_on_read {
                    e.ts.set(ctx.now_ms);
                }
                Some(&e.value)
            }
        }
    }

    /// The live value of the current key, for modification (a write: refreshes the
    /// timestamp). An expired entry is removed and reads as `None`.
    #[inline]
    pub(crate) fn get_mut(&mut self, ctx: &KeyContext<'_, K>) -> Option<&mut V> {
        match &self.ttl {
            None => self.plain[ctx.local_group].get_mut(ctx.key),
            Some(ttl) => match self.timed[ctx.local_group]
                .raw_entry_mut()
                .from_key(ctx.key)
            {
                RawEntryMut::Occupied(e) if is_expired(ttl, e.get().ts.get(), ctx.now_ms) => {
                    e.remove();
                    None
                }
                RawEntryMut::Occupied(e) => {
                    let e = e.into_mut();
                    e.ts.set(ctx.now_ms);
                    Some(&mut e.value)
                }
                RawEntryMut::Vacant(_) => None,
            },
        }
    }

    /// The value of the current key, inserted with `init` when absent or expired. One hash
    /// lookup; the key is cloned only on insert.
    #[inline]
    pub(crate) fn get_or_insert_with(
        &mut self,
        ctx: &KeyContext<'_, K>,
        init: impl FnOnce() -> V,
    ) -> &mut V {
        match &self.ttl {
            None => match self.plain[ctx.local_group]
                .raw_entry_mut()
                .from_key(ctx.key)
            {
                RawEntryMut::Occupied(e) => e.into_mut(),
                RawEntryMut::Vacant(e) => e.insert(ctx.key.clone(), init()).1,
            },
            Some(ttl) => match self.timed[ctx.local_group]
                .raw_entry_mut()
                .from_key(ctx.key)
            {
                RawEntryMut::Occupied(e) => {
                    let e = e.into_mut();
                    if is_expired(ttl, e.ts.get(), ctx.now_ms) {
                        e.value = init();
                    }
                    e.ts.set(ctx.now_ms);
                    &mut e.value
                }
                RawEntryMut::Vacant(e) => {
                    &mut e
                        .insert(ctx.key.clone(), Timed::new(init(), ctx.now_ms))
                        .1
                        .value
                }
            },
        }
    }

    /// Sets the value of the current key; returns the previous live value.
    #[inline]
    pub(crate) fn insert(&mut self, ctx: &KeyContext<'_, K>, value: V) -> Option<V> {
        match &self.ttl {
            None => match self.plain[ctx.local_group]
                .raw_entry_mut()
                .from_key(ctx.key)
            {
                RawEntryMut::Occupied(mut e) => Some(e.insert(value)),
                RawEntryMut::Vacant(e) => {
                    e.insert(ctx.key.clone(), value);
                    None
                }
            },
            Some(ttl) => {
                let new = Timed::new(value, ctx.now_ms);
                match self.timed[ctx.local_group]
                    .raw_entry_mut()
                    .from_key(ctx.key)
                {
                    RawEntryMut::Occupied(mut e) => {
                        let old = e.insert(new);
                        (!is_expired(ttl, old.ts.get(), ctx.now_ms)).then_some(old.value)
                    }
                    RawEntryMut::Vacant(e) => {
                        e.insert(ctx.key.clone(), new);
                        None
                    }
                }
            }
        }
    }

    /// Removes the current key; returns its live value.
    #[inline]
    pub(crate) fn remove(&mut self, ctx: &KeyContext<'_, K>) -> Option<V> {
        match &self.ttl {
            None => self.plain[ctx.local_group].remove(ctx.key),
            Some(ttl) => {
                let old = self.timed[ctx.local_group].remove(ctx.key)?;
                (!is_expired(ttl, old.ts.get(), ctx.now_ms)).then_some(old.value)
            }
        }
    }

    /// All stored entries of all owned groups; with `Some(now_ms)`, only those live then.
    pub(crate) fn iter(&self, now_ms: Option<u64>) -> impl Iterator<Item = (&K, &V)> {
        let ttl = self.ttl;
        let plain = self.plain.iter().flat_map(|m| m.iter());
        let timed = self
            .timed
            .iter()
            .flat_map(|m| m.iter())
            .filter_map(move |(k, e)| match (ttl, now_ms) {
                (Some(ttl), Some(now)) if is_expired(&ttl, e.ts.get(), now) => None,
                _ => Some((k, &e.value)),
            });
        plain.chain(timed)
    }

    /// Removes every entry expired at `now_ms`; returns how many were removed.
    pub(crate) fn purge_expired(&mut self, now_ms: u64) -> usize {
        let Some(ttl) = self.ttl else { return 0 };
        let mut removed = 0;
        for map in &mut self.timed {
            let before = map.len();
            map.retain(|_, e| !is_expired(&ttl, e.ts.get(), now_ms));
            removed += before - map.len();
        }
        removed
    }

    /// Number of stored entries in all groups (expired ones not yet removed included).
    pub(crate) fn len(&self) -> usize {
        self.plain.iter().map(Map::len).sum::<usize>()
            + self.timed.iter().map(Map::len).sum::<usize>()
    }

    /// Number of stored entries of key group `kg` (0 when not owned).
    pub(crate) fn entries_in_group(&self, kg: u16) -> usize {
        match (self.local(kg), self.ttl) {
            (None, _) => 0,
            (Some(i), None) => self.plain[i].len(),
            (Some(i), Some(_)) => self.timed[i].len(),
        }
    }
}

impl<K, V> KeyGroupMaps<K, V>
where
    K: Hash + Eq + Clone + StateCodec,
    V: StateCodec,
{
    /// Appends the section of key group `kg` (live entries at `now_ms`) to `out`; returns
    /// the number of entries written. Writes nothing for an empty or unowned group.
    pub(crate) fn snapshot_group(&self, kg: u16, now_ms: u64, out: &mut Vec<u8>) -> usize {
        let Some(i) = self.local(kg) else { return 0 };
        let start = out.len();
        out.push(if self.ttl.is_some() {
            TAG_TIMED
        } else {
            TAG_PLAIN
        });
        0u32.encode(out); // the count, patched below
        let mut n: usize = 0;
        match &self.ttl {
            None => {
                for (k, v) in &self.plain[i] {
                    k.encode(out);
                    v.encode(out);
                }
                n = self.plain[i].len();
            }
            Some(ttl) => {
                for (k, e) in &self.timed[i] {
                    let ts = e.ts.get();
                    if is_expired(ttl, ts, now_ms) {
                        continue;
                    }
                    k.encode(out);
                    ts.encode(out);
                    e.value.encode(out);
                    n += 1;
                }
            }
        }
        if n == 0 {
            out.truncate(start);
        } else {
            let count = u32::try_from(n).expect("more than u32::MAX entries in one key group");
            out[start + 1..start + 5].copy_from_slice(&count.to_le_bytes());
        }
        n
    }

    /// Adds the entries of a section of key group `kg`. All or nothing: on error, the
    /// group is unchanged.
    ///
    /// # Errors
    /// [`CodecError`] when `kg` is not owned, the bytes do not decode, or the section's TTL
    /// mode (timestamps or not) differs from this state's (as in Flink, enabling or disabling
    /// TTL on restore is incompatible).
    pub(crate) fn restore_group(&mut self, kg: u16, bytes: &[u8]) -> Result<(), CodecError> {
        let i = self
            .local(kg)
            .ok_or(CodecError::Invalid("key group outside this worker's range"))?;
        let Some((&tag, mut input)) = bytes.split_first() else {
            return Ok(());
        };
        let n = u32::decode(&mut input)? as usize;
        // Do not trust n for the allocation: every entry takes at least one byte.
        let cap = n.min(input.len());
        match (tag, self.ttl.is_some()) {
            (TAG_PLAIN, false) => {
                let mut staged = Vec::with_capacity(cap);
                for _ in 0..n {
                    staged.push((K::decode(&mut input)?, V::decode(&mut input)?));
                }
                check_consumed(input)?;
                self.plain[i].extend(staged);
            }
            (TAG_TIMED, true) => {
                let mut staged = Vec::with_capacity(cap);
                for _ in 0..n {
                    let k = K::decode(&mut input)?;
                    let ts = u64::decode(&mut input)?;
                    staged.push((k, Timed::new(V::decode(&mut input)?, ts)));
                }
                check_consumed(input)?;
                self.timed[i].extend(staged);
            }
            (TAG_PLAIN, true) => return Err(CodecError::Invalid("section has no TTL timestamps")),
            (TAG_TIMED, false) => return Err(CodecError::Invalid("section has TTL timestamps")),
            _ => return Err(CodecError::Invalid("section tag")),
        }
        Ok(())
    }
}

/// Checks that a section has no bytes after its last entry.
fn check_consumed(rest: &[u8]) -> Result<(), CodecError> {
    if rest.is_empty() {
        Ok(())
    } else {
        Err(CodecError::Invalid("trailing bytes after the last entry"))
    }
}
