//! [`KeyGroupMaps`]: the storage shared by every keyed state kind.
//!
//! One [`KeyTable`] per owned key group, indexed by the *local* group (`kg - range.start`) and
//! looked up with the key's stable hash ([`KeyContext::hash`]), with optional processing-time
//! TTL. Without TTL the tables hold the values themselves (no timestamp is stored or checked);
//! with TTL they hold [`Timed`] entries. Exactly one of the two table vectors is in use, chosen
//! by `ttl` — so iteration can chain both and skip the empty one. The hashes are not stored in
//! sections: restore recomputes them with [`StableKey::stable_hash`].
//!
//! Section format (one key group, written by [`KeyGroupMaps::snapshot_group`]): empty when
//! the group has no live entry; otherwise a tag byte ([`TAG_PLAIN`] or [`TAG_TIMED`]), the
//! entry count (u32), then the entries, each `key, value` (plain) or
//! `key, timestamp u64, value` (timed), all in [`StateCodec`] encoding. The count makes any
//! truncation detectable. Changing the format changes the checkpoint format: bump
//! `FORMAT_VERSION`.

use super::expiry::{Clock, EventClock, TtlTime, SWEEP_SLOTS};
use super::mmap::{MmapConfig, MmapMaps};
use super::table::KeyTable;
use super::{CodecError, KeyContext, StableKey, StateCodec, Ttl};
use std::cell::Cell;
use std::ops::Range;

/// A hashbrown map with ahash's hasher, for maps *inside* one key's state (e.g. the user map
/// of [`super::MapState`]); the per-key-group tables are [`KeyTable`]s.
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

/// One table per owned key group, with optional TTL; see the module docs.
///
/// Keys are looked up with [`KeyContext::hash`], which must be the key's
/// [`StableKey::stable_hash`] (restore recomputes it from the decoded key).
pub(crate) struct KeyGroupMaps<K, V> {
    /// The owned key groups; `plain`/`timed` have `range.len()` tables when in use.
    range: Range<u16>,
    /// `None`: only `plain` is used; `Some`: only `timed` is used.
    ttl: Option<Ttl>,
    plain: Vec<KeyTable<K, V>>,
    timed: Vec<KeyTable<K, Timed<V>>>,
    /// Keys expected per key group: tables are allocated for that many up front.
    expected_per_group: usize,
    /// The mmap backend's settings, when selected ([`super::StateBackend`]).
    mmap_cfg: Option<MmapConfig<K, V>>,
    /// The mmap backend's storage: when `Some`, every method delegates to it.
    mmap: Option<Box<MmapMaps<K, V>>>,
    /// A backend was chosen with `set_backend` (tests: then the test default does not apply).
    backend_chosen: bool,
    /// The clock the TTL reads (see [`super::expiry`]).
    time: TtlTime,
    /// The watermarks seen (event-time TTL).
    event: EventClock,
    /// Per local group, where the next incremental cleanup starts in its table.
    cursors: Vec<usize>,
}

impl<K: Eq + Clone, V> KeyGroupMaps<K, V> {
    /// No key groups, no TTL.
    pub(crate) fn new() -> Self {
        KeyGroupMaps {
            range: 0..0,
            ttl: None,
            plain: Vec::new(),
            timed: Vec::new(),
            expected_per_group: 0,
            mmap_cfg: None,
            mmap: None,
            backend_chosen: false,
            time: TtlTime::Processing,
            event: EventClock::default(),
            cursors: Vec::new(),
        }
    }

    /// Sets the clock the TTL reads; drops all content.
    pub(crate) fn set_ttl_time(&mut self, time: TtlTime) {
        self.time = time;
        self.set_range(self.range.clone());
    }

    /// The clock the TTL reads.
    pub(crate) fn ttl_time(&self) -> TtlTime {
        self.time
    }

    /// The stage's watermark advanced (the clock of event-time TTL).
    pub(crate) fn advance_watermark(&mut self, watermark: i64) {
        self.event.advance(watermark);
    }

    /// The TTL clock of an access at processing time `now_ms`.
    #[inline]
    fn clock(&self, now_ms: u64) -> Clock {
        self.event.clock(self.time, now_ms)
    }

