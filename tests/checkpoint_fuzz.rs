//! Random corruption and truncation of REAL checkpoint files — written by a real run of the
//! binary, and a copy of them split into many segments — at every offset class: the state
//! file's header, a segment header, the archive body, the archive's tail (where rkyv keeps
//! the root), the MANIFEST's body and its checksum line. With and without a recomputed
//! MANIFEST checksum (so that the archive validation itself is exercised).
//!
//! Properties: the reader never panics; a damaged checkpoint is either rejected with an
//! error naming the damaged file (or its MANIFEST), or reads back exactly the original
//! sections; `--restore latest` falls back to the older complete checkpoint and the binary
//! exits 0 (fallback) or 78, never 1 or a panic.

mod checkpoint_support;

use checkpoint_support::*;
use proptest::prelude::*;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use weir::checkpoint::{CheckpointStore, GroupSnapshot, StateSnapshot, WorkerSnapshot};
use weir::Error;

/// Sections of a checkpoint: (key group, state, bytes), in order.
type Sections = Vec<(u16, String, Vec<u8>)>;

/// A killed run of the count pipeline with at least two complete checkpoints (and its twin
/// whose newest checkpoint's state files are split in many segments).
struct Base {
    scenario: Scenario,
    out: PathBuf,
    /// Checkpoints as the run wrote them.
    ckpt: PathBuf,
    /// The same, the newest checkpoint's state files rewritten in segments of ≤ 256 bytes.
    split: PathBuf,
    fingerprint: u64,
    /// The newest checkpoint's id and sections, and the older one's id.
    newest: u64,
    sections: Sections,
    older: u64,
}

fn base() -> &'static Base {
    static BASE: OnceLock<Base> = OnceLock::new();
    BASE.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("checkpoint_fuzz-base");
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("mkdir");
        let scenario = Scenario::in_dir(dir, "count");
        scenario.generate(100_000, 1_000);
        let (out, ckpt) = (scenario.path("out"), scenario.path("ckpt"));
        kill_after_checkpoints(
            scenario
                .ckpt_cmd(&out, &ckpt, "20ms", 2)
                .args(["--checkpoint-retain", "10"]),
            &ckpt,
            2,
        );
        let ids = complete_ids(&ckpt);
        let (newest, older) = (ids[ids.len() - 1], ids[ids.len() - 2]);
        let fingerprint = read_manifest(&chk(&ckpt, newest))["fingerprint"]
            .as_u64()
            .expect("fingerprint");
        let sections = read_sections(&ckpt, newest, fingerprint).expect("a good checkpoint");
        let split = scenario.path("split");
        copy_dir(&ckpt, &split);
        resegment(&chk(&split, newest), fingerprint, 256);
        assert_eq!(
            read_sections(&split, newest, fingerprint).expect("split checkpoint"),
            sections
        );
        Base {
            scenario,
            out,
            ckpt,
            split,
            fingerprint,
            newest,
            sections,
            older,
        }
    })
}

/// Loads checkpoint `id` of `ckpt` and reads all its sections through the library.
fn read_sections(ckpt: &Path, id: u64, fingerprint: u64) -> weir::Result<Sections> {
    let store = CheckpointStore::open(ckpt)?;
    let restored = store.load(&chk(ckpt, id), fingerprint)?;
    let max = restored.manifest.max_parallelism;
    let mut out = Vec::new();
    restored.sections(0..max, |kg, name, bytes| {
        out.push((kg, name.to_string(), bytes.to_vec()));
        Ok(())
    })?;
    Ok(out)
}

