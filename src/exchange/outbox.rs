//! The sending side of a worker: one batch being filled per destination, a short queue of
//! messages waiting for ring space, and recycled batch buffers coming back from receivers.
//!
//! Batches travel as `Vec`s; a receiver hands each spent `Vec` back on a return ring, so
//! in steady state no batch is allocated (and the allocator does not have to hand out and
//! zero fresh pages for every batch). The receiver processes records in place and returns
//! the batch with what is left of them: `Outbox::fresh` clears it here, on the thread that
//! made the records, whose string buffers are recycled by that thread (`crate::record::Text`).

use super::batch::Batch;
use super::message::Msg;
use super::ring::{Consumer, Producer};
use std::collections::VecDeque;

/// The capacity of a new batch buffer: twice the batch size. A batch is cut once it holds at
/// least the batch size, after a whole batch was added to it (`exchange::scatter` reserves
/// room for the whole incoming batch first), so a buffer of one batch's capacity grew — a
/// reallocation copying the records so far and page faults on the new memory — every time the
/// mesh needed another buffer (PERF.md, "Issue 10, step 7 (session 9): the exchange, the stage
/// and the emitters"). Untouched capacity costs no page.
#[inline]
pub fn room(batch: usize) -> usize {
    batch.saturating_mul(2)
}

/// Per-destination batching and queuing of batches `B` (a `Vec` of records, or a
/// [`super::KeyedBatch`]).
pub struct Outbox<B> {
    batch: usize,
    /// Batch being filled, per destination.
    bufs: Vec<B>,
    /// Messages that found their ring full, per destination (bounded: at most one batch
    /// plus control messages, since the source stops reading while any is queued).
    pending: Vec<VecDeque<Msg<B>>>,
    /// Data rings, per destination.
    rings: Vec<Producer<Msg<B>>>,
    /// Empty buffers returned by each destination.
    returned: Vec<Consumer<B>>,
    /// Latency runs only ([`crate::runtime::stamp`]): per destination, the earliest stamp of
    /// the records in the batch being filled (`u64::MAX`: none yet); empty otherwise.
    stamps: Vec<u64>,
    /// Scratch of [`Outbox::fill_all`]: the batches' lengths before filling.
    lens: Vec<usize>,
}

impl<B: Batch> Outbox<B> {
    /// An outbox over `rings` (index = destination) with their return rings.
    pub fn new(batch: usize, rings: Vec<Producer<Msg<B>>>, returned: Vec<Consumer<B>>) -> Self {
        let n = rings.len();
        Outbox {
            batch,
            bufs: (0..n).map(|_| B::with_capacity(room(batch))).collect(),
            pending: (0..n).map(|_| VecDeque::new()).collect(),
            rings,
            returned,
            stamps: match crate::runtime::stamp::enabled() {
                true => vec![u64::MAX; n],
                false => Vec::new(),
            },
            lens: Vec::with_capacity(n),
        }
    }

    /// Latency runs: the batch being filled for `dest` takes the current stamp into account.
    #[inline]
    fn note_stamp(&mut self, dest: usize) {
        if let Some(s) = self.stamps.get_mut(dest) {
            *s = (*s).min(crate::runtime::stamp::current());
        }
    }

    /// Queues the batch `full` for `dest`, behind its stamp in latency runs.
    #[inline]
    fn queue(&mut self, dest: usize, full: B) {
        if let Some(s) = self.stamps.get_mut(dest) {
            let stamp = std::mem::replace(s, u64::MAX);
            self.pending[dest].push_back(Msg::Stamp(stamp));
        }
        self.pending[dest].push_back(Msg::Data(full));
    }

    /// A buffer for destination `dest`: a returned one if any (cleared: its spent records are
    /// dropped on this thread), else a new one with room for two batches ([`room`]).
    #[inline]
    fn fresh(&mut self, dest: usize) -> B {
        match self.returned[dest].pop() {
            Some(mut v) => {
                v.clear();
                v
            }
            None => B::with_capacity(room(self.batch)),
        }
    }

    /// The batch being filled for `dest`, to add records to; [`Outbox::close`] must follow.
    #[inline]
    pub fn open(&mut self, dest: usize) -> &mut B {
        self.note_stamp(dest);
        &mut self.bufs[dest]
    }

    /// After records were added to `dest`'s batch: a full batch (at least the batch size) is
    /// queued for sending.
    #[inline]
    pub fn close(&mut self, dest: usize) {
        if self.bufs[dest].len() >= self.batch {
            let fresh = self.fresh(dest);
            let full = std::mem::replace(&mut self.bufs[dest], fresh);
            self.queue(dest, full);
        }
    }

    /// Adds records to any of the batches being filled (`fill` gets them all, index =
    /// destination); then each batch that grew is treated as after [`Outbox::close`].
    #[inline]
    pub fn fill_all(&mut self, fill: impl FnOnce(&mut [B])) {
        self.lens.clear();
        self.lens.extend(self.bufs.iter().map(B::len));
        fill(&mut self.bufs);
        for dest in 0..self.bufs.len() {
            if self.bufs[dest].len() != self.lens[dest] {
                self.note_stamp(dest);
                self.close(dest);
            }
        }
    }

