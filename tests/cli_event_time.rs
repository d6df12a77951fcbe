//! Event time in pipeline files, run by the real binary: 1 s tumbling windows over
//! out-of-order input (one-line form, 1 and 2 workers), and records too late for their window
//! on the side output `w.late` (graph form) — against outputs computed apart from the engine
//! (scripts/gen_time_fixture.py).

mod cli_support;

use cli_support::{assert_same_multiset, expected, output, read_parts, stderr, weir};

fn lines(dir: &std::path::Path) -> Vec<String> {
    read_parts(dir).into_iter().flatten().collect()
}

#[test]
fn tumbling_windows_match_the_oracle_on_1_and_2_workers() {
    for workers in [1, 2] {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        let run = output(
            weir()
                .args([
                    "run",
                    "fixtures/time/window.toml",
                    "--workers",
                    &workers.to_string(),
                ])
                .arg("--set")
                .arg(format!("sink.path={}", out.display()))
                .arg("--dead-letter")
                .arg(tmp.path().join("dead.jsonl")),
        );
        assert!(run.status.success(), "{}", stderr(&run));
        assert_same_multiset("windows", &lines(&out), &expected("time_window.csv"));
    }
}

#[test]
fn late_records_go_to_the_window_side_output() {
    let tmp = tempfile::tempdir().unwrap();
    let (windows, late) = (tmp.path().join("w"), tmp.path().join("late"));
    let run = output(
        weir()
            .args(["run", "fixtures/time/window_late.toml", "--workers", "1"])
            .arg("--set")
            .arg(format!("sinks.windows.path={}", windows.display()))
            .arg("--set")
            .arg(format!("sinks.late.path={}", late.display()))
            .arg("--dead-letter")
            .arg(tmp.path().join("dead.jsonl")),
    );
    assert!(run.status.success(), "{}", stderr(&run));
    assert_same_multiset("windows", &lines(&windows), &expected("time_window.csv"));
    assert_same_multiset("late", &lines(&late), &expected("time_late.csv"));
}

#[test]
fn a_window_without_event_time_is_an_error_naming_the_op() {
    let (_dir, path) = cli_support::pipeline_file(
        "p.toml",
        r#"
[source]
type = "generator"
events = 10
[[ops]]
type = "key_by"
key = "key"
[[ops]]
type = "window"
kind = "tumbling"
size = "1s"
aggregates = [ { fn = "count", as = "n" } ]
[sink]
type = "null"
"#,
    );
    let out = output(weir().args(["validate", path.to_str().unwrap()]));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("ops[1].type: a window needs event time"),
        "{}",
        stderr(&out)
    );
}
