//! The exchange: how records cross from one worker to another.
//!
//! An exchange edge of the dataflow graph is an N×N mesh of bounded lock-free SPSC rings
//! ([`ring`]): worker `a` holds the producer ends `a→0..N`, worker `b` the consumer ends
//! `0..N→b`. Records travel in batches ([`message::Msg::Data`]) together with control
//! messages (barriers, watermarks, end of stream); the sending side batches per destination
//! and queues what found its ring full ([`outbox::Outbox`]); spent batch buffers go back to
//! their sender on a return mesh (with the spent records, dropped there), so steady state
//! allocates nothing.

pub mod batch;
pub mod message;
pub mod outbox;
pub mod ring;
pub mod route;
pub mod scatter;
mod short_row;
pub mod spent;

pub use batch::{Batch, KeyedBatch};
pub use message::{Keyed, Msg, LOCAL};
pub use outbox::Outbox;
pub use ring::{Consumer, Producer};
pub use route::Route;
pub use scatter::Scatter;

/// One worker's ends of a mesh: its producers (index = destination) and its consumers
/// (index = sender).
pub struct MeshEnds<M> {
    /// Rings to every worker.
    pub outs: Vec<Producer<M>>,
    /// Rings from every worker.
    pub ins: Vec<Consumer<M>>,
}

/// Builds the N×N rings of a mesh of `capacity` messages each; element `w` of the result
/// belongs to worker `w`.
pub fn mesh<M>(n: usize, capacity: usize) -> Vec<MeshEnds<M>> {
    let mut outs: Vec<Vec<Producer<M>>> = (0..n).map(|_| Vec::with_capacity(n)).collect();
    let mut ins: Vec<Vec<Option<Consumer<M>>>> =
        (0..n).map(|_| (0..n).map(|_| None).collect()).collect();
    for (a, row) in outs.iter_mut().enumerate() {
        for consumer_row in ins.iter_mut() {
            let (p, c) = ring::ring(capacity);
            row.push(p);
            consumer_row[a] = Some(c);
        }
    }
    outs.into_iter()
        .zip(ins)
        .map(|(outs, ins)| MeshEnds {
            outs,
            ins: ins.into_iter().flatten().collect(),
        })
        .collect()
}

/// One worker's ends of an exchange edge of batches `B`: the data mesh and the return mesh of
/// drained batch buffers (which flows the other way).
pub struct ExchangeEnds<B> {
    /// Sending side: data rings to every worker and the buffers they return.
    pub send: Outbox<B>,
    /// Receiving side: data rings from every worker.
    pub recv: Vec<Consumer<Msg<B>>>,
    /// Receiving side: return rings to every sender (index = sender).
    pub returns: Vec<Producer<B>>,
}

/// Builds an exchange edge for `n` workers: element `w` belongs to worker `w`.
pub fn exchange<B: Batch>(n: usize, capacity: usize, batch: usize) -> Vec<ExchangeEnds<B>> {
    let capacity = capacity.max(2);
    let data = mesh::<Msg<B>>(n, capacity);
    let back = mesh::<B>(n, capacity + 2);
    data.into_iter()
        .zip(back)
        .map(|(data, back)| ExchangeEnds {
            send: Outbox::new(batch, data.outs, back.ins),
            recv: data.ins,
            returns: back.outs,
        })
        .collect()
}
