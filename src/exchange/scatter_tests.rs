use super::*;
use crate::exchange::Batch;
use proptest::prelude::*;
use std::sync::Arc;

/// A value that counts its live copies through `Arc`'s strong count: a leak or a double drop
/// of a moved item shows in the count.
#[derive(Debug, Clone)]
struct Tracked(u32, #[allow(dead_code)] Arc<()>);

impl PartialEq for Tracked {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

/// The hash of record `r` bound for destination `d`: the destination in the low byte (the
/// tests' `dest_of`).
fn hash_to(r: u32, d: u32) -> u64 {
    (r as u64) << 8 | d as u64
}

/// The destination of a hash made by [`hash_to`].
fn dest_in_hash(h: u64) -> usize {
    (h & 0xff) as usize
}

/// The reference: destination `d` gets, after what it held, the records routed to `d` in
/// their order, each with its own key and hash.
fn reference(held: &[Vec<u32>], dests: &[u32], records: &[u32]) -> Vec<Vec<(u64, String, u32)>> {
    held.iter()
        .enumerate()
        .map(|(d, old)| {
            let before = old.iter().map(|&r| (r as u64 + 1000, format!("k{r}"), r));
            let routed = records
                .iter()
                .zip(dests)
                .filter(|(_, &to)| to as usize == d)
                .map(|(&r, &to)| (hash_to(r, to), format!("k{r}"), r));
            before.chain(routed).collect()
        })
        .collect()
}

fn contents(b: &mut KeyedBatch<String, Tracked>) -> Vec<(u64, String, u32)> {
    let (h, k, v) = b.parts_mut();
    h.iter()
        .zip(k)
        .zip(v.iter())
        .map(|((&h, k), v)| (h, k.clone(), v.0))
        .collect()
}

proptest! {
    #[test]
    fn scatter_equals_a_filter_per_destination(
        n_dest in 1usize..5,
        held in proptest::collection::vec(proptest::collection::vec(0u32..50, 0..6), 5),
        routed in proptest::collection::vec((0u32..1000, 0u32..5), 0..200),
    ) {
        let live = Arc::new(());
        let held = &held[..n_dest];
        let mut bufs: Vec<KeyedBatch<String, Tracked>> = held
            .iter()
            .map(|old| {
                let mut b = KeyedBatch::with_capacity(2);
                for &r in old {
                    b.push(r as u64 + 1000, format!("k{r}"), Tracked(r, live.clone()));
                }
                b
            })
            .collect();
        let records: Vec<u32> = routed.iter().map(|&(r, _)| r).collect();
        let dests: Vec<u32> = routed.iter().map(|&(_, d)| d % n_dest as u32).collect();
        let hashes: Vec<u64> = records.iter().zip(&dests).map(|(&r, &d)| hash_to(r, d)).collect();
        let mut keys: Vec<String> = records.iter().map(|r| format!("k{r}")).collect();
        let mut values: Vec<Tracked> = records.iter().map(|&r| Tracked(r, live.clone())).collect();
        scatter(&mut bufs, dest_in_hash, &hashes, &mut keys, &mut values);
        prop_assert!(keys.is_empty() && values.is_empty());
        let got: Vec<_> = bufs.iter_mut().map(contents).collect();
        prop_assert_eq!(got, reference(held, &dests, &records));
        let total: usize = bufs.iter().map(|b| b.len()).sum();
        prop_assert_eq!(Arc::strong_count(&live), 1 + total);
        drop(bufs);
        drop(values);
        prop_assert_eq!(Arc::strong_count(&live), 1, "every record dropped exactly once");
    }
}

#[test]
#[should_panic(expected = "different lengths")]
fn inputs_of_different_lengths_are_refused() {
    let mut bufs = vec![KeyedBatch::<u8, u8>::with_capacity(1)];
    scatter(
        &mut bufs,
        dest_in_hash,
        &[0, 0],
        &mut vec![1, 2],
        &mut vec![1],
    );
}

#[test]
fn a_bad_destination_leaks_the_rest_but_drops_nothing_twice() {
    let live = Arc::new(());
    let mut bufs = vec![KeyedBatch::<u8, Tracked>::with_capacity(1)];
    let mut values: Vec<Tracked> = (0..3).map(|i| Tracked(i, live.clone())).collect();
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        scatter(
            &mut bufs,
            dest_in_hash,
            &[0, 7, 0],
            &mut vec![1, 2, 3],
            &mut values,
        )
    }));
    assert!(caught.is_err());
    assert_eq!(bufs[0].len(), 1, "the record before the bad one was moved");
    assert!(values.is_empty());
    drop(bufs);
    // The two records not moved leaked (their counts stay): never a double drop.
    assert_eq!(Arc::strong_count(&live), 3);
}

