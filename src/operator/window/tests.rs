//! The window operator against a naive oracle on random out-of-order input, step by step,
//! across snapshot → restore into another number of workers.

use super::*;
use crate::operator::rolling::{AggFn, Aggregate};
use crate::operator::test_harness::{key, sorted, Workers};
use crate::record::{Row, Value};
use proptest::prelude::*;
use std::collections::BTreeMap;

#[derive(Clone, Debug)]
enum Ev {
    Rec {
        k: u8,
        ts: i64,
        v: i64,
    },
    Wm(i64),
    /// Checkpoint and restore into this many workers.
    Rescale(usize),
}

fn aggs() -> Vec<Aggregate> {
    let a = |func, field| Aggregate { func, field };
    vec![
        a(AggFn::Count, None),
        a(AggFn::Sum, Some(1)),
        a(AggFn::Min, Some(1)),
        a(AggFn::Max, Some(1)),
        a(AggFn::Avg, Some(1)),
    ]
}

fn row(k: u8, ts: i64, v: i64) -> Row {
    [
        Value::Str(format!("k{k}").into()),
        Value::I64(v),
        Value::Ts(ts),
    ]
    .into_iter()
    .collect()
}

/// The expected output row, computed from the values directly.
fn out_row(k: u8, start: i64, end: i64, vals: &[i64]) -> Row {
    let sum: i64 = vals.iter().sum();
    [
        Value::Str(format!("k{k}").into()),
        Value::Ts(start),
        Value::Ts(end),
        Value::I64(vals.len() as i64),
        Value::I64(sum),
        Value::I64(*vals.iter().min().expect("non-empty")),
        Value::I64(*vals.iter().max().expect("non-empty")),
        Value::F64(sum as f64 / vals.len() as f64),
    ]
    .into_iter()
    .collect()
}

fn make(kind: WindowKind, lateness: i64) -> impl Fn() -> WindowOperator {
    move || {
        WindowOperator::new(WindowConfig {
            kind,
            allowed_lateness_ms: lateness,
            ts_field: 2,
            aggs: aggs(),
        })
        .expect("valid")
    }
}

/// Runs the operator; one sorted output list per event (main output, then `late:` rows).
fn run(kind: WindowKind, lateness: i64, evs: &[Ev]) -> Vec<Vec<String>> {
    let mk = make(kind, lateness);
    let mut w = Workers::new(1, &mk, |op: &mut WindowOperator| op.states());
    let mut wm = i64::MIN;
    let mut steps = Vec::new();
    for ev in evs {
        let (mut out, mut late) = (Vec::new(), Vec::new());
        match *ev {
            Ev::Rec { k, ts, v } => w.with_key(&key(&format!("k{k}")), 0, |op, ctx| {
                op.process(ctx, &mut row(k, ts, v), &mut out);
                op.drain_side(0, &mut late);
            }),
            Ev::Wm(t) => {
                wm = wm.max(t);
                for (_, op) in &mut w.ops {
                    op.on_watermark(t, &mut out);
                }
            }
            Ev::Rescale(n) => {
                w.rescale(n, &mk);
                for (_, op) in &mut w.ops {
                    op.on_watermark(wm, &mut out);
                }
            }
        }
        let mut step = sorted(&out);
        step.extend(sorted(&late).into_iter().map(|r| format!("late: {r}")));
        steps.push(step);
    }
    steps
}

/// The naive oracle of fixed (tumbling, sliding) windows: every window start `j * slide`
/// whose span holds the record, values kept per window, fired by scanning all windows.
fn oracle_fixed(size: i64, slide: i64, lateness: i64, evs: &[Ev]) -> Vec<Vec<String>> {
    let mut wins: BTreeMap<(u8, i64), Vec<i64>> = BTreeMap::new();
    let mut wm = i64::MIN;
    let mut steps = Vec::new();
    for ev in evs {
        let (mut out, mut late) = (Vec::new(), Vec::new());
        match *ev {
            Ev::Rec { k, ts, v } => {
                let starts: Vec<i64> = (ts.div_euclid(slide) - size / slide - 1
                    ..=ts.div_euclid(slide))
                    .map(|j| j * slide)
                    .filter(|s| *s <= ts && ts < s + size && s + size - 1 + lateness > wm)
                    .collect();
                if starts.is_empty() {
                    late.push(row(k, ts, v));
                }
                for s in starts {
                    let vals = wins.entry((k, s)).or_default();
                    vals.push(v);
                    if s + size - 1 <= wm {
                        out.push(out_row(k, s, s + size, vals));
                    }
                }
            }
            Ev::Wm(t) if t > wm => {
                for (&(k, s), vals) in &wins {
                    if s + size - 1 > wm && s + size - 1 <= t {
                        out.push(out_row(k, s, s + size, vals));
                    }
                }
                wm = t;
            }
            _ => {}
        }
        let mut step = sorted(&out);
        step.extend(sorted(&late).into_iter().map(|r| format!("late: {r}")));
        steps.push(step);
    }
    steps
}

