//! The shape pass against the general scan and the line path: on random blocks of random
//! shapes, the block pass with the shape pass consumes exactly what the general scan alone
//! consumes, with the same rows, and those are the line path's rows.

use super::*;
use crate::record::csv_block::CsvPlan;
use crate::record::{CsvDecoder, FieldType, Schema, Value};
use crate::source::BlockLimits;
use proptest::prelude::*;

fn schema(types: &[FieldType]) -> Vec<Field> {
    types
        .iter()
        .enumerate()
        .map(|(i, &ty)| Field {
            name: format!("f{i}"),
            ty,
        })
        .collect()
}

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
        Just(FieldType::Timestamp),
    ]
}

/// Field texts: mostly what the shape pass reads, around its limits (15/16-byte strings,
/// 63/64-byte lines, 8/9 and 16/17-digit integers), long (heap) strings such as UUID keys,
/// and some texts it must leave alone.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => "[a-z0-9]{0,6}",
        4 => "[+-]?[0-9]{1,4}",
        2 => "[+-]?[0-9]{7,10}",
        2 => "[+-]?[0-9]{15,19}",
        1 => "[a-z]{12,30}",
        1 => "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
        1 => "[a-z]{31,62}",
        1 => "[0-9]{1,3}\\.[0-9]{0,2}",
        1 => "[+-]{1,2}[0-9]{0,2}",
        1 => "[é ,\"\r\n]{1,3}",
        1 => "[ -~]{0,4}",
        1 => Just(String::new()),
    ]
}

/// A block of lines of 0 to 5 fields, maybe unterminated, maybe with random bytes spliced in.
fn block() -> impl Strategy<Value = Vec<u8>> {
    let line = proptest::collection::vec(text(), 0..6).prop_map(|f| f.join(","));
    (
        proptest::collection::vec(line, 0..24),
        any::<bool>(),
        proptest::collection::vec((any::<usize>(), any::<u8>()), 0..3),
    )
        .prop_map(|(lines, end, junk)| {
            let mut b = lines.join("\n").into_bytes();
            if end {
                b.push(b'\n');
            }
            for (at, byte) in junk {
                if !b.is_empty() && byte > 100 {
                    let at = at % b.len();
                    b[at] = byte;
                }
            }
            b
        })
}

/// Runs both plans on `block` and checks them against each other and the line path.
fn check(types: &[FieldType], block: &[u8], max_records: usize, max_line: usize) {
    let fields = schema(types);
    let limits = BlockLimits {
        max_records,
        max_line,
    };
    let mut fast = vec![Row::new()]; // rows already in the batch stay
    let read = CsvPlan::new(&fields).decode_block(block, limits, &mut fast);
    let mut general = vec![Row::new()];
    let want = CsvPlan::general(&fields).decode_block(block, limits, &mut general);
    assert_eq!(read, want, "{:?}", String::from_utf8_lossy(block));
    assert_eq!(fast, general);
    assert_eq!(fast[1..], line_path(&fields, block, read, max_line)[..]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn the_shape_pass_reads_as_the_general_scan(
        types in proptest::collection::vec(ty(), 1..6),
        block in block(),
        max_records in prop_oneof![Just(usize::MAX), 0usize..30],
        max_line in prop_oneof![Just(256usize), 0usize..72],
    ) {
        check(&types, &block, max_records, max_line);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn random_bytes_read_as_the_general_scan(
        types in proptest::collection::vec(ty(), 1..5),
        block in proptest::collection::vec(
            prop_oneof![
                4 => b'0'..=b'9', 2 => Just(b','), 2 => Just(b'\n'), 1 => Just(b'-'),
                1 => Just(b'+'), 1 => Just(b'a'), 1 => any::<u8>()
            ],
            0..300,
        ),
    ) {
        check(&types, &block, usize::MAX, 256);
    }
}

#[test]
fn common_lines_are_read_by_the_shape_pass() {
    let types = [FieldType::String, FieldType::I64, FieldType::Timestamp];
    let fields = schema(&types);
    let shape = Shape::new(&fields).expect("a shape");
    let line = b"7535,-12,1700000000123\n";
    let block: Vec<u8> = line.repeat(10);
    let mut out = Vec::new();
    let mut read = BlockRead::default();
    let n = shape.run(&block, usize::MAX, 256, &mut read, &mut out);
    // The last line leaves fewer than `REACH` bytes: the general scan's.
    let fit = (block.len() - REACH) / line.len() + 1;
    assert_eq!(n, fit);
    assert_eq!(read.bytes, fit * line.len());
    let want: Row = [
        Value::Str(Text::new("7535")),
        Value::I64(-12),
        Value::Ts(1_700_000_000_123),
    ]
    .into_iter()
    .collect();
    assert!(out.iter().all(|r| *r == want));
    check(&types, &block, usize::MAX, 256);
}

#[test]
fn uuid_lines_are_read_by_the_wide_pass_and_short_ones_after_them() {
    // 36-byte keys: 43-byte lines, past the narrow pass's two windows, with heap texts.
    let types = [FieldType::String, FieldType::I64, FieldType::Timestamp];
    let fields = schema(&types);
    let shape = Shape::new(&fields).expect("a shape");
    let key = "00001d6f-1b4e-4c2a-9f3d-0000038e7ca1";
    let line = format!("{key},-12,1700000000\n");
    let mut block = line.repeat(8);
    block.push_str(&"7535,3,4\n".repeat(8));
    let block = block.into_bytes();
    let mut out = Vec::new();
    let mut read = BlockRead::default();
    let n = shape.run(&block, usize::MAX, 256, &mut read, &mut out);
    // The lines that leave fewer than `WIDE_REACH` bytes are the general scan's.
    assert!(n >= 8 + 8 - WIDE_REACH / 9, "{n}");
    let want: Row = [
        Value::Str(Text::new(key)),
        Value::I64(-12),
        Value::Ts(1_700_000_000),
    ]
    .into_iter()
    .collect();
    assert!(out[..8].iter().all(|r| *r == want));
    assert!(matches!(&out[0][0], Value::Str(t) if t.is_heap_allocated()));
    check(&types, &block, usize::MAX, 256);
    // A line of 63 bytes is the wide pass's; one of 64 the general scan's.
    for len in [63, 64] {
        let line = format!("{},1,2\n", "u".repeat(len - 4));
        let block = line.repeat(4);
        let mut out = Vec::new();
        let mut read = BlockRead::default();
        let n = shape.run(block.as_bytes(), usize::MAX, 256, &mut read, &mut out);
        // Three lines leave `WIDE_REACH` bytes or more, the last one does not.
        assert_eq!(n, usize::from(len == 63) * 3, "{len}");
        check(&types, block.as_bytes(), usize::MAX, 256);
    }
}

#[test]
fn floats_and_wide_schemas_have_no_shape() {
    let f64s = schema(&[FieldType::String, FieldType::F64]);
    assert!(Shape::new(&f64s).is_none());
    let wide = schema(&[FieldType::I64; MAX_FIELDS + 1]);
    assert!(Shape::new(&wide).is_none());
    assert!(Shape::new(&[]).is_none());
}

#[test]
fn lines_near_the_limits() {
    let types = [FieldType::String, FieldType::I64];
    for len in 0..70 {
        for digits in [1, 8, 9, 16, 17, 18, 19] {
            let line = format!("{},{}\n", "k".repeat(len), "9".repeat(digits));
            let block = line.repeat(6);
            for max_line in [len + digits, len + digits + 1, 256] {
                check(&types, block.as_bytes(), usize::MAX, max_line);
            }
        }
    }
}
