//! The mmap backend's restore benchmark (`weir bench --workload restore --state-backend mmap`):
//! builds a real checkpoint of W1's state — per worker one run file written in bulk
//! ([`crate::state::mmap::bulk::write_keyed_run`]: the bytes the backend writes for the same
//! entries, without the hours of W1 updates, flushes and merges that 10 GiB would take), an
//! empty state file and a MANIFEST listing the runs — then restores it `runs` times as the
//! runtime does: read and check the MANIFEST ([`CheckpointStore::load_latest`]), and on each
//! worker (a thread) link and map its runs ([`crate::checkpoint::runs_for`],
//! `restore_files`) and start the lazy checks ([`RestoreChecks`]). Nothing is decoded and no
//! checksum is computed before the first record; `checks_done_ms` says when every restored
//! key group had been checked (by its first access or the validator thread).

use super::bench_restore_first::{report, warm_up};
use crate::checkpoint::{
    runs_for, CheckpointStore, Manifest, RunFileEntry, RunSet, WorkerSnapshot,
};
use crate::error::Error;
use crate::state::key_group::{key_group_range, KeyGroupRouter};
use crate::state::DEFAULT_MAX_PARALLELISM;
use crate::state::{KeyedStateStore, RestoreChecks, StateBackend, ValueState};
use std::path::Path;
use std::time::Instant;

/// A worker's restored state and its lazy checks.
type RestoredState = (ValueState<u64, i64>, Option<RestoreChecks>);

/// The state's name in the checkpoint.
const STATE: &str = "sum";

/// Writes checkpoint 1 of `keys` W1 keys over `workers` workers into `store`; returns the
/// run files' bytes.
fn build(store: &CheckpointStore, keys: u64, workers: usize) -> crate::Result<u64> {
    let mp = DEFAULT_MAX_PARALLELISM;
    let chk = store.dir().join(format!("chk-{:010}", 1));
    std::fs::create_dir_all(&chk).map_err(|e| Error::io(&chk, e))?;
    let router = KeyGroupRouter::new(workers, mp);
    let written: Vec<crate::Result<RunSet>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                let (chk, router) = (&chk, &router);
                scope.spawn(move || -> crate::Result<RunSet> {
                    let range = key_group_range(w, workers, mp);
                    let name = format!("weir-state-{}-0-{w}-run-000001.wr", std::process::id());
                    let path = chk.join(&name);
                    let len = crate::state::mmap::bulk::write_keyed_run(
                        &path,
                        range.clone(),
                        keys,
                        |h| router.key_group(h),
                        |k| k as i64,
                    )
                    .map_err(|e| Error::Runtime(e.to_string()))?;
                    Ok(RunSet {
                        worker: w as u32,
                        key_groups: range,
                        state: STATE.into(),
                        files: vec![RunFileEntry {
                            name,
                            len,
                            new: true,
                        }],
                    })
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .map_err(|_| Error::Runtime("build thread panicked".into()))?
            })
            .collect()
    });
    let mut manifest = Manifest::new(1, 0, mp, workers as u32);
    for (w, set) in written.into_iter().enumerate() {
        let snap = WorkerSnapshot {
            worker: w as u32,
            key_groups: key_group_range(w, workers, mp),
            groups: Vec::new(),
        };
        manifest.files.push(store.write_worker_state(1, &snap)?);
        manifest.sources.push(Vec::new());
        manifest.runs.push(set?);
    }
    manifest.sink_epoch = 1;
    let bytes = manifest
        .runs
        .iter()
        .flat_map(|r| &r.files)
        .map(|f| f.len)
        .sum();
    store.commit(&manifest)?;
    Ok(bytes)
}

