//! An encode plan compiled once from the output schema (issue 10, step 6).
//!
//! The encoders' general path decodes each [`Value`]'s discriminant (a niche in the
//! [`super::Text`]'s length byte: a load, a subtraction, a conditional move and a jump table,
//! ~14 instructions) and keeps its cursor in memory around the calls of its rare paths. A
//! [`Plan`] knows each column's type from the schema, so a row of the schema's shape costs
//! one tag comparison per value and runs with the cursor in registers: per column the bytes
//! before the value (CSV: `,` after the first; JSON: `{"name":` / `,"name":`) as one 16-byte
//! store, then the value; after the last, the line's end. A row that does not fit the plan
//! — another length, a value of another type (a null), a non-finite float, a string that
//! needs quotes or escapes, CSV's lone empty string — is rewound and written by the general
//! path instead, so every row gets the same bytes either way.

#![allow(unsafe_code)]

use super::encode_shape::Shape;
use super::out_cursor::{Cursor, MAX_SCALAR};
use super::out_scan::{csv_plain, csv_plain_inline, json_plain, json_plain_inline, words};
use super::{Field, FieldType, Row, Schema, Text, Value};

/// Bytes written around values: up to 16 by one store, longer ones by a copy.
#[derive(Clone, Debug)]
pub(crate) struct Piece {
    /// Its first 16 bytes (zero-padded), written with one store when `len ≤ 16`.
    head: [u8; 16],
    /// Its length.
    len: usize,
    /// All of it.
    full: Box<[u8]>,
}

impl Piece {
    /// The piece `full`.
    pub(crate) fn new(full: Vec<u8>) -> Self {
        let mut head = [0u8; 16];
        let n = full.len().min(16);
        head[..n].copy_from_slice(&full[..n]);
        Piece {
            head,
            len: full.len(),
            full: full.into_boxed_slice(),
        }
    }

    /// Its length in bytes.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    #[inline(always)]
    /// Writes the piece.
    ///
    /// # Safety
    /// [`Cursor::room`] ≥ max(16, its length).
    // SAFETY: callers must uphold this fn's contract: [`Cursor::room`] ≥ max(16, its length).
    pub(crate) unsafe fn write(&self, c: &mut Cursor<'_>) {
        // SAFETY: the caller's promise covers both.
        unsafe {
            if self.len <= 16 {
                c.head16(&self.head, self.len);
            } else {
                c.bytes(&self.full);
            }
        }
    }
}

/// What a column holds, from its schema type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    /// [`Value::I64`].
    I64,
    /// [`Value::Ts`].
    Ts,
    /// [`Value::F64`], finite.
    F64,
    /// [`Value::Str`].
    Str,
    /// [`Value::Str`], not empty: CSV's only column (a lone empty string is written `""`).
    StrNonEmpty,
}

/// The most bytes before a value the plan writes ([`Col::head`]); a schema with a longer
/// JSON prefix (a field name over 29 bytes) gets no plan.
const HEAD: usize = 32;

/// One column: the bytes before its value and the value's kind.
#[derive(Clone, Copy, Debug)]
pub(super) struct Col {
    /// The bytes before the value, zero-padded: written as two 16-byte stores.
    head: [u8; HEAD],
    /// How many of them are the column's.
    len: usize,
    /// What the column holds.
    pub(super) kind: Kind,
}

impl Col {
    /// The column whose head is `full` (at most [`HEAD`] bytes).
    fn new(full: &[u8], kind: Kind) -> Col {
        let mut head = [0u8; HEAD];
        let len = full.len().min(HEAD);
        head[..len].copy_from_slice(&full[..len]);
        Col { head, len, kind }
    }

    #[inline(always)]
    /// Writes the bytes before the value.
    ///
    /// # Safety
    /// [`Cursor::room`] ≥ [`HEAD`].
    // SAFETY: callers must uphold this fn's contract: [`Cursor::room`] ≥ [`HEAD`].
    pub(super) unsafe fn head(&self, c: &mut Cursor<'_>) {
        // SAFETY: HEAD bytes of room, the caller's promise.
        unsafe { c.head(&self.head, self.len) }
    }
}

