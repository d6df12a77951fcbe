//! `weir bench --workload restore`: how long a restore of W1's state takes for `--keys` keys.
//!
//! Writes one checkpoint holding a `ValueState<u64, i64>` with every key (split over the
//! workers' key groups, written exactly as the runtime writes it), then restores it as the
//! runtime does: validate the MANIFEST and checksums, map the files, and let each worker (a
//! thread) read the sections of its key groups into a fresh state.

use crate::checkpoint::{CheckpointStore, GroupSnapshot, Manifest, StateSnapshot, WorkerSnapshot};
use crate::error::Error;
use crate::state::key_group::{key_group_range, KeyGroupRouter};
use crate::state::{KeyContext, KeyedStateStore, StableKey, ValueState, DEFAULT_MAX_PARALLELISM};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One worker's W1 state with its share of `keys` keys.
pub(super) fn worker_state(
    worker: usize,
    workers: usize,
    keys: u64,
    backend: &crate::state::StateBackend,
) -> ValueState<u64, i64> {
    let mp = DEFAULT_MAX_PARALLELISM;
    let router = KeyGroupRouter::new(workers, mp);
    let range = key_group_range(worker, workers, mp);
    let mut state = ValueState::new("sum");
    state.set_backend(backend);
    state.set_key_groups(range.clone());
    for key in 0..keys {
        let hash = key.stable_hash();
        let kg = router.key_group(hash);
        if router.worker(kg) == worker {
            let ctx = KeyContext {
                key: &key,
                local_group: (kg - range.start) as usize,
                hash,
                now_ms: 0,
            };
            state.update(&ctx, key as i64);
        }
    }
    state
}

fn write_checkpoint(store: &CheckpointStore, keys: u64, workers: usize) -> crate::Result<u64> {
    let mp = DEFAULT_MAX_PARALLELISM;
    let mut manifest = Manifest::new(1, 0, mp, workers as u32);
    for w in 0..workers {
        let state = worker_state(w, workers, keys, &crate::state::StateBackend::Heap);
        let range = key_group_range(w, workers, mp);
        let mut groups = Vec::new();
        for kg in range.clone() {
            let mut bytes = Vec::new();
            let entries = state.snapshot_group(kg, 0, &mut bytes) as u64;
            if entries > 0 {
                groups.push(GroupSnapshot {
                    key_group: kg,
                    states: vec![StateSnapshot {
                        name: "sum".into(),
                        entries,
                        bytes,
                    }],
                });
            }
        }
        let snap = WorkerSnapshot {
            worker: w as u32,
            key_groups: range,
            groups,
        };
        manifest.files.push(store.write_worker_state(1, &snap)?);
        manifest.sources.push(Vec::new());
    }
    manifest.sink_epoch = 1;
    let bytes = manifest.files.iter().map(|f| f.len).sum();
    store.commit(&manifest)?;
    Ok(bytes)
}

/// The whole restore time, the time of the load and check, and the restored states.
type Restored = (Duration, Duration, Vec<ValueState<u64, i64>>);

/// Restores the checkpoint with `workers` threads, after checking every section as the
/// runtime does ([`crate::checkpoint::check_section`]); returns the whole time, the time of
/// the load and check, and the entries restored.
fn restore(store: &CheckpointStore, workers: usize) -> crate::Result<Restored> {
    let started = Instant::now();
    let checks = || -> Box<crate::checkpoint::SectionCheck<'static>> {
        let mut probe: ValueState<u64, i64> = ValueState::new("sum");
        Box::new(move |_kg: u16, name: &str, bytes: &[u8]| {
            let states: Vec<&mut dyn KeyedStateStore> = vec![&mut probe];
            crate::checkpoint::check_section(&states, name, bytes)
        })
    };
    let restored = Arc::new(
        store
            .load_latest_checked(0, &checks)?
            .ok_or_else(|| Error::Runtime("checkpoint vanished".into()))?,
    );
    let checked = started.elapsed();
    let handles: Vec<_> = (0..workers)
        .map(|w| {
            let restored = restored.clone();
            std::thread::spawn(move || -> crate::Result<ValueState<u64, i64>> {
                let range = key_group_range(w, workers, DEFAULT_MAX_PARALLELISM);
                let mut state = ValueState::new("sum");
                state.set_key_groups(range.clone());
                restored.sections(range, |kg, _name, bytes| {
                    state
                        .restore_group(kg, bytes)
                        .map_err(|e| Error::Runtime(e.to_string()))
                })?;
                Ok(state)
            })
        })
        .collect();
    let mut states = Vec::new();
    for h in handles {
        states.push(
            h.join()
                .map_err(|_| Error::Runtime("restore thread panicked".into()))??,
        );
    }
    Ok((started.elapsed(), checked, states))
}

/// Runs the restore benchmark and prints `restore_ms_median`.
///
/// # Errors
/// Checkpoint I/O errors, or a restore that does not give back every key.
pub fn run(
    keys: u64,
    workers: usize,
    runs: usize,
    json: Option<&Path>,
    backend: &crate::state::StateBackend,
) -> crate::Result<i32> {
    if backend.kind() == crate::state::BackendKind::Mmap {
        return super::bench_restore_runs::run_mmap(keys, workers, runs, json, backend);
    }
    let dir = std::env::temp_dir().join(format!("weir-bench-restore-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let result = (|| {
        let store = CheckpointStore::open(&dir)?;
        let t = Instant::now();
        let bytes = write_checkpoint(&store, keys, workers)?;
        eprintln!(
            "wrote {bytes} bytes of state for {keys} keys in {:.3} s",
            t.elapsed().as_secs_f64()
        );
        let (mut checks, mut figures) = (Vec::new(), Vec::new());
        for run in 1..=runs {
            let t0 = Instant::now();
            let (elapsed, checked, states) = restore(&store, workers)?;
            let entries: usize = states.iter().map(|s| s.len()).sum();
            if entries as u64 != keys {
                return Err(Error::Runtime(format!(
                    "restored {entries} entries, expected {keys}"
                )));
            }
            eprintln!(
                "run {run}: restore {:.1} ms (of which load and section check {:.1} ms)",
                elapsed.as_secs_f64() * 1e3,
                checked.as_secs_f64() * 1e3
            );
            figures.push((
                elapsed.as_secs_f64() * 1e3,
                super::bench_restore_first::warm_up(states, keys, t0)?,
            ));
            checks.push(checked.as_secs_f64() * 1e3);
        }
        checks.sort_by(|a, b| a.total_cmp(b));
        eprintln!(
            "load and section check, median: {:.1} ms",
            checks[checks.len() / 2]
        );
        super::bench_restore_first::report(keys, workers, runs, bytes, "heap", &mut figures, json)
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restore_gives_back_every_key_with_another_worker_count() {
        let dir = tempfile::tempdir().unwrap();
        let store = CheckpointStore::open(dir.path()).unwrap();
        write_checkpoint(&store, 5_000, 2).unwrap();
        for workers in [1, 2, 3] {
            let (_, _, states) = restore(&store, workers).unwrap();
            assert_eq!(states.iter().map(|s| s.len()).sum::<usize>(), 5_000);
        }
        assert_eq!(
            crate::state::key_group::worker_for_key_group(127, 3, 128),
            2
        );
    }
}
