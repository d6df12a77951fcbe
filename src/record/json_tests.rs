//! Tests of the JSON-lines codec: every decoding error with its exact reason, lookups by name,
//! timestamps, and the encoder's output.

use super::{Field, FieldType, JsonLinesDecoder, JsonLinesEncoder, Row, Schema, Value};
use crate::sink::Encoder;
use crate::source::LineDecoder;

fn schema(fields: &[(&str, FieldType)]) -> Schema {
    Schema {
        fields: fields
            .iter()
            .map(|(n, ty)| Field {
                name: (*n).into(),
                ty: *ty,
            })
            .collect(),
    }
}

/// key: string, value: i64, ts: timestamp.
fn kvt() -> Schema {
    schema(&[
        ("key", FieldType::String),
        ("value", FieldType::I64),
        ("ts", FieldType::Timestamp),
    ])
}

fn decode(dec: &mut JsonLinesDecoder, line: &str) -> Result<Row, String> {
    let mut out = Vec::new();
    dec.decode(line.as_bytes(), &mut out)?;
    assert_eq!(out.len(), 1);
    Ok(out.pop().unwrap())
}

fn row(values: Vec<Value>) -> Row {
    values.into_iter().collect()
}

fn s(v: &str) -> Value {
    Value::Str(v.into())
}

#[test]
fn fields_by_name_extra_keys_ignored() {
    let mut dec = JsonLinesDecoder::new(kvt());
    let line = r#"{"ts": 5, "extra": {"deep": [1, {"x": null}]}, "value": -3, "key": "k\"1", "more": [true]}"#;
    assert_eq!(
        decode(&mut dec, line).unwrap(),
        row(vec![s("k\"1"), Value::I64(-3), Value::Ts(5)])
    );
    let line = "\t{\"key\":\"\\u00e9\\n\",\"value\":9223372036854775807,\"ts\":\"2024-05-01T12:00:00Z\"}\r";
    assert_eq!(
        decode(&mut dec, line).unwrap(),
        row(vec![
            s("é\n"),
            Value::I64(i64::MAX),
            Value::Ts(1_714_564_800_000)
        ])
    );
}

