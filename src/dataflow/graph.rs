//! The job graph: nodes as the typed API built them, discovered from the sinks, connected to
//! their consumers, and turned into every worker's tasks.

use crate::runtime::emit::{Discard, Emit, FanOut};
use crate::runtime::job::{Dataflow, Setup, SinkControl, SourceControl};
use crate::runtime::task::Task;
use std::any::Any;
use std::collections::HashMap;
use std::sync::Arc;

/// Identity of a node: the address of its shared definition.
pub(crate) type NodeId = usize;

/// The id of `node`.
pub(crate) fn id_of(node: &Arc<dyn NodeDef>) -> NodeId {
    Arc::as_ptr(node) as *const () as usize
}

/// What a node is, for the plan printout, the fingerprint and task building.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    /// Reads a source split (a task per worker).
    Source,
    /// A stateless step fused into its input's task.
    Fused,
    /// Reads rings (a task per worker): keyed, two-input keyed, union.
    Stage,
    /// A sink partition fused into its input's task.
    Sink,
}

/// A node of the graph, whatever its record types.
pub(crate) trait NodeDef: Send + Sync + 'static {
    /// Its inputs (node and output port), in input order.
    fn inputs(&self) -> Vec<(Arc<dyn NodeDef>, usize)>;
    /// What it is.
    fn role(&self) -> Role;
    /// A description for the plan and the fingerprint (`map`, `keyed`, `source:file:…`).
    fn label(&self) -> String;
    /// The name the user gave it, if any.
    fn given_name(&self) -> Option<String>;
    /// Index of the side output `name` (its port is index + 1).
    fn side_output(&self, name: &str) -> Option<usize> {
        let _ = name;
        None
    }
    /// The name of output port `port` when it is a side output (`late`, ...).
    fn side_output_name(&self, port: usize) -> Option<&'static str> {
        let _ = port;
        None
    }
    /// Registers itself as the consumer of its inputs' ports.
    fn connect(&self, me: NodeId, cx: &mut Consumers);
    /// Creates the rings of its input edges (stages).
    fn prepare(&self, me: NodeId, cx: &mut BuildCx<'_>) {
        let _ = (me, cx);
    }
    /// Worker `w`'s task (sources and stages).
    ///
    /// # Errors
    /// Opening a split or a sink partition failed.
    fn task(
        &self,
        me: NodeId,
        w: usize,
        cx: &mut BuildCx<'_>,
    ) -> crate::Result<Option<Box<dyn Task>>> {
        let _ = (me, w, cx);
        Ok(None)
    }
    /// The source, for checks and names (sources).
    fn source_control(&self, name: &str) -> Option<Arc<dyn SourceControl>> {
        let _ = name;
        None
    }
    /// A check of this stage's state sections by a throwaway operator (stages with state).
    fn state_checker(&self) -> Option<StateCheck> {
        None
    }
    /// The sink, for checks, recovery and commits (sinks).
    fn sink_control(&self) -> Option<Arc<dyn SinkControl>> {
        None
    }
}

/// Checks one state section `(state, bytes)` of a stage.
pub(crate) type StateCheck =
    Box<dyn FnMut(&str, &[u8]) -> Result<(), crate::error::StateSectionError> + Send>;

/// The receiving end of an edge, typed by the records it takes: makes the [`Emit`] a task
/// upstream pushes into on worker `w` (a fused step, an exchange's sending side, a sink).
pub(crate) trait Inlet<T>: Send + Sync {
    /// Worker `w`'s emit for this edge.
    ///
    /// # Errors
    /// Opening a sink partition failed.
    fn emit_for(&self, w: usize, cx: &mut BuildCx<'_>) -> crate::Result<Box<dyn Emit<T>>>;
}

/// The consumers of every node's output ports.
#[derive(Default)]
pub(crate) struct Consumers {
    /// `(node, port)` → `Vec<Arc<dyn Inlet<T>>>` (boxed as `Any`).
    map: HashMap<(NodeId, usize), Box<dyn Any + Send + Sync>>,
}

impl Consumers {
    /// Adds `inlet` as a consumer of `node`'s `port`.
    pub fn add<T: 'static>(
        &mut self,
        node: &Arc<dyn NodeDef>,
        port: usize,
        inlet: Arc<dyn Inlet<T>>,
    ) {
        self.map
            .entry((id_of(node), port))
            .or_insert_with(|| Box::new(Vec::<Arc<dyn Inlet<T>>>::new()))
            .downcast_mut::<Vec<Arc<dyn Inlet<T>>>>()
            .expect("one record type per port")
            .push(inlet);
    }

