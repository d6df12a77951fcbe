//! The stdout sink: encoded batches written to standard output.
//!
//! Each partition buffers whole records and writes a buffer under the stdout lock, so lines
//! of different workers never interleave. Under checkpoints it is *at-least-once*: stdout
//! cannot retract output, so records written after the last completed checkpoint are written
//! again after a restore ([`Sink::exactly_once`] is false).

use super::file::FLUSH_BYTES;
use super::{Encoder, Sink, SinkPartition, SinkStats};
use crate::error::Error;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// Where the output goes.
#[derive(Clone)]
enum Target {
    Stdout,
    /// Any writer (tests, embedding).
    Writer(Arc<Mutex<dyn Write + Send>>),
}

impl Target {
    /// Writes `bytes` (preceded by `header` when `header_due` is still set) under one lock.
    fn write(
        &self,
        header: Option<&[u8]>,
        header_due: &AtomicBool,
        bytes: &[u8],
    ) -> std::io::Result<()> {
        let write_locked = |w: &mut dyn Write| {
            // Checked under the output lock, so no record is written before the header.
            if let Some(h) = header {
                if header_due.swap(false, Ordering::Relaxed) {
                    w.write_all(h)?;
                }
            }
            w.write_all(bytes)?;
            w.flush()
        };
        match self {
            Target::Stdout => write_locked(&mut std::io::stdout().lock()),
            Target::Writer(w) => write_locked(&mut *w.lock().unwrap_or_else(|e| e.into_inner())),
        }
    }
}

/// Writes encoded records to standard output (at-least-once under checkpoints).
pub struct StdoutSink<T> {
    encoder: Arc<dyn Encoder<T>>,
    target: Target,
    /// The encoder's header, written once before the first output.
    header: Option<Arc<[u8]>>,
    header_due: Arc<AtomicBool>,
}

impl<T> StdoutSink<T> {
    /// A sink writing to standard output.
    pub fn new(encoder: Arc<dyn Encoder<T>>) -> Self {
        Self::with_target(encoder, Target::Stdout)
    }

    /// A sink writing to `writer` instead of standard output.
    pub fn with_writer(encoder: Arc<dyn Encoder<T>>, writer: Arc<Mutex<dyn Write + Send>>) -> Self {
        Self::with_target(encoder, Target::Writer(writer))
    }

    fn with_target(encoder: Arc<dyn Encoder<T>>, target: Target) -> Self {
        let header: Option<Arc<[u8]>> = encoder.header().map(Into::into);
        StdoutSink {
            encoder,
            target,
            header,
            header_due: Arc::new(AtomicBool::new(true)),
        }
    }
}

impl<T: 'static> Sink<T> for StdoutSink<T> {
    fn open_partition(
        &self,
        _worker: usize,
        _workers: usize,
        _transactional: bool,
    ) -> crate::Result<Box<dyn SinkPartition<T>>> {
        Ok(Box::new(StdoutPartition {
            encoder: Arc::clone(&self.encoder),
            target: self.target.clone(),
            header: self.header.clone(),
            header_due: Arc::clone(&self.header_due),
            buf: Vec::with_capacity(FLUSH_BYTES + FLUSH_BYTES / 4),
            stats: SinkStats::default(),
        }))
    }
}

struct StdoutPartition<T> {
    encoder: Arc<dyn Encoder<T>>,
    target: Target,
    header: Option<Arc<[u8]>>,
    header_due: Arc<AtomicBool>,
    buf: Vec<u8>,
    stats: SinkStats,
}

impl<T> StdoutPartition<T> {
    fn write_out(&mut self) -> crate::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        self.target
            .write(self.header.as_deref(), &self.header_due, &self.buf)
            .map_err(|e| Error::io("<stdout>", e))?;
        self.buf.clear();
        Ok(())
    }
}

impl<T> SinkPartition<T> for StdoutPartition<T> {
    fn write_batch(&mut self, batch: &[T]) -> crate::Result<()> {
        super::encode_batch(self.encoder.as_ref(), batch, &mut self.buf, &mut self.stats);
        if self.buf.len() >= FLUSH_BYTES {
            self.write_out()?;
        }
        Ok(())
    }

    /// Writes the buffered records out (they are then visible: at-least-once).
    fn pre_commit(&mut self, _epoch: u64) -> crate::Result<()> {
        self.write_out()
    }

    fn finish(&mut self) -> crate::Result<SinkStats> {
        self.write_out()?;
        Ok(self.stats)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use xxhash_rust::xxh3::xxh3_64;

    struct Csv;
    impl Encoder<(u32, u32)> for Csv {
        fn encode(&self, r: &(u32, u32), out: &mut Vec<u8>) {
            out.extend_from_slice(format!("{},{}\n", r.0, r.1).as_bytes());
        }
        fn header(&self) -> Option<Vec<u8>> {
            Some(b"a,b\n".to_vec())
        }
    }

    #[test]
    fn workers_write_whole_lines_after_one_header() {
        let out: Arc<Mutex<Vec<u8>>> = Arc::new(Mutex::new(Vec::new()));
        let sink = StdoutSink::with_writer(Arc::new(Csv), out.clone());
        assert!(!Sink::<(u32, u32)>::exactly_once(&sink));
        let threads: Vec<_> = (0..3u32)
            .map(|w| {
                let mut p = sink.open_partition(w as usize, 3, false).unwrap();
                std::thread::spawn(move || {
                    for i in 0..30_000u32 {
                        p.write_batch(&[(w, i)]).unwrap();
                    }
                    p.finish().unwrap()
                })
            })
            .collect();
        let mut stats = SinkStats::default();
        for t in threads {
            stats.merge(t.join().unwrap());
        }
        assert_eq!(stats.records, 90_000);
        let text = String::from_utf8(out.lock().unwrap().clone()).unwrap();
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("a,b"));
        let mut next = [0u32; 3];
        let mut checksum = 0u64;
        for line in lines {
            let (w, i) = line.split_once(',').unwrap();
            let (w, i): (usize, u32) = (w.parse().unwrap(), i.parse().unwrap());
            assert_eq!(i, next[w], "each worker's lines arrive whole and in order");
            next[w] += 1;
            checksum = checksum.wrapping_add(xxh3_64(format!("{line}\n").as_bytes()));
        }
        assert_eq!(next, [30_000; 3]);
        assert_eq!(stats.checksum, checksum);
    }
}
