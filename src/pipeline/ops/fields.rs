//! Compiling `filter`, `select` and `key_by`.

use super::{resolve, type_name};
use crate::pipeline::spec::{Cmp, StatelessOp};
use crate::pipeline::walk::{a_type, index, Errors, Section};
use crate::record::{Field, FieldType, Schema, Value};
use std::time::UNIX_EPOCH;

const CMPS: &[(&str, Cmp)] = &[
    ("==", Cmp::Eq),
    ("!=", Cmp::Ne),
    ("<", Cmp::Lt),
    ("<=", Cmp::Le),
    (">", Cmp::Gt),
    (">=", Cmp::Ge),
];

pub(super) fn filter(
    s: &mut Section,
    schema: Option<&Schema>,
    errs: &mut Errors,
) -> Option<(StatelessOp, Schema)> {
    if s.has("where") {
        return super::expr_ops::filter_where(s, schema, errs);
    }
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

pub(super) fn select(
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
    if super::expr_ops::has_expr(items) {
        return super::expr_ops::select(items, &path, schema, errs);
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

pub(super) fn key_by(
    s: &mut Section,
    schema: Option<&Schema>,
    errs: &mut Errors,
) -> Option<Vec<usize>> {
    field_list(s, "key", schema, errs)
}

/// A field name or a non-empty array of distinct names under `key` (required), resolved.
pub(super) fn field_list(
    s: &mut Section,
    key: &str,
    schema: Option<&Schema>,
    errs: &mut Errors,
) -> Option<Vec<usize>> {
    let path = s.at(key);
    let names: Vec<&str> = match s.req(key, errs, |s, k, _| s.get(k))? {
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
