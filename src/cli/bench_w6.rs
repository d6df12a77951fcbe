//! `weir bench --workload w6`: W1's generator → rolling count per key → re-keyed by that
//! count → rolling count of keys per count (two exchanges), against W1 on the same machine
//! in the same run, and checked: for every n, the emitted key counts are exactly 1..c_n,
//! where c_n is the number of keys with at least n events (compared as an order-independent
//! checksum computed directly from the generator).

use super::args::BenchArgs;
use crate::error::{Error, EXIT_OK};
use crate::operator::KeyedOperator;
use crate::runtime::{RunConfig, Stream};
use crate::sink::null::NullSink;
use crate::source::generator::{splitmix64, GeneratorSource};
use crate::state::{KeyContext, KeyedStateStore, ValueState};
use std::time::Duration;

/// A rolling count per key: emits `(key, count so far)` for every record.
struct RollingCount {
    n: ValueState<u64, u64>,
}

impl<T> KeyedOperator<u64, T, (u64, u64)> for RollingCount {
    #[inline]
    fn process(&mut self, ctx: &KeyContext<'_, u64>, _input: &mut T, out: &mut Vec<(u64, u64)>) {
        let n = self.n.get_or_insert_with(ctx, || 0);
        *n += 1;
        out.push((*ctx.key, *n));
    }
    #[inline]
    fn prefetch(&self, local_group: usize, hash: u64) {
        self.n.prefetch(local_group, hash);
    }
    fn states(&mut self) -> Vec<&mut dyn KeyedStateStore> {
        vec![&mut self.n]
    }
}

fn output_hash(out: &(u64, u64)) -> u64 {
    splitmix64(out.0.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ out.1)
}

/// Runs W6 once; returns the elapsed time and the output checksum.
fn run_once(events: u64, keys: u64, config: &RunConfig) -> crate::Result<(Duration, u64, u64)> {
    let source = GeneratorSource::new(events, keys, |k: u64, v: i64, _ts: i64| (k, v));
    let expected_keys = keys as usize;
    let report = Stream::from_source(source)
        .key_by(|e: &(u64, i64)| e.0)
        .process_named(Some("per_key"), move || RollingCount {
            n: ValueState::new("n").with_expected_keys_per_group(expected_keys / 128 + 1),
        })
        .key_by(|e: &(u64, u64)| e.1)
        .process_named(Some("per_count"), || RollingCount {
            n: ValueState::new("n"),
        })
        .sink(NullSink::new(output_hash))
        .run(config)?;
    Ok((report.elapsed, report.sink.records, report.sink.checksum))
}

/// The expected output checksum, computed directly: per key its event count, then for every
/// n the pairs `(n, 1..=c_n)`.
fn expected_checksum(events: u64, keys: u64) -> u64 {
    let mut per_key = vec![0u64; keys as usize];
    for i in 0..events {
        per_key[(splitmix64(i) % keys) as usize] += 1;
    }
    // c_n = number of keys with at least n events.
    let max = per_key.iter().copied().max().unwrap_or(0) as usize;
    let mut at_least = vec![0u64; max + 2];
    for &c in &per_key {
        at_least[c as usize] += 1;
    }
    for n in (0..=max).rev() {
        at_least[n] += at_least[n + 1];
    }
    let mut sum = 0u64;
    for (n, &c) in at_least.iter().enumerate().skip(1) {
        for j in 1..=c {
            sum = sum.wrapping_add(output_hash(&(n as u64, j)));
        }
    }
    sum
}

/// `weir bench --workload w6`.
///
/// # Errors
/// Engine failures, or a wrong result.
pub fn run(args: &BenchArgs, config: &RunConfig) -> crate::Result<i32> {
    let runs = args.runs.max(1);
    let (mut w6, mut w1) = (Vec::new(), Vec::new());
    let expected = expected_checksum(args.events, args.keys);
    for run in 1..=runs {
        let (elapsed, records, checksum) = run_once(args.events, args.keys, config)?;
        if records != args.events || checksum != expected {
            return Err(Error::Runtime(format!(
                "w6 result differs from the direct computation: {records} outputs (expected {}), \
                 checksum {checksum:#x} (expected {expected:#x})",
                args.events
            )));
        }
        let rate = args.events as f64 / elapsed.as_secs_f64();
        let w1_out = super::bench::run_w1(args.events, args.keys, config)?;
        let w1_rate = args.events as f64 / w1_out.elapsed.as_secs_f64();
        eprintln!(
            "run {run}: w6 {:.2} M events/s, w1 {:.2} M events/s",
            rate / 1e6,
            w1_rate / 1e6
        );
        w6.push(rate);
        w1.push(w1_rate);
    }
    let (rate, w1_rate) = (median(w6), median(w1));
    println!(
        "workload=w6 events={} keys={} workers={} runs={runs} events_per_s={rate:.0} \
         w1_events_per_s={w1_rate:.0} ratio_to_w1={:.2} checksum={expected:#018x}",
        args.events,
        args.keys,
        config.workers,
        rate / w1_rate
    );
    if let Some(path) = &args.json {
        let json = serde_json::json!({
            "workload": "w6", "events": args.events, "keys": args.keys,
            "workers": config.workers, "runs": runs, "events_per_s": rate,
            "w1_events_per_s": w1_rate, "ratio_to_w1": rate / w1_rate,
        });
        std::fs::write(path, serde_json::to_vec_pretty(&json).unwrap_or_default())
            .map_err(|e| Error::io(path, e))?;
    }
    Ok(EXIT_OK)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}
