//! `weir bench`: the WORKLOADS.md workloads from the in-memory generator to the null sink,
//! with the single-threaded "COST" baseline measured in the same process and run.

use super::args::BenchArgs;
use crate::error::{Error, EXIT_OK};
use crate::operator::KeyedOperator;
use crate::runtime::{CheckpointConfig, JobReport, RestoreFrom, RunConfig, Stream};
use crate::sink::null::NullSink;
use crate::source::generator::{splitmix64, GeneratorSource};
use crate::state::{KeyContext, KeyedStateStore, ValueState};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Events per millisecond of event time in the benchmark generator.
const EVENTS_PER_MS: u64 = 1000;

/// W1's keyed operator: a running sum per key, emitting `(key, sum)` for every event. At the end
/// it adds `Σ splitmix64(key) ^ final_sum` over its keys to a shared checksum.
pub struct W1Sum {
    sum: ValueState<u64, i64>,
    state_checksum: Arc<AtomicU64>,
}

impl W1Sum {
    /// A W1 operator adding its final-state checksum to `state_checksum`.
    pub fn new(state_checksum: Arc<AtomicU64>) -> Self {
        W1Sum { sum: ValueState::new("sum"), state_checksum }
    }
}

impl KeyedOperator<u64, (u64, i64), (u64, i64)> for W1Sum {
    #[inline]
    fn process(&mut self, ctx: &KeyContext<'_, u64>, input: (u64, i64), out: &mut Vec<(u64, i64)>) {
        let sum = self.sum.get_or_insert_with(ctx, || 0);
        *sum += input.1;
        out.push((input.0, *sum));
    }

    #[inline]
    fn prefetch(&self, local_group: usize, hash: u64) {
        self.sum.prefetch(local_group, hash);
    }

    fn states(&mut self) -> Vec<&mut dyn KeyedStateStore> {
        vec![&mut self.sum]
    }

    fn close(&mut self, _out: &mut Vec<(u64, i64)>) {
        let c = self.sum.iter().fold(0u64, |acc, (k, s)| acc.wrapping_add(splitmix64(*k) ^ *s as u64));
        self.state_checksum.fetch_add(c, Ordering::Relaxed);
    }
}

/// The per-output checksum both the engine's null sink and the baseline compute.
#[inline]
pub fn output_hash(out: &(u64, i64)) -> u64 {
    out.0 ^ out.1 as u64
}

/// Figures of one W1 run.
#[derive(Clone, Debug, Default)]
pub struct W1Outcome {
    /// Wall time from start to the last output.
    pub elapsed: Duration,
    /// Outputs emitted.
    pub outputs: u64,
    /// Wrapping sum of [`output_hash`] over outputs.
    pub output_checksum: u64,
    /// `Σ_key splitmix64(key) ^ final_sum` (wrapping).
    pub state_checksum: u64,
    /// The engine's report (not for the baseline).
    pub report: Option<JobReport>,
}

/// Runs W1 on the engine.
///
/// # Errors
/// Engine failures.
pub fn run_w1(events: u64, keys: u64, config: &RunConfig) -> crate::Result<W1Outcome> {
    let state_checksum = Arc::new(AtomicU64::new(0));
    let sc = state_checksum.clone();
    let source = GeneratorSource::new(events, keys, |k: u64, v: i64, _ts: i64| (k, v)).events_per_ms(EVENTS_PER_MS);
    let job = Stream::from_source(source)
        .key_by(|e: &(u64, i64)| e.0)
        .process(move || W1Sum::new(sc.clone()))
        .sink(NullSink::new(output_hash));
    let report = job.run(config)?;
    Ok(W1Outcome {
        elapsed: report.elapsed,
        outputs: report.sink.records,
        output_checksum: report.sink.checksum,
        state_checksum: state_checksum.load(Ordering::Relaxed),
        report: Some(report),
    })
}

/// The COST baseline: one thread, no engine. Generates a batch of 1024 events, then applies
/// the batch to an `ahash` map pre-sized for `keys` (the fastest simple form, see PERF.md),
/// computing the same outputs and checksums as the engine.
pub fn baseline_w1(events: u64, keys: u64) -> W1Outcome {
    const BATCH: u64 = 1024;
    let started = Instant::now();
    let mut map: ahash::AHashMap<u64, i64> = ahash::AHashMap::with_capacity(keys as usize);
    let mut batch: Vec<(u64, i64)> = Vec::with_capacity(BATCH as usize);
    let mut output_checksum = 0u64;
    let mut i = 0;
    while i < events {
        let end = (i + BATCH).min(events);
        batch.clear();
        batch.extend((i..end).map(|j| (splitmix64(j) % keys, (j % 100) as i64)));
        for &(k, v) in &batch {
            let sum = map.entry(k).or_insert(0);
            *sum += v;
            output_checksum = output_checksum.wrapping_add(output_hash(&(k, *sum)));
        }
        i = end;
    }
    let state_checksum = map.iter().fold(0u64, |acc, (k, s)| acc.wrapping_add(splitmix64(*k) ^ *s as u64));
    W1Outcome { elapsed: started.elapsed(), outputs: events, output_checksum, state_checksum, report: None }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    if v.is_empty() {
        0.0
    } else {
        v[v.len() / 2]
    }
}

