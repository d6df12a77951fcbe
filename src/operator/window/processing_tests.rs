//! Processing-time windows with a clock driven by hand: firing when the clock passes a
//! window's end (on input and on an idle tick), at end of input, and after a checkpoint is
//! restored into another number of workers. Expected rows are written out by hand.

use super::*;
use crate::operator::rolling::{AggFn, Aggregate};
use crate::operator::test_harness::{key, sorted, Workers};
use crate::record::{Row, Value};

type Op = ProcessingWindowOperator;

fn make(kind: WindowKind) -> impl Fn() -> Op {
    move || {
        ProcessingWindowOperator::new(WindowConfig {
            kind,
            allowed_lateness_ms: 0,
            ts_field: 1,
            aggs: vec![
                Aggregate {
                    func: AggFn::Count,
                    field: None,
                },
                Aggregate {
                    func: AggFn::Sum,
                    field: Some(1),
                },
            ],
        })
        .expect("valid")
    }
}

const TUMBLING: WindowKind = WindowKind::Tumbling { size: 1_000 };

/// An input row; its second field would be an event time of 0 (it must not matter).
fn row(k: &str, v: i64) -> Row {
    [Value::Str(k.into()), Value::I64(v)].into_iter().collect()
}

/// The output row of window `[start, end)` of key `k`: count and sum.
fn out(k: &str, start: i64, end: i64, count: i64, sum: i64) -> String {
    let r: Row = [
        Value::Str(k.into()),
        Value::Ts(start),
        Value::Ts(end),
        Value::I64(count),
        Value::I64(sum),
    ]
    .into_iter()
    .collect();
    format!("{r:?}")
}

fn workers(n: usize, kind: WindowKind) -> Workers<Op> {
    Workers::new(n, &make(kind), |op: &mut Op| op.states())
}

/// Processes `v` of key `k` at processing time `now`; what it emitted.
fn rec(w: &mut Workers<Op>, k: &str, v: i64, now: u64) -> Vec<String> {
    let mut o = Vec::new();
    w.with_key(&key(k), now, |op, ctx| {
        op.process(ctx, &mut row(k, v), &mut o)
    });
    sorted(&o)
}

/// An idle tick of every worker at `now`; what fired.
fn tick(w: &mut Workers<Op>, now: u64) -> Vec<String> {
    let mut o = Vec::new();
    for (_, op) in &mut w.ops {
        op.on_processing_time(now, &mut o);
    }
    sorted(&o)
}

fn close(w: &mut Workers<Op>) -> Vec<String> {
    let mut o = Vec::new();
    for (_, op) in &mut w.ops {
        op.close(&mut o);
    }
    sorted(&o)
}

#[test]
fn a_window_fires_when_the_clock_reaches_its_end() {
    let mut w = workers(1, TUMBLING);
    assert!(rec(&mut w, "a", 1, 1_500).is_empty());
    assert!(rec(&mut w, "a", 2, 1_999).is_empty());
    assert!(rec(&mut w, "b", 4, 1_999).is_empty());
    assert!(
        tick(&mut w, 1_999).is_empty(),
        "1999 is still inside [1000, 2000)"
    );
    assert_eq!(
        tick(&mut w, 2_000),
        [out("a", 1_000, 2_000, 2, 3), out("b", 1_000, 2_000, 1, 4)]
    );
    assert!(tick(&mut w, 2_500).is_empty(), "a window fires once");
    assert_eq!(w.ops[0].1.keys_held(), 0, "fired windows are freed");
}

#[test]
fn input_after_the_end_fires_the_window_first_and_opens_the_next() {
    let mut w = workers(1, TUMBLING);
    rec(&mut w, "a", 1, 1_200);
    // No idle tick in between: the record's own clock reading fires [1000, 2000).
    assert_eq!(rec(&mut w, "a", 5, 2_000), [out("a", 1_000, 2_000, 1, 1)]);
    assert_eq!(tick(&mut w, 3_000), [out("a", 2_000, 3_000, 1, 5)]);
}