/// Restores the newest checkpoint of `store` on `workers` threads as the runtime does.
fn restore(
    store: &CheckpointStore,
    workers: usize,
    backend: &StateBackend,
) -> crate::Result<Vec<RestoredState>> {
    let restored = store
        .load_latest(0)?
        .ok_or_else(|| Error::Runtime("checkpoint vanished".into()))?;
    let (dir, runs) = (&restored.path, &restored.manifest.runs);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                scope.spawn(move || -> crate::Result<_> {
                    let range = key_group_range(w, workers, DEFAULT_MAX_PARALLELISM);
                    let mut state = ValueState::new(STATE);
                    state.set_backend(backend);
                    state.set_key_groups(range.clone());
                    let names = runs_for(runs, STATE, &range);
                    state
                        .restore_files(dir, &names)
                        .map_err(|e| Error::Runtime(e.to_string()))?;
                    Ok((state, RestoreChecks::start()))
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

/// Keys counted one by one up to this many (a count decodes every entry); above, a sample.
const COUNT_ALL: u64 = 1 << 26;

/// Checks the restored states: every key (up to [`COUNT_ALL`]) or 100 000 sampled keys hold
/// their W1 value, and every group's checksum matches.
fn verify(
    states: &[(ValueState<u64, i64>, Option<RestoreChecks>)],
    keys: u64,
) -> crate::Result<()> {
    let workers = states.len();
    let router = KeyGroupRouter::new(workers, DEFAULT_MAX_PARALLELISM);
    if keys <= COUNT_ALL {
        let entries: usize = states.iter().map(|(s, _)| s.len()).sum();
        if entries as u64 != keys {
            return Err(Error::Runtime(format!(
                "restored {entries} entries, expected {keys}"
            )));
        }
    }
    let mut seed = 0x5eed_u64;
    for _ in 0..keys.min(100_000) {
        seed = seed.wrapping_add(1);
        let key = crate::source::generator::splitmix64(seed) % keys.max(1);
        let hash = crate::state::StableKey::stable_hash(&key);
        let kg = router.key_group(hash);
        let w = router.worker(kg);
        let range = key_group_range(w, workers, DEFAULT_MAX_PARALLELISM);
        let ctx = crate::state::KeyContext {
            key: &key,
            local_group: usize::from(kg - range.start),
            hash,
            now_ms: 0,
        };
        if states[w].0.get(&ctx) != Some(&(key as i64)) {
            return Err(Error::Runtime(format!("key {key} not restored")));
        }
    }
    for c in states.iter().filter_map(|(_, c)| c.as_ref()) {
        if let Some(d) = c.check() {
            return Err(d.into());
        }
    }
    Ok(())
}

/// Runs the benchmark; see the module docs.
///
/// # Errors
/// I/O errors, a damaged group, or a restore that does not give back every key.
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
        let store = CheckpointStore::open(&dir)?;
        let t = Instant::now();
        let bytes = build(&store, keys, workers)?;
        eprintln!(
            "wrote {bytes} bytes of run files for {keys} keys in {:.3} s",
            t.elapsed().as_secs_f64()
        );
        let mut figures = Vec::new();
        for run in 1..=runs {
            let t0 = Instant::now();
            let (states, mut checks): (Vec<_>, Vec<_>) =
                restore(&store, workers, backend)?.into_iter().unzip();
            let restored_ms = t0.elapsed().as_secs_f64() * 1e3;
            let mut warm = warm_up(states, keys, t0)?;
            let mut done = t0;
            for c in checks.iter_mut().flatten() {
                // The validator's finish time, or now when it had not finished yet.
                c.settle().map_err(Error::from)?;
                done = done.max(c.checked_at().unwrap_or_else(Instant::now));
            }
            warm.checks_done_ms = Some(done.duration_since(t0).as_secs_f64() * 1e3);
            eprintln!(
                "run {run}: MANIFEST read, files linked and mapped {restored_ms:.1} ms, first record {:.1} ms, every group checked {:.1} ms, full speed {:.1} ms",
                warm.first_record_ms,
                warm.checks_done_ms.unwrap_or(0.0),
                warm.full_speed_ms
            );
            figures.push((restored_ms, warm));
        }
        verify(&restore(&store, workers, backend)?, keys)?;
        report(keys, workers, runs, bytes, "mmap", &mut figures, json)
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_checkpoint_restores_every_key_with_another_worker_count() {
        let dir = tempfile::tempdir().unwrap();
        let store = CheckpointStore::open(dir.path()).unwrap();
        build(&store, 5_000, 2).unwrap();
        let backend = StateBackend::Mmap {
            dir: None,
            cache_entries: 1000,
        };
        for workers in [1, 3] {
            let restored = restore(&store, workers, &backend).unwrap();
            let n: usize = restored.iter().map(|(s, _)| s.len()).sum();
            assert_eq!(n, 5_000, "{workers} workers");
            for (_, c) in restored {
                assert_eq!(c.expect("lazy checks").settle(), Ok(()));
            }
        }
    }
}
