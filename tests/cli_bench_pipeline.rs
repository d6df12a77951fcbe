//! `weir bench --pipeline FILE --input FILE`: runs the pipeline on the input, reports what it
//! read and wrote, and leaves nothing behind but what the user asked for (`--json`).

mod cli_support;

use cli_support::{output, stderr, weir};
use std::path::Path;

/// A CSV input of `n` events (`key,value,ts`): key `k{i % 7}`, value `i % 100`.
fn write_input(dir: &Path, n: usize) -> std::path::PathBuf {
    let mut text = String::from("key,value,ts\n");
    for i in 0..n {
        text.push_str(&format!("k{},{},{}\n", i % 7, i % 100, 1_000 + i));
    }
    let path = dir.join("in.csv");
    std::fs::write(&path, text).expect("write input");
    path
}

/// Runs the bench with `TMPDIR` pointing at a fresh directory holding one file of the user's.
fn bench(
    pipeline: &str,
    input: &Path,
    extra: &[&str],
) -> (std::process::Output, tempfile::TempDir) {
    let tmp = tempfile::tempdir().expect("temp dir");
    std::fs::write(tmp.path().join("users-file"), "mine").expect("user file");
    let out = output(
        weir()
            .env("TMPDIR", tmp.path())
            .args(["bench", "--pipeline", pipeline, "--input"])
            .arg(input)
            .args(extra),
    );
    (out, tmp)
}

/// Asserts that the bench's scratch directories are gone from `tmp` and the user's file is not.
fn only_the_users_file_is_left(tmp: &Path) {
    let left: Vec<_> = std::fs::read_dir(tmp)
        .expect("tmp")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(left, vec![std::ffi::OsString::from("users-file")]);
}

/// The `name=value` pairs of the summary line.
fn field(stdout: &str, name: &str) -> String {
    stdout
        .split_whitespace()
        .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name}= in {stdout:?}"))
        .to_owned()
}

#[test]
fn rolling_sum_counts_every_record_and_cleans_up() {
    let dir = tempfile::tempdir().expect("temp dir");
    let input = write_input(dir.path(), 1_000);
    let json = dir.path().join("bench.json");
    let (out, tmp) = bench(
        "fixtures/rolling_sum.toml",
        &input,
        &[
            "--workers",
            "2",
            "--runs",
            "2",
            "--json",
            json.to_str().expect("utf-8 path"),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    // The rolling sum emits one row per input row.
    assert_eq!(field(&stdout, "records_in"), "1000");
    assert_eq!(field(&stdout, "records_out"), "1000");
    assert_eq!(field(&stdout, "runs"), "2");
    let bytes = std::fs::metadata(&input).expect("input").len();
    assert_eq!(field(&stdout, "input_bytes"), bytes.to_string());
    assert!(
        field(&stdout, "records_per_s")
            .parse::<f64>()
            .expect("rate")
            > 0.0
    );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&json).expect("json written")).expect("json");
    assert_eq!(report["records_in"], 1000);
    assert_eq!(report["run_seconds"].as_array().map(Vec::len), Some(2));
    only_the_users_file_is_left(tmp.path());
}

#[test]
fn filter_output_count_matches_the_condition() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut text = String::from("key,value,ts\n");
    let mut want = 0;
    for i in 0..600 {
        let key = format!("user-{:02}", i % 9);
        let value = (i * 37) % 120;
        // filter.toml: value >= 50 and key < "user-06".
        if value >= 50 && key.as_str() < "user-06" {
            want += 1;
        }
        text.push_str(&format!("{key},{value},{}\n", 1_000 + i));
    }
    let input = dir.path().join("f.csv");
    std::fs::write(&input, text).expect("write input");
    let (out, _tmp) = bench("fixtures/filter.toml", &input, &["--workers", "1"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(field(&stdout, "records_in"), "600");
    assert_eq!(field(&stdout, "records_out"), want.to_string());
}

#[test]
fn needs_an_input_and_a_file_source() {
    let out = output(weir().args(["bench", "--pipeline", "fixtures/rolling_sum.toml"]));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--input"), "{}", stderr(&out));
    let dir = tempfile::tempdir().expect("temp dir");
    let input = write_input(dir.path(), 10);
    let (out, _tmp) = bench("fixtures/generator.toml", &input, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("must be a file"), "{}", stderr(&out));
}

#[test]
fn an_input_of_only_malformed_records_is_an_error_not_a_rate_of_zero() {
    let dir = tempfile::tempdir().expect("temp dir");
    // JSON lines with a numeric key, where the pipeline's schema wants a string.
    let mut text = String::new();
    for i in 0..50 {
        text.push_str(&format!("{{\"key\":{i},\"value\":1,\"ts\":{i}}}\n"));
    }
    let input = dir.path().join("numeric-keys.jsonl");
    std::fs::write(&input, text).expect("write input");
    let (out, tmp) = bench(
        "benches/pipelines/rolling_sum_jsonl.toml",
        &input,
        &["--workers", "1"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("no record was read"), "{err}");
    assert!(err.contains("all 50"), "{err}");
    assert!(err.contains("line 1: field \"key\""), "{err}");
    only_the_users_file_is_left(tmp.path());
}

#[test]
fn malformed_records_are_counted() {
    let dir = tempfile::tempdir().expect("temp dir");
    let input = write_input(dir.path(), 100);
    let mut text = std::fs::read_to_string(&input).expect("input");
    text.push_str("k1,not-a-number,5\n");
    std::fs::write(&input, text).expect("write input");
    let (out, _tmp) = bench("fixtures/rolling_sum.toml", &input, &["--workers", "1"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(field(&stdout, "records_in"), "100");
    assert_eq!(field(&stdout, "dead_lettered"), "1");
}
