//! Tests of the dirty list (a flush writes exactly the entries dirtied since the previous
//! one, each once) and of flushes whose file is still being written in the background
//! (lookups see the entries; a checkpoint's wait ends only once its files are linked).
//! Expected results are hand-checked counts and values.

use super::cache::{Cache, Val};
use super::files::RunFile;
use super::run::Run;
use super::{Codec, MmapMaps};
use crate::state::expiry::{Clock, TtlTime};
use crate::state::test_util::{ctx, RANGE_ALL};
use crate::state::StableKey;
use std::collections::BTreeSet;
use std::time::Duration;

const CLOCK0: Clock = Clock {
    time: TtlTime::Processing,
    now: 0,
    first: 0,
};

fn maps(cache: usize) -> MmapMaps<u64, i64> {
    MmapMaps::new(Codec::of(), RANGE_ALL, None, None, cache).unwrap()
}

fn add(m: &mut MmapMaps<u64, i64>, k: u64, d: i64) {
    *m.get_or_insert_with(&ctx(&k, &RANGE_ALL, 0), CLOCK0, || 0) += d;
}

fn get(m: &MmapMaps<u64, i64>, k: u64) -> Option<i64> {
    m.get(&ctx(&k, &RANGE_ALL, 0), CLOCK0).copied()
}

/// The keys (decoded) and values stored in `run`.
fn run_entries(run: &Run) -> Vec<(u64, i64)> {
    let mut out = Vec::new();
    for g in RANGE_ALL {
        for e in run.group_entries(g) {
            let mut b = e.bytes;
            let k = <u64 as crate::state::StateCodec>::decode(&mut b).unwrap();
            let v = <i64 as crate::state::StateCodec>::decode(&mut b).unwrap();
            out.push((k, v));
        }
    }
    out.sort_unstable();
    out
}

#[test]
fn the_dirty_list_holds_each_dirtied_entry_once() {
    let mut c: Cache<u64, i64> = Cache::new(1, |k| k.stable_hash());
    // 100 clean entries (as loaded from a run), then 10 of them dirtied three times each,
    // and 5 new ones.
    for k in 0..100u64 {
        c.put(0, k.stable_hash(), k, Val::new(Some(k as i64), 0, false));
    }
    assert_eq!(c.dirty_listed(), 0);
    for _ in 0..3 {
        for k in (0..100u64).step_by(10) {
            c.get_or_insert_dirty(0, k.stable_hash(), &k, || unreachable!("present"))
                .value = Some(-1);
        }
    }
    for k in 100..105u64 {
        let v = c.get_or_insert_dirty(0, k.stable_hash(), &k, || Val::new(None, 0, false));
        v.value = Some(7);
    }
    // A put of a dirty value over a dirty entry does not list it again.
    c.put(0, 100u64.stable_hash(), 100, Val::new(Some(8), 0, true));
    assert_eq!(c.dirty_listed(), 15);
    let taken: BTreeSet<u64> = c.take_dirty(0).iter().map(|e| *e.key).collect();
    let expected: BTreeSet<u64> = (0..100).step_by(10).chain(100..105).collect();
    assert_eq!(taken, expected);
    assert!(c.take_dirty(0).is_empty(), "taken entries are clean");
    assert_eq!(c.dirty_listed(), 0);
}

#[test]
fn a_mostly_dirty_group_is_scanned_with_the_same_result() {
    let mut c: Cache<u64, i64> = Cache::new(1, |k| k.stable_hash());
    for k in 0..50u64 {
        c.get_or_insert_dirty(0, k.stable_hash(), &k, || Val::new(Some(1), 0, false));
    }
    // Listed twice by a clean put in between, dirtied again: still one entry.
    c.put(0, 3u64.stable_hash(), 3, Val::new(Some(2), 0, false));
    c.get_or_insert_dirty(0, 3u64.stable_hash(), &3, || unreachable!("present"));
    let taken: Vec<u64> = c.take_dirty(0).iter().map(|e| *e.key).collect();
    assert_eq!(taken.len(), 50);
    assert_eq!(taken.iter().collect::<BTreeSet<_>>().len(), 50);
}

#[test]
fn a_flush_writes_exactly_the_entries_dirtied_since_the_last_one() {
    let mut m = maps(1_000_000);
    for k in 0..1000u64 {
        add(&mut m, k, k as i64);
    }
    m.flush().unwrap();
    assert_eq!(m.runs.last().map(Run::entries), Some(1000));
    // Re-dirty 30 keys several times, read others (no write): the next run holds 30 entries.
    for round in 0..4 {
        for k in (0..1000u64).step_by(33) {
            add(&mut m, k, 1);
        }
        for k in (1..1000u64).step_by(7) {
            assert!(get(&m, k).is_some(), "round {round}, key {k}");
        }
    }
    m.flush().unwrap();
    let got = m.runs.last().map(run_entries).unwrap();
    let expected: Vec<(u64, i64)> = (0..1000u64)
        .step_by(33)
        .map(|k| (k, k as i64 + 4))
        .collect();
    assert_eq!(got, expected);
    let n = m.runs();
    m.flush().unwrap();
    assert_eq!(m.runs.len(), n, "nothing dirty: no new run");
}

