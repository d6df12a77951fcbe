//! The node kinds of a job graph: sources, fused stateless steps, stages fed by rings, sinks.

use super::graph::{BuildCx, Consumers, Inlet, NodeDef, NodeId, Role};
use crate::exchange::Msg;
use crate::exchange::{exchange, Consumer, KeyedBatch, Outbox, Producer, Route};
use crate::operator::KeyedOperator;
use crate::runtime::emit::{Emit, ExchangeEmit, MapEmit, SinkEmit};
use crate::runtime::job::{SinkControl, SourceControl};
use crate::runtime::task::{EventTime, SourceTask, StageInputs, StageTask, Task};
use crate::sink::Sink;
use crate::source::Source;
use crate::state::key_group::key_group_range;
use std::marker::PhantomData;
use std::sync::Arc;

/// An input port: a node and one of its output ports (0 = main, i + 1 = side output i).
pub(crate) type Port = (Arc<dyn NodeDef>, usize);

/// A stateless per-batch transformation, monomorphised so the per-record loop inlines the
/// user's function.
pub(crate) trait Step<T, U>: Clone + Send + Sync + 'static {
    /// Transforms the records of `input`, appending the results to `out`.
    fn apply(&self, input: std::vec::Drain<'_, T>, out: &mut Vec<U>);
}

/// A step that may drop records.
#[derive(Clone)]
pub(crate) struct FilterMap<F>(pub F);

impl<T, U, F> Step<T, U> for FilterMap<F>
where
    F: Fn(T) -> Option<U> + Send + Sync + Clone + 'static,
{
    #[inline]
    fn apply(&self, input: std::vec::Drain<'_, T>, out: &mut Vec<U>) {
        out.extend(input.filter_map(&self.0));
    }
}

/// A one-to-one step (its exact length lets `extend` reserve once and skip capacity checks).
#[derive(Clone)]
pub(crate) struct Map<F>(pub F);

impl<T, U, F> Step<T, U> for Map<F>
where
    F: Fn(T) -> U + Send + Sync + Clone + 'static,
{
    #[inline]
    fn apply(&self, input: std::vec::Drain<'_, T>, out: &mut Vec<U>) {
        out.extend(input.map(&self.0));
    }
}

/// A source: a task per worker reading its split.
pub(crate) struct SourceNode<T> {
    pub source: Arc<dyn Source<T>>,
    pub name: Option<String>,
    pub event_time: Option<EventTime<T>>,
}

struct SourceCtl<T> {
    source: Arc<dyn Source<T>>,
    name: String,
}

impl<T: Send + 'static> SourceControl for SourceCtl<T> {
    fn graph_name(&self) -> &str {
        &self.name
    }
    fn replayable(&self) -> bool {
        self.source.replayable()
    }
    fn check(&self) -> crate::Result<()> {
        self.source.check()
    }
}

impl<T: Clone + Send + 'static> NodeDef for SourceNode<T> {
    fn inputs(&self) -> Vec<Port> {
        Vec::new()
    }
    fn role(&self) -> Role {
        Role::Source
    }
    fn label(&self) -> String {
        match &self.event_time {
            Some(et) => format!("source(event time, {:?})", et.config),
            None => "source".into(),
        }
    }
    fn given_name(&self) -> Option<String> {
        self.name.clone()
    }
    fn connect(&self, _me: NodeId, _cx: &mut Consumers) {}
    fn task(
        &self,
        me: NodeId,
        w: usize,
        cx: &mut BuildCx<'_>,
    ) -> crate::Result<Option<Box<dyn Task>>> {
        let name = cx.name(me);
        let setup = cx.setup;
        let split = self
            .source
            .open_split(w, setup.workers, setup.resume_of(&name, w))?;
        let out = cx.emit_of::<T>(me, 0, w)?;
        let mut task = SourceTask::new(name, split, out, setup.batch_size, setup.last_checkpoint);
        if let Some(et) = &self.event_time {
            task = task.with_event_time(et.clone(), crate::runtime::worker::now_ms());
        }
        Ok(Some(Box::new(task)))
    }
    fn source_control(&self, name: &str) -> Option<Arc<dyn SourceControl>> {
        Some(Arc::new(SourceCtl {
            source: self.source.clone(),
            name: name.to_string(),
        }))
    }
}

