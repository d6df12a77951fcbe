//! Per-key anomaly score: the z-score of a field against the key's running mean and standard
//! deviation (Welford's algorithm) *before* the record; the record is emitted with the score
//! appended.

use super::KeyedOperator;
use crate::record::{Row, RowKey, Value};
use crate::state::{KeyContext, KeyedStateStore, ValueState};

/// Running statistics of one key: (count, mean, sum of squared deviations).
pub type Moments = (u64, f64, f64);

/// The z-score operator.
pub struct ZScore {
    field: usize,
    threshold: Option<f64>,
    min_count: u64,
    state: ValueState<RowKey, Moments>,
}

impl ZScore {
    /// Scores field `field`; with `threshold`, emits only records with |score| ≥ threshold;
    /// a key needs `min_count` (≥ 2) earlier records before it is scored (score null before).
    pub fn new(field: usize, threshold: Option<f64>, min_count: u64) -> Self {
        ZScore {
            field,
            threshold,
            min_count: min_count.max(2),
            state: ValueState::new("zscore"),
        }
    }
}

/// The z-score of `x` given moments of earlier values (sample standard deviation), if defined.
pub fn score(moments: &Moments, x: f64, min_count: u64) -> Option<f64> {
    let (n, mean, m2) = *moments;
    if n < min_count.max(2) {
        return None;
    }
    let std = (m2 / (n - 1) as f64).sqrt();
    if std > 0.0 {
        Some((x - mean) / std)
    } else {
        None
    }
}

impl KeyedOperator<RowKey, Row, Row> for ZScore {
    fn process(&mut self, ctx: &KeyContext<'_, RowKey>, input: &mut Row, out: &mut Vec<Row>) {
        let Some(x) = input.get(self.field).and_then(Value::as_f64) else {
            return;
        };
        let m = self.state.get_or_insert_with(ctx, || (0, 0.0, 0.0));
        let s = score(m, x, self.min_count);
        // Welford update.
        m.0 += 1;
        let delta = x - m.1;
        m.1 += delta / m.0 as f64;
        m.2 += delta * (x - m.1);
        let emit = match (self.threshold, s) {
            (None, _) => true,
            (Some(t), Some(s)) => s.abs() >= t,
            (Some(_), None) => false,
        };
        if emit {
            // The output is a clone made on this thread (see `KeyedOperator::process`), built
            // in its slot of `out`.
            out.push(input.clone());
            if let Some(row) = out.last_mut() {
                row.push(s.map(Value::F64).unwrap_or(Value::Null));
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_against_previous_values() {
        let mut op = ZScore::new(1, None, 2);
        op.states()[0].set_key_groups(0..1);
        let key = RowKey::from_values(&[Value::I64(1)]);
        let ctx = KeyContext {
            key: &key,
            local_group: 0,
            hash: crate::state::StableKey::stable_hash(&key),
            now_ms: 0,
        };
        let mut out = Vec::new();
        for v in [10, 12, 14, 30] {
            let mut row: Row = [Value::I64(1), Value::I64(v)].into_iter().collect();
            op.process(&ctx, &mut row, &mut out);
        }
        assert_eq!(out[0][2], Value::Null);
        assert_eq!(out[1][2], Value::Null); // one earlier value: no deviation yet
                                            // Before 14: values 10, 12 → mean 11, sample std sqrt(2) → (14-11)/1.41421356
        let Value::F64(s) = out[2][2] else {
            panic!("score expected")
        };
        assert!((s - 3.0 / 2f64.sqrt()).abs() < 1e-12);
        // Before 30: 10, 12, 14 → mean 12, std 2 → 9
        assert_eq!(out[3][2], Value::F64(9.0));
    }
}
