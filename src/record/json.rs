//! JSON lines ↔ rows: [`JsonLinesDecoder`] (one object per line, fields by name) and
//! [`JsonLinesEncoder`].
//!
//! Decoding reasons (they go to the dead letters with the line number):
//!
//! | problem | reason |
//! |---|---|
//! | line is not UTF-8 | `invalid UTF-8 at byte 7` (0-based offset in the line) |
//! | not JSON | `invalid JSON: expected value at line 1 column 1` (serde_json's message) |
//! | not an object | `expected a JSON object, found array` |
//! | a key twice | `duplicate field "ts"` |
//! | key missing | `missing field "ts"` |
//! | wrong JSON type | `field "value": expected i64, found string` (found: null, boolean, number, string, array, object) |
//! | fraction for i64 / timestamp | `field "value": expected i64, found non-integral number 1.5` |
//! | integer beyond i64 | `field "value": expected i64, found out-of-range number 9223372036854775808` |
//! | bad timestamp string | `field "ts": invalid timestamp "noon"` |
//!
//! A flat object (scalar values, no escapes) is scanned in one pass (`record::json_flat`);
//! any other line is parsed by serde_json straight into the same per-field slots (no map, no
//! `serde_json::Value`; unknown keys skipped without being materialised), which also gives
//! the reasons above.

use std::fmt;

use super::Text;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::format::{invalid, type_name};
use super::timestamp::parse_timestamp;
use super::{Field, FieldType, Row, Schema, Value};
use crate::source::{BlockLimits, BlockRead, LineDecoder};

pub use super::json_encode::JsonLinesEncoder;

/// Decodes JSON lines (one object per line) into [`Row`]s of a [`Schema`].
///
/// Each schema field is looked up by name; extra keys are ignored. i64 fields take integral
/// numbers (`3`, also `3.0`); f64 fields any number; string fields strings; timestamp fields
/// integral numbers (milliseconds) or strings (integer milliseconds or RFC 3339, see
/// [`super::parse_timestamp`]). `null` is a type mismatch for every type.
#[derive(Debug)]
pub struct JsonLinesDecoder {
    /// The fields, in row order.
    fields: Vec<Field>,
    /// Their names, prepared for the flat scan's lookup.
    keys: super::json_keys::FieldKeys,
    /// The shape pass for the fields, when they have one ([`super::json_shape`]).
    shape: Option<super::json_shape::JsonShape>,
    /// Scratch: the value found for each field on the current line; all `None` between lines.
    pub(super) slots: Vec<Option<Scalar>>,
}

impl JsonLinesDecoder {
    /// A decoder for objects carrying the fields of `schema`.
    pub fn new(schema: Schema) -> Self {
        let slots = (0..schema.fields.len()).map(|_| None).collect();
        JsonLinesDecoder {
            keys: super::json_keys::FieldKeys::new(&schema.fields),
            shape: super::json_shape::JsonShape::new(&schema.fields),
            fields: schema.fields,
            slots,
        }
    }
}

impl LineDecoder<Row> for JsonLinesDecoder {
    fn decode_block(&mut self, block: &[u8], limits: BlockLimits, out: &mut Vec<Row>) -> BlockRead {
        let shape = self.shape.as_ref();
        super::json_block::decode_block(&self.fields, &self.keys, shape, block, limits, out)
    }

    fn decode(&mut self, line: &[u8], out: &mut Vec<Row>) -> Result<(), String> {
        let text = super::utf8::text(line)?;
        self.slots.iter_mut().for_each(|s| *s = None);
        if !super::json_flat::scan(text, &self.keys, &mut self.slots) {
            self.slots.iter_mut().for_each(|s| *s = None);
            self.decode_general(text)?;
        }
        let (fields, slots) = (&self.fields, &mut self.slots);
        super::csv_plain::fill(out, |row| {
            for (field, slot) in fields.iter().zip(slots.iter_mut()) {
                let scalar = slot
                    .take()
                    .ok_or_else(|| format!("missing field {:?}", field.name))?;
                row.push(convert(field, scalar)?);
            }
            Ok(())
        })
    }
}

