//! Checkpoint store: write (archive, mmap copy, msync, fsync, MANIFEST commit) and restore
//! (load with checksums and validation, then iterate every key-group section) of one worker's
//! snapshot of N entries of 16 bytes in 128 key groups, for N = 1M and 4M (to see how restore
//! grows). Files live in a temporary directory on the machine's disk; restore runs with the
//! files in the page cache (as right after a crash of the process, not of the machine).
// criterion_group! generates an undocumented `pub fn`.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;
use std::time::{Duration, Instant};
use weir::checkpoint::{CheckpointStore, GroupSnapshot, Manifest, StateSnapshot, WorkerSnapshot};

/// Key groups (the default max_parallelism).
const KEY_GROUPS: u16 = 128;
/// Bytes of one encoded entry.
const ENTRY_BYTES: usize = 16;
/// Pipeline fingerprint used throughout.
const FP: u64 = 42;

/// One worker owning all key groups, `entries` entries spread evenly, one state per group.
fn snapshot(entries: usize) -> WorkerSnapshot {
    let per_group = entries / usize::from(KEY_GROUPS);
    let groups = (0..KEY_GROUPS)
        .map(|kg| GroupSnapshot {
            key_group: kg,
            states: vec![StateSnapshot {
                name: "sum".into(),
                entries: per_group as u64,
                bytes: (0..per_group * ENTRY_BYTES)
                    .map(|i| (i as u8).wrapping_mul(31) ^ kg as u8)
                    .collect(),
            }],
        })
        .collect();
    WorkerSnapshot {
        worker: 0,
        key_groups: 0..KEY_GROUPS,
        groups,
    }
}

/// Writes and commits checkpoint `id` of `snap`.
fn checkpoint(store: &CheckpointStore, id: u64, snap: &WorkerSnapshot) {
    let entry = store.write_worker_state(id, snap).expect("write");
    let mut manifest = Manifest::new(id, FP, KEY_GROUPS, 1);
    manifest.files = vec![entry];
    store.commit(&manifest).expect("commit");
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("checkpoint");
    // Each iteration moves 16–64 MB through the disk: few samples, short warm-up, enough
    // measurement time for 10 samples of the 4M case.
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(8));
    for entries in [1usize << 20, 1 << 22] {
        let snap = snapshot(entries);
        let dir = tempfile::tempdir().expect("tempdir");
        let store = CheckpointStore::open(dir.path()).expect("open");
        group.throughput(Throughput::Elements(entries as u64));

        let mut id = 0;
        group.bench_with_input(BenchmarkId::new("write", entries), &snap, |b, snap| {
            b.iter_custom(|iters| {
                let mut spent = Duration::ZERO;
                for _ in 0..iters {
                    id += 1;
                    let start = Instant::now();
                    checkpoint(&store, id, snap);
                    spent += start.elapsed();
                    store.retain(1).expect("retain"); // deletion not timed
                }
                spent
            });
        });

        group.bench_function(BenchmarkId::new("restore", entries), |b| {
            b.iter(|| {
                let restored = store.load_latest(FP).expect("load").expect("a checkpoint");
                let (mut sections, mut bytes) = (0usize, 0usize);
                restored
                    .sections(0..KEY_GROUPS, |_, _, data| {
                        sections += 1;
                        bytes += black_box(data).len();
                        Ok(())
                    })
                    .expect("sections");
                assert_eq!(
                    (sections, bytes),
                    (usize::from(KEY_GROUPS), entries * ENTRY_BYTES)
                );
            });
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
