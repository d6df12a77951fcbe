//! Writing run files and merging runs off the worker thread.
//!
//! Each [`super::MmapMaps`] that flushes gets two background threads (started on first use):
//!
//! - the **I/O thread** runs, in the order sent: writes of flushed runs (the bytes the worker
//!   built in memory: it keeps reading them from there until the file is written, see
//!   [`super::backing`]; fsynced before they are renamed into place), a checkpoint's hard
//!   links (then the fsync of the files new to checkpoints, then the reply that the ack waits
//!   for: [`RunsDurable`]) and the removal of
//!   runs a merge replaced. FIFO order is what makes this safe: a checkpoint's links come after
//!   the writes of the runs they name, and a run removed after a merge is removed only after
//!   every link to it queued before;
//! - the **merge thread** runs merges ([`MergeJob`]). A merge names the writes its sources
//!   wait for; it waits until the I/O thread finished them. The worker installs a finished
//!   merge itself (swapping its run list) when it next polls ([`Writer::poll`]).
//!
//! Nothing here deletes a file a checkpoint needs: checkpoints hold their own hard links, and
//! the working files of merged-away runs are removed only through the I/O thread's queue.
//! When a thread cannot be started, the job runs on the caller's thread instead.

use super::merge_job::MergeJob;
use super::run::{write_file, RunError};
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

/// A hard link a checkpoint needs: `src` (a working run) linked as `dst`; `sync` when the
/// file is new to checkpoints (fsynced before the reply).
#[derive(Debug)]
pub(crate) struct Link {
    /// The working run file.
    pub src: PathBuf,
    /// Its name in the checkpoint directory.
    pub dst: PathBuf,
    /// fsync `dst` before replying.
    pub sync: bool,
}

/// Work for the I/O thread.
enum IoJob {
    /// Write `bytes` as the run file `path` (temporary name, then renamed); ticket `seq`.
    Write {
        path: PathBuf,
        bytes: Arc<Vec<u8>>,
        seq: u64,
    },
    /// Link (or copy) and fsync, then reply on `done`.
    Link {
        links: Vec<Link>,
        done: Sender<Result<(), RunError>>,
    },
    /// Remove working run files (merged away).
    Remove(Vec<PathBuf>),
    /// Tests: block the I/O thread until the sender is dropped or sends.
    #[cfg(test)]
    Hold(Receiver<()>),
}

/// A merge and the write ticket its sources need.
struct MergeWork {
    job: MergeJob,
    after: u64,
}

/// What a background job reports to the worker.
pub(crate) enum Done {
    /// The run file `path` was written (or not).
    Written {
        /// The run file.
        path: PathBuf,
        /// Whether it was.
        result: Result<(), RunError>,
    },
    /// A merge of `sources` into `out` finished (or failed: nothing is left at `out`).
    Merged {
        /// The merged runs' files, oldest first.
        sources: Vec<PathBuf>,
        /// The merged run's file.
        out: PathBuf,
        /// Whether it was written.
        result: Result<(), RunError>,
    },
}

/// The wait of a checkpoint for its run files: linked into the checkpoint directory and
/// fsynced. The worker hands it to whoever acknowledges the checkpoint.
#[derive(Debug)]
pub struct RunsDurable(Option<Receiver<Result<(), RunError>>>);

impl RunsDurable {
    /// Nothing to wait for.
    pub fn ready() -> Self {
        RunsDurable(None)
    }

    /// Blocks until the checkpoint's run files are linked and durable.
    ///
    /// # Errors
    /// [`RunError`] when linking or syncing failed, or the state was dropped first.
    pub fn wait(self) -> Result<(), RunError> {
        let Some(rx) = self.0 else { return Ok(()) };
        rx.recv().unwrap_or_else(|_| {
            Err(RunError::Io {
                path: PathBuf::new(),
                source: std::io::Error::other("run writer stopped before linking"),
            })
        })
    }
}

/// Write tickets done so far, shared by the two threads.
#[derive(Default)]
struct Tickets {
    done: Mutex<u64>,
    cond: Condvar,
}

/// The worker's handle on the two threads; see the module docs.
#[derive(Default)]
pub(crate) struct Writer {
    io: Option<(Sender<IoJob>, JoinHandle<()>)>,
    merger: Option<(Sender<MergeWork>, JoinHandle<()>)>,
    done_tx: Option<Sender<Done>>,
    done_rx: Option<Receiver<Done>>,
    /// Reports of jobs run on the caller's thread (a thread could not be started).
    inline: VecDeque<Done>,
    tickets: Arc<Tickets>,
    cancel: Arc<AtomicBool>,
    /// Write tickets issued.
    seq: u64,
    /// Whether a merge is sent and not yet reported.
    merging: bool,
    /// Writes sent and not yet reported.
    writing: usize,
}

