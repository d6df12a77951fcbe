//! SIGTERM (like a first Ctrl-C) makes a checkpointing run take a final checkpoint and exit 0;
//! `--restore latest` then completes the output exactly once.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const PIPELINE: &str = r#"
[source]
type = "generator"
events = 200000
keys = 500
rate = 100000
[[ops]]
type = "key_by"
key = ["key"]
[[ops]]
type = "rolling"
aggregates = [ { fn = "count", as = "n" } ]
[sink]
type = "file"
path = "out"
"#;

fn weir() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_weir"));
    c.arg("run")
        .arg("p.toml")
        .args(["--no-pin", "--checkpoint-dir", "ckpt"]);
    c
}

fn committed(dir: &std::path::Path) -> Vec<String> {
    let mut lines = Vec::new();
    for e in std::fs::read_dir(dir.join("out")).unwrap() {
        let p = e.unwrap().path();
        if p.file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("part-")
        {
            lines.extend(
                std::fs::read_to_string(p)
                    .unwrap()
                    .lines()
                    .map(str::to_string),
            );
        }
    }
    lines.sort();
    lines
}

#[test]
fn sigterm_takes_a_final_checkpoint_and_restore_completes_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p.toml"), PIPELINE).unwrap();
    let child = weir()
        .current_dir(dir.path())
        .args(["--checkpoint-interval", "200ms"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Let it run into the stream (the generator is rate-limited to ~2 s).
    let started = Instant::now();
    while started.elapsed() < Duration::from_millis(700) {
        std::thread::sleep(Duration::from_millis(50));
    }
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
    let partial = committed(dir.path()).len();
    assert!(
        partial < 200_000,
        "stopped early, yet {partial} records committed"
    );

    let out = weir()
        .current_dir(dir.path())
        .args(["--restore", "latest"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = committed(dir.path());
    assert_eq!(lines.len(), 200_000);
    let mut dedup = lines.clone();
    dedup.dedup();
    assert_eq!(dedup.len(), lines.len(), "duplicated output lines");
}
