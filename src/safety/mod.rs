//! Never lose a user's data: what weir may delete or overwrite, checked before a run starts.
//!
//! * [`limits`]: the one table of numeric limits shared by pipeline files and flags.
//! * `paths`: overlapping paths (dead-letter file, sink, checkpoints, inputs) are refused.
//! * `sink_dir`: the sink directory's `.weir-sink` marker; only part files whose names parse
//!   as weir's are ever deleted, and only in a marked directory.
//! * `lineage`: a fresh start keeps the previous lineage until its own first checkpoint.
//! * `dead_letters`: a dead-letter file is replaced only when weir can prove it wrote it.
//!
//! The CLI's pre-flight (`weir run`) uses them before any work starts; the runtime only does
//! what it is told.

pub(crate) mod dead_letters;
pub mod limits;
pub(crate) mod lineage;
pub(crate) mod paths;
pub(crate) mod sink_dir;

pub use lineage::{Lineage, Retire};
