//! The per-record path does not allocate: W1 on a warm key space allocates per batch at most,
//! never per record. A counting global allocator measures it.

#![allow(unsafe_code)] // a GlobalAlloc impl is unsafe by definition; it only forwards to System

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};
use weir::cli::bench::run_w1;
use weir::runtime::RunConfig;

struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);

// SAFETY: forwards to the system allocator unchanged; only counts calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The counter is process-wide: tests that measure take turns.
static MEASURING: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Holds the measuring turn (a failed test's poisoned lock is still a turn).
fn turn() -> std::sync::MutexGuard<'static, ()> {
    MEASURING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn allocations(events: u64, workers: usize) -> u64 {
    let config = RunConfig {
        workers,
        pin: false,
        ..RunConfig::default()
    };
    let before = ALLOCS.load(Ordering::Relaxed);
    let out = run_w1(events, 1000, &config).expect("W1 runs");
    assert_eq!(out.outputs, events);
    ALLOCS.load(Ordering::Relaxed) - before
}

#[test]
fn w1_allocations_do_not_grow_with_records() {
    let _turn = turn();
    for workers in [1, 2] {
        let small = allocations(200_000, workers);
        let large = allocations(1_200_000, workers);
        // 1M more records (~1000 more batches): allow far fewer than one allocation per
        // batch of 1024 records — batch buffers are recycled through return rings.
        let extra = large.saturating_sub(small);
        assert!(
            extra < 1_000,
            "workers={workers}: {small} → {large} allocations for 1M more records"
        );
    }
}

// The CLI row path: pipeline files over CSV files of string keys, as `weir run` builds them
// (file source, decoder, stateless ops, key_by, keyed operator, stateless ops after it).

/// Keys in the inputs (all of them appear in the first thousand lines: the state is warm after).
const KEYS: usize = 1000;

/// Writes `lines` CSV events with string keys of `key_len` bytes; returns the file.
fn write_events(dir: &std::path::Path, lines: usize, key_len: usize) -> std::path::PathBuf {
    write_events_as(dir, lines, key_len, "csv")
}

/// Writes `lines` events as `format` (`csv` or `jsonl`) with string keys of `key_len` bytes.
fn write_events_as(
    dir: &std::path::Path,
    lines: usize,
    key_len: usize,
    format: &str,
) -> std::path::PathBuf {
    use std::io::Write;
    let path = dir.join(format!("ev-{lines}-{key_len}.{format}"));
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).expect("create input"));
    for i in 0..lines {
        let key = format!("{:0width$}", i % KEYS, width = key_len);
        let (value, ts) = (i % 100, 1_000 + i);
        if format == "jsonl" {
            writeln!(f, r#"{{"key":"{key}","value":{value},"ts":{ts}}}"#)
        } else {
            writeln!(f, "{key},{value},{ts}")
        }
        .expect("write input");
    }
    f.flush().expect("flush input");
    path
}

/// A pipeline over `input` with `ops` (TOML `[[ops]]` tables) and a null sink. Ops that
/// begin with a `[source.event_time]` table get it under the source.
fn pipeline(input: &std::path::Path, dead: &std::path::Path, ops: &str) -> String {
    let format = match input.extension().and_then(|e| e.to_str()) {
        Some("jsonl") => "format = \"jsonl\"",
        _ => "format = \"csv\"\nheader = false",
    };
    format!(
        r#"name = "alloc"
[source]
type = "file"
path = {input:?}
{format}
schema = [
  {{ name = "key", type = "string" }},
  {{ name = "value", type = "i64" }},
  {{ name = "ts", type = "timestamp" }},
]
{ops}

[sink]
type = "null"
[runtime]
dead_letter_path = {dead:?}
"#
    )
}

/// Records per batch and batches per ring of the row path runs. Small, so that the records
/// in flight (whose strings exist once, however many records follow) are few: how deep the
/// rings happen to fill differs between two runs, and with 40-byte strings each record in
/// flight holds two heap buffers (the row's key field and the key).
const ROW_BATCH: usize = 64;
const ROW_RING: usize = 2;

