//! Compiling the updating keyed ops: `aggregate` (a group-by whose output row is re-emitted
//! on every change) and `top_n` (the n best rows per key, with their rank).
//!
//! ```toml
//! [[ops]]
//! type = "aggregate"
//! group_by = ["channel", "day"]        # or read a key_by op
//! upsert_key = ["auction"]             # optional: the input is an upsert stream
//! aggregates = [
//!   { fn = "count", as = "total_bids" },
//!   { fn = "count_distinct", field = "bidder", filter = "price < 10000", as = "rank1_bidders" },
//! ]
//!
//! [[ops]]
//! type = "top_n"
//! group_by = "auction"                 # or read a key_by op
//! n = 10
//! order_by = "price"
//! order = "desc"                       # desc (default) | asc
//! ties = "first"                       # first (default: the earlier row ranks first) | last
//! rank = "rank_number"                 # optional: append the rank under this name
//! ```

use super::{fields, is_numeric, resolve, type_name};
use crate::operator::aggregate_acc::UpdFn;
use crate::operator::top_n::TopNConfig;
use crate::pipeline::expr::Expr;
use crate::pipeline::spec::KeyedOp;
use crate::pipeline::walk::{index, Errors, Section};
use crate::record::{Field, FieldType, Schema};

/// One aggregate of an `aggregate` op.
#[derive(Clone, Debug, PartialEq)]
pub struct UpdAggSpec {
    /// The function.
    pub func: UpdFn,
    /// Input field index; `None` for `count` of rows.
    pub index: Option<usize>,
    /// Only rows for which it holds are folded (a boolean expression).
    pub filter: Option<Expr>,
    /// Output field name.
    pub out_name: String,
}

/// A compiled `aggregate` op.
#[derive(Clone, Debug, PartialEq)]
pub struct AggregateSpec {
    /// `group_by` field indices (the op keys its input itself); `None`: it reads a key_by.
    pub group_by: Option<Vec<usize>>,
    /// `upsert_key` field indices: each row replaces the previous row of its upsert key.
    pub upsert_key: Option<Vec<usize>>,
    /// The aggregates, in output order.
    pub aggs: Vec<UpdAggSpec>,
}

/// A compiled `top_n` op.
#[derive(Clone, Debug, PartialEq)]
pub struct TopNSpec {
    /// `group_by` field indices; `None`: it reads a key_by.
    pub group_by: Option<Vec<usize>>,
    /// Ranking settings.
    pub config: TopNConfig,
}

impl KeyedOp {
    /// The key an op sets itself (`group_by`), rather than taking its input's key_by.
    pub fn own_key(&self) -> Option<&[usize]> {
        match self {
            KeyedOp::Aggregate(a) => a.group_by.as_deref(),
            KeyedOp::TopN(t) => t.group_by.as_deref(),
            KeyedOp::MaxRows(m) => m.group_by.as_deref(),
            _ => None,
        }
    }
}

const FNS: &[(&str, UpdFn)] = &[
    ("count", UpdFn::Count),
    ("sum", UpdFn::Sum),
    ("min", UpdFn::Min),
    ("max", UpdFn::Max),
    ("avg", UpdFn::Avg),
    ("count_distinct", UpdFn::CountDistinct),
];

/// The key of an op: its `group_by`, or the key_by it reads (`key`); exactly one of them.
pub(super) fn group_key(
    s: &mut Section,
    schema: Option<&Schema>,
    key: Option<&[usize]>,
    errs: &mut Errors,
) -> Option<(Option<Vec<usize>>, Vec<usize>)> {
    match (s.has("group_by"), key) {
        (true, Some(_)) => {
            errs.push(
                &s.at("group_by"),
                "the input is already a key_by: give group_by or read a key_by, not both",
            );
            None
        }
        (true, None) => {
            let k = fields::field_list(s, "group_by", schema, errs)?;
            Some((Some(k.clone()), k))
        }
        (false, Some(k)) => Some((None, k.to_vec())),
        (false, None) => {
            errs.push(
                &s.at("group_by"),
                "missing: set group_by, or read a key_by op",
            );
            None
        }
    }
}

/// Compiles an `aggregate` op; `key` is the key of the key_by it reads, if it reads one.
pub(super) fn aggregate(
    s: &mut Section,
    schema: Option<&Schema>,
    key: Option<&[usize]>,
    errs: &mut Errors,
) -> Option<(KeyedOp, Schema)> {
    let group = group_key(s, schema, key, errs);
    let upsert_key = match s.has("upsert_key") {
        true => fields::field_list(s, "upsert_key", schema, errs).map(Some),
        false => Some(None),
    };
    let items = s.req("aggregates", errs, Section::array)?;
    let path = s.at("aggregates");
    if items.is_empty() {
        errs.push(&path, "must list at least one aggregate");
        return None;
    }
    let schema = schema?;
    // The aggregates are checked even when the key is wrong (the key fields come first).
    let mut out = Schema {
        fields: group
            .iter()
            .flat_map(|g| g.1.iter().map(|&k| schema.fields[k].clone()))
            .collect(),
    };
    let (aggs, mut ok) =
        super::keyed::aggregate_items(items, &path, &mut out, errs, |a, out, errs| {
            one(a, schema, out, errs)
        });
    let (group, upsert_key) = (group?, upsert_key?);
    if let (Some(_), true) = (&upsert_key, ok) {
        for (i, a) in aggs.iter().enumerate() {
            if !a.func.retractable() {
                errs.push(
                    &index(&path, i),
                    "min and max cannot take back a replaced row: not allowed with upsert_key",
                );
                ok = false;
            }
        }
    }
    let spec = AggregateSpec {
        group_by: group.0,
        upsert_key,
        aggs,
    };
    ok.then_some((KeyedOp::Aggregate(spec), out))
}

