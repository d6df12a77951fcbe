//! `weir bench`: the WORKLOADS.md workloads from the in-memory generator to the null sink,
//! with the single-threaded "COST" baseline measured in the same process and run.

use super::args::{BenchArgs, Workload};
use crate::error::{Error, EXIT_OK};
use crate::operator::KeyedOperator;
use crate::runtime::{CheckpointConfig, JobReport, RestoreFrom, RunConfig, Stream};
use crate::safety::limits;
use crate::sink::null::NullSink;
use crate::source::generator::{splitmix64, GeneratorSource};
use crate::state::{KeyContext, KeyedStateStore, ValueState, DEFAULT_MAX_PARALLELISM};
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
    ///
    /// `keys` is the expected key count: the state is sized for it up front, as the baseline
    /// loop's map is (`with_capacity`).
    pub fn new(state_checksum: Arc<AtomicU64>, keys: u64) -> Self {
        // Key groups receive binomially distributed shares: leave 5 % of slack.
        let per_group = (keys as usize).div_ceil(DEFAULT_MAX_PARALLELISM as usize) * 21 / 20;
        W1Sum {
            sum: ValueState::new("sum").with_expected_keys_per_group(per_group),
            state_checksum,
        }
    }
}

impl KeyedOperator<u64, (u64, i64), (u64, i64)> for W1Sum {
    #[inline]
    fn process(
        &mut self,
        ctx: &KeyContext<'_, u64>,
        input: &mut (u64, i64),
        out: &mut Vec<(u64, i64)>,
    ) {
        let input = *input;
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
        let mut c = 0u64;
        self.sum
            .for_each(|k, s| c = c.wrapping_add(splitmix64(*k) ^ *s as u64));
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
    let source = GeneratorSource::new(events, keys, |k: u64, v: i64, _ts: i64| (k, v))
        .events_per_ms(EVENTS_PER_MS);
    let job = Stream::from_source(source)
        .key_by(|e: &(u64, i64)| e.0)
        .process(move || W1Sum::new(sc.clone(), keys))
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
    let state_checksum = map.iter().fold(0u64, |acc, (k, s)| {
        acc.wrapping_add(splitmix64(*k) ^ *s as u64)
    });
    W1Outcome {
        elapsed: started.elapsed(),
        outputs: events,
        output_checksum,
        state_checksum,
        report: None,
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    if v.is_empty() {
        0.0
    } else {
        v[v.len() / 2]
    }
}

/// Figures of one configuration over several runs.
#[derive(Default)]
struct Series {
    rates: Vec<f64>,
    last: W1Outcome,
}

impl Series {
    fn push(&mut self, label: &str, run: usize, events: u64, out: W1Outcome) {
        let rate = events as f64 / out.elapsed.as_secs_f64();
        eprintln!(
            "run {run}: {label} {:.2} M events/s ({:.3} s)",
            rate / 1e6,
            out.elapsed.as_secs_f64()
        );
        self.rates.push(rate);
        self.last = out;
    }

    fn median(&self) -> f64 {
        median(self.rates.clone())
    }
}

/// Checks the engine's W1 result against the baseline's. Per-key order across source splits is
/// not defined (as in any parallel engine), so intermediate sums may differ; the output count
/// and the final per-key sums may not.
fn check(engine: &W1Outcome, base: &W1Outcome) -> crate::Result<()> {
    if (base.outputs, base.state_checksum) != (engine.outputs, engine.state_checksum) {
        return Err(Error::Runtime(format!(
            "result mismatch: engine outputs={} state checksum={:#x}, baseline outputs={} state checksum={:#x}",
            engine.outputs, engine.state_checksum, base.outputs, base.state_checksum
        )));
    }
    Ok(())
}

/// Runs `weir bench`.
///
/// With `--baseline` the single-threaded loop runs in the same process, interleaved with the
/// engine runs; with `--checkpoint-interval` the engine runs both with and without checkpoints.
/// Medians over `--runs` are printed, and the ratios.
///
/// # Errors
/// Engine failures, or a result that differs from the baseline's.
pub fn run(args: &BenchArgs) -> crate::Result<i32> {
    if let Some(which) = &args.nexmark {
        if args.rate.is_some() {
            return super::bench_nexmark_latency::run(args, which);
        }
        return super::bench_nexmark::run(args, which);
    }
    if let Some(pipeline) = &args.pipeline_file {
        return super::bench_pipeline::run(args, pipeline);
    }
    if args.rate.is_some() || args.pipeline.is_some() {
        return super::bench_latency::run(args);
    }
    if args.keys == 0
        || (args.events == 0 && !matches!(args.workload, Workload::Restore | Workload::Checkpoint))
    {
        return Err(Error::Config(vec![
            "--keys and --events: must be at least 1".into(),
        ]));
    }
    let mut errors = Vec::new();
    if let Some(Err(e)) = args
        .workers
        .map(|w| limits::WORKERS.check_flag(u64::try_from(w).unwrap_or(u64::MAX)))
    {
        errors.push(e);
    }
    if let Some(Err(e)) = args.checkpoint_interval.map(|i| {
        limits::CHECKPOINT_INTERVAL_MS.check_duration(limits::CHECKPOINT_INTERVAL_MS.flag, i)
    }) {
        errors.push(e);
    }
    if !errors.is_empty() {
        return Err(Error::Config(errors));
    }
    let mut config = RunConfig::default();
    if let Some(w) = args.workers {
        config.workers = w;
    }
    super::state_flags::apply(
        &mut config,
        Some(args.state_backend),
        args.state_dir.as_deref(),
    );
    config.state_backend = config
        .state_backend
        .clone()
        .with_cache_entries(args.state_cache_entries);
    if args.workload == Workload::Restore {
        return super::bench_restore::run(
            args.keys,
            config.workers,
            args.runs.max(1),
            args.json.as_deref(),
            &config.state_backend,
        );
    }
    if args.workload == Workload::Checkpoint {
        return super::bench_checkpoint::run(
            args.keys,
            config.workers,
            args.runs.max(1),
            args.json.as_deref(),
            &config.state_backend,
        );
    }
    if args.workload == Workload::W6 {
        return super::bench_w6::run(args, &config);
    }
    if super::bench_time::handles(args.workload) {
        return super::bench_time::run(args, &config);
    }
    let ckpt_dir = args.checkpoint_dir.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("weir-bench-ckpt-{}", std::process::id()))
    });
    let ckpt_config = args.checkpoint_interval.map(|interval| RunConfig {
        checkpoint: Some(CheckpointConfig {
            dir: ckpt_dir.clone(),
            interval,
            retain: 3,
            restore: RestoreFrom::None,
            restore_required: false,
            allow_at_least_once: false,
            lineage: None,
        }),
        ..config.clone()
    });
    let runs = args.runs.max(1);
    let (mut engine, mut with_ckpt, mut base) =
        (Series::default(), Series::default(), Series::default());
    for run in 1..=runs {
        // Alternate which side runs first, so that neither always inherits a warm allocator
        // (pages already faulted in by the other).
        let baseline_first = run % 2 == 0;
        if args.baseline && baseline_first {
            base.push(
                "baseline",
                run,
                args.events,
                baseline_w1(args.events, args.keys),
            );
        }
        engine.push(
            "engine",
            run,
            args.events,
            run_w1(args.events, args.keys, &config)?,
        );
        if let Some(cc) = &ckpt_config {
            let _ = std::fs::remove_dir_all(&ckpt_dir);
            with_ckpt.push(
                "engine+checkpoints",
                run,
                args.events,
                run_w1(args.events, args.keys, cc)?,
            );
            check(&with_ckpt.last, &engine.last)?;
        }
        if args.baseline && !baseline_first {
            base.push(
                "baseline",
                run,
                args.events,
                baseline_w1(args.events, args.keys),
            );
        }
        if args.baseline {
            check(&engine.last, &base.last)?;
        }
    }
    if args.checkpoint_dir.is_none() {
        let _ = std::fs::remove_dir_all(&ckpt_dir);
    }
    let rate = engine.median();
    let elapsed = args.events as f64 / rate;
    let peak_rss = super::bench_time::peak_rss_bytes();
    println!(
        "workload=w1 backend={} events={} keys={} workers={} runs={} elapsed_s={:.3} events_per_s={:.0} \
         checksum={:#018x} peak_rss_bytes={}",
        config.state_backend.kind(),
        args.events,
        args.keys,
        config.workers,
        runs,
        elapsed,
        rate,
        engine.last.state_checksum,
        peak_rss.unwrap_or(0)
    );
    let base_rate = args.baseline.then(|| base.median());
    if let Some(b) = base_rate {
        println!("baseline_events_per_s={:.0} ratio={:.2}", b, rate / b);
    }
    let mut ckpt_json = serde_json::Value::Null;
    if ckpt_config.is_some() {
        let report = with_ckpt.last.report.clone().unwrap_or_default();
        let ck = &report.checkpoints;
        let durs: Vec<f64> = ck.iter().map(|c| c.duration.as_secs_f64() * 1e3).collect();
        let max_dur = durs.iter().cloned().fold(0.0, f64::max);
        let pauses: Vec<f64> = ck.iter().map(|c| c.max_pause.as_secs_f64() * 1e3).collect();
        let max_pause = pauses.iter().cloned().fold(0.0, f64::max);
        let bytes: u64 = ck.iter().map(|c| c.bytes).sum();
        let shared: u64 = ck.iter().map(|c| c.shared_bytes).sum();
        let per_ckpt = bytes.checked_div(ck.len() as u64).unwrap_or(0);
        let ck_rate = with_ckpt.median();
        println!(
            "checkpoints_events_per_s={:.0} ratio_on_off={:.2} checkpoints={} failed={} duration_ms_median={:.1} \
             duration_ms_max={:.1} bytes_total={} bytes_per_checkpoint={} bytes_shared_total={} \
             pause_ms_median={:.1} pause_ms_max={:.1}",
            ck_rate,
            ck_rate / rate,
            ck.len(),
            report.failed_checkpoints,
            median(durs.clone()),
            max_dur,
            bytes,
            per_ckpt,
            shared,
            median(pauses),
            max_pause
        );
        ckpt_json = serde_json::json!({
            "events_per_s": ck_rate, "ratio_on_off": ck_rate / rate, "count": ck.len(),
            "failed": report.failed_checkpoints, "duration_ms_median": median(durs), "duration_ms_max": max_dur,
            "bytes_total": bytes, "bytes_per_checkpoint": per_ckpt, "bytes_shared_total": shared,
            "pause_ms_max": max_pause,
        });
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
            "checksum": format!("{:#018x}", engine.last.state_checksum),
            "backend": config.state_backend.kind().to_string(),
            "peak_rss_bytes": peak_rss,
            "checkpoints": ckpt_json,
        });
        std::fs::write(path, serde_json::to_vec_pretty(&json).unwrap_or_default())
            .map_err(|e| Error::io(path, e))?;
    }
    Ok(EXIT_OK)
}
