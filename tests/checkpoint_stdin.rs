//! Standard input cannot rewind: restoring a checkpoint of a stdin pipeline is refused
//! (exit 78) unless `--allow-at-least-once`.

mod checkpoint_support;

use checkpoint_support::*;
use std::io::Write;
use std::process::Stdio;
use std::thread;
use std::time::Duration;

/// `weir run fixtures/crash/stdin.toml` into `out`, checkpoints in `ckpt`.
fn stdin_cmd(s: &Scenario, ckpt: &std::path::Path) -> std::process::Command {
    let mut cmd = weir();
    cmd.arg("run")
        .arg(fixture("stdin"))
        .arg("--set")
        .arg(format!("sink.path={}", s.path("out").display()))
        .arg("--checkpoint-dir")
        .arg(ckpt)
        .args([
            "--checkpoint-interval",
            "20ms",
            "--workers",
            "2",
            "--no-pin",
        ])
        .current_dir(&s.dir);
    cmd
}

#[test]
fn stdin_restore_needs_allow_at_least_once() {
    let s = Scenario::new("count", 20_000, 500);
    let input = std::fs::read(&s.input).expect("input");
    let (head, tail) = input.split_at(input.len() / 2);
    let cut = head.iter().rposition(|&b| b == b'\n').expect("a line") + 1;
    let (head, rest) = input.split_at(cut);
    let _ = tail;
    let ckpt = s.path("ckpt");

    // First run: half the input, standard input left open; killed after a checkpoint.
    let mut child = stdin_cmd(&s, &ckpt)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut pipe = child.stdin.take().expect("stdin");
    pipe.write_all(head).expect("write stdin");
    pipe.flush().expect("flush");
    let err = drain_stderr(&mut child);
    while inspect_complete(&ckpt).is_empty() {
        if let Some(status) = child.try_wait().expect("try_wait") {
            panic!("ended ({status}): {}", err.join().unwrap_or_default());
        }
        thread::sleep(Duration::from_millis(5));
    }
    child.kill().expect("kill");
    child.wait().expect("wait");
    drop(pipe);
    let _ = err.join();

    // Restore without the flag: refused, naming the checkpoint and the reason.
    let refused = output(stdin_cmd(&s, &ckpt).args(["--restore", "latest"]));
    assert_exit(&refused, EXIT_CHECKPOINT);
    let text = stderr(&refused);
    assert!(text.contains("the source cannot rewind (stdin)"), "{text}");
    assert!(text.contains("--allow-at-least-once"), "{text}");
    assert!(text.contains("chk-"), "names the checkpoint: {text}");

    // With the flag: restores and reads the rest of the input.
    let mut child = stdin_cmd(&s, &ckpt)
        .args(["--restore", "latest", "--allow-at-least-once"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut pipe = child.stdin.take().expect("stdin");
    // The header line first (the decoder expects one), then the rest.
    let header_end = input.iter().position(|&b| b == b'\n').expect("header") + 1;
    pipe.write_all(&input[..header_end]).expect("write");
    pipe.write_all(rest).expect("write");
    drop(pipe);
    let err = drain_stderr(&mut child);
    let status = wait_with_deadline(&mut child, Duration::from_secs(120));
    let text = err.join().unwrap_or_default();
    assert!(status.success(), "{status}: {text}");
    assert!(text.contains("restored_from="), "{text}");
    assert!(!committed(&s.path("out")).is_empty());
}
