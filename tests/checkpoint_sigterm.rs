//! SIGTERM (like a first Ctrl-C) makes a checkpointing run take a final checkpoint and exit 0;
//! `--restore latest` then completes the output exactly once.

mod checkpoint_support;

use checkpoint_support::{assert_exactly_once, committed, rate_limited_count};
use std::process::{Command, Stdio};
use std::time::Duration;

const EVENTS: u64 = 200_000;

fn weir(dir: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_weir"));
    c.current_dir(dir)
        .arg("run")
        .arg("p.toml")
        .args(["--no-pin", "--checkpoint-dir", "ckpt"]);
    c
}

#[test]
fn sigterm_takes_a_final_checkpoint_and_restore_completes_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("p.toml"),
        rate_limited_count(EVENTS, 100_000),
    )
    .unwrap();
    let child = weir(dir.path())
        .args(["--checkpoint-interval", "200ms"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Let it run into the stream (the rate-limited generator needs about 2 s).
    std::thread::sleep(Duration::from_millis(700));
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("stopped at checkpoint"), "{stderr}");
    let partial = committed(&dir.path().join("out")).len();
    assert!(
        partial < EVENTS as usize,
        "stopped early, yet {partial} records committed"
    );

    let out = weir(dir.path())
        .args(["--restore", "latest"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_exactly_once(
        &committed(&dir.path().join("out")),
        EVENTS as usize,
        "after stop + restore",
    );
}
