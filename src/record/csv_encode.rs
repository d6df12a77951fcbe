//! Rows → CSV lines: [`CsvEncoder`] (RFC 4180, quoting only where needed).
//!
//! Each line is written through a [`Cursor`]: one capacity check per row (and one per
//! string), then unchecked stores (issue 10, step 5; PERF.md). A row of the schema's shape
//! goes through the encode [`Plan`] compiled from the schema (step 6; a batch of a plan of
//! integers after at most one string through its shape's loop, [`super::encode_shape`],
//! step 7), any other through the general path ([`CsvEncoder::row`]).

#![allow(unsafe_code)]

use super::encode_plan::Plan;
use super::encode_shape::encode_rows;
use super::out_cursor::{Cursor, MAX_SCALAR};
use super::out_scan::csv_plain;
use super::{Row, Schema, Value};
use crate::sink::Encoder;

/// Encodes [`Row`]s as CSV lines ending in `\n`.
///
/// A field is quoted (RFC 4180, `"` doubled) only when it contains `,`, `"`, `\r` or `\n`.
/// i64 and timestamps (integer milliseconds) in decimal; f64 as `ryu`'s shortest round-trip
/// text, non-finite as `NaN` / `inf` / `-inf` (Rust's float syntax, which
/// [`super::CsvDecoder`] reads back); [`Value::Null`] as an empty field. A row of a single
/// empty string is written as `""`, since an empty line would not read back.
#[derive(Clone, Debug)]
pub struct CsvEncoder {
    /// The header line (with `\n`), if one is written.
    header: Option<Vec<u8>>,
    /// The fast path for rows of the schema's shape (`None` for an empty schema).
    plan: Option<Plan>,
}

impl CsvEncoder {
    /// An encoder for rows of `schema`; with `header`, [`Encoder::header`] returns the line of
    /// field names.
    pub fn new(schema: Schema, header: bool) -> Self {
        let plan = Plan::csv(&schema);
        let header = header.then(|| {
            let mut line = Vec::new();
            for (i, field) in schema.fields.iter().enumerate() {
                if i > 0 {
                    line.push(b',');
                }
                write_str(&mut line, &field.name);
            }
            line.push(b'\n');
            line
        });
        CsvEncoder { header, plan }
    }

    /// Appends `row`'s line: through the plan when it fits, else the general path.
    #[inline(always)]
    fn one(&self, row: &Row, c: &mut Cursor<'_>) {
        match &self.plan {
            Some(plan) if plan.csv_row(row, c) => {}
            _ => c.with_vec(|out| Self::general(row, out)),
        }
    }

    /// [`CsvEncoder::row`] out of line: the cursor of the plan's loop stays in registers.
    #[inline(never)]
    fn general(row: &Row, out: &mut Vec<u8>) {
        Self::row(row, &mut Cursor::new(out));
    }

    /// Appends `row`'s line.
    #[inline(always)]
    fn row(row: &Row, c: &mut Cursor<'_>) {
        // Every value at its widest scalar plus a separator, the `\n`, and `""` for the lone
        // empty string. Kept available before each value: a string longer than MAX_SCALAR
        // ensures it on top of its own length.
        let values = row.as_slice();
        let bound = values.len() * (MAX_SCALAR + 1) + 3;
        c.ensure(bound);
        match values {
            [] => {
                // SAFETY: 1 byte ≤ `bound`, ensured above.
                unsafe { c.byte(b'\n') };
                return;
            }
            [Value::Str(s)] if s.is_empty() => {
                // SAFETY: 3 bytes ≤ `bound`, ensured above.
                unsafe { c.bytes(b"\"\"\n") };
                return;
            }
            _ => {}
        }
        for value in values {
            // Before each value the room left is at least what the rest of the row's scalars
            // and separators take (`bound` minus those already written): each arm writes at
            // most MAX_SCALAR bytes (a longer string first ensures its length on top of
            // `bound`), then one separator, all accounted for in `bound`.
            // SAFETY: so every write below is within the room the cursor has (see above).
            unsafe {
                match value {
                    Value::Null => {}
                    Value::I64(v) | Value::Ts(v) => c.i64(*v),
                    Value::F64(v) => write_f64(c, *v),
                    Value::Str(s) => str_field(c, s.as_bytes(), bound),
                }
                c.byte(b',');
            }
        }
        // The last separator becomes the line's end.
        c.replace_last(b'\n');
    }
}

