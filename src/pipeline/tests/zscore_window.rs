//! `process zscore` with a `window`: event time from the source (one-line and graph form),
//! and the errors when there is none.

use super::{error, plan, with_ops, SOURCE};
use crate::pipeline::ops::zscore_window::ZScoreWindowSpec;
use crate::pipeline::spec::KeyedOp;
use std::time::Duration;

const ZSCORE: &str = "[[ops]]\ntype = \"key_by\"\nkey = \"user\"\n\
    [[ops]]\ntype = \"process\"\nfunction = \"zscore\"\nfield = \"value\"\n";
const EVENT_TIME: &str = "[source.event_time]\nfield = \"ts\"\nmax_out_of_orderness = \"1s\"\n";
const SINK: &str = "\n[sink]\ntype = \"null\"\n";

fn with_event_time(ops: &str) -> String {
    format!("{SOURCE}{EVENT_TIME}\n{ops}\n{SINK}")
}

fn spec(window: Duration, threshold: Option<f64>, min_count: u64) -> KeyedOp {
    KeyedOp::ZScoreWindow(ZScoreWindowSpec {
        index: 1,
        ts_index: 2,
        window,
        out_name: "score".into(),
        threshold,
        min_count,
    })
}

#[test]
fn a_window_makes_the_windowed_form() {
    let p = plan(&with_event_time(&format!(
        "{ZSCORE}window = \"1m\"\nthreshold = 3.5\nmin_count = 5"
    )));
    assert_eq!(p.keyed, Some(spec(Duration::from_secs(60), Some(3.5), 5)));
    let names: Vec<_> = p.output_schema.names();
    assert_eq!(names, ["user", "value", "ts", "score"]);
}

#[test]
fn without_a_window_the_running_form_stays() {
    let p = plan(&with_event_time(ZSCORE));
    assert!(
        matches!(p.keyed, Some(KeyedOp::ZScore { .. })),
        "{:?}",
        p.keyed
    );
}

#[test]
fn the_graph_form_takes_the_named_sources_event_time() {
    let text = format!(
        "{}\n[sources.e.event_time]\nfield = \"ts\"\nmax_out_of_orderness = \"1s\"\n\
         [[ops]]\nname = \"k\"\ntype = \"key_by\"\nkey = \"user\"\n\
         [[ops]]\nname = \"z\"\ntype = \"process\"\nfunction = \"zscore\"\nfield = \"value\"\nwindow = \"10s\"\n\
         [sinks.s]\ninput = \"z\"\ntype = \"null\"\n",
        SOURCE.replace("[source]", "[sources.e]")
    );
    let graph = plan(&text).graph.expect("graph form");
    let z = graph.ops.iter().find(|op| op.name == "z").expect("op z");
    let want = spec(Duration::from_secs(10), None, 2);
    assert!(
        matches!(&z.kind, crate::pipeline::ops::graph::GraphOpKind::Keyed(op) if *op == want),
        "{:?}",
        z.kind
    );
}

#[test]
fn a_window_needs_event_time_reaching_the_op() {
    assert_eq!(
        error(&with_ops(&format!("{ZSCORE}window = \"1m\""))),
        "ops[1].window: a windowed zscore needs event time: declare [source.event_time]"
    );
    let select = "[[ops]]\ntype = \"select\"\nfields = [\"user\", \"value\"]\n";
    assert_eq!(
        error(&with_event_time(&format!(
            "{select}{ZSCORE}window = \"1m\""
        ))),
        "ops[2].window: a windowed zscore needs the event-time field \"ts\" in its input \
         (fields: user, value)"
    );
    assert_eq!(
        error(&with_event_time(&format!("{ZSCORE}window = \"0s\""))),
        "ops[1].window: must be greater than zero"
    );
    assert_eq!(
        error(&with_event_time(&format!("{ZSCORE}window = \"500us\""))),
        "ops[1].window: must be at least 1ms"
    );
}
