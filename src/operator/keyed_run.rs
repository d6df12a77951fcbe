//! [`KeyedRun`]: a batch of keyed records as the stage hands it to an operator.
//!
//! The keyed stage used to call the operator once per record (and its `prefetch` once per
//! record, a few records ahead). For the command line's boxed operators (`Box<dyn
//! KeyedOperator>`) that was two indirect calls per record. The stage now hands over the
//! whole batch ([`super::KeyedOperator::process_batch`]); the box forwards it once, and the
//! loop below runs monomorphised for the operator inside, where `process` and `prefetch`
//! are direct calls the compiler can inline.

use super::KeyedOperator;
use crate::state::KeyContext;

/// The records of one batch with their keys and stable hashes (element `i` of each belongs
/// to record `i`), and what the loop over them needs to know.
pub struct KeyedRun<'a, K, I> {
    /// Stable hash of each record's key.
    pub hashes: &'a [u64],
    /// Each record's key.
    pub keys: &'a [K],
    /// The records, processed in their slots.
    pub values: &'a mut [I],
    /// First key group of the worker (local group = key group − this).
    pub first_group: u16,
    /// `max_parallelism − 1`: key group = hash & mask.
    pub kg_mask: u64,
    /// Processing time of this step.
    pub now_ms: u64,
    /// How many records ahead state is prefetched.
    pub prefetch_distance: usize,
}

impl<K, I> KeyedRun<'_, K, I> {
    /// Runs `op` over the records in order, prefetching the state of the record
    /// `prefetch_distance` ahead so that the cache misses of consecutive records overlap.
    #[inline]
    pub fn run<O, Op>(self, op: &mut Op, out: &mut Vec<O>)
    where
        Op: KeyedOperator<K, I, O> + ?Sized,
    {
        let (start, mask, ahead) = (self.first_group, self.kg_mask, self.prefetch_distance);
        let local = |hash: u64| ((hash & mask) as u16).wrapping_sub(start) as usize;
        let hashes = self.hashes;
        for &h in hashes.iter().take(ahead) {
            op.prefetch(local(h), h);
        }
        for (i, ((&hash, key), value)) in hashes.iter().zip(self.keys).zip(self.values).enumerate()
        {
            if let Some(&h) = hashes.get(i + ahead) {
                op.prefetch(local(h), h);
            }
            let ctx = KeyContext {
                key,
                local_group: local(hash),
                hash,
                now_ms: self.now_ms,
            };
            op.process(&ctx, value, out);
        }
    }
}
