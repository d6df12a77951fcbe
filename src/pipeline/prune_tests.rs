use crate::pipeline::parse_str;
use crate::pipeline::spec::{Plan, SourceSpec};

fn plan(text: &str) -> Plan {
    parse_str(text, &[]).expect("valid pipeline")
}

/// Each source's field names after pruning.
fn source_fields(p: &Plan) -> Vec<(String, Vec<String>)> {
    let g = p.graph.as_ref().expect("graph form");
    g.sources
        .iter()
        .map(|(n, s)| {
            let names = s.fields.iter().map(|f| f.name.clone()).collect();
            (n.clone(), names)
        })
        .collect()
}

fn names(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

const Q4: &str = include_str!("../../fixtures/nexmark/q4.toml");
const Q5: &str = include_str!("../../fixtures/nexmark/q5.toml");

#[test]
fn q4_sources_keep_only_what_the_join_and_aggregates_read() {
    let p = plan(Q4);
    let got = source_fields(&p);
    // Hand-checked: the join reads id (key) and auction (key); the filter reads both
    // dateTime and expires; the aggregates read category and price. The bid's dateTime keeps
    // its joined name bid_dateTime because the auction's dateTime stays.
    assert_eq!(
        got,
        vec![
            (
                "auction".to_string(),
                names(&["id", "dateTime", "expires", "category"])
            ),
            ("bid".to_string(), names(&["auction", "price", "dateTime"])),
        ]
    );
    let g = p.graph.as_ref().expect("graph");
    let sink: Vec<&str> = g.sinks[0]
        .2
        .fields
        .iter()
        .map(|f| f.name.as_str())
        .collect();
    assert_eq!(sink, ["category", "avg"]);
}

#[test]
fn q5_moves_two_fields_through_the_exchange() {
    let p = plan(Q5);
    assert_eq!(
        source_fields(&p),
        vec![("bid".to_string(), names(&["auction", "dateTime"]))]
    );
}

#[test]
fn a_sink_of_the_source_keeps_every_field() {
    let text = r#"
[sources.bid]
type = "nexmark"
kind = "bid"
[sinks.out]
input = "bid"
type = "null"
"#;
    let p = plan(text);
    assert_eq!(source_fields(&p)[0].1.len(), 7);
    let g = p.graph.as_ref().expect("graph");
    let SourceSpec::Nexmark(n) = &g.source_specs[0] else {
        panic!("nexmark source")
    };
    assert_eq!(n.fields, None);
}

#[test]
fn a_rejected_side_output_keeps_the_filters_input_whole() {
    let text = r#"
[sources.bid]
type = "nexmark"
kind = "bid"
[[ops]]
name = "cheap"
type = "filter"
where = "price < 100"
[[ops]]
name = "ids"
type = "select"
input = "cheap"
fields = ["auction"]
[sinks.out]
input = "ids"
type = "null"
[sinks.dear]
input = "cheap.rejected"
type = "null"
"#;
    assert_eq!(source_fields(&plan(text))[0].1.len(), 7);
}

#[test]
fn expressions_keep_the_fields_they_read() {
    let text = r#"
[sources.bid]
type = "nexmark"
kind = "bid"
[[ops]]
type = "filter"
where = "len(url) > 3"
[[ops]]
type = "select"
fields = [{ expr = "decimal(price * 908, 3)", as = "p" }, "bidder"]
[sinks.out]
input = "ops[1]"
type = "null"
"#;
    // dateTime stays: it is the source's event time.
    assert_eq!(
        source_fields(&plan(text))[0].1,
        names(&["bidder", "price", "url", "dateTime"])
    );
}

#[test]
fn a_right_field_keeps_its_joined_name() {
    // Only the bid's dateTime is read, as bid_dateTime: the auction's dateTime must stay so
    // that the name does not change.
    let text = r#"
[sources.auction]
type = "nexmark"
kind = "auction"
[sources.bid]
type = "nexmark"
kind = "bid"
[sources.auction.event_time]
field = "expires"
max_out_of_orderness = "0s"
[[ops]]
name = "j"
type = "join"
inputs = ["auction", "bid"]
left_key = "id"
right_key = "auction"
[[ops]]
type = "select"
fields = ["bid_dateTime"]
[sinks.out]
input = "ops[1]"
type = "null"
"#;
    let got = source_fields(&plan(text));
    assert_eq!(got[0].1, names(&["id", "dateTime", "expires"]));
    assert_eq!(got[1].1, names(&["auction", "dateTime"]));
}
