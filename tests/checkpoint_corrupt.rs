//! Damaged checkpoints: each damage is rejected with exit 78 and a message naming the file
//! and the reason when it is the only checkpoint (and when named by `--restore PATH`); with
//! an older good checkpoint present, `--restore latest` falls back to it, says so, and the
//! output is still exactly-once.

mod checkpoint_support;

use checkpoint_support::*;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// A crashed run of the count pipeline with at least three complete checkpoints, its clean
/// reference output, and a killed run of the max pipeline (another fingerprint). Built once
/// per test binary in a fixed directory under the target dir (replaced on each run).
struct Base {
    scenario: Scenario,
    want: Vec<String>,
    /// The count run's output and checkpoint directories.
    out: PathBuf,
    ckpt: PathBuf,
    /// The max run's checkpoint directory.
    other_ckpt: PathBuf,
}

fn base() -> &'static Base {
    static BASE: OnceLock<Base> = OnceLock::new();
    BASE.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("checkpoint_corrupt-base");
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("mkdir");
        let scenario = Scenario::in_dir(dir, "count");
        scenario.generate(300_000, 1_000);
        let want = scenario.reference(2);
        let (out, ckpt) = (scenario.path("out"), scenario.path("ckpt"));
        crash_after_checkpoint(
            scenario
                .ckpt_cmd(&out, &ckpt, "20ms", 2)
                .args(["--checkpoint-retain", "10"]),
            &ckpt,
            3,
        );
        let mut max = Scenario::in_dir(scenario.dir.clone(), "max");
        max.input = scenario.input.clone();
        let other_ckpt = scenario.path("other-ckpt");
        crash_after_checkpoint(
            &mut max.ckpt_cmd(&scenario.path("other-out"), &other_ckpt, "20ms", 2),
            &other_ckpt,
            1,
        );
        Base {
            scenario,
            want,
            out,
            ckpt,
            other_ckpt,
        }
    })
}

/// A private copy of the base run's output and checkpoints.
struct Case {
    _tmp: tempfile::TempDir,
    out: PathBuf,
    ckpt: PathBuf,
}

impl Case {
    fn new() -> Case {
        let b = base();
        let tmp = tempfile::tempdir().expect("tempdir");
        let (out, ckpt) = (tmp.path().join("out"), tmp.path().join("ckpt"));
        copy_dir(&b.out, &out);
        copy_dir(&b.ckpt, &ckpt);
        Case {
            _tmp: tmp,
            out,
            ckpt,
        }
    }

    /// Deletes every complete checkpoint but the newest; returns the newest's directory.
    fn only_newest(&self) -> PathBuf {
        let ids = complete_ids(&self.ckpt);
        let (&newest, older) = ids.split_last().expect("a checkpoint");
        for &id in older {
            fs::remove_dir_all(chk(&self.ckpt, id)).expect("rm");
        }
        chk(&self.ckpt, newest)
    }

    /// The newest and the one before it.
    fn newest_two(&self) -> (PathBuf, u64) {
        let ids = complete_ids(&self.ckpt);
        assert!(ids.len() >= 2, "{ids:?}");
        (chk(&self.ckpt, ids[ids.len() - 1]), ids[ids.len() - 2])
    }

    fn restore(&self, from: &str) -> std::process::Output {
        let b = base();
        output(
            b.scenario
                .ckpt_cmd(&self.out, &self.ckpt, "20ms", 2)
                .args(["--restore", from]),
        )
    }
}

