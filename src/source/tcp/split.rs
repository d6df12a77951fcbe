//! One worker's split of a TCP source: its connections, the entries read from them, and (with
//! a spool) its replays and live log.

use super::conn::{Conn, Outcome};
use super::frame::{self, Entry};
use super::spool_split::{SplitSpool, SpoolShared};
use crate::source::{DeadLetters, LineDecoder, Poll, RangePosition, SourceResult, SourceSplit};
use crossbeam::channel::{Receiver, TryRecvError};
use std::cell::Cell;
use std::net::TcpStream;
use std::sync::Arc;

/// Bytes asked of a socket per read.
const READ_BYTES: usize = 64 * 1024;
/// A poll stops reading sockets once this many entry bytes are buffered.
const READY_BYTES: usize = 256 * 1024;

/// Reason of the dead letter of a line cut by a disconnect.
const CUT_REASON: &str = "connection closed in the middle of a line";

/// A worker's share of a TCP source.
pub(crate) struct TcpSplit<T> {
    name: String,
    decoder: Box<dyn LineDecoder<T>>,
    max_line: usize,
    too_long: String,
    /// New connections for this worker; `None` once the acceptor is done (or in connect mode).
    incoming: Option<Receiver<TcpStream>>,
    conns: Vec<Conn>,
    /// The connection read first in the next round (fairness).
    next_conn: usize,
    scratch: Vec<u8>,
    /// Received entries (see [`frame`]); `ready[cursor..]` are not handed out yet.
    ready: Vec<u8>,
    cursor: usize,
    /// Log offset of `ready[0]` (spool only).
    ready_base: u64,
    /// Entries handed out without a spool (their line numbers).
    lines: u64,
    records: u64,
    spool: Option<(SplitSpool, Arc<SpoolShared>)>,
    /// Set when a position was taken (a barrier): delete what checkpoints no longer need.
    clean_due: Cell<bool>,
    _alive: Arc<()>,
}

impl<T> TcpSplit<T> {
    /// A split over `conns` and the connections arriving on `incoming`.
    pub(crate) fn new(
        name: String,
        decoder: Box<dyn LineDecoder<T>>,
        max_line: usize,
        incoming: Option<Receiver<TcpStream>>,
        conns: Vec<Conn>,
        spool: Option<(SplitSpool, Arc<SpoolShared>)>,
        alive: Arc<()>,
    ) -> Self {
        TcpSplit {
            name,
            decoder,
            max_line,
            too_long: format!("line longer than {max_line} bytes"),
            incoming,
            conns,
            next_conn: 0,
            scratch: vec![0; READ_BYTES],
            ready: Vec::new(),
            cursor: 0,
            ready_base: 0,
            lines: 0,
            records: 0,
            spool,
            clean_due: Cell::new(false),
            _alive: alive,
        }
    }

    /// Decodes one entry into `out` or the dead letters.
    fn decode(
        decoder: &mut dyn LineDecoder<T>,
        ctx: (&str, &str),
        entry: &[u8],
        line: u64,
        out: &mut Vec<T>,
        dead: &mut DeadLetters,
    ) -> crate::Result<()> {
        let (name, too_long) = ctx;
        match frame::parse(entry) {
            Entry::Line(l) => {
                if let Err(reason) = decoder.decode(l, out) {
                    dead.report(name, line, &reason, l)?;
                }
            }
            Entry::Partial(p) => dead.report(name, line, CUT_REASON, p)?,
            Entry::TooLong(p) => dead.report(name, line, too_long, p)?,
        }
        Ok(())
    }

    /// Hands out buffered entries until `out` grew by `max`.
    fn drain_ready(
        &mut self,
        out: &mut Vec<T>,
        max: usize,
        before: usize,
        dead: &mut DeadLetters,
    ) -> crate::Result<()> {
        while self.cursor < self.ready.len() && out.len() - before < max {
            let rest = &self.ready[self.cursor..];
            let len = memchr::memchr(b'\n', rest).unwrap_or(rest.len());
            let line = match &self.spool {
                Some((s, _)) => s.live_line(),
                None => self.lines + 1,
            };
            let ctx = (self.name.as_str(), self.too_long.as_str());
            let entry = &self.ready[self.cursor..self.cursor + len];
            let had = out.len();
            Self::decode(self.decoder.as_mut(), ctx, entry, line, out, dead)?;
            self.records += (out.len() - had) as u64;
            self.cursor += len + 1;
            match &mut self.spool {
                Some((s, _)) => s.consumed_live(self.ready_base + self.cursor as u64),
                None => self.lines += 1,
            }
        }
        Ok(())
    }

