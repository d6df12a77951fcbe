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

pub mod timers;
pub mod watermark;

pub use timers::{TimeDomain, Timer, TimerService};
pub use watermark::{WatermarkConfig, WatermarkEvent, WatermarkGenerator, WatermarkTracker};
