//! Validation of a whole document: `name`, `[source]`, `[sink]`, `[checkpoint]`, `[runtime]`
//! here, `[[ops]]` in [`super::ops`]. Every error is collected; a plan is built only when
//! there is none.

use super::fingerprint::fingerprint;
use super::ops;
use super::ops::event_time::EventTimeSpec;
use super::spec::{
    CheckpointSpec, DecodeSpec, Format, GeneratorSpec, Plan, RuntimeSpec, SinkSpec, SourceSpec,
    DEFAULT_MAX_LINE_BYTES,
};
use super::walk::{index, Errors, Section};
use crate::record::{Field, FieldType, Schema};
use crate::safety::limits;
use crate::source::dead_letter::OnError;
use std::path::PathBuf;
use std::time::Duration;

const FORMATS: &[(&str, Format)] = &[("csv", Format::Csv), ("jsonl", Format::Jsonl)];

const FIELD_TYPES: &[(&str, FieldType)] = &[
    ("i64", FieldType::I64),
    ("f64", FieldType::F64),
    ("string", FieldType::String),
    ("timestamp", FieldType::Timestamp),
];

/// Validates `doc` (overrides already applied) into a plan, or returns every error.
pub(crate) fn build(doc: &toml::Value, default_name: &str) -> Result<Plan, Vec<String>> {
    let mut errs = Errors::default();
    let Some(table) = doc.as_table() else {
        return Err(vec!["the pipeline must be a TOML table".to_string()]);
    };
    let mut root = Section::new(String::new(), table);
    let name = root
        .name("name", &mut errs)
        .unwrap_or(default_name)
        .to_string();
    if root.has("sources") || root.has("sinks") {
        let plan = build_graph(root, name, errs)?;
        return Ok(super::prune::pruned(doc, plan, |d| build(d, default_name)));
    }
    let (source, input_schema, event_time) = source(&mut root, &mut errs);
    let ts_field = event_time.as_ref().map(|e| e.field.as_str());
    let ops = ops::compile(&mut root, input_schema.as_ref(), Some(ts_field), &mut errs);
    let sink = sink(&mut root, &mut errs);
    let checkpoint = checkpoint(&mut root, &mut errs);
    let runtime = runtime(&mut root, &mut errs);
    let runtime = super::state_spec::with_state(&mut root, &mut errs, runtime);
    root.finish(&mut errs);
    match (source, input_schema, ops, sink, checkpoint, runtime) {
        (
            Some(source),
            Some(input_schema),
            Some(ops),
            Some(sink),
            Some(checkpoint),
            Some(runtime),
        ) if errs.is_empty() => {
            let mut plan = Plan {
                name,
                source,
                pre: ops.pre,
                key: ops.key,
                keyed: ops.keyed,
                post: ops.post,
                sink,
                checkpoint,
                runtime,
                input_schema,
                keyed_input_schema: ops.keyed_input_schema,
                keyed_output_schema: ops.keyed_output_schema,
                output_schema: ops.output_schema,
                fingerprint: 0,
                graph: None,
                event_time,
            };
            plan.fingerprint = fingerprint(&plan);
            Ok(plan)
        }
        _ if errs.is_empty() => Err(vec!["invalid pipeline".to_string()]),
        _ => Err(errs.0),
    }
}

#[derive(Clone, Copy)]
enum SourceKind {
    File,
    Stdin,
    Generator,
    Tcp,
    Nexmark,
}

/// The source, and its schema when that alone is valid (so ops are checked against it even
/// when, say, the source's path is missing).
fn source(root: &mut Section, errs: &mut Errors) -> SourceParts {
    let Some(s) = root.req("source", errs, Section::table) else {
        return (None, None, None);
    };
    source_body(s, errs)
}

/// A source table (`[source]` or `[sources.NAME]`).
/// The source's spec, its schema when that alone is valid, and its event time.
type SourceParts = (Option<SourceSpec>, Option<Schema>, Option<EventTimeSpec>);

