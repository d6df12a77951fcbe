//! The JSON-lines decoder's block pass (issue 10, step 5): a read buffer of lines whose
//! objects carry exactly the schema's keys, in schema order, decoded straight into rows.
//!
//! The line path ([`super::JsonLinesDecoder`]'s `decode`) scans a flat object into per-field
//! slots (`Option<Scalar>`, any key order, extra keys skipped) and then converts each slot into
//! the row: a reset, a move in and a move out of every value per line. Lines written by a
//! program (this crate's encoder, `weir gen`, most producers) repeat one key order, so here
//! each key is compared with the schema field expected next and its value converted and pushed
//! at once. A line that does not fit — another key order, an extra or missing key, an escape,
//! nesting, a value the conversion rejects, invalid UTF-8, an over-long line — ends the block
//! there and is read by the line path, which gives the same row or the dead letter.
//!
//! Values are read with the flat scan's own functions and converted with the decoder's own
//! conversion, so an accepted line gives exactly the row of the line path.
//!
//! Since step 7, schemas of 1–4 string/integer fields first run the direct read specialised
//! for their shape ([`super::json_shape`]); the loop here takes each line it stops at.

use super::json::convert;
use super::json_flat::{scalar, skip_ws, string};
use super::json_keys::FieldKeys;
use super::json_shape::JsonShape;
use super::row_write::RowWriter;
use super::{Field, FieldType, Row, Text, Value};
use crate::source::{BlockLimits, BlockRead};

/// Lines the per-line pass reads alone after the shape pass read none, before the shape pass
/// is tried again.
const SHAPE_RETRY: usize = 16;

/// Decodes the lines at the start of `block` (see
/// [`crate::source::LineDecoder::decode_block`]) for `fields`, named by `keys`, by `shape`'s
/// pass ([`super::json_shape`]) where it reads the lines and line by line where not.
pub(super) fn decode_block(
    fields: &[Field],
    keys: &FieldKeys,
    shape: Option<&JsonShape>,
    block: &[u8],
    limits: BlockLimits,
    out: &mut Vec<Row>,
) -> BlockRead {
    let mut read = BlockRead::default();
    if fields.is_empty() {
        return read;
    }
    let mut records = 0;
    let mut general = 0; // lines left to the pass below before the shape pass
    while records < limits.max_records {
        if let (Some(shape), 0) = (shape, general) {
            let room = limits.max_records - records;
            let n = shape.run(keys, block, room, limits.max_line, &mut read, out);
            records += n;
            if n == room {
                break;
            }
            if n == 0 {
                general = SHAPE_RETRY;
            }
        }
        general = general.saturating_sub(1);
        let start = read.bytes;
        if let Some(next) = direct(fields, keys, block, start, out) {
            if next - 1 - start > limits.max_line {
                out.pop(); // over-long: the line reader reports it
                break;
            }
            read.line_to(next);
            records += 1;
            continue;
        }
        let Some(rest) = block.get(start..) else {
            break;
        };
        let Some(len) = memchr::memchr(b'\n', rest) else {
            break;
        };
        let next = start + len + 1;
        let line = &rest[..len];
        // The line reader drops one `\r` before the `\n` (and measures the line without it).
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.len() > limits.max_line {
            break;
        }
        if !line.is_empty() {
            let Ok(text) = super::utf8::text(line) else {
                break;
            };
            let row = |row: &mut Row| {
                if compact(text, fields, keys, row).is_some() {
                    return Ok(());
                }
                row.clear();
                ordered(text, fields, keys, row).ok_or(())
            };
            if super::csv_plain::fill(out, row).is_err() {
                break;
            }
            records += 1;
        }
        read.line_to(next);
    }
    read
}

/// Reads the line at `start` of `block` as [`compact`] would, straight from the block (no
/// `memchr` for its end, no UTF-8 pass): a compact object of ASCII strings and integers,
/// followed by `\n`, appended to `out` as a row; the index after the `\n`, or `None` (and
/// `out` unchanged) when the line is the per-line pass's business.
///
/// The line is ASCII (so valid UTF-8): its key prefixes are the schema's names, its strings
/// are checked, its integers are digits; and it is what the line reader hands out, as it has
/// no `\r` before its `\n` (the line's last byte is `}`).
#[inline]
fn direct(
    fields: &[Field],
    keys: &FieldKeys,
    block: &[u8],
    start: usize,
    out: &mut Vec<Row>,
) -> Option<usize> {
    let mut next = None;
    let _ = super::csv_plain::fill(out, |row| {
        next = direct_fields(fields, keys, block, start, row);
        next.map(|_| ()).ok_or(())
    });
    next
}

