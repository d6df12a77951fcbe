//! Tests of the checkpoint store on real files in temporary directories.

use super::restore::read_manifest;
use super::*;
use crate::Error;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

mod corrupt;
mod model;
mod segments;

const FP: u64 = 0x00c0_ffee;
const M: u16 = 8;

/// Section contents keyed by (key group, state name).
type Model = BTreeMap<(u16, String), Vec<u8>>;

/// Worker `w`'s snapshot of `workers`: key groups `[w*M/N, (w+1)*M/N)`, a "count" state in
/// every group but those divisible by 3, a "sum" state in even groups.
fn snapshot(w: u32, workers: u32, salt: u8) -> WorkerSnapshot {
    let range = (w * u32::from(M) / workers) as u16..((w + 1) * u32::from(M) / workers) as u16;
    let groups = range
        .clone()
        .filter(|kg| kg % 3 != 0 || *kg == 0)
        .map(|kg| {
            let mut states = vec![StateSnapshot {
                name: "count".into(),
                entries: u64::from(kg) + 1,
                bytes: (0..16 * (usize::from(kg) + 1))
                    .map(|i| (i as u8) ^ salt ^ kg as u8)
                    .collect(),
            }];
            if kg % 2 == 0 {
                states.push(StateSnapshot {
                    name: "sum".into(),
                    entries: 1,
                    bytes: vec![kg as u8, salt],
                });
            }
            GroupSnapshot {
                key_group: kg,
                states,
            }
        })
        .collect();
    WorkerSnapshot {
        worker: w,
        key_groups: range,
        groups,
    }
}

/// What `sections` must yield for checkpoints written by [`write_checkpoint`].
fn model(workers: u32, salt: u8) -> Model {
    let mut m = Model::new();
    for w in 0..workers {
        for g in snapshot(w, workers, salt).groups {
            for s in g.states {
                m.insert((g.key_group, s.name), s.bytes);
            }
        }
    }
    m
}

/// Writes and commits checkpoint `id` with `workers` workers writing concurrently.
fn write_checkpoint(store: &CheckpointStore, id: u64, workers: u32, salt: u8) -> PathBuf {
    let files: Vec<FileEntry> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|w| s.spawn(move || store.write_worker_state(id, &snapshot(w, workers, salt))))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("writer thread").expect("write"))
            .collect()
    });
    let mut manifest = Manifest::new(id, FP, M, workers);
    manifest.files = files;
    manifest.sink_epoch = id;
    manifest.sources = (0..workers)
        .map(|w| {
            vec![crate::source::RangePosition {
                resource: format!("in{w}.csv"),
                next: 100 * id,
                end: 10_000,
                line: id,
                source: String::new(),
                max_event_time: None,
            }]
        })
        .collect();
    store.commit(&manifest).expect("commit")
}

/// Reads the sections of `range` into a model.
fn read_range(restored: &Restored, range: std::ops::Range<u16>) -> Model {
    let mut out = Model::new();
    restored
        .sections(range.clone(), |kg, name, bytes| {
            assert!(range.contains(&kg), "key group {kg} outside {range:?}");
            assert!(
                out.insert((kg, name.to_string()), bytes.to_vec()).is_none(),
                "section twice"
            );
            Ok(())
        })
        .expect("sections");
    out
}

/// The path and reason of a checkpoint error, panicking on anything else.
fn checkpoint_error<T>(r: crate::Result<T>) -> (PathBuf, String) {
    match r {
        Err(Error::Checkpoint { path, reason }) => (path, reason),
        Err(other) => panic!("expected a checkpoint error, got {other}"),
        Ok(_) => panic!("expected a checkpoint error, got Ok"),
    }
}

fn flip_byte(path: &Path, at: usize) {
    let mut bytes = fs::read(path).unwrap();
    bytes[at] ^= 0x01;
    fs::write(path, bytes).unwrap();
}