fn source_body(mut s: Section, errs: &mut Errors) -> SourceParts {
    let kinds = [
        ("file", SourceKind::File),
        ("stdin", SourceKind::Stdin),
        ("generator", SourceKind::Generator),
        ("tcp", SourceKind::Tcp),
        ("nexmark", SourceKind::Nexmark),
    ];
    let Some(kind) = s.req("type", errs, |s, k, e| {
        s.choice(k, e, "source type", &kinds)
    }) else {
        return (None, None, None);
    };
    let (spec, schema) = match kind {
        SourceKind::File => {
            let path = s.req("path", errs, Section::name);
            let (decode, schema) = decode(&mut s, errs, true);
            let spec = path.zip(decode).map(|(p, decode)| SourceSpec::File {
                path: PathBuf::from(p),
                decode,
            });
            (spec, schema)
        }
        SourceKind::Stdin => {
            let (decode, schema) = decode(&mut s, errs, false);
            (decode.map(|decode| SourceSpec::Stdin { decode }), schema)
        }
        SourceKind::Generator => (
            generator(&mut s, errs).map(SourceSpec::Generator),
            Some(GeneratorSpec::schema()),
        ),
        SourceKind::Tcp => {
            let (spec, schema) = super::tcp::source(&mut s, errs, |s, e| decode(s, e, false));
            (spec.map(SourceSpec::Tcp), schema)
        }
        SourceKind::Nexmark => {
            let spec = super::nexmark::source(&mut s, errs);
            let schema = spec.as_ref().map(|n| n.schema());
            (spec.map(SourceSpec::Nexmark), schema)
        }
    };
    let event_time = ops::event_time::event_time(&mut s, schema.as_ref(), errs).flatten();
    let event_time = match (&spec, event_time) {
        (Some(SourceSpec::Nexmark(n)), None) => n.default_event_time(),
        (_, et) => et,
    };
    s.finish(errs);
    (spec, schema, event_time)
}

fn decode(
    s: &mut Section,
    errs: &mut Errors,
    header_default: bool,
) -> (Option<DecodeSpec>, Option<Schema>) {
    let format = if s.has("format") {
        s.choice("format", errs, "format", FORMATS)
    } else {
        Some(Format::Csv)
    };
    let header = csv_header(s, errs, format, header_default);
    let max_line_bytes = match s.has("max_line_bytes") {
        true => s
            .int("max_line_bytes", errs, 1..=i64::MAX)
            .map(|v| v as usize),
        false => Some(DEFAULT_MAX_LINE_BYTES),
    };
    let schema = s.req("schema", errs, |s, k, e| schema(s, k, e));
    let spec = match (format, header, max_line_bytes, &schema) {
        (Some(format), Some(header), Some(max_line_bytes), Some(schema)) => Some(DecodeSpec {
            format,
            header,
            max_line_bytes,
            schema: schema.clone(),
        }),
        _ => None,
    };
    (spec, schema)
}

/// `header`, an error when given with a format other than CSV.
fn csv_header(
    s: &mut Section,
    errs: &mut Errors,
    format: Option<Format>,
    default: bool,
) -> Option<bool> {
    if !s.has("header") {
        return Some(default);
    }
    let header = s.bool("header", errs)?;
    if format == Some(Format::Jsonl) {
        errs.push(&s.at("header"), "only valid with format = \"csv\"");
        return None;
    }
    Some(header)
}

fn schema(s: &mut Section, key: &str, errs: &mut Errors) -> Option<Schema> {
    let items = s.array(key, errs)?;
    let path = s.at(key);
    if items.is_empty() {
        errs.push(&path, "must declare at least one field");
        return None;
    }
    let mut fields: Vec<Field> = Vec::with_capacity(items.len());
    let mut ok = true;
    for (i, item) in items.iter().enumerate() {
        let item_path = index(&path, i);
        let Some(t) = item.as_table() else {
            errs.push(&item_path, "expected a table { name = ..., type = ... }");
            ok = false;
            continue;
        };
        let mut f = Section::new(item_path, t);
        let name = f.req("name", errs, Section::name);
        let ty = f.req("type", errs, |f, k, e| {
            f.choice(k, e, "field type", FIELD_TYPES)
        });
        if let Some(name) = name {
            if fields.iter().any(|x| x.name == name) {
                errs.push(&f.at("name"), format_args!("duplicate field {name:?}"));
                ok = false;
            }
        }
        f.finish(errs);
        match (name, ty) {
            (Some(name), Some(ty)) => fields.push(Field {
                name: name.to_string(),
                ty,
            }),
            _ => ok = false,
        }
    }
    ok.then_some(Schema { fields })
}