/// The fields of [`direct`]'s line, written into the empty `row`.
#[inline(always)]
fn direct_fields(
    fields: &[Field],
    keys: &FieldKeys,
    b: &[u8],
    mut i: usize,
    row: &mut Row,
) -> Option<usize> {
    let mut w = RowWriter::new(row)?;
    for (f, field) in fields.iter().enumerate() {
        i = keys.compact_prefix(f, b, i)?;
        i = match field.ty {
            FieldType::String => {
                if b.get(i) != Some(&b'"') {
                    return None;
                }
                // The first `"`, `\`, control or non-ASCII byte: the string's end only if `"`.
                let end = super::swar::ascii_string_end(b, i + 1)?;
                if b.get(end) != Some(&b'"') {
                    return None;
                }
                let bytes = b.get(i + 1..end)?;
                // SAFETY: `ascii_string_end` stopped at the first byte ≥ 0x80 or before it.
                #[allow(unsafe_code)]
                let text = unsafe { super::utf8::text_known(bytes, true) }.ok()?;
                w.put(Value::Str(Text::new(text)));
                end + 1
            }
            FieldType::I64 => {
                let (v, next) = json_int(b, i)?;
                w.put(Value::I64(v));
                next
            }
            FieldType::Timestamp => {
                let (v, next) = json_int(b, i)?;
                w.put(Value::Ts(v));
                next
            }
            FieldType::F64 => return None,
        };
    }
    (b.get(i..i + 2)? == b"}\n").then_some(i + 2)
}

/// Reads `text` as a compact object (no whitespace) of exactly `fields`' keys in order, with
/// strings without escapes and integers for i64 and timestamp fields, pushing each value onto
/// `row`; `None` (the row possibly part-filled) for anything else, which [`ordered`] reads.
/// Values are those of the line path: a string is its text; an integer of at most 18 digits
/// without a leading zero (serde_json's `u64`, or `i64` when negative, converted) is itself.
#[inline]
fn compact(text: &str, fields: &[Field], keys: &FieldKeys, row: &mut Row) -> Option<()> {
    let b = text.as_bytes();
    let mut i = 0;
    for (f, field) in fields.iter().enumerate() {
        i = keys.compact_prefix(f, b, i)?;
        i = match field.ty {
            FieldType::String => {
                if b.get(i) != Some(&b'"') {
                    return None;
                }
                let end = super::swar::string_end(b, i + 1)?;
                if b.get(end) != Some(&b'"') {
                    return None;
                }
                // Both ends are ASCII quotes: character boundaries of the (valid) text.
                row.push(Value::Str(Text::new(text.get(i + 1..end)?)));
                end + 1
            }
            FieldType::I64 => {
                let (v, next) = json_int(b, i)?;
                row.push(Value::I64(v));
                next
            }
            FieldType::Timestamp => {
                let (v, next) = json_int(b, i)?;
                row.push(Value::Ts(v));
                next
            }
            FieldType::F64 => return None,
        };
    }
    (b.get(i) == Some(&b'}') && i + 1 == b.len()).then_some(())
}

/// A JSON integer at `i` that the line path reads as the same `i64`: an optional `-`, then 1 to
/// 18 digits without a leading zero (and not `-0`, a float to serde_json), not followed by a
/// fraction or exponent (the next byte is checked by the caller's next expectation: `,` or
/// `}`).
#[inline(always)]
pub(super) fn json_int(b: &[u8], mut i: usize) -> Option<(i64, usize)> {
    let negative = b.get(i) == Some(&b'-');
    i += usize::from(negative);
    let first = i;
    if let Some(eight) = b.get(i..i + 8) {
        // Up to 7 digits and the byte after them in one word.
        let mut word = [0u8; 8];
        word.copy_from_slice(eight);
        let w = u64::from_le_bytes(word);
        let n = super::swar::leading_digits(w);
        if n < 8 {
            let v = super::swar::digits_value(w, n.max(1));
            if n == 0 || (n > 1 && eight[0] == b'0') || (negative && v == 0) {
                return None;
            }
            let v = v as i64; // at most 7 digits
            return Some((if negative { -v } else { v }, i + n));
        }
    }
    let mut v = 0u64;
    while let Some(&c) = b.get(i) {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        v = v.wrapping_mul(10).wrapping_add(u64::from(d));
        i += 1;
    }
    let digits = i - first;
    if digits == 0 || digits > 18 || (digits > 1 && b[first] == b'0') || (negative && v == 0) {
        return None;
    }
    let v = v as i64; // at most 18 digits
    Some((if negative { -v } else { v }, i))
}

/// Scans `text` as an object of exactly `fields`' keys in order, pushing each converted value
/// onto `row`; `None` when the line is the line path's business.
#[inline]
fn ordered(text: &str, fields: &[Field], keys: &FieldKeys, row: &mut Row) -> Option<()> {
    let b = text.as_bytes();
    let mut i = skip_ws(b, 0);
    if b.get(i) != Some(&b'{') {
        return None;
    }
    let last = fields.len() - 1;
    for (f, field) in fields.iter().enumerate() {
        i = skip_ws(b, i + 1);
        let (key, after) = string(text, i)?;
        // The key's bytes end one before `after` (its closing quote).
        if !keys.is(f, b, after - 1 - key.len(), key.len()) {
            return None;
        }
        i = skip_ws(b, after);
        if b.get(i) != Some(&b':') {
            return None;
        }
        let (value, after) = scalar(text, skip_ws(b, i + 1))?;
        row.push(convert(field, value).ok()?);
        i = skip_ws(b, after);
        let end = if f == last { b'}' } else { b',' };
        if b.get(i) != Some(&end) {
            return None;
        }
    }
    (skip_ws(b, i + 1) == b.len()).then_some(())
}

#[cfg(test)]
#[path = "json_block_tests.rs"]
mod tests;
