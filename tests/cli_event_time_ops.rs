//! Event-time operators in pipeline files, run by the real binary at 1 and 2 workers: sliding
//! windows, session windows that merge, and the interval join of two sources with their own
//! event time — against outputs computed apart from the engine
//! (scripts/gen_time_ops_fixture.py, from scripts/oracle_time.py). Every input record is within
//! its source's bound, so the outputs do not depend on when watermarks are emitted.

mod cli_support;

use cli_support::{assert_same_multiset, expected, output, read_parts, stderr, weir};
use std::path::Path;

fn lines(dir: &Path) -> Vec<String> {
    read_parts(dir).into_iter().flatten().collect()
}

/// Runs `pipeline` at `workers`, each `(setting, dir)` pointing a sink's path at `dir`.
fn run(pipeline: &str, workers: usize, sinks: &[(&str, &Path)], dead: &Path) {
    let mut cmd = weir();
    cmd.args(["run", pipeline, "--workers", &workers.to_string()]);
    cmd.arg("--dead-letter").arg(dead);
    for (setting, dir) in sinks {
        cmd.arg("--set").arg(format!("{setting}={}", dir.display()));
    }
    let out = output(&mut cmd);
    assert!(out.status.success(), "{pipeline}: {}", stderr(&out));
}

fn one_sink_matches(pipeline: &str, want: &str) {
    for workers in [1, 2] {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        run(
            pipeline,
            workers,
            &[("sink.path", &out)],
            &tmp.path().join("dead.jsonl"),
        );
        assert_same_multiset(
            &format!("{want} at {workers}"),
            &lines(&out),
            &expected(want),
        );
    }
}

#[test]
fn sliding_windows_match_the_oracle_on_1_and_2_workers() {
    one_sink_matches("fixtures/time/sliding.toml", "time_sliding.csv");
}

#[test]
fn merging_session_windows_match_the_oracle_on_1_and_2_workers() {
    one_sink_matches("fixtures/time/session.toml", "time_session.csv");
}

#[test]
fn interval_join_of_two_sources_matches_the_oracle_on_1_and_2_workers() {
    for workers in [1, 2] {
        let tmp = tempfile::tempdir().unwrap();
        let dirs = ["joined", "late_left", "late_right"].map(|n| tmp.path().join(n));
        let dead = tmp.path().join("dead.jsonl");
        run(
            "fixtures/time/interval_join.toml",
            workers,
            &[
                ("sinks.joined.path", &dirs[0]),
                ("sinks.late_left.path", &dirs[1]),
                ("sinks.late_right.path", &dirs[2]),
            ],
            &dead,
        );
        let want = expected("time_interval_join.csv");
        assert_same_multiset("pairs", &lines(&dirs[0]), &want);
        for late in &dirs[1..] {
            assert_eq!(lines(late), Vec::<String>::new(), "no row is late");
        }
        assert!(!dead.exists() || std::fs::read_to_string(&dead).unwrap().is_empty());
    }
}
