//! Test helpers for keyed operators: several workers over key-group ranges, routing by key,
//! and snapshot → restore into another worker count (as a checkpoint and rescale do).

use crate::record::{Row, RowKey, Value};
use crate::state::key_group::{key_group_of_hash, key_group_range};
use crate::state::{KeyContext, KeyedStateStore, StableKey};
use std::ops::Range;

/// Key groups in the tests.
pub(crate) const MAX_PAR: u16 = 128;

/// A one-field string key.
pub(crate) fn key(s: &str) -> RowKey {
    RowKey::from_values(&[Value::Str(s.into())])
}

/// Rows compared as text, sorted: outputs of one step in no particular order.
pub(crate) fn sorted(rows: &[Row]) -> Vec<String> {
    let mut v: Vec<String> = rows.iter().map(|r| format!("{r:?}")).collect();
    v.sort();
    v
}

/// How the harness reaches an operator's states.
pub(crate) type StatesOf<Op> = fn(&mut Op) -> Vec<&mut dyn KeyedStateStore>;

/// One operator instance per worker, each owning its key-group range.
pub(crate) struct Workers<Op> {
    pub(crate) ops: Vec<(Range<u16>, Op)>,
    states: StatesOf<Op>,
}

impl<Op> Workers<Op> {
    /// `n` workers of fresh operators from `make`.
    pub(crate) fn new(n: usize, make: &dyn Fn() -> Op, states: StatesOf<Op>) -> Self {
        let ops = (0..n)
            .map(|w| {
                let range = key_group_range(w, n, MAX_PAR);
                let mut op = make();
                for s in states(&mut op) {
                    s.set_key_groups(range.clone());
                }
                (range, op)
            })
            .collect();
        Workers { ops, states }
    }

    /// Runs `f` on the worker owning `key`, with the key's context at `now_ms`.
    pub(crate) fn with_key<R>(
        &mut self,
        key: &RowKey,
        now_ms: u64,
        f: impl FnOnce(&mut Op, &KeyContext<'_, RowKey>) -> R,
    ) -> R {
        let hash = key.stable_hash();
        let g = key_group_of_hash(hash, MAX_PAR);
        let (range, op) = self
            .ops
            .iter_mut()
            .find(|(r, _)| r.contains(&g))
            .expect("ranges cover every group");
        let ctx = KeyContext {
            key,
            local_group: (g - range.start) as usize,
            hash,
            now_ms,
        };
        f(op, &ctx)
    }

    /// Snapshots every state of every worker, restores them into `n` fresh workers.
    pub(crate) fn rescale(&mut self, n: usize, make: &dyn Fn() -> Op) {
        let mut next = Workers::new(n, make, self.states);
        for (range, op) in &mut self.ops {
            let states = (self.states)(op);
            for (i, s) in states.iter().enumerate() {
                for g in range.clone() {
                    let mut bytes = Vec::new();
                    s.snapshot_group(g, 0, &mut bytes);
                    let (_, to) = next
                        .ops
                        .iter_mut()
                        .find(|(r, _)| r.contains(&g))
                        .expect("owner");
                    (self.states)(to)[i]
                        .restore_group(g, &bytes)
                        .expect("restore");
                }
            }
        }
        *self = next;
    }
}
