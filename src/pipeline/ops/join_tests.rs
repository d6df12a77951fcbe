use super::*;
use crate::pipeline::ops::event_time::tests::{schema, with_section};
use crate::record::FieldType;

const JOIN: &str = r#"name = "j"
type = "join"
inputs = ["left", "right"]
left_key = ["key"]
right_key = ["key"]
ttl = "1h"
"#;

const INTERVAL: &str = r#"type = "interval_join"
inputs = ["left", "right"]
left_key = "key"
right_key = "key"
lower = "-1s"
upper = "2s"
"#;

fn parse_join(text: &str, et: Option<&str>) -> (Option<(JoinSpec, Schema)>, Vec<String>) {
    let sc = schema();
    with_section("ops[2]", text, |s, e| {
        s.get("type");
        s.get("name");
        let names = inputs(s, e)?;
        let io = names.map(|name| JoinInput {
            name,
            schema: &sc,
            event_time: et,
        });
        join(s, Some(io), e)
    })
}

fn parse_interval(
    text: &str,
    et: Option<&str>,
) -> (Option<(IntervalJoinSpec, Schema)>, Vec<String>) {
    let sc = schema();
    with_section("ops[2]", text, |s, e| {
        s.get("type");
        let names = inputs(s, e)?;
        let io = names.map(|name| JoinInput {
            name,
            schema: &sc,
            event_time: et,
        });
        interval_join(s, Some(io), e)
    })
}

#[test]
fn join_output_prefixes_taken_right_names() {
    let (got, errs) = parse_join(JOIN, None);
    assert!(errs.is_empty(), "{errs:?}");
    let (spec, out) = got.expect("valid");
    assert_eq!(
        out.names(),
        [
            "key",
            "value",
            "ts",
            "name",
            "right_key",
            "right_value",
            "right_ts",
            "right_name"
        ]
    );
    assert_eq!(out.fields[6].ty, FieldType::Timestamp);
    assert_eq!((spec.left_key, spec.right_key), (vec![0], vec![0]));
    assert_eq!(spec.ttl, Some(JoinTtl::Processing { millis: 3_600_000 }));
    let (got, _) = parse_join(JOIN, Some("ts"));
    let ttl = got.expect("valid").0.ttl;
    assert_eq!(
        ttl,
        Some(JoinTtl::EventTime {
            millis: 3_600_000,
            left_ts: 2,
            right_ts: 2
        })
    );
}

#[test]
fn join_errors_name_the_field() {
    let t = JOIN.replace("right_key = [\"key\"]", "right_key = [\"value\"]");
    assert_eq!(
        parse_join(&t, None).1,
        ["ops[2].right_key: field 0 (\"value\", i64) has another type than left_key's (\"key\", string)"]
    );
    let t = JOIN.replace("right_key = [\"key\"]", "right_key = [\"key\", \"name\"]");
    assert_eq!(
        parse_join(&t, None).1,
        ["ops[2].right_key: has 2 fields, left_key has 1"]
    );
    let t = JOIN.replace("left_key = [\"key\"]", "left_key = [\"nope\"]");
    assert_eq!(
        parse_join(&t, None).1,
        ["ops[2].left_key: unknown field \"nope\" (fields: key, value, ts, name)"]
    );
    let t = JOIN.replace("[\"left\", \"right\"]", "[\"left\"]");
    assert_eq!(
        parse_join(&t, None).1[0],
        "ops[2].inputs: expected two input names [left, right] (a source, an op or NAME.OUTPUT)"
    );
    let t = JOIN.replace("ttl = \"1h\"", "ttl = 5");
    assert_eq!(
        parse_join(&t, None).1,
        ["ops[2].ttl: expected a string, found an integer"]
    );
}

#[test]
fn interval_join_bounds_and_event_time() {
    let (got, errs) = parse_interval(INTERVAL, Some("ts"));
    assert!(errs.is_empty(), "{errs:?}");
    let (spec, out) = got.expect("valid");
    assert_eq!(
        spec.config,
        IntervalJoinConfig {
            left_ts: 2,
            right_ts: 2,
            lower: -1_000,
            upper: 2_000
        }
    );
    assert_eq!(out.fields.len(), 8);
    assert_eq!(
        parse_interval(INTERVAL, None).1,
        [
            "ops[2].inputs: an interval join needs event time on both inputs ([source.event_time] \
          or [sources.NAME.event_time], the field kept up to the join)"
        ]
    );
    let t = INTERVAL.replace("\"-1s\"", "\"3s\"");
    assert_eq!(
        parse_interval(&t, Some("ts")).1,
        ["ops[2].lower: 3000ms must not be greater than upper (2000ms)"]
    );
    let t = INTERVAL.replace("upper = \"2s\"\n", "");
    assert_eq!(parse_interval(&t, Some("ts")).1, ["ops[2].upper: missing"]);
}
