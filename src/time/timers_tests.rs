use super::*;
use crate::state::key_group::{key_group_of_hash, key_group_range};
use proptest::prelude::*;
use std::collections::BTreeSet;

const MAX_PAR: u16 = 16;
const E: TimeDomain = TimeDomain::EventTime;
const P: TimeDomain = TimeDomain::ProcessingTime;

fn kg(key: &u64) -> u16 {
    key_group_of_hash(key.stable_hash(), MAX_PAR)
}

/// The workers (ranges) of a split into `workers` and one service per worker.
fn split(workers: usize) -> Vec<(Range<u16>, TimerService<u64>)> {
    (0..workers)
        .map(|w| {
            let r = key_group_range(w, workers, MAX_PAR);
            let mut s = TimerService::new("timers");
            s.set_key_groups(r.clone());
            (r, s)
        })
        .collect()
}

/// The service of `key` in `split` and its context.
fn with_key<R>(
    split: &mut [(Range<u16>, TimerService<u64>)],
    key: u64,
    f: impl FnOnce(&mut TimerService<u64>, &KeyContext<'_, u64>) -> R,
) -> R {
    let g = kg(&key);
    let (r, s) = split
        .iter_mut()
        .find(|(r, _)| r.contains(&g))
        .expect("ranges cover every group");
    let ctx = KeyContext {
        key: &key,
        local_group: (g - r.start) as usize,
        hash: key.stable_hash(),
        now_ms: 0,
    };
    f(s, &ctx)
}

#[test]
fn fires_in_time_order_once_and_dedups() {
    let mut w = split(1);
    for (k, t) in [(1u64, 50), (2, 10), (3, 50), (1, 50), (2, 30)] {
        with_key(&mut w, k, |s, c| s.register(E, c, t));
    }
    let s = &mut w[0].1;
    assert_eq!(s.len(E), 4, "(1, 50) registered twice counts once");
    assert_eq!(s.next_time(E), Some(10));
    let due: Vec<i64> = s.advance_to(E, 49).iter().map(|t| t.time).collect();
    assert_eq!(due, [10, 30]);
    let mut keys: Vec<u64> = s.advance_to(E, 50).into_iter().map(|t| t.key).collect();
    keys.sort();
    assert_eq!(keys, [1, 3]);
    assert!(s.advance_to(E, i64::MAX).is_empty());
    assert!(s.is_empty());
}

#[test]
fn domains_are_separate_and_delete_removes_one() {
    let mut w = split(1);
    with_key(&mut w, 5, |s, c| {
        assert!(s.register(E, c, 100));
        assert!(s.register(P, c, 100));
        assert!(!s.delete(E, c, 99));
        assert!(s.delete(E, c, 100));
        assert!(!s.delete(E, c, 100));
    });
    let s = &mut w[0].1;
    assert!(s.advance_to(E, 1_000).is_empty());
    let due = s.advance_to(P, 1_000);
    assert_eq!(due.len(), 1);
    assert_eq!((due[0].key, due[0].time), (5, 100));
}

#[test]
fn fired_timer_rebuilds_the_key_context() {
    let mut w = split(2);
    let key = (0..)
        .find(|k| kg(k) >= MAX_PAR / 2)
        .expect("a key of worker 1");
    with_key(&mut w, key, |s, c| s.register(E, c, 7));
    let (r, s) = &mut w[1];
    let t = s.pop_due(E, 7).expect("due");
    let ctx = t.ctx(3);
    assert_eq!(*ctx.key, key);
    assert_eq!(ctx.local_group, (kg(&key) - r.start) as usize);
    assert_eq!(ctx.hash, key.stable_hash());
}

#[test]
fn corrupt_sections_are_errors_and_leave_the_group_unchanged() {
    let mut w = split(1);
    with_key(&mut w, 1, |s, c| s.register(E, c, 1));
    let g = kg(&1);
    let mut bytes = Vec::new();
    assert_eq!(w[0].1.snapshot_group(g, 0, &mut bytes), 1);
    let mut r = split(1);
    for cut in 1..bytes.len() {
        assert!(r[0].1.restore_group(g, &bytes[..cut]).is_err(), "cut {cut}");
    }
    let mut bad = bytes.clone();
    bad[0] = 9;
    assert!(r[0].1.restore_group(g, &bad).is_err());
    assert!(r[0].1.is_empty());
    assert!(r[0].1.restore_group(MAX_PAR, &bytes).is_err());
    r[0].1.restore_group(g, &bytes).expect("valid");
    assert_eq!(r[0].1.entries_in_group(g), 1);
}

#[derive(Clone, Debug)]
enum Action {
    Register(bool, u64, i64),
    Delete(bool, u64, i64),
    Advance(bool, i64),
    /// Snapshot every group and restore into this many workers.
    Rescale(usize),
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        6 => (any::<bool>(), 0u64..40, -20i64..100).prop_map(|(d, k, t)| Action::Register(d, k, t)),
        2 => (any::<bool>(), 0u64..40, -20i64..100).prop_map(|(d, k, t)| Action::Delete(d, k, t)),
        2 => (any::<bool>(), -20i64..110).prop_map(|(d, t)| Action::Advance(d, t)),
        1 => (1usize..4).prop_map(Action::Rescale),
    ]
}

