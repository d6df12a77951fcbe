//! Exit codes and messages of `weir run` on bad data, missing input, unwritable output and
//! bad flags.

mod cli_support;

use cli_support::{output, read_parts, run_fixture, stderr, weir};

#[test]
fn on_error_fail_exits_65_with_the_first_bad_line() {
    let run = run_fixture("rolling_sum", 1, &["--on-error", "fail"]);
    assert_eq!(
        run.output.status.code(),
        Some(65),
        "{}",
        stderr(&run.output)
    );
    let err = stderr(&run.output);
    assert!(
        err.contains("bad record in fixtures/events.csv line 15: expected 3 fields, found 2"),
        "{err}"
    );
    assert!(run.dead.is_empty(), "fail mode writes no dead letters");
}

#[test]
fn on_error_from_the_pipeline_file_can_be_overridden() {
    let (dir, path) = cli_support::pipeline_file(
        "p.toml",
        &std::fs::read_to_string(cli_support::root().join("fixtures/select.toml"))
            .expect("select.toml")
            .replace("[runtime]", "[runtime]\non_error = \"fail\"")
            .replace(
                "\"fixtures/",
                &format!("\"{}/fixtures/", cli_support::root().display()),
            ),
    );
    let sink = dir.path().join("out");
    let failed = output(
        weir()
            .arg("run")
            .arg(&path)
            .args(["--workers", "1", "--no-pin"])
            .arg(format!("--set=sink.path={}", sink.display())),
    );
    assert_eq!(failed.status.code(), Some(65), "{}", stderr(&failed));
    let dead = dir.path().join("dead.jsonl");
    let ok = output(
        weir()
            .arg("run")
            .arg(&path)
            .args([
                "--workers",
                "1",
                "--no-pin",
                "--on-error",
                "dead-letter",
                "--dead-letter",
            ])
            .arg(&dead)
            .arg(format!(
                "--set=sink.path={}",
                dir.path().join("out2").display()
            )),
    );
    assert!(ok.status.success(), "{}", stderr(&ok));
    assert_eq!(cli_support::read_dead(&dead).len(), 9);
}

#[test]
fn missing_input_exits_74_before_any_output() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sink = dir.path().join("out");
    let out = output(
        weir()
            .args([
                "run",
                "fixtures/rolling_sum.toml",
                "--workers",
                "1",
                "--no-pin",
            ])
            .arg("--set=source.path=fixtures/no-such-file.csv")
            .arg(format!("--set=sink.path={}", sink.display())),
    );
    assert_eq!(out.status.code(), Some(74), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("fixtures/no-such-file.csv"),
        "{}",
        stderr(&out)
    );
    assert!(read_parts(&sink).is_empty(), "no part file");
    assert!(!sink.exists(), "the sink directory is not created");
}

#[test]
fn missing_input_on_stdout_sink_prints_nothing() {
    let out = output(weir().args([
        "run",
        "fixtures/rolling_sum.toml",
        "--workers",
        "1",
        "--no-pin",
        "--set=source.path=fixtures/no-such-file.csv",
    ]));
    assert_eq!(out.status.code(), Some(74), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
}

#[test]
fn unwritable_sink_directory_exits_74() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("regular-file");
    std::fs::write(&file, "x").expect("write");
    let sink = file.join("out");
    let out = output(
        weir()
            .args([
                "run",
                "fixtures/rolling_sum.toml",
                "--workers",
                "1",
                "--no-pin",
            ])
            .arg(format!("--set=sink.path={}", sink.display()))
            .arg("--dead-letter")
            .arg(dir.path().join("dead.jsonl")),
    );
    assert_eq!(out.status.code(), Some(74), "{}", stderr(&out));
    assert!(stderr(&out).contains("regular-file"), "{}", stderr(&out));
}

#[test]
fn missing_pipeline_file_exits_74() {
    let out = output(weir().args(["run", "fixtures/no-such-pipeline.toml"]));
    assert_eq!(out.status.code(), Some(74), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no-such-pipeline.toml"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn unknown_flag_exits_2() {
    let out = output(weir().args(["run", "fixtures/rolling_sum.toml", "--bogus"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--bogus"), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
}

#[test]
fn bad_flag_value_and_missing_command_exit_2() {
    for args in [
        &["run", "fixtures/rolling_sum.toml", "--on-error", "ignore"][..],
        &["run", "fixtures/rolling_sum.toml", "--workers", "two"],
        &["run"],
        &["frobnicate"],
    ] {
        let out = output(weir().args(args));
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
    }
}

#[test]
fn invalid_override_on_run_exits_2() {
    let out = output(weir().args([
        "run",
        "fixtures/rolling_sum.toml",
        "--set",
        "ops[0].key=usr",
    ]));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("ops[0].key: unknown field \"usr\""),
        "{}",
        stderr(&out)
    );
}
