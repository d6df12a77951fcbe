//! `weir inspect`: list the checkpoints of a directory, or describe one checkpoint.

use super::args::InspectArgs;
use crate::checkpoint::{describe, list, CheckpointTable};
use crate::error::{Error, EXIT_OK};

/// Runs `weir inspect PATH`.
///
/// # Errors
/// A path that is neither a checkpoint directory nor a checkpoint; unreadable files.
pub fn run(args: &InspectArgs) -> crate::Result<i32> {
    let path = &args.path;
    if !path.is_dir() {
        return Err(Error::io(
            path,
            std::io::Error::new(std::io::ErrorKind::NotFound, "no such directory"),
        ));
    }
    let is_checkpoint = path
        .file_name()
        .and_then(|n| crate::checkpoint::parse_checkpoint_dir_name(&n.to_string_lossy()))
        .is_some();
    if is_checkpoint {
        let d = describe(path)?;
        if args.json {
            println!("{:#}", super::inspect_json::detail(&d));
        } else {
            print!("{d}");
        }
    } else {
        let summaries = list(path)?;
        if args.json {
            println!("{:#}", super::inspect_json::listing(&summaries));
        } else if summaries.is_empty() {
            println!("no checkpoints in {}", path.display());
        } else {
            print!("{}", CheckpointTable(&summaries));
        }
    }
    Ok(EXIT_OK)
}
