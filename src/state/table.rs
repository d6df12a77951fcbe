//! [`KeyTable`]: an open-addressing hash table keyed by a caller-supplied 64-bit hash.
//!
//! The keyed state stores one table per key group and looks keys up with the key's stable
//! hash, which the runtime computed once at the source ([`super::KeyContext::hash`]). Unlike
//! hashbrown, the table can tell where a key's probe starts without touching memory, so the
//! runtime can [`KeyTable::prefetch`] the state of a record a few records before processing it
//! and overlap the cache misses of consecutive records.
//!
//! Layout: a power-of-two `Vec` of slots, each holding the hash next to the key and value (one
//! cache line serves the whole probe of a typical lookup). Linear probing from the *home slot*
//! `(hash * φ⁻¹·2⁶⁴) >> (64 - log2(capacity))` (Fibonacci hashing: the multiplication moves
//! every bit of the hash into the high bits, which matters because the low 7 bits of a stable
//! hash are the key group and therefore equal for every key of one table). Deletion shifts the
//! following entries of the cluster back (no tombstones), so a lookup stops at the first empty
//! slot.

#![allow(unsafe_code)] // only for `_mm_prefetch`, see `KeyTable::prefetch`

/// Set in the stored hash of every occupied slot (an empty slot's hash is 0).
const OCCUPIED: u64 = 1 << 63;

/// 2⁶⁴ / φ, the multiplier of Fibonacci hashing.
const FIB: u64 = 0x9E37_79B9_7F4A_7C15;

/// Smallest non-empty capacity.
const MIN_CAPACITY: usize = 8;

/// Maximum load `MAX_LOAD_NUM / MAX_LOAD_DEN` before the table doubles (so tables run between
/// 5/16 and 5/8 full). Linear probing degrades quickly with the load (a successful probe
/// averages `(1 + 1/(1-load)) / 2` slots) and [`KeyTable::prefetch`] covers two slots: in
/// `benches/state.rs` (`key_table_load`, prefetched hit updates on 2^21 slots) a table 37%
/// full did 71 M updates/s, 50%: 59 M, 62%: 46 M, 74%: 31 M (raw `AHashMap`: 41 M). 5/8
/// keeps the worst case above `AHashMap` while using less memory than 1/2.
const MAX_LOAD_NUM: usize = 5;
/// See [`MAX_LOAD_NUM`].
const MAX_LOAD_DEN: usize = 8;

/// One slot: empty when `hash == 0` (then `kv` is `None`); occupied slots store the key's
/// hash with the [`OCCUPIED`] bit set, so a probe decides on the first word alone.
#[derive(Clone)]
struct Slot<K, V> {
    hash: u64,
    kv: Option<(K, V)>,
}

impl<K, V> Slot<K, V> {
    const EMPTY: Self = Slot { hash: 0, kv: None };
}

/// An open-addressing hash table (linear probing, backward-shift deletion) whose keys are
/// looked up with a hash the caller supplies; see the module docs.
///
/// The caller must pass the same hash for equal keys every time (the state uses the key's
/// [`super::StableKey::stable_hash`]); a key looked up with another hash is not found.
///
/// ```
/// use weir::state::table::KeyTable;
///
/// let mut t = KeyTable::<String, u32>::new();
/// let k = "a".to_string();
/// *t.get_or_insert_with(17, &k, || 0) += 2;
/// assert_eq!(t.get(17, &k), Some(&2));
/// assert_eq!(t.remove(17, &k), Some(2));
/// assert!(t.is_empty());
/// ```
#[derive(Clone)]
pub struct KeyTable<K, V> {
    /// Empty, or a power of two ≥ [`MIN_CAPACITY`] slots.
    slots: Vec<Slot<K, V>>,
    /// Occupied slots.
    len: usize,
    /// `64 - log2(slots.len())`: the home slot is the top `log2(len)` bits of the mixed hash.
    shift: u32,
}

impl<K, V> Default for KeyTable<K, V> {
    fn default() -> Self {
        KeyTable {
            slots: Vec::new(),
            len: 0,
            shift: 64,
        }
    }
}

impl<K, V> std::fmt::Debug for KeyTable<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyTable")
            .field("len", &self.len)
            .field("capacity", &self.slots.len())
            .finish()
    }
}

impl<K: Eq, V> KeyTable<K, V> {
    /// An empty table (allocates on the first insert).
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty table that holds `n` entries without growing.
    pub fn with_capacity(n: usize) -> Self {
        let mut t = Self::new();
        t.reserve(n);
        t
    }

    /// Number of entries.
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the table has no entry.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of slots (entries fit up to 5/8 of it).
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// The home slot of `hash` (the table must be allocated).
    #[inline]
    fn home(&self, hash: u64) -> usize {
        // Tagging first makes `home(hash) == home(stored tag)`.
        ((hash | OCCUPIED).wrapping_mul(FIB) >> self.shift) as usize
    }

    /// Whether `len` entries fit in `capacity` slots.
    #[inline]
    fn fits(len: usize, capacity: usize) -> bool {
        len * MAX_LOAD_DEN <= capacity * MAX_LOAD_NUM
    }

