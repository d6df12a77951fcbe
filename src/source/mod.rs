//! Sources: where records come from, split across workers, replayable from a position.
//!
//! A [`Source`] is shared by all workers; each worker opens its own [`SourceSplit`]. A split's
//! work is a list of ranges ([`RangePosition`]: a file byte range, or a generator sequence
//! range). The split reports its position after every batch so that a checkpoint can record
//! it, and a restore (with the same or another worker count) can hand the remaining ranges out.

pub(crate) mod block;
#[cfg(test)]
mod block_tests;
pub mod dead_letter;
pub mod file;
pub mod generator;
mod lines;
pub mod open_loop;
pub mod paced;
#[cfg(test)]
mod robust_tests;
pub mod stdin;
pub mod tcp;

pub use block::{BlockLimits, BlockRead};
pub use dead_letter::DeadLetters;
pub use file::{DecoderFactory, FileSource};
pub use generator::{splitmix64, GeneratorSource};
pub use stdin::StdinSource;
pub use tcp::TcpSource;

use serde::{Deserialize, Serialize};

/// One range of a split's work and how far it has been read.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RangePosition {
    /// The resource: a file path, or `""` for a generator / stdin.
    pub resource: String,
    /// Next byte offset (file) or sequence number (generator) to read.
    pub next: u64,
    /// End of the range (exclusive); `u64::MAX` for unbounded.
    pub end: u64,
    /// Number of lines before `next` in the resource (for 1-based line numbers of dead letters).
    pub line: u64,
    /// The dataflow source this range belongs to (its name in the job graph); set by the
    /// runtime when it records the position, empty inside a split.
    #[serde(default)]
    pub source: String,
    /// The largest event time the split had read at this position (sources with event time),
    /// so that a restored split's watermark resumes where it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_event_time: Option<i64>,
}

/// Worker `worker`'s share of a sequence `0..total` split evenly over `workers`: the range
/// `[w·total/N, (w+1)·total/N)` of `resource` (the generators' work before any checkpoint).
pub fn sequence_share(
    resource: &str,
    total: u64,
    worker: usize,
    workers: usize,
) -> Vec<RangePosition> {
    let cut = |w: usize| (u128::from(total) * w as u128 / workers.max(1) as u128) as u64;
    vec![RangePosition {
        resource: resource.to_string(),
        next: cut(worker),
        end: cut(worker + 1),
        ..RangePosition::default()
    }]
}

/// What a poll of a split produced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Poll {
    /// Zero or more records were appended; more may follow at once.
    Ready,
    /// Nothing is available now (stdin, TCP, rate limit); poll again later.
    Idle,
    /// The split is exhausted.
    End,
}

/// Errors of sources.
pub type SourceResult<T> = crate::Result<T>;

/// One worker's share of a source.
pub trait SourceSplit<T>: Send {
    /// Appends up to `max` records to `out`. Malformed input goes to `dead` (or becomes an
    /// [`crate::Error::Data`] when the dead-letter policy is fail-fast).
    ///
    /// # Errors
    /// I/O errors, or a data error in fail-fast mode.
    fn poll_batch(
        &mut self,
        out: &mut Vec<T>,
        max: usize,
        dead: &mut DeadLetters,
    ) -> SourceResult<Poll>;

    /// The replay position after the last record returned: every range of this split.
    fn position(&self) -> Vec<RangePosition>;

    /// Well-formed records this split has read so far (before any stateless filtering).
    /// Splits that do not count return 0 and wrappers count for them.
    fn records_read(&self) -> u64 {
        0
    }
}

/// A source of records of type `T`.
pub trait Source<T>: Send + Sync {
    /// A name for logs and dead letters (`file:path`, `stdin`, `generator`).
    fn name(&self) -> String;

    /// Whether the source can rewind to a recorded position (stdin cannot).
    fn replayable(&self) -> bool;

    /// Checks that the source can be read (e.g. the input file exists) before work starts.
    ///
    /// # Errors
    /// A clear error naming the missing or unreadable resource.
    fn check(&self) -> SourceResult<()> {
        Ok(())
    }

    /// Opens the split of `worker` of `workers`. With `resume`, the split reads exactly these
    /// ranges from their recorded positions instead of computing its own share.
    ///
    /// # Errors
    /// I/O errors opening the resources.
    fn open_split(
        &self,
        worker: usize,
        workers: usize,
        resume: Option<Vec<RangePosition>>,
    ) -> SourceResult<Box<dyn SourceSplit<T>>>;
}

/// Turns input lines into records (CSV, JSON lines, ...). One instance per split.
pub trait LineDecoder<T>: Send {
    /// Whether the first line of each file is a header (skipped, and checked by
    /// [`LineDecoder::check_header`]).
    fn has_header(&self) -> bool {
        false
    }

    /// Checks a file's header line.
    ///
    /// # Errors
    /// The reason the header does not match the schema.
    fn check_header(&mut self, line: &[u8]) -> Result<(), String> {
        let _ = line;
        Ok(())
    }

    /// Decodes one line (without its line terminator) and appends the record to `out`.
    ///
    /// # Errors
    /// The reason the line is malformed (it then goes to the dead letters).
    fn decode(&mut self, line: &[u8], out: &mut Vec<T>) -> Result<(), String>;

    /// Decodes whole `\n`-ended lines from the start of `block` (which starts at a line
    /// start) in one pass, appending one record per line (empty lines are skipped), and stops
    /// before the first line it cannot decode exactly as [`LineDecoder::decode`] would, or
    /// that is longer than `limits.max_line`, or after `limits.max_records` records. The
    /// default decodes nothing (every line goes through `decode`); see `source/block.rs`.
    fn decode_block(&mut self, block: &[u8], limits: BlockLimits, out: &mut Vec<T>) -> BlockRead {
        let _ = (block, limits, out);
        BlockRead::default()
    }
}

impl<T> Source<T> for Box<dyn Source<T>> {
    fn name(&self) -> String {
        (**self).name()
    }
    fn replayable(&self) -> bool {
        (**self).replayable()
    }
    fn check(&self) -> SourceResult<()> {
        (**self).check()
    }
    fn open_split(
        &self,
        worker: usize,
        workers: usize,
        resume: Option<Vec<RangePosition>>,
    ) -> SourceResult<Box<dyn SourceSplit<T>>> {
        (**self).open_split(worker, workers, resume)
    }
}
