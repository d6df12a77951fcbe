//! Damaged, incompatible and missing checkpoints: each rejected with the file and reason.

use super::*;

#[test]
fn truncated_state_file_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let store = CheckpointStore::open(dir.path()).unwrap();
    let chk = write_checkpoint(&store, 1, 2, 0);
    let file = chk.join("w1.state");
    let len = fs::metadata(&file).unwrap().len();
    fs::OpenOptions::new()
        .write(true)
        .open(&file)
        .unwrap()
        .set_len(len - 10)
        .unwrap();
    let (path, reason) = checkpoint_error(store.load(&chk, FP));
    assert_eq!(path, file);
    assert!(reason.contains("truncated"), "{reason}");
}

#[test]
fn flipped_byte_in_a_state_file_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let store = CheckpointStore::open(dir.path()).unwrap();
    let chk = write_checkpoint(&store, 1, 2, 0);
    let file = chk.join("w0.state");
    let len = fs::metadata(&file).unwrap().len() as usize;
    flip_byte(&file, len / 2);
    let (path, reason) = checkpoint_error(store.load(&chk, FP));
    assert_eq!(path, file);
    assert!(reason.contains("checksum mismatch"), "{reason}");
}

#[test]
fn flipped_byte_in_the_manifest_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let store = CheckpointStore::open(dir.path()).unwrap();
    let chk = write_checkpoint(&store, 1, 2, 0);
    let manifest = chk.join("MANIFEST");
    let text = fs::read_to_string(&manifest).unwrap();
    // A digit of a value: still valid JSON, only the checksum can tell.
    let at = text.find("\"sink_epoch\": 1").unwrap() + "\"sink_epoch\": ".len();
    flip_byte(&manifest, at);
    let (path, reason) = checkpoint_error(store.load(&chk, FP));
    assert_eq!(path, manifest);
    assert!(reason.contains("checksum mismatch"), "{reason}");
    // A flip in the checksum line itself.
    flip_byte(&manifest, at);
    store
        .load(&chk, FP)
        .expect("restored byte makes it valid again");
    let trailer_digit = text.rfind(|c: char| c.is_ascii_digit()).unwrap();
    flip_byte(&manifest, trailer_digit);
    let (path, reason) = checkpoint_error(store.load(&chk, FP));
    assert_eq!(path, manifest);
    assert!(reason.contains("checksum"), "{reason}");
}

#[test]
fn missing_state_file_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let store = CheckpointStore::open(dir.path()).unwrap();
    let chk = write_checkpoint(&store, 1, 2, 0);
    fs::remove_file(chk.join("w1.state")).unwrap();
    let (path, reason) = checkpoint_error(store.load(&chk, FP));
    assert_eq!(path, chk.join("w1.state"));
    assert!(reason.contains("missing"), "{reason}");
}

#[test]
fn newer_format_version_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let store = CheckpointStore::open(dir.path()).unwrap();
    let chk = write_checkpoint(&store, 1, 2, 0);
    rewrite_manifest(&store, &chk, |m| m.format_version = FORMAT_VERSION + 1);
    let (path, reason) = checkpoint_error(store.load(&chk, FP));
    assert_eq!(path, chk.join("MANIFEST"));
    let expected = format!(
        "format version {} is newer than this weir's {FORMAT_VERSION}",
        FORMAT_VERSION + 1
    );
    assert_eq!(reason, expected);
}

#[test]
fn checkpoint_of_another_pipeline_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let store = CheckpointStore::open(dir.path()).unwrap();
    let chk = write_checkpoint(&store, 1, 2, 0);
    let (path, reason) = checkpoint_error(store.load(&chk, FP + 1));
    assert_eq!(path, chk.join("MANIFEST"));
    assert!(
        reason.starts_with("checkpoint of another pipeline"),
        "{reason}"
    );
}

#[test]
fn invalid_archive_with_valid_checksums_is_rejected_not_accessed() {
    let dir = tempfile::tempdir().unwrap();
    let store = CheckpointStore::open(dir.path()).unwrap();
    let chk = write_checkpoint(&store, 1, 2, 0);
    let file = chk.join("w0.state");
    let mut bytes = fs::read(&file).unwrap();
    let len = bytes.len();
    // Scramble the archive's root (at its end) and re-checksum: only bytecheck can tell.
    for b in &mut bytes[len - 24..] {
        *b = 0xff;
    }
    fs::write(&file, &bytes).unwrap();
    rewrite_manifest(&store, &chk, |m| {
        m.files[0].checksum = crc32fast::hash(&bytes)
    });
    let (path, reason) = checkpoint_error(store.load(&chk, FP));
    assert_eq!(path, file);
    assert!(reason.contains("invalid archive"), "{reason}");
}

#[test]
fn manifest_whose_files_do_not_cover_all_key_groups_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let store = CheckpointStore::open(dir.path()).unwrap();
    let chk = write_checkpoint(&store, 1, 2, 0);
    rewrite_manifest(&store, &chk, |m| {
        m.files.pop();
    });
    let (path, reason) = checkpoint_error(store.load(&chk, FP));
    assert_eq!(path, chk.join("MANIFEST"));
    assert!(
        reason.contains("cover key groups 0..4, not 0..8"),
        "{reason}"
    );
}

#[test]
fn load_latest_falls_back_to_the_previous_good_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let store = CheckpointStore::open(dir.path()).unwrap();
    assert!(store.load_latest(FP).unwrap().is_none(), "empty directory");
    write_checkpoint(&store, 1, 2, 1);
    let chk2 = write_checkpoint(&store, 2, 2, 2);
    store.write_worker_state(3, &snapshot(0, 2, 3)).unwrap(); // incomplete: ignored
    assert_eq!(store.load_latest(FP).unwrap().unwrap().manifest.id, 2);

    flip_byte(&chk2.join("w1.state"), 40);
    let restored = store.load_latest(FP).unwrap().expect("falls back");
    assert_eq!(restored.manifest.id, 1);
    assert_eq!(read_range(&restored, 0..M), model(2, 1));

    // All bad: the newest one's error.
    fs::remove_file(dir.path().join("chk-0000000001/w0.state")).unwrap();
    let (path, reason) = checkpoint_error(store.load_latest(FP));
    assert_eq!(path, chk2.join("w1.state"));
    assert!(reason.contains("checksum mismatch"), "{reason}");
}

#[test]
fn a_manifest_with_an_impossible_max_parallelism_is_rejected() {
    for mp in [0u16, 3, 65535] {
        let dir = tempfile::tempdir().unwrap();
        let store = CheckpointStore::open(dir.path()).unwrap();
        let chk = write_checkpoint(&store, 1, 1, 0);
        // Checksums valid, files still tiling the new range: only the value is wrong.
        rewrite_manifest(&store, &chk, |m| {
            m.max_parallelism = mp;
            m.files[0].key_groups = 0..mp;
        });
        let (path, reason) = checkpoint_error(store.load(&chk, FP));
        assert_eq!(path, chk.join("MANIFEST"));
        assert!(reason.contains("not a power of two"), "{reason}");
    }
}
