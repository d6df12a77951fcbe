//! `--set path=value` overrides, applied to the TOML document before validation.
//!
//! The path is dotted keys with optional indices: `source.path`, `ops[2].field`,
//! `ops[1].fields[0]`, `runtime.workers`. Every step but the last must exist, except a missing
//! top-level section (`source`, `sink`, `checkpoint`, `runtime`), which is created. The last
//! step is set (a key is added or replaced; an index must be in range). The value is a TOML
//! literal when it parses as one (`1`, `2.5`, `true`, `[1, 2]`, `"quoted"`), else the raw text
//! as a string (`ev.csv`, `500ms`).

use crate::error::Error;
use toml::Value;

/// Top-level sections a `--set` may create.
const SECTIONS: &[&str] = &["source", "sink", "checkpoint", "runtime"];

#[derive(Debug, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
}

/// Applies one `path=value` override to `doc`.
///
/// # Errors
/// [`Error::Config`] naming the override and the offending path: no `=`, a malformed path,
/// a missing intermediate key, an index out of range, or a step into a non-table/non-array.
pub fn apply_set(doc: &mut Value, set: &str) -> Result<(), Error> {
    let sets = super::overrides_graph::fan_out(doc, set);
    for one in &sets {
        apply(doc, one).map_err(|msg| Error::Config(vec![format!("--set {set}: {msg}")]))?;
    }
    Ok(())
}

/// The value of an override: a TOML literal when `raw` parses as one, else `raw` as a string.
pub fn parse_value(raw: &str) -> Value {
    let raw = raw.trim();
    match format!("v = {raw}").parse::<toml::Table>() {
        Ok(mut t) if t.len() == 1 => t.remove("v").unwrap_or_else(|| Value::String(raw.into())),
        _ => Value::String(raw.to_string()),
    }
}

fn apply(doc: &mut Value, set: &str) -> Result<(), String> {
    let (path, raw) = set.split_once('=').ok_or("expected path=value")?;
    let path = path.trim();
    let steps = parse_path(path)?;
    let (last, init) = steps.split_last().ok_or("empty path")?;
    let mut cur = doc;
    let mut at = String::new();
    for (depth, step) in init.iter().enumerate() {
        let next_at = describe(&at, step);
        cur = match (cur, step) {
            (Value::Table(t), Step::Key(k)) => {
                if !t.contains_key(k) && depth == 0 && SECTIONS.contains(&k.as_str()) {
                    t.insert(k.clone(), Value::Table(toml::Table::new()));
                }
                t.get_mut(k)
                    .ok_or_else(|| format!("{next_at} does not exist"))?
            }
            (Value::Array(a), Step::Index(i)) => {
                let len = a.len();
                a.get_mut(*i)
                    .ok_or_else(|| format!("{next_at} does not exist ({at} has {len} elements)"))?
            }
            (v, _) => return Err(not_container(&at, v, step)),
        };
        at = next_at;
    }
    let value = parse_value(raw);
    match (cur, last) {
        (Value::Table(t), Step::Key(k)) => {
            t.insert(k.clone(), value);
        }
        (Value::Array(a), Step::Index(i)) => {
            let len = a.len();
            let slot = a.get_mut(*i).ok_or_else(|| {
                format!(
                    "{} does not exist ({at} has {len} elements)",
                    describe(&at, last)
                )
            })?;
            *slot = value;
        }
        (v, _) => return Err(not_container(&at, v, last)),
    }
    Ok(())
}

fn describe(parent: &str, step: &Step) -> String {
    match step {
        Step::Key(k) => super::walk::join(parent, k),
        Step::Index(i) => super::walk::index(parent, *i),
    }
}

fn not_container(at: &str, v: &Value, step: &Step) -> String {
    let want = match step {
        Step::Key(_) => "a table",
        Step::Index(_) => "an array",
    };
    let at = if at.is_empty() { "the document" } else { at };
    format!("{at} is {}, not {want}", super::walk::a_type(v))
}