    /// Expects `keys` keys per key group (tables are sized for them when key groups are set).
    pub(crate) fn set_expected_keys_per_group(&mut self, keys: usize) {
        self.expected_per_group = keys;
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

    /// Owns the key groups `range`, with empty tables; drops all content.
    pub(crate) fn set_range(&mut self, range: Range<u16>) {
        let n = range.len();
        self.mmap = None; // removes the old working files first
        self.mmap = self
            .mmap_cfg
            .as_ref()
            .and_then(|c| c.build(range.clone(), self.ttl));
        let cap = match self.mmap.as_deref_mut() {
            Some(m) => {
                m.presize(self.expected_per_group);
                0
            }
            None => self.expected_per_group,
        };
        if self.ttl.is_some() {
            self.plain = Vec::new();
            self.timed = (0..n).map(|_| KeyTable::with_capacity(cap)).collect();
            self.cursors = vec![0; n];
        } else {
            self.plain = (0..n).map(|_| KeyTable::with_capacity(cap)).collect();
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

    /// Hints the CPU to load the slot where the entry of the key with stable hash `hash` in
    /// local group `local_group` would be. A no-op for a group out of range.
    #[inline]
    pub(crate) fn prefetch(&self, local_group: usize, hash: u64) {
        if let Some(m) = &self.mmap {
            return m.prefetch(local_group, hash);
        }
        match self.ttl {
            None => {
                if let Some(t) = self.plain.get(local_group) {
                    t.prefetch(hash);
                }
            }
            Some(_) => {
                if let Some(t) = self.timed.get(local_group) {
                    t.prefetch(hash);
                }
            }
        }
    }

    /// The live value of the current key. With refresh-on-read TTL, refreshes its timestamp.
    #[inline]
    pub(crate) fn get(&self, ctx: &KeyContext<'_, K>) -> Option<&V> {
        if let Some(m) = &self.mmap {
            return m.get(ctx, self.clock(ctx.now_ms));
        }
        match &self.ttl {
            None => self.plain[ctx.local_group].get(ctx.hash, ctx.key),
            Some(ttl) => {
                let clock = self.clock(ctx.now_ms);
                let e = self.timed[ctx.local_group].get(ctx.hash, ctx.key)?;
                if clock.expired(ttl, e.ts.get()) {
                    return None;
                }
                if ttl.refresh_on_read {
                    e.ts.set(clock.now);
                }
                Some(&e.value)
            }
        }
    }

    /// The live value of the current key, for modification (a write: refreshes the
    /// timestamp). An expired entry is removed and reads as `None`.
    #[inline]
    pub(crate) fn get_mut(&mut self, ctx: &KeyContext<'_, K>) -> Option<&mut V> {
        if let Some(m) = self.mmap.as_deref_mut() {
            let clock = self.event.clock(self.time, ctx.now_ms);
            return m.get_mut(ctx, clock);
        }
        match &self.ttl {
            None => self.plain[ctx.local_group].get_mut(ctx.hash, ctx.key),
            Some(ttl) => {
                // Fields, not `self.clock`: the mmap branch above borrows `self.mmap`.
                let clock = self.event.clock(self.time, ctx.now_ms);
                let table = &mut self.timed[ctx.local_group];
                let expired = clock.expired(ttl, table.get(ctx.hash, ctx.key)?.ts.get());
                if expired {
                    table.remove(ctx.hash, ctx.key);
                    return None;
                }
                let e = table.get_mut(ctx.hash, ctx.key)?;
                e.ts.set(clock.now);
                Some(&mut e.value)
            }
        }
    }

    /// The value of the current key, inserted with `init` when absent or expired. One probe;
    /// the key is cloned only on insert.
    #[inline]
    pub(crate) fn get_or_insert_with(
        &mut self,
        ctx: &KeyContext<'_, K>,
        init: impl FnOnce() -> V,
    ) -> &mut V {
        if let Some(m) = self.mmap.as_deref_mut() {
            let clock = self.event.clock(self.time, ctx.now_ms);
            return m.get_or_insert_with(ctx, clock, init);
        }
        match &self.ttl {
            None => self.plain[ctx.local_group].get_or_insert_with(ctx.hash, ctx.key, init),
            Some(ttl) => {
                let (ttl, clock) = (*ttl, self.event.clock(self.time, ctx.now_ms));
                sweep(
                    &mut self.timed,
                    &mut self.cursors,
                    ctx.local_group,
                    &ttl,
                    clock,
                );
                // `init` runs at most once: either for a new entry or to reset an expired one.
                let mut init = Some(init);
                let e = self.timed[ctx.local_group].get_or_insert_with(ctx.hash, ctx.key, || {
                    Timed::new(init.take().map(|f| f()).expect("init runs once"), clock.now)
                });
                if let Some(f) = init {
                    if clock.expired(&ttl, e.ts.get()) {
                        e.value = f();
                    }
                }
                e.ts.set(clock.now);
                &mut e.value
            }
        }
    }

    /// Sets the value of the current key; returns the previous live value.
    #[inline]
    pub(crate) fn insert(&mut self, ctx: &KeyContext<'_, K>, value: V) -> Option<V> {
        if let Some(m) = self.mmap.as_deref_mut() {
            let clock = self.event.clock(self.time, ctx.now_ms);
            return m.insert(ctx, clock, value);
        }
        match &self.ttl {
            None => replace_or_insert(&mut self.plain[ctx.local_group], ctx, value),
            Some(ttl) => {
                let (ttl, clock) = (*ttl, self.clock(ctx.now_ms));
                sweep(
                    &mut self.timed,
                    &mut self.cursors,
                    ctx.local_group,
                    &ttl,
                    clock,
                );
                let new = Timed::new(value, clock.now);
                let old = replace_or_insert(&mut self.timed[ctx.local_group], ctx, new)?;
                (!clock.expired(&ttl, old.ts.get())).then_some(old.value)
            }
        }
    }

    /// Removes the current key; returns its live value.
    #[inline]
    pub(crate) fn remove(&mut self, ctx: &KeyContext<'_, K>) -> Option<V> {
        if let Some(m) = self.mmap.as_deref_mut() {
            let clock = self.event.clock(self.time, ctx.now_ms);
            return m.remove(ctx, clock);
        }
        match &self.ttl {
            None => self.plain[ctx.local_group].remove(ctx.hash, ctx.key),
            Some(ttl) => {
                let clock = self.clock(ctx.now_ms);
                let old = self.timed[ctx.local_group].remove(ctx.hash, ctx.key)?;
                (!clock.expired(ttl, old.ts.get())).then_some(old.value)
            }
        }
    }

    /// All stored entries of all owned groups; with `Some(now_ms)`, only those live then
    /// (event-time TTL: live at the current watermark, whatever `now_ms`).
    pub(crate) fn iter(&self, now_ms: Option<u64>) -> impl Iterator<Item = (&K, &V)> {
        let ttl = self.ttl;
        let clock = now_ms.map(|now| self.clock(now));
        let plain = self.plain.iter().flat_map(|m| m.iter());
        let timed = self
            .timed
            .iter()
            .flat_map(|m| m.iter())
            .filter_map(move |(k, e)| match (ttl, clock) {
                (Some(ttl), Some(clock)) if clock.expired(&ttl, e.ts.get()) => None,
                _ => Some((k, &e.value)),
            });
        let mmap = self
            .mmap
            .as_ref()
            .map(|m| m.iter(clock))
            .unwrap_or_default();
        plain.chain(timed).chain(mmap)
    }

    /// Calls `f` with every stored entry (with `Some(now_ms)`, only those live then); unlike
    /// [`KeyGroupMaps::iter`], the mmap backend decodes its stored entries one at a time.
    pub(crate) fn for_each(&self, now_ms: Option<u64>, mut f: impl FnMut(&K, &V)) {
        match &self.mmap {
            Some(m) => m.for_each(now_ms.map(|now| self.clock(now)), f),
            None => self.iter(now_ms).for_each(|(k, v)| f(k, v)),
        }
    }

    /// Removes every entry expired at `now_ms` (event-time TTL: at the current watermark);
    /// returns how many were removed. A full scan: for tests and tools, never the hot path.
    pub(crate) fn purge_expired(&mut self, now_ms: u64) -> usize {
        if let Some(m) = self.mmap.as_deref_mut() {
            let clock = self.event.clock(self.time, now_ms);
            return m.purge_expired(clock);
        }
        let Some(ttl) = self.ttl else { return 0 };
        let clock = self.clock(now_ms);
        let mut removed = 0;
        for map in &mut self.timed {
            let before = map.len();
            map.retain(|_, e| !clock.expired(&ttl, e.ts.get()));
            removed += before - map.len();
        }
        removed
    }

    /// Number of stored entries in all groups (expired ones not yet removed included).
    pub(crate) fn len(&self) -> usize {
        if let Some(m) = &self.mmap {
            return m.len();
        }
        self.plain.iter().map(KeyTable::len).sum::<usize>()
            + self.timed.iter().map(KeyTable::len).sum::<usize>()
    }

    /// Number of stored entries of key group `kg` (0 when not owned).
    pub(crate) fn entries_in_group(&self, kg: u16) -> usize {
        if let Some(m) = &self.mmap {
            return m.entries_in_group(kg);
        }
        match (self.local(kg), self.ttl) {
            (None, _) => 0,
            (Some(i), None) => self.plain[i].len(),
            (Some(i), Some(_)) => self.timed[i].len(),
        }
    }
}

/// Frees the expired entries among the next [`SWEEP_SLOTS`] slots of local group `g`'s
/// table (before a write: the bounded incremental cleanup of [`super::expiry`]).
#[inline]
fn sweep<K: Eq + Clone, V>(
    timed: &mut [KeyTable<K, Timed<V>>],
    cursors: &mut [usize],
    g: usize,
    ttl: &Ttl,
    clock: Clock,
) {
    let (Some(table), Some(cursor)) = (timed.get_mut(g), cursors.get_mut(g)) else {
        return;
    };
    table.sweep(cursor, SWEEP_SLOTS, |e| clock.expired(ttl, e.ts.get()));
}

/// Sets the current key's entry in `table` to `value`; returns the previous one. One probe;
/// the key is cloned only on insert.
#[inline]
fn replace_or_insert<K: Eq + Clone, V>(
    table: &mut KeyTable<K, V>,
    ctx: &KeyContext<'_, K>,
    value: V,
) -> Option<V> {
    let mut new = Some(value);
    let slot = table.get_or_insert_with(ctx.hash, ctx.key, || {
        new.take().expect("the value is moved in once")
    });
    new.map(|v| std::mem::replace(slot, v))
}

impl<K, V> KeyGroupMaps<K, V>
where
    K: Eq + Clone + StateCodec + StableKey,
    V: StateCodec,
{
    /// Appends the section of key group `kg` (live entries at `now_ms`) to `out`; returns
    /// the number of entries written. Writes nothing for an empty or unowned group.
    pub(crate) fn snapshot_group(&self, kg: u16, now_ms: u64, out: &mut Vec<u8>) -> usize {
        if let Some(m) = &self.mmap {
            return m.snapshot_group(kg, self.clock(now_ms), out);
        }
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
                for (k, v) in self.plain[i].iter() {
                    k.encode(out);
                    v.encode(out);
                }
                n = self.plain[i].len();
            }
            Some(ttl) => {
                let clock = self.clock(now_ms);
                for (k, e) in self.timed[i].iter() {
                    let ts = e.ts.get();
                    if clock.expired(ttl, ts) {
                        continue;
                    }
                    // Entries written before the first watermark take its stamp.
                    let ts = clock.stamp(ts);
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
        if let Some(m) = self.mmap.as_deref_mut() {
            return m.restore_group(kg, bytes);
        }
        let i = self
            .local(kg)
            .ok_or(CodecError::Invalid("key group outside this worker's range"))?;
        match self.decode_section(bytes)? {
            Staged::Empty => {}
            Staged::Plain(staged) => {
                let table = &mut self.plain[i];
                table.reserve(staged.len());
                for (k, v) in staged {
                    table.insert(k.stable_hash(), k, v);
                }
            }
            Staged::Timed(staged) => {
                let table = &mut self.timed[i];
                table.reserve(staged.len());
                for (k, e) in staged {
                    table.insert(k.stable_hash(), k, e);
                }
            }
        }
        Ok(())
    }

    /// See [`super::KeyedStateStore::checkpoint_files`].
    pub(crate) fn checkpoint_files(
        &mut self,
        dest: &std::path::Path,
    ) -> Result<Option<Vec<super::RunFile>>, super::RunError> {
        match self.mmap.as_deref_mut() {
            Some(m) => m.checkpoint_files(dest).map(Some),
            None => Ok(None),
        }
    }

    /// mmap backend: waits for the background writes and merges (tests).
    #[cfg(test)]
    pub(crate) fn settle(&mut self) {
        if let Some(m) = self.mmap.as_deref_mut() {
            m.settle();
        }
    }

    /// See [`super::KeyedStateStore::start_checkpoint_files`].
    pub(crate) fn start_checkpoint_files(
        &mut self,
        dest: &std::path::Path,
    ) -> Result<Option<(Vec<super::RunFile>, super::RunsDurable)>, super::RunError> {
        match self.mmap.as_deref_mut() {
            Some(m) => m.start_checkpoint(dest).map(Some),
            None => Ok(None),
        }
    }

    /// See [`super::KeyedStateStore::restore_files`].
    pub(crate) fn restore_files(
        &mut self,
        src: &std::path::Path,
        names: &[super::RunSource],
    ) -> Result<bool, super::RunError> {
        match self.mmap.as_deref_mut() {
            Some(m) => m.restore_files(src, names).map(|()| true),
            None => self.restore_files_to_heap(src, names),
        }
    }

    /// The heap backend restoring run files (a checkpoint of the mmap backend): maps them in a
    /// temporary mmap state, then decodes every owned group's entries into the tables.
    fn restore_files_to_heap(
        &mut self,
        src: &std::path::Path,
        names: &[super::RunSource],
    ) -> Result<bool, super::RunError> {
        let io = |source| super::RunError::Io {
            path: src.to_path_buf(),
            source,
        };
        let mut tmp = MmapMaps::<K, V>::new(
            super::mmap::Codec::of(),
            self.range.clone(),
            self.ttl,
            None,
            1 << 16,
        )
        .map_err(io)?;
        tmp.restore_files_checked(src, names)?;
        // A clock at which nothing expires: every stored entry is kept, stamps unchanged.
        let all = Clock {
            time: TtlTime::Event,
            now: 0,
            first: 0,
        };
        for kg in self.range.clone() {
            let mut bytes = Vec::new();
            tmp.snapshot_group(kg, all, &mut bytes);
            self.restore_group(kg, &bytes)
                .map_err(|_| super::RunError::Damaged {
                    path: src.to_path_buf(),
                    what: "entries that do not decode",
                })?;
        }
        Ok(true)
    }

    /// Selects the backend (drops all content; the mmap storage is built when the key groups
    /// are set).
    pub(crate) fn set_backend(&mut self, backend: &super::StateBackend) {
        self.mmap_cfg = MmapConfig::for_backend(backend);
        self.backend_chosen = true;
        self.set_range(self.range.clone());
    }

    /// Whether [`KeyGroupMaps::set_backend`] was called.
    #[cfg(test)]
    pub(crate) fn backend_chosen(&self) -> bool {
        self.backend_chosen
    }

    /// Decodes a section as [`KeyGroupMaps::restore_group`] would, keeping nothing: the
    /// check of a checkpoint before any worker restores it.
    ///
    /// # Errors
    /// As [`KeyGroupMaps::restore_group`], but for the key group's ownership.
    pub(crate) fn check_section(&self, bytes: &[u8]) -> Result<(), CodecError> {
        self.decode_section(bytes).map(drop)
    }

    /// Decodes a whole section into its entries.
    fn decode_section(&self, bytes: &[u8]) -> Result<Staged<K, V>, CodecError> {
        let Some((&tag, mut input)) = bytes.split_first() else {
            return Ok(Staged::Empty);
        };
        let n = u32::decode(&mut input)? as usize;
        // Do not trust n for the allocation: every entry takes at least one byte.
        let cap = n.min(input.len());
        let staged = match (tag, self.ttl.is_some()) {
            (TAG_PLAIN, false) => {
                let mut staged = Vec::with_capacity(cap);
                for _ in 0..n {
                    staged.push((K::decode(&mut input)?, V::decode(&mut input)?));
                }
                Staged::Plain(staged)
            }
            (TAG_TIMED, true) => {
                let mut staged = Vec::with_capacity(cap);
                for _ in 0..n {
                    let k = K::decode(&mut input)?;
                    let ts = u64::decode(&mut input)?;
                    staged.push((k, Timed::new(V::decode(&mut input)?, ts)));
                }
                Staged::Timed(staged)
            }
            (TAG_PLAIN, true) => return Err(CodecError::Invalid("section has no TTL timestamps")),
            (TAG_TIMED, false) => return Err(CodecError::Invalid("section has TTL timestamps")),
            _ => return Err(CodecError::Invalid("section tag")),
        };
        check_consumed(input)?;
        Ok(staged)
    }
}

/// The decoded entries of a section.
enum Staged<K, V> {
    /// An empty section.
    Empty,
    /// Entries without timestamps.
    Plain(Vec<(K, V)>),
    /// Entries with timestamps.
    Timed(Vec<(K, Timed<V>)>),
}

/// Checks that a section has no bytes after its last entry.
fn check_consumed(rest: &[u8]) -> Result<(), CodecError> {
    if rest.is_empty() {
        Ok(())
    } else {
        Err(CodecError::Invalid("trailing bytes after the last entry"))
    }
}

/// The [`KeyedStateStore`](super::KeyedStateStore) methods of a state kind whose storage is a
/// `maps: KeyGroupMaps` field and whose name is a `name` field (every kind here).
macro_rules! keyed_state_store_body {
    () => {
        fn name(&self) -> &str {
            &self.name
        }

        fn set_key_groups(&mut self, range: std::ops::Range<u16>) {
            #[cfg(test)]
            if !self.maps.backend_chosen() {
                if let Some(b) = $crate::state::backend::test_backend() {
                    self.maps.set_backend(&b);
                }
            }
            self.maps.set_range(range);
        }

        fn set_backend(&mut self, backend: &$crate::state::StateBackend) {
            self.maps.set_backend(backend);
        }

        fn checkpoint_files(
            &mut self,
            dest: &std::path::Path,
        ) -> Result<Option<Vec<$crate::state::RunFile>>, $crate::state::RunError> {
            self.maps.checkpoint_files(dest)
        }

        fn start_checkpoint_files(
            &mut self,
            dest: &std::path::Path,
        ) -> Result<
            Option<(Vec<$crate::state::RunFile>, $crate::state::RunsDurable)>,
            $crate::state::RunError,
        > {
            self.maps.start_checkpoint_files(dest)
        }

        fn restore_files(
            &mut self,
            src: &std::path::Path,
            names: &[$crate::state::RunSource],
        ) -> Result<bool, $crate::state::RunError> {
            self.maps.restore_files(src, names)
        }

        fn snapshot_group(&self, kg: u16, now_ms: u64, out: &mut Vec<u8>) -> usize {
            self.maps.snapshot_group(kg, now_ms, out)
        }

        fn restore_group(
            &mut self,
            kg: u16,
            bytes: &[u8],
        ) -> Result<(), $crate::state::CodecError> {
            self.maps.restore_group(kg, bytes)
        }

        fn check_section(&self, bytes: &[u8]) -> Result<(), $crate::state::CodecError> {
            self.maps.check_section(bytes)
        }

        fn entries_in_group(&self, kg: u16) -> usize {
            self.maps.entries_in_group(kg)
        }

        fn advance_watermark(&mut self, watermark: i64) {
            self.maps.advance_watermark(watermark);
        }
    };
}
pub(crate) use keyed_state_store_body;
