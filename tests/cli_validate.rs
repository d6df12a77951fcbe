//! `weir validate`: each error path the CLI exposes exits 2 with `FILE: field.path: message`
//! on stderr; valid pipelines exit 0.

mod cli_support;

use cli_support::{output, pipeline_file, stderr, weir};
use std::path::Path;

const SCHEMA: &str = r#"schema = [ { name = "key", type = "string" }, { name = "value", type = "i64" }, { name = "ts", type = "timestamp" } ]"#;

const KEYED_OPS: &str = r#"
[[ops]]
type = "key_by"
key = "key"

[[ops]]
type = "rolling"
aggregates = [ { fn = "sum", field = "value", as = "sum" } ]
"#;

const FILE_SINK: &str = "[sink]\ntype = \"file\"\npath = \"out\"\n";

/// A pipeline reading an existing (empty) CSV file next to it, with `ops` and `rest` (the
/// sink and any other table) appended.
fn pipeline(dir: &Path, ops: &str, rest: &str) -> String {
    let input = dir.join("in.csv");
    std::fs::write(&input, "key,value,ts\n").expect("input");
    format!(
        "[source]\ntype = \"file\"\npath = {:?}\n{SCHEMA}\n{ops}\n{rest}",
        input.display().to_string()
    )
}

/// Validates `text(dir)` with `sets`; returns (exit code, stdout, stderr, the file's path).
fn validate(
    text: impl Fn(&Path) -> String,
    sets: &[&str],
) -> (Option<i32>, String, String, String) {
    let (dir, path) = pipeline_file("p.toml", "");
    std::fs::write(&path, text(dir.path())).expect("pipeline");
    let mut cmd = weir();
    cmd.arg("validate").arg(&path);
    for s in sets {
        cmd.arg("--set").arg(s);
    }
    let out = output(&mut cmd);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    (
        out.status.code(),
        stdout,
        stderr(&out),
        path.display().to_string(),
    )
}

/// Asserts exit 2 and exactly the error lines `errors` (each prefixed with the file path, in
/// any order), followed by the count line.
fn assert_errors(text: impl Fn(&Path) -> String, sets: &[&str], errors: &[&str]) {
    let (code, stdout, err, path) = validate(text, sets);
    assert_eq!(code, Some(2), "stderr: {err}");
    assert!(stdout.is_empty(), "{stdout}");
    let mut want: Vec<String> = errors.iter().map(|e| format!("{path}: {e}")).collect();
    want.sort();
    want.push(format!("weir: {} error(s) in {path}", errors.len()));
    let mut got: Vec<String> = err.lines().map(str::to_owned).collect();
    let n = got.len().saturating_sub(1);
    got[..n].sort();
    assert_eq!(got, want);
}

#[test]
fn fixture_pipelines_are_valid() {
    for name in [
        "rolling_sum",
        "rolling_stats",
        "filter",
        "select",
        "dedup",
        "zscore",
        "jsonl",
        "generator",
    ] {
        let out = output(weir().args(["validate", &format!("fixtures/{name}.toml")]));
        assert_eq!(out.status.code(), Some(0), "{name}: {}", stderr(&out));
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.starts_with(&format!("ok: pipeline {name} (")),
            "{stdout}"
        );
    }
}

#[test]
fn valid_pipeline_reports_its_output_fields() {
    let (code, stdout, err, _) = validate(|d| pipeline(d, KEYED_OPS, FILE_SINK), &[]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        stdout.starts_with("ok: pipeline p (2 op(s); output fields: key, sum), fingerprint "),
        "{stdout}"
    );
}

