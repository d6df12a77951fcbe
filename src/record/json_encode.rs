//! Rows → JSON lines: [`JsonLinesEncoder`].

use super::format::{write_finite_f64, write_i64};
use super::{Row, Schema, Value};
use crate::sink::Encoder;

/// Encodes [`Row`]s as JSON lines: one object per row, keys = the schema's field names in
/// order, then `\n`.
///
/// i64 and timestamps (integer milliseconds) via `itoa`; finite f64 via `ryu`'s shortest
/// round-trip text, non-finite f64 and [`Value::Null`] as `null`; strings escaped by
/// serde_json. A row shorter than the schema gets `null` for the missing fields; values
/// beyond the schema are not written.
#[derive(Clone, Debug)]
pub struct JsonLinesEncoder {
    /// Per field, the bytes before its value: `{"name":` for the first, `,"name":` after.
    prefixes: Vec<Vec<u8>>,
}

impl JsonLinesEncoder {
    /// An encoder for rows of `schema`.
    pub fn new(schema: Schema) -> Self {
        let prefixes = schema
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
        JsonLinesEncoder { prefixes }
    }
}

/// Appends `s` as a JSON string literal: as is between quotes when nothing needs escaping
/// (serde_json escapes exactly `"`, `\\` and control characters below U+0020), else through
/// serde_json.
fn write_json_str(out: &mut Vec<u8>, s: &str) {
    if !s.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) {
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
        if self.prefixes.is_empty() {
            out.extend_from_slice(b"{}\n");
            return;
        }
        for (i, prefix) in self.prefixes.iter().enumerate() {
            out.extend_from_slice(prefix);
            match record.get(i) {
                Some(Value::I64(v) | Value::Ts(v)) => write_i64(out, *v),
                Some(Value::F64(v)) if v.is_finite() => write_finite_f64(out, *v),
                Some(Value::Str(s)) => write_json_str(out, s),
                Some(Value::Null | Value::F64(_)) | None => out.extend_from_slice(b"null"),
            }
        }
        out.extend_from_slice(b"}\n");
    }

    fn encode_all(&self, batch: &[Row], out: &mut Vec<u8>) -> u64 {
        // The same loop as the default, with `encode` inlined instead of a call per record.
        crate::sink::checksummed(batch, out, |row, out| self.encode(row, out))
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
