//! The TCP sink: encoded records sent to a server at `connect`, one connection per worker.
//!
//! - Writes block when the server reads slowly: the worker then stops taking input, the rings
//!   fill and the source stops reading (backpressure). The partition holds at most
//!   `FLUSH_BYTES` of unsent records plus the resend buffer below: memory stays bounded.
//! - A broken connection is re-established with exponential backoff (50 ms doubling to 5 s,
//!   giving up after [`RECONNECT_PATIENCE`]); the header (CSV with `header = true`) is sent on
//!   every new connection.
//! - **At-least-once**: TCP does not say what the server received before a connection broke,
//!   so after a reconnect the records sent since the last checkpoint barrier are sent again
//!   (kept up to [`RESEND_BYTES`]). If more than that was sent since the barrier, the job fails
//!   instead (under checkpoints: a restore then replays from the last checkpoint, again at
//!   least once); without checkpoints it warns that records may have been lost and goes on.
//!   After a restore, the records since the restored checkpoint are sent again.

use super::file::FLUSH_BYTES;
use super::{Encoder, Sink, SinkPartition, SinkStats};
use crate::error::Error;
use std::io::Write;
use std::net::{Shutdown, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Bytes sent since the last barrier kept for resending after a reconnect.
pub const RESEND_BYTES: usize = 8 << 20;
/// How long a partition tries to (re)connect before the job fails.
pub const RECONNECT_PATIENCE: Duration = Duration::from_secs(60);

/// Sends encoded records to a TCP server (at-least-once).
pub struct TcpSink<T> {
    addr: String,
    encoder: Arc<dyn Encoder<T>>,
}

impl<T> TcpSink<T> {
    /// A sink connecting to `addr` (`HOST:PORT`).
    pub fn new(addr: impl Into<String>, encoder: Arc<dyn Encoder<T>>) -> Self {
        TcpSink {
            addr: addr.into(),
            encoder,
        }
    }
}

impl<T: 'static> Sink<T> for TcpSink<T> {
    /// The address must resolve (the server may come up later).
    fn check(&self) -> crate::Result<()> {
        self.addr
            .to_socket_addrs()
            .map(|_| ())
            .map_err(|e| Error::io(&self.addr, e))
    }

    fn open_partition(
        &self,
        _worker: usize,
        _workers: usize,
        transactional: bool,
    ) -> crate::Result<Box<dyn SinkPartition<T>>> {
        Ok(Box::new(TcpPartition {
            addr: self.addr.clone(),
            encoder: Arc::clone(&self.encoder),
            header: self.encoder.header(),
            transactional,
            conn: None,
            unsent: Vec::with_capacity(FLUSH_BYTES + FLUSH_BYTES / 4),
            sent: Vec::new(),
            sent_overflow: false,
            stats: SinkStats::default(),
        }))
    }
}

struct TcpPartition<T> {
    addr: String,
    encoder: Arc<dyn Encoder<T>>,
    header: Option<Vec<u8>>,
    transactional: bool,
    conn: Option<TcpStream>,
    /// Encoded records not written to a connection yet.
    unsent: Vec<u8>,
    /// Bytes written since the last barrier (resent after a reconnect), unless overflowed.
    sent: Vec<u8>,
    /// More than [`RESEND_BYTES`] were written since the last barrier (`sent` is empty).
    sent_overflow: bool,
    stats: SinkStats,
}

impl<T> TcpPartition<T> {
    /// Connects with backoff (when not connected), writing the header first.
    fn connect(&mut self) -> crate::Result<()> {
        if self.conn.is_none() {
            let deadline = Instant::now() + RECONNECT_PATIENCE;
            let mut wait = Duration::from_millis(50);
            let stream = loop {
                match self.try_connect() {
                    Ok(s) => break s,
                    Err(e) if Instant::now() >= deadline => return Err(Error::io(&self.addr, e)),
                    Err(e) => {
                        tracing::warn!(addr = %self.addr, error = %e, retry_in = ?wait, "tcp sink: cannot connect");
                        std::thread::sleep(wait);
                        wait = (wait * 2).min(Duration::from_secs(5));
                    }
                }
            };
            self.conn = Some(stream);
        }
        Ok(())
    }