#[test]
fn unknown_field() {
    let ops = KEYED_OPS.replace("key = \"key\"", "key = \"usr\"");
    assert_errors(
        |d| pipeline(d, &ops, FILE_SINK),
        &[],
        &[r#"ops[0].key: unknown field "usr" (fields: key, value, ts)"#],
    );
}

#[test]
fn unknown_field_through_set() {
    assert_errors(
        |d| pipeline(d, KEYED_OPS, FILE_SINK),
        &["ops[1].aggregates[0].field=amount"],
        &[r#"ops[1].aggregates[0].field: unknown field "amount" (fields: key, value, ts)"#],
    );
}

#[test]
fn unknown_op_type() {
    let ops = format!("{KEYED_OPS}\n[[ops]]\ntype = \"map\"\n");
    assert_errors(
        |d| pipeline(d, &ops, FILE_SINK),
        &[],
        &[
            r#"ops[2].type: unknown op type "map" (expected filter, select, key_by, rolling, process, window, aggregate, top_n, max_rows)"#,
        ],
    );
}

#[test]
fn bad_constants() {
    let ops = "[[ops]]\ntype = \"filter\"\nfield = \"value\"\nop = \">=\"\nvalue = \"ten\"\n";
    assert_errors(
        |d| pipeline(d, ops, FILE_SINK),
        &[],
        &[r#"ops[0].value: "ten" is not an i64 (field "value" is i64)"#],
    );
    let ops = "[[ops]]\ntype = \"filter\"\nfield = \"ts\"\nop = \">\"\nvalue = \"noon\"\n";
    assert_errors(
        |d| pipeline(d, ops, FILE_SINK),
        &[],
        &[r#"ops[0].value: "noon" is not a timestamp (field "ts" is timestamp)"#],
    );
}

#[test]
fn missing_sink_path() {
    assert_errors(
        |d| pipeline(d, KEYED_OPS, "[sink]\ntype = \"file\"\n"),
        &[],
        &["sink.path: missing"],
    );
}

#[test]
fn unknown_keys() {
    let ops = format!("{KEYED_OPS}colour = \"red\"\n");
    assert_errors(
        |d| format!("bogus = 3\n{}", pipeline(d, &ops, FILE_SINK)),
        &[],
        &["bogus: unknown key", "ops[1].colour: unknown key"],
    );
}

#[test]
fn bad_set_paths() {
    assert_errors(
        |d| pipeline(d, KEYED_OPS, FILE_SINK),
        &["ops[7].key=x", "nope"],
        &[
            "--set ops[7].key=x: ops[7] does not exist (ops has 2 elements)",
            "--set nope: expected path=value",
        ],
    );
}

#[test]
fn toml_syntax_error_names_line_and_column() {
    // The rolling op's `aggregates` array is not closed: the error is where the next line
    // starts.
    let ops = KEYED_OPS.replace(r#"as = "sum" } ]"#, r#"as = "sum" }"#);
    let (code, _, err, path) = validate(|d| pipeline(d, &ops, FILE_SINK), &[]);
    assert_eq!(code, Some(2));
    let first = err.lines().next().expect("an error line");
    let sink_line = pipeline(Path::new("/tmp"), &ops, FILE_SINK)
        .lines()
        .position(|l| l == "[sink]")
        .expect("sink")
        + 1;
    assert!(
        first.starts_with(&format!("{path}: line {sink_line}, column 1: ")),
        "{err}"
    );
}

#[test]
fn key_by_without_keyed_op() {
    let ops = "[[ops]]\ntype = \"key_by\"\nkey = \"key\"\n";
    assert_errors(
        |d| pipeline(d, ops, FILE_SINK),
        &[],
        &["ops[0].type: key_by must be directly followed by a rolling, process or window op (it is the last op)"],
    );
}

#[test]
fn keyed_op_without_key_by() {
    let ops = "[[ops]]\ntype = \"process\"\nfunction = \"dedup\"\n";
    assert_errors(
        |d| pipeline(d, ops, FILE_SINK),
        &[],
        &[r#"ops[0].type: "process" needs a key_by before it"#],
    );
}

#[test]
fn two_key_bys() {
    let ops = format!("[[ops]]\ntype = \"key_by\"\nkey = \"key\"\n{KEYED_OPS}");
    assert_errors(
        |d| pipeline(d, &ops, FILE_SINK),
        &[],
        &[
            r#"ops[0].type: key_by must be directly followed by a rolling, process or window op (found "key_by" at ops[1])"#,
            "ops[1].type: only one key_by is allowed (the first is ops[0])",
        ],
    );
}

#[test]
fn max_parallelism_not_a_power_of_two() {
    let rest = format!("{FILE_SINK}[runtime]\nmax_parallelism = 100\n");
    assert_errors(
        |d| pipeline(d, KEYED_OPS, &rest),
        &[],
        &["runtime.max_parallelism: 100 is not a power of two"],
    );
    assert_errors(
        |d| pipeline(d, KEYED_OPS, FILE_SINK),
        &["runtime.max_parallelism=96"],
        &["runtime.max_parallelism: 96 is not a power of two"],
    );
}

#[test]
fn missing_source_file() {
    let (code, stdout, err, path) = validate(
        |d| pipeline(d, KEYED_OPS, FILE_SINK),
        &["source.path=/nonexistent/in.csv"],
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(stdout.is_empty());
    assert_eq!(
        err.trim_end(),
        format!("{path}: source.path: /nonexistent/in.csv does not exist")
    );
}
