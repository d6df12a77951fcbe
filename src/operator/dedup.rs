//! Deduplication: emit a record the first time its key is seen (within an optional TTL).

use super::KeyedOperator;
use crate::record::{Row, RowKey};
use crate::state::{KeyContext, KeyedStateStore, Ttl, ValueState};

/// The dedup operator.
pub struct Dedup {
    seen: ValueState<RowKey, bool>,
}

impl Dedup {
    /// Keys are forgotten `ttl` after they were first seen (never without a TTL).
    pub fn new(ttl: Option<std::time::Duration>) -> Self {
        let seen = ValueState::new("dedup");
        let seen = match ttl {
            Some(d) => seen.with_ttl(Ttl {
                millis: d.as_millis() as u64,
                refresh_on_read: false,
            }),
            None => seen,
        };
        Dedup { seen }
    }
}

impl KeyedOperator<RowKey, Row, Row> for Dedup {
    fn process(&mut self, ctx: &KeyContext<'_, RowKey>, input: &mut Row, out: &mut Vec<Row>) {
        if self.seen.get(ctx).is_none() {
            self.seen.update(ctx, true);
            // A clone made on this thread (see `KeyedOperator::process`).
            out.push(input.clone());
        }
    }

    #[inline]
    fn prefetch(&self, local_group: usize, hash: u64) {
        self.seen.prefetch(local_group, hash);
    }

    fn states(&mut self) -> Vec<&mut dyn KeyedStateStore> {
        vec![&mut self.seen]
    }
}