    fn of<T: 'static>(&self, node: NodeId, port: usize) -> Vec<Arc<dyn Inlet<T>>> {
        self.map
            .get(&(node, port))
            .and_then(|c| c.downcast_ref::<Vec<Arc<dyn Inlet<T>>>>())
            .cloned()
            .unwrap_or_default()
    }

    fn count(&self, node: NodeId, port: usize) -> usize {
        self.map.get(&(node, port)).map_or(0, |_| 1)
    }
}

/// What building tasks shares: the setup, the consumers, the rings of every edge.
pub(crate) struct BuildCx<'a> {
    /// Workers, key groups, batch size, restore positions.
    pub setup: &'a Setup,
    consumers: &'a Consumers,
    names: &'a HashMap<NodeId, String>,
    /// `(stage, input)` → that edge's per-worker ring ends (boxed as `Any`).
    pub rings: HashMap<(NodeId, usize), Box<dyn Any>>,
}

impl BuildCx<'_> {
    /// Worker `w`'s emit for everything that consumes `node`'s `port`.
    ///
    /// # Errors
    /// Opening a sink partition failed.
    pub fn emit_of<T: Clone + Send + 'static>(
        &mut self,
        node: NodeId,
        port: usize,
        w: usize,
    ) -> crate::Result<Box<dyn Emit<T>>> {
        let inlets = self.consumers.of::<T>(node, port);
        let mut emits = inlets
            .iter()
            .map(|i| i.emit_for(w, self))
            .collect::<crate::Result<Vec<_>>>()?;
        Ok(match emits.len() {
            0 => Box::new(Discard),
            1 => emits.pop().expect("one"),
            _ => Box::new(FanOut::new(emits)),
        })
    }

    /// Whether anything consumes `node`'s `port`.
    pub fn consumed(&self, node: NodeId, port: usize) -> bool {
        self.consumers.count(node, port) > 0
    }

    /// The name of `node` (given, or `kind{index}`).
    pub fn name(&self, node: NodeId) -> String {
        self.names.get(&node).cloned().unwrap_or_default()
    }
}

/// A job graph ready to run.
pub(crate) struct Graph {
    /// Nodes in topological order (inputs first) with their ids.
    nodes: Vec<(NodeId, Arc<dyn NodeDef>)>,
    names: HashMap<NodeId, String>,
    consumers: Consumers,
}

impl Graph {
    /// Discovers the graph behind `sinks` (every node they read from, transitively).
    pub fn new(sinks: &[Arc<dyn NodeDef>]) -> Self {
        let mut nodes = Vec::new();
        let mut seen = HashMap::new();
        for s in sinks {
            visit(s, &mut seen, &mut nodes);
        }
        let mut names = HashMap::new();
        let mut counts: HashMap<&'static str, usize> = HashMap::new();
        for (id, node) in &nodes {
            let kind = match node.role() {
                Role::Source => "source",
                Role::Fused => "step",
                Role::Stage => "stage",
                Role::Sink => "sink",
            };
            let i = counts.entry(kind).or_default();
            names.insert(
                *id,
                node.given_name().unwrap_or_else(|| format!("{kind}{i}")),
            );
            *i += 1;
        }
        let mut consumers = Consumers::default();
        for (id, node) in &nodes {
            node.connect(*id, &mut consumers);
        }
        Graph {
            nodes,
            names,
            consumers,
        }
    }

