//! Incremental checkpoints of the mmap backend with the real binary: run files shared between
//! checkpoints by hard links, retention at random settings under kill -9, restores from
//! shared files, and `weir inspect`'s new and shared bytes. The oracle is a clean run
//! without checkpoints.

mod checkpoint_support;

use checkpoint_support::*;
use std::path::Path;

/// The run files a checkpoint's MANIFEST lists: `(name, len, new)`.
fn run_files(chk: &Path) -> Vec<(String, u64, bool)> {
    let m = read_manifest(chk);
    let mut out = Vec::new();
    for set in m["runs"].as_array().into_iter().flatten() {
        for f in set["files"].as_array().into_iter().flatten() {
            out.push((
                f["name"].as_str().expect("name").to_string(),
                f["len"].as_u64().expect("len"),
                f["new"].as_bool().expect("new"),
            ));
        }
    }
    out
}

/// Every complete checkpoint in `ckpt` has every run file its MANIFEST lists, at its length.
fn assert_retained_complete(ckpt: &Path, what: &str) {
    for id in complete_ids(ckpt) {
        let dir = chk(ckpt, id);
        for (name, len, _) in run_files(&dir) {
            let meta = std::fs::metadata(dir.join(&name))
                .unwrap_or_else(|e| panic!("{what}: checkpoint {id} lost {name}: {e}"));
            assert_eq!(meta.len(), len, "{what}: checkpoint {id}: {name}");
        }
    }
}

/// xorshift64: the test's own random retain settings, reproducible from the seed.
fn next(x: &mut u64) -> u64 {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    *x
}

/// Rounds of kill -9 after a few checkpoints, each with a random `--checkpoint-retain`, each
/// restoring the previous round's latest checkpoint; every retained checkpoint keeps all its
/// files, and the last round's output is exactly once.
/// 1.6M records: four rounds of restore-and-kill each need input left for two checkpoints.
#[test]
fn random_retention_under_kill_keeps_every_needed_run_file() {
    let s = Scenario::new("count", 1_600_000, 2_000);
    let want = s.reference(2);
    let (out, ckpt) = (s.path("out"), s.path("ckpt"));
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    let mut shared_seen = false;
    for round in 0..4 {
        let retain = (1 + next(&mut rng) % 4).to_string();
        let workers = 1 + (next(&mut rng) % 2) as usize;
        let mut cmd = s.ckpt_cmd(&out, &ckpt, "15ms", workers);
        cmd.args(["--state-backend", "mmap", "--checkpoint-retain", &retain]);
        if round > 0 {
            cmd.args(["--restore", "latest"]);
        }
        kill_after_checkpoints(&mut cmd, &ckpt, 2);
        let what = format!("round {round} (retain {retain}, {workers} workers)");
        assert_retained_complete(&ckpt, &what);
        assert_sub_multiset(&committed(&out), &want, &what);
        shared_seen |= complete_ids(&ckpt)
            .iter()
            .any(|&id| run_files(&chk(&ckpt, id)).iter().any(|f| !f.2));
    }
    assert!(
        shared_seen,
        "some checkpoint shares run files with an earlier one"
    );
    let done = output(s.ckpt_cmd(&out, &ckpt, "15ms", 2).args([
        "--state-backend",
        "mmap",
        "--restore",
        "latest",
    ]));
    assert_exit(&done, 0);
    assert_same_output(&committed(&out), &want, "after the rounds");
}

/// A checkpoint of the mmap backend restores into the heap backend (run files decoded).
#[test]
fn mmap_checkpoint_restores_into_heap() {
    let s = Scenario::new("count", 200_000, 1_000);
    let want = s.reference(1);
    let (out, ckpt) = (s.path("out"), s.path("ckpt"));
    let mut cmd = s.ckpt_cmd(&out, &ckpt, "20ms", 2);
    // The third checkpoint, not the first: on a busy machine the first may come before any
    // record reached the state (no run files to restore from).
    crash_after_checkpoint(cmd.args(["--state-backend", "mmap"]), &ckpt, 3);
    let latest = *complete_ids(&ckpt).last().expect("a checkpoint");
    assert!(
        !run_files(&chk(&ckpt, latest)).is_empty(),
        "state as run files"
    );
    let done = output(s.ckpt_cmd(&out, &ckpt, "20ms", 1).args([
        "--state-backend",
        "heap",
        "--restore",
        "latest",
    ]));
    assert_exit(&done, 0);
    assert_same_output(&committed(&out), &want, "mmap checkpoint, heap restore");
}

/// `weir inspect` lists the bytes written new and shared; they add up to the MANIFEST's.
#[test]
fn inspect_shows_new_and_shared_bytes() {
    let s = Scenario::new("count", 300_000, 1_000);
    let (out, ckpt) = (s.path("out"), s.path("ckpt"));
    let mut cmd = s.ckpt_cmd(&out, &ckpt, "15ms", 1);
    crash_after_checkpoint(cmd.args(["--state-backend", "mmap"]), &ckpt, 3);
    let listed = output(weir().arg("inspect").arg(&ckpt).arg("--json"));
    assert_exit(&listed, 0);
    let v: serde_json::Value = serde_json::from_slice(&listed.stdout).expect("JSON");
    for c in v["checkpoints"].as_array().expect("checkpoints") {
        if c["complete"] != true {
            continue;
        }
        let id = c["id"].as_u64().expect("id");
        let dir = chk(&ckpt, id);
        let files = run_files(&dir);
        let shared: u64 = files.iter().filter(|f| !f.2).map(|f| f.1).sum();
        let new_runs: u64 = files.iter().filter(|f| f.2).map(|f| f.1).sum();
        let state_files: u64 = read_manifest(&dir)["files"]
            .as_array()
            .expect("files")
            .iter()
            .map(|f| f["len"].as_u64().expect("len"))
            .sum();
        assert_eq!(c["shared_bytes"].as_u64(), Some(shared), "checkpoint {id}");
        assert_eq!(
            c["new_bytes"].as_u64(),
            Some(new_runs + state_files),
            "checkpoint {id}"
        );
    }
}

/// Aborts at the commit protocol's crash points (`WEIR_CRASH_AT`) at checkpoint 4, after
/// incremental checkpoints that share run files, and in the middle of the 4th background run
/// write and run linking (mmap writer thread); `--restore latest` completes exactly once.
#[test]
fn crash_points_after_incremental_checkpoints_are_exactly_once() {
    for point in [
        "after-state-write",
        "after-manifest",
        "run-write",
        "run-link",
    ] {
        let s = Scenario::new("count", 300_000, 2_000);
        let want = s.reference(2);
        let (out, ckpt) = (s.path("out"), s.path("ckpt"));
        let mmap = ["--state-backend", "mmap"];
        let crashed = output(
            s.ckpt_cmd(&out, &ckpt, "15ms", 2)
                .args(mmap)
                .env("WEIR_CRASH_AT", format!("{point}:4")),
        );
        assert!(
            stderr(&crashed).contains(&format!("crash point {point} at checkpoint 4")),
            "{point}: {}",
            stderr(&crashed)
        );
        assert_sub_multiset(&committed(&out), &want, point);
        let done = output(
            s.ckpt_cmd(&out, &ckpt, "15ms", 2)
                .args(mmap)
                .args(["--restore", "latest"]),
        );
        assert_exit(&done, 0);
        assert_same_output(&committed(&out), &want, point);
    }
}
