//! A line splitter over any [`Read`]: large buffered reads, no per-line allocation, `\r\n`
//! stripped, over-long lines cut short and skipped up to their newline.
//!
//! Shared by the file source (one reader per byte range) and the stdin reader thread.

use std::io::{self, Read};

/// Bytes asked of the underlying reader per read (and the initial buffer size).
pub(crate) const READ_SIZE: usize = 256 * 1024;

/// Bytes of an over-long line kept for its dead letter when the line does not fit the buffer.
const LONG_PREFIX: usize = 4096;

/// One line handed out by [`LineReader::next_line`].
pub(crate) struct Line<'a> {
    /// The line without its terminator (`\n` or `\r\n`). For an over-long line, a prefix.
    pub bytes: &'a [u8],
    /// 1-based line number in the stream.
    pub number: u64,
    /// The line is longer than the reader's maximum (it was skipped).
    pub too_long: bool,
}

/// What [`LineReader::next_line`] produced.
pub(crate) enum Step<'a> {
    /// The next line.
    Line(Line<'a>),
    /// No complete line is buffered and reading was not allowed.
    NeedRead,
    /// End of input, or the next line starts at or after the limit.
    End,
}

/// Splits a byte stream into lines.
///
/// Invariant: `start <= scanned <= filled <= buf.len()`; `buf[start..scanned]` holds no `\n`;
/// `base + start` is the stream offset of the first unconsumed line, and `lines` the number
/// of lines before it.
pub(crate) struct LineReader<R> {
    reader: R,
    buf: Vec<u8>,
    start: usize,
    scanned: usize,
    filled: usize,
    base: u64,
    lines: u64,
    limit: u64,
    max_line: usize,
    eof: bool,
    /// Copy of an over-long line's prefix (its bytes were discarded while skipping it).
    long: Vec<u8>,
}

impl<R: Read> LineReader<R> {
    /// A reader positioned at stream offset `offset` (a line start) with `lines` lines before
    /// it; lines starting at or after `limit` are not read.
    pub(crate) fn new(reader: R, offset: u64, lines: u64, limit: u64, max_line: usize) -> Self {
        LineReader {
            reader,
            buf: vec![0; READ_SIZE],
            start: 0,
            scanned: 0,
            filled: 0,
            base: offset,
            lines,
            limit,
            max_line,
            eof: false,
            long: Vec::new(),
        }
    }

    /// Stream offset of the first unconsumed line.
    pub(crate) fn offset(&self) -> u64 {
        self.base + self.start as u64
    }

    /// Number of lines before [`LineReader::offset`].
    pub(crate) fn lines(&self) -> u64 {
        self.lines
    }

    /// The buffered bytes from the first unconsumed line on, cut where lines may no longer
    /// start (the limit): a line that starts before the limit but ends after the cut is not
    /// complete in the block, so a block decoder leaves it to [`LineReader::next_line`].
    pub(crate) fn block(&self) -> &[u8] {
        let room = self.limit.saturating_sub(self.offset());
        let end = (self.filled - self.start).min(usize::try_from(room).unwrap_or(usize::MAX));
        &self.buf[self.start..self.start + end]
    }

    /// Consumes what a block decoder read from [`LineReader::block`]: whole lines.
    pub(crate) fn consume(&mut self, read: super::BlockRead) {
        debug_assert!(read.bytes <= self.filled - self.start);
        self.start += read.bytes.min(self.filled - self.start);
        self.scanned = self.scanned.max(self.start);
        self.lines = self.lines.saturating_add(read.lines);
    }

