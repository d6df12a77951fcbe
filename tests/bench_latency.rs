//! `weir bench --rate`: open-loop latency runs of W1 and of a generator pipeline file, their
//! JSON and `.hgrm` outputs. Sample counts are known in advance (rate × duration events, one
//! output each); no timing is asserted.

mod cli_support;

use cli_support::{output, stderr, weir};

fn json_of(path: &std::path::Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).expect("json written")).expect("valid JSON")
}

fn assert_latency_fields(j: &serde_json::Value, samples: u64) {
    assert_eq!(j["samples"], samples, "{j}");
    assert!(j["achieved_rate"].as_f64().unwrap() > 0.0);
    assert!(j["sustained"].is_boolean());
    let lat = &j["latency_us"];
    let values: Vec<f64> = ["p50", "p90", "p99", "p999", "p9999", "max"]
        .iter()
        .map(|p| lat[p].as_f64().unwrap_or_else(|| panic!("{p} in {lat}")))
        .collect();
    assert!(values.windows(2).all(|w| w[0] <= w[1]), "{values:?}");
    assert!(values[0] > 0.0);
}

#[test]
fn w1_open_loop_with_checkpoints_writes_json_and_hgrm() {
    let dir = tempfile::tempdir().unwrap();
    let (json, hgrm) = (dir.path().join("b.json"), dir.path().join("b.hgrm"));
    let plot = dir.path().join("b.svg");
    let out = output(
        weir()
            .args([
                "bench",
                "--workload",
                "w1",
                "--rate",
                "40k/s",
                "--duration",
                "1s",
            ])
            .args([
                "--keys",
                "1000",
                "--workers",
                "2",
                "--checkpoint-interval",
                "200ms",
            ])
            .arg("--checkpoint-dir")
            .arg(dir.path().join("ck"))
            .arg("--json")
            .arg(&json)
            .arg("--hgrm")
            .arg(&hgrm)
            .arg("--plot")
            .arg(&plot),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("offered_rate=40000"), "{table}");
    assert!(table.contains("p9999") && table.contains("from_checkpoint_intervals"));
    let j = json_of(&json);
    assert_eq!(j["offered_rate"], 40_000.0);
    assert_latency_fields(&j, 40_000);
    assert!(j["checkpoints"].as_u64().unwrap() >= 1, "{j}");
    let text = std::fs::read_to_string(&hgrm).unwrap();
    let rows: Vec<Vec<&str>> = text
        .lines()
        .skip(2)
        .take_while(|l| !l.starts_with('#'))
        .map(|l| l.split_whitespace().collect())
        .collect();
    let last = rows.last().unwrap();
    assert_eq!(
        (last[1], last[2], last[3]),
        ("1.000000000000", "40000", "inf")
    );
    assert!(text.contains("Total count    =        40000"), "{text}");
    let svg = std::fs::read_to_string(&plot).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("latency by percentile"));
    let series = j["series_100ms"].as_array().unwrap();
    let events: u64 = series.iter().map(|p| p["events"].as_u64().unwrap()).sum();
    assert_eq!(events, 40_000, "the time series holds every sample");
    assert!(series.iter().any(|p| p["checkpoint"] == true));
}

#[test]
fn a_generator_pipeline_file_and_a_sweep() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("p.json");
    let out = output(
        weir()
            .args(["bench", "fixtures/generator.toml", "--rate", "10k/s,20k/s"])
            .args([
                "--duration",
                "1s",
                "--workers",
                "2",
                "--slo",
                "p99.9=1h",
                "--json",
            ])
            .arg(&json),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let j = json_of(&json);
    let runs = j["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2);
    assert_latency_fields(&runs[0], 10_000);
    assert_latency_fields(&runs[1], 20_000);
    assert!(j["max_rate_within_slo"].is_number() || j["max_rate_within_slo"].is_null());
    assert!(String::from_utf8_lossy(&out.stdout).contains("highest sustained rate"));
}

#[test]
fn a_pipeline_without_a_generator_is_refused() {
    let out = output(weir().args(["bench", "fixtures/rolling_sum.toml", "--rate", "1k/s"]));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("generator"), "{}", stderr(&out));
    let out = output(weir().args(["bench", "--rate", "fast"]));
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn w2_windows_are_measured_from_their_end() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("w2.json");
    let out = output(
        weir()
            .args([
                "bench",
                "--workload",
                "w2",
                "--rate",
                "20k/s",
                "--duration",
                "2s",
            ])
            .args(["--keys", "100", "--workers", "2", "--json"])
            .arg(&json),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let j = json_of(&json);
    // 20,000 events per window over 100 keys: every key has a count in each window. The first
    // window is closed by the watermark (100 samples); the second by the end of input (emitted,
    // not a latency sample). Events of a worker that fell more than 200 ms behind (a loaded
    // machine) reach a window after it fired and fire it again: more samples, never fewer.
    let samples = j["samples"].as_u64().unwrap();
    assert!((100..=200).contains(&samples), "{j}");
    assert_latency_fields(&j, samples);
    // The watermark waits 200 ms of event time (= wall time here) past the window end.
    assert!(j["latency_us"]["p50"].as_f64().unwrap() >= 190_000.0, "{j}");
    let out = output(weir().args(["bench", "--workload", "w3", "--rate", "1k/s"]));
    assert_eq!(out.status.code(), Some(2), "no open-loop W3");
}
