//! The merge policy: tiers, the base-4 counter it makes of flushes, the bound on runs, and
//! the rewrites per entry it costs against the previous policy (simulated; the expected
//! merges are worked out by hand in the comments).

use super::*;

#[test]
fn tiers_round_at_half_way() {
    // base 100: tier 0 up to 200, tier 1 up to 800, tier 2 up to 3200.
    for (entries, want) in [
        (0, 0),
        (1, 0),
        (100, 0),
        (200, 0),
        (201, 1),
        (390, 1),
        (800, 1),
    ] {
        assert_eq!(tier(entries, 100), want, "{entries}");
    }
    assert_eq!(tier(801, 100), 2);
    assert_eq!(tier(3200, 100), 2);
    assert_eq!(tier(3201, 100), 3);
    assert_eq!(tier(u64::MAX, 1), tier(u64::MAX, 1)); // terminates
    assert_eq!(tier(5, 0), 1, "a zero base counts as 1: tier 1 is 3..=8");
}

#[test]
fn four_runs_of_a_tier_merge_and_fewer_do_not() {
    let b = 100;
    assert_eq!(runs_to_merge(&[], b), None);
    assert_eq!(runs_to_merge(&[100, 100, 100], b), None);
    assert_eq!(runs_to_merge(&[100, 100, 100, 100], b), Some(4));
    // A tier-1 run below three tier-0 runs: not merged with them (that would rewrite it
    // every three flushes).
    assert_eq!(runs_to_merge(&[400, 100, 100, 100], b), None);
    assert_eq!(runs_to_merge(&[400, 100, 100, 100, 100], b), Some(4));
    // Small checkpoint flushes count as tier 0.
    assert_eq!(runs_to_merge(&[400, 100, 3, 100, 7], b), Some(4));
    // Four tier-1 runs and two newer tier-0 runs: all six (the carry takes the small ones).
    assert_eq!(runs_to_merge(&[400, 390, 400, 380, 100, 100], b), Some(6));
    // A larger run older than smaller ones stops the suffix.
    assert_eq!(runs_to_merge(&[1600, 400, 400, 400], b), None);
}

#[test]
fn beyond_the_bound_the_newest_runs_merge_down_to_it() {
    let sizes: Vec<u64> = (0..MAX_RUNS as u64 + 3).map(|i| 1 << (40 - i)).collect();
    assert_eq!(runs_to_merge(&sizes, 1), Some(4));
}

/// Flushes `flushes` runs of `base` entries of new keys, merging as `policy` says; returns
/// (entries written by merges / entries flushed, most runs at any time).
fn simulate(flushes: usize, base: u64, policy: impl Fn(&[u64]) -> Option<usize>) -> (f64, usize) {
    let (mut runs, mut written, mut most) = (Vec::<u64>::new(), 0u64, 0);
    for _ in 0..flushes {
        runs.push(base);
        while let Some(k) = policy(&runs) {
            let merged: u64 = runs.drain(runs.len() - k..).sum();
            written += merged;
            runs.push(merged);
        }
        most = most.max(runs.len());
    }
    (written as f64 / (flushes as u64 * base) as f64, most)
}

/// The policy before session 6: merge the newest two while the older is at most twice the
/// newer; all beyond 12 runs.
fn binary(runs: &[u64]) -> Option<usize> {
    let n = runs.len();
    match n {
        _ if n > 12 => Some(n),
        _ if n >= 2 && runs[n - 2] <= 2 * runs[n - 1] => Some(2),
        _ => None,
    }
}

#[test]
fn tiered_merges_rewrite_each_entry_half_as_often_with_few_runs() {
    // 76 flushes: W1 with 10M keys through a 131k-entry cache.
    let (tiered, most) = simulate(76, 1000, |r| runs_to_merge(r, 1000));
    let (old, _) = simulate(76, 1000, binary);
    // 76 = 1030 in base 4: three tiers of carries; the binary counter carries 6 times.
    assert!(tiered < 3.5, "tiered rewrites {tiered}");
    assert!(old > 5.0, "binary rewrites {old}");
    assert!(most <= 3 * 4 + 1, "runs {most}");
    // A long run stays under the bound.
    let (_, most) = simulate(5000, 10, |r| runs_to_merge(r, 10));
    assert!(most <= MAX_RUNS, "runs {most}");
}
