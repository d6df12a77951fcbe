//! The CSV decoder's fast path: a line without quotes or line breaks is split at its commas
//! with `memchr` (no `csv-core` state machine, no copy of the unquoted text), and each field is
//! parsed straight into a row appended to the batch.
//!
//! Without `"` and `\n`, RFC 4180 splitting is exactly "the text between commas", so this path
//! accepts and rejects the same lines with the same reasons as the general one
//! ([`super::CsvDecoder`]): the field count is checked before any value is parsed.

use super::format::parse_text;
use super::{Field, Row};

/// Appends a row to `out` and lets `f` fill it in place (the row is not moved afterwards); the
/// row is removed again if `f` fails.
///
/// # Errors
/// `f`'s reason.
#[inline]
pub(crate) fn fill(
    out: &mut Vec<Row>,
    f: impl FnOnce(&mut Row) -> Result<(), String>,
) -> Result<(), String> {
    out.push(Row::new());
    let Some(row) = out.last_mut() else {
        return Ok(());
    };
    let res = f(row);
    if res.is_err() {
        out.pop();
    }
    res
}

/// Decodes one unquoted line (non-empty, UTF-8, without its `\r`) of `fields` into `out`.
///
/// # Errors
/// The field count or an unparsable value, as reasons.
pub(crate) fn decode(fields: &[Field], text: &str, out: &mut Vec<Row>) -> Result<(), String> {
    let expected = fields.len();
    let n = memchr::memchr_iter(b',', text.as_bytes()).count() + 1;
    if n != expected {
        let word = if expected == 1 { "field" } else { "fields" };
        return Err(format!("expected {expected} {word}, found {n}"));
    }
    fill(out, |row| {
        let mut rest = text;
        for field in fields {
            let (value, tail) = match memchr::memchr(b',', rest.as_bytes()) {
                // `,` is ASCII: both sides are on character boundaries.
                Some(p) => (&rest[..p], &rest[p + 1..]),
                None => (rest, ""),
            };
            row.push(parse_text(field, value)?);
            rest = tail;
        }
        Ok(())
    })
}
