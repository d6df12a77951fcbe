//! A split's side of the spool: which logs it replays on restore, its live log, the positions
//! it reports, and deleting what no retained checkpoint needs.
//!
//! Every run appends to logs of a new *generation* (`g000007-w0`, …), one per worker, so a log
//! is written by one run only and is closed afterwards. On restore each resumed range replays
//! its log from the recorded offset to the log's end; a log that the restored checkpoint does
//! not mention at all was created after it (by a run that then crashed) and is replayed from
//! its start — by the split `index % workers` in the sorted list of such logs. Which logs are
//! mentioned is known only once every split was opened, so a split plans its replays on its
//! first poll after that.
//!
//! A position stays reported (at its end once read) as long as its log exists, so a later
//! restore never mistakes a consumed log for an unmentioned one. Segments are deleted once every
//! retained complete checkpoint and the split itself are past them; a closed log is deleted
//! whole once all of them are at its end.

use super::spool::{self, LogReader, SpoolLog};
use crate::error::Error;
use crate::source::lines::{LineReader, Step};
use crate::source::RangePosition;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Prefix of a spool log's resource name in positions.
pub(crate) const RESOURCE_PREFIX: &str = "spool:";

/// What all splits of one run share (held by the source).
#[derive(Default)]
pub(crate) struct SpoolShared {
    state: Mutex<SharedState>,
}

#[derive(Default)]
struct SharedState {
    initialized: bool,
    generation: u64,
    /// Length of every log present at start (all closed: nobody appends to them any more).
    ends: BTreeMap<String, u64>,
    /// Logs mentioned by any split's resume ranges.
    mentioned: BTreeSet<String>,
    opened: usize,
}

impl SpoolShared {
    /// Registers the opening of a split: on the first, clears the spool (fresh start, `resume`
    /// is `None`) or records the logs present; returns the generation of this run.
    ///
    /// # Errors
    /// I/O errors reading or clearing the spool.
    pub(crate) fn open(&self, root: &Path, resume: Option<&[RangePosition]>) -> crate::Result<u64> {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if !st.initialized {
            if resume.is_none() {
                spool::clear(root).map_err(|e| Error::io(root, e))?;
            }
            let logs = spool::logs(root).map_err(|e| Error::io(root, e))?;
            for name in logs {
                let dir = root.join(&name);
                let segs = spool::segments(&dir).map_err(|e| Error::io(&dir, e))?;
                let end = match segs.last() {
                    Some((start, path)) => {
                        start
                            + std::fs::metadata(path)
                                .map_err(|e| Error::io(path, e))?
                                .len()
                    }
                    None => 0,
                };
                st.generation = st.generation.max(spool::generation_of(&name).unwrap_or(0));
                st.ends.insert(name, end);
            }
            st.generation += 1;
            st.initialized = true;
        }
        for r in resume.unwrap_or_default() {
            if let Some(name) = r.resource.strip_prefix(RESOURCE_PREFIX) {
                st.mentioned.insert(name.to_string());
            }
        }
        st.opened += 1;
        Ok(st.generation)
    }

    /// Once all `workers` splits are open: the logs to replay from their start that fall to
    /// `worker`, with their lengths; `None` while some split is not open yet.
    fn unmentioned(&self, worker: usize, workers: usize) -> Option<Vec<(String, u64)>> {
        let st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if st.opened < workers {
            return None;
        }
        let orphans = st.ends.iter().filter(|(n, _)| !st.mentioned.contains(*n));
        Some(
            orphans
                .enumerate()
                .filter(|(i, _)| i % workers == worker)
                .map(|(_, (n, e))| (n.clone(), *e))
                .collect(),
        )
    }

    /// The length a log had at start (`None`: it did not exist).
    fn end_of(&self, name: &str) -> Option<u64> {
        let st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        st.ends.get(name).copied()
    }
}

/// One closed log this split replays (or replayed).
struct Replay {
    name: String,
    next: u64,
    line: u64,
    end: u64,
    reader: Option<LineReader<LogReader>>,
    /// Deleted whole (every retained checkpoint was at its end).
    deleted: bool,
}

