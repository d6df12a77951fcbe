//! Late side outputs into the dead-letter file ([`crate::runtime::late_letters`]).
//!
//! A stage's late side output (`late`, `late_left`, `late_right`) that nothing consumes is
//! not dropped: its records become dead letters with reason `late`, carrying the stage and
//! output names only (the graph cannot render a record of an arbitrary type). To include the
//! record's fields, consume the side output with [`Stream::late_to_dead_letters`] and a
//! formatter (the pipeline files do, with the input's field names).

use super::graph::{id_of, BuildCx, Consumers, Inlet, NodeDef, NodeId, Role};
use super::nodes::Port;
use super::stream::{Job, Stream};
use crate::runtime::emit::Emit;
use crate::runtime::late_letters::{LateFormat, LateLetters};
use std::sync::Arc;

/// Whether side output `name` carries late records.
fn is_late(name: &str) -> bool {
    name.starts_with("late")
}

/// Worker `w`'s emit for side output `port` (named `name`) of stage `me`: its consumers, or,
/// for a late output without any, the dead letters.
///
/// # Errors
/// Opening a consumer's sink partition failed.
pub(crate) fn side_emit<O: Clone + Send + 'static>(
    cx: &mut BuildCx<'_>,
    me: NodeId,
    port: usize,
    name: &str,
    w: usize,
) -> crate::Result<Box<dyn Emit<O>>> {
    if !is_late(name) || cx.consumed(me, port) {
        return cx.emit_of::<O>(me, port, w);
    }
    Ok(Box::new(LateLetters::new(
        cx.setup.dead_letters.handle(),
        cx.name(me),
        name.to_string(),
        None,
        cx.setup.transactional,
    )))
}

/// A consumer of a late side output that writes it to the dead letters.
struct LateNode<T> {
    input: Port,
    format: Option<LateFormat<T>>,
}

/// Makes each worker's [`LateLetters`] for a [`LateNode`].
struct LateInlet<T> {
    stage: NodeId,
    output: String,
    format: Option<LateFormat<T>>,
}

impl<T: Send + 'static> Inlet<T> for LateInlet<T> {
    fn emit_for(&self, _w: usize, cx: &mut BuildCx<'_>) -> crate::Result<Box<dyn Emit<T>>> {
        Ok(Box::new(LateLetters::new(
            cx.setup.dead_letters.handle(),
            cx.name(self.stage),
            self.output.clone(),
            self.format.clone(),
            cx.setup.transactional,
        )))
    }
}

impl<T: Send + 'static> NodeDef for LateNode<T> {
    fn inputs(&self) -> Vec<Port> {
        vec![self.input.clone()]
    }
    fn role(&self) -> Role {
        Role::Sink
    }
    fn label(&self) -> String {
        "dead_letters".into()
    }
    fn given_name(&self) -> Option<String> {
        None
    }
    fn connect(&self, _me: NodeId, cx: &mut Consumers) {
        let (node, port) = &self.input;
        let output = node.side_output_name(*port).unwrap_or("late").to_string();
        let inlet: Arc<dyn Inlet<T>> = Arc::new(LateInlet {
            stage: id_of(node),
            output,
            format: self.format.clone(),
        });
        cx.add::<T>(node, *port, inlet);
    }
}

impl<T: Clone + Send + 'static> Stream<T> {
    /// Writes this stream — a late side output, e.g. `stage.side_output("late")` — to the
    /// job's dead-letter file, one JSON line per record with reason `late`, the stage and
    /// output names, and what `format` adds (typically `"record"`: the fields). Exactly once
    /// under checkpoints; never fails the job.
    pub fn late_to_dead_letters(self, format: Option<LateFormat<T>>) -> Job {
        let node = LateNode {
            input: self.port,
            format,
        };
        Job {
            sinks: vec![Arc::new(node)],
            errors: self.error.into_iter().collect(),
        }
    }
}
