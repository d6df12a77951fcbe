//! Compiling the two-input ops of the graph form: `join` and `interval_join`.
//!
//! ```toml
//! [[ops]]
//! name = "j"
//! type = "join"                 # or "interval_join", with lower = "-1s" and upper = "2s"
//! inputs = ["left", "right"]
//! left_key = ["key"]            # a name or a list; as many fields as right_key,
//! right_key = ["key"]           # of the same types
//! ttl = "1h"                    # join only, optional
//! ```
//!
//! Output schema: the left fields, then the right fields; a right field whose name is taken
//! gets the right input's name as a prefix (`right_value`). The graph walk resolves `inputs`
//! ([`inputs`]) to schemas and event-time fields and passes them as [`JoinInput`]s.

use super::event_time::{millis, signed_millis};
use super::type_name;
use crate::operator::interval_join::IntervalJoinConfig;
use crate::operator::join::JoinTtl;
use crate::pipeline::walk::{a_type, Errors, Section};
use crate::record::{Field, Schema};

/// One resolved input of a two-input op.
#[derive(Clone, Copy, Debug)]
pub(crate) struct JoinInput<'a> {
    /// The input's name as written in `inputs` (a source, an op, `NAME.OUTPUT`).
    pub(crate) name: &'a str,
    /// Its schema.
    pub(crate) schema: &'a Schema,
    /// Its event-time field, if its source declares one and the field reaches the op.
    pub(crate) event_time: Option<&'a str>,
}

/// A validated `join`.
#[derive(Clone, Debug, PartialEq)]
pub struct JoinSpec {
    /// Key field indices into the left input.
    pub left_key: Vec<usize>,
    /// Key field indices into the right input.
    pub right_key: Vec<usize>,
    /// Row lifetime: in event time when both inputs have an event-time field.
    pub ttl: Option<JoinTtl>,
}

/// A validated `interval_join`.
#[derive(Clone, Debug, PartialEq)]
pub struct IntervalJoinSpec {
    /// Key field indices into the left input.
    pub left_key: Vec<usize>,
    /// Key field indices into the right input.
    pub right_key: Vec<usize>,
    /// Bounds and timestamp fields.
    pub config: IntervalJoinConfig,
}

/// The two names of `inputs`.
pub(crate) fn inputs<'a>(s: &mut Section<'a>, errs: &mut Errors) -> Option<[&'a str; 2]> {
    let items = s.req("inputs", errs, Section::array)?;
    let names: Vec<&str> = items.iter().filter_map(toml::Value::as_str).collect();
    match <[&str; 2]>::try_from(names.as_slice()) {
        Ok(pair) if names.len() == items.len() && !pair[0].is_empty() && !pair[1].is_empty() => {
            Some(pair)
        }
        _ => {
            errs.push(
                &s.at("inputs"),
                "expected two input names [left, right] (a source, an op or NAME.OUTPUT)",
            );
            None
        }
    }
}

/// Compiles a `join` against its resolved inputs (`None` when unknown: only the structure
/// is checked).
pub(crate) fn join(
    s: &mut Section,
    io: Option<[JoinInput; 2]>,
    errs: &mut Errors,
) -> Option<(JoinSpec, Schema)> {
    let keys = keys(s, io, errs);
    let ttl = match s.has("ttl") {
        true => s.duration("ttl", errs).map(|d| Some(millis(d))),
        false => Some(None),
    };
    let [l, r] = io?;
    let out = joined_schema(s, l, r, errs);
    let ttl = ttl?.map(|millis| match event_times(l, r) {
        Some((left_ts, right_ts)) => JoinTtl::EventTime {
            millis,
            left_ts,
            right_ts,
        },
        None => JoinTtl::Processing { millis },
    });
    let (left_key, right_key) = keys?;
    Some((
        JoinSpec {
            left_key,
            right_key,
            ttl,
        },
        out?,
    ))
}

