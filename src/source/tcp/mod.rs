//! The TCP source: newline-delimited records from clients connecting to `listen`, or from one
//! server at `connect`.
//!
//! - **listen**: an acceptor thread hands each accepted connection to the workers in turn, so
//!   the connections (and their records) are spread over all workers. Each worker reads its
//!   connections without blocking, only when it asks its split for a batch: when the rings are
//!   full the worker stops asking, the sockets' receive buffers fill and TCP flow control holds
//!   the clients back. Nothing is buffered beyond one read per connection and the line in
//!   progress (at most `max_line_bytes + 1` bytes each).
//! - **connect**: worker 0 connects (retrying for a while) and reads; the other splits are
//!   empty. The source ends when the server closes the connection.
//! - **End**: with `max_clients = N` the listening source ends once N clients connected and all
//!   of them disconnected; without it, it runs until the job is stopped (Ctrl-C / SIGTERM).
//! - **Malformed lines**: a line longer than `max_line_bytes`, a line the decoder rejects and
//!   the partial line of a client that disconnects mid-line each go to the dead letters (the
//!   connection carries on).
//! - **Spool** (`spool_split`): with a spool directory, what is received is appended to a
//!   segmented log and read back from it, so checkpoints record log offsets and a restore
//!   replays: exactly-once for socket input. Without it the source is not replayable
//!   (at-least-once with `--allow-at-least-once`).

mod conn;
mod frame;
mod split;
mod spool;
mod spool_split;

use super::file::DecoderFactory;
use super::{RangePosition, Source, SourceResult, SourceSplit};
use crate::error::Error;
use conn::Conn;
use crossbeam::channel::{self, Receiver, Sender};
use split::TcpSplit;
use spool_split::{SplitSpool, SpoolShared};
use std::net::{TcpListener, TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub use spool::DEFAULT_SEGMENT_BYTES;

/// Accepted connections waiting for their worker (the acceptor blocks beyond this: the
/// listen backlog then holds further clients).
const PENDING_CONNECTIONS: usize = 64;
/// How long worker 0 retries connecting to a `connect` address.
const CONNECT_PATIENCE: Duration = Duration::from_secs(10);

/// Where the source gets its connections.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// Listen on this address and accept any number of clients.
    Listen(String),
    /// Connect to this server.
    Connect(String),
}

/// Settings of a [`TcpSource`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TcpOptions {
    /// Listen or connect.
    pub endpoint: Endpoint,
    /// Longest accepted line; longer lines are dead-lettered.
    pub max_line_bytes: usize,
    /// Listen only: end after this many clients connected and disconnected.
    pub max_clients: Option<u64>,
    /// Spool directory (normally `<checkpoint dir>/spool`): makes the source replayable.
    pub spool_dir: Option<PathBuf>,
    /// Size of the spool's segment files.
    pub segment_bytes: u64,
}

impl TcpOptions {
    /// Options for `endpoint` with the defaults: 1 MiB lines, no client limit, no spool.
    pub fn new(endpoint: Endpoint) -> Self {
        TcpOptions {
            endpoint,
            max_line_bytes: 1 << 20,
            max_clients: None,
            spool_dir: None,
            segment_bytes: DEFAULT_SEGMENT_BYTES,
        }
    }
}

/// The acceptor's side, created when the first split opens.
#[derive(Default)]
struct Accepting {
    started: bool,
    /// Per worker, its end of the connection channel until its split takes it.
    receivers: Vec<Option<Receiver<TcpStream>>>,
}

/// Records from TCP connections, one per line.
pub struct TcpSource<T> {
    options: TcpOptions,
    decoder: DecoderFactory<T>,
    listener: Mutex<Option<TcpListener>>,
    accepting: Mutex<Accepting>,
    spool: Arc<SpoolShared>,
    /// Held by the source and every split; the acceptor exits when it alone holds it.
    alive: Arc<()>,
}

impl<T> TcpSource<T> {
    /// A TCP source decoding lines with `decoder`.
    pub fn new(options: TcpOptions, decoder: DecoderFactory<T>) -> Self {
        TcpSource {
            options,
            decoder,
            listener: Mutex::new(None),
            accepting: Mutex::new(Accepting::default()),
            spool: Arc::default(),
            alive: Arc::new(()),
        }
    }

    /// The name of the source in logs and dead letters (`tcp:ADDR`).
    fn source_name(&self) -> String {
        match &self.options.endpoint {
            Endpoint::Listen(a) | Endpoint::Connect(a) => format!("tcp:{a}"),
        }
    }

    /// Binds the listening socket (once) and returns its address.
    ///
    /// # Errors
    /// The address cannot be bound (in use, not local, unresolvable).
    pub fn bind(&self) -> SourceResult<std::net::SocketAddr> {
        let Endpoint::Listen(addr) = &self.options.endpoint else {
            return Err(Error::Runtime(
                "tcp source: bind() needs a listen address".into(),
            ));
        };
        let mut guard = self.listener.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(l) = guard.as_ref() {
            return l.local_addr().map_err(|e| Error::io(addr, e));
        }
        let listener = TcpListener::bind(addr.as_str()).map_err(|e| Error::io(addr, e))?;
        let local = listener.local_addr().map_err(|e| Error::io(addr, e))?;
        // Scripts and tests read the port from this line when they listen on port 0.
        eprintln!("weir: tcp source listening on {local}");
        *guard = Some(listener);
        Ok(local)
    }

