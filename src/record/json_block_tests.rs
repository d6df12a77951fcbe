//! The block pass against the line path: whatever it consumes, [`JsonLinesDecoder::decode`]
//! line by line gives the same rows; and it consumes every line in schema key order.

use super::*;
use crate::record::{FieldType, JsonLinesDecoder, Schema, Value};
use proptest::prelude::*;

fn fields() -> Vec<Field> {
    fields_n(4)
}

/// The first `n` of the test schema's fields (`n` = 3: no float, so the direct read applies).
fn fields_n(n: usize) -> Vec<Field> {
    [
        ("key", FieldType::String),
        ("value", FieldType::I64),
        ("ts", FieldType::Timestamp),
        ("x", FieldType::F64),
    ]
    .into_iter()
    .take(n)
    .map(|(name, ty)| Field {
        name: name.into(),
        ty,
    })
    .collect()
}

fn limits(max_records: usize, max_line: usize) -> BlockLimits {
    BlockLimits {
        max_records,
        max_line,
    }
}

/// The block pass with the shape pass (when the fields have one), checked against the block
/// pass without it: the same lines consumed, the same rows.
fn run(fields: &[Field], block: &[u8], limits: BlockLimits) -> (BlockRead, Vec<Row>) {
    let keys = FieldKeys::new(fields);
    let shape = JsonShape::new(fields);
    let mut out = Vec::new();
    let read = decode_block(fields, &keys, shape.as_ref(), block, limits, &mut out);
    let mut general = Vec::new();
    let want = decode_block(fields, &keys, None, block, limits, &mut general);
    assert_eq!((read, &out), (want, &general));
    (read, out)
}

/// The rows the line path gives for the first `read.lines` lines of `block`; each of them it
/// must accept (or skip, when empty).
fn line_path(fields: &[Field], block: &[u8], read: BlockRead, max_line: usize) -> Vec<Row> {
    let mut dec = JsonLinesDecoder::new(Schema {
        fields: fields.to_vec(),
    });
    crate::source::block::line_path_rows(&mut dec, block, read, max_line, true)
}

/// A member `"name":value`, mostly of the schema, in varied spellings.
fn member() -> impl Strategy<Value = String> {
    let name = prop_oneof![
        4 => Just("key"), 4 => Just("value"), 4 => Just("ts"), 4 => Just("x"), 1 => Just("other")
    ];
    let value = prop_oneof![
        3 => "\"[a-z0-9é ]{0,5}\"",
        3 => "-?[0-9]{1,4}",
        1 => "-?[0-9]{1,2}\\.[0-9]{1,2}",
        1 => "[0-9]{19,20}",
        1 => "-?0[0-9]{0,3}",
        1 => "-?[0-9]{6,10}",
        1 => "[0-9]{17,18}",
        1 => Just("\"2024-05-01T12:00:00Z\"".to_string()),
        1 => Just("\"a\\\"b\"".to_string()),
        1 => Just("null".to_string()),
        1 => Just("[1]".to_string()),
    ];
    (name, value, "[ ]{0,1}").prop_map(|(n, v, ws)| format!("{ws}\"{n}\"{ws}:{ws}{v}{ws}"))
}

