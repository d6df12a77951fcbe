//! The accumulators of the updating aggregate ([`super::aggregate`]): folded and, for an
//! upsert input, retracted; and their stable state encoding.

use crate::record::{Row, Value};
use crate::state::{CodecError, StateCodec};
use compact_str::CompactString;

/// A function of the updating aggregate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UpdFn {
    /// Rows (without a field), or rows whose field is not null.
    Count,
    /// Sum: i64 input sums as i64 (wrapping), f64 as f64; null when no value was folded.
    Sum,
    /// Smallest value (numbers, strings, timestamps); not retractable.
    Min,
    /// Largest value (numbers, strings, timestamps); not retractable.
    Max,
    /// Mean: over i64 input an i64 that truncates toward zero (SQL's BIGINT `AVG`), over f64
    /// an f64; null when no value was folded.
    Avg,
    /// Number of distinct non-null values.
    CountDistinct,
}

impl UpdFn {
    /// Whether a folded value can be taken back (needed for an upsert input).
    pub fn retractable(self) -> bool {
        !matches!(self, UpdFn::Min | UpdFn::Max)
    }
}

/// A distinct value: integers and timestamps by value, floats by bit pattern, strings.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum DKey {
    /// An i64, a timestamp, or an f64's bits.
    I(i64),
    /// A string.
    S(CompactString),
}

impl DKey {
    fn of(v: &Value) -> Option<DKey> {
        match v {
            Value::I64(x) | Value::Ts(x) => Some(DKey::I(*x)),
            Value::F64(x) => Some(DKey::I(x.to_bits() as i64)),
            Value::Str(s) => Some(DKey::S(s.to_compact())),
            Value::Null => None,
        }
    }
}

/// The running state of one aggregate of one group.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Acc {
    /// A count.
    Count(i64),
    /// Sum or mean: integer and float parts (one is used, by the values' type), and the
    /// number of values folded.
    Num {
        /// Sum of the i64 values.
        i: i64,
        /// Sum of the f64 values.
        f: f64,
        /// Values folded.
        n: i64,
        /// The values are f64.
        float: bool,
    },
    /// Min or max so far.
    Extreme(Option<Value>),
    /// Each distinct value and how many folded rows carry it.
    Distinct(ahash::AHashMap<DKey, u32>),
}

impl Acc {
    /// The empty accumulator of `func`.
    pub(crate) fn empty(func: UpdFn) -> Acc {
        match func {
            UpdFn::Count => Acc::Count(0),
            UpdFn::Sum | UpdFn::Avg => Acc::Num {
                i: 0,
                f: 0.0,
                n: 0,
                float: false,
            },
            UpdFn::Min | UpdFn::Max => Acc::Extreme(None),
            UpdFn::CountDistinct => Acc::Distinct(ahash::AHashMap::new()),
        }
    }

    /// Folds (`sign = 1`) or retracts (`sign = -1`) the value at `field` of `row`; `field`
    /// `None` (count of rows) folds every row. Retracting a min or max does nothing (the
    /// pipeline loader refuses them over an upsert input).
    pub(crate) fn apply(&mut self, func: UpdFn, field: Option<usize>, row: &Row, sign: i64) {
        let value = match field {
            Some(i) => match row.get(i) {
                Some(Value::Null) | None => return,
                Some(v) => Some(v),
            },
            None => None,
        };
        match (self, value) {
            (Acc::Count(n), _) => *n += sign,
            (Acc::Num { i, f, n, float }, Some(v)) => {
                match v {
                    Value::I64(x) | Value::Ts(x) => *i = i.wrapping_add(sign.wrapping_mul(*x)),
                    Value::F64(x) => {
                        *f += sign as f64 * x;
                        *float = true;
                    }
                    _ => return,
                }
                *n += sign;
            }
            (Acc::Extreme(cur), Some(v)) if sign > 0 => {
                let better = match cur {
                    None => true,
                    Some(c) => {
                        let ord = order(v, c);
                        match func {
                            UpdFn::Min => ord.is_lt(),
                            _ => ord.is_gt(),
                        }
                    }
                };
                if better {
                    *cur = Some(v.clone());
                }
            }
            (Acc::Distinct(m), Some(v)) => {
                let Some(k) = DKey::of(v) else { return };
                if sign > 0 {
                    *m.entry(k).or_insert(0) += 1;
                } else if let Some(c) = m.get_mut(&k) {
                    *c -= 1;
                    if *c == 0 {
                        m.remove(&k);
                    }
                }
            }
            _ => {}
        }
    }

    /// The aggregate's current value (`func` tells a sum from a mean).
    pub(crate) fn result(&self, func: UpdFn) -> Value {
        match self {
            Acc::Count(n) => Value::I64(*n),
            Acc::Num { n: 0, .. } => Value::Null,
            Acc::Num { i, f, n, float } => match (func, float) {
                (UpdFn::Avg, false) => Value::I64(i.wrapping_div(*n)),
                (UpdFn::Avg, true) => Value::F64(f / *n as f64),
                (_, false) => Value::I64(*i),
                (_, true) => Value::F64(*f),
            },
            Acc::Extreme(v) => v.clone().unwrap_or(Value::Null),
            Acc::Distinct(m) => Value::I64(m.len() as i64),
        }
    }
}

/// A total order of values of one type (mixed types compare equal).
pub(crate) fn order(a: &Value, b: &Value) -> std::cmp::Ordering {
    use std::cmp::Ordering::Equal;
    match (a, b) {
        (Value::I64(x), Value::I64(y)) | (Value::Ts(x), Value::Ts(y)) => x.cmp(y),
        (Value::F64(x), Value::F64(y)) => x.total_cmp(y),
        (Value::Str(x), Value::Str(y)) => x.as_str().cmp(y.as_str()),
        (Value::Null, Value::Null) => Equal,
        (Value::Null, _) => std::cmp::Ordering::Less,
        (_, Value::Null) => std::cmp::Ordering::Greater,
        _ => Equal,
    }
}

impl StateCodec for DKey {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            DKey::I(v) => Value::I64(*v).encode(out),
            DKey::S(s) => Value::Str(s.clone().into()).encode(out),
        }
    }

    fn decode(input: &mut &[u8]) -> Result<Self, CodecError> {
        match Value::decode(input)? {
            Value::I64(v) => Ok(DKey::I(v)),
            Value::Str(s) => Ok(DKey::S(s.to_compact())),
            _ => Err(CodecError::Invalid("distinct value tag")),
        }
    }
}

impl StateCodec for Acc {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Acc::Count(n) => {
                out.push(0);
                n.encode(out);
            }
            Acc::Num { i, f, n, float } => {
                out.push(1);
                i.encode(out);
                f.encode(out);
                n.encode(out);
                float.encode(out);
            }
            Acc::Extreme(v) => {
                out.push(2);
                v.clone().unwrap_or(Value::Null).encode(out);
            }
            Acc::Distinct(m) => {
                out.push(3);
                m.encode(out);
            }
        }
    }

    fn decode(input: &mut &[u8]) -> Result<Self, CodecError> {
        Ok(match u8::decode(input)? {
            0 => Acc::Count(i64::decode(input)?),
            1 => Acc::Num {
                i: i64::decode(input)?,
                f: f64::decode(input)?,
                n: i64::decode(input)?,
                float: bool::decode(input)?,
            },
            2 => Acc::Extreme(match Value::decode(input)? {
                Value::Null => None,
                v => Some(v),
            }),
            3 => Acc::Distinct(StateCodec::decode(input)?),
            _ => return Err(CodecError::Invalid("aggregate accumulator tag")),
        })
    }
}
