//! A worker state of several GiB — one state section alone larger than rkyv's 2 GiB archive
//! limit — checkpoints and restores through the segmented state files.
//!
//! Ignored in CI: it writes a 3 GiB file and needs about 6 GiB of memory. Run it with
//! `cargo test --release --test checkpoint_large -- --ignored --nocapture`
//! (its figures are in PERF.md).

use std::time::Instant;
use weir::checkpoint::{CheckpointStore, GroupSnapshot, Manifest, StateSnapshot, WorkerSnapshot};

const MIB: usize = 1 << 20;
const FP: u64 = 0x51ce;

/// The deterministic bytes of section `kg`: the oracle needs no copy of them.
fn fill(kg: u16, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| ((i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 56) as u8 ^ kg as u8)
        .collect()
}

#[test]
#[ignore = "writes 3 GiB and needs ~6 GiB of memory; see PERF.md"]
fn a_state_of_several_gib_checkpoints_and_restores() {
    // Key group 0: one 2.25 GiB section; key groups 1..4: 256 MiB each. 3 GiB in all.
    let sizes = [2304 * MIB, 256 * MIB, 256 * MIB, 256 * MIB];
    let mut want = Vec::new();
    let groups = (0u16..4)
        .map(|kg| {
            let bytes = fill(kg, sizes[usize::from(kg)]);
            want.push((kg, "big".to_string(), bytes.len(), crc32fast::hash(&bytes)));
            GroupSnapshot {
                key_group: kg,
                states: vec![StateSnapshot {
                    name: "big".into(),
                    entries: bytes.len() as u64 / 16,
                    bytes,
                }],
            }
        })
        .collect();
    let snapshot = WorkerSnapshot {
        worker: 0,
        key_groups: 0..4,
        groups,
    };
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("tempdir");
    let store = CheckpointStore::open(dir.path()).expect("open");

    let started = Instant::now();
    let entry = store.write_worker_state(1, &snapshot).expect("write");
    let mut manifest = Manifest::new(1, FP, 4, 1);
    manifest.files.push(entry.clone());
    store.commit(&manifest).expect("commit");
    let written = started.elapsed();
    drop(snapshot);
    let file = store.checkpoint_path(1).join("w0.state");
    let header = std::fs::read(&file)
        .map(|b| b[..32].to_vec())
        .unwrap_or_default();
    let segments = u32::from_le_bytes(header[24..28].try_into().expect("header"));
    assert!(entry.len > 3 << 30, "{} bytes", entry.len);
    assert!(segments >= 3, "{segments} segments");

    let started = Instant::now();
    let restored = store.load_latest(FP).expect("load").expect("a checkpoint");
    let mut got = Vec::new();
    restored
        .sections(0..4, |kg, name, bytes| {
            got.push((kg, name.to_string(), bytes.len(), crc32fast::hash(bytes)));
            Ok(())
        })
        .expect("sections");
    let read = started.elapsed();
    assert_eq!(got, want);
    eprintln!(
        "state file {:.2} GiB in {segments} segments: write + commit {:.1} s, \
         load + validate + read all sections {:.1} s",
        entry.len as f64 / (1u64 << 30) as f64,
        written.as_secs_f64(),
        read.as_secs_f64()
    );
}
