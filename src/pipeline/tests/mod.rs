//! Tests of validation (one per error kind, in `errors`), plans, overrides through
//! `parse_str`, the fingerprint and the example files.

mod dedup_time;
mod errors;
mod fingerprint_ops;
mod robust;
mod tcp;
mod zscore_window;

use super::*;
use crate::record::{FieldType, Value};
use std::time::Duration;

pub(super) const SOURCE: &str = r#"
[source]
type = "file"
path = "events.csv"
schema = [ { name = "user", type = "string" }, { name = "value", type = "i64" }, { name = "ts", type = "timestamp" } ]
"#;

pub(super) const SINK: &str = "\n[sink]\ntype = \"null\"\n";

/// The base pipeline with `ops` (TOML text of `[[ops]]` tables) inserted.
pub(super) fn with_ops(ops: &str) -> String {
    format!("{SOURCE}\n{ops}\n{SINK}")
}

pub(super) fn errors_of(text: &str, sets: &[&str]) -> Vec<String> {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    match parse_str(text, &sets) {
        Ok(plan) => panic!("expected errors, got a plan: {plan:?}"),
        Err(Error::Config(msgs)) => msgs,
        Err(other) => panic!("expected Error::Config, got {other:?}"),
    }
}

/// The single error of `text`.
pub(super) fn error(text: &str) -> String {
    let errs = errors_of(text, &[]);
    assert_eq!(errs.len(), 1, "expected one error, got {errs:#?}");
    errs.into_iter().next().unwrap()
}

pub(super) fn plan(text: &str) -> Plan {
    parse_str(text, &[]).unwrap_or_else(|e| panic!("{e}"))
}

