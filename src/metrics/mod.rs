//! Measurements of a running job: end-to-end latency histograms (open-loop benchmarks).
//!
//! Observability is batched: each sink partition records into its own histogram, once per
//! batch for the clock; histograms are merged when the run ends.

pub mod clock;
pub mod hgrm;
pub mod latency;

pub use latency::{LatencyRecorder, LatencyReport};