/// Sessions of `recs` (unsorted `(ts, v)`): `(start, end, values)`.
fn sessions(recs: &[(i64, i64)], gap: i64) -> Vec<(i64, i64, Vec<i64>)> {
    let mut recs = recs.to_vec();
    recs.sort();
    let mut out: Vec<(i64, i64, Vec<i64>)> = Vec::new();
    for (ts, v) in recs {
        match out.last_mut() {
            Some(s) if ts < s.1 => {
                s.1 = s.1.max(ts + gap);
                s.2.push(v);
            }
            _ => out.push((ts, ts + gap, vec![v])),
        }
    }
    out
}

/// The naive oracle of session windows (no allowed lateness): the open records of each key,
/// re-grouped into sessions from scratch at every step.
fn oracle_sessions(gap: i64, evs: &[Ev]) -> Vec<Vec<String>> {
    let mut open: BTreeMap<u8, Vec<(i64, i64)>> = BTreeMap::new();
    let mut wm = i64::MIN;
    let mut steps = Vec::new();
    for ev in evs {
        let (mut out, mut late) = (Vec::new(), Vec::new());
        match *ev {
            Ev::Rec { k, ts, v } => {
                let recs = open.entry(k).or_default();
                recs.push((ts, v));
                let mine = sessions(recs, gap)
                    .into_iter()
                    .find(|(s, e, _)| *s <= ts && ts < *e)
                    .expect("the record's session");
                if mine.1 - 1 <= wm {
                    recs.pop();
                    late.push(row(k, ts, v));
                }
            }
            Ev::Wm(t) if t > wm => {
                wm = t;
                for (&k, recs) in &mut open {
                    for (s, e, vals) in sessions(recs, gap) {
                        if e - 1 <= wm {
                            out.push(out_row(k, s, e, &vals));
                            recs.retain(|(ts, _)| !(s <= *ts && *ts < e));
                        }
                    }
                }
            }
            _ => {}
        }
        let mut step = sorted(&out);
        step.extend(sorted(&late).into_iter().map(|r| format!("late: {r}")));
        steps.push(step);
    }
    steps
}

/// Random out-of-order input: timestamps jitter around a rising clock; watermarks lag it.
fn events() -> impl Strategy<Value = Vec<Ev>> {
    let ev = prop_oneof![
        8 => (0u8..4, 0i64..120, -6i64..7).prop_map(|(k, dt, v)| Ev::Rec { k, ts: dt, v }),
        3 => (0i64..100).prop_map(Ev::Wm),
        1 => (1usize..3).prop_map(Ev::Rescale),
    ];
    prop::collection::vec(ev, 0..60).prop_map(|mut evs| {
        // Shift by a clock rising with the position, so that input is mostly in order.
        for (i, e) in evs.iter_mut().enumerate() {
            match e {
                Ev::Rec { ts, .. } | Ev::Wm(ts) => *ts += 10 * i as i64 - 100,
                Ev::Rescale(_) => {}
            }
        }
        evs.push(Ev::Wm(i64::MAX));
        evs
    })
}

proptest! {
    #[test]
    fn tumbling_matches_oracle(evs in events(), size in 1i64..80, lateness in 0i64..60) {
        let kind = WindowKind::Tumbling { size };
        prop_assert_eq!(run(kind, lateness, &evs), oracle_fixed(size, size, lateness, &evs));
    }

    #[test]
    fn sliding_matches_oracle(evs in events(), size in 1i64..80, slide in 1i64..80, lateness in 0i64..30) {
        prop_assume!(slide <= size);
        let kind = WindowKind::Sliding { size, slide };
        prop_assert_eq!(run(kind, lateness, &evs), oracle_fixed(size, slide, lateness, &evs));
    }

    #[test]
    fn sessions_match_oracle(evs in events(), gap in 1i64..60) {
        let kind = WindowKind::Session { gap };
        prop_assert_eq!(run(kind, 0, &evs), oracle_sessions(gap, &evs));
    }
}

#[test]
fn sessions_merge_when_a_record_bridges_them() {
    let evs = [
        Ev::Rec {
            k: 1,
            ts: 100,
            v: 1,
        },
        Ev::Rec {
            k: 1,
            ts: 130,
            v: 2,
        },
        Ev::Rec {
            k: 1,
            ts: 115,
            v: 3,
        }, // [115, 135) overlaps both
        Ev::Wm(148),
        Ev::Wm(149),
    ];
    let steps = run(WindowKind::Session { gap: 20 }, 0, &evs);
    assert!(steps[..4].iter().all(Vec::is_empty), "{steps:?}");
    assert_eq!(steps[4], sorted(&[out_row(1, 100, 150, &[1, 2, 3])]));
}

