//! The typed, validated plan a pipeline file compiles to.
//!
//! Every field here has been checked: field indices are in range of the schema they refer to,
//! constants have the type of the field they are compared with, numbers are within their
//! documented ranges. The engine builds its job from a [`Plan`] without further checks.

use crate::record::{Field, FieldType, Schema, Value};
use crate::runtime::config::{CheckpointConfig, RestoreFrom, RunConfig};
use crate::source::dead_letter::OnError;
use std::path::PathBuf;
use std::time::Duration;

/// Default longest accepted input line, in bytes (1 MiB).
pub const DEFAULT_MAX_LINE_BYTES: usize = 1 << 20;

/// A validated pipeline.
///
/// The ops of the file are split around the (optional) `key_by`: `pre` runs on the source's
/// worker before routing, `keyed` runs on the worker owning the key's key group, `post` runs
/// after it. A pipeline without `key_by` has all its ops in `pre` and `post` empty.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Pipeline name (`name`, default: the file stem, or `pipeline` for text).
    pub name: String,
    /// Where records come from.
    pub source: SourceSpec,
    /// Stateless ops before `key_by` (all stateless ops when there is no `key_by`).
    pub pre: Vec<StatelessOp>,
    /// Key field indices into [`Plan::keyed_input_schema`], when the pipeline has a `key_by`.
    pub key: Option<Vec<usize>>,
    /// The keyed op following `key_by`.
    pub keyed: Option<KeyedOp>,
    /// Stateless ops after the keyed op.
    pub post: Vec<StatelessOp>,
    /// Where records go.
    pub sink: SinkSpec,
    /// Checkpointing, when `[checkpoint]` is present.
    pub checkpoint: Option<CheckpointSpec>,
    /// Runtime settings (`[runtime]`, defaults when absent).
    pub runtime: RuntimeSpec,
    /// Schema of the source's records.
    pub input_schema: Schema,
    /// Schema at `key_by` (the output of `pre`, the input of the keyed op).
    pub keyed_input_schema: Option<Schema>,
    /// Schema of the keyed op's output (the input of `post`).
    pub keyed_output_schema: Option<Schema>,
    /// Schema of the records reaching the sink.
    pub output_schema: Schema,
    /// Stable hash of the dataflow (see [`crate::pipeline`]); checkpoints of another
    /// fingerprint are refused.
    pub fingerprint: u64,
    /// The graph form's sources, ops and sinks (`[sources.NAME]`, `[sinks.NAME]`); `None`
    /// for the one-line form. When present, `source`/`sink` are the first of each.
    pub graph: Option<crate::pipeline::ops::graph::GraphPlan>,
    /// The one-line form's `[source.event_time]`.
    pub event_time: Option<crate::pipeline::ops::event_time::EventTimeSpec>,
}

impl Plan {
    /// The engine's run configuration from `[runtime]` and `[checkpoint]` (restore: none);
    /// `workers` falls back to the number of cores.
    pub fn run_config(&self) -> RunConfig {
        let defaults = RunConfig::default();
        RunConfig {
            workers: self.runtime.workers.unwrap_or(defaults.workers),
            max_parallelism: self.runtime.max_parallelism,
            batch_size: self.runtime.batch_size,
            dead_letter_path: self.runtime.dead_letter_path.clone(),
            on_error: self.runtime.on_error,
            checkpoint: self.checkpoint.as_ref().map(|c| CheckpointConfig {
                dir: c.dir.clone(),
                interval: c.interval,
                retain: c.retain,
                restore: RestoreFrom::None,
                restore_required: false,
                allow_at_least_once: false,
                lineage: None,
            }),
            fingerprint: self.fingerprint,
            state_backend: self.runtime.state.backend(),
            ..defaults
        }
    }
}

/// Text format of a source or sink.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Comma-separated values.
    Csv,
    /// One JSON object per line.
    Jsonl,
}

/// How a line-oriented source decodes its input.
#[derive(Clone, Debug, PartialEq)]
pub struct DecodeSpec {
    /// Text format.
    pub format: Format,
    /// CSV only: the first line (of each file) is a header and is skipped.
    pub header: bool,
    /// Longest accepted line; longer lines are malformed records.
    pub max_line_bytes: usize,
    /// The declared schema of the records.
    pub schema: Schema,
}

/// The synthetic source's parameters; its schema is [`GeneratorSpec::schema`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GeneratorSpec {
    /// Total events (default 1,000,000).
    pub events: u64,
    /// Distinct keys (default 10,000, at least 1).
    pub keys: u64,
    /// Events per millisecond of event time (default 1000, at least 1).
    pub events_per_ms: u64,
    /// Emission rate limit in events per second, 0 = unlimited (default).
    pub rate: u64,
}

