//! Model-based tests of the state kinds: random operation sequences, snapshots and rescaling
//! restores against `BTreeMap` models.

use super::test_util::{ctx, kg, owned, owner, MAX_PAR};
use super::{CodecError, KeyContext, KeyedStateStore, ListState, MapState, Ttl, ValueState};
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::ops::Range;

/// One state object per worker, each owning its key-group range (as the runtime sets it up).
struct Cluster<S> {
    workers: Vec<(Range<u16>, S)>,
}

impl<S: KeyedStateStore> Cluster<S> {
    fn new(n: usize, make: &impl Fn() -> S) -> Self {
        let workers = (0..n)
            .map(|w| {
                let mut s = make();
                s.set_key_groups(owned(w, n));
                (owned(w, n), s)
            })
            .collect();
        Cluster { workers }
    }

    /// The state owning `key` and the key's context there.
    fn at<'a>(&mut self, key: &'a u64, now_ms: u64) -> (&mut S, KeyContext<'a, u64>) {
        let w = owner(kg(key), self.workers.len());
        let (range, s) = &mut self.workers[w];
        let c = ctx(key, range, now_ms);
        (s, c)
    }

    /// Snapshots every group at `now_ms`; returns the sections and the entry count.
    fn snapshot(&self, now_ms: u64) -> (Vec<(u16, Vec<u8>)>, usize) {
        let mut sections = Vec::new();
        let mut entries = 0;
        for (range, s) in &self.workers {
            for g in range.clone() {
                let mut out = Vec::new();
                let n = s.snapshot_group(g, now_ms, &mut out);
                assert_eq!(n == 0, out.is_empty(), "empty sections are empty");
                entries += n;
                sections.push((g, out));
            }
        }
        (sections, entries)
    }

    /// Snapshots this cluster and restores it into `n` workers.
    fn rescale(&self, n: usize, now_ms: u64, make: &impl Fn() -> S) -> (Self, usize) {
        let (sections, entries) = self.snapshot(now_ms);
        let mut next = Cluster::new(n, make);
        for (g, bytes) in sections {
            let w = owner(g, n);
            next.workers[w]
                .1
                .restore_group(g, &bytes)
                .expect("own sections decode");
            assert_eq!(next.workers[w].1.entries_in_group(g) > 0, !bytes.is_empty());
        }
        (next, entries)
    }
}

#[derive(Clone, Debug)]
enum ValueOp {
    Update(u64, i64),
    Add(u64, i64),
    Get(u64),
    Clear(u64),
    Advance(u64),
    Rescale(usize),
}

fn value_op() -> impl Strategy<Value = ValueOp> {
    let key = 0u64..40;
    prop_oneof![
        4 => (key.clone(), any::<i64>()).prop_map(|(k, v)| ValueOp::Update(k, v)),
        4 => (key.clone(), -100i64..100).prop_map(|(k, v)| ValueOp::Add(k, v)),
        4 => key.clone().prop_map(ValueOp::Get),
        2 => key.prop_map(ValueOp::Clear),
        2 => (0u64..8).prop_map(ValueOp::Advance),
        1 => (1usize..=4).prop_map(ValueOp::Rescale),
    ]
}

/// Model of a TTL'd value: (value, last-access ms); live iff `ts + ttl > now`.
fn live(model: &BTreeMap<u64, (i64, u64)>, k: u64, ttl: Option<Ttl>, now: u64) -> Option<i64> {
    let &(v, ts) = model.get(&k)?;
    match ttl {
        Some(t) if ts + t.millis <= now => None,
        _ => Some(v),
    }
}

