//! The typed library API: streams, keyed streams, stages, side outputs, sinks, jobs.
//!
//! ```no_run
//! use weir::dataflow::Stream;
//! use weir::runtime::RunConfig;
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
//!
//! A [`Stream`] is a handle on one output of a node of a graph under construction; streams
//! can be used more than once (their records are copied to every consumer), combined
//! ([`Stream::union`], [`KeyedStream::connect`]) and written to several sinks ([`Job::and`]).

use super::co::{CoOperator, Either};
use super::graph::{Graph, NodeDef};
use super::nodes::{
    Edge, EdgeDef, FilterMap, Map, Port, SinkNode, SourceNode, StageNode, StepNode,
};
use super::routes::{KeyBy, LeftOf, Local, RightOf};
use crate::operator::{KeyedCoOperator, KeyedOperator, Passthrough};
use crate::runtime::task::EventTime;
use crate::runtime::{JobReport, RunConfig};
use crate::sink::Sink;
use crate::source::Source;
use crate::state::StableKey;
use std::hash::Hash;
use std::marker::PhantomData;
use std::sync::Arc;

/// A stream of records of type `T`: one output of a node of the job graph.
pub struct Stream<T> {
    pub(super) port: Port,
    /// A mistake found while building (an unknown side output), reported by [`Job::run`].
    pub(super) error: Option<String>,
    _t: PhantomData<fn() -> T>,
}

impl<T> Clone for Stream<T> {
    fn clone(&self) -> Self {
        Stream {
            port: self.port.clone(),
            error: self.error.clone(),
            _t: PhantomData,
        }
    }
}

/// A stream keyed by `K`: each record carries its key and the key's stable hash.
///
/// The key is computed where the record is routed (in the edge to the keyed stage), not by a
/// step before it: a record is moved once, into the exchange, instead of first into a batch
/// of keyed records and then into the exchange.
pub struct KeyedStream<K, T> {
    unkeyed: Stream<T>,
    key_by: KeyBy<K, T>,
}

/// Two keyed streams with the same key type, to be processed together by a
/// [`KeyedCoOperator`].
pub struct ConnectedStreams<K, A, B> {
    left: KeyedStream<K, A>,
    right: KeyedStream<K, B>,
}

/// A runnable job: the sinks it writes and everything they read from.
pub struct Job {
    pub(super) sinks: Vec<Arc<dyn NodeDef>>,
    pub(super) errors: Vec<String>,
}

impl Job {
    /// A job writing the sinks of both `self` and `other` (one graph; streams used by both
    /// are computed once).
    pub fn and(mut self, other: Job) -> Job {
        self.sinks.extend(other.sinks);
        self.errors.extend(other.errors);
        self
    }

    /// The stage graph as text: one line per node; `=>` marks an exchange (rings between
    /// workers), `->` a fused edge.
    pub fn describe(&self) -> String {
        Graph::new(&self.sinks).describe()
    }

    /// Runs the job to completion (or failure) with `config`. The checkpoint fingerprint is
    /// `config.fingerprint` when set (the CLI's covers the pipeline), else the graph's shape.
    ///
    /// # Errors
    /// A mistake in the graph; the first failure of any worker, naming the worker and the
    /// cause; I/O errors of sources, sinks and checkpoints.
    pub fn run(self, config: &RunConfig) -> crate::Result<JobReport> {
        if !self.errors.is_empty() {
            return Err(crate::Error::Config(self.errors));
        }
        let graph = Graph::new(&self.sinks);
        let mut config = config.clone();
        if config.fingerprint == 0 {
            config.fingerprint = graph.shape_hash();
        }
        crate::runtime::job::run_job(&graph, &config)
    }
}

