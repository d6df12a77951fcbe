//! Tests of [`KeyTable`]: unit tests and a proptest against a `HashMap` model.

use super::*;
use crate::state::StableKey;
use proptest::prelude::*;
use std::collections::HashMap;

/// Checks the structural invariants: `len` matches the occupied slots, and every entry is
/// reachable from its home slot without crossing an empty slot (what lookups rely on).
fn check_invariants<K: Eq, V>(t: &KeyTable<K, V>) {
    assert_eq!(t.iter().count(), t.len());
    if t.slots.is_empty() {
        assert_eq!(t.len(), 0);
        return;
    }
    assert!(t.slots.len().is_power_of_two());
    assert!(KeyTable::<K, V>::fits(t.len(), t.slots.len()));
    let mask = t.slots.len() - 1;
    for (i, s) in t.slots.iter().enumerate() {
        if s.kv.is_some() {
            let mut j = t.home(s.hash);
            while j != i {
                assert!(t.slots[j].kv.is_some(), "gap between home {j} and slot {i}");
                j = (j + 1) & mask;
            }
        }
    }
}

#[test]
fn insert_get_remove_roundtrip_with_growth() {
    let mut t = KeyTable::<u64, u64>::new();
    assert_eq!(t.get(1, &1), None);
    assert_eq!(t.remove(1, &1), None);
    for k in 0..10_000u64 {
        assert_eq!(t.insert(k.stable_hash(), k, k * 2), None);
    }
    check_invariants(&t);
    assert_eq!(t.len(), 10_000);
    assert!(t.capacity() >= 10_000 * 8 / 5 && t.capacity() <= 2 * 10_000 * 8 / 5);
    assert_eq!(t.insert(5u64.stable_hash(), 5, 7), Some(10));
    for k in (0..10_000u64).step_by(2) {
        let want = if k == 5 { 7 } else { k * 2 };
        assert_eq!(t.remove(k.stable_hash(), &k), Some(want));
    }
    check_invariants(&t);
    for k in 0..10_000u64 {
        let want = (k % 2 == 1).then_some(if k == 5 { 7 } else { k * 2 });
        assert_eq!(t.get(k.stable_hash(), &k).copied(), want, "key {k}");
    }
    assert_eq!(t.len(), 5_000);
}

#[test]
fn equal_hashes_are_told_apart_by_key() {
    let mut t = KeyTable::<String, usize>::new();
    let keys: Vec<String> = (0..50).map(|i| format!("k{i}")).collect();
    for (i, k) in keys.iter().enumerate() {
        *t.get_or_insert_with(42, k, || i) += 100;
    }
    check_invariants(&t);
    for (i, k) in keys.iter().enumerate() {
        assert_eq!(t.get(42, k), Some(&(i + 100)));
    }
    // A key stored under another hash is not found (the caller's contract).
    assert_eq!(t.get(43, &keys[0]), None);
    assert_eq!(t.remove(42, &keys[10]), Some(110));
    check_invariants(&t);
    assert_eq!(t.get(42, &keys[11]), Some(&111));
}

#[test]
fn get_or_insert_clones_only_on_insert_and_get_mut_edits() {
    let mut t = KeyTable::<u32, Vec<u32>>::new();
    t.get_or_insert_with(9, &1, Vec::new).push(1);
    t.get_or_insert_with(9, &1, || unreachable!("present"))
        .push(2);
    t.get_mut(9, &1).expect("present").push(3);
    assert_eq!(t.get(9, &1), Some(&vec![1, 2, 3]));
    assert_eq!(t.get_mut(9, &2), None);
    assert_eq!(t.len(), 1);
}

#[test]
fn backward_shift_handles_wraparound() {
    // With capacity 8 every hash whose home is the last slot wraps to slot 0, 1, ...
    let mut t = KeyTable::<u64, u64>::with_capacity(4);
    assert_eq!(t.capacity(), 8);
    let last = (0u64..)
        .find(|h| t.home(*h) == 7)
        .expect("some hash homes at 7");
    let zero = (0u64..).find(|h| t.home(*h) == 0).expect("home 0");
    for k in 0..3 {
        t.insert(last, k, k);
    }
    t.insert(zero, 10, 10); // pushed to slot 2 by the wrapped cluster
    check_invariants(&t);
    assert_eq!(t.remove(last, &0), Some(0));
    check_invariants(&t);
    assert_eq!(t.get(last, &1), Some(&1));
    assert_eq!(t.get(last, &2), Some(&2));
    assert_eq!(t.get(zero, &10), Some(&10));
    assert!(t.slots[7].kv.is_some() && t.slots[0].kv.is_some());
}

#[test]
fn retain_visits_each_entry_once_and_clear_empties() {
    let mut t = KeyTable::<u64, u64>::new();
    for k in 0..1_000u64 {
        t.insert(k % 8, k, 0); // long clusters of equal hashes
    }
    let mut calls = 0;
    t.retain(|k, v| {
        calls += 1;
        *v = *k;
        k % 3 != 0
    });
    assert_eq!(calls, 1_000);
    check_invariants(&t);
    assert_eq!(t.len(), (0..1_000).filter(|k| k % 3 != 0).count());
    assert!(t.iter().all(|(k, v)| k == v && k % 3 != 0));
    let cap = t.capacity();
    t.clear();
    assert!(t.is_empty() && t.iter().next().is_none());
    assert_eq!(t.capacity(), cap);
    t.prefetch(3); // a hint: harmless on any table
    KeyTable::<u64, u64>::new().prefetch(3);
}

