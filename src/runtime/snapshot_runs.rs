//! The mmap backend's part of a worker's snapshot: run files linked into the checkpoint
//! directory instead of key-group sections (incremental checkpoints, see
//! [`crate::checkpoint::RunSet`]).

use crate::checkpoint::{RunFileEntry, RunSet};
use crate::state::{KeyedStateStore, RunsDurable};
use std::ops::Range;
use std::path::{Path, PathBuf};

/// What linking a stage's states produced.
#[derive(Default)]
pub(super) struct Linked {
    /// One set per state kept by the mmap backend.
    pub sets: Vec<RunSet>,
    /// Per state (in the order given), whether its runs were linked (then it has no sections).
    pub linked: Vec<bool>,
    /// What must be durable before acknowledging.
    pub durable: Durable,
}

/// The run files a checkpoint needs durable before the worker acknowledges it: links and
/// fsyncs still running on the states' writer threads, and new files to fsync.
#[derive(Default)]
pub(super) struct Durable {
    waits: Vec<RunsDurable>,
    files: Vec<PathBuf>,
}

impl Durable {
    /// Adds `other`'s waits and files.
    pub fn add(&mut self, other: Durable) {
        self.waits.extend(other.waits);
        self.files.extend(other.files);
    }

    /// Waits for the links and fsyncs, then fsyncs the new files (on the helper thread that
    /// acknowledges: the MANIFEST that needs them is committed only after).
    ///
    /// # Errors
    /// The first link or file that failed.
    pub fn sync(self) -> crate::Result<()> {
        for w in self.waits {
            w.wait()
                .map_err(|e| crate::Error::Runtime(format!("mmap state checkpoint: {e}")))?;
        }
        sync_files(&self.files)
    }
}

/// Links the run files of every state of `stage` kept by the mmap backend into `dir` (created
/// when missing): each state's new run is built in memory and its files linked, written and
/// fsynced by its writer thread, which [`Durable::sync`] waits for. A state whose linking fails is reported and snapshotted as sections instead
/// (its links already made stay in the incomplete directory, which is weir's own).
pub(super) fn link_states(
    dir: &Path,
    worker: usize,
    key_groups: &Range<u16>,
    stage: &str,
    states: &mut [&mut dyn KeyedStateStore],
) -> Linked {
    let mut out = Linked::default();
    if let Err(e) = std::fs::create_dir_all(dir) {
        tracing::warn!(dir = %dir.display(), error = %e, "cannot create the checkpoint directory; mmap state goes to sections");
        out.linked = vec![false; states.len()];
        return out;
    }
    for s in states.iter_mut() {
        let name = format!("{stage}/{}", s.name());
        match s.start_checkpoint_files(dir) {
            Ok(Some((files, wait))) => {
                out.durable.waits.push(wait);
                for f in files.iter().filter(|f| f.new) {
                    out.durable.files.push(dir.join(&f.name));
                }
                out.sets.push(RunSet {
                    worker: worker as u32,
                    key_groups: key_groups.clone(),
                    state: name,
                    files: files
                        .into_iter()
                        .map(|f| RunFileEntry {
                            name: f.name,
                            len: f.bytes,
                            new: f.new,
                        })
                        .collect(),
                });
                out.linked.push(true);
            }
            Ok(None) => out.linked.push(false),
            Err(e) => {
                tracing::warn!(state = %name, error = %e, "cannot link run files; writing sections");
                out.linked.push(false);
            }
        }
    }
    out
}

/// fsyncs `files`.
///
/// # Errors
/// The first file that cannot be synced.
fn sync_files(files: &[PathBuf]) -> crate::Result<()> {
    for f in files {
        std::fs::File::open(f)
            .and_then(|file| file.sync_all())
            .map_err(|e| crate::Error::io(f, e))?;
    }
    Ok(())
}
