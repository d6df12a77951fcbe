//! Pipeline files (TOML) → a validated, typed [`Plan`].
//!
//! # The pipeline file
//!
//! ```toml
//! name = "rolling_sum"                 # optional, default: the file stem
//!
//! [source]
//! type = "file"                        # file | stdin | generator | tcp | nexmark
//! path = "fixtures/events.csv"         # file: a file or a directory of files
//! format = "csv"                       # csv | jsonl (file, stdin; default csv)
//! header = true                        # csv only; default true for file, false for stdin
//! max_line_bytes = 1048576             # optional (default 1 MiB)
//! schema = [ { name = "key", type = "string" }, { name = "value", type = "i64" },
//!            { name = "ts", type = "timestamp" } ]   # types: i64 f64 string timestamp
//! # generator: events = 1000000, keys = 10000, events_per_ms = 1000,
//! #   rate = 0 (events/s, 0 = unlimited); its schema is fixed: key i64, value i64,
//! #   ts timestamp (a `schema` given for a generator is an error).
//! # tcp: listen = "127.0.0.1:9000" or connect = "host:port"; format, max_line_bytes, schema
//! #   as for files (no header); max_clients = N; spool = true; spool_segment_bytes = N
//! # nexmark: kind = "bid" (person | auction | bid), events, mode, rate: see [`nexmark`]
//!
//! [[ops]]                              # zero or more, in order
//! type = "filter"                      # field <op> value; op: == != < <= > >=
//! field = "value"
//! op = ">="
//! value = 10                           # integer, float or string; must fit the field's type
//!                                      # (timestamps: integer ms or RFC 3339)
//! # or: where = "value >= 10 && key in ('a', 'b')"   (an expression, see [`expr`])
//! [[ops]]
//! type = "select"                      # projection and renaming
//! fields = ["key", { field = "value", as = "v" }]   # or { expr = "value * 2", as = "v2" }
//!
//! [[ops]]
//! type = "key_by"
//! key = ["key"]                        # one or more fields (or a single name)
//!
//! [[ops]]
//! type = "rolling"                     # per key, emitted on every record
//! aggregates = [ { fn = "sum", field = "v", as = "sum" }, { fn = "count", as = "n" } ]
//!                                      # fn: sum count min max avg; `as` default: fn_field
//!                                      # (count: "count")
//! # or
//! # type = "process"                   # a built-in keyed function
//! # function = "dedup"                 # first record of each key; optional ttl = "10m"
//! #                                    #   (event time when the source declares it)
//! # function = "zscore"                # the record plus field `as` (default "score", f64):
//! #   field = "v"                      #   z-score of `field` against the key's running
//! #   threshold = 3.0                  #   mean/stddev before this record; optional
//! #   min_count = 2                    #   threshold (|score| >= threshold), min_count (>= 2)
//! #   window = "1m"                    #   optional (needs event time): against the key's
//! #                                    #   other records in (ts - window, ts], scored when
//! #                                    #   the watermark reaches ts
//!
//! [sink]
//! type = "file"                        # file | stdout | null | tcp (connect = "host:port")
//! path = "out"                         # file: output directory
//! format = "csv"                       # csv | jsonl (default csv)
//! header = false                       # csv only, default false
//!
//! [checkpoint]                         # optional
//! dir = "ckpt"
//! interval = "500ms"                   # humantime duration, default "1s"
//! retain = 3                           # default 3 (1..=1000000); interval: 1ms..=365d
//!
//! [runtime]                            # optional; each also a CLI flag
//! workers = 2                          # default: number of cores (1..=4096)
//! batch_size = 1024                    # 1..=1048576
//! max_parallelism = 128                # key groups: power of two, 1..=32768
//! on_error = "dead_letter"             # dead_letter | fail
//! dead_letter_path = "weir-dead-letters.jsonl"
//! ```
//!
//! ## Rules
//! - At most one `key_by`; it must be directly followed by a keyed op (`rolling`, `process` or `window`),
//!   and a keyed op needs the `key_by`. One keyed op per pipeline. Stateless ops (`filter`,
//!   `select`) may stand before `key_by` and after the keyed op.
//! - Each op sees the schema output by the op before it. `rolling` outputs the key fields then
//!   one field per aggregate: sum of i64 → i64, of f64 → f64; count → i64; min/max keep the
//!   type; avg → f64. sum/min/max/avg need a numeric (i64 or f64) field. `zscore` appends an
//!   f64 field; `dedup`, `filter` and `key_by` keep the schema.
//! - Filters compare i64 with i64, f64 with f64 (an integer constant on an f64 field is
//!   converted), strings lexicographically, timestamps as milliseconds; rows with a null or NaN
//!   field are dropped.
//! - Unknown keys are errors. Validation reports every error at once, each as
//!   `path: message` (`ops[2].key: unknown field "usr" (fields: user, value, ts)`).
//! - Overrides (`--set ops[2].field=x`, see [`apply_set`]) are applied before validation.
//!
//! ## Fingerprint
//! [`Plan::fingerprint`] hashes the dataflow only (input schema, ops and their parameters, key,
//! `max_parallelism`), not paths, formats, workers, batch size or checkpoint settings: a
//! checkpoint restores with another input path or worker count, but not into another pipeline.

