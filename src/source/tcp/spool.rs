//! The spool: a segmented, append-only log of what a TCP source received, kept in the
//! checkpoint directory so that a restore can replay socket input from a recorded offset.
//!
//! A log is a directory (`spool/w3`) of segment files `seg-<first offset, 20 digits>.log`.
//! Offsets are log-wide byte offsets; a segment ends where the next one starts (the last one,
//! the *active* segment, where the log ends). Only whole entries are appended (see
//! [`super::frame`]), each in one `write_all`, and a torn tail left by a crash is cut back to
//! the last newline when the log is reopened for appending (it was never covered by a
//! checkpoint: positions only ever point after whole entries that were read back).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Default size at which the active segment is closed and a new one started (64 MiB).
pub const DEFAULT_SEGMENT_BYTES: u64 = 64 << 20;

/// File name of the segment starting at `offset`.
fn segment_name(offset: u64) -> String {
    format!("seg-{offset:020}.log")
}

/// The start offset of a segment file name, `None` for any other name.
fn parse_segment_name(name: &str) -> Option<u64> {
    let digits = name.strip_prefix("seg-")?.strip_suffix(".log")?;
    if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Whether `name` is a log directory name of the spool (`g<generation>-w<worker>`).
pub(crate) fn is_log_name(name: &str) -> bool {
    let digits = |d: &str| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit());
    name.strip_prefix('g')
        .and_then(|rest| rest.split_once("-w"))
        .is_some_and(|(g, w)| digits(g) && digits(w))
}

/// The name of worker `worker`'s log of generation `generation`.
pub(crate) fn log_name(generation: u64, worker: usize) -> String {
    format!("g{generation:06}-w{worker}")
}

/// The generation of a log name (see [`log_name`]).
pub(crate) fn generation_of(name: &str) -> Option<u64> {
    name.strip_prefix('g')?.split_once("-w")?.0.parse().ok()
}

/// The segments of the log in `dir`, ascending by start offset (empty when it does not exist).
///
/// # Errors
/// The directory exists but cannot be read.
pub(crate) fn segments(dir: &Path) -> io::Result<Vec<(u64, PathBuf)>> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry?;
        if let Some(start) = entry.file_name().to_str().and_then(parse_segment_name) {
            out.push((start, entry.path()));
        }
    }
    out.sort();
    Ok(out)
}

/// The log names (`w0`, `w1`, …) present under the spool root.
///
/// # Errors
/// The root exists but cannot be read.
pub(crate) fn logs(root: &Path) -> io::Result<Vec<String>> {
    let entries = match fs::read_dir(root) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    for entry in entries {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if is_log_name(&name) {
            out.push(name);
        }
    }
    out.sort();
    Ok(out)
}

/// Removes every log under `root` (a new lineage): only segment files and then the emptied
/// log directories — nothing the spool did not write.
///
/// # Errors
/// I/O errors removing them.
pub(crate) fn clear(root: &Path) -> io::Result<()> {
    for name in logs(root)? {
        let dir = root.join(&name);
        for (_, path) in segments(&dir)? {
            fs::remove_file(path)?;
        }
        // Fails (and is left alone) when the directory holds files of someone else.
        let _ = fs::remove_dir(&dir);
    }
    Ok(())
}

/// The writable end of one log.
pub(crate) struct SpoolLog {
    dir: PathBuf,
    active: File,
    /// Start offset of the active segment.
    active_start: u64,
    /// Log offset of the next byte appended.
    end: u64,
    segment_bytes: u64,
}

