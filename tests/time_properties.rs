//! Property tests of event time through the public API, beside the unit proptests in
//! `src/time/` and `src/operator/window/` (sliding assignment, the watermark tracker against a
//! naive minimum, timers against a `BTreeSet` model, window and session operators against
//! naive oracles). What they did not cover:
//!
//! - tumbling (and a session's own) window assignment against the naive definition;
//! - split watermark generators with idle timeouts feeding a tracker: after each poll the
//!   stage watermark is the (monotone) minimum over the splits that are neither idle nor
//!   ended, a split goes idle exactly when the timeout passed without records, and rejoins;
//! - timers fired in `(time, key group, key hash)` order, each exactly once, while the
//!   handlers register and delete timers during the round (due ones fire in the same round).

use proptest::prelude::*;
use std::collections::BTreeSet;
use weir::operator::window::WindowKind;
use weir::state::key_group::key_group_of_hash;
use weir::state::{KeyContext, KeyedStateStore, StableKey};
use weir::time::{
    TimeDomain, TimerService, WatermarkConfig, WatermarkEvent, WatermarkGenerator, WatermarkTracker,
};

const MAX_PAR: u16 = 128;

proptest! {
    /// A tumbling window is the one `[k * size, (k + 1) * size)` holding ts; a session's own
    /// window is `[ts, ts + gap)`.
    #[test]
    fn tumbling_and_session_assignment_match_the_definition(
        ts in -100_000i64..100_000,
        size in 1i64..5_000,
    ) {
        let got = WindowKind::Tumbling { size }.assign(ts).into_vec();
        let naive: Vec<(i64, i64)> = (-100_000 / size - 2..=100_000 / size + 2)
            .map(|k| (k * size, (k + 1) * size))
            .filter(|&(s, e)| s <= ts && ts < e)
            .collect();
        prop_assert_eq!(got, naive);
        let session = WindowKind::Session { gap: size }.assign(ts).into_vec();
        prop_assert_eq!(session, vec![(ts, ts + size)]);
    }
}

/// One step of a split: processing time advances by `dt`, the split reads `records` (event
/// times) or, with `None`, ends; then it is polled.
#[derive(Clone, Debug)]
struct Step {
    split: usize,
    dt: u64,
    records: Option<Vec<i64>>,
}

fn steps(n: usize) -> impl Strategy<Value = Vec<Step>> {
    let step = (
        0..n,
        0u64..150,
        prop_oneof![
            3 => prop::collection::vec(0i64..1_000, 0..3).prop_map(Some),
            1 => Just(Some(Vec::new())),
            1 => Just(None::<Vec<i64>>),
        ],
    );
    prop::collection::vec(step, 0..80).prop_map(|v| {
        v.into_iter()
            .map(|(split, dt, records)| Step { split, dt, records })
            .collect()
    })
}

/// The model of one split.
#[derive(Clone, Copy)]
struct SplitModel {
    max_ts: Option<i64>,
    last_record_at: u64,
    idle: bool,
    ended: bool,
}

