//! Restore: validate a checkpoint (MANIFEST, lengths, checksums, archives) and read the
//! key-group sections straight from the mapped state files.

use super::format::{decode_manifest, StateHeader, HEADER_LEN};
use super::store::MANIFEST;
use super::{mmap, parse_checkpoint_dir_name, ArchivedWorkerSnapshot, FileEntry, Manifest};
use crate::{Error, Result};
use memmap2::Mmap;
use std::fs::{self, File};
use std::io;
use std::ops::Range;
use std::path::{Path, PathBuf};

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
    /// The whole file; the archive is `map[HEADER_LEN..]` (16-byte aligned: maps are
    /// page aligned).
    map: Mmap,
}

impl MappedFile {
    /// Validates the archive (bytecheck) and returns its root.
    ///
    /// # Errors
    /// [`Error::Checkpoint`] naming the file when the archive is invalid.
    pub fn archive(&self) -> Result<&ArchivedWorkerSnapshot> {
        rkyv::access::<ArchivedWorkerSnapshot, rkyv::rancor::Error>(&self.map[HEADER_LEN..])
            .map_err(|e| corrupt(&self.path, format!("invalid archive: {e}")))
    }
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
        for file in &self.files {
            let held = &file.entry.key_groups;
            if held.end <= range.start || held.start >= range.end {
                continue;
            }
            let groups = file.archive()?.groups.as_slice();
            let first = groups.partition_point(|g| g.key_group.to_native() < range.start);
            for group in groups[first..]
                .iter()
                .take_while(|g| g.key_group.to_native() < range.end)
            {
                for state in group.states.iter() {
                    f(
                        group.key_group.to_native(),
                        state.name.as_str(),
                        state.bytes.as_slice(),
                    )
                    .map_err(|e| e.in_state_file(&file.path))?;
                }
            }
        }
        Ok(())
    }

    /// Runs `check` over every state section of every file (see [`super::SectionCheck`]).
    ///
    /// # Errors
    /// [`Error::CheckpointState`] naming the state file, key group, state and reason of the
    /// first section `check` rejects; [`Error::Checkpoint`] when an archive is invalid.
    pub fn verify_sections(&self, check: &mut super::SectionCheck<'_>) -> Result<()> {
        for file in &self.files {
            self.sections(file.entry.key_groups.clone(), |kg, name, bytes| {
                check(kg, name, bytes).map_err(|reason| Error::CheckpointState {
                    path: file.path.clone(),
                    key_group: kg,
                    state: name.to_string(),
                    reason,
                })
            })?;
        }
        Ok(())
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
    if header.archive_len != len - HEADER_LEN as u64 {
        return Err(corrupt(
            &path,
            format!(
                "header archive length {} does not fit the file",
                header.archive_len
            ),
        ));
    }
    let mapped = MappedFile { path, entry, map };
    let root = mapped.archive()?;
    let held = mapped.entry.key_groups.clone();
    if root.key_groups.start.to_native() != held.start
        || root.key_groups.end.to_native() != held.end
    {
        return Err(corrupt(
            &mapped.path,
            format!("holds key groups other than the MANIFEST's {held:?}"),
        ));
    }
    let mut previous: Option<u16> = None;
    for g in root.groups.iter() {
        let kg = g.key_group.to_native();
        if !held.contains(&kg) || previous.is_some_and(|p| p >= kg) {
            return Err(corrupt(
                &mapped.path,
                format!("section index out of order at key group {kg}"),
            ));
        }
        previous = Some(kg);
    }
    Ok(mapped)
}