    /// The next line. With `read_more == false` it returns [`Step::NeedRead`] instead of
    /// reading when no complete line is buffered (skipping an over-long line may still read).
    ///
    /// # Errors
    /// Errors of the underlying reader.
    pub(crate) fn next_line(&mut self, read_more: bool) -> io::Result<Step<'_>> {
        loop {
            if self.offset() >= self.limit {
                return Ok(Step::End);
            }
            if let Some(i) = memchr::memchr(b'\n', &self.buf[self.scanned..self.filled]) {
                let newline = self.scanned + i;
                return Ok(Step::Line(self.take_line(newline, newline + 1)));
            }
            self.scanned = self.filled;
            let pending = self.filled - self.start;
            // `+ 1`: a line of `max_line` bytes may still be followed by `\r\n`.
            if pending > self.max_line.saturating_add(1) {
                self.long.clear();
                self.long.extend_from_slice(
                    &self.buf[self.start..self.start + pending.min(LONG_PREFIX)],
                );
                self.skip_line()?;
                return Ok(Step::Line(Line {
                    bytes: &self.long,
                    number: self.lines,
                    too_long: true,
                }));
            }
            if self.eof {
                if pending == 0 {
                    return Ok(Step::End);
                }
                let end = self.filled;
                return Ok(Step::Line(self.take_line(end, end)));
            }
            if !read_more {
                return Ok(Step::NeedRead);
            }
            self.fill()?;
        }
    }

    /// Consumes the line `buf[start..end]` whose successor starts at `next`.
    fn take_line(&mut self, end: usize, next: usize) -> Line<'_> {
        let begin = self.start;
        self.start = next;
        self.scanned = next;
        self.lines = self.lines.saturating_add(1);
        let end = if end > begin && self.buf[end - 1] == b'\r' {
            end - 1
        } else {
            end
        };
        Line {
            bytes: &self.buf[begin..end],
            number: self.lines,
            too_long: end - begin > self.max_line,
        }
    }

    /// Discards the current line up to and including its newline (or to the end of input).
    fn skip_line(&mut self) -> io::Result<()> {
        loop {
            if let Some(i) = memchr::memchr(b'\n', &self.buf[self.scanned..self.filled]) {
                self.start = self.scanned + i + 1;
                self.scanned = self.start;
                self.lines = self.lines.saturating_add(1);
                return Ok(());
            }
            self.base += self.filled as u64;
            self.start = 0;
            self.scanned = 0;
            self.filled = 0;
            if self.eof {
                self.lines = self.lines.saturating_add(1);
                return Ok(());
            }
            self.fill()?;
        }
    }

    /// Moves the partial line to the front of the buffer (growing it when full) and reads.
    fn fill(&mut self) -> io::Result<()> {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.filled, 0);
            self.base += self.start as u64;
            self.filled -= self.start;
            self.scanned -= self.start;
            self.start = 0;
        }
        if self.filled == self.buf.len() {
            let grown = self.buf.len() * 2;
            self.buf.resize(grown, 0);
        }
        loop {
            match self.reader.read(&mut self.buf[self.filled..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(());
                }
                Ok(n) => {
                    self.filled += n;
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(input: &[u8], max: usize) -> Vec<(String, u64, bool)> {
        let mut r = LineReader::new(input, 0, 0, u64::MAX, max);
        let mut v = Vec::new();
        while let Step::Line(l) = r.next_line(true).unwrap() {
            v.push((
                String::from_utf8_lossy(l.bytes).into_owned(),
                l.number,
                l.too_long,
            ));
        }
        assert_eq!(r.offset(), input.len() as u64);
        v
    }

    #[test]
    fn splits_strips_and_numbers() {
        let v = all(b"a\r\n\nbc\nlast", 100);
        let want = [
            ("a", 1, false),
            ("", 2, false),
            ("bc", 3, false),
            ("last", 4, false),
        ];
        assert_eq!(v, want.map(|(s, n, t)| (s.to_string(), n, t)));
    }

    #[test]
    fn over_long_lines_are_flagged_and_skipped() {
        let long = "x".repeat(READ_SIZE * 3);
        let input = format!("ok\n{long}\nabcdef\nafter\n{long}");
        let v = all(input.as_bytes(), 5);
        assert_eq!(v.len(), 5);
        assert!(v[1].2 && v[1].1 == 2 && v[1].0.len() == LONG_PREFIX);
        assert_eq!((v[2].0.as_str(), v[2].2), ("abcdef", true));
        assert_eq!((v[3].0.as_str(), v[3].1, v[3].2), ("after", 4, false));
        assert!(v[4].2 && v[4].1 == 5);
    }

    #[test]
    fn long_lines_within_the_limit_grow_the_buffer() {
        let long = "y".repeat(READ_SIZE * 2 + 7);
        let input = format!("{long}\r\nz\n");
        let v = all(input.as_bytes(), READ_SIZE * 4);
        assert_eq!(v[0].0, long);
        assert_eq!(v[1].0, "z");
    }

    #[test]
    fn stops_at_the_limit_and_reports_need_read() {
        let mut r = LineReader::new(&b"ab\ncd\nef\n"[..], 10, 3, 16, 100);
        assert!(matches!(r.next_line(false).unwrap(), Step::NeedRead));
        let Step::Line(l) = r.next_line(true).unwrap() else {
            panic!("line expected")
        };
        assert_eq!((l.bytes, l.number), (&b"ab"[..], 4));
        assert!(matches!(r.next_line(false).unwrap(), Step::Line(_)));
        // "ef" starts at offset 16 = limit: not read.
        assert!(matches!(r.next_line(true).unwrap(), Step::End));
        assert_eq!((r.offset(), r.lines()), (16, 5));
    }
}