impl SpoolLog {
    /// Opens (creating) the log in `dir` for appending after its last whole entry.
    ///
    /// # Errors
    /// I/O errors.
    pub(crate) fn open(dir: &Path, segment_bytes: u64) -> io::Result<SpoolLog> {
        fs::create_dir_all(dir)?;
        let segs = segments(dir)?;
        let (active_start, path) = match segs.last() {
            Some((start, path)) => (*start, path.clone()),
            None => (0, dir.join(segment_name(0))),
        };
        let mut active = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(&path)?;
        let len = cut_torn_tail(&mut active)?;
        if segs.is_empty() {
            sync_dir(dir)?;
        }
        Ok(SpoolLog {
            dir: dir.to_path_buf(),
            active,
            active_start,
            end: active_start + len,
            segment_bytes: segment_bytes.max(1),
        })
    }

    /// Log offset of the next byte appended (the log's length).
    pub(crate) fn end(&self) -> u64 {
        self.end
    }

    /// Appends whole entries; returns the offset they start at. Rolls to a new segment first
    /// when the active one is full (the closed one is made durable before).
    ///
    /// # Errors
    /// I/O errors.
    pub(crate) fn append(&mut self, bytes: &[u8]) -> io::Result<u64> {
        if self.end - self.active_start >= self.segment_bytes {
            self.active.sync_data()?;
            let path = self.dir.join(segment_name(self.end));
            self.active = OpenOptions::new()
                .create(true)
                .read(true)
                .append(true)
                .open(path)?;
            self.active_start = self.end;
            sync_dir(&self.dir)?;
        }
        let at = self.end;
        self.active.write_all(bytes)?;
        self.end += bytes.len() as u64;
        Ok(at)
    }

    /// Makes everything appended durable (closed segments already are).
    ///
    /// # Errors
    /// I/O errors.
    pub(crate) fn sync(&self) -> io::Result<()> {
        self.active.sync_data()
    }

    /// Deletes the closed segments that end at or before `offset`; returns how many.
    ///
    /// # Errors
    /// I/O errors.
    pub(crate) fn delete_below(&self, offset: u64) -> io::Result<usize> {
        let segs = segments(&self.dir)?;
        let mut deleted = 0;
        for pair in segs.windows(2) {
            let ((_, path), (next_start, _)) = (&pair[0], &pair[1]);
            if *next_start <= offset && *next_start <= self.active_start {
                fs::remove_file(path)?;
                deleted += 1;
            }
        }
        Ok(deleted)
    }
}

/// Cuts a torn last entry (bytes after the last newline) off `file`; returns the new length.
fn cut_torn_tail(file: &mut File) -> io::Result<u64> {
    let len = file.metadata()?.len();
    if len == 0 {
        return Ok(0);
    }
    let mut keep = len;
    let mut buf = vec![0u8; 64 * 1024];
    while keep > 0 {
        let start = keep.saturating_sub(buf.len() as u64);
        let chunk = &mut buf[..(keep - start) as usize];
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(chunk)?;
        if let Some(i) = memchr::memrchr(b'\n', chunk) {
            keep = start + i as u64 + 1;
            break;
        }
        keep = start;
    }
    if keep < len {
        tracing::warn!(
            cut = len - keep,
            "spool: cut a torn entry off the log's end"
        );
        file.set_len(keep)?;
        file.sync_data()?;
    }
    Ok(keep)
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Reads a log from an offset to a limit, across its segments.
pub(crate) struct LogReader {
    segments: Vec<(u64, PathBuf)>,
    /// Index of the next segment to open.
    next_segment: usize,
    file: Option<io::Take<File>>,
    offset: u64,
    limit: u64,
}

impl LogReader {
    /// A reader of the log in `dir` from `offset` up to `limit` (exclusive).
    ///
    /// # Errors
    /// [`io::ErrorKind::NotFound`] when the segment holding `offset` was deleted.
    pub(crate) fn open(dir: &Path, offset: u64, limit: u64) -> io::Result<LogReader> {
        let segments = segments(dir)?;
        let first = segments.partition_point(|(start, _)| *start <= offset);
        if offset < limit && first == 0 {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("{}: no segment holds offset {offset}", dir.display()),
            ));
        }
        Ok(LogReader {
            segments,
            next_segment: first.saturating_sub(1),
            file: None,
            offset,
            limit,
        })
    }

    fn open_next(&mut self) -> io::Result<bool> {
        let Some((start, path)) = self.segments.get(self.next_segment) else {
            return Ok(false);
        };
        let end = self
            .segments
            .get(self.next_segment + 1)
            .map_or(self.limit, |(s, _)| (*s).min(self.limit));
        let mut f = File::open(path)?;
        f.seek(SeekFrom::Start(self.offset - start))?;
        self.file = Some(f.take(end.saturating_sub(self.offset)));
        self.next_segment += 1;
        Ok(true)
    }
}