#[test]
fn lookups_and_checkpoints_see_a_flushed_run_while_its_file_is_being_written() {
    let mut m = maps(1_000_000);
    for k in 0..500u64 {
        add(&mut m, k, 10);
    }
    m.flush().unwrap();
    m.settle();
    let hold = m.writer.hold();
    for k in 0..500u64 {
        add(&mut m, k, 1);
    }
    m.flush().unwrap();
    let newest = m.runs.last().unwrap();
    assert!(newest.in_memory_bytes().is_some());
    assert!(!newest.path().exists(), "the write is held");
    m.cache.clear(); // every lookup now goes to the runs, the newest in memory
    for k in 0..500u64 {
        assert_eq!(get(&m, k), Some(11), "key {k}");
    }
    assert_eq!(get(&m, 500), None);
    let root = tempfile::tempdir().unwrap();
    let (files, durable) = m.start_checkpoint(root.path()).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(durable.wait().is_ok()));
    assert!(
        rx.recv_timeout(Duration::from_millis(200)).is_err(),
        "the checkpoint's wait ended before its run was written"
    );
    drop(hold);
    assert_eq!(rx.recv().ok(), Some(true));
    let linked: Vec<&RunFile> = files.iter().collect();
    assert_eq!(linked.len(), m.runs.len());
    for f in linked {
        let len = std::fs::metadata(root.path().join(&f.name)).unwrap().len();
        assert_eq!(len, f.bytes, "{}", f.name);
    }
    m.settle();
    assert!(
        m.runs.iter().all(|r| r.in_memory_bytes().is_none()),
        "remapped"
    );
    for k in 0..500u64 {
        assert_eq!(get(&m, k), Some(11));
    }
}

#[test]
fn stress_background_merges_with_checkpoints_and_restores_match_the_oracle() {
    use crate::state::{KeyedStateStore, RunSource, StateBackend, ValueState};
    let make = |b: &StateBackend| {
        let mut s = ValueState::<u64, i64>::new("v");
        s.set_backend(b);
        s.set_key_groups(RANGE_ALL);
        s
    };
    let mm = StateBackend::Mmap {
        dir: None,
        cache_entries: 64,
    };
    let mut oracle = std::collections::HashMap::<u64, i64>::new();
    let mut s = make(&mm);
    let root = tempfile::tempdir().unwrap();
    let mut x = 0x1234_5678u64;
    let mut last: Option<(
        std::path::PathBuf,
        Vec<RunSource>,
        std::collections::HashMap<u64, i64>,
    )> = None;
    for op in 0..60_000u64 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let k = x % 3000;
        *s.get_or_insert_with(&ctx(&k, &RANGE_ALL, 0), || 0) += 1;
        *oracle.entry(k).or_default() += 1;
        let got = s.get(&ctx(&k, &RANGE_ALL, 0)).copied();
        assert_eq!(got, oracle.get(&k).copied(), "op {op} key {k}");
        if op % 997 == 0 {
            let d = root.path().join(format!("chk-{op}"));
            std::fs::create_dir(&d).unwrap();
            let files = s.checkpoint_files(&d).unwrap().unwrap();
            let names = super::files_tests::names(&files);
            last = Some((d, names, oracle.clone()));
        }
        if op % 7919 == 7918 {
            let (d, names, o) = last.clone().unwrap();
            s = make(&mm);
            assert!(s.restore_files(&d, &names).unwrap());
            oracle = o;
            for (k, v) in &oracle {
                assert_eq!(
                    s.get(&ctx(k, &RANGE_ALL, 0)),
                    Some(v),
                    "after restore, op {op}"
                );
            }
        }
    }
}

#[test]
fn stress_with_rescales_matches_the_oracle() {
    use crate::state::test_util::{owned, owner};
    use crate::state::{KeyedStateStore, RunSource, StateBackend, ValueState};
    let mm = StateBackend::Mmap {
        dir: None,
        cache_entries: 64,
    };
    let make = |range: std::ops::Range<u16>| {
        let mut s = ValueState::<u64, i64>::new("v");
        s.set_backend(&mm);
        s.set_key_groups(range);
        s
    };
    let root = tempfile::tempdir().unwrap();
    let mut oracle = std::collections::HashMap::<u64, i64>::new();
    let mut workers = 1usize;
    let mut states: Vec<ValueState<u64, i64>> = vec![make(owned(0, 1))];
    let mut x = 0x9876_5432u64;
    let mut n = 0;
    for round in 0..12 {
        for op in 0..4000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let k = x % 3000;
            let w = owner(crate::state::test_util::kg(&k), workers);
            let r = owned(w, workers);
            *states[w].get_or_insert_with(&ctx(&k, &r, 0), || 0) += 1;
            *oracle.entry(k).or_default() += 1;
            assert_eq!(
                states[w].get(&ctx(&k, &r, 0)).copied(),
                oracle.get(&k).copied(),
                "round {round} op {op} key {k}"
            );
        }
        // Checkpoint every worker, then restore into the other worker count.
        n += 1;
        let d = root.path().join(format!("chk-{n}"));
        std::fs::create_dir(&d).unwrap();
        let mut sources = Vec::new();
        for (w, s) in states.iter_mut().enumerate() {
            for f in s.checkpoint_files(&d).unwrap().unwrap() {
                sources.push((w, f.name));
            }
        }
        let old = workers;
        workers = if workers == 1 { 2 } else { 1 };
        states = (0..workers)
            .map(|w| {
                let range = owned(w, workers);
                let mut s = make(range.clone());
                let names: Vec<RunSource> = (0..old)
                    .filter(|&ow| {
                        let r = owned(ow, old);
                        r.start < range.end && range.start < r.end
                    })
                    .flat_map(|ow| {
                        sources
                            .iter()
                            .filter(move |(sw, _)| *sw == ow)
                            .map(move |(_, name)| RunSource {
                                name: name.clone(),
                                key_groups: owned(ow, old),
                            })
                    })
                    .collect();
                assert!(s.restore_files(&d, &names).unwrap());
                s
            })
            .collect();
        for (k, v) in &oracle {
            let w = owner(crate::state::test_util::kg(k), workers);
            let r = owned(w, workers);
            assert_eq!(
                states[w].get(&ctx(k, &r, 0)),
                Some(v),
                "after restore {round}"
            );
        }
    }
}