impl<T: Clone + Send + 'static> Stream<T> {
    fn at(node: Arc<dyn NodeDef>, error: Option<String>) -> Self {
        Stream {
            port: (node, 0),
            error,
            _t: PhantomData,
        }
    }

    /// A stream reading `source`.
    pub fn from_source(source: impl Source<T> + 'static) -> Self {
        Self::source_node(None, Arc::new(source))
    }

    /// A stream reading `source`, named `name` in the graph (its positions in checkpoints
    /// are tagged with the name).
    pub fn from_named_source(name: &str, source: impl Source<T> + 'static) -> Self {
        Self::source_node(Some(name.to_string()), Arc::new(source))
    }

    /// A stream reading a boxed source, optionally named.
    pub fn from_boxed_source(name: Option<&str>, source: Box<dyn Source<T>>) -> Self {
        Self::source_node(name.map(str::to_string), Arc::from(source))
    }

    /// A stream reading `source` whose records carry event time: each split emits
    /// bounded-out-of-orderness watermarks (and goes idle) as `event_time` says.
    pub fn from_source_with_event_time(
        name: Option<&str>,
        source: Box<dyn Source<T>>,
        event_time: EventTime<T>,
    ) -> Self {
        let node = SourceNode {
            source: Arc::from(source),
            name: name.map(str::to_string),
            event_time: Some(event_time),
        };
        Self::at(Arc::new(node), None)
    }

    fn source_node(name: Option<String>, source: Arc<dyn Source<T>>) -> Self {
        let node = SourceNode {
            source,
            name,
            event_time: None,
        };
        Self::at(Arc::new(node), None)
    }

    fn step<U: Clone + Send + 'static, S: super::nodes::Step<T, U>>(
        self,
        step: S,
        label: &'static str,
    ) -> Stream<U> {
        let node = StepNode {
            input: self.port,
            step,
            label,
            _t: PhantomData::<fn(T) -> U>,
        };
        Stream::at(Arc::new(node), self.error)
    }

    /// Applies `f` to every record; `None` drops it. Fused into the task that produces the
    /// records (no ring, no copy).
    pub fn filter_map<U: Clone + Send + 'static, F>(self, f: F) -> Stream<U>
    where
        F: Fn(T) -> Option<U> + Send + Sync + Clone + 'static,
    {
        self.step(FilterMap(f), "filter_map")
    }

    /// Applies `f` to every record.
    pub fn map<U: Clone + Send + 'static, F>(self, f: F) -> Stream<U>
    where
        F: Fn(T) -> U + Send + Sync + Clone + 'static,
    {
        self.step(Map(f), "map")
    }

    /// Keeps the records for which `f` is true.
    pub fn filter<F>(self, f: F) -> Stream<T>
    where
        F: Fn(&T) -> bool + Send + Sync + Clone + 'static,
    {
        self.filter_map(move |t| if f(&t) { Some(t) } else { None })
    }

    /// Keys the stream: the next stage receives each record on the worker owning its key's
    /// key group (an exchange).
    pub fn key_by<K, F>(self, f: F) -> KeyedStream<K, T>
    where
        K: StableKey + Hash + Eq + Clone + Send + 'static,
        F: Fn(&T) -> K + Send + Sync + Clone + 'static,
    {
        KeyedStream {
            unkeyed: self,
            key_by: KeyBy::new(f),
        }
    }

    /// The records of `self` and of every stream in `others`, as one stream (a union stage:
    /// records stay on their worker; barriers are aligned over all inputs).
    pub fn union(self, others: impl IntoIterator<Item = Stream<T>>) -> Stream<T> {
        self.union_named(None, others)
    }

    /// [`Stream::union`] with a stage name.
    pub fn union_named(
        self,
        name: Option<&str>,
        others: impl IntoIterator<Item = Stream<T>>,
    ) -> Stream<T> {
        let mut error = self.error.clone();
        let mut inputs: Vec<Arc<dyn EdgeDef<(), T>>> = Vec::new();
        for s in std::iter::once(self).chain(others) {
            error = error.or(s.error);
            inputs.push(Arc::new(Edge {
                upstream: s.port,
                route: Local::<T>(PhantomData),
                _x: PhantomData::<fn(T)>,
            }));
        }
        let node = StageNode {
            inputs,
            factory: Arc::new(|| Passthrough),
            side_names: Vec::new(),
            name: name.map(str::to_string),
            label: "union".into(),
            _o: PhantomData::<fn() -> T>,
        };
        Stream::at(Arc::new(node), error)
    }

    /// The side output `name` of the stage producing this stream (e.g. a window's `late`).
    /// An unknown name is reported when the job runs.
    pub fn side_output(&self, name: &str) -> Stream<T> {
        let node = self.port.0.clone();
        match node.side_output(name) {
            Some(i) => Stream {
                port: (node, i + 1),
                error: self.error.clone(),
                _t: PhantomData,
            },
            None => Stream {
                port: (node, usize::MAX),
                error: Some(format!(
                    "side output {name:?}: the stage has no such output"
                )),
                _t: PhantomData,
            },
        }
    }

    /// Writes the stream to `sink`.
    pub fn sink(self, sink: impl Sink<T> + 'static) -> Job {
        self.sink_named(None, Arc::new(sink))
    }

    /// Writes the stream to a shared sink, optionally named.
    pub fn sink_named(self, name: Option<&str>, sink: Arc<dyn Sink<T>>) -> Job {
        let node = SinkNode {
            input: self.port,
            sink,
            name: name.map(str::to_string),
        };
        Job {
            sinks: vec![Arc::new(node)],
            errors: self.error.into_iter().collect(),
        }
    }
}