/// Allocations of one run of the pipeline `ops` over `input`.
fn row_allocations(
    dir: &std::path::Path,
    input: &std::path::Path,
    ops: &str,
    workers: usize,
) -> u64 {
    let text = pipeline(input, &dir.join("dead.jsonl"), ops);
    let plan = weir::pipeline::parse_str(&text, &[]).expect("pipeline parses");
    let config = RunConfig {
        workers,
        pin: false,
        batch_size: ROW_BATCH,
        ring_capacity: ROW_RING,
        ..plan.run_config()
    };
    let job = weir::cli::build::job(&plan);
    let before = ALLOCS.load(Ordering::Relaxed);
    let report = job.run(&config).expect("pipeline runs");
    let after = ALLOCS.load(Ordering::Relaxed);
    assert_eq!(report.dead_lettered, 0);
    assert!(report.records_in > 0);
    after - before
}

/// Filter, select, key_by and a rolling aggregate; dedup; zscore with a filter after it.
const ROW_PIPELINES: [(&str, &str); 3] = [
    (
        "filter+select+rolling",
        r#"
[[ops]]
type = "filter"
field = "value"
op = ">="
value = 10
[[ops]]
type = "select"
fields = ["ts", "key", { field = "value", as = "v" }]
[[ops]]
type = "key_by"
key = "key"
[[ops]]
type = "rolling"
aggregates = [ { fn = "sum", field = "v", as = "sum" }, { fn = "count", as = "n" }, { fn = "avg", field = "v", as = "avg" } ]
"#,
    ),
    (
        "dedup",
        r#"
[[ops]]
type = "key_by"
key = "key"
[[ops]]
type = "process"
function = "dedup"
ttl = "10m"
"#,
    ),
    (
        "zscore+filter",
        r#"
[[ops]]
type = "key_by"
key = "key"
[[ops]]
type = "process"
function = "zscore"
field = "value"
as = "z"
min_count = 5
[[ops]]
type = "filter"
field = "value"
op = "<"
value = 90
"#,
    ),
];

/// Event-time operators (the input's timestamps rise 1 ms per line; each of the 1,000 keys
/// comes back every second): tumbling, sliding and session windows, event-time dedup and a
/// windowed z-score. Each key's windows open and fire as the watermark passes them, so the
/// state of a window is made and dropped every few records of its key: that must recycle
/// memory too, not allocate.
const EVENT_TIME: &str = r#"
[source.event_time]
field = "ts"
max_out_of_orderness = "100ms"
watermark_interval = "0ms"
[[ops]]
type = "key_by"
key = "key"
"#;

/// The event-time row pipelines (each after [`EVENT_TIME`]).
const TIME_PIPELINES: [(&str, &str); 5] = [
    (
        "tumbling",
        r#"
[[ops]]
type = "window"
kind = "tumbling"
size = "5s"
aggregates = [ { fn = "count", as = "n" }, { fn = "sum", field = "value", as = "sum" },
               { fn = "min", field = "value", as = "min" }, { fn = "max", field = "value", as = "max" } ]
"#,
    ),
    (
        "sliding",
        r#"
[[ops]]
type = "window"
kind = "sliding"
size = "4s"
slide = "2s"
aggregates = [ { fn = "count", as = "n" }, { fn = "avg", field = "value", as = "avg" } ]
"#,
    ),
    (
        "session",
        r#"
[[ops]]
type = "window"
kind = "session"
gap = "1500ms"
aggregates = [ { fn = "count", as = "n" }, { fn = "sum", field = "value", as = "sum" } ]
"#,
    ),
    (
        "dedup",
        r#"
[[ops]]
type = "process"
function = "dedup"
ttl = "2s"
"#,
    ),
    (
        "zscore window",
        r#"
[[ops]]
type = "process"
function = "zscore"
field = "value"
window = "3s"
threshold = 2.0
min_count = 2
as = "z"
"#,
    ),
];

/// Heap buffers that records in flight can hold at most, beyond those of a shorter run: a
/// run's strings in flight are made once (then recycled), and the rings may fill deeper in
/// one run than in another. Each ring holds `ROW_RING` batches, plus one being filled and
/// one returned per sender; a record holds two long strings (its key field and the key).
fn strings_in_flight(key_len: usize, workers: usize) -> u64 {
    match key_len > 24 {
        true => (2 * ROW_BATCH * (ROW_RING + 2) * workers * workers) as u64,
        false => 0,
    }
}