impl GeneratorSpec {
    /// The generator's fixed schema: `key` i64, `value` i64, `ts` timestamp.
    pub fn schema() -> Schema {
        let field = |name: &str, ty| Field {
            name: name.to_string(),
            ty,
        };
        Schema {
            fields: vec![
                field("key", FieldType::I64),
                field("value", FieldType::I64),
                field("ts", FieldType::Timestamp),
            ],
        }
    }
}

/// Where records come from (`[source]`).
#[derive(Clone, Debug, PartialEq)]
pub enum SourceSpec {
    /// A file, or every file of a directory (relative paths: to the working directory).
    File {
        /// The file or directory.
        path: PathBuf,
        /// How lines are decoded.
        decode: DecodeSpec,
    },
    /// Standard input.
    Stdin {
        /// How lines are decoded.
        decode: DecodeSpec,
    },
    /// Synthetic events.
    Generator(GeneratorSpec),
    /// Lines from TCP connections (see [`crate::source::tcp`]).
    Tcp(TcpSourceSpec),
    /// Nexmark events of one kind (see [`crate::pipeline::nexmark`]).
    Nexmark(crate::pipeline::nexmark::NexmarkSourceSpec),
}

/// A TCP source (`type = "tcp"`).
#[derive(Clone, Debug, PartialEq)]
pub struct TcpSourceSpec {
    /// `listen = "ADDR"` or `connect = "HOST:PORT"`.
    pub endpoint: crate::source::tcp::Endpoint,
    /// How lines are decoded (no header: every line is a record).
    pub decode: DecodeSpec,
    /// Listen only: end after this many clients connected and disconnected.
    pub max_clients: Option<u64>,
    /// `spool = true`: keep what is received in the checkpoint directory (exactly-once).
    pub spool: bool,
    /// Size of the spool's segment files (`spool_segment_bytes`, default 64 MiB).
    pub spool_segment_bytes: u64,
    /// The spool directory, set from the run's checkpoint directory before the job is built.
    pub spool_dir: Option<PathBuf>,
}

impl SourceSpec {
    /// The schema of the records this source produces.
    pub fn schema(&self) -> Schema {
        match self {
            SourceSpec::File { decode, .. } | SourceSpec::Stdin { decode } => decode.schema.clone(),
            SourceSpec::Tcp(t) => t.decode.schema.clone(),
            SourceSpec::Generator(_) => GeneratorSpec::schema(),
            SourceSpec::Nexmark(n) => n.schema(),
        }
    }
}

/// Where records go (`[sink]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SinkSpec {
    /// Files in an output directory (committed with checkpoints).
    File {
        /// The output directory.
        path: PathBuf,
        /// Text format.
        format: Format,
        /// CSV only: write a header line.
        header: bool,
    },
    /// Standard output.
    Stdout {
        /// Text format.
        format: Format,
        /// CSV only: write a header line.
        header: bool,
    },
    /// Discard records (counts and checksums only).
    Null,
    /// Lines sent to a TCP server (at-least-once).
    Tcp {
        /// `HOST:PORT` of the server.
        connect: String,
        /// Text format.
        format: Format,
        /// CSV only: write a header line on each connection.
        header: bool,
    },
}

/// Checkpointing settings (`[checkpoint]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckpointSpec {
    /// Directory of the `chk-*` checkpoints.
    pub dir: PathBuf,
    /// Time between checkpoints (default 1s, more than zero).
    pub interval: Duration,
    /// Complete checkpoints kept (default 3, at least 1).
    pub retain: usize,
}

/// Runtime settings (`[runtime]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuntimeSpec {
    /// Worker threads; `None` = the number of cores.
    pub workers: Option<usize>,
    /// Records per batch (default 1024).
    pub batch_size: usize,
    /// Number of key groups, a power of two in `1..=32768` (default 128).
    pub max_parallelism: u16,
    /// What to do with malformed input (default: dead letter).
    pub on_error: OnError,
    /// Dead-letter output file (default `weir-dead-letters.jsonl`).
    pub dead_letter_path: PathBuf,
    /// `[state]`: the keyed state backend.
    pub state: super::state_spec::StateSpec,
}

