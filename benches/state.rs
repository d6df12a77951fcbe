//! Keyed-state benchmarks.
//!
//! * `update_1m`: the W1 hot path — `ValueState<u64, i64>::get_or_insert_with` + add over 1M
//!   random keys (splitmix64), against raw `AHashMap<u64, i64>`s doing the same, and with TTL
//!   on to show what the timestamps cost. The maps are pre-filled, so this is the steady state
//!   of a running count (hits); key groups are computed outside the timed loop, as the runtime
//!   computes them when routing.
//! * `snapshot_1m` / `restore_1m`: encoding all 128 key-group sections of 1M entries, and
//!   decoding them into a fresh state (bytes/s).
//!
//! Run: `cargo bench --bench state` (about 45 s).

#![allow(missing_docs)] // criterion_group! generates an undocumented pub fn

use ahash::AHashMap;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use std::hint::black_box;
use std::time::Duration;
use weir::state::key_group::key_group_of_hash;
use weir::state::{KeyContext, KeyedStateStore, StableKey, Ttl, ValueState};

/// Number of distinct keys (and of updates per iteration).
const N: usize = 1_000_000;
/// Key groups; one worker owns them all.
const MAX_PAR: u16 = 128;

/// splitmix64: a fast, well-mixed deterministic sequence.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// `N` random keys with their key group (the local group, as worker 0 of 1 owns 0..128).
fn keys() -> Vec<(u64, usize)> {
    let mut s = 42;
    (0..N)
        .map(|_| {
            let k = splitmix64(&mut s);
            (k, key_group_of_hash(k.stable_hash(), MAX_PAR) as usize)
        })
        .collect()
}

fn value_state(ttl: Option<Ttl>, keys: &[(u64, usize)]) -> ValueState<u64, i64> {
    let mut s = ValueState::new("count");
    if let Some(ttl) = ttl {
        s = s.with_ttl(ttl);
    }
    s.set_key_groups(0..MAX_PAR);
    for (k, g) in keys {
        s.update(
            &KeyContext {
                key: k,
                local_group: *g,
                hash: weir::state::StableKey::stable_hash(k),
                now_ms: 0,
            },
            0,
        );
    }
    s
}

fn update(c: &mut Criterion) {
    let keys = keys();
    let mut group = c.benchmark_group("update_1m");
    group.throughput(Throughput::Elements(N as u64));

    let mut raw: AHashMap<u64, i64> = keys.iter().map(|&(k, _)| (k, 0)).collect();
    group.bench_function("raw_ahashmap", |b| {
        b.iter(|| {
            for &(k, _) in &keys {
                *raw.entry(black_box(k)).or_insert(0) += 1;
            }
        })
    });
    drop(raw);

    // The same split into 128 maps: isolates the cost of the per-group layout.
    let mut raw128: Vec<AHashMap<u64, i64>> = vec![AHashMap::new(); MAX_PAR as usize];
    for &(k, g) in &keys {
        raw128[g].insert(k, 0);
    }
    group.bench_function("raw_ahashmap_per_group", |b| {
        b.iter(|| {
            for &(k, g) in &keys {
                *raw128[g].entry(black_box(k)).or_insert(0) += 1;
            }
        })
    });
    drop(raw128);

    for (name, ttl) in [
        ("value_state", None),
        ("value_state_ttl", Some(Ttl::after_write(3_600_000))),
    ] {
        let mut s = value_state(ttl, &keys);
        group.bench_function(name, |b| {
            b.iter(|| {
                for (k, g) in &keys {
                    let ctx = KeyContext {
                        key: black_box(k),
                        local_group: *g,
                        hash: weir::state::StableKey::stable_hash(k),
                        now_ms: 1,
                    };
                    *s.get_or_insert_with(&ctx, || 0) += 1;
                }
            })
        });
    }
    group.finish();
}

/// Encodes every group of `s` into `out`; returns the entry count.
fn snapshot_all(s: &ValueState<u64, i64>, out: &mut [Vec<u8>]) -> usize {
    let mut n = 0;
    for (g, buf) in out.iter_mut().enumerate() {
        buf.clear();
        n += s.snapshot_group(g as u16, 0, buf);
    }
    n
}

fn snapshot(c: &mut Criterion) {
    let keys = keys();
    let s = value_state(None, &keys);
    let mut sections: Vec<Vec<u8>> = vec![Vec::new(); MAX_PAR as usize];
    assert_eq!(snapshot_all(&s, &mut sections), N);
    let bytes: usize = sections.iter().map(Vec::len).sum();

    let mut group = c.benchmark_group("snapshot_1m");
    group.throughput(Throughput::Bytes(bytes as u64));
    group.bench_function("value_state_u64_i64", |b| {
        b.iter(|| black_box(snapshot_all(&s, &mut sections)))
    });
    group.finish();

    let mut group = c.benchmark_group("restore_1m");
    group.throughput(Throughput::Bytes(bytes as u64));
    group.bench_function("value_state_u64_i64", |b| {
        b.iter_batched_ref(
            || {
                let mut r = ValueState::<u64, i64>::new("count");
                r.set_key_groups(0..MAX_PAR);
                r
            },
            |r| {
                for (g, buf) in sections.iter().enumerate() {
                    r.restore_group(g as u16, buf)
                        .expect("own snapshot decodes");
                }
            },
            // One fresh state per iteration: bounds memory (each holds 1M entries).
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        // One iteration touches 1M keys (~10-50 ms): 10 samples give stable medians.
        .sample_size(10)
        // Enough to fault in the maps and warm the caches.
        .warm_up_time(Duration::from_secs(1))
        // 6 benchmarks x (1 + 5) s keeps the whole run around 40-50 s.
        .measurement_time(Duration::from_secs(5))
        // Medians vary more than the default 1% on a shared 2-core machine.
        .noise_threshold(0.05)
}

criterion_group! {
    name = benches;
    config = config();
    targets = update, snapshot
}
criterion_main!(benches);
