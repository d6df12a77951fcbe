//! The windowed z-score against a naive model (every arrived record of the key, nothing
//! freed) on random out-of-order input with watermarks, across snapshot → restore into another
//! number of workers; state bounded by the window; scores independent of arrival order.

use super::*;
use crate::operator::join::tests::{events, row, Ev};
use crate::operator::test_harness::{key, Workers};
use proptest::prelude::*;

fn cfg(window_ms: i64, threshold: Option<f64>, min_count: u64) -> WindowedZScoreConfig {
    WindowedZScoreConfig {
        field: 1,
        ts_field: 2,
        window_ms,
        threshold,
        min_count,
    }
}

type Ops = Workers<WindowedZScore>;

fn workers(n: usize, c: WindowedZScoreConfig) -> Ops {
    Workers::new(n, &|| WindowedZScore::new(c), |op: &mut WindowedZScore| {
        KeyedOperator::states(op)
    })
}

fn watermark(w: &mut Ops, t: i64, out: &mut Vec<Row>) {
    w.ops.iter_mut().for_each(|(_, op)| op.on_watermark(t, out));
}

/// `(value, score)` of output rows, by value (values are unique per record in the tests).
fn scores(rows: &[Row]) -> Vec<(i64, Option<f64>)> {
    let mut v: Vec<_> = rows
        .iter()
        .map(|r| match (&r[1], &r[3]) {
            (Value::I64(v), Value::F64(s)) => (*v, Some(*s)),
            (Value::I64(v), _) => (*v, None),
            _ => (i64::MIN, None),
        })
        .collect();
    v.sort_by_key(|p| p.0);
    v
}

