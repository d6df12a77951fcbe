//! `weir bench --nexmark Q --rate R`: open-loop latency of a Nexmark query file, run as a
//! user runs it. Structural facts only (no timing): the JSON's fields, the sample count that
//! NEXMARK.md's proportions predict for q0 (46 bids in every 50 events, one output each),
//! every output stamped, percentiles in order.

mod cli_support;

use cli_support::{output, stderr, weir};

/// Runs `weir bench --nexmark query --rate rate --duration duration` plus `extra`; the JSON.
fn bench(query: &str, rate: &str, duration: &str, extra: &[&str]) -> serde_json::Value {
    let dir = tempfile::tempdir().expect("tempdir");
    let json = dir.path().join("lat.json");
    let out = output(
        weir()
            .args([
                "bench",
                "--nexmark",
                query,
                "--rate",
                rate,
                "--duration",
                duration,
            ])
            .args(extra)
            .arg("--json")
            .arg(&json),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains(&format!("workload=nexmark-{query} ")),
        "{table}"
    );
    assert!(table.contains("p999"), "{table}");
    serde_json::from_slice(&std::fs::read(&json).expect("json written")).expect("valid JSON")
}

/// The checks every query's figures pass.
fn assert_figures(q: &serde_json::Value) {
    assert_eq!(q["unstamped"], 0, "every output carries a stamp: {q}");
    assert!(q["samples"].as_u64().is_some_and(|s| s > 0), "{q}");
    assert!(q["achieved_rate"].as_f64().is_some_and(|r| r > 0.0), "{q}");
    assert!(q["sustained"].is_boolean(), "{q}");
    let lat = &q["latency_us"];
    let values: Vec<f64> = ["p50", "p90", "p99", "p999", "p9999", "max"]
        .iter()
        .map(|p| lat[p].as_f64().unwrap_or_else(|| panic!("{p} in {lat}")))
        .collect();
    assert!(values.windows(2).all(|w| w[0] <= w[1]), "{values:?}");
    assert!(values[0] > 0.0, "{values:?}");
}

#[test]
fn q0_charges_every_bid_once() {
    let j = bench("q0", "20k/s", "2s", &["--workers", "2"]);
    assert_eq!(j["benchmark"], "nexmark-latency", "{j}");
    assert_eq!(j["workers"], 2, "{j}");
    let q = &j["queries"][0];
    assert_eq!(q["query"], "q0");
    assert_eq!(q["offered_rate"], 20_000.0, "{q}");
    // 40,000 events, of which 46 in every 50 are bids: one output (one sample) per bid.
    assert_eq!(q["samples"], 40_000 / 50 * 46, "{q}");
    assert_figures(q);
}

/// Queries whose plans are pruned (their sources keep only the fields they read): the
/// open-loop source must keep the same fields, or the join keys and window times are read
/// from the wrong columns and nothing comes out.
#[test]
fn pruned_join_and_window_queries_produce_outputs() {
    for query in ["q3", "q4", "q7"] {
        let j = bench(query, "20k/s", "2s", &["--workers", "1"]);
        let q = &j["queries"][0];
        assert_eq!(q["query"], query);
        assert_figures(q);
    }
}

#[test]
fn a_windowed_query_with_checkpoints_is_stamped_through_window_and_max_rows() {
    let j = bench(
        "q5",
        "20k/s",
        "2s",
        &["--workers", "1", "--checkpoint-interval", "500ms"],
    );
    let q = &j["queries"][0];
    assert_eq!(q["query"], "q5");
    assert_figures(q);
}

#[test]
fn a_share_of_the_peak_needs_a_sensible_percentage() {
    for bad in ["0%", "150%", "1M/s,2M/s"] {
        let out = output(weir().args(["bench", "--nexmark", "q0", "--rate", bad]));
        assert_eq!(out.status.code(), Some(2), "{bad}: {}", stderr(&out));
        assert!(stderr(&out).contains("--rate"), "{}", stderr(&out));
    }
}
