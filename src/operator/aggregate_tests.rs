//! The updating aggregate against a naive model (every aggregate recomputed from the group's
//! rows), with snapshot → restore into another worker count midway.

use super::*;
use crate::operator::test_harness::{key, Workers};
use std::collections::{BTreeMap, BTreeSet};

/// Input rows: `[group, price, bidder, auction]`.
fn row(g: &str, price: i64, bidder: i64, auction: i64) -> Row {
    [
        Value::Str(g.into()),
        Value::I64(price),
        Value::I64(bidder),
        Value::I64(auction),
    ]
    .into_iter()
    .collect()
}

fn small(r: &Row) -> bool {
    matches!(r[1], Value::I64(p) if p < 50)
}

fn defs() -> Vec<AggDef> {
    let d = |func, field, filter: Option<RowPredicate>| AggDef {
        func,
        field,
        filter,
    };
    vec![
        d(UpdFn::Count, None, None),
        d(UpdFn::Count, None, Some(Arc::new(small))),
        d(UpdFn::Sum, Some(1), None),
        d(UpdFn::Avg, Some(1), None),
        d(UpdFn::CountDistinct, Some(2), None),
        d(UpdFn::CountDistinct, Some(2), Some(Arc::new(small))),
        d(UpdFn::Min, Some(1), None),
        d(UpdFn::Max, Some(1), None),
    ]
}

/// The model: each aggregate computed from scratch over `rows`.
fn model(rows: &[Row], with_extremes: bool) -> Vec<Value> {
    let prices: Vec<i64> = rows.iter().map(|r| int(&r[1])).collect();
    let distinct = |f: &dyn Fn(&Row) -> bool| {
        let s: BTreeSet<i64> = rows.iter().filter(|r| f(r)).map(|r| int(&r[2])).collect();
        Value::I64(s.len() as i64)
    };
    let sum: i64 = prices.iter().sum();
    let n = prices.len() as i64;
    let mut out = vec![
        Value::I64(n),
        Value::I64(rows.iter().filter(|r| small(r)).count() as i64),
        Value::I64(sum),
        // Truncating toward zero, computed apart from the operator's wrapping_div.
        Value::I64((sum as f64 / n as f64).trunc() as i64),
        distinct(&|_| true),
        distinct(&small),
    ];
    if with_extremes {
        out.push(Value::I64(*prices.iter().min().expect("rows")));
        out.push(Value::I64(*prices.iter().max().expect("rows")));
    }
    out
}

fn int(v: &Value) -> i64 {
    match v {
        Value::I64(x) => *x,
        _ => panic!("not an i64: {v:?}"),
    }
}

/// A deterministic pseudo-random row stream over `groups` groups.
fn stream(n: usize, groups: u64, seed: u64) -> Vec<Row> {
    let mut x = seed;
    let mut next = move |m: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % m
    };
    (0..n)
        .map(|_| {
            let g = format!("g{}", next(groups));
            row(&g, next(200) as i64 - 50, next(7) as i64, next(5) as i64)
        })
        .collect()
}

fn run(
    rows: &[Row],
    upsert: bool,
    rescale_at: Option<usize>,
) -> (Vec<Row>, BTreeMap<String, Vec<Row>>) {
    let mut all_defs = defs();
    if upsert {
        all_defs.truncate(6);
    }
    let upsert_key = upsert.then(|| vec![3]);
    let make = || UpdatingAggregate::new(all_defs.clone(), upsert_key.clone());
    let mut w = Workers::new(2, &make, |op: &mut UpdatingAggregate| op.states());
    let mut out = Vec::new();
    let mut seen: BTreeMap<String, Vec<Row>> = BTreeMap::new();
    for (i, r) in rows.iter().enumerate() {
        if rescale_at == Some(i) {
            w.rescale(3, &make);
        }
        let Value::Str(g) = &r[0] else { panic!() };
        let k = key(g);
        w.with_key(&k, 0, |op, ctx| op.process(ctx, &mut r.clone(), &mut out));
        seen.entry(g.to_string()).or_default().push(r.clone());
    }
    (out, seen)
}

/// The model's rows of a group: all of them, or the latest per auction (upsert input).
fn effective(rows: &[Row], upsert: bool) -> Vec<Row> {
    if !upsert {
        return rows.to_vec();
    }
    let mut latest: BTreeMap<i64, Row> = BTreeMap::new();
    for r in rows {
        latest.insert(int(&r[3]), r.clone());
    }
    latest.into_values().collect()
}

fn check(upsert: bool, rescale_at: Option<usize>) {
    let rows = stream(3000, 9, 0x9e37_79b9_7f4a_7c15);
    let (out, _) = run(&rows, upsert, rescale_at);
    // Replay the model row by row: every emitted row is the model's value after that input,
    // and an input emits exactly when the group is new or its values changed.
    let mut per_group: BTreeMap<String, Vec<Row>> = BTreeMap::new();
    let mut last: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    let mut expected = Vec::new();
    for r in &rows {
        let Value::Str(g) = &r[0] else { panic!() };
        let rows_g = per_group.entry(g.to_string()).or_default();
        rows_g.push(r.clone());
        let now = model(&effective(rows_g, upsert), !upsert);
        if last.get(g.as_str()) != Some(&now) {
            let mut e: Row = [r[0].clone()].into_iter().collect();
            e.extend(now.iter().cloned());
            expected.push(e);
            last.insert(g.to_string(), now);
        }
    }
    assert_eq!(out.len(), expected.len());
    assert_eq!(out, expected);
}

#[test]
fn append_input_matches_the_model() {
    check(false, None);
}

#[test]
fn upsert_input_retracts_the_previous_row_of_its_key() {
    check(true, None);
}

#[test]
fn snapshot_restore_per_key_group_midway_changes_nothing() {
    check(false, Some(1234));
    check(true, Some(777));
}

#[test]
fn unchanged_values_emit_nothing_but_a_new_group_always_emits() {
    let defs = vec![AggDef {
        func: UpdFn::Max,
        field: Some(1),
        filter: None,
    }];
    let make = || UpdatingAggregate::new(defs.clone(), None);
    let mut w = Workers::new(1, &make, |op: &mut UpdatingAggregate| op.states());
    let mut out = Vec::new();
    for (g, p) in [("a", 5), ("a", 3), ("a", 9), ("b", 1), ("a", 9)] {
        w.with_key(&key(g), 0, |op, ctx| {
            op.process(ctx, &mut row(g, p, 0, 0), &mut out)
        });
    }
    let got: Vec<(String, i64)> = out.iter().map(|r| (r[0].to_string(), int(&r[1]))).collect();
    let want = [("a", 5), ("a", 9), ("b", 1)].map(|(g, p)| (g.to_string(), p));
    assert_eq!(got, want);
}

#[test]
fn corrupt_state_bytes_are_an_error_not_a_panic() {
    let mut op = UpdatingAggregate::new(defs(), None);
    op.states()[0].set_key_groups(0..1);
    assert!(op.states()[0].restore_group(0, &[0xff; 3]).is_err());
}