    /// Queues every non-empty partial batch.
    pub fn flush_partial(&mut self) {
        for dest in 0..self.bufs.len() {
            if !self.bufs[dest].is_empty() {
                let fresh = self.fresh(dest);
                let part = std::mem::replace(&mut self.bufs[dest], fresh);
                self.queue(dest, part);
            }
        }
    }

    /// Queues partial batches, then a control message (barrier, end) for every destination;
    /// in latency runs behind the current stamp (a watermark's or an end's).
    pub fn broadcast(&mut self, make: impl Fn() -> Msg<B>) {
        self.flush_partial();
        let stamp = (!self.stamps.is_empty()).then(crate::runtime::stamp::current);
        for queue in &mut self.pending {
            if let Some(s) = stamp {
                queue.push_back(Msg::Stamp(s));
            }
            queue.push_back(make());
        }
    }

    /// Moves queued messages into the rings while they have space; true if any moved.
    pub fn send(&mut self) -> bool {
        let mut moved = false;
        for (queue, ring) in self.pending.iter_mut().zip(self.rings.iter_mut()) {
            while let Some(msg) = queue.pop_front() {
                if let Err(msg) = ring.push(msg) {
                    queue.push_front(msg);
                    break;
                }
                moved = true;
            }
        }
        moved
    }

    /// Whether nothing waits for ring space (the source may read more).
    pub fn idle(&self) -> bool {
        self.pending.iter().all(VecDeque::is_empty)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An outbox of batch size 4 to one destination, and the receiving end of its ring.
    fn outbox() -> (Outbox<Vec<u32>>, Consumer<Msg<Vec<u32>>>) {
        let mut ends = super::super::exchange::<Vec<u32>>(1, 16, 4);
        let end = ends.remove(0);
        let recv = end.recv.into_iter().next().expect("one sender");
        (end.send, recv)
    }

    fn batches(rx: &mut Consumer<Msg<Vec<u32>>>) -> Vec<Vec<u32>> {
        std::iter::from_fn(|| rx.pop())
            .filter_map(|m| match m {
                Msg::Data(v) => Some(v),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn batches_are_cut_when_full_and_partial_ones_on_flush() {
        let (mut one_by_one, mut rx_one) = outbox();
        let (mut whole, mut rx_whole) = outbox();
        for r in 0..6 {
            one_by_one.open(0).push(r);
            one_by_one.close(0);
        }
        // Added several at a time: a batch is cut after the addition that fills it.
        whole.open(0).extend(0..3);
        whole.close(0);
        whole.open(0).extend(3..6);
        whole.close(0);
        for o in [&mut one_by_one, &mut whole] {
            o.flush_partial();
            o.send();
        }
        assert_eq!(batches(&mut rx_one), vec![vec![0, 1, 2, 3], vec![4, 5]]);
        assert_eq!(batches(&mut rx_whole), vec![vec![0, 1, 2, 3, 4, 5]]);
    }

    #[test]
    fn fill_all_cuts_each_batch_that_reached_the_batch_size() {
        let mut ends = super::super::exchange::<Vec<u32>>(2, 16, 4);
        let mut end = ends.remove(0);
        end.send.fill_all(|bufs| {
            bufs[0].extend(0..5);
            bufs[1].extend(10..12);
        });
        end.send.fill_all(|bufs| bufs[1].extend(12..14));
        assert_eq!(end.send.bufs[0], Vec::<u32>::new(), "cut after the fill");
        assert!(
            end.send.bufs[1].is_empty(),
            "reached the batch size on the second fill"
        );
        end.send.send();
        assert_eq!(batches(&mut end.recv[0]), vec![vec![0, 1, 2, 3, 4]]);
        let mut other = ends.remove(0);
        assert_eq!(batches(&mut other.recv[0]), vec![vec![10, 11, 12, 13]]);
    }

    #[test]
    fn new_buffers_hold_a_partial_batch_plus_a_whole_one_without_growing() {
        // Batch size 4: a batch cut at 4 or more may take a whole batch of 4 more after 3.
        let mut ends = super::super::exchange::<Vec<u32>>(2, 16, 4);
        let mut end = ends.remove(0);
        end.send.fill_all(|bufs| bufs[0].extend(0..5));
        for dest in 0..2 {
            let b = &mut end.send.bufs[dest];
            let ptr = b.as_ptr();
            b.extend(0..3);
            b.extend(3..7);
            assert_eq!(b.as_ptr(), ptr, "destination {dest}: no reallocation");
        }
    }

    #[test]
    fn returned_buffers_come_back_cleared() {
        let mut ends = super::super::exchange::<Vec<u32>>(1, 16, 2);
        let end = ends.remove(0);
        let (mut out, mut rx, mut back) = (end.send, end.recv, end.returns);
        out.open(0).extend([1, 2]);
        out.close(0);
        out.send();
        let Some(Msg::Data(spent)) = rx[0].pop() else {
            panic!("a data batch")
        };
        let ptr = spent.as_ptr();
        assert!(back[0].push(spent).is_ok());
        out.open(0).extend([3, 4]);
        out.close(0);
        out.open(0).push(5);
        assert_eq!(out.bufs[0], [5]);
        assert_eq!(out.bufs[0].as_ptr(), ptr, "the returned buffer is reused");
    }
}
