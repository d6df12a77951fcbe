//! Bad input never panics and never loses a line: arbitrary bytes (NUL, lone `\r`, CR/LF
//! mixes, invalid UTF-8, lines at and around `max_line_bytes`, megabytes without a newline)
//! through the line reader and through a file source with the real CSV and JSON-lines
//! decoders. The oracle splits the bytes on `\n` itself.

use super::dead_letter::OnError;
use super::file::{DecoderFactory, FileSource};
use super::lines::{LineReader, Step};
use super::{DeadLetters, LineDecoder, Poll, Source, StdinSource};
use crate::record::csv::CsvDecoder;
use crate::record::json::JsonLinesDecoder;
use crate::record::schema::{Field, FieldType, Schema};
use crate::record::Row;
use proptest::prelude::*;
use std::collections::BTreeSet;
use std::io::Read;
use std::sync::Arc;

/// A reader that hands out at most `chunk` bytes per read (buffer boundaries everywhere).
struct Chunked<'a> {
    data: &'a [u8],
    chunk: usize,
}

impl Read for Chunked<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.chunk.max(1).min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

/// An owned input handed out 13 bytes per read, like a slow pipe.
struct OwnedChunks {
    data: Vec<u8>,
    at: usize,
}

impl Read for OwnedChunks {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let mut rest = Chunked {
            data: &self.data[self.at..],
            chunk: 13,
        };
        let n = rest.read(buf)?;
        self.at += n;
        Ok(n)
    }
}

/// The oracle's lines: `input` split on `\n` (a last piece without `\n` is a line when not
/// empty), each without one trailing `\r`.
fn oracle_lines(input: &[u8]) -> Vec<&[u8]> {
    let mut lines: Vec<&[u8]> = input.split(|&b| b == b'\n').collect();
    if lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    lines
        .into_iter()
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .collect()
}

/// Bytes from an alphabet rich in the troublesome ones.
fn nasty_bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    let byte = prop_oneof![
        4 => Just(b'a'),
        2 => Just(b'\n'),
        2 => Just(b'\r'),
        1 => Just(0u8),
        1 => Just(0xffu8),
        1 => Just(0xc3u8),
        1 => Just(b','),
        1 => Just(b'"'),
        1 => Just(b'1'),
        1 => any::<u8>(),
    ];
    prop::collection::vec(byte, 0..max)
}

/// Every line the reader gives, as (bytes, number, too_long).
fn read_all(input: &[u8], chunk: usize, max_line: usize) -> Vec<(Vec<u8>, u64, bool)> {
    let mut r = LineReader::new(Chunked { data: input, chunk }, 0, 0, u64::MAX, max_line);
    let mut out = Vec::new();
    loop {
        match r.next_line(true).expect("in-memory reads do not fail") {
            Step::Line(l) => out.push((l.bytes.to_vec(), l.number, l.too_long)),
            Step::NeedRead => panic!("NeedRead with read_more"),
            Step::End => break,
        }
    }
    assert_eq!(r.offset(), input.len() as u64, "consumed everything");
    out
}