/// A stateless step, fused into the task of its input.
pub(crate) struct StepNode<T, U, S> {
    pub input: Port,
    pub step: S,
    pub label: &'static str,
    pub _t: PhantomData<fn(T) -> U>,
}

struct StepInlet<T, U, S> {
    me: NodeId,
    step: S,
    _t: PhantomData<fn(T) -> U>,
}

impl<T, U, S> Inlet<T> for StepInlet<T, U, S>
where
    T: Send + 'static,
    U: Clone + Send + 'static,
    S: Step<T, U>,
{
    fn emit_for(&self, w: usize, cx: &mut BuildCx<'_>) -> crate::Result<Box<dyn Emit<T>>> {
        let next = cx.emit_of::<U>(self.me, 0, w)?;
        let step = self.step.clone();
        Ok(Box::new(MapEmit::new(
            move |input: std::vec::Drain<'_, T>, out: &mut Vec<U>| step.apply(input, out),
            next,
        )))
    }
}

impl<T, U, S> NodeDef for StepNode<T, U, S>
where
    T: Send + 'static,
    U: Clone + Send + 'static,
    S: Step<T, U>,
{
    fn inputs(&self) -> Vec<Port> {
        vec![self.input.clone()]
    }
    fn role(&self) -> Role {
        Role::Fused
    }
    fn label(&self) -> String {
        self.label.into()
    }
    fn given_name(&self) -> Option<String> {
        None
    }
    fn connect(&self, me: NodeId, cx: &mut Consumers) {
        let inlet: Arc<dyn Inlet<T>> = Arc::new(StepInlet {
            me,
            step: self.step.clone(),
            _t: PhantomData,
        });
        cx.add::<T>(&self.input.0, self.input.1, inlet);
    }
}

/// One input edge of a stage: its upstream port, and how its records of type `X` become the
/// stage's input records `I` keyed by `K` ([`Route`]).
pub(crate) trait EdgeDef<K, I>: Send + Sync {
    /// The upstream port.
    fn upstream(&self) -> Port;
    /// Registers the sending side of edge `input` of `stage` with the upstream port.
    fn connect(&self, stage: NodeId, input: usize, cx: &mut Consumers);
}

/// An input edge converting `X` with the route `R`.
pub(crate) struct Edge<X, R> {
    pub upstream: Port,
    pub route: R,
    pub _x: PhantomData<fn(X)>,
}

impl<X, K, I, R> EdgeDef<K, I> for Edge<X, R>
where
    X: Send + 'static,
    K: Send + 'static,
    I: Send + 'static,
    R: Route<X, K, I>,
{
    fn upstream(&self) -> Port {
        self.upstream.clone()
    }
    fn connect(&self, stage: NodeId, input: usize, cx: &mut Consumers) {
        let inlet: Arc<dyn Inlet<X>> = Arc::new(EdgeInlet {
            stage,
            input,
            route: self.route.clone(),
            _t: PhantomData::<fn(X) -> (K, I)>,
        });
        cx.add::<X>(&self.upstream.0, self.upstream.1, inlet);
    }
}

/// One worker's receiving ends of an edge: data rings from every sender, return rings to them.
type Receiving<B> = (Vec<Consumer<Msg<B>>>, Vec<Producer<B>>);

/// The rings of one stage input edge, handed out per worker.
struct EdgeRings<B> {
    senders: Vec<Option<Outbox<B>>>,
    receivers: Vec<Option<Receiving<B>>>,
}

struct EdgeInlet<X, K, I, R> {
    stage: NodeId,
    input: usize,
    route: R,
    _t: PhantomData<fn(X) -> (K, I)>,
}

