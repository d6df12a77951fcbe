//! The mmap backend's in-memory part: decoded entries of the keys touched recently.
//!
//! Per owned key group, two tables:
//!
//! - the **main** table holds each entry's [`Val`] *inline* in its slot (next to the hash and
//!   the key, as the heap backend's tables do): one cache line per access, no pointer to
//!   chase. It changes only through `&mut self`, so references into it handed out through
//!   `&self` stay valid;
//! - the **side** table takes the entries decoded through `&self` ([`Cache::insert_shared`]:
//!   a read that loads a key from a run keeps it decoded while references to other entries
//!   are alive). Its entries are boxed, so they keep their address when the table grows;
//!   the next `&mut self` access to such a key moves it into the main table.
//!
//! Each group also keeps a **dirty list**: the keys whose entry turned dirty since the last
//! flush, each listed once (an entry is listed when its flag goes from clean to dirty, through
//! [`Cache::mark`] or the `*_dirty` accessors), so that a flush visits the dirtied entries only
//! ([`Cache::take_dirty`]), not every cached one.
//!
//! Soundness of the side table: an entry, once allocated, stays at its address and unchanged
//! until a `&mut self` method removes it; the table only moves pointers when it grows, and
//! the borrow checker ends every reference handed out before a `&mut self` call. References
//! into the side table's own slots never leave this module.

#![allow(unsafe_code)] // side entries referenced across inserts; see the module docs

use crate::state::table::KeyTable;
use std::cell::{Cell, RefCell, UnsafeCell};
use std::ptr::NonNull;

/// A decoded value: the value (`None`: deleted), its timestamp and whether it differs from
/// what the runs hold.
pub(crate) struct Val<V> {
    /// The value; `None` marks a deletion that the runs do not know yet.
    pub value: Option<V>,
    /// Processing time of the last write (or read, with refresh-on-read), for TTL.
    pub ts: Cell<u64>,
    /// Whether the entry must be written to the next run.
    pub dirty: Cell<bool>,
}

impl<V> Val<V> {
    /// A value stamped `ts`.
    pub(crate) fn new(value: Option<V>, ts: u64, dirty: bool) -> Self {
        Val {
            value,
            ts: Cell::new(ts),
            dirty: Cell::new(dirty),
        }
    }
}

/// A cached entry as iteration sees it.
pub(crate) struct EntryRef<'a, K, V> {
    /// The key.
    pub key: &'a K,
    /// The key's stable hash.
    pub hash: u64,
    /// The value and its bookkeeping.
    pub val: &'a Val<V>,
}

impl<K, V> Clone for EntryRef<'_, K, V> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<K, V> Copy for EntryRef<'_, K, V> {}

/// A side entry: the key (so that references to it stay valid), its hash and its value.
struct Side<K, V> {
    key: K,
    hash: u64,
    val: Val<V>,
}

/// An owned, heap-allocated side entry whose address does not change when the pointer moves.
struct Ptr<K, V>(NonNull<Side<K, V>>);

impl<K, V> Ptr<K, V> {
    fn new(e: Side<K, V>) -> Self {
        Ptr(NonNull::from(Box::leak(Box::new(e))))
    }

    fn into_inner(self) -> Side<K, V> {
        let p = self.0;
        std::mem::forget(self);
        // SAFETY: the pointer came from `Box::leak` in `Ptr::new`; `forget` above makes this
        // the only owner (Ptr is not Clone), and no reference to the entry outlives the `&mut`
        // access that removed it from its table.
        *unsafe { Box::from_raw(p.as_ptr()) }
    }
}

impl<K, V> Drop for Ptr<K, V> {
    fn drop(&mut self) {
        // SAFETY: the pointer came from `Box::leak` in `Ptr::new` and is dropped once (Ptr
        // is not Clone); no reference to the entry outlives it (see the module docs).
        unsafe { drop(Box::from_raw(self.0.as_ptr())) }
    }
}

// SAFETY: a Ptr owns its entry like a Box does; sending it sends the entry.
unsafe impl<K: Send, V: Send> Send for Ptr<K, V> {}

/// Per key group tables of decoded entries; see the module docs.
pub(crate) struct Cache<K, V> {
    main: Vec<KeyTable<K, Val<V>>>,
    side: UnsafeCell<Vec<KeyTable<K, Ptr<K, V>>>>,
    /// Entries in all main tables.
    main_len: usize,
    /// Entries in all side tables.
    side_len: Cell<usize>,
    /// The keys' stable hash (the main tables do not keep it whole).
    hash_k: fn(&K) -> u64,
    /// Per group, the keys whose entry turned dirty since the last [`Cache::take_dirty`]
    /// (see the module docs).
    dirty: RefCell<Vec<Vec<(u64, K)>>>,
}

