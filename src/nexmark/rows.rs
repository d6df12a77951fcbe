//! Nexmark events as pipeline rows: the schema of each kind (NEXMARK.md §5 field names, in
//! record order) and a row [`Source`] emitting the events of one kind.
//!
//! Several row sources of one config (say `bid` and `auction`) split the same event sequence
//! the same way, and each emits only its own kind: an event's kind is a function of its id,
//! so a split skips the other kinds without generating them.

use super::config::{kind_of, Kind, NexmarkConfig};
use super::generate::event;
use super::model::{Auction, Bid, Event, Person};
use super::source::split_ranges;
use crate::error::Error;
use crate::record::{Field, FieldType, Row, Schema, Value};
use crate::source::{DeadLetters, Poll, RangePosition, Source, SourceResult, SourceSplit};

/// Resource name of Nexmark ranges in positions.
const RESOURCE: &str = "nexmark";

/// The field names and types of `kind`'s rows, in order.
pub fn fields(kind: Kind) -> &'static [(&'static str, FieldType)] {
    use FieldType::{String as S, Timestamp as T, I64};
    match kind {
        Kind::Person => &[
            ("id", I64),
            ("name", S),
            ("emailAddress", S),
            ("creditCard", S),
            ("city", S),
            ("state", S),
            ("dateTime", T),
            ("extra", S),
        ],
        Kind::Auction => &[
            ("id", I64),
            ("itemName", S),
            ("description", S),
            ("initialBid", I64),
            ("reserve", I64),
            ("dateTime", T),
            ("expires", T),
            ("seller", I64),
            ("category", I64),
            ("extra", S),
        ],
        Kind::Bid => &[
            ("auction", I64),
            ("bidder", I64),
            ("price", I64),
            ("channel", S),
            ("url", S),
            ("dateTime", T),
            ("extra", S),
        ],
    }
}

/// The schema of `kind`'s rows.
pub fn schema(kind: Kind) -> Schema {
    Schema {
        fields: fields(kind)
            .iter()
            .map(|(name, ty)| Field {
                name: (*name).to_string(),
                ty: *ty,
            })
            .collect(),
    }
}

/// Index of `dateTime` in `kind`'s rows.
pub fn date_time_index(kind: Kind) -> usize {
    match kind {
        Kind::Person => 6,
        Kind::Auction | Kind::Bid => 5,
    }
}

fn s(v: String) -> Value {
    Value::Str(v.into())
}

/// The row of an event (its kind's schema).
pub fn row_of(event: Event) -> Row {
    match event {
        Event::Person(p) => person_row(p),
        Event::Auction(a) => auction_row(a),
        Event::Bid(b) => bid_row(b),
    }
}

fn person_row(p: Person) -> Row {
    let mut row = Row::new();
    row.extend([
        Value::I64(p.id),
        s(p.name),
        s(p.email_address),
        s(p.credit_card),
        s(p.city),
        s(p.state),
        Value::Ts(p.date_time),
        s(p.extra),
    ]);
    row
}

fn auction_row(a: Auction) -> Row {
    let mut row = Row::new();
    row.extend([
        Value::I64(a.id),
        s(a.item_name),
        s(a.description),
        Value::I64(a.initial_bid),
        Value::I64(a.reserve),
        Value::Ts(a.date_time),
        Value::Ts(a.expires),
        Value::I64(a.seller),
        Value::I64(a.category),
        s(a.extra),
    ]);
    row
}

fn bid_row(b: Bid) -> Row {
    let mut row = Row::new();
    row.extend([
        Value::I64(b.auction),
        Value::I64(b.bidder),
        Value::I64(b.price),
        b.channel.map_or(Value::Null, s),
        b.url.map_or(Value::Null, s),
        Value::Ts(b.date_time),
        s(b.extra),
    ]);
    row
}

/// A row source of the events of one kind.
#[derive(Clone, Debug)]
pub struct NexmarkRowSource {
    config: NexmarkConfig,
    kind: Kind,
    fields: Option<Vec<usize>>,
}

impl NexmarkRowSource {
    /// The source of `kind`'s events of `config`.
    ///
    /// # Errors
    /// [`Error::Config`] when the config is unusable (see [`NexmarkConfig::check`]).
    pub fn new(config: NexmarkConfig, kind: Kind) -> crate::Result<Self> {
        config.check().map_err(Error::Config)?;
        Ok(NexmarkRowSource {
            config,
            kind,
            fields: None,
        })
    }

    /// Keeps only the fields at `indices` (increasing) of each row. The events are still
    /// generated whole; the other fields are dropped before the row leaves the source.
    #[must_use]
    pub fn with_fields(mut self, indices: Option<Vec<usize>>) -> Self {
        self.fields = indices.filter(|f| f.len() < fields(self.kind).len());
        self
    }
}

impl Source<Row> for NexmarkRowSource {
    fn name(&self) -> String {
        RESOURCE.to_string()
    }

    fn replayable(&self) -> bool {
        true
    }

    fn open_split(
        &self,
        worker: usize,
        workers: usize,
        resume: Option<Vec<RangePosition>>,
    ) -> SourceResult<Box<dyn SourceSplit<Row>>> {
        let ranges = split_ranges(&self.config, worker, workers, resume)?;
        Ok(Box::new(RowSplit {
            config: self.config.clone(),
            kind: self.kind,
            fields: self.fields.clone(),
            ranges,
            current: 0,
            read: 0,
        }))
    }
}

