//! Tests of incremental checkpoints and restores from run files: shared files, random
//! retention, rescaling and damaged files. The oracle is a heap state given the same
//! operations.

use super::tests::{sections, Rng};
use crate::state::test_util::{ctx, kg, owned, owner, RANGE_ALL};
use crate::state::{KeyedStateStore, RunFile, RunSource, StateBackend, ValueState};
use std::collections::VecDeque;
use std::ops::Range;
use std::path::{Path, PathBuf};

fn state(backend: &StateBackend, range: Range<u16>) -> ValueState<u64, i64> {
    let mut s = ValueState::new("v");
    s.set_backend(backend);
    s.set_key_groups(range);
    s
}

fn mmap() -> StateBackend {
    StateBackend::Mmap {
        dir: None,
        cache_entries: 500,
    }
}

/// A fresh directory for this test, removed by the caller.
fn test_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("weir-files-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The files as restore sources of a writer that owned all key groups.
pub(super) fn names(files: &[RunFile]) -> Vec<RunSource> {
    names_of(files, RANGE_ALL)
}

/// The files as restore sources of a writer that owned `range`.
pub(super) fn names_of(files: &[RunFile], range: Range<u16>) -> Vec<RunSource> {
    files
        .iter()
        .map(|f| RunSource {
            name: f.name.clone(),
            key_groups: range.clone(),
        })
        .collect()
}

/// Adds `delta` to key `k` in both states.
fn add(a: &mut ValueState<u64, i64>, b: &mut ValueState<u64, i64>, k: u64, delta: i64) {
    *a.get_or_insert_with(&ctx(&k, &RANGE_ALL, 0), || 0) += delta;
    *b.get_or_insert_with(&ctx(&k, &RANGE_ALL, 0), || 0) += delta;
}

fn restored(dir: &Path, files: &[RunSource], range: Range<u16>) -> ValueState<u64, i64> {
    let mut r = state(&mmap(), range);
    assert!(r.restore_files(dir, files).expect("restores"));
    r
}

#[test]
fn a_checkpoint_after_few_changes_writes_little_and_shares_the_rest() {
    let root = test_dir("incr");
    let (mut heap, mut mm) = (
        state(&StateBackend::Heap, RANGE_ALL),
        state(&mmap(), RANGE_ALL),
    );
    for k in 0..20_000 {
        add(&mut heap, &mut mm, k, k as i64);
    }
    // Merges run in the background: one finishing after the first checkpoint would make
    // the second write its output (new bytes, correctly; but not what this test measures).
    mm.settle();
    let d1 = root.join("chk-1");
    std::fs::create_dir(&d1).unwrap();
    let first = mm.checkpoint_files(&d1).unwrap().unwrap();
    assert!(first.iter().all(|f| f.new));
    // The first checkpoint's flush may start a merge (the policy's call); its output is new
    // bytes of the checkpoint after it finishes. Let one checkpoint take those, so the one
    // measured below holds only the 1 % change.
    mm.settle();
    let d1b = root.join("chk-1b");
    std::fs::create_dir(&d1b).unwrap();
    mm.checkpoint_files(&d1b).unwrap().unwrap();
    mm.settle();
    for k in (0..20_000).step_by(100) {
        add(&mut heap, &mut mm, k, 1); // 1 % of the keys
    }
    let d2 = root.join("chk-2");
    std::fs::create_dir(&d2).unwrap();
    let second = mm.checkpoint_files(&d2).unwrap().unwrap();
    let new: u64 = second.iter().filter(|f| f.new).map(|f| f.bytes).sum();
    let all: u64 = second.iter().map(|f| f.bytes).sum();
    assert!(new > 0 && new * 10 < all, "new {new} of {all} bytes");
    let r = restored(&d2, &names(&second), RANGE_ALL);
    assert_eq!(sections(&r, false, 0), sections(&heap, false, 0));
    let k = 300u64;
    assert_eq!(r.get(&ctx(&k, &RANGE_ALL, 0)), Some(&301));
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn retention_never_breaks_a_retained_checkpoint() {
    let root = test_dir("retain");
    let (mut heap, mut mm) = (
        state(&StateBackend::Heap, RANGE_ALL),
        state(&mmap(), RANGE_ALL),
    );
    let mut rng = Rng(0x5eed);
    let mut kept: VecDeque<(PathBuf, Vec<RunSource>, _)> = VecDeque::new();
    for id in 0..12 {
        for _ in 0..(rng.next() % 3000) {
            let k = rng.next() % 5000;
            match rng.next() % 5 {
                0 => assert_eq!(
                    heap.clear(&ctx(&k, &RANGE_ALL, 0)),
                    mm.clear(&ctx(&k, &RANGE_ALL, 0))
                ),
                _ => add(&mut heap, &mut mm, k, 1 + (k as i64 % 7)),
            }
        }
        let dir = root.join(format!("chk-{id}"));
        std::fs::create_dir(&dir).unwrap();
        let files = mm.checkpoint_files(&dir).unwrap().unwrap();
        kept.push_back((dir, names(&files), sections(&heap, false, 0)));
        let retain = 1 + (rng.next() % 4) as usize;
        while kept.len() > retain {
            let (old, _, _) = kept.pop_front().unwrap();
            std::fs::remove_dir_all(old).unwrap();
        }
        for (dir, files, expected) in &kept {
            let r = restored(dir, files, RANGE_ALL);
            assert_eq!(&sections(&r, false, 0), expected, "{}", dir.display());
        }
    }
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn run_files_restore_into_other_worker_counts() {
    let root = test_dir("rescale");
    let mut heap = state(&StateBackend::Heap, RANGE_ALL);
    let mut old: Vec<_> = (0..2).map(|w| state(&mmap(), owned(w, 2))).collect();
    for k in 0..6000u64 {
        *heap.get_or_insert_with(&ctx(&k, &RANGE_ALL, 0), || 0) += k as i64;
        let w = owner(kg(&k), 2);
        *old[w].get_or_insert_with(&ctx(&k, &owned(w, 2), 0), || 0) += k as i64;
    }
    let mut files = Vec::new();
    for (w, s) in old.iter_mut().enumerate() {
        files.extend(names_of(
            &s.checkpoint_files(&root).unwrap().unwrap(),
            owned(w, 2),
        ));
    }
    let expected = sections(&heap, false, 0);
    for n in [1, 3] {
        let mut got = std::collections::BTreeMap::new();
        for w in 0..n {
            got.extend(sections(&restored(&root, &files, owned(w, n)), false, 0));
        }
        assert_eq!(got, expected, "{n} workers");
    }
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn damaged_or_missing_files_fail_the_restore_on_both_backends() {
    let root = test_dir("damaged");
    let mut mm = state(&mmap(), RANGE_ALL);
    for k in 0..1000u64 {
        mm.update(&ctx(&k, &RANGE_ALL, 0), 1);
    }
    let files = names(&mm.checkpoint_files(&root).unwrap().unwrap());
    // The heap backend decodes run files into its tables.
    let mut heap = state(&StateBackend::Heap, RANGE_ALL);
    assert!(heap.restore_files(&root, &files).unwrap());
    assert_eq!(heap.len(), 1000);
    assert_eq!(heap.get(&ctx(&7, &RANGE_ALL, 0)), Some(&1));
    let path = root.join(&files[0].name);
    let mut bytes = std::fs::read(&path).unwrap();
    std::fs::remove_file(&path).unwrap(); // break the link, do not change the shared inode
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&path, &bytes).unwrap();
    // The mmap backend maps it (header and directory are intact) and checks the groups
    // lazily: the damaged one (the last byte is in the last group's data) reads as empty and
    // is reported, the others read as they were.
    let last_kg = (0..1000u64).map(|k| kg(&k)).max().unwrap();
    let hit = (0..1000u64).find(|k| kg(k) == last_kg).unwrap();
    let fine = (0..1000u64).find(|k| kg(k) != last_kg).unwrap();
    let mut r = state(&mmap(), RANGE_ALL);
    assert!(r.restore_files(&root, &files).unwrap());
    let mut checks = crate::state::RestoreChecks::start().expect("runs registered");
    assert_eq!(r.get(&ctx(&fine, &RANGE_ALL, 0)), Some(&1));
    assert_eq!(
        r.get(&ctx(&hit, &RANGE_ALL, 0)),
        None,
        "damaged group reads empty"
    );
    let damage = checks.check().expect("reported");
    assert_eq!(damage.key_group, last_kg);
    assert_eq!(damage.file, path);
    assert_eq!(checks.settle().map_err(|d| d.key_group), Err(last_kg));
    let mut r = state(&mmap(), RANGE_ALL);
    let missing = vec![RunSource {
        name: "nope.wr".to_string(),
        key_groups: RANGE_ALL,
    }];
    assert!(r.restore_files(&root, &missing).is_err());
    assert!(
        heap.restore_files(&root, &files).is_err(),
        "damaged for the heap too"
    );
    assert_eq!(mm.len(), 1000, "the source state is unharmed");
    std::fs::remove_dir_all(&root).unwrap();
}

/// 1 → 2 → 1 workers: after the split, each worker's checkpoint shares the old run, which
/// holds the other worker's key groups too; restoring both into one worker must take each
/// group from its owner's files only (the shared run's stale copy must not shadow them).
#[test]
fn rescale_down_ignores_stale_groups_of_shared_runs() {
    let root = test_dir("rescale-back");
    let mut heap = state(&StateBackend::Heap, RANGE_ALL);
    let mut one = state(&mmap(), RANGE_ALL);
    for k in 0..3000u64 {
        add(&mut heap, &mut one, k, 1);
    }
    let first = names(&one.checkpoint_files(&root).unwrap().unwrap());
    let mut two: Vec<_> = (0..2)
        .map(|w| restored(&root, &first, owned(w, 2)))
        .collect();
    // Few changes: no merge rewrites the shared run away.
    for k in (0..3000u64).step_by(37) {
        *heap.get_or_insert_with(&ctx(&k, &RANGE_ALL, 0), || 0) += 10;
        let w = owner(kg(&k), 2);
        *two[w].get_or_insert_with(&ctx(&k, &owned(w, 2), 0), || 0) += 10;
    }
    let d2 = test_dir("rescale-back-2");
    let mut files = Vec::new();
    for (w, s) in two.iter_mut().enumerate() {
        files.extend(names_of(
            &s.checkpoint_files(&d2).unwrap().unwrap(),
            owned(w, 2),
        ));
    }
    assert!(
        files.len() >= 4,
        "each worker shares the old run: {files:?}"
    );
    let back = restored(&d2, &files, RANGE_ALL);
    assert_eq!(sections(&back, false, 0), sections(&heap, false, 0));
    std::fs::remove_dir_all(&root).unwrap();
    std::fs::remove_dir_all(&d2).unwrap();
}

#[test]
fn runs_copied_across_file_systems_count_as_new() {
    // The working files are under the temporary directory; checkpoints go to /dev/shm, a
    // tmpfs where one exists, so hard links fail and the runs are copied.
    let shm = Path::new("/dev/shm");
    let dev = |p: &Path| {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(p).map(|m| m.dev()).ok()
    };
    if dev(shm).is_none() || dev(shm) == dev(&std::env::temp_dir()) {
        eprintln!("no second file system at /dev/shm: nothing to copy across");
        return;
    }
    let root = shm.join(format!("weir-files-copy-{}", std::process::id()));
    std::fs::create_dir(&root).unwrap();
    let (mut heap, mut mm) = (
        state(&StateBackend::Heap, RANGE_ALL),
        state(&mmap(), RANGE_ALL),
    );
    for k in 0..5_000 {
        add(&mut heap, &mut mm, k, k as i64);
    }
    let d1 = root.join("chk-1");
    std::fs::create_dir(&d1).unwrap();
    mm.checkpoint_files(&d1).unwrap().unwrap();
    add(&mut heap, &mut mm, 7, 1);
    let d2 = root.join("chk-2");
    std::fs::create_dir(&d2).unwrap();
    let second = mm.checkpoint_files(&d2).unwrap().unwrap();
    assert!(second.len() >= 2, "an old run and a new one: {second:?}");
    assert!(
        second.iter().all(|f| f.new),
        "copied runs are new: {second:?}"
    );
    let r = restored(&d2, &names(&second), RANGE_ALL);
    assert_eq!(sections(&r, false, 0), sections(&heap, false, 0));
    drop(r);
    std::fs::remove_dir_all(&root).unwrap();
}
