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

/// The keys of `lines` (`key,value,ts`) with their timestamps, sorted.
fn ts_by_key(lines: &[String]) -> std::collections::BTreeMap<String, Vec<i64>> {
    let mut by_key = std::collections::BTreeMap::<String, Vec<i64>>::new();
    for l in lines {
        let f: Vec<&str> = l.split(',').collect();
        by_key
            .entry(f[0].to_string())
            .or_default()
            .push(f[2].parse().unwrap());
    }
    by_key.values_mut().for_each(|v| v.sort_unstable());
    by_key
}

/// One split (1 worker) gives exactly the oracle's output. At 2 workers the file is read as
/// two splits whose relative progress sets the watermark, so only what holds for any
/// watermark is checked: every output is an input record, every key is emitted, and two
/// emissions of a key are more than the ttl apart in event time.
#[test]
fn dedup_with_an_event_time_ttl_matches_the_oracle() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("one");
    let dead = tmp.path().join("dead.jsonl");
    run("fixtures/time/dedup.toml", 1, &[("sink.path", &out)], &dead);
    let got = lines(&out);
    assert_same_multiset("dedup at 1", &got, &expected("time_dedup.csv"));

    let input =
        std::fs::read_to_string(cli_support::root().join("fixtures/time/dedup.csv")).unwrap();
    let input: Vec<String> = input.lines().skip(1).map(str::to_string).collect();
    let out = tmp.path().join("two");
    run("fixtures/time/dedup.toml", 2, &[("sink.path", &out)], &dead);
    let got = lines(&out);
    let mut rest = input.clone();
    for l in &got {
        let at = rest.iter().position(|r| r == l);
        assert!(at.is_some(), "not an input record (or twice): {l}");
        rest.swap_remove(at.unwrap());
    }
    let (want_keys, got_ts) = (ts_by_key(&input), ts_by_key(&got));
    assert_eq!(
        got_ts.keys().collect::<Vec<_>>(),
        want_keys.keys().collect::<Vec<_>>()
    );
    for (key, ts) in &got_ts {
        for w in ts.windows(2) {
            assert!(
                w[1] - w[0] > 2_000,
                "{key}: emitted at {} and {}",
                w[0],
                w[1]
            );
        }
    }
}

/// One split (at 2 workers a split's late record may not be behind the other split's
/// watermark): the sessions of the on-time records, and the late ones on `w.late`.
#[test]
fn records_too_late_for_any_session_go_to_the_side_output() {
    let tmp = tempfile::tempdir().unwrap();
    let (windows, late) = (tmp.path().join("w"), tmp.path().join("late"));
    run(
        "fixtures/time/session_late.toml",
        1,
        &[("sinks.windows.path", &windows), ("sinks.late.path", &late)],
        &tmp.path().join("dead.jsonl"),
    );
    let want = expected("time_session_late.csv");
    assert_same_multiset("sessions", &lines(&windows), &want);
    assert_same_multiset("late", &lines(&late), &expected("time_late.csv"));
}
