//! Walking the `toml::Value` tree with field paths.
//!
//! A [`Section`] wraps one TOML table and its path (`ops[2]`); its typed getters record
//! `path: message` errors into [`Errors`] and remember which keys were read, so that
//! [`Section::finish`] can report every other key as unknown.

use std::fmt::Display;
use std::ops::RangeInclusive;
use std::time::Duration;
use toml::{Table, Value};

/// Validation errors collected so far, each `path: message`.
#[derive(Debug, Default)]
pub(crate) struct Errors(pub(crate) Vec<String>);

impl Errors {
    /// Records `path: msg` (just `msg` for the empty root path).
    pub(crate) fn push(&mut self, path: &str, msg: impl Display) {
        if path.is_empty() {
            self.0.push(msg.to_string());
        } else {
            self.0.push(format!("{path}: {msg}"));
        }
    }

    /// True when nothing was recorded.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// `parent.key` (or `key` at the root).
pub(crate) fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_string()
    } else {
        format!("{parent}.{key}")
    }
}

/// `parent[i]`.
pub(crate) fn index(parent: &str, i: usize) -> String {
    format!("{parent}[{i}]")
}

/// The TOML type of a value with its article, for messages ("an integer").
pub(crate) fn a_type(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "a string",
        Value::Integer(_) => "an integer",
        Value::Float(_) => "a float",
        Value::Boolean(_) => "a boolean",
        Value::Datetime(_) => "a datetime",
        Value::Array(_) => "an array",
        Value::Table(_) => "a table",
    }
}

/// One TOML table being validated.
pub(crate) struct Section<'a> {
    /// Path of the table (`""` for the root).
    pub(crate) path: String,
    table: &'a Table,
    /// Keys read so far; the others are unknown.
    read: Vec<String>,
}

impl<'a> Section<'a> {
    /// Wraps `table` found at `path`.
    pub(crate) fn new(path: String, table: &'a Table) -> Self {
        Section {
            path,
            table,
            read: Vec::new(),
        }
    }

    /// The path of `key` in this table.
    pub(crate) fn at(&self, key: &str) -> String {
        join(&self.path, key)
    }

    /// True when `key` is present.
    pub(crate) fn has(&self, key: &str) -> bool {
        self.table.contains_key(key)
    }

    /// The raw value of `key`, marking it read.
    pub(crate) fn get(&mut self, key: &str) -> Option<&'a Value> {
        if !self.read.iter().any(|k| k == key) {
            self.read.push(key.to_string());
        }
        self.table.get(key)
    }

    /// Like `get` with `f`, plus a `missing` error when `key` is absent.
    pub(crate) fn req<T>(
        &mut self,
        key: &str,
        errs: &mut Errors,
        f: impl FnOnce(&mut Self, &str, &mut Errors) -> Option<T>,
    ) -> Option<T> {
        if self.has(key) {
            f(self, key, errs)
        } else {
            errs.push(&self.at(key), "missing");
            None
        }
    }

    fn typed<T>(
        &mut self,
        key: &str,
        errs: &mut Errors,
        what: &str,
        f: impl FnOnce(&'a Value) -> Option<T>,
    ) -> Option<T> {
        let v = self.get(key)?;
        let out = f(v);
        if out.is_none() {
            errs.push(
                &self.at(key),
                format_args!("expected {what}, found {}", a_type(v)),
            );
        }
        out
    }

    /// A string value.
    pub(crate) fn str(&mut self, key: &str, errs: &mut Errors) -> Option<&'a str> {
        self.typed(key, errs, "a string", Value::as_str)
    }

    /// A non-empty string value.
    pub(crate) fn name(&mut self, key: &str, errs: &mut Errors) -> Option<&'a str> {
        let s = self.str(key, errs)?;
        if s.is_empty() {
            errs.push(&self.at(key), "must not be empty");
            return None;
        }
        Some(s)
    }

    /// A boolean value.
    pub(crate) fn bool(&mut self, key: &str, errs: &mut Errors) -> Option<bool> {
        self.typed(key, errs, "a boolean", Value::as_bool)
    }

    /// An integer within `range`.
    pub(crate) fn int(
        &mut self,
        key: &str,
        errs: &mut Errors,
        range: RangeInclusive<i64>,
    ) -> Option<i64> {
        let v = self.typed(key, errs, "an integer", Value::as_integer)?;
        if range.contains(&v) {
            return Some(v);
        }
        if *range.end() == i64::MAX {
            errs.push(
                &self.at(key),
                format_args!("{v} must be at least {}", range.start()),
            );
        } else {
            errs.push(
                &self.at(key),
                format_args!("{v} is out of range {}..={}", range.start(), range.end()),
            );
        }
        None
    }

    /// A number (integer or float) as f64.
    pub(crate) fn number(&mut self, key: &str, errs: &mut Errors) -> Option<f64> {
        self.typed(key, errs, "a number", |v| match v {
            Value::Integer(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            _ => None,
        })
    }

    /// An array value.
    pub(crate) fn array(&mut self, key: &str, errs: &mut Errors) -> Option<&'a [Value]> {
        self.typed(key, errs, "an array", |v| v.as_array().map(Vec::as_slice))
    }

    /// A sub-table, as a section of its own.
    pub(crate) fn table(&mut self, key: &str, errs: &mut Errors) -> Option<Section<'a>> {
        let t = self.typed(key, errs, "a table", Value::as_table)?;
        Some(Section::new(self.at(key), t))
    }

    /// The keys of this table, in order (each counts as read).
    pub(crate) fn keys(&mut self) -> Vec<String> {
        let keys: Vec<String> = self.table.keys().cloned().collect();
        self.read.extend(keys.iter().cloned());
        keys
    }

    /// A humantime duration string ("500ms", "10m") greater than zero.
    pub(crate) fn duration(&mut self, key: &str, errs: &mut Errors) -> Option<Duration> {
        let s = self.str(key, errs)?;
        match humantime::parse_duration(s) {
            Ok(d) if d.is_zero() => {
                errs.push(&self.at(key), "must be greater than zero");
                None
            }
            Ok(d) => Some(d),
            Err(e) => {
                errs.push(
                    &self.at(key),
                    format_args!("{s:?} is not a duration ({e}; e.g. \"500ms\", \"10s\", \"5m\")"),
                );
                None
            }
        }
    }

    /// One of the named `options`; `what` names the kind in the error ("source type").
    pub(crate) fn choice<T: Copy>(
        &mut self,
        key: &str,
        errs: &mut Errors,
        what: &str,
        options: &[(&str, T)],
    ) -> Option<T> {
        let s = self.str(key, errs)?;
        if let Some((_, t)) = options.iter().find(|(name, _)| *name == s) {
            return Some(*t);
        }
        let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
        errs.push(
            &self.at(key),
            format_args!("unknown {what} {s:?} (expected {})", names.join(", ")),
        );
        None
    }

    /// Reports every key that was not read as `path.key: unknown key`.
    pub(crate) fn finish(self, errs: &mut Errors) {
        for key in self.table.keys() {
            if !self.read.iter().any(|k| k == key) {
                errs.push(&self.at(key), "unknown key");
            }
        }
    }
}