/// One operation of the model test.
#[derive(Clone, Debug)]
enum Op {
    Insert(u16, u32),
    GetOrInsert(u16, u32),
    AddIfPresent(u16, u32),
    Get(u16),
    Remove(u16),
    /// Keep keys with `k % m != r`, adding 1 to the kept values.
    Retain(u16, u16),
    Clear,
}

fn op() -> impl Strategy<Value = Op> {
    let key = 0u16..300;
    prop_oneof![
        6 => (key.clone(), any::<u32>()).prop_map(|(k, v)| Op::Insert(k, v)),
        4 => (key.clone(), any::<u32>()).prop_map(|(k, v)| Op::GetOrInsert(k, v)),
        2 => (key.clone(), any::<u32>()).prop_map(|(k, v)| Op::AddIfPresent(k, v)),
        3 => key.clone().prop_map(Op::Get),
        5 => key.prop_map(Op::Remove),
        1 => (2u16..5, 0u16..5).prop_map(|(m, r)| Op::Retain(m, r)),
        1 => Just(Op::Clear),
    ]
}

/// The hash functions under test: well mixed, heavily colliding, and identical for all keys.
fn hash_of(mode: u8, k: u16) -> u64 {
    match mode {
        0 => k.stable_hash(),
        1 => u64::from(k % 8),
        2 => u64::from(k) << 57, // differ only in the top bits
        _ => 7,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn behaves_like_a_hashmap(mode in 0u8..4, ops in prop::collection::vec(op(), 1..400)) {
        let mut t = KeyTable::<u16, u32>::new();
        let mut m = HashMap::<u16, u32>::new();
        for op in ops {
            match op {
                Op::Insert(k, v) => prop_assert_eq!(t.insert(hash_of(mode, k), k, v), m.insert(k, v)),
                Op::GetOrInsert(k, v) => {
                    let got = *t.get_or_insert_with(hash_of(mode, k), &k, || v);
                    prop_assert_eq!(got, *m.entry(k).or_insert(v));
                }
                Op::AddIfPresent(k, v) => {
                    let a = t.get_mut(hash_of(mode, k), &k).map(|x| { *x = x.wrapping_add(v); *x });
                    let b = m.get_mut(&k).map(|x| { *x = x.wrapping_add(v); *x });
                    prop_assert_eq!(a, b);
                }
                Op::Get(k) => prop_assert_eq!(t.get(hash_of(mode, k), &k), m.get(&k)),
                Op::Remove(k) => prop_assert_eq!(t.remove(hash_of(mode, k), &k), m.remove(&k)),
                Op::Retain(md, r) => {
                    let keep = |k: &u16| k % md != r % md;
                    let mut calls = 0;
                    t.retain(|k, v| { calls += 1; *v = v.wrapping_add(1); keep(k) });
                    prop_assert_eq!(calls, m.len());
                    m.retain(|k, _| keep(k));
                    m.values_mut().for_each(|v| *v = v.wrapping_add(1));
                }
                Op::Clear => { t.clear(); m.clear(); }
            }
            prop_assert_eq!(t.len(), m.len());
        }
        check_invariants(&t);
        let mut got: Vec<(u16, u32)> = t.iter().map(|(k, v)| (*k, *v)).collect();
        let mut want: Vec<(u16, u32)> = m.into_iter().collect();
        got.sort_unstable();
        want.sort_unstable();
        prop_assert_eq!(got, want);
        for k in 0..300u16 {
            t.prefetch(hash_of(mode, k));
        }
    }
}

proptest! {
    /// Sweeping round the whole table (in steps of any size, with colliding hashes) removes
    /// exactly the entries it is told to and keeps every other one reachable.
    #[test]
    fn sweep_removes_exactly_the_expired(
        keys in proptest::collection::vec(0u16..400, 0..300),
        step in 1usize..20,
        collide in any::<bool>(),
    ) {
        let mut t = KeyTable::<u16, u16>::new();
        let hash = |k: u16| if collide { u64::from(k % 7) } else { u64::from(k).stable_hash() };
        for &k in &keys {
            t.insert(hash(k), k, k);
        }
        let expired = |v: &u16| v.is_multiple_of(3);
        let mut cursor = 5;
        let mut removed = 0;
        // Each examined slot either advances the cursor or removes an entry: capacity + len
        // examinations go round the whole table.
        for _ in 0..(t.capacity() + t.len()).div_ceil(step) {
            removed += t.sweep(&mut cursor, step, expired);
        }
        check_invariants(&t);
        let distinct: std::collections::BTreeSet<u16> = keys.iter().copied().collect();
        prop_assert_eq!(removed, distinct.iter().filter(|k| k.is_multiple_of(3)).count());
        for k in distinct {
            prop_assert_eq!(t.get(hash(k), &k).is_some(), !k.is_multiple_of(3));
        }
    }
}
