//! The stdin source: worker 0 reads standard input (or any [`Read`]) through a dedicated
//! reader thread, so that the worker never blocks on input; other workers get an empty split.

use super::file::DecoderFactory;
use super::lines::{LineReader, Step};
use super::{DeadLetters, LineDecoder, Poll, RangePosition, Source, SourceResult, SourceSplit};
use crate::error::Error;
use crossbeam::channel::{self, Receiver, Sender, TryRecvError};
use std::io::Read;
use std::sync::Mutex;

/// Name of the source in dead letters and positions.
const NAME: &str = "stdin";
/// Batches in flight between the reader thread and the worker.
const CHANNEL_BATCHES: usize = 16;
/// A batch is sent once it holds this many bytes (or lines), or when no more input is ready.
const BATCH_BYTES: usize = 256 * 1024;
/// See [`BATCH_BYTES`].
const BATCH_LINES: usize = 4096;

/// Reads records, one per line, from standard input (not replayable).
pub struct StdinSource<T> {
    decoder: DecoderFactory<T>,
    max_line_bytes: usize,
    /// The input for worker 0's split; `None` once taken. Standard input when made by `new`.
    input: Mutex<Option<Box<dyn Read + Send>>>,
}

impl<T> StdinSource<T> {
    /// A source reading standard input.
    pub fn new(decoder: DecoderFactory<T>, max_line_bytes: usize) -> Self {
        Self::from_reader(std::io::stdin(), decoder, max_line_bytes)
    }

    /// A source reading `reader` instead of standard input (tests, pipes).
    pub fn from_reader(
        reader: impl Read + Send + 'static,
        decoder: DecoderFactory<T>,
        max_line_bytes: usize,
    ) -> Self {
        StdinSource {
            decoder,
            max_line_bytes,
            input: Mutex::new(Some(Box::new(reader))),
        }
    }
}

impl<T: 'static> Source<T> for StdinSource<T> {
    fn name(&self) -> String {
        NAME.to_string()
    }

    fn replayable(&self) -> bool {
        false
    }

    /// Worker 0 gets the input (a resume position is ignored: stdin cannot rewind); the other
    /// workers get an empty split.
    fn open_split(
        &self,
        worker: usize,
        _workers: usize,
        _resume: Option<Vec<RangePosition>>,
    ) -> SourceResult<Box<dyn SourceSplit<T>>> {
        let decoder = (self.decoder)();
        if worker != 0 {
            return Ok(Box::new(StdinSplit {
                lines: None,
                decoder,
                too_long: String::new(),
                offset: 0,
                line: 0,
            }));
        }
        let input = self.input.lock().unwrap_or_else(|e| e.into_inner()).take();
        let input = input
            .ok_or_else(|| Error::Runtime("stdin source: the input was already opened".into()))?;
        let (to_worker, lines) = channel::bounded(CHANNEL_BATCHES);
        let (recycle, recycled) = channel::bounded(CHANNEL_BATCHES);
        let reader = LineReader::new(input, 0, 0, u64::MAX, self.max_line_bytes);
        std::thread::Builder::new()
            .name("weir-stdin".into())
            .spawn(move || read_input(reader, &to_worker, &recycled))
            .map_err(|e| Error::io(NAME, e))?;
        let lines = Some(Lines {
            rx: lines,
            recycle,
            batch: Batch::default(),
            next: 0,
        });
        let too_long = format!("line longer than {} bytes", self.max_line_bytes);
        Ok(Box::new(StdinSplit {
            lines,
            decoder,
            too_long,
            offset: 0,
            line: 0,
        }))
    }
}

/// Lines packed in one buffer.
#[derive(Default)]
struct Batch {
    data: Vec<u8>,
    /// Per line: end in `data`, 1-based line number, over-long flag.
    lines: Vec<(usize, u64, bool)>,
    /// Input offset after the batch's last line.
    offset: u64,
}

/// What the reader thread sends.
enum Message {
    Batch(Batch),
    Failed(std::io::Error),
}

