//! `weir bench --workload checkpoint`: the cost of a checkpoint after few changes.
//!
//! Builds W1's state of `--keys` keys (a `ValueState<u64, i64>`, split over `--workers`
//! workers' key groups as the runtime splits it), takes a first checkpoint, then `--runs`
//! times touches 1 % of the keys (`+= 1`) and takes another checkpoint, timed. A checkpoint
//! here is the workers' part of one, in parallel as the runtime does it, up to the point where
//! a worker acknowledges: with the heap backend every owned key group is encoded and written
//! as a state file ([`CheckpointStore::write_worker_state`]: archive, msync, fsync); with the
//! mmap backend the dirty entries become a new run and every run is hard-linked into the
//! checkpoint directory, and the new runs are fsynced (as `runtime::snapshot_runs` does).
//! The coordinator's MANIFEST commit (one small file, fsync, rename) is not included.
//!
//! Reports `checkpoint_ms` (median of the timed checkpoints), `bytes_new` (written by the
//! median run) and `bytes_shared` (linked from earlier checkpoints), and checks that the
//! state holds every key with the expected values.

use super::bench_restore::worker_state;
use crate::checkpoint::{CheckpointStore, GroupSnapshot, StateSnapshot, WorkerSnapshot};
use crate::error::{Error, EXIT_OK};
use crate::source::generator::splitmix64;
use crate::state::key_group::{key_group_range, KeyGroupRouter};
use crate::state::{
    KeyContext, KeyedStateStore, StableKey, StateBackend, ValueState, DEFAULT_MAX_PARALLELISM,
};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// One key in `TOUCH_EVERY` is touched between two checkpoints (1 %).
pub const TOUCH_EVERY: u64 = 100;

/// What one timed checkpoint measured.
#[derive(Clone, Copy, Debug, Default)]
struct Taken {
    ms: f64,
    /// mmap: the longest worker pause (its part before the background links and fsyncs).
    pause_ms: f64,
    /// mmap: the most CPU time a worker thread spent in that part.
    pause_cpu_ms: f64,
    bytes_new: u64,
    bytes_shared: u64,
}

/// Whether run `round` touches `key`: a different 1 % of the keys each round.
fn touched(key: u64, round: u64) -> bool {
    splitmix64(key ^ round.wrapping_mul(0x9e37_79b9_7f4a_7c15)).is_multiple_of(TOUCH_EVERY)
}

/// Adds 1 to every key of worker `w`'s state touched in `round`; returns how many.
fn touch(state: &mut ValueState<u64, i64>, w: usize, workers: usize, keys: u64, round: u64) -> u64 {
    let mp = DEFAULT_MAX_PARALLELISM;
    let router = KeyGroupRouter::new(workers, mp);
    let range = key_group_range(w, workers, mp);
    let mut n = 0;
    for key in (0..keys).filter(|&k| touched(k, round)) {
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
            n += 1;
        }
    }
    n
}

/// Where checkpoint `id` goes: its directory, and the heap backend's store (one per
/// checkpoint, shared by the workers, as the runtime's).
struct Target {
    dir: std::path::PathBuf,
    store: Option<CheckpointStore>,
}

impl Target {
    fn new(dir: &Path, id: u64, backend: &StateBackend) -> crate::Result<Target> {
        let dir = dir.join(format!("chk-{id:06}"));
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let store = match backend {
            StateBackend::Heap => Some(CheckpointStore::open(&dir)?),
            StateBackend::Mmap { .. } => None,
        };
        Ok(Target { dir, store })
    }
}

/// Worker `w`'s part of checkpoint `id` into `target` (see the module docs).
fn checkpoint(
    state: &mut ValueState<u64, i64>,
    w: usize,
    workers: usize,
    target: &Target,
    id: u64,
) -> crate::Result<(u64, u64)> {
    let store = match &target.store {
        Some(store) => store,
        None => return link(state, &target.dir),
    };
    let range = key_group_range(w, workers, DEFAULT_MAX_PARALLELISM);
    let mut groups = Vec::new();
    for kg in range.clone() {
        let mut bytes = Vec::new();
        let entries = state.snapshot_group(kg, 0, &mut bytes) as u64;
        if entries > 0 {
            let name = "sum".into();
            let states = vec![StateSnapshot {
                name,
                entries,
                bytes,
            }];
            groups.push(GroupSnapshot {
                key_group: kg,
                states,
            });
        }
    }
    let snap = WorkerSnapshot {
        worker: w as u32,
        key_groups: range,
        groups,
    };
    let file = store.write_worker_state(id, &snap)?;
    Ok((file.len, 0))
}

