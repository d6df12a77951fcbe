//! Run files: immutable, memory-mapped, sorted tables of encoded state entries.
//!
//! A run covers the key groups `kg_start..kg_end` of one state object. Layout (little-endian):
//!
//! ```text
//! header   magic "WEIRRUN1", timed u32, kg_start u32, kg_end u32, pad u32, entries u64 (32 B)
//! groups   per key group: index_offset u64, count u64, data_start u64, data_len u64, crc u32, pad u32
//! dir_crc  u32 over header and groups, pad u32
//! index    per entry (sorted by key group, then hash): hash u64, off u32, len u32
//!          (off is relative to the group's data_start; bit 31 of len marks a tombstone)
//! data     per entry: key, [timestamp u64 when timed], value (absent in tombstones), in
//!          StateCodec encoding: exactly a checkpoint section's entry
//! ```
//!
//! Opening checks the header, the directory's checksum and that every group's index and data
//! lie inside the file; with `validate`, also the checksum (index and data) of each group in
//! the range given (bytes are summed, never decoded; a restore into the mmap backend checks
//! its groups lazily instead, on first access or in the background: see `lazy`). Reads
//! are bounds-checked and never trust the bytes: a damaged file reads as missing entries or
//! fails to open, it never panics.

use super::backing::Backing;
use super::filter::{self, Filter};
use super::sparse::Sparse;
use std::cell::OnceCell;
use std::fs::File;
use std::io::Write;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// First bytes of a run file.
pub(super) const MAGIC: &[u8; 8] = b"WEIRRUN1";
/// Header bytes.
pub(super) const HEADER: usize = 32;
/// Bytes per key group in the directory.
pub(super) const GROUP: usize = 40;
/// Bytes per index entry.
pub(super) const ENTRY: usize = 16;
/// Tombstone bit of an index entry's length.
pub(super) const TOMBSTONE: u32 = 1 << 31;

/// Why a run file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Reading or writing the file failed.
    #[error("run file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The run's entries carry timestamps and the state has no TTL, or the other way round.
    #[error("run file {path}: TTL mode differs from the state's")]
    OtherTtl {
        /// The file.
        path: PathBuf,
    },
    /// The file is not a well-formed run.
    #[error("run file {path} is damaged: {what}")]
    Damaged {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        what: &'static str,
    },
}

/// One key group of a run, located in the file.
#[derive(Clone, Copy, Debug)]
struct GroupDir {
    /// Byte offset of the group's first index entry.
    index: usize,
    /// Index entries.
    count: usize,
    /// Byte offset of the group's data.
    data: usize,
    /// Data bytes.
    data_len: usize,
}

/// An entry of a run: its hash, whether it is a tombstone and its encoded bytes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RunEntry<'a> {
    /// The key's stable hash.
    pub hash: u64,
    /// A deletion marker (the bytes hold the key and timestamp only).
    pub tombstone: bool,
    /// `key, [ts], [value]`.
    pub bytes: &'a [u8],
}

/// An open run file.
pub(crate) struct Run {
    map: Backing,
    path: PathBuf,
    range: Range<u16>,
    timed: bool,
    groups: Vec<GroupDir>,
    entries: u64,
    /// The key groups whose entries count (a restored run of another worker's groups, or
    /// one a rescale shared, may hold others: they are ignored).
    limit: Range<u16>,
    /// Whether a checkpoint already holds this file (its bytes are then shared, not new).
    pub(crate) checkpointed: bool,
    /// Per key group of `range`, the filter of its hashes (built when the run is written,
    /// or on the group's first lookup for a run this process did not write).
    filters: Vec<OnceCell<Filter>>,
    /// Per key group of `range`, its sparse index (built like the filters; [`super::sparse`]).
    sparse: Vec<OnceCell<Sparse>>,
    /// Whether lookups read the disk lately ([`super::access::Temperature`]).
    temperature: super::access::Temperature,
    /// A restored run's lazy checksum checks: a group is checked on its first access
    /// (`None`: checked when opened, or written by this process).
    checks: Option<std::sync::Arc<super::lazy::RunChecks>>,
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Run")
            .field("path", &self.path)
            .field("range", &self.range)
            .field("entries", &self.entries)
            .finish()
    }
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

