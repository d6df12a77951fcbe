//! The mmap backend's in-memory part: decoded entries of the keys touched recently.
//!
//! One [`KeyTable`] per owned key group maps a key to a heap-allocated [`Entry`]. Reads
//! through `&self` ([`Cache::find`], [`Cache::insert_shared`]) may *add* entries (a key read
//! from a run is decoded once and kept), and hand out references into the entries. This is
//! sound because an entry, once allocated, stays at its address and unchanged until a `&mut
//! self` method removes it: the table only moves the entries' pointers when it grows, and the
//! borrow checker ends every reference handed out before a `&mut self` call. References
//! into the table's own slots never leave this module.

#![allow(unsafe_code)] // entries referenced across inserts; see the module docs

use crate::state::table::KeyTable;
use std::cell::{Cell, UnsafeCell};
use std::ptr::NonNull;

/// A decoded entry: its key, its value (`None`: deleted), its timestamp and whether it
/// differs from what the runs hold.
pub(crate) struct Entry<K, V> {
    /// The key (kept here, not only in the table, so that references to it stay valid).
    pub key: K,
    /// The key's stable hash.
    pub hash: u64,
    /// The value; `None` marks a deletion that the runs do not know yet.
    pub value: Option<V>,
    /// Processing time of the last write (or read, with refresh-on-read), for TTL.
    pub ts: Cell<u64>,
    /// Whether the entry must be written to the next run.
    pub dirty: Cell<bool>,
}

/// An owned, heap-allocated entry whose address does not change when the pointer moves.
struct Ptr<K, V>(NonNull<Entry<K, V>>);

impl<K, V> Ptr<K, V> {
    fn new(e: Entry<K, V>) -> Self {
        Ptr(NonNull::from(Box::leak(Box::new(e))))
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
    groups: UnsafeCell<Vec<KeyTable<K, Ptr<K, V>>>>,
    /// Entries in all groups.
    len: Cell<usize>,
}

impl<K: Eq + Clone, V> Cache<K, V> {
    /// Empty tables for `groups` key groups.
    pub(crate) fn new(groups: usize) -> Self {
        Cache {
            groups: UnsafeCell::new((0..groups).map(|_| KeyTable::new()).collect()),
            len: Cell::new(0),
        }
    }

    fn tables(&self) -> &Vec<KeyTable<K, Ptr<K, V>>> {
        // SAFETY: the only mutation through `&self` is `insert_shared`, which does not run
        // while this borrow lives (no method of this type calls out to user code while
        // holding it, and the type is not Sync).
        unsafe { &*self.groups.get() }
    }

    /// The entry of `key` in local group `lg`.
    #[inline]
    pub(crate) fn find(&self, lg: usize, hash: u64, key: &K) -> Option<&Entry<K, V>> {
        let p = self.tables().get(lg)?.get(hash, key)?;
        // SAFETY: the entry lives until a `&mut self` method removes it (module docs).
        Some(unsafe { p.0.as_ref() })
    }

    /// Adds `entry` (whose key must be absent) to local group `lg` through `&self`;
    /// `None` when `lg` is out of range.
    pub(crate) fn insert_shared(
        &self,
        lg: usize,
        hash: u64,
        entry: Entry<K, V>,
    ) -> Option<&Entry<K, V>> {
        // SAFETY: no reference into the tables' slots is alive (they never leave this
        // module's methods, which do not overlap); references into entries stay valid as the
        // table moves only pointers.
        let tables = unsafe { &mut *self.groups.get() };
        let table = tables.get_mut(lg)?;
        let key = entry.key.clone();
        let p = Ptr::new(entry);
        let r = p.0;
        if table.insert(hash, key, p).is_none() {
            self.len.set(self.len.get() + 1);
        }
        // SAFETY: the entry is now owned by the table and lives until a `&mut self` method
        // removes it (the caller checked the key was absent, so nothing was replaced).
        Some(unsafe { r.as_ref() })
    }

    /// The entry of `key` for modification.
    #[inline]
    pub(crate) fn find_mut(&mut self, lg: usize, hash: u64, key: &K) -> Option<&mut Entry<K, V>> {
        let p = self.groups.get_mut().get_mut(lg)?.get_mut(hash, key)?;
        // SAFETY: `&mut self` excludes every other reference to the entry.
        Some(unsafe { p.0.as_mut() })
    }

    /// Hints the CPU to load the slot of `hash` in local group `lg`.
    #[inline]
    pub(crate) fn prefetch(&self, lg: usize, hash: u64) {
        if let Some(t) = self.tables().get(lg) {
            t.prefetch(hash);
        }
    }

    /// Entries in all groups.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.len.get()
    }

    /// The entry of `key` in local group `lg`, inserted as `make()` when absent: one probe.
    ///
    /// # Panics
    /// When `lg` is out of range (a runtime bug, as for the heap backend's tables).
    #[inline]
    pub(crate) fn get_or_insert(
        &mut self,
        lg: usize,
        hash: u64,
        key: &K,
        make: impl FnOnce() -> Entry<K, V>,
    ) -> &mut Entry<K, V> {
        let len = self.len.get_mut();
        let p = self.groups.get_mut()[lg].get_or_insert_with(hash, key, || {
            *len += 1;
            Ptr::new(make())
        });
        // SAFETY: `&mut self` excludes every other reference to the entry.
        unsafe { p.0.as_mut() }
    }

    /// The entries of local group `lg`.
    pub(crate) fn group(&self, lg: usize) -> Vec<&Entry<K, V>> {
        self.tables().get(lg).map_or_else(Vec::new, |t| {
            // SAFETY: as in `find`.
            t.iter().map(|(_, p)| unsafe { p.0.as_ref() }).collect()
        })
    }

    /// Makes room for `n` entries in every group's table.
    pub(crate) fn reserve(&mut self, n: usize) {
        for t in self.groups.get_mut() {
            t.reserve(n);
        }
    }

    /// Removes every entry.
    pub(crate) fn clear(&mut self) {
        for t in self.groups.get_mut() {
            t.clear();
        }
        self.len.set(0);
    }

    /// Marks every entry clean.
    pub(crate) fn mark_clean(&mut self) {
        for t in self.groups.get_mut().iter() {
            for (_, p) in t.iter() {
                // SAFETY: as in `find`.
                unsafe { p.0.as_ref() }.dirty.set(false);
            }
        }
    }
}
