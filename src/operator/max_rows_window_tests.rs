//! Windowed max-rows against the definition it replaces (Nexmark q7's join of every row with
//! each window's maximum, filtered on time), with snapshot → restore midway.

use super::*;
use crate::operator::test_harness::{sorted, Workers};

const SIZE: i64 = 10;

/// Rows `[id, value, time]`.
fn row(id: i64, value: i64, t: i64) -> Row {
    [Value::I64(id), Value::I64(value), Value::Ts(t)]
        .into_iter()
        .collect()
}

fn key() -> RowKey {
    RowKey::default()
}

/// The definition: for each window with members, its maximum m; every row r with value m and
/// start ≤ t < end (≤ end with `include_end`).
fn oracle(rows: &[Row], include_end: bool) -> Vec<Row> {
    let t = |r: &Row| match r[2] {
        Value::Ts(t) => t,
        _ => unreachable!("test rows have times"),
    };
    let v = |r: &Row| match r[1] {
        Value::I64(v) => v,
        _ => unreachable!("test rows have values"),
    };
    let mut starts: Vec<i64> = rows.iter().map(|r| t(r).div_euclid(SIZE) * SIZE).collect();
    starts.sort_unstable();
    starts.dedup();
    let mut out = Vec::new();
    for s in starts {
        let members = rows.iter().filter(|r| t(r) >= s && t(r) < s + SIZE);
        let Some(max) = members.map(v).max() else {
            continue;
        };
        let last = if include_end { s + SIZE } else { s + SIZE - 1 };
        out.extend(
            rows.iter()
                .filter(|r| v(r) == max && (s..=last).contains(&t(r)))
                .cloned(),
        );
    }
    out
}

/// In-time-order rows with a few ties and many rows exactly on window boundaries; the
/// watermark trails the rows by `lag`, so windows close while others are open.
fn check(include_end: bool, rescale_at: Option<usize>) {
    let make = move || WindowedMaxRows::new(1, 2, SIZE, include_end);
    let mut w = Workers::new(2, &make, |op: &mut WindowedMaxRows| op.states());
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move |m: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % m
    };
    let (mut got, mut rows) = (Vec::new(), Vec::new());
    let mut t = -25;
    for i in 0..3000 {
        if rescale_at == Some(i) {
            w.rescale(3, &make);
        }
        t += next(3) as i64;
        let r = row(i as i64, next(8) as i64, t);
        w.with_key(&key(), 0, |op, ctx| {
            op.process(ctx, &mut r.clone(), &mut got)
        });
        rows.push(r);
        if i % 7 == 0 {
            for (_, op) in &mut w.ops {
                op.on_watermark(t - 1, &mut got);
            }
        }
    }
    for (_, op) in &mut w.ops {
        op.close(&mut got);
    }
    let want = oracle(&rows, include_end);
    assert!(want.len() > 300, "{}", want.len());
    assert_eq!(sorted(&got), sorted(&want));
}

#[test]
fn emits_each_windows_rows_tied_at_its_maximum() {
    check(false, None);
}

#[test]
fn rows_at_a_windows_end_are_candidates_of_it_with_include_end() {
    check(true, None);
}

#[test]
fn snapshot_restore_midway_changes_nothing() {
    check(true, Some(1777));
}

#[test]
fn an_end_row_waits_for_the_watermark_to_reach_the_end() {
    let op = || WindowedMaxRows::new(1, 2, SIZE, true);
    let mut w = Workers::new(1, &op, |op: &mut WindowedMaxRows| op.states());
    let mut out = Vec::new();
    for mut r in [row(1, 5, 3), row(2, 4, 9), row(3, 5, 10), row(4, 7, 10)] {
        w.with_key(&key(), 0, |op, ctx| op.process(ctx, &mut r, &mut out));
    }
    w.ops[0].1.on_watermark(9, &mut out);
    assert!(out.is_empty());
    w.ops[0].1.on_watermark(10, &mut out);
    // Window [0, 10): max 5 (row 1); row 3 at its end ties it; row 4 (7) is above it and
    // does not count toward it.
    assert_eq!(out, vec![row(1, 5, 3), row(3, 5, 10)]);
    w.ops[0].1.on_watermark(19, &mut out);
    assert_eq!(out.len(), 2);
    w.ops[0].1.close(&mut out);
    assert_eq!(out[2..], [row(4, 7, 10)]);
}
