//! SPSC ring throughput: weir's ring against `rtrb` and crossbeam's `ArrayQueue`.
//!
//! The same generic [`transfer`] runs on every queue: a producer thread pushes `n` items, a
//! consumer thread pops them, both pinned (cores 0 and 1 when `core_affinity` can), both
//! spinning with `std::hint::spin_loop()` on full/empty. Cases: capacity 1024 and 4, single
//! `u64` items and batches (`Vec<u64>` of 1024 records, as the runtime sends). Throughput is
//! in elements: items for `u64`, records for batches.
//!
//! Run: `cargo bench --bench ring`.

use criterion::measurement::WallTime;
use criterion::{criterion_main, BenchmarkGroup, BenchmarkId, Criterion, Throughput};
use crossbeam::queue::ArrayQueue;
use std::hint::black_box;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

/// Same allocator as the `weir` binary: batches are allocated by one thread, freed by another.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Records per batch in the batch cases.
const BATCH: usize = 1024;
/// Single `u64` items moved per criterion iteration.
const ITEMS_PER_ITER: u64 = 20_000;
/// Batches moved per criterion iteration.
const BATCHES_PER_ITER: u64 = 20;

/// A bounded SPSC queue under test.
trait Spsc<T> {
    /// Sending half.
    type Tx: Send;
    /// Receiving half.
    type Rx: Send;
    /// Creates a queue of `capacity` items.
    fn new(capacity: usize) -> (Self::Tx, Self::Rx);
    /// Pushes, or gives the value back when full.
    fn push(tx: &mut Self::Tx, value: T) -> Result<(), T>;
    /// Pops, or `None` when empty.
    fn pop(rx: &mut Self::Rx) -> Option<T>;
}

/// weir's ring.
struct Weir;
impl<T: Send> Spsc<T> for Weir {
    type Tx = weir::exchange::ring::Producer<T>;
    type Rx = weir::exchange::ring::Consumer<T>;
    fn new(capacity: usize) -> (Self::Tx, Self::Rx) {
        weir::exchange::ring::ring(capacity)
    }
    #[inline]
    fn push(tx: &mut Self::Tx, value: T) -> Result<(), T> {
        tx.push(value)
    }
    #[inline]
    fn pop(rx: &mut Self::Rx) -> Option<T> {
        rx.pop()
    }
}

/// `rtrb::RingBuffer`.
struct Rtrb;
impl<T: Send> Spsc<T> for Rtrb {
    type Tx = rtrb::Producer<T>;
    type Rx = rtrb::Consumer<T>;
    fn new(capacity: usize) -> (Self::Tx, Self::Rx) {
        rtrb::RingBuffer::new(capacity)
    }
    #[inline]
    fn push(tx: &mut Self::Tx, value: T) -> Result<(), T> {
        tx.push(value).map_err(|rtrb::PushError::Full(v)| v)
    }
    #[inline]
    fn pop(rx: &mut Self::Rx) -> Option<T> {
        rx.pop().ok()
    }
}

/// `crossbeam::queue::ArrayQueue` (MPMC, used here by one producer and one consumer).
struct Crossbeam;
impl<T: Send> Spsc<T> for Crossbeam {
    type Tx = Arc<ArrayQueue<T>>;
    type Rx = Arc<ArrayQueue<T>>;
    fn new(capacity: usize) -> (Self::Tx, Self::Rx) {
        let q = Arc::new(ArrayQueue::new(capacity));
        (q.clone(), q)
    }
    #[inline]
    fn push(tx: &mut Self::Tx, value: T) -> Result<(), T> {
        tx.push(value)
    }
    #[inline]
    fn pop(rx: &mut Self::Rx) -> Option<T> {
        rx.pop()
    }
}

/// Pins the current thread to the `index`-th core, if the platform lets us.
fn pin(index: usize) {
    if let Some(core) = core_affinity::get_core_ids().and_then(|ids| ids.get(index).copied()) {
        core_affinity::set_for_current(core);
    }
}

