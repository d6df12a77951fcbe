//! Compiling the keyed ops: `rolling` and `process` (dedup, zscore; a zscore's `window` in
//! [`super::zscore_window`]).

use super::zscore_window::ZScoreWindowSpec;
use super::{is_numeric, resolve, type_name};
use crate::pipeline::spec::{AggFn, AggSpec, KeyedOp};
use crate::pipeline::walk::{a_type, index, Errors, Section};
use crate::record::{Field, FieldType, Schema};
use std::time::Duration;

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

pub(super) fn rolling(
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
    let (aggs, ok) = aggregates(items, &path, schema, &mut out, errs);
    (ok && schema.is_some() && key.is_some()).then_some((KeyedOp::Rolling(aggs), out))
}

/// The `aggregates` list at `path` (of a rolling or window op): each aggregate's spec, its
/// output field appended to `out`; false when any is invalid.
pub(super) fn aggregates(
    items: &[toml::Value],
    path: &str,
    schema: Option<&Schema>,
    out: &mut Schema,
    errs: &mut Errors,
) -> (Vec<AggSpec>, bool) {
    aggregate_items(items, path, out, errs, |a, out, errs| {
        aggregate(a, schema, out, errs)
    })
}

/// Each table of the aggregate list `items` at `path`, parsed by `one` (its spec and output
/// field, appended to `out`); false when any is invalid.
pub(super) fn aggregate_items<S>(
    items: &[toml::Value],
    path: &str,
    out: &mut Schema,
    errs: &mut Errors,
    mut one: impl FnMut(&mut Section, &Schema, &mut Errors) -> Option<(S, Field)>,
) -> (Vec<S>, bool) {
    let mut aggs = Vec::with_capacity(items.len());
    let mut ok = true;
    for (i, item) in items.iter().enumerate() {
        let item_path = index(path, i);
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
        match one(&mut a, out, errs) {
            Some((spec, field)) => {
                out.fields.push(field);
                aggs.push(spec);
            }
            None => ok = false,
        }
        a.finish(errs);
    }
    (aggs, ok)
}

/// One `{ fn, field, as }` of a rolling op, and its output field.
pub(super) fn aggregate(
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

/// Compiles a `process` op. `event_time` is the name of the event-time field its input
/// carries, if any: a `dedup` with a `ttl` then forgets keys in event time (when the field is
/// still in the input), otherwise in processing time.
pub(super) fn process(
    s: &mut Section,
    schema: Option<&Schema>,
    event_time: Option<&str>,
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
            let (ttl, schema) = (ttl?, schema?);
            let ts_index = event_time.and_then(|f| schema.index_of(f));
            let op = match (ttl, ts_index) {
                (Some(ttl), Some(ts_index)) => KeyedOp::DedupEventTime { ttl, ts_index },
                (ttl, _) => KeyedOp::Dedup { ttl },
            };
            Some((op, schema.clone()))
        }
        Function::ZScore => zscore(s, schema, event_time, errs),
    }
}

fn zscore(
    s: &mut Section,
    schema: Option<&Schema>,
    event_time: Option<&str>,
    errs: &mut Errors,
) -> Option<(KeyedOp, Schema)> {
    let field = s.req("field", errs, Section::str);
    let window = super::zscore_window::window(s, schema, event_time, errs);
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
    let (out_name, threshold, min_count) = (out_name.to_string(), threshold?, min_count?);
    let op = match window? {
        None => KeyedOp::ZScore {
            index,
            out_name,
            threshold,
            min_count,
        },
        Some((window, ts_index)) => KeyedOp::ZScoreWindow(ZScoreWindowSpec {
            index,
            ts_index,
            window,
            out_name,
            threshold,
            min_count,
        }),
    };
    Some((op, out))
}
