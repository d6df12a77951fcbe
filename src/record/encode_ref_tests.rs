//! The encoders against the `Vec`-append encoders they replaced (issue 10, step 5): the same
//! bytes for any row, and the same checksum. The reference functions below are the session-6
//! encoders, kept verbatim as the oracle (numbers through `itoa`/`ryu` buffers, strings by
//! byte loops, escaping by serde_json).

use super::format::{write_f64, write_finite_f64, write_i64};
use super::{CsvEncoder, Field, FieldType, JsonLinesEncoder, Row, Schema, Text, Value};
use crate::sink::Encoder;
use proptest::prelude::*;

fn ref_csv_str(out: &mut Vec<u8>, s: &str) {
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

pub(super) fn ref_csv(record: &Row, out: &mut Vec<u8>) {
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
            Value::Str(s) => ref_csv_str(out, s),
        }
    }
    out.push(b'\n');
}

fn ref_json_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&serde_json::to_vec(s).unwrap());
}

pub(super) fn ref_json(names: &[String], record: &Row, out: &mut Vec<u8>) {
    if names.is_empty() {
        out.extend_from_slice(b"{}\n");
        return;
    }
    for (i, name) in names.iter().enumerate() {
        out.push(if i == 0 { b'{' } else { b',' });
        ref_json_str(out, name);
        out.push(b':');
        match record.get(i) {
            Some(Value::I64(v) | Value::Ts(v)) => write_i64(out, *v),
            Some(Value::F64(v)) if v.is_finite() => write_finite_f64(out, *v),
            Some(Value::Str(s)) => ref_json_str(out, s),
            Some(Value::Null | Value::F64(_)) | None => out.extend_from_slice(b"null"),
        }
    }
    out.extend_from_slice(b"}\n");
}

pub(super) fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<i64>().prop_map(Value::I64),
        (-200i64..200).prop_map(Value::I64),
        any::<i64>().prop_map(Value::Ts),
        any::<u64>().prop_map(|b| Value::F64(f64::from_bits(b))),
        prop_oneof![
            Just(0.0),
            Just(-0.0),
            Just(1.5),
            Just(1e21),
            Just(f64::NAN),
            Just(f64::INFINITY),
            Just(f64::NEG_INFINITY)
        ]
        .prop_map(Value::F64),
        "(.|[,\"\\\\\r\n\u{0}-\u{1f}\u{7f}é€😀]){0,40}".prop_map(|s| Value::Str(Text::new(&s))),
        "[a-z0-9]{0,30}".prop_map(|s| Value::Str(Text::new(&s))),
    ]
}

fn rows() -> impl Strategy<Value = Vec<Row>> {
    proptest::collection::vec(
        proptest::collection::vec(value(), 0..10).prop_map(Row::from_vec),
        0..20,
    )
}

/// The reference bytes and checksum of `batch`, one record at a time.
pub(super) fn reference(batch: &[Row], mut one: impl FnMut(&Row, &mut Vec<u8>)) -> (Vec<u8>, u64) {
    let (mut out, mut sum) = (b"head".to_vec(), 0u64);
    for row in batch {
        let mut line = Vec::new();
        one(row, &mut line);
        sum = sum.wrapping_add(xxhash_rust::xxh3::xxh3_64(&line));
        out.extend_from_slice(&line);
    }
    (out, sum)
}

/// The encoder's bytes from `encode_all`, `encode_many` and `encode` (into a buffer of
/// capacity `cap`, to exercise growth): all must agree; returns the first with its checksum.
pub(super) fn ours(enc: &dyn Encoder<Row>, batch: &[Row], cap: usize) -> (Vec<u8>, u64) {
    let mut all = Vec::with_capacity(cap);
    all.extend_from_slice(b"head");
    let sum = enc.encode_all(batch, &mut all);
    let mut many = Vec::with_capacity(cap);
    many.extend_from_slice(b"head");
    enc.encode_many(batch, &mut many);
    let mut each = b"head".to_vec();
    batch.iter().for_each(|r| enc.encode(r, &mut each));
    assert_eq!(all, many);
    assert_eq!(all, each);
    (all, sum)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn csv_bytes_and_checksum_as_before(batch in rows(), cap in 0usize..300) {
        let enc = CsvEncoder::new(Schema::default(), false);
        prop_assert_eq!(ours(&enc, &batch, cap), reference(&batch, ref_csv));
    }

    #[test]
    fn json_bytes_and_checksum_as_before(
        batch in rows(),
        names in proptest::collection::vec("(.|[\"\\\\\u{0}-\u{1f}]){0,12}", 0..7),
        cap in 0usize..300,
    ) {
        let schema = Schema {
            fields: names
                .iter()
                .map(|n| Field { name: n.clone(), ty: FieldType::String })
                .collect(),
        };
        let enc = JsonLinesEncoder::new(schema);
        prop_assert_eq!(
            ours(&enc, &batch, cap),
            reference(&batch, |r, out| ref_json(&names, r, out))
        );
    }
}

#[test]
fn edge_rows() {
    let s = |t: &str| Value::Str(Text::new(t));
    let cases: Vec<Row> = vec![
        Row::new(),
        Row::from_vec(vec![s("")]),
        Row::from_vec(vec![s(""), s("")]),
        Row::from_vec(vec![Value::Null]),
        Row::from_vec(vec![s("a,b"), s("say \"hi\""), s("x\r\ny")]),
        Row::from_vec(vec![
            Value::F64(1e21),
            Value::F64(f64::NAN),
            Value::F64(-0.0),
        ]),
        Row::from_vec(vec![s(&"long text, with a comma ".repeat(20))]),
        Row::from_vec(vec![
            Value::I64(i64::MIN),
            Value::Ts(i64::MAX),
            Value::F64(5e-324),
        ]),
    ];
    let csv = CsvEncoder::new(Schema::default(), false);
    assert_eq!(ours(&csv, &cases, 0), reference(&cases, ref_csv));
    let names: Vec<String> = ["k", "a\"b", "c"].map(String::from).to_vec();
    let schema = Schema {
        fields: names
            .iter()
            .map(|n| Field {
                name: n.clone(),
                ty: FieldType::String,
            })
            .collect(),
    };
    let json = JsonLinesEncoder::new(schema);
    assert_eq!(
        ours(&json, &cases, 0),
        reference(&cases, |r, out| ref_json(&names, r, out))
    );
}
