//! The row source of a pipeline's `type = "nexmark"` source.

use crate::nexmark::rows::NexmarkRowSource;
use crate::pipeline::nexmark::NexmarkSourceSpec;
use crate::record::Row;
use crate::source::{RangePosition, Source, SourceResult, SourceSplit};

/// The source of `spec`'s rows. A config the validator let through is usable; if it were not,
/// every split fails to open with the config error (no panic).
/// With `emit_rate`, paced on the wall clock.
pub fn row_source(spec: &NexmarkSourceSpec) -> Box<dyn Source<Row>> {
    let source: Box<dyn Source<Row>> = match NexmarkRowSource::new(spec.config.clone(), spec.kind) {
        Ok(source) => Box::new(source.with_fields(spec.fields.clone())),
        Err(e) => Box::new(Broken(e.to_string())),
    };
    match spec.emit_rate {
        Some(rate) => Box::new(crate::source::paced::Paced::new(source, rate as f64)),
        None => source,
    }
}

/// A source whose splits fail to open (an unusable config).
struct Broken(String);

impl Source<Row> for Broken {
    fn name(&self) -> String {
        "nexmark".to_string()
    }

    fn replayable(&self) -> bool {
        true
    }

    fn check(&self) -> SourceResult<()> {
        Err(crate::Error::Config(vec![self.0.clone()]))
    }

    fn open_split(
        &self,
        _worker: usize,
        _workers: usize,
        _resume: Option<Vec<RangePosition>>,
    ) -> SourceResult<Box<dyn SourceSplit<Row>>> {
        Err(crate::Error::Config(vec![self.0.clone()]))
    }
}
