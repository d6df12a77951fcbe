//! Memory stays bounded under TTL: an unbounded stream of fresh keys, each written once and
//! never read again, for every keyed state kind, in processing and in event time.

use super::test_util::{ctx, RANGE_ALL};
use super::*;

/// Time units of the run, fresh keys written per unit, and the TTL in units.
const UNITS: u64 = 2_000;
const PER_UNIT: u64 = 10;
const TTL: u64 = 100;
/// Keys live at any time (written within the TTL): the steady state.
const LIVE: usize = (PER_UNIT * TTL) as usize;

/// Entries stored in all key groups.
fn stored(s: &dyn KeyedStateStore) -> usize {
    RANGE_ALL.map(|kg| s.entries_in_group(kg)).sum()
}

/// Streams `UNITS × PER_UNIT` fresh keys (20× the steady state) through `s` and asserts that
/// the stored entries never exceed twice the live ones (without cleanup they would reach
/// 20×), and that every live key still reads as present at the end.
fn assert_bounded<S: KeyedStateStore>(
    mut s: S,
    event: bool,
    write: impl Fn(&mut S, &KeyContext<'_, u64>),
    live: impl Fn(&S, &KeyContext<'_, u64>) -> bool,
) {
    s.set_key_groups(RANGE_ALL);
    let mut peak = 0;
    for t in 0..UNITS {
        // Processing time: the context's clock; event time: the watermark (processing time
        // stands still, so only the watermark can expire anything).
        let now = if event { 0 } else { t };
        if event {
            s.advance_watermark(t as i64);
        }
        for j in 0..PER_UNIT {
            let key = t * PER_UNIT + j;
            write(&mut s, &ctx(&key, &RANGE_ALL, now));
        }
        peak = peak.max(stored(&s));
    }
    assert!(
        peak <= 2 * LIVE,
        "{}: peak {peak} entries for {LIVE} live ({} keys written)",
        s.name(),
        UNITS * PER_UNIT
    );
    let now = if event { 0 } else { UNITS - 1 };
    let first_live = (UNITS - TTL + 1) * PER_UNIT;
    for key in first_live..UNITS * PER_UNIT {
        assert!(
            live(&s, &ctx(&key, &RANGE_ALL, now)),
            "{}: key {key} lost",
            s.name()
        );
    }
    let expired = (UNITS - TTL - 1) * PER_UNIT;
    assert!(
        !live(&s, &ctx(&expired, &RANGE_ALL, now)),
        "{}: key {expired} kept",
        s.name()
    );
}

fn ttl() -> Ttl {
    Ttl::after_write(TTL)
}

#[test]
fn value_state_stays_bounded_in_both_time_domains() {
    for event in [false, true] {
        let s = ValueState::<u64, u64>::new("value");
        let s = if event {
            s.with_event_time_ttl(ttl())
        } else {
            s.with_ttl(ttl())
        };
        assert_bounded(s, event, |s, c| s.update(c, 1), |s, c| s.get(c).is_some());
    }
}

#[test]
fn list_state_stays_bounded_in_both_time_domains() {
    for event in [false, true] {
        let s = ListState::<u64, u8>::new("list");
        let s = if event {
            s.with_event_time_ttl(ttl())
        } else {
            s.with_ttl(ttl())
        };
        assert_bounded(s, event, |s, c| s.add(c, 1), |s, c| !s.get(c).is_empty());
    }
}

#[test]
fn map_state_stays_bounded_in_both_time_domains() {
    for event in [false, true] {
        let s = MapState::<u64, u8, u8>::new("map");
        let s = if event {
            s.with_event_time_ttl(ttl())
        } else {
            s.with_ttl(ttl())
        };
        assert_bounded(
            s,
            event,
            |s, c| {
                s.put(c, 1, 1);
            },
            |s, c| s.contains(c, &1),
        );
    }
}

#[test]
fn reducing_state_stays_bounded_in_both_time_domains() {
    for event in [false, true] {
        let s = ReducingState::new("reducing", |a: &u64, b: &u64| a + b);
        let s = if event {
            s.with_event_time_ttl(ttl())
        } else {
            s.with_ttl(ttl())
        };
        assert_bounded(s, event, |s, c| s.add(c, 1), |s, c| s.get(c).is_some());
    }
}

/// Counts its inputs.
struct Count;

impl Aggregator for Count {
    type In = u8;
    type Acc = u64;
    type Out = u64;
    fn create(&self) -> u64 {
        0
    }
    fn add(&self, acc: &mut u64, _v: &u8) {
        *acc += 1;
    }
    fn result(&self, acc: &u64) -> u64 {
        *acc
    }
}

#[test]
fn aggregating_state_stays_bounded_in_both_time_domains() {
    for event in [false, true] {
        let s = AggregatingState::<u64, Count>::new("aggregating", Count);
        let s = if event {
            s.with_event_time_ttl(ttl())
        } else {
            s.with_ttl(ttl())
        };
        assert_bounded(s, event, |s, c| s.add(c, &1), |s, c| s.get(c).is_some());
    }
}

#[test]
fn event_time_ttl_follows_the_watermark_not_the_wall_clock() {
    let mut s = ValueState::<u64, u8>::new("v").with_event_time_ttl(Ttl::after_write(10));
    s.set_key_groups(RANGE_ALL);
    // Written before any watermark: counts as written at the first one (1_000).
    s.update(&ctx(&1, &RANGE_ALL, 0), 1);
    assert_eq!(
        s.get(&ctx(&1, &RANGE_ALL, u64::MAX)),
        Some(&1),
        "no watermark yet"
    );
    s.advance_watermark(1_000);
    s.update(&ctx(&2, &RANGE_ALL, 0), 2);
    s.advance_watermark(1_009);
    assert_eq!(s.get(&ctx(&1, &RANGE_ALL, 0)), Some(&1));
    s.advance_watermark(1_005); // an older watermark changes nothing
    s.advance_watermark(1_010);
    assert_eq!(s.get(&ctx(&1, &RANGE_ALL, 0)), None);
    assert_eq!(s.get(&ctx(&2, &RANGE_ALL, 0)), None);
    assert_eq!(s.ttl_time(), TtlTime::Event);
}

#[test]
fn event_time_stamps_survive_a_snapshot() {
    let ttl = Ttl::after_write(10);
    let mut s = ValueState::<u64, u8>::new("v").with_event_time_ttl(ttl);
    s.set_key_groups(RANGE_ALL);
    s.update(&ctx(&1, &RANGE_ALL, 0), 1); // stamped with the first watermark, 100
    s.advance_watermark(100);
    s.advance_watermark(105);
    s.update(&ctx(&2, &RANGE_ALL, 0), 2); // stamped 105
    let mut r = ValueState::<u64, u8>::new("v").with_event_time_ttl(ttl);
    r.set_key_groups(RANGE_ALL);
    for kg in RANGE_ALL {
        let mut out = Vec::new();
        s.snapshot_group(kg, 0, &mut out);
        r.restore_group(kg, &out).unwrap();
    }
    r.advance_watermark(109);
    assert_eq!(r.get(&ctx(&1, &RANGE_ALL, 0)), Some(&1));
    r.advance_watermark(110);
    assert_eq!(
        r.get(&ctx(&1, &RANGE_ALL, 0)),
        None,
        "first watermark's stamp kept"
    );
    assert_eq!(r.get(&ctx(&2, &RANGE_ALL, 0)), Some(&2));
    r.advance_watermark(115);
    assert_eq!(r.get(&ctx(&2, &RANGE_ALL, 0)), None);
}