impl<K, T> KeyedStream<K, T>
where
    K: StableKey + Hash + Eq + Clone + Send + 'static,
    T: Clone + Send + 'static,
{
    /// Processes each key's records with a keyed operator; `factory` makes one per worker.
    pub fn process<O, Op, F>(self, factory: F) -> Stream<O>
    where
        O: Clone + Send + 'static,
        Op: KeyedOperator<K, T, O> + 'static,
        F: Fn() -> Op + Send + Sync + 'static,
    {
        self.process_named(None, factory)
    }

    /// [`KeyedStream::process`] with a stage name (its state is checkpointed under it).
    pub fn process_named<O, Op, F>(self, name: Option<&str>, factory: F) -> Stream<O>
    where
        O: Clone + Send + 'static,
        Op: KeyedOperator<K, T, O> + 'static,
        F: Fn() -> Op + Send + Sync + 'static,
    {
        let side_names = factory().side_outputs();
        let edge: Arc<dyn EdgeDef<K, T>> = Arc::new(Edge {
            upstream: self.unkeyed.port,
            route: self.key_by,
            _x: PhantomData::<fn(T)>,
        });
        let node = StageNode {
            inputs: vec![edge],
            factory: Arc::new(factory),
            side_names,
            name: name.map(str::to_string),
            label: "keyed".into(),
            _o: PhantomData::<fn() -> O>,
        };
        Stream::at(Arc::new(node), self.unkeyed.error)
    }

    /// Connects two keyed streams for a two-input keyed operator (shared keyed state).
    pub fn connect<B: Clone + Send + 'static>(
        self,
        other: KeyedStream<K, B>,
    ) -> ConnectedStreams<K, T, B> {
        ConnectedStreams {
            left: self,
            right: other,
        }
    }
}

impl<K, A, B> ConnectedStreams<K, A, B>
where
    K: StableKey + Hash + Eq + Clone + Send + 'static,
    A: Clone + Send + 'static,
    B: Clone + Send + 'static,
{
    /// Processes both inputs with a two-input keyed operator; `factory` makes one per worker.
    pub fn process<O, Op, F>(self, factory: F) -> Stream<O>
    where
        O: Clone + Send + 'static,
        Op: KeyedCoOperator<K, A, B, O> + 'static,
        F: Fn() -> Op + Send + Sync + 'static,
    {
        self.process_named(None, factory)
    }

    /// [`ConnectedStreams::process`] with a stage name.
    pub fn process_named<O, Op, F>(self, name: Option<&str>, factory: F) -> Stream<O>
    where
        O: Clone + Send + 'static,
        Op: KeyedCoOperator<K, A, B, O> + 'static,
        F: Fn() -> Op + Send + Sync + 'static,
    {
        let side_names = factory().side_outputs();
        let (left, right) = (self.left.key_by, self.right.key_by);
        let l: Arc<dyn EdgeDef<K, Either<A, B>>> = Arc::new(Edge {
            upstream: self.left.unkeyed.port,
            route: LeftOf::<K, A, B>(left, PhantomData),
            _x: PhantomData::<fn(A)>,
        });
        let r: Arc<dyn EdgeDef<K, Either<A, B>>> = Arc::new(Edge {
            upstream: self.right.unkeyed.port,
            route: RightOf::<K, A, B>(right, PhantomData),
            _x: PhantomData::<fn(B)>,
        });
        let node = StageNode {
            inputs: vec![l, r],
            factory: Arc::new(move || CoOperator::new(factory())),
            side_names,
            name: name.map(str::to_string),
            label: "co_keyed".into(),
            _o: PhantomData::<fn() -> O>,
        };
        Stream::at(
            Arc::new(node),
            self.left.unkeyed.error.or(self.right.unkeyed.error),
        )
    }
}
