//! Incremental checkpoints of the mmap state backend: run files in checkpoint directories.
//!
//! A state kept by the mmap backend ([`crate::state::StateBackend::Mmap`]) is checkpointed as
//! its immutable *run files* rather than as key-group sections in the worker's state file: at
//! the barrier the state writes the entries changed since the previous checkpoint as one new
//! run, then hard-links every run it holds into the checkpoint directory (see
//! `state::mmap::files`). A run already linked by an earlier checkpoint is **shared**: its
//! bytes are not written again, the new directory only gets another link to the same inode.
//! The MANIFEST lists, per worker and state, the files the checkpoint needs ([`RunSet`]),
//! oldest first, with their lengths and whether they were new.
//!
//! **Reference counting** is the file system's: every checkpoint directory holds a link to
//! each run it needs, so deleting a checkpoint directory (retention, `clean_incomplete`)
//! drops its links only, and a run's bytes go when the last checkpoint (or working
//! directory) that needs it is gone. Retention therefore never deletes a file a retained
//! checkpoint needs, whatever it keeps. Run files are written under a temporary name and
//! renamed, and are never modified afterwards, so a link is always to a complete file; new runs
//! are fsynced before the worker acknowledges (a kill -9 never loses them; the MANIFEST is
//! committed only after).

use crate::state::RunSource;
use serde::{Deserialize, Serialize};
use std::ops::Range;
use std::path::Path;

/// One run file of a checkpoint, as listed in the MANIFEST.
///
/// Persisted (in MANIFEST): changing fields changes the format: bump
/// [`super::FORMAT_VERSION`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunFileEntry {
    /// File name inside the checkpoint directory.
    pub name: String,
    /// Length in bytes.
    pub len: u64,
    /// Written for this checkpoint (otherwise shared with an earlier one, hard-linked).
    pub new: bool,
}

/// The run files of one state of one worker.
///
/// Persisted (in MANIFEST): changing fields changes the format: bump
/// [`super::FORMAT_VERSION`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunSet {
    /// The writing worker.
    pub worker: u32,
    /// The key groups it owned (the runs hold entries of these only).
    pub key_groups: Range<u16>,
    /// The state, `stage/state`.
    pub state: String,
    /// Its run files, oldest first (newer runs shadow older ones).
    pub files: Vec<RunFileEntry>,
}

/// Bytes a checkpoint wrote new and bytes it shares with earlier checkpoints.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CheckpointBytes {
    /// State files plus new run files.
    pub new: u64,
    /// Run files hard-linked from an earlier checkpoint.
    pub shared: u64,
}

impl CheckpointBytes {
    /// The bytes of the checkpoint described by `manifest`.
    pub fn of(manifest: &super::Manifest) -> Self {
        let mut b = CheckpointBytes {
            new: manifest.files.iter().map(|f| f.len).sum(),
            shared: 0,
        };
        for f in manifest.runs.iter().flat_map(|r| &r.files) {
            if f.new {
                b.new += f.len;
            } else {
                b.shared += f.len;
            }
        }
        b
    }
}