/// Replaces a checkpoint's MANIFEST by `edit(manifest)`, recommitted with a valid checksum.
fn rewrite_manifest(store: &CheckpointStore, chk: &Path, edit: impl FnOnce(&mut Manifest)) {
    let mut m = read_manifest(chk).unwrap();
    edit(&mut m);
    fs::remove_file(chk.join("MANIFEST")).unwrap();
    store.commit(&m).unwrap();
}

#[test]
fn round_trip_restores_with_one_two_and_three_workers() {
    let dir = tempfile::tempdir().unwrap();
    let store = CheckpointStore::open(dir.path()).unwrap();
    let chk = write_checkpoint(&store, 7, 2, 0x5a);
    assert_eq!(chk, dir.path().join("chk-0000000007"));
    for name in ["MANIFEST", "w0.state", "w1.state"] {
        assert!(chk.join(name).is_file(), "{name}");
    }
    let restored = store.load(&chk, FP).unwrap();
    assert_eq!(restored.manifest.id, 7);
    assert_eq!(restored.manifest.files.len(), 2);
    let expected = model(2, 0x5a);
    assert_eq!(
        read_range(&restored, 0..M),
        expected,
        "one worker reads everything"
    );
    let mut union = Model::new();
    for w in 0..3u16 {
        let range = w * M / 3..(w + 1) * M / 3;
        let part = read_range(&restored, range.clone());
        assert!(!part.is_empty(), "worker {w} of 3 got nothing");
        union.extend(part);
    }
    assert_eq!(
        union, expected,
        "three workers together read everything once"
    );
    // A range inside one file and an empty one.
    assert_eq!(
        read_range(&restored, 5..6)
            .keys()
            .map(|k| k.0)
            .collect::<Vec<_>>(),
        vec![5]
    );
    assert!(read_range(&restored, 3..3).is_empty());
}

#[test]
fn file_entries_carry_the_whole_file_crc32_and_length() {
    let dir = tempfile::tempdir().unwrap();
    let store = CheckpointStore::open(dir.path()).unwrap();
    let entry = store.write_worker_state(1, &snapshot(1, 2, 3)).unwrap();
    let bytes = fs::read(store.checkpoint_path(1).join("w1.state")).unwrap();
    assert_eq!(entry.name, "w1.state");
    assert_eq!(entry.len, bytes.len() as u64);
    assert_eq!(entry.checksum, crc32fast::hash(&bytes));
    assert_eq!(entry.key_groups, 4..8);
    assert_eq!(&bytes[..8], b"WEIRSTAT");
    assert_eq!(&bytes[8..12], &FORMAT_VERSION.to_le_bytes());
    let archive_len = u64::from_le_bytes(bytes[16..24].try_into().unwrap());
    assert_eq!(
        archive_len,
        bytes.len() as u64 - 32,
        "archive right after the 32-byte header"
    );
}

#[test]
fn sections_propagates_the_callbacks_error() {
    let dir = tempfile::tempdir().unwrap();
    let store = CheckpointStore::open(dir.path()).unwrap();
    let chk = write_checkpoint(&store, 1, 2, 0);
    let restored = store.load(&chk, FP).unwrap();
    let mut calls = 0;
    let r = restored.sections(0..M, |_, _, _| {
        calls += 1;
        Err(Error::Runtime("stop".into()))
    });
    assert!(matches!(r, Err(Error::Runtime(ref m)) if m == "stop"));
    assert_eq!(calls, 1);
}

#[test]
fn retain_keeps_the_newest_complete_checkpoints() {
    let dir = tempfile::tempdir().unwrap();
    let store = CheckpointStore::open(dir.path()).unwrap();
    for id in 1..=5 {
        write_checkpoint(&store, id, 2, id as u8);
    }
    store.write_worker_state(3, &snapshot(0, 2, 0)).unwrap_err(); // 3 is committed
    store.write_worker_state(4, &snapshot(0, 1, 0)).unwrap_err(); // so is 4
    let abandoned = dir.path().join("chk-0000000000");
    fs::create_dir(&abandoned).unwrap();
    store.write_worker_state(6, &snapshot(0, 2, 0)).unwrap(); // in progress: kept

    assert!(
        store.retain(10).unwrap().iter().all(|&id| id == 0),
        "only the abandoned one"
    );
    assert!(!abandoned.exists());
    assert_eq!(store.retain(2).unwrap(), vec![1, 2, 3]);
    let ids: Vec<(u64, bool)> = list(dir.path())
        .unwrap()
        .iter()
        .map(|s| (s.id, s.complete))
        .collect();
    assert_eq!(ids, vec![(4, true), (5, true), (6, false)]);
    assert_eq!(store.load_latest(FP).unwrap().unwrap().manifest.id, 5);
    assert_eq!(store.retain(0).unwrap(), vec![4, 5]);
    assert!(store.load_latest(FP).unwrap().is_none());
}

