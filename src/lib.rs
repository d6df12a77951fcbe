//! # weir — a single-node, thread-per-core stateful stream processor
//!
//! weir runs keyed, stateful pipelines (Flink's core ideas: key groups, keyed state,
//! aligned-barrier checkpoints) on pinned worker threads in one process.
//!
//! ```text
//!  worker 0 (core 0)                                  worker 1 (core 1)
//!  source split 0 → stateless ops → route(key→kg→w)   source split 1 → ... → route
//!        │ ring 0→0          │ ring 0→1 ─────┐  ┌── ring 1→0        │ ring 1→1
//!        ▼                                   ▼  ▼                   ▼
//!  align barriers over N inputs               align ...
//!  keyed operator, state of key groups 0..63   keyed operator, key groups 64..127
//!  sink partition 0                            sink partition 1
//!            coordinator thread: triggers checkpoints, commits the manifest
//! ```
//!
//! Every worker runs every stage. Records cross workers through bounded lock-free SPSC rings
//! ([`exchange::ring`]) in batches; a full ring is backpressure. Keyed state lives per key
//! group ([`state`]) so that a checkpoint can be restored with another worker count.
//!
//! The typed API: a [`source::Source`] becomes a [`dataflow::Stream`], is keyed with
//! `key_by`, processed by a [`operator::KeyedOperator`] and written to a [`sink::Sink`].
//! See `examples/rolling_sum.rs`.

pub mod checkpoint;
pub mod cli;
pub mod dataflow;
pub mod error;
pub mod exchange;
pub mod metrics;
pub mod nexmark;
pub mod operator;
pub mod pipeline;
pub mod record;
pub mod runtime;
pub mod safety;
pub mod sink;
pub mod source;
pub mod state;
pub mod time;

pub use error::{Error, Result};
