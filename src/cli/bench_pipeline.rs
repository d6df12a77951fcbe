//! `weir bench --pipeline FILE.toml --input FILE`: a pipeline file measured end to end.
//!
//! The input is read once before the first run, so that every run finds it in the page cache
//! and the figure does not depend on the disk. Each run is a real `weir run` of the file with
//! `source.path` set to the input; a file sink writes its part files into a temporary
//! directory the bench creates (and removes again: only that directory, which it made), and so
//! does the dead-letter file. Records/s and MB/s of input are reported per run, then the
//! median.

use super::args::{BenchArgs, Cli};
use super::{build, preflight, run};
use crate::error::{Error, EXIT_OK};
use crate::pipeline::spec::{SinkSpec, SourceSpec};
use clap::Parser;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The figures of one run.
#[derive(Clone, Copy, Debug)]
struct Figures {
    /// Records read from the input.
    records_in: u64,
    /// Records written by the sink.
    records_out: u64,
    /// Malformed records sent to the dead-letter output.
    dead_lettered: u64,
    /// Wall time of the job.
    secs: f64,
}

/// A directory the bench created and removes when dropped (nothing else is ever removed).
struct ScratchDir(PathBuf);

impl ScratchDir {
    /// Creates a new directory under the system's temporary directory; fails rather than
    /// reuse one that exists.
    fn create() -> crate::Result<Self> {
        let base = std::env::temp_dir();
        for attempt in 0..100u32 {
            let path = base.join(format!(
                "weir-bench-pipeline-{}-{attempt}",
                std::process::id()
            ));
            match std::fs::create_dir(&path) {
                Ok(()) => return Ok(ScratchDir(path)),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(Error::io(&path, e)),
            }
        }
        Err(Error::Runtime(
            "no free name for a temporary bench directory".into(),
        ))
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Reads `path` to the end once (into the page cache), returning its length in bytes.
fn warm(path: &Path) -> crate::Result<u64> {
    let mut file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0u64;
    loop {
        match file.read(&mut buf) {
            Ok(0) => return Ok(total),
            Ok(n) => total += n as u64,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::io(path, e)),
        }
    }
}

/// The `weir run` arguments of run `n`: the input, the part files and dead letters in `dir`.
fn run_args(
    args: &BenchArgs,
    pipeline: &Path,
    input: &Path,
    dir: &Path,
    n: usize,
    file_sink: bool,
) -> crate::Result<super::args::RunArgs> {
    let mut argv: Vec<std::ffi::OsString> = vec!["weir".into(), "run".into(), pipeline.into()];
    for s in &args.sets {
        argv.extend(["--set".into(), s.into()]);
    }
    let mut set = |field: &str, value: &Path| {
        let mut s = std::ffi::OsString::from(format!("{field}="));
        s.push(value);
        argv.extend(["--set".into(), s]);
    };
    set("source.path", input);
    if file_sink {
        set("sink.path", &dir.join(format!("out-{n}")));
    }
    argv.extend([
        "--dead-letter".into(),
        dir.join(format!("dead-{n}.jsonl")).into(),
    ]);
    if let Some(w) = args.workers {
        argv.extend(["--workers".into(), w.to_string().into()]);
    }
    match Cli::try_parse_from(argv) {
        Ok(Cli {
            command: super::args::Command::Run(r),
        }) => Ok(r),
        Ok(_) => Err(Error::Runtime("bench: not a run command".into())),
        Err(e) => Err(Error::Config(vec![e.to_string()])),
    }
}

/// Checks that the pipeline reads one file and writes files (or nothing), as the bench needs;
/// true when it writes files.
fn check_plan(pipeline: &Path, sets: &[String]) -> crate::Result<bool> {
    let plan = crate::pipeline::load(pipeline, sets)?;
    let mut errors = Vec::new();
    if plan.graph.is_some() {
        errors.push("--pipeline: graph pipelines ([[stages]]) are not supported yet".into());
    }
    if !matches!(plan.source, SourceSpec::File { .. }) {
        errors.push("--pipeline: the pipeline's source must be a file (type = \"file\")".into());
    }
    if !matches!(plan.sink, SinkSpec::File { .. } | SinkSpec::Null) {
        errors.push("--pipeline: the pipeline's sink must be a file or null sink".into());
    }
    if errors.is_empty() {
        Ok(matches!(plan.sink, SinkSpec::File { .. }))
    } else {
        Err(Error::Config(errors))
    }
}

/// One run of the pipeline.
fn run_once(
    args: &BenchArgs,
    pipeline: &Path,
    input: &Path,
    n: usize,
    file_sink: bool,
) -> crate::Result<Figures> {
    let dir = ScratchDir::create()?;
    let run_args = run_args(args, pipeline, input, &dir.0, n, file_sink)?;
    let plan = crate::pipeline::load(&run_args.pipeline, &run_args.sets)?;
    let mut config = run::run_config(&plan, &run_args)?;
    preflight::prepare(&plan, &run_args, &mut config)?;
    let report = build::job(&plan).run(&config)?;
    if report.records_in == 0 && report.dead_lettered > 0 {
        return Err(nothing_read(&config.dead_letter_path, report.dead_lettered));
    }
    Ok(Figures {
        records_in: report.records_in,
        records_out: report.sink.records,
        dead_lettered: report.dead_lettered,
        secs: report.elapsed.as_secs_f64(),
    })
}

/// The error of a run whose every record was malformed: a rate of 0 would measure nothing, so
/// the bench stops and shows why, from the first dead letter.
fn nothing_read(dead_letters: &Path, count: u64) -> Error {
    // Only the first line: the file holds every line of the input.
    let first = std::fs::File::open(dead_letters)
        .ok()
        .and_then(|file| {
            let mut line = String::new();
            std::io::BufRead::read_line(&mut std::io::BufReader::new(file), &mut line).ok()?;
            let v: serde_json::Value = serde_json::from_str(&line).ok()?;
            Some(format!(
                "line {}: {}",
                v.get("line")?,
                v.get("reason")?.as_str()?
            ))
        })
        .unwrap_or_else(|| "no dead letter could be read back".into());
    Error::Config(vec![format!(
        "--input: no record was read; all {count} went to the dead-letter output (first: {first})"
    )])
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

/// Runs `weir bench --pipeline FILE --input FILE`.
///
/// # Errors
/// A pipeline that does not read a file, an unreadable input, engine failures.
pub fn run(args: &BenchArgs, pipeline: &Path) -> crate::Result<i32> {
    let Some(input) = args.input.as_deref() else {
        return Err(Error::Config(vec![
            "--pipeline: needs --input FILE (the file the pipeline reads)".into(),
        ]));
    };
    let file_sink = check_plan(pipeline, &args.sets)?;
    let bytes = warm(input)?;
    let runs = args.runs.max(1);
    let mut all = Vec::with_capacity(runs);
    for n in 1..=runs {
        let f = run_once(args, pipeline, input, n, file_sink)?;
        let rate = f.records_in as f64 / f.secs.max(1e-9);
        eprintln!(
            "run {n}: {:.2} M records/s, {:.1} MB/s ({:.3} s, in={} out={} dead_lettered={})",
            rate / 1e6,
            bytes as f64 / f.secs.max(1e-9) / 1e6,
            f.secs,
            f.records_in,
            f.records_out,
            f.dead_lettered
        );
        all.push(f);
    }
    let rate = median(
        all.iter()
            .map(|f| f.records_in as f64 / f.secs.max(1e-9))
            .collect(),
    );
    let mbps = median(
        all.iter()
            .map(|f| bytes as f64 / f.secs.max(1e-9) / 1e6)
            .collect(),
    );
    let last = all.last().copied().unwrap_or(Figures {
        records_in: 0,
        records_out: 0,
        dead_lettered: 0,
        secs: 0.0,
    });
    let workers = args
        .workers
        .map_or_else(|| "pipeline".to_string(), |w| w.to_string());
    println!(
        "pipeline={} input_bytes={bytes} records_in={} records_out={} dead_lettered={} \
         workers={workers} runs={runs} records_per_s={rate:.0} mb_per_s={mbps:.1}",
        pipeline.display(),
        last.records_in,
        last.records_out,
        last.dead_lettered,
    );
    if let Some(path) = &args.json {
        let json = serde_json::json!({
            "pipeline": pipeline.display().to_string(),
            "input": input.display().to_string(),
            "input_bytes": bytes,
            "records_in": last.records_in,
            "records_out": last.records_out,
            "dead_lettered": last.dead_lettered,
            "workers": args.workers,
            "runs": runs,
            "records_per_s": rate,
            "mb_per_s": mbps,
            "run_seconds": all.iter().map(|f| f.secs).collect::<Vec<_>>(),
        });
        std::fs::write(path, serde_json::to_vec_pretty(&json).unwrap_or_default())
            .map_err(|e| Error::io(path, e))?;
    }
    Ok(EXIT_OK)
}