#[test]
fn clean_incomplete_removes_unfinished_checkpoints_and_temp_files() {
    let dir = tempfile::tempdir().unwrap();
    let store = CheckpointStore::open(dir.path()).unwrap();
    let chk1 = write_checkpoint(&store, 1, 2, 0);
    store.write_worker_state(2, &snapshot(0, 2, 0)).unwrap();
    fs::write(chk1.join("MANIFEST.tmp"), b"{").unwrap();
    // Not weir's: a user's temp file beside the checkpoints, a user's file in a
    // checkpoint-named directory.
    fs::write(dir.path().join("stray.tmp"), b"x").unwrap();
    fs::create_dir(dir.path().join("chk-0000000009")).unwrap();
    fs::write(dir.path().join("chk-0000000009/notes.txt"), b"mine").unwrap();
    let mut removed = store.clean_incomplete().unwrap();
    removed.sort();
    let mut expected = vec![chk1.join("MANIFEST.tmp"), dir.path().join("chk-0000000002")];
    expected.sort();
    assert_eq!(removed, expected);
    assert!(dir.path().join("stray.tmp").exists());
    assert!(dir.path().join("chk-0000000009/notes.txt").exists());
    assert_eq!(
        store.discard_after(0).unwrap(),
        vec![1],
        "only weir's own checkpoints go"
    );
    assert!(dir.path().join("chk-0000000009/notes.txt").exists());
    let chk1 = write_checkpoint(&store, 1, 2, 0);
    assert!(dir.path().join("LOCK").exists());
    let listed = list(dir.path()).unwrap();
    assert_eq!(listed.iter().filter(|c| c.complete).count(), 1);
    store.load(&chk1, FP).unwrap();
    assert!(store.clean_incomplete().unwrap().is_empty());
}

#[test]
fn second_open_of_a_locked_directory_fails() {
    let dir = tempfile::tempdir().unwrap();
    let store = CheckpointStore::open(dir.path()).unwrap();
    let err = CheckpointStore::open(dir.path()).err().expect("locked");
    assert_eq!(err.exit_code(), crate::error::EXIT_CHECKPOINT);
    let (path, reason) = checkpoint_error::<()>(Err(err));
    assert_eq!(path, dir.path());
    assert_eq!(reason, "locked by another weir process");
    drop(store);
    CheckpointStore::open(dir.path()).expect("lock released on drop");
}

#[test]
fn injected_write_failure_fails_the_checkpoint_and_keeps_older_ones() {
    let dir = tempfile::tempdir().unwrap();
    let store = CheckpointStore::open(dir.path()).unwrap();
    write_checkpoint(&store, 1, 2, 1);

    // Disk full while writing a state file.
    let w0 = store.write_worker_state(2, &snapshot(0, 2, 2)).unwrap();
    store.set_fail_writes_after(Some(w0.len / 2));
    match store.write_worker_state(2, &snapshot(1, 2, 2)) {
        Err(Error::Io { path, source }) => {
            assert_eq!(path, store.checkpoint_path(2).join("w1.state"));
            #[allow(clippy::incompatible_msrv)]
            let full = std::io::ErrorKind::StorageFull;
            assert_eq!(source.kind(), full);
        }
        other => panic!("expected a disk-full error, got {other:?}"),
    }
    assert_eq!(store.load_latest(FP).unwrap().unwrap().manifest.id, 1);

    // Disk full while writing the MANIFEST.
    store.set_fail_writes_after(None);
    let w1 = store.write_worker_state(2, &snapshot(1, 2, 2)).unwrap();
    store.set_fail_writes_after(Some(10));
    let mut manifest = Manifest::new(2, FP, M, 2);
    manifest.files = vec![w0, w1];
    assert!(matches!(store.commit(&manifest), Err(Error::Io { .. })));
    assert!(!store.checkpoint_path(2).join("MANIFEST").exists());
    let restored = store.load_latest(FP).unwrap().unwrap();
    assert_eq!(restored.manifest.id, 1);
    assert_eq!(read_range(&restored, 0..M), model(2, 1));
    store.clean_incomplete().unwrap();
    assert!(!store.checkpoint_path(2).exists());
}

