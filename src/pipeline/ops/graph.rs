//! The graph form of a pipeline file: named sources (`[sources.NAME]`), ops with `name` and
//! `input`/`inputs`, named sinks (`[sinks.NAME]` with `input`).
//!
//! An input names a source, an op, or an op's side output `NAME.OUTPUT` (a filter's
//! `NAME.rejected`). An op without `input` reads the op before it (or the only source). Ops
//! are compiled in dependency order against the schemas of their inputs; every graph error
//! names its path: an unknown input, a cycle, inputs whose schemas do not fit, a sink
//! without input, an op nobody reads, a duplicate name.

use super::join::{interval_join, join, IntervalJoinSpec, JoinInput, JoinSpec};
use super::OpKind;
use super::{fields, keyed};
use crate::pipeline::spec::{KeyedOp, StatelessOp};
use crate::pipeline::walk::{a_type, index, Errors, Section};
use crate::record::Schema;
use std::collections::{BTreeMap, HashMap};

/// A compiled op of the graph form.
#[derive(Clone, Debug)]
pub enum GraphOpKind {
    /// A fused stateless op; a filter's failing rows go to its `rejected` side output.
    Stateless(StatelessOp),
    /// Keys its input by these field indices (the next keyed op exchanges on them).
    KeyBy(Vec<usize>),
    /// A keyed op; its input is a `key_by` op.
    Keyed(KeyedOp),
    /// The records of all inputs (same schema).
    Union,
    /// Unbounded inner equi-join of two inputs.
    Join(JoinSpec),
    /// Interval join of two inputs on event time.
    IntervalJoin(IntervalJoinSpec),
}

/// One op of the graph form.
#[derive(Clone, Debug)]
pub struct GraphOp {
    /// Its name (`name`, default `ops[i]`).
    pub name: String,
    /// What it does.
    pub kind: GraphOpKind,
    /// Its inputs: a source, an op, or `op.OUTPUT`.
    pub inputs: Vec<String>,
    /// The schema of its main output.
    pub schema: Schema,
}

/// The graph of a pipeline file in graph form: sources, ops in dependency order, sinks.
#[derive(Clone, Debug, Default)]
pub struct GraphPlan {
    /// Named sources and their schemas, in name order.
    pub sources: Vec<(String, Schema)>,
    /// Ops, each after its inputs.
    pub ops: Vec<GraphOp>,
    /// Sinks: name, input, and the schema they receive.
    pub sinks: Vec<(String, String, Schema)>,
    /// Each source's spec (index as in `sources`).
    pub source_specs: Vec<crate::pipeline::spec::SourceSpec>,
    /// Each sink's spec (index as in `sinks`).
    pub sink_specs: Vec<crate::pipeline::spec::SinkSpec>,
    /// Each source's event time (index as in `sources`).
    pub event_times: Vec<Option<super::event_time::EventTimeSpec>>,
}

impl GraphPlan {
    /// A stable hash of the dataflow: sources' names and schemas, ops, sinks' inputs and
    /// schemas — not paths or formats, so a checkpoint restores with other input paths.
    pub fn shape_hash(&self) -> u64 {
        let text = format!("{:?}|{:?}|{:?}", self.sources, self.ops, self.sinks);
        crate::state::key_group::stable_hash_bytes(text.as_bytes())
    }
}

/// An op's table before compilation.
struct Pending<'a> {
    i: usize,
    name: String,
    table: &'a toml::Table,
    inputs: Vec<String>,
}

