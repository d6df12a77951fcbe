//! The file sink: one file per worker (and per epoch under checkpoints), published by rename,
//! exactly-once under checkpoints.
//!
//! File names in the output directory (`w` = worker, 5 digits; `e` = epoch, 10 digits):
//!
//! | name                       | meaning                                              |
//! |----------------------------|------------------------------------------------------|
//! | `.part-w.inprogress`       | being written, no checkpoints                        |
//! | `part-w`                   | published at the end of a run without checkpoints    |
//! | `.part-w-e.inprogress`     | records of epoch `e`, being written                  |
//! | `.part-w-e.pending`        | epoch `e` durable, waiting for checkpoint `e`        |
//! | `part-w-e`                 | published: checkpoint `e` is committed               |
//!
//! `cat DIR/part-*` is the complete output. Epoch `e` holds the records written between
//! barriers `e - 1` and `e`.

use super::{Encoder, Sink, SinkPartition, SinkStats};
use crate::error::Error;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Output is written to the file when the buffer holds this many bytes.
pub(crate) const FLUSH_BYTES: usize = 256 * 1024;

/// A file of the output directory, by its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PartName {
    /// `part-w` or `part-w-e`.
    Published { worker: usize, epoch: Option<u64> },
    /// `.part-w.inprogress` or `.part-w-e.inprogress`.
    InProgress,
    /// `.part-w-e.pending`.
    Pending { worker: usize, epoch: u64 },
}

impl PartName {
    /// The part file a name denotes, or `None` when weir does not write files of that name.
    pub(crate) fn parse(name: &str) -> Option<PartName> {
        if let Some(rest) = name.strip_prefix("part-") {
            let (worker, epoch) = worker_epoch(rest)?;
            return Some(PartName::Published { worker, epoch });
        }
        let rest = name.strip_prefix(".part-")?;
        if let Some(rest) = rest.strip_suffix(".inprogress") {
            worker_epoch(rest)?;
            return Some(PartName::InProgress);
        }
        let (worker, epoch) = worker_epoch(rest.strip_suffix(".pending")?)?;
        Some(PartName::Pending {
            worker,
            epoch: epoch?,
        })
    }

    /// The epoch of a published or pending file (`None` for `part-w` and in-progress files).
    pub(crate) fn epoch(&self) -> Option<u64> {
        match *self {
            PartName::Published { epoch, .. } => epoch,
            PartName::Pending { epoch, .. } => Some(epoch),
            PartName::InProgress => None,
        }
    }
}

/// Parses `w` or `w-e` (digits only).
fn worker_epoch(s: &str) -> Option<(usize, Option<u64>)> {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    match s.split_once('-') {
        None if digits(s) => Some((s.parse().ok()?, None)),
        Some((w, e)) if digits(w) && digits(e) => Some((w.parse().ok()?, Some(e.parse().ok()?))),
        _ => None,
    }
}

fn published(worker: usize, epoch: Option<u64>) -> String {
    match epoch {
        Some(e) => format!("part-{worker:05}-{e:010}"),
        None => format!("part-{worker:05}"),
    }
}

fn in_progress(worker: usize, epoch: Option<u64>) -> String {
    match epoch {
        Some(e) => format!(".part-{worker:05}-{e:010}.inprogress"),
        None => format!(".part-{worker:05}.inprogress"),
    }
}

fn pending(worker: usize, epoch: u64) -> String {
    format!(".part-{worker:05}-{epoch:010}.pending")
}

/// Fsyncs a directory, making renames and creations in it durable.
fn sync_dir(dir: &Path) -> crate::Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io(dir, e))
}

fn rename(dir: &Path, from: &str, to: &str) -> crate::Result<()> {
    std::fs::rename(dir.join(from), dir.join(to)).map_err(|e| Error::io(dir.join(from), e))
}

fn remove(dir: &Path, name: &str) -> crate::Result<()> {
    std::fs::remove_file(dir.join(name)).map_err(|e| Error::io(dir.join(name), e))
}

