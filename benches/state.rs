//! Keyed-state benchmarks.
//!
//! * `update_1m`: the W1 hot path — `ValueState<u64, i64>::get_or_insert_with` + add over 1M
//!   random keys (splitmix64), against raw `AHashMap<u64, i64>`s doing the same, and with TTL
//!   on to show what the timestamps cost, each also with the runtime's prefetching (the state
//!   of the key 16 ahead is prefetched before updating the current one). The maps are
//!   pre-filled, so this is the steady state of a running count (hits); key groups and stable
//!   hashes are computed outside the timed loop, as the runtime computes them at the source.
//! * `key_table_load`: prefetched hit updates on one `KeyTable` filled to 32-62% (its maximum
//!   load is 5/8): the cost of longer probes.
//! * `snapshot_1m` / `restore_1m`: encoding all 128 key-group sections of 1M entries, and
//!   decoding them into a fresh state (bytes/s).
//!
//! Run: `cargo bench --bench state` (about 90 s); `cargo bench --bench state -- update_1m` for
//! one group.

#![allow(missing_docs)] // criterion_group! generates an undocumented pub fn

use ahash::AHashMap;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use std::hint::black_box;
use std::time::Duration;
use weir::state::key_group::key_group_of_hash;
use weir::state::{KeyContext, KeyTable, KeyedStateStore, StableKey, Ttl, ValueState};

/// Number of distinct keys (and of updates per iteration).
const N: usize = 1_000_000;
/// Key groups; one worker owns them all.
const MAX_PAR: u16 = 128;
/// How many keys ahead the prefetching loops prefetch (the runtime's `PREFETCH_DISTANCE`).
const PREFETCH: usize = 16;

/// splitmix64: a fast, well-mixed deterministic sequence.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// One key as the runtime sees it: the key, its local key group (worker 0 of 1 owns 0..128)
/// and its stable hash, both computed at the source.
#[derive(Clone, Copy)]
struct Key {
    key: u64,
    group: usize,
    hash: u64,
}

/// `N` random keys.
fn keys() -> Vec<Key> {
    let mut s = 42;
    (0..N)
        .map(|_| {
            let key = splitmix64(&mut s);
            let hash = key.stable_hash();
            Key {
                key,
                group: key_group_of_hash(hash, MAX_PAR) as usize,
                hash,
            }
        })
        .collect()
}

fn ctx(k: &Key, now_ms: u64) -> KeyContext<'_, u64> {
    KeyContext {
        key: &k.key,
        local_group: k.group,
        hash: k.hash,
        now_ms,
    }
}

fn value_state(ttl: Option<Ttl>, keys: &[Key]) -> ValueState<u64, i64> {
    let mut s = ValueState::new("count");
    if let Some(ttl) = ttl {
        s = s.with_ttl(ttl);
    }
    s.set_key_groups(0..MAX_PAR);
    for k in keys {
        s.update(&ctx(k, 0), 0);
    }
    s
}

fn update(c: &mut Criterion) {
    let keys = keys();
    let mut group = c.benchmark_group("update_1m");
    group.throughput(Throughput::Elements(N as u64));

    let mut raw: AHashMap<u64, i64> = keys.iter().map(|k| (k.key, 0)).collect();
    group.bench_function("raw_ahashmap", |b| {
        b.iter(|| {
            for k in &keys {
                *raw.entry(black_box(k.key)).or_insert(0) += 1;
            }
        })
    });
    drop(raw);

    // The same split into 128 maps: isolates the cost of the per-group layout.
    let mut raw128: Vec<AHashMap<u64, i64>> = vec![AHashMap::new(); MAX_PAR as usize];
    for k in &keys {
        raw128[k.group].insert(k.key, 0);
    }
    group.bench_function("raw_ahashmap_per_group", |b| {
        b.iter(|| {
            for k in &keys {
                *raw128[k.group].entry(black_box(k.key)).or_insert(0) += 1;
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
                for k in &keys {
                    *s.get_or_insert_with(&ctx(black_box(k), 1), || 0) += 1;
                }
            })
        });
        // As the runtime's keyed loop: prefetch the state of the key PREFETCH ahead.
        group.bench_function(format!("{name}_prefetch"), |b| {
            b.iter(|| {
                for (i, k) in keys.iter().enumerate() {
                    if let Some(ahead) = keys.get(i + PREFETCH) {
                        s.prefetch(ahead.group, ahead.hash);
                    }
                    *s.get_or_insert_with(&ctx(black_box(k), 1), || 0) += 1;
                }
            })
        });
    }
    group.finish();
}

/// Hit updates with prefetching on one [`KeyTable`] of 2^21 slots filled to several loads
/// (the table grows past 5/8): how the probe length at a load affects the prefetched loop.
fn table_load(c: &mut Criterion) {
    const SLOTS: usize = 1 << 21;
    let mut group = c.benchmark_group("key_table_load");
    for pct in [32, 40, 50, 62] {
        let n = SLOTS * pct / 100;
        let mut s = 7;
        let keys: Vec<(u64, u64)> = (0..n)
            .map(|_| {
                let k = splitmix64(&mut s);
                (k, k.stable_hash())
            })
            .collect();
        let mut t = KeyTable::<u64, i64>::with_capacity(SLOTS * 5 / 8);
        assert_eq!(t.capacity(), SLOTS);
        for &(k, h) in &keys {
            t.insert(h, k, 0);
        }
        // The same number of updates per iteration at every load, in random key order.
        let order: Vec<(u64, u64)> = (0..N)
            .map(|_| keys[(splitmix64(&mut s) % n as u64) as usize])
            .collect();
        group.throughput(Throughput::Elements(N as u64));
        group.bench_function(format!("load_{pct}pct"), |b| {
            b.iter(|| {
                for (i, (k, h)) in order.iter().enumerate() {
                    if let Some((_, ah)) = order.get(i + PREFETCH) {
                        t.prefetch(*ah);
                    }
                    *t.get_or_insert_with(*h, black_box(k), || 0) += 1;
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
        // 12 benchmarks x (1 + 5) s keeps the whole run around 75-90 s.
        .measurement_time(Duration::from_secs(5))
        // Medians vary more than the default 1% on a shared 2-core machine.
        .noise_threshold(0.05)
}

criterion_group! {
    name = benches;
    config = config();
    targets = update, table_load, snapshot
}
criterion_main!(benches);
