//! An idle input lets event time advance: `fixtures/time/idle_split.toml` unions stdin with
//! a TCP listener nobody writes to (`idle_timeout = "100ms"`). The test writes records to
//! stdin and keeps it open; the windows the records close must be printed while both inputs
//! are still open (so they fired because the quiet splits went idle, not because the input
//! ended); then the listener gets its one client, stdin closes, and the rest fire.
//!
//! The result does not depend on timing: the test waits for the rows (a deadline only turns
//! a hang into a failure) and compares their content with a hand-checked table. Watermark
//! (bound 0 ms) = largest ts − 1 = 3299 while open: windows [1000, 2000) and [2000, 3000)
//! have fired, [3000, 4000) has not. The run checkpoints every 50 ms because the stdout sink
//! writes what it holds at checkpoints (or every 64 KiB).
//!
//! With `idle_timeout` removed nothing fires while the listener is open (checked by hand:
//! `--set sources.quiet.event_time.idle_timeout=1h`); the test does not assert an absence,
//! which only a timeout could.

mod cli_support;

use cli_support::{assert_same_multiset, weir};
use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

/// key,value,ts typed on stdin (ts in ms).
const INPUT: &str = "a,1,1000\nb,2,1500\na,3,1999\na,4,2500\nb,5,3100\na,6,3300\n";

/// Fired while the inputs are open: key,window_start,window_end,n,sum.
const WHILE_OPEN: [&str; 3] = ["a,1000,2000,2,4", "b,1000,2000,1,2", "a,2000,3000,1,4"];

/// Fired by the end of both inputs.
const AT_END: [&str; 2] = ["a,3000,4000,1,6", "b,3000,4000,1,5"];

/// Waits for the next line of `rx`, failing after a minute.
fn next(rx: &mpsc::Receiver<String>, what: &str) -> String {
    rx.recv_timeout(Duration::from_secs(60))
        .unwrap_or_else(|_| panic!("no {what} within a minute"))
}

/// Kills the run if the test fails before it ends.
struct Killer(std::process::Child);

impl Drop for Killer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn run(workers: usize) {
    let dir = tempfile::tempdir().unwrap();
    let child = weir()
        .args(["run", "fixtures/time/idle_split.toml", "--no-pin"])
        .args(["--workers", &workers.to_string()])
        .arg("--dead-letter")
        .arg(dir.path().join("dead.jsonl"))
        .arg("--checkpoint-dir")
        .arg(dir.path().join("ck"))
        .args(["--checkpoint-interval", "50ms"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("weir starts");
    let mut child = Killer(child);
    let (out_tx, out_rx) = mpsc::channel();
    let stdout = child.0.stdout.take().expect("stdout");
    let stdout_reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = out_tx.send(line);
        }
    });
    let (err_tx, err_rx) = mpsc::channel();
    let stderr = child.0.stderr.take().expect("stderr");
    let stderr_reader = std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = err_tx.send(line);
        }
    });
    let addr = loop {
        let line = next(&err_rx, "tcp listening line on stderr");
        if let Some(addr) = line.split("listening on ").nth(1) {
            break addr.trim().to_string();
        }
    };
    let mut stdin = child.0.stdin.take().expect("stdin");
    stdin.write_all(INPUT.as_bytes()).unwrap();
    stdin.flush().unwrap();

    // Both inputs open: the closed windows arrive anyway.
    let open: Vec<String> = (0..WHILE_OPEN.len())
        .map(|_| next(&out_rx, "window row while the inputs are open"))
        .collect();
    assert_same_multiset("fired while open", &open, &WHILE_OPEN.map(String::from));

    // End both inputs: the last windows fire.
    drop(stdin);
    drop(std::net::TcpStream::connect(&addr).expect("connect to the quiet source"));
    let status = child.0.wait().expect("weir exits");
    // The pipes are at their end once the readers return.
    let _ = (stdout_reader.join(), stderr_reader.join());
    let rest: Vec<String> = out_rx.try_iter().collect();
    let stderr: Vec<String> = err_rx.try_iter().collect();
    assert!(status.success(), "{}", stderr.join("\n"));
    assert_same_multiset("fired at the end", &rest, &AT_END.map(String::from));
}

#[test]
fn an_idle_source_lets_windows_fire_while_it_is_open_1_worker() {
    run(1);
}

#[test]
fn an_idle_source_lets_windows_fire_while_it_is_open_2_workers() {
    run(2);
}
