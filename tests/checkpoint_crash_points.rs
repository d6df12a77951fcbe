//! Crashes at the narrow windows of the commit protocol, hit deterministically through
//! `WEIR_CRASH_AT` (the process aborts: no cleanup, like `kill -9`): after a worker's state
//! file is written but before the MANIFEST, and after the MANIFEST but before the sink's
//! pending files are published. `--restore latest` must then complete the output exactly once.

mod checkpoint_support;

use checkpoint_support::{assert_exactly_once, committed, rate_limited_count};
use std::process::Command;

const EVENTS: u64 = 150_000;

fn weir(dir: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_weir"));
    c.current_dir(dir).arg("run").arg("p.toml").args([
        "--no-pin",
        "--checkpoint-dir",
        "ckpt",
        "--checkpoint-interval",
        "100ms",
    ]);
    c
}

fn crash_then_restore(point: &str) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("p.toml"),
        rate_limited_count(EVENTS, 150_000),
    )
    .unwrap();
    let out_dir = dir.path().join("out");
    let crashed = weir(dir.path())
        .env("WEIR_CRASH_AT", format!("{point}:2"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&crashed.stderr);
    assert!(
        !crashed.status.success(),
        "the run must crash at {point}: {stderr}"
    );
    assert!(
        stderr.contains(&format!("crash point {point} at checkpoint 2")),
        "{stderr}"
    );
    let before = committed(&out_dir).len();
    assert!(
        before < EVENTS as usize,
        "crashed early, yet {before} lines committed"
    );

    let restored = weir(dir.path())
        .args(["--restore", "latest"])
        .output()
        .unwrap();
    assert!(
        restored.status.success(),
        "{}",
        String::from_utf8_lossy(&restored.stderr)
    );
    assert_exactly_once(&committed(&out_dir), EVENTS as usize, point);
}

#[test]
fn crash_after_a_state_file_before_the_manifest() {
    crash_then_restore("after-state-write");
}

#[test]
fn crash_after_the_manifest_before_the_sink_commit() {
    crash_then_restore("after-manifest");
}