/// The plan of one output format for one schema (see the module doc).
#[derive(Clone, Debug)]
pub(crate) struct Plan {
    pub(super) cols: Box<[Col]>,
    /// After the last value: the line's end (as a column whose value is never written).
    pub(super) tail: Col,
    /// The most bytes a row takes apart from strings longer than a scalar: per column HEAD
    /// bytes of head and a value at its widest scalar, then the tail and HEAD bytes of slack
    /// (each head is written as HEAD bytes, see [`Cursor::head`]).
    pub(super) bound: usize,
    /// Whether its rows take a specialised loop ([`Shape`]).
    pub(super) shape: Shape,
}

impl Plan {
    /// The CSV plan of `schema` (`None` for an empty schema).
    pub(crate) fn csv(schema: &Schema) -> Option<Plan> {
        let heads = (0..schema.fields.len()).map(|i| if i == 0 { vec![] } else { vec![b','] });
        Self::new(schema, heads.collect(), b"\n".to_vec(), true)
    }

    /// The JSON lines plan of `schema` whose field prefixes are `heads` (`None` for an empty
    /// schema).
    pub(crate) fn json(schema: &Schema, heads: Vec<Vec<u8>>) -> Option<Plan> {
        Self::new(schema, heads, b"}\n".to_vec(), false)
    }

    /// The plan of `schema` with these heads and tail; `csv` when a lone empty string is
    /// written `""` (an empty line would not read back).
    fn new(schema: &Schema, heads: Vec<Vec<u8>>, tail: Vec<u8>, csv: bool) -> Option<Plan> {
        if schema.fields.is_empty() || heads.len() != schema.fields.len() {
            return None;
        }
        let lone = schema.fields.len() == 1 && csv;
        if heads.iter().chain([&tail]).any(|h| h.len() > HEAD) {
            return None;
        }
        let col = |(field, full): (&Field, Vec<u8>)| {
            let kind = match field.ty {
                FieldType::I64 => Kind::I64,
                FieldType::Timestamp => Kind::Ts,
                FieldType::F64 => Kind::F64,
                FieldType::String if lone => Kind::StrNonEmpty,
                FieldType::String => Kind::Str,
            };
            Col::new(&full, kind)
        };
        let cols: Box<[Col]> = schema.fields.iter().zip(heads).map(col).collect();
        // Each head at most HEAD bytes and each value at most MAX_SCALAR, the tail, and
        // HEAD bytes of slack: a head (and the tail) is written as HEAD bytes.
        let bound = cols.len() * (HEAD + MAX_SCALAR) + 2 * HEAD;
        // The tail's kind is never read.
        let tail = Col::new(&tail, Kind::I64);
        let shape = Shape::of(&cols);
        Some(Plan {
            cols,
            tail,
            bound,
            shape,
        })
    }

    /// Writes `row` as CSV when it fits the plan (one made by [`Plan::csv`]) and returns
    /// true; otherwise writes nothing (the cursor is rewound to where it was) and returns
    /// false.
    #[inline(always)]
    pub(crate) fn csv_row(&self, row: &Row, c: &mut Cursor<'_>) -> bool {
        self.row::<false>(row, c)
    }

    /// [`Plan::csv_row`] for JSON lines (a plan made by [`Plan::json`]).
    #[inline(always)]
    pub(crate) fn json_row(&self, row: &Row, c: &mut Cursor<'_>) -> bool {
        self.row::<true>(row, c)
    }