/// Rewrites every state file of `chk` in segments of at most `limit` bytes (library API),
/// recording the new lengths and checksums in its MANIFEST.
fn resegment(chk: &Path, fingerprint: u64, limit: u64) {
    let manifest = read_manifest(chk);
    let id = manifest["id"].as_u64().expect("id");
    let files = manifest["files"].as_array().expect("files").clone();
    let ckpt = chk.parent().expect("parent");
    let restored = CheckpointStore::open(ckpt)
        .and_then(|s| s.load(chk, fingerprint))
        .expect("load");
    let scratch = tempfile::tempdir().expect("tempdir");
    let store = CheckpointStore::open(scratch.path()).expect("open scratch");
    store.set_segment_limit(limit);
    for (i, entry) in files.iter().enumerate() {
        let range = entry["key_groups"]["start"].as_u64().expect("start") as u16
            ..entry["key_groups"]["end"].as_u64().expect("end") as u16;
        let mut groups: Vec<GroupSnapshot> = Vec::new();
        restored
            .sections(range.clone(), |kg, name, bytes| {
                if groups.last().is_none_or(|g| g.key_group != kg) {
                    groups.push(GroupSnapshot {
                        key_group: kg,
                        states: Vec::new(),
                    });
                }
                if let Some(g) = groups.last_mut() {
                    g.states.push(StateSnapshot {
                        name: name.into(),
                        entries: 1,
                        bytes: bytes.to_vec(),
                    });
                }
                Ok(())
            })
            .expect("sections");
        let snapshot = WorkerSnapshot {
            worker: i as u32,
            key_groups: range,
            groups,
        };
        let written = store.write_worker_state(id, &snapshot).expect("write");
        let name = entry["name"].as_str().expect("name").to_string();
        fs::copy(
            store.checkpoint_path(id).join(&written.name),
            chk.join(&name),
        )
        .expect("copy");
        edit_manifest(chk, true, |m| {
            m["files"][i]["len"] = written.len.into();
            m["files"][i]["checksum"] = written.checksum.into();
        });
    }
    drop(restored);
}

/// Where in a file a damage lands.
#[derive(Clone, Copy, Debug)]
enum Class {
    /// The state file's 32-byte header.
    Header,
    /// The first segment's 16-byte header.
    SegmentHeader,
    /// Inside the archives.
    Body,
    /// The last 64 bytes (rkyv's root).
    Tail,
    /// Anywhere.
    Anywhere,
}

/// A damage to one file.
#[derive(Clone, Debug)]
enum Damage {
    Flip(Class, prop::sample::Index, u8),
    Truncate(Class, prop::sample::Index),
    Append(Vec<u8>),
    Zero16(Class, prop::sample::Index),
}

fn class() -> impl Strategy<Value = Class> {
    prop_oneof![
        Just(Class::Header),
        Just(Class::SegmentHeader),
        Just(Class::Body),
        Just(Class::Tail),
        Just(Class::Anywhere),
    ]
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        4 => (class(), any::<prop::sample::Index>(), 1u8..=255).prop_map(|(c, i, x)| Damage::Flip(c, i, x)),
        2 => (class(), any::<prop::sample::Index>()).prop_map(|(c, i)| Damage::Truncate(c, i)),
        1 => prop::collection::vec(any::<u8>(), 1..64).prop_map(Damage::Append),
        1 => (class(), any::<prop::sample::Index>()).prop_map(|(c, i)| Damage::Zero16(c, i)),
    ]
}

/// An offset of class `class` in a file of `len` bytes.
fn offset(class: Class, at: &prop::sample::Index, len: usize) -> usize {
    let (start, end) = match class {
        Class::Header => (0, 32),
        Class::SegmentHeader => (32, 48),
        Class::Body => (48, len.saturating_sub(64)),
        Class::Tail => (len.saturating_sub(64), len),
        Class::Anywhere => (0, len),
    };
    let (start, end) = (start.min(len), end.min(len));
    if end <= start {
        return start.min(len.saturating_sub(1));
    }
    start + at.index(end - start)
}

/// Applies `damage` to `file`.
fn apply(file: &Path, damage: &Damage) {
    let mut bytes = fs::read(file).expect("read");
    let len = bytes.len();
    match damage {
        Damage::Flip(c, at, x) => bytes[offset(*c, at, len)] ^= x,
        Damage::Truncate(c, at) => bytes.truncate(offset(*c, at, len)),
        Damage::Append(extra) => bytes.extend_from_slice(extra),
        Damage::Zero16(c, at) => {
            let i = offset(*c, at, len);
            let end = (i + 16).min(len);
            bytes[i..end].iter_mut().for_each(|b| *b = 0);
        }
    }
    fs::write(file, bytes).expect("write");
}

