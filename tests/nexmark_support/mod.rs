//! Shared helpers of the `nexmark_q*` tests: generate the event stream with `weir nexmark gen`,
//! compute a query's rows with the reference script (`scripts/nexmark_ref.py`, written apart
//! from the engine), run the query file with the real binary, and compare.

#![allow(dead_code)] // each test crate uses a different subset

#[path = "../cli_support/mod.rs"]
mod cli_support;

pub use cli_support::{assert_same_multiset, output, read_parts, root, stderr, weir};
use std::path::Path;

/// The generator settings of a check: events, mode, event-time rate.
#[derive(Clone, Copy)]
pub struct Stream {
    /// Events of the whole stream.
    pub events: u64,
    /// `beam` or `flink`.
    pub mode: &'static str,
    /// Event-time rate, events per second.
    pub rate: u64,
}

impl Stream {
    /// Beam fields at the default 10M/s.
    pub fn beam(events: u64) -> Stream {
        Stream {
            events,
            mode: "beam",
            rate: 10_000_000,
        }
    }

    /// The `--set` overrides that make a query file generate this stream.
    pub fn sets(&self) -> Vec<String> {
        vec![
            format!("--set=source.events={}", self.events),
            format!("--set=source.mode={}", self.mode),
            format!("--set=source.rate={}", self.rate),
        ]
    }
}

/// Writes the stream's JSON lines to `dir/events.jsonl` (flink timing, as the source uses).
pub fn generate(stream: Stream, dir: &Path) -> std::path::PathBuf {
    let path = dir.join("events.jsonl");
    let out = output(weir().args([
        "nexmark",
        "gen",
        "--events",
        &stream.events.to_string(),
        "--mode",
        stream.mode,
        "--rate",
        &stream.rate.to_string(),
        "--timing",
        "flink",
        "--out",
        path.to_str().expect("utf-8 path"),
    ]));
    assert!(out.status.success(), "gen: {}", stderr(&out));
    path
}

/// The reference rows of `query` over `events` (CSV lines without the header).
pub fn reference(query: &str, events: &Path) -> Vec<String> {
    let out = std::process::Command::new("python3")
        .arg(root().join("scripts/nexmark_ref.py"))
        .arg(query)
        .arg(events)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "nexmark_ref.py {query}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .lines()
        .skip(1)
        .map(str::to_owned)
        .collect()
}

/// Runs `fixtures/nexmark/<query>.toml` over `stream` at `workers`, with `extra` arguments;
/// returns the lines of every part file.
pub fn run_query(
    query: &str,
    stream: Stream,
    workers: usize,
    dir: &Path,
    extra: &[&str],
) -> Vec<String> {
    let sink = dir.join(format!("out-{workers}"));
    let out = output(
        weir()
            .arg("run")
            .arg(format!("fixtures/nexmark/{query}.toml"))
            .args(["--workers", &workers.to_string(), "--no-pin"])
            .args(stream.sets())
            .arg(format!("--set=sink.path={}", sink.display()))
            .args(extra),
    );
    assert!(out.status.success(), "weir run {query}: {}", stderr(&out));
    read_parts(&sink).concat()
}

/// Checks `query` against the reference at 1 and 2 workers.
pub fn check(query: &str, stream: Stream) {
    let dir = tempfile::tempdir().expect("temp dir");
    let events = generate(stream, dir.path());
    let want = reference(query, &events);
    assert!(!want.is_empty(), "{query}: the reference is empty");
    for workers in [1, 2] {
        let got = run_query(query, stream, workers, dir.path(), &[]);
        assert_same_multiset(&format!("{query} at {workers} workers"), &got, &want);
    }
}
