//! Projection pruning of graph-form plans: which fields of each source some op or sink reads.
//!
//! From the sinks backwards, each op's output fields that are read become the input fields
//! the op needs (a select's named fields, a filter's compared field plus what passes through,
//! a join's keys and event times plus the live fields of each side, ...). An op this module
//! does not model needs all of its input. A source whose rows carry unread fields is then
//! narrowed at the source: a nexmark source gets `fields` (its events are still generated
//! whole, only the unread values are not kept), and the plan is compiled again from the
//! narrowed file, by names, so every index downstream is resolved anew.
//!
//! The pruned plan is used only when it compiles and every sink receives the same schema as
//! before; otherwise the plan is left as it was.

use super::expr_eval::Node;
use super::ops::graph::{GraphOp, GraphOpKind, GraphPlan};
use super::spec::{KeyedOp, Plan, SourceSpec, StatelessOp};
use crate::operator::join::JoinTtl;
use crate::record::Schema;
use std::collections::HashMap;

/// `plan`, or the plan of `doc` with its sources narrowed to the fields the pipeline reads
/// (compiled by `rebuild`), when that differs and compiles to the same sink schemas.
pub(crate) fn pruned(
    doc: &toml::Value,
    plan: Plan,
    rebuild: impl FnOnce(&toml::Value) -> Result<Plan, Vec<String>>,
) -> Plan {
    let Some(graph) = plan.graph.as_ref() else {
        return plan;
    };
    let Some(narrowed) = narrowed_doc(doc, graph) else {
        return plan;
    };
    match rebuild(&narrowed) {
        Ok(p) if same_sinks(&p, graph) => p,
        _ => plan,
    }
}

/// The sinks of `p` receive the schemas they receive in `graph`.
fn same_sinks(p: &Plan, graph: &GraphPlan) -> bool {
    p.graph.as_ref().is_some_and(|g| g.sinks == graph.sinks)
}

/// `doc` with `fields` set on each nexmark source that carries unread fields; `None` when
/// there is none.
fn narrowed_doc(doc: &toml::Value, graph: &GraphPlan) -> Option<toml::Value> {
    let live = live_source_fields(graph);
    let mut out = doc.clone();
    let mut changed = false;
    for (((name, schema), spec), keep) in graph.sources.iter().zip(&graph.source_specs).zip(live) {
        if !matches!(spec, SourceSpec::Nexmark(_)) || keep.iter().all(|&b| b) {
            continue;
        }
        let names: Vec<toml::Value> = schema
            .fields
            .iter()
            .zip(&keep)
            .filter(|(_, &k)| k)
            .map(|(f, _)| toml::Value::String(f.name.clone()))
            .collect();
        let table = out
            .get_mut("sources")
            .and_then(|s| s.get_mut(name))
            .and_then(toml::Value::as_table_mut)?;
        table.insert("fields".to_string(), toml::Value::Array(names));
        changed = true;
    }
    changed.then_some(out)
}

/// What an op needs of one of its inputs.
enum Needs {
    /// Every field.
    All,
    /// The fields at these indices.
    Fields(Vec<usize>),
}

/// Per source (in `graph.sources` order), which of its fields are read.
pub(crate) fn live_source_fields(graph: &GraphPlan) -> Vec<Vec<bool>> {
    let mut schemas: HashMap<&str, &Schema> = HashMap::new();
    for (name, schema) in &graph.sources {
        schemas.insert(name, schema);
    }
    for op in &graph.ops {
        schemas.insert(&op.name, &op.schema);
    }
    let mut live: HashMap<String, Vec<bool>> = HashMap::new();
    let need = |live: &mut HashMap<String, Vec<bool>>, input: &str, needs: Needs| {
        let node = input.split_once('.').map_or(input, |(n, _)| n);
        let width = schemas.get(node).map_or(0, |s| s.fields.len());
        let entry = live
            .entry(node.to_string())
            .or_insert_with(|| vec![false; width]);
        // A side output (`NAME.rejected`, `NAME.late`) carries the op's input: keep it all.
        let needs = if input.contains('.') {
            Needs::All
        } else {
            needs
        };
        match needs {
            Needs::All => entry.iter_mut().for_each(|b| *b = true),
            Needs::Fields(f) => f.into_iter().for_each(|i| {
                if let Some(b) = entry.get_mut(i) {
                    *b = true;
                }
            }),
        }
    };
    for (_, input, _) in &graph.sinks {
        need(&mut live, input, Needs::All);
    }
    let side_read: Vec<&str> = graph
        .ops
        .iter()
        .flat_map(|o| o.inputs.iter())
        .chain(graph.sinks.iter().map(|(_, i, _)| i))
        .filter_map(|i| i.split_once('.').map(|(n, _)| n))
        .collect();
    for op in graph.ops.iter().rev() {
        let out = live
            .get(&op.name)
            .cloned()
            .unwrap_or_else(|| vec![true; op.schema.fields.len()]);
        let side = side_read.contains(&op.name.as_str());
        let in_schemas: Vec<Option<&Schema>> = op
            .inputs
            .iter()
            .map(|i| schemas.get(i.as_str()).copied())
            .collect();
        for (input, needs) in op.inputs.iter().zip(input_needs(op, &out, &in_schemas)) {
            need(&mut live, input, if side { Needs::All } else { needs });
        }
    }
    graph
        .sources
        .iter()
        .zip(&graph.event_times)
        .map(|((name, schema), et)| {
            let mut keep = live
                .get(name)
                .cloned()
                .unwrap_or_else(|| vec![true; schema.fields.len()]);
            if let Some(b) = et.as_ref().and_then(|e| keep.get_mut(e.index)) {
                *b = true;
            }
            keep
        })
        .collect()
}

