//! Property tests: random rows of a random schema survive encode → decode, for CSV (with its
//! header) and for JSON lines.

use proptest::prelude::*;

use super::{
    CsvDecoder, CsvEncoder, Field, FieldType, JsonLinesDecoder, JsonLinesEncoder, Row, Schema,
    Value,
};
use crate::sink::Encoder;
use crate::source::LineDecoder;

/// A value compared by bits for floats (all NaNs alike, since `NaN` text has one payload).
#[derive(Debug, PartialEq)]
enum Canon {
    I64(i64),
    F64(u64),
    NaN,
    Str(String),
    Ts(i64),
    Null,
}

fn canon(rows: &[Row]) -> Vec<Vec<Canon>> {
    rows.iter()
        .map(|row| {
            row.iter()
                .map(|v| match v {
                    Value::I64(v) => Canon::I64(*v),
                    Value::F64(v) if v.is_nan() => Canon::NaN,
                    Value::F64(v) => Canon::F64(v.to_bits()),
                    Value::Str(s) => Canon::Str(s.to_string()),
                    Value::Ts(v) => Canon::Ts(*v),
                    Value::Null => Canon::Null,
                })
                .collect()
        })
        .collect()
}

fn field_type() -> impl Strategy<Value = FieldType> {
    prop_oneof![
        Just(FieldType::I64),
        Just(FieldType::F64),
        Just(FieldType::String),
        Just(FieldType::Timestamp)
    ]
}

/// 1–10 fields; names are random text (commas, quotes, unicode) made unique by a suffix.
fn schema() -> impl Strategy<Value = Schema> {
    prop::collection::vec(("[a-z,\" é]{0,6}", field_type()), 1..=10).prop_map(|fields| Schema {
        fields: fields
            .into_iter()
            .enumerate()
            .map(|(i, (name, ty))| Field {
                name: format!("{name}{i}"),
                ty,
            })
            .collect(),
    })
}

/// Strings rich in what CSV must quote, plus arbitrary unicode (long ones too).
fn text(newlines: bool) -> BoxedStrategy<String> {
    let special = if newlines {
        "[a,\"\r\n \u{feff}é]{0,30}"
    } else {
        "[a,\"\r \u{feff}é]{0,30}"
    };
    let any = any::<String>().prop_map(move |s| if newlines { s } else { s.replace('\n', " ") });
    prop_oneof![special, any].boxed()
}

fn value(ty: FieldType, finite: bool, newlines: bool) -> BoxedStrategy<Value> {
    match ty {
        FieldType::I64 => any::<i64>().prop_map(Value::I64).boxed(),
        FieldType::F64 if finite => prop_oneof![
            any::<f64>().prop_filter("finite", |v| v.is_finite()),
            Just(-0.0),
            Just(5e-324)
        ]
        .prop_map(Value::F64)
        .boxed(),
        FieldType::F64 => prop_oneof![any::<f64>(), Just(f64::NAN), Just(f64::NEG_INFINITY)]
            .prop_map(Value::F64)
            .boxed(),
        FieldType::String => text(newlines).prop_map(|s| Value::Str(s.into())).boxed(),
        FieldType::Timestamp => any::<i64>().prop_map(Value::Ts).boxed(),
    }
}

/// A schema and 0–20 rows of it.
fn table(finite: bool, newlines: bool) -> impl Strategy<Value = (Schema, Vec<Row>)> {
    schema().prop_flat_map(move |schema| {
        let row: Vec<_> = schema
            .fields
            .iter()
            .map(|f| value(f.ty, finite, newlines))
            .collect();
        let rows = prop::collection::vec(row.prop_map(|vs| vs.into_iter().collect::<Row>()), 0..20);
        (Just(schema), rows)
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// Record by record (strings may hold line breaks inside quotes), header included.
    #[test]
    fn csv_round_trip((schema, rows) in table(false, true)) {
        let enc = CsvEncoder::new(schema.clone(), true);
        let mut dec = CsvDecoder::new(schema, true);
        let header = enc.header().unwrap();
        prop_assert_eq!(dec.check_header(header.strip_suffix(b"\n").unwrap()), Ok(()));
        let mut decoded = Vec::new();
        let mut line = Vec::new();
        for row in &rows {
            line.clear();
            enc.encode(row, &mut line);
            prop_assert_eq!(line.last(), Some(&b'\n'));
            dec.decode(&line[..line.len() - 1], &mut decoded).map_err(TestCaseError::fail)?;
        }
        prop_assert_eq!(canon(&decoded), canon(&rows));
    }

    /// The whole output split at `\n` as a line source does (strings without line breaks).
    #[test]
    fn csv_round_trip_as_lines((schema, rows) in table(false, false)) {
        let enc = CsvEncoder::new(schema.clone(), false);
        let mut out = Vec::new();
        for row in &rows {
            enc.encode(row, &mut out);
        }
        let mut dec = CsvDecoder::new(schema, false);
        let mut decoded = Vec::new();
        for line in out.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            dec.decode(line, &mut decoded).map_err(TestCaseError::fail)?;
        }
        prop_assert_eq!(canon(&decoded), canon(&rows));
    }

    /// JSON lines: finite floats (non-finite ones become null by design).
    #[test]
    fn json_round_trip((schema, rows) in table(true, true)) {
        let enc = JsonLinesEncoder::new(schema.clone());
        let mut out = Vec::new();
        for row in &rows {
            enc.encode(row, &mut out);
        }
        let mut dec = JsonLinesDecoder::new(schema);
        let mut decoded = Vec::new();
        for line in out.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            dec.decode(line, &mut decoded).map_err(TestCaseError::fail)?;
        }
        prop_assert_eq!(canon(&decoded), canon(&rows));
    }
}
