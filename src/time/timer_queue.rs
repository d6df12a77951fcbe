//! The timers of one time domain of a [`TimerService`](super::TimerService): per owned key
//! group a binary min-heap with lazy deletion, and over the groups a min-tree of their
//! earliest times. Neither allocates in steady state: the heaps, tables and slabs keep their
//! capacity as timers come and go, where a `BTreeMap` allocates and frees a node every few
//! inserts — and a window operator registers and fires timers all the time (one or two per
//! window per key).
//!
//! A group's timers: `held` is a slab of the keys with timers, each with its registered times
//! and the number of heap entries pointing at it; `slots` maps a key to its slab slot. `heap`
//! holds an entry per registration, `(time, key hash, sequence number, slot)` in 32 bytes (the
//! key stays in the slab, so a sift moves no key), and also *stale* ones: of deleted timers,
//! or the second entry of a timer deleted and registered again (the first of the two to reach
//! the top fires). Stale entries are dropped when they reach the top, so the top is always
//! live: it is the group's earliest timer. Telling a stale entry is a slab lookup, no hashing;
//! a key leaves the slab with the last heap entry pointing at it. While nothing was deleted,
//! the heap holds no stale entry and nothing is checked. Timers fire in `(time, key group, key
//! hash)` order, as before.

use crate::state::table::KeyTable;
use smallvec::SmallVec;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// One heap entry, ordered by `(time, hash, seq)` (`seq` is unique, so `slot` never decides).
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Entry {
    time: i64,
    hash: u64,
    seq: u64,
    /// The key's slot in [`GroupTimers::held`].
    slot: u32,
}

/// A key's registered times. Four inline: a window operator holds one or two per open window
/// of a key.
type Live = SmallVec<[i64; 4]>;

/// A key with heap entries: its live times and how many heap entries (live or stale) point
/// at it.
struct Held<K> {
    key: K,
    times: Live,
    refs: u32,
}

/// A slot that [`GroupTimers::slots`] holds for a key being added, before it has one.
const UNSET: u32 = u32::MAX;

/// One key group's timers; see the module docs.
pub(super) struct GroupTimers<K> {
    heap: BinaryHeap<Reverse<Entry>>,
    /// Per key with heap entries (by its stable hash), its slot in `held`.
    slots: KeyTable<K, u32>,
    /// The keys with heap entries; `None` in a free slot.
    held: Vec<Option<Held<K>>>,
    /// The free slots of `held`.
    free: Vec<u32>,
    len: usize,
    next_seq: u64,
}

impl<K: Eq + Clone> GroupTimers<K> {
    fn new() -> Self {
        GroupTimers {
            heap: BinaryHeap::new(),
            slots: KeyTable::new(),
            held: Vec::new(),
            free: Vec::new(),
            len: 0,
            next_seq: 0,
        }
    }

    /// Number of live timers.
    pub(super) fn len(&self) -> usize {
        self.len
    }

    fn held(&self, slot: u32) -> &Held<K> {
        self.held[slot as usize]
            .as_ref()
            .expect("a heap entry's slot is held")
    }

    fn held_mut(&mut self, slot: u32) -> &mut Held<K> {
        self.held[slot as usize]
            .as_mut()
            .expect("a heap entry's slot is held")
    }

    /// Whether heap entry `e`'s timer is registered. A timer deleted and registered again
    /// has two entries, both "live": the first to reach the top fires and unregisters it,
    /// which makes the other stale.
    fn is_live(&self, e: &Entry) -> bool {
        self.held(e.slot).times.contains(&e.time)
    }

    /// Drops stale entries from the top, so the top is live (or the heap empty). Free when
    /// there are none (no timer was deleted since the heap last held only live ones).
    fn settle(&mut self) {
        if self.heap.len() == self.len {
            return;
        }
        if self.len == 0 {
            // Only stale entries are left: drop them, and so every key, all at once.
            self.clear();
            return;
        }
        while self.heap.peek().is_some_and(|Reverse(e)| !self.is_live(e)) {
            if let Some(Reverse(e)) = self.heap.pop() {
                self.release(e.slot, e.hash);
            }
        }
    }

    /// The earliest live time.
    fn head(&self) -> Option<i64> {
        self.heap.peek().map(|Reverse(e)| e.time)
    }

    /// Counts off a heap entry of `slot` (just popped); returns the key when it was the last.
    fn release(&mut self, slot: u32, hash: u64) -> Option<K> {
        let h = self.held_mut(slot);
        h.refs -= 1;
        if h.refs > 0 {
            return None;
        }
        let h = self.held[slot as usize].take()?;
        self.slots.remove(hash, &h.key);
        self.free.push(slot);
        Some(h.key)
    }

    /// A slot holding `key` with no times.
    fn alloc(held: &mut Vec<Option<Held<K>>>, free: &mut Vec<u32>, key: &K) -> u32 {
        let h = Some(Held {
            key: key.clone(),
            times: Live::new(),
            refs: 0,
        });
        if let Some(slot) = free.pop() {
            held[slot as usize] = h;
            return slot;
        }
        held.push(h);
        u32::try_from(held.len() - 1).expect("fewer than u32::MAX keys with timers per group")
    }

    fn register(&mut self, hash: u64, key: &K, time: i64) -> bool {
        let slot = self.slots.get_or_insert_with(hash, key, || UNSET);
        if *slot == UNSET {
            *slot = Self::alloc(&mut self.held, &mut self.free, key);
        }
        let slot = *slot;
        let h = self.held_mut(slot);
        if h.times.contains(&time) {
            return false;
        }
        h.times.push(time);
        h.refs += 1;
        let seq = self.next_seq;
        self.next_seq += 1;
        self.len += 1;
        self.heap.push(Reverse(Entry {
            time,
            hash,
            seq,
            slot,
        }));
        true
    }