/// Sample z-score of `x` against `xs` (two passes), if defined.
fn naive(xs: &[f64], x: f64, min_count: usize) -> Option<f64> {
    if xs.len() < min_count.max(2) {
        return None;
    }
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let sd = (xs.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    (sd > 0.0).then(|| (x - mean) / sd)
}

/// One arrived record of the model.
struct Rec {
    k: u8,
    ts: i64,
    v: i64,
    pending: bool,
}

/// The model's output for watermark `wm` advancing: every pending record at or before it,
/// against every other arrived record of its key in its window.
fn model_fire(seen: &mut [Rec], wm: i64, window: i64) -> Vec<(i64, Option<f64>)> {
    let due: Vec<usize> = (0..seen.len())
        .filter(|&i| seen[i].pending && seen[i].ts <= wm)
        .collect();
    let mut want: Vec<_> = due
        .iter()
        .map(|&i| {
            let r = &seen[i];
            let xs: Vec<f64> = seen
                .iter()
                .enumerate()
                .filter(|(j, o)| *j != i && o.k == r.k && o.ts > r.ts - window && o.ts <= r.ts)
                .map(|(_, o)| o.v as f64)
                .collect();
            (r.v, naive(&xs, r.v as f64, 2))
        })
        .collect();
    due.iter().for_each(|&i| seen[i].pending = false);
    want.sort_by_key(|p| p.0);
    want
}

fn same(got: &[(i64, Option<f64>)], want: &[(i64, Option<f64>)]) -> Result<(), TestCaseError> {
    prop_assert_eq!(got.len(), want.len(), "{:?} vs {:?}", got, want);
    for (g, w) in got.iter().zip(want) {
        prop_assert_eq!(g.0, w.0);
        match (g.1, w.1) {
            (Some(a), Some(b)) => prop_assert!((a - b).abs() < 1e-9, "{} vs {}", a, b),
            (a, b) => prop_assert_eq!(a, b),
        }
    }
    Ok(())
}

proptest! {
    /// Records wait for the watermark and are scored against all others of their window; late
    /// ones at once against what is held; the state is the last window plus the pending.
    #[test]
    fn matches_the_naive_model(evs in events(), window in 1i64..40) {
        let c = cfg(window, None, 2);
        let mk = move || WindowedZScore::new(c);
        let mut w = workers(1, c);
        let mut seen: Vec<Rec> = Vec::new();
        let mut wm = i64::MIN;
        let mut evs = evs;
        evs.push(Ev::Wm(i64::MAX));
        for (i, ev) in evs.iter().enumerate() {
            let mut out = Vec::new();
            match *ev {
                Ev::Rec { k, ts, .. } => {
                    let v = i as i64 * 1000 + (i as i64 * 7919) % 101; // unique, varied
                    w.with_key(&key(&format!("k{k}")), 0, |op, ctx| op.process(ctx, &mut row(k, ts, v), &mut out));
                    let want = if ts > wm {
                        Vec::new()
                    } else {
                        let floor = wm.saturating_sub(window);
                        let xs: Vec<f64> = seen.iter()
                            .filter(|o| o.k == k && o.ts > floor && o.ts > ts - window && o.ts <= ts)
                            .map(|o| o.v as f64).collect();
                        vec![(v, naive(&xs, v as f64, 2))]
                    };
                    same(&scores(&out), &want)?;
                    seen.push(Rec { k, ts, v, pending: ts > wm });
                }
                Ev::Wm(t) => {
                    watermark(&mut w, t, &mut out);
                    if t > wm {
                        wm = t;
                        same(&scores(&out), &model_fire(&mut seen, wm, window))?;
                    } else {
                        prop_assert!(out.is_empty());
                    }
                    let held: usize = w.ops.iter().map(|(_, op)| op.values_held()).sum();
                    let live = seen.iter().filter(|r| r.ts.saturating_add(window) > wm).count();
                    prop_assert_eq!(held, live, "state is the last window plus the pending");
                }
                Ev::Rescale(n) => {
                    w.rescale(n, &mk);
                    watermark(&mut w, wm, &mut out);
                    prop_assert!(out.is_empty());
                }
            }
        }
        prop_assert!(seen.iter().all(|r| !r.pending), "every record scored by the end");
    }

    /// The same on-time records in any order, on 1 or 2 workers, give bit-identical scores.
    #[test]
    fn scores_do_not_depend_on_arrival_order(
        vals in prop::collection::vec((0u8..3, 0i64..50), 1..40),
        seed in any::<u64>(),
        n in 1usize..3,
    ) {
        // Unique timestamps per key (equal ones would be summed in arrival order).
        let recs: Vec<(u8, i64, i64)> = vals.iter().enumerate()
            .map(|(i, &(k, v))| (k, i as i64 * 7, v * 1000 + i as i64)).collect();
        let run = |order: &[(u8, i64, i64)], workers_n: usize| {
            let mut w = workers(workers_n, cfg(60, None, 2));
            let mut out = Vec::new();
            for &(k, ts, v) in order {
                w.with_key(&key(&format!("k{k}")), 0, |op, ctx| op.process(ctx, &mut row(k, ts, v), &mut out));
            }
            watermark(&mut w, i64::MAX, &mut out);
            scores(&out)
        };
        let mut shuffled = recs.clone();
        let mut s = seed | 1;
        for i in (1..shuffled.len()).rev() {
            s ^= s << 13; s ^= s >> 7; s ^= s << 17;
            shuffled.swap(i, (s % (i as u64 + 1)) as usize);
        }
        let a = run(&recs, 1);
        prop_assert_eq!(a.len(), recs.len());
        prop_assert_eq!(a, run(&shuffled, n));
    }
}

#[test]
fn flags_a_planted_outlier_only() {
    let mut w = workers(1, cfg(1_000, Some(4.0), 5));
    let mut out = Vec::new();
    for i in 0..200i64 {
        let v = if i == 150 { 1_000 } else { 100 + i % 7 };
        w.with_key(&key("k1"), 0, |op, ctx| {
            op.process(ctx, &mut row(1, i * 10, v), &mut out)
        });
    }
    assert!(out.is_empty(), "nothing is scored before the watermark");
    watermark(&mut w, 1_505, &mut out);
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0][1], Value::I64(1_000));
    watermark(&mut w, i64::MAX, &mut out);
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(w.ops[0].1.values_held(), 0);
}

#[test]
fn one_timer_per_key() {
    let mut w = workers(1, cfg(100, None, 2));
    let mut out = Vec::new();
    for ts in [50, 10, 30, 20, 40] {
        w.with_key(&key("a"), 0, |op, ctx| {
            op.process(ctx, &mut row(0, ts, ts), &mut out)
        });
    }
    let op = &w.ops[0].1;
    assert_eq!(op.timers.len(TimeDomain::EventTime), 1);
    assert_eq!(op.timers.next_time(TimeDomain::EventTime), Some(10));
    watermark(&mut w, 25, &mut out);
    assert_eq!(
        scores(&out).iter().map(|p| p.0).collect::<Vec<_>>(),
        [10, 20]
    );
    let op = &w.ops[0].1;
    assert_eq!(op.timers.next_time(TimeDomain::EventTime), Some(30));
    assert_eq!(op.timers.len(TimeDomain::EventTime), 1);
}
