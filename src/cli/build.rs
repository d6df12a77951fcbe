//! Turns a validated pipeline [`Plan`] into a runnable [`Job`] over rows.

use crate::operator::dedup::Dedup;
use crate::operator::rolling::{Aggregate, Rolling};
use crate::operator::zscore::ZScore;
use crate::operator::KeyedOperator;
use crate::pipeline::spec::{DecodeSpec, Format, KeyedOp, Plan, SinkSpec, SourceSpec, StatelessOp};
use crate::record::{
    CsvDecoder, CsvEncoder, JsonLinesDecoder, JsonLinesEncoder, Row, RowKey, Schema, Value,
};
use crate::runtime::Job;
use crate::sink::file::FileSink;
use crate::sink::null::NullSink;
use crate::sink::stdout::StdoutSink;
use crate::sink::{Encoder, Sink};
use crate::source::file::{DecoderFactory, FileSource};
use crate::source::generator::GeneratorSource;
use crate::source::stdin::StdinSource;
use crate::source::{LineDecoder, Source};
use std::sync::Arc;

/// The keyed operator of a plan, boxed (the CLI's operators are chosen at run time).
pub type RowOperator = Box<dyn KeyedOperator<RowKey, Row, Row>>;

fn decoder(spec: &DecodeSpec) -> DecoderFactory<Row> {
    let (schema, header, format) = (spec.schema.clone(), spec.header, spec.format);
    Arc::new(move || -> Box<dyn LineDecoder<Row>> {
        match format {
            Format::Csv => Box::new(CsvDecoder::new(schema.clone(), header)),
            Format::Jsonl => Box::new(JsonLinesDecoder::new(schema.clone())),
        }
    })
}

fn generator_row(key: u64, value: i64, ts: i64) -> Row {
    [Value::I64(key as i64), Value::I64(value), Value::Ts(ts)]
        .into_iter()
        .collect()
}

/// The plan's source.
pub fn source(plan: &Plan) -> Box<dyn Source<Row>> {
    row_source(&plan.source)
}

/// A source of rows from its spec.
pub fn row_source(spec: &SourceSpec) -> Box<dyn Source<Row>> {
    if let Some(open_loop) = super::latency_io::source(spec) {
        return open_loop; // a Nexmark latency run (`weir bench --nexmark Q --rate R`)
    }
    match spec {
        SourceSpec::File { path, decode } => Box::new(FileSource::new(
            path.clone(),
            decoder(decode),
            decode.max_line_bytes,
        )),
        SourceSpec::Stdin { decode } => {
            Box::new(StdinSource::new(decoder(decode), decode.max_line_bytes))
        }
        SourceSpec::Generator(g) => {
            let mut gen = GeneratorSource::new(g.events, g.keys, generator_row)
                .events_per_ms(g.events_per_ms);
            if g.rate > 0 {
                gen = gen.rate_limit(g.rate as f64);
            }
            Box::new(gen)
        }
        SourceSpec::Tcp(t) => Box::new(crate::source::tcp::TcpSource::new(
            t.options(),
            decoder(&t.decode),
        )),
        SourceSpec::Nexmark(n) => super::build_nexmark::row_source(n),
    }
}

fn encoder(schema: &Schema, format: Format, header: bool) -> Arc<dyn Encoder<Row>> {
    match format {
        // NoChecksum: the CLI prints counts only; nothing reads a checksum of the lines.
        Format::Csv => Arc::new(crate::sink::NoChecksum(CsvEncoder::new(
            schema.clone(),
            header,
        ))),
        Format::Jsonl => Arc::new(crate::sink::NoChecksum(JsonLinesEncoder::new(
            schema.clone(),
        ))),
    }
}

/// The plan's sink.
pub fn sink(plan: &Plan) -> Box<dyn Sink<Row>> {
    row_sink(&plan.sink, &plan.output_schema)
}

