//! Typed errors of the engine and the exit codes they map to (one place for all codes).

use std::path::{Path, PathBuf};

/// Exit code: success.
pub const EXIT_OK: i32 = 0;
/// Exit code: runtime failure (a worker failed or panicked).
pub const EXIT_RUNTIME: i32 = 1;
/// Exit code: usage error or invalid pipeline.
pub const EXIT_USAGE: i32 = 2;
/// Exit code: bad input data with `--on-error fail`.
pub const EXIT_DATA: i32 = 65;
/// Exit code: I/O error (missing input, unwritable sink).
pub const EXIT_IO: i32 = 74;
/// Exit code: checkpoint unusable (corrupt, incompatible, locked).
pub const EXIT_CHECKPOINT: i32 = 78;

/// Exit code: stopped by a signal before any checkpoint, or a second Ctrl-C.
pub const EXIT_INTERRUPTED: i32 = 130;

/// Result alias of the engine.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Every error the engine reports, by domain.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The pipeline file or a flag is invalid; each entry names the field path.
    #[error("invalid configuration:\n{}", .0.join("\n"))]
    Config(Vec<String>),
    /// An I/O operation on a path failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory concerned.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A malformed input record with `--on-error fail`.
    #[error("bad record in {source_name} line {line}: {reason}")]
    Data {
        /// Name of the source (file path, `stdin`, ...).
        source_name: String,
        /// 1-based line number in that source.
        line: u64,
        /// Why the record was rejected.
        reason: String,
    },
    /// A checkpoint cannot be used.
    #[error("checkpoint {path}: {reason}")]
    Checkpoint {
        /// The checkpoint file or directory.
        path: PathBuf,
        /// Why it was rejected.
        reason: String,
    },
    /// A state section of a checkpoint does not restore into this pipeline's keyed state
    /// (unknown state name, bytes that do not decode): the checkpoint is unusable.
    #[error("checkpoint {path}: key group {key_group}, state {state:?}: {reason}")]
    CheckpointState {
        /// The state file holding the section.
        path: PathBuf,
        /// The section's key group.
        key_group: u16,
        /// The section's state name.
        state: String,
        /// Why it does not restore.
        reason: StateSectionError,
    },
    /// A key group of a restored checkpoint's run file does not match its checksum, found
    /// after the restore started (run files are checked lazily, see
    /// `state::mmap::lazy`): the restored attempt fails before any checkpoint or committed
    /// output depends on it; `weir run --restore latest` then quarantines the checkpoint and
    /// falls back to the one before it.
    #[error("checkpoint {checkpoint}: run file {file}, key group {key_group}: checksum mismatch (found {detected})")]
    RestoredStateDamaged {
        /// The checkpoint directory.
        checkpoint: PathBuf,
        /// The damaged run file in it.
        file: PathBuf,
        /// The damaged key group.
        key_group: u16,
        /// Which check found it.
        detected: crate::state::Detected,
    },
    /// A run file of the restored checkpoint is damaged where a worker maps it (its header or
    /// directory): found as the restore starts, before any record; handled like
    /// [`Error::RestoredStateDamaged`].
    #[error("checkpoint {checkpoint}: run file {file} is damaged: {what}")]
    RestoredRunDamaged {
        /// The checkpoint directory.
        checkpoint: PathBuf,
        /// The damaged run file in it.
        file: PathBuf,
        /// What is wrong.
        what: &'static str,
    },
    /// A worker failed or panicked; the job stopped.
    #[error("worker {worker} failed: {cause}")]
    Worker {
        /// Index of the worker.
        worker: usize,
        /// The cause.
        cause: Box<Error>,
    },
    /// The worker stopped because the job is stopping (another worker failed, or a
    /// requested stop settled); not a failure of its own.
    #[error("stopped: the job is stopping")]
    Stopped,
    /// Any other runtime failure.
    #[error("{0}")]
    Runtime(String),
    /// The run would destroy data it cannot prove is weir's (a user's files, another
    /// lineage's checkpoints or output), so it was refused before any work started; the
    /// message says what to do instead.
    #[error("{0}")]
    Refused(String),
}

/// Why a checkpoint's state section cannot be restored into this pipeline's keyed state.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum StateSectionError {
    /// The pipeline's keyed operator has no state of that name.
    #[error("this pipeline has no state of that name")]
    UnknownState,
    /// The section's bytes do not decode as the state's entries.
    #[error("cannot decode: {0}")]
    Codec(#[from] crate::state::CodecError),
}

impl From<crate::state::Damage> for Error {
    fn from(d: crate::state::Damage) -> Self {
        Error::RestoredStateDamaged {
            checkpoint: d.file.parent().map(Path::to_path_buf).unwrap_or_default(),
            file: d.file,
            key_group: d.key_group,
            detected: d.detected,
        }
    }
}

impl Error {
    /// The checkpoint directory of a [`Error::RestoredStateDamaged`] or
    /// [`Error::RestoredRunDamaged`], also inside [`Error::Worker`]; `None` for any other
    /// error.
    pub fn damaged_restore(&self) -> Option<&Path> {
        match self {
            Error::RestoredStateDamaged { checkpoint, .. }
            | Error::RestoredRunDamaged { checkpoint, .. } => Some(checkpoint),
            Error::Worker { cause, .. } => cause.damaged_restore(),
            _ => None,
        }
    }

    /// Names the state file in a [`Error::CheckpointState`] raised without one (by a reader
    /// that only saw the section's bytes); other errors are returned unchanged.
    pub fn in_state_file(self, file: &std::path::Path) -> Self {
        match self {
            Error::CheckpointState {
                path,
                key_group,
                state,
                reason,
            } if path.as_os_str().is_empty() => Error::CheckpointState {
                path: file.to_path_buf(),
                key_group,
                state,
                reason,
            },
            other => other,
        }
    }

    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// The process exit code for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Config(_) | Error::Refused(_) => EXIT_USAGE,
            Error::Io { .. } => EXIT_IO,
            Error::Data { .. } => EXIT_DATA,
            Error::Checkpoint { .. }
            | Error::CheckpointState { .. }
            | Error::RestoredStateDamaged { .. }
            | Error::RestoredRunDamaged { .. } => EXIT_CHECKPOINT,
            Error::Worker { cause, .. } => cause.exit_code(),
            Error::Stopped | Error::Runtime(_) => EXIT_RUNTIME,
        }
    }
}