/// Extra allocations of 200k more records through each row pipeline, per worker count,
/// with what records in flight may add ([`strings_in_flight`]).
fn extra_row_allocations(key_len: usize) -> Vec<(String, u64, u64)> {
    let dir = tempfile::tempdir().expect("temp dir");
    let small = write_events(dir.path(), 50_000, key_len);
    let large = write_events(dir.path(), 250_000, key_len);
    let mut out = Vec::new();
    for (name, ops) in ROW_PIPELINES {
        for workers in [1, 2] {
            let s = row_allocations(dir.path(), &small, ops, workers);
            let l = row_allocations(dir.path(), &large, ops, workers);
            out.push((
                format!("{name} workers={workers}: {s} → {l}"),
                l.saturating_sub(s),
                strings_in_flight(key_len, workers),
            ));
        }
    }
    out
}

#[test]
fn row_path_with_short_keys_does_not_allocate_per_record() {
    let _turn = turn();
    // 200k more records are ~3,000 more batches: allow far fewer than one allocation per
    // batch (batch buffers are recycled), and none per record.
    for (what, extra, in_flight) in extra_row_allocations(8) {
        assert!(
            extra < 150 + in_flight,
            "8-byte keys, {what} allocations for 200k more records"
        );
    }
}

#[test]
fn row_path_with_long_keys_does_not_allocate_per_record() {
    let _turn = turn();
    // A 40-byte string does not fit a `Text`'s 24 inline bytes: it lives in a heap buffer,
    // which the decoder, key_by's key and the operators' outputs take from the buffers
    // recycled on their thread (the keyed stage hands its spent input batches back to the
    // worker that made them). The same bound as with short keys, plus the strings that the
    // records in flight hold (1,024 with 2 workers; 200k records would need 400k buffers).
    for (what, extra, in_flight) in extra_row_allocations(40) {
        assert!(
            extra < 150 + in_flight,
            "40-byte keys, {what} allocations for 200k more records"
        );
    }
}

#[test]
fn json_lines_row_path_does_not_allocate_per_record() {
    let _turn = turn();
    let dir = tempfile::tempdir().expect("temp dir");
    for key_len in [8, 40] {
        let small = write_events_as(dir.path(), 50_000, key_len, "jsonl");
        let large = write_events_as(dir.path(), 250_000, key_len, "jsonl");
        for (name, ops) in ROW_PIPELINES {
            for workers in [1, 2] {
                let s = row_allocations(dir.path(), &small, ops, workers);
                let l = row_allocations(dir.path(), &large, ops, workers);
                assert!(
                    l.saturating_sub(s) < 150 + strings_in_flight(key_len, workers),
                    "JSON lines, {key_len}-byte keys, {name} workers={workers}: {s} → {l}"
                );
            }
        }
    }
}

/// Watermarks in 200k more records of the event-time pipelines: one per batch
/// (`watermark_interval = "0ms"`).
const MORE_WATERMARKS: u64 = (200_000 / ROW_BATCH) as u64;

#[test]
fn event_time_row_path_does_not_allocate_per_record() {
    let _turn = turn();
    let dir = tempfile::tempdir().expect("temp dir");
    for key_len in [8, 40] {
        let small = write_events(dir.path(), 50_000, key_len);
        let large = write_events(dir.path(), 250_000, key_len);
        for (name, ops) in TIME_PIPELINES {
            let ops = format!("{EVENT_TIME}{ops}");
            // One worker: with two, each reads half of the file, and the second half runs
            // ahead of the watermark (the smaller of the two) until the first is done, so
            // its windows and pending records pile up with the input — growth, not a
            // steady state. The keyed stage still allocates once per watermark (the list
            // of the operator's states whose TTL clock it advances): one per batch here.
            let s = row_allocations(dir.path(), &small, &ops, 1);
            let l = row_allocations(dir.path(), &large, &ops, 1);
            assert!(
                l.saturating_sub(s) < 150 + MORE_WATERMARKS + strings_in_flight(key_len, 1),
                "{key_len}-byte keys, {name}: {s} → {l} allocations for 200k more records"
            );
        }
    }
}
