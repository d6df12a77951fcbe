//! The typed library API end to end: keyed jobs on 1–3 workers against a direct computation,
//! unkeyed jobs, and failure propagation (a panicking operator, a failing sink).

mod api_support;

use api_support::{Collect, CollectPartition};
use std::collections::HashMap;
use std::sync::Arc;
use weir::operator::KeyedOperator;
use weir::runtime::{RunConfig, Stream};
use weir::sink::{Sink, SinkPartition};
use weir::source::generator::{splitmix64, GeneratorSource};
use weir::state::{KeyContext, KeyedStateStore, ValueState};
use weir::Error;

/// A sink whose partitions fail after `n` records.
struct Failing(usize);

impl Sink<(u64, i64)> for Failing {
    fn open_partition(
        &self,
        _w: usize,
        _n: usize,
        _tx: bool,
    ) -> weir::Result<Box<dyn SinkPartition<(u64, i64)>>> {
        Ok(Box::new(CollectPartition {
            shared: Arc::default(),
            mine: Vec::new(),
            fail_after: Some(self.0),
        }))
    }
}

struct Sum {
    sum: ValueState<u64, i64>,
    panic_at: Option<i64>,
}

impl KeyedOperator<u64, (u64, i64), (u64, i64)> for Sum {
    fn process(
        &mut self,
        ctx: &KeyContext<'_, u64>,
        e: &mut (u64, i64),
        out: &mut Vec<(u64, i64)>,
    ) {
        let e = *e;
        let s = self.sum.get_or_insert_with(ctx, || 0);
        *s += e.1;
        if self.panic_at.is_some_and(|p| *s >= p) {
            panic!("sum reached {s}");
        }
        out.push((e.0, *s));
    }
    fn states(&mut self) -> Vec<&mut dyn KeyedStateStore> {
        vec![&mut self.sum]
    }
}

fn config(workers: usize) -> RunConfig {
    RunConfig {
        workers,
        pin: false,
        batch_size: 64,
        ring_capacity: 4,
        ..RunConfig::default()
    }
}

fn generator(
    events: u64,
    keys: u64,
) -> GeneratorSource<impl Fn(u64, i64, i64) -> (u64, i64) + Clone + Send + Sync> {
    GeneratorSource::new(events, keys, |k, v, _ts| (k, v))
}

#[test]
fn keyed_sums_match_a_direct_computation_on_1_to_3_workers() {
    let (events, keys) = (50_000u64, 97u64);
    let mut expected: HashMap<u64, (i64, u64)> = HashMap::new();
    for i in 0..events {
        let e = expected.entry(splitmix64(i) % keys).or_default();
        e.0 += (i % 100) as i64;
        e.1 += 1;
    }
    for workers in 1..=3 {
        let out = Collect::default();
        let report = Stream::from_source(generator(events, keys))
            .key_by(|e: &(u64, i64)| e.0)
            .process(|| Sum {
                sum: ValueState::new("sum"),
                panic_at: None,
            })
            .sink(out.clone())
            .run(&config(workers))
            .unwrap();
        assert_eq!(report.records_in, events);
        assert_eq!(report.sink.records, events);
        let rows = out.0.lock().unwrap();
        // Per key: the largest running sum is the total, and there is one output per event.
        let mut seen: HashMap<u64, (i64, u64)> = HashMap::new();
        for &(k, s) in rows.iter() {
            let e = seen.entry(k).or_default();
            e.0 = e.0.max(s);
            e.1 += 1;
        }
        assert_eq!(seen, expected, "workers={workers}");
    }
}

#[test]
fn unkeyed_jobs_filter_and_map_locally() {
    let out = Collect::default();
    let report = Stream::from_source(generator(10_000, 10))
        .filter(|e: &(u64, i64)| e.1 % 2 == 0)
        .map(|e: (u64, i64)| e.1)
        .sink(out.clone())
        .run(&config(2))
        .unwrap();
    assert_eq!(report.records_in, 10_000);
    let rows = out.0.lock().unwrap();
    assert_eq!(rows.len(), 5_000);
    assert!(rows.iter().all(|v| v % 2 == 0));
}

#[test]
fn a_panicking_operator_stops_the_job_naming_the_worker() {
    let err = Stream::from_source(generator(100_000, 3))
        .key_by(|e: &(u64, i64)| e.0)
        .process(|| Sum {
            sum: ValueState::new("sum"),
            panic_at: Some(10_000),
        })
        .sink(Collect::default())
        .run(&config(2))
        .unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, Error::Worker { .. }), "{msg}");
    assert!(
        msg.starts_with("worker ") && msg.contains("panicked: sum reached"),
        "{msg}"
    );
    assert_eq!(err.exit_code(), 1);
}

#[test]
fn a_failing_sink_stops_the_job_with_its_cause() {
    let err = Stream::from_source(generator(100_000, 50))
        .key_by(|e: &(u64, i64)| e.0)
        .process(|| Sum {
            sum: ValueState::new("sum"),
            panic_at: None,
        })
        .sink(Failing(1000))
        .run(&config(2))
        .unwrap_err();
    assert!(err.to_string().contains("disk on fire"), "{err}");
    assert_ne!(err.exit_code(), 0);
}

#[test]
fn invalid_run_configs_are_rejected_with_the_field() {
    let run = |c: RunConfig| {
        Stream::from_source(generator(10, 2))
            .sink(Collect::<(u64, i64)>::default())
            .run(&c)
            .unwrap_err()
            .to_string()
    };
    assert!(run(RunConfig {
        workers: 0,
        ..config(1)
    })
    .contains("workers"));
    assert!(run(RunConfig {
        max_parallelism: 100,
        ..config(1)
    })
    .contains("max_parallelism"));
    assert!(run(RunConfig {
        workers: 300,
        ..config(1)
    })
    .contains("more than max_parallelism"));
}