fn run_value_model(ops: Vec<ValueOp>, ttl: Option<Ttl>) {
    let make = || match ttl {
        Some(t) => ValueState::<u64, i64>::new("v").with_ttl(t),
        None => ValueState::<u64, i64>::new("v"),
    };
    let mut cluster = Cluster::new(2, &make);
    let mut model: BTreeMap<u64, (i64, u64)> = BTreeMap::new();
    let mut now = 0u64;
    for op in ops {
        match op {
            ValueOp::Update(k, v) => {
                let (s, c) = cluster.at(&k, now);
                s.update(&c, v);
                model.insert(k, (v, now));
            }
            ValueOp::Add(k, d) => {
                let (s, c) = cluster.at(&k, now);
                *s.get_or_insert_with(&c, || 0) += d;
                let v = live(&model, k, ttl, now).unwrap_or(0) + d;
                model.insert(k, (v, now));
            }
            ValueOp::Get(k) => {
                let (s, c) = cluster.at(&k, now);
                let want = live(&model, k, ttl, now);
                assert_eq!(s.get(&c).copied(), want, "get {k} at {now}");
                if let (Some(_), Some(t)) = (want, ttl) {
                    if t.refresh_on_read {
                        model.get_mut(&k).unwrap().1 = now;
                    }
                }
            }
            ValueOp::Clear(k) => {
                let (s, c) = cluster.at(&k, now);
                let want = live(&model, k, ttl, now);
                model.remove(&k);
                assert_eq!(s.clear(&c), want);
            }
            ValueOp::Advance(dt) => now += dt,
            ValueOp::Rescale(n) => {
                let (next, entries) = cluster.rescale(n, now, &make);
                let live_keys = (0..40)
                    .filter(|k| live(&model, *k, ttl, now).is_some())
                    .count();
                assert_eq!(entries, live_keys, "snapshot counts live entries only");
                cluster = next;
            }
        }
    }
    let mut got: Vec<(u64, i64)> = cluster
        .workers
        .iter()
        .flat_map(|(_, s)| s.iter_live(now).map(|(k, v)| (*k, *v)))
        .collect();
    got.sort_unstable();
    let want: Vec<(u64, i64)> = model
        .keys()
        .filter_map(|&k| live(&model, k, ttl, now).map(|v| (k, v)))
        .collect();
    assert_eq!(got, want);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn value_state_matches_model(ops in prop::collection::vec(value_op(), 1..200)) {
        run_value_model(ops, None);
    }

    #[test]
    fn value_state_with_ttl_matches_model(
        ops in prop::collection::vec(value_op(), 1..200),
        millis in 1u64..20,
        refresh_on_read in any::<bool>(),
    ) {
        run_value_model(ops, Some(Ttl { millis, refresh_on_read }));
    }
}

#[derive(Clone, Debug)]
enum ListOp {
    Add(u64, u16),
    Update(u64, Vec<u16>),
    Get(u64),
    Clear(u64),
    Rescale(usize),
}

fn list_op() -> impl Strategy<Value = ListOp> {
    let key = 0u64..30;
    prop_oneof![
        6 => (key.clone(), any::<u16>()).prop_map(|(k, v)| ListOp::Add(k, v)),
        2 => (key.clone(), prop::collection::vec(any::<u16>(), 0..4))
            .prop_map(|(k, v)| ListOp::Update(k, v)),
        4 => key.clone().prop_map(ListOp::Get),
        2 => key.prop_map(ListOp::Clear),
        1 => (1usize..=4).prop_map(ListOp::Rescale),
    ]
}

#[derive(Clone, Debug)]
enum MapOp {
    Put(u64, String, i32),
    Remove(u64, String),
    Get(u64, String),
    Clear(u64),
    Rescale(usize),
}

