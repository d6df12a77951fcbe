//! The sending side of a worker: one batch being filled per destination, a short queue of
//! messages waiting for ring space, and recycled batch buffers coming back from receivers.
//!
//! Batches travel as `Vec`s; a receiver hands each spent `Vec` back on a return ring, so
//! in steady state no batch is allocated (and the allocator does not have to hand out and
//! zero fresh pages for every batch). The receiver processes records in place and returns
//! the batch with what is left of them: `Outbox::fresh` clears it here, on the thread that
//! made the records, whose string buffers are recycled by that thread (`crate::record::Text`).

use super::message::Msg;
use super::ring::{Consumer, Producer};
use std::collections::VecDeque;

/// Per-destination batching and queuing.
pub struct Outbox<R> {
    batch: usize,
    /// Batch being filled, per destination.
    bufs: Vec<Vec<R>>,
    /// Messages that found their ring full, per destination (bounded: at most one batch
    /// plus control messages, since the source stops reading while any is queued).
    pending: Vec<VecDeque<Msg<R>>>,
    /// Data rings, per destination.
    rings: Vec<Producer<Msg<R>>>,
    /// Empty buffers returned by each destination.
    returned: Vec<Consumer<Vec<R>>>,
    /// Latency runs only ([`crate::runtime::stamp`]): per destination, the earliest stamp of
    /// the records in the batch being filled (`u64::MAX`: none yet); empty otherwise.
    stamps: Vec<u64>,
}

impl<R> Outbox<R> {
    /// An outbox over `rings` (index = destination) with their return rings.
    pub fn new(
        batch: usize,
        rings: Vec<Producer<Msg<R>>>,
        returned: Vec<Consumer<Vec<R>>>,
    ) -> Self {
        let n = rings.len();
        Outbox {
            batch,
            bufs: (0..n).map(|_| Vec::with_capacity(batch)).collect(),
            pending: (0..n).map(|_| VecDeque::new()).collect(),
            rings,
            returned,
            stamps: match crate::runtime::stamp::enabled() {
                true => vec![u64::MAX; n],
                false => Vec::new(),
            },
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
    fn queue(&mut self, dest: usize, full: Vec<R>) {
        if let Some(s) = self.stamps.get_mut(dest) {
            let stamp = std::mem::replace(s, u64::MAX);
            self.pending[dest].push_back(Msg::Stamp(stamp));
        }
        self.pending[dest].push_back(Msg::Data(full));
    }

    /// A buffer for destination `dest`: a returned one if any (cleared: its spent records are
    /// dropped on this thread), else a new one.
    #[inline]
    fn fresh(&mut self, dest: usize) -> Vec<R> {
        match self.returned[dest].pop() {
            Some(mut v) => {
                v.clear();
                v
            }
            None => Vec::with_capacity(self.batch),
        }
    }

    /// Adds a record for `dest`; a full batch is queued for sending.
    #[inline]
    pub fn push(&mut self, dest: usize, record: R) {
        self.note_stamp(dest);
        let buf = &mut self.bufs[dest];
        buf.push(record);
        if buf.len() >= self.batch {
            let fresh = self.fresh(dest);
            let full = std::mem::replace(&mut self.bufs[dest], fresh);
            self.queue(dest, full);
        }
    }

    /// Adds all of `records` for `dest`, a batch at a time: the records are written straight
    /// into the batch buffer (`Vec::extend` of an exact-size iterator) instead of being moved
    /// one by one through [`Outbox::push`] (one copy of each record fewer). Full batches are
    /// queued for sending.
    #[inline]
    pub fn extend<I: ExactSizeIterator<Item = R>>(&mut self, dest: usize, mut records: I) {
        while records.len() > 0 {
            self.note_stamp(dest);
            let room = self.batch.saturating_sub(self.bufs[dest].len()).max(1);
            self.bufs[dest].extend(records.by_ref().take(room));
            if self.bufs[dest].len() >= self.batch {
                let fresh = self.fresh(dest);
                let full = std::mem::replace(&mut self.bufs[dest], fresh);
                self.queue(dest, full);
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
    pub fn broadcast(&mut self, make: impl Fn() -> Msg<R>) {
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
    fn outbox() -> (Outbox<u32>, Consumer<Msg<u32>>) {
        let mut ends = super::super::exchange::<u32>(1, 16, 4);
        let end = ends.remove(0);
        let recv = end.recv.into_iter().next().expect("one sender");
        (end.send, recv)
    }

    fn batches(rx: &mut Consumer<Msg<u32>>) -> Vec<Vec<u32>> {
        std::iter::from_fn(|| rx.pop())
            .filter_map(|m| match m {
                Msg::Data(v) => Some(v),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn extend_cuts_batches_as_push_does() {
        let (mut by_push, mut rx_push) = outbox();
        let (mut by_extend, mut rx_extend) = outbox();
        by_push.push(0, 100);
        by_extend.push(0, 100);
        for chunk in [(0..6).collect::<Vec<u32>>(), vec![], (6..11).collect()] {
            chunk.iter().for_each(|&r| by_push.push(0, r));
            by_extend.extend(0, chunk.into_iter());
        }
        for o in [&mut by_push, &mut by_extend] {
            o.flush_partial();
            o.send();
        }
        let want = vec![vec![100, 0, 1, 2], vec![3, 4, 5, 6], vec![7, 8, 9, 10]];
        assert_eq!(batches(&mut rx_push), want);
        assert_eq!(batches(&mut rx_extend), want);
    }
}