impl JsonLinesDecoder {
    /// Parses `text` with serde_json into the slots: any JSON, and the reasons of bad lines.
    pub(super) fn decode_general(&mut self, text: &str) -> Result<(), String> {
        let mut de = serde_json::Deserializer::from_str(text);
        let shape = ObjectSeed {
            fields: &self.fields,
            slots: &mut self.slots,
        }
        .deserialize(&mut de)
        .and_then(|shape| de.end().map(|()| shape))
        .map_err(|e| format!("invalid JSON: {e}"))?;
        match shape {
            Shape::NotObject(kind) => return Err(format!("expected a JSON object, found {kind}")),
            Shape::Object { duplicate: Some(i) } => {
                return Err(format!("duplicate field {:?}", self.fields[i].name));
            }
            Shape::Object { duplicate: None } => {}
        }
        Ok(())
    }
}

/// A JSON value as far as a field needs it: scalars kept, containers only named.
#[derive(Debug)]
pub(super) enum Scalar {
    Null,
    Bool,
    Int(i64),
    UInt(u64),
    Float(f64),
    /// Inline up to `Text::INLINE` bytes, like the row's strings.
    Str(Text),
    Array,
    Object,
}

impl Scalar {
    /// The JSON type, as reasons spell it.
    fn kind(&self) -> &'static str {
        match self {
            Scalar::Null => "null",
            Scalar::Bool => "boolean",
            Scalar::Int(_) | Scalar::UInt(_) | Scalar::Float(_) => "number",
            Scalar::Str(_) => "string",
            Scalar::Array => "array",
            Scalar::Object => "object",
        }
    }
}

/// Converts the JSON value of `field` to the field's type.
#[inline]
pub(super) fn convert(field: &Field, scalar: Scalar) -> Result<Value, String> {
    match (field.ty, scalar) {
        (FieldType::String, Scalar::Str(s)) => Ok(Value::Str(s)),
        (FieldType::F64, Scalar::Int(v)) => Ok(Value::F64(v as f64)),
        (FieldType::F64, Scalar::UInt(v)) => Ok(Value::F64(v as f64)),
        (FieldType::F64, Scalar::Float(v)) => Ok(Value::F64(v)),
        (FieldType::Timestamp, Scalar::Str(s)) => parse_timestamp(&s)
            .map(Value::Ts)
            .ok_or_else(|| invalid(field, &s)),
        // The common integers first, without the call to `integral`.
        (FieldType::I64, Scalar::Int(v)) => Ok(Value::I64(v)),
        (FieldType::Timestamp, Scalar::Int(v)) => Ok(Value::Ts(v)),
        (FieldType::I64, Scalar::UInt(v)) if v <= i64::MAX as u64 => Ok(Value::I64(v as i64)),
        (FieldType::Timestamp, Scalar::UInt(v)) if v <= i64::MAX as u64 => Ok(Value::Ts(v as i64)),
        (FieldType::I64, s @ (Scalar::UInt(_) | Scalar::Float(_))) => {
            integral(field, s).map(Value::I64)
        }
        (FieldType::Timestamp, s @ (Scalar::UInt(_) | Scalar::Float(_))) => {
            integral(field, s).map(Value::Ts)
        }
        (ty, other) => Err(format!(
            "field {:?}: expected {}, found {}",
            field.name,
            type_name(ty),
            other.kind()
        )),
    }
}

