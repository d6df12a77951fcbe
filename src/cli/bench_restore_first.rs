//! Time to the first record and to full speed after a restore, for both state backends
//! (`weir bench --workload restore --state-backend heap|mmap`).
//!
//! After the restore starts (at `t0`), each worker (a thread) applies W1 updates (`+= 1`) to
//! random keys of its key groups: `first_record_ms` is when the last worker has processed its
//! first update; then [`BATCHES`] batches of [`BATCH`] updates are timed, and
//! `full_speed_ms` is the end of the first batch whose rate reaches 90 % of the median rate of
//! the last five (the steady rate of that run). The heap backend decodes every entry before its
//! first record; the mmap backend links and maps the checkpoint's run files and decodes
//! entries as they are touched, checking each key group's checksum on its first access or in
//! the background (`bench_restore_runs`).

use crate::error::{Error, EXIT_OK};
use crate::source::generator::splitmix64;
use crate::state::key_group::{key_group_range, KeyGroupRouter};
use crate::state::DEFAULT_MAX_PARALLELISM;
use crate::state::{KeyContext, StableKey, ValueState};
use std::path::Path;
use std::time::Instant;

/// Timed batches after the first record.
const BATCHES: usize = 20;
/// Updates per batch.
const BATCH: usize = 50_000;

/// What [`warm_up`] measured, in ms since the restore started.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Warm {
    /// The first record processed (by every worker).
    pub first_record_ms: f64,
    /// Full speed reached (by every worker).
    pub full_speed_ms: f64,
    /// Every restored key group's checksum checked (mmap: lazily; `None` for the heap, which
    /// checks before its first record).
    pub checks_done_ms: Option<f64>,
}

/// Applies W1 updates to one worker's restored state; see the module docs.
fn warm_one(
    mut state: ValueState<u64, i64>,
    w: usize,
    workers: usize,
    keys: u64,
    t0: Instant,
) -> Warm {
    let mp = DEFAULT_MAX_PARALLELISM;
    let router = KeyGroupRouter::new(workers, mp);
    let range = key_group_range(w, workers, mp);
    let mut seed = 0x9e37_79b9 ^ w as u64;
    let mut update = |state: &mut ValueState<u64, i64>| loop {
        seed = seed.wrapping_add(1);
        let key = splitmix64(seed) % keys.max(1);
        let hash = key.stable_hash();
        let kg = router.key_group(hash);
        if range.contains(&kg) {
            let ctx = KeyContext {
                key: &key,
                local_group: (kg - range.start) as usize,
                hash,
                now_ms: 0,
            };
            *state.get_or_insert_with(&ctx, || 0) += 1;
            return;
        }
    };
    update(&mut state);
    let first = t0.elapsed().as_secs_f64() * 1e3;
    let mut ends = Vec::with_capacity(BATCHES);
    let mut rates = Vec::with_capacity(BATCHES);
    for _ in 0..BATCHES {
        let start = Instant::now();
        for _ in 0..BATCH {
            update(&mut state);
        }
        rates.push(BATCH as f64 / start.elapsed().as_secs_f64());
        ends.push(t0.elapsed().as_secs_f64() * 1e3);
    }
    let mut tail = rates[BATCHES - 5..].to_vec();
    tail.sort_by(|a, b| a.total_cmp(b));
    let steady = tail[2];
    let at = rates
        .iter()
        .position(|&r| r >= 0.9 * steady)
        .unwrap_or(BATCHES - 1);
    Warm {
        first_record_ms: first,
        full_speed_ms: ends[at],
        checks_done_ms: None,
    }
}

/// Runs [`warm_one`] on every worker's state in parallel; the slowest worker's figures.
///
/// # Errors
/// A worker thread panicked.
pub(super) fn warm_up(
    states: Vec<ValueState<u64, i64>>,
    keys: u64,
    t0: Instant,
) -> crate::Result<Warm> {
    let workers = states.len();
    let handles: Vec<_> = states
        .into_iter()
        .enumerate()
        .map(|(w, s)| std::thread::spawn(move || warm_one(s, w, workers, keys, t0)))
        .collect();
    let mut out = Warm::default();
    for h in handles {
        let w = h
            .join()
            .map_err(|_| Error::Runtime("warm-up thread panicked".into()))?;
        out.first_record_ms = out.first_record_ms.max(w.first_record_ms);
        out.full_speed_ms = out.full_speed_ms.max(w.full_speed_ms);
    }
    Ok(out)
}

/// Prints the medians (and writes them as JSON): `restore_ms_median` (until the state is
/// usable), `first_record_ms`, `full_speed_ms`.
pub(super) fn report(
    keys: u64,
    workers: usize,
    runs: usize,
    bytes: u64,
    backend: &str,
    figures: &mut [(f64, Warm)],
    json: Option<&Path>,
) -> crate::Result<i32> {
    let median = |mut v: Vec<f64>| {
        v.sort_by(|a, b| a.total_cmp(b));
        v[v.len() / 2]
    };
    let restore = median(figures.iter().map(|f| f.0).collect());
    let first = median(figures.iter().map(|f| f.1.first_record_ms).collect());
    let full = median(figures.iter().map(|f| f.1.full_speed_ms).collect());
    let checked: Vec<f64> = figures.iter().filter_map(|f| f.1.checks_done_ms).collect();
    let checked = (!checked.is_empty()).then(|| median(checked));
    let checked_text = checked.map_or(String::new(), |c| format!(" checks_done_ms={c:.1}"));
    println!(
        "workload=restore backend={backend} keys={keys} workers={workers} runs={runs} bytes={bytes} \
         restore_ms_median={restore:.1} first_record_ms={first:.1} full_speed_ms={full:.1}{checked_text}"
    );
    if let Some(path) = json {
        let v = serde_json::json!({"workload": "restore", "backend": backend, "keys": keys,
            "workers": workers, "runs": runs, "bytes": bytes, "restore_ms_median": restore,
            "first_record_ms": first, "full_speed_ms": full, "checks_done_ms": checked});
        std::fs::write(path, v.to_string()).map_err(|e| Error::io(path, e))?;
    }
    Ok(EXIT_OK)
}