impl<X, K, I, R> Inlet<X> for EdgeInlet<X, K, I, R>
where
    X: Send + 'static,
    K: Send + 'static,
    I: Send + 'static,
    R: Route<X, K, I>,
{
    fn emit_for(&self, w: usize, cx: &mut BuildCx<'_>) -> crate::Result<Box<dyn Emit<X>>> {
        let setup = cx.setup;
        let outbox = cx
            .rings
            .get_mut(&(self.stage, self.input))
            .and_then(|r| r.downcast_mut::<EdgeRings<KeyedBatch<K, I>>>())
            .and_then(|r| r.senders[w].take())
            .expect("edge rings prepared before tasks are built");
        Ok(Box::new(ExchangeEmit::new(
            outbox,
            w,
            setup.workers,
            setup.max_parallelism,
            self.route.clone(),
        )))
    }
}

/// A stage fed by rings: a keyed operator over one or more input edges.
pub(crate) struct StageNode<K, I, O, Op> {
    pub inputs: Vec<Arc<dyn EdgeDef<K, I>>>,
    pub factory: Arc<dyn Fn() -> Op + Send + Sync>,
    pub side_names: Vec<&'static str>,
    pub name: Option<String>,
    pub label: String,
    pub _o: PhantomData<fn() -> O>,
}

impl<K, I, O, Op> NodeDef for StageNode<K, I, O, Op>
where
    K: Send + 'static,
    I: Send + 'static,
    O: Clone + Send + 'static,
    Op: KeyedOperator<K, I, O> + 'static,
{
    fn inputs(&self) -> Vec<Port> {
        self.inputs.iter().map(|e| e.upstream()).collect()
    }
    fn role(&self) -> Role {
        Role::Stage
    }
    fn label(&self) -> String {
        self.label.clone()
    }
    fn given_name(&self) -> Option<String> {
        self.name.clone()
    }
    fn side_output(&self, name: &str) -> Option<usize> {
        self.side_names.iter().position(|n| *n == name)
    }
    fn side_output_name(&self, port: usize) -> Option<&'static str> {
        self.side_names.get(port.checked_sub(1)?).copied()
    }
    fn connect(&self, me: NodeId, cx: &mut Consumers) {
        for (j, e) in self.inputs.iter().enumerate() {
            e.connect(me, j, cx);
        }
    }
    fn state_checker(&self) -> Option<super::graph::StateCheck> {
        let mut op = (self.factory)();
        if op.states().is_empty() {
            return None;
        }
        Some(Box::new(move |state, bytes| {
            crate::checkpoint::check_section(&op.states(), state, bytes)
        }))
    }
    fn prepare(&self, me: NodeId, cx: &mut BuildCx<'_>) {
        let setup = cx.setup;
        for j in 0..self.inputs.len() {
            let mut rings = EdgeRings {
                senders: Vec::new(),
                receivers: Vec::new(),
            };
            for ends in
                exchange::<KeyedBatch<K, I>>(setup.workers, setup.ring_capacity, setup.batch_size)
            {
                rings.senders.push(Some(ends.send));
                rings.receivers.push(Some((ends.recv, ends.returns)));
            }
            cx.rings.insert((me, j), Box::new(rings));
        }
    }
    fn task(
        &self,
        me: NodeId,
        w: usize,
        cx: &mut BuildCx<'_>,
    ) -> crate::Result<Option<Box<dyn Task>>> {
        let mut inputs = StageInputs {
            channels: Vec::new(),
            returns: Vec::new(),
        };
        for j in 0..self.inputs.len() {
            let (recv, returns) = cx
                .rings
                .get_mut(&(me, j))
                .and_then(|r| r.downcast_mut::<EdgeRings<KeyedBatch<K, I>>>())
                .and_then(|r| r.receivers[w].take())
                .expect("edge rings prepared before tasks are built");
            inputs.channels.extend(recv);
            inputs.returns.extend(returns);
        }
        let out = cx.emit_of::<O>(me, 0, w)?;
        let sides = (0..self.side_names.len())
            .map(|i| super::late::side_emit::<O>(cx, me, i + 1, self.side_names[i], w))
            .collect::<crate::Result<Vec<_>>>()?;
        let setup = cx.setup;
        let name = cx.name(me);
        let mut op = (self.factory)();
        op.states()
            .into_iter()
            .for_each(|s| s.set_backend(&setup.state_backend));
        restore_operator_states(&mut op, &setup.operator_state_of(&name, w), &name)?;
        let live = crate::metrics::live::get().map(|l| l.stage(&name, w));
        let mut task = StageTask::new(
            name,
            op,
            inputs,
            out,
            sides,
            key_group_range(w, setup.workers, setup.max_parallelism),
            setup.max_parallelism,
            setup.last_checkpoint,
        );
        if let Some(live) = live {
            task = task.with_live(live);
        }
        Ok(Some(Box::new(task)))
    }
}

