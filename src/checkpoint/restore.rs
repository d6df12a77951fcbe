//! Restore: validate a checkpoint (MANIFEST, lengths, checksums, archives) and read the
//! key-group sections straight from the mapped state files.

use super::format::{decode_manifest, segment_ranges, StateHeader, HEADER_LEN};
use super::store::MANIFEST;
use super::{mmap, parse_checkpoint_dir_name, ArchivedWorkerSnapshot, FileEntry, Manifest};
use crate::{Error, Result};
use memmap2::Mmap;
use std::borrow::Cow;
use std::fs::{self, File};
use std::io;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// The largest number of key groups a pipeline may have (`runtime.max_parallelism`).
const MAX_KEY_GROUPS: u16 = 1 << 15;

/// A validated checkpoint, its state files mapped read-only. `Send + Sync`: new workers may
/// read their sections concurrently from one shared `Restored`.
#[derive(Debug)]
pub struct Restored {
    /// The checkpoint's manifest.
    pub manifest: Manifest,
    /// The checkpoint's directory.
    pub path: PathBuf,
    /// The state files, ascending by key-group range (their ranges tile
    /// `0..max_parallelism`).
    files: Vec<MappedFile>,
}

/// One mapped, checksummed state file.
#[derive(Debug)]
pub(crate) struct MappedFile {
    /// Path of the file.
    pub path: PathBuf,
    /// Its MANIFEST entry.
    pub entry: FileEntry,
    /// The whole file.
    map: Mmap,
    /// Byte ranges of the segments' archives in `map` (16-byte aligned: maps are page
    /// aligned), in file order.
    segments: Vec<Range<usize>>,
}

impl MappedFile {
    /// Validates segment `i`'s archive (bytecheck) and returns its root.
    ///
    /// # Errors
    /// [`Error::Checkpoint`] naming the file when the archive is invalid.
    fn segment(&self, i: usize) -> Result<&ArchivedWorkerSnapshot> {
        let bytes = self
            .segments
            .get(i)
            .and_then(|r| self.map.get(r.clone()))
            .ok_or_else(|| corrupt(&self.path, format!("no segment {i}")))?;
        rkyv::access::<ArchivedWorkerSnapshot, rkyv::rancor::Error>(bytes)
            .map_err(|e| corrupt(&self.path, format!("invalid archive in segment {i}: {e}")))
    }

    /// The validated roots of the file's segments, in order.
    ///
    /// # Errors
    /// [`Error::Checkpoint`] naming the file when an archive is invalid.
    pub fn archives(&self) -> Result<Vec<&ArchivedWorkerSnapshot>> {
        (0..self.segments.len()).map(|i| self.segment(i)).collect()
    }
}

/// A section being gathered: adjacent pieces of one (key group, state) joined
/// ([`super::segments`]); borrowed from the map until a second piece arrives.
struct Pending<'a> {
    key_group: u16,
    name: &'a str,
    bytes: Cow<'a, [u8]>,
    file: &'a Path,
}

impl Restored {
    /// Calls `f(key_group, state_name, bytes)` for every state section of the key groups in
    /// `range`, ascending by key group, whichever state files hold them. The bytes are read
    /// in place from the mapped archives (validated on access), nothing is deserialized.
    ///
    /// # Errors
    /// [`Error::Checkpoint`] when a file's archive fails validation, or `f`'s first error.
    pub fn sections(
        &self,
        range: Range<u16>,
        mut f: impl FnMut(u16, &str, &[u8]) -> Result<()>,
    ) -> Result<()> {
        let mut pending: Option<Pending<'_>> = None;
        let mut emit =
            |p: Pending<'_>| f(p.key_group, p.name, &p.bytes).map_err(|e| e.in_state_file(p.file));
        for file in &self.files {
            let held = &file.entry.key_groups;
            if held.end <= range.start || held.start >= range.end {
                continue;
            }
            for root in file.archives()? {
                let held = root.key_groups.start.to_native()..root.key_groups.end.to_native();
                if held.end <= range.start || held.start >= range.end {
                    continue;
                }
                let groups = root.groups.as_slice();
                let first = groups.partition_point(|g| g.key_group.to_native() < range.start);
                for group in groups[first..]
                    .iter()
                    .take_while(|g| g.key_group.to_native() < range.end)
                {
                    let kg = group.key_group.to_native();
                    for state in group.states.iter() {
                        let (name, bytes) = (state.name.as_str(), state.bytes.as_slice());
                        match pending.as_mut() {
                            Some(p) if p.key_group == kg && p.name == name => {
                                p.bytes.to_mut().extend_from_slice(bytes);
                            }
                            _ => {
                                let next = Pending {
                                    key_group: kg,
                                    name,
                                    bytes: Cow::Borrowed(bytes),
                                    file: &file.path,
                                };
                                if let Some(done) = pending.replace(next) {
                                    emit(done)?;
                                }
                            }
                        }
                    }
                }
            }
        }
        pending.map_or(Ok(()), emit)
    }

