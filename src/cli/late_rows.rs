//! Late rows of a pipeline file that no op or sink reads go to the dead letters, with the
//! fields of the row named by the schema of the stage's input
//! ([`crate::runtime::late_letters`]).

use crate::dataflow::{Job, Stream};
use crate::pipeline::ops::graph::{GraphOpKind, GraphPlan};
use crate::pipeline::spec::KeyedOp;
use crate::record::{Row, Schema, Value};
use crate::runtime::late_letters::LateFormat;
use std::collections::HashMap;
use std::sync::Arc;

/// A field value as JSON (timestamps as integer milliseconds, like every output).
fn value_json(v: &Value) -> serde_json::Value {
    match v {
        Value::Null => serde_json::Value::Null,
        Value::I64(i) | Value::Ts(i) => (*i).into(),
        Value::F64(f) => {
            serde_json::Number::from_f64(*f).map_or(serde_json::Value::Null, Into::into)
        }
        Value::Str(s) => s.as_str().into(),
    }
}

/// Writes a row as `"record": {field: value, ...}` (as an array when the schema is unknown
/// or does not fit the row).
pub fn row_format(schema: Option<&Schema>) -> LateFormat<Row> {
    let names: Option<Vec<String>> =
        schema.map(|s| s.fields.iter().map(|f| f.name.clone()).collect());
    Arc::new(move |row: &Row, m| {
        let record = match &names {
            Some(names) if names.len() == row.len() => serde_json::Value::Object(
                names
                    .iter()
                    .zip(row.iter())
                    .map(|(n, v)| (n.clone(), value_json(v)))
                    .collect(),
            ),
            _ => row.iter().map(value_json).collect(),
        };
        m.insert("record".into(), record);
    })
}

/// The schema of the stream called `name` in `graph` (a source, an op, or `op.OUTPUT`).
fn schema_of<'a>(graph: &'a GraphPlan, name: &str, depth: usize) -> Option<&'a Schema> {
    if depth > graph.ops.len() + 1 {
        return None;
    }
    if let Some((_, s)) = graph.sources.iter().find(|(n, _)| n == name) {
        return Some(s);
    }
    if let Some(op) = graph.ops.iter().find(|op| op.name == name) {
        return Some(&op.schema);
    }
    // A side output carries rows of one of its op's inputs.
    let (op, side) = name.rsplit_once('.')?;
    let op = graph.ops.iter().find(|o| o.name == op)?;
    let input = if side == "late_right" { 1 } else { 0 };
    schema_of(graph, op.inputs.get(input)?, depth + 1)
}

/// The late side outputs of `graph`'s ops (`op.late`, `op.late_left`, `op.late_right`).
fn late_outputs(graph: &GraphPlan) -> Vec<String> {
    let mut out = Vec::new();
    for op in &graph.ops {
        let sides: &[&str] = match &op.kind {
            GraphOpKind::Keyed(KeyedOp::Window(_)) => &["late"],
            GraphOpKind::IntervalJoin(_) => &["late_left", "late_right"],
            _ => &[],
        };
        out.extend(sides.iter().map(|s| format!("{}.{s}", op.name)));
    }
    out
}

/// One dead-letter job per late side output of `graph` that no op or sink reads.
pub fn unconsumed_late(graph: &GraphPlan, streams: &HashMap<String, Stream<Row>>) -> Vec<Job> {
    let read = |name: &str| {
        graph
            .ops
            .iter()
            .any(|op| op.inputs.iter().any(|i| i == name))
            || graph.sinks.iter().any(|(_, input, _)| input == name)
    };
    late_outputs(graph)
        .into_iter()
        .filter(|name| !read(name))
        .filter_map(|name| {
            let stream = streams.get(&name)?.clone();
            let format = row_format(schema_of(graph, &name, 0));
            Some(stream.late_to_dead_letters(Some(format)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Field, FieldType};

    #[test]
    fn rows_render_with_their_field_names_or_as_arrays() {
        let schema = Schema {
            fields: vec![
                Field {
                    name: "k".into(),
                    ty: FieldType::String,
                },
                Field {
                    name: "ts".into(),
                    ty: FieldType::Timestamp,
                },
            ],
        };
        let row: Row = smallvec::smallvec![Value::Str("a".into()), Value::Ts(17)];
        let mut m = serde_json::Map::new();
        row_format(Some(&schema))(&row, &mut m);
        assert_eq!(m["record"], serde_json::json!({"k": "a", "ts": 17}));
        row_format(None)(&row, &mut m);
        assert_eq!(m["record"], serde_json::json!(["a", 17]));
    }
}
