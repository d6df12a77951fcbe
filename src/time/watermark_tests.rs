use super::*;
use proptest::prelude::*;

fn cfg(ooo: i64, interval: u64, idle: Option<u64>) -> WatermarkConfig {
    WatermarkConfig {
        max_out_of_orderness_ms: ooo,
        interval_ms: interval,
        idle_timeout_ms: idle,
    }
}

#[test]
fn generator_is_bounded_out_of_order_and_monotone() {
    let mut g = WatermarkGenerator::new(cfg(100, 0, None));
    assert_eq!(g.poll(0), None, "nothing seen: nothing to say");
    g.on_record(1_000, 0);
    assert_eq!(g.poll(0), Some(WatermarkEvent::Watermark(899)));
    assert_eq!(g.poll(0), None, "unchanged: not repeated");
    g.on_record(500, 1);
    assert_eq!(g.poll(1), None, "an older record does not move it back");
    g.on_record(1_050, 2);
    assert_eq!(g.poll(2), Some(WatermarkEvent::Watermark(949)));
    assert_eq!(g.end(), WatermarkEvent::Watermark(i64::MAX));
}

#[test]
fn generator_waits_for_the_interval() {
    let mut g = WatermarkGenerator::new(cfg(0, 200, None));
    g.start(1_000);
    g.on_record(10, 1_050);
    assert_eq!(g.poll(1_100), None, "interval not yet passed");
    assert_eq!(g.poll(1_200), Some(WatermarkEvent::Watermark(9)));
    g.on_record(20, 1_250);
    assert_eq!(g.poll(1_399), None);
    assert_eq!(g.poll(1_400), Some(WatermarkEvent::Watermark(19)));
}

#[test]
fn idle_split_reports_once_and_rejoins_on_records() {
    let mut g = WatermarkGenerator::new(cfg(0, 0, Some(5_000)));
    g.start(0);
    g.on_record(100, 10);
    assert_eq!(g.poll(10), Some(WatermarkEvent::Watermark(99)));
    assert_eq!(g.poll(5_009), None);
    assert_eq!(g.poll(5_010), Some(WatermarkEvent::Idle));
    assert_eq!(g.poll(9_000), None, "idle is reported once");
    g.on_record(50, 9_001);
    assert_eq!(
        g.poll(9_001),
        Some(WatermarkEvent::Watermark(99)),
        "a rejoining split announces its (unchanged) watermark"
    );
    assert_eq!(g.poll(9_002), None);
}

#[test]
fn checkpointed_max_timestamp_restores_the_watermark() {
    let mut g = WatermarkGenerator::new(cfg(10, 0, None));
    g.on_record(77, 0);
    let mut r = WatermarkGenerator::new(cfg(10, 0, None));
    r.restore(g.max_timestamp());
    assert_eq!(r.current(), g.current());
    assert_eq!(r.current(), 66);
}

#[test]
fn tracker_holds_while_all_idle_and_ends_at_max() {
    let mut t = WatermarkTracker::new(2);
    assert_eq!(t.update(0, WatermarkEvent::Watermark(10)), None);
    assert_eq!(t.update(1, WatermarkEvent::Idle), Some(10));
    assert_eq!(t.update(0, WatermarkEvent::Idle), None);
    assert!(t.is_idle());
    assert_eq!(t.end(0), None, "idle + ended: nothing active, hold");
    assert_eq!(t.update(1, WatermarkEvent::Watermark(5)), None, "monotone");
    assert_eq!(t.update(1, WatermarkEvent::Watermark(20)), Some(20));
    assert_eq!(t.end(1), Some(i64::MAX));
    assert!(!t.is_idle());
    assert_eq!(t.update(7, WatermarkEvent::Idle), None, "unknown channel");
}

/// The naive model: recomputes everything from each channel's history.
#[derive(Clone, Default)]
struct Model {
    seen: Vec<Vec<WatermarkEvent>>,
    reported: i64,
}

impl Model {
    fn apply(&mut self, ch: usize, ev: WatermarkEvent) -> Option<i64> {
        self.seen[ch].push(ev);
        let mut vals = Vec::new();
        let mut ended = 0;
        for hist in &self.seen {
            let wm = hist
                .iter()
                .filter_map(|e| match e {
                    WatermarkEvent::Watermark(w) => Some(*w),
                    WatermarkEvent::Idle => None,
                })
                .max()
                .unwrap_or(i64::MIN);
            let idle = matches!(hist.last(), Some(WatermarkEvent::Idle));
            if wm == i64::MAX {
                ended += 1;
            } else if !idle {
                vals.push(wm);
            }
        }
        let target = if ended == self.seen.len() {
            Some(i64::MAX)
        } else {
            vals.into_iter().min()
        };
        match target {
            Some(t) if t > self.reported => {
                self.reported = t;
                Some(t)
            }
            _ => None,
        }
    }
}

fn event() -> impl Strategy<Value = WatermarkEvent> {
    prop_oneof![
        6 => (-50i64..200).prop_map(WatermarkEvent::Watermark),
        2 => Just(WatermarkEvent::Idle),
        1 => Just(WatermarkEvent::Watermark(i64::MAX)),
    ]
}

proptest! {
    #[test]
    fn tracker_matches_naive_min(n in 1usize..5, evs in prop::collection::vec((0usize..5, event()), 0..80)) {
        let mut t = WatermarkTracker::new(n);
        let mut m = Model { seen: vec![Vec::new(); n], reported: i64::MIN };
        let mut last = i64::MIN;
        for (ch, ev) in evs {
            let ch = ch % n;
            let got = t.update(ch, ev);
            prop_assert_eq!(got, m.apply(ch, ev));
            if let Some(w) = got {
                prop_assert!(w > last, "reported values strictly increase");
                last = w;
            }
            prop_assert_eq!(t.current(), m.reported);
        }
    }

    #[test]
    fn generator_never_exceeds_bound_and_is_monotone(
        recs in prop::collection::vec((0i64..10_000, 0u64..50), 1..100),
        ooo in 0i64..500,
    ) {
        let mut g = WatermarkGenerator::new(cfg(ooo, 0, None));
        let (mut now, mut max, mut last) = (0u64, i64::MIN, i64::MIN);
        for (ts, dt) in recs {
            now += dt;
            g.on_record(ts, now);
            max = max.max(ts);
            if let Some(WatermarkEvent::Watermark(w)) = g.poll(now) {
                prop_assert!(w > last);
                last = w;
            }
            prop_assert_eq!(last, max - ooo - 1, "interval 0: emitted at every poll");
        }
    }
}
