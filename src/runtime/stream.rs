//! The typed library API: `Stream` → `key_by` → `process` → `sink` → [`Job`].
//!
//! ```no_run
//! use weir::runtime::{RunConfig, Stream};
//! # fn demo(source: impl weir::source::Source<(u64, i64)> + 'static,
//! #         sink: impl weir::sink::Sink<(u64, i64)> + 'static,
//! #         op: fn() -> weir::operator::Passthrough) -> weir::Result<()> {
//! let job = Stream::from_source(source)
//!     .filter(|e: &(u64, i64)| e.1 >= 0)
//!     .key_by(|e: &(u64, i64)| e.0)
//!     .process(op)
//!     .sink(sink);
//! let report = job.run(&RunConfig::default())?;
//! # Ok(()) }
//! ```

use super::job::{run_job, JobParts};
use super::message::{Keyed, LOCAL};
use super::{JobReport, RunConfig};
use crate::operator::{KeyedOperator, MapOutput, Passthrough};
use crate::sink::Sink;
use crate::source::{DeadLetters, Poll, RangePosition, Source, SourceSplit};
use crate::state::StableKey;
use std::hash::Hash;
use std::marker::PhantomData;
use std::sync::Arc;

/// A stream of records of type `T` read from a source and transformed statelessly.
pub struct Stream<T> {
    source: Arc<dyn Source<T>>,
}

/// A stream keyed by `K`: each record carries its key and the key's stable hash.
pub struct KeyedStream<K, T> {
    source: Arc<dyn Source<Keyed<K, T>>>,
}

/// A keyed stream processed by a keyed operator made by `factory` (one instance per worker).
pub struct ProcessedStream<K, T, O, Op> {
    source: Arc<dyn Source<Keyed<K, T>>>,
    factory: Arc<dyn Fn() -> Op + Send + Sync>,
    _out: PhantomData<fn() -> O>,
}

/// The body of a job, run once with its configuration.
type JobBody = Box<dyn FnOnce(&RunConfig) -> crate::Result<JobReport> + Send>;

/// A runnable job.
pub struct Job {
    run: JobBody,
}

impl Job {
    /// Runs the job to completion (or failure) with `config`.
    ///
    /// # Errors
    /// The first failure of any worker, naming the worker and the cause; I/O errors of sources,
    /// sinks and checkpoints.
    pub fn run(self, config: &RunConfig) -> crate::Result<JobReport> {
        (self.run)(config)
    }
}

impl<T: Send + 'static> Stream<T> {
    /// A stream reading `source`.
    pub fn from_source(source: impl Source<T> + 'static) -> Self {
        Stream {
            source: Arc::new(source),
        }
    }

    /// Applies `f` to every record; `None` drops it.
    pub fn filter_map<U: Send + 'static, F>(self, f: F) -> Stream<U>
    where
        F: Fn(T) -> Option<U> + Send + Sync + Clone + 'static,
    {
        Stream {
            source: Arc::new(MapSource {
                inner: self.source,
                stage: FilterMap(f),
                _t: PhantomData,
            }),
        }
    }

    /// Applies `f` to every record.
    pub fn map<U: Send + 'static, F>(self, f: F) -> Stream<U>
    where
        F: Fn(T) -> U + Send + Sync + Clone + 'static,
    {
        Stream {
            source: Arc::new(MapSource {
                inner: self.source,
                stage: Map(f),
                _t: PhantomData,
            }),
        }
    }

    /// Keeps the records for which `f` is true.
    pub fn filter<F>(self, f: F) -> Stream<T>
    where
        F: Fn(&T) -> bool + Send + Sync + Clone + 'static,
    {
        self.filter_map(move |t| if f(&t) { Some(t) } else { None })
    }

    /// Keys the stream: records are routed to the worker owning their key's key group.
    pub fn key_by<K, F>(self, f: F) -> KeyedStream<K, T>
    where
        K: StableKey + Hash + Eq + Clone + Send + 'static,
        F: Fn(&T) -> K + Send + Sync + Clone + 'static,
    {
        let keyed = move |t: T| {
            let key = f(&t);
            Keyed {
                hash: key.stable_hash(),
                key,
                value: t,
            }
        };
        KeyedStream {
            source: Arc::new(MapSource {
                inner: self.source,
                stage: Map(keyed),
                _t: PhantomData,
            }),
        }
    }

    /// Writes the stream to `sink` without a keyed stage (records stay on their worker).
    pub fn sink(self, sink: impl Sink<T> + 'static) -> Job {
        let local = |t: T| Keyed {
            hash: LOCAL,
            key: (),
            value: t,
        };
        let source: Arc<dyn Source<Keyed<(), T>>> = Arc::new(MapSource {
            inner: self.source,
            stage: Map(local),
            _t: PhantomData,
        });
        let parts = JobParts {
            source,
            factory: Arc::new(|| Passthrough),
            sink: Arc::new(sink),
            local: true,
        };
        Job {
            run: Box::new(move |config: &RunConfig| run_job(parts, config)),
        }
    }
}

