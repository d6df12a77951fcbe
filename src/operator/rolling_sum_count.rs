//! [`SumCount`]: the compact per-key state of the compiled "sum + count" plan (issue 10,
//! step 6).
//!
//! The general state of a key, [`AccState`], is a `SmallVec` of two 24-byte [`Acc`] enums
//! (56 bytes): with the 56-byte `RowKey` and the table's 8-byte hash a slot of the rolling
//! state was 120 bytes, so a lookup touched 2–3 cache lines and the prefetch of two slots
//! 4–5. The sum + count plan needs one sum (an i64, a timestamp or an f64, or nothing yet), its
//! kind and a count: 24 bytes, and an 88-byte slot.
//!
//! The state folds every input exactly as the general loop over [`Acc`]s does (the steady
//! state — an i64 sum — with one check; the other input types like `Rolling::fold_general`),
//! and its checkpoint encoding is byte-for-byte the [`AccState`] of the same accumulators, so
//! checkpoints taken with either representation restore into the other.

use super::{Acc, AccState, Accs};
use crate::record::Value;
use crate::state::{CodecError, StateCodec};

/// What the sum accumulator holds (the [`Acc`] variants a sum can be in).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SumKind {
    /// No numeric input yet ([`Acc::Empty`]).
    Empty,
    /// An i64 sum ([`Acc::Int`] with `ts: false`).
    Int,
    /// A sum whose latest input was a timestamp ([`Acc::Int`] with `ts: true`).
    Ts,
    /// An f64 sum, stored as its bits ([`Acc::Float`]).
    Float,
}

/// The accumulators of one key under `Plan::SumCount`: a sum and a count, in 24 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SumCount {
    /// The sum: an i64, or an f64's bits when `kind` is [`SumKind::Float`].
    sum: i64,
    /// Records folded.
    count: i64,
    kind: SumKind,
    /// Whether the sum is the first aggregate (the output and encoding order).
    sum_first: bool,
}

impl SumCount {
    /// The state of a new key (nothing folded).
    pub(crate) fn new(sum_first: bool) -> Self {
        SumCount {
            sum: 0,
            count: 0,
            kind: SumKind::Empty,
            sum_first,
        }
    }

    /// Folds the sum's input field (`None` when the row lacks it) and the record into the
    /// state; returns the two outputs in aggregate order.
    #[inline]
    pub(crate) fn fold(&mut self, value: Option<&Value>) -> [Value; 2] {
        match value {
            Some(Value::I64(x)) if self.kind == SumKind::Int => {
                self.sum = self.sum.wrapping_add(*x);
            }
            other => self.fold_other(other),
        }
        self.count += 1;
        self.outputs()
    }

    /// The sum's fold for every other case, as `Rolling::fold_general` does for a sum: an i64
    /// or a timestamp adds to an integer sum (the output type follows the latest input) and
    /// restarts any other; an f64 adds to a float sum and restarts any other; strings and
    /// nulls change nothing.
    #[cold]
    fn fold_other(&mut self, value: Option<&Value>) {
        let (x, kind) = match value {
            Some(Value::I64(x)) => (*x, SumKind::Int),
            Some(Value::Ts(x)) => (*x, SumKind::Ts),
            Some(Value::F64(x)) => {
                let sum = match self.kind {
                    SumKind::Float => f64::from_bits(self.sum as u64) + x,
                    _ => *x,
                };
                self.sum = sum.to_bits() as i64;
                self.kind = SumKind::Float;
                return;
            }
            _ => return,
        };
        self.sum = match self.kind {
            SumKind::Int | SumKind::Ts => self.sum.wrapping_add(x),
            SumKind::Empty | SumKind::Float => x,
        };
        self.kind = kind;
    }

    /// The two output values, in aggregate order.
    #[inline]
    fn outputs(&self) -> [Value; 2] {
        let sum = match self.kind {
            SumKind::Int => Value::I64(self.sum),
            SumKind::Empty => Value::Null,
            SumKind::Ts => Value::Ts(self.sum),
            SumKind::Float => Value::F64(f64::from_bits(self.sum as u64)),
        };
        let count = Value::I64(self.count);
        if self.sum_first {
            [sum, count]
        } else {
            [count, sum]
        }
    }

