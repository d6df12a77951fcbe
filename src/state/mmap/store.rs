//! [`MmapMaps`]: the per key group entries of one state object, in runs plus a cache.

use super::cache::{Cache, EntryRef, Val};
use super::run::{Run, RunEntry};
use super::writer_thread::{Done, Writer};
use crate::state::expiry::Clock;
use crate::state::table::KeyTable;
use crate::state::{CodecError, KeyContext, StableKey, StateCodec, Ttl};
use std::cell::Cell;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// The encoding functions of `K` and `V`, captured where their bounds are known so that the
/// unbounded accessors of the state kinds can read and write runs.
pub(crate) struct Codec<K, V> {
    pub(super) enc_k: fn(&K, &mut Vec<u8>),
    pub(super) dec_k: fn(&mut &[u8]) -> Result<K, CodecError>,
    pub(super) enc_v: fn(&V, &mut Vec<u8>),
    pub(super) dec_v: fn(&mut &[u8]) -> Result<V, CodecError>,
    pub(super) hash_k: fn(&K) -> u64,
    /// Whether two entries' bytes start with equal keys (for merges off the worker thread).
    pub(super) key_eq: fn(&[u8], &[u8]) -> bool,
    /// The length of the key that starts an entry's bytes.
    pub(super) key_len: fn(&[u8]) -> Option<usize>,
}

impl<K, V> Clone for Codec<K, V> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<K, V> Copy for Codec<K, V> {}

impl<K: StateCodec + StableKey + Eq, V: StateCodec> Codec<K, V> {
    /// The codec of `K` and `V`.
    pub(crate) fn of() -> Self {
        Codec {
            enc_k: K::encode,
            dec_k: K::decode,
            enc_v: V::encode,
            dec_v: V::decode,
            hash_k: K::stable_hash,
            key_eq: super::merge_job::key_eq::<K>,
            key_len: super::merge_job::key_len::<K>,
        }
    }
}