impl Writer {
    fn done_tx(&mut self) -> Sender<Done> {
        if let Some(tx) = &self.done_tx {
            return tx.clone();
        }
        let (tx, rx) = mpsc::channel();
        self.done_tx = Some(tx.clone());
        self.done_rx = Some(rx);
        tx
    }

    fn io(&mut self) -> Option<&Sender<IoJob>> {
        if self.io.is_none() {
            let (tx, rx) = mpsc::channel::<IoJob>();
            let (done, tickets, cancel) =
                (self.done_tx(), self.tickets.clone(), self.cancel.clone());
            let spawned = std::thread::Builder::new()
                .name("weir-run-io".into())
                .spawn(move || {
                    for job in rx {
                        io_job(job, &done, &tickets, &cancel);
                    }
                });
            match spawned {
                Ok(h) => self.io = Some((tx, h)),
                Err(e) => tracing::warn!("cannot start the run writer thread: {e}; writing inline"),
            }
        }
        self.io.as_ref().map(|(tx, _)| tx)
    }

    fn merger(&mut self) -> Option<&Sender<MergeWork>> {
        if self.merger.is_none() {
            let (tx, rx) = mpsc::channel::<MergeWork>();
            let (done, tickets, cancel) =
                (self.done_tx(), self.tickets.clone(), self.cancel.clone());
            let spawned = std::thread::Builder::new()
                .name("weir-run-merge".into())
                .spawn(move || {
                    for work in rx {
                        let _ = done.send(merge_work(work, &tickets, &cancel));
                    }
                });
            match spawned {
                Ok(h) => self.merger = Some((tx, h)),
                Err(e) => tracing::warn!("cannot start the run merge thread: {e}; merging inline"),
            }
        }
        self.merger.as_ref().map(|(tx, _)| tx)
    }

    /// Sends `job` to the I/O thread, or runs it here.
    fn send_io(&mut self, job: IoJob) {
        let job = match self.io() {
            Some(tx) => match tx.send(job) {
                Ok(()) => return,
                Err(mpsc::SendError(job)) => job,
            },
            None => job,
        };
        let tx = self.done_tx();
        io_job(job, &tx, &self.tickets, &self.cancel);
    }

    /// Writes the run file `path` from `bytes` in the background.
    pub(crate) fn write(&mut self, path: PathBuf, bytes: Arc<Vec<u8>>) {
        self.seq += 1;
        self.writing += 1;
        let seq = self.seq;
        self.send_io(IoJob::Write { path, bytes, seq });
    }

    /// Queues a checkpoint's links (after every write sent before); the returned wait ends
    /// when they are made and the new files fsynced.
    pub(crate) fn link(&mut self, links: Vec<Link>) -> RunsDurable {
        let (done, rx) = mpsc::channel();
        self.send_io(IoJob::Link { links, done });
        RunsDurable(Some(rx))
    }

    /// Removes working run files after every job sent before.
    pub(crate) fn remove(&mut self, paths: Vec<PathBuf>) {
        if !paths.is_empty() {
            self.send_io(IoJob::Remove(paths));
        }
    }

    /// Tests: stops the I/O thread after the jobs sent so far until the returned sender is
    /// dropped (jobs sent meanwhile wait: an in-flight write).
    #[cfg(test)]
    pub(crate) fn hold(&mut self) -> Sender<()> {
        let (tx, rx) = mpsc::channel();
        if let Some(io) = self.io() {
            let _ = io.send(IoJob::Hold(rx));
        }
        tx
    }

    /// Whether a merge is running.
    pub(crate) fn merging(&self) -> bool {
        self.merging
    }

    /// Starts `job` on the merge thread, once the writes sent so far are done.
    pub(crate) fn merge(&mut self, job: MergeJob) {
        self.merging = true;
        let work = MergeWork {
            job,
            after: self.seq,
        };
        let work = match self.merger() {
            Some(tx) => match tx.send(work) {
                Ok(()) => return,
                Err(mpsc::SendError(w)) => w,
            },
            None => work,
        };
        let done = merge_work(work, &self.tickets, &self.cancel);
        self.inline.push_back(done);
    }

    /// The reports of finished jobs; with `block`, waits for at least one when some job is
    /// outstanding.
    pub(crate) fn poll(&mut self, block: bool) -> Vec<Done> {
        let mut out: Vec<Done> = self.inline.drain(..).collect();
        if let Some(rx) = &self.done_rx {
            if block && out.is_empty() && (self.merging || self.writing > 0) {
                out.extend(rx.recv().ok());
            }
            out.extend(rx.try_iter());
        }
        for d in &out {
            match d {
                Done::Written { .. } => self.writing = self.writing.saturating_sub(1),
                Done::Merged { .. } => self.merging = false,
            }
        }
        out
    }

