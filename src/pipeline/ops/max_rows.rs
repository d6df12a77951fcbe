//! Compiling `type = "max_rows"`: per key, the rows with the largest `field` (ties all kept),
//! emitted once the watermark reaches the key's `at` timestamp − 1 ms
//! ([`crate::operator::max_rows`]).
//!
//! ```toml
//! [[ops]]
//! type = "max_rows"
//! group_by = "window_end"              # or read a key_by op
//! field = "num"
//! at = "window_end"                    # a timestamp field
//! ```

use super::aggregate::group_key;
use super::{resolve, type_name};
use crate::pipeline::spec::KeyedOp;
use crate::pipeline::walk::{Errors, Section};
use crate::record::{FieldType, Schema};

/// A compiled `max_rows` op.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MaxRowsSpec {
    /// `group_by` field indices; `None`: it reads a key_by.
    pub group_by: Option<Vec<usize>>,
    /// Index of the compared field.
    pub field: usize,
    /// Index of the timestamp field that closes a key.
    pub at: usize,
}

/// Compiles a `max_rows` op; `key` is the key of the key_by it reads, if it reads one.
pub(super) fn max_rows(
    s: &mut Section,
    schema: Option<&Schema>,
    key: Option<&[usize]>,
    errs: &mut Errors,
) -> Option<(KeyedOp, Schema)> {
    let group = group_key(s, schema, key, errs);
    let field = s
        .req("field", errs, Section::str)
        .and_then(|f| resolve(schema, f, &s.at("field"), errs));
    let at = s
        .req("at", errs, Section::str)
        .and_then(|f| resolve(schema, f, &s.at("at"), errs));
    let (group, schema, field, at) = (group?, schema?, field?, at?);
    let ty = schema.fields[at].ty;
    if ty != FieldType::Timestamp {
        errs.push(
            &s.at("at"),
            format_args!(
                "expected a timestamp field ({:?} is {})",
                schema.fields[at].name,
                type_name(ty)
            ),
        );
        return None;
    }
    let spec = MaxRowsSpec {
        group_by: group.0,
        field,
        at,
    };
    Some((KeyedOp::MaxRows(spec), schema.clone()))
}