/// The indices set in `live`.
fn set(live: &[bool]) -> Vec<usize> {
    live.iter()
        .enumerate()
        .filter_map(|(i, &b)| b.then_some(i))
        .collect()
}

/// What `op` needs of each of its inputs when the fields `out` of its output are read.
fn input_needs(op: &GraphOp, out: &[bool], inputs: &[Option<&Schema>]) -> Vec<Needs> {
    let through = |extra: &[usize]| {
        let mut f = set(out);
        f.extend_from_slice(extra);
        Needs::Fields(f)
    };
    match &op.kind {
        GraphOpKind::Stateless(s) => vec![stateless_needs(s, out)],
        GraphOpKind::KeyBy(key) => vec![through(key)],
        GraphOpKind::Keyed(k) => vec![keyed_needs(k, out)],
        GraphOpKind::Union => op.inputs.iter().map(|_| through(&[])).collect(),
        GraphOpKind::Join(spec) => {
            let ts = match spec.ttl {
                Some(JoinTtl::EventTime {
                    left_ts, right_ts, ..
                }) => (Some(left_ts), Some(right_ts)),
                _ => (None, None),
            };
            join_needs(out, inputs, [&spec.left_key, &spec.right_key], ts)
        }
        GraphOpKind::IntervalJoin(spec) => {
            let c = &spec.config;
            let ts = (Some(c.left_ts), Some(c.right_ts));
            join_needs(out, inputs, [&spec.left_key, &spec.right_key], ts)
        }
    }
}

fn stateless_needs(op: &StatelessOp, out: &[bool]) -> Needs {
    let mut f = Vec::new();
    match op {
        StatelessOp::Filter { index, .. } => {
            f = set(out);
            f.push(*index);
        }
        StatelessOp::Where(e) => {
            f = set(out);
            expr_fields(&e.node, &mut f);
        }
        StatelessOp::Select { indices } => {
            f = set(out)
                .into_iter()
                .filter_map(|j| indices.get(j).copied())
                .collect();
        }
        StatelessOp::Project(columns) => {
            for j in set(out) {
                if let Some(c) = columns.get(j) {
                    expr_fields(&c.node, &mut f);
                }
            }
        }
    }
    Needs::Fields(f)
}

fn keyed_needs(op: &KeyedOp, out: &[bool]) -> Needs {
    let mut f = Vec::new();
    match op {
        KeyedOp::Window(w) => {
            if w.time == super::ops::window::WindowTime::Event {
                f.push(w.ts_index);
            }
            f.extend(w.aggs.iter().filter_map(|a| a.index));
        }
        KeyedOp::Aggregate(a) => {
            f.extend(a.group_by.iter().flatten());
            f.extend(a.upsert_key.iter().flatten());
            for agg in &a.aggs {
                f.extend(agg.index);
                if let Some(e) = &agg.filter {
                    expr_fields(&e.node, &mut f);
                }
            }
        }
        KeyedOp::MaxRows(m) => {
            f = set(out);
            f.extend(m.group_by.iter().flatten());
            f.extend([m.field, m.at]);
        }
        _ => return Needs::All,
    }
    Needs::Fields(f)
}

/// A join's output is the left fields then the right ones; a right field whose name the left
/// input also has is renamed, so such a left field is kept when the right one is read.
fn join_needs(
    out: &[bool],
    inputs: &[Option<&Schema>],
    keys: [&[usize]; 2],
    ts: (Option<usize>, Option<usize>),
) -> Vec<Needs> {
    let (Some(Some(l)), Some(Some(r))) = (inputs.first(), inputs.get(1)) else {
        return vec![Needs::All, Needs::All];
    };
    let nl = l.fields.len();
    let mut left: Vec<usize> = set(out).into_iter().filter(|&i| i < nl).collect();
    let mut right: Vec<usize> = set(out)
        .into_iter()
        .filter_map(|i| i.checked_sub(nl))
        .collect();
    left.extend_from_slice(keys[0]);
    right.extend_from_slice(keys[1]);
    left.extend(ts.0);
    right.extend(ts.1);
    for &j in &right {
        if let Some(i) = r.fields.get(j).and_then(|f| l.index_of(&f.name)) {
            left.push(i);
        }
    }
    vec![Needs::Fields(left), Needs::Fields(right)]
}

/// Appends the fields `node` reads.
fn expr_fields(node: &Node, out: &mut Vec<usize>) {
    match node {
        Node::Field(i) => out.push(*i),
        Node::Int(_) | Node::Float(_) | Node::Str(_) | Node::Bool(_) => {}
        Node::IntOp(_, a, b)
        | Node::FloatOp(_, a, b)
        | Node::CmpInt(_, a, b)
        | Node::CmpFloat(_, a, b)
        | Node::CmpStr(_, a, b)
        | Node::CmpBool(_, a, b)
        | Node::And(a, b)
        | Node::Or(a, b) => {
            expr_fields(a, out);
            expr_fields(b, out);
        }
        Node::If(c, a, b) => {
            expr_fields(c, out);
            expr_fields(a, out);
            expr_fields(b, out);
        }
        Node::ToFloat(a)
        | Node::ToInt(a)
        | Node::NegInt(a)
        | Node::NegFloat(a)
        | Node::Not(a)
        | Node::InInt(a, _)
        | Node::InStr(a, _)
        | Node::AbsInt(a)
        | Node::AbsFloat(a)
        | Node::Hour(a)
        | Node::Minute(a)
        | Node::Date(a)
        | Node::Format(a, _)
        | Node::CountChar(a, _)
        | Node::Decimal(a, _)
        | Node::Len(a) => expr_fields(a, out),
    }
}

#[cfg(test)]
#[path = "prune_tests.rs"]
mod tests;
