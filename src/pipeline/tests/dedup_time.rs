//! `process dedup` with a `ttl`: event time when the source declares it (and the field reaches
//! the op), processing time otherwise.

use super::{plan, with_ops, SINK, SOURCE};
use crate::pipeline::spec::KeyedOp;
use std::time::Duration;

const DEDUP: &str =
    "[[ops]]\ntype = \"key_by\"\nkey = \"user\"\n[[ops]]\ntype = \"process\"\nfunction = \"dedup\"\n";
const EVENT_TIME: &str = "[source.event_time]\nfield = \"ts\"\nmax_out_of_orderness = \"1s\"\n";

fn with_event_time(ops: &str) -> String {
    format!("{SOURCE}{EVENT_TIME}\n{ops}\n{SINK}")
}

#[test]
fn a_ttl_is_event_time_when_the_source_declares_it() {
    let p = plan(&with_event_time(&format!("{DEDUP}ttl = \"2s\"")));
    let want = KeyedOp::DedupEventTime {
        ttl: Duration::from_secs(2),
        ts_index: 2,
    };
    assert_eq!(p.keyed, Some(want));
}

#[test]
fn a_ttl_is_processing_time_without_event_time() {
    let p = plan(&with_ops(&format!("{DEDUP}ttl = \"2s\"")));
    let want = KeyedOp::Dedup {
        ttl: Some(Duration::from_secs(2)),
    };
    assert_eq!(p.keyed, Some(want));
}

#[test]
fn without_a_ttl_keys_are_never_forgotten() {
    let p = plan(&with_event_time(DEDUP));
    assert_eq!(p.keyed, Some(KeyedOp::Dedup { ttl: None }));
}

#[test]
fn a_dropped_event_time_field_falls_back_to_processing_time() {
    let select = "[[ops]]\ntype = \"select\"\nfields = [\"user\", \"value\"]\n";
    let p = plan(&with_event_time(&format!("{select}{DEDUP}ttl = \"2s\"")));
    let want = KeyedOp::Dedup {
        ttl: Some(Duration::from_secs(2)),
    };
    assert_eq!(p.keyed, Some(want));
}

#[test]
fn the_graph_form_takes_the_named_sources_event_time() {
    let text = format!(
        "{}\n[sources.e.event_time]\nfield = \"ts\"\nmax_out_of_orderness = \"1s\"\n\
         [[ops]]\nname = \"k\"\ntype = \"key_by\"\nkey = \"user\"\n\
         [[ops]]\nname = \"d\"\ntype = \"process\"\nfunction = \"dedup\"\nttl = \"2s\"\n\
         [sinks.s]\ninput = \"d\"\ntype = \"null\"\n",
        SOURCE.replace("[source]", "[sources.e]")
    );
    let p = plan(&text);
    let graph = p.graph.expect("graph form");
    let d = graph.ops.iter().find(|op| op.name == "d").expect("op d");
    let want = KeyedOp::DedupEventTime {
        ttl: Duration::from_secs(2),
        ts_index: 2,
    };
    assert!(
        matches!(&d.kind, crate::pipeline::ops::graph::GraphOpKind::Keyed(op) if *op == want),
        "{:?}",
        d.kind
    );
}
