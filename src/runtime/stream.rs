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
                f,
                _t: PhantomData,
            }),
        }
    }

    /// Applies `f` to every record.
    pub fn map<U: Send + 'static, F>(self, f: F) -> Stream<U>
    where
        F: Fn(T) -> U + Send + Sync + Clone + 'static,
    {
        self.filter_map(move |t| Some(f(t)))
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
            Some(Keyed {
                hash: key.stable_hash(),
                key,
                value: t,
            })
        };
        KeyedStream {
            source: Arc::new(MapSource {
                inner: self.source,
                f: keyed,
                _t: PhantomData,
            }),
        }
    }

    /// Writes the stream to `sink` without a keyed stage (records stay on their worker).
    pub fn sink(self, sink: impl Sink<T> + 'static) -> Job {
        let local = |t: T| {
            Some(Keyed {
                hash: LOCAL,
                key: (),
                value: t,
            })
        };
        let source: Arc<dyn Source<Keyed<(), T>>> = Arc::new(MapSource {
            inner: self.source,
            f: local,
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

/// A source whose records pass through a stateless function.
struct MapSource<T, F> {
    inner: Arc<dyn Source<T>>,
    f: F,
    _t: PhantomData<fn(T)>,
}

impl<T, U, F> Source<U> for MapSource<T, F>
where
    T: Send + 'static,
    U: Send + 'static,
    F: Fn(T) -> Option<U> + Send + Sync + Clone + 'static,
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
            f: self.f.clone(),
            buf: Vec::new(),
            read: 0,
            _u: PhantomData,
        }))
    }
}

struct MapSplit<T, U, F> {
    inner: Box<dyn SourceSplit<T>>,
    f: F,
    /// Scratch batch of the inner split, reused across polls.
    buf: Vec<T>,
    /// Records the inner split produced.
    read: u64,
    _u: PhantomData<fn() -> U>,
}

impl<T, U, F> SourceSplit<U> for MapSplit<T, U, F>
where
    T: Send,
    F: Fn(T) -> Option<U> + Send,
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
        out.extend(self.buf.drain(..).filter_map(&self.f));
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