    /// Forgets live timer `time` of the key in `slot`; false when there was none. The key
    /// keeps its slot while heap entries point at it.
    fn unlist(&mut self, slot: u32, time: i64) -> bool {
        let times = &mut self.held_mut(slot).times;
        let Some(i) = times.iter().position(|&t| t == time) else {
            return false;
        };
        times.swap_remove(i);
        self.len -= 1;
        true
    }

    fn delete(&mut self, hash: u64, key: &K, time: i64) -> bool {
        let Some(&slot) = self.slots.get(hash, key) else {
            return false;
        };
        let removed = self.unlist(slot, time);
        if removed {
            self.settle();
        }
        removed
    }

    /// Removes the earliest timer (the heap is always settled: its top is live).
    fn pop(&mut self) -> Option<(i64, u64, K)> {
        let Reverse(e) = self.heap.pop()?;
        self.unlist(e.slot, e.time);
        let key = match self.release(e.slot, e.hash) {
            Some(key) => key,
            None => self.held(e.slot).key.clone(),
        };
        self.settle();
        Some((e.time, e.hash, key))
    }

    fn clear(&mut self) {
        self.heap.clear();
        self.slots.clear();
        self.held.clear();
        self.free.clear();
        self.len = 0;
    }

    /// The live timers `(time, key)` in firing order, each once.
    pub(super) fn sorted(&self) -> Vec<(i64, &K)> {
        let mut v: Vec<&Entry> = self
            .heap
            .iter()
            .map(|Reverse(e)| e)
            .filter(|e| self.is_live(e))
            .collect();
        v.sort_unstable();
        let mut out: Vec<(i64, &K)> = Vec::with_capacity(v.len());
        for (i, e) in v.iter().enumerate() {
            // A timer registered again after a delete has two entries, next to each other
            // unless another key of the same hash and time lies between them.
            let seen = v[..i]
                .iter()
                .rev()
                .take_while(|p| (p.time, p.hash) == (e.time, e.hash))
                .any(|p| p.slot == e.slot);
            if !seen {
                out.push((e.time, &self.held(e.slot).key));
            }
        }
        out
    }
}

/// A min-tree over the groups' earliest times: leaf `g` holds `(head of g, g)`, an inner node
/// the smaller of its children, so the earliest timer of all groups is the root, and a
/// group's head changes in `O(log groups)`. `(i64::MAX, usize::MAX)` marks an empty group.
struct Heads {
    /// Leaves start at `width`; node `i`'s children are `2i` and `2i + 1`.
    tree: Vec<(i64, usize)>,
    width: usize,
}

/// An empty group's leaf.
const NONE: (i64, usize) = (i64::MAX, usize::MAX);

impl Heads {
    fn new(groups: usize) -> Self {
        let width = groups.next_power_of_two().max(1);
        Heads {
            tree: vec![NONE; 2 * width],
            width,
        }
    }

    fn set(&mut self, g: usize, head: Option<i64>) {
        let mut i = self.width + g;
        self.tree[i] = head.map_or(NONE, |t| (t, g));
        while i > 1 {
            i /= 2;
            self.tree[i] = self.tree[2 * i].min(self.tree[2 * i + 1]);
        }
    }

    fn first(&self) -> Option<(i64, usize)> {
        Some(self.tree[1]).filter(|&h| h != NONE)
    }
}

/// The timers of one domain: a [`GroupTimers`] per owned key group and their [`Heads`].
pub(super) struct Queue<K> {
    pub(super) groups: Vec<GroupTimers<K>>,
    heads: Heads,
    pub(super) len: usize,
}

impl<K: Eq + Clone> Queue<K> {
    pub(super) fn new(groups: usize) -> Self {
        Queue {
            groups: (0..groups).map(|_| GroupTimers::new()).collect(),
            heads: Heads::new(groups),
            len: 0,
        }
    }

    /// The earliest time of all groups.
    pub(super) fn first_time(&self) -> Option<i64> {
        self.heads.first().map(|(t, _)| t)
    }

    /// Runs `f` on group `g`, keeping its head in the tree in step.
    fn edit<R>(&mut self, g: usize, f: impl FnOnce(&mut GroupTimers<K>) -> R) -> R {
        let before = self.groups[g].head();
        let r = f(&mut self.groups[g]);
        let after = self.groups[g].head();
        if before != after {
            self.heads.set(g, after);
        }
        r
    }

    /// Adds a timer; false when it was already there.
    pub(super) fn register(&mut self, g: usize, hash: u64, key: &K, time: i64) -> bool {
        let added = self.edit(g, |t| t.register(hash, key, time));
        self.len += usize::from(added);
        added
    }

    /// Removes a timer; false when there was none.
    pub(super) fn delete(&mut self, g: usize, hash: u64, key: &K, time: i64) -> bool {
        let removed = self.edit(g, |t| t.delete(hash, key, time));
        self.len -= usize::from(removed);
        removed
    }

    /// Removes and returns the earliest timer `(time, key hash, key, group)` if its time is
    /// `<= up_to`.
    pub(super) fn pop_due(&mut self, up_to: i64) -> Option<(i64, u64, K, usize)> {
        let (t, g) = self.heads.first()?;
        if t > up_to {
            return None;
        }
        let (time, hash, key) = self.edit(g, GroupTimers::pop)?;
        self.len -= 1;
        Some((time, hash, key, g))
    }

    pub(super) fn clear_group(&mut self, g: usize) {
        let n = self.groups[g].len();
        self.edit(g, GroupTimers::clear);
        self.len -= n;
    }
}