/// Damages the newest checkpoint with `damage` (returning the damaged file) and checks:
/// 1. as the only checkpoint, `--restore latest` exits 78 naming the file and `reason`;
/// 2. named by path, it is rejected the same way even with older checkpoints present;
/// 3. with an older good checkpoint, `--restore latest` falls back to it (logged, naming the
///    file and reason) and the output equals the clean run's.
fn check_damage(reason: &str, damage: impl Fn(&Path) -> PathBuf) {
    let b = base();

    let only = Case::new();
    let file = damage(&only.only_newest());
    let done = only.restore("latest");
    assert_exit(&done, EXIT_CHECKPOINT);
    let err = stderr(&done);
    assert!(
        err.contains(&file.display().to_string()),
        "names {}: {err}",
        file.display()
    );
    assert!(err.contains(reason), "says {reason:?}: {err}");

    let by_path = Case::new();
    let (newest, _) = by_path.newest_two();
    let file = damage(&newest);
    let done = by_path.restore(&newest.display().to_string());
    assert_exit(&done, EXIT_CHECKPOINT);
    let err = stderr(&done);
    assert!(
        err.contains(&file.display().to_string()) && err.contains(reason),
        "{err}"
    );

    let fallback = Case::new();
    let (newest, older) = fallback.newest_two();
    let file = damage(&newest);
    let done = fallback.restore("latest");
    assert_exit(&done, 0);
    let err = stderr(&done);
    assert!(err.contains("skipping unusable checkpoint"), "{err}");
    assert!(
        err.contains(&file.display().to_string()) && err.contains(reason),
        "{err}"
    );
    assert!(
        err.contains(&format!("restored_from={older}")),
        "falls back to {older}: {err}"
    );
    assert_same_output(&committed(&fallback.out), &b.want, "after falling back");
    assert_eq!(hidden(&fallback.out), Vec::<String>::new());
}

#[test]
fn truncated_state_file() {
    check_damage("truncated or resized", |chk| {
        let file = chk.join("w0.state");
        let len = fs::metadata(&file).expect("stat").len();
        fs::OpenOptions::new()
            .write(true)
            .open(&file)
            .and_then(|f| f.set_len(len / 2))
            .expect("truncate");
        file
    });
}

#[test]
fn flipped_byte_in_state_file() {
    check_damage("checksum mismatch", |chk| {
        let file = chk.join("w1.state");
        let len = fs::metadata(&file).expect("stat").len() as i64;
        flip_byte(&file, len / 2);
        file
    });
}

#[test]
fn deleted_state_file() {
    check_damage("missing: listed in MANIFEST but not on disk", |chk| {
        let file = chk.join("w0.state");
        fs::remove_file(&file).expect("rm");
        file
    });
}

#[test]
fn flipped_byte_in_manifest() {
    check_damage("checksum mismatch", |chk| {
        let file = chk.join("MANIFEST");
        // Inside the JSON body (`{\n  "format_version": ...`).
        flip_byte(&file, 10);
        file
    });
}

/// format_version 99 with the checksum line recomputed: rejected as a newer format.
#[test]
fn newer_format_version_with_valid_checksum() {
    let reason = format!(
        "format version 99 is newer than this weir's {}",
        weir::checkpoint::FORMAT_VERSION
    );
    check_damage(&reason, |chk| {
        edit_manifest(chk, true, |m| m["format_version"] = 99.into());
        chk.join("MANIFEST")
    });
}

/// format_version 99 with the old checksum line kept: rejected by the checksum.
#[test]
fn newer_format_version_with_stale_checksum() {
    check_damage("checksum mismatch", |chk| {
        edit_manifest(chk, false, |m| m["format_version"] = 99.into());
        chk.join("MANIFEST")
    });
}

/// The newest checkpoint is replaced by one of the max pipeline (same schema, another op),
/// renumbered to the same id (MANIFEST id edited, checksum recomputed).
#[test]
fn checkpoint_of_another_pipeline() {
    check_damage("checkpoint of another pipeline", |chk| {
        let b = base();
        let other = *complete_ids(&b.other_ckpt)
            .last()
            .expect("a max checkpoint");
        let id: u64 = chk
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_prefix("chk-"))
            .and_then(|d| d.parse().ok())
            .expect("checkpoint id");
        fs::remove_dir_all(chk).expect("rm");
        copy_dir(&checkpoint_support::chk(&b.other_ckpt, other), chk);
        edit_manifest(chk, true, |m| m["id"] = id.into());
        chk.join("MANIFEST")
    });
}

