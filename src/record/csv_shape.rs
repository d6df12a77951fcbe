//! The CSV block pass for short lines of a common shape (issue 10, step 7): one decoder per
//! field count and string/integer pattern, chosen once per plan, that reads a line from its
//! byte classes instead of byte by byte.
//!
//! For a schema of 1 to [`MAX_FIELDS`] fields, each a string, an `i64` or a timestamp, a
//! monomorphised loop ([`run`]) takes each line as a whole: one to four 16-byte windows give
//! the newline, the commas and any byte it leaves alone ([`super::csv_window`]), so the line's
//! field bounds are known before any field is read; an integer of up to 16 digits is one or
//! two 8-byte words ([`super::swar`]); a string is ASCII by then. All fields are checked
//! before the row is written, straight into the batch's spare capacity with its length set
//! once — no per-field type dispatch, no `SmallVec::push`, no per-line `reserve`.
//!
//! A string field may be longer than [`Text::INLINE`] (a UUID key, say): it is made in a heap
//! buffer from the thread's free list, as the general scan makes it (session 10).
//!
//! It stops before the first line that is not of that form (longer than 63 bytes, a quote, a
//! `\r`, a non-ASCII byte, another field count, an integer it does not read, fewer than
//! [`REACH`] bytes left in the block...), and [`super::csv_block`]'s general scan takes that
//! line. Every line it accepts, the general scan (and so the line path) decodes to the same
//! row: the tests compare them on random blocks.

use super::csv_window::{classes, Classes, WINDOW};
use super::shape_table::{shape_table, ShapeMasks, MAX_FIELDS};
use super::swar::{digits_value, leading_digits};
use super::{Field, Row, Text};
use crate::source::BlockRead;

/// Windows a line may span in the wide pass.
const WINDOWS: usize = 4;

/// Longest line (without its `\n`) the shape pass reads: [`WINDOWS`] windows and the newline.
const MAX_LINE: usize = WINDOWS * WINDOW - 1;

/// Bytes a line's decode reads from its start in the narrow pass: two windows, and the 8-byte
/// word of an integer whose digits start at the line's last byte. A line with fewer left in
/// the block is left to the general scan.
const REACH: usize = 2 * WINDOW + 8;

/// [`REACH`] in the wide pass: [`WINDOWS`] windows and a word.
const WIDE_REACH: usize = WINDOWS * WINDOW + 8;

/// Most digits an integer may have here (two words; longer ones go to the general scan).
const MAX_DIGITS: usize = 16;

/// Powers of ten up to 10⁸: the weight of an integer's first word.
const POW10: [u64; 9] = [
    1,
    10,
    100,
    1_000,
    10_000,
    100_000,
    1_000_000,
    10_000_000,
    100_000_000,
];

/// A shape's decoder.
type Run = fn(&Shape, &[u8], usize, usize, &mut BlockRead, &mut Vec<Row>) -> usize;

/// The decoders of one schema shape, and which of its integer fields are timestamps.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Shape {
    /// Lines of up to two windows (31 bytes).
    narrow: Run,
    /// Lines of up to [`WINDOWS`] windows ([`MAX_LINE`] bytes).
    wide: Run,
    /// Bit `k` set: field `k` is a timestamp (else, when not a string, an `i64`).
    ts: u32,
}

impl Shape {
    /// The shape pass for `fields`; `None` when their count or a type has none (floats go to
    /// the general scan).
    pub(crate) fn new(fields: &[Field]) -> Option<Shape> {
        let m = ShapeMasks::of(fields)?;
        Some(Shape {
            narrow: shape_table!(narrow as Run, fields.len(), m.strings)?,
            wide: shape_table!(wide as Run, fields.len(), m.strings)?,
            ts: m.ts,
        })
    }

    /// Decodes the lines of `block` from `read.bytes` on, at most `room` records, into rows
    /// appended to `out`, and advances `read` past them (empty lines included): the records
    /// appended. Stops before the first line the shape pass does not read, or one longer
    /// than `max_line` bytes. Short lines are read in narrower masks, and from the first line
    /// that stops that (a long one, say) the wide decoder takes over.
    #[inline]
    pub(crate) fn run(
        &self,
        block: &[u8],
        room: usize,
        max_line: usize,
        read: &mut BlockRead,
        out: &mut Vec<Row>,
    ) -> usize {
        let n = (self.narrow)(self, block, room, max_line, read, out);
        if n == room {
            return n;
        }
        n + (self.wide)(self, block, room - n, max_line, read, out)
    }
}

/// [`run`] for lines of up to two windows (31 bytes), in 32-bit masks.
fn narrow<const N: usize, const STRINGS: u32>(
    shape: &Shape,
    b: &[u8],
    room: usize,
    max_line: usize,
    read: &mut BlockRead,
    out: &mut Vec<Row>,
) -> usize {
    run::<N, STRINGS, REACH, Narrow>(shape, b, room, max_line, read, out, &mut Text::new)
}