/// A sink, fused into the task of its input.
pub(crate) struct SinkNode<T> {
    pub input: Port,
    pub sink: Arc<dyn Sink<T>>,
    pub name: Option<String>,
}

struct SinkInlet<T> {
    sink: Arc<dyn Sink<T>>,
}

impl<T: Send + 'static> Inlet<T> for SinkInlet<T> {
    fn emit_for(&self, w: usize, cx: &mut BuildCx<'_>) -> crate::Result<Box<dyn Emit<T>>> {
        let setup = cx.setup;
        let partition = self
            .sink
            .open_partition(w, setup.workers, setup.transactional)?;
        Ok(Box::new(SinkEmit::new(
            partition,
            setup.transactional,
            setup.last_checkpoint + 1,
        )))
    }
}

struct SinkCtl<T> {
    sink: Arc<dyn Sink<T>>,
}

impl<T: Send + 'static> SinkControl for SinkCtl<T> {
    fn check(&self) -> crate::Result<()> {
        self.sink.check()
    }
    fn recover(&self, epoch: Option<u64>) -> crate::Result<()> {
        self.sink.recover(epoch)
    }
    fn commit(&self, epoch: u64) -> crate::Result<()> {
        self.sink.commit(epoch)
    }
}

impl<T: Send + 'static> NodeDef for SinkNode<T> {
    fn inputs(&self) -> Vec<Port> {
        vec![self.input.clone()]
    }
    fn role(&self) -> Role {
        Role::Sink
    }
    fn label(&self) -> String {
        "sink".into()
    }
    fn given_name(&self) -> Option<String> {
        self.name.clone()
    }
    fn connect(&self, _me: NodeId, cx: &mut Consumers) {
        let inlet: Arc<dyn Inlet<T>> = Arc::new(SinkInlet {
            sink: self.sink.clone(),
        });
        cx.add::<T>(&self.input.0, self.input.1, inlet);
    }
    fn sink_control(&self) -> Option<Arc<dyn SinkControl>> {
        Some(Arc::new(SinkCtl {
            sink: self.sink.clone(),
        }))
    }
}

/// Restores an operator instance's share of its operator state (after a restore).
fn restore_operator_states<K, I, O, Op: KeyedOperator<K, I, O>>(
    op: &mut Op,
    snapshots: &[crate::state::operator::OperatorSnapshot],
    stage: &str,
) -> crate::Result<()> {
    let mut states = op.operator_states();
    for snap in snapshots {
        let state = states
            .iter_mut()
            .find(|s| s.name() == snap.name)
            .ok_or_else(|| crate::Error::Checkpoint {
                path: std::path::PathBuf::from("MANIFEST"),
                reason: format!(
                    "operator state {stage}/{} is unknown to the stage",
                    snap.name
                ),
            })?;
        state
            .restore(&snap.items)
            .map_err(|e| crate::Error::Checkpoint {
                path: std::path::PathBuf::from("MANIFEST"),
                reason: format!("operator state {stage}/{}: {e}", snap.name),
            })?;
    }
    Ok(())
}
