//! `weir gen` follows the WORKLOADS.md generator, and its CSV feeds the bundled pipeline.

mod cli_support;

use cli_support::{column, lines_of, output, run_fixture, stderr, weir};
use std::collections::BTreeMap;

/// splitmix64 as WORKLOADS.md states it (wrapping arithmetic).
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Event `i` of the generator: (key, value, ts_ms).
fn event(i: u64, keys: u64, per_ms: u64) -> (u64, u64, u64) {
    (splitmix64(i) % keys, i % 100, i / per_ms)
}

fn gen(args: &[&str]) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("ev");
    let out = output(weir().arg("gen").args(args).arg("--out").arg(&file));
    assert!(out.status.success(), "{}", stderr(&out));
    (dir, file)
}

#[test]
fn csv_lines_follow_the_formula() {
    let (_dir, file) = gen(&["--events", "1000", "--keys", "7", "--events-per-ms", "3"]);
    let lines = lines_of(&std::fs::read_to_string(&file).expect("gen output"));
    assert_eq!(lines.len(), 1001);
    assert_eq!(lines[0], "key,value,ts");
    for i in [0u64, 1, 2, 3, 99, 100, 500, 998, 999] {
        let (k, v, t) = event(i, 7, 3);
        assert_eq!(lines[i as usize + 1], format!("{k},{v},{t}"), "event {i}");
    }
}

#[test]
fn default_rate_and_jsonl_format() {
    let (_dir, file) = gen(&["--events", "2500", "--keys", "1000", "--format", "jsonl"]);
    let lines = lines_of(&std::fs::read_to_string(&file).expect("gen output"));
    assert_eq!(lines.len(), 2500);
    for i in [0u64, 7, 999, 1000, 2499] {
        let (k, v, t) = event(i, 1000, 1000);
        let obj: serde_json::Value = serde_json::from_str(&lines[i as usize]).expect("JSON line");
        assert_eq!(
            obj,
            serde_json::json!({ "key": k, "value": v, "ts": t }),
            "event {i}"
        );
    }
}

#[test]
fn writes_to_stdout_with_dash() {
    let out = output(weir().args(["gen", "--events", "3", "--keys", "5", "--out", "-"]));
    assert!(out.status.success(), "{}", stderr(&out));
    let want: String = std::iter::once("key,value,ts\n".to_owned())
        .chain((0..3).map(|i| {
            let (k, v, t) = event(i, 5, 1000);
            format!("{k},{v},{t}\n")
        }))
        .collect();
    assert_eq!(String::from_utf8_lossy(&out.stdout), want);
}

#[test]
fn zero_keys_is_a_usage_error() {
    let out = output(weir().args(["gen", "--events", "3", "--keys", "0", "--out", "-"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--keys"), "{}", stderr(&out));
}

#[test]
fn bundled_pipeline_reads_a_generated_file() {
    let (events, keys) = (5000u64, 37u64);
    let (_dir, file) = gen(&["--events", &events.to_string(), "--keys", &keys.to_string()]);
    let run = run_fixture(
        "rolling_sum",
        2,
        &[&format!("--set=source.path={}", file.display())],
    );
    run.assert_ok();
    assert!(run.dead.is_empty(), "{:?}", run.dead);
    assert!(stderr(&run.output).contains(&format!(" in={events} out={events} dead_lettered=0 ")));
    // W1's order-independent check: per key, the last row holds the sum and count of its values.
    let mut want: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for i in 0..events {
        let (k, v, _) = event(i, keys, 1000);
        let e = want.entry(k.to_string()).or_default();
        e.0 += v;
        e.1 += 1;
    }
    let mut last: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for part in &run.parts {
        for line in part {
            let (sum, n) = (
                column(line, 1).parse().expect("sum"),
                column(line, 2).parse().expect("n"),
            );
            last.insert(column(line, 0), (sum, n));
        }
    }
    assert_eq!(last, want);
}
