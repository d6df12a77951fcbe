//! Helpers of the checkpoint tests: run the real `weir` binary on generated input in
//! temporary directories, kill it mid-run, read the committed output, edit checkpoints.
//!
//! Every `tests/checkpoint_*.rs` file includes this module; each uses part of it.
#![allow(dead_code)]

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// A rate-limited generator pipeline (about 1 s of input at the given `rate`) with a rolling
/// count per key, written to `out/`: its committed output has every `key,n` line exactly once,
/// whatever the worker interleaving, so crashes and stops can be checked line for line.
pub fn rate_limited_count(events: u64, rate: u64) -> String {
    format!(
        "[source]\ntype = \"generator\"\nevents = {events}\nkeys = 300\nrate = {rate}\n\
         [[ops]]\ntype = \"key_by\"\nkey = [\"key\"]\n\
         [[ops]]\ntype = \"rolling\"\naggregates = [ {{ fn = \"count\", as = \"n\" }} ]\n\
         [sink]\ntype = \"file\"\npath = \"out\"\n"
    )
}

/// Asserts that `lines` (sorted) has `expected` lines and no line twice.
pub fn assert_exactly_once(lines: &[String], expected: usize, what: &str) {
    assert_eq!(lines.len(), expected, "{what}: lines lost or duplicated");
    assert!(
        lines.windows(2).all(|w| w[0] != w[1]),
        "{what}: duplicated lines"
    );
}

/// Exit code of an unusable checkpoint.
pub const EXIT_CHECKPOINT: i32 = 78;

/// The `weir` binary built for these tests.
pub fn weir() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_weir"));
    cmd.env_remove("RUST_LOG");
    cmd
}

/// A pipeline of `fixtures/crash/`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/crash")
        .join(format!("{name}.toml"))
}

/// Runs a command to its end, capturing its output.
pub fn output(cmd: &mut Command) -> Output {
    cmd.stdin(Stdio::null())
        .output()
        .expect("cannot run the weir binary")
}

/// Standard error as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Asserts an exit code, showing standard error when it differs.
pub fn assert_exit(out: &Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "exit status {:?}, expected {code}; stderr:\n{}",
        out.status,
        stderr(out)
    );
}

/// A scenario directory: generated input, pipeline, output and checkpoint directories.
pub struct Scenario {
    /// Keeps the directory alive (`None` for a directory owned elsewhere).
    _tmp: Option<tempfile::TempDir>,
    /// The scenario's directory.
    pub dir: PathBuf,
    /// The input CSV (`key,value,ts`).
    pub input: PathBuf,
    /// The pipeline file.
    pub pipeline: PathBuf,
}

impl Scenario {
    /// A new temporary scenario: `events` generated events over `keys` keys, fixture
    /// pipeline `pipeline`.
    pub fn new(pipeline: &str, events: u64, keys: u64) -> Scenario {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().to_path_buf();
        let mut s = Scenario::in_dir(dir, pipeline);
        s._tmp = Some(tmp);
        s.generate(events, keys);
        s
    }

    /// A scenario in an existing directory (input not generated yet).
    pub fn in_dir(dir: PathBuf, pipeline: &str) -> Scenario {
        Scenario {
            _tmp: None,
            input: dir.join("events.csv"),
            pipeline: fixture(pipeline),
            dir,
        }
    }

    /// Writes the input with `weir gen`.
    pub fn generate(&self, events: u64, keys: u64) {
        let out = output(
            weir()
                .args(["gen", "--events", &events.to_string()])
                .args(["--keys", &keys.to_string(), "--out"])
                .arg(&self.input),
        );
        assert_exit(&out, 0);
    }

    /// `DIR/name`.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// `weir run` of the scenario's pipeline into output directory `out`, unpinned.
    pub fn run_cmd(&self, out: &Path) -> Command {
        let mut cmd = weir();
        cmd.arg("run")
            .arg(&self.pipeline)
            .arg("--set")
            .arg(format!("source.path={}", self.input.display()))
            .arg("--set")
            .arg(format!("sink.path={}", out.display()))
            .arg("--no-pin")
            .current_dir(&self.dir);
        cmd
    }

    /// `run_cmd` with checkpoints into `ckpt` every `interval`, `workers` workers.
    pub fn ckpt_cmd(&self, out: &Path, ckpt: &Path, interval: &str, workers: usize) -> Command {
        let mut cmd = self.run_cmd(out);
        cmd.arg("--checkpoint-dir")
            .arg(ckpt)
            .args(["--checkpoint-interval", interval])
            .args(["--workers", &workers.to_string()]);
        cmd
    }

    /// The sorted output of a clean run without checkpoints.
    pub fn reference(&self, workers: usize) -> Vec<String> {
        let out = self.path(&format!("reference-{workers}"));
        let done = output(self.run_cmd(&out).args(["--workers", &workers.to_string()]));
        assert_exit(&done, 0);
        committed(&out)
    }
}

