//! Rows → JSON lines: [`JsonLinesEncoder`].
//!
//! Each line is written through a [`Cursor`]: one capacity check per row (and one per
//! string), then unchecked stores (issue 10, step 5; PERF.md). A row of the schema's shape
//! goes through the encode [`Plan`] compiled from the schema (step 6; a batch of a plan of
//! integers after at most one string through its shape's loop, [`super::encode_shape`],
//! step 7), any other through the general path ([`JsonLinesEncoder::row`]).

#![allow(unsafe_code)]

use super::encode_plan::{Piece, Plan};
use super::encode_shape::encode_rows;
use super::out_cursor::{Cursor, MAX_SCALAR};
use super::out_scan::json_plain;
use super::{Row, Schema, Value};
use crate::sink::Encoder;

/// Encodes [`Row`]s as JSON lines: one object per row, keys = the schema's field names in
/// order, then `\n`.
///
/// i64 and timestamps (integer milliseconds) in decimal; finite f64 as `ryu`'s shortest
/// round-trip text, non-finite f64 and [`Value::Null`] as `null`; strings escaped as
/// serde_json escapes them. A row shorter than the schema gets `null` for the missing fields;
/// values beyond the schema are not written.
#[derive(Clone, Debug)]
pub struct JsonLinesEncoder {
    /// Per field, the bytes before its value: `{"name":` for the first, `,"name":` after.
    prefixes: Vec<Piece>,
    /// The most bytes a line takes apart from strings longer than MAX_SCALAR: the prefixes,
    /// each value at its widest scalar, `}\n` (or `{}\n`), and 16 bytes of slack for
    /// [`Cursor::head16`].
    bound: usize,
    /// The fast path for rows of the schema's shape (`None` for an empty schema).
    plan: Option<Plan>,
}

impl JsonLinesEncoder {
    /// An encoder for rows of `schema`.
    pub fn new(schema: Schema) -> Self {
        let heads: Vec<Vec<u8>> = schema
            .fields
            .iter()
            .enumerate()
            .map(|(i, field)| {
                let mut prefix = vec![if i == 0 { b'{' } else { b',' }];
                write_json_str(&mut prefix, &field.name);
                prefix.push(b':');
                prefix
            })
            .collect();
        let plan = Plan::json(&schema, heads.clone());
        let prefixes: Vec<Piece> = heads.into_iter().map(Piece::new).collect();
        let bound = prefixes.iter().map(|p| p.len() + MAX_SCALAR).sum::<usize>() + 3 + 16;
        JsonLinesEncoder {
            prefixes,
            bound,
            plan,
        }
    }

    /// Appends `row`'s line: through the plan when it fits, else the general path.
    #[inline(always)]
    fn one(&self, row: &Row, c: &mut Cursor<'_>) {
        match &self.plan {
            Some(plan) if plan.json_row(row, c) => {}
            _ => c.with_vec(|out| self.general(row, out)),
        }
    }

    /// [`JsonLinesEncoder::row`] out of line: the cursor of the plan's loop stays in
    /// registers.
    #[inline(never)]
    fn general(&self, row: &Row, out: &mut Vec<u8>) {
        self.row(row, &mut Cursor::new(out));
    }

    /// Appends `row`'s line.
    #[inline(always)]
    fn row(&self, row: &Row, c: &mut Cursor<'_>) {
        let bound = self.bound;
        c.ensure(bound);
        if self.prefixes.is_empty() {
            // SAFETY: 3 bytes ≤ `bound`, ensured above.
            unsafe { c.bytes(b"{}\n") };
            return;
        }
        for (i, prefix) in self.prefixes.iter().enumerate() {
            // Before each field the room left covers the rest of the line (`bound` minus what
            // was written since it was last ensured, which keeps the 16 bytes of slack): the
            // prefix and at most MAX_SCALAR bytes of value are in `bound`; a longer string
            // ensures its length on top of `bound` before writing.
            // SAFETY: so every write below is within the room the cursor has (see above).
            unsafe {
                prefix.write(c);
                match row.get(i) {
                    Some(Value::I64(v) | Value::Ts(v)) => c.i64(*v),
                    Some(Value::F64(v)) if v.is_finite() => c.f64_finite(*v),
                    Some(Value::Str(s)) => str_value(c, s, bound),
                    Some(Value::Null | Value::F64(_)) | None => c.bytes(b"null"),
                }
            }
        }
        // SAFETY: `}\n` is in `bound`.
        unsafe { c.bytes(b"}\n") };
    }
}

#[inline(always)]
/// Writes a string value, escaped if it must be: up to MAX_SCALAR bytes (quotes included) in
/// the room reserved for a value, longer ones leaving at least `bound` bytes of room after.
///
/// # Safety
/// Room ≥ [`MAX_SCALAR`].
// SAFETY: callers must uphold this fn's contract: Room ≥ [`MAX_SCALAR`].
unsafe fn str_value(c: &mut Cursor<'_>, s: &str, bound: usize) {
    if json_plain(s.as_bytes()) {
        if s.len() + 2 > MAX_SCALAR {
            c.ensure(s.len() + 2 + bound);
        }
        // SAFETY: room for the two quotes and `s`: MAX_SCALAR bytes by the caller's promise,
        // or just ensured.
        unsafe {
            c.byte(b'"');
            c.bytes(s.as_bytes());
            c.byte(b'"');
        }
    } else {
        escaped(c, s, bound);
    }
}

/// The rare escaped string, through serde_json; afterwards `bound` bytes of room again.
#[cold]
#[inline(never)]
fn escaped(c: &mut Cursor<'_>, s: &str, bound: usize) {
    c.with_vec(|out| write_json_str(out, s));
    c.ensure(bound);
}

/// Appends `s` as a JSON string literal: as is between quotes when nothing needs escaping
/// (serde_json escapes exactly `"`, `\\` and control characters below U+0020), else through
/// serde_json.
fn write_json_str(out: &mut Vec<u8>, s: &str) {
    if json_plain(s.as_bytes()) {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
        return;
    }
    // Serializing a string into a Vec cannot fail.
    let written = serde_json::to_writer(&mut *out, s);
    debug_assert!(written.is_ok());
}

impl Encoder<Row> for JsonLinesEncoder {
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
            Some(plan) => {
                encode_rows::<true>(plan, batch, &mut c, |row, out| self.general(row, out))
            }
            None => c.with_vec(|out| batch.iter().for_each(|row| self.general(row, out))),
        }
    }
}

#[cfg(test)]
mod string_tests {
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn strings_are_written_as_serde_json_writes_them(s in "(.|[\"\\\\\u{0}-\u{1f}\u{7f}])*") {
            let mut ours = Vec::new();
            super::write_json_str(&mut ours, &s);
            prop_assert_eq!(ours, serde_json::to_vec(&s).unwrap());
        }
    }
}
