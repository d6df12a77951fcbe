//! The block pass through a file source against the same decoder line by line: the same rows,
//! the same dead letters (line numbers, reasons, raw bytes) and the same replay positions after
//! every poll, for any split count and poll size; and a resume from any of those positions
//! reads the same rest.

use super::dead_letter::OnError;
use super::file::{DecoderFactory, FileSource};
use super::{BlockLimits, BlockRead, DeadLetters, LineDecoder, Poll, RangePosition, Source};
use crate::record::csv::CsvDecoder;
use crate::record::json::JsonLinesDecoder;
use crate::record::Row;
use proptest::prelude::*;
use std::sync::Arc;

/// A decoder with the block pass turned off: only [`LineDecoder::decode`], as before.
struct LineOnly(Box<dyn LineDecoder<Row>>);

impl LineDecoder<Row> for LineOnly {
    fn has_header(&self) -> bool {
        self.0.has_header()
    }
    fn check_header(&mut self, line: &[u8]) -> Result<(), String> {
        self.0.check_header(line)
    }
    fn decode(&mut self, line: &[u8], out: &mut Vec<Row>) -> Result<(), String> {
        self.0.decode(line, out)
    }
    fn decode_block(&mut self, _: &[u8], _: BlockLimits, _: &mut Vec<Row>) -> BlockRead {
        BlockRead::default()
    }
}

use super::robust_tests::schema;

fn factory(json: bool, header: bool) -> DecoderFactory<Row> {
    Arc::new(move || -> Box<dyn LineDecoder<Row>> {
        if json {
            Box::new(JsonLinesDecoder::new(schema()))
        } else {
            Box::new(CsvDecoder::new(schema(), header))
        }
    })
}

fn line_only(json: bool, header: bool) -> DecoderFactory<Row> {
    let inner = factory(json, header);
    Arc::new(move || -> Box<dyn LineDecoder<Row>> { Box::new(LineOnly(inner())) })
}

/// What a run saw: per poll, the rows and the position after it; then the dead letters.
type Trace = (Vec<(Vec<Row>, Vec<RangePosition>)>, String);

/// Reads `path` with `splits` splits, `max` records per poll, each split starting at `resume`
/// (its ranges) when given.
fn trace(
    path: &std::path::Path,
    decoder: DecoderFactory<Row>,
    splits: usize,
    max: usize,
    max_line: usize,
    resume: Option<Vec<RangePosition>>,
) -> Trace {
    let source = FileSource::new(path, decoder, max_line);
    let dir = tempfile::tempdir().expect("tempdir");
    let dead_path = dir.path().join("dead.jsonl");
    let mut dead = DeadLetters::new(dead_path.clone(), OnError::DeadLetter);
    let mut polls = Vec::new();
    for w in 0..splits {
        let resume = resume.clone().filter(|_| w == 0);
        let n = if resume.is_some() { 1 } else { splits };
        let Ok(mut split) = source.open_split(w.min(n - 1), n, resume) else {
            polls.push((Vec::new(), Vec::new())); // a bad header fails both alike
            continue;
        };
        loop {
            let mut out = Vec::new();
            let poll = split.poll_batch(&mut out, max, &mut dead);
            let Ok(poll) = poll else {
                break;
            };
            assert!(out.len() <= max);
            polls.push((out, split.position()));
            if poll == Poll::End {
                break;
            }
        }
        if n == 1 {
            break;
        }
    }
    dead.flush().expect("flush");
    (
        polls,
        std::fs::read_to_string(&dead_path).unwrap_or_default(),
    )
}

/// Lines for both formats: mostly plain, some for the line path, some bad.
fn input(json: bool) -> impl Strategy<Value = Vec<u8>> {
    let plain = if json {
        "\\{\"key\":\"[a-z0-9]{1,30}\",\"value\":-?[0-9]{1,5},\"ts\":[0-9]{1,4}\\}"
    } else {
        "[a-z0-9]{1,30},-?[0-9]{1,5},[0-9]{1,4}"
    };
    let line = prop_oneof![
        12 => plain.prop_map(String::into_bytes),
        1 => Just(b"key,value,ts".to_vec()),
        1 => Just(b"\"k,\"\"q\",-9,1970-01-01T00:00:00Z".to_vec()),
        1 => Just(b"k,1".to_vec()),
        1 => Just(b"k,x,2".to_vec()),
        1 => Just("é,1,2".as_bytes().to_vec()),
        1 => Just(b"\xff,1,2".to_vec()),
        1 => Just(b"{\"ts\":2,\"key\":\"a\",\"value\":1}".to_vec()),
        1 => Just(b"{\"key\":\"a\",\"value\":1.5,\"ts\":2}".to_vec()),
        1 => Just(b"{\"key\":\"a\\\"\",\"value\":1,\"ts\":2}".to_vec()),
        1 => Just(Vec::new()),
        1 => Just("x".repeat(70).into_bytes()),
    ];
    (prop::collection::vec((line, 0u8..8), 0..60), any::<bool>()).prop_map(|(lines, end)| {
        let mut out = Vec::new();
        for (i, (l, nl)) in lines.iter().enumerate() {
            out.extend_from_slice(l);
            if i + 1 < lines.len() || end {
                out.extend_from_slice(if *nl == 0 { b"\r\n" } else { b"\n" });
            }
        }
        out
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn the_block_pass_reads_as_line_by_line(
        json in any::<bool>(),
        header in any::<bool>(),
        input in any::<bool>().prop_flat_map(input),
        splits in 1usize..4,
        max in 1usize..20,
        max_line in prop_oneof![Just(256usize), 20usize..64],
        resume_at in any::<prop::sample::Index>(),
    ) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("in");
        std::fs::write(&path, &input).expect("write");
        let header = header && !json;
        let fast = trace(&path, factory(json, header), splits, max, max_line, None);
        let slow = trace(&path, line_only(json, header), splits, max, max_line, None);
        prop_assert_eq!(&fast, &slow);
        // Resume from a position taken after some poll of the first split.
        if let Some((_, pos)) = fast.0.get(resume_at.index(fast.0.len().max(1))) {
            if !pos.is_empty() {
                let fast = trace(&path, factory(json, header), 1, max, max_line, Some(pos.clone()));
                let slow = trace(&path, line_only(json, header), 1, max, max_line, Some(pos.clone()));
                prop_assert_eq!(fast, slow);
            }
        }
    }
}
