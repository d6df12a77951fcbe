//! The plan's fast path against the session-6 reference encoders
//! ([`crate::record::encode_ref_tests`]): rows of the schema's shape and rows that are not
//! (nulls, other types, other lengths, non-finite floats, strings that need quotes or
//! escapes, long and non-ASCII strings, CSV's lone empty string) give the same bytes.

use crate::record::encode_ref_tests::{ours, ref_csv, ref_json, reference, value};
use crate::record::{CsvEncoder, Field, FieldType, JsonLinesEncoder, Row, Schema, Text, Value};
use proptest::prelude::*;

fn field_type() -> impl Strategy<Value = FieldType> {
    prop_oneof![
        Just(FieldType::I64),
        Just(FieldType::Timestamp),
        Just(FieldType::F64),
        Just(FieldType::String),
    ]
}

/// A string: mostly plain (digits, letters, non-ASCII), sometimes one CSV or JSON must
/// quote or escape, of every length around the inline limit (15) and the scalar room (24).
fn string() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[a-z0-9]{0,30}",
        2 => "[a-zé€😀 -]{0,20}",
        1 => "(.|[,\"\\\\\r\n\u{0}-\u{1f}\u{7f}é€😀]){0,40}",
        1 => "[a-z]{100,300}",
    ]
}

/// An integer: any, or around the table look-ups' limits (1,000 and 1,000,000) on either
/// side of zero.
fn int() -> impl Strategy<Value = i64> {
    prop_oneof![
        any::<i64>(),
        -20_000i64..20_000,
        0i64..1_000,
        990i64..1_010,
        999_000i64..1_001_000,
        -2_000_000i64..2_000_000,
        Just(i64::MIN),
        Just(i64::MAX),
    ]
}

/// A value of `ty` (mostly), or any value (a null, another type, a non-finite float…).
fn value_of(ty: FieldType) -> BoxedStrategy<Value> {
    let typed: BoxedStrategy<Value> = match ty {
        FieldType::I64 => int().prop_map(Value::I64).boxed(),
        FieldType::Timestamp => int().prop_map(Value::Ts).boxed(),
        FieldType::F64 => prop_oneof![any::<f64>(), Just(-0.0), Just(1e21), Just(f64::NAN)]
            .prop_map(Value::F64)
            .boxed(),
        FieldType::String => string().prop_map(|s| Value::Str(Text::new(&s))).boxed(),
    };
    prop_oneof![8 => typed, 1 => value()].boxed()
}

/// A schema of 1–6 typed fields and a batch of rows, mostly of its shape.
fn typed_batch() -> impl Strategy<Value = (Vec<FieldType>, Vec<Row>)> {
    proptest::collection::vec(field_type(), 1..7).prop_flat_map(|types| {
        let row = types
            .iter()
            .map(|&ty| value_of(ty))
            .collect::<Vec<_>>()
            .prop_map(Row::from_vec);
        let other = proptest::collection::vec(value(), 0..8).prop_map(Row::from_vec);
        let rows = proptest::collection::vec(prop_oneof![6 => row, 1 => other], 0..24);
        (Just(types), rows)
    })
}

/// A schema of the specialised shapes (a string, then 1–5 integer columns; or 1–6 integer
/// columns) and a batch of rows, mostly of its shape.
fn shaped_batch() -> impl Strategy<Value = (Vec<FieldType>, Vec<Row>)> {
    let int = prop_oneof![Just(FieldType::I64), Just(FieldType::Timestamp)];
    (any::<bool>(), proptest::collection::vec(int, 1..6)).prop_flat_map(|(lead, ints)| {
        let types: Vec<FieldType> = lead
            .then_some(FieldType::String)
            .into_iter()
            .chain(ints)
            .collect();
        let row = types
            .iter()
            .map(|&ty| value_of(ty))
            .collect::<Vec<_>>()
            .prop_map(Row::from_vec);
        let other = proptest::collection::vec(value(), 0..8).prop_map(Row::from_vec);
        let rows = proptest::collection::vec(prop_oneof![12 => row, 1 => other], 0..24);
        (Just(types), rows)
    })
}

fn schema(types: &[FieldType], names: &[String]) -> Schema {
    Schema {
        fields: types
            .iter()
            .zip(names)
            .map(|(&ty, name)| Field {
                name: name.clone(),
                ty,
            })
            .collect(),
    }
}

fn names(n: usize) -> Vec<String> {
    // Short names, one at the 16-byte prefix limit and one beyond it, one to escape.
    let pool = [
        "key",
        "sum",
        "n",
        "ts",
        "twelve_chars",
        "a_long_field_name",
        "q\"x",
    ];
    (0..n).map(|i| pool[i % pool.len()].to_string()).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn csv_plan_writes_the_reference_bytes((types, batch) in typed_batch(), cap in 0usize..300) {
        let enc = CsvEncoder::new(schema(&types, &names(types.len())), false);
        prop_assert_eq!(ours(&enc, &batch, cap), reference(&batch, ref_csv));
    }

    #[test]
    fn json_plan_writes_the_reference_bytes((types, batch) in typed_batch(), cap in 0usize..300) {
        let names = names(types.len());
        let enc = JsonLinesEncoder::new(schema(&types, &names));
        prop_assert_eq!(
            ours(&enc, &batch, cap),
            reference(&batch, |r, out| ref_json(&names, r, out))
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn csv_shapes_write_the_reference_bytes((types, batch) in shaped_batch(), cap in 0usize..300) {
        let enc = CsvEncoder::new(schema(&types, &names(types.len())), false);
        prop_assert_eq!(ours(&enc, &batch, cap), reference(&batch, ref_csv));
    }

    #[test]
    fn json_shapes_write_the_reference_bytes((types, batch) in shaped_batch(), cap in 0usize..300) {
        let names = names(types.len());
        let enc = JsonLinesEncoder::new(schema(&types, &names));
        prop_assert_eq!(
            ours(&enc, &batch, cap),
            reference(&batch, |r, out| ref_json(&names, r, out))
        );
    }
}

#[test]
fn lone_string_column_and_fallbacks_in_one_batch() {
    let s = |t: &str| Row::from_vec(vec![Value::Str(Text::new(t))]);
    let batch = vec![
        s("a"),
        s(""),
        s("b,c"),
        Row::from_vec(vec![Value::Null]),
        s(&"x".repeat(40)),
        Row::new(),
        s("é"),
    ];
    let enc = CsvEncoder::new(schema(&[FieldType::String], &names(1)), false);
    let (bytes, _) = ours(&enc, &batch, 0);
    assert_eq!(bytes, reference(&batch, ref_csv).0);
    let want = format!("heada\n\"\"\n\"b,c\"\n\n{}\n\né\n", "x".repeat(40));
    assert_eq!(String::from_utf8(bytes).unwrap(), want);
}
