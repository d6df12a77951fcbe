//! Validation of `[[ops]]`: the order rules, and each op compiled against the schema output by
//! the op before it.
//!
//! When an op fails, the schema after it is unknown: later ops are still checked for their
//! structure (keys, types, order) but not for field names, so one mistake does not cascade.

use super::spec::{AggFn, AggSpec, Cmp, KeyedOp, StatelessOp};
use super::walk::{a_type, index, Errors, Section};
use crate::record::{Field, FieldType, Schema, Value};
use std::time::{Duration, UNIX_EPOCH};

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
}

const OP_KINDS: &[(&str, OpKind)] = &[
    ("filter", OpKind::Filter),
    ("select", OpKind::Select),
    ("key_by", OpKind::KeyBy),
    ("rolling", OpKind::Rolling),
    ("process", OpKind::Process),
];

const CMPS: &[(&str, Cmp)] = &[
    ("==", Cmp::Eq),
    ("!=", Cmp::Ne),
    ("<", Cmp::Lt),
    ("<=", Cmp::Le),
    (">", Cmp::Gt),
    (">=", Cmp::Ge),
];

const AGG_FNS: &[(&str, AggFn)] = &[
    ("sum", AggFn::Sum),
    ("count", AggFn::Count),
    ("min", AggFn::Min),
    ("max", AggFn::Max),
    ("avg", AggFn::Avg),
];

