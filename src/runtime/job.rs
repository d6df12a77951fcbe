//! Running a job: open splits and partitions, build the N×N rings, spawn pinned workers, run
//! the coordinator on the calling thread, join, report.

use super::coordinator::{self, Coordinator};
use super::message::{Keyed, Msg};
use super::ring::{ring, Consumer, Producer};
use super::stop;
use super::worker::{
    run_worker, Event, Shared, SnapshotWriter, StateRestore, WorkerEnv, WorkerStats,
};
use super::{JobReport, RunConfig};
use crate::error::Error;
use crate::operator::KeyedOperator;
use crate::sink::Sink;
use crate::source::RangePosition;
use crate::source::{DeadLetters, Source};
use crossbeam::channel::RecvTimeoutError;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use std::time::Instant;

/// The type-erased pieces of a job, as the builder assembled them.
pub(crate) struct JobParts<K, T, O, Op> {
    pub source: Arc<dyn Source<Keyed<K, T>>>,
    pub factory: Arc<dyn Fn() -> Op + Send + Sync>,
    pub sink: Arc<dyn Sink<O>>,
    pub local: bool,
}

/// Per-worker ring ends of an all-to-all mesh: `producers[a][b]` (held by worker `a`) feeds
/// `consumers[b][a]` (held by worker `b`).
type Mesh<M> = (Vec<Vec<Producer<M>>>, Vec<Vec<Consumer<M>>>);

/// Builds the N×N rings of a mesh.
fn mesh<M>(n: usize, capacity: usize) -> Mesh<M> {
    let mut producers: Vec<Vec<Producer<M>>> = (0..n).map(|_| Vec::with_capacity(n)).collect();
    let mut consumers: Vec<Vec<Option<Consumer<M>>>> =
        (0..n).map(|_| (0..n).map(|_| None).collect()).collect();
    for (a, row) in producers.iter_mut().enumerate() {
        for consumer_row in consumers.iter_mut() {
            let (p, c) = ring(capacity);
            row.push(p);
            consumer_row[a] = Some(c);
        }
    }
    let consumers = consumers
        .into_iter()
        .map(|row| {
            row.into_iter()
                .map(|c| c.expect("every ring built"))
                .collect()
        })
        .collect();
    (producers, consumers)
}

/// Checks a run configuration.
fn check_config(config: &RunConfig) -> crate::Result<()> {
    let mut errors = Vec::new();
    if config.workers == 0 {
        errors.push("workers: must be at least 1".to_string());
    }
    if !config.max_parallelism.is_power_of_two() {
        errors.push(format!(
            "max_parallelism: {} is not a power of two",
            config.max_parallelism
        ));
    } else if config.workers > config.max_parallelism as usize {
        errors.push(format!(
            "workers: {} is more than max_parallelism {}",
            config.workers, config.max_parallelism
        ));
    }
    if config.batch_size == 0 {
        errors.push("batch_size: must be at least 1".to_string());
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::Config(errors))
    }
}

/// Pins the current thread to core `worker` (modulo the core count); failure is a warning.
fn pin(worker: usize) {
    match core_affinity::get_core_ids() {
        Some(cores) if !cores.is_empty() => {
            let core = cores[worker % cores.len()];
            if !core_affinity::set_for_current(core) {
                tracing::warn!(worker, core = core.id, "could not pin worker to core");
            }
        }
        _ => tracing::warn!(worker, "could not list cores; worker not pinned"),
    }
}