/// Which file of the newest checkpoint to damage.
fn target() -> impl Strategy<Value = &'static str> {
    prop_oneof![Just("MANIFEST"), Just("w0.state"), Just("w1.state")]
}

/// The path named by a checkpoint error with a reason, or a failure for any other error.
fn named_path(e: &Error) -> Result<PathBuf, TestCaseError> {
    match e {
        Error::Checkpoint { path, reason } if !reason.is_empty() => Ok(path.clone()),
        Error::CheckpointState { path, .. } => Ok(path.clone()),
        other => Err(TestCaseError::fail(format!(
            "not a checkpoint error: {other:?}"
        ))),
    }
}

/// Damages a private copy of `source`'s newest checkpoint and checks the properties of the
/// library reader.
fn check_library(
    source: &Path,
    file: &str,
    damage: &Damage,
    fix_crc: bool,
) -> Result<(), TestCaseError> {
    let b = base();
    let tmp = tempfile::tempdir().expect("tempdir");
    let ckpt = tmp.path().join("ckpt");
    copy_dir(source, &ckpt);
    let newest = chk(&ckpt, b.newest);
    let path = newest.join(file);
    apply(&path, damage);
    if fix_crc && file != "MANIFEST" {
        let bytes = fs::read(&path).expect("read");
        let index = read_manifest(&newest)["files"]
            .as_array()
            .and_then(|f| f.iter().position(|e| e["name"] == file))
            .expect("listed");
        edit_manifest(&newest, true, |m| {
            m["files"][index]["len"] = (bytes.len() as u64).into();
            m["files"][index]["checksum"] = crc32fast::hash(&bytes).into();
        });
    }
    match read_sections(&ckpt, b.newest, b.fingerprint) {
        Ok(got) => {
            // Undetected only when the damage changed nothing that matters, or (with a
            // recomputed checksum) into another valid archive.
            if !fix_crc {
                prop_assert_eq!(
                    &got,
                    &b.sections,
                    "a damaged checkpoint read back differently"
                );
            }
        }
        Err(e) => {
            let named = named_path(&e)?;
            prop_assert_eq!(
                named,
                path.clone(),
                "the error names the damaged file: {}",
                e
            );
        }
    }
    // `--restore latest` semantics in the library: the newest if it is usable, else the older.
    let store = CheckpointStore::open(&ckpt).expect("open");
    let latest = store
        .load_latest(b.fingerprint)
        .expect("falls back")
        .expect("one");
    let id = latest.manifest.id;
    prop_assert!(id == b.newest || id == b.older, "restored {id}");
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn damaged_real_checkpoints_are_rejected_or_unchanged(
        file in target(),
        damage in damage(),
        split in any::<bool>(),
    ) {
        let b = base();
        let source = if split { &b.split } else { &b.ckpt };
        check_library(source, file, &damage, false)?;
    }

    #[test]
    fn damaged_archives_with_valid_checksums_never_panic(
        file in prop_oneof![Just("w0.state"), Just("w1.state")],
        damage in damage(),
        split in any::<bool>(),
    ) {
        let b = base();
        let source = if split { &b.split } else { &b.ckpt };
        check_library(source, file, &damage, true)?;
    }
}

