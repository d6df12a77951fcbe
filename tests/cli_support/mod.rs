//! Shared helpers of the `cli_*` integration tests: run the real `weir` binary from the
//! repository root (the fixture pipelines name their inputs relative to it) and read its
//! outputs.

#![allow(dead_code)] // each test crate uses a different subset

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The repository root (the fixture pipelines' paths are relative to it).
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `weir` with the repository root as working directory and quiet logging.
pub fn weir() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_weir"));
    cmd.current_dir(root())
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null());
    cmd
}

/// Runs `cmd`, returning its output (stdout and stderr captured).
pub fn output(cmd: &mut Command) -> Output {
    cmd.output().expect("weir runs")
}

/// Text of the stderr of a run.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The result of a fixture run into a temporary directory.
pub struct Run {
    /// Exit status, stdout, stderr.
    pub output: Output,
    /// Lines of each published part file (`part-*`), in part-file name order.
    pub parts: Vec<Vec<String>>,
    /// The dead-letter file's entries (empty when the file was not created).
    pub dead: Vec<serde_json::Value>,
    /// Keeps the temporary directory alive.
    pub dir: tempfile::TempDir,
}

impl Run {
    /// Every output line (`cat part-*`).
    pub fn lines(&self) -> Vec<String> {
        self.parts.concat()
    }

    /// Asserts exit 0, printing stderr otherwise.
    pub fn assert_ok(&self) {
        assert!(
            self.output.status.success(),
            "weir failed: {}",
            stderr(&self.output)
        );
    }
}

/// Runs `fixtures/<name>.toml` with `--workers N`, the sink redirected to a fresh directory
/// and the dead letters to a fresh file, plus `extra` arguments.
pub fn run_fixture(name: &str, workers: usize, extra: &[&str]) -> Run {
    let dir = tempfile::tempdir().expect("temp dir");
    let sink = dir.path().join("out");
    let dead = dir.path().join("dead.jsonl");
    let output = output(
        weir()
            .arg("run")
            .arg(format!("fixtures/{name}.toml"))
            .args(["--workers", &workers.to_string(), "--no-pin"])
            .arg(format!("--set=sink.path={}", sink.display()))
            .arg("--dead-letter")
            .arg(&dead)
            .args(extra),
    );
    let parts = read_parts(&sink);
    let dead = read_dead(&dead);
    Run {
        output,
        parts,
        dead,
        dir,
    }
}

/// The lines of each `part-*` file of `dir` (none when `dir` does not exist).
pub fn read_parts(dir: &Path) -> Vec<Vec<String>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("dir entry").path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("part-"))
        })
        .collect();
    files.sort();
    files
        .iter()
        .map(|f| lines_of(&std::fs::read_to_string(f).expect("part file")))
        .collect()
}

/// JSON lines of a dead-letter file (empty when it does not exist).
pub fn read_dead(path: &Path) -> Vec<serde_json::Value> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    text.lines()
        .map(|l| serde_json::from_str(l).expect("dead letter is JSON"))
        .collect()
}

/// The lines of a text.
pub fn lines_of(text: &str) -> Vec<String> {
    text.lines().map(str::to_owned).collect()
}

/// Lines of `fixtures/expected/<file>`.
pub fn expected(file: &str) -> Vec<String> {
    let path = root().join("fixtures/expected").join(file);
    lines_of(&std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

/// Asserts that `got` and `want` are equal as multisets, showing only the differences.
pub fn assert_same_multiset(what: &str, got: &[String], want: &[String]) {
    let mut counts: BTreeMap<&str, i64> = BTreeMap::new();
    for l in got {
        *counts.entry(l).or_default() += 1;
    }
    for l in want {
        *counts.entry(l).or_default() -= 1;
    }
    let extra: Vec<_> = counts
        .iter()
        .filter(|(_, &n)| n > 0)
        .map(|(l, n)| format!("{l} (x{n})"))
        .collect();
    let missing: Vec<_> = counts
        .iter()
        .filter(|(_, &n)| n < 0)
        .map(|(l, n)| format!("{l} (x{})", -n))
        .collect();
    assert!(
        extra.is_empty() && missing.is_empty(),
        "{what}: {} lines, {} expected\nunexpected: {:?}\nmissing: {:?}",
        got.len(),
        want.len(),
        &extra[..extra.len().min(10)],
        &missing[..missing.len().min(10)]
    );
}

/// Groups lines by key, keeping their order within each key.
pub fn by_key(lines: &[String], key: impl Fn(&str) -> String) -> BTreeMap<String, Vec<String>> {
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in lines {
        map.entry(key(line)).or_default().push(line.clone());
    }
    map
}

/// Column `i` of a CSV line without quoted fields (the fixture outputs have none).
pub fn column(line: &str, i: usize) -> String {
    line.split(',')
        .nth(i)
        .unwrap_or_else(|| panic!("no column {i} in {line:?}"))
        .to_owned()
}

/// Asserts that the dead letters are the expected ones (`fixtures/expected/<name>.dead.jsonl`,
/// line number and reason prefix) in line order; with `sort`, the order of the file is free.
pub fn assert_dead_letters(name: &str, dead: &[serde_json::Value], sort: bool) {
    let want: Vec<serde_json::Value> = expected(&format!("{name}.dead.jsonl"))
        .iter()
        .map(|l| serde_json::from_str(l).expect("expected dead letter"))
        .collect();
    let mut got = dead.to_vec();
    if sort {
        got.sort_by_key(|d| d["line"].as_u64());
    }
    let lines = |v: &[serde_json::Value]| {
        v.iter()
            .map(|d| d["line"].as_u64().expect("line"))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        lines(&got),
        lines(&want),
        "{name}: dead-letter line numbers"
    );
    for (g, w) in got.iter().zip(&want) {
        let (reason, prefix) = (
            g["reason"].as_str().expect("reason"),
            w["reason_prefix"].as_str().expect("prefix"),
        );
        assert!(
            reason.starts_with(prefix),
            "{name} line {}: reason {reason:?}, expected {prefix:?}…",
            w["line"]
        );
        assert!(
            g["source"]
                .as_str()
                .is_some_and(|s| s.starts_with("fixtures/events.")),
            "{name}: source {g}"
        );
        assert!(g["raw"].is_string(), "{name}: raw line kept: {g}");
    }
}

/// A pipeline file `name` with `text` in a fresh temporary directory.
pub fn pipeline_file(name: &str, text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(name);
    std::fs::write(&path, text).expect("write pipeline");
    (dir, path)
}
