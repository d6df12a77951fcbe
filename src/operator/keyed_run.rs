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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// What the loop asked of an operator, in order: `(prefetch?, local group, hash, key, now,
    /// input)`; prefetches carry no key.
    type Calls = Arc<Mutex<Vec<(bool, usize, u64, u32, u64, i64)>>>;

    struct Log(Calls);

    impl KeyedOperator<u32, i64, i64> for Log {
        fn process(&mut self, ctx: &KeyContext<'_, u32>, input: &mut i64, out: &mut Vec<i64>) {
            let call = (
                false,
                ctx.local_group,
                ctx.hash,
                *ctx.key,
                ctx.now_ms,
                *input,
            );
            self.0.lock().expect("log").push(call);
            *input = -*input;
            out.push(*input);
        }
        fn prefetch(&self, local_group: usize, hash: u64) {
            let call = (true, local_group, hash, 0, 0, 0);
            self.0.lock().expect("log").push(call);
        }
    }

    #[test]
    fn a_boxed_operator_sees_every_record_in_order_after_its_prefetch() {
        for ahead in [0usize, 1, 3, 16, 40] {
            let hashes: Vec<u64> = (0..20u64).map(|i| i * 0x9e37_79b9 + 5).collect();
            let keys: Vec<u32> = (100..120).collect();
            let mut values: Vec<i64> = (0..20).map(|i| i * 10).collect();
            let calls = Calls::default();
            let mut op: Box<dyn KeyedOperator<u32, i64, i64>> = Box::new(Log(calls.clone()));
            let mut out = Vec::new();
            let run = KeyedRun {
                hashes: &hashes,
                keys: &keys,
                values: &mut values,
                first_group: 64,
                kg_mask: 127,
                now_ms: 9,
                prefetch_distance: ahead,
            };
            op.process_batch(run, &mut out);
            let want: Vec<i64> = (0..20).map(|i| -i * 10).collect();
            assert_eq!(out, want, "every record, in order");
            assert_eq!(values, want, "processed in its slot");
            let calls = calls.lock().expect("log").clone();
            let local = |h: u64| ((h & 127) as u16).wrapping_sub(64) as usize;
            let processed: Vec<_> = calls.iter().filter(|c| !c.0).copied().collect();
            let expected: Vec<_> = (0..20)
                .map(|i| {
                    (
                        false,
                        local(hashes[i]),
                        hashes[i],
                        keys[i],
                        9,
                        i as i64 * 10,
                    )
                })
                .collect();
            assert_eq!(processed, expected, "ahead {ahead}");
            // Each record's state is prefetched once, before it is processed (when the
            // distance is not 0), in record order.
            let fetched: Vec<_> = calls.iter().filter(|c| c.0).map(|c| c.2).collect();
            if ahead > 0 {
                assert_eq!(fetched, hashes, "ahead {ahead}");
                for (i, &h) in hashes.iter().enumerate() {
                    let at_fetch = calls.iter().position(|c| c.0 && c.2 == h);
                    let at_proc = calls.iter().position(|c| !c.0 && c.2 == h);
                    assert!(at_fetch < at_proc, "record {i} prefetched first");
                }
            }
        }
    }
}
