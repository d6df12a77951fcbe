//! The JSON-lines decoder's fast path: one pass over a *flat* object — string keys without
//! escapes, values that are strings without escapes, numbers, `true`, `false` or `null` —
//! straight into the decoder's per-field slots.
//!
//! Anything else (nesting, escapes, control characters, malformed JSON, a duplicate schema
//! field, numbers serde_json would read as out of range) makes the scan give up
//! ([`scan`] returns `false`) and the line is decoded again by the general `serde_json` path,
//! which produces the reasons of the dead letters. So a line this path accepts is one the
//! general path accepts with the same values: numbers are read as serde_json reads them
//! (a positive integer as `u64`, a negative one as `i64`, `-0` as the float `-0.0`, anything
//! with a fraction or exponent as a correctly rounded `f64`).

use super::Text;

use super::json::Scalar;
use super::json_keys::FieldKeys;

/// Scans `text` (one line, valid UTF-8) as a flat object, filling `slots` (all `None` on
/// entry) by field name; false when the line needs the general path (the slots are then in
/// an unspecified state and must be cleared).
pub(super) fn scan(text: &str, fields: &FieldKeys, slots: &mut [Option<Scalar>]) -> bool {
    let b = text.as_bytes();
    let mut i = skip_ws(b, 0);
    if b.get(i) != Some(&b'{') {
        return false;
    }
    i = skip_ws(b, i + 1);
    if b.get(i) == Some(&b'}') {
        return skip_ws(b, i + 1) == b.len();
    }
    let mut next = 0;
    loop {
        let Some((key, after)) = string(text, i) else {
            return false;
        };
        // The key's bytes end one before `after` (its closing quote).
        let (key_start, key_len) = (after - 1 - key.len(), key.len());
        i = skip_ws(b, after);
        if b.get(i) != Some(&b':') {
            return false;
        }
        i = skip_ws(b, i + 1);
        let Some((value, after)) = scalar(text, i) else {
            return false;
        };
        if let Some(f) = fields.find(b, key_start, key_len, &mut next) {
            if slots[f].replace(value).is_some() {
                return false; // duplicate: the general path names it
            }
        }
        i = skip_ws(b, after);
        match b.get(i) {
            Some(b',') => i = skip_ws(b, i + 1),
            Some(b'}') => return skip_ws(b, i + 1) == b.len(),
            _ => return false,
        }
    }
}

/// The index of the first byte at or after `i` that is not JSON whitespace.
#[inline]
pub(super) fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while let Some(b' ' | b'\t' | b'\n' | b'\r') = b.get(i) {
        i += 1;
    }
    i
}

/// A string starting at `i` (at its `"`) without escapes or control characters: its text and
/// the index after the closing quote.
#[inline]
pub(super) fn string(text: &str, i: usize) -> Option<(&str, usize)> {
    let b = text.as_bytes();
    if b.get(i) != Some(&b'"') {
        return None;
    }
    let start = i + 1;
    // The first `"`, `\` or control character, eight bytes at a time; only `"` ends a plain
    // string (escapes and control characters go to the general path).
    let j = super::swar::string_end(b, start)?;
    if b.get(j) != Some(&b'"') {
        return None;
    }
    // Both ends are ASCII quotes: character boundaries.
    Some((text.get(start..j)?, j + 1))
}

/// A scalar value starting at `i`, and the index after it.
#[inline]
pub(super) fn scalar(text: &str, i: usize) -> Option<(Scalar, usize)> {
    let b = text.as_bytes();
    match *b.get(i)? {
        b'"' => string(text, i).map(|(s, end)| (Scalar::Str(Text::new(s)), end)),
        b't' => literal(b, i, b"true", Scalar::Bool),
        b'f' => literal(b, i, b"false", Scalar::Bool),
        b'n' => literal(b, i, b"null", Scalar::Null),
        b'-' | b'0'..=b'9' => number(text, i),
        _ => None,
    }
}

