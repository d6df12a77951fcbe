//! Lazily validated restores of the mmap backend with the real binary: a byte flipped in one
//! key group of a run file of the newest checkpoint is found after the restore started — by
//! the first record that touches the group (an eagerly touched group), or before the first
//! checkpoint / by the validator thread (a group no record touches after the restore) — and
//! `--restore latest` then quarantines that checkpoint and falls back to the previous one; so
//! it does for a run file whose directory is damaged (found when it is mapped).
//! The oracle is a clean run without checkpoints: the output must equal it line for line.
//!
//! The input has two parts: keys 0..400, then only keys 0..50. The run is killed once a
//! checkpoint past the first part is committed, so keys 50..400 are never touched after the
//! restore; which key group a key is in comes from the documented key-group hash.

mod checkpoint_support;

use checkpoint_support::*;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use weir::record::key_hash::stable_hash_values;
use weir::record::Value;
use weir::state::key_group::key_group_of_hash;

const EARLY_LINES: u64 = 20_000;
const LATE_LINES: u64 = 400_000;
const ALL_KEYS: i64 = 400;
const LATE_KEYS: i64 = 50;
const MMAP: [&str; 2] = ["--state-backend", "mmap"];

struct Base {
    scenario: Scenario,
    want: Vec<String>,
    out: PathBuf,
    ckpt: PathBuf,
}

fn key_group(key: i64) -> u16 {
    key_group_of_hash(stable_hash_values(&[Value::I64(key)]), 128)
}

/// Writes the two-part input; returns the byte offset where the second part starts.
fn write_input(path: &Path) -> u64 {
    let mut text = String::from("key,value,ts\n");
    for i in 0..EARLY_LINES {
        text.push_str(&format!("{},{i},0\n", i as i64 % ALL_KEYS));
    }
    let boundary = text.len() as u64;
    for i in 0..LATE_LINES {
        text.push_str(&format!("{},{i},0\n", i as i64 % LATE_KEYS));
    }
    fs::write(path, text).expect("write input");
    boundary
}

/// The resume offset of the single source split of a checkpoint (`None` while unreadable).
fn resume_offset(chk: &Path) -> Option<u64> {
    let text = fs::read_to_string(chk.join("MANIFEST")).ok()?;
    let body = &text[..text.trim_end().rfind('\n')?];
    let m: serde_json::Value = serde_json::from_str(body).ok()?;
    m["sources"][0][0]["next"].as_u64()
}