#[inline]
/// Writes `v` as [`super::format::write_f64`] does.
///
/// # Safety
/// Room ≥ [`MAX_SCALAR`].
// SAFETY: callers must uphold this fn's contract: Room ≥ [`MAX_SCALAR`].
unsafe fn write_f64(c: &mut Cursor<'_>, v: f64) {
    // SAFETY: each arm writes at most MAX_SCALAR bytes (ryu ≤ 24, the words ≤ 4).
    unsafe {
        if v.is_finite() {
            c.f64_finite(v);
        } else if v.is_nan() {
            c.bytes(b"NaN");
        } else if v > 0.0 {
            c.bytes(b"inf");
        } else {
            c.bytes(b"-inf");
        }
    }
}

#[inline(always)]
/// Writes a string field, quoted only if it must be: up to MAX_SCALAR bytes in the room
/// reserved for a value, longer ones leaving at least `bound` bytes of room after them.
///
/// # Safety
/// Room ≥ [`MAX_SCALAR`].
// SAFETY: callers must uphold this fn's contract: Room ≥ [`MAX_SCALAR`].
unsafe fn str_field(c: &mut Cursor<'_>, s: &[u8], bound: usize) {
    if csv_plain(s) {
        if s.len() > MAX_SCALAR {
            c.ensure(s.len() + bound);
        }
        // SAFETY: room for `s`: MAX_SCALAR bytes by the caller's promise, or just ensured.
        unsafe { c.bytes(s) };
    } else {
        quoted(c, s, bound);
    }
}

/// The rare quoted field, through the vector; afterwards `bound` bytes of room again.
#[cold]
#[inline(never)]
fn quoted(c: &mut Cursor<'_>, s: &[u8], bound: usize) {
    c.with_vec(|out| write_quoted(out, s));
    c.ensure(bound);
}

/// Appends a string field, quoted only if it must be.
fn write_str(out: &mut Vec<u8>, s: &str) {
    if csv_plain(s.as_bytes()) {
        out.extend_from_slice(s.as_bytes());
    } else {
        write_quoted(out, s.as_bytes());
    }
}

/// Appends `s` between quotes, each `"` doubled.
fn write_quoted(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    for (i, part) in s.split(|&b| b == b'"').enumerate() {
        if i > 0 {
            out.extend_from_slice(b"\"\"");
        }
        out.extend_from_slice(part);
    }
    out.push(b'"');
}

impl Encoder<Row> for CsvEncoder {
    fn encode(&self, record: &Row, out: &mut Vec<u8>) {
        self.one(record, &mut Cursor::new(out));
    }

    fn encode_all(&self, batch: &[Row], out: &mut Vec<u8>) -> u64 {
        let mut c = Cursor::new(out);
        let mut checksum = 0u64;
        for row in batch {
            let start = c.len();
            self.one(row, &mut c);
            checksum = checksum.wrapping_add(xxhash_rust::xxh3::xxh3_64(c.written_since(start)));
        }
        checksum
    }

    fn encode_many(&self, batch: &[Row], out: &mut Vec<u8>) {
        let mut c = Cursor::new(out);
        match &self.plan {
            Some(plan) => encode_rows::<false>(plan, batch, &mut c, Self::general),
            None => c.with_vec(|out| batch.iter().for_each(|row| Self::general(row, out))),
        }
    }

    fn header(&self) -> Option<Vec<u8>> {
        self.header.clone()
    }
}
