//! The typed dataflow API and the job graph it builds.
//!
//! A job is a DAG: sources, stateless steps, stages fed by rings (keyed, two-input keyed,
//! union) and sinks. Every worker runs every stage (thread-per-core). An edge into a stage
//! is an exchange — N×N bounded SPSC rings routing by key group; every other edge is
//! forward and fused into the task that produces the records (Flink's operator chaining):
//!
//! ```text
//!   source ─map─ key_by ══exchange══▶ keyed stage ─filter─ key_by ══exchange══▶ keyed stage ─▶ sink
//!                                                      └─ side output "late" ─▶ sink
//! ```
//!
//! [`Stream`] and friends build the graph; [`Job::run`] discovers it from its sinks, builds
//! every worker's tasks and hands them to the runtime ([`crate::runtime`]).

mod co;
mod graph;
mod late;
mod nodes;
mod routes;
mod stream;

pub use co::{CoOperator, Either};
pub use stream::{ConnectedStreams, Job, KeyedStream, Stream};
