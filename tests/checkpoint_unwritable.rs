//! A checkpoint that cannot be written mid-run (its directory path is taken by a file, which
//! works as root too, where permissions do not): that checkpoint fails and is logged, the job
//! goes on and exits 0, the older checkpoints stay intact, the output is exactly-once.

mod checkpoint_support;

use checkpoint_support::*;
use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

#[test]
fn failed_checkpoint_is_logged_and_the_job_goes_on() {
    let s = Scenario::new("count", 200_000, 1_000);
    let want = s.reference(2);
    let (out, ckpt) = (s.path("out"), s.path("ckpt"));
    let mut child = s
        .ckpt_cmd(&out, &ckpt, "20ms", 2)
        .args(["--checkpoint-retain", "1000"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let (tx, rx) = mpsc::channel::<String>();
    let pipe = child.stderr.take().expect("stderr");
    let reader = thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            let _ = tx.send(line.clone());
            all.push_str(&line);
            all.push('\n');
        }
        all
    });

    // Once a checkpoint is complete, take the paths of the next few checkpoints with files.
    while complete_ids(&ckpt).is_empty() {
        assert!(
            child.try_wait().expect("try_wait").is_none(),
            "ended before a checkpoint"
        );
        thread::sleep(Duration::from_millis(2));
    }
    let before: BTreeMap<u64, Vec<u8>> = complete_ids(&ckpt)
        .into_iter()
        .map(|id| {
            (
                id,
                fs::read(chk(&ckpt, id).join("MANIFEST")).expect("MANIFEST"),
            )
        })
        .collect();
    let newest = *before.keys().last().expect("a checkpoint");
    let mut blocked = Vec::new();
    for id in newest + 1..newest + 20 {
        if blocked.len() == 3 {
            break;
        }
        // create_new: skip a checkpoint whose directory the job already created.
        if fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(chk(&ckpt, id))
            .is_ok()
        {
            blocked.push(id);
        }
    }
    assert!(!blocked.is_empty(), "could not block any checkpoint path");

    // Wait for the failure to be logged (or the end), then free the paths again.
    let mut failed_line = None;
    while failed_line.is_none() {
        match rx.recv_timeout(Duration::from_millis(20)) {
            Ok(line) if line.contains("checkpoint failed") => failed_line = Some(line),
            Ok(_) => {}
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if child.try_wait().expect("try_wait").is_some() {
                    break;
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    for &id in &blocked {
        let _ = fs::remove_file(chk(&ckpt, id));
    }
    let status = wait_with_deadline(&mut child, Duration::from_secs(120));
    let text = reader.join().unwrap_or_default();
    let line = failed_line.unwrap_or_else(|| panic!("no failed checkpoint was logged: {text}"));
    assert!(
        status.success(),
        "the job goes on and exits 0: {status}: {text}"
    );
    assert!(line.contains("the job goes on"), "{line}");
    assert!(
        blocked
            .iter()
            .any(|&id| line.contains(&format!("chk-{id:010}"))),
        "names the checkpoint path {blocked:?}: {line}"
    );
    let failed: u64 = text
        .split("failed_checkpoints=")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("a summary line: {text}"));
    assert!(failed >= 1, "{text}");
    // The checkpoints complete before the failure are untouched and still valid.
    for (id, manifest) in &before {
        let dir = chk(&ckpt, *id);
        assert_eq!(
            &fs::read(dir.join("MANIFEST")).expect("MANIFEST"),
            manifest,
            "{id}"
        );
        assert_exit(&output(weir().arg("inspect").arg(&dir)), 0);
    }
    assert_same_output(&committed(&out), &want, "after a failed checkpoint");
    assert_eq!(hidden(&out), Vec::<String>::new());
}