    /// The same accumulators as the general state holds them.
    fn to_accs(self) -> AccState {
        let sum = match self.kind {
            SumKind::Empty => Acc::Empty,
            SumKind::Int => Acc::Int {
                v: self.sum,
                ts: false,
            },
            SumKind::Ts => Acc::Int {
                v: self.sum,
                ts: true,
            },
            SumKind::Float => Acc::Float(f64::from_bits(self.sum as u64)),
        };
        let count = Acc::Count(self.count);
        let accs: Accs = if self.sum_first {
            [sum, count].into_iter().collect()
        } else {
            [count, sum].into_iter().collect()
        };
        AccState(accs)
    }

    /// The state holding `accs`, if they are a sum's and a count's accumulators (either order).
    fn from_accs(accs: &[Acc]) -> Option<Self> {
        let (sum, count, sum_first) = match accs {
            [Acc::Count(n), s] => (s, *n, false),
            [s, Acc::Count(n)] => (s, *n, true),
            _ => return None,
        };
        let (sum, kind) = match *sum {
            Acc::Empty => (0, SumKind::Empty),
            Acc::Int { v, ts: false } => (v, SumKind::Int),
            Acc::Int { v, ts: true } => (v, SumKind::Ts),
            Acc::Float(v) => (v.to_bits() as i64, SumKind::Float),
            Acc::Count(_) | Acc::Avg { .. } => return None,
        };
        Some(SumCount {
            sum,
            count,
            kind,
            sum_first,
        })
    }
}

/// The encoding of the [`AccState`] with the same accumulators (see the module docs).
impl StateCodec for SumCount {
    fn encode(&self, out: &mut Vec<u8>) {
        self.to_accs().encode(out);
    }

    fn decode(input: &mut &[u8]) -> Result<Self, CodecError> {
        let accs = AccState::decode(input)?;
        SumCount::from_accs(&accs.0).ok_or(CodecError::Invalid("sum and count accumulators"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_state_is_24_bytes() {
        assert_eq!(std::mem::size_of::<SumCount>(), 24);
    }

    #[test]
    fn other_accumulators_do_not_decode() {
        let cases = [
            vec![Acc::Count(1)],
            vec![Acc::Count(1), Acc::Count(2)],
            vec![Acc::Avg { sum: 1.0, n: 1 }, Acc::Count(1)],
            vec![Acc::Empty, Acc::Empty],
            vec![Acc::Count(1), Acc::Empty, Acc::Empty],
        ];
        for accs in cases {
            let mut bytes = Vec::new();
            AccState(accs.iter().cloned().collect()).encode(&mut bytes);
            assert_eq!(
                SumCount::decode(&mut bytes.as_slice()),
                Err(CodecError::Invalid("sum and count accumulators")),
                "{accs:?}"
            );
        }
        assert_eq!(
            SumCount::decode(&mut [2u8].as_slice()),
            Err(CodecError::Truncated)
        );
    }

    fn sum_acc() -> impl Strategy<Value = Acc> {
        prop_oneof![
            Just(Acc::Empty),
            (any::<i64>(), any::<bool>()).prop_map(|(v, ts)| Acc::Int { v, ts }),
            any::<f64>().prop_map(Acc::Float),
        ]
    }

    proptest! {
        /// Every sum + count pair of general accumulators decodes into the compact state,
        /// which encodes to the same bytes and converts back to the same accumulators.
        #[test]
        fn codec_is_the_general_states(sum in sum_acc(), n in any::<i64>(), first in any::<bool>()) {
            let accs: Accs = if first {
                [sum, Acc::Count(n)].into_iter().collect()
            } else {
                [Acc::Count(n), sum].into_iter().collect()
            };
            let mut general = Vec::new();
            AccState(accs.clone()).encode(&mut general);
            let mut input = general.as_slice();
            let compact = SumCount::decode(&mut input).unwrap();
            prop_assert!(input.is_empty());
            let mut bytes = Vec::new();
            compact.encode(&mut bytes);
            prop_assert_eq!(bytes, general);
            prop_assert_eq!(compact.to_accs().0.len(), 2);
            prop_assert_eq!(SumCount::from_accs(&compact.to_accs().0), Some(compact));
        }
    }
}