pub mod expr;
mod expr_call;
pub mod expr_eval;
mod expr_lex;
#[cfg(test)]
mod expr_tests;
mod expr_time;
mod fingerprint;
mod fingerprint_ops;
pub mod nexmark;
pub mod ops;
pub mod overrides;
mod overrides_graph;
mod prune;
pub mod spec;
pub mod state_spec;
pub mod stateless;
mod tcp;
mod validate;
mod walk;

#[cfg(test)]
mod tests;

pub use fingerprint::ENCODING_TAG;
pub use overrides::{apply_set, parse_value};
pub use spec::{
    AggFn, AggSpec, CheckpointSpec, Cmp, DecodeSpec, Format, GeneratorSpec, KeyedOp, Plan,
    RuntimeSpec, SinkSpec, SourceSpec, StatelessOp, TcpSourceSpec, DEFAULT_MAX_LINE_BYTES,
};
pub use stateless::compare;

use crate::error::Error;
use std::path::Path;

/// Reads, overrides and validates the pipeline file at `path`; the default name is the file
/// stem.
///
/// # Errors
/// [`Error::Io`] when the file cannot be read; [`Error::Config`] with every problem (TOML
/// syntax with line and column, failed overrides, validation errors as `path: message`).
pub fn load(path: &Path, sets: &[String]) -> Result<Plan, Error> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    // A file that was read but is not text is an invalid pipeline (exit 2), not an I/O error.
    let text = String::from_utf8(bytes).map_err(|e| {
        Error::Config(vec![format!(
            "{}: not UTF-8 text (invalid byte at offset {})",
            path.display(),
            e.utf8_error().valid_up_to()
        )])
    })?;
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("pipeline");
    parse_named(&text, sets, stem)
}

/// Parses, overrides and validates pipeline text; the default name is `pipeline`.
///
/// ```
/// let text = r#"
///     [source]
///     type = "generator"
///     [[ops]]
///     type = "key_by"
///     key = "key"
///     [[ops]]
///     type = "rolling"
///     aggregates = [ { fn = "sum", field = "value" } ]
///     [sink]
///     type = "null"
/// "#;
/// let plan = weir::pipeline::parse_str(text, &["runtime.workers=1".into()]).unwrap();
/// assert_eq!(plan.output_schema.names(), ["key", "sum_value"]);
///
/// let err = weir::pipeline::parse_str(text, &["ops[0].key=k".into()]).unwrap_err();
/// assert!(matches!(err, weir::Error::Config(m)
///     if m == ["ops[0].key: unknown field \"k\" (fields: key, value, ts)"]));
/// ```
///
/// # Errors
/// [`Error::Config`] with every problem, as for [`load`].
pub fn parse_str(text: &str, sets: &[String]) -> Result<Plan, Error> {
    parse_named(text, sets, "pipeline")
}

fn parse_named(text: &str, sets: &[String], default_name: &str) -> Result<Plan, Error> {
    let mut doc = parse_toml(text)?;
    let mut errors = Vec::new();
    for set in sets {
        if let Err(Error::Config(mut msgs)) = apply_set(&mut doc, set) {
            errors.append(&mut msgs);
        }
    }
    if !errors.is_empty() {
        return Err(Error::Config(errors));
    }
    validate::build(&doc, default_name).map_err(Error::Config)
}

/// Parses TOML text into a value tree.
///
/// # Errors
/// [`Error::Config`] with `line L, column C: message` for a syntax error.
pub fn parse_toml(text: &str) -> Result<toml::Value, Error> {
    text.parse::<toml::Table>()
        .map(toml::Value::Table)
        .map_err(|e| {
            let msg = e.message().trim_end();
            let Some(span) = e.span() else {
                return Error::Config(vec![msg.to_string()]);
            };
            let before = text.get(..span.start).unwrap_or(text);
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            Error::Config(vec![format!("line {line}, column {column}: {msg}")])
        })
}
