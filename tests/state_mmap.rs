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
    kill_after_checkpoints(s.ckpt_cmd(&out, &ckpt, "20ms", 2).args(mmap), &ckpt, 1);
    assert_sub_multiset(&committed(&out), &want, "committed before the restore");
    let done = output(
        s.ckpt_cmd(&out, &ckpt, "20ms", 2)
            .args(mmap)
            .args(["--restore", "latest"]),
    );
    assert_exit(&done, 0);
    assert_same_output(&committed(&out), &want, "mmap restore");
    assert!(ckpt.join("state").is_dir(), "working files live under the checkpoint dir");
}

/// A checkpoint written by the heap backend restores into the mmap backend (same sections),
/// with another worker count.
#[test]
fn heap_checkpoint_restores_into_mmap_with_rescale() {
    let s = Scenario::new("sum", 100_000, 1_000);
    let want = s.reference(2);
    let (out, ckpt) = (s.path("out"), s.path("ckpt"));
    kill_after_checkpoints(&mut s.ckpt_cmd(&out, &ckpt, "20ms", 2), &ckpt, 1);
    let done = output(
        s.ckpt_cmd(&out, &ckpt, "20ms", 1)
            .args(["--state-backend", "mmap", "--restore", "latest"]),
    );
    assert_exit(&done, 0);
    assert_same_output(&committed(&out), &want, "heap checkpoint, mmap restore");
}

/// `[state] backend` must name a backend.
#[test]
fn unknown_state_backend_is_a_config_error() {
    let s = Scenario::new("count", 1_000, 10);
    let out = s.path("out");
    let done = output(s.run_cmd(&out).args(["--set", "state.backend=rocks"]));
    assert_ne!(done.status.code(), Some(0));
    assert!(stderr(&done).contains("unknown state backend"), "{}", stderr(&done));
    let ok = output(s.run_cmd(&s.path("out2")).args(["--set", "state.backend=mmap"]));
    assert_exit(&ok, 0);
}
