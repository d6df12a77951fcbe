//! The timers of one time domain of a [`TimerService`](super::TimerService): per owned key
//! group a binary min-heap with lazy deletion, and over the groups a min-tree of their
//! earliest times. Neither allocates in steady state: the heaps and tables keep their
//! capacity as timers come and go, where a `BTreeMap` allocates and frees a node every few
//! inserts — and a window operator registers and fires timers all the time (one or two per
//! window per key).
//!
//! A group's timers: `live` maps each key with timers to its registered times; `heap` holds
//! an entry per registration, ordered by `(time, key hash, sequence number)`, and also *stale*
//! ones: of deleted timers, or the second entry of a timer deleted and registered again (the
//! first of the two to reach the top fires). Stale entries are dropped when they reach the
//! top, so the top is always live: it is the group's earliest timer. While nothing was
//! deleted, the heap holds no stale entry and nothing is checked. Timers fire in `(time, key
//! group, key hash)` order, as before.

use crate::state::table::KeyTable;
use smallvec::SmallVec;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// One heap entry. Ordered by `(time, hash, seq)` only (the key is not compared).
struct Entry<K> {
    time: i64,
    hash: u64,
    seq: u64,
    key: K,
}

impl<K> Entry<K> {
    fn order(&self) -> (i64, u64, u64) {
        (self.time, self.hash, self.seq)
    }
}

impl<K> PartialEq for Entry<K> {
    fn eq(&self, other: &Self) -> bool {
        self.order() == other.order()
    }
}

impl<K> Eq for Entry<K> {}

impl<K> PartialOrd for Entry<K> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl<K> Ord for Entry<K> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.order().cmp(&other.order())
    }
}

/// A key's registered times. Four inline: a window operator holds one or two per open window
/// of a key.
type Live = SmallVec<[i64; 4]>;

/// One key group's timers; see the module docs.
pub(super) struct GroupTimers<K> {
    heap: BinaryHeap<Reverse<Entry<K>>>,
    /// Per key with timers (by its stable hash), its live timers.
    live: KeyTable<K, Live>,
    len: usize,
    next_seq: u64,
}

impl<K: Eq + Clone> GroupTimers<K> {
    fn new() -> Self {
        GroupTimers {
            heap: BinaryHeap::new(),
            live: KeyTable::new(),
            len: 0,
            next_seq: 0,
        }
    }

    /// Number of live timers.
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// Whether heap entry `e`'s timer is registered. A timer deleted and registered again
    /// has two entries, both "live": the first to reach the top fires and unregisters it,
    /// which makes the other stale.
    fn is_live(&self, e: &Entry<K>) -> bool {
        self.live
            .get(e.hash, &e.key)
            .is_some_and(|v| v.contains(&e.time))
    }

    /// Drops stale entries from the top, so the top is live (or the heap empty). Free when
    /// there are none (no timer was deleted since the heap last held only live ones).
    fn settle(&mut self) {
        if self.heap.len() == self.len {
            return;
        }
        if self.len == 0 {
            // Only stale entries are left: drop them all at once.
            self.heap.clear();
            return;
        }
        while self.heap.peek().is_some_and(|Reverse(e)| !self.is_live(e)) {
            self.heap.pop();
        }
    }

    /// The earliest live time.
    fn head(&self) -> Option<i64> {
        self.heap.peek().map(|Reverse(e)| e.time)
    }

    fn register(&mut self, hash: u64, key: &K, time: i64) -> bool {
        let seq = self.next_seq;
        let live = self.live.get_or_insert_with(hash, key, Live::new);
        if live.contains(&time) {
            return false;
        }
        live.push(time);
        self.next_seq += 1;
        self.len += 1;
        self.heap.push(Reverse(Entry {
            time,
            hash,
            seq,
            key: key.clone(),
        }));
        true
    }

    /// Forgets live timer `time` of `key`; false when there was none.
    fn unlist(&mut self, hash: u64, key: &K, time: i64) -> bool {
        let Some(live) = self.live.get_mut(hash, key) else {
            return false;
        };
        let Some(i) = live.iter().position(|&t| t == time) else {
            return false;
        };
        live.swap_remove(i);
        if live.is_empty() {
            self.live.remove(hash, key);
        }
        self.len -= 1;
        true
    }

    fn delete(&mut self, hash: u64, key: &K, time: i64) -> bool {
        let removed = self.unlist(hash, key, time);
        if removed {
            self.settle();
        }
        removed
    }

    /// Removes the earliest timer (the heap is always settled: its top is live).
    fn pop(&mut self) -> Option<(i64, u64, K)> {
        let Reverse(e) = self.heap.pop()?;
        self.unlist(e.hash, &e.key, e.time);
        self.settle();
        Some((e.time, e.hash, e.key))
    }

    fn clear(&mut self) {
        self.heap.clear();
        self.live.clear();
        self.len = 0;
    }

    /// The live timers `(time, key)` in firing order, each once.
    pub(super) fn sorted(&self) -> Vec<(i64, &K)> {
        let mut v: Vec<&Entry<K>> = self
            .heap
            .iter()
            .map(|Reverse(e)| e)
            .filter(|e| self.is_live(e))
            .collect();
        v.sort_unstable_by_key(|e| e.order());
        let mut out: Vec<(i64, &K)> = Vec::with_capacity(v.len());
        for (i, e) in v.iter().enumerate() {
            // A timer registered again after a delete has two entries, next to each other
            // unless another key of the same hash and time lies between them.
            let seen = v[..i]
                .iter()
                .rev()
                .take_while(|p| (p.time, p.hash) == (e.time, e.hash))
                .any(|p| p.key == e.key);
            if !seen {
                out.push((e.time, &e.key));
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