impl Default for RuntimeSpec {
    fn default() -> Self {
        RuntimeSpec {
            workers: None,
            batch_size: 1024,
            max_parallelism: crate::state::DEFAULT_MAX_PARALLELISM,
            on_error: OnError::DeadLetter,
            dead_letter_path: PathBuf::from("weir-dead-letters.jsonl"),
            state: Default::default(),
        }
    }
}

/// A comparison of a filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmp {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

/// A compiled stateless op; see [`StatelessOp::apply`](crate::pipeline::StatelessOp::apply).
#[derive(Clone, Debug, PartialEq)]
pub enum StatelessOp {
    /// Keep rows where `row[index] <cmp> constant`.
    Filter {
        /// Index of the compared field.
        index: usize,
        /// The comparison.
        cmp: Cmp,
        /// The constant, of the field's type (`Value::F64` for an f64 field, `Value::Ts` for a
        /// timestamp, ...).
        constant: Value,
    },
    /// Output row = the input values at `indices`, in order (renames only change the schema).
    Select {
        /// Input field indices; a field may appear more than once.
        indices: Vec<usize>,
    },
    /// Keep rows where the boolean expression is true (`where = "…"`; null is false).
    Where(crate::pipeline::expr::Expr),
    /// Output row = one value per expression (`select` with computed columns).
    Project(Vec<crate::pipeline::expr::Expr>),
}

pub use crate::operator::rolling::AggFn;

impl AggFn {
    /// Name as written in pipeline files.
    pub fn name(self) -> &'static str {
        match self {
            AggFn::Sum => "sum",
            AggFn::Count => "count",
            AggFn::Min => "min",
            AggFn::Max => "max",
            AggFn::Avg => "avg",
        }
    }

    /// Output type for an input field of type `input` (`None` for count without a field).
    pub fn output_type(self, input: Option<FieldType>) -> FieldType {
        match (self, input) {
            (AggFn::Count, _) => FieldType::I64,
            (AggFn::Avg, _) => FieldType::F64,
            (_, Some(ty)) => ty,
            (_, None) => FieldType::I64,
        }
    }
}

/// One aggregate of a rolling op.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AggSpec {
    /// The function.
    pub func: AggFn,
    /// Input field index (into the keyed input schema); `None` for `count` without a field.
    /// `count` counts every record, with or without a field.
    pub index: Option<usize>,
    /// Output field name.
    pub out_name: String,
}

/// The keyed op following `key_by`.
#[derive(Clone, Debug, PartialEq)]
pub enum KeyedOp {
    /// Per-key running aggregates, emitted on every record: output row = key fields, then one
    /// value per aggregate.
    Rolling(Vec<AggSpec>),
    /// Emit a record the first time its key is seen (again after `ttl` without the key).
    Dedup {
        /// Time after which a key is forgotten; `None` = never.
        ttl: Option<Duration>,
    },
    /// `process dedup` with a `ttl` when the input carries event time: a key is forgotten
    /// once the watermark reaches its first record's event time plus `ttl`
    /// ([`crate::operator::dedup_event::EventTimeDedup`]).
    DedupEventTime {
        /// Event time after which a key is forgotten.
        ttl: Duration,
        /// Index of the event-time field in the input.
        ts_index: usize,
    },
    /// Emit the record plus an f64 field: the z-score of `row[index]` against the key's
    /// running mean and standard deviation of the records before it.
    /// An event-time window (`type = "window"`).
    Window(crate::pipeline::ops::window::WindowSpec),
    /// An updating group-by (`type = "aggregate"`), see [`crate::pipeline::ops::aggregate`].
    Aggregate(crate::pipeline::ops::aggregate::AggregateSpec),
    /// The n best rows per key (`type = "top_n"`), see [`crate::pipeline::ops::aggregate`].
    TopN(crate::pipeline::ops::aggregate::TopNSpec),
    /// The rows tied at a key's maximum when event time closes it (`type = "max_rows"`).
    MaxRows(crate::pipeline::ops::max_rows::MaxRowsSpec),
    /// The z-score of a field (`process`, `function = "zscore"`).
    ZScore {
        /// Index of the scored numeric field.
        index: usize,
        /// Name of the appended score field (default `score`).
        out_name: String,
        /// Emit only records with `|score| >= threshold`.
        threshold: Option<f64>,
        /// Records of the key needed before a score is computed (default 2, at least 2).
        min_count: u64,
    },
    /// `process zscore` with a `window`: the z-score of a field against the key's other
    /// records in the last `window` of event time
    /// ([`crate::operator::zscore_window::WindowedZScore`]).
    ZScoreWindow(crate::pipeline::ops::zscore_window::ZScoreWindowSpec),
}