    /// The body of [`Plan::csv_row`] and [`Plan::json_row`]. CSV writes `,` after each
    /// value and turns the last into the line's end; JSON writes each column's head before
    /// its value and the tail after the last.
    #[inline(always)]
    fn row<const JSON: bool>(&self, row: &Row, c: &mut Cursor<'_>) -> bool {
        let values = row.as_slice();
        if values.len() != self.cols.len() {
            return false;
        }
        let bound = self.bound;
        c.ensure(bound);
        let start = c.len();
        for (i, col) in self.cols.iter().enumerate() {
            // SAFETY: `i < cols.len() = values.len()`.
            let value = unsafe { values.get_unchecked(i) };
            // Before each column the room left covers the rest of the row (`bound` minus what
            // was written since it was ensured, keeping HEAD bytes of slack): its head (or
            // separator) and at most MAX_SCALAR bytes of value are in `bound`; a longer
            // string ensures its length on top of `bound` before it is written.
            // SAFETY: so every write below is within the room the cursor has (see above).
            let fits = unsafe {
                if JSON {
                    col.head(c);
                }
                let fits = match col.kind {
                    Kind::I64 => match value {
                        Value::I64(x) => {
                            c.i64(*x);
                            true
                        }
                        _ => false,
                    },
                    Kind::Ts => match value {
                        Value::Ts(x) => {
                            c.i64(*x);
                            true
                        }
                        _ => false,
                    },
                    Kind::F64 => match value {
                        Value::F64(x) if x.is_finite() => {
                            c.f64_finite(*x);
                            true
                        }
                        _ => false,
                    },
                    Kind::Str => match value {
                        Value::Str(s) => text::<JSON>(c, s, bound),
                        _ => false,
                    },
                    Kind::StrNonEmpty => match value {
                        Value::Str(s) if !s.is_empty() => text::<JSON>(c, s, bound),
                        _ => false,
                    },
                };
                if !JSON {
                    c.byte(b',');
                }
                fits
            };
            if !fits {
                c.rewind(start);
                return false;
            }
        }
        if JSON {
            // SAFETY: the tail is in `bound` (with HEAD bytes of slack).
            unsafe { self.tail.head(c) };
        } else {
            // The last separator becomes the line's end (a row has at least one column).
            c.replace_last(b'\n');
        }
        true
    }
}

#[inline(always)]
/// Writes a text that needs no quotes (CSV) or escapes (JSON, between quotes); false
/// (nothing written) for one that does. An inline text is checked and copied as two words
/// ([`words`]); a heap one as [`str_value`] does.
///
/// # Safety
/// [`Cursor::room`] ≥ [`MAX_SCALAR`].
// SAFETY: callers must uphold this fn's contract: [`Cursor::room`] ≥ [`MAX_SCALAR`].
pub(super) unsafe fn text<const JSON: bool>(c: &mut Cursor<'_>, s: &Text, bound: usize) -> bool {
    let Some((bytes, n)) = s.inline_parts() else {
        // SAFETY: the caller's promise, passed on.
        return unsafe { str_value::<JSON>(c, s.as_bytes(), bound) };
    };
    let w = words(bytes);
    if JSON {
        if !json_plain_inline(w, n) {
            return false;
        }
        // SAFETY: the quotes and 15 bytes: 17 ≤ MAX_SCALAR, the caller's promise.
        unsafe {
            c.byte(b'"');
            c.inline15(w, n);
            c.byte(b'"');
        }
    } else {
        if !csv_plain_inline(w, n) {
            return false;
        }
        // SAFETY: 15 ≤ MAX_SCALAR bytes, the caller's promise.
        unsafe { c.inline15(w, n) };
    }
    true
}

#[inline(always)]
/// Writes a string that needs no quotes (CSV) or escapes (JSON, between quotes); false
/// (nothing written) for one that does. Up to MAX_SCALAR bytes go in the room reserved for
/// a value; a longer one first ensures its length on top of `bound`.
///
/// # Safety
/// [`Cursor::room`] ≥ [`MAX_SCALAR`].
// SAFETY: callers must uphold this fn's contract: [`Cursor::room`] ≥ [`MAX_SCALAR`].
unsafe fn str_value<const JSON: bool>(c: &mut Cursor<'_>, s: &[u8], bound: usize) -> bool {
    if JSON {
        if !json_plain(s) {
            return false;
        }
        if s.len() + 2 > MAX_SCALAR {
            c.ensure(s.len() + 2 + bound);
        }
        // SAFETY: room for the quotes and `s`: MAX_SCALAR by the caller's promise, or just
        // ensured.
        unsafe {
            c.byte(b'"');
            c.bytes(s);
            c.byte(b'"');
        }
    } else {
        if !csv_plain(s) {
            return false;
        }
        if s.len() > MAX_SCALAR {
            c.ensure(s.len() + bound);
        }
        // SAFETY: room for `s`: MAX_SCALAR by the caller's promise, or just ensured.
        unsafe { c.bytes(s) };
    }
    true
}

#[cfg(test)]
#[path = "encode_plan_tests.rs"]
mod tests;