/// A JSON number as an i64, if it is integral and in range (`2.0` is, `2.5` is not).
fn integral(field: &Field, number: Scalar) -> Result<i64, String> {
    /// 2^63 as f64: the first integral float above the i64 range.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    let out_of_range = |shown: &dyn fmt::Display| {
        format!(
            "field {:?}: expected {}, found out-of-range number {shown}",
            field.name,
            type_name(field.ty)
        )
    };
    match number {
        Scalar::Int(v) => Ok(v),
        Scalar::UInt(v) => i64::try_from(v).map_err(|_| out_of_range(&v)),
        Scalar::Float(v) if v.fract() != 0.0 => Err(format!(
            "field {:?}: expected {}, found non-integral number {v}",
            field.name,
            type_name(field.ty)
        )),
        // Integral and in [-2^63, 2^63): the cast is exact.
        Scalar::Float(v) if (-LIMIT..LIMIT).contains(&v) => Ok(v as i64),
        Scalar::Float(v) => Err(out_of_range(&v)),
        other => Err(format!(
            "field {:?}: expected {}, found {}",
            field.name,
            type_name(field.ty),
            other.kind()
        )),
    }
}

/// What the top level of a line was.
enum Shape {
    /// An object; `duplicate` is the first schema field whose key appeared twice.
    Object { duplicate: Option<usize> },
    /// Something else, named by its JSON type.
    NotObject(&'static str),
}

/// Parses the top-level object into the decoder's slots.
struct ObjectSeed<'a> {
    fields: &'a [Field],
    slots: &'a mut [Option<Scalar>],
}

impl<'de> DeserializeSeed<'de> for ObjectSeed<'_> {
    type Value = Shape;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Shape, D::Error> {
        de.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ObjectSeed<'_> {
    type Value = Shape;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Shape, A::Error> {
        let mut duplicate = None;
        while let Some(key) = map.next_key_seed(KeySeed {
            fields: self.fields,
        })? {
            match key {
                Some(i) => {
                    let value = map.next_value_seed(ScalarSeed)?;
                    if self.slots[i].replace(value).is_some() && duplicate.is_none() {
                        duplicate = Some(i);
                    }
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Shape::Object { duplicate })
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Shape, A::Error> {
        IgnoredAny.visit_seq(seq)?;
        Ok(Shape::NotObject("array"))
    }

    fn visit_unit<E>(self) -> Result<Shape, E> {
        Ok(Shape::NotObject("null"))
    }

    fn visit_bool<E>(self, _: bool) -> Result<Shape, E> {
        Ok(Shape::NotObject("boolean"))
    }

    fn visit_i64<E>(self, _: i64) -> Result<Shape, E> {
        Ok(Shape::NotObject("number"))
    }

    fn visit_u64<E>(self, _: u64) -> Result<Shape, E> {
        Ok(Shape::NotObject("number"))
    }

    fn visit_f64<E>(self, _: f64) -> Result<Shape, E> {
        Ok(Shape::NotObject("number"))
    }

    fn visit_str<E>(self, _: &str) -> Result<Shape, E> {
        Ok(Shape::NotObject("string"))
    }
}

/// Maps a key to the index of the schema field of that name (`None`: not in the schema).
struct KeySeed<'a> {
    fields: &'a [Field],
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = Option<usize>;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Option<usize>, D::Error> {
        de.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = Option<usize>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E>(self, key: &str) -> Result<Option<usize>, E> {
        Ok(self.fields.iter().position(|f| f.name == key))
    }
}

/// Reads one value as a [`Scalar`], skipping over containers.
struct ScalarSeed;

impl<'de> DeserializeSeed<'de> for ScalarSeed {
    type Value = Scalar;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Scalar, D::Error> {
        de.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ScalarSeed {
    type Value = Scalar;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<Scalar, E> {
        Ok(Scalar::Null)
    }

    fn visit_bool<E>(self, _: bool) -> Result<Scalar, E> {
        Ok(Scalar::Bool)
    }

    fn visit_i64<E>(self, v: i64) -> Result<Scalar, E> {
        Ok(Scalar::Int(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Scalar, E> {
        Ok(Scalar::UInt(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Scalar, E> {
        Ok(Scalar::Float(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Scalar, E> {
        Ok(Scalar::Str(Text::new(v)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Scalar, A::Error> {
        IgnoredAny.visit_seq(seq)?;
        Ok(Scalar::Array)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Scalar, A::Error> {
        IgnoredAny.visit_map(map)?;
        Ok(Scalar::Object)
    }
}