#[test]
fn invalid_snapshots_and_commits_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = CheckpointStore::open(dir.path()).unwrap();
    let mut s = snapshot(0, 2, 0);
    s.groups.swap(0, 1);
    let (_, reason) = checkpoint_error(store.write_worker_state(1, &s));
    assert!(reason.contains("not strictly ascending"), "{reason}");
    let mut s = snapshot(0, 2, 0);
    s.groups[0].key_group = 6;
    let (_, reason) = checkpoint_error(store.write_worker_state(1, &s));
    assert!(reason.contains("outside"), "{reason}");

    let mut entry = store.write_worker_state(1, &snapshot(0, 1, 0)).unwrap();
    entry.len += 1;
    let mut manifest = Manifest::new(1, FP, M, 1);
    manifest.files = vec![entry];
    let (path, reason) = checkpoint_error(store.commit(&manifest));
    assert_eq!(path, store.checkpoint_path(1).join("w0.state"));
    assert!(reason.contains("the manifest lists"), "{reason}");
}

#[test]
fn list_and_describe_report_checkpoints() {
    let dir = tempfile::tempdir().unwrap();
    let store = CheckpointStore::open(dir.path()).unwrap();
    let chk = write_checkpoint(&store, 3, 2, 0);
    store.write_worker_state(4, &snapshot(0, 2, 0)).unwrap();
    let summaries = list(dir.path()).unwrap();
    assert_eq!(summaries.len(), 2);
    let (done, partial) = (&summaries[0], &summaries[1]);
    assert!(done.complete && !partial.complete);
    assert_eq!((done.id, done.workers, partial.workers), (3, 2, 1));
    assert_eq!(done.sources[1][0].next, 300);
    let on_disk: u64 = fs::read_dir(&chk)
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum();
    assert_eq!(done.total_bytes, on_disk);
    let table = CheckpointTable(&summaries).to_string();
    assert!(
        table.contains("complete") && table.contains("incomplete"),
        "{table}"
    );
    assert!(table.contains("1: 300/10000"), "{table}");

    let detail = describe(&chk).unwrap();
    assert_eq!(detail.sink_epoch, 3);
    let kg2 = detail.groups.iter().find(|g| g.key_group == 2).unwrap();
    assert_eq!(kg2.file, "w0.state");
    let names: Vec<(&str, u64, u64)> = kg2
        .states
        .iter()
        .map(|s| (s.name.as_str(), s.entries, s.bytes))
        .collect();
    assert_eq!(names, vec![("count", 3, 48), ("sum", 1, 2)]);
    assert!(detail
        .groups
        .iter()
        .all(|g| g.key_group % 3 != 0 || g.key_group == 0));
    let text = detail.to_string();
    assert!(
        text.contains("in1.csv") && text.contains("w1.state") && text.contains("count"),
        "{text}"
    );

    flip_byte(&chk.join("MANIFEST"), 5);
    let summaries = list(dir.path()).unwrap();
    assert!(summaries[0]
        .problem
        .as_deref()
        .unwrap()
        .contains("checksum"));
    assert!(CheckpointTable(&summaries).to_string().contains("BAD"));
}

#[test]
fn store_and_restored_can_be_shared_across_threads() {
    fn shared<T: Send + Sync>() {}
    shared::<CheckpointStore>();
    shared::<Restored>();
}
