//! Top-N against a naive model (all rows of a key, sorted from scratch), with snapshot →
//! restore into another worker count midway.

use super::*;
use crate::operator::test_harness::{key, Workers};
use std::collections::BTreeMap;

/// Rows `[key, price, seq, time]`: `seq` is the arrival number (the model's last
/// tie-breaker); `time` takes few values, so `then_by = 3` often decides.
fn stream(n: usize, keys: u64, seed: u64) -> Vec<Row> {
    let mut x = seed;
    let mut next = move |m: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % m
    };
    (0..n)
        .map(|i| {
            [
                Value::Str(format!("k{}", next(keys)).into()),
                Value::I64(next(40) as i64),
                Value::I64(i as i64),
                Value::I64(next(4) as i64),
            ]
            .into_iter()
            .collect()
        })
        .collect()
}

fn int(v: &Value) -> i64 {
    match v {
        Value::I64(x) => *x,
        _ => panic!("not an i64"),
    }
}

/// The model's top `n` of `rows`: sorted by price, then by `then_by` if set, then by
/// arrival.
fn model_top(rows: &[Row], cfg: &TopNConfig) -> Vec<Row> {
    let mut v = rows.to_vec();
    let signed = |x: i64, descending: bool| if descending { -x } else { x };
    v.sort_by_key(|r| {
        let then = cfg.then_by.map_or(0, |(i, d)| signed(int(&r[i]), d));
        (
            signed(int(&r[1]), cfg.descending),
            then,
            signed(int(&r[2]), cfg.later_wins_ties),
        )
    });
    v.truncate(cfg.n);
    v
}

fn check(cfg: TopNConfig, rescale_at: Option<usize>) {
    let rows = stream(2500, 7, 0x2545_f491_4f6c_dd1d);
    let make = || TopN::new(cfg);
    let mut w = Workers::new(2, &make, |op: &mut TopN| op.states());
    let mut all: BTreeMap<String, Vec<Row>> = BTreeMap::new();
    for (i, r) in rows.iter().enumerate() {
        if rescale_at == Some(i) {
            w.rescale(3, &make);
        }
        let Value::Str(k) = &r[0] else { panic!() };
        let mut out = Vec::new();
        w.with_key(&key(k), 0, |op, ctx| {
            op.process(ctx, &mut r.clone(), &mut out)
        });
        let seen = all.entry(k.to_string()).or_default();
        let before = model_top(seen, &cfg);
        seen.push(r.clone());
        let after = model_top(seen, &cfg);
        let want: Vec<Row> = match after.iter().position(|a| a == r) {
            None => Vec::new(),
            Some(p) if cfg.rank_column => after[p..]
                .iter()
                .enumerate()
                .map(|(j, a)| {
                    let mut a = a.clone();
                    a.push(Value::I64((p + j + 1) as i64));
                    a
                })
                .collect(),
            Some(p) => vec![after[p].clone()],
        };
        assert!(before.len() <= cfg.n);
        assert_eq!(out, want, "input {i}: {r:?}");
    }
}

fn cfg(n: usize, descending: bool, later: bool, rank: bool) -> TopNConfig {
    TopNConfig {
        n,
        order_by: 1,
        descending,
        then_by: None,
        later_wins_ties: later,
        rank_column: rank,
    }
}

#[test]
fn top_ten_by_highest_price_with_ranks() {
    check(cfg(10, true, false, true), None);
}

#[test]
fn lowest_first_and_later_wins_ties() {
    check(cfg(3, false, true, true), None);
}

#[test]
fn keep_last_is_top_one_with_later_ties() {
    check(cfg(1, true, true, false), None);
}

#[test]
fn then_by_orders_equal_prices_before_arrival_does() {
    let earliest_first = TopNConfig {
        then_by: Some((3, false)),
        ..cfg(1, true, true, false)
    };
    check(earliest_first, None);
    let latest_first = TopNConfig {
        then_by: Some((3, true)),
        ..cfg(5, false, false, true)
    };
    check(latest_first, Some(900));
}

#[test]
fn snapshot_restore_per_key_group_midway_changes_nothing() {
    check(cfg(10, true, false, true), Some(1111));
    check(cfg(1, true, true, false), Some(600));
}

#[test]
fn corrupt_state_bytes_are_an_error_not_a_panic() {
    let mut op = TopN::new(cfg(2, true, false, true));
    op.states()[0].set_key_groups(0..1);
    assert!(op.states()[0].restore_group(0, &[0xff; 5]).is_err());
}
