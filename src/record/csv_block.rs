//! The CSV decoder's block pass (issue 10, step 5): a read buffer of plain lines decoded in
//! one scan, by a plan compiled once from the schema.
//!
//! Each field is scanned and parsed in the same pass that finds its end: an integer is
//! accumulated digit by digit until the byte after it, which must be the field's delimiter
//! (`,`, or `\n` after the last field); a string runs to the first delimiter, `"`, `\r` or
//! non-ASCII byte, found eight bytes at a time ([`super::swar::csv_field_end`]). So the
//! newline, the commas and the values come out of one look at each byte, with no per-line
//! `memchr`, no comma positions, no UTF-8 pass over numbers (they are ASCII when they parse)
//! and no error strings.
//!
//! The pass accepts a line only when [`super::CsvDecoder`]'s line path would decode it to the
//! same row: no `"` and no `\r` anywhere, exactly the schema's field count, every value of its
//! type as the line path parses it (integers and timestamps of at most 18 digits as integer
//! text; longer ones, RFC 3339 timestamps, bad values go to the line path), string fields valid
//! UTF-8. Anything else ends the block there and the source reads that line line by line,
//! which gives its dead letter and reason.
//!
//! Since step 7, schemas of 1–4 string/integer fields first run a decoder specialised for
//! their shape ([`super::csv_shape`]) over the short lines it reads; this scan takes each line
//! it stops at, then hands back to it.

use super::csv_shape::Shape;
use super::{Field, FieldType, Row, Text, Value};
use crate::source::{BlockLimits, BlockRead};

/// Bytes that end a string field once a non-ASCII byte was met in it: the delimiters `,` and
/// `\n`, and the bytes the block pass leaves to the line path (`"`, `\r`).
const STOP_TEXT: [bool; 256] = {
    let mut t = [false; 256];
    t[b',' as usize] = true;
    t[b'\n' as usize] = true;
    t[b'"' as usize] = true;
    t[b'\r' as usize] = true;
    t
};

/// Integer texts of at most this many digits cannot overflow an `i64`; longer ones go to the
/// line path (which also handles `i64::MIN`).
const SAFE_DIGITS: usize = 18;

/// The schema's field types, in column order: what the block pass parses each field as.
#[derive(Clone, Debug)]
pub(crate) struct CsvPlan {
    types: Box<[FieldType]>,
    /// The shape pass for these types, when they have one ([`super::csv_shape`]).
    shape: Option<Shape>,
}

/// Lines the general scan reads alone after the shape pass read none, before the shape pass
/// is tried again (so lines it never reads cost it little).
const SHAPE_RETRY: usize = 16;

impl CsvPlan {
    /// The plan for `fields`.
    pub(crate) fn new(fields: &[Field]) -> Self {
        CsvPlan {
            types: fields.iter().map(|f| f.ty).collect(),
            shape: Shape::new(fields),
        }
    }

    /// The plan for `fields` without the shape pass: the general scan alone (the tests'
    /// reference for the shape pass).
    #[cfg(test)]
    pub(crate) fn general(fields: &[Field]) -> Self {
        CsvPlan {
            shape: None,
            ..CsvPlan::new(fields)
        }
    }

