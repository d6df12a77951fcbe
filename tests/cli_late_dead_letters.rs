//! Late records whose side output nobody reads go to the dead-letter file with reason `late`
//! (never silently dropped), counted in the run summary as `late=N` — run by the real binary
//! against the late records computed apart from the engine (fixtures/expected/time_late.csv,
//! scripts/gen_time_fixture.py).

mod cli_support;

use cli_support::{assert_same_multiset, expected, output, read_dead, read_parts, stderr, weir};
use std::path::Path;

fn lines(dir: &Path) -> Vec<String> {
    read_parts(dir).into_iter().flatten().collect()
}

/// The dead letters with reason `late`, as `key,value,ts` lines; checks each names `stage`.
fn late_rows(dead: &[serde_json::Value], stage: &str) -> Vec<String> {
    dead.iter()
        .filter(|d| d["reason"] == "late")
        .map(|d| {
            assert_eq!(d["stage"], stage, "{d}");
            assert_eq!(d["output"], "late", "{d}");
            assert!(d.get("line").is_none(), "rows do not know their line: {d}");
            let r = &d["record"];
            let key = r["key"].as_str().unwrap_or_else(|| panic!("no key: {d}"));
            format!("{key},{},{}", r["value"], r["ts"])
        })
        .collect()
}

/// The summary's `late=N`.
fn late_in_summary(err: &str) -> Option<u64> {
    let at = err.find(" late=")? + " late=".len();
    err[at..].split(' ').next()?.parse().ok()
}

#[test]
fn graph_form_late_records_without_consumer_are_dead_lettered() {
    let tmp = tempfile::tempdir().unwrap();
    let (windows, dead) = (tmp.path().join("w"), tmp.path().join("dead.jsonl"));
    let run = output(
        weir()
            .args([
                "run",
                "fixtures/time/window_late_dead.toml",
                "--workers",
                "1",
            ])
            .arg("--set")
            .arg(format!("sinks.windows.path={}", windows.display()))
            .arg("--dead-letter")
            .arg(&dead),
    );
    let err = stderr(&run);
    assert!(run.status.success(), "{err}");
    assert_same_multiset("windows", &lines(&windows), &expected("time_window.csv"));
    let want = expected("time_late.csv");
    let dead = read_dead(&dead);
    assert_eq!(dead.len(), want.len(), "only late records: {dead:?}");
    assert_same_multiset("late dead letters", &late_rows(&dead, "w"), &want);
    assert_eq!(late_in_summary(&err), Some(want.len() as u64), "{err}");
    assert!(err.contains("dead_lettered=0 "), "no malformed line: {err}");
    assert!(
        err.contains("late records (no `.late` consumer) were written to"),
        "{err}"
    );
}

#[test]
fn one_line_form_dead_letters_late_records_even_with_on_error_fail() {
    let tmp = tempfile::tempdir().unwrap();
    let (out, dead) = (tmp.path().join("out"), tmp.path().join("dead.jsonl"));
    let run = output(
        weir()
            .args(["run", "fixtures/time/window.toml", "--workers", "1"])
            .args(["--set", "source.path=fixtures/time/events_late.csv"])
            // The batch size of fixtures/time/window_late.toml, for which the oracle computed
            // the late records (a watermark follows each batch).
            .args(["--set", "runtime.batch_size=64", "--set"])
            .arg(format!("sink.path={}", out.display()))
            .args(["--on-error", "fail", "--dead-letter"])
            .arg(&dead),
    );
    let err = stderr(&run);
    assert!(
        run.status.success(),
        "late records are not malformed: {err}"
    );
    assert_same_multiset("windows", &lines(&out), &expected("time_window.csv"));
    let want = expected("time_late.csv");
    let dead = read_dead(&dead);
    let stage = dead.first().map(|d| d["stage"].clone()).unwrap_or_default();
    let stage = stage.as_str().unwrap_or_default();
    assert_same_multiset("late dead letters", &late_rows(&dead, stage), &want);
    assert_eq!(late_in_summary(&err), Some(want.len() as u64), "{err}");
}

#[test]
fn a_consumed_late_output_writes_no_dead_letters_but_is_counted() {
    let tmp = tempfile::tempdir().unwrap();
    let dead = tmp.path().join("dead.jsonl");
    let run = output(
        weir()
            .args(["run", "fixtures/time/window_late.toml", "--workers", "1"])
            .arg("--set")
            .arg(format!(
                "sinks.windows.path={}",
                tmp.path().join("w").display()
            ))
            .arg("--set")
            .arg(format!(
                "sinks.late.path={}",
                tmp.path().join("l").display()
            ))
            .arg("--dead-letter")
            .arg(&dead),
    );
    let err = stderr(&run);
    assert!(run.status.success(), "{err}");
    assert!(read_dead(&dead).is_empty());
    let want = expected("time_late.csv");
    assert_same_multiset("late side output", &lines(&tmp.path().join("l")), &want);
    assert_eq!(late_in_summary(&err), Some(want.len() as u64), "{err}");
}

#[test]
fn checkpointed_run_dead_letters_each_late_record_once() {
    let tmp = tempfile::tempdir().unwrap();
    let dead = tmp.path().join("dead.jsonl");
    let run = output(
        weir()
            .args([
                "run",
                "fixtures/time/window_late_dead.toml",
                "--workers",
                "2",
            ])
            .arg("--set")
            .arg(format!(
                "sinks.windows.path={}",
                tmp.path().join("w").display()
            ))
            .arg("--checkpoint-dir")
            .arg(tmp.path().join("ckpt"))
            .args(["--checkpoint-interval", "10ms", "--dead-letter"])
            .arg(&dead),
    );
    let err = stderr(&run);
    assert!(run.status.success(), "{err}");
    // At 2 workers which records are late depends on how the splits progress; each one
    // counted must be in the file exactly once.
    let dead = read_dead(&dead);
    let mut rows = late_rows(&dead, "w");
    assert_eq!(late_in_summary(&err), Some(rows.len() as u64), "{err}");
    rows.sort();
    rows.dedup();
    assert_eq!(rows.len(), dead.len(), "no line twice");
}