/// Reads the ops' names and inputs (defaults: `ops[i]`, the previous op or the only source).
fn pending<'a>(
    items: &'a [toml::Value],
    sources: &[String],
    errs: &mut Errors,
) -> Vec<Pending<'a>> {
    let mut out: Vec<Pending<'a>> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let path = index("ops", i);
        let Some(t) = item.as_table() else {
            errs.push(
                &path,
                format_args!("expected a table ([[ops]]), found {}", a_type(item)),
            );
            continue;
        };
        let name = match t.get("name") {
            Some(toml::Value::String(s)) if !s.is_empty() && !s.contains('.') => s.clone(),
            Some(_) => {
                errs.push(
                    &format!("{path}.name"),
                    "expected a non-empty name without '.'",
                );
                path.clone()
            }
            None => path.clone(),
        };
        let inputs = match (t.get("input"), t.get("inputs")) {
            (Some(toml::Value::String(s)), None) => vec![s.clone()],
            (None, Some(toml::Value::Array(a))) => {
                let names: Vec<String> = a
                    .iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect();
                if names.len() != a.len() || names.is_empty() {
                    errs.push(&format!("{path}.inputs"), "expected a list of input names");
                }
                names
            }
            (None, None) => match (out.last(), sources) {
                (Some(prev), _) => vec![prev.name.clone()],
                (None, [only]) => vec![only.clone()],
                (None, _) => {
                    errs.push(
                        &format!("{path}.input"),
                        "missing: the first op must name its input when there are several sources",
                    );
                    Vec::new()
                }
            },
            (Some(_), Some(_)) => {
                errs.push(
                    &format!("{path}.input"),
                    "give either input or inputs, not both",
                );
                Vec::new()
            }
            (Some(v), None) => {
                errs.push(
                    &format!("{path}.input"),
                    format_args!("expected a string, found {}", a_type(v)),
                );
                Vec::new()
            }
            (None, Some(v)) => {
                errs.push(
                    &format!("{path}.inputs"),
                    format_args!("expected an array, found {}", a_type(v)),
                );
                Vec::new()
            }
        };
        out.push(Pending {
            i,
            name,
            table: t,
            inputs,
        });
    }
    out
}

/// The op (or source) an input names, and its output port name (`""` = main).
fn split_input(input: &str) -> (&str, &str) {
    input.split_once('.').unwrap_or((input, ""))
}