proptest! {
    #[test]
    fn stage_watermark_is_the_minimum_over_active_splits(
        n in 1usize..4,
        script in steps(3),
        bound in 0i64..50,
        timeout in 1u64..300,
    ) {
        let cfg = WatermarkConfig {
            max_out_of_orderness_ms: bound,
            interval_ms: 0,
            idle_timeout_ms: Some(timeout),
        };
        let mut gens: Vec<WatermarkGenerator> = (0..n).map(|_| WatermarkGenerator::new(cfg)).collect();
        gens.iter_mut().for_each(|g| g.start(0));
        let mut tracker = WatermarkTracker::new(n);
        let init = SplitModel { max_ts: None, last_record_at: 0, idle: false, ended: false };
        let mut model = vec![init; n];
        let (mut now, mut stage) = (0u64, i64::MIN);
        for step in script {
            let s = step.split % n;
            now += step.dt;
            if model[s].ended {
                continue;
            }
            let event = match &step.records {
                None => {
                    model[s].ended = true;
                    Some(gens[s].end())
                }
                Some(records) => {
                    for &ts in records {
                        gens[s].on_record(ts, now);
                        let m = &mut model[s];
                        m.max_ts = Some(m.max_ts.map_or(ts, |x| x.max(ts)));
                        m.last_record_at = now;
                        m.idle = false;
                    }
                    let event = gens[s].poll(now);
                    let m = &mut model[s];
                    let goes_idle = !m.idle && now - m.last_record_at >= timeout;
                    prop_assert_eq!(event == Some(WatermarkEvent::Idle), goes_idle, "idle exactly after the timeout");
                    m.idle |= goes_idle;
                    event
                }
            };
            if let Some(ev) = event {
                tracker.update(s, ev);
            }
            // The model: the minimum over the splits neither idle nor ended, never going back;
            // held while there is none; +inf once all ended.
            let live: Vec<i64> = model
                .iter()
                .filter(|m| !m.idle && !m.ended)
                .map(|m| m.max_ts.map_or(i64::MIN, |t| t - bound - 1))
                .collect();
            if model.iter().all(|m| m.ended) {
                stage = i64::MAX;
            } else if let Some(min) = live.into_iter().min() {
                stage = stage.max(min);
            }
            prop_assert_eq!(tracker.current(), stage);
        }
    }
}

/// A key's context in a service owning every key group.
fn ctx(k: &u64) -> KeyContext<'_, u64> {
    let hash = k.stable_hash();
    KeyContext {
        key: k,
        local_group: key_group_of_hash(hash, MAX_PAR) as usize,
        hash,
        now_ms: 0,
    }
}

/// The firing order of the timers registered before a round: time, then key group, then key
/// hash.
fn order(t: i64, k: u64) -> (i64, u16, u64) {
    let hash = k.stable_hash();
    (t, key_group_of_hash(hash, MAX_PAR), hash)
}

proptest! {
    #[test]
    fn timers_fire_in_order_exactly_once_while_handlers_add_and_delete(
        initial in prop::collection::vec((0u64..30, 0i64..100), 0..60),
        handlers in prop::collection::vec((0u64..30, 0i64..40, 0u64..30, 0i64..100, any::<bool>()), 0..60),
        up_to in 0i64..120,
    ) {
        let mut timers: TimerService<u64> = TimerService::new("t");
        timers.set_key_groups(0..MAX_PAR);
        let mut model: BTreeSet<((i64, u16, u64), u64)> = BTreeSet::new();
        for (k, t) in initial {
            let added = timers.register(TimeDomain::EventTime, &ctx(&k), t);
            prop_assert_eq!(added, model.insert((order(t, k), k)));
        }
        let mut handlers = handlers.into_iter();
        // (time, group, hash) of the timer fired last.
        let mut last = (i64::MIN, 0u16, 0u64);
        while let Some(fired) = timers.pop_due(TimeDomain::EventTime, up_to) {
            let at = order(fired.time, fired.key);
            // Time never goes back; among equal times the model's order decides (a handler
            // may add a timer at the current time for an earlier key group: it fires next).
            prop_assert!(at.0 >= last.0, "in time order: {:?} after {:?}", at, last);
            prop_assert!(fired.time <= up_to);
            let first = model.iter().next().copied();
            prop_assert_eq!(first, Some((at, fired.key)), "the earliest due timer");
            model.remove(&(at, fired.key));
            last = at;
            // The handler: a new timer at or after the fired one (due ones fire in this
            // round), and maybe a deletion.
            if let Some((k2, d, k3, t3, delete)) = handlers.next() {
                let t2 = fired.time + d;
                let added = timers.register(TimeDomain::EventTime, &ctx(&k2), t2);
                prop_assert_eq!(added, model.insert((order(t2, k2), k2)));
                if delete {
                    let removed = timers.delete(TimeDomain::EventTime, &ctx(&k3), t3);
                    prop_assert_eq!(removed, model.remove(&(order(t3, k3), k3)));
                }
            }
        }
        prop_assert!(model.iter().all(|((t, _, _), _)| *t > up_to), "nothing due is left");
        prop_assert_eq!(timers.len(TimeDomain::EventTime), model.len());
    }
}