/// The committed output of a file sink directory: the lines of every `part-*` file, sorted.
pub fn committed(out: &Path) -> Vec<String> {
    let mut lines = Vec::new();
    let Ok(entries) = fs::read_dir(out) else {
        return lines;
    };
    for entry in entries {
        let entry = entry.expect("read_dir");
        if entry.file_name().to_string_lossy().starts_with("part-") {
            let text = fs::read_to_string(entry.path()).expect("read part file");
            lines.extend(text.lines().map(str::to_string));
        }
    }
    lines.sort_unstable();
    lines
}

/// Hidden (`.part-*`) files of a file sink directory.
pub fn hidden(out: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(out)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with(".part-"))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Asserts that two sorted outputs are equal, naming the counts of missing and extra lines
/// and the first few of each rather than dumping everything.
pub fn assert_same_output(got: &[String], want: &[String], what: &str) {
    if got == want {
        return;
    }
    let (mut lost, mut extra) = (Vec::new(), Vec::new());
    let (mut i, mut j) = (0, 0);
    while i < want.len() || j < got.len() {
        match (want.get(i), got.get(j)) {
            (Some(a), Some(b)) if a == b => {
                i += 1;
                j += 1;
            }
            (Some(a), Some(b)) if a < b => {
                lost.push(a.clone());
                i += 1;
            }
            (Some(a), None) => {
                lost.push(a.clone());
                i += 1;
            }
            (_, Some(b)) => {
                extra.push(b.clone());
                j += 1;
            }
            (None, None) => unreachable!(),
        }
    }
    panic!(
        "{what}: output differs from the clean run: {} lost (e.g. {:?}), {} duplicated/extra (e.g. {:?})",
        lost.len(),
        &lost[..lost.len().min(5)],
        extra.len(),
        &extra[..extra.len().min(5)]
    );
}

/// Asserts that `part` is a sub-multiset of `whole` (both sorted): committed output before a
/// restore holds no line the clean run does not have.
pub fn assert_sub_multiset(part: &[String], whole: &[String], what: &str) {
    let mut j = 0;
    for line in part {
        while j < whole.len() && whole[j] < *line {
            j += 1;
        }
        assert!(
            j < whole.len() && whole[j] == *line,
            "{what}: committed line {line:?} is not in the clean run's output (or is there fewer times)"
        );
        j += 1;
    }
}

/// Ids of the checkpoint directories of `ckpt` that have a MANIFEST, ascending.
pub fn complete_ids(ckpt: &Path) -> Vec<u64> {
    let mut ids: Vec<u64> = fs::read_dir(ckpt)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter(|e| e.path().join("MANIFEST").is_file())
                .filter_map(|e| {
                    e.file_name()
                        .to_str()
                        .and_then(|n| n.strip_prefix("chk-"))
                        .and_then(|d| d.parse().ok())
                })
                .collect()
        })
        .unwrap_or_default();
    ids.sort_unstable();
    ids
}

/// `ckpt/chk-NNNNNNNNNN`.
pub fn chk(ckpt: &Path, id: u64) -> PathBuf {
    ckpt.join(format!("chk-{id:010}"))
}

/// The ids of the complete checkpoints `weir inspect ckpt` lists.
pub fn inspect_complete(ckpt: &Path) -> Vec<u64> {
    if !ckpt.is_dir() {
        return Vec::new();
    }
    let out = output(weir().arg("inspect").arg(ckpt));
    if !out.status.success() {
        return Vec::new();
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.split_whitespace().nth(3) == Some("complete"))
        .filter_map(|l| l.split_whitespace().next()?.parse().ok())
        .collect()
}

/// Spawns `cmd` (stderr captured), waits until `weir inspect` lists at least `min` complete
/// checkpoints newer than those present before, then kills it with SIGKILL. Panics when the
/// run ends first (the input is then too small to be killed mid-run) and when a finished
/// checkpoint exists after the kill. Returns the captured stderr.
pub fn kill_after_checkpoints(cmd: &mut Command, ckpt: &Path, min: usize) -> String {
    let before = complete_ids(ckpt).last().copied().unwrap_or(0);
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn weir");
    let err = drain_stderr(&mut child);
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            panic!(
                "weir ended ({status}) before {min} new checkpoint(s) could be seen; stderr:\n{}",
                err.join().unwrap_or_default()
            );
        }
        if inspect_complete(ckpt)
            .iter()
            .filter(|&&id| id > before)
            .count()
            >= min
        {
            break;
        }
        thread::sleep(Duration::from_millis(2));
    }
    child.kill().expect("kill -9");
    let status = child.wait().expect("wait");
    let text = err.join().unwrap_or_default();
    assert!(
        !status.success(),
        "weir finished before it was killed: {text}"
    );
    assert!(
        !finished_exists(ckpt),
        "weir wrote its final checkpoint before it was killed; use more input"
    );
    text
}

