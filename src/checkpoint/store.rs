//! The checkpoint directory: lock, state-file writes, MANIFEST commit, retention, cleanup.

use super::format::{encode_manifest, segment_header, segment_padding, StateHeader, HEADER_LEN};
use super::restore::{self, Restored};
use super::segments::{Plan, DEFAULT_SEGMENT_BYTES};
use super::verify::accept_all;
use super::{checkpoint_dir_name, mmap, parse_checkpoint_dir_name, state_file_name};
use super::{FileEntry, Manifest, SectionChecks, WorkerSnapshot, FORMAT_VERSION};
use crate::{Error, Result};
use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Name of the lock file inside the checkpoint directory.
const LOCK_FILE: &str = "LOCK";
/// How often [`CheckpointStore::open`] tries the lock (10 ms apart) before giving up.
const LOCK_ATTEMPTS: u32 = 20;
/// Name of a committed manifest.
pub(crate) const MANIFEST: &str = "MANIFEST";
/// Name of the manifest while it is written.
const MANIFEST_TMP: &str = "MANIFEST.tmp";
/// "No write budget": failure injection is off.
const UNLIMITED: u64 = u64::MAX;

/// A directory of checkpoints, opened by at most one weir process at a time.
///
/// `Sync`: workers call [`CheckpointStore::write_worker_state`] concurrently.
pub struct CheckpointStore {
    /// The checkpoint directory.
    dir: PathBuf,
    /// `DIR/LOCK`, exclusively flock'ed for the life of the store (released on drop).
    _lock: File,
    /// Bytes that may still be written before writes fail as on a full disk;
    /// [`UNLIMITED`] when failure injection is off.
    write_budget: AtomicU64,
    /// Estimated archive bytes per segment of a state file ([`super::segments`]).
    segment_limit: AtomicU64,
}

