//! Bad input through the real binary, as a user would feed it: a pipeline file that is not
//! text, and an input file with NUL bytes, CR/LF mixes, invalid UTF-8, wrong field counts,
//! an over-long line and no final newline. Expected figures come from the hand-checked table
//! below, not from the engine.

mod cli_support;

use cli_support::*;
use std::collections::BTreeSet;

/// The input, line by line (line 1 is the header), and whether each line is good, bad, or
/// skipped (empty). Checked by hand against the rules in README ("Malformed input lines").
const LINES: &[(&[u8], &str)] = &[
    (b"key,value,ts\n", "header"),
    (b"1,10,100\n", "good"),
    (b"2,20,200\r\n", "good"), // CRLF
    (b"\n", "empty"),          // skipped
    (b"3,\0,300\n", "bad"),    // NUL is not a number
    (b"\xff,1,1\n", "bad"),    // invalid UTF-8
    (b"4,40\r\n", "bad"),      // two fields
    (b"5,50,500,9\n", "bad"),  // four fields
    (&[b'x'; 100], "bad"),     // over max_line_bytes = 64 (newline added below)
    (b"\n6,60,600\n", "good"), // (ends line 9, then line 10)
    (b"\r\n", "empty"),        // a lone CR is an empty line
    (b"7,\"70\",700", "good"), // quoted, no final newline
];

fn input() -> Vec<u8> {
    LINES
        .iter()
        .flat_map(|(bytes, _)| bytes.iter().copied())
        .collect()
}

/// Line numbers of the bad lines: 5, 6, 7, 8, 9.
const BAD: [u64; 5] = [5, 6, 7, 8, 9];
/// Number of good lines.
const GOOD: usize = 4;

#[test]
fn malformed_lines_are_dead_lettered_with_their_line_numbers() {
    for workers in ["1", "2", "3"] {
        let dir = tempfile::tempdir().expect("tempdir");
        let (input_path, out, dead) = (
            dir.path().join("in.csv"),
            dir.path().join("out"),
            dir.path().join("dead.jsonl"),
        );
        std::fs::write(&input_path, input()).expect("write input");
        let done = output(
            weir()
                .args([
                    "run",
                    "fixtures/crash/count.toml",
                    "--no-pin",
                    "--workers",
                    workers,
                ])
                .arg("--set")
                .arg(format!("source.path={}", input_path.display()))
                .arg("--set")
                .arg(format!("sink.path={}", out.display()))
                .args(["--set", "source.max_line_bytes=64", "--dead-letter"])
                .arg(&dead),
        );
        let err = stderr(&done);
        assert_eq!(done.status.code(), Some(0), "{err}");
        assert!(
            err.contains(&format!("in={GOOD} out={GOOD} dead_lettered={}", BAD.len())),
            "summary: {err}"
        );
        let entries = read_dead(&dead);
        let lines: BTreeSet<u64> = entries
            .iter()
            .map(|e| e["line"].as_u64().expect("line number"))
            .collect();
        assert_eq!(lines.len(), entries.len(), "a line dead-lettered twice");
        assert_eq!(lines, BTreeSet::from(BAD), "workers {workers}");
        assert_eq!(read_parts(&out).concat().len(), GOOD);
    }
}

#[test]
fn a_pipeline_file_that_is_not_text_is_an_invalid_pipeline() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("p.toml");
    std::fs::write(&path, b"[source]\ntype = \"gen\xe9rator\"\n").expect("write");
    for cmd in ["run", "validate"] {
        let done = output(weir().arg(cmd).arg(&path));
        let err = stderr(&done);
        assert_eq!(done.status.code(), Some(2), "{cmd}: {err}");
        assert!(err.contains("not UTF-8 text"), "{cmd}: {err}");
        assert!(err.contains(&path.display().to_string()), "{cmd}: {err}");
    }
}
