//! Arbitrary bytes through the CSV and JSON-lines decoders (records and headers) and the
//! timestamp parser: never a panic; a decode either appends exactly one row of the schema's
//! width or appends nothing and gives a reason.

use super::csv::CsvDecoder;
use super::json::JsonLinesDecoder;
use super::parse_timestamp;
use super::schema::{Field, FieldType, Schema};
use super::Row;
use crate::source::LineDecoder;
use proptest::prelude::*;

fn schema(types: &[FieldType]) -> Schema {
    Schema {
        fields: types
            .iter()
            .enumerate()
            .map(|(i, &ty)| Field {
                name: format!("f{i}"),
                ty,
            })
            .collect(),
    }
}

fn field_type() -> impl Strategy<Value = FieldType> {
    prop_oneof![
        Just(FieldType::I64),
        Just(FieldType::F64),
        Just(FieldType::String),
        Just(FieldType::Timestamp),
    ]
}

/// Bytes that look like CSV or JSON lines often enough to get past the first checks.
fn line() -> impl Strategy<Value = Vec<u8>> {
    let token = prop_oneof![
        Just(b",".to_vec()),
        Just(b"\"".to_vec()),
        Just(b"\"\"".to_vec()),
        Just(b"{".to_vec()),
        Just(b"}".to_vec()),
        Just(b":".to_vec()),
        Just(b"\"f0\"".to_vec()),
        Just(b"\"f1\"".to_vec()),
        Just(b"-".to_vec()),
        Just(b"12".to_vec()),
        Just(b"9223372036854775808".to_vec()),
        Just(b"1e400".to_vec()),
        Just(b"NaN".to_vec()),
        Just(b"null".to_vec()),
        Just(b"2024-02-30T25:61:00Z".to_vec()),
        Just(b"1970-01-01T00:00:00.123+01:00".to_vec()),
        Just(b"\\u0000".to_vec()),
        Just(b"\\ud83d".to_vec()),
        Just(b"\r".to_vec()),
        Just(b"\n".to_vec()),
        Just(vec![0]),
        Just(vec![0xef, 0xbb, 0xbf]),
        Just(vec![0xff]),
        Just(vec![0xc3]),
        prop::collection::vec(any::<u8>(), 0..4),
    ];
    prop::collection::vec(token, 0..16).prop_map(|t| t.concat())
}

/// Decodes `line` with a fresh decoder and checks the all-or-nothing contract.
fn check(
    decoder: &mut dyn LineDecoder<Row>,
    width: usize,
    line: &[u8],
) -> Result<(), TestCaseError> {
    let mut out = Vec::new();
    match decoder.decode(line, &mut out) {
        Ok(()) => {
            prop_assert_eq!(out.len(), 1);
            prop_assert_eq!(out[0].len(), width);
        }
        Err(reason) => {
            prop_assert!(out.is_empty());
            prop_assert!(!reason.is_empty());
        }
    }
    let _ = decoder.check_header(line);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn csv_decoder_never_panics(types in prop::collection::vec(field_type(), 1..4), line in line()) {
        let mut d = CsvDecoder::new(schema(&types), false);
        check(&mut d, types.len(), &line)?;
    }

    #[test]
    fn json_decoder_never_panics(types in prop::collection::vec(field_type(), 1..4), line in line()) {
        let mut d = JsonLinesDecoder::new(schema(&types));
        check(&mut d, types.len(), &line)?;
    }

    #[test]
    fn decoders_never_panic_on_any_bytes(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let types = [FieldType::String, FieldType::I64, FieldType::Timestamp, FieldType::F64];
        check(&mut CsvDecoder::new(schema(&types), true), 4, &bytes)?;
        check(&mut JsonLinesDecoder::new(schema(&types)), 4, &bytes)?;
    }

    #[test]
    fn timestamps_never_panic(text in "[0-9TZ:.+\\-]{0,40}") {
        let _ = parse_timestamp(&text);
    }
}

/// Deep nesting (a stack overflow in a recursive parser) and huge lines are bad records.
#[test]
fn deeply_nested_and_huge_lines_are_bad_records() {
    let types = [FieldType::I64, FieldType::I64];
    for line in [
        format!("{{\"f0\":{}", "[".repeat(100_000)),
        format!(
            "{{\"x\":{}1{}}}",
            "{\"a\":".repeat(50_000),
            "}".repeat(50_000)
        ),
        format!("{}\"", "\"".repeat(100_001)),
        format!("{},1", "9".repeat(1 << 20)),
    ] {
        let mut out = Vec::new();
        let json = JsonLinesDecoder::new(schema(&types)).decode(line.as_bytes(), &mut out);
        assert!(json.is_err() && out.is_empty(), "json: {json:?}");
        let csv = CsvDecoder::new(schema(&types), false).decode(line.as_bytes(), &mut out);
        assert!(csv.is_err() && out.is_empty(), "csv: {csv:?}");
    }
}
