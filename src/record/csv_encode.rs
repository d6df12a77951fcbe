//! Rows → CSV lines: [`CsvEncoder`] (RFC 4180, quoting only where needed).

use super::format::{write_f64, write_i64};
use super::{Row, Schema, Value};
use crate::sink::Encoder;

/// Encodes [`Row`]s as CSV lines ending in `\n`.
///
/// A field is quoted (RFC 4180, `"` doubled) only when it contains `,`, `"`, `\r` or `\n`.
/// i64 and timestamps (integer milliseconds) via `itoa`; f64 via `ryu`'s shortest round-trip
/// text, non-finite as `NaN` / `inf` / `-inf` (Rust's float syntax, which [`CsvDecoder`]
/// reads back); [`Value::Null`] as an empty field. A row of a single empty string is written
/// as `""`, since an empty line would not read back.
#[derive(Clone, Debug)]
pub struct CsvEncoder {
    /// The header line (with `\n`), if one is written.
    header: Option<Vec<u8>>,
}

impl CsvEncoder {
    /// An encoder for rows of `schema`; with `header`, [`Encoder::header`] returns the line of
    /// field names.
    pub fn new(schema: Schema, header: bool) -> Self {
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
        CsvEncoder { header }
    }
}

/// Appends a string field, quoted only if it must be.
fn write_str(out: &mut Vec<u8>, s: &str) {
    if !s.bytes().any(|b| matches!(b, b',' | b'"' | b'\r' | b'\n')) {
        out.extend_from_slice(s.as_bytes());
        return;
    }
    out.push(b'"');
    for (i, part) in s.split('"').enumerate() {
        if i > 0 {
            out.extend_from_slice(b"\"\"");
        }
        out.extend_from_slice(part.as_bytes());
    }
    out.push(b'"');
}

impl Encoder<Row> for CsvEncoder {
    fn encode(&self, record: &Row, out: &mut Vec<u8>) {
        if let [Value::Str(s)] = record.as_slice() {
            if s.is_empty() {
                out.extend_from_slice(b"\"\"\n");
                return;
            }
        }
        for (i, value) in record.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            match value {
                Value::Null => {}
                Value::I64(v) | Value::Ts(v) => write_i64(out, *v),
                Value::F64(v) => write_f64(out, *v),
                Value::Str(s) => write_str(out, s),
            }
        }
        out.push(b'\n');
    }

    fn encode_all(&self, batch: &[Row], out: &mut Vec<u8>) -> u64 {
        // The same loop as the default, with `encode` inlined instead of a call per record.
        crate::sink::checksummed(batch, out, |row, out| self.encode(row, out))
    }

    fn header(&self) -> Option<Vec<u8>> {
        self.header.clone()
    }
}