#[derive(Clone, Copy)]
enum Function {
    Dedup,
    ZScore,
}

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
        ok &= check_order(&s, i, kind, &mut stage, &mut key_by_at, errs);
        let had_schema = schema.is_some();
        let sc = schema.as_ref();
        schema = match kind {
            OpKind::Filter => filter(&mut s, sc, errs).map(|(op, sc)| {
                push_stateless(&mut out, stage, op);
                sc
            }),
            OpKind::Select => select(&mut s, sc, errs).map(|(op, sc)| {
                push_stateless(&mut out, stage, op);
                sc
            }),
            OpKind::KeyBy => key_by(&mut s, sc, errs).map(|key| {
                out.key = Some(key);
                out.keyed_input_schema = sc.cloned();
                sc.cloned().unwrap_or_default()
            }),
            OpKind::Rolling | OpKind::Process => {
                let compiled = match kind {
                    OpKind::Rolling => rolling(&mut s, sc, out.key.as_deref(), errs),
                    _ => process(&mut s, sc, errs),
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
            "key_by must be directly followed by a rolling or process op (it is the last op)",
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
    let keyed = matches!(kind, OpKind::Rolling | OpKind::Process);
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
                    "key_by must be directly followed by a rolling or process op (found {name:?} at ops[{i}])"
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
                        "only one rolling or process op is allowed after key_by (the first is ops[{first}])"
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
fn resolve(schema: Option<&Schema>, name: &str, path: &str, errs: &mut Errors) -> Option<usize> {
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

fn type_name(ty: FieldType) -> &'static str {
    match ty {
        FieldType::I64 => "i64",
        FieldType::F64 => "f64",
        FieldType::String => "string",
        FieldType::Timestamp => "timestamp",
    }
}

fn is_numeric(ty: FieldType) -> bool {
    matches!(ty, FieldType::I64 | FieldType::F64)
}

fn filter(
    s: &mut Section,
    schema: Option<&Schema>,
    errs: &mut Errors,
) -> Option<(StatelessOp, Schema)> {
    let field = s.req("field", errs, Section::str);
    let cmp = s.req("op", errs, |s, k, e| s.choice(k, e, "comparison", CMPS));
    let value = s.req("value", errs, |s, k, _| s.get(k));
    let value = value.filter(|v| {
        let ok = matches!(
            v,
            toml::Value::Integer(_)
                | toml::Value::Float(_)
                | toml::Value::String(_)
                | toml::Value::Datetime(_)
        );
        if !ok {
            errs.push(
                &s.at("value"),
                format_args!("expected an integer, float or string, found {}", a_type(v)),
            );
        }
        ok
    });
    let index = field.and_then(|f| resolve(schema, f, &s.at("field"), errs));
    let schema = schema?;
    let index = index?;
    let constant = constant_for(value?, &schema.fields[index], &s.at("value"), errs)?;
    Some((
        StatelessOp::Filter {
            index,
            cmp: cmp?,
            constant,
        },
        schema.clone(),
    ))
}

/// The filter constant `v` converted to the type of `field`.
fn constant_for(v: &toml::Value, field: &Field, path: &str, errs: &mut Errors) -> Option<Value> {
    use toml::Value as T;
    let out = match (field.ty, v) {
        (FieldType::I64, T::Integer(i)) => Some(Value::I64(*i)),
        (FieldType::I64, T::String(s)) => s.trim().parse().ok().map(Value::I64),
        (FieldType::F64, T::Integer(i)) => Some(Value::F64(*i as f64)),
        (FieldType::F64, T::Float(f)) => Some(Value::F64(*f)),
        (FieldType::F64, T::String(s)) => s.trim().parse().ok().map(Value::F64),
        (FieldType::String, T::String(s)) => Some(Value::Str(s.as_str().into())),
        (FieldType::Timestamp, T::Integer(i)) => Some(Value::Ts(*i)),
        (FieldType::Timestamp, T::String(s)) => rfc3339_ms(s).map(Value::Ts),
        (FieldType::Timestamp, T::Datetime(d)) => rfc3339_ms(&d.to_string()).map(Value::Ts),
        _ => None,
    };
    if out.is_none() {
        let ty = type_name(field.ty);
        let article = if matches!(field.ty, FieldType::I64 | FieldType::F64) {
            "an"
        } else {
            "a"
        };
        errs.push(
            path,
            format_args!("{v} is not {article} {ty} (field {:?} is {ty})", field.name),
        );
    }
    out
}

/// Milliseconds since the epoch of an RFC 3339 timestamp.
fn rfc3339_ms(s: &str) -> Option<i64> {
    let t = humantime::parse_rfc3339_weak(s.trim()).ok()?;
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_millis()).ok(),
        Err(e) => i64::try_from(e.duration().as_millis()).ok().map(|ms| -ms),
    }
}

fn select(
    s: &mut Section,
    schema: Option<&Schema>,
    errs: &mut Errors,
) -> Option<(StatelessOp, Schema)> {
    let items = s.req("fields", errs, Section::array)?;
    let path = s.at("fields");
    if items.is_empty() {
        errs.push(&path, "must list at least one field");
        return None;
    }
    let mut indices = Vec::with_capacity(items.len());
    let mut out = Schema::default();
    let mut ok = true;
    for (i, item) in items.iter().enumerate() {
        let item_path = index(&path, i);
        let (name, alias, name_path, alias_path) = match item {
            toml::Value::String(name) => (Some(name.as_str()), None, item_path.clone(), item_path),
            toml::Value::Table(t) => {
                let mut f = Section::new(item_path, t);
                let name = f.req("field", errs, Section::str);
                let alias = if f.has("as") {
                    f.name("as", errs).map(Some)
                } else {
                    Some(None)
                };
                let paths = (f.at("field"), f.at("as"));
                f.finish(errs);
                (
                    name,
                    alias.unwrap_or_else(|| {
                        ok = false;
                        None
                    }),
                    paths.0,
                    paths.1,
                )
            }
            other => {
                errs.push(
                    &item_path,
                    format_args!(
                        "expected a field name or {{ field = ..., as = ... }}, found {}",
                        a_type(other)
                    ),
                );
                ok = false;
                continue;
            }
        };
        let Some(name) = name else {
            ok = false;
            continue;
        };
        let out_name = alias.unwrap_or(name);
        if out.index_of(out_name).is_some() {
            errs.push(
                &alias_path,
                format_args!("duplicate output field {out_name:?}"),
            );
            ok = false;
        }
        match resolve(schema, name, &name_path, errs) {
            Some(idx) => {
                indices.push(idx);
                let ty = schema.map_or(FieldType::I64, |sc| sc.fields[idx].ty);
                out.fields.push(Field {
                    name: out_name.to_string(),
                    ty,
                });
            }
            None => ok = false,
        }
    }
    (ok && schema.is_some()).then_some((StatelessOp::Select { indices }, out))
}

fn key_by(s: &mut Section, schema: Option<&Schema>, errs: &mut Errors) -> Option<Vec<usize>> {
    let path = s.at("key");
    let names: Vec<&str> = match s.req("key", errs, |s, k, _| s.get(k))? {
        toml::Value::String(k) => vec![k.as_str()],
        toml::Value::Array(items) if items.iter().all(toml::Value::is_str) => {
            items.iter().filter_map(toml::Value::as_str).collect()
        }
        other => {
            errs.push(
                &path,
                format_args!(
                    "expected a field name or an array of names, found {}",
                    a_type(other)
                ),
            );
            return None;
        }
    };
    if names.is_empty() {
        errs.push(&path, "must list at least one field");
        return None;
    }
    let mut key = Vec::with_capacity(names.len());
    let mut ok = true;
    for (i, name) in names.iter().enumerate() {
        if names[..i].contains(name) {
            errs.push(&path, format_args!("duplicate key field {name:?}"));
            ok = false;
        }
        match resolve(schema, name, &path, errs) {
            Some(idx) => key.push(idx),
            None => ok = false,
        }
    }
    (ok && schema.is_some()).then_some(key)
}

fn rolling(
    s: &mut Section,
    schema: Option<&Schema>,
    key: Option<&[usize]>,
    errs: &mut Errors,
) -> Option<(KeyedOp, Schema)> {
    let items = s.req("aggregates", errs, Section::array)?;
    let path = s.at("aggregates");
    if items.is_empty() {
        errs.push(&path, "must list at least one aggregate");
        return None;
    }
    // Output: key fields, then aggregates.
    let mut out = Schema::default();
    if let (Some(sc), Some(key)) = (schema, key) {
        out.fields.extend(key.iter().map(|&k| sc.fields[k].clone()));
    }
    let mut aggs = Vec::with_capacity(items.len());
    let mut ok = true;
    for (i, item) in items.iter().enumerate() {
        let item_path = index(&path, i);
        let Some(t) = item.as_table() else {
            errs.push(
                &item_path,
                format_args!(
                    "expected a table {{ fn = ..., field = ..., as = ... }}, found {}",
                    a_type(item)
                ),
            );
            ok = false;
            continue;
        };
        let mut a = Section::new(item_path, t);
        match aggregate(&mut a, schema, &out, errs) {
            Some((spec, field)) => {
                out.fields.push(field);
                aggs.push(spec);
            }
            None => ok = false,
        }
        a.finish(errs);
    }
    (ok && schema.is_some() && key.is_some()).then_some((KeyedOp::Rolling(aggs), out))
}

/// One `{ fn, field, as }` of a rolling op, and its output field.
fn aggregate(
    a: &mut Section,
    schema: Option<&Schema>,
    out: &Schema,
    errs: &mut Errors,
) -> Option<(AggSpec, Field)> {
    let func = a.req("fn", errs, |a, k, e| {
        a.choice(k, e, "aggregate function", AGG_FNS)
    });
    let field = if a.has("field") {
        a.str("field", errs).map(Some)
    } else if func.is_some_and(|f| f != AggFn::Count) {
        errs.push(&a.at("field"), "missing");
        None
    } else {
        Some(None)
    };
    let alias = if a.has("as") {
        a.name("as", errs).map(Some)
    } else {
        Some(None)
    };
    let (func, field, alias) = (func?, field?, alias?);
    let index = match field {
        Some(name) => Some(resolve(schema, name, &a.at("field"), errs)?),
        None => None,
    };
    let in_ty = match (schema, index) {
        (Some(sc), Some(i)) => Some(sc.fields[i].ty),
        (None, Some(_)) => return None,
        _ => None,
    };
    if let (Some(ty), true) = (in_ty, func != AggFn::Count) {
        if !is_numeric(ty) {
            errs.push(
                &a.at("field"),
                format_args!(
                    "{} needs a numeric field ({:?} is {})",
                    func.name(),
                    field.unwrap_or_default(),
                    type_name(ty)
                ),
            );
            return None;
        }
    }
    let out_name = match (alias, field) {
        (Some(alias), _) => alias.to_string(),
        (None, Some(f)) if func != AggFn::Count => format!("{}_{f}", func.name()),
        (None, _) => func.name().to_string(),
    };
    if out.index_of(&out_name).is_some() {
        let at = if a.has("as") {
            a.at("as")
        } else {
            a.path.clone()
        };
        errs.push(&at, format_args!("duplicate output field {out_name:?}"));
        return None;
    }
    let ty = func.output_type(in_ty);
    Some((
        AggSpec {
            func,
            index,
            out_name: out_name.clone(),
        },
        Field { name: out_name, ty },
    ))
}

fn process(
    s: &mut Section,
    schema: Option<&Schema>,
    errs: &mut Errors,
) -> Option<(KeyedOp, Schema)> {
    let functions = [("dedup", Function::Dedup), ("zscore", Function::ZScore)];
    let function = s.req("function", errs, |s, k, e| {
        s.choice(k, e, "function", &functions)
    })?;
    match function {
        Function::Dedup => {
            let ttl: Option<Option<Duration>> = if s.has("ttl") {
                s.duration("ttl", errs).map(Some)
            } else {
                Some(None)
            };
            Some((KeyedOp::Dedup { ttl: ttl? }, schema?.clone()))
        }
        Function::ZScore => zscore(s, schema, errs),
    }
}

fn zscore(
    s: &mut Section,
    schema: Option<&Schema>,
    errs: &mut Errors,
) -> Option<(KeyedOp, Schema)> {
    let field = s.req("field", errs, Section::str);
    let out_name = if s.has("as") {
        s.name("as", errs)
    } else {
        Some("score")
    };
    let threshold = match s.has("threshold") {
        true => s.number("threshold", errs).and_then(|t| {
            let ok = t.is_finite() && t >= 0.0;
            if !ok {
                errs.push(
                    &s.at("threshold"),
                    format_args!("{t} must be a number >= 0"),
                );
            }
            ok.then_some(Some(t))
        }),
        false => Some(None),
    };
    let min_count = match s.has("min_count") {
        true => s.int("min_count", errs, 2..=i64::MAX).map(|v| v as u64),
        false => Some(2),
    };
    let index = field.and_then(|f| resolve(schema, f, &s.at("field"), errs));
    let schema = schema?;
    let (index, out_name) = (index?, out_name?);
    let ty = schema.fields[index].ty;
    if !is_numeric(ty) {
        errs.push(
            &s.at("field"),
            format_args!(
                "zscore needs a numeric field ({:?} is {})",
                schema.fields[index].name,
                type_name(ty)
            ),
        );
        return None;
    }
    if schema.index_of(out_name).is_some() {
        let at = if s.has("as") {
            s.at("as")
        } else {
            s.path.clone()
        };
        errs.push(
            &at,
            format_args!("output field {out_name:?} already exists (set `as`)"),
        );
        return None;
    }
    let mut out = schema.clone();
    out.fields.push(Field {
        name: out_name.to_string(),
        ty: FieldType::F64,
    });
    let op = KeyedOp::ZScore {
        index,
        out_name: out_name.to_string(),
        threshold: threshold?,
        min_count: min_count?,
    };
    Some((op, out))
}