fn generator(s: &mut Section, errs: &mut Errors) -> Option<GeneratorSpec> {
    let mut num = |key: &str, min: i64, default: u64| match s.has(key) {
        true => s.int(key, errs, min..=i64::MAX).map(|v| v as u64),
        false => Some(default),
    };
    let events = num("events", 0, 1_000_000);
    let keys = num("keys", 1, 10_000);
    let events_per_ms = num("events_per_ms", 1, 1000);
    let rate = num("rate", 0, 0);
    if s.get("schema").is_some() {
        errs.push(
            &s.at("schema"),
            "a generator's schema is fixed (key i64, value i64, ts timestamp); remove it",
        );
    }
    Some(GeneratorSpec {
        events: events?,
        keys: keys?,
        events_per_ms: events_per_ms?,
        rate: rate?,
    })
}

#[derive(Clone, Copy)]
enum SinkKind {
    File,
    Stdout,
    Null,
    Tcp,
}

fn sink(root: &mut Section, errs: &mut Errors) -> Option<SinkSpec> {
    let s = root.req("sink", errs, Section::table)?;
    sink_body(s, errs)
}

/// A sink table (`[sink]` or `[sinks.NAME]`, its `input` already read).
fn sink_body(mut s: Section, errs: &mut Errors) -> Option<SinkSpec> {
    let kinds = [
        ("file", SinkKind::File),
        ("stdout", SinkKind::Stdout),
        ("null", SinkKind::Null),
        ("tcp", SinkKind::Tcp),
    ];
    let kind = s.req("type", errs, |s, k, e| s.choice(k, e, "sink type", &kinds))?;
    let path = match kind {
        SinkKind::File => s.req("path", errs, Section::name).map(Some),
        _ => Some(None),
    };
    let spec = match kind {
        SinkKind::Null => Some(SinkSpec::Null),
        SinkKind::Tcp => {
            let format = if s.has("format") {
                s.choice("format", errs, "format", FORMATS)
            } else {
                Some(Format::Csv)
            };
            let header = csv_header(&mut s, errs, format, false);
            super::tcp::sink(&mut s, errs, format, header)
        }
        SinkKind::File | SinkKind::Stdout => {
            let format = if s.has("format") {
                s.choice("format", errs, "format", FORMATS)
            } else {
                Some(Format::Csv)
            };
            let header = csv_header(&mut s, errs, format, false);
            match (path?, format?, header?) {
                (Some(p), format, header) => Some(SinkSpec::File {
                    path: PathBuf::from(p),
                    format,
                    header,
                }),
                (None, format, header) => Some(SinkSpec::Stdout { format, header }),
            }
        }
    };
    s.finish(errs);
    spec
}

/// `Some(None)` when there is no `[checkpoint]`, `None` on errors.
fn checkpoint(root: &mut Section, errs: &mut Errors) -> Option<Option<CheckpointSpec>> {
    if !root.has("checkpoint") {
        return Some(None);
    }
    let mut s = root.table("checkpoint", errs)?;
    let dir = s.req("dir", errs, Section::name);
    let interval = match s.has("interval") {
        true => s.duration("interval", errs).and_then(|d| {
            let at = s.at("interval");
            match limits::CHECKPOINT_INTERVAL_MS.check_duration(&at, d) {
                Ok(()) => Some(d),
                Err(e) => {
                    errs.0.push(e);
                    None
                }
            }
        }),
        false => Some(Duration::from_secs(1)),
    };
    let retain = match s.has("retain") {
        true => s
            .int("retain", errs, limits::CHECKPOINT_RETAIN.range())
            .map(|v| v as usize),
        false => Some(3),
    };
    s.finish(errs);
    Some(Some(CheckpointSpec {
        dir: PathBuf::from(dir?),
        interval: interval?,
        retain: retain?,
    }))
}

