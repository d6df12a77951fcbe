//! Any pipeline text and any `--set` never panic: the loader answers a plan or
//! `Error::Config`. Overrides are drawn from the real field paths with hostile values
//! (extreme integers, NaN, huge durations, wrong types), and from arbitrary text.

use super::*;
use proptest::prelude::*;

/// Pipelines covering every section and op kind (all valid).
const BASES: &[&str] = &[
    r#"
name = "p"
[source]
type = "file"
path = "events.csv"
max_line_bytes = 100
schema = [ { name = "key", type = "string" }, { name = "value", type = "i64" }, { name = "ts", type = "timestamp" } ]
[[ops]]
type = "filter"
field = "value"
op = ">="
value = 10
[[ops]]
type = "select"
fields = ["key", { field = "value", as = "v" }, "ts"]
[[ops]]
type = "key_by"
key = ["key"]
[[ops]]
type = "rolling"
aggregates = [ { fn = "sum", field = "v", as = "sum" }, { fn = "count", as = "n" } ]
[sink]
type = "file"
path = "out"
[checkpoint]
dir = "ckpt"
interval = "500ms"
retain = 3
[runtime]
workers = 2
batch_size = 1024
max_parallelism = 128
on_error = "dead_letter"
dead_letter_path = "dead.jsonl"
"#,
    r#"
[source]
type = "generator"
events = 100
keys = 10
events_per_ms = 5
rate = 0
[[ops]]
type = "key_by"
key = "key"
[[ops]]
type = "process"
function = "zscore"
field = "value"
threshold = 3.0
min_count = 2
[sink]
type = "stdout"
format = "jsonl"
"#,
    r#"
[source]
type = "stdin"
format = "jsonl"
schema = [ { name = "k", type = "i64" }, { name = "x", type = "f64" } ]
[[ops]]
type = "key_by"
key = ["k"]
[[ops]]
type = "process"
function = "dedup"
ttl = "10m"
[sink]
type = "null"
"#,
];

/// Field paths of the bases (and a few that do not exist).
const PATHS: &[&str] = &[
    "name",
    "source",
    "source.type",
    "source.path",
    "source.format",
    "source.header",
    "source.max_line_bytes",
    "source.schema",
    "source.schema[0]",
    "source.schema[0].type",
    "source.schema[1].name",
    "source.events",
    "source.keys",
    "source.events_per_ms",
    "source.rate",
    "ops",
    "ops[0]",
    "ops[0].type",
    "ops[0].value",
    "ops[0].op",
    "ops[0].field",
    "ops[0].key",
    "ops[1].fields",
    "ops[1].fields[1]",
    "ops[1].fields[1].as",
    "ops[1].function",
    "ops[1].ttl",
    "ops[1].threshold",
    "ops[1].min_count",
    "ops[2].key",
    "ops[3].aggregates",
    "ops[3].aggregates[0].fn",
    "ops[3].aggregates[0].field",
    "ops[9]",
    "sink",
    "sink.type",
    "sink.path",
    "sink.format",
    "sink.header",
    "checkpoint",
    "checkpoint.dir",
    "checkpoint.interval",
    "checkpoint.retain",
    "runtime",
    "runtime.workers",
    "runtime.batch_size",
    "runtime.max_parallelism",
    "runtime.on_error",
    "runtime.dead_letter_path",
    "runtime.ring_capacity",
    "x.y[3]",
];

/// Hostile override values (TOML literals or raw text).
const VALUES: &[&str] = &[
    "0",
    "-1",
    "1",
    "9223372036854775807",
    "-9223372036854775808",
    "18446744073709551616",
    "4294967296",
    "65536",
    "32768",
    "3",
    "nan",
    "inf",
    "-inf",
    "1e308",
    "-0.0",
    "true",
    "\"\"",
    "''",
    "[]",
    "[1, \"a\"]",
    "{}",
    "{ fn = \"max\" }",
    "{ name = \"ts\", type = \"f64\" }",
    "0s",
    "1ns",
    "18446744073709551615s",
    "99999999999999999999y",
    "-1ms",
    "1979-05-27T07:32:00Z",
    "file",
    "generator",
    "csv",
    "jsonl",
    "sum",
    "avg",
    "==",
    "key",
    "value",
    "ts",
    "é\u{0}\u{7f}",
    "[[ops]]",
    "a = 1\nb = 2",
];

fn set() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => (prop::sample::select(PATHS), prop::sample::select(VALUES))
            .prop_map(|(p, v)| format!("{p}={v}")),
        1 => ".{0,40}",
        1 => (prop::sample::select(PATHS), ".{0,20}").prop_map(|(p, v)| format!("{p}={v}")),
        1 => "[a-z\\[\\]0-9.=]{0,20}",
    ]
}

/// The loader's answer: a plan, or configuration errors; anything else fails the test.
fn load(text: &str, sets: &[String]) -> Result<(), TestCaseError> {
    match parse_str(text, sets) {
        Ok(_) | Err(Error::Config(_)) => Ok(()),
        Err(other) => Err(TestCaseError::fail(format!(
            "not a config error: {other:?}"
        ))),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_overrides_give_a_plan_or_config_errors(
        base in prop::sample::select(BASES),
        sets in prop::collection::vec(set(), 0..4),
    ) {
        load(base, &sets)?;
    }

    #[test]
    fn any_text_gives_a_plan_or_config_errors(text in ".{0,200}") {
        load(&text, &[])?;
    }

    /// A valid pipeline with a few bytes replaced: mostly broken TOML or wrong values.
    #[test]
    fn mutated_pipelines_give_a_plan_or_config_errors(
        base in prop::sample::select(BASES),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<char>()), 1..4),
    ) {
        let mut chars: Vec<char> = base.chars().collect();
        for (at, c) in edits {
            let i = at.index(chars.len());
            chars[i] = c;
        }
        load(&chars.into_iter().collect::<String>(), &[])?;
    }

    #[test]
    fn apply_set_never_panics(base in prop::sample::select(BASES), set in set()) {
        let mut doc = parse_toml(base).map_err(|e| TestCaseError::fail(e.to_string()))?;
        match overrides::apply_set(&mut doc, &set) {
            Ok(()) | Err(Error::Config(_)) => {}
            Err(other) => return Err(TestCaseError::fail(format!("{other:?}"))),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// A pipeline *file* of any bytes (invalid UTF-8 included) is a configuration error, not
    /// an I/O error: the file was read, it is just not a pipeline.
    #[test]
    fn any_file_gives_a_plan_or_config_errors(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let dir = tempfile::tempdir().map_err(|e| TestCaseError::fail(e.to_string()))?;
        let path = dir.path().join("p.toml");
        std::fs::write(&path, &bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
        match super::super::load(&path, &[]) {
            Ok(_) | Err(Error::Config(_)) => {}
            Err(other) => return Err(TestCaseError::fail(format!("{other:?}"))),
        }
    }
}

/// Regression (found by `any_file_gives_a_plan_or_config_errors`): a pipeline file holding
/// the single byte 0x80 was reported as an I/O error (exit 74).
#[test]
fn a_pipeline_file_that_is_not_utf8_is_a_config_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.toml");
    std::fs::write(&path, [0x80u8]).unwrap();
    match super::super::load(&path, &[]) {
        Err(Error::Config(msgs)) => {
            assert_eq!(
                msgs,
                [format!(
                    "{}: not UTF-8 text (invalid byte at offset 0)",
                    path.display()
                )]
            );
        }
        other => panic!("expected a config error, got {other:?}"),
    }
}
