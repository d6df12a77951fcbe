//! Max-rows against a naive model (all rows of a closed key, filtered by their maximum), with
//! snapshot → restore into another worker count midway.

use super::*;
use crate::operator::test_harness::{sorted, Workers};
use std::collections::BTreeMap;

/// Rows `[item, num, end]`, keyed by `end`.
fn row(item: i64, num: i64, end: i64) -> Row {
    [Value::I64(item), Value::I64(num), Value::Ts(end)]
        .into_iter()
        .collect()
}

fn end_key(end: i64) -> RowKey {
    RowKey::from_values(&[Value::Ts(end)])
}

fn check(rescale_at: Option<usize>) {
    let make = || MaxRows::new(1, 2);
    let mut w = Workers::new(2, &make, |op: &mut MaxRows| op.states());
    let mut x: u64 = 0x853c_49e6_748f_ea9b;
    let mut next = move |m: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % m
    };
    let mut model: BTreeMap<i64, Vec<Row>> = BTreeMap::new();
    let (mut got, mut want) = (Vec::new(), Vec::new());
    let mut watermark = 0;
    for i in 0..3000 {
        if rescale_at == Some(i) {
            w.rescale(3, &make);
        }
        if i % 50 == 49 {
            watermark += 10;
            for (_, op) in &mut w.ops {
                op.on_watermark(watermark, &mut got);
            }
            let closed: Vec<i64> = model.range(..=watermark + 1).map(|(&e, _)| e).collect();
            for end in closed {
                let rows = model.remove(&end).unwrap_or_default();
                let max = rows.iter().map(|r| r[1].clone()).max_by(order);
                want.extend(rows.into_iter().filter(|r| Some(&r[1]) == max.as_ref()));
            }
            continue;
        }
        // Open windows only: ends past the watermark + 1.
        let end = watermark + 2 + next(30) as i64;
        let r = row(next(100) as i64, next(6) as i64, end);
        w.with_key(&end_key(end), 0, |op, ctx| {
            op.process(ctx, &mut r.clone(), &mut got)
        });
        model.entry(end).or_default().push(r);
    }
    for (_, op) in &mut w.ops {
        op.close(&mut got);
    }
    for rows in model.into_values() {
        let max = rows.iter().map(|r| r[1].clone()).max_by(order);
        want.extend(rows.into_iter().filter(|r| Some(&r[1]) == max.as_ref()));
    }
    assert!(want.len() > 100);
    assert_eq!(sorted(&got), sorted(&want));
}

#[test]
fn emits_the_rows_tied_at_the_maximum_when_the_key_closes() {
    check(None);
}

#[test]
fn snapshot_restore_per_key_group_midway_changes_nothing() {
    check(Some(1234));
}

#[test]
fn nothing_is_emitted_before_the_watermark_closes_the_key() {
    let mut w = Workers::new(1, &|| MaxRows::new(1, 2), |op: &mut MaxRows| op.states());
    let mut out = Vec::new();
    for (item, num) in [(1, 3), (2, 5), (3, 5), (4, 1)] {
        let mut r = row(item, num, 100);
        w.with_key(&end_key(100), 0, |op, ctx| {
            op.process(ctx, &mut r, &mut out)
        });
    }
    w.ops[0].1.on_watermark(98, &mut out);
    assert!(out.is_empty());
    w.ops[0].1.on_watermark(99, &mut out);
    assert_eq!(out, vec![row(2, 5, 100), row(3, 5, 100)]);
}