impl<K: Eq + Clone, V> Cache<K, V> {
    /// Empty tables for `groups` key groups; `hash_k` is the keys' stable hash.
    pub(crate) fn new(groups: usize, hash_k: fn(&K) -> u64) -> Self {
        Cache {
            main: (0..groups).map(|_| KeyTable::new()).collect(),
            side: UnsafeCell::new((0..groups).map(|_| KeyTable::new()).collect()),
            main_len: 0,
            side_len: Cell::new(0),
            hash_k,
            dirty: RefCell::new((0..groups).map(|_| Vec::new()).collect()),
        }
    }

    fn sides(&self) -> &Vec<KeyTable<K, Ptr<K, V>>> {
        // SAFETY: the only mutation through `&self` is `insert_shared`, which does not run
        // while this borrow lives (no method of this type calls out to user code while
        // holding it, and the type is not Sync).
        unsafe { &*self.side.get() }
    }

    /// The entry of `key` in local group `lg`.
    #[inline]
    pub(crate) fn find(&self, lg: usize, hash: u64, key: &K) -> Option<&Val<V>> {
        if let Some(v) = self.main.get(lg)?.get(hash, key) {
            return Some(v);
        }
        if self.side_len.get() == 0 {
            return None;
        }
        let p = self.sides().get(lg)?.get(hash, key)?;
        // SAFETY: the entry lives until a `&mut self` method removes it (module docs).
        Some(&unsafe { p.0.as_ref() }.val)
    }

    /// Adds `val` for `key` (which must be absent) to local group `lg` through `&self`;
    /// `None` when `lg` is out of range.
    pub(crate) fn insert_shared(
        &self,
        lg: usize,
        hash: u64,
        key: K,
        val: Val<V>,
    ) -> Option<&Val<V>> {
        // SAFETY: no reference into the side tables' slots is alive (they never leave this
        // module's methods, which do not overlap); references into side entries stay valid
        // as the table moves only pointers. The main tables are not touched.
        let tables = unsafe { &mut *self.side.get() };
        let table = tables.get_mut(lg)?;
        let p = Ptr::new(Side {
            key: key.clone(),
            hash,
            val,
        });
        let r = p.0;
        if table.insert(hash, key, p).is_none() {
            self.side_len.set(self.side_len.get() + 1);
        }
        // SAFETY: the entry is now owned by the table and lives until a `&mut self` method
        // removes it (the caller checked the key was absent, so nothing was replaced).
        Some(&unsafe { r.as_ref() }.val)
    }

    /// Moves the side entry of `key` (if any) into the main table of `lg`.
    #[inline]
    fn promote(&mut self, lg: usize, hash: u64, key: &K) {
        if self.side_len.get() != 0 {
            self.promote_side(lg, hash, key);
        }
    }

    /// [`Cache::promote`] when the side tables are not empty.
    #[cold]
    #[inline(never)]
    fn promote_side(&mut self, lg: usize, hash: u64, key: &K) {
        let Some(side) = self.side.get_mut().get_mut(lg) else {
            return;
        };
        if let Some(p) = side.remove(hash, key) {
            *self.side_len.get_mut() -= 1;
            let e = p.into_inner();
            if self.main[lg].insert(hash, e.key, e.val).is_none() {
                self.main_len += 1;
            }
        }
    }

    /// Sets the entry of `key` in local group `lg` (replacing any).
    /// A dirty `val` is listed (once: not again when the entry it replaces was dirty too).
    pub(crate) fn put(&mut self, lg: usize, hash: u64, key: K, val: Val<V>) {
        self.promote(lg, hash, &key);
        let Some(t) = self.main.get_mut(lg) else {
            return;
        };
        let listed = t.get(hash, &key).is_some_and(|v| v.dirty.get());
        if val.dirty.get() && !listed {
            self.dirty.get_mut()[lg].push((hash, key.clone()));
        }
        if t.insert(hash, key, val).is_none() {
            self.main_len += 1;
        }
    }

    /// Marks `val` (the entry of `key` in local group `lg`, found in this cache) dirty,
    /// listing it when it was clean.
    #[inline]
    pub(crate) fn mark(&self, lg: usize, hash: u64, key: &K, val: &Val<V>) {
        if !val.dirty.get() {
            val.dirty.set(true);
            if let Some(list) = self.dirty.borrow_mut().get_mut(lg) {
                list.push((hash, key.clone()));
            }
        }
    }

    /// The entry of `key` for modification, marked dirty (listed when it was clean).
    #[inline]
    pub(crate) fn find_mut_dirty(&mut self, lg: usize, hash: u64, key: &K) -> Option<&mut Val<V>> {
        self.promote(lg, hash, key);
        let v = self.main.get_mut(lg)?.get_mut(hash, key)?;
        if !v.dirty.get() {
            v.dirty.set(true);
            self.dirty.get_mut()[lg].push((hash, key.clone()));
        }
        Some(v)
    }