    /// Whether writes or a merge are outstanding.
    pub(crate) fn busy(&self) -> bool {
        self.merging || self.writing > 0
    }

    /// Stops both threads (a running merge is abandoned, queued writes are skipped, queued
    /// links and removals still run) and returns the reports not yet polled.
    pub(crate) fn shutdown(&mut self) -> Vec<Done> {
        self.cancel.store(true, Ordering::Relaxed);
        // Taking the lock orders this with a merge between its check and its wait.
        drop(self.tickets.done.lock());
        self.tickets.cond.notify_all();
        let handles: Vec<JoinHandle<()>> = [
            self.io.take().map(|(_, h)| h),
            self.merger.take().map(|(_, h)| h),
        ]
        .into_iter()
        .flatten()
        .collect();
        for h in handles {
            let _ = h.join();
        }
        self.done_tx = None;
        let mut out: Vec<Done> = self.inline.drain(..).collect();
        if let Some(rx) = self.done_rx.take() {
            out.extend(rx.try_iter());
        }
        out
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        let _ = self.shutdown();
    }
}

fn io_err(path: &Path, source: std::io::Error) -> RunError {
    RunError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Runs one I/O job (see the module docs).
fn io_job(job: IoJob, done: &Sender<Done>, tickets: &Tickets, cancel: &AtomicBool) {
    match job {
        IoJob::Write { path, bytes, seq } => {
            let result = if cancel.load(Ordering::Relaxed) {
                Err(io_err(&path, std::io::Error::other("state dropped")))
            } else {
                write_run_file(&path, &bytes)
            };
            drop(bytes);
            if let Ok(mut n) = tickets.done.lock() {
                *n = (*n).max(seq);
            }
            tickets.cond.notify_all();
            let _ = done.send(Done::Written { path, result });
        }
        IoJob::Link { links, done } => {
            let _ = done.send(make_links(&links));
        }
        IoJob::Remove(paths) => {
            for p in paths {
                let _ = std::fs::remove_file(p);
            }
        }
        #[cfg(test)]
        IoJob::Hold(rx) => {
            let _ = rx.recv();
        }
    }
}

/// Writes `bytes` under a temporary name, fsyncs it and renames it to `path` (a complete,
/// durable file or none: a checkpoint may link it any time later).
fn write_run_file(path: &Path, bytes: &[u8]) -> Result<(), RunError> {
    static WRITES: AtomicU64 = AtomicU64::new(0);
    let tmp = path.with_extension("tmp");
    let written =
        write_file(&tmp, bytes).and_then(|()| std::fs::File::open(&tmp).and_then(|f| f.sync_all()));
    let n = WRITES.fetch_add(1, Ordering::Relaxed) + 1;
    crate::runtime::crash_point::crash_point("run-write", n);
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(io_err(path, e));
    }
    std::fs::rename(&tmp, path).map_err(|e| io_err(path, e))
}

/// Makes a checkpoint's links (copies when a link is impossible), fsyncs the new files.
fn make_links(links: &[Link]) -> Result<(), RunError> {
    static LINKS: AtomicU64 = AtomicU64::new(0);
    let n = LINKS.fetch_add(1, Ordering::Relaxed) + 1;
    for (i, l) in links.iter().enumerate() {
        let copied = match std::fs::hard_link(&l.src, &l.dst) {
            Ok(()) => false,
            Err(_) => std::fs::copy(&l.src, &l.dst)
                .map(|_| true)
                .map_err(|e| io_err(&l.dst, e))?,
        };
        if l.sync || copied {
            std::fs::File::open(&l.dst)
                .and_then(|f| f.sync_all())
                .map_err(|e| io_err(&l.dst, e))?;
        }
        if i == 0 {
            crate::runtime::crash_point::crash_point("run-link", n);
        }
    }
    Ok(())
}

/// Waits for the writes a merge needs, then runs it.
fn merge_work(work: MergeWork, tickets: &Tickets, cancel: &AtomicBool) -> Done {
    let MergeWork { job, after } = work;
    let sources: Vec<PathBuf> = job.sources.iter().map(|(p, _, _)| p.clone()).collect();
    let out = job.out.clone();
    if let Ok(n) = tickets.done.lock() {
        drop(
            tickets
                .cond
                .wait_while(n, |n| *n < after && !cancel.load(Ordering::Relaxed)),
        );
    }
    let result = job.run(cancel).map(drop);
    Done::Merged {
        sources,
        out,
        result,
    }
}