fn runtime(root: &mut Section, errs: &mut Errors) -> Option<RuntimeSpec> {
    let d = RuntimeSpec::default();
    if !root.has("runtime") {
        return Some(d);
    }
    let mut s = root.table("runtime", errs)?;
    let workers = match s.has("workers") {
        true => s
            .int("workers", errs, limits::WORKERS.range())
            .map(|v| Some(v as usize)),
        false => Some(None),
    };
    let batch_size = match s.has("batch_size") {
        true => s
            .int("batch_size", errs, limits::BATCH_SIZE.range())
            .map(|v| v as usize),
        false => Some(d.batch_size),
    };
    let max_parallelism = match s.has("max_parallelism") {
        true => max_parallelism(&mut s, errs),
        false => Some(d.max_parallelism),
    };
    let on_error = match s.has("on_error") {
        true => {
            let options = [
                ("dead_letter", OnError::DeadLetter),
                ("fail", OnError::Fail),
            ];
            s.choice("on_error", errs, "on_error value", &options)
        }
        false => Some(d.on_error),
    };
    let dead_letter_path = match s.has("dead_letter_path") {
        true => s.name("dead_letter_path", errs).map(PathBuf::from),
        false => Some(d.dead_letter_path),
    };
    if let (Some(Some(w)), Some(m)) = (workers, max_parallelism) {
        if w > usize::from(m) {
            errs.push(
                &s.at("workers"),
                format_args!("{w} is more than runtime.max_parallelism ({m})"),
            );
        }
    }
    s.finish(errs);
    Some(RuntimeSpec {
        workers: workers?,
        batch_size: batch_size?,
        max_parallelism: max_parallelism?,
        on_error: on_error?,
        dead_letter_path: dead_letter_path?,
        ..d
    })
}

fn max_parallelism(s: &mut Section, errs: &mut Errors) -> Option<u16> {
    let v = s.int("max_parallelism", errs, limits::MAX_PARALLELISM.range())?;
    if (v as u64).is_power_of_two() {
        Some(v as u16)
    } else {
        errs.push(
            &s.at("max_parallelism"),
            format_args!("{v} is not a power of two"),
        );
        None
    }
}

/// The graph form: `[sources.NAME]`, ops with `name`/`input(s)`, `[sinks.NAME]` with `input`.
fn build_graph(mut root: Section, name: String, mut errs: Errors) -> Result<Plan, Vec<String>> {
    let errs = &mut errs;
    let mut sources = Vec::new();
    let mut source_specs = Vec::new();
    let mut event_times = Vec::new();
    if let Some(mut t) = root.req("sources", errs, Section::table) {
        for key in t.keys() {
            if let Some(s) = t.table(&key, errs) {
                if let (Some(spec), Some(schema), event_time) = source_body(s, errs) {
                    sources.push((key.clone(), schema));
                    source_specs.push(spec);
                    event_times.push(event_time);
                }
            }
        }
        if t.keys().is_empty() {
            errs.push("sources", "at least one source is needed");
        }
    }
    let mut sink_inputs = Vec::new();
    let mut sink_specs = Vec::new();
    if let Some(mut t) = root.req("sinks", errs, Section::table) {
        for key in t.keys() {
            if let Some(mut s) = t.table(&key, errs) {
                let path = s.at("input");
                let input = s.req("input", errs, Section::name).map(str::to_string);
                if let (Some(input), Some(spec)) = (input, sink_body(s, errs)) {
                    sink_inputs.push((key.clone(), input, path));
                    sink_specs.push(spec);
                }
            }
        }
    }
    let graph = ops::graph::compile_graph(&mut root, &sources, &event_times, &sink_inputs, errs);
    let checkpoint = checkpoint(&mut root, errs);
    let runtime = runtime(&mut root, errs);
    let runtime = super::state_spec::with_state(&mut root, errs, runtime);
    root.finish(errs);
    match (graph, checkpoint, runtime) {
        (Some(mut graph), Some(checkpoint), Some(runtime)) if errs.is_empty() => {
            graph.source_specs = source_specs;
            graph.event_times = event_times;
            graph.sink_specs = sink_specs;
            let fingerprint = graph.shape_hash() ^ u64::from(runtime.max_parallelism);
            Ok(Plan {
                name,
                source: graph.source_specs[0].clone(),
                pre: Vec::new(),
                key: None,
                keyed: None,
                post: Vec::new(),
                sink: graph.sink_specs.first().cloned().unwrap_or(SinkSpec::Null),
                checkpoint,
                runtime,
                input_schema: graph.sources[0].1.clone(),
                keyed_input_schema: None,
                keyed_output_schema: None,
                output_schema: graph.sinks.first().map(|s| s.2.clone()).unwrap_or_default(),
                fingerprint,
                event_time: None,
                graph: Some(graph),
            })
        }
        _ if errs.is_empty() => Err(vec!["invalid pipeline".to_string()]),
        _ => Err(std::mem::take(&mut errs.0)),
    }
}
