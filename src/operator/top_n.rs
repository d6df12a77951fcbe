//! Top-N per key (`type = "top_n"`): the `n` rows with the highest (or lowest) `order_by`
//! value (equal values ordered by `then_by` if given, then by arrival), as upserts.
//!
//! With a rank column, a row entering at rank p re-emits ranks p..=min(n, size) (each row
//! with its new rank; the upsert key is the group key plus the rank). Without one, only the
//! entering row is emitted: with `n = 1` and ties won by the later row this is "keep the
//! last row per key by `order_by`" (Nexmark q18). The input is append-only: a row pushed out
//! past rank n is forgotten.

use super::aggregate_acc::order;
use super::KeyedOperator;
use crate::record::state_codec::{decode_rows, encode_rows};
use crate::record::{Row, RowKey, Value};
use crate::state::{CodecError, KeyContext, KeyedStateStore, StateCodec, ValueState};
use std::cmp::Ordering;

/// How a top-N ranks its rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TopNConfig {
    /// Rows kept per key (at least 1).
    pub n: usize,
    /// Index of the ordering field.
    pub order_by: usize,
    /// Highest first (`order = "desc"`, the default) or lowest first.
    pub descending: bool,
    /// A second ordering field for equal `order_by` values (`then_by`), and whether it
    /// ranks its highest value first.
    pub then_by: Option<(usize, bool)>,
    /// On rows equal in `order_by` (and `then_by`), the later row ranks first (default: the
    /// earlier).
    pub later_wins_ties: bool,
    /// Append the rank (1-based, i64) to each emitted row.
    pub rank_column: bool,
}

/// The ranked rows of one key, best first (at most `n`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Ranked(Vec<Row>);

/// The top-N operator over rows.
pub struct TopN {
    config: TopNConfig,
    state: ValueState<RowKey, Ranked>,
}

impl TopN {
    /// A top-N operator; `config.n` below 1 is taken as 1.
    pub fn new(mut config: TopNConfig) -> Self {
        config.n = config.n.max(1);
        TopN {
            config,
            state: ValueState::new("top_n"),
        }
    }
}

/// How `new` compares with `old` on field `i`: `Greater` when it ranks before.
fn rank_by(i: usize, descending: bool, new: &Row, old: &Row) -> Ordering {
    let (a, b) = (
        new.get(i).unwrap_or(&Value::Null),
        old.get(i).unwrap_or(&Value::Null),
    );
    match descending {
        true => order(a, b),
        false => order(b, a),
    }
}

/// Whether `new` ranks before `old`.
fn beats(config: &TopNConfig, new: &Row, old: &Row) -> bool {
    let mut ord = rank_by(config.order_by, config.descending, new, old);
    if let (Ordering::Equal, Some((i, descending))) = (ord, config.then_by) {
        ord = rank_by(i, descending, new, old);
    }
    match ord {
        Ordering::Greater => true,
        Ordering::Less => false,
        Ordering::Equal => config.later_wins_ties,
    }
}

impl KeyedOperator<RowKey, Row, Row> for TopN {
    fn process(&mut self, ctx: &KeyContext<'_, RowKey>, input: &mut Row, out: &mut Vec<Row>) {
        // Kept in state: a clone made on this thread (see `KeyedOperator::process`).
        let input = input.clone();
        let config = self.config;
        let ranked = self.state.get_or_insert_with(ctx, || Ranked(Vec::new()));
        let pos = ranked
            .0
            .iter()
            .position(|old| beats(&config, &input, old))
            .unwrap_or(ranked.0.len());
        if pos >= config.n {
            return;
        }
        ranked.0.insert(pos, input);
        ranked.0.truncate(config.n);
        if config.rank_column {
            for (i, row) in ranked.0.iter().enumerate().skip(pos) {
                let mut r = row.clone();
                r.push(Value::I64(i as i64 + 1));
                out.push(r);
            }
        } else {
            out.push(ranked.0[pos].clone());
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

impl StateCodec for Ranked {
    fn encode(&self, out: &mut Vec<u8>) {
        encode_rows(&self.0, out);
    }

    fn decode(input: &mut &[u8]) -> Result<Self, CodecError> {
        decode_rows(input).map(Ranked)
    }
}

#[cfg(test)]
#[path = "top_n_tests.rs"]
mod tests;
