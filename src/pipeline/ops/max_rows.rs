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
//!
//! With `window`, each key's rows are split into tumbling windows of event time on `at`, and
//! each window emits its own tied rows when it closes ([`crate::operator::max_rows_window`]);
//! `group_by` may then be left out (one group of all rows):
//!
//! ```toml
//! [[ops]]
//! type = "max_rows"
//! field = "price"
//! at = "dateTime"
//! window = "10s"
//! include_end = true    # rows exactly at a window's end are candidates of it too (q7)
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
    /// Index of the timestamp field that closes a key (with `window`: the rows' time).
    pub at: usize,
    /// Tumbling windows on `at`, if any.
    pub window: Option<MaxRowsWindow>,
}

/// The `window` of a `max_rows` op.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MaxRowsWindow {
    /// Window length, ms (at least 1).
    pub size_ms: i64,
    /// Rows exactly at a window's end are also candidates of that window.
    pub include_end: bool,
}

/// Compiles a `max_rows` op; `key` is the key of the key_by it reads, if it reads one.
pub(super) fn max_rows(
    s: &mut Section,
    schema: Option<&Schema>,
    key: Option<&[usize]>,
    errs: &mut Errors,
) -> Option<(KeyedOp, Schema)> {
    let window = window(s, errs);
    let group = match (&window, s.has("group_by"), key) {
        (Some(Some(_)), false, None) => Some((Some(Vec::new()), Vec::new())),
        _ => group_key(s, schema, key, errs),
    };
    let field = s
        .req("field", errs, Section::str)
        .and_then(|f| resolve(schema, f, &s.at("field"), errs));
    let at = s
        .req("at", errs, Section::str)
        .and_then(|f| resolve(schema, f, &s.at("at"), errs));
    let (group, schema, field, at, window) = (group?, schema?, field?, at?, window?);
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
        window,
    };
    Some((KeyedOp::MaxRows(spec), schema.clone()))
}

/// `window` and `include_end`: `Some(None)` without a window, `None` on an error.
fn window(s: &mut Section, errs: &mut Errors) -> Option<Option<MaxRowsWindow>> {
    let include_end = match s.has("include_end") {
        true => s.bool("include_end", errs)?,
        false => false,
    };
    if !s.has("window") {
        if include_end {
            errs.push(&s.at("include_end"), "only with a window");
            return None;
        }
        return Some(None);
    }
    let size = s.duration("window", errs)?;
    let size_ms = i64::try_from(size.as_millis()).unwrap_or(i64::MAX).max(1);
    Some(Some(MaxRowsWindow {
        size_ms,
        include_end,
    }))
}
