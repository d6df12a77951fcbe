//! Tests of the lazy checks of restored run files: a damaged group is found on access, by the
//! validator thread, or when settling, and only groups the restoring state owns count. The
//! oracle is the values written (each key `k` holds 1).

use crate::state::test_util::{ctx, kg, owned, RANGE_ALL};
use crate::state::{
    Detected, KeyedStateStore, RestoreChecks, RunFile, RunSource, StateBackend, ValueState,
};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const KEYS: u64 = 2000;

fn state(range: Range<u16>) -> ValueState<u64, i64> {
    let mut s = ValueState::new("v");
    s.set_backend(&StateBackend::Mmap {
        dir: None,
        cache_entries: 100_000,
    });
    s.set_key_groups(range);
    s
}

/// A checkpoint of keys `0..KEYS` (value 1 each) in a fresh directory: its root and files.
fn checkpoint(name: &str) -> (tempfile::TempDir, Vec<RunSource>) {
    let root = tempfile::Builder::new().prefix(name).tempdir().unwrap();
    let mut s = state(RANGE_ALL);
    for k in 0..KEYS {
        s.update(&ctx(&k, &RANGE_ALL, 0), 1);
    }
    let files: Vec<RunFile> = s.checkpoint_files(root.path()).unwrap().unwrap();
    (root, super::files_tests::names(&files))
}

/// The byte range of key group `g`'s data in the run file at `path` (its directory record).
fn group_data(path: &Path, g: u16) -> Range<usize> {
    let b = std::fs::read(path).unwrap();
    let at = 32 + 40 * g as usize;
    let u = |o: usize| u64::from_le_bytes(b[at + o..at + o + 8].try_into().unwrap()) as usize;
    u(16)..u(16) + u(24)
}

/// Flips a byte in the middle of group `g`'s data, in a copy of the file (the link is broken:
/// the writer's inode stays intact). Returns the damaged file.
fn damage(root: &Path, files: &[RunSource], g: u16) -> PathBuf {
    let path = root.join(&files[0].name);
    let data = group_data(&path, g);
    assert!(!data.is_empty(), "group {g} has entries");
    let mut bytes = std::fs::read(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    bytes[(data.start + data.end) / 2] ^= 0x5a;
    std::fs::write(&path, &bytes).unwrap();
    path
}

fn key_in(g: u16) -> u64 {
    (0..KEYS).find(|k| kg(k) == g).expect("a key in the group")
}

#[test]
fn an_intact_restore_reads_everything_and_settles() {
    let (root, files) = checkpoint("lazy-ok");
    let mut r = state(RANGE_ALL);
    assert!(r.restore_files(root.path(), &files).unwrap());
    let mut checks = RestoreChecks::start().expect("registered");
    for k in (0..KEYS).step_by(7) {
        assert_eq!(r.get(&ctx(&k, &RANGE_ALL, 0)), Some(&1), "key {k}");
    }
    assert_eq!(checks.settle(), Ok(()));
    assert_eq!(checks.check(), None);
    assert_eq!(r.len() as u64, KEYS);
    assert!(RestoreChecks::start().is_none(), "taken once");
}

#[test]
fn a_damaged_group_touched_first_reads_empty_and_is_reported() {
    let (root, files) = checkpoint("lazy-touch");
    let g = kg(&0u64);
    let file = damage(root.path(), &files, g);
    let mut r = state(RANGE_ALL);
    assert!(r.restore_files(root.path(), &files).unwrap());
    // Before the validator exists, an access checks the group itself.
    assert_eq!(r.get(&ctx(&key_in(g), &RANGE_ALL, 0)), None);
    let mut checks = RestoreChecks::start().expect("registered");
    let d = checks.check().expect("reported on access");
    assert_eq!(
        (d.key_group, d.detected, d.file),
        (g, Detected::OnAccess, file)
    );
    let other = (0..KEYS).find(|k| kg(k) != g).unwrap();
    assert_eq!(r.get(&ctx(&other, &RANGE_ALL, 0)), Some(&1));
    assert_eq!(checks.settle().map_err(|d| d.key_group), Err(g));
}

#[test]
fn the_validator_finds_a_damaged_group_nobody_touches() {
    let (root, files) = checkpoint("lazy-bg");
    let g = kg(&(KEYS - 1));
    damage(root.path(), &files, g);
    let mut r = state(RANGE_ALL);
    assert!(r.restore_files(root.path(), &files).unwrap());
    let checks = RestoreChecks::start().expect("registered");
    let deadline = Instant::now() + Duration::from_secs(60);
    let d = loop {
        if let Some(d) = checks.check() {
            break d;
        }
        assert!(Instant::now() < deadline, "the validator never reported");
        std::thread::sleep(Duration::from_millis(5));
    };
    assert_eq!((d.key_group, d.detected), (g, Detected::Background));
    drop(checks); // stops and joins the validator
    let _ = r.len();
}

#[test]
fn settling_finds_damage_and_ignores_groups_not_owned() {
    let (root, files) = checkpoint("lazy-settle");
    // Worker 1 of 2 owns the upper half: damage in the lower half is not its concern.
    let upper = owned(1, 2);
    let lower_g = (0..KEYS)
        .map(|k| kg(&k))
        .find(|g| !upper.contains(g))
        .unwrap();
    damage(root.path(), &files, lower_g);
    let mut r = state(upper.clone());
    assert!(r.restore_files(root.path(), &files).unwrap());
    let mut checks = RestoreChecks::start().expect("registered");
    assert_eq!(checks.settle(), Ok(()), "only owned groups count");
    let in_upper = (0..KEYS).filter(|k| upper.contains(&kg(k))).count();
    assert_eq!(r.len(), in_upper);
    // The same file restored by the owner of the lower half fails to settle.
    let mut r = state(owned(0, 2));
    assert!(r.restore_files(root.path(), &files).unwrap());
    let mut checks = RestoreChecks::start().expect("registered");
    assert_eq!(checks.settle().map_err(|d| d.key_group), Err(lower_g));
}

/// A merge on the merge thread opens its sources anew: a restored run's lazy checks go with
/// it, so a damaged group it reads is reported (and read as empty) rather than copied into
/// the merged run, which a checkpoint could then link after the restored run is gone.
#[test]
fn a_background_merge_of_a_restored_run_checks_its_groups() {
    use super::merge_job::{key_eq, key_len, MergeJob, MergeRules};
    use super::run::Run;
    use std::sync::atomic::AtomicBool;
    let (root, files) = checkpoint("lazy-merge");
    let g = kg(&0u64);
    let path = damage(root.path(), &files, g);
    let run = Run::open(&path, None).unwrap();
    let (bytes, range) = run.bytes();
    let checks = super::lazy::register(&path, &path, bytes, range.clone(), range.clone()).unwrap();
    let job = MergeJob {
        sources: vec![(path.clone(), range.clone(), Some(checks))],
        out: root.path().join("merged.wr"),
        range: range.clone(),
        timed: false,
        rules: MergeRules {
            key_eq: key_eq::<u64>,
            key_len: key_len::<u64>,
            expiry: None,
            bottom: true,
        },
    };
    let merged = job.run(&AtomicBool::new(false)).unwrap();
    let checks = RestoreChecks::start().expect("registered");
    let d = checks.check().expect("the merge reported the damage");
    assert_eq!((d.key_group, d.detected), (g, Detected::OnAccess));
    let in_g = (0..KEYS).filter(|k| kg(k) == g).count() as u64;
    assert_eq!(
        merged.entries(),
        KEYS - in_g,
        "the damaged group read as empty"
    );
}