/// One `{ fn, field, filter, as }` and its output field.
fn one(
    a: &mut Section,
    schema: &Schema,
    out: &Schema,
    errs: &mut Errors,
) -> Option<(UpdAggSpec, Field)> {
    let func = a.req("fn", errs, |a, k, e| {
        a.choice(k, e, "aggregate function", FNS)
    });
    let field = match a.has("field") {
        true => a.str("field", errs).map(Some),
        false if func.is_some_and(|f| f != UpdFn::Count) => {
            errs.push(&a.at("field"), "missing");
            None
        }
        false => Some(None),
    };
    let filter = match a.has("filter") {
        true => a
            .str("filter", errs)
            .and_then(|t| condition(t, &a.at("filter"), schema, errs))
            .map(Some),
        false => Some(None),
    };
    let alias = match a.has("as") {
        true => a.name("as", errs).map(Some),
        false => Some(None),
    };
    let (func, field, filter, alias) = (func?, field?, filter?, alias?);
    let index = match field {
        Some(name) => Some(resolve(Some(schema), name, &a.at("field"), errs)?),
        None => None,
    };
    let in_ty = index.map(|i| schema.fields[i].ty);
    let ty = match (func, in_ty) {
        (UpdFn::Count | UpdFn::CountDistinct, _) => FieldType::I64,
        (UpdFn::Min | UpdFn::Max, Some(ty)) => ty,
        (UpdFn::Sum | UpdFn::Avg, Some(ty)) if is_numeric(ty) => ty,
        (_, ty) => {
            let ty = ty.map_or("none", type_name);
            errs.push(
                &a.at("field"),
                format_args!(
                    "{} needs a numeric field ({:?} is {ty})",
                    fn_name(func),
                    field.unwrap_or_default()
                ),
            );
            return None;
        }
    };
    let out_name = match (alias, field) {
        (Some(alias), _) => alias.to_string(),
        (None, Some(f)) => format!("{}_{f}", fn_name(func)),
        (None, None) => fn_name(func).to_string(),
    };
    if out.index_of(&out_name).is_some() {
        errs.push(&a.path, format_args!("duplicate output field {out_name:?}"));
        return None;
    }
    let spec = UpdAggSpec {
        func,
        index,
        filter,
        out_name: out_name.clone(),
    };
    Some((spec, Field { name: out_name, ty }))
}

/// A boolean expression (`filter`) compiled against `schema`.
fn condition(text: &str, path: &str, schema: &Schema, errs: &mut Errors) -> Option<Expr> {
    let expr = Expr::compile(text, schema)
        .map_err(|e| errs.push(path, e))
        .ok()?;
    if expr.field_type().is_some() {
        errs.push(
            path,
            format_args!(
                "expected a condition, found a {} expression",
                expr.ty.name()
            ),
        );
        return None;
    }
    Some(expr)
}

fn fn_name(func: UpdFn) -> &'static str {
    FNS.iter().find(|(_, f)| *f == func).map_or("", |(n, _)| n)
}

/// Compiles a `top_n` op; `key` is the key of the key_by it reads, if it reads one.
pub(super) fn top_n(
    s: &mut Section,
    schema: Option<&Schema>,
    key: Option<&[usize]>,
    errs: &mut Errors,
) -> Option<(KeyedOp, Schema)> {
    let group = group_key(s, schema, key, errs);
    let n = s.req("n", errs, |s, k, e| s.int(k, e, 1..=100_000));
    let order_by = s
        .req("order_by", errs, Section::str)
        .and_then(|f| resolve(schema, f, &s.at("order_by"), errs));
    let descending = match s.has("order") {
        true => s.choice("order", errs, "order", &[("desc", true), ("asc", false)]),
        false => Some(true),
    };
    let later = match s.has("ties") {
        true => s.choice(
            "ties",
            errs,
            "tie rule",
            &[("first", false), ("last", true)],
        ),
        false => Some(false),
    };
    let rank = match s.has("rank") {
        true => s.name("rank", errs).map(Some),
        false => Some(None),
    };
    let (group, schema) = (group?, schema?);
    let (n, order_by, descending, later, rank) = (n?, order_by?, descending?, later?, rank?);
    let mut out = schema.clone();
    if let Some(rank) = rank {
        if out.index_of(rank).is_some() {
            errs.push(&s.at("rank"), format_args!("field {rank:?} already exists"));
            return None;
        }
        out.fields.push(Field {
            name: rank.to_string(),
            ty: FieldType::I64,
        });
    }
    let config = TopNConfig {
        n: n as usize,
        order_by,
        descending,
        later_wins_ties: later,
        rank_column: rank.is_some(),
    };
    Some((
        KeyedOp::TopN(TopNSpec {
            group_by: group.0,
            config,
        }),
        out,
    ))
}

#[cfg(test)]
#[path = "aggregate_tests.rs"]
mod tests;