    /// Decodes the lines at the start of `block` (see [`crate::source::LineDecoder::decode_block`]).
    pub(crate) fn decode_block(
        &self,
        block: &[u8],
        limits: BlockLimits,
        out: &mut Vec<Row>,
    ) -> BlockRead {
        let mut read = BlockRead::default();
        if self.types.is_empty() {
            return read;
        }
        let mut records = 0;
        let mut general = 0; // lines left to the general scan before the shape pass
        while records < limits.max_records {
            if let (Some(shape), 0) = (&self.shape, general) {
                let room = limits.max_records - records;
                let n = shape.run(block, room, limits.max_line, &mut read, out);
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
            if block.get(start) == Some(&b'\n') {
                read.line_to(start + 1); // an empty line: skipped, as line by line
                continue;
            }
            let Some(next) = self.line(block, start, out) else {
                break;
            };
            if next - 1 - start > limits.max_line {
                out.pop(); // over-long: the line reader reports it
                break;
            }
            read.line_to(next);
            records += 1;
        }
        read
    }

    /// Decodes the line at `start` into a row appended to `out`: the index after its `\n`, or
    /// `None` (and `out` unchanged) when the line is the line path's business.
    #[inline]
    fn line(&self, b: &[u8], start: usize, out: &mut Vec<Row>) -> Option<usize> {
        let mut end = 0;
        super::csv_plain::fill(out, |row| {
            end = self.fields(b, start, row).ok_or(())?;
            Ok::<(), ()>(())
        })
        .ok()?;
        Some(end)
    }

    /// Parses the fields of the line at `i` into `row`: the index after the line's `\n`.
    #[inline]
    fn fields(&self, b: &[u8], mut i: usize, row: &mut Row) -> Option<usize> {
        let (&last, rest) = self.types.split_last()?;
        for &ty in rest {
            i = field(ty, b, i, b',', row)?;
        }
        field(last, b, i, b'\n', row)
    }
}

/// Parses the field of type `ty` at `i`, ended by `delim`, onto `row`: the index after `delim`.
#[inline(always)]
fn field(ty: FieldType, b: &[u8], i: usize, delim: u8, row: &mut Row) -> Option<usize> {
    Some(match ty {
        FieldType::String => {
            let (text, next) = string(b, i, delim)?;
            row.push(Value::Str(Text::new(text)));
            next
        }
        FieldType::I64 => {
            let (v, next) = int(b, i, delim)?;
            row.push(Value::I64(v));
            next
        }
        FieldType::Timestamp => {
            let (v, next) = int(b, i, delim)?;
            row.push(Value::Ts(v));
            next
        }
        FieldType::F64 => {
            let (v, next) = float(b, i, delim)?;
            row.push(Value::F64(v));
            next
        }
    })
}

/// The string field at `start`, ended by `delim`: its text and the index after `delim`.
#[inline(always)]
fn string(b: &[u8], start: usize, delim: u8) -> Option<(&str, usize)> {
    let i = super::swar::csv_field_end(b, start)?;
    let c = *b.get(i)?;
    if c == delim {
        let bytes = b.get(start..i)?;
        // `csv_field_end` returned the first byte at or after `start` that is a delimiter,
        // `"`, `\r` or ≥ 0x80.
        #[allow(unsafe_code)]
        // SAFETY: so every byte of `bytes` is < 0x80, as `text_known` requires.
        let text = unsafe { super::utf8::text_known(bytes, true) }.ok()?;
        return Some((text, i + 1));
    }
    if c < 0x80 {
        return None; // `"`, `\r`, or the wrong delimiter (a field count the line path reports)
    }
    string_text(b, start, i, delim)
}

/// [`string`] once a non-ASCII byte was met at `i`: the rest of the field, validated.
#[cold]
fn string_text(b: &[u8], start: usize, mut i: usize, delim: u8) -> Option<(&str, usize)> {
    while !STOP_TEXT[usize::from(*b.get(i)?)] {
        i += 1;
    }
    if *b.get(i)? != delim {
        return None;
    }
    let text = std::str::from_utf8(b.get(start..i)?).ok()?;
    Some((text, i + 1))
}

/// The integer field at `i` (optional sign, 1 to [`SAFE_DIGITS`] digits), ended by `delim`:
/// its value and the index after `delim`. Accepts only texts `str::parse::<i64>` reads, with
/// its value.
#[inline(always)]
fn int(b: &[u8], mut i: usize, delim: u8) -> Option<(i64, usize)> {
    let negative = match *b.get(i)? {
        b'-' => {
            i += 1;
            true
        }
        b'+' => {
            i += 1;
            false
        }
        _ => false,
    };
    let first = i;
    // Wrapping: the value is used only when there are at most `SAFE_DIGITS` digits.
    let mut v = 0u64;
    if let Some(eight) = b.get(i..i + 8) {
        // Up to 7 digits and the delimiter in one word; 8 digits start the value.
        let mut word = [0u8; 8];
        word.copy_from_slice(eight);
        let w = u64::from_le_bytes(word);
        let n = super::swar::leading_digits(w);
        if n == 0 {
            return None;
        }
        v = super::swar::digits_value(w, n);
        i += n;
        if n < 8 {
            if eight[n] != delim {
                return None;
            }
            let v = v as i64; // at most 7 digits
            return Some((if negative { -v } else { v }, i + 1));
        }
    }
    let mut c = *b.get(i)?;
    loop {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        v = v.wrapping_mul(10).wrapping_add(u64::from(d));
        i += 1;
        c = *b.get(i)?;
    }
    let digits = i - first;
    if digits == 0 || digits > SAFE_DIGITS || c != delim {
        return None;
    }
    // At most 18 digits: within i64.
    let v = v as i64;
    Some((if negative { -v } else { v }, i + 1))
}

/// The f64 field at `start`, ended by `delim`, parsed as the line path parses it.
#[inline]
fn float(b: &[u8], start: usize, delim: u8) -> Option<(f64, usize)> {
    let i = super::swar::csv_field_end(b, start)?;
    if b.get(i) != Some(&delim) || i == start {
        return None;
    }
    let text = std::str::from_utf8(b.get(start..i)?).ok()?;
    Some((text.parse().ok()?, i + 1))
}

#[cfg(test)]
#[path = "csv_block_tests.rs"]
mod tests;
