//! The file source: one file or a directory of files, split by byte ranges, replayable from
//! byte offsets.
//!
//! Worker `w` of `n` gets the bytes `[w*S/n, (w+1)*S/n)` of the concatenation of all files
//! (`S` = total size), as per-file ranges. A range that does not start at a line start skips
//! the partial line it starts in; a range reads every line that *starts* before its end. So
//! every line is read by exactly one split, whatever `n`.

use super::lines::{LineReader, Step, READ_SIZE};
use super::{
    BlockLimits, DeadLetters, LineDecoder, Poll, RangePosition, Source, SourceResult, SourceSplit,
};
use crate::error::Error;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Makes a fresh line decoder (one per split).
pub type DecoderFactory<T> = Arc<dyn Fn() -> Box<dyn LineDecoder<T>> + Send + Sync>;

/// An input file and its size.
type Listing = Arc<Vec<(PathBuf, u64)>>;

/// Reads records, one per line, from a file or from the regular, non-hidden files of a
/// directory (in name order).
pub struct FileSource<T> {
    path: PathBuf,
    decoder: DecoderFactory<T>,
    max_line_bytes: usize,
    /// The file list taken by the first fresh `open_split`, so that every worker splits the
    /// same byte sequence even if the files change meanwhile.
    listing: Mutex<Option<Listing>>,
}

impl<T> FileSource<T> {
    /// A source reading `path` (a file or a directory), decoding lines with decoders made by
    /// `decoder`; lines longer than `max_line_bytes` go to the dead letters.
    pub fn new(
        path: impl Into<PathBuf>,
        decoder: DecoderFactory<T>,
        max_line_bytes: usize,
    ) -> Self {
        FileSource {
            path: path.into(),
            decoder,
            max_line_bytes,
            listing: Mutex::new(None),
        }
    }

    /// The input files and their sizes: `path` itself, or the regular, non-hidden files of the
    /// directory `path`, sorted by name.
    ///
    /// # Errors
    /// [`Error::Io`] naming the path that cannot be read.
    pub fn files(&self) -> crate::Result<Vec<(PathBuf, u64)>> {
        let meta = std::fs::metadata(&self.path).map_err(|e| Error::io(&self.path, e))?;
        if !meta.is_dir() {
            return Ok(vec![(self.path.clone(), meta.len())]);
        }
        let mut files = Vec::new();
        for entry in std::fs::read_dir(&self.path).map_err(|e| Error::io(&self.path, e))? {
            let entry = entry.map_err(|e| Error::io(&self.path, e))?;
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            let path = entry.path();
            let meta = std::fs::metadata(&path).map_err(|e| Error::io(&path, e))?;
            if meta.is_file() {
                files.push((path, meta.len()));
            }
        }
        files.sort();
        Ok(files)
    }

    fn listing(&self) -> crate::Result<Listing> {
        let mut guard = self.listing.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(listing) = guard.as_ref() {
            return Ok(Arc::clone(listing));
        }
        let listing = Arc::new(self.files()?);
        *guard = Some(Arc::clone(&listing));
        Ok(listing)
    }
}

/// The raw byte ranges of worker `worker` of `workers` over `files` (not yet aligned to line
/// starts; `line` is 0).
pub(crate) fn byte_ranges(
    files: &[(PathBuf, u64)],
    worker: usize,
    workers: usize,
) -> Vec<RangePosition> {
    let total: u64 = files.iter().map(|f| f.1).sum();
    let cut = |w: usize| (u128::from(total) * w as u128 / workers as u128) as u64;
    let (lo, hi) = (cut(worker), cut(worker + 1));
    let mut ranges = Vec::new();
    let mut base = 0u64;
    for (path, size) in files {
        let (start, end) = (lo.max(base), hi.min(base + size));
        if start < end {
            let resource = path.to_string_lossy().into_owned();
            ranges.push(RangePosition {
                resource,
                next: start - base,
                end: end - base,
                line: 0,
                source: String::new(),
                max_event_time: None,
            });
        }
        base += size;
    }
    ranges
}

/// Moves `start` to the first line start at or after it: counts the newlines before `start`
/// and, unless the byte before `start` is a newline, skips the partial line. Returns the line
/// start and the number of lines before it.
fn align_start(file: &mut File, start: u64) -> io::Result<(u64, u64)> {
    file.seek(SeekFrom::Start(0))?;
    let mut buf = vec![0u8; READ_SIZE];
    let (mut pos, mut lines, mut last) = (0u64, 0u64, b'\n');
    while pos < start {
        let want = (start - pos).min(buf.len() as u64) as usize;
        let n = file.read(&mut buf[..want])?;
        if n == 0 {
            break;
        }
        lines += memchr::memchr_iter(b'\n', &buf[..n]).count() as u64;
        last = buf[n - 1];
        pos += n as u64;
    }
    if last == b'\n' {
        return Ok((pos, lines));
    }
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            return Ok((pos, lines + 1));
        }
        if let Some(i) = memchr::memchr(b'\n', &buf[..n]) {
            return Ok((pos + i as u64 + 1, lines + 1));
        }
        pos += n as u64;
    }
}