/// [`run`] for lines of up to [`WINDOWS`] windows ([`MAX_LINE`] bytes), in 64-bit masks.
fn wide<const N: usize, const STRINGS: u32>(
    shape: &Shape,
    b: &[u8],
    room: usize,
    max_line: usize,
    read: &mut BlockRead,
    out: &mut Vec<Row>,
) -> usize {
    // Long strings are common here: their buffers come from the free list borrowed once.
    let mut n = 0;
    Text::with_pool(|pool| {
        n = run::<N, STRINGS, WIDE_REACH, Wide>(shape, b, room, max_line, read, out, &mut |s| {
            pool.text(s)
        });
    });
    n
}

/// The comma bits of a line (bit `k`: byte `k`), as wide as the lines of a pass.
trait Commas: Copy {
    /// The index of the lowest bit set (the bit count when none is), which is then cleared.
    fn take_lowest(&mut self) -> usize;
    /// Whether no bit is set.
    fn is_empty(self) -> bool;
}

/// [`Commas`] for the mask types of the passes (the same code for each width).
macro_rules! impl_commas {
    ($($t:ty),*) => {$(
        impl Commas for $t {
            #[inline(always)]
            fn take_lowest(&mut self) -> usize {
                let k = self.trailing_zeros() as usize;
                *self &= self.wrapping_sub(1);
                k
            }
            #[inline(always)]
            fn is_empty(self) -> bool {
                self == 0
            }
        }
    )*};
}

impl_commas!(u32, u64);

/// How a pass finds a line's bounds: [`Narrow`] or [`Wide`].
trait Width {
    /// The comma bits of its lines.
    type Commas: Commas;
    /// The line at the start of `line`: its length (the index of its `\n`) and its commas;
    /// `None` when it is longer than the pass reads or has a `"`, `\r` or non-ASCII byte.
    fn bounds<const R: usize>(line: &[u8; R]) -> Option<(usize, Self::Commas)>;
}

/// Lines of up to two windows.
struct Narrow;

/// Lines of up to [`WINDOWS`] windows.
struct Wide;

impl Width for Narrow {
    type Commas = u32;

    #[inline(always)]
    fn bounds<const R: usize>(line: &[u8; R]) -> Option<(usize, u32)> {
        let (lo, hi) = line.split_first_chunk::<WINDOW>()?;
        let mut c = classes(lo);
        if c.newline == 0 {
            let high: Classes = classes(hi.first_chunk::<WINDOW>()?);
            c = Classes {
                comma: c.comma | high.comma << WINDOW,
                newline: high.newline << WINDOW,
                other: c.other | high.other << WINDOW,
            };
        }
        if c.newline == 0 {
            return None;
        }
        let end = c.newline.trailing_zeros();
        let before = (1u32 << end) - 1;
        if c.other & before != 0 {
            return None;
        }
        Some((end as usize, c.comma & before))
    }
}

impl Width for Wide {
    type Commas = u64;

    #[inline(always)]
    fn bounds<const R: usize>(line: &[u8; R]) -> Option<(usize, u64)> {
        let mut comma = 0u64;
        let mut other = 0u64;
        for k in 0..WINDOWS {
            let at = k * WINDOW;
            let c: Classes = classes(line.get(at..)?.first_chunk::<WINDOW>()?);
            comma |= u64::from(c.comma) << at;
            other |= u64::from(c.other) << at;
            if c.newline != 0 {
                let end = at + c.newline.trailing_zeros() as usize;
                let before = (1u64 << end) - 1;
                if other & before != 0 {
                    return None;
                }
                return Some((end, comma & before));
            }
        }
        None
    }
}