impl CheckpointStore {
    /// Opens (creating) the checkpoint directory and takes its advisory exclusive lock.
    ///
    /// # Errors
    /// [`Error::Io`] when the directory or lock file cannot be created;
    /// [`Error::Checkpoint`] "locked by another weir process" when another store holds it.
    pub fn open(dir: &Path) -> Result<Self> {
        fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let lock_path = dir.join(LOCK_FILE);
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| Error::io(&lock_path, e))?;
        // `File::try_lock` (flock LOCK_EX|LOCK_NB on Unix) is stable since Rust 1.89, newer than
        // the crate's declared rust-version 1.80; the toolchain here is 1.95.
        // A lock released a moment ago may still be held by a child process that another
        // thread of this process forked and has not exec'd yet (the descriptor is shared until
        // exec closes it): retry briefly before calling the directory locked.
        let mut attempts = 0;
        loop {
            #[allow(clippy::incompatible_msrv)]
            match lock.try_lock() {
                Ok(()) => break,
                Err(TryLockError::WouldBlock) if attempts < LOCK_ATTEMPTS => {
                    attempts += 1;
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                Err(TryLockError::WouldBlock) => {
                    return Err(Error::Checkpoint {
                        path: dir.to_path_buf(),
                        reason: "locked by another weir process".into(),
                    })
                }
                Err(TryLockError::Error(e)) => return Err(Error::io(&lock_path, e)),
            }
        }
        Ok(CheckpointStore {
            dir: dir.to_path_buf(),
            _lock: lock,
            write_budget: AtomicU64::new(UNLIMITED),
            segment_limit: AtomicU64::new(DEFAULT_SEGMENT_BYTES),
        })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The directory of checkpoint `id` (which may not exist).
    pub fn checkpoint_path(&self, id: u64) -> PathBuf {
        self.dir.join(checkpoint_dir_name(id))
    }

    /// Failure injection for tests: after `bytes` more bytes of state files and manifests,
    /// every write fails like on a full disk (`ErrorKind::StorageFull`); `None` turns it off.
    pub fn set_fail_writes_after(&self, bytes: Option<u64>) {
        self.write_budget
            .store(bytes.unwrap_or(UNLIMITED), Ordering::SeqCst);
    }

    /// Sets the estimated archive bytes per segment of the state files written from now on
    /// (default 1 GiB; tests use tiny limits to exercise the splitting).
    pub fn set_segment_limit(&self, bytes: u64) {
        self.segment_limit.store(bytes, Ordering::SeqCst);
    }

    /// Takes `len` bytes from the write budget, or fails as a full disk would.
    fn charge(&self, len: u64) -> io::Result<()> {
        let taken = self
            .write_budget
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                if left == UNLIMITED {
                    Some(left)
                } else {
                    Some(left.saturating_sub(len))
                }
            });
        match taken {
            Ok(left) if left == UNLIMITED || left >= len => Ok(()),
            // `StorageFull` is stable since Rust 1.83 (see `open` on the MSRV).
            #[allow(clippy::incompatible_msrv)]
            _ => Err(io::Error::new(
                io::ErrorKind::StorageFull,
                "no space left on device (injected write failure)",
            )),
        }
    }

    /// Writes worker `snapshot.worker`'s state file of checkpoint `id` (creating the
    /// checkpoint directory) and makes it durable: per segment (pieces of
    /// at most about 1 GiB, so that every rkyv archive stays within its 32-bit offsets)
    /// serialize, preallocate, map, copy, msync; then the header, fsync. Safe to call
    /// concurrently for different workers.
    ///
    /// # Errors
    /// [`Error::Checkpoint`] when the snapshot's groups are not strictly ascending inside its
    /// `key_groups`, the checkpoint is already committed, or the archive cannot be built;
    /// [`Error::Io`] on write failures (a full disk: `StorageFull`).
    pub fn write_worker_state(&self, id: u64, snapshot: &WorkerSnapshot) -> Result<FileEntry> {
        let chk = self.checkpoint_path(id);
        let name = state_file_name(snapshot.worker);
        let path = chk.join(&name);
        let bad = |reason: String| Error::Checkpoint {
            path: path.clone(),
            reason,
        };
        check_snapshot(snapshot).map_err(bad)?;
        if chk.join(MANIFEST).exists() {
            return Err(bad(format!("checkpoint {id} is already committed")));
        }
        let plan = Plan::new(snapshot, self.segment_limit.load(Ordering::Relaxed));
        let segments = u32::try_from(plan.len())
            .map_err(|_| bad(format!("{} segments is too many", plan.len())))?;

        fs::create_dir_all(&chk).map_err(|e| Error::io(&chk, e))?;
        let io_err = |e| Error::io(&path, e);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .map_err(io_err)?;
        let mut checksum = crc32fast::Hasher::new();
        // The header goes in last (it holds the body length); its bytes are checksummed then.
        let mut len = HEADER_LEN as u64;
        for i in 0..plan.len() {
            // One segment's archive in memory at a time; a single segment is the snapshot.
            let archive = if plan.len() == 1 {
                rkyv::to_bytes::<rkyv::rancor::Error>(snapshot)
            } else {
                rkyv::to_bytes::<rkyv::rancor::Error>(&plan.segment(snapshot, i))
            }
            .map_err(|e| bad(format!("cannot archive segment {i}: {e}")))?;
            let head = segment_header(archive.len());
            let pad = [0u8; 16];
            let pad = &pad[..segment_padding(archive.len())];
            let parts: [&[u8]; 3] = [&head, &archive, pad];
            len = self.append(&file, len, &parts).map_err(io_err)?;
            for part in parts {
                checksum.update(part);
            }
        }
        let header = StateHeader {
            version: FORMAT_VERSION,
            body_len: len - HEADER_LEN as u64,
            segments,
        }
        .encode();
        let mut map = mmap::map_for_write(&file).map_err(io_err)?;
        map[..HEADER_LEN].copy_from_slice(&header);
        map.flush_range(0, HEADER_LEN).map_err(io_err)?;
        drop(map);
        file.sync_all().map_err(io_err)?;

        let mut whole = crc32fast::Hasher::new();
        whole.update(&header);
        whole.combine(&checksum);
        Ok(FileEntry {
            name,
            len,
            checksum: whole.finalize(),
            key_groups: snapshot.key_groups.clone(),
        })
    }

    /// Grows `file` from `len` bytes by the `parts` (preallocating the blocks first, so that a
    /// full disk is an error rather than a SIGBUS), writes them through a map and msyncs
    /// them. Returns the new length.
    fn append(&self, file: &File, len: u64, parts: &[&[u8]]) -> io::Result<u64> {
        let added: usize = parts.iter().map(|p| p.len()).sum();
        let new_len = len + added as u64;
        self.charge(added as u64)?;
        mmap::preallocate(file, new_len)?;
        let mut map = mmap::map_for_write(file)?;
        let mut at = usize::try_from(len)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "file too large"))?;
        let from = at;
        for part in parts {
            map[at..at + part.len()].copy_from_slice(part);
            at += part.len();
        }
        map.flush_range(from, added)?;
        Ok(new_len)
    }

    /// Commits checkpoint `manifest.id`: checks that the listed files are there with their
    /// lengths, writes `MANIFEST.tmp`, fsyncs it, renames it to `MANIFEST` and fsyncs the
    /// checkpoint directory and `DIR`. Returns the checkpoint's directory. The manifest is
    /// written as given: build it with [`Manifest::new`] (current format version).
    ///
    /// # Errors
    /// [`Error::Checkpoint`] when the checkpoint is already committed or a listed file is
    /// missing or has another length; [`Error::Io`] on write failures.
    pub fn commit(&self, manifest: &Manifest) -> Result<PathBuf> {
        let chk = self.checkpoint_path(manifest.id);
        let final_path = chk.join(MANIFEST);
        if final_path.exists() {
            return Err(Error::Checkpoint {
                path: final_path,
                reason: format!("checkpoint {} is already committed", manifest.id),
            });
        }
        for entry in &manifest.files {
            let path = chk.join(&entry.name);
            let len = fs::metadata(&path)
                .map(|m| m.len())
                .map_err(|e| Error::Checkpoint {
                    path: path.clone(),
                    reason: format!("listed state file is not there: {e}"),
                })?;
            if len != entry.len {
                return Err(Error::Checkpoint {
                    path,
                    reason: format!("{len} bytes, the manifest lists {}", entry.len),
                });
            }
        }
        let bytes = encode_manifest(manifest).map_err(|reason| Error::Checkpoint {
            path: final_path.clone(),
            reason,
        })?;
        let tmp = chk.join(MANIFEST_TMP);
        let write_tmp = || -> io::Result<()> {
            let mut file = File::create(&tmp)?;
            self.charge(bytes.len() as u64)?;
            file.write_all(&bytes)?;
            file.sync_all()
        };
        write_tmp().map_err(|e| Error::io(&tmp, e))?;
        fs::rename(&tmp, &final_path).map_err(|e| Error::io(&final_path, e))?;
        sync_dir(&chk)?;
        sync_dir(&self.dir)?;
        Ok(chk)
    }

    /// Deletes all but the newest `keep` complete checkpoints (`keep == 0` deletes all), and
    /// incomplete ones older than the newest complete one (abandoned attempts). Each is
    /// made incomplete first (MANIFEST removed), so a crash midway leaves no half checkpoint.
    /// Returns the deleted ids, ascending.
    ///
    /// # Errors
    /// [`Error::Io`] when the directory cannot be read or a checkpoint cannot be deleted.
    pub fn retain(&self, keep: usize) -> Result<Vec<u64>> {
        let all = scan(&self.dir)?;
        let complete: Vec<u64> = all
            .iter()
            .filter(|(_, p)| p.join(MANIFEST).exists())
            .map(|(id, _)| *id)
            .collect();
        let Some(&newest) = complete.last() else {
            return Ok(Vec::new());
        };
        let doomed = &complete[..complete.len().saturating_sub(keep)];
        let mut deleted = Vec::new();
        for (id, path) in all {
            let is_complete = complete.binary_search(&id).is_ok();
            let drop_it = if is_complete {
                doomed.binary_search(&id).is_ok()
            } else {
                id < newest
            };
            if drop_it && remove_checkpoint(&path)? {
                deleted.push(id);
            }
        }
        if !deleted.is_empty() {
            sync_dir(&self.dir)?;
        }
        Ok(deleted)
    }

    /// Deletes every checkpoint newer than `id` (all of them for `id == 0`), MANIFEST first.
    /// A run that restores checkpoint `id` (or starts fresh) discards the sink output of later
    /// epochs, so later checkpoints no longer describe any output and must never be restored.
    /// Returns the deleted ids, ascending.
    ///
    /// # Errors
    /// [`Error::Io`] when the directory cannot be read or a checkpoint cannot be deleted.
    pub fn discard_after(&self, id: u64) -> Result<Vec<u64>> {
        let mut deleted = Vec::new();
        for (other, path) in scan(&self.dir)? {
            if other > id && remove_checkpoint(&path)? {
                deleted.push(other);
            }
        }
        if !deleted.is_empty() {
            sync_dir(&self.dir)?;
        }
        Ok(deleted)
    }

    /// Deletes every checkpoint older than `id`, MANIFEST first: they belong to a lineage that
    /// a newer one replaced. Returns the deleted ids, ascending.
    ///
    /// # Errors
    /// [`Error::Io`] when the directory cannot be read or a checkpoint cannot be deleted.
    pub fn discard_before(&self, id: u64) -> Result<Vec<u64>> {
        let mut deleted = Vec::new();
        for (other, path) in scan(&self.dir)? {
            if other < id && remove_checkpoint(&path)? {
                deleted.push(other);
            }
        }
        if !deleted.is_empty() {
            sync_dir(&self.dir)?;
        }
        Ok(deleted)
    }

    /// Removes checkpoint directories without MANIFEST and leftover `MANIFEST.tmp` files
    /// (weir's own names only: a directory holding other files is left alone). Call it
    /// before a run starts writing checkpoints (not concurrently with writes). Returns the
    /// removed paths.
    ///
    /// # Errors
    /// [`Error::Io`] when the directory cannot be read or an entry cannot be removed.
    pub fn clean_incomplete(&self) -> Result<Vec<PathBuf>> {
        let mut removed = Vec::new();
        for (_, path) in scan(&self.dir)? {
            if path.join(MANIFEST).exists() {
                let tmp = path.join(MANIFEST_TMP);
                match fs::remove_file(&tmp) {
                    Ok(()) => removed.push(tmp),
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(e) => return Err(Error::io(&tmp, e)),
                }
            } else if remove_checkpoint(&path)? {
                removed.push(path);
            }
        }
        Ok(removed)
    }

    /// Loads the checkpoint at `path` (see [`Restored`]), checking that `fingerprint` matches.
    ///
    /// # Errors
    /// [`Error::Checkpoint`] naming the offending file and the reason (missing MANIFEST,
    /// corrupt, newer format, another pipeline, missing/truncated/corrupt state file).
    pub fn load(&self, path: &Path, fingerprint: u64) -> Result<Restored> {
        restore::load(path, Some(fingerprint))
    }

    /// [`CheckpointStore::load`], then checks made by `checks` over every state section
    /// ([`Restored::verify_sections`]).
    ///
    /// # Errors
    /// As [`CheckpointStore::load`]; [`Error::CheckpointState`] when a section is rejected.
    pub fn load_checked(
        &self,
        path: &Path,
        fingerprint: u64,
        checks: &SectionChecks<'_>,
    ) -> Result<Restored> {
        super::quarantine::check(path)?;
        let restored = restore::load(path, Some(fingerprint))?;
        restored.verify_sections(checks)?;
        Ok(restored)
    }

    /// Loads the newest usable complete checkpoint: a bad one is logged (`warn`) and the
    /// previous one tried. `Ok(None)` when there is no complete checkpoint.
    ///
    /// # Errors
    /// The newest checkpoint's error when every complete checkpoint is unusable;
    /// [`Error::Io`] when the directory cannot be read.
    pub fn load_latest(&self, fingerprint: u64) -> Result<Option<Restored>> {
        self.load_latest_checked(fingerprint, &accept_all)
    }

    /// [`CheckpointStore::load_latest`] where a checkpoint is usable only when the checks made
    /// by `checks` accept every one of its state sections: a checkpoint whose sections do not restore into the
    /// pipeline (unknown state, undecodable bytes) is skipped for an older one like a corrupt
    /// one is.
    ///
    /// # Errors
    /// As [`CheckpointStore::load_latest`].
    pub fn load_latest_checked(
        &self,
        fingerprint: u64,
        checks: &SectionChecks<'_>,
    ) -> Result<Option<Restored>> {
        let mut first_error = None;
        for (_, path) in scan(&self.dir)?.into_iter().rev() {
            if !path.join(MANIFEST).exists() {
                continue;
            }
            let loaded = super::quarantine::check(&path)
                .and_then(|()| restore::load(&path, Some(fingerprint)))
                .and_then(|r| r.verify_sections(checks).map(|()| r));
            match loaded {
                Ok(restored) => return Ok(Some(restored)),
                Err(e) => {
                    let (file, reason) = match &e {
                        Error::Checkpoint { path, reason } => (path.clone(), reason.clone()),
                        Error::CheckpointState {
                            path,
                            key_group,
                            state,
                            reason,
                        } => (
                            path.clone(),
                            format!("key group {key_group}, state {state:?}: {reason}"),
                        ),
                        other => (path.clone(), other.to_string()),
                    };
                    tracing::warn!(file = %file.display(), %reason, "skipping unusable checkpoint");
                    first_error.get_or_insert(e);
                }
            }
        }
        first_error.map_or(Ok(None), Err)
    }
}

