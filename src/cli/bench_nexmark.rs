//! `weir bench --nexmark qN|all`: the Nexmark query files (`fixtures/nexmark/qN.toml`, built
//! into the binary) with the in-process generator as source and a null sink, events/s.
//!
//! As in every published Nexmark figure, the generator runs inside the measured job: the
//! sources generate the events (flink mode, as nexmark-flink: bids carry channel and url; the
//! V1 event-time rate of 10M/s) on the workers. Checkpoints are on, every 10 s by default
//! (`--checkpoint-interval`), into a fresh temporary directory removed afterwards (or into
//! `--checkpoint-dir`, which is kept). Events/s counts every event of the generated stream
//! (all kinds, `--events` of them), whatever the query reads. With `--runs N` each query runs
//! N times and the run of median events/s is reported; each run also reports the CPU time of
//! the whole process (user + system, all threads), since on a shared machine events per
//! CPU-second are steadier than events per wall-clock second.

use super::args::BenchArgs;
use crate::error::{Error, EXIT_OK};
use crate::pipeline::{Plan, SinkSpec};
use crate::runtime::{CheckpointConfig, RestoreFrom};
use std::time::Duration;

/// The query files, by name (`all` runs them in this order).
pub const QUERIES: &[(&str, &str)] = &[
    ("q0", include_str!("../../fixtures/nexmark/q0.toml")),
    ("q1", include_str!("../../fixtures/nexmark/q1.toml")),
    ("q2", include_str!("../../fixtures/nexmark/q2.toml")),
    ("q3", include_str!("../../fixtures/nexmark/q3.toml")),
    ("q4", include_str!("../../fixtures/nexmark/q4.toml")),
    ("q5", include_str!("../../fixtures/nexmark/q5.toml")),
    ("q7", include_str!("../../fixtures/nexmark/q7.toml")),
    ("q8", include_str!("../../fixtures/nexmark/q8.toml")),
    ("q9", include_str!("../../fixtures/nexmark/q9.toml")),
    ("q11", include_str!("../../fixtures/nexmark/q11.toml")),
    ("q12", include_str!("../../fixtures/nexmark/q12.toml")),
    ("q14", include_str!("../../fixtures/nexmark/q14.toml")),
    ("q15", include_str!("../../fixtures/nexmark/q15.toml")),
    ("q16", include_str!("../../fixtures/nexmark/q16.toml")),
    ("q17", include_str!("../../fixtures/nexmark/q17.toml")),
    ("q18", include_str!("../../fixtures/nexmark/q18.toml")),
    ("q19", include_str!("../../fixtures/nexmark/q19.toml")),
    ("q20", include_str!("../../fixtures/nexmark/q20.toml")),
];

/// Default time between checkpoints of a Nexmark run.
pub(super) const CHECKPOINT_EVERY: Duration = Duration::from_secs(10);

/// The figures of one query.
#[derive(Clone, Debug, serde::Serialize)]
pub struct QueryFigures {
    /// Query name (`q0`).
    pub query: String,
    /// Events of the generated stream.
    pub events: u64,
    /// Worker threads.
    pub workers: usize,
    /// Wall time of the job, seconds.
    pub elapsed_s: f64,
    /// Events per second.
    pub events_per_s: f64,
    /// Events per second per worker.
    pub events_per_s_per_core: f64,
    /// Rows the query wrote.
    pub outputs: u64,
    /// Completed checkpoints.
    pub checkpoints: usize,
    /// CPU seconds of the process during the run (user + system, all threads), if known.
    pub cpu_s: Option<f64>,
    /// Events per CPU-second, if the CPU time is known.
    pub events_per_cpu_s: Option<f64>,
    /// Events/s of every run, in run order (the figures above are the median run's).
    pub runs_events_per_s: Vec<f64>,
}

/// CPU time of this process so far (user + system of all its threads), from
/// `/proc/self/stat` in clock ticks of 1/100 s (Linux's `USER_HZ`); `None` elsewhere.
fn process_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces) start at field 3 (`state`):
    // `utime` and `stime` are fields 14 and 15.
    let rest = stat.get(stat.rfind(')')? + 1..)?;
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some((utime + stime) as f64 / 100.0)
}

/// Runs one query `runs` times (at least once) and keeps the run of median events/s.
///
/// # Errors
/// As [`run_query`].
pub fn run_median(args: &BenchArgs, name: &str, text: &str) -> crate::Result<QueryFigures> {
    let mut all = Vec::new();
    for _ in 0..args.runs.max(1) {
        all.push(run_query(args, name, text)?);
    }
    let rates: Vec<f64> = all.iter().map(|f| f.events_per_s).collect();
    all.sort_by(|a, b| a.events_per_s.total_cmp(&b.events_per_s));
    let mut median = all.swap_remove(all.len() / 2);
    median.runs_events_per_s = rates;
    Ok(median)
}

/// The queries `which` names: one name or `all`.
///
/// # Errors
/// [`Error::Config`] listing the known queries.
pub fn select(which: &str) -> crate::Result<Vec<(&'static str, &'static str)>> {
    if which == "all" {
        return Ok(QUERIES.to_vec());
    }
    QUERIES
        .iter()
        .find(|(name, _)| *name == which)
        .map(|q| vec![*q])
        .ok_or_else(|| {
            let names: Vec<&str> = QUERIES.iter().map(|(n, _)| *n).collect();
            Error::Config(vec![format!(
                "--nexmark: unknown query {which:?} (expected all, {})",
                names.join(", ")
            )])
        })
}