pub(super) fn plan_with(text: &str, sets: &[&str]) -> Plan {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    parse_str(text, &sets).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn filter_constants_are_converted() {
    let text = "[source]\ntype = \"stdin\"\nformat = \"jsonl\"\n\
                schema = [ { name = \"x\", type = \"f64\" }, { name = \"ts\", type = \"timestamp\" }, { name = \"n\", type = \"i64\" } ]\n\
                [[ops]]\ntype = \"filter\"\nfield = \"x\"\nop = \"<\"\nvalue = 3\n\
                [[ops]]\ntype = \"filter\"\nfield = \"ts\"\nop = \">=\"\nvalue = \"1970-01-01T00:00:01.5Z\"\n\
                [[ops]]\ntype = \"filter\"\nfield = \"ts\"\nop = \"<\"\nvalue = 1970-01-02T00:00:00Z\n\
                [[ops]]\ntype = \"filter\"\nfield = \"n\"\nop = \"!=\"\nvalue = \"42\"\n\
                [sink]\ntype = \"stdout\"";
    let p = plan(text);
    let constants: Vec<&Value> = p
        .pre
        .iter()
        .map(|op| match op {
            StatelessOp::Filter { constant, .. } => constant,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        constants,
        [
            &Value::F64(3.0),
            &Value::Ts(1500),
            &Value::Ts(86_400_000),
            &Value::I64(42)
        ]
    );
    assert_eq!(
        p.pre[0],
        StatelessOp::Filter {
            index: 0,
            cmp: Cmp::Lt,
            constant: Value::F64(3.0)
        }
    );
}

#[test]
fn full_plan() {
    let text = r#"
[source]
type = "file"
path = "fixtures/events.csv"
schema = [ { name = "user", type = "string" }, { name = "value", type = "f64" }, { name = "ts", type = "timestamp" } ]
[[ops]]
type = "filter"
field = "value"
op = ">="
value = 10
[[ops]]
type = "select"
fields = ["ts", { field = "value", as = "v" }, "user"]
[[ops]]
type = "key_by"
key = ["user"]
[[ops]]
type = "rolling"
aggregates = [ { fn = "sum", field = "v", as = "total" }, { fn = "count", as = "n" }, { fn = "max", field = "v" }, { fn = "avg", field = "v" } ]
[[ops]]
type = "filter"
field = "n"
op = ">"
value = 1
[sink]
type = "file"
path = "out"
format = "jsonl"
[checkpoint]
dir = "ckpt"
interval = "500ms"
[runtime]
workers = 2
on_error = "fail"
"#;
    let p = plan(text);
    assert_eq!(p.name, "pipeline");
    let SourceSpec::File { path, decode } = &p.source else {
        panic!("{:?}", p.source)
    };
    assert_eq!(path.to_str(), Some("fixtures/events.csv"));
    assert_eq!(
        (decode.format, decode.header, decode.max_line_bytes),
        (Format::Csv, true, DEFAULT_MAX_LINE_BYTES)
    );
    assert_eq!(
        p.pre,
        [
            StatelessOp::Filter {
                index: 1,
                cmp: Cmp::Ge,
                constant: Value::F64(10.0)
            },
            StatelessOp::Select {
                indices: vec![2, 1, 0]
            },
        ]
    );
    assert_eq!(
        p.keyed_input_schema.as_ref().unwrap().names(),
        ["ts", "v", "user"]
    );
    assert_eq!(p.key, Some(vec![2]));
    let agg = |func, index, out: &str| AggSpec {
        func,
        index,
        out_name: out.to_string(),
    };
    assert_eq!(
        p.keyed,
        Some(KeyedOp::Rolling(vec![
            agg(AggFn::Sum, Some(1), "total"),
            agg(AggFn::Count, None, "n"),
            agg(AggFn::Max, Some(1), "max_v"),
            agg(AggFn::Avg, Some(1), "avg_v"),
        ]))
    );
    let out = p.keyed_output_schema.as_ref().unwrap();
    assert_eq!(out.names(), ["user", "total", "n", "max_v", "avg_v"]);
    let types: Vec<FieldType> = out.fields.iter().map(|f| f.ty).collect();
    assert_eq!(
        types,
        [
            FieldType::String,
            FieldType::F64,
            FieldType::I64,
            FieldType::F64,
            FieldType::F64
        ]
    );
    assert_eq!(
        p.post,
        [StatelessOp::Filter {
            index: 2,
            cmp: Cmp::Gt,
            constant: Value::I64(1)
        }]
    );
    assert_eq!(&p.output_schema, out);
    assert_eq!(
        p.sink,
        SinkSpec::File {
            path: "out".into(),
            format: Format::Jsonl,
            header: false
        }
    );
    let cp = p.checkpoint.clone().unwrap();
    assert_eq!((cp.interval, cp.retain), (Duration::from_millis(500), 3));
    let rc = p.run_config();
    assert_eq!(
        (rc.workers, rc.max_parallelism, rc.fingerprint),
        (2, 128, p.fingerprint)
    );
    assert_eq!(rc.on_error, crate::source::dead_letter::OnError::Fail);
    assert_eq!(rc.checkpoint.unwrap().dir, std::path::PathBuf::from("ckpt"));
}

#[test]
fn zscore_and_generator_plan() {
    let text = "[source]\ntype = \"generator\"\nevents = 10\n\
                [[ops]]\ntype = \"key_by\"\nkey = \"key\"\n\
                [[ops]]\ntype = \"process\"\nfunction = \"zscore\"\nfield = \"value\"\nthreshold = 3\n\
                [sink]\ntype = \"stdout\"\nheader = true";
    let p = plan(text);
    assert_eq!(
        p.source,
        SourceSpec::Generator(GeneratorSpec {
            events: 10,
            keys: 10_000,
            events_per_ms: 1000,
            rate: 0
        })
    );
    assert_eq!(
        p.keyed,
        Some(KeyedOp::ZScore {
            index: 1,
            out_name: "score".into(),
            threshold: Some(3.0),
            min_count: 2
        })
    );
    assert_eq!(p.output_schema.names(), ["key", "value", "ts", "score"]);
    assert_eq!(
        p.sink,
        SinkSpec::Stdout {
            format: Format::Csv,
            header: true
        }
    );
    assert!(p.checkpoint.is_none());
    assert_eq!(p.runtime, RuntimeSpec::default());
}

#[test]
fn overrides_apply_before_validation() {
    let base = with_ops("[[ops]]\ntype = \"filter\"\nfield = \"value\"\nop = \">\"\nvalue = 1");
    let p = plan_with(
        &base,
        &[
            "source.path=ev.csv",
            "ops[0].value=5",
            "runtime.workers=1",
            "checkpoint.dir=c",
            "name=n",
        ],
    );
    assert_eq!(p.name, "n");
    assert!(matches!(&p.source, SourceSpec::File { path, .. } if path.to_str() == Some("ev.csv")));
    assert_eq!(
        p.pre[0],
        StatelessOp::Filter {
            index: 1,
            cmp: Cmp::Gt,
            constant: Value::I64(5)
        }
    );
    assert_eq!(p.runtime.workers, Some(1));
    assert_eq!(p.checkpoint.unwrap().dir.to_str(), Some("c"));
    // An override that produces an invalid pipeline is reported by validation.
    assert_eq!(
        errors_of(&base, &["ops[0].field=usr"]),
        ["ops[0].field: unknown field \"usr\" (fields: user, value, ts)"]
    );
    // Every failed override is reported.
    assert_eq!(
        errors_of(&base, &["ops[3].field=x", "sourc.path=y"]),
        [
            "--set ops[3].field=x: ops[3] does not exist (ops has 1 elements)",
            "--set sourc.path=y: sourc does not exist",
        ]
    );
}

#[test]
fn fingerprint_ignores_paths_and_runtime_but_not_the_dataflow() {
    let base = with_ops(
        "[[ops]]\ntype = \"key_by\"\nkey = \"user\"\n\
         [[ops]]\ntype = \"rolling\"\naggregates = [ { fn = \"sum\", field = \"value\", as = \"s\" } ]",
    );
    let fp = |sets: &[&str]| plan_with(&base, sets).fingerprint;
    let reference = fp(&[]);
    for same in [
        &["source.path=other.csv"][..],
        &["runtime.workers=1", "runtime.batch_size=7"],
        &[
            "checkpoint.dir=elsewhere",
            "checkpoint.interval=5s",
            "checkpoint.retain=9",
        ],
        &["name=renamed", "sink.type=stdout", "runtime.on_error=fail"],
        &["source.format=jsonl", "source.max_line_bytes=99"],
    ] {
        assert_eq!(fp(same), reference, "{same:?}");
    }
    for different in [
        &["ops[1].aggregates[0].fn=max"][..],
        &["ops[1].aggregates[0].as=total"],
        &[
            "ops[1].aggregates[0].field=ts",
            "ops[1].aggregates[0].fn=count",
        ],
        &["ops[0].key=ts"],
        &["runtime.max_parallelism=256"],
        &["source.schema[0].name=u", "ops[0].key=u"],
    ] {
        assert_ne!(fp(different), reference, "{different:?}");
    }
    // A filter constant is part of the dataflow too.
    let filtered = |v: i64| {
        plan(&with_ops(&format!(
            "[[ops]]\ntype = \"filter\"\nfield = \"value\"\nop = \">\"\nvalue = {v}"
        )))
        .fingerprint
    };
    assert_eq!(filtered(1), filtered(1));
    assert_ne!(filtered(1), filtered(2));
    // The encoding is persisted in manifests: pin it.
    assert_eq!(
        reference, GOLDEN_FINGERPRINT,
        "fingerprint encoding changed: bump ENCODING_TAG"
    );
}

const GOLDEN_FINGERPRINT: u64 = 15_427_017_394_622_576_113;

#[test]
fn load_reads_files_and_names_by_stem() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("my_job.toml");
    std::fs::write(&path, with_ops("")).unwrap();
    assert_eq!(load(&path, &[]).unwrap().name, "my_job");
    let missing = dir.path().join("missing.toml");
    assert!(matches!(load(&missing, &[]), Err(Error::Io { path, .. }) if path == missing));
}

#[test]
fn example_pipelines_parse() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut seen = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let p = load(&path, &[]).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            seen.push(p.name);
        }
    }
    assert!(seen.len() >= 8, "fixture pipelines: {seen:?}");
}

#[test]
fn decode_defaults_differ_for_file_and_stdin() {
    let decode = |source: &SourceSpec| match source {
        SourceSpec::File { decode, .. } | SourceSpec::Stdin { decode } => decode.clone(),
        other => panic!("{other:?}"),
    };
    let file = plan(&with_ops(""));
    assert_eq!(
        (decode(&file.source).format, decode(&file.source).header),
        (Format::Csv, true)
    );
    let stdin =
        plan(&with_ops("").replace("type = \"file\"\npath = \"events.csv\"", "type = \"stdin\""));
    assert!(matches!(stdin.source, SourceSpec::Stdin { .. }));
    assert!(!decode(&stdin.source).header);
    assert_eq!(stdin.input_schema.names(), ["user", "value", "ts"]);
}
