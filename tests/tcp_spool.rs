//! `spool = true`: socket input survives `kill -9`. Clients send, the test waits until weir has
//! spooled every byte, kills it with SIGKILL, restores (once with another worker count) and
//! sends more; the committed output and the dead letters must hold every record sent exactly
//! once, and the logs of earlier runs are deleted once no retained checkpoint needs them.
//! The second run takes no checkpoint before it is killed, so the third replays its logs whole.

mod tcp_support;

use std::io::Write;
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};
use tcp_support::{assert_rolling_matches, dead_letters, model, output_lines, Running};

const CLIENTS: usize = 3;
const LINES: usize = 4_000;
const BAD_EVERY: usize = 500;

/// The lines client `c` of phase `phase` sends; every `BAD_EVERY`th is malformed.
fn lines(phase: usize, c: usize) -> Vec<String> {
    (0..LINES)
        .map(|j| {
            if j % BAD_EVERY == BAD_EVERY - 1 {
                format!("bad-{phase}-{c}-{j}")
            } else {
                format!("k{},{}", (c + j) % 7, phase * 1_000_000 + c * 10_000 + j)
            }
        })
        .collect()
}

/// Sends one phase from `CLIENTS` clients at once, in pieces with pauses (so that checkpoints
/// fall in between); returns the bytes sent.
fn send_phase(port: u16, phase: usize) -> u64 {
    let threads: Vec<_> = (0..CLIENTS)
        .map(|c| {
            std::thread::spawn(move || {
                let text: String = lines(phase, c).iter().map(|l| format!("{l}\n")).collect();
                let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
                for piece in text.as_bytes().chunks(text.len() / 8 + 1) {
                    s.write_all(piece).unwrap();
                    std::thread::sleep(Duration::from_millis(80));
                }
                text.len() as u64
            })
        })
        .collect();
    threads.into_iter().map(|t| t.join().unwrap()).sum()
}

/// Bytes in the spool's logs of generation `generation` (each log's end offset).
fn spooled(spool: &Path, generation: &str) -> u64 {
    let Ok(logs) = std::fs::read_dir(spool) else {
        return 0;
    };
    logs.filter_map(Result::ok)
        .filter(|l| l.file_name().to_string_lossy().starts_with(generation))
        .map(|log| {
            let mut segs: Vec<_> = std::fs::read_dir(log.path())
                .unwrap()
                .filter_map(Result::ok)
                .map(|e| e.path())
                .collect();
            segs.sort();
            segs.last().map_or(0, |last| {
                let name = last.file_stem().unwrap().to_string_lossy().into_owned();
                let start: u64 = name.trim_start_matches("seg-").parse().unwrap();
                start + std::fs::metadata(last).unwrap().len()
            })
        })
        .sum()
}

fn wait_spooled(spool: &Path, generation: &str, bytes: u64) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while spooled(spool, generation) < bytes {
        assert!(
            Instant::now() < deadline,
            "weir did not spool {bytes} bytes"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn start(dir: &Path, workers: &str, interval: &str, extra: &[&str]) -> Running {
    let mut args = vec![
        "run",
        "p.toml",
        "--workers",
        workers,
        "--no-pin",
        "--checkpoint-dir",
        "ck",
        "--checkpoint-interval",
        interval,
        "--dead-letter",
        "dead.jsonl",
    ];
    args.extend_from_slice(extra);
    Running::start(dir, &args)
}

#[test]
fn kill_9_and_restore_lose_and_repeat_nothing_clients_sent() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let spool = dir.path().join("ck/spool");
    let extra = "spool = true\nspool_segment_bytes = 4096";
    std::fs::write(
        dir.path().join("p.toml"),
        tcp_support::rolling_pipeline(&out, extra),
    )
    .unwrap();

    // Run 1 (2 workers) and run 2 (restored, 2 workers): killed once all was spooled. Run 2
    // takes no checkpoint: its logs are mentioned by none and are replayed whole by run 3.
    let runs = [
        (0, "100ms", &[][..]),
        (1, "1h", &["--restore", "latest"][..]),
    ];
    for (phase, interval, restore) in runs {
        let mut weir = start(dir.path(), "2", interval, restore);
        let sent = send_phase(weir.port(), phase);
        wait_spooled(&spool, &format!("g{:06}", phase + 1), sent);
        weir.child.kill().unwrap(); // SIGKILL
        let (_, stderr) = weir.wait(Duration::from_secs(30));
        assert!(!stderr.contains("at-least-once"), "{stderr}");
    }
    // Run 3: restored with 1 worker; ends after its clients.
    let weir = start(
        dir.path(),
        "1",
        "100ms",
        &["--restore", "latest", "--set", "source.max_clients=3"],
    );
    send_phase(weir.port(), 2);
    let (code, stderr) = weir.wait(Duration::from_secs(120));
    assert_eq!(code, Some(0), "{stderr}");

    let mut good = Vec::new();
    let mut bad = Vec::new();
    for phase in 0..3 {
        for c in 0..CLIENTS {
            for l in lines(phase, c) {
                match l.split_once(',') {
                    Some((k, v)) => good.push((k.to_string(), v.parse().unwrap())),
                    None => bad.push(l),
                }
            }
        }
    }
    assert_rolling_matches(&output_lines(&out), &model(&good));
    let mut dead: Vec<String> = dead_letters(&dir.path().join("dead.jsonl"))
        .iter()
        .map(|d| d["raw"].as_str().unwrap().to_string())
        .collect();
    dead.sort();
    bad.sort();
    assert_eq!(dead, bad, "each malformed line dead-lettered exactly once");
    // The first run's logs were replayed and then deleted.
    assert_eq!(spooled(&spool, "g000001"), 0, "run 1's logs are gone");
}

#[test]
fn sigterm_stops_a_listening_source_after_a_final_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    std::fs::write(
        dir.path().join("p.toml"),
        tcp_support::rolling_pipeline(&out, "spool = true"),
    )
    .unwrap();
    // No max_clients: the source listens until the job is stopped.
    let weir = start(dir.path(), "2", "1h", &[]);
    let sent = send_phase(weir.port(), 0);
    wait_spooled(&dir.path().join("ck/spool"), "g000001", sent);
    let status = std::process::Command::new("kill")
        .args(["-TERM", &weir.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let (code, stderr) = weir.wait(Duration::from_secs(60));
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("stopped at checkpoint"), "{stderr}");
    // Resume: one more phase, then the run ends after its clients.
    let weir = start(
        dir.path(),
        "2",
        "1h",
        &["--restore", "latest", "--set", "source.max_clients=3"],
    );
    send_phase(weir.port(), 1);
    let (code, stderr) = weir.wait(Duration::from_secs(120));
    assert_eq!(code, Some(0), "{stderr}");
    let good: Vec<(String, i64)> = (0..2)
        .flat_map(|phase| (0..CLIENTS).flat_map(move |c| lines(phase, c)))
        .filter_map(|l| {
            let (k, v) = l.split_once(',')?;
            Some((k.to_string(), v.parse().ok()?))
        })
        .collect();
    assert_rolling_matches(&output_lines(&out), &model(&good));
}
