//! The runtime: workers, rings, routing, barrier alignment, the coordinator.

pub mod config;
mod coordinator;
mod crash_point;
mod job;
pub mod message;
mod outbox;
mod restore_check;
pub mod ring;
pub mod stop;
pub mod stream;
pub mod worker;

pub use config::{CheckpointConfig, JobReport, RestoreFrom, RunConfig};
pub use message::{Keyed, Msg};
pub use stream::{Job, KeyedStream, ProcessedStream, Stream};
