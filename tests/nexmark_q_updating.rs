//! Nexmark's updating queries (q4, q9, q15–q19) and q5 from their pipeline files, run by the real binary
//! at 1 and 2 workers over 100K events, against `scripts/nexmark_ref_updating.py` (written
//! apart from the engine) over the same generated stream.
//!
//! The engine writes one upsert row per change. A key's rows live on one worker, in order, so
//! the last row of each key in the part files is its final value: those must equal the
//! reference's rows. Each key's rows must also move the way its query allows (a count only
//! grows, q18's dateTime never goes back, q19's price at a rank never falls).

mod checkpoint_support;
mod nexmark_support;

use nexmark_support::{assert_same_multiset, output, read_parts, root, stderr, weir};
use std::collections::BTreeMap;
use std::path::Path;

/// One check: the query, its stream, how its rows are keyed and how a key's rows move.
struct Check {
    query: &'static str,
    /// `--set` overrides of the stream (every query sets events, mode and rate).
    sets: Vec<String>,
    /// Generator arguments giving the same stream.
    gen: [&'static str; 4],
    /// Columns of the upsert key (empty: an append query, every row compared).
    key: &'static [usize],
    /// A column that must not decrease along a key's rows (`strict`: must increase).
    monotone: Option<(usize, bool)>,
}

impl Check {
    fn new(query: &'static str, source: &str, mode: &'static str, rate: &'static str) -> Check {
        Check {
            query,
            sets: vec![
                format!("--set={source}.events=100000"),
                format!("--set={source}.mode={mode}"),
                format!("--set={source}.rate={rate}"),
            ],
            gen: ["--mode", mode, "--rate", rate],
            key: &[0],
            monotone: None,
        }
    }

    fn key(mut self, key: &'static [usize], monotone: Option<(usize, bool)>) -> Check {
        self.key = key;
        self.monotone = monotone;
        self
    }

    fn run(&self) {
        let dir = tempfile::tempdir().expect("temp dir");
        let events = self.generate(dir.path());
        let want = reference(self.query, &events);
        assert!(want.len() > 1, "{}: the reference is empty", self.query);
        for workers in [1, 2] {
            let sink = dir.path().join(format!("out-{workers}"));
            let out = output(
                weir()
                    .arg("run")
                    .arg(format!("fixtures/nexmark/{}.toml", self.query))
                    .args(["--workers", &workers.to_string(), "--no-pin"])
                    .args(&self.sets)
                    .arg(format!("--set=sink.path={}", sink.display())),
            );
            assert!(out.status.success(), "{}: {}", self.query, stderr(&out));
            let rows = read_parts(&sink).concat();
            let what = format!("{} at {workers} workers", self.query);
            let last = match self.key {
                [] => rows,
                _ => self.final_rows(&what, &rows),
            };
            assert_same_multiset(&what, &last, &want);
        }
    }

    /// Generates the stream into `dir/events.jsonl`; returns its path.
    fn generate(&self, dir: &Path) -> std::path::PathBuf {
        let events = dir.join("events.jsonl");
        let out = output(
            weir()
                .args(["nexmark", "gen", "--events", "100000", "--timing", "flink"])
                .args(self.gen)
                .arg("--out")
                .arg(&events),
        );
        assert!(out.status.success(), "gen: {}", stderr(&out));
        events
    }

    /// The last row of each key, after checking how each key's rows move.
    fn final_rows(&self, what: &str, rows: &[String]) -> Vec<String> {
        let mut last: BTreeMap<Vec<String>, (Vec<String>, &String)> = BTreeMap::new();
        for line in rows {
            let cols = split_csv(line);
            let key: Vec<String> = self.key.iter().map(|&k| cols[k].clone()).collect();
            if let (Some((prev, _)), Some((c, strict))) = (last.get(&key), self.monotone) {
                let (a, b): (i64, i64) = (num(&prev[c]), num(&cols[c]));
                assert!(
                    b > a || (!strict && b == a),
                    "{what}: column {c} of key {key:?} went from {a} to {b}"
                );
            }
            last.insert(key, (cols, line));
        }
        last.into_values().map(|(_, l)| l.clone()).collect()
    }
}

fn num(s: &str) -> i64 {
    s.parse()
        .unwrap_or_else(|_| panic!("not an integer: {s:?}"))
}

/// The fields of one CSV line (double-quoted fields with `""` escapes).
fn split_csv(line: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let (mut quoted, mut chars) = (false, line.chars().peekable());
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                out.last_mut().expect("a field").push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(String::new()),
            _ => out.last_mut().expect("a field").push(c),
        }
    }
    out
}

