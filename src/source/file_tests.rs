use super::*;
use crate::source::dead_letter::OnError;
use proptest::prelude::*;
use std::collections::BTreeMap;

/// Decodes a line as its text; lines starting with `x` are malformed. With `header`, the
/// first line of a file must be `h`.
struct TextDecoder {
    header: bool,
}

impl LineDecoder<String> for TextDecoder {
    fn has_header(&self) -> bool {
        self.header
    }
    fn check_header(&mut self, line: &[u8]) -> Result<(), String> {
        if line == b"h" {
            Ok(())
        } else {
            Err(format!("expected h, got {}", String::from_utf8_lossy(line)))
        }
    }
    fn decode(&mut self, line: &[u8], out: &mut Vec<String>) -> Result<(), String> {
        if line.starts_with(b"x") {
            return Err("starts with x".into());
        }
        out.push(String::from_utf8(line.to_vec()).map_err(|e| e.to_string())?);
        Ok(())
    }
}

fn source(path: &Path, header: bool, max_line: usize) -> FileSource<String> {
    FileSource::new(
        path,
        Arc::new(move || Box::new(TextDecoder { header }) as Box<dyn LineDecoder<String>>),
        max_line,
    )
}

/// A multiset of dead letters: (source, line, raw) → count.
type Dead = BTreeMap<(String, u64, String), usize>;

fn dead_letters(dir: &Path, name: &str, policy: OnError) -> DeadLetters {
    DeadLetters::new(dir.join(name), policy)
}

fn read_dead(d: &mut DeadLetters) -> Dead {
    d.flush().unwrap();
    let mut m = Dead::new();
    for l in std::fs::read_to_string(d.path())
        .unwrap_or_default()
        .lines()
    {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        let key = (
            v["source"].as_str().unwrap().to_string(),
            v["line"].as_u64().unwrap(),
            v["raw"].as_str().unwrap().to_string(),
        );
        *m.entry(key).or_default() += 1;
    }
    m
}