/// Checks the reader's lines against the oracle's.
fn check_lines(input: &[u8], got: &[(Vec<u8>, u64, bool)], max_line: usize) {
    let want = oracle_lines(input);
    assert_eq!(got.len(), want.len(), "line count");
    for (i, ((bytes, number, too_long), line)) in got.iter().zip(&want).enumerate() {
        assert_eq!(*number, i as u64 + 1);
        assert_eq!(*too_long, line.len() > max_line, "line {number}");
        if *too_long {
            // An over-long line may come as a prefix (of the line, `\r` included).
            let raw = input.split(|&b| b == b'\n').nth(i).unwrap_or_default();
            assert!(raw.starts_with(bytes), "line {number}: not a prefix");
        } else {
            assert_eq!(bytes.as_slice(), *line, "line {number}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_line_reader_matches_the_oracle_on_any_bytes(
        input in nasty_bytes(400),
        chunk in 1usize..40,
        max_line in 0usize..24,
    ) {
        let got = read_all(&input, chunk, max_line);
        check_lines(&input, &got, max_line);
    }

    /// Lines of exactly `max_line - 2 ..= max_line + 2` bytes, with `\n` or `\r\n`.
    #[test]
    fn lines_around_the_limit(
        lines in prop::collection::vec((0usize..5, any::<bool>(), any::<u8>()), 1..12),
        max_line in 2usize..64,
        chunk in 1usize..100,
        newline_at_end in any::<bool>(),
    ) {
        let mut input = Vec::new();
        for (i, (delta, crlf, fill)) in lines.iter().enumerate() {
            let fill = if *fill == b'\n' || *fill == b'\r' { b'x' } else { *fill };
            input.extend(std::iter::repeat_n(fill, max_line + delta - 2));
            if i + 1 < lines.len() || newline_at_end {
                input.extend_from_slice(if *crlf { b"\r\n" } else { b"\n" });
            }
        }
        let got = read_all(&input, chunk, max_line);
        check_lines(&input, &got, max_line);
    }
}

#[test]
fn megabytes_without_a_newline() {
    let mib = 1 << 20;
    let mut input: Vec<u8> = (0..3 * mib)
        .map(|i| [b'a', 0, 0xff, b'\r'][i % 4])
        .collect();
    input.extend_from_slice(b"\nz\r\n");
    // Over the limit: one dead line (a prefix of it), then "z".
    let got = read_all(&input, 64 * 1024, mib);
    check_lines(&input, &got, mib);
    assert!(got[0].2 && got[0].0.len() <= mib + 1);
    // Within a larger limit: the whole line (the buffer grows).
    let got = read_all(&input, 1 << 20, 4 * mib);
    check_lines(&input, &got, 4 * mib);
    assert_eq!(
        got[0].0.len(),
        3 * mib - 1,
        "the whole line but its final \\r"
    );
    // No newline at all, to the end of input.
    let got = read_all(&input[..3 * mib], 1 << 20, mib);
    assert_eq!(got.len(), 1);
    assert!(got[0].2);
}

/// `key` (string), `value` (i64), `ts` (timestamp).
pub(super) fn schema() -> Schema {
    let field = |name: &str, ty| Field {
        name: name.into(),
        ty,
    };
    Schema {
        fields: vec![
            field("key", FieldType::String),
            field("value", FieldType::I64),
            field("ts", FieldType::Timestamp),
        ],
    }
}

/// Runs a file source over `input` with `splits` splits (`0`: a stdin source reading it
/// from a pipe-like reader); returns the records read and the dead letters' line numbers.
fn run_source(
    input: &[u8],
    decoder: DecoderFactory<Row>,
    splits: usize,
    max_line: usize,
) -> (usize, Vec<u64>) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = tmp.path().join("in.txt");
    std::fs::write(&path, input).expect("write input");
    let source: Box<dyn Source<Row>> = if splits == 0 {
        let reader = OwnedChunks {
            data: input.to_vec(),
            at: 0,
        };
        Box::new(StdinSource::from_reader(reader, decoder, max_line))
    } else {
        Box::new(FileSource::new(&path, decoder, max_line))
    };
    let dead_path = tmp.path().join("dead.jsonl");
    let mut dead = DeadLetters::new(dead_path.clone(), OnError::DeadLetter);
    let mut records = 0;
    for w in 0..splits.max(1) {
        let mut split = source
            .open_split(w, splits.max(1), None)
            .expect("open split");
        let mut out = Vec::new();
        loop {
            match split
                .poll_batch(&mut out, 7, &mut dead)
                .expect("no fatal error")
            {
                Poll::End => break,
                Poll::Idle => std::thread::sleep(std::time::Duration::from_micros(100)),
                Poll::Ready => {}
            }
        }
        records += out.len();
    }
    dead.flush().expect("flush dead letters");
    let text = std::fs::read_to_string(&dead_path).unwrap_or_default();
    let lines = text
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("dead letter is JSON");
            v["line"].as_u64().expect("line number")
        })
        .collect();
    (records, lines)
}

