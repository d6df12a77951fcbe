//! `weir bench --nexmark qN|all --rate R [--duration 10s] [--workers N] [--json FILE]`: open-loop
//! end-to-end latency of the Nexmark query files.
//!
//! Each query runs as in the throughput bench ([`super::bench_nexmark`]: the built-in file,
//! flink mode, checkpoints every 10 s into a temporary directory), except that its Nexmark
//! sources emit the stream's events on a wall-clock schedule — event count `i` at
//! `t0 + i/R` ([`crate::nexmark::open_loop`]), never waiting for the engine — and its sinks
//! record, per output row, `now − scheduled time` of the input that made it determinable.
//! That time travels as a stamp per batch through every stage ([`crate::runtime::stamp`]
//! says how and why). `--rate 50%` offers half of the query's peak throughput, measured
//! first by a closed-loop run of the same query.
//!
//! Event time runs [`EVENT_TIME_SPEEDUP`] times as fast as the schedule (the generator's
//! event-time `rate` is that multiple of the offered rate), so that a query's 10 s windows
//! close every second of a run and a 10 s run yields several firings (at wall-clock speed a
//! 10 s run would see one). Latency does not depend on it: it is charged from scheduled
//! wall-clock times, never from event time.
//!
//! Achieved rate: the stream's events over the time from `t0` to the last emission by any
//! split (a split that falls behind emits late, and backpressure makes it fall behind when the
//! engine does); a run is sustained, as every `--rate` run, at 98 % of the offered rate.

use super::args::BenchArgs;
use super::bench_latency::{print_table, Outcome};
use super::bench_nexmark::{plan, select, CHECKPOINT_EVERY};
use super::latency_io::{self, LatencyIo};
use crate::error::{Error, EXIT_OK};
use crate::metrics::latency::{LatencyRecorder, PERCENTILES};
use crate::nexmark::open_loop::Schedule;
use crate::pipeline::{Plan, SinkSpec};
use crate::record::Row;
use crate::runtime::{stamp, CheckpointConfig, RunConfig};
use crate::sink::latency::LatencySink;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Event-time seconds per wall-clock second of the schedule (see the module doc).
pub const EVENT_TIME_SPEEDUP: f64 = 10.0;
/// The plan of a latency run: the throughput bench's (flink mode, null sinks), with the
/// event-time rate [`EVENT_TIME_SPEEDUP`] times the offered rate.
fn latency_plan(name: &str, text: &str, events: u64, offered: f64) -> crate::Result<Plan> {
    // N events span N / event_rate seconds of event time and N / offered of wall time.
    let event_rate = ((offered / EVENT_TIME_SPEEDUP).round() as u64).max(1);
    let sets = [
        format!("source.events={events}"),
        "source.mode=\"flink\"".to_string(),
        format!("source.rate={event_rate}"),
    ];
    let mut plan = crate::pipeline::parse_str(text, &sets)?;
    plan.name = format!("nexmark-{name}");
    plan.sink = SinkSpec::Null;
    if let Some(graph) = &mut plan.graph {
        graph
            .sink_specs
            .iter_mut()
            .for_each(|s| *s = SinkSpec::Null);
    }
    Ok(plan)
}

/// Events of the first closed-loop probe of a `--rate P%` run.
const PROBE_EVENTS: u64 = 500_000;
/// A probe shorter than this is repeated with more events (to about [`PROBE_TARGET_S`]).
const PROBE_MIN_S: f64 = 1.0;
const PROBE_TARGET_S: f64 = 3.0;
const PROBE_MAX_EVENTS: u64 = 50_000_000;

/// What `--rate` offers: events per second, or a share of the measured peak.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Offered {
    /// Events per second of the whole stream.
    Rate(f64),
    /// This share (0..=1] of the query's peak throughput at the same worker count.
    Share(f64),
}