    /// A stable hash of the graph's shape: every node's role, label and name, and its inputs.
    pub fn shape_hash(&self) -> u64 {
        let index: HashMap<NodeId, usize> = self
            .nodes
            .iter()
            .enumerate()
            .map(|(i, (id, _))| (*id, i))
            .collect();
        let mut text = String::new();
        for (id, node) in &self.nodes {
            let inputs: Vec<String> = node
                .inputs()
                .iter()
                .map(|(n, port)| format!("{}.{port}", index[&id_of(n)]))
                .collect();
            text.push_str(&format!(
                "{:?} {} {} <- {}\n",
                node.role(),
                self.names[id],
                node.label(),
                inputs.join(",")
            ));
        }
        crate::state::key_group::stable_hash_bytes(text.as_bytes())
    }

    /// The stage graph as text: one line per node, `=>` for exchanges, `->` for fused edges.
    pub fn describe(&self) -> String {
        let mut out = String::new();
        for (id, node) in &self.nodes {
            let inputs: Vec<String> = node
                .inputs()
                .iter()
                .map(|(n, port)| {
                    let arrow = if node.role() == Role::Stage {
                        "=>"
                    } else {
                        "->"
                    };
                    let port = if *port == 0 {
                        String::new()
                    } else {
                        format!("#{port}")
                    };
                    format!("{}{port} {arrow}", self.names[&id_of(n)])
                })
                .collect();
            out.push_str(&format!(
                "{:<8} {:<16} {:<24} {}\n",
                format!("{:?}", node.role()).to_lowercase(),
                self.names[id],
                node.label(),
                inputs.join("  ")
            ));
        }
        out
    }

    /// Whether any output port of a node has no consumer (for diagnostics).
    #[allow(dead_code)]
    pub fn unconsumed(&self) -> Vec<String> {
        self.nodes
            .iter()
            .filter(|(id, n)| n.role() != Role::Sink && self.consumers.count(*id, 0) == 0)
            .map(|(id, _)| self.names[id].clone())
            .collect()
    }
}

fn visit(
    node: &Arc<dyn NodeDef>,
    seen: &mut HashMap<NodeId, ()>,
    order: &mut Vec<(NodeId, Arc<dyn NodeDef>)>,
) {
    let id = id_of(node);
    if seen.insert(id, ()).is_some() {
        return;
    }
    for (input, _) in node.inputs() {
        visit(&input, seen, order);
    }
    order.push((id, node.clone()));
}

impl Dataflow for Graph {
    fn sources(&self) -> Vec<Arc<dyn SourceControl>> {
        self.nodes
            .iter()
            .filter_map(|(id, n)| n.source_control(&self.names[id]))
            .collect()
    }

    fn sinks(&self) -> Vec<Arc<dyn SinkControl>> {
        self.nodes
            .iter()
            .filter_map(|(_, n)| n.sink_control())
            .collect()
    }

    fn section_checker(&self) -> Box<crate::checkpoint::SectionCheck<'static>> {
        let mut stages: HashMap<String, StateCheck> = self
            .nodes
            .iter()
            .filter_map(|(id, n)| Some((self.names[id].clone(), n.state_checker()?)))
            .collect();
        Box::new(move |_kg, name, bytes| {
            let (stage, state) = name
                .split_once('/')
                .ok_or(crate::error::StateSectionError::UnknownState)?;
            let check = stages
                .get_mut(stage)
                .ok_or(crate::error::StateSectionError::UnknownState)?;
            check(state, bytes)
        })
    }

    fn build(&self, setup: &Setup) -> crate::Result<Vec<Vec<Box<dyn Task>>>> {
        let mut cx = BuildCx {
            setup,
            consumers: &self.consumers,
            names: &self.names,
            rings: HashMap::new(),
        };
        for (id, node) in &self.nodes {
            node.prepare(*id, &mut cx);
        }
        let mut workers = Vec::with_capacity(setup.workers);
        for w in 0..setup.workers {
            let mut tasks = Vec::new();
            for (id, node) in &self.nodes {
                if let Some(task) = node.task(*id, w, &mut cx)? {
                    tasks.push(task);
                }
            }
            workers.push(tasks);
        }
        Ok(workers)
    }
}