/// Runs a job to completion.
pub(crate) fn run_job<K, T, O, Op>(
    parts: JobParts<K, T, O, Op>,
    config: &RunConfig,
) -> crate::Result<JobReport>
where
    K: Clone + Send + 'static,
    T: Send + 'static,
    O: Send + 'static,
    Op: KeyedOperator<K, T, O> + 'static,
{
    check_config(config)?;
    let started = Instant::now();
    parts.source.check()?;
    parts.sink.check()?;
    let n = config.workers;
    let mut max_parallelism = config.max_parallelism;
    let mut report = JobReport::default();

    // Checkpoints: open the store, pick what to restore, settle the sink's files.
    let start = match &config.checkpoint {
        Some(cc) => {
            let checks = super::restore_check::section_checks(&parts.factory);
            coordinator::start(cc, config.fingerprint, parts.source.replayable(), &checks)?
        }
        None => coordinator::Start {
            store: None,
            restored: None,
            last_id: 0,
        },
    };
    let mut resume: Vec<Option<Vec<RangePosition>>> = vec![None; n];
    match &start.restored {
        Some(r) => {
            let m = &r.manifest;
            if m.max_parallelism != max_parallelism {
                tracing::info!(
                    checkpoint = m.max_parallelism,
                    configured = max_parallelism,
                    "using the checkpoint's max_parallelism"
                );
                max_parallelism = m.max_parallelism;
                if n > max_parallelism as usize {
                    return Err(Error::Config(vec![format!(
                        "workers: {n} is more than the checkpoint's max_parallelism {max_parallelism}"
                    )]));
                }
            }
            parts.sink.recover(Some(m.sink_epoch))?;
            if let Some(len) = m.dead_letter_len {
                crate::source::dead_letter::truncate_to(&config.dead_letter_path, len)?;
            }
            report.restored_from = Some(m.id);
            if m.finished {
                report.already_complete = true;
                report.elapsed = started.elapsed();
                return Ok(report);
            }
            for (w, ranges) in coordinator::redistribute(&m.sources, n)
                .into_iter()
                .enumerate()
            {
                resume[w] = Some(ranges);
            }
        }
        None => {
            parts.sink.recover(None)?;
            // A fresh run's dead letters are its own (a restored run appends to them).
            match std::fs::remove_file(&config.dead_letter_path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(Error::io(&config.dead_letter_path, e));
                }
                _ => {}
            }
        }
    }
    let transactional = start.store.is_some();

    // Data rings w→d and return rings of empty batch buffers d→w: both meshes give worker w
    // its producers indexed by the other end and its consumers indexed by the other end.
    let cap = config.ring_capacity.max(2);
    let (data_out, data_in) = mesh::<Msg<Keyed<K, T>>>(n, cap);
    let (back_out, back_in) = mesh::<Vec<Keyed<K, T>>>(n, cap + 2);
    let mut rows = data_out
        .into_iter()
        .zip(data_in)
        .zip(back_out.into_iter().zip(back_in));

    let (tx, rx) = crossbeam::channel::unbounded::<Event>();
    let shared = Arc::new(Shared {
        stop: AtomicBool::new(false),
        trigger: AtomicU64::new(0),
        events: tx,
    });
    let dead = DeadLetters::new(config.dead_letter_path.clone(), config.on_error);

    let mut envs = Vec::with_capacity(n);
    for (w, resume) in resume.into_iter().enumerate() {
        let ((outs, ins), (returns, returned)) = rows.next().expect("one row of rings per worker");
        let split = parts.source.open_split(w, n, resume)?;
        let sink = parts.sink.open_partition(w, n, transactional)?;
        envs.push(WorkerEnv {
            id: w,
            workers: n,
            max_parallelism,
            batch_size: config.batch_size,
            local: parts.local,
            split,
            outs,
            ins,
            returns,
            returned,
            sink,
            dead: dead.clone(),
            shared: shared.clone(),
            snapshots: start.store.clone().map(|s| s as Arc<dyn SnapshotWriter>),
            restore: start.restored.clone().map(|r| r as Arc<dyn StateRestore>),
            last_checkpoint: start.last_id,
        });
    }

    let handles = envs
        .into_iter()
        .map(|env| spawn_worker(env, parts.factory.clone(), shared.clone(), config.pin))
        .collect::<crate::Result<Vec<_>>>()?;
    let mut coordinator = match (&start.store, &config.checkpoint) {
        (Some(store), Some(cc)) => Some(Coordinator::new(
            store.clone(),
            cc.clone(),
            config.fingerprint,
            max_parallelism,
            n,
            start.last_id,
        )),
        _ => None,
    };
    let sink = parts.sink.clone();
    let sink_commit = move |epoch: u64| sink.commit(epoch);

    // Coordinator loop: checkpoint triggers and acks, stop requests, worker ends.
    let mut stopping: Option<Option<u64>> = None;
    let mut stats: Vec<Option<WorkerStats>> = vec![None; n];
    let mut first_error: Option<Error> = None;
    let mut done = 0;
    while done < n {
        let timeout = coordinator
            .as_ref()
            .map_or(Duration::from_millis(200), |c| c.timeout());
        let event = rx.recv_timeout(timeout.min(Duration::from_millis(100)));
        // A stop request: take a checkpoint now, stop the workers once it settled.
        if stop::stop_requested() && stopping.is_none() && done == 0 {
            let id = coordinator.as_mut().map(|c| c.trigger_now(&shared));
            tracing::info!(checkpoint = ?id, "stop requested");
            stopping = Some(id);
        }
        if let Some(c) = coordinator.as_mut() {
            c.tick(
                &shared,
                done == 0 && first_error.is_none() && stopping.is_none(),
            );
        }
        match event {
            Ok(Event::Ack(ack)) => {
                if let Some(c) = coordinator.as_mut() {
                    if let Err(e) = c.on_ack(ack, &sink_commit) {
                        shared.stop.store(true, Ordering::Relaxed);
                        first_error.get_or_insert(e);
                    }
                }
            }
            Ok(Event::Done { worker, result }) => {
                done += 1;
                match result {
                    Ok(s) => stats[worker] = Some(s),
                    Err(e) => {
                        let stopped = matches!(&e, Error::Runtime(m) if m.starts_with("stopped:"));
                        if first_error.is_none() && !stopped {
                            first_error = Some(worker_error(worker, e));
                        }
                    }
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        if let Some(id) = stopping {
            let settled = match (id, coordinator.as_ref()) {
                (Some(id), Some(c)) => c.settled(id),
                _ => true,
            };
            if settled && !shared.stop.swap(true, Ordering::Relaxed) {
                tracing::info!("stopping the workers");
            }
        }
    }
    for h in handles {
        let _ = h.join();
    }
    // The last checkpoint every worker snapshotted may still be being written by the workers'
    // snapshot threads: wait for its acknowledgements (it is aligned everywhere, so they come).
    let last_snapshot = stats
        .iter()
        .flatten()
        .map(|s| s.final_epoch.saturating_sub(1))
        .max();
    while first_error.is_none()
        && coordinator
            .as_ref()
            .and_then(|c| c.in_flight_id())
            .is_some_and(|id| Some(id) == last_snapshot)
    {
        match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(Event::Ack(ack)) => {
                if let Some(Err(e)) = coordinator.as_mut().map(|c| c.on_ack(ack, &sink_commit)) {
                    first_error = Some(e);
                }
            }
            Ok(Event::Done { .. }) => {}
            Err(_) => {
                tracing::warn!("gave up waiting for the last checkpoint's state files");
                break;
            }
        }
    }
    // Acknowledgements that raced with the last worker's end.
    while let Ok(event) = rx.try_recv() {
        if let (Event::Ack(ack), Some(c)) = (event, coordinator.as_mut()) {
            if let Err(e) = c.on_ack(ack, &sink_commit) {
                first_error.get_or_insert(e);
            }
        }
    }
    if let Some(e) = first_error {
        return Err(e);
    }
    if stopping.is_some() && stats.iter().any(Option::is_none) {
        // Stopped before the input ended: no final checkpoint (the job is not finished).
        report.stopped = Some(coordinator.as_ref().and_then(|c| c.last_committed()));
        if let Some(c) = coordinator.as_mut() {
            report.checkpoints = std::mem::take(&mut c.stats);
            report.failed_checkpoints = c.failed;
        }
        report.elapsed = started.elapsed();
        add_stats(&mut report, stats.into_iter().flatten());
        return Ok(report);
    }
    let stats: Vec<WorkerStats> = stats.into_iter().flatten().collect();
    if let Some(c) = coordinator.as_mut() {
        let final_epoch = stats
            .iter()
            .map(|s| s.final_epoch)
            .max()
            .unwrap_or(start.last_id + 1);
        let positions = stats.iter().map(|s| s.positions.clone()).collect();
        let dead_len = std::fs::metadata(&config.dead_letter_path).map_or(0, |m| m.len());
        c.finish(final_epoch, positions, dead_len, &sink_commit)?;
        report.checkpoints = std::mem::take(&mut c.stats);
        report.failed_checkpoints = c.failed;
    }
    report.elapsed = started.elapsed();
    add_stats(&mut report, stats);
    Ok(report)
}

/// Starts worker `env.id` on its own thread (pinned when asked). Its result — figures, error
/// or caught panic — goes to the coordinator as [`Event::Done`]; a failure also sets the stop
/// flag so that the other workers end.
fn spawn_worker<K, T, O, Op>(
    env: WorkerEnv<K, T, O>,
    factory: Arc<dyn Fn() -> Op + Send + Sync>,
    shared: Arc<Shared>,
    pin_it: bool,
) -> crate::Result<std::thread::JoinHandle<()>>
where
    K: Clone + Send + 'static,
    T: Send + 'static,
    O: Send + 'static,
    Op: KeyedOperator<K, T, O> + 'static,
{
    let w = env.id;
    std::thread::Builder::new()
        .name(format!("weir-w{w}"))
        .spawn(move || {
            if pin_it {
                pin(w);
            }
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                run_worker(env, factory())
            }))
            .unwrap_or_else(|panic| {
                let msg = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown panic".into());
                Err(Error::Runtime(format!("panicked: {msg}")))
            });
            if result.is_err() {
                shared.stop.store(true, Ordering::Relaxed);
            }
            let _ = shared.events.send(Event::Done { worker: w, result });
        })
        .map_err(|e| Error::Runtime(format!("cannot spawn worker {w}: {e}")))
}

/// Adds the workers' figures to the report.
fn add_stats(report: &mut JobReport, stats: impl IntoIterator<Item = WorkerStats>) {
    for s in stats {
        report.records_in += s.records_in;
        report.dead_lettered += s.dead_lettered;
        report.sink.merge(s.sink);
    }
}

/// Names the worker in its error, keeping data and I/O errors' own exit codes.
fn worker_error(worker: usize, e: Error) -> Error {
    match e {
        Error::Data { .. }
        | Error::Io { .. }
        | Error::Checkpoint { .. }
        | Error::CheckpointState { .. }
        | Error::Config(_) => e,
        other => Error::Worker {
            worker,
            cause: other.to_string(),
        },
    }
}
