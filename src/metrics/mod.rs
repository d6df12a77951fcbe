//! Measurements of a running job: live per-worker counters ([`live`], fed by the [`metered`]
//! wrappers) served as Prometheus text ([`prometheus`]) and shown as a progress line
//! ([`progress`]); end-to-end latency histograms of open-loop benchmarks ([`latency`]).
//!
//! Observability is batched: every counter is a worker's plain local count published once per
//! batch; each sink partition records latencies into its own histogram, reading the clock once
//! per batch; everything is merged when read.

pub mod clock;
pub mod hgrm;
pub mod latency;
pub mod live;
pub mod metered;
pub mod progress;
pub mod prometheus;
pub mod stage;

pub use latency::{LatencyRecorder, LatencyReport};
