//! Time to the first record and to full speed after a restore, for both state backends
//! (`weir bench --workload restore --state-backend heap|mmap`).
//!
//! After the restore starts (at `t0`), each worker (a thread) applies W1 updates (`+= 1`) to
//! random keys of its key groups: `first_record_ms` is when the last worker has processed its
//! first update; then [`BATCHES`] batches of [`BATCH`] updates are timed, and
//! `full_speed_ms` is the end of the first batch whose rate reaches 90 % of the median rate of
//! the last five (the steady rate of that run). The heap backend decodes every entry before its
//! first record; the mmap backend links and maps the checkpoint's run files, checks the owned
//! key groups' checksums and decodes entries as they are touched.

use crate::error::{Error, EXIT_OK};
use crate::source::generator::splitmix64;
use crate::state::key_group::{key_group_range, KeyGroupRouter};
use crate::state::DEFAULT_MAX_PARALLELISM;
use crate::state::{KeyContext, KeyedStateStore, StableKey, StateBackend, ValueState};
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

/// The mmap backend's restore benchmark: checkpoint files of `keys` W1 keys, restored
/// `runs` times by `workers` threads.
///
/// # Errors
/// I/O errors, or a restore that does not give back every key.
pub(super) fn run_mmap(
    keys: u64,
    workers: usize,
    runs: usize,
    json: Option<&Path>,
    backend: &StateBackend,
) -> crate::Result<i32> {
    // Removed below: `fresh_temp_dir` made it (it fails if the path exists).
    let dir =
        super::scratch::fresh_temp_dir(&format!("weir-bench-restore-mmap-{}", std::process::id()))?;
    let result = (|| {
        let t = Instant::now();
        let (mut names, mut bytes) = (Vec::new(), 0u64);
        for w in 0..workers {
            let mut state = super::bench_restore::worker_state(w, workers, keys, backend);
            let files = state
                .checkpoint_files(&dir)
                .map_err(|e| Error::Runtime(e.to_string()))?
                .unwrap_or_default();
            bytes += files.iter().map(|f| f.bytes).sum::<u64>();
            let key_groups = key_group_range(w, workers, DEFAULT_MAX_PARALLELISM);
            names.extend(files.into_iter().map(|f| crate::state::RunSource {
                name: f.name,
                key_groups: key_groups.clone(),
            }));
        }
        eprintln!(
            "wrote {bytes} bytes of run files for {keys} keys in {:.3} s",
            t.elapsed().as_secs_f64()
        );
        let mut figures = Vec::new();
        for run in 1..=runs {
            let t0 = Instant::now();
            let states = restore_all(&dir, &names, workers, backend)?;
            let restored_ms = t0.elapsed().as_secs_f64() * 1e3;
            let warm = warm_up(states, keys, t0)?;
            eprintln!(
                "run {run}: files mapped and checked {restored_ms:.1} ms, first record {:.1} ms, full speed {:.1} ms",
                warm.first_record_ms, warm.full_speed_ms
            );
            figures.push((restored_ms, warm));
        }
        let entries: usize = restore_all(&dir, &names, workers, backend)?
            .iter()
            .map(|s| s.len())
            .sum();
        if entries as u64 != keys {
            return Err(Error::Runtime(format!(
                "restored {entries} entries, expected {keys}"
            )));
        }
        report(keys, workers, runs, bytes, "mmap", &mut figures, json)
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// Restores every worker's state from the run files `names` in `dir`, in parallel.
fn restore_all(
    dir: &Path,
    names: &[crate::state::RunSource],
    workers: usize,
    backend: &StateBackend,
) -> crate::Result<Vec<ValueState<u64, i64>>> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                scope.spawn(move || -> crate::Result<ValueState<u64, i64>> {
                    let mut state = ValueState::new("sum");
                    state.set_backend(backend);
                    state.set_key_groups(key_group_range(w, workers, DEFAULT_MAX_PARALLELISM));
                    state
                        .restore_files(dir, names)
                        .map_err(|e| Error::Runtime(e.to_string()))?;
                    Ok(state)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .map_err(|_| Error::Runtime("restore thread panicked".into()))?
            })
            .collect()
    })
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
    println!(
        "workload=restore backend={backend} keys={keys} workers={workers} runs={runs} bytes={bytes} \
         restore_ms_median={restore:.1} first_record_ms={first:.1} full_speed_ms={full:.1}"
    );
    if let Some(path) = json {
        let v = serde_json::json!({"workload": "restore", "backend": backend, "keys": keys,
            "workers": workers, "runs": runs, "bytes": bytes, "restore_ms_median": restore,
            "first_record_ms": first, "full_speed_ms": full});
        std::fs::write(path, v.to_string()).map_err(|e| Error::io(path, e))?;
    }
    Ok(EXIT_OK)
}
