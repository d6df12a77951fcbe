//! The runtime: workers, rings, routing, barrier alignment, the coordinator.

pub mod config;
pub mod message;
pub mod ring;

pub use config::{CheckpointConfig, JobReport, RestoreFrom, RunConfig};
pub use message::{Keyed, Msg};