fn base() -> &'static Base {
    static BASE: OnceLock<Base> = OnceLock::new();
    BASE.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("checkpoint_lazy_restore-base");
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("mkdir");
        let scenario = Scenario::in_dir(dir, "count");
        let boundary = write_input(&scenario.input);
        let want = scenario.reference(1);
        let (out, ckpt) = (scenario.path("out"), scenario.path("ckpt"));
        let mut child = scenario
            .ckpt_cmd(&out, &ckpt, "20ms", 1)
            .args(MMAP)
            .args(["--checkpoint-retain", "1000"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn weir");
        let deadline = Instant::now() + Duration::from_secs(300);
        loop {
            assert!(
                child.try_wait().expect("try_wait").is_none(),
                "weir ended before a checkpoint past the first part"
            );
            assert!(
                Instant::now() < deadline,
                "no checkpoint past the first part"
            );
            let ids = complete_ids(&ckpt);
            let past = ids
                .last()
                .and_then(|&id| resume_offset(&chk(&ckpt, id)))
                .is_some_and(|next| next > boundary);
            if ids.len() >= 2 && past {
                break;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        child.kill().expect("kill -9");
        let _ = child.wait();
        assert!(!finished_exists(&ckpt), "use more input");
        Base {
            scenario,
            want,
            out,
            ckpt,
        }
    })
}

/// Flips a byte in the middle of key group `g`'s data in every run file of checkpoint `chk`
/// that holds entries of `g`, each in a copy (the link to the inode older checkpoints share
/// is broken first). Returns the files damaged.
fn damage_group(chk: &Path, g: u16) -> Vec<PathBuf> {
    let mut damaged = Vec::new();
    for entry in fs::read_dir(chk).expect("read_dir") {
        let path = entry.expect("entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("wr") {
            continue;
        }
        let mut b = fs::read(&path).expect("read run");
        // Directory record of group g (the single worker's runs cover groups 0..128).
        let at = 32 + 40 * g as usize;
        let u = |o: usize| u64::from_le_bytes(b[at + o..at + o + 8].try_into().unwrap()) as usize;
        let (data, len) = (u(16), u(24));
        if len == 0 {
            continue;
        }
        b[data + len / 2] ^= 0x5a;
        fs::remove_file(&path).expect("unlink");
        fs::write(&path, &b).expect("write run");
        damaged.push(path);
    }
    damaged
}

/// A private copy of the base run's output and checkpoints: its directory, the output and
/// checkpoint directories, and the ids of the newest checkpoint and the one before it.
fn copy_of_base() -> (tempfile::TempDir, PathBuf, PathBuf, u64, u64) {
    let b = base();
    let tmp = tempfile::tempdir().expect("tempdir");
    let (out, ckpt) = (tmp.path().join("out"), tmp.path().join("ckpt"));
    copy_dir(&b.out, &out);
    copy_dir(&b.ckpt, &ckpt);
    let ids = complete_ids(&ckpt);
    let (newest, previous) = (ids[ids.len() - 1], ids[ids.len() - 2]);
    (tmp, out, ckpt, newest, previous)
}

/// Damages group `g` of the newest checkpoint of a copy of the base run, restores with
/// `--restore latest` (`env` set) and checks the fallback and the output; returns stderr.
fn restore_with_damaged_group(g: u16, env: &[(&str, &str)]) -> String {
    let b = base();
    let (_tmp, out, ckpt, newest, previous) = copy_of_base();
    let damaged = damage_group(&chk(&ckpt, newest), g);
    assert!(!damaged.is_empty(), "group {g} has entries in a run file");
    let mut cmd = b.scenario.ckpt_cmd(&out, &ckpt, "1s", 1);
    cmd.args(MMAP).args(["--restore", "latest"]);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let done = output(&mut cmd);
    assert_exit(&done, 0);
    let err = stderr(&done);
    assert!(err.contains("checksum mismatch"), "{err}");
    assert!(err.contains(&format!("key group {g}")), "{err}");
    assert!(
        damaged
            .iter()
            .any(|f| err.contains(&f.display().to_string())),
        "names the file: {err}"
    );
    assert!(
        err.contains("falling back to the previous checkpoint"),
        "{err}"
    );
    assert!(err.contains("quarantined"), "{err}");
    assert!(err.contains(&format!("restored_from={previous}")), "{err}");
    assert_same_output(&committed(&out), &b.want, "after the fallback");
    assert_eq!(hidden(&out), Vec::<String>::new());
    // Discarded by the run that fell back (its own checkpoints may reuse the id after it).
    assert!(
        damaged.iter().all(|f| !f.exists()) && !chk(&ckpt, newest).join("QUARANTINED").exists(),
        "the quarantined checkpoint is discarded by the run that fell back: {err}"
    );
    assert!(!err.contains("did not write"), "{err}");
    err
}

/// The group of the first record after the restore point.
fn eager_group() -> u16 {
    let b = base();
    let ids = complete_ids(&b.ckpt);
    let next = resume_offset(&chk(&b.ckpt, ids[ids.len() - 1])).expect("offset") as usize;
    let input = fs::read_to_string(&b.scenario.input).expect("input");
    let key: i64 = input[next..]
        .split(',')
        .next()
        .and_then(|k| k.parse().ok())
        .expect("a key at the resume offset");
    key_group(key)
}

/// A group holding keys of the first part only (never touched after the restore).
fn late_group() -> u16 {
    let touched: Vec<u16> = (0..LATE_KEYS).map(key_group).collect();
    (LATE_KEYS..ALL_KEYS)
        .map(key_group)
        .find(|g| !touched.contains(g))
        .expect("a group of early keys only")
}

#[test]
fn damaged_group_touched_by_the_first_record_falls_back() {
    let err = restore_with_damaged_group(eager_group(), &[("WEIR_LAZY_VALIDATOR", "0")]);
    assert!(err.contains("found on first access"), "{err}");
}

#[test]
fn damaged_group_no_record_touches_falls_back_before_the_first_checkpoint() {
    let err = restore_with_damaged_group(late_group(), &[("WEIR_LAZY_VALIDATOR", "0")]);
    assert!(err.contains("found before the first checkpoint"), "{err}");
}

#[test]
fn damaged_group_no_record_touches_is_found_with_the_validator_on() {
    restore_with_damaged_group(late_group(), &[]);
}

#[test]
fn damaged_run_directory_falls_back_too() {
    let b = base();
    let (_tmp, out, ckpt, newest, previous) = copy_of_base();
    let run = fs::read_dir(chk(&ckpt, newest))
        .expect("read_dir")
        .map(|e| e.expect("entry").path())
        .find(|p| p.extension().and_then(|e| e.to_str()) == Some("wr"))
        .expect("a run file");
    let mut bytes = fs::read(&run).expect("read run");
    bytes[32 + 40 * 3 + 33] ^= 0x5a; // group 3's checksum field: the directory's CRC fails
    fs::remove_file(&run).expect("unlink");
    fs::write(&run, &bytes).expect("write run");
    let done = output(
        b.scenario
            .ckpt_cmd(&out, &ckpt, "1s", 1)
            .args(MMAP)
            .args(["--restore", "latest"]),
    );
    assert_exit(&done, 0);
    let err = stderr(&done);
    assert!(err.contains("directory checksum"), "{err}");
    assert!(
        err.contains(&run.display().to_string()),
        "names the file: {err}"
    );
    assert!(
        err.contains("falling back to the previous checkpoint"),
        "{err}"
    );
    assert!(err.contains(&format!("restored_from={previous}")), "{err}");
    assert_same_output(&committed(&out), &b.want, "after the fallback");
    assert_eq!(hidden(&out), Vec::<String>::new());
}
