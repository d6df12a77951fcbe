//! The row operators of `aggregate`, `top_n` and `max_rows` from their compiled specs.

use super::build::RowOperator;
use crate::operator::aggregate::{AggDef, RowPredicate, UpdatingAggregate};
use crate::operator::max_rows::MaxRows;
use crate::operator::max_rows_window::WindowedMaxRows;
use crate::operator::top_n::TopN;
use crate::operator::Passthrough;
use crate::pipeline::spec::KeyedOp;
use crate::record::Row;
use std::sync::Arc;

/// The operator of an `aggregate` or `top_n` op (any other op: a passthrough, never reached:
/// the caller dispatches only these two here).
pub(super) fn operator(op: &KeyedOp) -> RowOperator {
    match op {
        KeyedOp::Aggregate(spec) => {
            let defs = spec
                .aggs
                .iter()
                .map(|a| AggDef {
                    func: a.func,
                    field: a.index,
                    filter: a
                        .filter
                        .clone()
                        .map(|c| -> RowPredicate { Arc::new(move |row: &Row| c.test(row)) }),
                })
                .collect();
            Box::new(UpdatingAggregate::new(defs, spec.upsert_key.clone()))
        }
        KeyedOp::TopN(spec) => Box::new(TopN::new(spec.config)),
        KeyedOp::MaxRows(spec) => match spec.window {
            None => Box::new(MaxRows::new(spec.field, spec.at)),
            Some(w) => Box::new(WindowedMaxRows::new(
                spec.field,
                spec.at,
                w.size_ms,
                w.include_end,
            )),
        },
        _ => Box::new(Passthrough),
    }
}