/// Checks the invariants the section index relies on.
fn check_snapshot(s: &WorkerSnapshot) -> Result<(), String> {
    if s.key_groups.start > s.key_groups.end {
        return Err(format!(
            "empty-backwards key-group range {:?}",
            s.key_groups
        ));
    }
    let mut previous: Option<u16> = None;
    for g in &s.groups {
        if !s.key_groups.contains(&g.key_group) {
            return Err(format!(
                "key group {} outside the worker's {:?}",
                g.key_group, s.key_groups
            ));
        }
        if previous.is_some_and(|p| p >= g.key_group) {
            return Err(format!(
                "key groups not strictly ascending at {}",
                g.key_group
            ));
        }
        previous = Some(g.key_group);
    }
    Ok(())
}

/// The checkpoint directories in `dir` (complete or not), ascending by id.
///
/// # Errors
/// [`Error::Io`] when `dir` cannot be read.
pub(crate) fn scan(dir: &Path) -> Result<Vec<(u64, PathBuf)>> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let id = entry
            .file_name()
            .to_str()
            .and_then(parse_checkpoint_dir_name);
        if let Some(id) = id {
            if entry
                .file_type()
                .map_err(|e| Error::io(entry.path(), e))?
                .is_dir()
            {
                out.push((id, entry.path()));
            }
        }
    }
    out.sort_unstable();
    Ok(out)
}