/// Moves `n` items made by `make` from a producer thread to a consumer thread that folds
/// them with `consume`; returns the consumer's time from both threads being ready to the
/// last pop.
fn transfer<Q, T>(
    capacity: usize,
    n: u64,
    make: impl Fn(u64) -> T + Sync,
    consume: impl Fn(T) -> u64 + Sync,
) -> Duration
where
    Q: Spsc<T>,
    T: Send,
{
    let (mut tx, mut rx) = Q::new(capacity);
    // Only the two workers meet here, and the consumer times itself: a main thread that
    // took the start time could be descheduled on a busy machine until after the last pop.
    // The producer can run ahead of the consumer's start by at most `capacity` items.
    let ready = Barrier::new(2);
    std::thread::scope(|s| {
        let ready = &ready;
        let make = &make;
        let consume = &consume;
        s.spawn(move || {
            pin(0);
            ready.wait();
            for i in 0..n {
                let mut value = make(i);
                while let Err(back) = Q::push(&mut tx, value) {
                    value = back;
                    std::hint::spin_loop();
                }
            }
        });
        let consumer = s.spawn(move || {
            pin(1);
            ready.wait();
            let start = Instant::now();
            let mut acc = 0u64;
            for _ in 0..n {
                loop {
                    if let Some(value) = Q::pop(&mut rx) {
                        acc = acc.wrapping_add(consume(value));
                        break;
                    }
                    std::hint::spin_loop();
                }
            }
            black_box(acc);
            start.elapsed()
        });
        consumer.join().expect("consumer panicked")
    })
}

/// One queue on the single-`u64` case.
fn singles<Q: Spsc<u64>>(group: &mut BenchmarkGroup<'_, WallTime>, name: &str, capacity: usize) {
    group.bench_function(BenchmarkId::from_parameter(name), |b| {
        b.iter_custom(|iters| transfer::<Q, u64>(capacity, iters * ITEMS_PER_ITER, |i| i, |v| v));
    });
}

/// One queue on the batch case (records counted, not batches).
fn batches<Q: Spsc<Vec<u64>>>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    capacity: usize,
) {
    group.bench_function(BenchmarkId::from_parameter(name), |b| {
        b.iter_custom(|iters| {
            transfer::<Q, Vec<u64>>(
                capacity,
                iters * BATCHES_PER_ITER,
                |i| vec![i; BATCH],
                |batch| batch.len() as u64 + batch[BATCH - 1],
            )
        });
    });
}

/// Every case, each with the three queues side by side.
fn rings(c: &mut Criterion) {
    for capacity in [1024, 4] {
        let mut group = c.benchmark_group(format!("ring/u64/cap{capacity}"));
        group.throughput(Throughput::Elements(ITEMS_PER_ITER));
        singles::<Weir>(&mut group, "weir", capacity);
        singles::<Rtrb>(&mut group, "rtrb", capacity);
        singles::<Crossbeam>(&mut group, "ArrayQueue", capacity);
        group.finish();

        let mut group = c.benchmark_group(format!("ring/batch{BATCH}/cap{capacity}"));
        group.throughput(Throughput::Elements(BATCHES_PER_ITER * BATCH as u64));
        batches::<Weir>(&mut group, "weir", capacity);
        batches::<Rtrb>(&mut group, "rtrb", capacity);
        batches::<Crossbeam>(&mut group, "ArrayQueue", capacity);
        group.finish();
    }
}

/// Criterion settings for a 2-core machine shared with other jobs: the whole bench (12
/// cases) must stay under ~60 s, so
/// - `sample_size(10)`: criterion's minimum; each sample is one `transfer` of >= 20k items, so
///   per-sample noise is averaged inside the sample;
/// - `warm_up_time(1 s)`: enough to fault in the buffers and let the cores clock up;
/// - `measurement_time(2.5 s)`: 12 cases x (1 + 2.5) s ~ 42 s, ~55 s with the slow tiny-ring
///   cases that overrun it;
/// - `noise_threshold(0.05)`: scheduling noise on a shared machine is several percent, so
///   smaller changes against a saved baseline are not reported as regressions.
fn config() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_millis(2500))
        .noise_threshold(0.05)
        .configure_from_args()
}

/// The criterion group (in a private module: the macro's `pub fn` has no doc comment).
mod group {
    criterion::criterion_group! {
        name = benches;
        config = super::config();
        targets = super::rings
    }
}
criterion_main!(group::benches);
