//! Compiling `type = "window"` (after `key_by`):
//!
//! ```toml
//! [[ops]]
//! name = "w"
//! type = "window"
//! kind = "tumbling"            # tumbling | sliding | session
//! size = "1s"                  # tumbling and sliding
//! # slide = "250ms"            # sliding
//! # gap = "30s"                # session
//! allowed_lateness = "0ms"     # optional (event time only)
//! # time = "processing"        # event (default) | processing: windows on the wall clock
//! aggregates = [ { fn = "count", as = "n" }, { fn = "sum", field = "value", as = "sum" } ]
//! ```
//!
//! Output schema: the key fields, `window_start`, `window_end` (timestamps), the aggregates.
//! The window's time is the source's event-time field (`[source.event_time]`), which must
//! reach the window unchanged in name; with `time = "processing"` it is the wall clock when
//! the record reaches the window (no event time needed; windows fire when the clock passes
//! their end, and all open ones at end of input: [`ProcessingWindowed`]).
//!
//! [`ProcessingWindowed`]: crate::operator::window::ProcessingWindowed

use super::event_time::{duration_or_zero, millis};
use crate::operator::rolling::Aggregate;
use crate::operator::window::{
    ProcessingWindowOperator, WindowConfig, WindowKind, WindowKindError, WindowOperator,
};
use crate::operator::KeyedOperator;
use crate::pipeline::spec::AggSpec;
use crate::pipeline::walk::{Errors, Section};
use crate::record::{Field, FieldType, Row, RowKey, Schema};
use std::time::Duration;

/// A validated window op.
#[derive(Clone, Debug, PartialEq)]
pub struct WindowSpec {
    /// Tumbling, sliding or session, lengths in ms.
    pub kind: WindowKind,
    /// How long a fired window still accepts records.
    pub allowed_lateness: Duration,
    /// Event time or processing time.
    pub time: WindowTime,
    /// Index of the event-time field in the window's input (0, unused, on processing time).
    pub ts_index: usize,
    /// The aggregates, in output order.
    pub aggs: Vec<AggSpec>,
}

impl WindowSpec {
    /// The operator's configuration.
    pub fn config(&self) -> WindowConfig {
        WindowConfig {
            kind: self.kind,
            allowed_lateness_ms: millis(self.allowed_lateness),
            ts_field: self.ts_index,
            aggs: self
                .aggs
                .iter()
                .map(|a| Aggregate {
                    func: a.func,
                    field: a.index,
                })
                .collect(),
        }
    }
}

/// The clock of a window op (`time = "event" | "processing"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WindowTime {
    /// The source's event-time field and watermarks.
    Event,
    /// The wall clock when a record reaches the window.
    Processing,
}

const TIMES: &[(&str, WindowTime)] = &[
    ("event", WindowTime::Event),
    ("processing", WindowTime::Processing),
];