/// The reader thread: splits the input into lines, sends them in batches; sends a partial
/// batch before a read that may block.
fn read_input<R: Read>(
    mut reader: LineReader<R>,
    tx: &Sender<Message>,
    recycled: &Receiver<Batch>,
) {
    let fresh = || {
        let mut b = recycled.try_recv().unwrap_or_default();
        b.data.clear();
        b.lines.clear();
        b
    };
    let mut batch = fresh();
    loop {
        let read_more = batch.lines.is_empty();
        match reader.next_line(read_more) {
            Ok(Step::Line(line)) => {
                if !line.bytes.is_empty() || line.too_long {
                    batch.data.extend_from_slice(line.bytes);
                    batch
                        .lines
                        .push((batch.data.len(), line.number, line.too_long));
                }
                if batch.data.len() < BATCH_BYTES && batch.lines.len() < BATCH_LINES {
                    continue;
                }
            }
            Ok(Step::NeedRead) => {}
            Ok(Step::End) => {
                batch.offset = reader.offset();
                let _ = tx.send(Message::Batch(batch));
                return;
            }
            Err(e) => {
                let _ = tx.send(Message::Failed(e));
                return;
            }
        }
        batch.offset = reader.offset();
        if tx
            .send(Message::Batch(std::mem::replace(&mut batch, fresh())))
            .is_err()
        {
            return; // The split was dropped.
        }
    }
}

/// Worker 0's end of the channel and the batch being decoded.
struct Lines {
    rx: Receiver<Message>,
    recycle: Sender<Batch>,
    batch: Batch,
    /// Index of the next line of `batch` to decode.
    next: usize,
}

struct StdinSplit<T> {
    /// `None` for the empty splits of workers other than 0.
    lines: Option<Lines>,
    decoder: Box<dyn LineDecoder<T>>,
    /// The dead-letter reason of over-long lines.
    too_long: String,
    /// Input offset and line count of the last finished batch (informational: stdin cannot
    /// rewind).
    offset: u64,
    line: u64,
}

impl<T> SourceSplit<T> for StdinSplit<T> {
    fn poll_batch(
        &mut self,
        out: &mut Vec<T>,
        max: usize,
        dead: &mut DeadLetters,
    ) -> SourceResult<Poll> {
        let before = out.len();
        let Some(lines) = &mut self.lines else {
            return Ok(Poll::End);
        };
        loop {
            while lines.next < lines.batch.lines.len() {
                if out.len() - before >= max {
                    return Ok(Poll::Ready);
                }
                let start = if lines.next == 0 {
                    0
                } else {
                    lines.batch.lines[lines.next - 1].0
                };
                let (end, number, too_long) = lines.batch.lines[lines.next];
                lines.next += 1;
                let raw = &lines.batch.data[start..end];
                if number == 1 && self.decoder.has_header() {
                    // The first line is the header: checked against the schema, not a record.
                    self.decoder
                        .check_header(raw)
                        .map_err(|reason| Error::Data {
                            source_name: NAME.into(),
                            line: 1,
                            reason: format!("header: {reason}"),
                        })?;
                } else if too_long {
                    dead.report(NAME, number, &self.too_long, raw)?;
                } else if let Err(reason) = self.decoder.decode(raw, out) {
                    dead.report(NAME, number, &reason, raw)?;
                }
                self.line = number;
            }
            self.offset = lines.batch.offset;
            match lines.rx.try_recv() {
                Ok(Message::Batch(batch)) => {
                    let spent = std::mem::replace(&mut lines.batch, batch);
                    let _ = lines.recycle.try_send(spent);
                    lines.next = 0;
                }
                Ok(Message::Failed(e)) => return Err(Error::io(NAME, e)),
                Err(TryRecvError::Empty) => {
                    return Ok(if out.len() > before {
                        Poll::Ready
                    } else {
                        Poll::Idle
                    })
                }
                Err(TryRecvError::Disconnected) => {
                    self.lines = None;
                    return Ok(if out.len() > before {
                        Poll::Ready
                    } else {
                        Poll::End
                    });
                }
            }
        }
    }