/// Rewrites worker 0's state file of `chk` with `edit` applied to its sections (read and
/// written through the library's checkpoint API), then records the new file's length and
/// checksum in the MANIFEST: every checksum verifies, only the state sections are wrong.
fn rewrite_sections(chk: &Path, edit: impl Fn(&mut Vec<(u16, String, Vec<u8>)>)) -> PathBuf {
    use weir::checkpoint::{CheckpointStore, GroupSnapshot, StateSnapshot, WorkerSnapshot};
    let manifest = read_manifest(chk);
    let fingerprint = manifest["fingerprint"].as_u64().expect("fingerprint");
    let index = manifest["files"]
        .as_array()
        .and_then(|f| f.iter().position(|e| e["name"] == "w0.state"))
        .expect("w0.state listed");
    let entry = &manifest["files"][index];
    let range = entry["key_groups"]["start"].as_u64().expect("start") as u16
        ..entry["key_groups"]["end"].as_u64().expect("end") as u16;
    let ckpt = chk.parent().expect("checkpoint dir");
    let mut sections = Vec::new();
    {
        let store = CheckpointStore::open(ckpt).expect("open store");
        let restored = store.load(chk, fingerprint).expect("a good checkpoint");
        restored
            .sections(range.clone(), |kg, name, bytes| {
                sections.push((kg, name.to_string(), bytes.to_vec()));
                Ok(())
            })
            .expect("sections");
    }
    assert!(!sections.is_empty(), "worker 0 holds state");
    edit(&mut sections);
    let mut groups: Vec<GroupSnapshot> = Vec::new();
    for (kg, name, bytes) in sections {
        if groups.last().is_none_or(|g| g.key_group != kg) {
            groups.push(GroupSnapshot {
                key_group: kg,
                states: Vec::new(),
            });
        }
        let states = &mut groups.last_mut().expect("a group").states;
        states.push(StateSnapshot {
            name,
            entries: 1,
            bytes,
        });
    }
    let snapshot = WorkerSnapshot {
        worker: 0,
        key_groups: range,
        groups,
    };
    let scratch = tempfile::tempdir().expect("tempdir");
    let id = manifest["id"].as_u64().expect("id");
    let written = CheckpointStore::open(scratch.path())
        .and_then(|s| s.write_worker_state(id, &snapshot))
        .expect("write state file");
    let file = chk.join("w0.state");
    fs::copy(
        scratch
            .path()
            .join(format!("chk-{id:010}"))
            .join("w0.state"),
        &file,
    )
    .expect("copy state file");
    edit_manifest(chk, true, |m| {
        m["files"][index]["len"] = written.len.into();
        m["files"][index]["checksum"] = written.checksum.into();
    });
    file
}

/// A state section named after a state the pipeline does not have (checksums valid): exit
/// 78 naming the file, or a fallback to the older checkpoint — never exit 1.
#[test]
fn state_section_of_an_unknown_state() {
    check_damage("this pipeline has no state of that name", |chk| {
        rewrite_sections(chk, |sections| sections[0].1 = "no_such_state".into())
    });
}

/// A state section whose bytes do not decode (checksums valid): exit 78 naming the file and
/// the codec error, or a fallback to the older checkpoint.
#[test]
fn state_section_that_does_not_decode() {
    check_damage("cannot decode: truncated state bytes", |chk| {
        rewrite_sections(chk, |sections| {
            let bytes = &mut sections[0].2;
            bytes.pop();
        })
    });
}

/// A state section with an invalid tag byte (checksums valid).
#[test]
fn state_section_with_an_invalid_tag() {
    check_damage("invalid state bytes: section tag", |chk| {
        rewrite_sections(chk, |sections| sections[0].2[0] = 0x7f)
    });
}
