//! `filter` with `where = "EXPR"` and `select` with computed columns
//! (`{ expr = "EXPR", as = "name" }`); see [`crate::pipeline::expr`].

use crate::pipeline::expr::Expr;
use crate::pipeline::spec::StatelessOp;
use crate::pipeline::walk::{a_type, index, Errors, Section};
use crate::record::{Field, Schema};

/// `filter` with `where`: keeps rows where the boolean expression holds.
pub(super) fn filter_where(
    s: &mut Section,
    schema: Option<&Schema>,
    errs: &mut Errors,
) -> Option<(StatelessOp, Schema)> {
    let text = s.str("where", errs)?;
    for old in ["field", "op", "value"] {
        if s.get(old).is_some() {
            errs.push(&s.at(old), "give either where or field/op/value, not both");
        }
    }
    let schema = schema?;
    let expr = compile(text, schema, &s.at("where"), errs)?;
    if expr.field_type().is_some() {
        errs.push(
            &s.at("where"),
            format_args!(
                "expected a condition, found a {} expression",
                expr.ty.name()
            ),
        );
        return None;
    }
    Some((StatelessOp::Where(expr), schema.clone()))
}

fn compile(text: &str, schema: &Schema, path: &str, errs: &mut Errors) -> Option<Expr> {
    Expr::compile(text, schema)
        .map_err(|e| errs.push(path, e))
        .ok()
}

/// Whether a `select` list has a computed column.
pub(super) fn has_expr(items: &[toml::Value]) -> bool {
    items
        .iter()
        .any(|i| i.as_table().is_some_and(|t| t.contains_key("expr")))
}

/// `select` whose `fields` (at `path`) mix field names, `{ field, as }` and
/// `{ expr, as }` (or `name` for `as`).
pub(super) fn select(
    items: &[toml::Value],
    path: &str,
    schema: Option<&Schema>,
    errs: &mut Errors,
) -> Option<(StatelessOp, Schema)> {
    let mut columns = Vec::with_capacity(items.len());
    let mut out = Schema::default();
    let mut ok = true;
    for (i, item) in items.iter().enumerate() {
        let item_path = index(path, i);
        let Some((text, name, name_path)) = column(item, &item_path, errs) else {
            ok = false;
            continue;
        };
        if out.index_of(&name).is_some() {
            errs.push(&name_path, format_args!("duplicate output field {name:?}"));
            ok = false;
        }
        let Some(schema) = schema else { continue };
        let Some(expr) = compile(&text, schema, &item_path, errs) else {
            ok = false;
            continue;
        };
        let Some(ty) = expr.field_type() else {
            errs.push(
                &item_path,
                "a condition is not a column (wrap it in if(…, 1, 0))",
            );
            ok = false;
            continue;
        };
        out.fields.push(Field { name, ty });
        columns.push(expr);
    }
    (ok && schema.is_some()).then_some((StatelessOp::Project(columns), out))
}

/// An item's expression text, output name and the path of that name.
fn column(item: &toml::Value, path: &str, errs: &mut Errors) -> Option<(String, String, String)> {
    match item {
        toml::Value::String(name) => Some((name.clone(), name.clone(), path.to_string())),
        toml::Value::Table(t) => {
            let mut f = Section::new(path.to_string(), t);
            let (text, default_name) = match f.has("expr") {
                true => (f.str("expr", errs).map(String::from), None),
                false => {
                    let field = f.req("field", errs, Section::str).map(String::from);
                    (field.clone(), field)
                }
            };
            let key = if f.has("name") { "name" } else { "as" };
            let name = match (f.has(key), default_name) {
                (true, _) => f.name(key, errs).map(String::from),
                (false, Some(n)) => Some(n),
                (false, None) => {
                    errs.push(
                        &f.at("as"),
                        "missing: a computed column needs as = \"name\"",
                    );
                    None
                }
            };
            let name_path = f.at(key);
            f.finish(errs);
            Some((text?, name?, name_path))
        }
        other => {
            errs.push(
                path,
                format_args!(
                    "expected a field name, {{ field = ..., as = ... }} or {{ expr = ..., as = ... }}, found {}",
                    a_type(other)
                ),
            );
            None
        }
    }
}
