//! Turns the graph form of a pipeline file ([`GraphPlan`]) into a runnable [`Job`].

use super::build::{operator, row_sink, row_source};
use crate::dataflow::{Job, Stream};
use crate::operator::join::JoinOperator;
use crate::pipeline::ops::graph::{GraphOpKind, GraphPlan};
use crate::pipeline::spec::StatelessOp;
use crate::record::{Row, RowKey};
use std::collections::HashMap;
use std::sync::Arc;

/// The key of `row` made of the fields at `key`.
fn row_key(key: &[usize], row: &Row) -> RowKey {
    RowKey(key.iter().map(|&i| row[i].clone()).collect())
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
    for ((name, _), spec) in graph.sources.iter().zip(&graph.source_specs) {
        let stream = Stream::from_boxed_source(Some(name), row_source(spec));
        s.rows.insert(name.clone(), stream);
    }
    for op in &graph.ops {
        let first = s.get(&op.inputs[0]);
        let out = match &op.kind {
            GraphOpKind::Stateless(stateless) => {
                if let StatelessOp::Filter { .. } = stateless {
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
                let key = s.keys[&op.inputs[0]].clone();
                let keyed = keyed.clone();
                first
                    .key_by(move |row: &Row| row_key(&key, row))
                    .process_named(Some(&op.name), move || operator(&keyed))
            }
            GraphOpKind::Union => {
                let rest: Vec<Stream<Row>> = op.inputs[1..].iter().map(|i| s.get(i)).collect();
                first.union_named(Some(&op.name), rest)
            }
            GraphOpKind::Join(spec) => {
                let (lk, rk, ttl) = (spec.left_key.clone(), spec.right_key.clone(), spec.ttl);
                let left = first.key_by(move |row: &Row| row_key(&lk, row));
                let right = s
                    .get(&op.inputs[1])
                    .key_by(move |row: &Row| row_key(&rk, row));
                left.connect(right)
                    .process_named(Some(&op.name), move || JoinOperator::new(ttl))
            }
        };
        s.rows.insert(op.name.clone(), out);
    }
    let mut job: Option<Job> = None;
    for ((name, input, schema), spec) in graph.sinks.iter().zip(&graph.sink_specs) {
        let sink = row_sink(spec, schema);
        let j = s.get(input).sink_named(Some(name), Arc::from(sink));
        job = Some(match job {
            Some(prev) => prev.and(j),
            None => j,
        });
    }
    job.expect("a graph plan has at least one sink")
}