/// Parses `1M/s`, `250000` or `50%`.
///
/// # Errors
/// A message naming the flag.
pub fn parse_offered(text: &str) -> Result<Offered, String> {
    if text.contains(',') {
        return Err("--rate: a Nexmark latency run takes one rate (no sweep)".into());
    }
    match text.trim().strip_suffix('%') {
        Some(p) => match p.trim().parse::<f64>() {
            Ok(v) if v > 0.0 && v <= 100.0 => Ok(Offered::Share(v / 100.0)),
            _ => Err(format!(
                "--rate: {text:?} is not a share of the peak (e.g. 50%)"
            )),
        },
        None => super::bench_latency::parse_rate(text).map(Offered::Rate),
    }
}

/// One query's latency run.
struct QueryLatency {
    query: String,
    outcome: Outcome,
    /// Output rows that reached a sink without a stamp (0 unless a path loses stamps).
    unstamped: u64,
    /// Closed-loop events/s measured for `--rate P%`.
    peak: Option<f64>,
    /// Worker threads.
    workers: usize,
}

/// The checkpoint settings of a run of `query` and whether its directory is ours to remove.
fn checkpoints(
    args: &BenchArgs,
    query: &str,
    tag: &str,
) -> crate::Result<(CheckpointConfig, bool)> {
    let scratch = format!("weir-nexmark-latency-{}-{query}{tag}", std::process::id());
    super::bench_nexmark::bench_checkpoints(args, &format!("{query}{tag}"), &scratch)
}

/// The run config of `plan` with the bench's workers and checkpoints.
fn run_config(args: &BenchArgs, plan: &crate::pipeline::Plan, ck: CheckpointConfig) -> RunConfig {
    let mut config = plan.run_config();
    if let Some(w) = args.workers {
        config.workers = w;
    }
    config.checkpoint = Some(ck);
    config
}

/// Runs `job` with checkpoints in `ck`, removing the directory afterwards if it is ours.
fn run_job(
    job: crate::runtime::Job,
    config: &RunConfig,
    ours: bool,
) -> crate::Result<crate::runtime::JobReport> {
    let report = job.run(config);
    if let (true, Some(ck)) = (ours, &config.checkpoint) {
        let _ = std::fs::remove_dir_all(&ck.dir);
    }
    report
}

/// Closed-loop events/s of a query (the peak a `--rate P%` run takes its share of).
fn peak(args: &BenchArgs, name: &str, text: &str) -> crate::Result<f64> {
    let mut events = PROBE_EVENTS;
    loop {
        let plan = plan(name, text, events)?;
        let (ck, ours) = checkpoints(args, name, "-peak")?;
        let config = run_config(args, &plan, ck);
        let report = run_job(crate::cli::build::job(&plan), &config, ours)?;
        let secs = report.elapsed.as_secs_f64().max(1e-6);
        let rate = events as f64 / secs;
        if secs >= PROBE_MIN_S || events >= PROBE_MAX_EVENTS {
            return Ok(rate);
        }
        events = ((rate * PROBE_TARGET_S) as u64).clamp(events + 1, PROBE_MAX_EVENTS);
    }
}

/// One open-loop run of a query at `offered` events/s for `args.duration`.
fn run_query(
    args: &BenchArgs,
    name: &str,
    text: &str,
    offered: f64,
) -> crate::Result<QueryLatency> {
    let events = ((offered * args.duration.as_secs_f64()).ceil() as u64).max(1);
    let plan = latency_plan(name, text, events, offered)?;
    let (ck, ours) = checkpoints(args, name, "")?;
    let config = run_config(args, &plan, ck);
    let schedule = Schedule::new(offered);
    let unstamped = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&unstamped);
    // An output without a stamp is counted, and is no sample (a stamp after its receipt).
    let sink = LatencySink::new(
        Arc::new(move |_: &Row| match stamp::current() {
            stamp::NONE => {
                counter.fetch_add(1, Ordering::Relaxed);
                u64::MAX
            }
            s => s,
        }),
        Arc::clone(&schedule.origin),
    );
    let io = LatencyIo {
        schedule: Arc::clone(&schedule),
        sink: sink.clone(),
    };
    let on = stamp::enable();
    let job = latency_io::with(io, || crate::cli::build::job(&plan));
    let report = run_job(job, &config, ours);
    drop(on);
    let report = report?;
    let origin = schedule.origin.get().copied().unwrap_or(0);
    let merged = sink
        .merged()
        .unwrap_or_else(|| LatencyRecorder::new(origin));
    let last = schedule.last_emit_ns.load(Ordering::Relaxed);
    let span = last.saturating_sub(origin).max(1) as f64 / 1e9;
    let latency = merged.report();
    Ok(QueryLatency {
        query: name.to_string(),
        outcome: Outcome {
            offered,
            achieved: events as f64 / span,
            samples: latency.all.len(),
            checkpoints: report.checkpoints.len(),
            report: latency,
        },
        unstamped: unstamped.load(Ordering::Relaxed),
        peak: None,
        workers: config.workers,
    })
}