/// Whether `name` is a run file name the mmap backend gives in a checkpoint directory:
/// `weir-state-{pid}-{nanos hex}-{seq}-run-{n}.wr`.
pub(crate) fn is_run_file_name(name: &str) -> bool {
    let Some(rest) = name
        .strip_prefix("weir-state-")
        .and_then(|r| r.strip_suffix(".wr"))
    else {
        return false;
    };
    let Some((head, run)) = rest.split_once("-run-") else {
        return false;
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let parts: Vec<&str> = head.split('-').collect();
    digits(run)
        && parts.len() == 3
        && digits(parts[0])
        && !parts[1].is_empty()
        && parts[1].bytes().all(|b| b.is_ascii_hexdigit())
        && digits(parts[2])
}

/// Checks that every run file the MANIFEST lists is in `chk` with its length (contents are
/// checked per key group when a worker maps them: see `state::mmap::run`).
///
/// # Errors
/// The reason naming the first missing, foreign-named or truncated file.
pub(crate) fn check_run_files(chk: &Path, runs: &[RunSet]) -> Result<(), String> {
    for f in runs.iter().flat_map(|r| &r.files) {
        if !is_run_file_name(&f.name) {
            return Err(format!("bad run file name {:?}", f.name));
        }
        let path = chk.join(&f.name);
        match std::fs::metadata(&path) {
            Ok(m) if m.len() == f.len => {}
            Ok(m) => {
                return Err(format!(
                    "run file {} is {} bytes, the MANIFEST says {}",
                    f.name,
                    m.len(),
                    f.len
                ))
            }
            Err(e) => return Err(format!("run file {}: {e}", f.name)),
        }
    }
    Ok(())
}

/// The run files of state `state` that a worker owning `key_groups` restores from: those of
/// every writing worker whose key groups overlap, oldest first per writer.
pub fn runs_for(runs: &[RunSet], state: &str, key_groups: &Range<u16>) -> Vec<RunSource> {
    let mut sets: Vec<&RunSet> = runs
        .iter()
        .filter(|r| r.state == state)
        .filter(|r| r.key_groups.start < key_groups.end && key_groups.start < r.key_groups.end)
        .collect();
    sets.sort_by_key(|r| r.worker);
    sets.iter()
        .flat_map(|r| {
            r.files.iter().map(|f| RunSource {
                name: f.name.clone(),
                key_groups: r.key_groups.clone(),
            })
        })
        .collect()
}

/// The names of the states with run files in `runs` (each once, sorted).
pub fn run_states(runs: &[RunSet]) -> Vec<String> {
    let mut names: Vec<String> = runs.iter().map(|r| r.state.clone()).collect();
    names.sort();
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_file_names_are_recognized_strictly() {
        assert!(is_run_file_name("weir-state-123-0abc12ff-7-run-000004.wr"));
        for bad in [
            "weir-state-123-0abc12ff-7-run-000004.wr.tmp",
            "weir-state-12x-0abc-7-run-1.wr",
            "weir-state-123-0abc-run-1.wr",
            "notes.wr",
            "weir-state-1-ab-2-run-.wr",
            "../weir-state-1-ab-2-run-1.wr",
        ] {
            assert!(!is_run_file_name(bad), "{bad}");
        }
    }

    #[test]
    fn runs_for_picks_overlapping_writers_in_worker_order() {
        let set = |worker, kg: Range<u16>, state: &str, files: &[&str]| RunSet {
            worker,
            key_groups: kg,
            state: state.into(),
            files: files
                .iter()
                .map(|n| RunFileEntry {
                    name: n.to_string(),
                    len: 1,
                    new: true,
                })
                .collect(),
        };
        let runs = vec![
            set(1, 64..128, "s/a", &["c", "d"]),
            set(0, 0..64, "s/a", &["a", "b"]),
            set(0, 0..64, "s/b", &["x"]),
        ];
        let names = |kg: Range<u16>, state: &str| -> Vec<(String, Range<u16>)> {
            runs_for(&runs, state, &kg)
                .into_iter()
                .map(|s| (s.name, s.key_groups))
                .collect()
        };
        let (a, b, c, d) = (
            "a".to_string(),
            "b".to_string(),
            "c".to_string(),
            "d".to_string(),
        );
        let all = vec![
            (a, 0..64),
            (b, 0..64),
            (c.clone(), 64..128),
            (d.clone(), 64..128),
        ];
        assert_eq!(names(0..128, "s/a"), all);
        assert_eq!(names(60..70, "s/a"), all);
        assert_eq!(names(64..128, "s/a"), [(c, 64..128), (d, 64..128)]);
        assert_eq!(names(64..128, "s/b"), []);
        assert_eq!(run_states(&runs), ["s/a", "s/b"]);
    }
}
