//! The interval join against a naive oracle (every earlier on-time row of the other side, no
//! state freed) on random out-of-order input, across snapshot → restore into another number
//! of workers; and the state it holds against the rows that can still match.

use super::*;
use crate::operator::join::tests::{events, row, Ev};
use crate::operator::test_harness::{key, sorted, Workers};
use proptest::prelude::*;

/// One sorted output list per event (pairs, then `late:` rows); rows held after each event.
fn run(lower: i64, upper: i64, evs: &[Ev]) -> (Vec<Vec<String>>, Vec<usize>) {
    let cfg = IntervalJoinConfig {
        left_ts: 2,
        right_ts: 2,
        lower,
        upper,
    };
    let mk = move || IntervalJoinOperator::new(cfg).expect("valid bounds");
    let mut w = Workers::new(1, &mk, |op: &mut IntervalJoinOperator| {
        KeyedCoOperator::states(op)
    });
    let (mut wm, mut steps, mut held) = (i64::MIN, Vec::new(), Vec::new());
    for ev in evs {
        let (mut out, mut late) = (Vec::new(), Vec::new());
        match *ev {
            Ev::Rec { left, k, ts, v } => w.with_key(&key(&format!("k{k}")), 0, |op, ctx| {
                if left {
                    op.process1(ctx, &mut row(k, ts, v), &mut out);
                } else {
                    op.process2(ctx, &mut row(k, ts, v), &mut out);
                }
                op.drain_side(usize::from(!left), &mut late);
            }),
            Ev::Wm(t) => {
                wm = wm.max(t);
                w.ops
                    .iter_mut()
                    .for_each(|(_, op)| op.on_watermark(t, &mut out));
            }
            Ev::Rescale(n) => {
                w.rescale(n, &mk);
                w.ops
                    .iter_mut()
                    .for_each(|(_, op)| op.on_watermark(wm, &mut out));
            }
        }
        let mut step = sorted(&out);
        step.extend(sorted(&late).into_iter().map(|r| format!("late: {r}")));
        steps.push(step);
        held.push(w.ops.iter().map(|(_, op)| op.rows_held()).sum());
    }
    (steps, held)
}

/// Pairs of on-time rows by the definition; at watermark steps, the number of rows that can
/// still match a future on-time row (the state the operator must hold, no more).
fn oracle(lower: i64, upper: i64, evs: &[Ev]) -> (Vec<Vec<String>>, Vec<Option<usize>>) {
    let mut seen: Vec<(bool, u8, i64, i64)> = Vec::new();
    let (mut wm, mut steps, mut held) = (i64::MIN, Vec::new(), Vec::new());
    for ev in evs {
        let (mut out, mut late, mut now_held) = (Vec::new(), Vec::new(), None);
        match *ev {
            Ev::Rec { k, ts, v, .. } if ts <= wm => late.push(row(k, ts, v)),
            Ev::Rec { left, k, ts, v } => {
                for &(l2, k2, ts2, v2) in &seen {
                    let (lt, rt) = if left { (ts, ts2) } else { (ts2, ts) };
                    if l2 != left && k2 == k && lt + lower <= rt && rt <= lt + upper {
                        let (a, b) = if left {
                            (row(k, ts, v), row(k2, ts2, v2))
                        } else {
                            (row(k2, ts2, v2), row(k, ts, v))
                        };
                        out.push(concat(&a, &b));
                    }
                }
                seen.push((left, k, ts, v));
            }
            Ev::Wm(t) => {
                wm = wm.max(t);
                let can_match = |&&(l, _, ts, _): &&(bool, u8, i64, i64)| {
                    if l {
                        ts.saturating_add(upper) > wm
                    } else {
                        ts.saturating_sub(lower) > wm
                    }
                };
                now_held = Some(seen.iter().filter(can_match).count());
            }
            Ev::Rescale(_) => {}
        }
        let mut step = sorted(&out);
        step.extend(sorted(&late).into_iter().map(|r| format!("late: {r}")));
        steps.push(step);
        held.push(now_held);
    }
    (steps, held)
}

proptest! {
    #[test]
    fn interval_join_matches_oracle(mut evs in events(), lower in -30i64..30, len in 0i64..40) {
        let upper = lower + len;
        evs.push(Ev::Wm(i64::MAX));
        let (steps, held) = run(lower, upper, &evs);
        let (want, want_held) = oracle(lower, upper, &evs);
        prop_assert_eq!(steps, want);
        for (i, (h, w)) in held.iter().zip(&want_held).enumerate() {
            if let Some(w) = w {
                prop_assert_eq!(h, w, "rows held after event {}", i);
            }
        }
        prop_assert_eq!(held.last().copied(), Some(0), "the end frees everything");
    }
}

#[test]
fn bounds_are_checked_and_side_outputs_named() {
    let cfg = IntervalJoinConfig {
        left_ts: 0,
        right_ts: 0,
        lower: 2,
        upper: 1,
    };
    assert_eq!(
        IntervalJoinOperator::new(cfg).err(),
        Some(IntervalError { lower: 2, upper: 1 })
    );
    let op = IntervalJoinOperator::new(IntervalJoinConfig { lower: -1, ..cfg }).expect("valid");
    assert_eq!(op.side_outputs(), ["late_left", "late_right"]);
}

#[test]
fn late_rows_are_counted_and_drained_per_side() {
    let cfg = IntervalJoinConfig {
        left_ts: 2,
        right_ts: 2,
        lower: 0,
        upper: 5,
    };
    let mk = move || IntervalJoinOperator::new(cfg).expect("valid");
    let mut w = Workers::new(1, &mk, |op: &mut IntervalJoinOperator| {
        KeyedCoOperator::states(op)
    });
    let mut out = Vec::new();
    w.ops[0].1.on_watermark(100, &mut out);
    let (mut left, mut right) = (Vec::new(), Vec::new());
    w.with_key(&key("k1"), 0, |op, ctx| {
        op.process1(ctx, &mut row(1, 100, 1), &mut out);
        op.process2(ctx, &mut row(1, 50, 2), &mut out);
        op.process2(ctx, &mut row(1, 101, 3), &mut out);
        op.drain_side(0, &mut left);
        op.drain_side(1, &mut right);
        assert_eq!(op.late_count(), 2);
    });
    assert!(out.is_empty(), "late rows join nothing");
    assert_eq!((left, right), (vec![row(1, 100, 1)], vec![row(1, 50, 2)]));
}