/// The file names in `dir` (none when it does not exist).
fn names(dir: &Path) -> crate::Result<Vec<String>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(dir, e)),
    };
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        names.push(entry.file_name().to_string_lossy().into_owned());
    }
    Ok(names)
}

/// Writes encoded records into files of one directory (see the module doc for the names).
pub struct FileSink<T> {
    dir: PathBuf,
    encoder: Arc<dyn Encoder<T>>,
    /// The first epoch of partitions opened from now on: 1, or `k + 1` after `recover(Some(k))`.
    first_epoch: AtomicU64,
}

impl<T> FileSink<T> {
    /// A sink writing into the directory `dir` (created by [`Sink::check`] or
    /// [`Sink::open_partition`]).
    pub fn new(dir: impl Into<PathBuf>, encoder: Arc<dyn Encoder<T>>) -> Self {
        FileSink {
            dir: dir.into(),
            encoder,
            first_epoch: AtomicU64::new(1),
        }
    }

    /// The output directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Publishes pending epochs `≤ epoch`; with `clean`, also deletes in-progress files,
    /// pending epochs above `epoch` and published epochs above `epoch`.
    fn publish(&self, epoch: u64, clean: bool) -> crate::Result<()> {
        let mut changed = false;
        for name in names(&self.dir)? {
            match PartName::parse(&name) {
                Some(PartName::Pending { worker, epoch: e }) if e <= epoch => {
                    rename(&self.dir, &name, &published(worker, Some(e)))?;
                }
                Some(PartName::Pending { .. } | PartName::InProgress) if clean => {
                    remove(&self.dir, &name)?
                }
                Some(PartName::Published { epoch: Some(e), .. }) if clean && e > epoch => {
                    remove(&self.dir, &name)?
                }
                _ => continue,
            }
            changed = true;
        }
        if changed {
            sync_dir(&self.dir)?;
        }
        Ok(())
    }
}

impl<T: 'static> Sink<T> for FileSink<T> {
    fn check(&self) -> crate::Result<()> {
        std::fs::create_dir_all(&self.dir).map_err(|e| Error::io(&self.dir, e))?;
        let probe = self.dir.join(format!(".weir-probe-{}", std::process::id()));
        File::create(&probe).map_err(|e| Error::io(&self.dir, e))?;
        std::fs::remove_file(&probe).map_err(|e| Error::io(&probe, e))
    }

    /// Opens worker `worker`'s partition. A transactional partition starts at epoch 1, or
    /// at `k + 1` when [`Sink::recover`] was called with `Some(k)` before.
    fn open_partition(
        &self,
        worker: usize,
        _workers: usize,
        transactional: bool,
    ) -> crate::Result<Box<dyn SinkPartition<T>>> {
        std::fs::create_dir_all(&self.dir).map_err(|e| Error::io(&self.dir, e))?;
        Ok(Box::new(FilePartition {
            dir: self.dir.clone(),
            worker,
            encoder: Arc::clone(&self.encoder),
            epoch: transactional.then(|| self.first_epoch.load(Ordering::Relaxed)),
            file: None,
            buf: Vec::with_capacity(FLUSH_BYTES + FLUSH_BYTES / 4),
            stats: SinkStats::default(),
        }))
    }

    fn commit(&self, epoch: u64) -> crate::Result<()> {
        self.publish(epoch, false)
    }

    /// `Some(k)`: publishes pending epochs `≤ k` and deletes in-progress files and epochs
    /// `> k` (pending, or published by a run that went further than the restored checkpoint:
    /// the replay writes them again). `None` (fresh start): deletes every file whose name
    /// parses as a part file (`PartName::parse`), so that the output is exactly this run's
    /// (the CLI decides this in its pre-flight instead, see [`crate::safety`]).
    fn recover(&self, epoch: Option<u64>) -> crate::Result<()> {
        std::fs::create_dir_all(&self.dir).map_err(|e| Error::io(&self.dir, e))?;
        match epoch {
            Some(k) => {
                self.publish(k, true)?;
                self.first_epoch
                    .store(k.saturating_add(1), Ordering::Relaxed);
            }
            None => {
                for name in names(&self.dir)? {
                    if PartName::parse(&name).is_some() {
                        remove(&self.dir, &name)?;
                    }
                }
                sync_dir(&self.dir)?;
                self.first_epoch.store(1, Ordering::Relaxed);
            }
        }
        Ok(())
    }

    fn exactly_once(&self) -> bool {
        true
    }
}