/// The shape pass for `N` fields, field `k` a string when bit `k` of `STRINGS` is set, else
/// an integer (see [`Shape::run`]); `R` bytes read from a line's start, its bounds found by
/// `W`, its strings made by `text`.
#[allow(unsafe_code)]
#[inline(always)]
fn run<const N: usize, const STRINGS: u32, const R: usize, W: Width>(
    shape: &Shape,
    b: &[u8],
    room: usize,
    max_line: usize,
    read: &mut BlockRead,
    out: &mut Vec<Row>,
    text: &mut impl FnMut(&str) -> Text,
) -> usize {
    const { assert!(N >= 1 && N <= MAX_FIELDS) };
    if Row::new().inline_size() < N {
        return 0; // unreachable: a row keeps 8 values inline
    }
    let max_line = max_line.min(MAX_LINE);
    // Every line of `N` fields has at least `N` bytes with its `\n`.
    out.reserve(room.min(b.len().saturating_sub(read.bytes) / N + 1));
    let len = out.len();
    let spare = out.spare_capacity_mut();
    let room = room.min(spare.len());
    let mut pos = read.bytes;
    let mut lines = 0u64;
    let mut n = 0;
    while n < room {
        let Some(line) = b.get(pos..).and_then(|rest| rest.first_chunk::<R>()) else {
            break;
        };
        let Some((end, commas)) = W::bounds(line) else {
            break;
        };
        if end == 0 {
            pos += 1; // an empty line: skipped, as line by line
            lines += 1;
            continue;
        }
        if end > max_line {
            break;
        }
        let Some((ends, ints)) = fields::<N, STRINGS, R>(line, end, commas) else {
            break;
        };
        let row = spare[n].write(Row::new());
        super::row_write::write_shaped::<N, STRINGS>(row, shape.ts, &ints, |k| {
            let start = if k == 0 { 0 } else { ends[k - 1] + 1 };
            text(ascii(&line[start..ends[k]]))
        });
        n += 1;
        lines += 1;
        pos += end + 1;
    }
    // SAFETY: the first `n` slots of `out`'s spare capacity were initialised with rows
    // (`MaybeUninit::write` above), so the first `len + n` elements are.
    unsafe { out.set_len(len + n) };
    read.bytes = pos;
    read.lines += lines;
    n
}

/// The field ends (comma positions, then `end`) of a line of `N` fields and the values of its
/// integer fields; `None` when the comma count is not `N - 1` or an integer field is not
/// what [`int`] reads.
#[inline(always)]
fn fields<const N: usize, const STRINGS: u32, const R: usize>(
    line: &[u8; R],
    end: usize,
    mut commas: impl Commas,
) -> Option<([usize; N], [i64; N])> {
    let mut ends = [end; N];
    for e in ends.iter_mut().take(N - 1) {
        // No comma left: the mask's bit count, past `end`.
        *e = commas.take_lowest();
    }
    // Exactly `N - 1` commas: none left over, and the last one taken was one.
    if !commas.is_empty() || (N > 1 && ends[N.saturating_sub(2)] >= end) {
        return None;
    }
    let mut ints = [0; N];
    for k in 0..N {
        if STRINGS >> k & 1 == 0 {
            let start = if k == 0 { 0 } else { ends[k - 1] + 1 };
            ints[k] = int(line, start, ends[k])?;
        }
    }
    Some((ends, ints))
}

/// The integer text `line[start..end]` (an optional sign, then 1 to [`MAX_DIGITS`] ASCII
/// digits), as `str::parse::<i64>` reads it; `None` for any other text. `end` ≤ [`MAX_LINE`].
/// Up to 8 digits without a sign are one word here; the rest is [`int_long`]'s.
#[inline(always)]
fn int<const R: usize>(line: &[u8; R], start: usize, end: usize) -> Option<i64> {
    let n = end.wrapping_sub(start);
    let w = word(line, start)?;
    if n.wrapping_sub(1) < 8 && leading_digits(w) >= n {
        return Some(digits_value(w, n) as i64); // at most 8 digits
    }
    int_long(line, start, end)
}

/// [`int`] for a sign or more than 8 digits.
#[inline(never)]
fn int_long<const R: usize>(line: &[u8; R], start: usize, end: usize) -> Option<i64> {
    let first = *line.get(start)?;
    let digits = start + usize::from(first == b'-' || first == b'+');
    let n = end.checked_sub(digits)?;
    if n == 0 || n > MAX_DIGITS {
        return None;
    }
    let w = word(line, digits)?;
    let v = if n <= 8 {
        if leading_digits(w) < n {
            return None;
        }
        digits_value(w, n)
    } else {
        let low = word(line, digits + 8)?;
        if leading_digits(w) < 8 || leading_digits(low) < n - 8 {
            return None;
        }
        digits_value(w, 8) * POW10[n - 8] + digits_value(low, n - 8)
    };
    // At most 16 digits: within i64.
    let v = v as i64;
    Some(if first == b'-' { -v } else { v })
}

/// The 8 bytes of `line` at `at`, little-endian.
#[inline(always)]
fn word<const R: usize>(line: &[u8; R], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(*line.get(at..)?.first_chunk::<8>()?))
}

/// `bytes` as text; they are ASCII (below a line's newline, [`bounds`] found no byte ≥ 0x80).
#[inline(always)]
#[allow(unsafe_code)]
fn ascii(bytes: &[u8]) -> &str {
    debug_assert!(bytes.is_ascii());
    // SAFETY: the bytes are ASCII (see above), which is valid UTF-8.
    unsafe { std::str::from_utf8_unchecked(bytes) }
}

#[cfg(test)]
#[path = "csv_shape_tests.rs"]
mod tests;