    /// Starts the acceptor (first call) and takes `worker`'s connection channel.
    fn incoming(&self, worker: usize, workers: usize) -> SourceResult<Receiver<TcpStream>> {
        let mut acc = self.accepting.lock().unwrap_or_else(|e| e.into_inner());
        if !acc.started {
            self.bind()?;
            let listener = self
                .listener
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take();
            let listener = listener.ok_or_else(|| {
                Error::Runtime("tcp source: the listener was already used by a run".into())
            })?;
            let (senders, receivers): (Vec<_>, Vec<_>) = (0..workers)
                .map(|_| channel::bounded(PENDING_CONNECTIONS))
                .unzip();
            acc.receivers = receivers.into_iter().map(Some).collect();
            let (alive, max) = (Arc::clone(&self.alive), self.options.max_clients);
            std::thread::Builder::new()
                .name("weir-tcp-accept".into())
                .spawn(move || accept_loop(&listener, &senders, max, &alive))
                .map_err(|e| Error::Runtime(format!("tcp source: no acceptor thread: {e}")))?;
            acc.started = true;
        }
        acc.receivers
            .get_mut(worker)
            .and_then(Option::take)
            .ok_or_else(|| Error::Runtime(format!("tcp source: split {worker} opened twice")))
    }

    /// Connects to the `connect` address, retrying for [`CONNECT_PATIENCE`].
    fn connect(addr: &str) -> SourceResult<TcpStream> {
        let deadline = Instant::now() + CONNECT_PATIENCE;
        let mut wait = Duration::from_millis(50);
        loop {
            let attempt = addr
                .to_socket_addrs()
                .and_then(|mut a| {
                    a.next().ok_or_else(|| {
                        std::io::Error::new(std::io::ErrorKind::NotFound, "no address")
                    })
                })
                .and_then(|a| TcpStream::connect_timeout(&a, Duration::from_secs(2)));
            match attempt {
                Ok(s) => return Ok(s),
                Err(e) if Instant::now() >= deadline => return Err(Error::io(addr, e)),
                Err(_) => {
                    std::thread::sleep(wait);
                    wait = (wait * 2).min(Duration::from_secs(1));
                }
            }
        }
    }
}

/// Accepts clients and deals them out to the workers in turn; stops after `max` clients or
/// when the source and all splits are gone.
fn accept_loop(
    listener: &TcpListener,
    senders: &[Sender<TcpStream>],
    max: Option<u64>,
    alive: &Arc<()>,
) {
    if let Err(e) = listener.set_nonblocking(true) {
        tracing::error!(error = %e, "tcp source: cannot poll the listener");
        return;
    }
    let mut accepted = 0u64;
    while max.is_none_or(|m| accepted < m) && Arc::strong_count(alive) > 1 {
        match listener.accept() {
            Ok((stream, peer)) => {
                tracing::debug!(%peer, "tcp source: client connected");
                if let Err(e) = stream.set_nonblocking(false) {
                    tracing::warn!(%peer, error = %e, "tcp source: dropped a client");
                    continue;
                }
                let _ = stream.set_nodelay(true);
                let to = &senders[(accepted % senders.len() as u64) as usize];
                accepted += 1;
                if to.send(stream).is_err() {
                    return; // That split is gone: the job is over.
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(2));
            }
            Err(e) => {
                tracing::warn!(error = %e, "tcp source: accept failed");
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

impl<T: 'static> Source<T> for TcpSource<T> {
    fn name(&self) -> String {
        self.source_name()
    }

    /// Only with a spool (a socket cannot rewind).
    fn replayable(&self) -> bool {
        self.options.spool_dir.is_some()
    }

    /// Binds the listening address now, so that a busy port is reported before work starts.
    fn check(&self) -> SourceResult<()> {
        match &self.options.endpoint {
            Endpoint::Listen(_) => self.bind().map(|_| ()),
            Endpoint::Connect(_) => Ok(()),
        }
    }

    fn open_split(
        &self,
        worker: usize,
        workers: usize,
        resume: Option<Vec<RangePosition>>,
    ) -> SourceResult<Box<dyn SourceSplit<T>>> {
        let (incoming, conns) = match &self.options.endpoint {
            Endpoint::Listen(_) => (Some(self.incoming(worker, workers)?), Vec::new()),
            Endpoint::Connect(addr) if worker == 0 => {
                let stream = Self::connect(addr)?;
                (
                    None,
                    vec![Conn::new(stream).map_err(|e| Error::io(addr, e))?],
                )
            }
            Endpoint::Connect(_) => (None, Vec::new()),
        };
        let spool = match &self.options.spool_dir {
            Some(root) => {
                let generation = self.spool.open(root, resume.as_deref())?;
                Some(SplitSpool::open(
                    root,
                    generation,
                    worker,
                    workers,
                    resume,
                    self.options.segment_bytes,
                    self.options.max_line_bytes,
                )?)
            }
            None => None,
        };
        Ok(Box::new(TcpSplit::new(
            self.source_name(),
            (self.decoder)(),
            self.options.max_line_bytes,
            incoming,
            conns,
            spool.map(|s| (s, Arc::clone(&self.spool))),
            Arc::clone(&self.alive),
        )))
    }
}
