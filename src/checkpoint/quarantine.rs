//! Quarantined checkpoints: a complete checkpoint found damaged only after a restore from it
//! started (its run files are checked lazily, per key group: see `state::mmap::lazy`) gets a
//! `QUARANTINED` file naming the damage. A restore of the latest checkpoint skips it like a
//! corrupt one (and the run that restores an older one then discards it, as every checkpoint
//! newer than the restore point); `--restore` naming it is refused. Nothing is deleted here.

use crate::error::{Error, Result};
use std::io::Write;
use std::path::Path;

/// Name of the marker file in a checkpoint directory.
pub const QUARANTINED: &str = "QUARANTINED";

/// Marks the complete checkpoint `chk` of the store at `store_dir` as unusable for `reason`
/// (written and fsynced, so a kill -9 right after does not restore it again).
///
/// # Errors
/// `chk` is not a complete checkpoint directly under `store_dir`; the marker cannot be written.
pub fn quarantine(store_dir: &Path, chk: &Path, reason: &str) -> Result<()> {
    let own = chk.parent() == Some(store_dir)
        && chk
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("chk-"))
        && chk.join(super::store::MANIFEST).is_file();
    if !own {
        return Err(Error::Checkpoint {
            path: chk.to_path_buf(),
            reason: format!(
                "not a checkpoint of {}: not quarantined",
                store_dir.display()
            ),
        });
    }
    let path = chk.join(QUARANTINED);
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::File::create(&path)?;
        f.write_all(format!("{reason}\n").as_bytes())?;
        f.sync_all()?;
        std::fs::File::open(chk)?.sync_all()
    };
    write().map_err(|e| Error::io(&path, e))
}

/// `Ok` unless `chk` is quarantined.
///
/// # Errors
/// [`Error::Checkpoint`] naming the marker and the damage it records.
pub(crate) fn check(chk: &Path) -> Result<()> {
    let path = chk.join(QUARANTINED);
    if !path.exists() {
        return Ok(());
    }
    let why = std::fs::read_to_string(&path).unwrap_or_default();
    Err(Error::Checkpoint {
        path,
        reason: format!("quarantined: {}", why.trim()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_complete_checkpoints_of_the_store_are_quarantined() {
        let dir = tempfile::tempdir().unwrap();
        let chk = dir.path().join("chk-0000000003");
        std::fs::create_dir(&chk).unwrap();
        assert!(quarantine(dir.path(), &chk, "x").is_err(), "no MANIFEST");
        std::fs::write(chk.join(super::super::store::MANIFEST), "m").unwrap();
        let other = tempfile::tempdir().unwrap();
        assert!(
            quarantine(other.path(), &chk, "x").is_err(),
            "another store"
        );
        assert!(check(&chk).is_ok());
        quarantine(dir.path(), &chk, "run file f, key group 7").unwrap();
        let e = check(&chk).unwrap_err().to_string();
        assert!(e.contains("quarantined: run file f, key group 7"), "{e}");
    }
}
