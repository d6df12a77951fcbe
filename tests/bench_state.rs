//! `weir bench` with large-state figures (issue 11), run at tiny sizes on both state
//! backends: W1's JSON (checksum, peak RSS, checkpoint bytes), `--workload checkpoint` and
//! `--workload restore`. Expected values come from independent computations here (the
//! WORKLOADS.md W1 events summed per key; the 1 % touch rule of the checkpoint bench), never
//! from the engine. No timing is asserted.

mod cli_support;

use cli_support::{output, stderr, weir};
use std::collections::HashMap;

fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// W1's final-state checksum: `Σ_key splitmix64(key) ^ sum(key)` over the events
/// `(splitmix64(i) % keys, i % 100)`.
fn w1_checksum(events: u64, keys: u64) -> u64 {
    let mut sums: HashMap<u64, i64> = HashMap::new();
    for i in 0..events {
        *sums.entry(splitmix64(i) % keys).or_default() += (i % 100) as i64;
    }
    sums.iter()
        .fold(0u64, |c, (k, s)| c.wrapping_add(splitmix64(*k) ^ *s as u64))
}

fn bench_json(args: &[&str]) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("out.json");
    let out = output(weir().arg("bench").args(args).arg("--json").arg(&json));
    assert!(
        out.status.success(),
        "weir bench {args:?}: {}",
        stderr(&out)
    );
    serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap()
}

#[test]
fn w1_reports_the_same_checksum_and_its_footprint_on_both_backends() {
    let want = format!("{:#018x}", w1_checksum(200_000, 5_000));
    for backend in ["heap", "mmap"] {
        let v = bench_json(&[
            "--workload",
            "w1",
            "--events",
            "200000",
            "--keys",
            "5000",
            "--workers",
            "2",
            "--state-backend",
            backend,
            "--state-cache-entries",
            "500",
            "--checkpoint-interval",
            "20ms",
        ]);
        assert_eq!(v["checksum"], want.as_str(), "{backend}: {v}");
        assert_eq!(v["backend"], backend);
        assert!(v["peak_rss_bytes"].as_u64().unwrap() > 0);
        let ck = &v["checkpoints"];
        let (count, total) = (
            ck["count"].as_u64().unwrap(),
            ck["bytes_total"].as_u64().unwrap(),
        );
        let per = ck["bytes_per_checkpoint"].as_u64().unwrap();
        assert_eq!(per, total.checked_div(count).unwrap_or(0), "{ck}");
        if backend == "heap" {
            assert_eq!(ck["bytes_shared_total"], 0);
        }
    }
}

/// Keys of `0..keys` the checkpoint bench touches in `round` (its documented 1 % rule).
fn touched(keys: u64, round: u64) -> u64 {
    (0..keys)
        .filter(|&k| splitmix64(k ^ round.wrapping_mul(0x9e37_79b9_7f4a_7c15)).is_multiple_of(100))
        .count() as u64
}

#[test]
fn the_checkpoint_bench_writes_little_after_few_changes_on_mmap_only() {
    let keys = 20_000;
    let per_run = (touched(keys, 1) + touched(keys, 2)) / 2;
    for backend in ["heap", "mmap"] {
        let v = bench_json(&[
            "--workload",
            "checkpoint",
            "--keys",
            "20000",
            "--workers",
            "2",
            "--runs",
            "2",
            "--state-backend",
            backend,
        ]);
        assert_eq!(v["workload"], "checkpoint");
        assert_eq!(v["backend"], backend);
        assert_eq!(v["keys"], keys);
        assert_eq!(v["touched_per_run"], per_run, "{v}");
        assert!(v["checkpoint_ms"].as_f64().unwrap() > 0.0);
        assert_eq!(v["checkpoint_ms_all"].as_array().unwrap().len(), 2);
        let (new, shared) = (
            v["bytes_new"].as_u64().unwrap(),
            v["bytes_shared"].as_u64().unwrap(),
        );
        // Heap: all 20k entries (16 bytes each at least) every time; mmap: the touched 1 %
        // (and what a merge rewrote) is new, the rest shared.
        match backend {
            "heap" => assert!(shared == 0 && new >= 16 * keys, "{v}"),
            _ => assert!(shared > 0 && new * 5 < shared, "{v}"),
        }
    }
}

#[test]
fn the_restore_bench_reports_first_record_before_full_speed() {
    for backend in ["heap", "mmap"] {
        let v = bench_json(&[
            "--workload",
            "restore",
            "--keys",
            "20000",
            "--workers",
            "2",
            "--runs",
            "1",
            "--state-backend",
            backend,
        ]);
        let first = v["first_record_ms"].as_f64().unwrap();
        let full = v["full_speed_ms"].as_f64().unwrap();
        assert!(first > 0.0 && first <= full, "{v}");
        assert!(v["bytes"].as_u64().unwrap() > 0);
    }
}