/// Runs `weir bench --nexmark Q --rate R`: a table per query, and the JSON with `--json`.
///
/// # Errors
/// An unknown query, a bad `--rate` or `--duration`, engine failures, an unwritable file.
pub fn run(args: &BenchArgs, which: &str) -> crate::Result<i32> {
    let text = args.rate.as_deref().unwrap_or_default();
    let offered = parse_offered(text).map_err(|e| Error::Config(vec![e]))?;
    if args.duration.is_zero() {
        return Err(Error::Config(vec![
            "--duration: must be more than zero".into()
        ]));
    }
    let queries = select(which)?;
    let mut all = Vec::with_capacity(queries.len());
    for (name, text) in queries {
        let (rate, peak) = match offered {
            Offered::Rate(r) => (r, None),
            Offered::Share(share) => {
                let p = peak(args, name, text)?;
                println!(
                    "nexmark={name} peak_events_per_s={p:.0} (closed loop) offered share={share}"
                );
                (p * share, Some(p))
            }
        };
        let mut q = run_query(args, name, text, rate)?;
        q.peak = peak;
        let config = RunConfig {
            workers: q.workers,
            ..RunConfig::default()
        };
        print_table(&format!("nexmark-{name}"), &config, &q.outcome);
        if q.unstamped > 0 {
            println!("unstamped_outputs={} (not counted as samples)", q.unstamped);
        }
        all.push(q);
    }
    if let Some(path) = &args.json {
        write_json(path, args, &all)?;
    }
    Ok(EXIT_OK)
}

fn query_json(q: &QueryLatency) -> serde_json::Value {
    let o = &q.outcome;
    let lat: serde_json::Map<String, serde_json::Value> = PERCENTILES
        .iter()
        .map(|(l, p)| (l.to_string(), serde_json::json!(o.us(*p))))
        .collect();
    serde_json::json!({
        "query": q.query, "offered_rate": o.offered, "achieved_rate": o.achieved,
        "sustained": o.sustained(), "latency_us": lat, "samples": o.samples,
        "unstamped": q.unstamped, "checkpoints": o.checkpoints,
        "checkpoint_base_share": o.report.checkpoint_base_share(),
        "peak_events_per_s": q.peak,
    })
}

fn write_json(path: &PathBuf, args: &BenchArgs, all: &[QueryLatency]) -> crate::Result<()> {
    let json = serde_json::json!({
        "benchmark": "nexmark-latency",
        "generator": "in-process, open loop, flink mode, event-time rate as in the query file",
        "rate": args.rate,
        "duration_s": args.duration.as_secs_f64(),
        "workers": all.first().map(|q| q.workers),
        "checkpoint_interval_s": args.checkpoint_interval.unwrap_or(CHECKPOINT_EVERY).as_secs_f64(),
        "load_average": std::fs::read_to_string("/proc/loadavg").ok().map(|l| l.trim().to_string()),
        "queries": all.iter().map(query_json).collect::<Vec<_>>(),
    });
    let text = serde_json::to_string_pretty(&json)
        .map_err(|e| Error::Runtime(format!("bench json: {e}")))?;
    std::fs::write(path, text + "\n").map_err(|e| Error::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_and_shares_parse() {
        assert_eq!(parse_offered("1M/s"), Ok(Offered::Rate(1e6)));
        assert_eq!(parse_offered("50%"), Ok(Offered::Share(0.5)));
        assert!(parse_offered("0%").is_err());
        assert!(parse_offered("150%").is_err());
        assert!(parse_offered("1M/s,2M/s").is_err());
        assert!(parse_offered("fast").is_err());
    }
}