/// Runs `weir bench`.
///
/// # Errors
/// Engine failures, or a checksum that differs from the baseline's.
pub fn run(args: &BenchArgs) -> crate::Result<i32> {
    if args.keys == 0 {
        return Err(Error::Config(vec!["--keys: must be at least 1".into()]));
    }
    let mut config = RunConfig::default();
    if let Some(w) = args.workers {
        config.workers = w;
    }
    let tmp;
    if let Some(interval) = args.checkpoint_interval {
        let dir = match &args.checkpoint_dir {
            Some(d) => d.clone(),
            None => {
                tmp = std::env::temp_dir().join(format!("weir-bench-ckpt-{}", std::process::id()));
                tmp.clone()
            }
        };
        config.checkpoint = Some(CheckpointConfig {
            dir,
            interval,
            retain: 3,
            restore: RestoreFrom::None,
            restore_required: false,
            allow_at_least_once: false,
        });
    }
    let runs = args.runs.max(1);
    let (mut engine_rates, mut base_rates) = (Vec::new(), Vec::new());
    let mut last = W1Outcome::default();
    for run in 0..runs {
        let out = run_w1(args.events, args.keys, &config)?;
        let rate = args.events as f64 / out.elapsed.as_secs_f64();
        eprintln!("run {}: engine {:.2} M events/s ({:.3} s)", run + 1, rate / 1e6, out.elapsed.as_secs_f64());
        engine_rates.push(rate);
        if args.baseline {
            let base = baseline_w1(args.events, args.keys);
            let brate = args.events as f64 / base.elapsed.as_secs_f64();
            eprintln!("run {}: baseline {:.2} M events/s ({:.3} s)", run + 1, brate / 1e6, base.elapsed.as_secs_f64());
            // Per-key order across source splits is not defined (as in any parallel engine), so
            // intermediate sums may differ; the output count and the final per-key sums may not.
            if (base.outputs, base.state_checksum) != (out.outputs, out.state_checksum) {
                return Err(Error::Runtime(format!(
                    "result mismatch: engine outputs={} state checksum={:#x}, baseline outputs={} state checksum={:#x}",
                    out.outputs, out.state_checksum, base.outputs, base.state_checksum
                )));
            }
            base_rates.push(brate);
        }
        last = out;
    }
    let rate = median(engine_rates);
    let elapsed = args.events as f64 / rate;
    println!(
        "workload=w1 events={} keys={} workers={} runs={} elapsed_s={:.3} events_per_s={:.0} checksum={:#018x}",
        args.events, args.keys, config.workers, runs, elapsed, rate, last.state_checksum
    );
    let base_rate = if args.baseline { Some(median(base_rates)) } else { None };
    if let Some(b) = base_rate {
        println!("baseline_events_per_s={:.0} ratio={:.2}", b, rate / b);
    }
    let report = last.report.unwrap_or_default();
    let ck = &report.checkpoints;
    if config.checkpoint.is_some() {
        let mut durs: Vec<f64> = ck.iter().map(|c| c.duration.as_secs_f64() * 1e3).collect();
        let max_dur = durs.iter().cloned().fold(0.0, f64::max);
        let max_pause = ck.iter().map(|c| c.max_pause.as_secs_f64() * 1e3).fold(0.0, f64::max);
        let bytes: u64 = ck.iter().map(|c| c.bytes).sum();
        durs.sort_by(|a, b| a.total_cmp(b));
        println!(
            "checkpoints={} failed={} duration_ms_median={:.1} duration_ms_max={:.1} bytes_total={} max_pause_ms={:.1}",
            ck.len(),
            report.failed_checkpoints,
            median(durs),
            max_dur,
            bytes,
            max_pause
        );
    }
    if let Some(path) = &args.json {
        let json = serde_json::json!({
            "workload": "w1",
            "events": args.events,
            "keys": args.keys,
            "workers": config.workers,
            "runs": runs,
            "elapsed_s": elapsed,
            "events_per_s": rate,
            "baseline_events_per_s": base_rate,
            "ratio": base_rate.map(|b| rate / b),
            "checksum": format!("{:#018x}", last.state_checksum),
            "checkpoints": ck.len(),
        });
        std::fs::write(path, serde_json::to_vec_pretty(&json).unwrap_or_default())
            .map_err(|e| Error::io(path, e))?;
    }
    Ok(EXIT_OK)
}
