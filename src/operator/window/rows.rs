//! The window function of the CLI's rows: the aggregates of [`rolling`](super::super::rolling)
//! over a timestamp field; output row = key fields, `window_start`, `window_end`, aggregates.

use super::{WindowFunction, WindowKind, WindowKindError, Windowed};
use crate::operator::rolling::{Acc, AccState, AggFn, Aggregate, Rolling};
use crate::record::{Row, RowKey, Value};
use std::cell::RefCell;

/// What a row window operator computes.
#[derive(Clone, Debug, PartialEq)]
pub struct WindowConfig {
    /// Tumbling, sliding or session.
    pub kind: WindowKind,
    /// How long after `end - 1` a window still accepts (and re-emits for) records, ms `>= 0`.
    pub allowed_lateness_ms: i64,
    /// Index of the event-time field (a timestamp or i64 of ms) in the input rows.
    pub ts_field: usize,
    /// The aggregates, in output order.
    pub aggs: Vec<Aggregate>,
}

/// The event time of `row`'s field `i` (a timestamp or an integer), if it has one.
pub(crate) fn event_time(row: &Row, i: usize) -> Option<i64> {
    match row.get(i) {
        Some(Value::Ts(t) | Value::I64(t)) => Some(*t),
        _ => None,
    }
}

/// The aggregates of a row window.
#[derive(Clone, Debug, PartialEq)]
pub struct RowAggregates {
    ts_field: usize,
    aggs: Vec<Aggregate>,
    spare: AccPool,
}

/// Most accumulators [`AccPool`] keeps.
const POOL_MAX: usize = 1 << 16;

/// Accumulators of freed windows whose aggregates spilled to the heap (more than
/// [`AccState`] keeps inline), reused by [`RowAggregates::create`]: with three or more
/// aggregates, every window of every key would otherwise allocate when it opens. Not part of
/// the operator's state: a clone starts empty, and pools never make two functions unequal.
#[derive(Default)]
struct AccPool(RefCell<Vec<AccState>>);

impl Clone for AccPool {
    fn clone(&self) -> Self {
        AccPool::default()
    }
}

impl PartialEq for AccPool {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl std::fmt::Debug for AccPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AccPool({})", self.0.borrow().len())
    }
}

/// The window operator over rows keyed by [`RowKey`]; late rows go out unchanged.
pub type WindowOperator = Windowed<RowKey, Row, Row, RowAggregates>;

impl WindowOperator {
    /// A row window operator for `cfg`.
    ///
    /// # Errors
    /// [`WindowKindError`] when the window lengths are invalid.
    pub fn new(cfg: WindowConfig) -> Result<Self, WindowKindError> {
        let (kind, lateness) = (cfg.kind, cfg.allowed_lateness_ms);
        Windowed::with_function(kind, lateness, RowAggregates::from_config(cfg))
    }
}

impl RowAggregates {
    /// The aggregates and time field of `cfg`.
    pub(super) fn from_config(cfg: WindowConfig) -> Self {
        RowAggregates {
            ts_field: cfg.ts_field,
            aggs: cfg.aggs,
            spare: AccPool::default(),
        }
    }
}

impl WindowFunction<RowKey, Row, Row> for RowAggregates {
    type Acc = AccState;

    #[inline]
    fn timestamp(&self, input: &Row) -> Option<i64> {
        event_time(input, self.ts_field)
    }

    fn create(&self) -> AccState {
        let empty = self.aggs.iter().map(|_| Acc::Empty);
        match self.spare.0.borrow_mut().pop() {
            Some(mut acc) => {
                acc.0.clear();
                acc.0.extend(empty);
                acc
            }
            None => AccState(empty.collect()),
        }
    }

    fn recycle(&self, acc: AccState) {
        let mut spare = self.spare.0.borrow_mut();
        if acc.0.spilled() && spare.len() < POOL_MAX {
            spare.push(acc);
        }
    }

    #[inline]
    fn add(&self, acc: &mut AccState, input: &Row) {
        for (agg, a) in self.aggs.iter().zip(acc.0.iter_mut()) {
            Rolling::fold(agg, a, input);
        }
    }

    fn merge(&self, acc: &mut AccState, other: &AccState) {
        for ((agg, a), b) in self.aggs.iter().zip(acc.0.iter_mut()).zip(&other.0) {
            *a = merge_acc(agg.func, a, b);
        }
    }

    fn output(&self, key: &RowKey, start: i64, end: i64, acc: &AccState) -> Row {
        let mut row = Row::new();
        key.append_to(&mut row);
        row.push(Value::Ts(start));
        row.push(Value::Ts(end));
        row.extend(acc.0.iter().map(Rolling::result));
        row
    }

    fn late(&self, input: Row) -> Option<Row> {
        Some(input)
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
