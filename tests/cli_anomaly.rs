//! The anomaly-detection fixture (`process zscore` with a `window` over out-of-order input
//! with planted anomalies), run by the real binary at 1 and 2 workers, in the one-line and
//! the graph form: the output equals the oracle's (scripts/gen_anomaly_fixture.py) and holds
//! every planted anomaly.

mod cli_support;

use cli_support::{assert_same_multiset, lines_of, output, read_parts, root, stderr, weir};
use std::path::Path;

fn fixture(name: &str) -> Vec<String> {
    let path = root().join("fixtures/anomaly").join(name);
    lines_of(&std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

/// Runs `pipeline` with `--workers N`, its sink `sink_key` redirected to a fresh directory.
fn run(pipeline: &Path, sink_key: &str, workers: usize) -> Vec<String> {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let run = output(
        weir()
            .arg("run")
            .arg(pipeline)
            .args(["--workers", &workers.to_string(), "--no-pin"])
            .arg("--set")
            .arg(format!("{sink_key}={}", out.display()))
            .arg("--dead-letter")
            .arg(tmp.path().join("dead.jsonl")),
    );
    assert!(run.status.success(), "{}", stderr(&run));
    read_parts(&out).into_iter().flatten().collect()
}

/// Every planted `(key, ts)` has a row in `got` (`key,value,ts,z`).
fn assert_planted_found(got: &[String]) {
    let flagged: Vec<(&str, &str)> = got
        .iter()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f.len() == 4).then(|| (f[0], f[2]))
        })
        .collect();
    let planted = fixture("planted.csv");
    assert!(planted.len() > 1, "planted anomalies listed");
    for p in &planted[1..] {
        let (k, ts) = p.split_once(',').expect("key,ts");
        assert!(
            flagged.contains(&(k, ts)),
            "planted anomaly {p} not flagged: {got:?}"
        );
    }
}

#[test]
fn anomalies_match_the_oracle_on_1_and_2_workers() {
    let pipeline = root().join("fixtures/anomaly/anomaly.toml");
    for workers in [1, 2] {
        let got = run(&pipeline, "sink.path", workers);
        assert_same_multiset("anomalies", &got, &fixture("expected.csv"));
        assert_planted_found(&got);
    }
}

#[test]
fn the_graph_form_finds_the_same_anomalies() {
    let events = root().join("fixtures/anomaly/events.csv");
    let (_dir, path) = cli_support::pipeline_file(
        "g.toml",
        &format!(
            r#"
[sources.readings]
type = "file"
path = "{}"
schema = [ {{ name = "key", type = "string" }}, {{ name = "value", type = "f64" }}, {{ name = "ts", type = "timestamp" }} ]
[sources.readings.event_time]
field = "ts"
max_out_of_orderness = "500ms"
watermark_interval = "0ms"

[[ops]]
name = "by_sensor"
type = "key_by"
key = "key"

[[ops]]
name = "z"
type = "process"
function = "zscore"
field = "value"
window = "30s"
threshold = 6.0
min_count = 10
as = "z"

[sinks.anomalies]
input = "z"
type = "file"
path = "unused"
"#,
            events.display()
        ),
    );
    let got = run(&path, "sinks.anomalies.path", 2);
    assert_same_multiset("anomalies", &got, &fixture("expected.csv"));
    assert_planted_found(&got);
}

/// Crashes right after a checkpoint's MANIFEST at 2 workers (`WEIR_CRASH_AT`, like kill -9),
/// restores at 1 worker: the committed output is still exactly the oracle's (the windowed
/// z-score's values and pending records move between workers by key group). On a machine so
/// fast that the run ends before checkpoint 1, there is nothing to restore and only the
/// output is checked.
#[test]
fn a_crash_and_a_rescaled_restore_keep_the_output_exact() {
    let tmp = tempfile::tempdir().unwrap();
    let (out, ck) = (tmp.path().join("out"), tmp.path().join("ck"));
    let run = |workers: &str, extra: &[&str], crash: bool| {
        let mut cmd = weir();
        cmd.args(["run", "fixtures/anomaly/anomaly.toml", "--no-pin"])
            .args(["--workers", workers, "--batch-size", "64"])
            .arg("--set")
            .arg(format!("sink.path={}", out.display()))
            .arg("--dead-letter")
            .arg(tmp.path().join("dead.jsonl"))
            .arg("--checkpoint-dir")
            .arg(&ck)
            .args(["--checkpoint-interval", "5ms"])
            .args(extra);
        if crash {
            cmd.env("WEIR_CRASH_AT", "after-manifest:1");
        }
        output(&mut cmd)
    };
    let first = run("2", &[], true);
    if !first.status.success() {
        assert!(
            stderr(&first).contains("crash point after-manifest at checkpoint 1"),
            "{}",
            stderr(&first)
        );
        let restored = run("1", &["--restore", "latest"], false);
        assert!(restored.status.success(), "{}", stderr(&restored));
    }
    let got: Vec<String> = read_parts(&out).into_iter().flatten().collect();
    assert_same_multiset("anomalies", &got, &fixture("expected.csv"));
}