/// A split's spool.
pub(crate) struct SplitSpool {
    root: PathBuf,
    worker: usize,
    workers: usize,
    live: SpoolLog,
    live_name: String,
    /// Offset after the last live entry handed out, and the entries before it.
    live_next: u64,
    live_line: u64,
    /// Resumed ranges not planned yet (first poll).
    resume: Option<Vec<RangePosition>>,
    replays: Vec<Replay>,
    /// Index of the replay being read (`replays.len()` when live).
    current: usize,
    max_entry: usize,
}

impl SplitSpool {
    /// Opens the split's live log of `generation` and keeps `resume` for planning.
    ///
    /// # Errors
    /// I/O errors creating the log.
    pub(crate) fn open(
        root: &Path,
        generation: u64,
        worker: usize,
        workers: usize,
        resume: Option<Vec<RangePosition>>,
        segment_bytes: u64,
        max_line: usize,
    ) -> crate::Result<SplitSpool> {
        let live_name = spool::log_name(generation, worker);
        let dir = root.join(&live_name);
        let live = SpoolLog::open(&dir, segment_bytes).map_err(|e| Error::io(&dir, e))?;
        Ok(SplitSpool {
            root: root.to_path_buf(),
            worker,
            workers,
            live_next: live.end(),
            live,
            live_name,
            live_line: 0,
            resume: Some(resume.unwrap_or_default()),
            replays: Vec::new(),
            current: 0,
            max_entry: max_line + super::frame::PREFIX_BYTES + 8,
        })
    }

    /// Plans the replays once every split is open; false while waiting for that.
    ///
    /// # Errors
    /// A mentioned log whose unread part was deleted.
    pub(crate) fn plan(&mut self, shared: &SpoolShared) -> crate::Result<bool> {
        let Some(resume) = self.resume.as_ref() else {
            return Ok(true);
        };
        let Some(orphans) = shared.unmentioned(self.worker, self.workers) else {
            return Ok(false);
        };
        let mut replays = Vec::new();
        for r in resume {
            let Some(name) = r.resource.strip_prefix(RESOURCE_PREFIX) else {
                continue;
            };
            let end = shared.end_of(name).unwrap_or(r.next).min(r.end);
            replays.push((name.to_string(), r.next.min(end), r.line, end));
        }
        replays.extend(orphans.into_iter().map(|(n, end)| (n, 0, 0, end)));
        for (name, next, line, end) in replays {
            let dir = self.root.join(&name);
            let reader = if next < end {
                let log = LogReader::open(&dir, next, end).map_err(|e| Error::Checkpoint {
                    path: dir.clone(),
                    reason: format!("spool log needed for the replay: {e}"),
                })?;
                Some(LineReader::new(log, next, line, end, self.max_entry))
            } else {
                None
            };
            tracing::info!(log = %name, from = next, to = end, "spool: replaying");
            self.replays.push(Replay {
                name,
                next,
                line,
                end,
                reader,
                deleted: false,
            });
        }
        self.resume = None;
        Ok(true)
    }

    /// Hands the next replayed entry to `f` (with its 1-based line number in its log); false
    /// once every replay is read.
    ///
    /// # Errors
    /// I/O errors reading the log, or `f`'s error.
    pub(crate) fn next_replayed(
        &mut self,
        f: &mut dyn FnMut(&[u8], u64) -> crate::Result<()>,
    ) -> crate::Result<bool> {
        while let Some(r) = self.replays.get_mut(self.current) {
            if let Some(reader) = &mut r.reader {
                let dir = self.root.join(&r.name);
                match reader.next_line(true).map_err(|e| Error::io(&dir, e))? {
                    Step::Line(line) => {
                        let (bytes, number) = (line.bytes, line.number);
                        f(bytes, number)?;
                        r.next = reader.offset();
                        r.line = reader.lines();
                        return Ok(true);
                    }
                    Step::NeedRead | Step::End => {
                        r.next = r.end;
                        r.reader = None;
                    }
                }
            }
            self.current += 1;
        }
        Ok(false)
    }

