//! Restore after `kill -9` with the real binary: the committed output equals a clean run's.

mod checkpoint_support;

use checkpoint_support::*;

/// Rolling count, 2 workers: crashed right after its first checkpoint (a crash point, not a
/// timed kill: the moment must not depend on the machine's speed), restored from the latest.
#[test]
fn kill_then_restore_latest_is_exactly_once() {
    let s = Scenario::new("count", 300_000, 1_000);
    let want = s.reference(2);
    let (out, ckpt) = (s.path("out"), s.path("ckpt"));
    crash_after_checkpoint(&mut s.ckpt_cmd(&out, &ckpt, "20ms", 2), &ckpt, 1);
    // What was published before the crash is a part of the clean output, never more.
    let before = committed(&out);
    assert_sub_multiset(&before, &want, "committed before the restore");
    assert!(before.len() < want.len(), "the run was killed mid-run");

    let done = output(
        s.ckpt_cmd(&out, &ckpt, "20ms", 2)
            .args(["--restore", "latest"]),
    );
    assert_exit(&done, 0);
    assert!(
        stderr(&done).contains("restored_from="),
        "{}",
        stderr(&done)
    );
    assert_same_output(&committed(&out), &want, "restore latest");
    assert_eq!(
        hidden(&out),
        Vec::<String>::new(),
        "no in-progress or pending file is left"
    );
    assert!(
        finished_exists(&ckpt),
        "the restored run ends with a finished checkpoint"
    );
}

/// Running sums are order dependent: with one worker (one split) the restored run must
/// reproduce every intermediate sum exactly.
#[test]
fn kill_then_restore_reproduces_running_sums_with_one_worker() {
    let s = Scenario::new("sum", 200_000, 500);
    let want = s.reference(1);
    let (out, ckpt) = (s.path("out"), s.path("ckpt"));
    crash_after_checkpoint(&mut s.ckpt_cmd(&out, &ckpt, "20ms", 1), &ckpt, 2);
    let done = output(
        s.ckpt_cmd(&out, &ckpt, "20ms", 1)
            .args(["--restore", "latest"]),
    );
    assert_exit(&done, 0);
    assert_same_output(&committed(&out), &want, "running sums after restore");
}

/// `--restore D/chk-N` of an older checkpoint than the newest: output published after it is
/// withdrawn and written again by the replay.
#[test]
fn restore_of_an_older_checkpoint_by_path_is_exactly_once() {
    let s = Scenario::new("count", 300_000, 1_000);
    let want = s.reference(2);
    let (out, ckpt) = (s.path("out"), s.path("ckpt"));
    crash_after_checkpoint(
        s.ckpt_cmd(&out, &ckpt, "20ms", 2)
            .args(["--checkpoint-retain", "10"]),
        &ckpt,
        3,
    );
    let ids = complete_ids(&ckpt);
    assert!(ids.len() >= 3, "{ids:?}");
    let oldest = chk(&ckpt, ids[0]);
    let done = output(
        s.ckpt_cmd(&out, &ckpt, "20ms", 2)
            .arg("--restore")
            .arg(&oldest),
    );
    assert_exit(&done, 0);
    assert!(
        stderr(&done).contains(&format!("restored_from={}", ids[0])),
        "{}",
        stderr(&done)
    );
    assert_same_output(&committed(&out), &want, "restore of an older checkpoint");
}

/// `--restore latest` with no checkpoint starts fresh, says so, and exits 0.
#[test]
fn restore_without_checkpoint_starts_fresh() {
    let s = Scenario::new("count", 5_000, 100);
    let want = s.reference(2);
    let (out, ckpt) = (s.path("out"), s.path("ckpt"));
    let done = output(
        s.ckpt_cmd(&out, &ckpt, "100ms", 2)
            .args(["--restore", "latest"]),
    );
    assert_exit(&done, 0);
    let err = stderr(&done);
    assert!(
        err.contains("no checkpoint to restore; starting fresh"),
        "{err}"
    );
    assert!(!err.contains("restored_from="), "{err}");
    assert_same_output(&committed(&out), &want, "fresh start");
}

/// `--restore-required` with no checkpoint exits 78 and writes no output.
#[test]
fn restore_required_without_checkpoint_exits_78() {
    let s = Scenario::new("count", 1_000, 100);
    let (out, ckpt) = (s.path("out"), s.path("ckpt"));
    let done = output(s.ckpt_cmd(&out, &ckpt, "100ms", 2).args([
        "--restore",
        "latest",
        "--restore-required",
    ]));
    assert_exit(&done, EXIT_CHECKPOINT);
    let err = stderr(&done);
    assert!(
        err.contains("no checkpoint to restore (--restore-required)"),
        "{err}"
    );
    assert!(
        err.contains(&ckpt.display().to_string()),
        "names the directory: {err}"
    );
    assert!(committed(&out).is_empty());
}

/// Restoring the final checkpoint of a completed run does nothing and leaves the output.
#[test]
fn restore_of_a_finished_run_does_nothing() {
    let s = Scenario::new("count", 5_000, 100);
    let want = s.reference(2);
    let (out, ckpt) = (s.path("out"), s.path("ckpt"));
    assert_exit(&output(&mut s.ckpt_cmd(&out, &ckpt, "100ms", 2)), 0);
    assert!(finished_exists(&ckpt));
    let again = output(
        s.ckpt_cmd(&out, &ckpt, "100ms", 2)
            .args(["--restore", "latest"]),
    );
    assert_exit(&again, 0);
    assert!(
        stderr(&again).contains("nothing to do"),
        "{}",
        stderr(&again)
    );
    assert_same_output(&committed(&out), &want, "after restoring a finished run");
}
