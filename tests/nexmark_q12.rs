//! Nexmark q12 (processing-time windows) from `fixtures/nexmark/q12.toml`, run by the real
//! binary at 1 and 2 workers over 100K events. Which window a bid falls in depends on when it
//! is processed, so the rows are checked against invariants and the reference
//! (`scripts/nexmark_ref.py q12`: bids per bidder over the whole stream, written apart from the
//! engine): each bidder's counts over all its windows sum to its number of bids; every window
//! is 10 s long, starts at a multiple of 10 s and lies within the run's wall-clock time; no
//! (bidder, window) appears twice.

mod nexmark_support;

use nexmark_support::{generate, reference, run_query, Stream};
use std::collections::{BTreeMap, BTreeSet};
use std::time::{SystemTime, UNIX_EPOCH};

const WINDOW_MS: i64 = 10_000;

fn wall_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_millis() as i64
}

fn int(s: &str, line: &str) -> i64 {
    s.parse()
        .unwrap_or_else(|_| panic!("not an integer: {s:?} in {line:?}"))
}

/// Checks the rows of one run that took place between wall-clock `t0` and `t1`; returns the
/// count per bidder.
fn check_rows(what: &str, rows: &[String], t0: i64, t1: i64) -> BTreeMap<i64, i64> {
    let mut per_bidder = BTreeMap::new();
    let mut seen = BTreeSet::new();
    for line in rows {
        let cols: Vec<i64> = line.split(',').map(|c| int(c, line)).collect();
        let [bidder, count, start, end] = cols[..] else {
            panic!("{what}: not 4 columns: {line:?}");
        };
        assert!(count > 0, "{what}: an empty window: {line:?}");
        assert_eq!(end - start, WINDOW_MS, "{what}: window length: {line:?}");
        assert_eq!(
            start.rem_euclid(WINDOW_MS),
            0,
            "{what}: alignment: {line:?}"
        );
        // Processing time: the window holds a moment of the run (not the 2015 event time).
        assert!(
            end > t0 && start <= t1,
            "{what}: window [{start}, {end}) is not within the run's [{t0}, {t1}]: {line:?}"
        );
        assert!(
            seen.insert((bidder, start)),
            "{what}: bidder {bidder}, window {start} twice"
        );
        *per_bidder.entry(bidder).or_insert(0) += count;
    }
    per_bidder
}

/// The reference's bids per bidder over `stream` (generated into `dir`).
fn reference_counts(stream: Stream, dir: &std::path::Path) -> BTreeMap<i64, i64> {
    let events = generate(stream, dir);
    let want: BTreeMap<i64, i64> = reference("q12", &events)
        .iter()
        .map(|line| {
            let (b, n) = line.split_once(',').expect("bidder,count");
            (int(b, line), int(n, line))
        })
        .collect();
    assert!(want.len() > 100, "the reference has bidders");
    want
}

/// Runs q12 and checks it; returns the distinct window starts.
fn run_and_check(
    what: &str,
    stream: Stream,
    workers: usize,
    dir: &std::path::Path,
    extra: &[&str],
    want: &BTreeMap<i64, i64>,
) -> BTreeSet<i64> {
    let t0 = wall_ms();
    let rows = run_query("q12", stream, workers, dir, extra);
    let t1 = wall_ms();
    let got = check_rows(what, &rows, t0, t1);
    assert_eq!(got.len(), want.len(), "{what}: bidders");
    for (bidder, n) in want {
        assert_eq!(got.get(bidder), Some(n), "{what}: bids of bidder {bidder}");
    }
    rows.iter()
        .map(|l| int(l.split(',').nth(2).expect("4 columns"), l))
        .collect()
}

#[test]
fn q12_counts_per_bidder_sum_to_the_reference_in_aligned_wall_clock_windows() {
    let stream = Stream::beam(100_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let want = reference_counts(stream, dir.path());
    for workers in [1, 2] {
        let what = format!("q12 at {workers} workers");
        run_and_check(&what, stream, workers, dir.path(), &[], &want);
    }
}

/// Paced to 8000 bids per second of wall time (92K bids: about 11.5 s), so windows fire by
/// the clock during the run, with checkpoints of the open windows every 300 ms.
#[test]
fn q12_paced_over_several_windows_with_checkpoints() {
    let stream = Stream::beam(100_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let want = reference_counts(stream, dir.path());
    let ckpt = dir.path().join("ckpt");
    let extra = [
        "--set=source.emit_rate=8000",
        "--checkpoint-dir",
        ckpt.to_str().expect("utf-8 path"),
        "--checkpoint-interval",
        "300ms",
    ];
    let starts = run_and_check("paced q12", stream, 2, dir.path(), &extra, &want);
    assert!(
        starts.len() >= 2,
        "one window over a run of 11 s: {starts:?}"
    );
}