/// The mmap backend's part: flush, link every run into `target`, fsync the new ones; the
/// linking and fsyncing run on the state's writer thread, and this waits for them as the
/// runtime's acknowledgement does.
fn link(state: &mut ValueState<u64, i64>, target: &Path) -> crate::Result<(u64, u64)> {
    let run_err = |e: crate::state::RunError| Error::Runtime(e.to_string());
    let (started, cpu) = (Instant::now(), super::thread_cpu::thread_cpu_ms());
    if let Some((files, durable)) = state.start_checkpoint_files(target).map_err(run_err)? {
        PAUSE_US.fetch_max(started.elapsed().as_micros() as u64, Ordering::Relaxed);
        let cpu_us = (super::thread_cpu::thread_cpu_ms() - cpu) * 1e3;
        PAUSE_CPU_US.fetch_max(cpu_us as u64, Ordering::Relaxed);
        durable.wait().map_err(run_err)?;
        let (mut new, mut shared) = (0, 0);
        for f in &files {
            if f.new {
                let path = target.join(&f.name);
                std::fs::File::open(&path)
                    .and_then(|file| file.sync_all())
                    .map_err(|e| Error::io(&path, e))?;
                new += f.bytes;
            } else {
                shared += f.bytes;
            }
        }
        return Ok((new, shared));
    }
    Err(Error::Runtime(
        "mmap state without run files: nothing to link".into(),
    ))
}

/// The longest time a worker spent in its part of the current checkpoint before it could
/// process records again (mmap: the flush; the links and fsyncs run in the background).
static PAUSE_US: AtomicU64 = AtomicU64::new(0);

/// The most CPU time a worker's thread used for its part before the background work (a
/// loaded machine inflates wall time, much less this).
static PAUSE_CPU_US: AtomicU64 = AtomicU64::new(0);

/// Runs `f` on every worker's state in parallel; the results in worker order.
fn each<T: Send>(
    states: &mut [ValueState<u64, i64>],
    f: impl Fn(usize, &mut ValueState<u64, i64>) -> crate::Result<T> + Sync,
) -> crate::Result<Vec<T>> {
    std::thread::scope(|scope| {
        let f = &f;
        let handles: Vec<_> = states
            .iter_mut()
            .enumerate()
            .map(|(w, s)| scope.spawn(move || f(w, s)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .map_err(|_| Error::Runtime("checkpoint bench thread panicked".into()))?
            })
            .collect()
    })
}

/// Runs the benchmark in the scratch directory `dir` (which the caller removes).
fn measure(
    keys: u64,
    workers: usize,
    runs: usize,
    dir: &Path,
    backend: &StateBackend,
) -> crate::Result<(Vec<Taken>, u64)> {
    let t = Instant::now();
    let mut states = Vec::with_capacity(workers);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|w| scope.spawn(move || worker_state(w, workers, keys, backend)))
            .collect();
        for h in handles {
            let s = h
                .join()
                .map_err(|_| Error::Runtime("checkpoint bench thread panicked".into()))?;
            states.push(s);
        }
        Ok::<_, Error>(())
    })?;
    let ckpts = dir.join("checkpoints");
    let first = Instant::now();
    let target = Target::new(&ckpts, 1, backend)?;
    let sizes = each(&mut states, |w, s| checkpoint(s, w, workers, &target, 1))?;
    eprintln!(
        "built {keys} keys in {:.1} s; first checkpoint {:.1} ms, {} bytes",
        (first - t).as_secs_f64(),
        first.elapsed().as_secs_f64() * 1e3,
        sizes.iter().map(|s| s.0).sum::<u64>()
    );
    let (mut taken, mut touches) = (Vec::new(), 0u64);
    for round in 1..=runs as u64 {
        touches += each(&mut states, |w, s| Ok(touch(s, w, workers, keys, round)))?
            .iter()
            .sum::<u64>();
        PAUSE_US.store(0, Ordering::Relaxed);
        PAUSE_CPU_US.store(0, Ordering::Relaxed);
        let t0 = Instant::now();
        let target = Target::new(&ckpts, round + 1, backend)?;
        let sizes = each(&mut states, |w, s| {
            checkpoint(s, w, workers, &target, round + 1)
        })?;
        let one = Taken {
            ms: t0.elapsed().as_secs_f64() * 1e3,
            pause_ms: PAUSE_US.load(Ordering::Relaxed) as f64 / 1e3,
            pause_cpu_ms: PAUSE_CPU_US.load(Ordering::Relaxed) as f64 / 1e3,
            bytes_new: sizes.iter().map(|s| s.0).sum(),
            bytes_shared: sizes.iter().map(|s| s.1).sum(),
        };
        eprintln!(
            "run {round}: checkpoint after touching 1 % of the keys: {:.1} ms (worker pause {:.1} ms, {:.1} ms of CPU), {} bytes new, {} shared",
            one.ms, one.pause_ms, one.pause_cpu_ms, one.bytes_new, one.bytes_shared
        );
        taken.push(one);
    }
    verify(&states, keys, touches)?;
    Ok((taken, touches))
}