impl Run {
    /// Maps and checks the run at `path` (see the module docs).
    ///
    /// # Errors
    /// [`RunError`] when the file cannot be read or is not a well-formed run.
    pub(crate) fn open(path: &Path, validate: Option<Range<u16>>) -> Result<Run, RunError> {
        let io = |source| RunError::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = File::open(path).map_err(io)?;
        Run::parse(Backing::map(&file).map_err(io)?, path, validate)
    }

    /// A run of the file bytes `bytes`, to be written at `path` (see [`super::backing`]).
    ///
    /// # Errors
    /// [`RunError::Damaged`] when the bytes are not a well-formed run.
    pub(crate) fn in_memory(bytes: std::sync::Arc<Vec<u8>>, path: &Path) -> Result<Run, RunError> {
        Run::parse(Backing::Mem(bytes), path, None)
    }

    /// Whether the run's bytes are in memory (its file may not be written yet).
    pub(crate) fn in_memory_bytes(&self) -> Option<&std::sync::Arc<Vec<u8>>> {
        match &self.map {
            Backing::Mem(b) => Some(b),
            Backing::Map(_) => None,
        }
    }

    /// Switches an in-memory run to a mapping of its file, now written (the same bytes).
    ///
    /// # Errors
    /// [`RunError`] when the file cannot be mapped or differs in length.
    pub(crate) fn remap(&mut self) -> Result<(), RunError> {
        if !self.map.in_memory() {
            return Ok(());
        }
        let io = |source| RunError::Io {
            path: self.path.clone(),
            source,
        };
        let map = Backing::map(&File::open(&self.path).map_err(io)?).map_err(io)?;
        if map.len() != self.map.len() {
            return Err(RunError::Damaged {
                path: self.path.clone(),
                what: "written file differs in length",
            });
        }
        self.map = map;
        Ok(())
    }

    fn parse(map: Backing, path: &Path, validate: Option<Range<u16>>) -> Result<Run, RunError> {
        let damaged = |what| RunError::Damaged {
            path: path.to_path_buf(),
            what,
        };
        let b: &[u8] = &map;
        if b.len() < HEADER || &b[..8] != MAGIC {
            return Err(damaged("no run header"));
        }
        let field = |at| u32_at(b, at).ok_or_else(|| damaged("short header"));
        let timed = field(8)? != 0;
        let (start, end) = (field(12)?, field(16)?);
        let entries = u64_at(b, 24).ok_or_else(|| damaged("short header"))?;
        let start = u16::try_from(start).map_err(|_| damaged("key group range"))?;
        let end = u16::try_from(end).map_err(|_| damaged("key group range"))?;
        if start > end {
            return Err(damaged("key group range"));
        }
        let dir_end = HEADER + (end - start) as usize * GROUP;
        let stored = u32_at(b, dir_end).ok_or_else(|| damaged("short directory"))?;
        if crc32fast::hash(&b[..dir_end]) != stored {
            return Err(damaged("directory checksum"));
        }
        let mut groups = Vec::with_capacity((end - start) as usize);
        for g in 0..(end - start) as usize {
            let check = validate
                .as_ref()
                .is_some_and(|r| r.contains(&(start + g as u16)));
            let dir = read_group(b, HEADER + g * GROUP, check).ok_or_else(|| damaged("group"))?;
            groups.push(dir);
        }
        Ok(Run {
            filters: (start..end).map(|_| OnceCell::new()).collect(),
            sparse: (start..end).map(|_| OnceCell::new()).collect(),
            temperature: Default::default(),
            path: path.to_path_buf(),
            range: start..end,
            limit: start..end,
            timed,
            groups,
            entries,
            map,
            checkpointed: false,
            checks: None,
        })
    }

    /// Whether entries carry timestamps.
    pub(crate) fn timed(&self) -> bool {
        self.timed
    }

