//! Decoding a whole read buffer in one pass (issue 10, step 5).
//!
//! The file source used to hand its decoder one line at a time: a `memchr` for the newline,
//! the reader's bookkeeping and a dynamic call per line (~150 instructions on a 9-byte CSV
//! line, PERF.md "Issue 10, step 5"). A decoder may instead take the buffered bytes as one
//! block ([`super::LineDecoder::decode_block`]) and decode line after line in a single scan,
//! finding each line's end while it splits and parses its fields.
//!
//! The block pass is only a fast path: it stops before the first line it cannot decode
//! exactly as [`super::LineDecoder::decode`] would (a quote, a `\r`, a bad value, a line
//! longer than the maximum, an unterminated last line, ...), and the source then reads that
//! line the ordinary way — with its dead letter, reason and line number — before trying the
//! block pass again. So every record, dead letter and byte offset is the same as line by line.

/// Limits of one [`super::LineDecoder::decode_block`] call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockLimits {
    /// Most records to append.
    pub max_records: usize,
    /// Lines longer than this (without their terminator) are over-long: not decoded in a
    /// block (the line reader reports them).
    pub max_line: usize,
}

/// What a [`super::LineDecoder::decode_block`] call consumed: whole lines, each ended by `\n`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BlockRead {
    /// Bytes consumed from the block's start (the lines and their `\n`s).
    pub bytes: usize,
    /// Lines consumed (decoded, or empty and skipped).
    pub lines: u64,
}

impl BlockRead {
    /// Counts one more consumed line that ended (with its `\n`) at byte `next`.
    #[inline]
    pub fn line_to(&mut self, next: usize) {
        self.bytes = next;
        self.lines += 1;
    }
}

/// Test oracle of the block passes: the rows `dec`'s line path gives for the first
/// `read.lines` lines of `block` (empty lines skipped; `\r\n` stripped first when `strip_cr`),
/// each of which it must accept, as the block pass did, and none longer than `max_line`.
#[cfg(test)]
pub(crate) fn line_path_rows<T>(
    dec: &mut impl super::LineDecoder<T>,
    block: &[u8],
    read: BlockRead,
    max_line: usize,
    strip_cr: bool,
) -> Vec<T> {
    let consumed = &block[..read.bytes];
    assert!(consumed.is_empty() || consumed.ends_with(b"\n"));
    let lines: Vec<&[u8]> = consumed.split(|&b| b == b'\n').collect();
    assert_eq!(lines.len() as u64 - 1, read.lines);
    let mut rows = Vec::new();
    for line in &lines[..lines.len() - 1] {
        let body = line.strip_suffix(b"\r").unwrap_or(line);
        assert!(body.len() <= max_line, "an over-long line was decoded");
        if body.is_empty() {
            continue;
        }
        let given = if strip_cr { body } else { line };
        if let Err(e) = dec.decode(given, &mut rows) {
            panic!("the line path rejects {given:?}: {e}");
        }
    }
    rows
}