    /// Appends received entries to the live log; returns their start offset.
    ///
    /// # Errors
    /// I/O errors writing the log.
    pub(crate) fn append(&mut self, entries: &[u8]) -> crate::Result<u64> {
        let dir = &self.root;
        self.live.append(entries).map_err(|e| Error::io(dir, e))
    }

    /// Records that the live entries up to `offset` were handed out (one more entry).
    pub(crate) fn consumed_live(&mut self, offset: u64) {
        self.live_next = offset;
        self.live_line += 1;
    }

    /// The line number of the next live entry.
    pub(crate) fn live_line(&self) -> u64 {
        self.live_line + 1
    }

    /// The checkpoint directory the spool lives in (its parent).
    pub(crate) fn checkpoint_dir(&self) -> PathBuf {
        self.root
            .parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
    }

    /// Makes the live log durable and returns every position of this split.
    pub(crate) fn sync_and_position(&self) -> Vec<RangePosition> {
        if let Err(e) = self.live.sync() {
            // The checkpoint then covers entries that may not survive a power loss; a crash
            // of the process alone loses nothing (they are in the page cache).
            tracing::error!(error = %e, log = %self.live_name, "spool: fsync failed");
        }
        let mut out: Vec<RangePosition> = self
            .replays
            .iter()
            .filter(|r| !r.deleted)
            .map(|r| RangePosition {
                resource: format!("{RESOURCE_PREFIX}{}", r.name),
                next: r.next,
                end: r.end,
                line: r.line,
                source: String::new(),
                max_event_time: None,
            })
            .collect();
        out.push(RangePosition {
            resource: format!("{RESOURCE_PREFIX}{}", self.live_name),
            next: self.live_next,
            end: u64::MAX,
            line: self.live_line,
            source: String::new(),
            max_event_time: None,
        });
        out
    }

    /// Deletes the segments (and closed logs) that neither this split nor any retained
    /// complete checkpoint in `checkpoint_dir` needs.
    ///
    /// # Errors
    /// I/O errors listing checkpoints or deleting files.
    pub(crate) fn clean(&mut self, checkpoint_dir: &Path) -> crate::Result<()> {
        let complete: Vec<_> = crate::checkpoint::list(checkpoint_dir)?
            .into_iter()
            .filter(|c| c.complete)
            .collect();
        if complete.is_empty() {
            return Ok(());
        }
        let needed = |name: &str, own: u64| {
            let resource = format!("{RESOURCE_PREFIX}{name}");
            complete.iter().fold(own, |acc, c| {
                let at = c.sources.iter().flatten().find(|r| r.resource == resource);
                // A checkpoint that does not mention the log would replay all of it.
                acc.min(at.map_or(0, |r| r.next))
            })
        };
        let keep = needed(&self.live_name, self.live_next);
        tracing::debug!(log = %self.live_name, keep, checkpoints = complete.len(), "spool: cleaning");
        self.live
            .delete_below(keep)
            .map_err(|e| Error::io(&self.root, e))?;
        for r in self.replays.iter_mut().filter(|r| !r.deleted) {
            let keep = needed(&r.name, r.next);
            let dir = self.root.join(&r.name);
            if keep >= r.end && r.reader.is_none() {
                remove_log(&dir).map_err(|e| Error::io(&dir, e))?;
                r.deleted = true;
            } else {
                delete_closed_below(&dir, keep).map_err(|e| Error::io(&dir, e))?;
            }
        }
        Ok(())
    }
}

/// Deletes the segments of a closed log that end at or before `offset`.
fn delete_closed_below(dir: &Path, offset: u64) -> std::io::Result<()> {
    let segs = spool::segments(dir)?;
    for pair in segs.windows(2) {
        if pair[1].0 <= offset {
            std::fs::remove_file(&pair[0].1)?;
        }
    }
    Ok(())
}

/// Deletes a whole closed log: its segments, then its directory.
fn remove_log(dir: &Path) -> std::io::Result<()> {
    for (_, path) in spool::segments(dir)? {
        std::fs::remove_file(path)?;
    }
    let _ = std::fs::remove_dir(dir);
    Ok(())
}
