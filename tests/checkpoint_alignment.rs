//! Barrier alignment under backpressure: one-record batches (so the rings, 64 messages each
//! by default, fill up: the CLI has no ring-capacity flag), a checkpoint every 10 ms, two
//! workers routing to each other, and a file sink that fsyncs every epoch. The run must end
//! (no deadlock) with the right output. 200 000 records rather than a few thousand: with
//! one-record batches the debug binary still reads ~400 000 records/s, and a few thousand
//! would end before the first 10 ms barrier.

mod checkpoint_support;

use checkpoint_support::*;
use std::process::Stdio;
use std::time::Duration;

#[test]
fn tiny_batches_frequent_barriers_do_not_deadlock() {
    let s = Scenario::new("count", 200_000, 50);
    let want = s.reference(2);
    let (out, ckpt) = (s.path("out"), s.path("ckpt"));
    let mut child = s
        .ckpt_cmd(&out, &ckpt, "10ms", 2)
        .args(["--batch-size", "1"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let err = drain_stderr(&mut child);
    // Generous: the run takes well under a second; only a hang reaches this.
    let status = wait_with_deadline(&mut child, Duration::from_secs(120));
    let text = err.join().unwrap_or_default();
    assert!(status.success(), "{status}: {text}");
    assert!(text.contains("failed_checkpoints=0"), "{text}");
    assert_same_output(&committed(&out), &want, "batch size 1, 10 ms checkpoints");
    assert_eq!(hidden(&out), Vec::<String>::new());
}

/// The same, restored mid-run from a checkpoint taken under backpressure.
#[test]
fn tiny_batches_restore_is_exactly_once() {
    let s = Scenario::new("count", 200_000, 50);
    let want = s.reference(2);
    let (out, ckpt) = (s.path("out"), s.path("ckpt"));
    kill_after_checkpoints(
        s.ckpt_cmd(&out, &ckpt, "10ms", 2)
            .args(["--batch-size", "1"]),
        &ckpt,
        2,
    );
    let done = output(s.ckpt_cmd(&out, &ckpt, "10ms", 2).args([
        "--batch-size",
        "1",
        "--restore",
        "latest",
    ]));
    assert_exit(&done, 0);
    assert_same_output(&committed(&out), &want, "batch size 1, restored");
}
