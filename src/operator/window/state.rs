//! The windows of one key (the window operator's state value) and accumulator merging.

use crate::operator::rolling::{Acc, AccState, AggFn, Aggregate, Rolling};
use crate::record::Row;
use crate::state::{CodecError, StateCodec};
use smallvec::SmallVec;

/// One window of a key with its accumulators.
#[derive(Clone, Debug, PartialEq)]
pub struct Win {
    /// Start (inclusive), ms.
    pub start: i64,
    /// End (exclusive), ms.
    pub end: i64,
    /// One accumulator per aggregate.
    pub accs: AccState,
}

impl Win {
    /// An empty window `[start, end)` for `n` aggregates.
    pub fn empty(start: i64, end: i64, n: usize) -> Self {
        Win {
            start,
            end,
            accs: AccState((0..n).map(|_| Acc::Empty).collect()),
        }
    }

    /// The window's last timestamp, `end - 1`: it fires when the watermark reaches it.
    pub fn max_timestamp(&self) -> i64 {
        self.end.saturating_sub(1)
    }

    /// Folds `row` into the accumulators.
    pub fn fold(&mut self, aggs: &[Aggregate], row: &Row) {
        for (agg, acc) in aggs.iter().zip(self.accs.0.iter_mut()) {
            Rolling::fold(agg, acc, row);
        }
    }

    /// Merges `other`'s accumulators into this window's and widens it to cover both.
    pub fn merge(&mut self, aggs: &[Aggregate], other: &Win) {
        self.start = self.start.min(other.start);
        self.end = self.end.max(other.end);
        for ((agg, a), b) in aggs.iter().zip(self.accs.0.iter_mut()).zip(&other.accs.0) {
            *a = merge_acc(agg.func, a, b);
        }
    }
}

/// The accumulator of the union of two inputs.
fn merge_acc(func: AggFn, a: &Acc, b: &Acc) -> Acc {
    match (a, b) {
        (Acc::Empty, x) | (x, Acc::Empty) => x.clone(),
        (Acc::Count(x), Acc::Count(y)) => Acc::Count(x.wrapping_add(*y)),
        (Acc::Avg { sum: s1, n: n1 }, Acc::Avg { sum: s2, n: n2 }) => Acc::Avg {
            sum: s1 + s2,
            n: n1 + n2,
        },
        (Acc::Int { v: x, ts }, Acc::Int { v: y, .. }) => Acc::Int {
            v: match func {
                AggFn::Sum => x.wrapping_add(*y),
                AggFn::Min => *x.min(y),
                _ => *x.max(y),
            },
            ts: *ts,
        },
        (Acc::Float(x), Acc::Float(y)) => Acc::Float(match func {
            AggFn::Sum => x + y,
            AggFn::Min => x.min(*y),
            _ => x.max(*y),
        }),
        // One field has one type: mixed accumulators do not occur; keep the first.
        (x, _) => x.clone(),
    }
}

/// The windows of one key, in no particular order (few per key: one tumbling window per
/// pending period, `size / slide` sliding ones, the open sessions); one is stored inline.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Windows(pub SmallVec<[Win; 1]>);

impl StateCodec for Windows {
    fn encode(&self, out: &mut Vec<u8>) {
        (self.0.len() as u32).encode(out);
        for w in &self.0 {
            w.start.encode(out);
            w.end.encode(out);
            w.accs.encode(out);
        }
    }

    fn decode(input: &mut &[u8]) -> Result<Self, CodecError> {
        let n = u32::decode(input)? as usize;
        let mut v = SmallVec::with_capacity(n.min(input.len()));
        for _ in 0..n {
            let (start, end) = (i64::decode(input)?, i64::decode(input)?);
            let accs = AccState::decode(input)?;
            v.push(Win { start, end, accs });
        }
        Ok(Windows(v))
    }
}
