//! Field texts into a row without intermediate results (issue 10, step 4).
//!
//! The decoders used to parse each field into a `Result<Value, String>` and push the value: a
//! 32-byte result returned through memory per field, and an error type that owns a `String`.
//! Here each field is parsed by its schema type and written into the row directly; a failure is
//! a [`BadField`] — the field's index and its text, borrowed from the line, no allocation — and
//! becomes the dead-letter reason ([`BadField::reason`]) only on that error path, with the same
//! words as before (`field "value": invalid i64 "abc"`).

use super::format::invalid;
use super::int_text::parse_i64;
use super::timestamp::parse_timestamp;
use super::{Field, FieldType, Row, Text, Value};

/// A field whose text does not parse as its type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BadField<'a> {
    /// The field's index in the schema.
    pub index: usize,
    /// Its text (unquoted).
    pub text: &'a str,
}

impl BadField<'_> {
    /// The dead-letter reason, as [`super::format::parse_text`] words it.
    #[cold]
    pub(crate) fn reason(&self, fields: &[Field]) -> String {
        match fields.get(self.index) {
            Some(field) => invalid(field, self.text),
            None => format!("field {}: invalid {:?}", self.index + 1, self.text),
        }
    }
}

/// Parses `text` as `ty` and appends it to `row`; false (the row unchanged) when it does not
/// parse. An empty text is invalid for every type but string.
#[inline(always)]
pub(crate) fn push_field(row: &mut Row, ty: FieldType, text: &str) -> bool {
    let value = match ty {
        FieldType::String => Value::Str(Text::new(text)),
        FieldType::I64 => match parse_i64(text.as_bytes()) {
            Some(v) => Value::I64(v),
            None => return false,
        },
        FieldType::Timestamp => match parse_i64(text.as_bytes()) {
            Some(v) => Value::Ts(v),
            None => match parse_timestamp(text) {
                Some(v) => Value::Ts(v),
                None => return false,
            },
        },
        FieldType::F64 => match text.parse() {
            Ok(v) => Value::F64(v),
            Err(_) => return false,
        },
    };
    row.push(value);
    true
}

/// Parses the texts of `fields` (one per field, in order) into `row`.
///
/// # Errors
/// The first field that does not parse.
#[inline(always)]
pub(crate) fn push_fields<'a>(
    fields: &[Field],
    row: &mut Row,
    texts: impl Iterator<Item = &'a str>,
) -> Result<(), BadField<'a>> {
    for (index, (field, text)) in fields.iter().zip(texts).enumerate() {
        if !push_field(row, field.ty, text) {
            return Err(BadField { index, text });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::format::parse_text;
    use proptest::prelude::*;

    fn field(ty: FieldType) -> Field {
        Field {
            name: "f".into(),
            ty,
        }
    }

    fn ty() -> impl Strategy<Value = FieldType> {
        prop_oneof![
            Just(FieldType::String),
            Just(FieldType::I64),
            Just(FieldType::F64),
            Just(FieldType::Timestamp),
        ]
    }

    proptest! {
        /// The same values, and failures with the same reasons, as the general `parse_text`.
        #[test]
        fn push_field_agrees_with_parse_text(
            ty in ty(),
            text in prop_oneof![
                "[-+]?[0-9]{0,20}",
                "[-+0-9.eE]{0,8}",
                "20[0-9]{2}-0[1-9]-[0-2][0-9]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,3})?Z",
                ".{0,12}",
            ],
        ) {
            let f = field(ty);
            let mut row = Row::new();
            let ok = push_field(&mut row, ty, &text);
            match parse_text(&f, &text) {
                Ok(v) => {
                    prop_assert!(ok);
                    prop_assert_eq!(row.as_slice(), std::slice::from_ref(&v));
                }
                Err(reason) => {
                    prop_assert!(!ok);
                    prop_assert!(row.is_empty());
                    let bad = BadField { index: 0, text: &text };
                    prop_assert_eq!(bad.reason(std::slice::from_ref(&f)), reason);
                }
            }
        }
    }

    #[test]
    fn the_first_bad_field_is_named_with_its_text() {
        let fields = [
            field(FieldType::String),
            Field {
                name: "value".into(),
                ty: FieldType::I64,
            },
            field(FieldType::I64),
        ];
        let mut row = Row::new();
        let err = push_fields(&fields, &mut row, ["k", "1x", "y"].into_iter()).unwrap_err();
        assert_eq!(
            err,
            BadField {
                index: 1,
                text: "1x"
            }
        );
        assert_eq!(err.reason(&fields), r#"field "value": invalid i64 "1x""#);
        assert_eq!(row.len(), 1);
    }
}
