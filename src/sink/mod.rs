//! Sinks: where results go, one partition per worker.
//!
//! Transactional sinks (the file sink) take part in checkpoints: at barrier `k` a partition
//! makes what it wrote durable as *pending* epoch `k` ([`SinkPartition::pre_commit`]); once
//! the checkpoint's MANIFEST is committed the coordinator publishes pending epochs `≤ k`
//! ([`Sink::commit`]). On restore, [`Sink::recover`] publishes pending epochs of the restored
//! checkpoint and deletes the rest.

pub mod file;
pub mod latency;
pub mod no_checksum;
pub mod null;
pub mod stdout;
pub mod tcp;

pub use file::FileSink;
pub use no_checksum::NoChecksum;
pub use null::NullSink;
pub use stdout::StdoutSink;
pub use tcp::TcpSink;

use serde::{Deserialize, Serialize};

/// Counts and an order-independent checksum of what a partition wrote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SinkStats {
    /// Records written.
    pub records: u64,
    /// Wrapping sum of a per-record hash (order independent).
    pub checksum: u64,
}

impl SinkStats {
    /// Adds another partition's figures.
    pub fn merge(&mut self, other: SinkStats) {
        self.records += other.records;
        self.checksum = self.checksum.wrapping_add(other.checksum);
    }
}

/// One worker's share of a sink.
pub trait SinkPartition<T>: Send {
    /// Writes a batch of records.
    ///
    /// # Errors
    /// I/O errors.
    fn write_batch(&mut self, batch: &[T]) -> crate::Result<()>;

    /// Barrier `epoch`: make everything written so far durable as pending epoch `epoch`.
    ///
    /// # Errors
    /// I/O errors (the checkpoint then fails).
    fn pre_commit(&mut self, epoch: u64) -> crate::Result<()> {
        let _ = epoch;
        Ok(())
    }

    /// End of stream: flush, close and publish what is left (when not checkpointing) and
    /// return the partition's figures.
    ///
    /// # Errors
    /// I/O errors.
    fn finish(&mut self) -> crate::Result<SinkStats>;
}

/// A sink of records of type `T`.
pub trait Sink<T>: Send + Sync {
    /// Checks that the sink can be written (e.g. the directory is creatable) before work starts.
    ///
    /// # Errors
    /// A clear error naming the unwritable path.
    fn check(&self) -> crate::Result<()> {
        Ok(())
    }

    /// Opens the partition of `worker` of `workers`. `transactional` is true when the job
    /// checkpoints (output must then wait for [`Sink::commit`]).
    ///
    /// # Errors
    /// I/O errors.
    fn open_partition(
        &self,
        worker: usize,
        workers: usize,
        transactional: bool,
    ) -> crate::Result<Box<dyn SinkPartition<T>>>;

    /// Publishes every pending epoch `≤ epoch` (called by the coordinator after the MANIFEST
    /// of checkpoint `epoch` is durable).
    ///
    /// # Errors
    /// I/O errors.
    fn commit(&self, epoch: u64) -> crate::Result<()> {
        let _ = epoch;
        Ok(())
    }

    /// On restore from checkpoint `epoch` (or a fresh start with `None`): publish pending
    /// epochs `≤ epoch`, delete in-progress files and pending epochs above it.
    ///
    /// # Errors
    /// I/O errors.
    fn recover(&self, epoch: Option<u64>) -> crate::Result<()> {
        let _ = epoch;
        Ok(())
    }

    /// Whether the sink is exactly-once under checkpoints (stdout is not).
    fn exactly_once(&self) -> bool {
        false
    }
}

/// Turns records into output bytes (CSV, JSON lines, ...).
pub trait Encoder<T>: Send + Sync {
    /// Appends the encoding of `record`, including its line terminator, to `out`.
    fn encode(&self, record: &T, out: &mut Vec<u8>);

    /// A header line to write at the start of each output file, if any.
    fn header(&self) -> Option<Vec<u8>> {
        None
    }

    /// Appends the encodings of `batch` to `out`; returns the wrapping sum of the xxh3 of each
    /// record's encoding (its line), the checksum of [`SinkStats`]. Encoders override it with
    /// the same loop over their own `encode` (one call per batch instead of a dynamic call per
    /// record).
    fn encode_all(&self, batch: &[T], out: &mut Vec<u8>) -> u64 {
        checksummed(batch, out, |r, out| self.encode(r, out))
    }

    /// Appends the encodings of `batch` to `out`, without the checksum (for sinks whose
    /// checksum nothing reads). Encoders override it as they do [`Encoder::encode_all`].
    fn encode_many(&self, batch: &[T], out: &mut Vec<u8>) {
        for record in batch {
            self.encode(record, out);
        }
    }
}

/// The body of [`Encoder::encode_all`]: encodes each record with `encode` and sums the xxh3 of
/// each encoding.
#[inline(always)]
pub(crate) fn checksummed<T>(
    batch: &[T],
    out: &mut Vec<u8>,
    mut encode: impl FnMut(&T, &mut Vec<u8>),
) -> u64 {
    let mut checksum = 0u64;
    for record in batch {
        let start = out.len();
        encode(record, out);
        let line = out.get(start..).unwrap_or_default();
        checksum = checksum.wrapping_add(xxhash_rust::xxh3::xxh3_64(line));
    }
    checksum
}

impl<T> Sink<T> for Box<dyn Sink<T>> {
    fn check(&self) -> crate::Result<()> {
        (**self).check()
    }
    fn open_partition(
        &self,
        worker: usize,
        workers: usize,
        transactional: bool,
    ) -> crate::Result<Box<dyn SinkPartition<T>>> {
        (**self).open_partition(worker, workers, transactional)
    }
    fn commit(&self, epoch: u64) -> crate::Result<()> {
        (**self).commit(epoch)
    }
    fn recover(&self, epoch: Option<u64>) -> crate::Result<()> {
        (**self).recover(epoch)
    }
    fn exactly_once(&self) -> bool {
        (**self).exactly_once()
    }
}

/// Encodes `batch` onto `buf` and adds the records and their checksum (xxh3 of each encoded
/// record, summed) to `stats`: the shared body of the text sinks' `write_batch`.
pub(crate) fn encode_batch<T>(
    encoder: &dyn Encoder<T>,
    batch: &[T],
    buf: &mut Vec<u8>,
    stats: &mut SinkStats,
) {
    let checksum = encoder.encode_all(batch, buf);
    stats.records += batch.len() as u64;
    stats.checksum = stats.checksum.wrapping_add(checksum);
}