/// One worker's ranges of event counts, emitting one kind.
struct RowSplit {
    config: NexmarkConfig,
    kind: Kind,
    fields: Option<Vec<usize>>,
    ranges: Vec<RangePosition>,
    /// Ranges before this index are exhausted.
    current: usize,
    read: u64,
}

impl SourceSplit<Row> for RowSplit {
    fn poll_batch(
        &mut self,
        out: &mut Vec<Row>,
        max: usize,
        _dead: &mut DeadLetters,
    ) -> SourceResult<Poll> {
        let max = max.max(1);
        let start = out.len();
        let ts_index = date_time_index(self.kind);
        while out.len() - start < max {
            let Some(range) = self.ranges.get_mut(self.current) else {
                break;
            };
            if range.next >= range.end {
                self.current += 1;
                continue;
            }
            let k = range.next;
            range.next += 1;
            if kind_of(self.config.event_id(k)) != self.kind {
                continue;
            }
            let mut row = match self.kind {
                Kind::Bid => super::fast_bid::bid_row(&self.config, k),
                _ => row_of(event(&self.config, k)),
            };
            if let Some(Value::Ts(t)) = row.get(ts_index) {
                range.max_event_time = Some(range.max_event_time.map_or(*t, |m| m.max(*t)));
            }
            if let Some(keep) = &self.fields {
                keep_fields(&mut row, keep);
            }
            out.push(row);
        }
        self.read += (out.len() - start) as u64;
        if out.len() > start || self.current < self.ranges.len() {
            Ok(Poll::Ready)
        } else {
            Ok(Poll::End)
        }
    }

    fn position(&self) -> Vec<RangePosition> {
        self.ranges.clone()
    }

    fn records_read(&self) -> u64 {
        self.read
    }
}

/// Keeps the fields at `keep` (increasing, in range) of `row`: each is swapped down to its
/// place, the rest truncated (dropped).
pub(super) fn keep_fields(row: &mut Row, keep: &[usize]) {
    for (j, &i) in keep.iter().enumerate() {
        if i < row.len() {
            row.swap(j, i);
        }
    }
    row.truncate(keep.len());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nexmark::config::Mode;
    use crate::source::dead_letter::OnError;

    fn drain(split: &mut dyn SourceSplit<Row>, max: usize) -> Vec<Row> {
        let mut dead = DeadLetters::new("/nonexistent/dead".into(), OnError::Fail);
        let mut out = Vec::new();
        loop {
            match split.poll_batch(&mut out, max, &mut dead) {
                Ok(Poll::Ready) => {}
                Ok(_) => break,
                Err(e) => panic!("{e}"),
            }
        }
        out
    }

    #[test]
    fn each_kind_gets_its_events_in_order_at_any_worker_count() {
        let config = NexmarkConfig::new(Mode::Flink, 1234);
        for kind in [Kind::Person, Kind::Auction, Kind::Bid] {
            let want: Vec<Row> = (0..1234)
                .map(|k| event(&config, k))
                .filter(|e| kind_of_event(e) == kind)
                .map(row_of)
                .collect();
            let source = NexmarkRowSource::new(config.clone(), kind).expect("valid");
            for n in 1..=3 {
                let mut all = Vec::new();
                for w in 0..n {
                    let mut split = source.open_split(w, n, None).expect("split");
                    all.extend(drain(split.as_mut(), 17));
                }
                assert_eq!(all, want, "{kind:?} at {n} workers");
            }
            assert!(want.iter().all(|r| r.len() == fields(kind).len()));
        }
    }

    #[test]
    fn a_source_with_fields_keeps_those_of_each_row() {
        let config = NexmarkConfig::new(Mode::Flink, 2000);
        for (kind, keep) in [
            (Kind::Bid, vec![0, 2, 5]),
            (Kind::Auction, vec![0, 5, 6, 8]),
        ] {
            let full = NexmarkRowSource::new(config.clone(), kind).expect("valid");
            let part = full.clone().with_fields(Some(keep.clone()));
            let want: Vec<Row> = drain(full.open_split(0, 1, None).expect("split").as_mut(), 64)
                .into_iter()
                .map(|r| keep.iter().map(|&i| r[i].clone()).collect())
                .collect();
            let got = drain(part.open_split(0, 1, None).expect("split").as_mut(), 64);
            assert!(!want.is_empty());
            assert_eq!(got, want, "{kind:?}");
        }
    }

    fn kind_of_event(e: &Event) -> Kind {
        match e {
            Event::Person(_) => Kind::Person,
            Event::Auction(_) => Kind::Auction,
            Event::Bid(_) => Kind::Bid,
        }
    }

    #[test]
    fn a_resumed_split_continues_where_it_stopped() {
        let config = NexmarkConfig::new(Mode::Beam, 600);
        let source = NexmarkRowSource::new(config, Kind::Bid).expect("valid");
        let whole = drain(source.open_split(0, 1, None).expect("split").as_mut(), 50);
        let mut split = source.open_split(0, 1, None).expect("split");
        let mut dead = DeadLetters::new("/nonexistent/dead".into(), OnError::Fail);
        let mut first = Vec::new();
        split.poll_batch(&mut first, 100, &mut dead).expect("poll");
        let position = split.position();
        let rest = drain(
            source
                .open_split(0, 1, Some(position))
                .expect("split")
                .as_mut(),
            50,
        );
        first.extend(rest);
        assert_eq!(first, whole);
    }
}
