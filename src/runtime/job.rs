//! Running a job: check it, settle what a restore starts from, build every worker's tasks,
//! spawn pinned workers, coordinate checkpoints on the calling thread, report.

use super::control::{Event, Shared, SnapshotWriter, StateRestore, WorkerStats};
use super::coordinator::{self, Coordinator, Start};
use super::snapshot::Checkpoints;
use super::task::Task;
use super::worker::{run_worker, WorkerEnv};
use super::{stop, JobReport, RunConfig};
use crate::error::Error;
use crate::source::{DeadLetters, RangePosition};
use crate::state::key_group::key_group_range;
use crate::state::operator::OperatorSnapshot;
use crossbeam::channel::{Receiver, RecvTimeoutError};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A source as the job sees it, whatever its record type.
pub trait SourceControl: Send + Sync {
    /// The source's name in the graph (it tags the source's positions in checkpoints).
    fn graph_name(&self) -> &str;
    /// Whether it can rewind to a recorded position.
    fn replayable(&self) -> bool;
    /// Checks that it can be read before work starts.
    ///
    /// # Errors
    /// A clear error naming the missing or unreadable resource.
    fn check(&self) -> crate::Result<()>;
}

/// A sink as the job sees it, whatever its record type: the calls that are not per worker.
pub trait SinkControl: Send + Sync {
    /// See [`crate::sink::Sink::check`].
    ///
    /// # Errors
    /// The sink cannot be written.
    fn check(&self) -> crate::Result<()>;
    /// See [`crate::sink::Sink::recover`].
    ///
    /// # Errors
    /// I/O errors.
    fn recover(&self, epoch: Option<u64>) -> crate::Result<()>;
    /// See [`crate::sink::Sink::commit`].
    ///
    /// # Errors
    /// I/O errors.
    fn commit(&self, epoch: u64) -> crate::Result<()>;
}

/// What building the workers' tasks needs to know.
pub struct Setup {
    /// Number of workers.
    pub workers: usize,
    /// Number of key groups.
    pub max_parallelism: u16,
    /// Records per ring batch.
    pub batch_size: usize,
    /// Ring capacity in messages.
    pub ring_capacity: usize,
    /// Checkpointing on: sinks write pending epochs.
    pub transactional: bool,
    /// The restored (or newest) checkpoint id; barriers and epochs continue after it.
    pub last_checkpoint: u64,
    /// On restore: per source name, each new worker's ranges.
    pub resume: Option<BTreeMap<String, Vec<Vec<RangePosition>>>>,
    /// On restore: each new worker's share of the operator state (`stage/state` lists).
    pub operator_state: Option<Vec<Vec<OperatorSnapshot>>>,
    /// The job's dead-letter file (tasks that write late records take a handle on it).
    pub dead_letters: DeadLetters,
    /// Where the stages' keyed state lives (directory resolved).
    pub state_backend: crate::state::StateBackend,
}

