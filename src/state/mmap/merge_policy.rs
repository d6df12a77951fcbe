//! Which runs to merge: size-tiered, with a fan-in of [`FAN_IN`].
//!
//! A run's *tier* is the order of magnitude of its size in units of a flush (the cache bound,
//! `base`), in base [`FAN_IN`], rounded at half-way so that a merge of `FAN_IN` full flushes
//! (a little smaller than `FAN_IN` flushes when keys repeat) lands in the next tier rather than
//! on the boundary: tier `t` holds runs of `base * FAN_IN^t / 2 ..= base * FAN_IN^(t+1) / 2`
//! entries (tier 0 also the smaller ones, e.g. a checkpoint's flush of a few dirty entries).
//!
//! When the newest runs of the lowest tiers number `FAN_IN`, they are merged into one run of
//! the next tier: the runs behave like the digits of a base-`FAN_IN` counter of flushes. Each
//! entry is then rewritten about `log_FAN_IN(state / base)` times (the previous policy, "merge
//! the newest two while the older is at most twice the newer", rewrote it `log_2` times, twice
//! as often at 4), at the price of up to `FAN_IN - 1` runs per tier. Extra runs are cheap for
//! lookups: a key a run does not hold is ruled out by that run's Bloom filter in RAM, and a
//! key it holds is found through its sparse index. Beyond [`MAX_RUNS`] (a state hundreds of
//! thousands of flushes large, or a restore that brought many runs) the newest runs are merged
//! down to the bound regardless of tiers.
//!
//! The decision is a pure function of the runs' sizes, so that the code running merges (in the
//! worker thread or elsewhere) only asks it what to merge.

/// Runs of one tier that are merged into one run of the next.
pub(crate) const FAN_IN: usize = 4;

/// Runs beyond which the newest runs are merged whatever their tiers.
pub(crate) const MAX_RUNS: usize = 24;

/// The tier of a run of `entries` entries, for flushes of `base` entries (see the module docs).
pub(crate) fn tier(entries: u64, base: u64) -> u32 {
    let (fan, base) = (FAN_IN as u64, base.max(1));
    let mut t = 0;
    // Tier t ends at base * FAN_IN^(t+1) / 2, compared as 2 * entries against base * FAN_IN^(t+1).
    let mut bound = base.saturating_mul(fan);
    while entries.saturating_mul(2) > bound && bound < u64::MAX {
        t += 1;
        bound = bound.saturating_mul(fan);
    }
    t
}

/// How many of the newest runs to merge into one now, given every run's entries (oldest
/// first) and the flush size `base`; `None` when no merge is due. Call it again after the
/// merge: a merge can complete a tier above (merges cascade).
pub(crate) fn runs_to_merge(entries: &[u64], base: u64) -> Option<usize> {
    let n = entries.len();
    if n > MAX_RUNS {
        return Some(n - MAX_RUNS + 1);
    }
    // For t = the newest run's tier upwards, the newest runs of tiers up to t: merged when
    // FAN_IN of them are of tier t (the lowest tier first, as a counter carries; newer runs
    // of lower tiers go along).
    let tiers: Vec<u32> = entries.iter().map(|&e| tier(e, base)).collect();
    let mut t = *tiers.last()?;
    loop {
        let suffix = tiers.iter().rev().take_while(|&&x| x <= t);
        let (k, full) = suffix.fold((0, 0), |(k, c), &x| (k + 1, c + usize::from(x == t)));
        if full >= FAN_IN {
            return Some(k);
        }
        if k == n {
            return None;
        }
        // The tier of the newest run older than the suffix (above t, by construction).
        t = tiers[n - 1 - k];
    }
}

#[cfg(test)]
#[path = "merge_policy_tests.rs"]
mod tests;
