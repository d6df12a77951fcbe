//! The CSV decoder's fast path: a line without quotes or line breaks is split at its commas
//! with `memchr` (no `csv-core` state machine, no copy of the unquoted text), and each field is
//! parsed straight into a row appended to the batch.
//!
//! Without `"` and `\n`, RFC 4180 splitting is exactly "the text between commas", so this path
//! accepts and rejects the same lines with the same reasons as the general one
//! ([`super::CsvDecoder`]): the field count is checked before any value is parsed.

use super::field_parse::push_fields;
use super::{Field, Row};

/// Appends a row to `out` and lets `f` fill it in place (the row is not moved afterwards); the
/// row is removed again if `f` fails. The row is written straight into the batch's spare
/// capacity ([`super::row_slot::push_empty`]).
///
/// # Errors
/// `f`'s error.
#[inline]
pub(crate) fn fill<E>(
    out: &mut Vec<Row>,
    f: impl FnOnce(&mut Row) -> Result<(), E>,
) -> Result<(), E> {
    let res = f(super::row_slot::push_empty(out));
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
    // `,` is ASCII: every piece is cut on character boundaries.
    fill(out, |row| push_fields(fields, row, text.split(','))).map_err(|e| e.reason(fields))
}

/// Lines up to this many bytes are split by one scalar pass ([`decode_short`]): for short
/// lines the setup of several `memchr` calls (quote check, comma count, one per field) cost
/// more than looking at each byte once.
const SHORT_LINE: usize = 96;

/// Most fields the scalar pass records comma positions for.
const SHORT_FIELDS: usize = 16;

/// Decodes a short line (without its `\r`) in one pass over its bytes: `None` when the line
/// is not short, is empty, or contains `"` or `\n` (the general path's business), else the
/// same result, with the same reasons in the same order, as the `memchr` path: invalid UTF-8
/// first, then the field count, then the values.
pub(crate) fn decode_short(
    fields: &[Field],
    body: &[u8],
    out: &mut Vec<Row>,
) -> Option<Result<(), String>> {
    if body.is_empty() || body.len() > SHORT_LINE || fields.len() > SHORT_FIELDS {
        return None;
    }
    let mut commas = [0usize; SHORT_FIELDS];
    let mut n = 0;
    let mut high = 0u8;
    for (i, &b) in body.iter().enumerate() {
        high |= b;
        match b {
            b',' => {
                if let Some(slot) = commas.get_mut(n) {
                    *slot = i;
                }
                n += 1;
            }
            b'"' | b'\n' => return None,
            _ => {}
        }
    }
    Some(fill_short(fields, body, high < 0x80, &commas, n + 1, out))
}

/// The checks and the parse of [`decode_short`], after the split: `found` fields, the first
/// ones ending at `commas`; `ascii` when no byte of `body` is ≥ 0x80.
fn fill_short(
    fields: &[Field],
    body: &[u8],
    ascii: bool,
    commas: &[usize; SHORT_FIELDS],
    found: usize,
    out: &mut Vec<Row>,
) -> Result<(), String> {
    // SAFETY: `decode_short` OR-ed every byte of `body` into the value it passes `ascii` as
    // `< 0x80`, so `ascii` holds only when no byte is ≥ 0x80.
    #[allow(unsafe_code)]
    let text = unsafe { super::utf8::text_known(body, ascii)? };
    let expected = fields.len();
    if found != expected {
        let word = if expected == 1 { "field" } else { "fields" };
        return Err(format!("expected {expected} {word}, found {found}"));
    }
    let mut start = 0;
    let texts = (0..expected).map(|i| {
        let end = if i + 1 < expected {
            commas[i]
        } else {
            text.len()
        };
        // Commas are ASCII: every cut is on a character boundary.
        let value = text.get(start..end).unwrap_or_default();
        start = end + 1;
        value
    });
    fill(out, |row| push_fields(fields, row, texts)).map_err(|e| e.reason(fields))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{FieldType, Value};
    use proptest::prelude::*;

    fn fields() -> Vec<Field> {
        [
            ("key", FieldType::String),
            ("value", FieldType::I64),
            ("ts", FieldType::Timestamp),
        ]
        .into_iter()
        .map(|(name, ty)| Field {
            name: name.into(),
            ty,
        })
        .collect()
    }

    /// The `memchr` path on the same line, as the decoder ran it before the scalar pass.
    fn general(fields: &[Field], body: &[u8]) -> Result<Vec<Row>, String> {
        let text = std::str::from_utf8(body)
            .map_err(|e| super::super::format::invalid_utf8(e.valid_up_to()))?;
        let mut out = Vec::new();
        decode(fields, text, &mut out).map(|()| out)
    }

    proptest! {
        #[test]
        fn short_lines_decode_as_the_memchr_path_does(
            bytes in proptest::collection::vec(
                prop_oneof![
                    Just(b','), Just(b'1'), Just(b'a'), Just(b'-'), Just(b' '),
                    Just(b'"'), Just(b'\n'), Just(0xC3u8), Just(0xA9u8), Just(0xFFu8)
                ],
                0..40,
            )
        ) {
            let fields = fields();
            let mut out = Vec::new();
            if let Some(res) = decode_short(&fields, &bytes, &mut out) {
                prop_assert!(!bytes.is_empty());
                prop_assert!(!bytes.contains(&b'"') && !bytes.contains(&b'\n'));
                prop_assert_eq!(res.map(|()| out), general(&fields, &bytes));
            } else {
                prop_assert!(bytes.is_empty() || bytes.contains(&b'"') || bytes.contains(&b'\n'));
            }
        }
    }

    #[test]
    fn a_plain_line_is_split_at_its_commas() {
        let mut out = Vec::new();
        let res = decode_short(&fields(), b"k1,-5,7", &mut out);
        assert_eq!(res, Some(Ok(())));
        let want: Row = [Value::Str("k1".into()), Value::I64(-5), Value::Ts(7)]
            .into_iter()
            .collect();
        assert_eq!(out, vec![want]);
    }

    #[test]
    fn many_commas_are_counted_past_the_recorded_ones() {
        let line = ",".repeat(SHORT_FIELDS + 3);
        let mut out = Vec::new();
        let res = decode_short(&fields(), line.as_bytes(), &mut out);
        assert_eq!(
            res,
            Some(Err(format!(
                "expected 3 fields, found {}",
                SHORT_FIELDS + 4
            )))
        );
        assert!(out.is_empty());
    }

    #[test]
    fn long_lines_and_quoted_lines_take_the_general_path() {
        let long = format!("{},1,2", "k".repeat(SHORT_LINE));
        assert_eq!(
            decode_short(&fields(), long.as_bytes(), &mut Vec::new()),
            None
        );
        assert_eq!(decode_short(&fields(), b"\"k\",1,2", &mut Vec::new()), None);
        assert_eq!(decode_short(&fields(), b"", &mut Vec::new()), None);
    }
}