impl Read for LogReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.offset >= self.limit {
                return Ok(0);
            }
            if let Some(f) = &mut self.file {
                let n = f.read(buf)?;
                if n > 0 {
                    self.offset += n as u64;
                    return Ok(n);
                }
                self.file = None;
            }
            if !self.open_next()? {
                return Ok(0);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(dir: &Path, from: u64, to: u64) -> Vec<u8> {
        let mut v = Vec::new();
        LogReader::open(dir, from, to)
            .unwrap()
            .read_to_end(&mut v)
            .unwrap();
        v
    }

    #[test]
    fn log_names() {
        assert_eq!(log_name(3, 12), "g000003-w12");
        assert!(is_log_name("g000003-w12") && !is_log_name("g3-w") && !is_log_name("w1"));
        assert_eq!(generation_of("g000003-w12"), Some(3));
    }

    #[test]
    fn appends_roll_segments_and_read_back_across_them() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("g000001-w0");
        let mut log = SpoolLog::open(&dir, 10).unwrap();
        let mut all = Vec::new();
        for i in 0..20 {
            let entry = format!("entry-{i}\n");
            assert_eq!(log.append(entry.as_bytes()).unwrap(), all.len() as u64);
            all.extend_from_slice(entry.as_bytes());
        }
        log.sync().unwrap();
        assert_eq!(log.end(), all.len() as u64);
        assert!(segments(&dir).unwrap().len() > 5);
        assert_eq!(read_all(&dir, 0, log.end()), all);
        assert_eq!(read_all(&dir, 17, 40), &all[17..40]);
        // Deleting below an offset keeps the segment holding it and everything after.
        let deleted = log.delete_below(50).unwrap();
        assert!(deleted > 0);
        assert_eq!(read_all(&dir, 50, log.end()), &all[50..]);
        assert!(LogReader::open(&dir, 0, log.end()).is_err());
    }

    #[test]
    fn reopening_cuts_a_torn_tail_and_continues() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("g000001-w1");
        let mut log = SpoolLog::open(&dir, 1 << 20).unwrap();
        log.append(b"a,1\nb,2\n").unwrap();
        log.append(b"c,").unwrap(); // a crash in the middle of an entry
        drop(log);
        let mut log = SpoolLog::open(&dir, 1 << 20).unwrap();
        assert_eq!(log.end(), 8);
        log.append(b"d,4\n").unwrap();
        assert_eq!(read_all(&dir, 0, log.end()), b"a,1\nb,2\nd,4\n");
    }

    #[test]
    fn clear_removes_only_spool_files() {
        let tmp = tempfile::tempdir().unwrap();
        let mut log = SpoolLog::open(&tmp.path().join("g000001-w0"), 4).unwrap();
        log.append(b"xxxxx\n").unwrap();
        log.append(b"yy\n").unwrap();
        std::fs::create_dir(tmp.path().join("mine")).unwrap();
        std::fs::write(tmp.path().join("w0x"), b"keep").unwrap();
        clear(tmp.path()).unwrap();
        assert!(!tmp.path().join("g000001-w0").exists());
        assert!(tmp.path().join("mine").exists() && tmp.path().join("w0x").exists());
        assert_eq!(logs(tmp.path()).unwrap(), Vec::<String>::new());
    }
}
