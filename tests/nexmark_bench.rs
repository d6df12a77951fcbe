//! `weir bench --nexmark` as a user runs it: the figures of the median of `--runs`, the JSON
//! file, and row counts that NEXMARK.md's event proportions predict (46 bids in every 50
//! events), not the engine.

mod cli_support;

use cli_support::{output, stderr, weir};

#[test]
fn bench_reports_the_median_run_and_the_predicted_row_count() {
    let dir = tempfile::tempdir().expect("tempdir");
    let json = dir.path().join("nx.json");
    let out = output(
        weir()
            .args(["bench", "--nexmark", "q0", "--events", "20000"])
            .args([
                "--workers",
                "2",
                "--runs",
                "3",
                "--json",
                json.to_str().expect("utf-8 path"),
            ]),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let stdout = String::from_utf8(out.stdout).expect("utf-8");
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(
        stdout.contains("nexmark=q0 events=20000 workers=2 "),
        "{stdout}"
    );

    let text = std::fs::read_to_string(&json).expect("the JSON file");
    let j: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(j["runs"], 3, "{j}");
    let q = &j["queries"][0];
    assert_eq!(q["query"], "q0");
    // q0 passes every bid through: 46 of every 50 events are bids.
    assert_eq!(q["outputs"], 20_000 / 50 * 46, "{q}");
    let mut rates: Vec<f64> = q["runs_events_per_s"]
        .as_array()
        .expect("runs")
        .iter()
        .map(|r| r.as_f64().expect("a rate"))
        .collect();
    assert_eq!(rates.len(), 3, "{q}");
    rates.sort_by(f64::total_cmp);
    assert_eq!(q["events_per_s"].as_f64(), Some(rates[1]), "{q}");
    let per_core = q["events_per_s_per_core"].as_f64().expect("per core");
    assert!((per_core * 2.0 - rates[1]).abs() < 1e-6 * rates[1], "{q}");
    assert!(q["cpu_s"].as_f64().is_some_and(|c| c >= 0.0), "{q}");
}

#[test]
fn an_unknown_query_is_a_usage_error() {
    let out = output(weir().args(["bench", "--nexmark", "q99", "--events", "10"]));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("q99"), "{}", stderr(&out));
}
