//! Tests of the CSV codec: every decoding error with its exact reason, the header check,
//! quoting, CRLF and timestamps.

use super::{CsvDecoder, CsvEncoder, Field, FieldType, Row, Schema, Value};
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

fn decode(dec: &mut CsvDecoder, line: &str) -> Result<Row, String> {
    decode_bytes(dec, line.as_bytes())
}

fn decode_bytes(dec: &mut CsvDecoder, line: &[u8]) -> Result<Row, String> {
    let mut out = Vec::new();
    dec.decode(line, &mut out)?;
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
fn decodes_plain_line() {
    let mut dec = CsvDecoder::new(kvt(), false);
    let r = decode(&mut dec, "a,-7,1714564800000").unwrap();
    assert_eq!(
        r,
        row(vec![s("a"), Value::I64(-7), Value::Ts(1_714_564_800_000)])
    );
}

#[test]
fn decodes_every_type() {
    let sch = schema(&[
        ("i", FieldType::I64),
        ("f", FieldType::F64),
        ("s", FieldType::String),
        ("t", FieldType::Timestamp),
    ]);
    let mut dec = CsvDecoder::new(sch, false);
    let r = decode(
        &mut dec,
        "+3,-2.5e3,hello world,2024-05-01T14:00:00.250+02:00",
    )
    .unwrap();
    assert_eq!(
        r,
        row(vec![
            Value::I64(3),
            Value::F64(-2500.0),
            s("hello world"),
            Value::Ts(1_714_564_800_250)
        ])
    );
    let r = decode(&mut dec, "0,inf,,0").unwrap();
    assert_eq!(
        r,
        row(vec![
            Value::I64(0),
            Value::F64(f64::INFINITY),
            s(""),
            Value::Ts(0)
        ])
    );
}

#[test]
fn rfc3339_variants_in_csv() {
    let mut dec = CsvDecoder::new(schema(&[("ts", FieldType::Timestamp)]), false);
    let noon = 1_714_564_800_000;
    for (text, ms) in [
        ("2024-05-01T12:00:00Z", noon),
        ("2024-05-01T12:00:00+00:00", noon),
        ("2024-05-01T14:00:00+02:00", noon),
        ("2024-05-01T10:00:00-02:00", noon),
        ("2024-05-01T12:00:00.5Z", noon + 500),
        ("2024-05-01T12:00:00.123456Z", noon + 123),
        ("\"2024-05-01T12:00:00Z\"", noon),
        ("-1", -1),
    ] {
        assert_eq!(
            decode(&mut dec, text).unwrap(),
            row(vec![Value::Ts(ms)]),
            "{text}"
        );
    }
}

#[test]
fn quoted_fields_with_commas_quotes_and_newlines() {
    let sch = schema(&[
        ("a", FieldType::String),
        ("b", FieldType::String),
        ("n", FieldType::I64),
    ]);
    let mut dec = CsvDecoder::new(sch, false);
    let r = decode(&mut dec, r#""x,y","say ""hi""","5""#).unwrap();
    assert_eq!(r, row(vec![s("x,y"), s(r#"say "hi""#), Value::I64(5)]));
    let r = decode(&mut dec, "\"line\nbreak\",\"\",1").unwrap();
    assert_eq!(r, row(vec![s("line\nbreak"), s(""), Value::I64(1)]));
    let r = decode(&mut dec, "\"cr\rinside\",bare\rcr,2").unwrap();
    assert_eq!(r, row(vec![s("cr\rinside"), s("bare\rcr"), Value::I64(2)]));
}

#[test]
fn long_and_unicode_strings() {
    let sch = schema(&[("a", FieldType::String), ("b", FieldType::String)]);
    let mut dec = CsvDecoder::new(sch, false);
    let long = "é".repeat(300);
    let line = format!("\"{long}\",\u{feff}ünï");
    let r = decode(&mut dec, &line).unwrap();
    assert_eq!(r, row(vec![s(&long), s("\u{feff}ünï")]));
    // A data line's leading BOM is data, on every line.
    for _ in 0..2 {
        let r = decode(&mut dec, "\u{feff}x,y").unwrap();
        assert_eq!(r, row(vec![s("\u{feff}x"), s("y")]));
    }
}

#[test]
fn many_fields_grow_scratch() {
    let names: Vec<String> = (0..40).map(|i| format!("f{i}")).collect();
    let sch = Schema {
        fields: names
            .iter()
            .map(|n| Field {
                name: n.clone(),
                ty: FieldType::I64,
            })
            .collect(),
    };
    let mut dec = CsvDecoder::new(sch, false);
    let line: Vec<String> = (0..40).map(|i| i.to_string()).collect();
    let r = decode(&mut dec, &line.join(",")).unwrap();
    assert_eq!(r.len(), 40);
    assert_eq!(r[39], Value::I64(39));
    let err = decode(&mut dec, &format!("{},1", line.join(","))).unwrap_err();
    assert_eq!(err, "expected 40 fields, found 41");
}

#[test]
fn crlf_tolerated() {
    let mut dec = CsvDecoder::new(kvt(), false);
    let r = decode(&mut dec, "a,1,2\r").unwrap();
    assert_eq!(r, row(vec![s("a"), Value::I64(1), Value::Ts(2)]));
    let mut dec = CsvDecoder::new(schema(&[("v", FieldType::String)]), false);
    assert_eq!(decode(&mut dec, "\"x\r\"\r").unwrap(), row(vec![s("x\r")]));
}

#[test]
fn wrong_field_count() {
    let mut dec = CsvDecoder::new(kvt(), false);
    assert_eq!(
        decode(&mut dec, "a,1").unwrap_err(),
        "expected 3 fields, found 2"
    );
    assert_eq!(
        decode(&mut dec, "a,1,2,3").unwrap_err(),
        "expected 3 fields, found 4"
    );
    assert_eq!(
        decode(&mut dec, "\"a,1\",2").unwrap_err(),
        "expected 3 fields, found 2"
    );
    let mut one = CsvDecoder::new(schema(&[("v", FieldType::I64)]), false);
    assert_eq!(
        decode(&mut one, "1,2").unwrap_err(),
        "expected 1 field, found 2"
    );
}

#[test]
fn unparsable_values() {
    let mut dec = CsvDecoder::new(kvt(), false);
    assert_eq!(
        decode(&mut dec, "a,abc,1").unwrap_err(),
        r#"field "value": invalid i64 "abc""#
    );
    assert_eq!(
        decode(&mut dec, "a,1.5,1").unwrap_err(),
        r#"field "value": invalid i64 "1.5""#
    );
    assert_eq!(
        decode(&mut dec, "a, 1,1").unwrap_err(),
        r#"field "value": invalid i64 " 1""#
    );
    assert_eq!(
        decode(&mut dec, "a,9223372036854775808,1").unwrap_err(),
        r#"field "value": invalid i64 "9223372036854775808""#
    );
    assert_eq!(
        decode(&mut dec, "a,,1").unwrap_err(),
        r#"field "value": invalid i64 """#
    );
    assert_eq!(
        decode(&mut dec, "a,1,").unwrap_err(),
        r#"field "ts": invalid timestamp """#
    );
    assert_eq!(
        decode(&mut dec, "a,1,2024-05-01T12:00:00").unwrap_err(),
        r#"field "ts": invalid timestamp "2024-05-01T12:00:00""#
    );
    assert_eq!(
        decode(&mut dec, "a,1,2024-02-30T12:00:00Z").unwrap_err(),
        r#"field "ts": invalid timestamp "2024-02-30T12:00:00Z""#
    );
    let mut f = CsvDecoder::new(schema(&[("x", FieldType::F64)]), false);
    assert_eq!(
        decode(&mut f, "1.2.3").unwrap_err(),
        r#"field "x": invalid f64 "1.2.3""#
    );
    assert_eq!(
        decode(&mut f, "\"\"").unwrap_err(),
        r#"field "x": invalid f64 """#
    );
    // The reason escapes control characters and quotes of the offending text.
    assert_eq!(
        decode(&mut f, "\"a\"\"\tb\"").unwrap_err(),
        r#"field "x": invalid f64 "a\"\tb""#
    );
}

#[test]
fn invalid_utf8() {
    let mut dec = CsvDecoder::new(kvt(), false);
    assert_eq!(
        decode_bytes(&mut dec, b"abcdefg\xff,1,2").unwrap_err(),
        "invalid UTF-8 at byte 7"
    );
    assert_eq!(
        decode_bytes(&mut dec, b"\xc3,1,2").unwrap_err(),
        "invalid UTF-8 at byte 0"
    );
    // The decoder is still usable afterwards.
    assert!(decode(&mut dec, "a,1,2").is_ok());
}

#[test]
fn empty_line_and_bad_quotes() {
    let mut dec = CsvDecoder::new(kvt(), false);
    assert_eq!(decode(&mut dec, "").unwrap_err(), "empty line");
    assert_eq!(decode(&mut dec, "\r").unwrap_err(), "empty line");
    assert_eq!(
        decode(&mut dec, "\"a,1,2").unwrap_err(),
        "unbalanced quotes"
    );
    assert_eq!(
        decode(&mut dec, "a\",1,2").unwrap_err(),
        "unbalanced quotes"
    );
    assert_eq!(
        decode(&mut dec, "a,1\n,2").unwrap_err(),
        "line break inside the line"
    );
    assert_eq!(
        decode(&mut dec, "a,1,2").unwrap(),
        row(vec![s("a"), Value::I64(1), Value::Ts(2)])
    );
}

#[test]
fn failed_line_appends_nothing() {
    let mut dec = CsvDecoder::new(kvt(), false);
    let mut out = Vec::new();
    assert!(dec.decode(b"a,1,x", &mut out).is_err());
    assert!(out.is_empty());
}

#[test]
fn header_check() {
    let mut dec = CsvDecoder::new(kvt(), true);
    assert!(dec.has_header());
    assert!(!CsvDecoder::new(kvt(), false).has_header());
    assert_eq!(dec.check_header(b"key,value,ts"), Ok(()));
    assert_eq!(dec.check_header(b"key,value,ts\r"), Ok(()));
    assert_eq!(dec.check_header(b"\xef\xbb\xbfkey,value,ts"), Ok(()));
    assert_eq!(dec.check_header(b"\"key\",value,\"ts\""), Ok(()));
    assert_eq!(
        dec.check_header(b"key,val,ts").unwrap_err(),
        r#"header column 2: expected "value", found "val""#
    );
    assert_eq!(
        dec.check_header(b"key,ts,value").unwrap_err(),
        r#"header column 2: expected "value", found "ts""#
    );
    assert_eq!(
        dec.check_header(b"key,value").unwrap_err(),
        r#"header column 3: expected "ts", found nothing"#
    );
    assert_eq!(
        dec.check_header(b"key,value,ts,extra").unwrap_err(),
        r#"header column 4: unexpected extra column "extra""#
    );
    assert_eq!(
        dec.check_header(b"Key,value,ts").unwrap_err(),
        r#"header column 1: expected "key", found "Key""#
    );
    assert_eq!(
        dec.check_header(b"key,\xffvalue,ts").unwrap_err(),
        "header: invalid UTF-8 at byte 4"
    );
    assert_eq!(dec.check_header(b"").unwrap_err(), "header: empty line");
    assert_eq!(
        dec.check_header(b"\"key,value,ts").unwrap_err(),
        "header: unbalanced quotes"
    );
}

#[test]
fn encoder_quotes_only_when_needed() {
    let sch = schema(&[
        ("s", FieldType::String),
        ("i", FieldType::I64),
        ("f", FieldType::F64),
        ("t", FieldType::Timestamp),
    ]);
    let enc = CsvEncoder::new(sch, false);
    assert_eq!(enc.header(), None);
    let mut out = Vec::new();
    enc.encode(
        &row(vec![
            s("plain text"),
            Value::I64(-5),
            Value::F64(0.1),
            Value::Ts(7),
        ]),
        &mut out,
    );
    enc.encode(
        &row(vec![s("a,b"), Value::Null, Value::F64(1.0), Value::Null]),
        &mut out,
    );
    enc.encode(
        &row(vec![
            s(r#"say "hi""#),
            Value::I64(0),
            Value::F64(f64::NAN),
            Value::Ts(0),
        ]),
        &mut out,
    );
    enc.encode(
        &row(vec![
            s("x\r\ny"),
            Value::I64(1),
            Value::F64(-1e300),
            Value::Ts(-1),
        ]),
        &mut out,
    );
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "plain text,-5,0.1,7\n\"a,b\",,1.0,\n\"say \"\"hi\"\"\",0,NaN,0\n\"x\r\ny\",1,-1e300,-1\n"
    );
}

#[test]
fn encoder_header_and_single_empty_field() {
    let sch = schema(&[("a,b", FieldType::String), ("c", FieldType::I64)]);
    let enc = CsvEncoder::new(sch, true);
    assert_eq!(enc.header().as_deref(), Some(&b"\"a,b\",c\n"[..]));
    let enc = CsvEncoder::new(schema(&[("v", FieldType::String)]), false);
    let mut out = Vec::new();
    enc.encode(&row(vec![s("")]), &mut out);
    assert_eq!(out, b"\"\"\n");
    let mut dec = CsvDecoder::new(schema(&[("v", FieldType::String)]), false);
    assert_eq!(
        decode_bytes(&mut dec, &out[..out.len() - 1]).unwrap(),
        row(vec![s("")])
    );
}

#[test]
fn header_of_encoder_passes_decoder_check() {
    let sch = schema(&[("we\"ird", FieldType::String), ("x,y", FieldType::F64)]);
    let header = CsvEncoder::new(sch.clone(), true).header().unwrap();
    let mut dec = CsvDecoder::new(sch, true);
    assert_eq!(dec.check_header(&header[..header.len() - 1]), Ok(()));
}

#[test]
fn short_strings_stay_inline() {
    let sch = schema(&[("a", FieldType::String), ("b", FieldType::String)]);
    let mut dec = CsvDecoder::new(sch, false);
    let long = "x".repeat(crate::record::Text::INLINE + 1);
    let short = "y".repeat(crate::record::Text::INLINE);
    let r = decode(&mut dec, &format!("\"{short}\",{long}")).unwrap();
    match (&r[0], &r[1]) {
        (Value::Str(short), Value::Str(long)) => {
            assert_eq!(short.len(), crate::record::Text::INLINE);
            assert!(!short.is_heap_allocated());
            assert!(long.is_heap_allocated());
        }
        other => panic!("{other:?}"),
    }
    assert!(!r.spilled());
}

/// Throughput of the CSV decoder (run with `--release -- --ignored --nocapture`).
#[test]
#[ignore = "timing, for release builds"]
fn csv_decode_throughput() {
    let mut dec = CsvDecoder::new(kvt(), false);
    let lines: Vec<String> = (0..1000)
        .map(|i| {
            format!(
                "user-{},{},{}",
                i % 97,
                i * 31 - 500,
                1_714_564_800_000i64 + i
            )
        })
        .collect();
    let mut out = Vec::with_capacity(1000);
    let start = std::time::Instant::now();
    let rounds = 2000;
    for _ in 0..rounds {
        out.clear();
        for line in &lines {
            dec.decode(line.as_bytes(), &mut out).unwrap();
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "csv decode: {:.1} M lines/s",
        (rounds * lines.len()) as f64 / secs / 1e6
    );
    let mut dec = CsvDecoder::new(kvt(), false);
    let lines: Vec<String> = (0..1000)
        .map(|i| format!("user-{},{},2024-05-01T12:00:{:02}.5Z", i % 97, i, i % 60))
        .collect();
    let start = std::time::Instant::now();
    for _ in 0..rounds {
        out.clear();
        for line in &lines {
            dec.decode(line.as_bytes(), &mut out).unwrap();
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "csv decode (RFC 3339): {:.1} M lines/s",
        (rounds * lines.len()) as f64 / secs / 1e6
    );
}
