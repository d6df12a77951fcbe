//! The join against a naive oracle (every earlier row of the other side, no state freed) on
//! random input, across snapshot → restore into another number of workers.

use super::*;
use crate::operator::test_harness::{key, sorted, Workers};
use crate::record::Value;
use proptest::prelude::*;

#[derive(Clone, Debug)]
pub(crate) enum Ev {
    Rec { left: bool, k: u8, ts: i64, v: i64 },
    Wm(i64),
    Rescale(usize),
}

pub(crate) fn row(k: u8, ts: i64, v: i64) -> Row {
    [
        Value::Str(format!("k{k}").into()),
        Value::I64(v),
        Value::Ts(ts),
    ]
    .into_iter()
    .collect()
}

pub(crate) fn events() -> impl Strategy<Value = Vec<Ev>> {
    let ev = prop_oneof![
        8 => (any::<bool>(), 0u8..4, 0i64..60, 0i64..100)
            .prop_map(|(left, k, ts, v)| Ev::Rec { left, k, ts, v }),
        2 => (0i64..60).prop_map(Ev::Wm),
        1 => (1usize..3).prop_map(Ev::Rescale),
    ];
    prop::collection::vec(ev, 0..60).prop_map(|mut evs| {
        for (i, e) in evs.iter_mut().enumerate() {
            if let Ev::Rec { ts, .. } | Ev::Wm(ts) = e {
                *ts += 3 * i as i64;
            }
        }
        evs
    })
}

fn ttl_of(millis: Option<i64>) -> Option<JoinTtl> {
    millis.map(|millis| JoinTtl::EventTime {
        millis,
        left_ts: 2,
        right_ts: 2,
    })
}

/// Runs the join; one sorted output list per event, and the rows held at the end.
fn run(ttl: Option<i64>, evs: &[Ev]) -> (Vec<Vec<String>>, usize) {
    let mk = move || JoinOperator::new(ttl_of(ttl));
    let mut w = Workers::new(1, &mk, |op: &mut JoinOperator| KeyedCoOperator::states(op));
    let mut wm = i64::MIN;
    let mut steps = Vec::new();
    for ev in evs {
        let mut out = Vec::new();
        match *ev {
            Ev::Rec { left, k, ts, v } => w.with_key(&key(&format!("k{k}")), 0, |op, ctx| {
                if left {
                    op.process1(ctx, &mut row(k, ts, v), &mut out);
                } else {
                    op.process2(ctx, &mut row(k, ts, v), &mut out);
                }
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
        steps.push(sorted(&out));
    }
    let held = w.ops.iter().map(|(_, op)| op.rows_held()).sum();
    (steps, held)
}

/// Every earlier row of the other side and the same key, live at the watermark.
fn oracle(ttl: Option<i64>, evs: &[Ev]) -> Vec<Vec<String>> {
    let mut seen: Vec<(bool, u8, i64, i64)> = Vec::new();
    let mut wm = i64::MIN;
    let mut steps = Vec::new();
    for ev in evs {
        let mut out = Vec::new();
        match *ev {
            Ev::Rec { left, k, ts, v } => {
                for &(l2, k2, ts2, v2) in &seen {
                    let live = ttl.is_none_or(|t| ts2 + t > wm);
                    if l2 != left && k2 == k && live {
                        let (a, b) = if left {
                            ((k, ts, v), (k2, ts2, v2))
                        } else {
                            ((k2, ts2, v2), (k, ts, v))
                        };
                        out.push(concat(&row(a.0, a.1, a.2), &row(b.0, b.1, b.2)));
                    }
                }
                seen.push((left, k, ts, v));
            }
            Ev::Wm(t) => wm = wm.max(t),
            Ev::Rescale(_) => {}
        }
        steps.push(sorted(&out));
    }
    steps
}

proptest! {
    #[test]
    fn join_matches_oracle(mut evs in events(), ttl in prop::option::of(1i64..40)) {
        evs.push(Ev::Wm(i64::MAX));
        let (steps, held) = run(ttl, &evs);
        prop_assert_eq!(steps, oracle(ttl, &evs));
        if ttl.is_some() {
            prop_assert_eq!(held, 0, "an event-time TTL frees every row at the end");
        }
    }
}

#[test]
fn processing_time_ttl_forgets_rows() {
    let mk = || JoinOperator::new(Some(JoinTtl::Processing { millis: 100 }));
    let mut w = Workers::new(1, &mk, |op: &mut JoinOperator| KeyedCoOperator::states(op));
    let k = key("k1");
    let mut out = Vec::new();
    w.with_key(&k, 1_000, |op, ctx| {
        op.process1(ctx, &mut row(1, 0, 1), &mut out)
    });
    w.with_key(&k, 1_099, |op, ctx| {
        op.process2(ctx, &mut row(1, 0, 2), &mut out)
    });
    assert_eq!(out.len(), 1, "live at 1099");
    w.with_key(&k, 1_100, |op, ctx| {
        op.process2(ctx, &mut row(1, 0, 3), &mut out)
    });
    assert_eq!(out.len(), 1, "the left row expired at 1100");
    assert_eq!(
        out[0].as_slice(),
        concat(&row(1, 0, 1), &row(1, 0, 2)).as_slice()
    );
    let op = &mut w.ops[0].1;
    op.on_processing_time(1_198, &mut out);
    assert_eq!(
        op.rows_held(),
        2,
        "the right rows are live until 1199 and 1200"
    );
    op.on_processing_time(1_200, &mut out);
    assert_eq!(op.rows_held(), 0);
}
