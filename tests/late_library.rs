//! Library API: a stage's `late` side output that nothing consumes is not dropped — its
//! records become dead letters with reason `late` (stage and output named, no fields: the
//! graph cannot render an arbitrary record), counted in the report; and
//! `Stream::late_to_dead_letters` adds the fields a formatter renders.

mod api_support;

use api_support::Collect;
use std::sync::Arc;
use weir::dataflow::Stream;
use weir::operator::KeyedOperator;
use weir::runtime::late_letters::LateFormat;
use weir::runtime::RunConfig;
use weir::source::generator::GeneratorSource;
use weir::state::KeyContext;

/// Sends records with an odd value to its `late` side output, the others on.
struct OddLate {
    late: Vec<(u64, i64)>,
}

impl KeyedOperator<u64, (u64, i64), (u64, i64)> for OddLate {
    fn process(
        &mut self,
        _ctx: &KeyContext<'_, u64>,
        e: &mut (u64, i64),
        out: &mut Vec<(u64, i64)>,
    ) {
        let e = *e;
        if e.1 % 2 == 0 {
            out.push(e);
        } else {
            self.late.push(e);
        }
    }
    fn side_outputs(&self) -> Vec<&'static str> {
        vec!["late"]
    }
    fn drain_side(&mut self, _index: usize, out: &mut Vec<(u64, i64)>) {
        out.append(&mut self.late);
    }
}

fn run(workers: usize, format: Option<LateFormat<(u64, i64)>>) -> (Vec<serde_json::Value>, u64) {
    let dir = tempfile::tempdir().unwrap();
    let dead = dir.path().join("dead.jsonl");
    let config = RunConfig {
        workers,
        pin: false,
        batch_size: 64,
        dead_letter_path: dead.clone(),
        ..RunConfig::default()
    };
    let out = Collect::default();
    let stage = Stream::from_source(GeneratorSource::new(1_000, 7, |k, v, _ts| (k, v)))
        .key_by(|e: &(u64, i64)| e.0)
        .process_named(Some("odd"), || OddLate { late: Vec::new() });
    let job = match format {
        None => stage.sink(out.clone()),
        Some(f) => stage
            .clone()
            .sink(out.clone())
            .and(stage.side_output("late").late_to_dead_letters(Some(f))),
    };
    let report = job.run(&config).unwrap();
    let lines = std::fs::read_to_string(&dead)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(out.take().len() as u64 + report.late, 1_000);
    (lines, report.late)
}

#[test]
fn unconsumed_late_output_goes_to_the_dead_letters() {
    for workers in [1, 2] {
        let (lines, late) = run(workers, None);
        assert!(late > 0);
        assert_eq!(lines.len() as u64, late);
        for l in &lines {
            assert_eq!(
                (&l["stage"], &l["output"], &l["reason"]),
                (&"odd".into(), &"late".into(), &"late".into())
            );
        }
    }
}

#[test]
fn a_formatter_adds_the_fields() {
    let format: LateFormat<(u64, i64)> = Arc::new(|e, m| {
        m.insert(
            "record".into(),
            serde_json::json!({ "key": e.0, "value": e.1 }),
        );
    });
    let (lines, late) = run(2, Some(format));
    assert_eq!(lines.len() as u64, late);
    assert!(lines
        .iter()
        .all(|l| l["record"]["value"].as_i64().is_some_and(|v| v % 2 != 0)));
}