proptest! {
    // Each case runs the binary twice: few cases.
    #![proptest_config(ProptestConfig::with_cases(6))]

    /// Through the binary: the damaged newest checkpoint is skipped for the older one (exit
    /// 0, output exactly once) or, when it is the only one, refused with exit 78 naming the
    /// file — never exit 1 or a panic.
    #[test]
    fn the_binary_falls_back_or_exits_78(
        file in target(),
        damage in damage(),
        fix_crc in any::<bool>(),
        split in any::<bool>(),
    ) {
        let b = base();
        let source = if split { &b.split } else { &b.ckpt };
        for only_newest in [false, true] {
            let tmp = tempfile::tempdir().expect("tempdir");
            let (out, ckpt) = (tmp.path().join("out"), tmp.path().join("ckpt"));
            copy_dir(&b.out, &out);
            copy_dir(source, &ckpt);
            if only_newest {
                for id in complete_ids(&ckpt) {
                    if id != b.newest {
                        fs::remove_dir_all(chk(&ckpt, id)).expect("rm");
                    }
                }
            }
            let newest = chk(&ckpt, b.newest);
            let path = newest.join(file);
            apply(&path, &damage);
            if fix_crc && file != "MANIFEST" {
                let bytes = fs::read(&path).expect("read");
                let index = read_manifest(&newest)["files"]
                    .as_array()
                    .and_then(|f| f.iter().position(|e| e["name"] == file))
                    .expect("listed");
                edit_manifest(&newest, true, |m| {
                    m["files"][index]["len"] = (bytes.len() as u64).into();
                    m["files"][index]["checksum"] = crc32fast::hash(&bytes).into();
                });
            }
            let done = output(
                b.scenario
                    .ckpt_cmd(&out, &ckpt, "20ms", 2)
                    .args(["--restore", "latest"]),
            );
            let code = done.status.code();
            let err = stderr(&done);
            prop_assert!(!err.contains("panicked"), "{}", err);
            match code {
                Some(0) => {}
                Some(78) => prop_assert!(
                    err.contains(&path.display().to_string()),
                    "exit 78 names {}: {}", path.display(), err
                ),
                other => prop_assert!(false, "exit {:?}: {}", other, err),
            }
            if only_newest && code == Some(0) {
                prop_assert!(err.contains(&format!("restored_from={}", b.newest)), "{}", err);
            }
        }
    }
}

/// A MANIFEST edit with a recomputed checksum: a field set to a hostile value.
fn manifest_edit() -> impl Strategy<Value = (&'static str, u64)> {
    let value = prop_oneof![
        Just(0u64),
        Just(1),
        Just(3),
        Just(127),
        Just(u64::from(u16::MAX)),
        Just(u64::from(u32::MAX)),
        Just(i64::MAX as u64),
        Just(u64::MAX),
        any::<u64>(),
    ];
    let field = prop_oneof![
        Just("max_parallelism"),
        Just("workers"),
        Just("sink_epoch"),
        Just("dead_letter_len"),
        Just("files.0.len"),
        Just("files.0.key_groups.end"),
        Just("files.1.key_groups.start"),
        Just("sources.0.0.next"),
        Just("sources.0.0.end"),
        Just("sources.1.0.line"),
        Just("created_ms"),
    ];
    (field, value)
}

/// Sets the dotted `field` of a MANIFEST body (numbers as array indices) to `value`.
fn set_field(m: &mut serde_json::Value, field: &str, value: u64) {
    let mut cur = m;
    for step in field.split('.') {
        cur = match step.parse::<usize>() {
            Ok(i) => &mut cur[i],
            Err(_) => &mut cur[step],
        };
    }
    *cur = value.into();
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    /// Through the binary: a MANIFEST whose fields hold hostile values (checksum valid) is
    /// restored, skipped or refused (exit 0, 78, or 74 for an I/O refusal) — never exit 1 or
    /// a panic.
    #[test]
    fn hostile_manifest_values_never_panic((field, value) in manifest_edit()) {
        let b = base();
        let tmp = tempfile::tempdir().expect("tempdir");
        let (out, ckpt) = (tmp.path().join("out"), tmp.path().join("ckpt"));
        copy_dir(&b.out, &out);
        copy_dir(&b.ckpt, &ckpt);
        edit_manifest(&chk(&ckpt, b.newest), true, |m| set_field(m, field, value));
        let done = output(
            b.scenario
                .ckpt_cmd(&out, &ckpt, "20ms", 2)
                .args(["--restore", "latest"]),
        );
        let err = stderr(&done);
        prop_assert!(!err.contains("panicked"), "{}", err);
        prop_assert!(
            matches!(done.status.code(), Some(0 | 74 | 78)),
            "exit {:?}: {}", done.status.code(), err
        );
    }
}
