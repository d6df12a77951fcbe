//! Scratch directories of the benchmarks.

use crate::error::Error;
use std::path::PathBuf;

/// Creates `name` (which should hold the process id) under the temporary directory and
/// returns its path. `create_dir` fails if the path exists, so a directory the caller removes
/// afterwards is always one this process made, never a user's.
///
/// # Errors
/// The directory exists already or cannot be created.
pub(crate) fn fresh_temp_dir(name: &str) -> crate::Result<PathBuf> {
    let dir = std::env::temp_dir().join(name);
    std::fs::create_dir(&dir).map_err(|e| Error::io(&dir, e))?;
    Ok(dir)
}
