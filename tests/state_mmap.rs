//! The mmap state backend with the real binary: exactly-once restores after kill -9, a heap
//! checkpoint restored into the mmap backend, and `[state]` validation. The oracle is a clean
//! run on the heap backend.

mod checkpoint_support;

use checkpoint_support::*;

/// Rolling count on the mmap backend, 2 workers: killed after a checkpoint, restored.
#[test]
fn mmap_kill_then_restore_is_exactly_once() {
    let s = Scenario::new("count", 100_000, 1_000);
    let want = s.reference(2);
    let (out, ckpt) = (s.path("out"), s.path("ckpt"));
    let mmap = ["--state-backend", "mmap"];
    crash_after_checkpoint(s.ckpt_cmd(&out, &ckpt, "20ms", 2).args(mmap), &ckpt, 1);
    assert_sub_multiset(&committed(&out), &want, "committed before the restore");
    let done = output(
        s.ckpt_cmd(&out, &ckpt, "20ms", 2)
            .args(mmap)
            .args(["--restore", "latest"]),
    );
    assert_exit(&done, 0);
    assert_same_output(&committed(&out), &want, "mmap restore");
    assert!(
        ckpt.join("state").is_dir(),
        "working files live under the checkpoint dir"
    );
}

/// A checkpoint written by the heap backend restores into the mmap backend (same sections),
/// with another worker count.
#[test]
fn heap_checkpoint_restores_into_mmap_with_rescale() {
    let s = Scenario::new("count", 100_000, 1_000);
    let want = s.reference(2);
    let (out, ckpt) = (s.path("out"), s.path("ckpt"));
    crash_after_checkpoint(&mut s.ckpt_cmd(&out, &ckpt, "20ms", 2), &ckpt, 1);
    let done = output(s.ckpt_cmd(&out, &ckpt, "20ms", 1).args([
        "--state-backend",
        "mmap",
        "--restore",
        "latest",
    ]));
    assert_exit(&done, 0);
    assert_same_output(&committed(&out), &want, "heap checkpoint, mmap restore");
}

/// `[state] backend` must name a backend; `[state] backend = "mmap"` runs.
#[test]
fn state_table_selects_the_backend() {
    let s = Scenario::new("count", 1_000, 10);
    let want = s.reference(1);
    let base = std::fs::read_to_string(fixture("count")).expect("fixture");
    let run = |backend: &str, out: &str| {
        let file = s.path(&format!("{backend}.toml"));
        std::fs::write(&file, format!("{base}\n[state]\nbackend = \"{backend}\"\n")).unwrap();
        output(
            weir()
                .arg("run")
                .arg(&file)
                .arg("--set")
                .arg(format!("source.path={}", s.path("events.csv").display()))
                .arg("--set")
                .arg(format!("sink.path={}", s.path(out).display()))
                .args(["--no-pin", "--workers", "1"]),
        )
    };
    let bad = run("rocks", "out-bad");
    assert_ne!(bad.status.code(), Some(0));
    assert!(
        stderr(&bad).contains("unknown state backend"),
        "{}",
        stderr(&bad)
    );
    assert_exit(&run("mmap", "out-mmap"), 0);
    assert_same_output(
        &committed(&s.path("out-mmap")),
        &want,
        "[state] backend = mmap",
    );
}