    /// Hints the CPU to load the main slot of `hash` in local group `lg`.
    #[inline]
    pub(crate) fn prefetch(&self, lg: usize, hash: u64) {
        if let Some(t) = self.main.get(lg) {
            t.prefetch(hash);
        }
    }

    /// Entries in all groups.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.main_len + self.side_len.get()
    }

    /// The entry of `key` in local group `lg`, inserted as `make()` when absent (one probe,
    /// plus one of the side table when it is not empty), marked dirty: listed when it was
    /// clean or new (`make`'s dirty flag is ignored).
    ///
    /// # Panics
    /// When `lg` is out of range (a runtime bug, as for the heap backend's tables).
    #[inline]
    pub(crate) fn get_or_insert_dirty(
        &mut self,
        lg: usize,
        hash: u64,
        key: &K,
        make: impl FnOnce() -> Val<V>,
    ) -> &mut Val<V> {
        self.promote(lg, hash, key);
        let len = &mut self.main_len;
        let mut new = false;
        let v = self.main[lg].get_or_insert_with(hash, key, || {
            *len += 1;
            new = true;
            make()
        });
        if new || !v.dirty.get() {
            v.dirty.set(true);
            self.dirty.get_mut()[lg].push((hash, key.clone()));
        }
        v
    }

    /// The dirty entries of local group `lg`, each once, marked clean and taken off the dirty
    /// list: O(dirty) probes, or one scan of the group when most of it is dirty.
    pub(crate) fn take_dirty(&self, lg: usize) -> Vec<EntryRef<'_, K, V>> {
        let listed = match self.dirty.borrow_mut().get_mut(lg) {
            Some(list) => std::mem::take(list),
            None => return Vec::new(),
        };
        let group_len = self.main.get(lg).map_or(0, KeyTable::len)
            + self.sides().get(lg).map_or(0, KeyTable::len);
        let out: Vec<EntryRef<'_, K, V>> = if listed.len() * 2 > group_len {
            // Most of the group is dirty: one sequential scan beats a probe per key.
            self.group_where(lg, |v| v.dirty.get())
        } else {
            listed
                .iter()
                .filter_map(|(hash, key)| self.entry_ref(lg, *hash, key))
                .filter(|e| e.val.dirty.get())
                .collect()
        };
        // Listed twice (a replaced entry) or not: each entry is returned once.
        let mut once = Vec::with_capacity(out.len());
        for e in out {
            if e.val.dirty.replace(false) {
                once.push(e);
            }
        }
        once
    }

    /// The entry of `key` as iteration sees it.
    fn entry_ref(&self, lg: usize, hash: u64, key: &K) -> Option<EntryRef<'_, K, V>> {
        if let Some((key, val)) = self.main.get(lg)?.get_key_value(hash, key) {
            return Some(EntryRef { key, hash, val });
        }
        let p = self.sides().get(lg)?.get(hash, key)?;
        // SAFETY: as in `find`.
        let e = unsafe { p.0.as_ref() };
        Some(EntryRef {
            key: &e.key,
            hash: e.hash,
            val: &e.val,
        })
    }

    /// Entries listed dirty in all groups (a re-dirtied entry counts once).
    #[cfg(test)]
    pub(crate) fn dirty_listed(&self) -> usize {
        self.dirty.borrow().iter().map(Vec::len).sum()
    }

    /// The entries of local group `lg`.
    pub(crate) fn group(&self, lg: usize) -> Vec<EntryRef<'_, K, V>> {
        self.group_where(lg, |_| true)
    }

    /// The entries of local group `lg` whose value `keep` accepts (the hashes of the main
    /// table's entries are computed for those only).
    pub(crate) fn group_where(
        &self,
        lg: usize,
        keep: impl Fn(&Val<V>) -> bool,
    ) -> Vec<EntryRef<'_, K, V>> {
        let mut out = Vec::new();
        if let Some(t) = self.main.get(lg) {
            out.extend(
                t.iter()
                    .filter(|(_, v)| keep(v))
                    .map(|(key, val)| EntryRef {
                        key,
                        hash: (self.hash_k)(key),
                        val,
                    }),
            );
        }
        if let Some(t) = self.sides().get(lg) {
            out.extend(t.iter().filter_map(|(_, p)| {
                // SAFETY: as in `find`.
                let e = unsafe { p.0.as_ref() };
                keep(&e.val).then_some(EntryRef {
                    key: &e.key,
                    hash: e.hash,
                    val: &e.val,
                })
            }));
        }
        out
    }

    /// Makes room for `n` entries in every group's main table.
    pub(crate) fn reserve(&mut self, n: usize) {
        for t in &mut self.main {
            t.reserve(n);
        }
    }

    /// Removes every entry.
    pub(crate) fn clear(&mut self) {
        for t in &mut self.main {
            t.clear();
        }
        for t in self.side.get_mut() {
            t.clear();
        }
        for list in self.dirty.get_mut() {
            list.clear();
        }
        self.main_len = 0;
        self.side_len.set(0);
    }
}
