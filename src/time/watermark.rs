//! Watermarks: a bounded-out-of-orderness generator per source split, and the tracker that
//! combines the watermarks of a stage's input channels.
//!
//! ```
//! use weir::time::{WatermarkConfig, WatermarkEvent, WatermarkGenerator, WatermarkTracker};
//!
//! let cfg = WatermarkConfig { max_out_of_orderness_ms: 200, interval_ms: 0, idle_timeout_ms: None };
//! let mut split = WatermarkGenerator::new(cfg);
//! split.on_record(1_000, 0);
//! split.on_record(900, 0); // out of order: does not move the watermark back
//! assert_eq!(split.poll(0), Some(WatermarkEvent::Watermark(799)));
//!
//! let mut stage = WatermarkTracker::new(2);
//! assert_eq!(stage.update(0, WatermarkEvent::Watermark(799)), None); // channel 1 holds it back
//! assert_eq!(stage.update(1, WatermarkEvent::Watermark(500)), Some(500));
//! assert_eq!(stage.end(1), Some(799)); // an ended channel counts as +infinity
//! ```

/// Settings of a split's watermark generator (`[source.event_time]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WatermarkConfig {
    /// How far behind the largest timestamp seen the watermark stays (ms, `>= 0`).
    pub max_out_of_orderness_ms: i64,
    /// Processing time between two emitted watermarks (ms); 0 = at every poll (after every
    /// batch: deterministic replay).
    pub interval_ms: u64,
    /// Processing time without records after which the split reports itself idle.
    pub idle_timeout_ms: Option<u64>,
}

/// What a split (or a channel) tells the stages downstream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WatermarkEvent {
    /// No more records with a timestamp `<=` this value will come from the channel.
    Watermark(i64),
    /// The channel has no records for now and must not hold the watermark back; it rejoins
    /// with its next [`WatermarkEvent::Watermark`].
    Idle,
}

/// A bounded-out-of-orderness watermark generator for one source split.
///
/// The watermark is `max timestamp seen - max_out_of_orderness - 1` (so a record exactly
/// `max_out_of_orderness` behind the largest timestamp is still on time). The runtime calls
/// [`WatermarkGenerator::on_record`] per record and [`WatermarkGenerator::poll`] after every
/// batch and in idle rounds; `poll` says what to send downstream, if anything.
#[derive(Clone, Debug)]
pub struct WatermarkGenerator {
    cfg: WatermarkConfig,
    /// Largest timestamp seen (`i64::MIN`: none yet). Part of the checkpoint.
    max_ts: i64,
    /// Last watermark sent (`i64::MIN`: none).
    emitted: i64,
    /// Processing time of the last emission.
    emitted_at: u64,
    /// Processing time of the last record (or of the start).
    last_record_at: u64,
    /// Whether `Idle` was sent and no record came since.
    idle: bool,
    /// Whether the split just left the idle state and must announce its watermark.
    rejoined: bool,
}

impl WatermarkGenerator {
    /// A generator that has seen nothing, started at processing time 0 (see
    /// [`WatermarkGenerator::start`]).
    pub fn new(cfg: WatermarkConfig) -> Self {
        WatermarkGenerator {
            cfg,
            max_ts: i64::MIN,
            emitted: i64::MIN,
            emitted_at: 0,
            last_record_at: 0,
            idle: false,
            rejoined: false,
        }
    }

    /// Sets the processing time the split starts at (the idle timeout counts from it).
    pub fn start(&mut self, now_ms: u64) {
        self.emitted_at = now_ms;
        self.last_record_at = now_ms;
    }

    /// Restores the largest timestamp seen from a checkpoint (see
    /// [`WatermarkGenerator::max_timestamp`]).
    pub fn restore(&mut self, max_ts: i64) {
        self.max_ts = self.max_ts.max(max_ts);
    }

    /// The largest timestamp seen (`i64::MIN` when none): what a checkpoint keeps.
    pub fn max_timestamp(&self) -> i64 {
        self.max_ts
    }

    /// The current watermark (`i64::MIN` before the first record).
    pub fn current(&self) -> i64 {
        if self.max_ts == i64::MIN {
            return i64::MIN;
        }
        self.max_ts
            .saturating_sub(self.cfg.max_out_of_orderness_ms.max(0))
            .saturating_sub(1)
    }

    /// A record with event time `ts` was read at processing time `now_ms`.
    #[inline]
    pub fn on_record(&mut self, ts: i64, now_ms: u64) {
        self.max_ts = self.max_ts.max(ts);
        self.last_record_at = now_ms;
        if self.idle {
            self.idle = false;
            self.rejoined = true;
        }
    }

