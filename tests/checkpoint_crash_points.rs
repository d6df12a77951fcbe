//! Crashes at the narrow windows of the commit protocol, hit deterministically through
//! `WEIR_CRASH_AT` (the process aborts: no cleanup, like `kill -9`): after a worker's state
//! file is written but before the MANIFEST, and after the MANIFEST but before the sink's
//! pending files are published. `--restore latest` must then complete the output exactly once.

use std::collections::BTreeMap;
use std::process::Command;

const PIPELINE: &str = r#"
[source]
type = "generator"
events = 150000
keys = 300
rate = 150000
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

/// The committed output as a multiset of lines.
fn committed(dir: &std::path::Path) -> BTreeMap<String, usize> {
    let mut lines = BTreeMap::new();
    for e in std::fs::read_dir(dir.join("out")).unwrap() {
        let p = e.unwrap().path();
        if p.file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("part-")
        {
            for l in std::fs::read_to_string(p).unwrap().lines() {
                *lines.entry(l.to_string()).or_default() += 1;
            }
        }
    }
    lines
}

fn crash_then_restore(point: &str) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p.toml"), PIPELINE).unwrap();
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
    let before = committed(dir.path()).values().sum::<usize>();
    assert!(
        before < 150_000,
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
    let out = committed(dir.path());
    assert_eq!(
        out.values().sum::<usize>(),
        150_000,
        "lines lost or duplicated"
    );
    assert!(
        out.values().all(|&n| n == 1),
        "duplicated lines after a crash at {point}"
    );
}

#[test]
fn crash_after_a_state_file_before_the_manifest() {
    crash_then_restore("after-state-write");
}

#[test]
fn crash_after_the_manifest_before_the_sink_commit() {
    crash_then_restore("after-manifest");
}
