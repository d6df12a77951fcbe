//! The sparse index against a brute-force oracle (the first position of a sorted list whose
//! hash is at least the target, found by a linear scan), and lookups in runs whose groups
//! hold 0, 1 or many entries, with their sparse indexes built at write time or lazily.

use super::*;
use crate::source::generator::splitmix64;
use crate::state::mmap::filter;
use crate::state::mmap::run::{write_run, Run};
use crate::state::mmap::run_writer::RunWriter;
use proptest::prelude::*;

/// The first index of `v` whose hash is `>= t`, found through the fences (as a run does).
fn via_sparse(v: &[u64], t: u64) -> usize {
    let s = Sparse::build(v.iter().copied());
    let w = s.window(v.len(), t);
    assert!(w.len() <= STRIDE, "window {w:?}");
    w.start + filter::search(w.len(), t, |i| v.get(w.start + i).copied())
}

fn oracle(v: &[u64], t: u64) -> usize {
    v.iter().position(|&h| h >= t).unwrap_or(v.len())
}

#[test]
fn windows_agree_with_a_linear_scan_at_every_size_and_boundary() {
    for n in [0, 1, 2, STRIDE - 1, STRIDE, STRIDE + 1, 3 * STRIDE, 1000] {
        let mut v: Vec<u64> = (0..n as u64).map(|i| splitmix64(i) | 1).collect();
        v.sort_unstable();
        // Every stored hash, its neighbours (fences included), and the extremes.
        let mut probes = vec![0, 1, u64::MAX];
        for &h in &v {
            probes.extend([h - 1, h, h.saturating_add(1)]);
        }
        for t in probes {
            assert_eq!(via_sparse(&v, t), oracle(&v, t), "n={n} t={t}");
        }
    }
}

proptest! {
    #[test]
    fn windows_agree_with_a_linear_scan(
        mut v in proptest::collection::vec(any::<u64>(), 0..600),
        dups in proptest::collection::vec(any::<prop::sample::Index>(), 0..40),
        probes in proptest::collection::vec(any::<u64>(), 0..50),
    ) {
        // Repeated hashes (colliding keys), also across fences.
        let extra: Vec<u64> = if v.is_empty() { vec![] } else { dups.iter().map(|i| v[i.index(v.len())]).collect() };
        v.extend(extra);
        v.sort_unstable();
        let stored = v.clone();
        for t in probes.into_iter().chain(stored) {
            prop_assert_eq!(via_sparse(&v, t), oracle(&v, t));
        }
    }
}

#[test]
fn fences_cost_an_eighth_of_a_byte_per_entry() {
    let v: Vec<u64> = (0..64_000u64).collect();
    assert_eq!(
        Sparse::build(v.iter().copied()).bytes(),
        64_000 / STRIDE * 8
    );
}

/// Groups of 0, 1, STRIDE + 1 and many entries (hashes of key group `kg` have low 7 bits
/// `kg`, as stable hashes do); the bytes of an entry are its hash.
fn groups() -> Vec<Vec<u64>> {
    let sizes = [0usize, 1, STRIDE + 1, 0, 5000, 1];
    sizes
        .iter()
        .enumerate()
        .map(|(kg, &n)| {
            let mut v: Vec<u64> = (0..n as u64)
                .map(|i| (splitmix64(i * 8 + kg as u64) << 7) | kg as u64)
                .collect();
            v.sort_unstable();
            v
        })
        .collect()
}

fn check_lookups(run: &Run, groups: &[Vec<u64>]) {
    for (kg, v) in groups.iter().enumerate() {
        let kg = kg as u16;
        for &h in v {
            let found: Vec<_> = run.lookup(kg, h).map(|e| e.bytes.to_vec()).collect();
            assert_eq!(found, vec![h.to_le_bytes().to_vec()], "kg {kg} hash {h}");
        }
        // Absent: before the first, after the last, between neighbours, another group's.
        let mut absent = vec![kg as u64, u64::MAX];
        absent.extend(v.iter().map(|h| h + 128));
        absent.extend(groups.iter().flatten().filter(|h| *h & 127 != kg as u64));
        for h in absent.into_iter().filter(|h| !v.contains(h)) {
            assert_eq!(run.lookup(kg, h).count(), 0, "kg {kg} absent {h}");
        }
    }
    // Groups outside the run's range hold nothing.
    assert_eq!(run.lookup(groups.len() as u16, 0).count(), 0);
}

#[test]
fn runs_find_present_and_only_present_keys_in_groups_of_any_size() {
    let dir = tempfile::tempdir().unwrap();
    let groups = groups();
    let bytes: Vec<Vec<[u8; 8]>> = groups
        .iter()
        .map(|g| g.iter().map(|h| h.to_le_bytes()).collect())
        .collect();
    let entries: Vec<GroupEntries<'_>> = groups
        .iter()
        .zip(&bytes)
        .map(|(g, b)| g.iter().zip(b).map(|(h, b)| (*h, false, &b[..])).collect())
        .collect();
    let range = 0..groups.len() as u16;
    let a = dir.path().join("a.wr");
    let written = write_run(&a, range.clone(), false, &entries).unwrap();
    check_lookups(&written, &groups);
    let b = dir.path().join("b.wr");
    let mut w = RunWriter::create(&b, range.clone(), false).unwrap();
    for g in &entries {
        w.group(g).unwrap();
    }
    check_lookups(&w.finish().unwrap(), &groups);
    // Opened as a restore does: filters and fences are built on each group's first lookup.
    check_lookups(&Run::open(&a, Some(range)).unwrap(), &groups);
}
