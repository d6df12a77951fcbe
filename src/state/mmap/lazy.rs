//! Lazy validation of restored run files: a restore maps a checkpoint's runs without reading
//! their bytes, and each key group's bytes (its index and data) are checked against the CRC32
//! in the run's directory later, whichever comes first:
//!
//! - **on first access**: a lookup (or a merge, a snapshot) of a group not yet checked checks
//!   it synchronously, from the worker's own mapping, before using any of its bytes; a
//!   damaged group then reads as empty and the damage is reported;
//! - **in the background**: one validator thread per worker ([`RestoreChecks::start`]) walks
//!   the restored groups, reading the files with `pread`;
//! - **at the latest, before the first checkpoint after the restore** (and before the worker
//!   reports its end): [`RestoreChecks::settle`] checks what is left, so no checkpoint commits
//!   (and links a run file) before every restored group it references was found intact.
//!
//! A damage found by any of the three sets a flag the worker polls after every step
//! ([`RestoreChecks::check`]); the worker then fails with
//! [`crate::Error::RestoredStateDamaged`] before its next checkpoint. Nothing the restored
//! attempt did is committed then (its file sink output stays uncommitted), and `weir run
//! --restore latest` quarantines the checkpoint and starts again from the one before it.
//!
//! Runs register here when restored ([`register`], a per-thread list: the restore runs on the
//! worker's thread); a run dropped since (merged away, its state dropped) is skipped.

use super::run::{ENTRY, GROUP, HEADER};
use std::cell::RefCell;
use std::fs::File;
use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, Weak};

/// Status of a group: not checked yet.
const UNCHECKED: u8 = 0;
/// Status of a group: its bytes match its checksum.
const INTACT: u8 = 1;
/// Status of a group: its bytes do not match.
const DAMAGED: u8 = 2;
/// Bytes a `pread` check reads at a time.
const CHUNK: usize = 4 << 20;

/// Which check found a damaged group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Detected {
    /// A record (or a merge) touched the group first.
    OnAccess,
    /// The validator thread.
    Background,
    /// The check before the first checkpoint (or the worker's end).
    BeforeCheckpoint,
}

impl std::fmt::Display for Detected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Detected::OnAccess => "on first access",
            Detected::Background => "by the background validator",
            Detected::BeforeCheckpoint => "before the first checkpoint",
        })
    }
}

/// A damaged key group of a restored run file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Damage {
    /// The run file in the checkpoint directory.
    pub file: PathBuf,
    /// The key group whose bytes do not match their checksum.
    pub key_group: u16,
    /// Which check found it.
    pub detected: Detected,
}

/// Where damage is reported: shared by a worker's restored runs and its validator thread.
#[derive(Default)]
pub(crate) struct Health {
    bad: AtomicBool,
    first: Mutex<Option<Damage>>,
    /// Every run restored on this worker (weak: a dropped run needs no check).
    runs: Mutex<Vec<Weak<RunChecks>>>,
    /// When every group was checked (by the validator or a settle).
    done_at: Mutex<Option<std::time::Instant>>,
}

impl Health {
    fn report(&self, damage: Damage) {
        tracing::warn!(file = %damage.file.display(), key_group = damage.key_group,
            detected = %damage.detected, "restored state is damaged");
        if let Ok(mut first) = self.first.lock() {
            first.get_or_insert(damage);
        }
        self.bad.store(true, Ordering::Release);
    }

    fn damage(&self) -> Option<Damage> {
        if !self.bad.load(Ordering::Acquire) {
            return None;
        }
        self.first.lock().ok().and_then(|d| d.clone())
    }

    fn finished(&self) {
        if let Ok(mut at) = self.done_at.lock() {
            at.get_or_insert_with(std::time::Instant::now);
        }
    }

    fn runs(&self) -> Vec<Arc<RunChecks>> {
        let runs = self.runs.lock().map(|r| r.clone()).unwrap_or_default();
        runs.iter().filter_map(Weak::upgrade).collect()
    }
}

/// One key group's bytes in a run file and their checksum.
#[derive(Clone, Debug)]
struct Span {
    index: Range<usize>,
    data: Range<usize>,
    crc: u32,
}

/// The lazy checks of one restored run: per key group of the run, its status.
pub(crate) struct RunChecks {
    /// The file in the checkpoint directory (for messages).
    source: PathBuf,
    /// The working file, open (a merge may unlink it while the validator reads).
    file: File,
    /// First key group of the run.
    start: u16,
    /// The groups that must be checked (the owned ones of the writer's groups).
    owned: Range<u16>,
    spans: Vec<Span>,
    status: Vec<AtomicU8>,
    health: Arc<Health>,
}

