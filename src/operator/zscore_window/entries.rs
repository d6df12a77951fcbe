//! The windowed z-score's state value: one key's records in the window, sorted by event time,
//! each with its value and — until it is scored — its row.

use crate::record::state_codec::{decode_row, encode_row};
use crate::record::Row;
use crate::state::{CodecError, StateCodec};
use std::collections::VecDeque;

/// One record of a key.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// Event time, ms.
    pub ts: i64,
    /// The scored field's value.
    pub x: f64,
    /// The record, while it waits for the watermark to reach `ts` (`None` once scored);
    /// boxed, so that an entry stays small (entries shift on out-of-order inserts).
    pub row: Option<Box<Row>>,
}

/// One key's entries, sorted by `ts` (arrival order among equal timestamps).
///
/// Invariants kept by the operator: every entry has `ts + window > watermark` (older ones are
/// in no future record's window); every pending entry (`row` is `Some`) has
/// `ts > watermark`, and a later timestamp than every scored one, so the scored entries are
/// a prefix and the pending ones the rest. A deque: the oldest entries leave from the front.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Entries(pub VecDeque<Entry>);

impl Entries {
    /// Inserts `e` after the entries with a timestamp `<= e.ts`.
    pub fn insert(&mut self, e: Entry) {
        let at = self.0.partition_point(|p| p.ts <= e.ts);
        self.0.insert(at, e);
    }

    /// Index of the first pending entry (`len` when none): the scored entries come first.
    pub fn first_pending(&self) -> usize {
        self.0.partition_point(|e| e.row.is_none())
    }

    /// The latest timestamp of a scored entry, if any.
    pub fn last_scored(&self) -> Option<i64> {
        self.first_pending()
            .checked_sub(1)
            .and_then(|i| self.0.get(i))
            .map(|e| e.ts)
    }

    /// When this key next needs the watermark: its earliest pending record's time, or the
    /// time its oldest entry leaves every window (`ts + window`), whichever is first.
    pub fn next_due(&self, window: i64) -> Option<i64> {
        let evict = self.0.front().map(|e| e.ts.saturating_add(window));
        let pending = self.0.get(self.first_pending()).map(|e| e.ts);
        match (evict, pending) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Count, mean and sum of squared deviations of the values with a timestamp in
    /// `(ts - window, ts]`, leaving out entry `skip` (two passes, in timestamp order).
    pub fn moments(&self, ts: i64, window: i64, skip: Option<usize>) -> (u64, f64, f64) {
        let lo = self
            .0
            .partition_point(|p| p.ts <= ts.saturating_sub(window));
        let hi = self.0.partition_point(|p| p.ts <= ts);
        let values = || {
            (lo..hi)
                .filter(move |&i| Some(i) != skip)
                .map(|i| self.0[i].x)
        };
        let n = values().count();
        if n == 0 {
            return (0, 0.0, 0.0);
        }
        let mean = values().sum::<f64>() / n as f64;
        let m2 = values().map(|x| (x - mean) * (x - mean)).sum();
        (n as u64, mean, m2)
    }

    /// Drops the entries that no record after `watermark` can see: `ts + window <= watermark`.
    pub fn evict(&mut self, watermark: i64, window: i64) {
        let n = self
            .0
            .partition_point(|p| p.ts.saturating_add(window) <= watermark);
        self.0.drain(..n);
    }

    /// Values held (scored or pending).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether no entry is held.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Encoding: a count (u32), then per entry `ts i64, x f64`, a tag byte (0 scored, 1 pending)
/// and for a pending one its row. Changing it changes the checkpoint format: bump
/// `checkpoint::FORMAT_VERSION`.
impl StateCodec for Entries {
    fn encode(&self, out: &mut Vec<u8>) {
        (self.0.len() as u32).encode(out);
        for e in &self.0 {
            e.ts.encode(out);
            e.x.encode(out);
            match &e.row {
                None => out.push(0),
                Some(row) => {
                    out.push(1);
                    encode_row(row, out);
                }
            }
        }
    }

    fn decode(input: &mut &[u8]) -> Result<Self, CodecError> {
        let n = u32::decode(input)? as usize;
        let mut v = VecDeque::with_capacity(n.min(input.len()));
        for _ in 0..n {
            let (ts, x) = (i64::decode(input)?, f64::decode(input)?);
            let row = match u8::decode(input)? {
                0 => None,
                1 => Some(Box::new(decode_row(input)?)),
                _ => return Err(CodecError::Invalid("zscore entry tag")),
            };
            v.push_back(Entry { ts, x, row });
        }
        let bad = |(a, b): (&Entry, &Entry)| a.ts > b.ts || (a.row.is_some() && b.row.is_none());
        if v.iter().zip(v.iter().skip(1)).any(bad) {
            return Err(CodecError::Invalid("zscore entries out of order"));
        }
        Ok(Entries(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Value;

    fn e(ts: i64, x: f64, pending: bool) -> Entry {
        let row = pending.then(|| Box::new([Value::I64(ts), Value::F64(x)].into_iter().collect()));
        Entry { ts, x, row }
    }

    #[test]
    fn round_trip_and_bad_bytes() {
        let mut es = Entries::default();
        for (ts, x, p) in [(5, 1.5, true), (3, -2.0, false), (5, 0.0, true)] {
            es.insert(e(ts, x, p));
        }
        assert_eq!(es.0.iter().map(|e| e.ts).collect::<Vec<_>>(), [3, 5, 5]);
        assert_eq!((es.first_pending(), es.last_scored()), (1, Some(3)));
        let mut buf = Vec::new();
        es.encode(&mut buf);
        assert_eq!(Entries::decode(&mut &buf[..]), Ok(es.clone()));
        for cut in 0..buf.len() {
            assert!(Entries::decode(&mut &buf[..cut]).is_err(), "cut at {cut}");
        }
        // A pending entry before a scored one breaks the invariant.
        es.0.swap(0, 1);
        es.0[0].ts = 3;
        let mut buf = Vec::new();
        es.encode(&mut buf);
        assert!(Entries::decode(&mut &buf[..]).is_err());
    }

    #[test]
    fn moments_of_the_window_without_the_skipped_entry() {
        let es = Entries((0..6).map(|t| e(t * 10, t as f64, false)).collect());
        // (15, 50] holds ts 20..=50: values 2, 3, 4, 5; skipping ts 50 (index 5) leaves 2, 3, 4.
        assert_eq!(es.moments(50, 35, Some(5)), (3, 3.0, 2.0));
        assert_eq!(es.moments(50, 35, None), (4, 3.5, 5.0));
        assert_eq!(es.moments(-1, 35, None), (0, 0.0, 0.0));
    }

    #[test]
    fn next_due_and_evict() {
        let mut es = Entries(vec![e(10, 0.0, false), e(20, 0.0, true)].into());
        assert_eq!(es.next_due(5), Some(15));
        assert_eq!(es.next_due(50), Some(20));
        es.evict(15, 5);
        assert_eq!(es.len(), 1);
        assert_eq!(Entries::default().next_due(5), None);
    }
}