/// Whether `name` is a file weir writes inside a checkpoint directory.
fn is_checkpoint_file(name: &str) -> bool {
    let worker = name
        .strip_prefix('w')
        .and_then(|rest| rest.strip_suffix(".state"));
    name == MANIFEST
        || name == MANIFEST_TMP
        || name == super::QUARANTINED
        || super::is_run_file_name(name)
        || worker.is_some_and(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_digit()))
}

/// The first entry of a checkpoint directory that weir did not write, if any.
fn foreign_entry(path: &Path) -> Result<Option<PathBuf>> {
    for entry in fs::read_dir(path).map_err(|e| Error::io(path, e))? {
        let entry = entry.map_err(|e| Error::io(path, e))?;
        let is_file = entry
            .file_type()
            .map_err(|e| Error::io(entry.path(), e))?
            .is_file();
        if !is_file || !entry.file_name().to_str().is_some_and(is_checkpoint_file) {
            return Ok(Some(entry.path()));
        }
    }
    Ok(None)
}

/// Deletes a checkpoint directory, its MANIFEST first — only when it holds nothing but weir's
/// own files (otherwise it is left alone, with a warning, and `false` returned).
fn remove_checkpoint(path: &Path) -> Result<bool> {
    if let Some(foreign) = foreign_entry(path)? {
        tracing::warn!(
            checkpoint = %path.display(),
            entry = %foreign.display(),
            "not removing a checkpoint directory holding a file weir did not write"
        );
        return Ok(false);
    }
    let manifest = path.join(MANIFEST);
    match fs::remove_file(&manifest) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::io(manifest, e)),
    }
    fs::remove_dir_all(path).map_err(|e| Error::io(path, e))?;
    Ok(true)
}

/// fsyncs a directory so that renames and new entries in it are durable.
fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io(dir, e))
}
