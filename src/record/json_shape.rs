//! The JSON-lines block pass for compact objects of a common shape (issue 10, step 7): one
//! decoder per field count and string/integer pattern, chosen once per decoder, as the CSV
//! shape pass ([`super::csv_shape`]) does.
//!
//! It reads exactly the lines [`super::json_block`]'s direct read accepts — a compact object
//! of the schema's keys in order (`{"key":"k","value":1,"ts":2}`), ASCII strings without
//! escapes, integers, then `}\n` — with the same functions, but monomorphised for the
//! schema's shape: no per-field type dispatch, every field checked before the row is written,
//! rows written straight into the batch's spare capacity with their length set once, no
//! per-line `reserve` or `pop`. Anything else ends its run, and the block pass takes that line.

use super::json_block::json_int;
use super::json_keys::FieldKeys;
use super::shape_table::{shape_table, ShapeMasks, MAX_FIELDS};
use super::swar::ascii_string_end;
use super::{Field, Row, Text};
use crate::source::BlockRead;

/// A shape's decoder.
type Run = fn(&JsonShape, &FieldKeys, &[u8], usize, usize, &mut BlockRead, &mut Vec<Row>) -> usize;

/// The decoder of one schema shape, and which of its integer fields are timestamps.
#[derive(Clone, Copy, Debug)]
pub(crate) struct JsonShape {
    run: Run,
    /// Bit `k` set: field `k` is a timestamp (else, when not a string, an `i64`).
    ts: u32,
}

impl JsonShape {
    /// The shape pass for `fields`; `None` when their count or a type has none.
    pub(crate) fn new(fields: &[Field]) -> Option<JsonShape> {
        let m = ShapeMasks::of(fields)?;
        Some(JsonShape {
            run: shape_table!(run as Run, fields.len(), m.strings)?,
            ts: m.ts,
        })
    }

    /// Decodes the lines of `block` from `read.bytes` on, at most `room` records, into rows
    /// appended to `out`, and advances `read` past them: the records appended. Stops before
    /// the first line the direct read would not take, or one longer than `max_line` bytes.
    #[inline]
    pub(crate) fn run(
        &self,
        keys: &FieldKeys,
        block: &[u8],
        room: usize,
        max_line: usize,
        read: &mut BlockRead,
        out: &mut Vec<Row>,
    ) -> usize {
        (self.run)(self, keys, block, room, max_line, read, out)
    }
}

/// The shape pass for `N` fields, field `k` a string when bit `k` of `STRINGS` is set, else
/// an integer (see [`JsonShape::run`]).
#[allow(unsafe_code)]
fn run<const N: usize, const STRINGS: u32>(
    shape: &JsonShape,
    keys: &FieldKeys,
    b: &[u8],
    room: usize,
    max_line: usize,
    read: &mut BlockRead,
    out: &mut Vec<Row>,
) -> usize {
    const { assert!(N >= 1 && N <= MAX_FIELDS) };
    if Row::new().inline_size() < N {
        return 0; // unreachable: a row keeps 8 values inline
    }
    // A line of `N` fields has more than 4 bytes per field (`{"":0}` and `,"":0`).
    out.reserve(room.min(b.len().saturating_sub(read.bytes) / (4 * N) + 1));
    let len = out.len();
    let spare = out.spare_capacity_mut();
    let room = room.min(spare.len());
    let mut pos = read.bytes;
    let mut n = 0;
    while n < room {
        let Some((next, spans, ints)) = fields::<N, STRINGS>(keys, b, pos) else {
            break;
        };
        if next - 1 - pos > max_line {
            break;
        }
        let row = spare[n].write(Row::new());
        super::row_write::write_shaped::<N, STRINGS>(row, shape.ts, &ints, |k| {
            let (start, end) = spans[k];
            Text::new(ascii(b.get(start..end).unwrap_or_default()))
        });
        n += 1;
        pos = next;
    }
    // SAFETY: the first `n` slots of `out`'s spare capacity were initialised with rows
    // (`MaybeUninit::write` above), so the first `len + n` elements are.
    unsafe { out.set_len(len + n) };
    read.bytes = pos;
    read.lines += n as u64;
    n
}

/// What [`fields`] read of a line: the index after it, string bounds, integer values.
type Parsed<const N: usize> = (usize, [(usize, usize); N], [i64; N]);

/// The line at `i` read as the direct read does: the index after its `\n`, the bounds of its
/// string fields' texts (ASCII) and the values of its integer fields; `None` when the line is
/// not of that form.
#[inline(always)]
fn fields<const N: usize, const STRINGS: u32>(
    keys: &FieldKeys,
    b: &[u8],
    mut i: usize,
) -> Option<Parsed<N>> {
    let mut spans = [(0, 0); N];
    let mut ints = [0; N];
    // Unrolled by hand (the compiler kept a loop, with the string test inside): each call's
    // `k` is a constant, so its branch on `STRINGS` is decided at compile time.
    i = field::<STRINGS>(0, keys, b, i, &mut spans, &mut ints)?;
    if N > 1 {
        i = field::<STRINGS>(1, keys, b, i, &mut spans, &mut ints)?;
    }
    if N > 2 {
        i = field::<STRINGS>(2, keys, b, i, &mut spans, &mut ints)?;
    }
    if N > 3 {
        i = field::<STRINGS>(3, keys, b, i, &mut spans, &mut ints)?;
    }
    (b.get(i..i + 2)? == b"}\n").then_some((i + 2, spans, ints))
}

/// Field `k` of [`fields`]' line at `i`: its key prefix and value, the value's bounds (a
/// string) or value (an integer) stored at `k`; the index after the value.
#[inline(always)]
fn field<const STRINGS: u32>(
    k: usize,
    keys: &FieldKeys,
    b: &[u8],
    i: usize,
    spans: &mut [(usize, usize)],
    ints: &mut [i64],
) -> Option<usize> {
    let i = keys.compact_prefix(k, b, i)?;
    if STRINGS >> k & 1 == 1 {
        if b.get(i) != Some(&b'"') {
            return None;
        }
        // The first `"`, `\`, control or non-ASCII byte: the string's end only if `"`.
        let end = ascii_string_end(b, i + 1)?;
        if b.get(end) != Some(&b'"') {
            return None;
        }
        *spans.get_mut(k)? = (i + 1, end);
        Some(end + 1)
    } else {
        let (v, next) = json_int(b, i)?;
        *ints.get_mut(k)? = v;
        Some(next)
    }
}

/// `bytes` as text; they are ASCII ([`ascii_string_end`] stops at the first byte ≥ 0x80).
#[inline(always)]
#[allow(unsafe_code)]
fn ascii(bytes: &[u8]) -> &str {
    debug_assert!(bytes.is_ascii());
    // SAFETY: the bytes are ASCII (see above), which is valid UTF-8.
    unsafe { std::str::from_utf8_unchecked(bytes) }
}
