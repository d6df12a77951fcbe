//! Turns the graph form of a pipeline file ([`GraphPlan`]) into a runnable [`Job`].

use super::build::{keyed_operator, row_sink, row_source};
use crate::dataflow::{Job, Stream};
use crate::operator::interval_join::IntervalJoinOperator;
use crate::operator::join::JoinOperator;
use crate::operator::KeyedCoOperator;
use crate::pipeline::ops::event_time::EventTimeSpec;
use crate::pipeline::ops::graph::{GraphOpKind, GraphPlan};
use crate::pipeline::spec::KeyedOp;
use crate::pipeline::spec::StatelessOp;
use crate::record::Value;
use crate::record::{Row, RowKey};
use crate::runtime::task::EventTime;
use std::collections::HashMap;
use std::sync::Arc;

/// The key of `row` made of the fields at `key`.
fn row_key(key: &[usize], row: &Row) -> RowKey {
    crate::record::key_hash::row_key(row, key)
}

/// What the walk knows of a name: its stream, and its key when it is a `key_by`.
#[derive(Default)]
struct Streams {
    rows: HashMap<String, Stream<Row>>,
    keys: HashMap<String, Vec<usize>>,
}

impl Streams {
    fn get(&self, name: &str) -> Stream<Row> {
        self.rows
            .get(name)
            .cloned()
            .expect("the plan orders every op after its inputs")
    }
}

/// Builds the job of a graph-form plan.
pub fn job(graph: &GraphPlan) -> Job {
    let mut s = Streams::default();
    for (((name, _), spec), et) in graph
        .sources
        .iter()
        .zip(&graph.source_specs)
        .zip(&graph.event_times)
    {
        let stream = source_stream(name, spec, et.as_ref());
        s.rows.insert(name.clone(), stream);
    }
    for op in &graph.ops {
        let first = s.get(&op.inputs[0]);
        let out = match &op.kind {
            GraphOpKind::Stateless(stateless) => {
                if let StatelessOp::Filter { .. } | StatelessOp::Where(_) = stateless {
                    let f = stateless.clone();
                    let rejected =
                        first
                            .clone()
                            .filter_map(move |row: Row| match f.apply(row.clone()) {
                                Some(_) => None,
                                None => Some(row),
                            });
                    s.rows.insert(format!("{}.rejected", op.name), rejected);
                }
                let f = stateless.clone();
                first.filter_map(move |row| f.apply(row))
            }
            GraphOpKind::KeyBy(key) => {
                s.keys.insert(op.name.clone(), key.clone());
                first
            }
            GraphOpKind::Keyed(keyed) => {
                let key = match keyed.own_key() {
                    Some(k) => k.to_vec(),
                    None => s.keys[&op.inputs[0]].clone(),
                };
                let is_window = matches!(keyed, KeyedOp::Window(_));
                let keyed = keyed.clone();
                let fields = key.clone();
                let out = first
                    .key_by(move |row: &Row| row_key(&key, row))
                    .process_named(Some(&op.name), move || keyed_operator(&keyed, &fields));
                if is_window {
                    s.rows
                        .insert(format!("{}.late", op.name), out.side_output("late"));
                }
                out
            }
            GraphOpKind::Union => {
                let rest: Vec<Stream<Row>> = op.inputs[1..].iter().map(|i| s.get(i)).collect();
                first.union_named(Some(&op.name), rest)
            }
            GraphOpKind::Join(spec) => {
                let ttl = spec.ttl;
                let factory = move || -> RowCoOperator { Box::new(JoinOperator::new(ttl)) };
                join(&s, op, first, &spec.left_key, &spec.right_key, factory)
            }
            GraphOpKind::IntervalJoin(spec) => {
                let config = spec.config;
                let factory = move || -> RowCoOperator {
                    Box::new(
                        IntervalJoinOperator::new(config)
                            .expect("interval bounds are validated by the pipeline loader"),
                    )
                };
                let out = join(&s, op, first, &spec.left_key, &spec.right_key, factory);
                for side in ["late_left", "late_right"] {
                    s.rows
                        .insert(format!("{}.{side}", op.name), out.side_output(side));
                }
                out
            }
        };
        s.rows.insert(op.name.clone(), out);
    }
    let mut job: Option<Job> = None;
    for ((name, input, schema), spec) in graph.sinks.iter().zip(&graph.sink_specs) {
        let sink = crate::metrics::metered::sink(row_sink(spec, schema));
        let j = s.get(input).sink_named(Some(name), Arc::from(sink));
        job = Some(match job {
            Some(prev) => prev.and(j),
            None => j,
        });
    }
    // Late rows nobody reads go to the dead letters, never silently dropped.
    for late in super::late_rows::unconsumed_late(graph, &s.rows) {
        job = job.map(|j| j.and(late));
    }
    job.expect("a graph plan has at least one sink")
}

/// A two-input row operator chosen at run time.
type RowCoOperator = Box<dyn KeyedCoOperator<RowKey, Row, Row, Row>>;

/// Keys both inputs of a two-input op and connects them to the operator `factory` makes.
fn join(
    s: &Streams,
    op: &crate::pipeline::ops::graph::GraphOp,
    first: Stream<Row>,
    left_key: &[usize],
    right_key: &[usize],
    factory: impl Fn() -> RowCoOperator + Send + Sync + 'static,
) -> Stream<Row> {
    let (lk, rk) = (left_key.to_vec(), right_key.to_vec());
    let left = first.key_by(move |row: &Row| row_key(&lk, row));
    let right = s
        .get(&op.inputs[1])
        .key_by(move |row: &Row| row_key(&rk, row));
    left.connect(right).process_named(Some(&op.name), factory)
}

/// The event time of a row: its timestamp (or integer) field at `index`.
fn event_time_of(row: &Row, index: usize) -> i64 {
    match row.get(index) {
        Some(Value::Ts(t) | Value::I64(t)) => *t,
        _ => i64::MIN,
    }
}

/// A source's stream, with its event time when it declares one.
pub fn source_stream(
    name: &str,
    spec: &crate::pipeline::spec::SourceSpec,
    event_time: Option<&EventTimeSpec>,
) -> Stream<Row> {
    match event_time {
        None => Stream::from_boxed_source(
            Some(name),
            crate::metrics::metered::source(row_source(spec)),
        ),
        Some(et) => {
            let index = et.index;
            Stream::from_source_with_event_time(
                Some(name),
                crate::metrics::metered::source(row_source(spec)),
                EventTime {
                    extract: Arc::new(move |row: &Row| event_time_of(row, index)),
                    config: et.watermark_config(),
                },
            )
        }
    }
}