#[test]
fn numbers_by_type() {
    let sch = schema(&[
        ("i", FieldType::I64),
        ("f", FieldType::F64),
        ("t", FieldType::Timestamp),
    ]);
    let mut dec = JsonLinesDecoder::new(sch);
    assert_eq!(
        decode(&mut dec, r#"{"i": 2.0, "f": 7, "t": 1e3}"#).unwrap(),
        row(vec![Value::I64(2), Value::F64(7.0), Value::Ts(1000)])
    );
    assert_eq!(
        decode(
            &mut dec,
            r#"{"i": -9223372036854775808, "f": 18446744073709551615, "t": -1}"#
        )
        .unwrap(),
        row(vec![
            Value::I64(i64::MIN),
            Value::F64(18_446_744_073_709_551_615.0),
            Value::Ts(-1)
        ])
    );
    assert_eq!(
        decode(&mut dec, r#"{"i": -1e18, "f": 0.1, "t": "42"}"#).unwrap(),
        row(vec![
            Value::I64(-1_000_000_000_000_000_000),
            Value::F64(0.1),
            Value::Ts(42)
        ])
    );
}

#[test]
fn rfc3339_variants_in_json() {
    let mut dec = JsonLinesDecoder::new(schema(&[("ts", FieldType::Timestamp)]));
    let noon = 1_714_564_800_000;
    for (text, ms) in [
        ("2024-05-01T12:00:00Z", noon),
        ("2024-05-01T14:00:00+02:00", noon),
        ("2024-05-01T12:00:00.007Z", noon + 7),
        ("2024-05-01T08:00:00.9-04:00", noon + 900),
    ] {
        let line = format!(r#"{{"ts": "{text}"}}"#);
        assert_eq!(
            decode(&mut dec, &line).unwrap(),
            row(vec![Value::Ts(ms)]),
            "{text}"
        );
    }
}

#[test]
fn missing_and_duplicate_fields() {
    let mut dec = JsonLinesDecoder::new(kvt());
    assert_eq!(
        decode(&mut dec, r#"{"key": "a", "value": 1}"#).unwrap_err(),
        r#"missing field "ts""#
    );
    assert_eq!(
        decode(&mut dec, "{}").unwrap_err(),
        r#"missing field "key""#
    );
    assert_eq!(
        decode(&mut dec, r#"{"key": "a", "value": 1, "ts": 1, "value": 2}"#).unwrap_err(),
        r#"duplicate field "value""#
    );
    // Slots are cleared between lines: a previous line's values do not leak in.
    assert!(decode(&mut dec, r#"{"key": "a", "value": 1, "ts": 1}"#).is_ok());
    assert_eq!(
        decode(&mut dec, r#"{"key": "a", "value": 1}"#).unwrap_err(),
        r#"missing field "ts""#
    );
}

#[test]
fn type_mismatches() {
    let mut dec = JsonLinesDecoder::new(kvt());
    let cases = [
        (
            r#"{"key": "a", "value": "1", "ts": 1}"#,
            r#"field "value": expected i64, found string"#,
        ),
        (
            r#"{"key": "a", "value": null, "ts": 1}"#,
            r#"field "value": expected i64, found null"#,
        ),
        (
            r#"{"key": "a", "value": true, "ts": 1}"#,
            r#"field "value": expected i64, found boolean"#,
        ),
        (
            r#"{"key": "a", "value": [1], "ts": 1}"#,
            r#"field "value": expected i64, found array"#,
        ),
        (
            r#"{"key": "a", "value": {"v": 1}, "ts": 1}"#,
            r#"field "value": expected i64, found object"#,
        ),
        (
            r#"{"key": 1, "value": 1, "ts": 1}"#,
            r#"field "key": expected string, found number"#,
        ),
        (
            r#"{"key": "a", "value": 1, "ts": false}"#,
            r#"field "ts": expected timestamp, found boolean"#,
        ),
        (
            r#"{"key": "a", "value": 1.5, "ts": 1}"#,
            r#"field "value": expected i64, found non-integral number 1.5"#,
        ),
        (
            r#"{"key": "a", "value": 9223372036854775808, "ts": 1}"#,
            r#"field "value": expected i64, found out-of-range number 9223372036854775808"#,
        ),
        (
            r#"{"key": "a", "value": 1e19, "ts": 1}"#,
            r#"field "value": expected i64, found out-of-range number 10000000000000000000"#,
        ),
        (
            r#"{"key": "a", "value": 1, "ts": 0.5}"#,
            r#"field "ts": expected timestamp, found non-integral number 0.5"#,
        ),
        (
            r#"{"key": "a", "value": 1, "ts": "noon"}"#,
            r#"field "ts": invalid timestamp "noon""#,
        ),
        (
            r#"{"key": "a", "value": 1, "ts": ""}"#,
            r#"field "ts": invalid timestamp """#,
        ),
    ];
    for (line, reason) in cases {
        assert_eq!(decode(&mut dec, line).unwrap_err(), reason, "{line}");
    }
    let mut f = JsonLinesDecoder::new(schema(&[("x", FieldType::F64)]));
    assert_eq!(
        decode(&mut f, r#"{"x": "1.0"}"#).unwrap_err(),
        r#"field "x": expected f64, found string"#
    );
}

#[test]
fn not_an_object() {
    let mut dec = JsonLinesDecoder::new(kvt());
    for (line, kind) in [
        ("[1, 2]", "array"),
        ("\"x\"", "string"),
        ("3", "number"),
        ("null", "null"),
        ("true", "boolean"),
    ] {
        assert_eq!(
            decode(&mut dec, line).unwrap_err(),
            format!("expected a JSON object, found {kind}")
        );
    }
}

#[test]
fn invalid_json_and_utf8() {
    let mut dec = JsonLinesDecoder::new(kvt());
    assert_eq!(
        decode(&mut dec, "").unwrap_err(),
        "invalid JSON: EOF while parsing a value at line 1 column 0"
    );
    assert_eq!(
        decode(&mut dec, r#"{"key": "a" "value": 1}"#).unwrap_err(),
        "invalid JSON: expected `,` or `}` at line 1 column 13"
    );
    assert_eq!(
        decode(&mut dec, r#"{"key": "a", "value": 1, "ts": 1} x"#).unwrap_err(),
        "invalid JSON: trailing characters at line 1 column 35"
    );
    assert_eq!(
        decode(&mut dec, "{\"key\": \"a\n\"}")
            .unwrap_err()
            .split(" at ")
            .next(),
        Some("invalid JSON: control character (\\u0000-\\u001F) found while parsing a string")
    );
    let mut out = Vec::new();
    assert_eq!(
        dec.decode(b"{\"key\": \"\xe9\", \"value\": 1, \"ts\": 1}", &mut out)
            .unwrap_err(),
        "invalid UTF-8 at byte 9"
    );
    assert!(out.is_empty());
}

#[test]
fn encoder_output() {
    let sch = schema(&[
        ("s", FieldType::String),
        ("i", FieldType::I64),
        ("f", FieldType::F64),
        ("t", FieldType::Timestamp),
        ("q\"k", FieldType::F64),
    ]);
    let enc = JsonLinesEncoder::new(sch);
    assert_eq!(enc.header(), None);
    let mut out = Vec::new();
    enc.encode(
        &row(vec![
            s("a\"b\\c\n\u{1}é"),
            Value::I64(-5),
            Value::F64(0.5),
            Value::Ts(1_714_564_800_000),
            Value::F64(1.0),
        ]),
        &mut out,
    );
    enc.encode(
        &row(vec![
            Value::Null,
            Value::I64(0),
            Value::F64(f64::NAN),
            Value::Ts(0),
            Value::F64(f64::INFINITY),
        ]),
        &mut out,
    );
    // Shorter row: missing fields are null.
    enc.encode(&row(vec![s("x")]), &mut out);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        concat!(
            r#"{"s":"a\"b\\c\n\u0001é","i":-5,"f":0.5,"t":1714564800000,"q\"k":1.0}"#,
            "\n",
            r#"{"s":null,"i":0,"f":null,"t":0,"q\"k":null}"#,
            "\n",
            r#"{"s":"x","i":null,"f":null,"t":null,"q\"k":null}"#,
            "\n",
        )
    );
    let mut out = Vec::new();
    JsonLinesEncoder::new(Schema::default()).encode(&Row::new(), &mut out);
    assert_eq!(out, b"{}\n");
}

#[test]
fn encoder_output_is_valid_json() {
    let sch = schema(&[("s", FieldType::String), ("f", FieldType::F64)]);
    let enc = JsonLinesEncoder::new(sch);
    let mut out = Vec::new();
    enc.encode(
        &row(vec![s("\u{7f}\u{2028}\t"), Value::F64(-1e-300)]),
        &mut out,
    );
    let parsed: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(parsed["s"], "\u{7f}\u{2028}\t");
    assert_eq!(parsed["f"], -1e-300);
}

#[test]
fn short_strings_stay_inline() {
    let mut dec = JsonLinesDecoder::new(kvt());
    let r = decode(
        &mut dec,
        r#"{"key": "abcdefghijklmno", "value": 1, "ts": 1}"#,
    )
    .unwrap();
    match &r[0] {
        Value::Str(k) => {
            assert_eq!(k.len(), crate::record::Text::INLINE);
            assert!(!k.is_heap_allocated());
        }
        other => panic!("{other:?}"),
    }
}
