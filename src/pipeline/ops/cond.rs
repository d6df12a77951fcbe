//! The `filter` of an aggregate: comparisons of a field with a constant, joined by `&&`
//! (`"price >= 10000 && price < 1000000"`). Constants are integers, floats or quoted strings
//! (`'…'` or `"…"`), converted to the field's type at validate time.

use super::{fields, resolve};
use crate::pipeline::spec::Cmp;
use crate::pipeline::stateless::compare;
use crate::pipeline::walk::Errors;
use crate::record::{Row, Schema, Value};

/// One `field op constant` comparison.
#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
    /// Index of the compared field.
    pub index: usize,
    /// The comparison.
    pub cmp: Cmp,
    /// The constant, of the field's type.
    pub constant: Value,
}

/// A conjunction of comparisons.
#[derive(Clone, Debug, PartialEq)]
pub struct Cond(pub Vec<Comparison>);

impl Cond {
    /// Whether `row` passes every comparison (a missing or null field fails).
    pub fn holds(&self, row: &Row) -> bool {
        self.0.iter().all(|c| {
            row.get(c.index)
                .and_then(|v| compare(v, &c.constant))
                .is_some_and(|ord| c.cmp.holds(ord))
        })
    }
}

/// The comparison operators, longest first (so `<=` is not read as `<`).
const OPS: &[(&str, Cmp)] = &[
    ("==", Cmp::Eq),
    ("!=", Cmp::Ne),
    ("<=", Cmp::Le),
    (">=", Cmp::Ge),
    ("<", Cmp::Lt),
    (">", Cmp::Gt),
];

/// Parses `text` (at `path`) against `schema`; errors name the path and the part at fault.
pub(super) fn parse(
    text: &str,
    path: &str,
    schema: Option<&Schema>,
    errs: &mut Errors,
) -> Option<Cond> {
    let mut out = Vec::new();
    let mut ok = true;
    for part in text.split("&&") {
        match comparison(part.trim(), path, schema, errs) {
            Some(c) => out.push(c),
            None => ok = false,
        }
    }
    (ok && schema.is_some()).then_some(Cond(out))
}

fn comparison(
    part: &str,
    path: &str,
    schema: Option<&Schema>,
    errs: &mut Errors,
) -> Option<Comparison> {
    let found = OPS
        .iter()
        .filter_map(|(op, cmp)| part.find(op).map(|at| (at, *op, *cmp)))
        .min_by_key(|(at, op, _)| (*at, std::cmp::Reverse(op.len())));
    let Some((at, op, cmp)) = found else {
        errs.push(
            path,
            format_args!("{part:?} is not `field op value` (op: ==, !=, <, <=, >, >=)"),
        );
        return None;
    };
    let field = part[..at].trim();
    let literal = part[at + op.len()..].trim();
    let Some(value) = literal_value(literal) else {
        errs.push(
            path,
            format_args!("{literal:?} is not a number or a quoted string (in {part:?})"),
        );
        return None;
    };
    let index = resolve(schema, field, path, errs)?;
    let schema = schema?;
    let constant = fields::constant_for(&value, &schema.fields[index], path, errs)?;
    Some(Comparison {
        index,
        cmp,
        constant,
    })
}

/// An integer, a float, or a string in single or double quotes.
fn literal_value(s: &str) -> Option<toml::Value> {
    let quoted = |q: char| s.len() >= 2 && s.starts_with(q) && s.ends_with(q);
    if quoted('\'') || quoted('"') {
        return Some(toml::Value::String(s[1..s.len() - 1].to_string()));
    }
    if let Ok(i) = s.parse::<i64>() {
        return Some(toml::Value::Integer(i));
    }
    s.parse::<f64>()
        .ok()
        .filter(|f| f.is_finite())
        .map(toml::Value::Float)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Field, FieldType};

    fn schema() -> Schema {
        let f = |name: &str, ty| Field {
            name: name.into(),
            ty,
        };
        Schema {
            fields: vec![f("price", FieldType::I64), f("channel", FieldType::String)],
        }
    }

    fn row(p: i64, c: &str) -> Row {
        [Value::I64(p), Value::Str(c.into())].into_iter().collect()
    }

    #[test]
    fn conjunctions_of_comparisons() {
        let mut errs = Errors::default();
        let c = parse(
            "price >= 10000 && price<1000000",
            "f",
            Some(&schema()),
            &mut errs,
        )
        .expect("valid");
        assert!(c.holds(&row(10_000, "x")));
        assert!(c.holds(&row(999_999, "x")));
        assert!(!c.holds(&row(9_999, "x")));
        assert!(!c.holds(&row(1_000_000, "x")));
        let c = parse("channel == 'Apple'", "f", Some(&schema()), &mut errs).expect("valid");
        assert!(c.holds(&row(1, "Apple")) && !c.holds(&row(1, "apple")));
        let c = parse("channel != \"a\"", "f", Some(&schema()), &mut errs).expect("valid");
        assert!(!c.holds(&row(1, "a")) && c.holds(&row(1, "b")));
        assert!(errs.is_empty());
    }

    #[test]
    fn errors_name_the_part_at_fault() {
        for (text, needle) in [
            ("price", "is not `field op value`"),
            ("price < abc", "\"abc\" is not a number"),
            ("cost < 1", "unknown field \"cost\""),
            ("channel < 1.5x", "is not a number"),
            ("price < 'x'", "is not an i64"),
        ] {
            let mut errs = Errors::default();
            assert!(parse(text, "ops[0].filter", Some(&schema()), &mut errs).is_none());
            let msg = errs.0.join("\n");
            assert!(msg.contains(needle), "{text}: {msg}");
        }
    }
}