fn domain(event: bool) -> TimeDomain {
    if event {
        E
    } else {
        P
    }
}

/// Snapshot of every group of every worker, restored into `workers` workers.
fn rescale(
    w: &[(Range<u16>, TimerService<u64>)],
    workers: usize,
) -> Vec<(Range<u16>, TimerService<u64>)> {
    let mut next = split(workers);
    for (range, s) in w {
        for g in range.clone() {
            let mut bytes = Vec::new();
            let n = s.snapshot_group(g, 0, &mut bytes);
            assert_eq!(n, s.entries_in_group(g));
            let (_, to) = next
                .iter_mut()
                .find(|(r, _)| r.contains(&g))
                .expect("owner");
            to.restore_group(g, &bytes).expect("restore");
        }
    }
    next
}

proptest! {
    #[test]
    fn matches_btreeset_model(actions in prop::collection::vec(action(), 0..120), start in 1usize..4) {
        let mut w = split(start);
        let mut model: BTreeSet<(bool, i64, u64)> = BTreeSet::new();
        for a in actions {
            match a {
                Action::Register(d, k, t) => {
                    let got = with_key(&mut w, k, |s, c| s.register(domain(d), c, t));
                    prop_assert_eq!(got, model.insert((d, t, k)));
                }
                Action::Delete(d, k, t) => {
                    let got = with_key(&mut w, k, |s, c| s.delete(domain(d), c, t));
                    prop_assert_eq!(got, model.remove(&(d, t, k)));
                }
                Action::Advance(d, up_to) => {
                    // Every worker fires its own timers in time order.
                    let mut fired = Vec::new();
                    for (_, s) in &mut w {
                        let mine = s.advance_to(domain(d), up_to);
                        prop_assert!(mine.windows(2).all(|p| p[0].time <= p[1].time));
                        fired.extend(mine.into_iter().map(|t| (d, t.time, t.key)));
                    }
                    fired.sort();
                    let due: Vec<_> = model.iter().filter(|(md, t, _)| *md == d && *t <= up_to).copied().collect();
                    for x in &due {
                        model.remove(x);
                    }
                    prop_assert_eq!(fired, due);
                }
                Action::Rescale(n) => w = rescale(&w, n),
            }
            let held: usize = w.iter().map(|(_, s)| s.len(E) + s.len(P)).sum();
            prop_assert_eq!(held, model.len());
            let next = w.iter().filter_map(|(_, s)| s.next_time(E)).min();
            prop_assert_eq!(next, model.iter().filter(|m| m.0).map(|m| m.1).min());
        }
    }
}