impl WindowSpec {
    /// The operator: on event time or on processing time.
    ///
    /// # Errors
    /// [`WindowKindError`] when the window lengths are invalid (the loader checks them).
    pub fn operator(&self) -> Result<Box<dyn KeyedOperator<RowKey, Row, Row>>, WindowKindError> {
        Ok(match self.time {
            WindowTime::Event => Box::new(WindowOperator::new(self.config())?),
            WindowTime::Processing => Box::new(ProcessingWindowOperator::new(self.config())?),
        })
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Tumbling,
    Sliding,
    Session,
}

const KINDS: &[(&str, Kind)] = &[
    ("tumbling", Kind::Tumbling),
    ("sliding", Kind::Sliding),
    ("session", Kind::Session),
];

/// Compiles a window op against its input `schema` and the `key` indices into it.
/// `event_time` is the source's event-time field name: `Some(None)` when the source declares
/// none (an error), `None` when unknown (the source is invalid: not reported again).
pub(crate) fn window(
    s: &mut Section,
    schema: Option<&Schema>,
    key: Option<&[usize]>,
    event_time: Option<Option<&str>>,
    errs: &mut Errors,
) -> Option<(WindowSpec, Schema)> {
    let kind = s.req("kind", errs, |s, k, e| s.choice(k, e, "window kind", KINDS));
    let kind = kind.and_then(|k| lengths(s, k, errs));
    let time = match s.has("time") {
        true => s.choice("time", errs, "window time", TIMES),
        false => Some(WindowTime::Event),
    };
    let lateness = match (s.has("allowed_lateness"), time) {
        (true, Some(WindowTime::Processing)) => {
            s.get("allowed_lateness");
            errs.push(
                &s.at("allowed_lateness"),
                "not used by processing-time windows (no record is late)",
            );
            None
        }
        (true, _) => duration_or_zero(s, "allowed_lateness", errs),
        (false, _) => Some(Duration::ZERO),
    };
    let ts_index = match time {
        Some(WindowTime::Processing) => Some(0),
        _ => event_time_index(s, schema, event_time, errs),
    };
    let (aggs, out) = aggregates(s, schema, key, errs)?;
    Some((
        WindowSpec {
            kind: kind?,
            allowed_lateness: lateness?,
            time: time?,
            ts_index: ts_index?,
            aggs,
        },
        out,
    ))
}

/// The index of the event-time field in the window's input.
fn event_time_index(
    s: &mut Section,
    schema: Option<&Schema>,
    event_time: Option<Option<&str>>,
    errs: &mut Errors,
) -> Option<usize> {
    match event_time {
        Some(Some(name)) => schema.and_then(|sc| {
            let found = sc.index_of(name);
            if found.is_none() {
                errs.push(
                    &s.at("type"),
                    format_args!(
                        "a window needs the event-time field {name:?} in its input (fields: {})",
                        sc.names().join(", ")
                    ),
                );
            }
            found
        }),
        Some(None) => {
            errs.push(
                &s.at("type"),
                "a window needs event time: declare [source.event_time] (or time = \"processing\")",
            );
            None
        }
        None => None,
    }
}

/// The kind's lengths; a length of another kind is an error.
fn lengths(s: &mut Section, kind: Kind, errs: &mut Errors) -> Option<WindowKind> {
    let wanted: &[&str] = match kind {
        Kind::Tumbling => &["size"],
        Kind::Sliding => &["size", "slide"],
        Kind::Session => &["gap"],
    };
    let mut ok = true;
    for k in ["size", "slide", "gap"] {
        if s.has(k) && !wanted.contains(&k) {
            s.get(k);
            errs.push(&s.at(k), format_args!("not used by {} windows", name(kind)));
            ok = false;
        }
    }
    let mut ms = |k: &str| s.req(k, errs, Section::duration).map(millis);
    let out = match kind {
        Kind::Tumbling => WindowKind::Tumbling { size: ms("size")? },
        Kind::Session => WindowKind::Session { gap: ms("gap")? },
        Kind::Sliding => {
            let (size, slide) = (ms("size"), ms("slide"));
            WindowKind::Sliding {
                size: size?,
                slide: slide?,
            }
        }
    };
    if let Err(e) = out.validate() {
        errs.push(&s.at("slide"), e);
        return None;
    }
    ok.then_some(out)
}

fn name(kind: Kind) -> &'static str {
    KINDS
        .iter()
        .find(|(_, k)| *k == kind)
        .map_or("", |(n, _)| n)
}