/// Every key is there, and the values add up to `Σ key` plus one per touch.
fn verify(states: &[ValueState<u64, i64>], keys: u64, touches: u64) -> crate::Result<()> {
    let (mut n, mut sum) = (0u64, 0i128);
    for s in states {
        s.for_each(|_, v| {
            n += 1;
            sum += i128::from(*v);
        });
    }
    let expected = i128::from(keys) * (i128::from(keys) - 1) / 2 + i128::from(touches);
    if n != keys || sum != expected {
        return Err(Error::Runtime(format!(
            "checkpoint bench state: {n} keys summing to {sum}, expected {keys} keys summing to {expected}"
        )));
    }
    Ok(())
}

/// Runs `weir bench --workload checkpoint` and prints (and writes as JSON) the figures.
///
/// # Errors
/// I/O errors, or a state that lost keys or updates.
pub fn run(
    keys: u64,
    workers: usize,
    runs: usize,
    json: Option<&Path>,
    backend: &StateBackend,
) -> crate::Result<i32> {
    // Removed below: `fresh_temp_dir` made it (it fails if the path exists).
    let dir =
        super::scratch::fresh_temp_dir(&format!("weir-bench-checkpoint-{}", std::process::id()))?;
    let backend = match backend {
        StateBackend::Mmap {
            dir: None,
            cache_entries,
        } => StateBackend::Mmap {
            dir: Some(dir.join("state")),
            cache_entries: *cache_entries,
        },
        other => other.clone(),
    };
    let result = measure(keys, workers, runs, &dir, &backend);
    let _ = std::fs::remove_dir_all(&dir);
    let (mut taken, touches) = result?;
    taken.sort_by(|a, b| a.ms.total_cmp(&b.ms));
    let mid = taken.get(taken.len() / 2).copied().unwrap_or_default();
    let kind = backend.kind();
    println!(
        "workload=checkpoint backend={kind} keys={keys} workers={workers} runs={runs} touched_per_run={} \
         checkpoint_ms={:.1} pause_ms={:.1} pause_cpu_ms={:.1} bytes_new={} bytes_shared={}",
        touches / runs.max(1) as u64,
        mid.ms,
        mid.pause_ms,
        mid.pause_cpu_ms,
        mid.bytes_new,
        mid.bytes_shared
    );
    if let Some(path) = json {
        let v = serde_json::json!({"workload": "checkpoint", "backend": kind.to_string(),
            "keys": keys, "workers": workers, "runs": runs,
            "touched_per_run": touches / runs.max(1) as u64, "checkpoint_ms": mid.ms, "pause_ms": mid.pause_ms, "pause_cpu_ms": mid.pause_cpu_ms,
            "bytes_new": mid.bytes_new, "bytes_shared": mid.bytes_shared,
            "checkpoint_ms_all": taken.iter().map(|t| t.ms).collect::<Vec<_>>()});
        std::fs::write(path, v.to_string()).map_err(|e| Error::io(path, e))?;
    }
    Ok(EXIT_OK)
}