/// A stored entry found by [`MmapMaps::visit`].
pub(super) enum Item<'a, K, V> {
    /// From the cache.
    Cached(EntryRef<'a, K, V>),
    /// From a run: the live entry's bytes (`key, [ts], value`).
    Stored(&'a [u8]),
}

/// Working directory of one state object: created with a unique name, removed on drop with
/// the run files still in it (only files this object wrote are ever deleted).
pub(super) struct WorkDir(pub(super) PathBuf);

impl WorkDir {
    fn create(base: Option<&Path>) -> std::io::Result<Self> {
        static SEQ: AtomicU64 = AtomicU64::new(0);
        let base = base.map_or_else(std::env::temp_dir, Path::to_path_buf);
        std::fs::create_dir_all(&base)?;
        // Once per process and base: directories of killed runs (see `stale`).
        static CLEANED: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());
        if let Ok(mut done) = CLEANED.lock() {
            if !done.contains(&base) {
                let n = super::stale::remove_stale(&base);
                if n > 0 {
                    tracing::info!(dir = %base.display(), removed = n, "removed working directories of killed runs");
                }
                done.push(base.clone());
            }
        }
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let name = format!(
            "weir-state-{}-{nanos:08x}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        );
        let dir = base.join(name);
        std::fs::create_dir(&dir)?; // fails rather than reuse an existing directory
        Ok(WorkDir(dir))
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        // Runs were removed by `MmapMaps::drop`; a non-empty directory is left alone.
        let _ = std::fs::remove_dir(&self.0);
    }
}

/// The entries of one state object's owned key groups, in runs plus a cache; see the
/// module docs of [`crate::state::mmap`]. Method semantics are those of the heap
/// `KeyGroupMaps` methods of the same names.
pub(crate) struct MmapMaps<K, V> {
    pub(super) codec: Codec<K, V>,
    pub(super) range: Range<u16>,
    pub(super) ttl: Option<Ttl>,
    pub(super) cache: Cache<K, V>,
    /// Oldest first.
    pub(super) runs: Vec<Run>,
    pub(super) next_run: u64,
    pub(super) cache_limit: usize,
    /// The newest TTL clock an access passed: flushes and merges drop the entries expired at
    /// it, and counts leave them out (they cost disk, not memory, until a merge drops them).
    pub(super) last_clock: Cell<Option<Clock>>,
    /// Writes flushed runs and merges runs in the background.
    pub(super) writer: Writer,
    /// Flushed runs whose file could not be written (still in memory; retried at the next
    /// checkpoint).
    pub(super) unwritten: Vec<PathBuf>,
    /// Declared last: dropped after the runs were removed.
    pub(super) dir: WorkDir,
}

impl<K, V> Drop for MmapMaps<K, V> {
    fn drop(&mut self) {
        // First the threads (they may still be writing into the directory), then the files.
        for done in self.writer.shutdown() {
            if let Done::Merged { out, .. } = done {
                let _ = std::fs::remove_file(out);
            }
        }
        for run in self.runs.drain(..) {
            super::files::remove_run(run);
        }
    }
}

impl<K: Eq + Clone, V> MmapMaps<K, V> {
    /// Empty state for `range`, with working files in a new directory under `dir`.
    ///
    /// # Errors
    /// The working directory cannot be created.
    pub(crate) fn new(
        codec: Codec<K, V>,
        range: Range<u16>,
        ttl: Option<Ttl>,
        dir: Option<&Path>,
        cache_limit: usize,
    ) -> std::io::Result<Self> {
        Ok(MmapMaps {
            codec,
            cache: Cache::new(range.len(), codec.hash_k),
            range,
            ttl,
            runs: Vec::new(),
            next_run: 0,
            cache_limit: cache_limit.max(1),
            last_clock: Cell::new(None),
            writer: Writer::default(),
            unwritten: Vec::new(),
            dir: WorkDir::create(dir)?,
        })
    }

    /// Sizes the cache's tables for `per_group` keys per group (at most the cache's share),
    /// so that filling the cache does not rehash it.
    pub(crate) fn presize(&mut self, per_group: usize) {
        let share = self.cache_limit.div_ceil(self.range.len().max(1));
        self.cache.reserve(per_group.min(share));
    }

    /// The working directory.
    #[cfg(test)]
    pub(crate) fn dir(&self) -> &Path {
        &self.dir.0
    }

    /// Number of run files, once the background jobs are done.
    #[cfg(test)]
    pub(crate) fn runs(&mut self) -> usize {
        self.settle();
        self.runs.len()
    }

    pub(super) fn kg(&self, lg: usize) -> u16 {
        self.range.start + lg as u16
    }

    /// Remembers `clock` as the newest one seen (TTL only).
    #[inline]
    fn saw(&self, clock: Clock) {
        if self.ttl.is_some() {
            self.last_clock.set(Some(clock));
        }
    }

    /// Whether a stored entry stamped `ts` is expired at the newest clock seen.
    pub(super) fn stale(&self, ts: u64) -> bool {
        match (self.ttl, self.last_clock.get()) {
            (Some(ttl), Some(clock)) => clock.expired(&ttl, ts),
            _ => false,
        }
    }

    fn live(&self, ts: u64, now: Option<Clock>) -> bool {
        match (self.ttl, now) {
            (Some(ttl), Some(clock)) => !clock.expired(&ttl, ts),
            _ => true,
        }
    }

    /// Decodes the timestamp and value that follow the key in a run entry.
    pub(super) fn decode_rest(&self, tombstone: bool, b: &[u8]) -> Option<Val<V>> {
        decode_rest(&self.codec, self.ttl, tombstone, b)
    }

    /// The entry of the current key from the cache, else decoded from the newest run that
    /// has it (and then cached).
    fn load(&self, ctx: &KeyContext<'_, K>) -> Option<&Val<V>> {
        let (lg, hash) = (ctx.local_group, ctx.hash);
        if let Some(e) = self.cache.find(lg, hash, ctx.key) {
            return Some(e);
        }
        let e = stored(&self.runs, &self.codec, self.ttl, self.kg(lg), ctx)?;
        self.cache.insert_shared(lg, hash, ctx.key.clone(), e)
    }

    /// The cached entry of the current key, loaded from the runs or created (as a deletion)
    /// when not cached, marked dirty (the caller writes it). One cache probe.
    ///
    /// # Panics
    /// When `ctx.local_group` is out of range (a runtime bug, as for the heap backend).
    #[inline]
    fn entry_mut(&mut self, ctx: &KeyContext<'_, K>, clock: Clock) -> &mut Val<V> {
        self.saw(clock);
        self.maybe_flush();
        let kg = self.kg(ctx.local_group);
        let (runs, codec, ttl) = (&self.runs, &self.codec, self.ttl);
        self.cache
            .get_or_insert_dirty(ctx.local_group, ctx.hash, ctx.key, || {
                stored(runs, codec, ttl, kg, ctx).unwrap_or_else(|| Val::new(None, clock.now, true))
            })
    }

    /// Hints the CPU to load the cache slot of `hash`.
    #[inline]
    pub(crate) fn prefetch(&self, lg: usize, hash: u64) {
        self.cache.prefetch(lg, hash);
        if !self.runs.is_empty() {
            self.prefetch_runs(lg, hash); // out of line: no register saves without runs
        }
    }

    /// A key that misses the cache asks every run's filter: start those loads now too (they
    /// overlap with the records before this one instead of stalling it).
    #[inline(never)]
    fn prefetch_runs(&self, lg: usize, hash: u64) {
        let kg = self.range.start.wrapping_add(lg as u16); // a hint: no overflow check
        for run in &self.runs {
            run.prefetch(kg, hash);
        }
    }

    /// The live value of the current key (refreshes its timestamp with refresh-on-read).
    pub(crate) fn get(&self, ctx: &KeyContext<'_, K>, clock: Clock) -> Option<&V> {
        self.saw(clock);
        let e = self.load(ctx)?;
        let v = e.value.as_ref()?;
        if let Some(ttl) = &self.ttl {
            if clock.expired(ttl, e.ts.get()) {
                return None;
            }
            if ttl.refresh_on_read {
                e.ts.set(clock.now);
                self.cache.mark(ctx.local_group, ctx.hash, ctx.key, e);
            }
        }
        Some(v)
    }

    /// The live value of the current key, for modification (a write).
    pub(crate) fn get_mut(&mut self, ctx: &KeyContext<'_, K>, clock: Clock) -> Option<&mut V> {
        self.saw(clock);
        self.maybe_flush();
        self.load(ctx)?.value.as_ref()?;
        let ttl = self.ttl;
        let e = self
            .cache
            .find_mut_dirty(ctx.local_group, ctx.hash, ctx.key)?;
        if let Some(ttl) = &ttl {
            if clock.expired(ttl, e.ts.get()) {
                e.value = None;
                return None;
            }
        }
        e.ts.set(clock.now);
        e.value.as_mut()
    }

    /// The value of the current key, inserted with `init` when absent or expired.
    pub(crate) fn get_or_insert_with(
        &mut self,
        ctx: &KeyContext<'_, K>,
        clock: Clock,
        init: impl FnOnce() -> V,
    ) -> &mut V {
        let ttl = self.ttl;
        let e = self.entry_mut(ctx, clock);
        if let Some(ttl) = &ttl {
            if clock.expired(ttl, e.ts.get()) {
                e.value = None;
            }
        }
        e.ts.set(clock.now);
        e.value.get_or_insert_with(init)
    }

    /// Sets the value of the current key; returns the previous live value.
    pub(crate) fn insert(&mut self, ctx: &KeyContext<'_, K>, clock: Clock, value: V) -> Option<V> {
        let ttl = self.ttl;
        let e = self.entry_mut(ctx, clock);
        let old = e.value.replace(value);
        let old_ts = e.ts.replace(clock.now);
        match ttl {
            Some(ttl) if clock.expired(&ttl, old_ts) => None,
            _ => old,
        }
    }

    /// Removes the current key; returns its live value.
    pub(crate) fn remove(&mut self, ctx: &KeyContext<'_, K>, clock: Clock) -> Option<V> {
        self.saw(clock);
        self.maybe_flush();
        self.load(ctx)?.value.as_ref()?;
        let ttl = self.ttl;
        let e = self
            .cache
            .find_mut_dirty(ctx.local_group, ctx.hash, ctx.key)?;
        let old = e.value.take()?;
        match ttl {
            Some(ttl) if clock.expired(&ttl, e.ts.get()) => None,
            _ => Some(old),
        }
    }

    /// Calls `f` with every stored entry of local group `lg` (live at `now`, when given):
    /// cached entries shadow stored ones, newer runs older runs.
    pub(super) fn visit<'a>(
        &'a self,
        lg: usize,
        now: Option<Clock>,
        mut f: impl FnMut(K, u64, Item<'a, K, V>),
    ) {
        // Without runs nothing can be shadowed: no need to remember the cached keys.
        let track = !self.runs.is_empty();
        let mut seen: KeyTable<K, ()> = KeyTable::new();
        for e in self.cache.group(lg) {
            if track {
                seen.insert(e.hash, e.key.clone(), ());
            }
            if e.val.value.is_some() && self.live(e.val.ts.get(), now) {
                f(e.key.clone(), e.hash, Item::Cached(e));
            }
        }
        let kg = self.kg(lg);
        for run in self.runs.iter().rev() {
            for re in run.group_entries(kg) {
                self.visit_stored(&mut seen, re, now, &mut f);
            }
        }
    }

    fn visit_stored<'a>(
        &self,
        seen: &mut KeyTable<K, ()>,
        re: RunEntry<'a>,
        now: Option<Clock>,
        f: &mut impl FnMut(K, u64, Item<'a, K, V>),
    ) where
        K: 'a,
        V: 'a,
    {
        let mut b = re.bytes;
        let Ok(k) = (self.codec.dec_k)(&mut b) else {
            return;
        };
        if seen.get(re.hash, &k).is_some() {
            return;
        }
        seen.insert(re.hash, k.clone(), ());
        let ts = match self.ttl {
            Some(_) => u64::decode(&mut b).unwrap_or(0),
            None => 0,
        };
        if !re.tombstone && self.live(ts, now) {
            f(k, re.hash, Item::Stored(re.bytes));
        }
    }

    /// All stored entries (live at `now`, when given), decoded into the cache.
    pub(crate) fn iter(&self, now: Option<Clock>) -> Vec<(&K, &V)> {
        let mut out = Vec::new();
        for lg in 0..self.range.len() {
            let mut stored = Vec::new();
            self.visit(lg, None, |k, hash, item| {
                if let Item::Stored(b) = item {
                    stored.push((k, hash, b));
                }
            });
            for (k, hash, b) in stored {
                let mut rest = b;
                if (self.codec.dec_k)(&mut rest).is_ok() {
                    if let Some(e) = self.decode_rest(false, rest) {
                        self.cache.insert_shared(lg, hash, k, e);
                    }
                }
            }
            for e in self.cache.group(lg) {
                if let Some(v) = &e.val.value {
                    if self.live(e.val.ts.get(), now) {
                        out.push((e.key, v));
                    }
                }
            }
        }
        out
    }

    /// Calls `f` with every stored entry (live at `now`, when given), decoding stored ones
    /// one at a time (nothing is added to the cache).
    pub(crate) fn for_each(&self, now: Option<Clock>, mut f: impl FnMut(&K, &V)) {
        for lg in 0..self.range.len() {
            self.visit(lg, now, |k, _, item| match item {
                Item::Cached(e) => {
                    if let Some(v) = &e.val.value {
                        f(e.key, v);
                    }
                }
                Item::Stored(b) => {
                    let mut rest = b;
                    if (self.codec.dec_k)(&mut rest).is_ok() {
                        if let Some(Val { value: Some(v), .. }) = self.decode_rest(false, rest) {
                            f(&k, &v);
                        }
                    }
                }
            });
        }
    }

    /// Removes every entry expired at `now_ms`; returns how many.
    pub(crate) fn purge_expired(&mut self, clock: Clock) -> usize {
        let Some(ttl) = self.ttl else { return 0 };
        let mut removed = 0;
        for lg in 0..self.range.len() {
            let mut expired = Vec::new();
            self.visit(lg, None, |k, hash, item| {
                let ts = match item {
                    Item::Cached(e) => e.val.ts.get(),
                    Item::Stored(b) => stored_ts(b, self.codec.dec_k),
                };
                if clock.expired(&ttl, ts) {
                    expired.push((k, hash));
                }
            });
            removed += expired.len();
            for (key, hash) in expired {
                let ctx = KeyContext {
                    key: &key,
                    local_group: lg,
                    hash,
                    now_ms: clock.now,
                };
                self.entry_mut(&ctx, clock).value = None;
            }
        }
        removed
    }

    /// Stored entries of local group `lg`, but for those expired at the newest clock seen
    /// (they cost disk only, and the next flush or merge that reaches them drops them).
    fn count(&self, lg: usize) -> usize {
        let mut n = 0;
        self.visit(lg, self.last_clock.get(), |_, _, _| n += 1);
        n
    }

    /// Stored entries in all groups.
    pub(crate) fn len(&self) -> usize {
        (0..self.range.len()).map(|lg| self.count(lg)).sum()
    }

    /// Stored entries of key group `kg` (0 when not owned).
    pub(crate) fn entries_in_group(&self, kg: u16) -> usize {
        match self.range.contains(&kg) {
            true => self.count((kg - self.range.start) as usize),
            false => 0,
        }
    }

    /// Writes the dirty entries to a run and empties the cache when it is full. A failed
    /// write keeps everything in memory (correct, only bigger) and is logged.
    #[inline]
    pub(super) fn maybe_flush(&mut self) {
        if self.cache.len() >= self.cache_limit {
            self.flush_full();
        }
    }

    /// [`MmapMaps::maybe_flush`] when the cache is full.
    #[cold]
    #[inline(never)]
    fn flush_full(&mut self) {
        match self.flush() {
            Ok(()) => self.cache.clear(),
            Err(e) => tracing::error!("mmap state: {e}; keeping the entries in memory"),
        }
    }
}

/// The timestamp of a stored timed entry (`key, ts, value`); 0 when it does not decode.
fn stored_ts<K>(mut b: &[u8], dec_k: fn(&mut &[u8]) -> Result<K, CodecError>) -> u64 {
    match dec_k(&mut b) {
        Ok(_) => u64::decode(&mut b).unwrap_or(0),
        Err(_) => 0,
    }
}

/// Decodes the timestamp and value that follow the key in a run entry.
fn decode_rest<K, V>(
    codec: &Codec<K, V>,
    ttl: Option<Ttl>,
    tombstone: bool,
    mut b: &[u8],
) -> Option<Val<V>> {
    let ts = match ttl {
        Some(_) => u64::decode(&mut b).ok()?,
        None => 0,
    };
    let value = match tombstone {
        true => None,
        false => Some((codec.dec_v)(&mut b).ok()?),
    };
    Some(Val::new(value, ts, false))
}

/// The entry of the current key in the newest run that has it, decoded.
fn stored<K: Eq, V>(
    runs: &[Run],
    codec: &Codec<K, V>,
    ttl: Option<Ttl>,
    kg: u16,
    ctx: &KeyContext<'_, K>,
) -> Option<Val<V>> {
    for run in runs.iter().rev() {
        for re in run.lookup(kg, ctx.hash) {
            let mut b = re.bytes;
            match (codec.dec_k)(&mut b) {
                Ok(k) if &k == ctx.key => {
                    return decode_rest(codec, ttl, re.tombstone, b);
                }
                _ => {}
            }
        }
    }
    None
}
