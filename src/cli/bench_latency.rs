//! `weir bench --rate R [--duration D]`: open-loop latency runs of W1 or of a pipeline file
//! whose source is a generator, optionally a sweep over rates against a latency objective.

use super::args::{BenchArgs, Workload};
use super::bench_latency_jobs::{self, LatencyJob};
use crate::error::{Error, EXIT_OK};
use crate::metrics::hgrm::percentile_distribution;
use crate::metrics::latency::{LatencyReport, PERCENTILES};
use crate::runtime::{CheckpointConfig, RestoreFrom, RunConfig};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

/// A run keeps up when it achieves at least this share of the offered rate.
const SUSTAINED_SHARE: f64 = 0.98;
/// A tail is marked as made of checkpoint moments when its share of samples from checkpoint
/// intervals is more than this many times their share of all samples.
const CHECKPOINT_MARK: f64 = 2.0;

/// Parses `1M/s`, `500k/s`, `250000` (events per second).
pub fn parse_rate(text: &str) -> Result<f64, String> {
    let t = text.trim();
    let t = t.strip_suffix("/s").unwrap_or(t);
    let (num, mult) = match t.chars().last() {
        Some('k' | 'K') => (&t[..t.len() - 1], 1e3),
        Some('M' | 'm') => (&t[..t.len() - 1], 1e6),
        Some('G' | 'g') => (&t[..t.len() - 1], 1e9),
        _ => (t, 1.0),
    };
    match num.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v * mult),
        _ => Err(format!(
            "--rate: {text:?} is not a rate (e.g. 500k/s, 1M/s)"
        )),
    }
}

/// Parses `p99.9=1ms` into the quantile and the bound.
pub fn parse_slo(text: &str) -> Result<(f64, Duration), String> {
    let bad = || format!("--slo: {text:?} is not PERCENTILE=DURATION (e.g. p99.9=1ms)");
    let (p, d) = text.split_once('=').ok_or_else(bad)?;
    let p: f64 = p
        .trim()
        .strip_prefix('p')
        .and_then(|x| x.parse().ok())
        .ok_or_else(bad)?;
    if !(0.0..100.0).contains(&p) {
        return Err(bad());
    }
    let d = humantime::parse_duration(d.trim()).map_err(|_| bad())?;
    Ok((p / 100.0, d))
}

/// What one run measured.
pub(super) struct Outcome {
    /// Offered events/s.
    pub offered: f64,
    /// Achieved events/s.
    pub achieved: f64,
    /// Latency samples (output rows).
    pub samples: u64,
    /// Completed checkpoints.
    pub checkpoints: usize,
    /// The merged latencies.
    pub report: LatencyReport,
}

impl Outcome {
    /// Whether the run kept up with the offered rate.
    pub(super) fn sustained(&self) -> bool {
        self.achieved >= SUSTAINED_SHARE * self.offered
    }

    /// The latency at quantile `q`, µs.
    pub(super) fn us(&self, q: f64) -> f64 {
        self.report.at(q) as f64 / 1e3
    }
}

fn run_one<T: 'static>(
    lj: LatencyJob<T>,
    offered: f64,
    config: &RunConfig,
) -> crate::Result<Outcome> {
    let report = lj.job.run(config)?;
    let merged = lj
        .sink
        .merged()
        .ok_or_else(|| Error::Runtime("bench: no output was received".into()))?;
    let span = merged.last_ns().saturating_sub(merged.origin_ns()).max(1) as f64 / 1e9;
    let latency = merged.report();
    Ok(Outcome {
        offered,
        achieved: lj.events as f64 / span,
        samples: latency.all.len(),
        checkpoints: report.checkpoints.len(),
        report: latency,
    })
}

fn config(args: &BenchArgs) -> RunConfig {
    let mut config = RunConfig::default();
    if let Some(w) = args.workers {
        config.workers = w;
    }
    if let Some(interval) = args.checkpoint_interval {
        let dir = args.checkpoint_dir.clone().unwrap_or_else(|| {
            std::env::temp_dir().join(format!("weir-bench-ckpt-{}", std::process::id()))
        });
        config.checkpoint = Some(CheckpointConfig {
            dir,
            interval,
            retain: 3,
            restore: RestoreFrom::None,
            restore_required: false,
            allow_at_least_once: false,
            lineage: None,
        });
    }
    config
}

