//! Overlapping paths: the dead-letter file, the sink directory, the checkpoint directory and
//! every input must be distinct, and none may sit where another one's writes (or reads) reach
//! it. Checked before any work starts.

use super::sink_dir::MARKER;
use crate::sink::file::PartName;
use std::path::{Component, Path, PathBuf};

/// What a path is used for, which decides what inside it is reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// An input file or directory: everything inside a directory is read.
    Input,
    /// The file sink's directory: weir writes part files and its marker there.
    Sink,
    /// The checkpoint directory: weir writes `chk-*` directories and `LOCK` there.
    Checkpoint,
    /// The dead-letter file.
    DeadLetter,
}

/// One path of a run, named as the user gave it (`--dead-letter`, `sink.path`, …).
#[derive(Clone, Debug)]
pub struct Use {
    /// The flag or field that names it.
    pub what: String,
    /// The path as given.
    pub path: PathBuf,
    /// Its role.
    pub role: Role,
}

/// `path` made absolute and free of `.`, `..` and symbolic links as far as it exists: the
/// longest existing ancestor is canonicalized and the rest appended lexically.
pub fn absolute(path: &Path) -> PathBuf {
    let base = if path.is_absolute() {
        PathBuf::new()
    } else {
        std::env::current_dir().unwrap_or_default()
    };
    let mut lexical = PathBuf::new();
    for c in base.join(path).components() {
        match c {
            Component::ParentDir => {
                lexical.pop();
            }
            Component::CurDir => {}
            other => lexical.push(other),
        }
    }
    let mut rest = Vec::new();
    let mut probe = lexical.clone();
    loop {
        if let Ok(canon) = probe.canonicalize() {
            return rest.iter().rev().fold(canon, |p, n| p.join(n));
        }
        match (probe.file_name().map(ToOwned::to_owned), probe.parent()) {
            (Some(name), Some(parent)) => {
                rest.push(name);
                probe = parent.to_path_buf();
            }
            _ => return lexical,
        }
    }
}

/// Whether a use in `dir` (with role `role`) reaches the entry `first` directly inside it.
fn reaches(role: Role, first: &str) -> bool {
    match role {
        Role::Input => true,
        Role::Sink => {
            first == MARKER || first.starts_with(".weir-") || PartName::parse(first).is_some()
        }
        Role::Checkpoint => {
            first == "LOCK" || crate::checkpoint::parse_checkpoint_dir_name(first).is_some()
        }
        Role::DeadLetter => false,
    }
}

/// The conflict between two uses, if any.
fn conflict(a: &Use, a_abs: &Path, b: &Use, b_abs: &Path) -> Option<String> {
    let name = |u: &Use, p: &Path| format!("{} ({})", u.what, p.display());
    if a_abs == b_abs {
        if a.role == Role::Input && b.role == Role::Input {
            return None;
        }
        return Some(format!(
            "{} and {} are the same path {}: one would destroy the other",
            a.what,
            b.what,
            a_abs.display()
        ));
    }
    for (outer, outer_abs, inner, inner_abs) in [(a, a_abs, b, b_abs), (b, b_abs, a, a_abs)] {
        let Ok(rel) = inner_abs.strip_prefix(outer_abs) else {
            continue;
        };
        let first = rel
            .components()
            .next()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .unwrap_or_default();
        if reaches(outer.role, &first) && !(outer.role == Role::Input && inner.role == Role::Input)
        {
            return Some(format!(
                "{} is inside {}, where weir {} it",
                name(inner, inner_abs),
                name(outer, outer_abs),
                if outer.role == Role::Input {
                    "would read"
                } else {
                    "would overwrite or delete"
                }
            ));
        }
    }
    None
}

/// Checks every pair of `uses`; returns one message per conflict, naming both.
pub fn check(uses: &[Use]) -> Vec<String> {
    let abs: Vec<PathBuf> = uses.iter().map(|u| absolute(&u.path)).collect();
    let mut errors = Vec::new();
    for i in 0..uses.len() {
        for j in i + 1..uses.len() {
            if let Some(e) = conflict(&uses[i], &abs[i], &uses[j], &abs[j]) {
                errors.push(e);
            }
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(what: &str, path: &Path, role: Role) -> Use {
        Use {
            what: what.into(),
            path: path.to_path_buf(),
            role,
        }
    }

    #[test]
    fn same_paths_and_harmful_nesting_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        std::fs::write(d.join("in.csv"), "k\n").unwrap();
        let input = u("source.path", &d.join("in.csv"), Role::Input);
        // The same file through another spelling (`sub/../in.csv`, not yet existing `sub`).
        let dead = u("--dead-letter", &d.join("sub/../in.csv"), Role::DeadLetter);
        let errs = check(&[input.clone(), dead]);
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(errs[0].contains("source.path") && errs[0].contains("--dead-letter"));

        let sink = u("sink.path", d, Role::Sink);
        let ckpt = u("checkpoint.dir", &d.join("ckpt"), Role::Checkpoint);
        let dead = u("--dead-letter", &d.join("dead.jsonl"), Role::DeadLetter);
        assert!(check(&[input.clone(), sink.clone(), ckpt.clone(), dead]).is_empty());

        let dead_in_ckpt = u("--dead-letter", &d.join("ckpt/LOCK"), Role::DeadLetter);
        assert_eq!(check(&[ckpt.clone(), dead_in_ckpt]).len(), 1);
        let input_in_sink = u("source.path", &d.join("part-00000"), Role::Input);
        assert_eq!(check(&[sink.clone(), input_in_sink]).len(), 1);
        let input_dir = u("source.path", d, Role::Input);
        let errs = check(&[input_dir, ckpt.clone()]);
        assert!(errs[0].contains("would read"), "{errs:?}");
        assert_eq!(
            check(&[sink, u("--checkpoint-dir", d, Role::Checkpoint)]).len(),
            1
        );
    }

    #[test]
    fn absolute_resolves_dots_of_missing_paths() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path().canonicalize().unwrap();
        assert_eq!(absolute(&d.join("a/./b/../c")), d.join("a/c"));
        assert_eq!(absolute(&tmp.path().join(".")), d);
    }
}
