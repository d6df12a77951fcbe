//! Event time: watermark generation and combination, and per-key timers.
//!
//! A source split runs a [`WatermarkGenerator`] (bounded out-of-orderness, emitted every
//! `watermark_interval` of processing time, idle after `idle_timeout`); a stage combines the
//! watermarks of its input channels with a [`WatermarkTracker`]; keyed operators keep their
//! timers in a [`TimerService`], checkpointed per key group like any keyed state.
//!
//! Watermark semantics (Flink's): a watermark `w` promises that no more records with a
//! timestamp `<= w` will arrive; such records are *late*. An event-time timer at `t` fires
//! once the watermark reaches `t`; a window `[start, end)` fires when the watermark reaches
//! `end - 1`. `i64::MIN` is "no watermark yet", `i64::MAX` is end of input.
//!
//! How the runtime drives them:
//! 1. Each source split owns a [`WatermarkGenerator`]: `on_record(ts, now)` per record,
//!    `poll(now)` after every batch and idle round (send what it returns along every edge),
//!    `end()` at the end of a bounded split. Its checkpoint is `max_timestamp()`.
//! 2. Each stage input owns a [`WatermarkTracker`] with one channel per (upstream worker,
//!    input); `update(channel, event)` returns the new combined watermark when it advanced:
//!    call the operator's `on_watermark` with it, then forward it downstream (and `Idle`
//!    when `is_idle()`). Its checkpoint is `current()`; after a restore call `restore(wm)`
//!    and the operator's `on_watermark(wm)` before any record (nothing fires then).
//! 3. Keyed operators keep their timers in a [`TimerService`] listed in `states()`, so the
//!    timers are snapshot and redistributed per key group like any keyed state.

mod timer_queue;
pub mod timers;
pub mod watermark;

pub use timers::{TimeDomain, Timer, TimerService};
pub use watermark::{WatermarkConfig, WatermarkEvent, WatermarkGenerator, WatermarkTracker};