    /// Entries (tombstones included).
    pub(crate) fn entries(&self) -> u64 {
        self.entries
    }

    /// The file.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Bytes of the file.
    pub(crate) fn file_len(&self) -> u64 {
        self.map.len() as u64
    }

    fn group(&self, kg: u16) -> Option<&GroupDir> {
        if !(self.range.contains(&kg) && self.limit.contains(&kg)) {
            return None;
        }
        let i = (kg - self.range.start) as usize;
        match &self.checks {
            Some(c) if !c.ensure(i, &self.map) => None, // damaged: reported, reads as empty
            _ => self.groups.get(i),
        }
    }

    /// The mapped bytes and the key groups of the file (for [`super::lazy::register`]).
    pub(super) fn bytes(&self) -> (&[u8], Range<u16>) {
        (&self.map, self.range.clone())
    }

    /// Checks each group's checksum on its first access from now on (see [`super::lazy`]).
    pub(super) fn check_lazily(&mut self, checks: std::sync::Arc<super::lazy::RunChecks>) {
        self.checks = Some(checks);
    }

    /// The run's lazy checks, when it was restored with them ([`Run::check_lazily`]).
    pub(super) fn lazy_checks(&self) -> Option<std::sync::Arc<super::lazy::RunChecks>> {
        self.checks.clone()
    }

    /// The key groups whose entries count.
    pub(crate) fn limit(&self) -> Range<u16> {
        self.limit.clone()
    }

    /// Ignores the entries of key groups outside `limit` from now on.
    pub(crate) fn limit_to(&mut self, limit: Range<u16>) {
        self.limit = limit;
    }

