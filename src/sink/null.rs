//! The null sink: discards records, keeping a count and an order-independent checksum (the
//! W1 benchmark's sink).

use super::{Sink, SinkPartition, SinkStats};
use std::marker::PhantomData;

/// Discards records; [`SinkStats::checksum`] is the wrapping sum of `f(record)`.
pub struct NullSink<T, F> {
    f: F,
    _record: PhantomData<fn(&T)>,
}

impl<T, F> NullSink<T, F>
where
    F: Fn(&T) -> u64 + Send + Sync + Clone,
{
    /// A null sink whose checksum is the wrapping sum of `f` over the records.
    pub fn new(f: F) -> Self {
        NullSink {
            f,
            _record: PhantomData,
        }
    }
}

impl<T> NullSink<T, fn(&T) -> u64> {
    /// A null sink that only counts records (checksum 0).
    pub fn counting() -> Self {
        NullSink {
            f: |_| 0,
            _record: PhantomData,
        }
    }
}

impl<T: 'static, F> Sink<T> for NullSink<T, F>
where
    F: Fn(&T) -> u64 + Send + Sync + Clone + 'static,
{
    fn open_partition(
        &self,
        _worker: usize,
        _workers: usize,
        _transactional: bool,
    ) -> crate::Result<Box<dyn SinkPartition<T>>> {
        Ok(Box::new(NullPartition {
            f: self.f.clone(),
            stats: SinkStats::default(),
            _record: PhantomData,
        }))
    }
}

struct NullPartition<T, F> {
    f: F,
    stats: SinkStats,
    _record: PhantomData<fn(&T)>,
}

impl<T, F> SinkPartition<T> for NullPartition<T, F>
where
    F: Fn(&T) -> u64 + Send,
{
    fn write_batch(&mut self, batch: &[T]) -> crate::Result<()> {
        let f = &self.f;
        let sum = batch.iter().fold(0u64, |acc, r| acc.wrapping_add(f(r)));
        self.stats.records += batch.len() as u64;
        self.stats.checksum = self.stats.checksum.wrapping_add(sum);
        Ok(())
    }

    fn finish(&mut self) -> crate::Result<SinkStats> {
        Ok(self.stats)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::splitmix64;

    #[test]
    fn checksum_is_order_independent_and_counting_counts() {
        let sink = NullSink::new(|r: &(u64, i64)| splitmix64(r.0) ^ r.1 as u64);
        let records: Vec<(u64, i64)> = (0..1000).map(|i| (i, i as i64 * 3)).collect();
        let mut forward = sink.open_partition(0, 2, true).unwrap();
        let mut backward = sink.open_partition(1, 2, true).unwrap();
        for chunk in records.chunks(64) {
            forward.write_batch(chunk).unwrap();
        }
        let reversed: Vec<_> = records.iter().rev().copied().collect();
        backward.write_batch(&reversed).unwrap();
        let (a, b) = (forward.finish().unwrap(), backward.finish().unwrap());
        let want = records.iter().fold(0u64, |acc, r| {
            acc.wrapping_add(splitmix64(r.0) ^ r.1 as u64)
        });
        assert_eq!(
            a,
            SinkStats {
                records: 1000,
                checksum: want
            }
        );
        assert_eq!(a, b);

        let mut counting = NullSink::<u8, _>::counting()
            .open_partition(0, 1, false)
            .unwrap();
        counting.write_batch(&[1, 2, 3]).unwrap();
        assert_eq!(
            counting.finish().unwrap(),
            SinkStats {
                records: 3,
                checksum: 0
            }
        );
    }
}
