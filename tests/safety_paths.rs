//! Issue 8, run as a user would (the real binary): weir never destroys a file it cannot prove
//! it wrote. Overlapping paths, a user's files in the sink directory, a dead-letter path that
//! is an input, huge flags, and `checkpoint.dir = "."` beside a user's `x.tmp`.

mod cli_support;

use cli_support::{assert_same_multiset, expected, output, read_parts, stderr, weir};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

/// `weir run fixtures/rolling_sum.toml` reading `input`, one worker (unless `extra` says
/// otherwise), plus `extra`.
fn run(input: &Path, extra: &[&str]) -> Output {
    let mut cmd = weir();
    cmd.args(["run", "fixtures/rolling_sum.toml", "--no-pin"])
        .arg(format!("--set=source.path={}", input.display()));
    if !extra.contains(&"--workers") {
        cmd.args(["--workers", "1"]);
    }
    output(cmd.args(extra))
}

/// A private copy of the fixture input: (temp dir, `DIR/in.csv`).
fn input_copy() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let input = dir.path().join("in.csv");
    fs::copy(cli_support::root().join("fixtures/events.csv"), &input).expect("copy input");
    (dir, input)
}

/// Asserts exit 2 and that stderr names every one of `names`.
fn assert_refused(out: &Output, names: &[&str]) {
    let err = stderr(out);
    assert_eq!(
        out.status.code(),
        Some(2),
        "exit 2 expected; stderr:\n{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    for n in names {
        assert!(err.contains(n), "stderr names {n:?}:\n{err}");
    }
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

#[test]
fn dead_letter_equal_to_the_input_is_refused_and_the_input_kept() {
    let (dir, input) = input_copy();
    let before = fs::read(&input).unwrap();
    let out_dir = dir.path().join("out");
    let sink = format!("--set=sink.path={}", s(&out_dir));
    let out = run(&input, &[&sink, "--dead-letter", &s(&input)]);
    assert_refused(&out, &["source.path", "--dead-letter", &s(&input)]);
    assert_eq!(fs::read(&input).unwrap(), before, "the input is untouched");
    assert!(!out_dir.exists(), "nothing was started");
}

#[test]
fn every_overlapping_pair_is_refused_naming_both() {
    let (dir, input) = input_copy();
    let d = dir.path();
    let sink = d.join("out");
    let ckpt = d.join("ckpt");
    let dead = d.join("dead.jsonl");
    let set_sink = |p: &Path| format!("--set=sink.path={}", s(p));
    let cases: Vec<(Vec<String>, Vec<&str>)> = vec![
        // sink == checkpoint dir
        (
            vec![set_sink(&sink), "--checkpoint-dir".into(), s(&sink)],
            vec!["sink.path", "--checkpoint-dir"],
        ),
        // dead-letter file == sink dir
        (
            vec![set_sink(&sink), "--dead-letter".into(), s(&sink)],
            vec!["sink.path", "--dead-letter"],
        ),
        // dead-letter file == checkpoint dir
        (
            vec![
                set_sink(&sink),
                "--checkpoint-dir".into(),
                s(&ckpt),
                "--dead-letter".into(),
                s(&ckpt),
            ],
            vec!["--checkpoint-dir", "--dead-letter"],
        ),
        // the dead-letter file would be the checkpoint directory's lock file
        (
            vec![
                set_sink(&sink),
                "--checkpoint-dir".into(),
                s(&ckpt),
                "--dead-letter".into(),
                s(&ckpt.join("LOCK")),
            ],
            vec!["--checkpoint-dir", "--dead-letter"],
        ),
        // sink dir == the input (by another spelling)
        (
            vec![
                set_sink(&d.join("x/../in.csv")),
                "--dead-letter".into(),
                s(&dead),
            ],
            vec!["sink.path", "source.path"],
        ),
        // checkpoint dir == the input
        (
            vec![
                set_sink(&sink),
                "--checkpoint-dir".into(),
                s(&input),
                "--dead-letter".into(),
                s(&dead),
            ],
            vec!["--checkpoint-dir", "source.path"],
        ),
    ];
    for (extra, names) in cases {
        let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
        let out = run(&input, &extra);
        assert_refused(&out, &names);
    }
    // An input directory holding the sink would read weir's own output.
    let out = output(
        weir()
            .args(["run", "fixtures/rolling_sum.toml", "--no-pin"])
            .arg(format!("--set=source.path={}", s(d)))
            .arg(set_sink(&sink))
            .args(["--dead-letter", &s(&d.join("elsewhere/dead.jsonl"))]),
    );
    assert_refused(&out, &["sink.path", "source.path", "would read"]);
    assert!(!sink.exists() && !ckpt.exists(), "nothing was created");
    assert_eq!(
        fs::read_dir(d).unwrap().count(),
        1,
        "only the input is there"
    );
}

#[test]
fn a_users_part_file_in_the_sink_directory_is_refused_then_overwritten_on_request() {
    let (dir, input) = input_copy();
    let out_dir = dir.path().join("mydata");
    fs::create_dir(&out_dir).unwrap();
    fs::write(out_dir.join("part-00000"), "my own data\n").unwrap();
    fs::write(out_dir.join("notes.txt"), "keep me\n").unwrap();
    let sink = format!("--set=sink.path={}", s(&out_dir));
    let dead = s(&dir.path().join("dead.jsonl"));
    let out = run(&input, &[&sink, "--dead-letter", &dead]);
    assert_refused(
        &out,
        &[&s(&out_dir), "part-00000", "notes.txt", "--overwrite"],
    );
    assert_eq!(
        fs::read_to_string(out_dir.join("part-00000")).unwrap(),
        "my own data\n"
    );

    let out = run(&input, &[&sink, "--dead-letter", &dead, "--overwrite"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_same_multiset(
        "overwritten",
        &read_parts(&out_dir).concat(),
        &expected("rolling_sum.csv"),
    );
    assert_eq!(
        fs::read_to_string(out_dir.join("notes.txt")).unwrap(),
        "keep me\n"
    );
    // The directory is now weir's: a second run replaces its part files without --overwrite.
    let out = run(&input, &[&sink, "--dead-letter", &dead]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_same_multiset(
        "rerun",
        &read_parts(&out_dir).concat(),
        &expected("rolling_sum.csv"),
    );
}

#[test]
fn a_users_file_at_the_dead_letter_path_is_refused() {
    let (dir, input) = input_copy();
    let dead = dir.path().join("notes.jsonl");
    fs::write(&dead, "{\"my\":\"notes\"}\n").unwrap();
    let sink = format!("--set=sink.path={}", s(&dir.path().join("out")));
    let out = run(&input, &[&sink, "--dead-letter", &s(&dead)]);
    assert_refused(&out, &[&s(&dead), "--overwrite"]);
    assert_eq!(fs::read_to_string(&dead).unwrap(), "{\"my\":\"notes\"}\n");
    // weir's own dead letters from a previous run are replaced.
    let out = run(&input, &[&sink, "--dead-letter", &s(&dead), "--overwrite"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let first = fs::read(&dead).unwrap();
    let out = run(&input, &[&sink, "--dead-letter", &s(&dead)]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(fs::read(&dead).unwrap(), first, "replaced, not appended to");
}

#[test]
fn huge_flags_are_refused_naming_the_flag() {
    let (dir, input) = input_copy();
    let sink = format!("--set=sink.path={}", s(&dir.path().join("out")));
    for (flag, value) in [
        ("--ring-capacity", "9223372036854775807"),
        ("--batch-size", "100000000000"),
        ("--workers", "100000"),
        ("--workers", "0"),
        ("--checkpoint-retain", "0"),
        ("--checkpoint-interval", "100000000s"),
    ] {
        let ckpt = s(&dir.path().join("ckpt"));
        let out = run(&input, &[&sink, flag, value, "--checkpoint-dir", &ckpt]);
        assert_refused(&out, &[flag, value.trim_end_matches('s')]);
    }
}

#[test]
fn checkpoint_dir_dot_keeps_a_users_tmp_files() {
    let (dir, input) = input_copy();
    let d = dir.path();
    fs::write(d.join("x.tmp"), "my temp file\n").unwrap();
    fs::create_dir(d.join("chk-0000000007")).unwrap();
    fs::write(d.join("chk-0000000007/notes"), "not weir's\n").unwrap();
    let out = output(
        weir()
            .current_dir(d)
            .arg("run")
            .arg(cli_support::root().join("fixtures/rolling_sum.toml"))
            .args(["--workers", "1", "--no-pin", "--set=sink.path=out"])
            .arg(format!("--set=source.path={}", s(&input)))
            .args(["--dead-letter", "dead.jsonl", "--checkpoint-dir", "."])
            .args(["--checkpoint-interval", "10ms"]),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        fs::read_to_string(d.join("x.tmp")).unwrap(),
        "my temp file\n"
    );
    assert_eq!(
        fs::read_to_string(d.join("chk-0000000007/notes")).unwrap(),
        "not weir's\n",
        "a checkpoint-named directory holding a user's file is left alone"
    );
    assert_same_multiset(
        "output",
        &read_parts(&d.join("out")).concat(),
        &expected("rolling_sum.csv"),
    );
}

#[test]
fn a_stdout_sink_creates_no_directory_named_dash() {
    let (dir, input) = input_copy();
    let d = dir.path();
    let out = output(
        weir()
            .current_dir(d)
            .arg("run")
            .arg(cli_support::root().join("fixtures/rolling_sum.toml"))
            .args(["--workers", "1", "--no-pin", "--dead-letter", "dead.jsonl"])
            .arg(format!("--set=source.path={}", s(&input))),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!d.join("-").exists(), "`path = \"-\"` is standard output");
    let printed = String::from_utf8_lossy(&out.stdout);
    assert_same_multiset(
        "stdout",
        &cli_support::lines_of(&printed),
        &expected("rolling_sum.csv"),
    );
}