/// good + dead = the oracle's non-empty lines; each dead letter names a distinct line, which
/// is exactly a line that does not decode on its own (or is too long).
fn check_source(input: &[u8], decoder: DecoderFactory<Row>, splits: usize, max_line: usize) {
    let lines = oracle_lines(input);
    let (records, dead) = run_source(input, decoder.clone(), splits, max_line);
    let dead_set: BTreeSet<u64> = dead.iter().copied().collect();
    assert_eq!(dead_set.len(), dead.len(), "a line dead-lettered twice");
    let mut one = decoder();
    let mut want_dead = BTreeSet::new();
    let mut nonempty = 0;
    for (i, line) in lines.iter().enumerate() {
        if line.is_empty() {
            continue;
        }
        nonempty += 1;
        let mut out = Vec::new();
        if line.len() > max_line || one.decode(line, &mut out).is_err() {
            want_dead.insert(i as u64 + 1);
        }
    }
    assert_eq!(records + dead.len(), nonempty, "good + dead = lines");
    assert_eq!(dead_set, want_dead);
}

fn csv() -> DecoderFactory<Row> {
    Arc::new(|| Box::new(CsvDecoder::new(schema(), false)) as Box<dyn LineDecoder<Row>>)
}

fn jsonl() -> DecoderFactory<Row> {
    Arc::new(|| Box::new(JsonLinesDecoder::new(schema())) as Box<dyn LineDecoder<Row>>)
}

/// Lines that are mostly almost valid, for both formats.
fn csv_ish() -> impl Strategy<Value = Vec<u8>> {
    let line = prop_oneof![
        Just(b"k,1,2".to_vec()),
        Just(b"\"k,\"\"q\",-9,1970-01-01T00:00:00Z".to_vec()),
        Just(b"k,1".to_vec()),
        Just(b"k,x,2".to_vec()),
        Just(b"\xff,1,2".to_vec()),
        Just(b"k\0,1,2\r".to_vec()),
        Just(b"{\"key\":\"a\",\"value\":1,\"ts\":2}".to_vec()),
        Just(b"{\"key\":\"a\",\"value\":1.5,\"ts\":2}".to_vec()),
        Just(b"{\"key\":\"\\ud800\",\"value\":1,\"ts\":2}".to_vec()),
        Just(b"{\"key\":\"a\",\"value\":99999999999999999999,\"ts\":2}".to_vec()),
        nasty_bytes(30),
    ];
    prop::collection::vec((line, any::<bool>()), 0..30).prop_map(|lines| {
        let mut out = Vec::new();
        for (l, crlf) in lines {
            out.extend_from_slice(&l);
            out.extend_from_slice(if crlf { b"\r\n" } else { b"\n" });
        }
        out
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn csv_source_dead_letters_every_bad_line(
        input in prop_oneof![nasty_bytes(600), csv_ish()],
        splits in 1usize..4,
        max_line in 1usize..64,
    ) {
        check_source(&input, csv(), splits, max_line);
    }

    /// The same through the stdin source (one reader thread, line numbers from 1).
    #[test]
    fn stdin_source_dead_letters_every_bad_line(
        input in prop_oneof![nasty_bytes(600), csv_ish()],
        max_line in 1usize..64,
    ) {
        check_source(&input, csv(), 0, max_line);
    }

    #[test]
    fn jsonl_source_dead_letters_every_bad_line(
        input in prop_oneof![nasty_bytes(600), csv_ish()],
        splits in 1usize..4,
        max_line in 1usize..64,
    ) {
        check_source(&input, jsonl(), splits, max_line);
    }
}
