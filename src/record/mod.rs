//! Rows of a declared schema, as the CLI's pipelines carry them.
//!
//! A [`Row`] holds up to 7 [`Value`]s inline (no allocation); strings are [`Text`], inline
//! up to 15 bytes, and longer ones reuse heap buffers recycled per thread, so string fields
//! cost no allocation per record either. Codecs for CSV and JSON lines live in submodules.

pub mod csv;
mod csv_block;
mod csv_encode;
mod csv_plain;
mod csv_shape;
mod csv_window;
mod encode_plan;
mod encode_shape;
mod field_parse;
mod format;
mod free_list;
mod int_text;
pub mod json;
mod json_block;
mod json_encode;
mod json_flat;
mod json_keys;
mod json_shape;
mod key_buf;
pub mod key_hash;
pub mod layout;
mod out_cursor;
mod out_digits;
mod out_scan;
mod put;
pub mod row_key;
pub mod row_slot;
mod row_write;
pub mod schema;
mod shape_table;
pub mod state_codec;
mod swar;
pub mod text;
mod text_impls;
mod text_pool;
pub mod timestamp;
mod utf8;

pub use csv::{CsvDecoder, CsvEncoder};
pub use json::{JsonLinesDecoder, JsonLinesEncoder};
pub use row_key::RowKey;
pub use schema::{Field, FieldType, Schema};
pub use text::Text;
pub use timestamp::parse_timestamp;

#[cfg(test)]
mod csv_tests;
#[cfg(test)]
mod encode_ref_tests;
#[cfg(test)]
mod fuzz_tests;
#[cfg(test)]
mod json_tests;
#[cfg(test)]
mod roundtrip_tests;
#[cfg(test)]
mod text_tests;

use smallvec::SmallVec;

/// A byte buffer that canonical encodings append to (a `Vec`, or an inline `SmallVec` so
/// that hashing a key does not allocate).
pub trait ByteSink {
    /// Appends `bytes`.
    fn put(&mut self, bytes: &[u8]);
}

impl ByteSink for Vec<u8> {
    #[inline]
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

impl<const N: usize> ByteSink for SmallVec<[u8; N]> {
    #[inline]
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

/// One field value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// Missing value (e.g. an empty aggregate).
    Null,
    /// A 64-bit signed integer.
    I64(i64),
    /// A 64-bit float.
    F64(f64),
    /// A UTF-8 string.
    Str(Text),
    /// A timestamp in milliseconds since the Unix epoch.
    Ts(i64),
}

/// A row: the values of a schema's fields, in order. Eight inline (136 bytes; see
/// [`layout`] for why not seven); wider rows spill to the heap.
pub type Row = SmallVec<[Value; 8]>;

impl Value {
    /// Appends the canonical bytes of the value (tag + little-endian payload), the input of the
    /// stable key-group hash.
    pub fn canonical_bytes(&self, out: &mut impl ByteSink) {
        match self {
            Value::Null => out.put(&[0]),
            Value::I64(v) => {
                out.put(&[1]);
                out.put(&v.to_le_bytes());
            }
            Value::F64(v) => {
                out.put(&[2]);
                out.put(&v.to_bits().to_le_bytes());
            }
            Value::Str(s) => {
                out.put(&[3]);
                out.put(&(s.len() as u32).to_le_bytes());
                out.put(s.as_bytes());
            }
            Value::Ts(v) => {
                out.put(&[4]);
                out.put(&v.to_le_bytes());
            }
        }
    }

    /// The value as f64 for arithmetic (i64, f64, ts), `None` for strings and null.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::I64(v) | Value::Ts(v) => Some(*v as f64),
            Value::F64(v) => Some(*v),
            _ => None,
        }
    }
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Null => Ok(()),
            Value::I64(v) | Value::Ts(v) => write!(f, "{v}"),
            Value::F64(v) => write!(f, "{v}"),
            Value::Str(s) => f.write_str(s),
        }
    }
}