    /// Entry `i` of group `g` (bounds were checked at open; `None` never happens on a run
    /// that opened, but is handled instead of trusted).
    fn entry(&self, g: &GroupDir, i: usize) -> Option<RunEntry<'_>> {
        let b: &[u8] = &self.map;
        let at = g.index + i * ENTRY;
        let hash = u64_at(b, at)?;
        let off = u32_at(b, at + 8)? as usize;
        let len = u32_at(b, at + 12)?;
        let n = (len & !TOMBSTONE) as usize;
        let data = b.get(g.data..g.data + g.data_len)?;
        Some(RunEntry {
            hash,
            tombstone: len & TOMBSTONE != 0,
            bytes: data.get(off..off + n)?,
        })
    }

    /// The hash of entry `i` of group `g`.
    #[inline]
    fn hash_at(&self, g: &GroupDir, i: usize) -> Option<u64> {
        u64_at(&self.map, g.index + i * ENTRY)
    }

    /// Whether group `g` (key group `kg`) may hold `hash`, by its filter (built now when
    /// missing).
    fn may_hold(&self, kg: u16, g: &GroupDir, hash: u64) -> bool {
        let Some(cell) = self.filters.get((kg - self.range.start) as usize) else {
            return true;
        };
        let f = cell
            .get_or_init(|| Filter::build(g.count, (0..g.count).map_while(|i| self.hash_at(g, i))));
        f.may_contain(hash)
    }

    /// Hints the CPU to load the filter word a lookup of `hash` in key group `kg` reads
    /// first (nothing when that filter is not built yet).
    #[inline]
    pub(crate) fn prefetch(&self, kg: u16, hash: u64) {
        let i = usize::from(kg.wrapping_sub(self.range.start));
        if let Some(f) = self.filters.get(i).and_then(OnceCell::get) {
            f.prefetch(hash);
            if self.temperature.is_cold() {
                self.read_ahead(f, i, hash);
            }
        }
    }

    /// Starts reading the index window a lookup of `hash` in local group `i` will search,
    /// when its filter `f` says the group may hold it.
    #[cold]
    #[inline(never)]
    fn read_ahead(&self, f: &Filter, i: usize, hash: u64) {
        let (Some(g), Some(s)) = (
            self.groups.get(i),
            self.sparse.get(i).and_then(OnceCell::get),
        ) else {
            return;
        };
        if !f.may_contain(hash) {
            return;
        }
        let w = s.window(g.count, hash);
        let len = (w.len() + 1).min(g.count - w.start);
        super::access::will_need(&self.map, g.index + w.start * ENTRY, len * ENTRY);
    }

    /// The entries of key group `kg` whose hash is `hash` (usually one).
    pub(crate) fn lookup(&self, kg: u16, hash: u64) -> impl Iterator<Item = RunEntry<'_>> {
        let g = self.group(kg).copied();
        let g = g.filter(|g| g.count > 0 && self.may_hold(kg, g, hash));
        let count = g.map_or(0, |g| g.count);
        let first = g.map_or(0, |g| self.search(kg, &g, hash));
        (first..count)
            .map_while(move |i| g.and_then(|g| self.entry(&g, i)))
            .take_while(move |e| e.hash == hash)
    }

    /// The first entry of group `g` (key group `kg`) whose hash is `>= hash`: the sparse
    /// index (built now when missing) narrows the search to one window of the on-disk index.
    fn search(&self, kg: u16, g: &GroupDir, hash: u64) -> usize {
        let Some(cell) = self.sparse.get((kg - self.range.start) as usize) else {
            return filter::search(g.count, hash, |i| self.hash_at(g, i));
        };
        let s = cell.get_or_init(|| Sparse::build((0..g.count).map_while(|i| self.hash_at(g, i))));
        let w = s.window(g.count, hash);
        let found = || w.start + filter::search(w.len(), hash, |i| self.hash_at(g, w.start + i));
        self.temperature.timed(found)
    }

    /// Sets the filters and sparse indexes of the groups (one per group of the range, as a
    /// writer computed them from the hashes it wrote); groups already set keep theirs.
    pub(super) fn set_aids(&self, aids: Vec<(Filter, Sparse)>) {
        let cells = self.filters.iter().zip(&self.sparse);
        for ((f, s), (filter, sparse)) in cells.zip(aids) {
            let _ = f.set(filter);
            let _ = s.set(sparse);
        }
    }

    /// All entries of key group `kg`, in hash order (their pages are read ahead: this is a
    /// scan).
    pub(crate) fn group_entries(&self, kg: u16) -> impl Iterator<Item = RunEntry<'_>> {
        let g = self.group(kg).copied();
        if let Some(g) = &g {
            super::access::will_need(&self.map, g.index, g.count.saturating_mul(ENTRY));
            super::access::will_need(&self.map, g.data, g.data_len);
        }
        (0..g.map_or(0, |g| g.count)).map_while(move |i| g.and_then(|g| self.entry(&g, i)))
    }
}

/// Reads and checks one directory record at `at`.
fn read_group(b: &[u8], at: usize, validate: bool) -> Option<GroupDir> {
    let index = usize::try_from(u64_at(b, at)?).ok()?;
    let count = usize::try_from(u64_at(b, at + 8)?).ok()?;
    let data = usize::try_from(u64_at(b, at + 16)?).ok()?;
    let data_len = usize::try_from(u64_at(b, at + 24)?).ok()?;
    let crc = u32_at(b, at + 32)?;
    let index_bytes = b.get(index..index.checked_add(count.checked_mul(ENTRY)?)?)?;
    let data_bytes = b.get(data..data.checked_add(data_len)?)?;
    if validate {
        let mut h = crc32fast::Hasher::new();
        h.update(index_bytes);
        h.update(data_bytes);
        if h.finalize() != crc {
            return None;
        }
    }
    Some(GroupDir {
        index,
        count,
        data,
        data_len,
    })
}

/// One key group's entries to write, sorted by hash: `(hash, tombstone, bytes)`.
pub(crate) type GroupEntries<'a> = Vec<(u64, bool, &'a [u8])>;