#[test]
fn an_idle_clock_fires_windows_without_input() {
    let mut w = workers(2, TUMBLING);
    for (i, k) in ["a", "b", "c", "d"].iter().enumerate() {
        rec(&mut w, k, i as i64, 10_100);
    }
    assert!(tick(&mut w, 10_999).is_empty());
    assert_eq!(
        tick(&mut w, 50_000),
        [
            out("a", 10_000, 11_000, 1, 0),
            out("b", 10_000, 11_000, 1, 1),
            out("c", 10_000, 11_000, 1, 2),
            out("d", 10_000, 11_000, 1, 3)
        ]
    );
}

#[test]
fn the_end_of_input_fires_every_open_window_once() {
    let mut w = workers(2, TUMBLING);
    rec(&mut w, "a", 1, 500);
    rec(&mut w, "b", 2, 1_500);
    rec(&mut w, "c", 3, 1_600);
    // b's worker read 1500 already: a later record with an older reading joins [1000, 2000).
    assert!(rec(&mut w, "b", 4, 1_000).is_empty());
    assert_eq!(
        close(&mut w),
        [
            out("a", 0, 1_000, 1, 1),
            out("b", 1_000, 2_000, 2, 6),
            out("c", 1_000, 2_000, 1, 3)
        ]
    );
    assert!(close(&mut w).is_empty());
    assert!(tick(&mut w, 99_000).is_empty());
}

#[test]
fn the_clock_never_goes_back() {
    let mut w = workers(1, TUMBLING);
    rec(&mut w, "a", 1, 5_500);
    // A clock reading from the past (the wall clock was set back) counts as 5500.
    rec(&mut w, "a", 2, 4_200);
    assert!(tick(&mut w, 4_000).is_empty());
    assert_eq!(w.ops[0].1.clock(), 5_500);
    assert_eq!(tick(&mut w, 6_000), [out("a", 5_000, 6_000, 2, 3)]);
}

#[test]
fn watermarks_do_not_fire_processing_time_windows() {
    let mut w = workers(1, TUMBLING);
    rec(&mut w, "a", 1, 1_500);
    let mut o = Vec::new();
    w.ops[0].1.on_watermark(i64::MAX, &mut o);
    assert!(o.is_empty());
    assert_eq!(tick(&mut w, 2_000), [out("a", 1_000, 2_000, 1, 1)]);
}

#[test]
fn restored_windows_fire_on_time_or_at_once_if_their_end_passed() {
    let keys = ["a", "b", "c", "d", "e"];
    let mut w = workers(2, TUMBLING);
    for (i, k) in keys.iter().enumerate() {
        rec(&mut w, k, i as i64, 1_100);
        rec(&mut w, k, 10, 1_900);
    }
    // Checkpoint, restore into 1 worker: the windows come back, nothing fires early.
    w.rescale(1, &make(TUMBLING));
    assert!(tick(&mut w, 1_950).is_empty());
    let fired: Vec<String> = (0..5)
        .map(|i| out(keys[i], 1_000, 2_000, 2, 10 + i as i64))
        .collect();
    assert_eq!(rec(&mut w, "a", 100, 2_100), fired);
    // Checkpoint again, restore into 3 workers long after [2000, 3000) ended: it fires on
    // the first clock reading.
    w.rescale(3, &make(TUMBLING));
    assert_eq!(tick(&mut w, 9_000), [out("a", 2_000, 3_000, 1, 100)]);
    assert!(rec(&mut w, "b", 7, 9_000).is_empty());
    assert_eq!(tick(&mut w, 10_000), [out("b", 9_000, 10_000, 1, 7)]);
}

#[test]
fn sliding_and_session_windows_run_on_the_clock_too() {
    let sliding = WindowKind::Sliding {
        size: 2_000,
        slide: 1_000,
    };
    let mut w = workers(1, sliding);
    rec(&mut w, "a", 1, 1_500);
    assert_eq!(tick(&mut w, 2_000), [out("a", 0, 2_000, 1, 1)]);
    assert_eq!(tick(&mut w, 3_000), [out("a", 1_000, 3_000, 1, 1)]);

    let session = WindowKind::Session { gap: 100 };
    let mut w = workers(1, session);
    rec(&mut w, "a", 1, 1_000);
    rec(&mut w, "a", 2, 1_050);
    assert!(tick(&mut w, 1_149).is_empty());
    assert_eq!(tick(&mut w, 1_150), [out("a", 1_000, 1_150, 2, 3)]);
}