impl<K, T> KeyedStream<K, T>
where
    K: StableKey + Hash + Eq + Clone + Send + 'static,
    T: Send + 'static,
{
    /// Processes each key's records with a keyed operator; `factory` makes one per worker.
    pub fn process<O, Op, F>(self, factory: F) -> ProcessedStream<K, T, O, Op>
    where
        O: Send + 'static,
        Op: KeyedOperator<K, T, O> + 'static,
        F: Fn() -> Op + Send + Sync + 'static,
    {
        ProcessedStream {
            source: self.source,
            factory: Arc::new(factory),
            _out: PhantomData,
        }
    }
}

impl<K, T, O, Op> ProcessedStream<K, T, O, Op>
where
    K: Hash + Eq + Clone + Send + 'static,
    T: Send + 'static,
    O: Send + 'static,
    Op: KeyedOperator<K, T, O> + 'static,
{
    /// Applies `f` to every output of the keyed operator; `None` drops it.
    pub fn filter_map<O2, F>(self, f: F) -> ProcessedStream<K, T, O2, MapOutput<Op, F, O>>
    where
        O2: Send + 'static,
        F: FnMut(O) -> Option<O2> + Send + Sync + Clone + 'static,
    {
        let factory = self.factory;
        ProcessedStream {
            source: self.source,
            factory: Arc::new(move || MapOutput {
                inner: factory(),
                f: f.clone(),
                scratch: Vec::new(),
            }),
            _out: PhantomData,
        }
    }

    /// Writes the operator's outputs to `sink`.
    pub fn sink(self, sink: impl Sink<O> + 'static) -> Job {
        let parts = JobParts {
            source: self.source,
            factory: self.factory,
            sink: Arc::new(sink),
            local: false,
        };
        Job {
            run: Box::new(move |config: &RunConfig| run_job(parts, config)),
        }
    }
}

/// A stateless per-batch transformation of a [`MapSource`]: monomorphised, so the per-record
/// loop inlines the user's function.
trait Stage<T, U>: Clone + Send + Sync + 'static {
    /// Transforms the records of `input`, appending the results to `out`.
    fn apply(&self, input: std::vec::Drain<'_, T>, out: &mut Vec<U>);
}

/// A stage that may drop records.
#[derive(Clone)]
struct FilterMap<F>(F);

impl<T, U, F> Stage<T, U> for FilterMap<F>
where
    F: Fn(T) -> Option<U> + Send + Sync + Clone + 'static,
{
    #[inline]
    fn apply(&self, input: std::vec::Drain<'_, T>, out: &mut Vec<U>) {
        out.extend(input.filter_map(&self.0));
    }
}

/// A one-to-one stage (its exact length lets `extend` reserve once and skip capacity checks).
#[derive(Clone)]
struct Map<F>(F);

impl<T, U, F> Stage<T, U> for Map<F>
where
    F: Fn(T) -> U + Send + Sync + Clone + 'static,
{
    #[inline]
    fn apply(&self, input: std::vec::Drain<'_, T>, out: &mut Vec<U>) {
        out.extend(input.map(&self.0));
    }
}

/// A source whose records pass through a stateless stage.
struct MapSource<T, S> {
    inner: Arc<dyn Source<T>>,
    stage: S,
    _t: PhantomData<fn(T)>,
}

impl<T, U, S> Source<U> for MapSource<T, S>
where
    T: Send + 'static,
    U: Send + 'static,
    S: Stage<T, U>,
{
    fn name(&self) -> String {
        self.inner.name()
    }

    fn replayable(&self) -> bool {
        self.inner.replayable()
    }

    fn check(&self) -> crate::Result<()> {
        self.inner.check()
    }

    fn open_split(
        &self,
        worker: usize,
        workers: usize,
        resume: Option<Vec<RangePosition>>,
    ) -> crate::Result<Box<dyn SourceSplit<U>>> {
        let inner = self.inner.open_split(worker, workers, resume)?;
        Ok(Box::new(MapSplit {
            inner,
            stage: self.stage.clone(),
            buf: Vec::new(),
            read: 0,
            _u: PhantomData,
        }))
    }
}

struct MapSplit<T, U, S> {
    inner: Box<dyn SourceSplit<T>>,
    stage: S,
    /// Scratch batch of the inner split, reused across polls.
    buf: Vec<T>,
    /// Records the inner split produced.
    read: u64,
    _u: PhantomData<fn() -> U>,
}

impl<T, U, S> SourceSplit<U> for MapSplit<T, U, S>
where
    T: Send,
    S: Stage<T, U>,
{
    #[inline]
    fn poll_batch(
        &mut self,
        out: &mut Vec<U>,
        max: usize,
        dead: &mut DeadLetters,
    ) -> crate::Result<Poll> {
        self.buf.clear();
        let poll = self.inner.poll_batch(&mut self.buf, max, dead)?;
        self.read += self.buf.len() as u64;
        self.stage.apply(self.buf.drain(..), out);
        Ok(poll)
    }

    fn position(&self) -> Vec<RangePosition> {
        self.inner.position()
    }

    fn records_read(&self) -> u64 {
        match self.inner.records_read() {
            0 => self.read,
            n => n,
        }
    }
}