/// Writes a run of `range` (one [`GroupEntries`] per key group, sorted by hash) to `path`
/// through a temporary file renamed into place, and opens it.
///
/// # Errors
/// [`RunError`] when writing fails (nothing is left at `path` then).
#[cfg(test)]
pub(crate) fn write_run(
    path: &Path,
    range: Range<u16>,
    timed: bool,
    groups: &[GroupEntries<'_>],
) -> Result<Run, RunError> {
    let tmp = path.with_extension("tmp");
    let io = |source| RunError::Io {
        path: path.to_path_buf(),
        source,
    };
    let result = encode(range, timed, groups).and_then(|b| write_file(&tmp, &b));
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(io(e));
    }
    std::fs::rename(&tmp, path).map_err(io)?;
    let run = Run::open(path, None)?;
    run.set_aids(groups.iter().map(|g| super::sparse::aids(g)).collect());
    Ok(run)
}

/// A run of `range` (one [`GroupEntries`] per key group, sorted by hash) built in memory, to
/// be written at `path` by the writer thread (see [`super::backing`]); its bytes are those
/// [`write_run`] writes.
///
/// # Errors
/// [`RunError`] when an entry or a group is too big for the format.
pub(crate) fn build_run(
    path: &Path,
    range: Range<u16>,
    timed: bool,
    groups: &[GroupEntries<'_>],
) -> Result<Run, RunError> {
    let bytes = encode(range, timed, groups).map_err(|source| RunError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let run = Run::in_memory(std::sync::Arc::new(bytes), path)?;
    run.set_aids(groups.iter().map(|g| super::sparse::aids(g)).collect());
    Ok(run)
}

/// Writes `bytes` to `path` (created or truncated).
pub(crate) fn write_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut f = File::create(path)?;
    f.write_all(bytes)
}

/// The bytes of a run file (see the module docs).
fn encode(range: Range<u16>, timed: bool, groups: &[GroupEntries<'_>]) -> std::io::Result<Vec<u8>> {
    let entries: usize = groups.iter().map(Vec::len).sum();
    let dir_end = HEADER + groups.len() * GROUP;
    let index_start = dir_end + 8;
    let data_start = index_start + entries * ENTRY;
    let data_len: usize = groups.iter().flatten().map(|(_, _, b)| b.len()).sum();
    let mut head = Vec::with_capacity(data_start + data_len);
    head.extend_from_slice(MAGIC);
    for v in [u32::from(timed), range.start.into(), range.end.into(), 0] {
        head.extend_from_slice(&v.to_le_bytes());
    }
    head.extend_from_slice(&(entries as u64).to_le_bytes());
    let mut index = Vec::with_capacity(entries * ENTRY);
    let (mut first, mut data_at) = (0usize, data_start);
    for g in groups {
        let mut crc = crc32fast::Hasher::new();
        let group_index = index.len();
        let mut off = 0usize;
        for (hash, tomb, bytes) in g {
            index.extend_from_slice(&hash.to_le_bytes());
            let len = u32::try_from(bytes.len())
                .ok()
                .filter(|l| l & TOMBSTONE == 0)
                .ok_or_else(too_big)?;
            let flag = if *tomb { TOMBSTONE } else { 0 };
            let at = u32::try_from(off).map_err(|_| too_big())?;
            index.extend_from_slice(&at.to_le_bytes());
            index.extend_from_slice(&(len | flag).to_le_bytes());
            off += bytes.len();
        }
        crc.update(&index[group_index..]);
        for (_, _, bytes) in g {
            crc.update(bytes);
        }
        for v in [index_start + first * ENTRY, g.len(), data_at, off] {
            head.extend_from_slice(&(v as u64).to_le_bytes());
        }
        head.extend_from_slice(&crc.finalize().to_le_bytes());
        head.extend_from_slice(&0u32.to_le_bytes());
        first += g.len();
        data_at += off;
    }
    let dir_crc = crc32fast::hash(&head);
    head.extend_from_slice(&dir_crc.to_le_bytes());
    head.extend_from_slice(&0u32.to_le_bytes());
    head.extend_from_slice(&index);
    for g in groups {
        for (_, _, bytes) in g {
            head.extend_from_slice(bytes);
        }
    }
    Ok(head)
}

fn too_big() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidInput, "run group over 4 GiB")
}
