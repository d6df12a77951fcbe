//! `weir bench --workload w2|w3|w4|w5`: the event-time workloads of WORKLOADS.md as
//! closed-loop throughput runs through the real runtime (generated events with event time,
//! bounded-out-of-orderness watermarks from every source split, keyed operators firing on
//! them), each checked against a single-threaded loop doing the same work with a hash map
//! and a timer structure (the "COST" baseline).
//!
//! The baseline's result is the oracle: every engine run must emit as many records as it,
//! with the same order-independent checksum, or the bench fails. Without `--baseline` the
//! loop runs once (for the check); with it, once per run, interleaved with the engine runs,
//! and its median rate and the ratio are reported.

mod peak;
mod source;
mod w2;
mod w3;
mod w4;
mod w5;
mod windowed;

use super::args::{BenchArgs, Workload};
use crate::error::{Error, EXIT_OK};
use crate::runtime::task::EventTime;
use crate::runtime::RunConfig;
use crate::source::generator::splitmix64;
use crate::time::WatermarkConfig;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// What one run (engine or baseline) produced.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Outcome {
    /// From the first event to the last output.
    pub elapsed: Duration,
    /// Records emitted.
    pub outputs: u64,
    /// Wrapping sum of the workload's output hash over the outputs.
    pub checksum: u64,
    /// The most state entries held at once (sum over workers of each worker's peak): open
    /// windows' keys, remembered ids, buffered join rows.
    pub state_peak: u64,
}

/// An event-time workload: its engine job and its baseline loop.
struct Bench {
    name: &'static str,
    engine: fn(u64, u64, &RunConfig) -> crate::Result<Outcome>,
    baseline: fn(u64, u64) -> Outcome,
}

fn bench_of(workload: Workload) -> Option<Bench> {
    let (name, engine, baseline): (_, fn(_, _, &_) -> _, fn(_, _) -> _) = match workload {
        Workload::W2 => ("w2", w2::engine, w2::baseline),
        Workload::W3 => ("w3", w3::engine, w3::baseline),
        Workload::W4 => ("w4", w4::engine, w4::baseline),
        Workload::W5 => ("w5", w5::engine, w5::baseline),
        _ => return None,
    };
    Some(Bench {
        name,
        engine,
        baseline,
    })
}

/// Whether `weir bench` runs `workload` here (closed loop, no `--rate`).
pub fn handles(workload: Workload) -> bool {
    bench_of(workload).is_some()
}

/// Folds `x` into an output hash (order of fields matters, order of records does not).
#[inline]
pub(crate) fn mix(acc: u64, x: i64) -> u64 {
    splitmix64(acc ^ x as u64)
}

/// Event time read by `extract`, watermarks `bound_ms` behind the largest timestamp of each
/// split, sent after every batch (deterministic, and the finest a run can have).
pub(crate) fn event_time<T>(
    extract: impl Fn(&T) -> i64 + Send + Sync + 'static,
    bound_ms: i64,
) -> EventTime<T> {
    EventTime {
        extract: Arc::new(extract),
        config: WatermarkConfig {
            max_out_of_orderness_ms: bound_ms,
            interval_ms: 0,
            idle_timeout_ms: None,
        },
    }
}

/// The engine's outcome from its report and the operators' state peak.
pub(crate) fn outcome(report: &crate::runtime::JobReport, state_peak: u64) -> Outcome {
    Outcome {
        elapsed: report.elapsed,
        outputs: report.sink.records,
        checksum: report.sink.checksum,
        state_peak,
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

/// The process's peak resident set so far (Linux `VmHWM`), in bytes.
pub(super) fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Fails unless the engine emitted what the baseline did.
fn check(name: &str, engine: &Outcome, base: &Outcome) -> crate::Result<()> {
    if (engine.outputs, engine.checksum) != (base.outputs, base.checksum) {
        return Err(Error::Runtime(format!(
            "{name} result mismatch: engine outputs={} checksum={:#x}, baseline outputs={} \
             checksum={:#x}",
            engine.outputs, engine.checksum, base.outputs, base.checksum
        )));
    }
    Ok(())
}

fn rate(events: u64, o: &Outcome) -> f64 {
    events as f64 / o.elapsed.as_secs_f64().max(1e-9)
}

/// Runs `weir bench --workload w2|w3|w4|w5` (closed loop).
///
/// # Errors
/// Invalid flags, engine failures, or a result that differs from the baseline's.
pub fn run(args: &BenchArgs, config: &RunConfig) -> crate::Result<i32> {
    let Some(bench) = bench_of(args.workload) else {
        return Err(Error::Config(vec![
            "--workload: not an event-time workload".into(),
        ]));
    };
    if args.checkpoint_interval.is_some() {
        return Err(Error::Config(vec![format!(
            "--checkpoint-interval: not available for --workload {} (its source is not replayable)",
            bench.name
        )]));
    }
    let (events, keys, runs) = (args.events, args.keys, args.runs.max(1));
    let mut base: Option<Outcome> = None;
    let (mut engine_rates, mut base_rates) = (Vec::new(), Vec::new());
    let mut last = Outcome::default();
    for run in 1..=runs {
        // Alternate which side runs first, so that neither always inherits a warm allocator.
        let baseline_first = run % 2 == 0;
        let timed_baseline = |base: &mut Option<Outcome>, rates: &mut Vec<f64>| {
            if args.baseline || base.is_none() {
                let b = (bench.baseline)(events, keys);
                rates.push(rate(events, &b));
                eprintln!(
                    "run {run}: baseline {:.2} M events/s",
                    rate(events, &b) / 1e6
                );
                *base = Some(b);
            }
        };
        if baseline_first {
            timed_baseline(&mut base, &mut base_rates);
        }
        let e = (bench.engine)(events, keys, config)?;
        eprintln!(
            "run {run}: engine {:.2} M events/s ({:.3} s)",
            rate(events, &e) / 1e6,
            e.elapsed.as_secs_f64()
        );
        if !baseline_first {
            timed_baseline(&mut base, &mut base_rates);
        }
        if let Some(b) = &base {
            check(bench.name, &e, b)?;
        }
        engine_rates.push(rate(events, &e));
        last = e;
    }
    let engine_rate = median(engine_rates);
    let base_rate = args.baseline.then(|| median(base_rates));
    let rss = peak_rss_bytes();
    println!(
        "workload={} events={events} keys={keys} workers={} runs={runs} events_per_s={engine_rate:.0} \
         outputs={} checksum={:#018x} state_peak={} peak_rss_bytes={}",
        bench.name,
        config.workers,
        last.outputs,
        last.checksum,
        last.state_peak,
        rss.unwrap_or(0)
    );
    if let Some(b) = base_rate {
        println!("baseline_events_per_s={b:.0} ratio={:.2}", engine_rate / b);
    }
    if let Some(path) = &args.json {
        let json = serde_json::json!({
            "workload": bench.name,
            "events": events,
            "keys": keys,
            "workers": config.workers,
            "runs": runs,
            "elapsed_s": events as f64 / engine_rate,
            "events_per_s": engine_rate,
            "baseline_events_per_s": base_rate,
            "ratio": base_rate.map(|b| engine_rate / b),
            "outputs": last.outputs,
            "checksum": format!("{:#018x}", last.checksum),
            "state_peak": last.state_peak,
            "peak_rss_bytes": rss,
        });
        write_json(path, &json)?;
    }
    Ok(EXIT_OK)
}

fn write_json(path: &Path, json: &serde_json::Value) -> crate::Result<()> {
    std::fs::write(path, serde_json::to_vec_pretty(json).unwrap_or_default())
        .map_err(|e| Error::io(path, e))
}