impl RunChecks {
    /// Whether group `i` of the run (key group `start + i`) is intact, checking it now from
    /// `bytes` (the run's mapping) when not checked yet.
    #[inline]
    pub(crate) fn ensure(&self, i: usize, bytes: &[u8]) -> bool {
        match self.status.get(i).map(|s| s.load(Ordering::Acquire)) {
            Some(INTACT) => true,
            Some(UNCHECKED) => self.check_mapped(i, bytes),
            _ => false,
        }
    }

    #[cold]
    fn check_mapped(&self, i: usize, bytes: &[u8]) -> bool {
        let ok = self.spans.get(i).is_some_and(|s| {
            let mut h = crc32fast::Hasher::new();
            match (bytes.get(s.index.clone()), bytes.get(s.data.clone())) {
                (Some(a), Some(b)) => {
                    h.update(a);
                    h.update(b);
                    h.finalize() == s.crc
                }
                _ => false,
            }
        });
        self.settle_status(i, ok, Detected::OnAccess)
    }

    /// Checks group `i` by reading the file (not the mapping), unless already checked.
    fn check_read(&self, i: usize, buf: &mut Vec<u8>, detected: Detected) -> bool {
        match self.status.get(i).map(|s| s.load(Ordering::Acquire)) {
            Some(UNCHECKED) => {}
            Some(s) => return s == INTACT,
            None => return false,
        }
        let ok = self.spans.get(i).is_some_and(|s| {
            let mut h = crc32fast::Hasher::new();
            let read = [s.index.clone(), s.data.clone()]
                .into_iter()
                .all(|r| hash_range(&self.file, r, buf, &mut h));
            read && h.finalize() == s.crc
        });
        self.settle_status(i, ok, detected)
    }

    fn settle_status(&self, i: usize, ok: bool, detected: Detected) -> bool {
        let new = if ok { INTACT } else { DAMAGED };
        let old = self.status.get(i).map(|s| s.swap(new, Ordering::AcqRel));
        if !ok && old != Some(DAMAGED) {
            self.health.report(Damage {
                file: self.source.clone(),
                key_group: self.start + i as u16,
                detected,
            });
        }
        ok
    }

    /// The owned groups' indexes, in order.
    fn owned(&self) -> Range<usize> {
        let end = self.start as usize + self.status.len();
        let lo = (self.owned.start as usize).clamp(self.start as usize, end);
        let hi = (self.owned.end as usize).clamp(lo, end);
        lo - self.start as usize..hi - self.start as usize
    }

    /// Checks every owned group not checked yet (in reverse order when `reverse`: the
    /// worker settling works from the end while the validator works from the start).
    /// `false` when stopped by `stop`.
    fn check_all(&self, reverse: bool, detected: Detected, stop: &AtomicBool) -> bool {
        let mut buf = Vec::new();
        let owned: Vec<usize> = match reverse {
            false => self.owned().collect(),
            true => self.owned().rev().collect(),
        };
        for i in owned {
            if stop.load(Ordering::Relaxed) {
                return false;
            }
            self.check_read(i, &mut buf, detected);
        }
        true
    }
}

/// Feeds `range` of `file` to `h`, reading [`CHUNK`] bytes at a time; `false` on a read error.
fn hash_range(
    file: &File,
    range: Range<usize>,
    buf: &mut Vec<u8>,
    h: &mut crc32fast::Hasher,
) -> bool {
    let mut at = range.start;
    while at < range.end {
        let n = (range.end - at).min(CHUNK);
        buf.resize(n, 0);
        if file.read_exact_at(&mut buf[..n], at as u64).is_err() {
            return false;
        }
        h.update(&buf[..n]);
        at += n;
    }
    true
}

/// Reads the directory of the run whose mapped bytes are `bytes` (already checked by
/// `Run::open`: its checksum matched and every span lies inside the file).
fn spans(bytes: &[u8], groups: usize) -> Option<Vec<Span>> {
    let u64_at = |at: usize| -> Option<usize> {
        let v = u64::from_le_bytes(bytes.get(at..at + 8)?.try_into().ok()?);
        usize::try_from(v).ok()
    };
    (0..groups)
        .map(|g| {
            let at = HEADER + g * GROUP;
            let (index, count) = (u64_at(at)?, u64_at(at + 8)?);
            let (data, data_len) = (u64_at(at + 16)?, u64_at(at + 24)?);
            let crc = u32::from_le_bytes(bytes.get(at + 32..at + 36)?.try_into().ok()?);
            Some(Span {
                index: index..index.checked_add(count.checked_mul(ENTRY)?)?,
                data: data..data.checked_add(data_len)?,
                crc,
            })
        })
        .collect()
}

