//! Shared pieces of the codecs: typed parsing of field text, number formatting, reason texts.
//!
//! Numbers are written with [`itoa`] (i64) and [`ryu`] (f64). `ryu` prints the shortest text
//! that parses back to the same bits (Rust's `{}` does too, but spells large and tiny values
//! out in full, e.g. 1e300 as 301 digits, and is slower); finite floats always carry a `.` or
//! an exponent (`1.0`, `1e16`, `5e-324`), so JSON readers see a float.

#[cfg(test)]
use super::timestamp::parse_timestamp;
use super::{Field, FieldType};
#[cfg(test)]
use super::{Text, Value};

/// The name of a field type as reasons spell it.
pub(crate) fn type_name(ty: FieldType) -> &'static str {
    match ty {
        FieldType::I64 => "i64",
        FieldType::F64 => "f64",
        FieldType::String => "string",
        FieldType::Timestamp => "timestamp",
    }
}

/// Parses the text of one field (already unquoted) as the field's type: the definition the
/// decoders' [`super::field_parse::push_field`] is tested against (it writes into the row
/// without this function's `Result<Value, String>`).
///
/// Errors are reasons of the form `field "value": invalid i64 "abc"`; an empty text is invalid
/// for every type but string.
#[cfg(test)]
pub(crate) fn parse_text(field: &Field, text: &str) -> Result<Value, String> {
    let parsed = match field.ty {
        FieldType::String => return Ok(Value::Str(Text::new(text))),
        FieldType::I64 => super::int_text::parse_i64(text.as_bytes()).map(Value::I64),
        FieldType::F64 => text.parse().ok().map(Value::F64),
        FieldType::Timestamp => parse_timestamp(text).map(Value::Ts),
    };
    parsed.ok_or_else(|| invalid(field, text))
}

/// Reason for a text that does not parse as the field's type.
pub(crate) fn invalid(field: &Field, text: &str) -> String {
    format!(
        "field {:?}: invalid {} {:?}",
        field.name,
        type_name(field.ty),
        text
    )
}

/// Reason for a line that is not valid UTF-8; `valid_up_to` is the 0-based offset of the first
/// bad byte.
pub(crate) fn invalid_utf8(valid_up_to: usize) -> String {
    format!("invalid UTF-8 at byte {valid_up_to}")
}

/// Appends an i64 in decimal (via `itoa`). The encoders write through
/// [`super::out_cursor::Cursor`]; these `Vec` versions are the definitions they are tested
/// against.
#[cfg(test)]
pub(crate) fn write_i64(out: &mut Vec<u8>, v: i64) {
    out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
}

/// Appends a finite f64 as its shortest round-trip text (`ryu`).
#[cfg(test)]
pub(crate) fn write_finite_f64(out: &mut Vec<u8>, v: f64) {
    debug_assert!(v.is_finite());
    out.extend_from_slice(ryu::Buffer::new().format_finite(v).as_bytes());
}

/// Appends any f64 so that Rust's `f64::from_str` reads it back: finite values via `ryu`,
/// otherwise `NaN`, `inf` or `-inf`.
#[cfg(test)]
pub(crate) fn write_f64(out: &mut Vec<u8>, v: f64) {
    if v.is_finite() {
        write_finite_f64(out, v);
    } else if v.is_nan() {
        out.extend_from_slice(b"NaN");
    } else if v > 0.0 {
        out.extend_from_slice(b"inf");
    } else {
        out.extend_from_slice(b"-inf");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(name: &str, ty: FieldType) -> Field {
        Field {
            name: name.into(),
            ty,
        }
    }

    fn f64_text(v: f64) -> String {
        let mut out = Vec::new();
        write_f64(&mut out, v);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn f64_text_round_trips() {
        assert_eq!(f64_text(1.0), "1.0");
        assert_eq!(f64_text(0.1), "0.1");
        assert_eq!(f64_text(-0.0), "-0.0");
        assert_eq!(f64_text(1e300), "1e300");
        assert_eq!(f64_text(f64::NAN), "NaN");
        assert_eq!(f64_text(f64::INFINITY), "inf");
        assert_eq!(f64_text(f64::NEG_INFINITY), "-inf");
        for v in [
            f64::MIN_POSITIVE,
            f64::MAX,
            f64::MIN,
            5e-324,
            123.456e-7,
            -0.0,
            f64::INFINITY,
        ] {
            assert_eq!(f64_text(v).parse::<f64>().unwrap().to_bits(), v.to_bits());
        }
    }

    #[test]
    fn i64_text() {
        let mut out = Vec::new();
        write_i64(&mut out, i64::MIN);
        assert_eq!(out, b"-9223372036854775808");
    }

    #[test]
    fn parse_text_by_type() {
        let i = field("value", FieldType::I64);
        assert_eq!(parse_text(&i, "-12"), Ok(Value::I64(-12)));
        assert_eq!(parse_text(&i, "+12"), Ok(Value::I64(12)));
        assert_eq!(
            parse_text(&i, "1.0").unwrap_err(),
            r#"field "value": invalid i64 "1.0""#
        );
        assert_eq!(
            parse_text(&i, "").unwrap_err(),
            r#"field "value": invalid i64 """#
        );
        let f = field("x", FieldType::F64);
        assert_eq!(parse_text(&f, "1e3"), Ok(Value::F64(1000.0)));
        assert_eq!(parse_text(&f, ".5"), Ok(Value::F64(0.5)));
        assert_eq!(
            parse_text(&f, "1,5").unwrap_err(),
            r#"field "x": invalid f64 "1,5""#
        );
        let s = field("s", FieldType::String);
        assert_eq!(parse_text(&s, ""), Ok(Value::Str("".into())));
        let t = field("ts", FieldType::Timestamp);
        assert_eq!(parse_text(&t, "5"), Ok(Value::Ts(5)));
        assert_eq!(
            parse_text(&t, "soon").unwrap_err(),
            r#"field "ts": invalid timestamp "soon""#
        );
    }
}