/// Orders ops so that each comes after its inputs; reports unknown inputs and cycles.
fn order<'a>(ops: Vec<Pending<'a>>, sources: &[String], errs: &mut Errors) -> Vec<Pending<'a>> {
    let by_name: HashMap<String, usize> = ops
        .iter()
        .enumerate()
        .map(|(k, p)| (p.name.clone(), k))
        .collect();
    for p in &ops {
        for input in &p.inputs {
            let (node, _) = split_input(input);
            if !by_name.contains_key(node) && !sources.iter().any(|s| s == node) {
                errs.push(
                    &format!("ops[{}].input", p.i),
                    format_args!(
                        "unknown input {input:?} (sources: {}; ops: {})",
                        sources.join(", "),
                        ops.iter()
                            .map(|o| o.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                );
            }
        }
    }
    // Kahn's algorithm over op → op edges.
    let mut indegree = vec![0usize; ops.len()];
    let mut readers: Vec<Vec<usize>> = vec![Vec::new(); ops.len()];
    for (k, p) in ops.iter().enumerate() {
        for input in &p.inputs {
            if let Some(&from) = by_name.get(split_input(input).0) {
                indegree[k] += 1;
                readers[from].push(k);
            }
        }
    }
    let mut ready: Vec<usize> = (0..ops.len()).filter(|&k| indegree[k] == 0).rev().collect();
    let mut sorted = Vec::new();
    while let Some(k) = ready.pop() {
        sorted.push(k);
        for &r in readers[k].iter().rev() {
            indegree[r] -= 1;
            if indegree[r] == 0 {
                ready.push(r);
            }
        }
    }
    if sorted.len() < ops.len() {
        let stuck: Vec<&str> = (0..ops.len())
            .filter(|k| !sorted.contains(k))
            .map(|k| ops[k].name.as_str())
            .collect();
        errs.push(
            "ops",
            format_args!("the inputs form a cycle through {}", stuck.join(", ")),
        );
    }
    let mut slots: Vec<Option<Pending<'a>>> = ops.into_iter().map(Some).collect();
    sorted.into_iter().filter_map(|k| slots[k].take()).collect()
}

/// What the compiled graph knows of each output: its schema, and whether it is a key_by.
#[derive(Default)]
struct Outputs {
    schemas: HashMap<String, Schema>,
    key_by: HashMap<String, Vec<usize>>,
    /// The event-time field each output carries from its source (`None`: none).
    event_time: HashMap<String, Option<String>>,
}

impl Outputs {
    fn schema(&self, input: &str) -> Option<&Schema> {
        self.schemas.get(input)
    }
}

/// Compiles the graph form.
pub(crate) fn compile_graph(
    root: &mut Section,
    sources: &[(String, Schema)],
    event_times: &[Option<super::event_time::EventTimeSpec>],
    sink_inputs: &[(String, String, String)],
    errs: &mut Errors,
) -> Option<GraphPlan> {
    let source_names: Vec<String> = sources.iter().map(|(n, _)| n.clone()).collect();
    let items: &[toml::Value] = if root.has("ops") {
        root.array("ops", errs)?
    } else {
        &[]
    };
    let ops = order(pending(items, &source_names, errs), &source_names, errs);
    let mut outs = Outputs::default();
    for ((n, schema), et) in sources.iter().zip(event_times) {
        outs.schemas.insert(n.clone(), schema.clone());
        outs.event_time
            .insert(n.clone(), et.as_ref().map(|e| e.field.clone()));
    }
    let mut plan = GraphPlan {
        sources: sources.to_vec(),
        ..GraphPlan::default()
    };
    let mut names: BTreeMap<String, usize> = BTreeMap::new();
    for p in ops {
        if let Some(first) = names.insert(p.name.clone(), p.i) {
            errs.push(
                &format!("ops[{}].name", p.i),
                format_args!("{:?} is already the name of ops[{first}]", p.name),
            );
        }
        if source_names.contains(&p.name) {
            errs.push(
                &format!("ops[{}].name", p.i),
                format_args!("{:?} is already the name of a source", p.name),
            );
        }
        if let Some(op) = compile_op(&p, &mut outs, errs) {
            plan.ops.push(op);
        }
    }
    for (name, input, path) in sink_inputs {
        match outs.schema(input) {
            Some(schema) => plan
                .sinks
                .push((name.clone(), input.clone(), schema.clone())),
            None => errs.push(path, format_args!("unknown input {input:?}")),
        }
    }
    unused(&plan, errs);
    errs.is_empty().then_some(plan)
}

/// Every op's main output must be read by an op or a sink.
fn unused(plan: &GraphPlan, errs: &mut Errors) {
    let read: Vec<&str> = plan
        .ops
        .iter()
        .flat_map(|o| o.inputs.iter())
        .chain(plan.sinks.iter().map(|(_, i, _)| i))
        .map(|i| split_input(i).0)
        .collect();
    for op in &plan.ops {
        if !read.contains(&op.name.as_str()) {
            errs.push(
                &format!("ops.{}", op.name),
                "unused op: no op or sink reads its output",
            );
        }
    }
    for (s, _) in &plan.sources {
        if !read.contains(&s.as_str()) {
            errs.push(
                &format!("sources.{s}"),
                "unused source: no op or sink reads it",
            );
        }
    }
}

fn compile_op(p: &Pending, outs: &mut Outputs, errs: &mut Errors) -> Option<GraphOp> {
    let mut s = Section::new(index("ops", p.i), p.table);
    let _ = (s.get("name"), s.get("input"), s.get("inputs"));
    let kind = s.req("type", errs, |s, k, e| s.choice(k, e, "op type", GRAPH_OPS))?;
    let first = p.inputs.first().map(String::as_str).unwrap_or("");
    let input_schema = outs.schema(first).cloned();
    let one_input = |errs: &mut Errors| {
        if p.inputs.len() != 1 {
            errs.push(&s.at("inputs"), "this op reads exactly one input");
        }
    };
    let compiled = match kind {
        GraphKind::Op(OpKind::Filter) => {
            one_input(errs);
            fields::filter(&mut s, input_schema.as_ref(), errs)
                .map(|(op, sc)| (GraphOpKind::Stateless(op), sc))
        }
        GraphKind::Op(OpKind::Select) => {
            one_input(errs);
            fields::select(&mut s, input_schema.as_ref(), errs)
                .map(|(op, sc)| (GraphOpKind::Stateless(op), sc))
        }
        GraphKind::Op(OpKind::KeyBy) => {
            one_input(errs);
            fields::key_by(&mut s, input_schema.as_ref(), errs).map(|key| {
                outs.key_by.insert(p.name.clone(), key.clone());
                (
                    GraphOpKind::KeyBy(key),
                    input_schema.clone().unwrap_or_default(),
                )
            })
        }
        GraphKind::Op(OpKind::Window) => {
            one_input(errs);
            let key = outs.key_by.get(first).cloned();
            if key.is_none() {
                errs.push(
                    &s.at("input"),
                    format_args!("a window reads a key_by op ({first:?} is not one)"),
                );
            }
            let ts = outs.event_time.get(first).cloned();
            let ts = ts.as_ref().map(|t| t.as_deref());
            super::window::window(&mut s, input_schema.as_ref(), key.as_deref(), ts, errs)
                .map(|(w, sc)| (GraphOpKind::Keyed(KeyedOp::Window(w)), sc))
        }
        GraphKind::Op(kind @ (OpKind::Rolling | OpKind::Process)) => {
            one_input(errs);
            let key = outs.key_by.get(first).cloned();
            if key.is_none() {
                errs.push(
                    &s.at("input"),
                    format_args!("a keyed op reads a key_by op ({first:?} is not one)"),
                );
            }
            let compiled = match kind {
                OpKind::Rolling => {
                    keyed::rolling(&mut s, input_schema.as_ref(), key.as_deref(), errs)
                }
                _ => {
                    let ts = outs.event_time.get(first).cloned().flatten();
                    keyed::process(&mut s, input_schema.as_ref(), ts.as_deref(), errs)
                }
            };
            compiled.map(|(op, sc)| (GraphOpKind::Keyed(op), sc))
        }
        GraphKind::Op(kind @ (OpKind::Aggregate | OpKind::TopN | OpKind::MaxRows)) => {
            one_input(errs);
            let key = outs.key_by.get(first).cloned();
            let sc = input_schema.as_ref();
            match kind {
                OpKind::Aggregate => super::aggregate::aggregate(&mut s, sc, key.as_deref(), errs),
                OpKind::MaxRows => super::max_rows::max_rows(&mut s, sc, key.as_deref(), errs),
                _ => super::aggregate::top_n(&mut s, sc, key.as_deref(), errs),
            }
            .map(|(op, sc)| (GraphOpKind::Keyed(op), sc))
        }
        GraphKind::Union => union(&s, p, outs, errs).map(|sc| (GraphOpKind::Union, sc)),
        GraphKind::Join | GraphKind::IntervalJoin => {
            let times: Vec<Option<String>> = p
                .inputs
                .iter()
                .map(|i| outs.event_time.get(i).cloned().flatten())
                .collect();
            let io = match p.inputs.as_slice() {
                [l, r] => match (outs.schema(l), outs.schema(r)) {
                    (Some(ls), Some(rs)) => Some([
                        JoinInput {
                            name: l,
                            schema: ls,
                            event_time: times[0].as_deref(),
                        },
                        JoinInput {
                            name: r,
                            schema: rs,
                            event_time: times[1].as_deref(),
                        },
                    ]),
                    _ => None,
                },
                _ => {
                    errs.push(&s.at("inputs"), "a join reads two inputs [left, right]");
                    None
                }
            };
            match kind {
                GraphKind::Join => {
                    join(&mut s, io, errs).map(|(spec, sc)| (GraphOpKind::Join(spec), sc))
                }
                _ => interval_join(&mut s, io, errs)
                    .map(|(spec, sc)| (GraphOpKind::IntervalJoin(spec), sc)),
            }
        }
    };
    s.finish(errs);
    let (kind, schema) = compiled?;
    // The event-time field reaches this op's output when it keeps the field's name.
    let ts = outs.event_time.get(first).cloned().flatten();
    let ts = ts.filter(|f| {
        schema.index_of(f).is_some() && !matches!(kind, GraphOpKind::Keyed(KeyedOp::Window(_)))
    });
    outs.event_time.insert(p.name.clone(), ts.clone());
    outs.schemas.insert(p.name.clone(), schema.clone());
    // Late records leave unchanged on side outputs: a window's `late`, an interval join's
    // `late_left` and `late_right`.
    let late: Vec<(&str, &String)> = match kind {
        GraphOpKind::Keyed(KeyedOp::Window(_)) => vec![("late", &p.inputs[0])],
        GraphOpKind::IntervalJoin(_) => {
            vec![("late_left", &p.inputs[0]), ("late_right", &p.inputs[1])]
        }
        _ => Vec::new(),
    };
    for (output, input) in late {
        let name = format!("{}.{output}", p.name);
        if let Some(sc) = outs.schema(input).cloned() {
            outs.schemas.insert(name.clone(), sc);
        }
        let ts = outs.event_time.get(input).cloned().flatten();
        outs.event_time.insert(name, ts);
    }
    if let GraphOpKind::Stateless(StatelessOp::Filter { .. } | StatelessOp::Where(_)) = kind {
        let rejected = input_schema.clone().unwrap_or_default();
        outs.schemas
            .insert(format!("{}.rejected", p.name), rejected);
    }
    Some(GraphOp {
        name: p.name.clone(),
        kind,
        inputs: p.inputs.clone(),
        schema,
    })
}

/// A union's inputs must all have the same schema.
fn union(s: &Section, p: &Pending, outs: &Outputs, errs: &mut Errors) -> Option<Schema> {
    if p.inputs.len() < 2 {
        errs.push(&s.at("inputs"), "a union reads two or more inputs");
    }
    let schemas: Vec<Option<&Schema>> = p.inputs.iter().map(|i| outs.schema(i)).collect();
    let first = schemas.first().copied().flatten()?;
    for (input, schema) in p.inputs.iter().zip(&schemas).skip(1) {
        if let Some(schema) = schema {
            if *schema != first {
                errs.push(
                    &s.at("inputs"),
                    format_args!(
                        "{input:?} has fields ({}) but {:?} has ({}): a union needs one schema",
                        schema
                            .fields
                            .iter()
                            .map(|f| f.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                        p.inputs[0],
                        first
                            .fields
                            .iter()
                            .map(|f| f.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                );
                return None;
            }
        }
    }
    Some(first.clone())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum GraphKind {
    Op(OpKind),
    Union,
    Join,
    IntervalJoin,
}

const GRAPH_OPS: &[(&str, GraphKind)] = &[
    ("filter", GraphKind::Op(OpKind::Filter)),
    ("select", GraphKind::Op(OpKind::Select)),
    ("key_by", GraphKind::Op(OpKind::KeyBy)),
    ("rolling", GraphKind::Op(OpKind::Rolling)),
    ("process", GraphKind::Op(OpKind::Process)),
    ("window", GraphKind::Op(OpKind::Window)),
    ("aggregate", GraphKind::Op(OpKind::Aggregate)),
    ("top_n", GraphKind::Op(OpKind::TopN)),
    ("max_rows", GraphKind::Op(OpKind::MaxRows)),
    ("union", GraphKind::Union),
    ("join", GraphKind::Join),
    ("interval_join", GraphKind::IntervalJoin),
];