#[test]
fn allowed_late_session_record_reemits_and_late_one_goes_aside() {
    let evs = [
        Ev::Rec { k: 0, ts: 10, v: 5 },
        Ev::Wm(19),                     // fires [10, 20)
        Ev::Rec { k: 0, ts: 5, v: 1 },  // allowed late: re-emits [5, 20)
        Ev::Rec { k: 0, ts: 12, v: 2 }, // extends it to [5, 22): fires again at 21
        Ev::Wm(40),                     // fires, then cleanup at 21 + 10
        Ev::Rec { k: 0, ts: 12, v: 7 }, // late
    ];
    let steps = run(WindowKind::Session { gap: 10 }, 10, &evs);
    assert_eq!(steps[1], sorted(&[out_row(0, 10, 20, &[5])]));
    assert_eq!(steps[2], sorted(&[out_row(0, 5, 20, &[5, 1])]));
    assert!(steps[3].is_empty(), "{steps:?}");
    assert_eq!(steps[4], sorted(&[out_row(0, 5, 22, &[5, 1, 2])]));
    assert_eq!(steps[5], vec![format!("late: {:?}", row(0, 12, 7))]);
}

#[test]
fn records_without_a_timestamp_go_to_late() {
    let mk = make(WindowKind::Tumbling { size: 10 }, 0);
    let mut w = Workers::new(1, &mk, |op: &mut WindowOperator| op.states());
    let mut r = row(0, 1, 1);
    r[2] = Value::Null;
    let (mut out, mut late) = (Vec::new(), Vec::new());
    w.with_key(&key("k0"), 0, |op, ctx| {
        op.process(ctx, &mut r.clone(), &mut out);
        op.drain_side(0, &mut late);
        assert_eq!(op.side_outputs(), ["late"]);
        assert_eq!(op.late_count(), 1);
    });
    assert!(out.is_empty());
    assert_eq!(late, [r]);
}

/// Two source splits through generators and a tracker into a tumbling window: while split 1
/// is silent it holds the window back; once idle it does not; when it comes back its old
/// records are late, its new ones count.
#[test]
fn idle_split_stops_holding_windows_back_and_rejoins() {
    use crate::time::{WatermarkConfig, WatermarkEvent, WatermarkGenerator, WatermarkTracker};
    let cfg = WatermarkConfig {
        max_out_of_orderness_ms: 0,
        interval_ms: 0,
        idle_timeout_ms: Some(1_000),
    };
    let mut splits = [WatermarkGenerator::new(cfg), WatermarkGenerator::new(cfg)];
    let mut tracker = WatermarkTracker::new(2);
    let mk = make(WindowKind::Tumbling { size: 100 }, 0);
    let mut w = Workers::new(1, &mk, |op: &mut WindowOperator| op.states());
    let (mut out, mut late) = (Vec::new(), Vec::new());
    // (processing time, split, event time, value); `None`: only a poll.
    type Step = (u64, usize, Option<(i64, i64)>);
    let script: &[Step] = &[
        (0, 0, Some((10, 1))),
        (0, 1, Some((20, 2))),
        (10, 0, Some((150, 3))), // split 1 is silent: [0, 100) must wait
        (500, 0, Some((250, 4))),
        (1_000, 1, None), // split 1 idle: the watermark jumps to split 0's 249
        (1_200, 1, Some((50, 5))), // split 1 rejoins: 50 is late
        (1_200, 1, Some((260, 6))),
    ];
    let mut fired_at = Vec::new();
    for (step, &(now, split, rec)) in script.iter().enumerate() {
        if let Some((ts, v)) = rec {
            splits[split].on_record(ts, now);
            w.with_key(&key("k0"), now, |op, ctx| {
                op.process(ctx, &mut row(0, ts, v), &mut out);
                op.drain_side(0, &mut late);
            });
        }
        for (s, g) in splits.iter_mut().enumerate() {
            let Some(ev) = g.poll(now) else { continue };
            if let Some(wm) = tracker.update(s, ev) {
                let before = out.len();
                w.ops[0].1.on_watermark(wm, &mut out);
                fired_at.extend(std::iter::repeat_n(step, out.len() - before));
            }
            if s == 1 && now == 1_000 {
                assert_eq!(ev, WatermarkEvent::Idle);
            }
        }
    }
    assert_eq!(
        fired_at,
        [4, 4],
        "[0, 100) and [100, 200) fire once split 1 is idle"
    );
    assert_eq!(
        sorted(&out),
        sorted(&[out_row(0, 0, 100, &[1, 2]), out_row(0, 100, 200, &[3])])
    );
    assert_eq!(late, [row(0, 50, 5)]);
    for (s, g) in splits.iter_mut().enumerate() {
        if let Some(wm) = tracker.update(s, g.end()) {
            w.ops[0].1.on_watermark(wm, &mut out);
        }
    }
    assert_eq!(out.last(), Some(&out_row(0, 200, 300, &[4, 6])));
}
