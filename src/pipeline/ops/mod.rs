//! Validation of `[[ops]]`: the order rules, and each op compiled against the schema output by
//! the op before it.
//!
//! When an op fails, the schema after it is unknown: later ops are still checked for their
//! structure (keys, types, order) but not for field names, so one mistake does not cascade.

// The event-time parsers are called by the graph walk (issues 6 and 7), which the runtime's
// watermark plumbing lands with; until then only their tests use them.
pub mod aggregate;
pub mod event_time;
mod expr_ops;
mod fields;
pub mod graph;
#[allow(dead_code)]
pub(crate) mod join;
mod keyed;
pub mod max_rows;
pub mod window;
pub mod zscore_window;

use super::spec::{KeyedOp, StatelessOp};
use super::walk::{a_type, index, Errors, Section};
use crate::record::{FieldType, Schema};

/// The ops of a pipeline, compiled and split around `key_by`.
pub(crate) struct CompiledOps {
    pub(crate) pre: Vec<StatelessOp>,
    pub(crate) key: Option<Vec<usize>>,
    pub(crate) keyed: Option<KeyedOp>,
    pub(crate) post: Vec<StatelessOp>,
    pub(crate) keyed_input_schema: Option<Schema>,
    pub(crate) keyed_output_schema: Option<Schema>,
    pub(crate) output_schema: Schema,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum OpKind {
    Filter,
    Select,
    KeyBy,
    Rolling,
    Process,
    Window,
    Aggregate,
    TopN,
    MaxRows,
}

const OP_KINDS: &[(&str, OpKind)] = &[
    ("filter", OpKind::Filter),
    ("select", OpKind::Select),
    ("key_by", OpKind::KeyBy),
    ("rolling", OpKind::Rolling),
    ("process", OpKind::Process),
    ("window", OpKind::Window),
    ("aggregate", OpKind::Aggregate),
    ("top_n", OpKind::TopN),
    ("max_rows", OpKind::MaxRows),
];

/// Where the walk stands relative to `key_by`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stage {
    Pre,
    /// Just after the `key_by` at this op index.
    AfterKeyBy(usize),
    /// After the keyed op at this op index (`None`: after a misplaced key_by).
    Post(Option<usize>),
}

/// Compiles `ops` (absent = none) against the source schema (`None` when the source is invalid).
pub(crate) fn compile(
    root: &mut Section,
    input: Option<&Schema>,
    event_time: Option<Option<&str>>,
    errs: &mut Errors,
) -> Option<CompiledOps> {
    let mut out = CompiledOps {
        pre: Vec::new(),
        key: None,
        keyed: None,
        post: Vec::new(),
        keyed_input_schema: None,
        keyed_output_schema: None,
        output_schema: Schema::default(),
    };
    let items: &[toml::Value] = if root.has("ops") {
        root.array("ops", errs)?
    } else {
        &[]
    };
    let mut schema = input.cloned();
    let mut stage = Stage::Pre;
    let mut key_by_at: Option<usize> = None;
    let mut ok = true;
    for (i, item) in items.iter().enumerate() {
        let path = index("ops", i);
        let Some(t) = item.as_table() else {
            errs.push(
                &path,
                format_args!("expected a table ([[ops]]), found {}", a_type(item)),
            );
            schema = None;
            ok = false;
            continue;
        };
        let mut s = Section::new(path, t);
        let Some(kind) = s.req("type", errs, |s, k, e| s.choice(k, e, "op type", OP_KINDS)) else {
            schema = None;
            ok = false;
            continue;
        };
        // The key indices fit the schema only right after the key_by (a misplaced keyed op
        // sees another schema).
        let key_here = match stage {
            Stage::AfterKeyBy(_) => out.key.clone(),
            _ => None,
        };
        ok &= check_order(&s, i, kind, &mut stage, &mut key_by_at, errs);
        let had_schema = schema.is_some();
        let sc = schema.as_ref();
        schema = match kind {
            OpKind::Filter => fields::filter(&mut s, sc, errs).map(|(op, sc)| {
                push_stateless(&mut out, stage, op);
                sc
            }),
            OpKind::Select => fields::select(&mut s, sc, errs).map(|(op, sc)| {
                push_stateless(&mut out, stage, op);
                sc
            }),
            OpKind::KeyBy => fields::key_by(&mut s, sc, errs).map(|key| {
                out.key = Some(key);
                out.keyed_input_schema = sc.cloned();
                sc.cloned().unwrap_or_default()
            }),
            OpKind::Rolling
            | OpKind::Process
            | OpKind::Window
            | OpKind::Aggregate
            | OpKind::TopN
            | OpKind::MaxRows => {
                let compiled = match kind {
                    OpKind::Rolling => keyed::rolling(&mut s, sc, key_here.as_deref(), errs),
                    OpKind::Aggregate => {
                        aggregate::aggregate(&mut s, sc, key_here.as_deref(), errs)
                    }
                    OpKind::TopN => aggregate::top_n(&mut s, sc, key_here.as_deref(), errs),
                    OpKind::MaxRows => max_rows::max_rows(&mut s, sc, key_here.as_deref(), errs),
                    OpKind::Window => {
                        window::window(&mut s, sc, key_here.as_deref(), event_time, errs)
                            .map(|(w, sc)| (KeyedOp::Window(w), sc))
                    }
                    _ => keyed::process(&mut s, sc, event_time.flatten(), errs),
                };
                compiled.map(|(op, sc)| {
                    if out.keyed.is_none() {
                        out.keyed = Some(op);
                        out.keyed_output_schema = Some(sc.clone());
                    }
                    sc
                })
            }
        };
        // Unknown-field checks need a known schema: stop resolving names after a failed op.
        if !had_schema {
            schema = None;
        }
        ok &= schema.is_some();
        s.finish(errs);
    }
    if let Stage::AfterKeyBy(k) = stage {
        errs.push(
            &format!("ops[{k}].type"),
            "key_by must be directly followed by a rolling, process or window op (it is the last op)",
        );
        ok = false;
    }
    out.output_schema = schema?;
    ok.then_some(out)
}

