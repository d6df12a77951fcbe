//! End-to-end W1 (keyed rolling sum, WORKLOADS.md) on a small N: the engine with 1 and 2
//! workers against the single-threaded baseline loop, in the same process.
//!
//! `weir bench --workload w1` is the full-size measurement; this bench tracks regressions.

#![allow(missing_docs)] // criterion_group!/criterion_main! generate undocumented items

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use mimalloc::MiMalloc;
use weir::cli::bench::{baseline_w1, run_w1};
use weir::runtime::RunConfig;

#[global_allocator]
static GLOBAL: MiMalloc = MiMalloc;

/// 2M events over 100k keys: large enough that the state map misses cache, small enough that
/// a sample takes ~0.1 s.
const EVENTS: u64 = 2_000_000;
const KEYS: u64 = 100_000;

fn w1(c: &mut Criterion) {
    let mut group = c.benchmark_group("w1");
    group.throughput(Throughput::Elements(EVENTS));
    // A noisy 2-core machine: few, long samples; the whole bench stays under a minute.
    group.sample_size(10);
    group.warm_up_time(std::time::Duration::from_secs(1));
    group.measurement_time(std::time::Duration::from_secs(5));
    group.bench_function("baseline_loop", |b| b.iter(|| baseline_w1(EVENTS, KEYS)));
    for workers in [1, 2] {
        let config = RunConfig {
            workers,
            ..RunConfig::default()
        };
        group.bench_function(format!("engine_{workers}w"), |b| {
            b.iter(|| run_w1(EVENTS, KEYS, &config).expect("W1 runs"))
        });
    }
    group.finish();
}

criterion_group!(benches, w1);
criterion_main!(benches);