/// `a.b[1][2].c` → `Key(a) Key(b) Index(1) Index(2) Key(c)`.
fn parse_path(path: &str) -> Result<Vec<Step>, String> {
    let bad = || format!("malformed path {path:?} (expected e.g. source.path or ops[2].field)");
    let mut steps = Vec::new();
    for part in path.split('.') {
        let (name, mut rest) = part.split_at(part.find('[').unwrap_or(part.len()));
        let bare = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
        if name.is_empty() || !name.chars().all(bare) {
            return Err(bad());
        }
        steps.push(Step::Key(name.to_string()));
        while !rest.is_empty() {
            let close = rest.find(']').ok_or_else(bad)?;
            let i = rest[1..close].parse().map_err(|_| bad())?;
            steps.push(Step::Index(i));
            rest = &rest[close + 1..];
            if !rest.is_empty() && !rest.starts_with('[') {
                return Err(bad());
            }
        }
    }
    Ok(steps)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> Value {
        r#"
        [source]
        type = "file"
        path = "a.csv"
        [[ops]]
        type = "filter"
        field = "value"
        [[ops]]
        type = "select"
        fields = ["a", "b"]
        "#
        .parse::<toml::Table>()
        .map(Value::Table)
        .unwrap()
    }

    fn set(doc: &mut Value, s: &str) -> Result<(), String> {
        apply_set(doc, s).map_err(|e| match e {
            Error::Config(m) => m.join("\n"),
            other => other.to_string(),
        })
    }

    #[test]
    fn literals_and_strings() {
        assert_eq!(parse_value("1"), Value::Integer(1));
        assert_eq!(parse_value("2.5"), Value::Float(2.5));
        assert_eq!(parse_value("true"), Value::Boolean(true));
        assert_eq!(parse_value("\"x y\""), Value::String("x y".into()));
        assert_eq!(parse_value("'lit'"), Value::String("lit".into()));
        assert_eq!(
            parse_value("[1, 2]"),
            Value::Array(vec![Value::Integer(1), Value::Integer(2)])
        );
        assert_eq!(parse_value("ev.csv"), Value::String("ev.csv".into()));
        assert_eq!(parse_value("500ms"), Value::String("500ms".into()));
        assert_eq!(
            parse_value("dir/ev.csv"),
            Value::String("dir/ev.csv".into())
        );
        // Not a way to inject more keys.
        assert_eq!(parse_value("1\nw = 2"), Value::String("1\nw = 2".into()));
    }

    #[test]
    fn sets_dotted_keys_and_indices() {
        let mut d = doc();
        set(&mut d, "source.path=ev.csv").unwrap();
        assert_eq!(d["source"]["path"].as_str(), Some("ev.csv"));
        set(&mut d, "ops[0].field=x").unwrap();
        assert_eq!(d["ops"][0]["field"].as_str(), Some("x"));
        set(&mut d, "ops[0].value = 10").unwrap();
        assert_eq!(d["ops"][0]["value"].as_integer(), Some(10));
        set(&mut d, "ops[1].fields[1]=c").unwrap();
        assert_eq!(d["ops"][1]["fields"][1].as_str(), Some("c"));
        // A missing top-level section is created.
        set(&mut d, "runtime.workers=1").unwrap();
        assert_eq!(d["runtime"]["workers"].as_integer(), Some(1));
        set(&mut d, "checkpoint.interval=500ms").unwrap();
        assert_eq!(d["checkpoint"]["interval"].as_str(), Some("500ms"));
        set(&mut d, "name=\"quoted name\"").unwrap();
        assert_eq!(d["name"].as_str(), Some("quoted name"));
        // `=` in the value stays in the value.
        set(&mut d, "source.path=a=b.csv").unwrap();
        assert_eq!(d["source"]["path"].as_str(), Some("a=b.csv"));
    }

    #[test]
    fn errors_name_the_path() {
        let mut d = doc();
        assert_eq!(
            set(&mut d, "sourc.path=x").unwrap_err(),
            "--set sourc.path=x: sourc does not exist"
        );
        assert_eq!(
            set(&mut d, "ops[7].field=x").unwrap_err(),
            "--set ops[7].field=x: ops[7] does not exist (ops has 2 elements)"
        );
        assert_eq!(
            set(&mut d, "ops[1].fields[5]=x").unwrap_err(),
            "--set ops[1].fields[5]=x: ops[1].fields[5] does not exist (ops[1].fields has 2 elements)"
        );
        assert_eq!(
            set(&mut d, "source.path.x=1").unwrap_err(),
            "--set source.path.x=1: source.path is a string, not a table"
        );
        assert_eq!(
            set(&mut d, "source[0]=1").unwrap_err(),
            "--set source[0]=1: source is a table, not an array"
        );
        assert_eq!(
            set(&mut d, "source.nested.deep=1").unwrap_err(),
            "--set source.nested.deep=1: source.nested does not exist"
        );
        assert_eq!(
            set(&mut d, "workers").unwrap_err(),
            "--set workers: expected path=value"
        );
        for bad in [
            "ops[x].a=1",
            "ops[1.a=1",
            ".a=1",
            "a..b=1",
            "ops[1]x=1",
            "=1",
        ] {
            let err = set(&mut d, bad).unwrap_err();
            assert!(err.contains("malformed path"), "{bad}: {err}");
        }
        // Nothing was changed by the failed overrides.
        assert_eq!(d, doc());
    }
}
