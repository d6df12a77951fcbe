//! `KeyedCoOperator` for boxed trait objects, so that a job can pick its two-input operator
//! (join, interval join) at run time, as it does for one-input operators.

use super::KeyedCoOperator;
use crate::state::{KeyContext, KeyedStateStore};

impl<K, A, B, O> KeyedCoOperator<K, A, B, O> for Box<dyn KeyedCoOperator<K, A, B, O>> {
    #[inline]
    fn process1(&mut self, ctx: &KeyContext<'_, K>, input: &mut A, out: &mut Vec<O>) {
        (**self).process1(ctx, input, out)
    }
    #[inline]
    fn process2(&mut self, ctx: &KeyContext<'_, K>, input: &mut B, out: &mut Vec<O>) {
        (**self).process2(ctx, input, out)
    }
    #[inline]
    fn prefetch(&self, local_group: usize, hash: u64) {
        (**self).prefetch(local_group, hash)
    }
    fn states(&mut self) -> Vec<&mut dyn KeyedStateStore> {
        (**self).states()
    }
    fn operator_states(&mut self) -> Vec<&mut dyn crate::state::OperatorStateStore> {
        (**self).operator_states()
    }
    fn on_watermark(&mut self, watermark_ms: i64, out: &mut Vec<O>) {
        (**self).on_watermark(watermark_ms, out)
    }
    fn on_processing_time(&mut self, now_ms: u64, out: &mut Vec<O>) {
        (**self).on_processing_time(now_ms, out)
    }
    fn side_outputs(&self) -> Vec<&'static str> {
        (**self).side_outputs()
    }
    fn drain_side(&mut self, index: usize, out: &mut Vec<O>) {
        (**self).drain_side(index, out)
    }
    fn close(&mut self, out: &mut Vec<O>) {
        (**self).close(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operator::interval_join::{IntervalJoinConfig, IntervalJoinOperator};
    use crate::record::{Row, RowKey};

    #[test]
    fn a_boxed_interval_join_forwards_every_hook() {
        let cfg = IntervalJoinConfig {
            left_ts: 0,
            right_ts: 0,
            lower: 0,
            upper: 0,
        };
        let mut op: Box<dyn KeyedCoOperator<RowKey, Row, Row, Row>> =
            Box::new(IntervalJoinOperator::new(cfg).expect("valid"));
        assert_eq!(op.side_outputs(), ["late_left", "late_right"]);
        assert_eq!(op.states().len(), 2);
    }
}
