//! `weir bench --workload w2|w3|w4|w5`: the closed-loop event-time benchmarks run on tiny
//! inputs at 1 and 2 workers, pass their own engine-vs-baseline check, and report in their
//! JSON the output count and checksum that an independent computation here (a naive
//! per-key grouping of the WORKLOADS.md events, written from the spec, not from the engine
//! or the baseline) expects. No timing is asserted.

mod cli_support;

use cli_support::{output, stderr, weir};
use std::collections::{BTreeMap, HashMap, HashSet};

fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The benches' output hash: fields folded with splitmix64, summed over outputs.
fn hash(fields: &[i64]) -> u64 {
    let (first, rest) = fields.split_first().expect("a key");
    rest.iter()
        .fold(*first as u64, |h, &x| splitmix64(h ^ x as u64))
}

fn sum(outputs: impl Iterator<Item = Vec<i64>>) -> (u64, u64) {
    outputs.fold((0, 0), |(n, s), o| (n + 1, s.wrapping_add(hash(&o))))
}

/// Out-of-order timestamp of event `i` at `per_ms` events per ms: up to 199 ms early.
fn ts(i: u64, per_ms: u64) -> i64 {
    (i / per_ms) as i64 - (splitmix64(i ^ 0xABCD) % 200) as i64
}

fn w2(n: u64, k: u64) -> (u64, u64) {
    let mut win: BTreeMap<(i64, i64), (i64, i64, i64, i64)> = BTreeMap::new();
    for i in 0..n {
        let (key, v, t) = ((splitmix64(i) % k) as i64, (i % 100) as i64, ts(i, 1000));
        let w = win
            .entry((key, t.div_euclid(1000) * 1000))
            .or_insert((0, 0, i64::MAX, i64::MIN));
        *w = (w.0 + 1, w.1 + v, w.2.min(v), w.3.max(v));
    }
    sum(win
        .iter()
        .map(|(&(key, s), &(c, t, lo, hi))| vec![key, s, c, t, lo, hi]))
}

fn w3(n: u64, k: u64) -> (u64, u64) {
    let mut per_key: HashMap<i64, Vec<i64>> = HashMap::new();
    for i in 0..n {
        per_key
            .entry((splitmix64(i) % k) as i64)
            .or_default()
            .push(ts(i, 10));
    }
    let mut out = Vec::new();
    for (key, mut t) in per_key {
        t.sort_unstable();
        let mut start = 0;
        for j in 1..=t.len() {
            if j == t.len() || t[j] - t[j - 1] >= 30_000 {
                out.push(vec![key, t[start], t[j - 1] + 30_000, (j - start) as i64]);
                start = j;
            }
        }
    }
    sum(out.into_iter())
}

fn w4(n: u64) -> (u64, u64) {
    // Every repeat is within the 10 min TTL at these sizes: one output per distinct id.
    let ids: HashSet<u64> = (0..n).map(|i| splitmix64(i % (n * 9 / 10))).collect();
    sum(ids.into_iter().map(|id| vec![id as i64, 0]))
}

fn w5(n: u64) -> (u64, u64) {
    // Order j at j/10 ms, its payment 0..30 s later: every order meets its own payment.
    sum((0..n / 2).map(|j| {
        let o = (j / 10) as i64;
        vec![j as i64, o, o + (splitmix64(j ^ 0x5A5A) % 30_000) as i64]
    }))
}

fn bench(workload: &str, events: u64, keys: u64, workers: usize) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("b.json");
    let out = output(
        weir()
            .args(["bench", "--workload", workload, "--baseline"])
            .args(["--events", &events.to_string(), "--keys", &keys.to_string()])
            .args(["--workers", &workers.to_string(), "--json"])
            .arg(&json),
    );
    assert!(out.status.success(), "{workload}: {}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!("workload={workload} ")),
        "{stdout}"
    );
    assert!(stdout.contains("ratio="), "{stdout}");
    serde_json::from_slice(&std::fs::read(&json).expect("json written")).expect("valid JSON")
}

fn assert_result(j: &serde_json::Value, (outputs, checksum): (u64, u64), workers: usize) {
    assert_eq!(j["outputs"], outputs, "{j}");
    assert_eq!(j["checksum"], format!("{checksum:#018x}"), "{j}");
    assert_eq!(j["workers"], workers, "{j}");
    assert_eq!(j["runs"], 1, "{j}");
    for field in ["events_per_s", "baseline_events_per_s", "ratio"] {
        assert!(j[field].as_f64().is_some_and(|x| x > 0.0), "{field}: {j}");
    }
    assert!(j["state_peak"].as_u64().is_some_and(|x| x > 0), "{j}");
    assert!(j["peak_rss_bytes"].as_u64().is_some_and(|x| x > 0), "{j}");
}

#[test]
fn w2_tumbling_windows_match_the_direct_grouping() {
    // 2,300,000 events = 2.3 s of event time: windows 0 and 1 fire on the watermark during
    // the run, the last one at the end of input.
    for workers in [1, 2] {
        let j = bench("w2", 2_300_000, 500, workers);
        assert_result(&j, w2(2_300_000, 500), workers);
    }
}

#[test]
fn w3_sessions_match_the_sorted_gaps() {
    // 300,000 events = 30 s of event time over 20,000 keys: many sessions close mid-run.
    for workers in [1, 2] {
        let j = bench("w3", 300_000, 20_000, workers);
        assert_result(&j, w3(300_000, 20_000), workers);
    }
}

#[test]
fn w4_dedup_keeps_each_id_once() {
    for workers in [1, 2] {
        let j = bench("w4", 100_000, 1, workers);
        assert_result(&j, w4(100_000), workers);
    }
}

#[test]
fn w5_interval_join_pairs_each_order_with_its_payment() {
    // 1,200,000 events: 60 s of orders, so rows are freed during the run.
    for workers in [1, 2] {
        let j = bench("w5", 1_200_000, 1, workers);
        assert_result(&j, w5(1_200_000), workers);
    }
}

#[test]
fn checkpoints_are_refused_for_event_time_workloads() {
    let out = output(weir().args(["bench", "--workload", "w3", "--checkpoint-interval", "1s"]));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}
