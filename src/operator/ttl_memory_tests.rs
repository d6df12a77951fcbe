//! The pipeline ops with a `ttl` keep bounded state for an unbounded stream of fresh keys:
//! `dedup` with a processing-time TTL (freed by the state's incremental cleanup) and with an
//! event-time TTL (freed by event-time timers, [`super::dedup_event`]).

use super::dedup::Dedup;
use super::dedup_event::EventTimeDedup;
use super::KeyedOperator;
use crate::record::{Row, RowKey, Value};
use crate::state::{KeyContext, StableKey};

/// Time units, fresh keys per unit, TTL in units (ms): 1 000 keys live at any time.
const UNITS: i64 = 2_000;
const PER_UNIT: i64 = 10;
const TTL: i64 = 100;
const LIVE: usize = (PER_UNIT * TTL) as usize;

/// Entries held by all of the operator's keyed states (timers included).
fn held(op: &mut dyn KeyedOperator<RowKey, Row, Row>) -> usize {
    op.states()
        .iter()
        .map(|s| (0..128).map(|kg| s.entries_in_group(kg)).sum::<usize>())
        .sum()
}

/// Streams `UNITS × PER_UNIT` fresh keys (row: key, ts) at processing time and watermark
/// `t`; returns the peak of the entries held and the rows emitted.
fn stream(op: &mut dyn KeyedOperator<RowKey, Row, Row>) -> (usize, usize) {
    let (mut peak, mut emitted) = (0, 0);
    let mut out = Vec::new();
    for t in 0..UNITS {
        op.on_watermark(t - 1, &mut out);
        for j in 0..PER_UNIT {
            let key = RowKey::from_values(&[Value::I64(t * PER_UNIT + j)]);
            let hash = key.stable_hash();
            let ctx = KeyContext {
                key: &key,
                local_group: (hash & 127) as usize,
                hash,
                now_ms: t as u64,
            };
            let mut row: Row = [Value::I64(t * PER_UNIT + j), Value::Ts(t)]
                .into_iter()
                .collect();
            op.process(&ctx, &mut row, &mut out);
        }
        emitted += out.len();
        out.clear();
        peak = peak.max(held(op));
    }
    (peak, emitted)
}

#[test]
fn dedup_with_processing_time_ttl_stays_bounded() {
    let mut op = Dedup::new(Some(std::time::Duration::from_millis(TTL as u64)));
    for s in op.states() {
        s.set_key_groups(0..128);
    }
    let (peak, emitted) = stream(&mut op);
    assert_eq!(emitted, (UNITS * PER_UNIT) as usize, "every key is new");
    assert!(peak <= 2 * LIVE, "peak {peak} entries for {LIVE} live keys");
}

#[test]
fn dedup_with_event_time_ttl_stays_bounded() {
    let mut op = EventTimeDedup::new(1, TTL);
    for s in op.states() {
        s.set_key_groups(0..128);
    }
    let (peak, emitted) = stream(&mut op);
    assert_eq!(emitted, (UNITS * PER_UNIT) as usize, "every key is new");
    // One expiry entry and one timer per live key.
    assert!(
        peak <= 2 * 2 * LIVE,
        "peak {peak} entries for {LIVE} live keys"
    );
}