    /// The slot holding `key` (`Ok`), or the empty slot that ends its probe (`Err`).
    /// The table must be allocated.
    #[inline]
    fn find(&self, hash: u64, key: &K) -> Result<usize, usize> {
        let mask = self.slots.len() - 1;
        let tag = hash | OCCUPIED;
        let mut i = self.home(hash);
        loop {
            // Only the slot's first word is read until the tags match: with large keys or
            // values the key may sit on another cache line than the prefetched one.
            let slot = &self.slots[i];
            if slot.hash == tag {
                if let Some((k, _)) = &slot.kv {
                    if k == key {
                        return Ok(i);
                    }
                }
            } else if slot.hash == 0 {
                return Err(i);
            }
            i = (i + 1) & mask;
        }
    }

    /// Hints the CPU to load every cache line of `hash`'s home slot and of the slot after it,
    /// where a lookup of a key with this hash starts (at the loads the table runs at, most
    /// probes end within these two slots). Never changes the table; a no-op off x86-64 and
    /// when empty.
    ///
    /// Slots are not cache-line aligned: a 120-byte slot (a `RowKey` with a rolling
    /// aggregate's state) starts at 8 different offsets within a line and spans up to three
    /// lines, so prefetching only a slot's first and last byte missed the middle line — where
    /// the key's own hash sits — in 6 of 8 slots (PERF.md, "Issue 10, step 6").
    #[inline]
    pub fn prefetch(&self, hash: u64) {
        #[cfg(target_arch = "x86_64")]
        if !self.slots.is_empty() {
            use core::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
            const LINE: usize = 64;
            let home = self.home(hash);
            let slot_bytes = std::mem::size_of::<Slot<K, V>>();
            // The home slot and the next one, unless the home slot is the table's last.
            let span = if home + 1 < self.slots.len() {
                2 * slot_bytes
            } else {
                slot_bytes
            };
            let first = (&self.slots[home] as *const Slot<K, V>).cast::<i8>();
            let first_line = first as usize & !(LINE - 1);
            let last_line = (first as usize + span - 1) & !(LINE - 1);
            let mut offset = 0;
            while first_line + offset <= last_line {
                // The first byte of one line of the span, or the slot's own first byte for the
                // first line (which may start before the slot).
                let addr = first.wrapping_add((first_line + offset).saturating_sub(first as usize));
                // SAFETY: prefetching is a hint that never faults or reads into the program,
                // and every address lies inside the home slot or the slot after it, both in
                // the live slice `self.slots`.
                unsafe { _mm_prefetch::<_MM_HINT_T0>(addr) };
                offset += LINE;
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = hash;
    }

    /// The value of `key`.
    #[inline]
    pub fn get(&self, hash: u64, key: &K) -> Option<&V> {
        if self.len == 0 {
            return None;
        }
        let i = self.find(hash, key).ok()?;
        self.slots[i].kv.as_ref().map(|(_, v)| v)
    }

    /// The stored key and the value of `key`.
    #[inline]
    pub fn get_key_value(&self, hash: u64, key: &K) -> Option<(&K, &V)> {
        if self.len == 0 {
            return None;
        }
        let i = self.find(hash, key).ok()?;
        self.slots[i].kv.as_ref().map(|(k, v)| (k, v))
    }

    /// The value of `key`, for modification.
    #[inline]
    pub fn get_mut(&mut self, hash: u64, key: &K) -> Option<&mut V> {
        if self.len == 0 {
            return None;
        }
        let i = self.find(hash, key).ok()?;
        self.slots[i].kv.as_mut().map(|(_, v)| v)
    }

    /// The value of `key`, inserted as `init()` when absent. One probe unless the table
    /// grows; `key` is cloned only on insert.
    #[inline]
    pub fn get_or_insert_with(&mut self, hash: u64, key: &K, init: impl FnOnce() -> V) -> &mut V
    where
        K: Clone,
    {
        let at = if self.slots.is_empty() {
            Err(0)
        } else {
            self.find(hash, key)
        };
        let i = match at {
            Ok(i) => i,
            Err(i) => self.put_new(i, hash, key.clone(), init()),
        };
        match &mut self.slots[i].kv {
            Some((_, v)) => v,
            None => unreachable!("slot {i} was just found or filled"),
        }
    }

    /// Sets the value of `key`; returns the previous value.
    pub fn insert(&mut self, hash: u64, key: K, value: V) -> Option<V> {
        let at = if self.slots.is_empty() {
            Err(0)
        } else {
            self.find(hash, &key)
        };
        match at {
            Ok(i) => self.slots[i]
                .kv
                .as_mut()
                .map(|(_, v)| std::mem::replace(v, value)),
            Err(i) => {
                self.put_new(i, hash, key, value);
                None
            }
        }
    }

    /// Stores a key known to be absent, whose probe ended at the empty slot `empty` (ignored
    /// when the table must grow first); returns the slot used.
    fn put_new(&mut self, empty: usize, hash: u64, key: K, value: V) -> usize {
        let i = if Self::fits(self.len + 1, self.slots.len()) {
            empty
        } else {
            self.grow_to(self.len + 1);
            self.empty_slot_for(hash)
        };
        self.slots[i] = Slot {
            hash: hash | OCCUPIED,
            kv: Some((key, value)),
        };
        self.len += 1;
        i
    }

    /// The first empty slot of `hash`'s probe (the table must be allocated).
    fn empty_slot_for(&self, hash: u64) -> usize {
        let mask = self.slots.len() - 1;
        let mut i = self.home(hash);
        while self.slots[i].hash != 0 {
            i = (i + 1) & mask;
        }
        i
    }

    /// Makes room for `additional` more entries without growing.
    pub fn reserve(&mut self, additional: usize) {
        let need = self.len + additional;
        if !Self::fits(need, self.slots.len()) {
            self.grow_to(need);
        }
    }

    /// Rehashes into the smallest capacity that fits `n` entries.
    fn grow_to(&mut self, n: usize) {
        let mut cap = self.slots.len().max(MIN_CAPACITY);
        while !Self::fits(n, cap) {
            cap *= 2;
        }
        let old = std::mem::replace(&mut self.slots, (0..cap).map(|_| Slot::EMPTY).collect());
        self.shift = 64 - cap.trailing_zeros();
        for slot in old {
            if slot.kv.is_some() {
                let i = self.empty_slot_for(slot.hash);
                self.slots[i] = slot;
            }
        }
    }

    /// Removes `key`; returns its value.
    pub fn remove(&mut self, hash: u64, key: &K) -> Option<V> {
        if self.len == 0 {
            return None;
        }
        let i = self.find(hash, key).ok()?;
        Some(self.remove_at(i).1)
    }

    /// Empties the occupied slot `hole` and shifts the rest of its cluster back so that every
    /// entry stays reachable from its home slot without crossing an empty slot.
    fn remove_at(&mut self, mut hole: usize) -> (K, V) {
        let mask = self.slots.len() - 1;
        let removed = self.slots[hole]
            .kv
            .take()
            .expect("removing an occupied slot");
        self.slots[hole].hash = 0;
        self.len -= 1;
        let mut j = (hole + 1) & mask;
        while self.slots[j].hash != 0 {
            let home = self.home(self.slots[j].hash);
            // The entry at j may fill the hole iff its home is not cyclically within (hole, j].
            if j.wrapping_sub(home) & mask >= j.wrapping_sub(hole) & mask {
                self.slots.swap(hole, j);
                hole = j;
            }
            j = (j + 1) & mask;
        }
        removed
    }

    /// Keeps only the entries for which `keep` returns true; calls it once per entry.
    pub fn retain(&mut self, mut keep: impl FnMut(&K, &mut V) -> bool) {
        if self.len == 0 {
            return;
        }
        let mask = self.slots.len() - 1;
        // Start after an empty slot: a removal only shifts entries of the current cluster back
        // into the hole, and clusters end at empty slots, so no visited entry moves ahead of
        // the cursor and no unvisited one behind it.
        let Some(start) = self.slots.iter().position(|s| s.kv.is_none()) else {
            unreachable!("the load stays below 1")
        };
        let mut visited = 0;
        let mut i = (start + 1) & mask;
        while visited < self.slots.len() {
            let drop = match &mut self.slots[i].kv {
                Some((k, v)) => !keep(k, v),
                None => false,
            };
            if drop {
                // Slot i now holds the next unvisited entry of the cluster (or is empty).
                self.remove_at(i);
            }
            if !drop || self.slots[i].kv.is_none() {
                i = (i + 1) & mask;
                visited += 1;
            }
        }
    }

    /// Examines `n` slots from `*cursor` on (wrapping round the table) and removes the entries
    /// whose value `expired` says so; leaves `*cursor` after the last slot examined, so that
    /// successive calls go round the whole table. Returns how many entries it removed.
    ///
    /// A removal shifts later entries of the cluster back into the freed slot, never behind
    /// the cursor, so the slot is examined again and no entry is skipped.
    pub fn sweep(
        &mut self,
        cursor: &mut usize,
        n: usize,
        mut expired: impl FnMut(&V) -> bool,
    ) -> usize {
        if self.len == 0 {
            return 0;
        }
        let mask = self.slots.len() - 1;
        let mut i = *cursor & mask;
        let mut removed = 0;
        for _ in 0..n {
            let drop = matches!(&self.slots[i].kv, Some((_, v)) if expired(v));
            if drop {
                self.remove_at(i);
                removed += 1;
                if self.slots[i].kv.is_some() {
                    continue;
                }
            }
            i = (i + 1) & mask;
        }
        *cursor = i;
        removed
    }

    /// Removes every entry (keeps the allocation).
    pub fn clear(&mut self) {
        if self.len > 0 {
            self.slots.fill_with(|| Slot::EMPTY);
            self.len = 0;
        }
    }

    /// All entries, in slot order.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.slots
            .iter()
            .filter_map(|s| s.kv.as_ref().map(|(k, v)| (k, v)))
    }
}

#[cfg(test)]
#[path = "table_tests.rs"]
mod tests;
