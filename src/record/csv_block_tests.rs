//! The block pass against the line path: whatever it consumes, [`CsvDecoder::decode`] line by
//! line gives the same rows; and it consumes every line of plain input.

use super::*;
use crate::record::{CsvDecoder, Schema};
use proptest::prelude::*;

fn field(name: &str, ty: FieldType) -> Field {
    Field {
        name: name.into(),
        ty,
    }
}

fn schema(types: &[FieldType]) -> Vec<Field> {
    types
        .iter()
        .enumerate()
        .map(|(i, &ty)| field(&format!("f{i}"), ty))
        .collect()
}

fn limits(max_records: usize, max_line: usize) -> BlockLimits {
    BlockLimits {
        max_records,
        max_line,
    }
}

/// The line path's view of the first `read.lines` lines of `block`: their rows (empty lines
/// skipped), or the first line it would not accept as the block pass did.
fn line_path(fields: &[Field], block: &[u8], read: BlockRead, max_line: usize) -> Vec<Row> {
    let mut dec = CsvDecoder::new(
        Schema {
            fields: fields.to_vec(),
        },
        false,
    );
    crate::source::block::line_path_rows(&mut dec, block, read, max_line, false)
}

fn ty() -> impl Strategy<Value = FieldType> {
    prop_oneof![
        Just(FieldType::String),
        Just(FieldType::I64),
        Just(FieldType::F64),
        Just(FieldType::Timestamp),
    ]
}

/// Field texts, most plain, some the line path must handle (or reject).
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => "[a-z0-9]{0,6}",
        4 => "[+-]?[0-9]{1,4}",
        1 => "[0-9]{7,9}",
        1 => "[a-z]{14,17}",
        1 => "[0-9]{17,21}",
        1 => "-?[0-9]{1,3}\\.[0-9]{0,2}(e-?[0-9])?",
        1 => Just("2024-05-01T12:00:00Z".to_string()),
        1 => "[é ,\"\r]{1,3}",
        1 => Just("\u{feff}k".to_string()),
        1 => Just(String::new()),
    ]
}

/// A block of lines of 1 to 4 fields, `\n`-separated, the last line maybe unterminated.
fn block() -> impl Strategy<Value = Vec<u8>> {
    let line = proptest::collection::vec(text(), 0..5).prop_map(|f| f.join(","));
    (
        proptest::collection::vec(line, 0..12),
        any::<bool>(),
        prop::collection::vec(any::<u8>(), 0..2),
    )
        .prop_map(|(lines, end, junk)| {
            let mut b = lines.join("\n").into_bytes();
            if end {
                b.push(b'\n');
            }
            if junk.first().is_some_and(|&j| j > 200) {
                b.push(junk[0]); // a stray byte, sometimes invalid UTF-8
            }
            b
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn what_the_block_pass_reads_the_line_path_reads_alike(
        types in proptest::collection::vec(ty(), 1..4),
        block in block(),
        max_records in 0usize..20,
        max_line in prop_oneof![Just(256usize), 0usize..12],
    ) {
        let fields = schema(&types);
        let plan = CsvPlan::new(&fields);
        let mut out = vec![Row::new()]; // rows already in the batch stay
        let read = plan.decode_block(&block, limits(max_records, max_line), &mut out);
        prop_assert!(out.len() - 1 <= max_records);
        prop_assert_eq!(&out[1..], &line_path(&fields, &block, read, max_line)[..]);
    }
}

#[test]
fn plain_lines_are_all_read_in_one_pass() {
    let fields = schema(&[FieldType::String, FieldType::I64, FieldType::Timestamp]);
    let plan = CsvPlan::new(&fields);
    let block = b"k1,-5,7\n\nk2,+3,0\nk3,9,1\npartial,1";
    let mut out = Vec::new();
    let read = plan.decode_block(block, limits(10, 256), &mut out);
    assert_eq!(
        read,
        BlockRead {
            bytes: 24,
            lines: 4
        }
    );
    let keys: Vec<_> = out.iter().map(|r| r[0].clone()).collect();
    assert_eq!(keys, ["k1", "k2", "k3"].map(|k| Value::Str(k.into())));
    assert_eq!(out[0][1], Value::I64(-5));
    assert_eq!(out[1][1], Value::I64(3));
    assert_eq!(out[2][2], Value::Ts(1));
}

#[test]
fn the_pass_stops_before_lines_for_the_line_path() {
    let fields = schema(&[FieldType::String, FieldType::I64]);
    let plan = CsvPlan::new(&fields);
    for (stop, line) in [
        ("quote", &b"\"a\",1\n"[..]),
        ("crlf", b"a,1\r\n"),
        ("bad int", b"a,1x\n"),
        ("empty int", b"a,\n"),
        ("19 digits", b"a,1234567890123456789\n"),
        ("too few", b"a\n"),
        ("too many", b"a,1,2\n"),
        ("invalid utf-8", b"a\xff,1\n"),
    ] {
        let block = [&b"ok,1\n"[..], line].concat();
        let mut out = Vec::new();
        let read = plan.decode_block(&block, limits(10, 256), &mut out);
        assert_eq!(read, BlockRead { bytes: 5, lines: 1 }, "{stop}");
        assert_eq!(out.len(), 1, "{stop}");
    }
    let mut out = Vec::new();
    let read = plan.decode_block("é,1\nx,2\n".as_bytes(), limits(1, 256), &mut out);
    assert_eq!(read, BlockRead { bytes: 5, lines: 1 });
    assert_eq!(out[0][0], Value::Str("é".into()));
    let read = plan.decode_block(b"abcdef,1\n", limits(10, 7), &mut out);
    assert_eq!(read, BlockRead::default());
    assert_eq!(out.len(), 1);
}