    /// Takes new connections and reads each connection once; returns whether anything was
    /// read, and whether the split has ended (no connections and none to come).
    fn read_sockets(&mut self) -> crate::Result<(bool, bool)> {
        if let Some(rx) = &self.incoming {
            loop {
                match rx.try_recv() {
                    Ok(stream) => match Conn::new(stream) {
                        Ok(c) => self.conns.push(c),
                        Err(e) => tracing::warn!(error = %e, "tcp source: dropped a client"),
                    },
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => {
                        self.incoming = None;
                        break;
                    }
                }
            }
        }
        self.ready.clear();
        self.cursor = 0;
        let mut any = false;
        let n = self.conns.len();
        let mut closed = Vec::new();
        for k in 0..n {
            if self.ready.len() >= READY_BYTES {
                break;
            }
            let i = (self.next_conn + k) % n;
            let (outcome, _) =
                self.conns[i].read(&mut self.scratch, &mut self.ready, self.max_line);
            match outcome {
                Outcome::Data => any = true,
                Outcome::WouldBlock => {}
                Outcome::Closed => {
                    tracing::debug!(peer = %self.conns[i].peer, "tcp source: client left");
                    closed.push(i);
                    any = true;
                }
            }
        }
        self.next_conn = self.next_conn.wrapping_add(1);
        closed.sort_unstable();
        for i in closed.into_iter().rev() {
            self.conns.swap_remove(i);
        }
        if let Some((s, _)) = &mut self.spool {
            if !self.ready.is_empty() {
                self.ready_base = s.append(&self.ready)?;
            }
        }
        let ended = self.conns.is_empty() && self.incoming.is_none();
        Ok((any, ended))
    }

    /// Replays spooled entries (restore) into `out`; false when there is nothing (more) to
    /// replay, or when the replay cannot be planned yet.
    fn replay(
        &mut self,
        out: &mut Vec<T>,
        max: usize,
        before: usize,
        dead: &mut DeadLetters,
    ) -> crate::Result<Option<Poll>> {
        let Some((spool, shared)) = &mut self.spool else {
            return Ok(None);
        };
        if !spool.plan(shared)? {
            return Ok(Some(Poll::Idle));
        }
        let ctx = (self.name.as_str(), self.too_long.as_str());
        let decoder = self.decoder.as_mut();
        let mut records = 0u64;
        while out.len() - before < max {
            let had = out.len();
            let more = spool.next_replayed(&mut |entry, line| {
                Self::decode(decoder, ctx, entry, line, out, dead)
            })?;
            records += (out.len() - had) as u64;
            if !more {
                self.records += records;
                return Ok(None);
            }
        }
        self.records += records;
        Ok(Some(Poll::Ready))
    }
}

impl<T> SourceSplit<T> for TcpSplit<T> {
    fn poll_batch(
        &mut self,
        out: &mut Vec<T>,
        max: usize,
        dead: &mut DeadLetters,
    ) -> SourceResult<Poll> {
        if self.clean_due.replace(false) {
            if let Some((s, _)) = &mut self.spool {
                let dir = s.checkpoint_dir();
                s.clean(&dir)?;
            }
        }
        let before = out.len();
        if let Some(poll) = self.replay(out, max, before, dead)? {
            return Ok(poll);
        }
        loop {
            self.drain_ready(out, max, before, dead)?;
            if out.len() - before >= max {
                return Ok(Poll::Ready);
            }
            let (any, ended) = self.read_sockets()?;
            if self.ready.is_empty() {
                return Ok(match (out.len() > before, any, ended) {
                    (true, ..) | (false, true, false) => Poll::Ready,
                    (false, _, true) => Poll::End,
                    (false, false, false) => Poll::Idle,
                });
            }
        }
    }

    fn position(&self) -> Vec<RangePosition> {
        match &self.spool {
            Some((s, _)) => {
                self.clean_due.set(true);
                s.sync_and_position()
            }
            None => Vec::new(),
        }
    }

    fn records_read(&self) -> u64 {
        self.records
    }
}
