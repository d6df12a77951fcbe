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
//! A job is a graph of stages ([`dataflow`]): several sources, keyed stages one after the
//! other, two-input keyed stages (joins), unions, side outputs, several sinks. Every worker
//! runs every stage ([`runtime`]): an edge into a stage is an exchange (records cross workers
//! through bounded lock-free SPSC rings, [`exchange::ring`], in batches; a full ring is
//! backpressure), every other edge is fused into the task that produces the records. Barriers
//! and event-time watermarks ([`time`]) travel with the records. Keyed state lives per (stage,
//! key group) ([`state`]) so that a checkpoint ([`checkpoint`]) can be restored with another
//! worker count.
//!
//! The typed API: a [`source::Source`] becomes a [`dataflow::Stream`], is keyed with
//! `key_by`, processed by a [`operator::KeyedOperator`] (or, connected with another keyed
//! stream, a [`operator::KeyedCoOperator`]) and written to a [`sink::Sink`]. See
//! `examples/rolling_sum.rs` and `examples/order_payments.rs`. The command line ([`cli`])
//! builds the same graphs from pipeline files ([`pipeline`]).

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