/// The aggregates and the output schema: key fields, window bounds, aggregates.
fn aggregates(
    s: &mut Section,
    schema: Option<&Schema>,
    key: Option<&[usize]>,
    errs: &mut Errors,
) -> Option<(Vec<AggSpec>, Schema)> {
    let items = s.req("aggregates", errs, Section::array)?;
    let path = s.at("aggregates");
    if items.is_empty() {
        errs.push(&path, "must list at least one aggregate");
        return None;
    }
    let mut out = Schema::default();
    if let (Some(sc), Some(key)) = (schema, key) {
        out.fields.extend(key.iter().map(|&k| sc.fields[k].clone()));
    }
    for bound in ["window_start", "window_end"] {
        if out.index_of(bound).is_some() {
            errs.push(
                &s.at("type"),
                format_args!("key field {bound:?} clashes with the window's output field"),
            );
            return None;
        }
        out.fields.push(Field {
            name: bound.to_string(),
            ty: FieldType::Timestamp,
        });
    }
    let (aggs, ok) = super::keyed::aggregates(items, &path, schema, &mut out, errs);
    (ok && schema.is_some() && key.is_some()).then_some((aggs, out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operator::rolling::AggFn;
    use crate::pipeline::ops::event_time::tests::{schema, with_section};

    fn parse(text: &str, event_time: Option<&str>) -> (Option<(WindowSpec, Schema)>, Vec<String>) {
        with_section("ops[1]", text, |s, e| {
            s.get("type");
            s.get("name");
            window(s, Some(&schema()), Some(&[0]), Some(event_time), e)
        })
    }

    const ISSUE: &str = r#"name = "w"
type = "window"
kind = "tumbling"
size = "1s"
allowed_lateness = "0ms"
aggregates = [ { fn = "count", as = "n" }, { fn = "sum", field = "value", as = "sum" },
               { fn = "min", field = "value", as = "min" }, { fn = "max", field = "value", as = "max" } ]
"#;

    #[test]
    fn the_issue_example_parses() {
        let (got, errs) = parse(ISSUE, Some("ts"));
        assert!(errs.is_empty(), "{errs:?}");
        let (spec, out) = got.expect("valid");
        assert_eq!(
            out.names(),
            [
                "key",
                "window_start",
                "window_end",
                "n",
                "sum",
                "min",
                "max"
            ]
        );
        assert_eq!(out.fields[1].ty, FieldType::Timestamp);
        let cfg = spec.config();
        assert_eq!(cfg.kind, WindowKind::Tumbling { size: 1_000 });
        assert_eq!((cfg.ts_field, cfg.allowed_lateness_ms), (2, 0));
        assert_eq!(
            cfg.aggs[1],
            Aggregate {
                func: AggFn::Sum,
                field: Some(1)
            }
        );
    }

    #[test]
    fn sliding_and_session_lengths() {
        let t = ISSUE.replace(
            "kind = \"tumbling\"",
            "kind = \"sliding\"\nslide = \"250ms\"",
        );
        let (got, errs) = parse(&t, Some("ts"));
        assert!(errs.is_empty(), "{errs:?}");
        assert_eq!(
            got.expect("valid").0.kind,
            WindowKind::Sliding {
                size: 1_000,
                slide: 250
            }
        );
        let t = ISSUE.replace(
            "kind = \"tumbling\"\nsize = \"1s\"",
            "kind = \"session\"\ngap = \"30s\"",
        );
        let (got, _) = parse(&t, Some("ts"));
        assert_eq!(
            got.expect("valid").0.kind,
            WindowKind::Session { gap: 30_000 }
        );
    }

    #[test]
    fn errors_name_the_field() {
        let t = ISSUE.replace("kind = \"tumbling\"", "kind = \"session\"");
        assert_eq!(
            parse(&t, Some("ts")).1,
            [
                "ops[1].size: not used by session windows",
                "ops[1].gap: missing"
            ]
        );
        let t = ISSUE.replace("kind = \"tumbling\"", "kind = \"sliding\"\nslide = \"2s\"");
        assert_eq!(
            parse(&t, Some("ts")).1,
            ["ops[1].slide: slide must not be longer than size"]
        );
        assert_eq!(
            parse(ISSUE, None).1,
            ["ops[1].type: a window needs event time: declare [source.event_time] (or time = \"processing\")"]
        );
        let t = ISSUE.replace("\"0ms\"", "\"soon\"");
        assert!(parse(&t, Some("ts")).1[0]
            .starts_with("ops[1].allowed_lateness: \"soon\" is not a duration"));
        let t = ISSUE.replace(
            "field = \"value\", as = \"sum\"",
            "field = \"name\", as = \"sum\"",
        );
        assert_eq!(
            parse(&t, Some("ts")).1,
            ["ops[1].aggregates[1].field: sum needs a numeric field (\"name\" is string)"]
        );
        let t = ISSUE.replace("as = \"n\"", "as = \"window_end\"");
        assert_eq!(
            parse(&t, Some("ts")).1,
            ["ops[1].aggregates[0].as: duplicate output field \"window_end\""]
        );
    }

    #[test]
    fn processing_time_needs_no_event_time_and_takes_no_lateness() {
        let t = ISSUE.replace("allowed_lateness = \"0ms\"", "time = \"processing\"");
        let (got, errs) = parse(&t, None);
        assert!(errs.is_empty(), "{errs:?}");
        let (spec, out) = got.expect("valid");
        assert_eq!(spec.time, WindowTime::Processing);
        assert_eq!(out.names()[..3], ["key", "window_start", "window_end"]);
        let t = ISSUE.replace(
            "kind = \"tumbling\"",
            "time = \"processing\"\nkind = \"tumbling\"",
        );
        assert_eq!(
            parse(&t, None).1,
            ["ops[1].allowed_lateness: not used by processing-time windows (no record is late)"]
        );
        let t = ISSUE.replace("allowed_lateness = \"0ms\"", "time = \"wall\"");
        assert_eq!(
            parse(&t, Some("ts")).1,
            ["ops[1].time: unknown window time \"wall\" (expected event, processing)"]
        );
        let (got, _) = parse(ISSUE, Some("ts"));
        assert_eq!(got.expect("valid").0.time, WindowTime::Event, "the default");
    }
}