/// The reference's final rows of `query` (CSV lines without the header).
fn reference(query: &str, events: &Path) -> Vec<String> {
    let out = std::process::Command::new("python3")
        .arg(root().join("scripts/nexmark_ref_updating.py"))
        .arg(query)
        .arg(events)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "nexmark_ref_updating.py {query}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("utf-8");
    text.lines().skip(1).map(str::to_owned).collect()
}

#[test]
fn q18_last_bid_per_bidder_and_auction() {
    // 1000 events/s: every event has its own millisecond (ties of dateTime are by arrival,
    // which the split over workers does not fix).
    Check::new("q18", "source", "flink", "1000")
        .key(&[1, 0], Some((5, false)))
        .run();
}

#[test]
fn q19_top_ten_bids_per_auction() {
    Check::new("q19", "source", "beam", "10000000")
        .key(&[0, 7], Some((2, false)))
        .run();
}

#[test]
fn q15_bidding_statistics_per_day() {
    // 1 event/s: 100K events span 28 hours, two UTC days.
    Check::new("q15", "source", "beam", "1")
        .key(&[0], Some((1, true)))
        .run();
}

#[test]
fn q16_channel_statistics_per_day() {
    Check::new("q16", "source", "flink", "1")
        .key(&[0, 1], Some((3, true)))
        .run();
}

#[test]
fn q17_auction_statistics_per_day() {
    Check::new("q17", "source", "beam", "1")
        .key(&[0, 1], Some((2, true)))
        .run();
}

#[test]
fn q9_winning_bid_per_auction() {
    // 1000 events/s: every event has its own millisecond, so equal prices are ordered by
    // dateTime (then_by) and never by arrival, which the split over workers does not fix.
    Check::new("q9", "source", "flink", "1000")
        .key(&[0], Some((12, false)))
        .run();
}

#[test]
fn q4_average_of_each_auctions_highest_bid_per_category() {
    Check::new("q4", "source", "beam", "10000000")
        .key(&[0], None)
        .run();
}

/// The committed part files' lines in epoch order, then worker order (a key restored on
/// another worker keeps its rows in order).
fn committed_in_epoch_order(dir: &Path) -> Vec<String> {
    let mut parts: Vec<((u64, u64), std::path::PathBuf)> = std::fs::read_dir(dir)
        .expect("output directory")
        .map(|e| e.expect("dir entry").path())
        .filter_map(|p| {
            let name = p.file_name()?.to_str()?.strip_prefix("part-")?.to_owned();
            let (w, e) = name.split_once('-')?;
            Some(((e.parse().ok()?, w.parse().ok()?), p))
        })
        .collect();
    parts.sort();
    parts
        .iter()
        .flat_map(|(_, p)| {
            let text = std::fs::read_to_string(p).expect("part file");
            text.lines().map(str::to_owned).collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn q4_killed_and_restored_on_one_worker_ends_with_the_reference() {
    use checkpoint_support::crash_after_checkpoint;
    let check = Check::new("q4", "source", "beam", "10000000").key(&[0], None);
    let dir = tempfile::tempdir().expect("temp dir");
    let events = check.generate(dir.path());
    let want = reference("q4", &events);
    let (out, ckpt) = (dir.path().join("out"), dir.path().join("ckpt"));
    let run = |workers: usize| {
        let mut cmd = weir();
        cmd.arg("run")
            .arg("fixtures/nexmark/q4.toml")
            .args(["--workers", &workers.to_string(), "--no-pin"])
            .args(&check.sets)
            .arg(format!("--set=sink.path={}", out.display()))
            .arg("--checkpoint-dir")
            .arg(&ckpt)
            .args(["--checkpoint-interval", "20ms"]);
        cmd
    };
    crash_after_checkpoint(&mut run(2), &ckpt, 2);
    let done = output(run(1).args(["--restore", "latest"]));
    assert!(done.status.success(), "restore: {}", stderr(&done));
    let rows = committed_in_epoch_order(&out);
    let last = check.final_rows("q4 restored", &rows);
    assert_same_multiset("q4 killed at 2 workers, restored at 1", &last, &want);
}

#[test]
fn q5_hot_items_per_hop_window() {
    // 1000 events/s: 100 s of event time, about 50 hop windows.
    Check::new("q5", "source", "beam", "1000")
        .key(&[], None)
        .run();
}
