//! Rescaling across a restore: a checkpoint written by N workers restored by M workers.
//! Key groups move between workers and old source splits are handed to new workers.

mod checkpoint_support;

use checkpoint_support::*;

/// Kills a run of `from` workers after two checkpoints, restores it with `to` workers, and
/// compares the committed output with a clean run's (rolling count: deterministic multiset).
/// `events` must keep the run going past its second checkpoint (20 ms apart).
fn rescale(pipeline: &str, events: u64, from: usize, to: usize) {
    let s = Scenario::new(pipeline, events, 1_000);
    let want = s.reference(2);
    let (out, ckpt) = (s.path("out"), s.path("ckpt"));
    crash_after_checkpoint(&mut s.ckpt_cmd(&out, &ckpt, "20ms", from), &ckpt, 2);
    let newest = *complete_ids(&ckpt).last().expect("a checkpoint");
    let manifest = read_manifest(&chk(&ckpt, newest));
    assert_eq!(
        manifest["workers"], from as u64,
        "written by {from} worker(s)"
    );
    let done = output(
        s.ckpt_cmd(&out, &ckpt, "20ms", to)
            .args(["--restore", "latest"]),
    );
    assert_exit(&done, 0);
    assert!(
        stderr(&done).contains("restored_from="),
        "{}",
        stderr(&done)
    );
    assert_same_output(
        &committed(&out),
        &want,
        &format!("{pipeline} {from} -> {to} workers"),
    );
    assert_eq!(hidden(&out), Vec::<String>::new());
}

#[test]
fn two_workers_restored_with_one() {
    rescale("count", 100_000, 2, 1);
}

#[test]
fn one_worker_restored_with_two() {
    rescale("count", 100_000, 1, 2);
}

/// Stateless pipeline: only source offsets and sink epochs move. More input: a stateless
/// batch goes to the sink of the worker that read it, so 100k records can end before the
/// second checkpoint.
#[test]
fn stateless_two_workers_restored_with_one() {
    rescale("filter", 1_000_000, 2, 1);
}

/// 2 → 1 → 2: a checkpoint written after a rescale is itself rescaled.
#[test]
fn two_one_two() {
    let s = Scenario::new("count", 120_000, 1_000);
    let want = s.reference(2);
    let (out, ckpt) = (s.path("out"), s.path("ckpt"));
    crash_after_checkpoint(&mut s.ckpt_cmd(&out, &ckpt, "20ms", 2), &ckpt, 1);
    // The second run (1 worker) writes a checkpoint of its own before it is killed.
    crash_after_checkpoint(
        s.ckpt_cmd(&out, &ckpt, "20ms", 1)
            .args(["--restore", "latest"]),
        &ckpt,
        1,
    );
    let newest = *complete_ids(&ckpt).last().expect("a checkpoint");
    assert_eq!(read_manifest(&chk(&ckpt, newest))["workers"], 1);
    let done = output(
        s.ckpt_cmd(&out, &ckpt, "20ms", 2)
            .args(["--restore", "latest"]),
    );
    assert_exit(&done, 0);
    assert_same_output(&committed(&out), &want, "2 -> 1 -> 2 workers");
}
