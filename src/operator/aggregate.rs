//! The updating keyed aggregate (`type = "aggregate"`): per group key, count / sum / min /
//! max / avg / count_distinct, each with an optional filter, emitting an upsert row
//! `key fields…, aggregates…` every time the group's values change.
//!
//! Over an *upsert input* (the output of another updating op, whose rows replace earlier rows
//! of the same upsert key) the operator keeps each upsert key's previous row and retracts it
//! before folding the new one: an average of per-auction maxima (Nexmark q4) stays exact when
//! an auction's maximum grows.

use super::aggregate_acc::{Acc, UpdFn};
use super::KeyedOperator;
use crate::record::state_codec::{decode_row, encode_row};
use crate::record::{Row, RowKey, Value};
use crate::state::{CodecError, KeyContext, KeyedStateStore, StateCodec, ValueState};
use std::sync::Arc;

/// A row predicate (a compiled filter).
pub type RowPredicate = Arc<dyn Fn(&Row) -> bool + Send + Sync>;

/// One aggregate: the function, its input field (none: count rows) and an optional filter
/// (only rows that pass it are folded).
#[derive(Clone)]
pub struct AggDef {
    /// The function.
    pub func: UpdFn,
    /// Index of the input field (`None`: `count` of rows).
    pub field: Option<usize>,
    /// Rows folded into this aggregate; `None` = all.
    pub filter: Option<RowPredicate>,
}

impl AggDef {
    fn applies(&self, row: &Row) -> bool {
        self.filter.as_ref().is_none_or(|f| f(row))
    }
}

/// The state of one group: its accumulators and, over an upsert input, the latest row of each
/// upsert key.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GroupState {
    /// A row reached the group (its first row always emits).
    seen: bool,
    accs: Vec<Acc>,
    latest: ahash::AHashMap<RowKey, Row>,
}

/// The updating aggregate operator over rows.
pub struct UpdatingAggregate {
    defs: Vec<AggDef>,
    upsert_key: Option<Vec<usize>>,
    state: ValueState<RowKey, GroupState>,
    before: Vec<Value>,
}

impl UpdatingAggregate {
    /// An operator computing `defs` per key; `upsert_key` (field indices of the input) makes
    /// it treat its input as an upsert stream (every aggregate must then be retractable:
    /// not min or max).
    pub fn new(defs: Vec<AggDef>, upsert_key: Option<Vec<usize>>) -> Self {
        UpdatingAggregate {
            defs,
            upsert_key,
            state: ValueState::new("aggregate"),
            before: Vec::new(),
        }
    }

    fn apply(defs: &[AggDef], accs: &mut [Acc], row: &Row, sign: i64) {
        for (def, acc) in defs.iter().zip(accs.iter_mut()) {
            if def.applies(row) {
                acc.apply(def.func, def.field, row, sign);
            }
        }
    }
}

impl KeyedOperator<RowKey, Row, Row> for UpdatingAggregate {
    fn process(&mut self, ctx: &KeyContext<'_, RowKey>, input: &mut Row, out: &mut Vec<Row>) {
        // Kept in state: a clone made on this thread (see `KeyedOperator::process`).
        let input = input.clone();
        let defs = &self.defs;
        let group = self.state.get_or_insert_with(ctx, || GroupState {
            seen: false,
            accs: defs.iter().map(|d| Acc::empty(d.func)).collect(),
            latest: ahash::AHashMap::new(),
        });
        self.before.clear();
        self.before
            .extend(defs.iter().zip(&group.accs).map(|(d, a)| a.result(d.func)));
        let fresh = !std::mem::replace(&mut group.seen, true);
        if let Some(uk) = &self.upsert_key {
            let k = RowKey::from_fields(&input, uk);
            if let Some(prev) = group.latest.get(&k) {
                Self::apply(defs, &mut group.accs, prev, -1);
            }
            Self::apply(defs, &mut group.accs, &input, 1);
            group.latest.insert(k, input);
        } else {
            Self::apply(defs, &mut group.accs, &input, 1);
        }
        let after = defs.iter().zip(&group.accs).map(|(d, a)| a.result(d.func));
        let changed = fresh || after.clone().zip(&self.before).any(|(a, b)| a != *b);
        if changed {
            let mut row = Row::new();
            ctx.key.append_to(&mut row);
            row.extend(after);
            out.push(row);
        }
    }

    #[inline]
    fn prefetch(&self, local_group: usize, hash: u64) {
        self.state.prefetch(local_group, hash);
    }

    fn states(&mut self) -> Vec<&mut dyn KeyedStateStore> {
        vec![&mut self.state]
    }
}

impl StateCodec for GroupState {
    fn encode(&self, out: &mut Vec<u8>) {
        self.seen.encode(out);
        self.accs.encode(out);
        (self.latest.len() as u64).encode(out);
        for (k, row) in &self.latest {
            k.encode(out);
            encode_row(row, out);
        }
    }

    fn decode(input: &mut &[u8]) -> Result<Self, CodecError> {
        let seen = bool::decode(input)?;
        let accs = Vec::<Acc>::decode(input)?;
        let n = u64::decode(input)?;
        let mut latest = ahash::AHashMap::new();
        for _ in 0..n {
            let k = RowKey::decode(input)?;
            let row = decode_row(input)?;
            if latest.insert(k, row).is_some() {
                return Err(CodecError::Invalid("duplicate upsert key"));
            }
        }
        Ok(GroupState { seen, accs, latest })
    }
}

#[cfg(test)]
#[path = "aggregate_tests.rs"]
mod tests;