/// Runs `cmd` with the `after-manifest` crash point (`WEIR_CRASH_AT`) set at the `n`-th
/// checkpoint after those present before, so the process aborts (like `kill -9`) right after
/// that checkpoint's MANIFEST is committed: unlike polling and killing, the moment does not
/// depend on how busy the machine is. Panics when the run ends normally first (the input is
/// then too small) or leaves a finished checkpoint. Returns the captured stderr.
pub fn crash_after_checkpoint(cmd: &mut Command, ckpt: &Path, n: u64) -> String {
    let before = complete_ids(ckpt).last().copied().unwrap_or(0);
    let done = output(cmd.env("WEIR_CRASH_AT", format!("after-manifest:{}", before + n)));
    let text = stderr(&done);
    assert!(
        !done.status.success(),
        "weir finished before checkpoint {} (use more input): {text}",
        before + n
    );
    assert!(
        complete_ids(ckpt).contains(&(before + n)),
        "checkpoint {} is not complete after the crash: {text}",
        before + n
    );
    assert!(
        !finished_exists(ckpt),
        "a finished checkpoint exists: {text}"
    );
    text
}

/// Runs `cmd` with the `before-manifest` crash point set for any checkpoint, so the process
/// aborts (like `kill -9`) right before the run's first checkpoint commits: a crash before
/// the run's first checkpoint whose moment, unlike a timed kill, does not depend on the
/// machine's speed (with a long interval, the first checkpoint is the final one at the end
/// of the input: all output is written, none committed).
/// Panics when the run ends normally or a new checkpoint completes. Returns the stderr.
pub fn crash_before_next_checkpoint(cmd: &mut Command, ckpt: &Path) -> String {
    let before = complete_ids(ckpt);
    let done = output(cmd.env("WEIR_CRASH_AT", "before-manifest:*"));
    let text = stderr(&done);
    assert!(!done.status.success(), "weir was not crashed: {text}");
    assert!(text.contains("crash point"), "{text}");
    // A restore may retire newer checkpoints; none may have been added.
    let added: Vec<u64> = complete_ids(ckpt)
        .into_iter()
        .filter(|id| !before.contains(id))
        .collect();
    assert_eq!(added, Vec::<u64>::new(), "a checkpoint completed: {text}");
    text
}

/// Reads a child's stderr to its end on a thread.
pub fn drain_stderr(child: &mut Child) -> thread::JoinHandle<String> {
    let mut pipe = child.stderr.take().expect("stderr piped");
    thread::spawn(move || {
        let mut s = String::new();
        let _ = pipe.read_to_string(&mut s);
        s
    })
}

/// True when a complete checkpoint of `ckpt` is marked finished.
pub fn finished_exists(ckpt: &Path) -> bool {
    complete_ids(ckpt)
        .into_iter()
        .any(|id| read_manifest(&chk(ckpt, id))["finished"] == serde_json::Value::Bool(true))
}

/// Waits for a child with a generous deadline (a hang is a failure, not a slow machine).
pub fn wait_with_deadline(child: &mut Child, deadline: Duration) -> ExitStatus {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        if started.elapsed() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("weir did not end within {deadline:?} (deadlock?)");
        }
        thread::sleep(Duration::from_millis(10));
    }
}

/// The JSON body of a checkpoint's MANIFEST.
pub fn read_manifest(chk: &Path) -> serde_json::Value {
    let text = fs::read_to_string(chk.join("MANIFEST")).expect("read MANIFEST");
    let body = manifest_body(&text);
    serde_json::from_str(body).expect("MANIFEST body is JSON")
}

/// The JSON body of a MANIFEST file's text (everything before the checksum line).
fn manifest_body(text: &str) -> &str {
    let content = text.strip_suffix('\n').unwrap_or(text);
    let split = content.rfind('\n').expect("a checksum line");
    &content[..split]
}

/// Rewrites a checkpoint's MANIFEST with `edit` applied to its JSON body; with
/// `fix_checksum` the checksum line is recomputed (CRC32 of the body), else kept as it was.
pub fn edit_manifest(chk: &Path, fix_checksum: bool, edit: impl FnOnce(&mut serde_json::Value)) {
    let path = chk.join("MANIFEST");
    let text = fs::read_to_string(&path).expect("read MANIFEST");
    let old_trailer = text
        .strip_suffix('\n')
        .unwrap_or(&text)
        .rsplit('\n')
        .next()
        .expect("checksum line")
        .to_string();
    let mut body: serde_json::Value = serde_json::from_str(manifest_body(&text)).expect("JSON");
    edit(&mut body);
    let body = serde_json::to_string_pretty(&body).expect("JSON");
    let trailer = if fix_checksum {
        format!("{{\"crc32\":{}}}", crc32fast::hash(body.as_bytes()))
    } else {
        old_trailer
    };
    fs::write(&path, format!("{body}\n{trailer}\n")).expect("write MANIFEST");
}

/// Flips every bit of the byte at `at` (from the end when negative) of `file`.
pub fn flip_byte(file: &Path, at: i64) {
    let mut bytes = fs::read(file).expect("read");
    let i = if at < 0 {
        bytes.len() - at.unsigned_abs() as usize
    } else {
        at as usize
    };
    bytes[i] ^= 0xff;
    fs::write(file, bytes).expect("write");
}

/// Copies a directory tree.
pub fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("mkdir");
    for entry in fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).expect("copy");
        }
    }
}