/// The plan of query `text` over `events` flink-mode events, writing to null sinks.
///
/// # Errors
/// [`Error::Config`] if the built-in file does not validate.
pub fn plan(name: &str, text: &str, events: u64) -> crate::Result<Plan> {
    let sets = [
        format!("source.events={events}"),
        "source.mode=\"flink\"".to_string(),
    ];
    let mut plan = crate::pipeline::parse_str(text, &sets)?;
    plan.name = format!("nexmark-{name}");
    plan.sink = SinkSpec::Null;
    if let Some(graph) = &mut plan.graph {
        for spec in &mut graph.sink_specs {
            *spec = SinkSpec::Null;
        }
    }
    Ok(plan)
}

/// The checkpoint settings of a Nexmark bench run: `--checkpoint-dir`/`sub` (kept), or a fresh
/// temporary directory named `scratch` (refused if it exists; then it is ours to remove, the
/// returned flag), every `--checkpoint-interval` (10 s by default), one retained.
///
/// # Errors
/// The temporary directory exists already or cannot be created.
pub(super) fn bench_checkpoints(
    args: &BenchArgs,
    sub: &str,
    scratch: &str,
) -> crate::Result<(CheckpointConfig, bool)> {
    let (dir, ours) = match &args.checkpoint_dir {
        Some(d) => (d.join(sub), false),
        None => (super::scratch::fresh_temp_dir(scratch)?, true),
    };
    let config = CheckpointConfig {
        dir,
        interval: args.checkpoint_interval.unwrap_or(CHECKPOINT_EVERY),
        retain: 1,
        restore: RestoreFrom::None,
        restore_required: false,
        allow_at_least_once: false,
        lineage: None,
    };
    Ok((config, ours))
}

/// Runs one query and returns its figures.
///
/// # Errors
/// Engine failures, an unusable checkpoint directory.
pub fn run_query(args: &BenchArgs, name: &str, text: &str) -> crate::Result<QueryFigures> {
    let plan = plan(name, text, args.events)?;
    let mut config = plan.run_config();
    if let Some(w) = args.workers {
        config.workers = w;
    }
    let scratch = format!("weir-nexmark-bench-{}-{name}", std::process::id());
    let (checkpoint, ours) = bench_checkpoints(args, name, &scratch)?;
    let dir = checkpoint.dir.clone();
    config.checkpoint = Some(checkpoint);
    let cpu_before = process_cpu_seconds();
    let report = crate::cli::build::job(&plan).run(&config);
    let cpu_s = cpu_before
        .zip(process_cpu_seconds())
        .map(|(before, after)| after - before);
    if ours {
        let _ = std::fs::remove_dir_all(&dir);
    }
    let report = report?;
    let secs = report.elapsed.as_secs_f64().max(1e-9);
    let rate = args.events as f64 / secs;
    Ok(QueryFigures {
        query: name.to_string(),
        events: args.events,
        workers: config.workers,
        elapsed_s: secs,
        events_per_s: rate,
        events_per_s_per_core: rate / config.workers.max(1) as f64,
        outputs: report.sink.records,
        checkpoints: report.checkpoints.len(),
        cpu_s,
        events_per_cpu_s: cpu_s.filter(|&c| c > 0.0).map(|c| args.events as f64 / c),
        runs_events_per_s: vec![rate],
    })
}

/// Runs `weir bench --nexmark`: prints one line per query, and the JSON with `--json`.
///
/// # Errors
/// An unknown query, engine failures, an unwritable JSON file.
pub fn run(args: &BenchArgs, which: &str) -> crate::Result<i32> {
    let queries = select(which)?;
    let mut all = Vec::with_capacity(queries.len());
    for (name, text) in queries {
        let f = run_median(args, name, text)?;
        println!(
            "nexmark={} events={} workers={} elapsed_s={:.3} events_per_s={:.0} \
             events_per_s_per_core={:.0} events_per_cpu_s={:.0} outputs={} checkpoints={}",
            f.query,
            f.events,
            f.workers,
            f.elapsed_s,
            f.events_per_s,
            f.events_per_s_per_core,
            f.events_per_cpu_s.unwrap_or(0.0),
            f.outputs,
            f.checkpoints
        );
        all.push(f);
    }
    if let Some(path) = &args.json {
        let json = serde_json::json!({
            "benchmark": "nexmark",
            "generator": "in-process, flink mode, event-time rate 10M/s",
            "checkpoint_interval_s": args.checkpoint_interval.unwrap_or(CHECKPOINT_EVERY).as_secs_f64(),
            "runs": args.runs.max(1),
            "load_average": std::fs::read_to_string("/proc/loadavg").ok().map(|l| l.trim().to_string()),
            "queries": all,
        });
        let text = serde_json::to_string_pretty(&json)
            .map_err(|e| Error::Runtime(format!("bench json: {e}")))?;
        std::fs::write(path, text + "\n").map_err(|e| Error::io(path, e))?;
    }
    Ok(EXIT_OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_query_validates_with_null_sinks() {
        for (name, text) in QUERIES {
            let p = plan(name, text, 1000).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(p.sink, SinkSpec::Null);
        }
        assert!(matches!(select("q99"), Err(Error::Config(_))));
        assert_eq!(select("all").map(|q| q.len()).ok(), Some(QUERIES.len()));
    }
}
