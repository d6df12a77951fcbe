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