/// Runs the open-loop benchmark.
///
/// # Errors
/// Invalid flags, a pipeline whose source is not a generator, engine failures, unwritable
/// output files.
pub fn run(args: &BenchArgs) -> crate::Result<i32> {
    if let Some(addr) = &args.metrics_addr {
        let live = crate::metrics::live::enable(args.checkpoint_dir.clone());
        let bound = crate::metrics::prometheus::serve(addr, live)?;
        eprintln!("weir: metrics on http://{bound}/metrics");
    }
    let rates: Vec<f64> = args
        .rate
        .as_deref()
        .ok_or_else(|| {
            Error::Config(vec![
                "--rate: needed for a latency run (e.g. --rate 1M/s)".into()
            ])
        })?
        .split(',')
        .map(parse_rate)
        .collect::<Result<_, _>>()
        .map_err(|e| Error::Config(vec![e]))?;
    let slo = args
        .slo
        .as_deref()
        .map(parse_slo)
        .transpose()
        .map_err(|e| Error::Config(vec![e]))?;
    if args.duration.is_zero() {
        return Err(Error::Config(vec![
            "--duration: must be more than zero".into()
        ]));
    }
    let plan = match &args.pipeline {
        Some(p) => Some(crate::pipeline::load(p, &[])?),
        None if matches!(args.workload, Workload::W1 | Workload::W2) => None,
        None => {
            return Err(Error::Config(vec![
                "--rate: latency runs exist for --workload w1, w2 and for pipeline files".into(),
            ]))
        }
    };
    let config = config(args);
    // A progress line on a terminal (the live counters are off otherwise).
    let live = std::io::stderr()
        .is_terminal()
        .then(|| crate::metrics::live::enable(None));
    let name = match (&plan, args.workload) {
        (Some(p), _) => p.name.clone(),
        (None, Workload::W2) => "w2".to_string(),
        (None, _) => "w1".to_string(),
    };
    let mut outcomes = Vec::new();
    for &rate in &rates {
        if let Some(cc) = &config.checkpoint {
            if args.checkpoint_dir.is_none() {
                let _ = std::fs::remove_dir_all(&cc.dir);
            }
        }
        let progress = live.clone().and_then(crate::metrics::progress::start);
        let outcome = match &plan {
            Some(plan) => {
                let lj =
                    bench_latency_jobs::pipeline(plan, rate, args.duration).ok_or_else(|| {
                        Error::Config(vec!["source: a latency run needs a generator source".into()])
                    })?;
                run_one(lj, rate, &config)?
            }
            None if args.workload == Workload::W2 => run_one(
                bench_latency_jobs::w2(rate, args.duration, args.keys),
                rate,
                &config,
            )?,
            None => run_one(
                bench_latency_jobs::w1(rate, args.duration, args.keys),
                rate,
                &config,
            )?,
        };
        drop(progress);
        print_table(&name, &config, &outcome);
        outcomes.push(outcome);
    }
    if let Some(cc) = &config.checkpoint {
        if args.checkpoint_dir.is_none() {
            let _ = std::fs::remove_dir_all(&cc.dir);
        }
    }
    let best = slo.map(|(q, bound)| {
        let ok = outcomes
            .iter()
            .filter(|o| o.sustained() && o.report.at(q) as f64 <= bound.as_nanos() as f64)
            .map(|o| o.offered)
            .fold(None, |a: Option<f64>, r| Some(a.map_or(r, |a| a.max(r))));
        println!(
            "slo p{}<={:?}: highest sustained rate within it: {}",
            q * 100.0,
            bound,
            ok.map_or("none".to_string(), |r| format!("{r:.0} events/s"))
        );
        ok
    });
    if let (Some(path), Some(last)) = (&args.hgrm, outcomes.last()) {
        write(
            path,
            percentile_distribution(&last.report.all, 1e3, 5).into_bytes(),
        )?;
    }
    if let (Some(path), Some(last)) = (&args.plot, outcomes.last()) {
        super::bench_plot::draw(path, &name, &last.report)?;
    }
    if let Some(path) = &args.json {
        let json = json(&name, &config, &outcomes, best.flatten());
        write(path, serde_json::to_vec_pretty(&json).unwrap_or_default())?;
    }
    Ok(EXIT_OK)
}