/// One worker's output file(s).
struct FilePartition<T> {
    dir: PathBuf,
    worker: usize,
    encoder: Arc<dyn Encoder<T>>,
    /// The current epoch when transactional, `None` otherwise.
    epoch: Option<u64>,
    /// The open in-progress file and its name; created on the first write (of the epoch).
    file: Option<(File, String)>,
    /// Encoded records not yet written to `file`.
    buf: Vec<u8>,
    stats: SinkStats,
}

impl<T> FilePartition<T> {
    /// Writes the buffer to the file.
    fn write_out(&mut self) -> crate::Result<()> {
        if let Some((file, name)) = &mut self.file {
            file.write_all(&self.buf)
                .map_err(|e| Error::io(self.dir.join(&*name), e))?;
        }
        self.buf.clear();
        Ok(())
    }

    /// Writes out, fsyncs and closes the file; returns its name (if one was open).
    fn close(&mut self) -> crate::Result<Option<String>> {
        self.write_out()?;
        let Some((file, name)) = self.file.take() else {
            return Ok(None);
        };
        file.sync_all()
            .map_err(|e| Error::io(self.dir.join(&name), e))?;
        Ok(Some(name))
    }
}

impl<T> SinkPartition<T> for FilePartition<T> {
    fn write_batch(&mut self, batch: &[T]) -> crate::Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        if self.file.is_none() {
            let name = in_progress(self.worker, self.epoch);
            let path = self.dir.join(&name);
            let file = File::create(&path).map_err(|e| Error::io(&path, e))?;
            self.file = Some((file, name));
            if let Some(header) = self.encoder.header() {
                self.buf.extend_from_slice(&header);
            }
        }
        super::encode_batch(self.encoder.as_ref(), batch, &mut self.buf, &mut self.stats);
        if self.buf.len() >= FLUSH_BYTES {
            self.write_out()?;
        }
        Ok(())
    }

    /// Makes the current epoch's file durable as `.part-w-{epoch}.pending` (nothing when the
    /// epoch wrote nothing); the next records belong to epoch `epoch + 1`. Without
    /// checkpoints it only writes the buffer out.
    fn pre_commit(&mut self, epoch: u64) -> crate::Result<()> {
        if self.epoch.is_none() {
            return self.write_out();
        }
        if let Some(name) = self.close()? {
            rename(&self.dir, &name, &pending(self.worker, epoch))?;
            sync_dir(&self.dir)?;
        }
        self.epoch = Some(epoch + 1);
        Ok(())
    }

    /// Without checkpoints: writes out, fsyncs and publishes `part-w`. With checkpoints: makes
    /// the in-progress file durable, but publishing waits for a checkpoint (a `pre_commit`
    /// after `finish` still works).
    fn finish(&mut self) -> crate::Result<SinkStats> {
        match self.epoch {
            None => {
                if let Some(name) = self.close()? {
                    rename(&self.dir, &name, &published(self.worker, None))?;
                    sync_dir(&self.dir)?;
                }
            }
            Some(_) => {
                self.write_out()?;
                if let Some((file, name)) = &self.file {
                    file.sync_all()
                        .map_err(|e| Error::io(self.dir.join(name), e))?;
                }
            }
        }
        Ok(self.stats)
    }
}

#[cfg(test)]
#[path = "file_tests.rs"]
mod tests;
