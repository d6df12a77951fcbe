//! State files split into segments (a tiny limit stands in for rkyv's 2 GiB): the restore
//! and `inspect` see exactly what an unsplit file holds.

use super::*;

/// The segment count recorded in a state file's header.
fn segment_count(file: &Path) -> u32 {
    let bytes = fs::read(file).unwrap();
    u32::from_le_bytes(bytes[24..28].try_into().unwrap())
}

#[test]
fn split_state_files_restore_and_describe_like_unsplit_ones() {
    let dir = tempfile::tempdir().unwrap();
    let store = CheckpointStore::open(dir.path()).unwrap();
    let whole = write_checkpoint(&store, 1, 2, 7);
    // 100 bytes per segment: the largest "count" section (16 × 8 bytes) is cut in two.
    store.set_segment_limit(100);
    let split = write_checkpoint(&store, 2, 2, 7);
    assert_eq!(segment_count(&whole.join("w0.state")), 1);
    let segments = segment_count(&split.join("w1.state"));
    assert!(segments > 4, "{segments} segments");

    let restored = store.load(&split, FP).unwrap();
    assert_eq!(read_range(&restored, 0..M), model(2, 7));
    assert_eq!(read_range(&restored, 5..7), {
        let mut m = model(2, 7);
        m.retain(|(kg, _), _| (5..7).contains(kg));
        m
    });
    let (a, b) = (describe(&whole).unwrap(), describe(&split).unwrap());
    assert_eq!(a.groups, b.groups, "inspect joins the split sections");
}

#[test]
fn a_damaged_segment_layout_is_rejected_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = CheckpointStore::open(dir.path()).unwrap();
    store.set_segment_limit(100);
    let chk = write_checkpoint(&store, 1, 1, 0);
    let file = chk.join("w0.state");
    let mut bytes = fs::read(&file).unwrap();
    let count = segment_count(&file);
    // One segment fewer than written, with the MANIFEST checksum fixed: not a CRC failure.
    bytes[24..28].copy_from_slice(&(count - 1).to_le_bytes());
    fs::write(&file, &bytes).unwrap();
    rewrite_manifest(&store, &chk, |m| {
        m.files[0].checksum = crc32fast::hash(&bytes)
    });
    let (path, reason) = checkpoint_error(store.load(&chk, FP));
    assert_eq!(path, file);
    assert!(reason.contains("after the last"), "{reason}");
}

/// A restore error raised by a worker's callback (which knows no file) names the state file
/// holding the section, and exits 78 — never 1.
#[test]
fn a_section_error_of_the_callback_names_the_state_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = CheckpointStore::open(dir.path()).unwrap();
    let chk = write_checkpoint(&store, 1, 2, 0);
    let restored = store.load(&chk, FP).unwrap();
    let err = restored
        .sections(M / 2..M, |kg, name, bytes| {
            let mut states: Vec<&mut dyn crate::state::KeyedStateStore> = Vec::new();
            restore_section(&mut states, kg, name, bytes).map_err(|reason| Error::CheckpointState {
                path: PathBuf::new(),
                key_group: kg,
                state: name.to_string(),
                reason,
            })
        })
        .unwrap_err();
    assert_eq!(err.exit_code(), crate::error::EXIT_CHECKPOINT);
    match err {
        Error::CheckpointState {
            path, key_group, ..
        } => {
            assert_eq!(path, chk.join("w1.state"));
            assert!(key_group >= M / 2);
        }
        other => panic!("{other:?}"),
    }
}

/// The parallel section check reports the first file's error, whatever thread finishes
/// first, and sees every section once.
#[test]
fn the_section_check_reports_the_first_files_error_and_sees_every_section() {
    use crate::error::StateSectionError;
    use std::sync::{Arc, Mutex};
    let dir = tempfile::tempdir().unwrap();
    let store = CheckpointStore::open(dir.path()).unwrap();
    let chk = write_checkpoint(&store, 1, 4, 3);
    let restored = store.load(&chk, FP).unwrap();
    let seen = Arc::new(Mutex::new(Model::new()));
    let recording = || -> Box<SectionCheck<'static>> {
        let seen = seen.clone();
        Box::new(move |kg, name, bytes| {
            let new = seen
                .lock()
                .unwrap()
                .insert((kg, name.to_string()), bytes.to_vec());
            assert!(new.is_none(), "section twice");
            Ok(())
        })
    };
    restored.verify_sections(&recording).unwrap();
    assert_eq!(*seen.lock().unwrap(), model(4, 3));
    for _ in 0..5 {
        let reject = || -> Box<SectionCheck<'static>> {
            Box::new(|_, _, _| Err(StateSectionError::UnknownState))
        };
        match restored.verify_sections(&reject).unwrap_err() {
            Error::CheckpointState {
                path, key_group, ..
            } => {
                assert_eq!(path, chk.join("w0.state"));
                assert_eq!(key_group, 0);
            }
            other => panic!("{other:?}"),
        }
    }
}