/// The literal `word` at `i`, as `value`.
fn literal(b: &[u8], i: usize, word: &[u8], value: Scalar) -> Option<(Scalar, usize)> {
    let end = i + word.len();
    (b.get(i..end)? == word).then_some((value, end))
}

/// The index after the digits starting at `i` (possibly `i`).
#[inline]
fn digits(b: &[u8], mut i: usize) -> usize {
    while let Some(b'0'..=b'9') = b.get(i) {
        i += 1;
    }
    i
}

/// Integers of at most this many digits cannot overflow a `u64`.
const SAFE_DIGITS: usize = 18;

/// A JSON number at `i` (RFC 8259 grammar), read as serde_json reads it. The integer part is
/// scanned and accumulated in one pass; a fraction or exponent continues in [`float`].
#[inline]
fn number(text: &str, i: usize) -> Option<(Scalar, usize)> {
    let b = text.as_bytes();
    let negative = b.get(i) == Some(&b'-');
    let int_start = i + usize::from(negative);
    let mut end = int_start;
    // Wrapping: the value is used only when there are at most `SAFE_DIGITS` digits.
    let mut magnitude = 0u64;
    while let Some(&c) = b.get(end) {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        magnitude = magnitude.wrapping_mul(10).wrapping_add(u64::from(d));
        end += 1;
    }
    let digits = end - int_start;
    if digits == 0 || (digits > 1 && b.get(int_start) == Some(&b'0')) {
        return None;
    }
    if let Some(b'.' | b'e' | b'E') = b.get(end) {
        return float(text, i, end);
    }
    if digits > SAFE_DIGITS {
        return None;
    }
    let value = match (negative, magnitude) {
        (false, m) => Scalar::UInt(m),
        // serde_json reads `-0` as a float.
        (true, 0) => Scalar::Float(-0.0),
        // At most 18 digits: within i64.
        (true, m) => Scalar::Int(-(m as i64)),
    };
    Some((value, end))
}

