//! Shared helpers of the `tcp_*` integration tests: run the real `weir` binary on a pipeline
//! with a TCP source or sink over loopback, learn the port it listens on, and check rolling
//! outputs against a model of what the clients sent.

#![allow(dead_code)] // each test crate uses a different subset

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A pipeline reading `key,value` CSV lines from a TCP listener on an ephemeral port, keyed
/// by `key`, with a rolling sum and count, into a CSV file sink at `out`.
pub fn rolling_pipeline(out: &Path, extra_source: &str) -> String {
    format!(
        r#"
[source]
type = "tcp"
listen = "127.0.0.1:0"
max_line_bytes = 64
schema = [ {{ name = "key", type = "string" }}, {{ name = "value", type = "i64" }} ]
{extra_source}

[[ops]]
type = "key_by"
key = "key"

[[ops]]
type = "rolling"
aggregates = [ {{ fn = "sum", field = "value", as = "sum" }}, {{ fn = "count", as = "n" }} ]

[sink]
type = "file"
path = "{}"
"#,
        out.display()
    )
}

/// A running `weir` whose stderr is collected in the background.
pub struct Running {
    /// The process.
    pub child: Child,
    stderr: Arc<Mutex<String>>,
}

impl Running {
    /// Starts `weir ARGS` in `dir`, collecting its stderr.
    pub fn start(dir: &Path, args: &[&str]) -> Running {
        let mut child = Command::new(env!("CARGO_BIN_EXE_weir"))
            .current_dir(dir)
            .env("RUST_LOG", "warn")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("weir starts");
        let stderr = Arc::new(Mutex::new(String::new()));
        let pipe = child.stderr.take().expect("stderr");
        let sink = Arc::clone(&stderr);
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                let mut s = sink.lock().unwrap();
                s.push_str(&line);
                s.push('\n');
            }
        });
        Running { child, stderr }
    }

    /// The stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// The port of "weir: tcp source listening on ADDR", waiting up to a minute for it.
    pub fn port(&self) -> u16 {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let text = self.stderr();
            if let Some(rest) = text.split("listening on ").nth(1) {
                let addr = rest.lines().next().unwrap_or_default();
                let port = addr.rsplit(':').next().unwrap_or_default();
                return port.trim().parse().expect("a port");
            }
            assert!(
                Instant::now() < deadline,
                "no listening line on stderr: {text}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for the exit (at most `limit`), returning the exit code and stderr.
    pub fn wait(mut self, limit: Duration) -> (Option<i32>, String) {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                // Let the stderr thread catch up.
                std::thread::sleep(Duration::from_millis(100));
                return (status.code(), self.stderr());
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("weir did not exit in {limit:?}: {}", self.stderr());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// The lines of every published `part-*` file in `dir`.
pub fn output_lines(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("entry").path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("part-"))
        })
        .collect();
    files.sort();
    files
        .iter()
        .flat_map(|f| {
            std::fs::read_to_string(f)
                .expect("part file")
                .lines()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The model: per key, the sum and count of the values sent.
pub fn model(sent: &[(String, i64)]) -> BTreeMap<String, (i64, u64)> {
    let mut m: BTreeMap<String, (i64, u64)> = BTreeMap::new();
    for (k, v) in sent {
        let e = m.entry(k.clone()).or_default();
        e.0 += v;
        e.1 += 1;
    }
    m
}

/// Checks rolling `key,sum,n` output lines against the model: per key, the counts are exactly
/// 1..=n (nothing lost, nothing twice) and the last sum is the model's.
pub fn assert_rolling_matches(lines: &[String], want: &BTreeMap<String, (i64, u64)>) {
    let mut got: BTreeMap<String, Vec<(u64, i64)>> = BTreeMap::new();
    for l in lines {
        let mut f = l.split(',');
        let (k, s, n) = (f.next(), f.next(), f.next());
        let (Some(k), Some(s), Some(n)) = (k, s, n) else {
            panic!("bad output line {l:?}")
        };
        got.entry(k.to_string())
            .or_default()
            .push((n.parse().expect("n"), s.parse().expect("sum")));
    }
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>(),
        "keys"
    );
    for (k, rows) in &mut got {
        rows.sort_unstable();
        let (sum, count) = want[k];
        let counts: Vec<u64> = rows.iter().map(|r| r.0).collect();
        assert_eq!(
            counts,
            (1..=count).collect::<Vec<_>>(),
            "key {k}: each record counted exactly once"
        );
        assert_eq!(rows.last().map(|r| r.1), Some(sum), "key {k}: final sum");
    }
}

/// The dead-letter entries of `path`.
pub fn dead_letters(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .map(|t| {
            t.lines()
                .map(|l| serde_json::from_str(l).expect("JSON dead letter"))
                .collect()
        })
        .unwrap_or_default()
}