    fn try_connect(&self) -> std::io::Result<TcpStream> {
        let addr = self.addr.to_socket_addrs()?.next().ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::NotFound, "address resolves to nothing")
        })?;
        let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
        let _ = s.set_nodelay(true);
        if let Some(h) = &self.header {
            s.write_all(h)?;
        }
        Ok(s)
    }

    /// Writes the unsent bytes, reconnecting (and resending this epoch's bytes) on failure.
    fn send(&mut self) -> crate::Result<()> {
        while !self.unsent.is_empty() {
            self.connect()?;
            let written = match self.conn.as_mut() {
                Some(c) => c.write_all(&self.unsent),
                None => continue,
            };
            match written {
                Ok(()) => {
                    if self.sent.len() + self.unsent.len() <= RESEND_BYTES && !self.sent_overflow {
                        self.sent.extend_from_slice(&self.unsent);
                    } else {
                        self.sent = Vec::new();
                        self.sent_overflow = true;
                    }
                    self.unsent.clear();
                }
                Err(e) => {
                    tracing::warn!(addr = %self.addr, error = %e, "tcp sink: connection lost; reconnecting");
                    self.conn = None;
                    self.resend_after_break(e)?;
                }
            }
        }
        Ok(())
    }

    /// Puts the bytes sent since the last barrier back in front of the unsent ones.
    fn resend_after_break(&mut self, e: std::io::Error) -> crate::Result<()> {
        if self.sent_overflow {
            if self.transactional {
                return Err(Error::io(
                    &self.addr,
                    std::io::Error::new(
                        e.kind(),
                        format!(
                            "connection lost with more than {RESEND_BYTES} bytes sent since the \
                             last checkpoint ({e}); restore to send them again"
                        ),
                    ),
                ));
            }
            tracing::warn!(addr = %self.addr, "tcp sink: records sent before the break may be lost");
            self.sent_overflow = false;
            return Ok(());
        }
        let mut again = std::mem::take(&mut self.sent);
        again.extend_from_slice(&self.unsent);
        self.unsent = again;
        Ok(())
    }
}

impl<T> SinkPartition<T> for TcpPartition<T> {
    fn write_batch(&mut self, batch: &[T]) -> crate::Result<()> {
        super::encode_batch(
            self.encoder.as_ref(),
            batch,
            &mut self.unsent,
            &mut self.stats,
        );
        if self.unsent.len() >= FLUSH_BYTES {
            self.send()?;
        }
        Ok(())
    }

    /// Sends what is buffered; what was sent before the barrier is no longer kept.
    fn pre_commit(&mut self, _epoch: u64) -> crate::Result<()> {
        self.send()?;
        self.sent.clear();
        self.sent_overflow = false;
        Ok(())
    }

    fn finish(&mut self) -> crate::Result<SinkStats> {
        self.send()?;
        if let Some(c) = self.conn.take() {
            let _ = c.shutdown(Shutdown::Write);
        }
        Ok(self.stats)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader};
    use std::net::TcpListener;

    struct Line;
    impl Encoder<u32> for Line {
        fn encode(&self, r: &u32, out: &mut Vec<u8>) {
            out.extend_from_slice(format!("{r}\n").as_bytes());
        }
        fn header(&self) -> Option<Vec<u8>> {
            Some(b"n\n".to_vec())
        }
    }

    #[test]
    fn reconnects_and_resends_the_epoch_after_a_break() {
        let server = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = server.local_addr().unwrap().to_string();
        let sink = TcpSink::new(addr, Arc::new(Line));
        sink.check().unwrap();
        let mut p = sink.open_partition(0, 1, true).unwrap();
        p.write_batch(&[1, 2]).unwrap();
        p.pre_commit(1).unwrap();
        let (first, _) = server.accept().unwrap();
        let mut lines = BufReader::new(first.try_clone().unwrap()).lines();
        let got: Vec<String> = (0..3).map(|_| lines.next().unwrap().unwrap()).collect();
        assert_eq!(got, ["n", "1", "2"]);
        p.write_batch(&[3]).unwrap();
        p.pre_commit(2).unwrap(); // 3 is sent; it belongs to the epoch now closed
        p.write_batch(&[4]).unwrap();
        first.shutdown(Shutdown::Both).unwrap();
        drop((first, lines));
        // Writes to the closed connection fail (possibly only on the second write).
        std::thread::sleep(Duration::from_millis(50));
        let writer = std::thread::spawn(move || {
            for i in 5..200_000u32 {
                p.write_batch(&[i]).unwrap();
            }
            p.finish().unwrap()
        });
        let (second, _) = server.accept().unwrap();
        let text: Vec<String> = BufReader::new(second).lines().map(|l| l.unwrap()).collect();
        let stats = writer.join().unwrap();
        assert_eq!(stats.records, 199_999);
        assert_eq!(text[0], "n", "the header starts every connection");
        let mut nums: Vec<u32> = text[1..].iter().map(|l| l.parse().unwrap()).collect();
        nums.dedup();
        // Everything after the last barrier arrives on the new connection (at least once).
        let from = nums.iter().position(|&n| n == 4).expect("4 was resent");
        assert_eq!(nums[from..], (4..200_000).collect::<Vec<u32>>()[..]);
    }
}