    /// Runs a check made by `checks` over every state section of every file, the files
    /// shared out over up to as many threads as there are cores (see [`super::SectionChecks`]).
    ///
    /// # Errors
    /// [`Error::CheckpointState`] naming the state file, key group, state and reason of a
    /// section the check rejects (the first file's, in file order); [`Error::Checkpoint`]
    /// when an archive is invalid.
    pub fn verify_sections(&self, checks: &super::SectionChecks<'_>) -> Result<()> {
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(self.files.len());
        if threads <= 1 {
            let mut check = checks();
            return self
                .files
                .iter()
                .try_for_each(|file| self.verify_file(file, &mut *check));
        }
        // Each thread checks files t, t + threads, ...; the error of the lowest file wins.
        let mut first: Option<(usize, Error)> = None;
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    s.spawn(move || {
                        let mut check = checks();
                        for (i, file) in self.files.iter().enumerate().skip(t).step_by(threads) {
                            self.verify_file(file, &mut *check).map_err(|e| (i, e))?;
                        }
                        Ok::<(), (usize, Error)>(())
                    })
                })
                .collect();
            for h in handles {
                let result = h.join().unwrap_or_else(|_| {
                    Err((0, corrupt(&self.path, "the section check panicked")))
                });
                if let Err((i, e)) = result {
                    if first.as_ref().is_none_or(|(j, _)| i < *j) {
                        first = Some((i, e));
                    }
                }
            }
        });
        first.map_or(Ok(()), |(_, e)| Err(e))
    }

    /// Runs `check` over every section of `file`.
    fn verify_file(&self, file: &MappedFile, check: &mut super::SectionCheck<'_>) -> Result<()> {
        self.sections(file.entry.key_groups.clone(), |kg, name, bytes| {
            check(kg, name, bytes).map_err(|reason| Error::CheckpointState {
                path: file.path.clone(),
                key_group: kg,
                state: name.to_string(),
                reason,
            })
        })
    }

    /// Total bytes of the state files.
    pub fn total_bytes(&self) -> u64 {
        self.files.iter().map(|f| f.entry.len).sum()
    }

    /// The mapped state files, ascending by key-group range.
    pub(crate) fn files(&self) -> &[MappedFile] {
        &self.files
    }
}

/// A [`Error::Checkpoint`] for `path`.
fn corrupt(path: &Path, reason: impl Into<String>) -> Error {
    Error::Checkpoint {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// Reads and decodes a checkpoint's MANIFEST (no fingerprint check, state files unchecked).
///
/// # Errors
/// [`Error::Checkpoint`] naming the MANIFEST: missing (incomplete checkpoint), unreadable,
/// corrupt, or of another format version.
pub(crate) fn read_manifest(chk: &Path) -> Result<Manifest> {
    let path = chk.join(MANIFEST);
    let bytes = fs::read(&path).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => corrupt(&path, "no MANIFEST: incomplete checkpoint"),
        _ => corrupt(&path, format!("cannot read: {e}")),
    })?;
    let manifest = decode_manifest(&bytes).map_err(|reason| corrupt(&path, reason))?;
    let dir_id = chk
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(parse_checkpoint_dir_name);
    if dir_id.is_some_and(|id| id != manifest.id) {
        return Err(corrupt(
            &path,
            format!("lists checkpoint id {}, not this directory's", manifest.id),
        ));
    }
    Ok(manifest)
}

/// Loads and validates the checkpoint at `chk`; with `fingerprint`, it must match.
///
/// # Errors
/// [`Error::Checkpoint`] naming the offending file and the reason.
pub(crate) fn load(chk: &Path, fingerprint: Option<u64>) -> Result<Restored> {
    let manifest = read_manifest(chk)?;
    let manifest_path = chk.join(MANIFEST);
    if let Some(expected) = fingerprint.filter(|&fp| fp != manifest.fingerprint) {
        return Err(corrupt(
            &manifest_path,
            format!(
                "checkpoint of another pipeline (fingerprint {:016x}, this pipeline's {expected:016x})",
                manifest.fingerprint
            ),
        ));
    }
    let mp = manifest.max_parallelism;
    if !mp.is_power_of_two() || mp > MAX_KEY_GROUPS {
        return Err(corrupt(
            &manifest_path,
            format!("max_parallelism {mp} is not a power of two in 1..={MAX_KEY_GROUPS}"),
        ));
    }
    // A checkpoint publishes exactly its own epoch's output.
    if manifest.sink_epoch != manifest.id {
        return Err(corrupt(
            &manifest_path,
            format!(
                "sink_epoch {} is not the checkpoint's id {}",
                manifest.sink_epoch, manifest.id
            ),
        ));
    }
    let mut entries = manifest.files.clone();
    entries.sort_by_key(|e| e.key_groups.start);
    // The final checkpoint of a completed job carries no state (nothing is left to restore).
    if !(manifest.finished && entries.is_empty()) {
        check_tiling(&entries, manifest.max_parallelism).map_err(|r| corrupt(&manifest_path, r))?;
    }
    let files = entries
        .into_iter()
        .map(|entry| map_file(chk, entry))
        .collect::<Result<Vec<_>>>()?;
    super::check_run_files(chk, &manifest.runs).map_err(|r| corrupt(&manifest_path, r))?;
    Ok(Restored {
        manifest,
        path: chk.to_path_buf(),
        files,
    })
}