fn write(path: &PathBuf, bytes: Vec<u8>) -> crate::Result<()> {
    std::fs::write(path, bytes).map_err(|e| Error::io(path, e))
}

/// Prints a run's figures as a table.
pub(super) fn print_table(name: &str, config: &RunConfig, o: &Outcome) {
    let base = o.report.checkpoint_base_share();
    println!(
        "workload={name} offered_rate={:.0} achieved_rate={:.0} sustained={} samples={} workers={} checkpoints={}",
        o.offered,
        o.achieved,
        o.sustained(),
        o.samples,
        config.workers,
        o.checkpoints
    );
    println!(
        "{:<10} {:>14} {:>26}",
        "percentile", "latency_us", "from_checkpoint_intervals"
    );
    for (label, q) in PERCENTILES {
        let share = o.report.checkpoint_share(q);
        let mark = if o.checkpoints > 0 && share > CHECKPOINT_MARK * base {
            " *"
        } else {
            ""
        };
        println!(
            "{label:<10} {:>14.1} {:>25.0}%{mark}",
            o.us(q),
            share * 100.0
        );
    }
    if o.checkpoints > 0 {
        println!(
            "(* = the samples at or above this percentile come from 100 ms intervals with a checkpoint \
             more than {CHECKPOINT_MARK}x as often as all samples do: {:.0}%)",
            base * 100.0
        );
    }
}

fn json(
    name: &str,
    config: &RunConfig,
    outcomes: &[Outcome],
    best: Option<f64>,
) -> serde_json::Value {
    let one = |o: &Outcome| {
        let lat: serde_json::Map<String, serde_json::Value> = PERCENTILES
            .iter()
            .map(|(l, q)| (l.to_string(), serde_json::json!(o.us(*q))))
            .collect();
        let shares: serde_json::Map<String, serde_json::Value> = PERCENTILES
            .iter()
            .map(|(l, q)| {
                (
                    l.to_string(),
                    serde_json::json!(o.report.checkpoint_share(*q)),
                )
            })
            .collect();
        let series: Vec<serde_json::Value> = o
            .report
            .series
            .iter()
            .map(|p| {
                serde_json::json!({"t_ms": p.start_ms, "events": p.samples,
                "p99_us": p.p99_ns as f64 / 1e3, "checkpoint": p.checkpoint})
            })
            .collect();
        serde_json::json!({
            "offered_rate": o.offered, "achieved_rate": o.achieved, "sustained": o.sustained(),
            "latency_us": lat, "samples": o.samples, "checkpoints": o.checkpoints,
            "checkpoint_interval_share": shares,
            "checkpoint_base_share": o.report.checkpoint_base_share(),
            "series_100ms": series,
        })
    };
    let runs: Vec<serde_json::Value> = outcomes.iter().map(one).collect();
    let mut top = runs.last().cloned().unwrap_or_default();
    if let serde_json::Value::Object(m) = &mut top {
        m.insert("workload".into(), name.into());
        m.insert("workers".into(), config.workers.into());
        m.insert("runs".into(), runs.into());
        m.insert("max_rate_within_slo".into(), best.into());
    }
    top
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_and_objectives_parse() {
        assert_eq!(parse_rate("1M/s"), Ok(1e6));
        assert_eq!(parse_rate("500k/s"), Ok(5e5));
        assert_eq!(parse_rate("2500"), Ok(2500.0));
        assert_eq!(parse_rate("1.5M"), Ok(1.5e6));
        assert!(parse_rate("fast").is_err() && parse_rate("0/s").is_err());
        let (q, d) = parse_slo("p99.9=1ms").unwrap();
        assert!((q - 0.999).abs() < 1e-12);
        assert_eq!(d, Duration::from_millis(1));
        assert!(parse_slo("p100=1ms").is_err() && parse_slo("99=1ms").is_err());
    }
}