/// A sink of rows of `schema` from its spec.
pub fn row_sink(spec: &SinkSpec, schema: &Schema) -> Box<dyn Sink<Row>> {
    if let Some(latency) = super::latency_io::sink() {
        return latency; // a Nexmark latency run
    }
    match spec {
        // `path = "-"` writes to standard output (at-least-once), as Unix tools do.
        SinkSpec::File {
            path,
            format,
            header,
        } if path.as_os_str() == "-" => {
            Box::new(StdoutSink::new(encoder(schema, *format, *header)))
        }
        SinkSpec::File {
            path,
            format,
            header,
        } => Box::new(FileSink::new(
            path.clone(),
            encoder(schema, *format, *header),
        )),
        SinkSpec::Stdout { format, header } => {
            Box::new(StdoutSink::new(encoder(schema, *format, *header)))
        }
        // Counts rows without hashing them (as Flink's blackhole): nothing reads a row checksum.
        SinkSpec::Null => Box::new(NullSink::<Row, _>::counting()),
        SinkSpec::Tcp {
            connect,
            format,
            header,
        } => Box::new(crate::sink::tcp::TcpSink::new(
            connect.clone(),
            encoder(schema, *format, *header),
        )),
    }
}

/// The plan's keyed operator, after a `key_by` on the input fields `key`.
pub fn keyed_operator(op: &KeyedOp, key: &[usize]) -> RowOperator {
    match op {
        KeyedOp::Rolling(aggs) => Box::new(rolling(aggs).with_key_fields(key.to_vec())),
        other => operator(other),
    }
}

/// The rolling operator of `aggs`.
fn rolling(aggs: &[crate::pipeline::spec::AggSpec]) -> Rolling {
    Rolling::new(
        aggs.iter()
            .map(|a| Aggregate {
                func: a.func,
                field: a.index,
            })
            .collect(),
    )
}

/// The plan's keyed operator.
pub fn operator(op: &KeyedOp) -> RowOperator {
    match op {
        KeyedOp::Rolling(aggs) => Box::new(rolling(aggs)),
        KeyedOp::Dedup { ttl } => Box::new(Dedup::new(*ttl)),
        KeyedOp::DedupEventTime { ttl, ts_index } => {
            Box::new(crate::operator::dedup_event::EventTimeDedup::new(
                *ts_index,
                crate::pipeline::ops::event_time::millis(*ttl),
            ))
        }
        KeyedOp::Window(w) => w
            .operator()
            .expect("window lengths are validated by the pipeline loader"),
        KeyedOp::Aggregate(_) | KeyedOp::TopN(_) | KeyedOp::MaxRows(_) => {
            super::build_updating::operator(op)
        }
        KeyedOp::ZScore {
            index,
            threshold,
            min_count,
            ..
        } => Box::new(ZScore::new(*index, *threshold, *min_count)),
        KeyedOp::ZScoreWindow(z) => Box::new(crate::operator::zscore_window::WindowedZScore::new(
            z.config(),
        )),
    }
}

/// Applies stateless ops in order; `None` when a filter drops the row.
fn apply_all(ops: &[StatelessOp], mut row: Row) -> Option<Row> {
    ops.iter()
        .all(|op| op.apply_in_place(&mut row))
        .then_some(row)
}

/// Builds the job of a plan.
pub fn job(plan: &Plan) -> Job {
    if let Some(graph) = &plan.graph {
        return super::build_graph::job(graph);
    }
    let pre = Arc::new(plan.pre.clone());
    let stream =
        super::build_graph::source_stream("source", &plan.source, plan.event_time.as_ref());
    let stream = if pre.is_empty() {
        stream
    } else {
        stream.filter_map(move |row| apply_all(&pre, row))
    };
    let (Some(key), Some(keyed)) = (plan.key.clone(), plan.keyed.clone()) else {
        return stream.sink(crate::metrics::metered::sink(sink(plan)));
    };
    let fields = key.clone();
    let key = crate::record::key_hash::KeyPlan::new(&key);
    let keyed_stream = stream.key_by(move |row: &Row| key.key(row));
    let processed = keyed_stream.process(move || keyed_operator(&keyed, &fields));
    let job = one_line_job(plan, processed.clone());
    // A window's late rows go to the dead letters with the keyed input's field names.
    match plan.keyed {
        Some(KeyedOp::Window(_)) => {
            job.and(processed.side_output("late").late_to_dead_letters(Some(
                super::late_rows::row_format(plan.keyed_input_schema.as_ref()),
            )))
        }
        _ => job,
    }
}

/// The rest of a one-line plan after its keyed op: the `post` ops and the sink.
fn one_line_job(plan: &Plan, processed: crate::dataflow::Stream<Row>) -> Job {
    if plan.post.is_empty() {
        processed.sink(crate::metrics::metered::sink(sink(plan)))
    } else {
        let post = Arc::new(plan.post.clone());
        processed
            .filter_map(move |row| apply_all(&post, row))
            .sink(crate::metrics::metered::sink(sink(plan)))
    }
}
