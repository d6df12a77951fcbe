//! Checkpoints left in the directory that do not belong to the restored timeline: newer
//! checkpoints than the one restored (a corrupt newest one skipped by the fallback, or an
//! older one restored by path), and checkpoints of an earlier run under a fresh start. The
//! sink withdraws their output (`recover`), so they must not be restored or collided with.
//!
//! Each crash is a crash point (`WEIR_CRASH_AT`), not a timed kill: the moment must not
//! depend on how fast the engine or the machine is.

mod checkpoint_support;

use checkpoint_support::*;

/// Bug 1: the newest checkpoint N is corrupt, `--restore latest` falls back to N-1, and the
/// restored run ends before its first barrier: its final checkpoint gets id N, which is
/// still taken by the corrupt directory ("checkpoint N is already committed", exit 78, the
/// output never published; every retry repeats it).
#[test]
fn fallback_then_no_barrier_before_the_end_completes() {
    let s = Scenario::new("count", 300_000, 1_000);
    let want = s.reference(2);
    let (out, ckpt) = (s.path("out"), s.path("ckpt"));
    crash_after_checkpoint(&mut s.ckpt_cmd(&out, &ckpt, "20ms", 2), &ckpt, 2);
    let newest = *complete_ids(&ckpt).last().expect("a checkpoint");
    flip_byte(&chk(&ckpt, newest).join("w0.state"), 40);
    // A long interval: no barrier in the restored run, only its final checkpoint.
    let done = output(
        s.ckpt_cmd(&out, &ckpt, "1h", 2)
            .args(["--restore", "latest"]),
    );
    assert!(
        stderr(&done).contains("skipping unusable checkpoint"),
        "{}",
        stderr(&done)
    );
    assert_exit(&done, 0);
    assert_same_output(
        &committed(&out),
        &want,
        "fallback, then the final checkpoint",
    );
}

/// Bug 2: `--restore chk-1` (an older checkpoint, newer ones present) withdraws the output
/// of epochs > 1; the run is killed before its first checkpoint; `--restore latest` then
/// restores the newest checkpoint of the abandoned timeline, whose output is gone: records
/// are lost.
#[test]
fn restore_older_by_path_crash_then_latest_is_exactly_once() {
    let s = Scenario::new("count", 300_000, 1_000);
    let want = s.reference(2);
    let (out, ckpt) = (s.path("out"), s.path("ckpt"));
    crash_after_checkpoint(
        s.ckpt_cmd(&out, &ckpt, "20ms", 2)
            .args(["--checkpoint-retain", "10"]),
        &ckpt,
        3,
    );
    let oldest = chk(&ckpt, complete_ids(&ckpt)[0]);
    crash_before_next_checkpoint(
        s.ckpt_cmd(&out, &ckpt, "1h", 2)
            .arg("--restore")
            .arg(&oldest),
        &ckpt,
    );
    let done = output(
        s.ckpt_cmd(&out, &ckpt, "20ms", 2)
            .args(["--restore", "latest"]),
    );
    assert_exit(&done, 0);
    assert_same_output(&committed(&out), &want, "older checkpoint, crash, latest");
}

/// Bug 3: a fresh start (`--fresh`) in a directory holding a finished run's checkpoints,
/// killed before its first checkpoint: a `--restore latest` restores the old finished
/// checkpoint ("nothing to do", exit 0) and its output is all there (the fresh start keeps the
/// old lineage until its own first checkpoint).
#[test]
fn fresh_start_over_old_checkpoints_crash_then_latest_is_exactly_once() {
    let s = Scenario::new("count", 100_000, 1_000);
    let want = s.reference(2);
    let (out, ckpt) = (s.path("out"), s.path("ckpt"));
    assert_exit(&output(&mut s.ckpt_cmd(&out, &ckpt, "20ms", 2)), 0);
    crash_before_next_checkpoint(s.ckpt_cmd(&out, &ckpt, "1h", 2).arg("--fresh"), &ckpt);
    let done = output(
        s.ckpt_cmd(&out, &ckpt, "20ms", 2)
            .args(["--restore", "latest"]),
    );
    assert_exit(&done, 0);
    assert_same_output(
        &committed(&out),
        &want,
        "fresh start over old checkpoints, crash, latest",
    );
}