/// The rest of a number at `i` whose integer part ends at `int_end` (at a `.`, `e` or `E`):
/// its fraction and exponent, read as a correctly rounded f64.
fn float(text: &str, i: usize, int_end: usize) -> Option<(Scalar, usize)> {
    let b = text.as_bytes();
    let mut end = int_end;
    if b.get(end) == Some(&b'.') {
        let frac_end = digits(b, end + 1);
        if frac_end == end + 1 {
            return None;
        }
        end = frac_end;
    }
    if let Some(b'e' | b'E') = b.get(end) {
        let mut exp = end + 1;
        if let Some(b'+' | b'-') = b.get(exp) {
            exp += 1;
        }
        let exp_end = digits(b, exp);
        if exp_end == exp {
            return None;
        }
        end = exp_end;
    }
    // Correctly rounded, as serde_json's `float_roundtrip`; it rejects overflow.
    let v: f64 = text.get(i..end)?.parse().ok()?;
    v.is_finite().then_some((Scalar::Float(v), end))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Field, FieldType};
    use proptest::prelude::*;

    fn fields() -> Vec<Field> {
        ["a", "b"]
            .into_iter()
            .map(|name| Field {
                name: name.into(),
                ty: FieldType::F64,
            })
            .collect()
    }

    fn run(line: &str) -> Option<Vec<Option<Scalar>>> {
        let mut slots = vec![None, None];
        scan(line, &FieldKeys::new(&fields()), &mut slots).then_some(slots)
    }

    #[test]
    fn flat_objects_are_read() {
        let slots = run(r#" {"a": -12 , "x":"é", "b":"s t"} "#).unwrap();
        assert!(matches!(slots[0], Some(Scalar::Int(-12))));
        assert!(matches!(&slots[1], Some(Scalar::Str(s)) if s == "s t"));
        let slots = run(r#"{"a":1.5e3,"b":7,"c":true,"d":false,"e":null}"#).unwrap();
        assert!(matches!(slots[0], Some(Scalar::Float(v)) if v == 1500.0));
        assert!(matches!(slots[1], Some(Scalar::UInt(7))));
        let slots = run(r#"{"a":-0}"#).unwrap();
        assert!(matches!(slots[0], Some(Scalar::Float(v)) if v == 0.0 && v.is_sign_negative()));
        assert!(run("{}").is_some());
    }

    #[test]
    fn everything_else_goes_to_the_general_path() {
        for line in [
            r#"{"a":{"x":1}}"#,
            r#"{"a":[1]}"#,
            r#"{"a":"x\"y"}"#,
            r#"{"a\u0062":1}"#,
            "{\"a\":\"tab\there\"}",
            r#"{"a":01}"#,
            r#"{"a":1.}"#,
            r#"{"a":.5}"#,
            r#"{"a":1e}"#,
            r#"{"a":+1}"#,
            r#"{"a":1e400}"#,
            r#"{"a":1234567890123456789}"#,
            r#"{"a":1,"a":2}"#,
            r#"{"a":1,}"#,
            r#"{"a":1} x"#,
            r#"{"a" 1}"#,
            r#"{"a":tru}"#,
            r#"[1]"#,
            r#""#,
            r#"{"a":1"#,
        ] {
            assert!(run(line).is_none(), "{line}");
        }
    }

    /// What serde_json reads for a number literal, as a [`Scalar`] (the general path's view).
    fn serde_scalar(literal: &str) -> Option<String> {
        let v: serde_json::Value = serde_json::from_str(literal).ok()?;
        let n = v.as_number()?;
        Some(if let Some(u) = n.as_u64() {
            format!("u{u}")
        } else if let Some(i) = n.as_i64() {
            format!("i{i}")
        } else {
            format!("f{:?}", n.as_f64()?)
        })
    }

    fn ours(literal: &str) -> Option<String> {
        let (s, end) = number(literal, 0)?;
        (end == literal.len()).then(|| match s {
            Scalar::UInt(u) => format!("u{u}"),
            Scalar::Int(i) => format!("i{i}"),
            Scalar::Float(f) => format!("f{f:?}"),
            _ => unreachable!("numbers only"),
        })
    }

    /// A JSON value of a line, sometimes one the scan leaves to the general path.
    fn value() -> impl Strategy<Value = String> {
        prop_oneof![
            "-?[0-9]{1,3}(\\.[0-9]{1,2})?([eE]-?[0-9])?",
            "\"[a-z é]{0,6}\"",
            Just("true".to_string()),
            Just("null".to_string()),
            Just("\"a\\\"b\"".to_string()),
            Just("{\"n\":1}".to_string()),
            Just("[]".to_string()),
        ]
    }

    fn line() -> impl Strategy<Value = String> {
        let member = ("[abx]", value(), "[ ]{0,1}")
            .prop_map(|(k, v, ws)| format!("{ws}\"{k}\"{ws}:{ws}{v}{ws}"));
        proptest::collection::vec(member, 0..4).prop_map(|m| format!("{{{}}}", m.join(",")))
    }

    proptest! {
        #[test]
        fn flat_lines_read_as_serde_json_reads_them(line in line()) {
            let schema = crate::record::Schema { fields: fields() };
            let mut dec = crate::record::JsonLinesDecoder::new(schema);
            let mut fast = vec![None, None];
            if scan(&line, &FieldKeys::new(&fields()), &mut fast) {
                prop_assert!(dec.decode_general(&line).is_ok());
                prop_assert_eq!(format!("{fast:?}"), format!("{:?}", dec.slots));
            }
        }

        #[test]
        fn numbers_read_as_serde_json_reads_them(literal in "-?[0-9]{0,20}(\\.[0-9]{0,4})?([eE][+-]?[0-9]{0,3})?") {
            // Ours accepts a subset of what serde_json accepts, with the same value.
            if let Some(mine) = ours(&literal) {
                prop_assert_eq!(Some(mine), serde_scalar(&literal));
            }
        }
    }
}