impl Setup {
    /// Worker `w`'s share of the operator state of stage `stage` on restore (state names
    /// without the stage prefix).
    pub fn operator_state_of(&self, stage: &str, w: usize) -> Vec<OperatorSnapshot> {
        let prefix = format!("{stage}/");
        self.operator_state
            .as_ref()
            .and_then(|per| per.get(w))
            .map(|mine| {
                mine.iter()
                    .filter_map(|s| {
                        let name = s.name.strip_prefix(&prefix)?;
                        Some(OperatorSnapshot {
                            name: name.to_string(),
                            ..s.clone()
                        })
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Worker `w`'s ranges of source `name` on restore.
    pub fn resume_of(&self, name: &str, w: usize) -> Option<Vec<RangePosition>> {
        self.resume
            .as_ref()
            .map(|r| r.get(name).map(|per| per[w].clone()).unwrap_or_default())
    }
}

/// A job graph, ready to run: its sources, sinks, and a builder of every worker's tasks.
pub trait Dataflow: Send + Sync {
    /// Every source of the graph.
    fn sources(&self) -> Vec<Arc<dyn SourceControl>>;
    /// Every sink of the graph.
    fn sinks(&self) -> Vec<Arc<dyn SinkControl>>;
    /// A check of a checkpoint's `(key_group, "stage/state", bytes)` sections against
    /// throwaway instances of the graph's stages, run before any worker starts, so that a
    /// checkpoint this job cannot restore is skipped (falling back to an older one) or
    /// reported (exit 78) before anything was read, written or deleted.
    fn section_checker(&self) -> Box<crate::checkpoint::SectionCheck<'static>>;
    /// Builds the rings of every edge and each worker's tasks (element `w`: worker `w`'s
    /// tasks, sources first, in topological order).
    ///
    /// # Errors
    /// Opening a source split or a sink partition failed.
    fn build(&self, setup: &Setup) -> crate::Result<Vec<Vec<Box<dyn Task>>>>;
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
///
/// # Errors
/// The first failure of any worker, naming the worker and the cause; I/O errors of sources,
/// sinks and checkpoints.
pub fn run_job(graph: &dyn Dataflow, config: &RunConfig) -> crate::Result<JobReport> {
    check_config(config)?;
    let started = Instant::now();
    let (sources, sinks) = (graph.sources(), graph.sinks());
    sources.iter().try_for_each(|s| s.check())?;
    sinks.iter().try_for_each(|s| s.check())?;
    let replayable = sources.iter().all(|s| s.replayable());
    let start = match &config.checkpoint {
        Some(cc) => {
            let checks = || graph.section_checker();
            coordinator::start(cc, config.fingerprint, replayable, &checks)?
        }
        None => Start {
            store: None,
            restored: None,
            last_id: 0,
        },
    };
    let mut report = JobReport::default();
    let Some(setup) = settle_start(&start, &sources, &sinks, config, &mut report)? else {
        report.elapsed = started.elapsed();
        return Ok(report);
    };
    let tasks = graph.build(&setup)?;
    let (tx, rx) = crossbeam::channel::unbounded::<Event>();
    let shared = Arc::new(Shared {
        stop: AtomicBool::new(false),
        trigger: AtomicU64::new(0),
        events: tx,
    });
    let mut dead = setup.dead_letters.handle();
    let mut handles = Vec::with_capacity(setup.workers);
    for (w, tasks) in tasks.into_iter().enumerate() {
        let key_groups = key_group_range(w, setup.workers, setup.max_parallelism);
        let env = WorkerEnv {
            id: w,
            checkpoints: Checkpoints::new(
                w,
                tasks.len(),
                key_groups.clone(),
                start.store.clone().map(|s| s as Arc<dyn SnapshotWriter>),
                shared.clone(),
                start.last_id,
            ),
            key_groups,
            tasks,
            dead: dead.clone(),
            shared: shared.clone(),
            restore: start.restored.clone().map(|r| r as Arc<dyn StateRestore>),
        };
        handles.push(spawn_worker(env, shared.clone(), config.pin)?);
    }
    let coordinator = match (&start.store, &config.checkpoint) {
        (Some(store), Some(cc)) => Some(Coordinator::new(
            store.clone(),
            cc.clone(),
            config.fingerprint,
            setup.max_parallelism,
            setup.workers,
            start.last_id,
        )),
        _ => None,
    };
    let mut run = Run {
        coordinator,
        shared,
        sinks,
        stats: vec![None; setup.workers],
        first_error: None,
        stopping: None,
    };
    run.coordinate(&rx);
    for h in handles {
        let _ = h.join();
    }
    run.settle_last_checkpoint(&rx);
    // The final epoch's dead letters, set aside by ended tasks (see runtime::late_letters).
    dead.append_deferred()?;
    report.late_dead_lettered = dead.late_count();
    run.report(config, start.last_id, &mut report)?;
    report.elapsed = started.elapsed();
    Ok(report)
}

/// Settles what the run starts from: on restore, the checkpoint's max_parallelism, the
/// sinks' pending epochs, the dead-letter file and the sources' positions; on a fresh start,
/// the sinks' leftovers. `None` when the restored checkpoint is of a finished job.
fn settle_start(
    start: &Start,
    sources: &[Arc<dyn SourceControl>],
    sinks: &[Arc<dyn SinkControl>],
    config: &RunConfig,
    report: &mut JobReport,
) -> crate::Result<Option<Setup>> {
    let n = config.workers;
    let mut setup = Setup {
        workers: n,
        max_parallelism: config.max_parallelism,
        batch_size: config.batch_size,
        ring_capacity: config.ring_capacity,
        transactional: start.store.is_some(),
        last_checkpoint: start.last_id,
        resume: None,
        operator_state: None,
        dead_letters: DeadLetters::new(config.dead_letter_path.clone(), config.on_error),
        state_backend: (config.state_backend)
            .resolve(config.checkpoint.as_ref().map(|c| c.dir.as_path())),
    };
    let Some(restored) = &start.restored else {
        // A pre-flight (`config.preflight`) already settled the files of a fresh start.
        if config.preflight {
            return Ok(Some(setup));
        }
        sinks.iter().try_for_each(|s| s.recover(None))?;
        // A fresh run's dead letters are its own (a restored run appends to them).
        match std::fs::remove_file(&config.dead_letter_path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(Error::io(&config.dead_letter_path, e));
            }
            _ => {}
        }
        return Ok(Some(setup));
    };
    let m = &restored.manifest;
    if m.max_parallelism != setup.max_parallelism {
        tracing::info!(
            checkpoint = m.max_parallelism,
            configured = setup.max_parallelism,
            "using the checkpoint's max_parallelism"
        );
        setup.max_parallelism = m.max_parallelism;
        if n > m.max_parallelism as usize {
            return Err(Error::Config(vec![format!(
                "workers: {n} is more than the checkpoint's max_parallelism {}",
                m.max_parallelism
            )]));
        }
    }
    sinks
        .iter()
        .try_for_each(|s| s.recover(Some(m.sink_epoch)))?;
    if let Some(len) = m.dead_letter_len {
        crate::source::dead_letter::truncate_to(&config.dead_letter_path, len)?;
    }
    report.restored_from = Some(m.id);
    if m.finished {
        report.already_complete = true;
        return Ok(None);
    }
    let resume = sources
        .iter()
        .map(|s| {
            let name = s.graph_name().to_string();
            let ranges = coordinator::redistribute(&m.sources, &name, n);
            (name, ranges)
        })
        .collect();
    setup.resume = Some(resume);
    setup.operator_state = Some(crate::state::operator::redistribute(&m.operator_state, n));
    Ok(Some(setup))
}

/// Starts a worker on its own thread (pinned when asked). Its result — figures, error or
/// caught panic — goes to the coordinator as [`Event::Done`]; a failure also sets the stop
/// flag so that the other workers end.
fn spawn_worker(
    env: WorkerEnv,
    shared: Arc<Shared>,
    pin_it: bool,
) -> crate::Result<std::thread::JoinHandle<()>> {
    let w = env.id;
    std::thread::Builder::new()
        .name(format!("weir-w{w}"))
        .spawn(move || {
            if pin_it {
                pin(w);
            }
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run_worker(env)))
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

/// The coordinating side of a running job.
struct Run {
    coordinator: Option<Coordinator>,
    shared: Arc<Shared>,
    sinks: Vec<Arc<dyn SinkControl>>,
    stats: Vec<Option<WorkerStats>>,
    first_error: Option<Error>,
    /// A stop was requested: the id of the checkpoint taken for it, if any.
    stopping: Option<Option<u64>>,
}

impl Run {
    fn commit_sinks(sinks: &[Arc<dyn SinkControl>], epoch: u64) -> crate::Result<()> {
        sinks.iter().try_for_each(|s| s.commit(epoch))
    }

    fn on_ack(&mut self, ack: super::control::Ack) {
        let sinks = &self.sinks;
        if let Some(c) = self.coordinator.as_mut() {
            if let Err(e) = c.on_ack(ack, &|epoch| Self::commit_sinks(sinks, epoch)) {
                self.shared.stop.store(true, Ordering::Relaxed);
                self.first_error.get_or_insert(e);
            }
        }
    }

    fn on_done(&mut self, worker: usize, result: crate::Result<WorkerStats>) {
        match result {
            Ok(s) => self.stats[worker] = Some(s),
            Err(Error::Stopped) => {}
            Err(e) => {
                self.first_error
                    .get_or_insert_with(|| worker_error(worker, e));
            }
        }
    }

    /// Checkpoint triggers and acks, stop requests, worker ends — until every worker ended.
    fn coordinate(&mut self, rx: &Receiver<Event>) {
        let mut done = 0;
        while done < self.stats.len() {
            let timeout = self
                .coordinator
                .as_ref()
                .map_or(Duration::from_millis(200), |c| c.timeout());
            let event = rx.recv_timeout(timeout.min(Duration::from_millis(100)));
            // A stop request: take a checkpoint now, stop the workers once it settled.
            if stop::stop_requested() && self.stopping.is_none() && done == 0 {
                let id = self
                    .coordinator
                    .as_mut()
                    .map(|c| c.trigger_now(&self.shared));
                tracing::info!(checkpoint = ?id, "stop requested");
                self.stopping = Some(id);
            }
            let may_trigger = done == 0 && self.first_error.is_none() && self.stopping.is_none();
            if let Some(c) = self.coordinator.as_mut() {
                c.tick(&self.shared, may_trigger);
            }
            match event {
                Ok(Event::Ack(ack)) => self.on_ack(ack),
                Ok(Event::Done { worker, result }) => {
                    done += 1;
                    self.on_done(worker, result);
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            if let Some(id) = self.stopping {
                let settled = match (id, self.coordinator.as_ref()) {
                    (Some(id), Some(c)) => c.settled(id),
                    _ => true,
                };
                if settled && !self.shared.stop.swap(true, Ordering::Relaxed) {
                    tracing::info!("stopping the workers");
                }
            }
        }
    }

    /// The last checkpoint every worker snapshotted may still be being written by the
    /// workers' snapshot threads: waits for its acknowledgements (it is aligned everywhere,
    /// so they come), then takes acknowledgements that raced with the last worker's end.
    fn settle_last_checkpoint(&mut self, rx: &Receiver<Event>) {
        let last_snapshot = self
            .stats
            .iter()
            .flatten()
            .map(|s| s.final_epoch.saturating_sub(1))
            .max();
        while self.first_error.is_none()
            && self
                .coordinator
                .as_ref()
                .and_then(|c| c.in_flight_id())
                .is_some_and(|id| Some(id) == last_snapshot)
        {
            match rx.recv_timeout(Duration::from_secs(120)) {
                Ok(Event::Ack(ack)) => self.on_ack(ack),
                Ok(Event::Done { .. }) => {}
                Err(_) => {
                    tracing::warn!("gave up waiting for the last checkpoint's state files");
                    break;
                }
            }
        }
        while let Ok(event) = rx.try_recv() {
            if let Event::Ack(ack) = event {
                self.on_ack(ack);
            }
        }
    }

    /// Commits the final checkpoint of a finished job and fills the report.
    fn report(
        mut self,
        config: &RunConfig,
        last_id: u64,
        report: &mut JobReport,
    ) -> crate::Result<()> {
        if let Some(e) = self.first_error.take() {
            return Err(e);
        }
        let finished = self.stats.iter().all(Option::is_some);
        let stats: Vec<WorkerStats> = self.stats.into_iter().flatten().collect();
        if let Some(c) = self.coordinator.as_mut() {
            if self.stopping.is_some() && !finished {
                // Stopped before the input ended: no final checkpoint (the job is not done).
                report.stopped = Some(c.last_committed());
            } else {
                let final_epoch = stats
                    .iter()
                    .map(|s| s.final_epoch)
                    .max()
                    .unwrap_or(last_id + 1);
                let positions = stats.iter().map(|s| s.positions.clone()).collect();
                let dead_len = std::fs::metadata(&config.dead_letter_path).map_or(0, |m| m.len());
                let sinks = &self.sinks;
                c.finish(final_epoch, positions, dead_len, &|epoch| {
                    Self::commit_sinks(sinks, epoch)
                })?;
            }
            report.checkpoints = std::mem::take(&mut c.stats);
            report.failed_checkpoints = c.failed;
        } else if self.stopping.is_some() && !finished {
            report.stopped = Some(None);
        }
        for s in stats {
            report.records_in += s.records_in;
            report.dead_lettered += s.dead_lettered;
            report.late += s.late;
            report.sink.merge(s.sink);
        }
        Ok(())
    }
}

/// Names the worker in its error, keeping data, I/O, checkpoint and configuration errors as
/// they are (their exit codes and messages stand on their own).
fn worker_error(worker: usize, e: Error) -> Error {
    match e {
        Error::Data { .. }
        | Error::Io { .. }
        | Error::Checkpoint { .. }
        | Error::CheckpointState { .. }
        | Error::Config(_) => e,
        other => Error::Worker {
            worker,
            cause: Box::new(other),
        },
    }
}