/// A block of object lines, mostly with the keys of the first `n` schema fields in order.
fn block(n: usize) -> impl Strategy<Value = Vec<u8>> {
    let ordered = proptest::collection::vec(member(), n..=n).prop_map(|m| {
        // Names in schema order, values as drawn (keeps most lines on the block pass).
        let names = ["key", "value", "ts", "x"];
        let members: Vec<String> = m
            .iter()
            .zip(names)
            .map(|(mem, name)| {
                let value = mem.split_once(':').map_or("1", |(_, v)| v);
                format!("\"{name}\":{value}")
            })
            .collect();
        format!("{{{}}}", members.join(","))
    });
    let shuffled =
        proptest::collection::vec(member(), 0..5).prop_map(|m| format!("{{{}}}", m.join(",")));
    let line = prop_oneof![4 => ordered, 2 => shuffled, 1 => Just(String::new()), 1 => Just("\r".to_string())];
    let crlf = any::<bool>();
    (
        proptest::collection::vec((line, crlf), 0..10),
        any::<bool>(),
    )
        .prop_map(|(lines, end)| {
            let lines: Vec<String> = lines
                .into_iter()
                .map(|(l, crlf)| if crlf { l + "\r" } else { l })
                .collect();
            let mut b = lines.join("\n").into_bytes();
            if end {
                b.push(b'\n');
            }
            b
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn what_the_block_pass_reads_the_line_path_reads_alike(
        (n, block) in (1usize..=4).prop_flat_map(|n| (Just(n), block(n))),
        max_records in 0usize..12,
        max_line in prop_oneof![Just(256usize), 0usize..40],
    ) {
        let fields = fields_n(n);
        let (read, out) = run(&fields, &block, limits(max_records, max_line));
        prop_assert!(out.len() <= max_records);
        prop_assert_eq!(out, line_path(&fields, &block, read, max_line));
    }
}

#[test]
fn ordered_lines_are_read_and_others_left() {
    let fields = fields();
    let block = br#"{"key":"k1","value":-5,"ts":7,"x":1.5}
  { "key" : "k2" , "value" : 3 , "ts" : 0 , "x" : 2 }  

{"value":1,"key":"k3","ts":1,"x":0}
"#;
    let (read, out) = run(&fields, block, limits(10, 256));
    assert_eq!(read.lines, 3);
    let third = block.windows(9).position(|w| w == br#"{"value":"#);
    assert_eq!(Some(read.bytes), third);
    assert_eq!(out.len(), 2);
    assert_eq!(out[0][0], Value::Str("k1".into()));
    assert_eq!(out[0][3], Value::F64(1.5));
    assert_eq!(out[1][1], Value::I64(3));
    assert_eq!(out[1][3], Value::F64(2.0));
    // A timestamp string converts as on the line path.
    let rfc = b"{\"key\":\"k\",\"value\":1,\"ts\":\"2024-05-01T12:00:00Z\",\"x\":1}\n";
    let (read, out) = run(&fields, rfc, limits(10, 256));
    assert_eq!((read.lines, &out[0][2]), (1, &Value::Ts(1_714_564_800_000)));
    for stop in [
        &br#"{"key":"k","value":1,"ts":1}"#[..],
        br#"{"key":"k","value":1,"ts":1,"x":1,"y":2}"#,
        br#"{"key":"k","value":1.5,"ts":1,"x":1}"#,
        br#"{"key":"k","value":1,"ts":"noon","x":1}"#,
        br#"{"key":"k\n","value":1,"ts":1,"x":1}"#,
        b"{\"key\":\"\xff\",\"value\":1,\"ts\":1,\"x\":1}",
        br#"{"key":"k","value":1,"ts":1,"x":1} x"#,
    ] {
        let block = [stop, b"\n"].concat();
        assert_eq!(
            run(&fields, &block, limits(10, 256)).0,
            BlockRead::default()
        );
    }
}

#[test]
fn the_shape_pass_reads_compact_lines_of_the_schema() {
    let fields = fields_n(3);
    let keys = FieldKeys::new(&fields);
    let shape = JsonShape::new(&fields).expect("string, i64, timestamp has a shape");
    assert!(
        JsonShape::new(&fields_n(4)).is_none(),
        "no shape with a float"
    );
    let line = br#"{"key":"7535","value":-12,"ts":1700000000123}
"#;
    let mut block = line.repeat(5);
    block.extend_from_slice(
        br#"{"value":1,"key":"k","ts":1}
"#,
    );
    let mut out = Vec::new();
    let mut read = BlockRead::default();
    let n = shape.run(&keys, &block, usize::MAX, 256, &mut read, &mut out);
    assert_eq!((n, read.lines, read.bytes), (5, 5, 5 * line.len()));
    let want: Row = [
        Value::Str("7535".into()),
        Value::I64(-12),
        Value::Ts(1_700_000_000_123),
    ]
    .into_iter()
    .collect();
    assert!(out.iter().all(|r| *r == want));
    // Over-long lines and the record limit stop it.
    let mut read = BlockRead::default();
    assert_eq!(shape.run(&keys, &block, 2, 256, &mut read, &mut out), 2);
    let mut read = BlockRead::default();
    assert_eq!(
        shape.run(&keys, &block, 9, line.len() - 2, &mut read, &mut out),
        0
    );
    // Another key order is the line path's business.
    let (read, rows) = run(&fields, &block, limits(100, 256));
    assert_eq!((read.lines, rows.len()), (5, 5));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    /// Random bytes around compact objects of the schema: the block pass, with and without
    /// the shape pass, reads what the line path reads.
    #[test]
    fn random_bytes_read_as_the_line_path(
        n in 1usize..=3,
        bytes in proptest::collection::vec(
            prop_oneof![
                4 => Just(&br#"{"key":"k","value":1,"ts":2}"#[..]),
                2 => Just(&br#"{"key":"#[..]), 2 => Just(&b"\n"[..]), 1 => Just(&b"\""[..]),
                2 => Just(&b"0"[..]), 1 => Just(&b"-"[..]), 1 => Just(&b"}"[..]),
                1 => Just(&b","[..]), 1 => Just(&b"\\"[..]), 1 => Just(&b"\xc3\xa9"[..]),
                1 => Just(&b"\xff"[..]), 1 => Just(&b"\r"[..]), 1 => Just(&br#""value":"#[..]),
            ],
            0..40,
        ),
        max_line in prop_oneof![Just(256usize), 0usize..40],
    ) {
        let fields = fields_n(n);
        let block = bytes.concat();
        let (read, out) = run(&fields, &block, limits(usize::MAX, max_line));
        prop_assert_eq!(out, line_path(&fields, &block, read, max_line));
    }
}