    /// What to send downstream at processing time `now_ms`: a watermark when the interval
    /// has passed and it advanced (or right away when the split rejoins after idling), `Idle`
    /// once when the idle timeout passes without records, otherwise nothing.
    pub fn poll(&mut self, now_ms: u64) -> Option<WatermarkEvent> {
        if self.idle {
            return None;
        }
        if let Some(timeout) = self.cfg.idle_timeout_ms {
            if !self.rejoined && now_ms.saturating_sub(self.last_record_at) >= timeout {
                self.idle = true;
                return Some(WatermarkEvent::Idle);
            }
        }
        let due = now_ms.saturating_sub(self.emitted_at) >= self.cfg.interval_ms;
        let wm = self.current();
        if self.rejoined || (due && wm > self.emitted) {
            self.rejoined = false;
            self.emitted = self.emitted.max(wm);
            self.emitted_at = now_ms;
            return Some(WatermarkEvent::Watermark(self.emitted));
        }
        None
    }

    /// End of the split's input: the watermark to send, `i64::MAX` (every window fires).
    pub fn end(&mut self) -> WatermarkEvent {
        self.emitted = i64::MAX;
        self.idle = false;
        WatermarkEvent::Watermark(i64::MAX)
    }
}

/// One input channel of a [`WatermarkTracker`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Channel {
    /// Largest watermark received (`i64::MIN`: none).
    wm: i64,
    idle: bool,
    ended: bool,
}

/// Combines the watermarks of a stage's input channels (per upstream split or worker).
///
/// The combined watermark is the minimum over the active channels, where an ended channel
/// counts as `+∞` and an idle one is skipped. When no channel is active (all idle, or idle
/// and ended), the combined watermark holds; only when every channel has ended does it reach
/// `i64::MAX`. It never goes back: a channel rejoining behind it delivers late records. A
/// channel's own watermark is monotone too (a smaller value than it already sent is ignored).
#[derive(Clone, Debug)]
pub struct WatermarkTracker {
    channels: Vec<Channel>,
    /// The combined watermark reported so far (`i64::MIN`: none). Part of the checkpoint.
    combined: i64,
}

impl WatermarkTracker {
    /// A tracker over `channels` input channels, none heard from yet.
    pub fn new(channels: usize) -> Self {
        let ch = Channel {
            wm: i64::MIN,
            idle: false,
            ended: false,
        };
        WatermarkTracker {
            channels: vec![ch; channels],
            combined: i64::MIN,
        }
    }

    /// The combined watermark (`i64::MIN` before the first advance).
    pub fn current(&self) -> i64 {
        self.combined
    }

    /// Restores the combined watermark from a checkpoint: it will not be reported again, and
    /// the output never goes below it.
    pub fn restore(&mut self, combined: i64) {
        self.combined = self.combined.max(combined);
    }

    /// Whether every channel is idle or ended (but not all ended): the stage itself is idle.
    pub fn is_idle(&self) -> bool {
        let active = self.channels.iter().any(|c| !c.idle && !c.ended);
        let all_ended = self.channels.iter().all(|c| c.ended);
        !active && !all_ended
    }

    /// Channel `channel` sent `event`; returns the new combined watermark when it advanced.
    /// An out-of-range channel is ignored.
    pub fn update(&mut self, channel: usize, event: WatermarkEvent) -> Option<i64> {
        let c = self.channels.get_mut(channel)?;
        match event {
            WatermarkEvent::Idle => c.idle = true,
            WatermarkEvent::Watermark(wm) => {
                c.idle = false;
                c.wm = c.wm.max(wm);
                if wm == i64::MAX {
                    c.ended = true;
                }
            }
        }
        self.advance()
    }

    /// Channel `channel` ended (+∞); returns the new combined watermark when it advanced.
    pub fn end(&mut self, channel: usize) -> Option<i64> {
        self.update(channel, WatermarkEvent::Watermark(i64::MAX))
    }

    fn advance(&mut self) -> Option<i64> {
        let all_ended = self.channels.iter().all(|c| c.ended);
        let min = if all_ended {
            Some(i64::MAX)
        } else {
            self.channels
                .iter()
                .filter(|c| !c.idle && !c.ended)
                .map(|c| c.wm)
                .min()
        }?;
        (min > self.combined).then(|| {
            self.combined = min;
            min
        })
    }
}

#[cfg(test)]
#[path = "watermark_tests.rs"]
mod tests;
