//! What travels on a ring between workers.

/// A record with its key and the key's stable hash (routing needs the hash, the keyed stage
/// needs the key group: computed once at the sender). On the rings, keyed records travel as
/// a [`super::KeyedBatch`] (the three parts in parallel vectors).
#[derive(Clone, Debug, PartialEq)]
pub struct Keyed<K, T> {
    /// Stable hash of `key` ([`crate::state::StableKey`]); [`LOCAL`] for unkeyed streams.
    pub hash: u64,
    /// The key.
    pub key: K,
    /// The record.
    pub value: T,
}

/// Hash marker of records of unkeyed streams: they stay on the worker that read them.
pub const LOCAL: u64 = u64::MAX;

/// A message on a ring; `B` is the batch type ([`super::Batch`]).
#[derive(Debug)]
pub enum Msg<B> {
    /// A batch of records.
    Data(B),
    /// Event-time watermark of the sender, in milliseconds.
    Watermark(i64),
    /// The sender has no records for now and must not hold the watermark back; it rejoins
    /// with its next watermark.
    Idle,
    /// Checkpoint barrier `k`: everything before belongs to checkpoint `k`.
    Barrier(u64),
    /// The sender's source is exhausted; nothing follows.
    End,
    /// Latency runs only: the next data batch, watermark or end on this ring carries this
    /// stamp (see [`crate::runtime::stamp`]).
    Stamp(u64),
}