fn map_op() -> impl Strategy<Value = MapOp> {
    let key = 0u64..20;
    let uk = "[a-d]";
    prop_oneof![
        6 => (key.clone(), uk, any::<i32>()).prop_map(|(k, u, v)| MapOp::Put(k, u, v)),
        3 => (key.clone(), uk).prop_map(|(k, u)| MapOp::Remove(k, u)),
        4 => (key.clone(), uk).prop_map(|(k, u)| MapOp::Get(k, u)),
        1 => key.prop_map(MapOp::Clear),
        1 => (1usize..=4).prop_map(MapOp::Rescale),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn list_state_matches_model(ops in prop::collection::vec(list_op(), 1..200)) {
        let make = || ListState::<u64, u16>::new("l");
        let mut cluster = Cluster::new(2, &make);
        let mut model: BTreeMap<u64, Vec<u16>> = BTreeMap::new();
        for op in ops {
            match op {
                ListOp::Add(k, v) => {
                    let (s, c) = cluster.at(&k, 0);
                    s.add(&c, v);
                    model.entry(k).or_default().push(v);
                }
                ListOp::Update(k, v) => {
                    let (s, c) = cluster.at(&k, 0);
                    s.update(&c, v.clone());
                    if v.is_empty() { model.remove(&k); } else { model.insert(k, v); }
                }
                ListOp::Get(k) => {
                    let (s, c) = cluster.at(&k, 0);
                    prop_assert_eq!(s.get(&c), model.get(&k).map_or(&[][..], Vec::as_slice));
                }
                ListOp::Clear(k) => {
                    let (s, c) = cluster.at(&k, 0);
                    prop_assert_eq!(s.clear(&c), model.remove(&k));
                }
                ListOp::Rescale(n) => {
                    let (next, entries) = cluster.rescale(n, 0, &make);
                    prop_assert_eq!(entries, model.len());
                    cluster = next;
                }
            }
        }
        let mut got: Vec<(u64, Vec<u16>)> = cluster.workers.iter()
            .flat_map(|(_, s)| s.entries().map(|(k, v)| (*k, v.to_vec()))).collect();
        got.sort_unstable();
        prop_assert_eq!(got, model.into_iter().collect::<Vec<_>>());
    }

    #[test]
    fn map_state_matches_model(ops in prop::collection::vec(map_op(), 1..200)) {
        let make = || MapState::<u64, String, i32>::new("m");
        let mut cluster = Cluster::new(2, &make);
        let mut model: BTreeMap<u64, BTreeMap<String, i32>> = BTreeMap::new();
        for op in ops {
            match op {
                MapOp::Put(k, u, v) => {
                    let (s, c) = cluster.at(&k, 0);
                    let old = s.put(&c, u.clone(), v);
                    prop_assert_eq!(old, model.entry(k).or_default().insert(u, v));
                }
                MapOp::Remove(k, u) => {
                    let (s, c) = cluster.at(&k, 0);
                    let want = model.get_mut(&k).and_then(|m| m.remove(&u));
                    model.retain(|_, m| !m.is_empty());
                    prop_assert_eq!(s.remove(&c, u.as_str()), want);
                }
                MapOp::Get(k, u) => {
                    let (s, c) = cluster.at(&k, 0);
                    let want = model.get(&k).and_then(|m| m.get(&u));
                    prop_assert_eq!(s.get(&c, u.as_str()), want);
                    prop_assert_eq!(s.contains(&c, u.as_str()), want.is_some());
                    let mut entries: Vec<_> = s.iter(&c).map(|(u, v)| (u.clone(), *v)).collect();
                    entries.sort();
                    let want_all: Vec<_> =
                        model.get(&k).into_iter().flatten().map(|(u, v)| (u.clone(), *v)).collect();
                    prop_assert_eq!(entries, want_all);
                }
                MapOp::Clear(k) => {
                    let (s, c) = cluster.at(&k, 0);
                    prop_assert_eq!(s.clear(&c), model.remove(&k).map_or(0, |m| m.len()));
                }
                MapOp::Rescale(n) => {
                    let (next, entries) = cluster.rescale(n, 0, &make);
                    prop_assert_eq!(entries, model.len(), "one entry per key");
                    cluster = next;
                }
            }
        }
        let mut got: Vec<(u64, String, i32)> = cluster.workers.iter()
            .flat_map(|(_, s)| s.entries().map(|(k, u, v)| (*k, u.clone(), *v))).collect();
        got.sort_unstable();
        let want: Vec<(u64, String, i32)> = model.into_iter()
            .flat_map(|(k, m)| m.into_iter().map(move |(u, v)| (k, u, v))).collect();
        prop_assert_eq!(got, want);
    }
}

/// Snapshot under 2 workers of 128 key groups, restore into 1 and into 3 workers: every key
/// reads back its value, and every key lands on the worker that owns its group.
#[test]
fn rescale_two_to_one_and_three() {
    let make = || ValueState::<u64, u64>::new("v");
    let mut two = Cluster::new(2, &make);
    let model: BTreeMap<u64, u64> = (0..5_000u64).map(|k| (k * 7919, k)).collect();
    for (k, v) in &model {
        let (s, c) = two.at(k, 0);
        s.update(&c, *v);
    }
    for n in [1, 3] {
        let (next, entries) = two.rescale(n, 0, &make);
        assert_eq!(entries, model.len());
        let mut restored = Cluster {
            workers: next.workers,
        };
        for (k, v) in &model {
            let (s, c) = restored.at(k, 0);
            assert_eq!(s.get(&c), Some(v), "key {k} after 2 -> {n}");
        }
        for (w, (range, s)) in restored.workers.iter().enumerate() {
            assert_eq!(
                s.iter().count(),
                model.keys().filter(|k| range.contains(&kg(*k))).count()
            );
            assert!(s.iter().all(|(k, _)| owner(kg(k), n) == w));
        }
    }
}

/// Restoring truncated or corrupted sections returns `CodecError` (never panics) and leaves
/// the group unchanged.
#[test]
fn bad_sections_are_codec_errors() {
    let mut s = ValueState::<String, String>::new("v");
    s.set_key_groups(0..MAX_PAR);
    let keys: Vec<String> = (0..400).map(|i| format!("key-{i}")).collect();
    for k in &keys {
        s.update(&ctx(k, &(0..MAX_PAR), 0), k.repeat(2));
    }
    let g = kg(&keys[0]);
    let mut out = Vec::new();
    let n = s.snapshot_group(g, 0, &mut out);
    assert!(n >= 2, "several entries in the group");
    let mut r = ValueState::<String, String>::new("v");
    r.set_key_groups(0..MAX_PAR);
    for cut in 1..out.len() {
        assert!(
            r.restore_group(g, &out[..cut]).is_err(),
            "prefix of {cut} bytes decoded"
        );
    }
    let mut extra = out.clone();
    extra.push(0);
    assert_eq!(
        r.restore_group(g, &extra),
        Err(CodecError::Invalid("trailing bytes after the last entry"))
    );
    let mut bad_tag = out.clone();
    bad_tag[0] = 9;
    assert!(r.restore_group(g, &bad_tag).is_err());
    assert_eq!(r.entries_in_group(g), 0);
    r.restore_group(g, &out).unwrap();
    assert_eq!(r.entries_in_group(g), n);
}