thread_local! {
    /// The health of the runs restored on this thread since the last [`RestoreChecks::start`].
    static CURRENT: RefCell<Option<Arc<Health>>> = const { RefCell::new(None) };
}

/// Makes the lazy checks of a run restored from `source` (a file of a checkpoint directory),
/// mapped as `bytes` from the working file `work`, covering key groups `range`, of which
/// `owned` must be checked; registers them with this thread's restore.
///
/// # Errors
/// The working file cannot be opened, or its directory does not parse.
pub(crate) fn register(
    source: &Path,
    work: &Path,
    bytes: &[u8],
    range: Range<u16>,
    owned: Range<u16>,
) -> std::io::Result<Arc<RunChecks>> {
    let groups = usize::from(range.end - range.start);
    let spans = spans(bytes, groups)
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidData, "run directory"))?;
    let health = CURRENT.with(|c| c.borrow_mut().get_or_insert_with(Default::default).clone());
    let checks = Arc::new(RunChecks {
        source: source.to_path_buf(),
        file: File::open(work)?,
        start: range.start,
        owned,
        status: (0..groups).map(|_| AtomicU8::new(UNCHECKED)).collect(),
        spans,
        health: health.clone(),
    });
    if let Ok(mut runs) = health.runs.lock() {
        runs.push(Arc::downgrade(&checks));
    }
    Ok(checks)
}

/// The lazy checks of every run restored on one worker, with their validator thread.
pub struct RestoreChecks {
    health: Arc<Health>,
    stop: Arc<AtomicBool>,
    validator: Option<std::thread::JoinHandle<()>>,
}

impl RestoreChecks {
    /// Takes the runs restored on this thread so far and starts their validator thread;
    /// `None` when no run was restored lazily.
    pub fn start() -> Option<RestoreChecks> {
        let health = CURRENT.with(|c| c.borrow_mut().take())?;
        let stop = Arc::new(AtomicBool::new(false));
        // `WEIR_LAZY_VALIDATOR=0`: no validator thread, groups are checked on access and
        // before the first checkpoint only (a diagnostic; the tests use it to pick the path).
        if std::env::var_os("WEIR_LAZY_VALIDATOR").is_some_and(|v| v == "0") {
            return Some(RestoreChecks {
                health,
                stop,
                validator: None,
            });
        }
        let (h, s) = (health.clone(), stop.clone());
        let validator = std::thread::Builder::new()
            .name("weir-validate".into())
            .spawn(move || {
                for run in h.runs() {
                    if !run.check_all(false, Detected::Background, &s) {
                        return;
                    }
                }
                h.finished();
            })
            .map_err(
                |e| tracing::warn!(error = %e, "no validator thread; groups are checked on access"),
            )
            .ok();
        Some(RestoreChecks {
            health,
            stop,
            validator,
        })
    }

    /// The damage found so far, if any (cheap: one atomic load when there is none).
    #[inline]
    pub fn check(&self) -> Option<Damage> {
        self.health.damage()
    }

    /// Checks every restored group not checked yet, on this thread (the validator goes on
    /// in parallel from the other end), and joins the validator.
    ///
    /// # Errors
    /// The first damage found (by any check).
    pub fn settle(&mut self) -> Result<(), Damage> {
        let never = AtomicBool::new(false);
        for run in self.health.runs().iter().rev() {
            run.check_all(true, Detected::BeforeCheckpoint, &never);
        }
        self.health.finished();
        self.stop.store(true, Ordering::Relaxed);
        if let Some(v) = self.validator.take() {
            let _ = v.join();
        }
        self.check().map_or(Ok(()), Err)
    }

    /// When every restored group had been checked (`None`: not yet).
    pub fn checked_at(&self) -> Option<std::time::Instant> {
        self.health.done_at.lock().ok().and_then(|at| *at)
    }
}

impl Drop for RestoreChecks {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(v) = self.validator.take() {
            let _ = v.join();
        }
    }
}

impl std::fmt::Debug for RestoreChecks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RestoreChecks")
            .field("damage", &self.check())
            .finish()
    }
}