    fn position(&self) -> Vec<RangePosition> {
        match self.lines {
            Some(_) => vec![RangePosition {
                resource: NAME.into(),
                next: self.offset,
                end: u64::MAX,
                line: self.line,
                source: String::new(),
                max_event_time: None,
            }],
            None => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::dead_letter::OnError;
    use std::sync::Arc;

    struct Num;
    impl LineDecoder<i64> for Num {
        fn decode(&mut self, line: &[u8], out: &mut Vec<i64>) -> Result<(), String> {
            let s = std::str::from_utf8(line).map_err(|e| e.to_string())?;
            out.push(s.parse().map_err(|e| format!("{e}"))?);
            Ok(())
        }
    }

    fn factory() -> DecoderFactory<i64> {
        Arc::new(|| Box::new(Num) as Box<dyn LineDecoder<i64>>)
    }

    fn drain(split: &mut dyn SourceSplit<i64>, dead: &mut DeadLetters) -> (Vec<i64>, usize) {
        let (mut out, mut idle) = (Vec::new(), 0);
        loop {
            match split.poll_batch(&mut out, 100, dead).unwrap() {
                Poll::End => return (out, idle),
                Poll::Idle => {
                    idle += 1;
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
                Poll::Ready => {}
            }
        }
    }

    #[test]
    fn reads_every_line_from_a_reader() {
        let text: String = (0..20_000).map(|i| format!("{i}\r\n")).collect::<String>()
            + "\nbad\n"
            + &"9".repeat(40);
        let src = StdinSource::from_reader(std::io::Cursor::new(text.into_bytes()), factory(), 30);
        assert!(!Source::<i64>::replayable(&src));
        let tmp = tempfile::tempdir().unwrap();
        let mut dead = DeadLetters::new(tmp.path().join("dead"), OnError::DeadLetter);
        let mut split = src.open_split(0, 2, None).unwrap();
        let (out, _) = drain(split.as_mut(), &mut dead);
        assert_eq!(out, (0..20_000).collect::<Vec<i64>>());
        assert_eq!(dead.count(), 2);
        dead.flush().unwrap();
        let letters = std::fs::read_to_string(dead.path()).unwrap();
        assert!(
            letters.contains("\"line\":20002") && letters.contains("\"line\":20003"),
            "{letters}"
        );
        assert!(letters.contains("line longer than 30 bytes"), "{letters}");
        assert!(
            src.open_split(0, 2, None).is_err(),
            "the input can be opened once"
        );
        let (other, _) = drain(src.open_split(1, 2, None).unwrap().as_mut(), &mut dead);
        assert!(other.is_empty());
    }

    /// A blocking reader fed through a channel, like a pipe.
    struct ChannelReader(Receiver<Vec<u8>>);
    impl Read for ChannelReader {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let Ok(chunk) = self.0.recv() else {
                return Ok(0);
            };
            buf[..chunk.len()].copy_from_slice(&chunk);
            Ok(chunk.len())
        }
    }

    #[test]
    fn the_worker_is_idle_while_input_is_pending() {
        let (writer, rx) = channel::unbounded();
        let src = StdinSource::from_reader(ChannelReader(rx), factory(), 100);
        let mut split = src.open_split(0, 1, None).unwrap();
        let mut dead = DeadLetters::new("/nonexistent/dead".into(), OnError::Fail);
        let mut out = Vec::new();
        assert_eq!(
            split.poll_batch(&mut out, 10, &mut dead).unwrap(),
            Poll::Idle
        );
        writer.send(b"1\n2\n".to_vec()).unwrap();
        // The partial batch is sent although the pipe stays open.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while out.len() < 2 && std::time::Instant::now() < deadline {
            let _ = split.poll_batch(&mut out, 10, &mut dead).unwrap();
        }
        assert_eq!(out, [1, 2]);
        assert_eq!(
            split.poll_batch(&mut out, 10, &mut dead).unwrap(),
            Poll::Idle
        );
        drop(writer);
        let (rest, _) = drain(split.as_mut(), &mut dead);
        assert!(rest.is_empty());
        assert_eq!(split.position(), Vec::new());
    }
}
