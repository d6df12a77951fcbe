//! Validation of `aggregate` and `top_n` in the graph form: schemas out, errors that name
//! the field.

use crate::pipeline::spec::KeyedOp;
use crate::pipeline::{parse_str, Error};

const HEAD: &str = r#"
[sources.bids]
type = "file"
path = "in.csv"
schema = [ { name = "auction", type = "i64" }, { name = "price", type = "i64" },
           { name = "channel", type = "string" }, { name = "ts", type = "timestamp" } ]
[sinks.out]
input = "agg"
type = "file"
path = "out"
"#;

fn load(ops: &str) -> Result<crate::pipeline::Plan, Vec<String>> {
    match parse_str(&format!("{HEAD}\n{ops}"), &[]) {
        Ok(p) => Ok(p),
        Err(Error::Config(errs)) => Err(errs),
        Err(e) => Err(vec![e.to_string()]),
    }
}

fn errors(ops: &str) -> String {
    match load(ops) {
        Ok(_) => panic!("expected errors"),
        Err(e) => e.join("\n"),
    }
}

#[test]
fn aggregate_with_group_by_filters_and_upsert_key() {
    let plan = load(
        r#"
[[ops]]
name = "agg"
type = "aggregate"
group_by = ["channel"]
aggregates = [
  { fn = "count", as = "n" },
  { fn = "count", filter = "price >= 10 && price < 100", as = "mid" },
  { fn = "count_distinct", field = "auction" },
  { fn = "avg", field = "price" },
  { fn = "max", field = "ts" },
]
"#,
    )
    .expect("valid");
    let graph = plan.graph.expect("graph form");
    let op = &graph.ops[0];
    let names: Vec<&str> = op.schema.fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "channel",
            "n",
            "mid",
            "count_distinct_auction",
            "avg_price",
            "max_ts"
        ]
    );
    let crate::pipeline::ops::graph::GraphOpKind::Keyed(KeyedOp::Aggregate(spec)) = &op.kind else {
        panic!("not an aggregate: {:?}", op.kind)
    };
    assert_eq!(spec.group_by.as_deref(), Some(&[2][..]));
    let mid = spec.aggs[1].filter.as_ref().expect("a filter");
    let row = |p: i64| -> crate::record::Row {
        use crate::record::Value;
        [
            Value::I64(1),
            Value::I64(p),
            Value::Str("c".into()),
            Value::Ts(0),
        ]
        .into_iter()
        .collect()
    };
    assert!(mid.test(&row(10)) && mid.test(&row(99)));
    assert!(!mid.test(&row(9)) && !mid.test(&row(100)));
}

#[test]
fn aggregate_errors_name_the_field() {
    let e = errors(
        r#"
[[ops]]
name = "agg"
type = "aggregate"
group_by = "nope"
aggregates = [ { fn = "avg", field = "channel" }, { fn = "median", field = "price" } ]
"#,
    );
    assert!(e.contains("ops[0].group_by: unknown field \"nope\""), "{e}");
    assert!(
        e.contains("ops[0].aggregates[0].field: avg needs a numeric field"),
        "{e}"
    );
    assert!(
        e.contains("ops[0].aggregates[1].fn: unknown aggregate function"),
        "{e}"
    );
    let e = errors(
        r#"
[[ops]]
name = "agg"
type = "aggregate"
group_by = "channel"
upsert_key = "auction"
aggregates = [ { fn = "max", field = "price", filter = "price <" } ]
"#,
    );
    assert!(e.contains("ops[0].aggregates[0].filter: "), "{e}");
    let e = errors(
        r#"
[[ops]]
name = "agg"
type = "aggregate"
group_by = "channel"
upsert_key = "auction"
aggregates = [ { fn = "max", field = "price" } ]
"#,
    );
    assert!(
        e.contains("ops[0].aggregates[0]: min and max cannot take back"),
        "{e}"
    );
    let e = errors(
        r#"
[[ops]]
name = "agg"
type = "aggregate"
group_by = "channel"
aggregates = [ { fn = "count", filter = "price + 1" } ]
"#,
    );
    assert!(
        e.contains("ops[0].aggregates[0].filter: expected a condition"),
        "{e}"
    );
    let e = errors(
        "[[ops]]\nname = \"agg\"\ntype = \"aggregate\"\naggregates = [ { fn = \"count\" } ]",
    );
    assert!(e.contains("ops[0].group_by: missing"), "{e}");
}

#[test]
fn top_n_appends_the_rank_and_reads_a_key_by() {
    let plan = load(
        r#"
[[ops]]
type = "key_by"
key = "auction"
[[ops]]
name = "agg"
type = "top_n"
n = 10
order_by = "price"
rank = "rank_number"
"#,
    )
    .expect("valid");
    let graph = plan.graph.expect("graph form");
    let op = &graph.ops[1];
    assert_eq!(op.schema.fields.len(), 5);
    assert_eq!(op.schema.fields[4].name, "rank_number");
    let e = errors(
        r#"
[[ops]]
name = "agg"
type = "top_n"
group_by = "auction"
n = 0
order_by = "cost"
order = "up"
rank = "price"
"#,
    );
    assert!(e.contains("ops[0].n: 0 is out of range"), "{e}");
    assert!(e.contains("ops[0].order_by: unknown field \"cost\""), "{e}");
    assert!(e.contains("ops[0].order: unknown order \"up\""), "{e}");
}

#[test]
fn max_rows_keeps_the_schema_and_needs_a_timestamp() {
    let plan = load(
        "[[ops]]\nname = \"agg\"\ntype = \"max_rows\"\ngroup_by = \"ts\"\nfield = \"price\"\nat = \"ts\"",
    )
    .expect("valid");
    let graph = plan.graph.expect("graph form");
    assert_eq!(graph.ops[0].schema.fields.len(), 4);
    let e = errors(
        "[[ops]]\nname = \"agg\"\ntype = \"max_rows\"\ngroup_by = \"ts\"\nfield = \"nope\"\nat = \"price\"",
    );
    assert!(e.contains("ops[0].field: unknown field \"nope\""), "{e}");
    let e = errors(
        "[[ops]]\nname = \"agg\"\ntype = \"max_rows\"\ngroup_by = \"ts\"\nfield = \"price\"\nat = \"price\"",
    );
    assert!(e.contains("ops[0].at: expected a timestamp field"), "{e}");
}