fn push_stateless(out: &mut CompiledOps, stage: Stage, op: StatelessOp) {
    match stage {
        Stage::Pre => out.pre.push(op),
        _ => out.post.push(op),
    }
}

/// Checks the order rules for op `i` of `kind` and advances `stage`; false on an error.
fn check_order(
    s: &Section,
    i: usize,
    kind: OpKind,
    stage: &mut Stage,
    key_by_at: &mut Option<usize>,
    errs: &mut Errors,
) -> bool {
    let keyed = matches!(
        kind,
        OpKind::Rolling
            | OpKind::Process
            | OpKind::Window
            | OpKind::Aggregate
            | OpKind::TopN
            | OpKind::MaxRows
    );
    let name = OP_KINDS
        .iter()
        .find(|(_, k)| *k == kind)
        .map_or("", |(n, _)| n);
    let mut ok = true;
    if let Stage::AfterKeyBy(k) = *stage {
        if !keyed {
            errs.push(
                &format!("ops[{k}].type"),
                format_args!(
                    "key_by must be directly followed by a rolling, process or window op (found {name:?} at ops[{i}])"
                ),
            );
            ok = false;
        }
    }
    match kind {
        OpKind::KeyBy => {
            if let Some(first) = *key_by_at {
                errs.push(
                    &s.at("type"),
                    format_args!("only one key_by is allowed (the first is ops[{first}])"),
                );
                // Let the keyed op after it pass without a second, cascading error.
                *stage = Stage::AfterKeyBy(i);
                return false;
            }
            *key_by_at = Some(i);
            *stage = Stage::AfterKeyBy(i);
        }
        _ if keyed => match *stage {
            Stage::Pre => {
                errs.push(
                    &s.at("type"),
                    format_args!("{name:?} needs a key_by before it"),
                );
                ok = false;
            }
            Stage::AfterKeyBy(_) | Stage::Post(None) => *stage = Stage::Post(Some(i)),
            Stage::Post(Some(first)) => {
                errs.push(
                    &s.at("type"),
                    format_args!(
                        "only one rolling, process or window op is allowed after key_by (the first is ops[{first}])"
                    ),
                );
                ok = false;
            }
        },
        _ => {
            if let Stage::AfterKeyBy(_) = *stage {
                *stage = Stage::Post(None);
            }
        }
    }
    ok
}

/// Resolves a field name; reports it unknown. `None` silently when the schema is unknown.
pub(super) fn resolve(
    schema: Option<&Schema>,
    name: &str,
    path: &str,
    errs: &mut Errors,
) -> Option<usize> {
    let schema = schema?;
    let found = schema.index_of(name);
    if found.is_none() {
        errs.push(
            path,
            format_args!(
                "unknown field {name:?} (fields: {})",
                schema.names().join(", ")
            ),
        );
    }
    found
}

pub(super) fn type_name(ty: FieldType) -> &'static str {
    match ty {
        FieldType::I64 => "i64",
        FieldType::F64 => "f64",
        FieldType::String => "string",
        FieldType::Timestamp => "timestamp",
    }
}

pub(super) fn is_numeric(ty: FieldType) -> bool {
    matches!(ty, FieldType::I64 | FieldType::F64)
}