/// Compiles an `interval_join`; both inputs need an event-time field.
pub(crate) fn interval_join(
    s: &mut Section,
    io: Option<[JoinInput; 2]>,
    errs: &mut Errors,
) -> Option<(IntervalJoinSpec, Schema)> {
    let keys = keys(s, io, errs);
    let lower = s.req("lower", errs, signed_millis);
    let upper = s.req("upper", errs, signed_millis);
    if let (Some(lo), Some(up)) = (lower, upper) {
        if lo > up {
            errs.push(
                &s.at("lower"),
                format_args!("{lo}ms must not be greater than upper ({up}ms)"),
            );
            return None;
        }
    }
    let [l, r] = io?;
    let out = joined_schema(s, l, r, errs);
    let Some((left_ts, right_ts)) = event_times(l, r) else {
        errs.push(
            &s.at("inputs"),
            "an interval join needs event time on both inputs ([source.event_time] or \
             [sources.NAME.event_time], the field kept up to the join)",
        );
        return None;
    };
    let (left_key, right_key) = keys?;
    let config = IntervalJoinConfig {
        left_ts,
        right_ts,
        lower: lower?,
        upper: upper?,
    };
    Some((
        IntervalJoinSpec {
            left_key,
            right_key,
            config,
        },
        out?,
    ))
}

/// The event-time field indices of both inputs, when both have one.
fn event_times(l: JoinInput, r: JoinInput) -> Option<(usize, usize)> {
    let find = |i: JoinInput| i.event_time.and_then(|f| i.schema.index_of(f));
    Some((find(l)?, find(r)?))
}

/// `left_key` and `right_key`: the same number of fields, of the same types.
fn keys(
    s: &mut Section,
    io: Option<[JoinInput; 2]>,
    errs: &mut Errors,
) -> Option<(Vec<usize>, Vec<usize>)> {
    let left = field_list(s, "left_key", io.map(|[l, _]| l.schema), errs);
    let right = field_list(s, "right_key", io.map(|[_, r]| r.schema), errs);
    let (left, right, [l, r]) = (left?, right?, io?);
    if left.len() != right.len() {
        errs.push(
            &s.at("right_key"),
            format_args!("has {} fields, left_key has {}", right.len(), left.len()),
        );
        return None;
    }
    for (i, (&a, &b)) in left.iter().zip(&right).enumerate() {
        let (fa, fb) = (&l.schema.fields[a], &r.schema.fields[b]);
        if fa.ty != fb.ty {
            errs.push(
                &s.at("right_key"),
                format_args!(
                    "field {i} ({:?}, {}) has another type than left_key's ({:?}, {})",
                    fb.name,
                    type_name(fb.ty),
                    fa.name,
                    type_name(fa.ty)
                ),
            );
            return None;
        }
    }
    Some((left, right))
}

/// A field name or a non-empty list of distinct names, resolved in `schema` when known.
fn field_list(
    s: &mut Section,
    key: &str,
    schema: Option<&Schema>,
    errs: &mut Errors,
) -> Option<Vec<usize>> {
    let path = s.at(key);
    let names: Vec<&str> = match s.req(key, errs, |s, k, _| s.get(k))? {
        toml::Value::String(k) => vec![k.as_str()],
        toml::Value::Array(items) if !items.is_empty() && items.iter().all(toml::Value::is_str) => {
            items.iter().filter_map(toml::Value::as_str).collect()
        }
        other => {
            errs.push(
                &path,
                format_args!(
                    "expected a field name or a non-empty array of names, found {}",
                    a_type(other)
                ),
            );
            return None;
        }
    };
    let mut out = Vec::with_capacity(names.len());
    for (i, name) in names.iter().enumerate() {
        if names[..i].contains(name) {
            errs.push(&path, format_args!("duplicate key field {name:?}"));
            return None;
        }
        let schema = schema?;
        match schema.index_of(name) {
            Some(idx) => out.push(idx),
            None => {
                errs.push(
                    &path,
                    format_args!(
                        "unknown field {name:?} (fields: {})",
                        schema.names().join(", ")
                    ),
                );
                return None;
            }
        }
    }
    Some(out)
}

/// Left fields, then right fields; a taken right name gets the prefix `RIGHTNAME_`.
fn joined_schema(s: &Section, l: JoinInput, r: JoinInput, errs: &mut Errors) -> Option<Schema> {
    let mut out = l.schema.clone();
    let prefix: String = r
        .name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    for f in &r.schema.fields {
        let name = if out.index_of(&f.name).is_some() {
            format!("{prefix}_{}", f.name)
        } else {
            f.name.clone()
        };
        if out.index_of(&name).is_some() {
            errs.push(
                &s.at("inputs"),
                format_args!(
                    "right field {:?} would be named {name:?}, which is taken",
                    f.name
                ),
            );
            return None;
        }
        out.fields.push(Field { name, ty: f.ty });
    }
    Some(out)
}

#[cfg(test)]
#[path = "join_tests.rs"]
mod tests;
