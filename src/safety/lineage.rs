//! Lineages: the runs that continue one fresh start. A checkpoint's MANIFEST names its lineage,
//! the lineage's first checkpoint id and its dead-letter file; the sink directory's marker
//! names the lineages whose output it holds.
//!
//! A fresh start (`--fresh`) keeps the previous lineage — its checkpoints, its published part
//! files and its dead-letter file (moved aside) — until the new lineage's first checkpoint is
//! committed, then *retires* it. A fresh run killed before that loses nothing: `--restore
//! latest` still resumes the old lineage. A crash during the retirement is finished by the
//! next restore of the new lineage (everything older than its first checkpoint goes).

use super::sink_dir;
use crate::checkpoint::{CheckpointStore, Manifest};
use crate::sink::file::PartName;
use std::path::{Path, PathBuf};

/// The lineage a run writes checkpoints for (set by the CLI's pre-flight).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lineage {
    /// Its id (recorded in every MANIFEST and in the sink directory's marker).
    pub id: String,
    /// Its first checkpoint id: checkpoints and sink epochs below it are an older lineage's.
    pub start: u64,
    /// Its dead-letter file, absolute.
    pub dead_letter_path: PathBuf,
    /// What to remove of the previous lineage once this one's first checkpoint is committed.
    pub retire: Option<Retire>,
}

/// The previous lineage's leftovers, removed after the new lineage's first commit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Retire {
    /// The sink directories whose older part files go (their markers then name only the new
    /// lineage).
    pub sink_dirs: Vec<PathBuf>,
    /// The previous dead-letter file, moved aside at the fresh start.
    pub dead_letter_aside: Option<PathBuf>,
}

/// A new lineage id: 16 hex digits from the clock and the process id.
pub fn new_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let mixed = nanos ^ (u64::from(std::process::id()) << 40);
    format!(
        "{:016x}",
        crate::state::key_group::stable_hash_bytes(&mixed.to_le_bytes())
    )
}

/// Where the previous dead-letter file waits while a fresh lineage starting at `start` has not
/// committed yet: `FILE.weir-aside-START`.
pub fn aside_path(dead_letter: &Path, start: u64) -> PathBuf {
    let mut name = dead_letter
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(format!(".weir-aside-{start}"));
    dead_letter.with_file_name(name)
}

/// The `START` of an aside name of `dead_letter`, if `name` is one.
pub fn parse_aside(dead_letter: &Path, name: &str) -> Option<u64> {
    let base = dead_letter.file_name()?.to_str()?;
    let digits = name.strip_prefix(base)?.strip_prefix(".weir-aside-")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Fills a MANIFEST's lineage fields.
pub fn stamp(lineage: Option<&Lineage>, manifest: &mut Manifest) {
    if let Some(l) = lineage {
        manifest.lineage = Some(l.id.clone());
        manifest.lineage_start = Some(l.start);
        manifest.dead_letter_path = Some(l.dead_letter_path.clone());
    }
}

/// After a committed checkpoint: retires the previous lineage once (failures are logged; the
/// next restore finishes the job).
pub fn after_commit(store: &CheckpointStore, lineage: Option<&mut Lineage>) {
    let Some(l) = lineage else { return };
    let Some(r) = l.retire.take() else { return };
    match retire(store, l, &r) {
        Ok(()) => tracing::info!(lineage = %l.id, "previous lineage retired"),
        Err(e) => tracing::warn!(error = %e, "could not remove the previous lineage's files"),
    }
}

/// Removes what belongs to lineages older than `lineage`: checkpoints below its start, part
/// files of older epochs (or of no epoch), the moved-aside dead-letter file; the sink marker
/// then names only `lineage`.
///
/// # Errors
/// A checkpoint or file that cannot be removed.
pub fn retire(store: &CheckpointStore, lineage: &Lineage, r: &Retire) -> crate::Result<()> {
    for id in store.discard_before(lineage.start)? {
        tracing::info!(
            checkpoint = id,
            "removed a checkpoint of the previous lineage"
        );
    }
    for dir in &r.sink_dirs {
        let older = |p: &PartName| {
            !matches!(p, PartName::InProgress) && p.epoch().is_none_or(|e| e < lineage.start)
        };
        sink_dir::remove_parts(dir, older)?;
        sink_dir::write_marker(dir, std::slice::from_ref(&lineage.id))?;
    }
    if let Some(aside) = &r.dead_letter_aside {
        match std::fs::remove_file(aside) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(crate::Error::io(aside, e))
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::WorkerSnapshot;
    use std::fs;

    /// A complete one-worker checkpoint `id` in `store`.
    fn checkpoint(store: &CheckpointStore, id: u64) {
        let snapshot = WorkerSnapshot {
            worker: 0,
            key_groups: 0..8,
            groups: Vec::new(),
        };
        let entry = store.write_worker_state(id, &snapshot).unwrap();
        let mut m = Manifest::new(id, 1, 8, 1);
        m.files.push(entry);
        store.commit(&m).unwrap();
    }

    #[test]
    fn retire_removes_only_the_older_lineages_own_files() {
        let tmp = tempfile::tempdir().unwrap();
        let store = CheckpointStore::open(&tmp.path().join("ckpt")).unwrap();
        for id in 1..=4 {
            checkpoint(&store, id);
        }
        let out = tmp.path().join("out");
        fs::create_dir(&out).unwrap();
        for name in [
            "part-00000-0000000002",
            "part-00001",
            ".part-00000-0000000003.pending",
            "part-00000-0000000004",
            ".part-00000-0000000005.pending",
            ".part-00000-0000000001.inprogress",
            "part-notes",
        ] {
            fs::write(out.join(name), name).unwrap();
        }
        let aside = tmp.path().join("dead.jsonl.weir-aside-4");
        fs::write(&aside, "{}\n").unwrap();
        let lineage = Lineage {
            id: "new".into(),
            start: 4,
            dead_letter_path: tmp.path().join("dead.jsonl"),
            retire: Some(Retire {
                sink_dirs: vec![out.clone()],
                dead_letter_aside: Some(aside.clone()),
            }),
        };
        let mut slot = Some(lineage);
        after_commit(&store, slot.as_mut());
        assert!(slot.unwrap().retire.is_none(), "retired once");
        let ids: Vec<u64> = crate::checkpoint::scan(store.dir())
            .unwrap()
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        assert_eq!(ids, [4]);
        assert_eq!(
            sink_dir::names(&out).unwrap(),
            [
                ".part-00000-0000000001.inprogress",
                ".part-00000-0000000005.pending",
                ".weir-sink",
                "part-00000-0000000004",
                "part-notes"
            ]
        );
        assert_eq!(
            sink_dir::inspect(&out).unwrap(),
            sink_dir::SinkDir::Marked(vec!["new".into()])
        );
        assert!(!aside.exists());
    }

    #[test]
    fn aside_names_round_trip_and_ids_differ() {
        let dl = Path::new("/x/dead.jsonl");
        let aside = aside_path(dl, 42);
        assert_eq!(aside, Path::new("/x/dead.jsonl.weir-aside-42"));
        let name = aside.file_name().unwrap().to_str().unwrap();
        assert_eq!(parse_aside(dl, name), Some(42));
        assert_eq!(parse_aside(dl, "dead.jsonl.weir-aside-"), None);
        assert_eq!(parse_aside(dl, "other.weir-aside-3"), None);
        assert_eq!(new_id().len(), 16);
    }
}