/// Checks that the files' key-group ranges (sorted) tile `0..max_parallelism` and that their
/// names are plain file names.
fn check_tiling(entries: &[FileEntry], max_parallelism: u16) -> Result<(), String> {
    let mut next = 0u16;
    for e in entries {
        let plain = Path::new(&e.name)
            .file_name()
            .is_some_and(|n| n == e.name.as_str());
        if !plain || e.name.starts_with('.') {
            return Err(format!("bad state file name {:?}", e.name));
        }
        if e.key_groups.start != next || e.key_groups.end < e.key_groups.start {
            return Err(format!(
                "key groups of {} are {:?}, expected a range starting at {next}",
                e.name, e.key_groups
            ));
        }
        next = e.key_groups.end;
    }
    if next != max_parallelism {
        return Err(format!(
            "state files cover key groups 0..{next}, not 0..{max_parallelism}"
        ));
    }
    Ok(())
}

/// Opens, length-checks, maps, checksums and validates one state file.
fn map_file(chk: &Path, entry: FileEntry) -> Result<MappedFile> {
    let path = chk.join(&entry.name);
    let file = File::open(&path).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => corrupt(&path, "missing: listed in MANIFEST but not on disk"),
        _ => corrupt(&path, format!("cannot open: {e}")),
    })?;
    let len = file
        .metadata()
        .map_err(|e| corrupt(&path, format!("cannot stat: {e}")))?
        .len();
    if len != entry.len {
        return Err(corrupt(
            &path,
            format!(
                "truncated or resized: {len} bytes, MANIFEST lists {}",
                entry.len
            ),
        ));
    }
    if len < HEADER_LEN as u64 {
        return Err(corrupt(
            &path,
            format!("{len} bytes: shorter than the header"),
        ));
    }
    let map = mmap::map_for_read(&file).map_err(|e| corrupt(&path, format!("cannot map: {e}")))?;
    let actual = crc32fast::hash(&map);
    if actual != entry.checksum {
        return Err(corrupt(
            &path,
            format!(
                "checksum mismatch (crc32 {actual:08x}, MANIFEST lists {:08x}): corrupt",
                entry.checksum
            ),
        ));
    }
    let header = StateHeader::decode(&map).map_err(|r| corrupt(&path, r))?;
    if header.body_len != len - HEADER_LEN as u64 {
        return Err(corrupt(
            &path,
            format!(
                "header body length {} does not fit the file",
                header.body_len
            ),
        ));
    }
    let segments = segment_ranges(&map, header.segments).map_err(|r| corrupt(&path, r))?;
    let mapped = MappedFile {
        path,
        entry,
        map,
        segments,
    };
    check_index(&mapped)?;
    Ok(mapped)
}

/// Checks the section index of a mapped file: every segment's key groups inside the file's
/// (the first segment's start and the last one's end equal to it), its groups inside its own
/// key groups and strictly ascending, and ascending across segments (where a key group may
/// continue from one segment into the next).
fn check_index(file: &MappedFile) -> Result<()> {
    let held = file.entry.key_groups.clone();
    let roots = file.archives()?;
    let bad = |reason: String| corrupt(&file.path, reason);
    let ends = (roots.first(), roots.last());
    if let (Some(first), Some(last)) = ends {
        if first.key_groups.start.to_native() != held.start
            || last.key_groups.end.to_native() != held.end
        {
            return Err(bad(format!(
                "holds key groups other than the MANIFEST's {held:?}"
            )));
        }
    }
    let mut previous: Option<u16> = None;
    for (i, root) in roots.iter().enumerate() {
        let own = root.key_groups.start.to_native()..root.key_groups.end.to_native();
        if own.start < held.start || own.end > held.end || own.start > own.end {
            return Err(bad(format!(
                "segment {i} holds key groups {own:?}, outside the MANIFEST's {held:?}"
            )));
        }
        for (j, g) in root.groups.iter().enumerate() {
            let kg = g.key_group.to_native();
            // The first group of a segment may continue the previous segment's last one.
            let in_order = match previous {
                None => true,
                Some(p) if j == 0 => p <= kg,
                Some(p) => p < kg,
            };
            if !own.contains(&kg) || !in_order {
                return Err(bad(format!("section index out of order at key group {kg}")));
            }
            previous = Some(kg);
        }
    }
    Ok(())
}
