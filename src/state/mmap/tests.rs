//! Tests of the mmap backend: a differential test against the heap backend (the oracle),
//! run files, merges, working-directory hygiene and damaged files.

use super::merge_policy::MAX_RUNS;
use super::run::{write_run, Run, RunError};
use super::{Codec, MmapMaps};
use crate::state::expiry::{Clock, TtlTime};
use crate::state::test_util::{ctx, kg, RANGE_ALL};
use crate::state::{KeyedStateStore, StateBackend, Ttl, ValueState};
use std::collections::BTreeMap;

/// A small deterministic generator (xorshift).
pub(super) struct Rng(pub(super) u64);

impl Rng {
    pub(super) fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn mmap(cache_entries: usize) -> StateBackend {
    StateBackend::Mmap {
        dir: None,
        cache_entries,
    }
}

/// Every live entry of `s` at `now`, decoded from its checkpoint sections.
pub(super) fn sections(
    s: &ValueState<u64, i64>,
    ttl: bool,
    now: u64,
) -> BTreeMap<u64, (Option<u64>, i64)> {
    let mut out = BTreeMap::new();
    for g in RANGE_ALL {
        let mut bytes = Vec::new();
        let n = s.snapshot_group(g, now, &mut bytes);
        let mut r = ValueState::<u64, i64>::new("v");
        if ttl {
            r = r.with_ttl(Ttl::after_write(1));
        }
        r.set_backend(&StateBackend::Heap);
        r.set_key_groups(RANGE_ALL);
        r.restore_group(g, &bytes).expect("own section restores");
        assert_eq!(r.len(), n);
        for (k, v) in r.iter() {
            out.insert(*k, (None, *v));
        }
    }
    out
}

/// Runs the same random operations on a heap and an mmap state and compares every result.
fn differential(seed: u64, ttl: Option<Ttl>, cache_entries: usize) {
    let make = |backend: &StateBackend| {
        let mut s = ValueState::<u64, i64>::new("v");
        if let Some(t) = ttl {
            s = s.with_ttl(t);
        }
        s.set_backend(backend);
        s.set_key_groups(RANGE_ALL);
        s
    };
    let (mut heap, mut mm) = (make(&StateBackend::Heap), make(&mmap(cache_entries)));
    let mut rng = Rng(seed | 1);
    let mut now = 0;
    for step in 0..4000 {
        now += rng.next() % 3;
        let k = rng.next() % 300;
        let (a, b) = (ctx(&k, &RANGE_ALL, now), ctx(&k, &RANGE_ALL, now));
        match rng.next() % 8 {
            0..=2 => {
                *heap.get_or_insert_with(&a, || 0) += k as i64;
                *mm.get_or_insert_with(&b, || 0) += k as i64;
            }
            3 => assert_eq!(heap.get(&a), mm.get(&b), "get {k} at step {step}"),
            4 => assert_eq!(heap.clear(&a), mm.clear(&b), "clear {k} at step {step}"),
            5 => {
                heap.update(&a, step);
                mm.update(&b, step);
            }
            // How many a purge finds depends on each backend's incremental cleanup.
            6 => {
                heap.purge_expired(now);
                mm.purge_expired(now);
            }
            // Stored-but-expired counts depend on each backend's cleanup: compare live ones.
            _ => assert_eq!(
                heap.iter_live(now).count(),
                mm.iter_live(now).count(),
                "live entries at step {step}"
            ),
        }
        if step % 997 == 0 {
            let timed = ttl.is_some();
            assert_eq!(sections(&heap, timed, now), sections(&mm, timed, now));
        }
    }
    let mut h: Vec<_> = heap.iter_live(now).map(|(k, v)| (*k, *v)).collect();
    let mut m: Vec<_> = mm.iter_live(now).map(|(k, v)| (*k, *v)).collect();
    h.sort_unstable();
    m.sort_unstable();
    assert_eq!(h, m);
    assert!(!h.is_empty());
}

#[test]
fn mmap_matches_heap_without_ttl() {
    for seed in 1..4 {
        differential(seed, None, 16);
    }
    differential(99, None, 1);
}

#[test]
fn mmap_matches_heap_with_ttl() {
    for (seed, ttl) in [(5, Ttl::after_write(40)), (6, Ttl::after_access(25))] {
        differential(seed, Some(ttl), 16);
    }
}

/// Processing time 0.
const CLOCK0: Clock = Clock {
    time: TtlTime::Processing,
    now: 0,
    first: 0,
};

#[test]
fn flushes_write_runs_and_merges_bound_their_number() {
    let mut m = MmapMaps::<u64, i64>::new(Codec::of(), RANGE_ALL, None, None, 64).unwrap();
    let dir = m.dir().to_path_buf();
    for k in 0..20_000u64 {
        *m.get_or_insert_with(&ctx(&k, &RANGE_ALL, 0), CLOCK0, || 0) += 1;
        assert!(m.runs() <= MAX_RUNS, "{} runs", m.runs());
    }
    assert!(m.runs() >= 1);
    let files = std::fs::read_dir(&dir).unwrap().count();
    assert_eq!(files, m.runs(), "merged runs are removed");
    assert_eq!(m.len(), 20_000);
    assert_eq!(m.get(&ctx(&12_345, &RANGE_ALL, 0), CLOCK0), Some(&1));
    drop(m);
    assert!(!dir.exists(), "the working directory is removed");
}

#[test]
fn foreign_files_in_the_working_directory_are_left_alone() {
    let m = MmapMaps::<u64, i64>::new(Codec::of(), RANGE_ALL, None, None, 4).unwrap();
    let dir = m.dir().to_path_buf();
    let foreign = dir.join("notes.txt");
    std::fs::write(&foreign, "mine").unwrap();
    drop(m);
    assert_eq!(std::fs::read_to_string(&foreign).unwrap(), "mine");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn damaged_runs_fail_to_open_and_never_panic() {
    let dir = std::env::temp_dir().join(format!("weir-run-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("r.wr");
    let k = 7u64;
    let mut bytes = Vec::new();
    crate::state::StateCodec::encode(&k, &mut bytes);
    crate::state::StateCodec::encode(&-3i64, &mut bytes);
    let mut groups = vec![Vec::new(); 128];
    let hash = crate::state::StableKey::stable_hash(&k);
    groups[kg(&k) as usize].push((hash, false, &bytes[..]));
    let run = write_run(&path, RANGE_ALL, false, &groups).unwrap();
    assert_eq!(run.lookup(kg(&k), hash).next().unwrap().bytes, &bytes[..]);
    drop(run);
    let good = std::fs::read(&path).unwrap();
    assert!(Run::open(&path, Some(RANGE_ALL)).is_ok());
    for cut in [0, 10, 31, good.len() - 1] {
        std::fs::write(&path, &good[..cut]).unwrap();
        assert!(Run::open(&path, Some(RANGE_ALL)).is_err(), "cut at {cut}");
    }
    let mut flipped = good.clone();
    *flipped.last_mut().unwrap() ^= 0xff; // in the data: only the group checksum sees it
    std::fs::write(&path, &flipped).unwrap();
    assert!(matches!(
        Run::open(&path, Some(RANGE_ALL)),
        Err(RunError::Damaged { .. })
    ));
    assert!(
        Run::open(&path, None).is_ok(),
        "unvalidated opens check bounds only"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