/// Polls `split` until it ends (or `limit` records were read), `max` records per poll.
fn drain(
    split: &mut dyn SourceSplit<String>,
    dead: &mut DeadLetters,
    max: usize,
    limit: usize,
) -> Vec<String> {
    let mut out = Vec::new();
    while out.len() < limit {
        let want = max.min(limit - out.len());
        let before = out.len();
        match split.poll_batch(&mut out, want, dead).unwrap() {
            Poll::End => break,
            Poll::Idle => panic!("a file split is never idle"),
            Poll::Ready => assert!(out.len() - before <= want),
        }
    }
    out
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// Writes the files; returns the expected good lines and dead letters.
fn write_files(dir: &Path, files: &[(Vec<(String, bool)>, bool)]) -> (Vec<String>, Dead) {
    let (mut good, mut dead) = (Vec::new(), Dead::new());
    for (f, (lines, trailing)) in files.iter().enumerate() {
        let path = dir.join(format!("in-{f:02}.txt"));
        let mut content = String::new();
        for (i, (text, crlf)) in lines.iter().enumerate() {
            content.push_str(text);
            if i + 1 < lines.len() || *trailing {
                content.push_str(if *crlf { "\r\n" } else { "\n" });
            }
            if text.starts_with('x') {
                *dead
                    .entry((
                        path.to_string_lossy().into_owned(),
                        i as u64 + 1,
                        text.clone(),
                    ))
                    .or_default() += 1;
            } else if !text.is_empty() {
                good.push(text.clone());
            }
        }
        std::fs::write(&path, content).unwrap();
    }
    (sorted(good), dead)
}

fn file_strategy() -> impl Strategy<Value = Vec<(Vec<(String, bool)>, bool)>> {
    let line = ("[abx]{0,5}", any::<bool>());
    prop::collection::vec((prop::collection::vec(line, 0..25), any::<bool>()), 1..4)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn every_line_is_read_exactly_once(files in file_strategy(), n in 1usize..=5, max in 1usize..8) {
        let tmp = tempfile::tempdir().unwrap();
        let input = tmp.path().join("input");
        std::fs::create_dir(&input).unwrap();
        let (want, want_dead) = write_files(&input, &files);
        let src = source(&input, false, 1024);
        let mut dead = dead_letters(tmp.path(), "dead.jsonl", OnError::DeadLetter);
        let mut got = Vec::new();
        for w in 0..n {
            let mut split = src.open_split(w, n, None).unwrap();
            got.extend(drain(split.as_mut(), &mut dead, max, usize::MAX));
        }
        prop_assert_eq!(sorted(got), want);
        prop_assert_eq!(read_dead(&mut dead), want_dead);
    }

    #[test]
    fn resume_from_a_position_reads_the_rest(files in file_strategy(), n in 1usize..=3) {
        let tmp = tempfile::tempdir().unwrap();
        let input = tmp.path().join("input");
        std::fs::create_dir(&input).unwrap();
        let (want, want_dead) = write_files(&input, &files);
        let src = source(&input, false, 1024);
        let mut dead = dead_letters(tmp.path(), "dead.jsonl", OnError::DeadLetter);
        let mut got = Vec::new();
        let mut positions = Vec::new();
        let mut rests = Vec::new();
        for w in 0..n {
            let mut scratch = dead_letters(tmp.path(), "scratch.jsonl", OnError::DeadLetter);
            let total = drain(src.open_split(w, n, None).unwrap().as_mut(), &mut scratch, 64, usize::MAX).len();
            let mut split = src.open_split(w, n, None).unwrap();
            got.extend(drain(split.as_mut(), &mut dead, 1, total / 2));
            let pos = split.position();
            prop_assert!(pos.iter().all(|r| r.next <= std::fs::metadata(&r.resource).unwrap().len()));
            positions.push(pos.clone());
            let mut resumed = src.open_split(w, n, Some(pos)).unwrap();
            let mut rest = drain(resumed.as_mut(), &mut dead, 3, usize::MAX);
            prop_assert_eq!(rest.len(), total - total / 2);
            rests.extend(rest.iter().cloned());
            got.append(&mut rest);
        }
        prop_assert_eq!(sorted(got), want.clone());
        prop_assert_eq!(read_dead(&mut dead), want_dead);

        // The same positions handed to one worker (a rescale) read the same rest.
        let mut again = Vec::new();
        let mut scratch = dead_letters(tmp.path(), "scratch2.jsonl", OnError::DeadLetter);
        let all: Vec<RangePosition> = positions.into_iter().flatten().collect();
        again.extend(drain(src.open_split(0, 1, Some(all)).unwrap().as_mut(), &mut scratch, 5, usize::MAX));
        prop_assert_eq!(sorted(again), sorted(rests));
    }
}

#[test]
fn byte_ranges_cover_the_concatenation() {
    let files = vec![
        (PathBuf::from("a"), 10),
        (PathBuf::from("b"), 0),
        (PathBuf::from("c"), 5),
    ];
    let r0 = byte_ranges(&files, 0, 2);
    let r1 = byte_ranges(&files, 1, 2);
    let spans = |r: &[RangePosition]| {
        r.iter()
            .map(|r| (r.resource.clone(), r.next, r.end))
            .collect::<Vec<_>>()
    };
    assert_eq!(spans(&r0), vec![("a".into(), 0, 7)]);
    assert_eq!(spans(&r1), vec![("a".into(), 7, 10), ("c".into(), 0, 5)]);
}

#[test]
fn headers_are_checked_and_skipped() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    std::fs::create_dir(&input).unwrap();
    std::fs::write(input.join("1.csv"), "h\r\none\ntwo\n").unwrap();
    std::fs::write(input.join("2.csv"), "h\nthree\nxbad\n").unwrap();
    let src = source(&input, true, 100);
    for n in 1..=4 {
        let mut dead = dead_letters(tmp.path(), &format!("dead{n}.jsonl"), OnError::DeadLetter);
        let mut got = Vec::new();
        for w in 0..n {
            got.extend(drain(
                src.open_split(w, n, None).unwrap().as_mut(),
                &mut dead,
                2,
                usize::MAX,
            ));
        }
        assert_eq!(sorted(got), ["one", "three", "two"]);
        let path = input.join("2.csv").to_string_lossy().into_owned();
        assert_eq!(
            read_dead(&mut dead).into_keys().collect::<Vec<_>>(),
            [(path, 3, "xbad".to_string())]
        );
    }
    std::fs::write(input.join("3.csv"), "nope\nfour\n").unwrap();
    let src = source(&input, true, 100);
    let mut dead = dead_letters(tmp.path(), "dead.jsonl", OnError::DeadLetter);
    let err = drain_err(src.open_split(0, 1, None).unwrap().as_mut(), &mut dead);
    assert!(matches!(err, Error::Data { line: 1, .. }), "{err}");
    assert!(
        err.to_string().contains("3.csv") && err.to_string().contains("expected h"),
        "{err}"
    );
}