impl<T: 'static> Source<T> for FileSource<T> {
    fn name(&self) -> String {
        format!("file:{}", self.path.display())
    }

    fn replayable(&self) -> bool {
        true
    }

    fn check(&self) -> SourceResult<()> {
        for (path, _) in self.files()? {
            File::open(&path).map_err(|e| Error::io(&path, e))?;
        }
        Ok(())
    }

    fn open_split(
        &self,
        worker: usize,
        workers: usize,
        resume: Option<Vec<RangePosition>>,
    ) -> SourceResult<Box<dyn SourceSplit<T>>> {
        if worker >= workers {
            return Err(Error::Runtime(format!(
                "file source: worker {worker} of {workers}"
            )));
        }
        let ranges = match resume {
            Some(ranges) => ranges,
            None => {
                let mut ranges = byte_ranges(&self.listing()?, worker, workers);
                for r in ranges.iter_mut().filter(|r| r.next > 0) {
                    let mut file =
                        File::open(&r.resource).map_err(|e| Error::io(&r.resource, e))?;
                    (r.next, r.line) =
                        align_start(&mut file, r.next).map_err(|e| Error::io(&r.resource, e))?;
                }
                ranges
            }
        };
        let decoder = (self.decoder)();
        Ok(Box::new(FileSplit {
            ranges,
            current: 0,
            reader: None,
            has_header: decoder.has_header(),
            decoder,
            max_line_bytes: self.max_line_bytes,
        }))
    }
}

/// One worker's ranges, read in order.
struct FileSplit<T> {
    /// The ranges; `ranges[current]` is stale while `reader` is open (the reader has its
    /// position).
    ranges: Vec<RangePosition>,
    current: usize,
    reader: Option<LineReader<File>>,
    decoder: Box<dyn LineDecoder<T>>,
    has_header: bool,
    max_line_bytes: usize,
}

impl<T> FileSplit<T> {
    /// Opens `ranges[current]`; reads and checks the header when the range starts the file.
    fn open_current(&mut self) -> SourceResult<()> {
        let range = &self.ranges[self.current];
        let path = Path::new(&range.resource);
        let mut file = File::open(path).map_err(|e| Error::io(path, e))?;
        file.seek(SeekFrom::Start(range.next))
            .map_err(|e| Error::io(path, e))?;
        let mut reader =
            LineReader::new(file, range.next, range.line, range.end, self.max_line_bytes);
        if range.next == 0 && self.has_header {
            if let Step::Line(line) = reader.next_line(true).map_err(|e| Error::io(path, e))? {
                self.decoder
                    .check_header(line.bytes)
                    .map_err(|reason| Error::Data {
                        source_name: range.resource.clone(),
                        line: 1,
                        reason: format!("header does not match the schema: {reason}"),
                    })?;
            }
        }
        self.reader = Some(reader);
        Ok(())
    }
}

impl<T> SourceSplit<T> for FileSplit<T> {
    fn poll_batch(
        &mut self,
        out: &mut Vec<T>,
        max: usize,
        dead: &mut DeadLetters,
    ) -> SourceResult<Poll> {
        let before = out.len();
        loop {
            if self.reader.is_none() {
                let Some(range) = self.ranges.get(self.current) else {
                    return Ok(if out.len() > before {
                        Poll::Ready
                    } else {
                        Poll::End
                    });
                };
                if range.next >= range.end {
                    self.current += 1;
                    continue;
                }
                self.open_current()?;
            }
            let range = &mut self.ranges[self.current];
            let reader = self.reader.as_mut().expect("opened above");
            loop {
                let room = max.saturating_sub(out.len() - before);
                if room == 0 {
                    return Ok(Poll::Ready);
                }
                // Whole lines in one pass first; the line the block pass stops at (if any)
                // is read below, line by line.
                let limits = BlockLimits {
                    max_records: room,
                    max_line: self.max_line_bytes,
                };
                let read = self.decoder.decode_block(reader.block(), limits, out);
                if read.lines > 0 {
                    reader.consume(read);
                    continue;
                }
                match reader
                    .next_line(true)
                    .map_err(|e| Error::io(&range.resource, e))?
                {
                    Step::Line(line) if line.too_long => {
                        let reason = format!("line longer than {} bytes", self.max_line_bytes);
                        dead.report(&range.resource, line.number, &reason, line.bytes)?;
                    }
                    Step::Line(line) => {
                        if line.bytes.is_empty() {
                            continue;
                        }
                        if let Err(reason) = self.decoder.decode(line.bytes, out) {
                            dead.report(&range.resource, line.number, &reason, line.bytes)?;
                        }
                    }
                    Step::NeedRead => {}
                    Step::End => break,
                }
            }
            range.next = reader.offset();
            range.line = reader.lines();
            self.reader = None;
            self.current += 1;
        }
    }

    fn position(&self) -> Vec<RangePosition> {
        let mut ranges = self.ranges.clone();
        if let (Some(reader), Some(range)) = (&self.reader, ranges.get_mut(self.current)) {
            range.next = reader.offset();
            range.line = reader.lines();
        }
        ranges
    }
}

#[cfg(test)]
#[path = "file_tests.rs"]
mod tests;