/// Items wider than the 128 bytes `move_item` copies at once arrive whole.
#[test]
fn wide_items_are_moved_whole() {
    let live = Arc::new(());
    type Wide = ([u64; 21], Tracked);
    let wide = |i: u32| -> Wide {
        let mut w = [0u64; 21];
        for (j, x) in w.iter_mut().enumerate() {
            *x = (i as u64) << 32 | j as u64;
        }
        (w, Tracked(i, live.clone()))
    };
    assert!(std::mem::size_of::<Wide>() > 128);
    let mut bufs: Vec<KeyedBatch<Wide, Wide>> =
        (0..3).map(|_| KeyedBatch::with_capacity(1)).collect();
    let hashes: Vec<u64> = (0..40).collect();
    let mut keys: Vec<Wide> = (0..40).map(|i| wide(i + 100)).collect();
    let mut values: Vec<Wide> = (0..40).map(wide).collect();
    scatter(
        &mut bufs,
        |h| (h * 7 % 3) as usize,
        &hashes,
        &mut keys,
        &mut values,
    );
    for (d, b) in bufs.iter_mut().enumerate() {
        let (h, k, v) = b.parts_mut();
        let want: Vec<u32> = (0..40).filter(|i| i * 7 % 3 == d as u32).collect();
        assert_eq!(h, want.iter().map(|&i| i as u64).collect::<Vec<_>>());
        for ((&i, k), v) in want.iter().zip(k).zip(v.iter()) {
            assert_eq!((k.0, k.1 .0), (wide(i + 100).0, i + 100));
            assert_eq!((v.0, v.1 .0), (wide(i).0, i));
        }
    }
    assert_eq!(Arc::strong_count(&live), 81);
    drop(bufs);
    assert_eq!(Arc::strong_count(&live), 1, "each item dropped once");
}

/// A route keyed by the record itself (its hash is the record).
#[derive(Clone)]
struct ByValue;

impl Route<u64, u64, u64> for ByValue {
    fn key(&self, record: &u64) -> (u64, u64) {
        (*record, *record)
    }
    fn value(&self, record: u64) -> u64 {
        record
    }
}

/// An unkeyed route: every record stays on its worker.
#[derive(Clone)]
struct Stay;

impl Route<u64, (), u64> for Stay {
    const LOCAL_ONLY: bool = true;
    fn key(&self, _record: &u64) -> (u64, ()) {
        (crate::exchange::LOCAL, ())
    }
    fn value(&self, record: u64) -> u64 {
        record
    }
}

/// The records worker 0 sent to each of two workers, after routing `records` with `route`.
fn routed_by<K: Send + 'static>(
    route: &impl Route<u64, K, u64>,
    worker: usize,
    records: &[u64],
) -> Vec<Vec<u64>> {
    let mut ends = crate::exchange::exchange::<KeyedBatch<K, u64>>(2, 16, 64);
    let router = KeyGroupRouter::new(2, 128);
    let mut scatter = Scatter::default();
    let mut batch = records.to_vec();
    scatter.route(&mut batch, route, &router, worker, &mut ends[worker].send);
    ends[worker].send.flush_partial();
    ends[worker].send.send();
    ends.iter_mut()
        .map(|end| {
            std::iter::from_fn(|| end.recv[worker].pop())
                .filter_map(|m| match m {
                    crate::exchange::Msg::Data(b) => Some(b.values().to_vec()),
                    _ => None,
                })
                .flatten()
                .collect()
        })
        .collect()
}

#[test]
fn keyed_records_go_by_key_group_and_unkeyed_ones_stay() {
    // Key groups 0..64 belong to worker 0, 64..128 to worker 1: a keyed hash equal to the
    // `LOCAL` marker (key group 127) goes to worker 1 like any other.
    let records = [u64::MAX, 3, 100, 64 + 128];
    assert_eq!(
        routed_by(&ByValue, 0, &records),
        vec![vec![3], vec![u64::MAX, 100, 192]]
    );
    assert_eq!(
        routed_by(&Stay, 1, &records),
        vec![vec![], records.to_vec()]
    );
}