fn drain_err(split: &mut dyn SourceSplit<String>, dead: &mut DeadLetters) -> Error {
    let mut out = Vec::new();
    loop {
        match split.poll_batch(&mut out, 100, dead) {
            Ok(Poll::End) => panic!("expected an error"),
            Ok(_) => {}
            Err(e) => return e,
        }
    }
}

#[test]
fn directory_listing_skips_hidden_files_and_subdirectories() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("b"), "2\n").unwrap();
    std::fs::write(tmp.path().join("a"), "1\n").unwrap();
    std::fs::write(tmp.path().join(".hidden"), "h\n").unwrap();
    std::fs::create_dir(tmp.path().join("sub")).unwrap();
    std::fs::write(tmp.path().join("sub/c"), "3\n").unwrap();
    let src = source(tmp.path(), false, 100);
    let names: Vec<_> = src
        .files()
        .unwrap()
        .into_iter()
        .map(|(p, _)| p.file_name().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["a", "b"]);
    let mut dead = dead_letters(tmp.path(), ".dead", OnError::DeadLetter);
    assert_eq!(
        drain(
            src.open_split(0, 1, None).unwrap().as_mut(),
            &mut dead,
            10,
            10
        ),
        ["1", "2"]
    );
}

#[test]
fn check_names_a_missing_path() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("nope.csv");
    let err = Source::<String>::check(&source(&missing, false, 100)).unwrap_err();
    assert!(matches!(err, Error::Io { ref path, .. } if path == &missing));
    assert!(err.to_string().contains("nope.csv"));
    assert!(Source::<String>::open_split(&source(&missing, false, 100), 0, 1, None).is_err());
}

#[test]
fn long_lines_go_to_dead_letters_and_fail_fast_stops() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("in.txt");
    std::fs::write(&path, format!("ok\n{}\nfine\nxbad\nend", "z".repeat(50))).unwrap();
    let src = source(&path, false, 8);
    let mut dead = dead_letters(tmp.path(), "dead.jsonl", OnError::DeadLetter);
    assert_eq!(
        drain(
            src.open_split(0, 1, None).unwrap().as_mut(),
            &mut dead,
            10,
            10
        ),
        ["ok", "fine", "end"]
    );
    assert_eq!(dead.count(), 2);
    dead.flush().unwrap();
    let text = std::fs::read_to_string(dead.path()).unwrap();
    assert!(
        text.contains("line longer than 8 bytes") && text.contains("\"line\":2"),
        "{text}"
    );

    let mut fail = dead_letters(tmp.path(), "fail.jsonl", OnError::Fail);
    let err = drain_err(src.open_split(0, 1, None).unwrap().as_mut(), &mut fail);
    assert!(matches!(err, Error::Data { line: 2, .. }), "{err}");
}

#[test]
fn a_large_file_splits_into_equal_shares() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("big.txt");
    let lines: Vec<String> = (0..200_000).map(|i| format!("line-{i:06}")).collect();
    std::fs::write(&path, lines.join("\n")).unwrap();
    let src = source(&path, false, 100);
    let mut dead = dead_letters(tmp.path(), "dead.jsonl", OnError::DeadLetter);
    let mut all = Vec::new();
    for w in 0..3 {
        let part = drain(
            src.open_split(w, 3, None).unwrap().as_mut(),
            &mut dead,
            4096,
            usize::MAX,
        );
        assert!(
            part.len() > 60_000 && part.len() < 70_000,
            "worker {w}: {}",
            part.len()
        );
        all.extend(part);
    }
    assert_eq!(all, lines);
}
