//! One client connection of a TCP source: non-blocking reads, split into entries.
//!
//! Only the bytes of the line in progress are kept between reads (at most `max_line_bytes + 1`;
//! beyond that the line is reported as over-long and skipped up to its newline), so a
//! connection's memory is bounded whatever the client sends.

use super::frame;
use std::io::{self, Read};
use std::net::TcpStream;

/// What one read of a connection produced.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Bytes were read (entries may have been appended).
    Data,
    /// Nothing to read now.
    WouldBlock,
    /// The client closed the connection (or it broke): drop it.
    Closed,
}

/// A client connection and its line in progress.
pub(crate) struct Conn {
    stream: TcpStream,
    /// The peer address, for logs.
    pub(crate) peer: String,
    /// Bytes of the line in progress (no newline).
    line: Vec<u8>,
    /// Inside an over-long line that was already reported: discard up to the next newline.
    skipping: bool,
}

impl Conn {
    /// Wraps a connected stream, making it non-blocking.
    ///
    /// # Errors
    /// When the socket cannot be made non-blocking.
    pub(crate) fn new(stream: TcpStream) -> io::Result<Conn> {
        stream.set_nonblocking(true)?;
        let peer = stream
            .peer_addr()
            .map_or_else(|_| "?".to_string(), |a| a.to_string());
        Ok(Conn {
            stream,
            peer,
            line: Vec::new(),
            skipping: false,
        })
    }

    /// Reads once into `scratch` and appends the completed lines to `out` as entries; at end of
    /// stream a line in progress becomes a partial entry. Returns the outcome and the number
    /// of entries appended.
    pub(crate) fn read(
        &mut self,
        scratch: &mut [u8],
        out: &mut Vec<u8>,
        max_line: usize,
    ) -> (Outcome, u64) {
        let n = loop {
            match self.stream.read(scratch) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return (Outcome::WouldBlock, 0),
                Err(e) => {
                    tracing::warn!(peer = %self.peer, error = %e, "tcp source: connection failed");
                    return (Outcome::Closed, self.close(out));
                }
            }
        };
        if n == 0 {
            return (Outcome::Closed, self.close(out));
        }
        (Outcome::Data, self.split(&scratch[..n], out, max_line))
    }

    /// Splits received bytes into entries; returns how many were appended.
    fn split(&mut self, mut bytes: &[u8], out: &mut Vec<u8>, max_line: usize) -> u64 {
        let mut entries = 0;
        while let Some(i) = memchr::memchr(b'\n', bytes) {
            let piece = &bytes[..i];
            bytes = &bytes[i + 1..];
            if self.skipping {
                self.skipping = false;
            } else if self.line.is_empty() {
                entries += u64::from(frame::push_line(out, piece, max_line));
            } else {
                self.line.extend_from_slice(piece);
                entries += u64::from(frame::push_line(out, &self.line, max_line));
                self.line.clear();
            }
        }
        if !self.skipping {
            self.line.extend_from_slice(bytes);
            // `+ 1`: a line of `max_line` bytes may still be followed by `\r\n`.
            if self.line.len() > max_line.saturating_add(1) {
                frame::push_too_long(out, &self.line);
                entries += 1;
                self.line.clear();
                self.skipping = true;
            }
        }
        entries
    }

    /// End of the connection: a line in progress becomes a partial entry.
    fn close(&mut self, out: &mut Vec<u8>) -> u64 {
        let cut = !self.line.is_empty() && !self.skipping && self.line != b"\r";
        if cut {
            frame::push_partial(out, &self.line);
        }
        self.line = Vec::new();
        u64::from(cut)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::net::TcpListener;

    fn pair() -> (TcpStream, Conn) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (server, _) = l.accept().unwrap();
        (client, Conn::new(server).unwrap())
    }

    /// Reads until `want` entries arrived or the connection closed.
    fn read_entries(conn: &mut Conn, want: u64, max: usize) -> (Vec<u8>, bool) {
        let (mut out, mut scratch, mut got) = (Vec::new(), vec![0u8; 7], 0);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while got < want && std::time::Instant::now() < deadline {
            let (o, n) = conn.read(&mut scratch, &mut out, max);
            got += n;
            if o == Outcome::Closed {
                return (out, true);
            }
        }
        (out, false)
    }

    #[test]
    fn lines_split_across_reads_long_lines_and_a_cut_line() {
        let (mut client, mut conn) = pair();
        client
            .write_all(b"k1,10\r\nk2,2\n0123456789abcdef\nk3,3\nhalf")
            .unwrap();
        let (out, closed) = read_entries(&mut conn, 4, 8);
        assert!(!closed);
        let entries: Vec<_> = out[..out.len() - 1]
            .split(|b| *b == b'\n')
            .map(frame::parse)
            .collect();
        assert_eq!(entries.len(), 4, "{:?}", String::from_utf8_lossy(&out));
        assert_eq!(entries[0], frame::Entry::Line(b"k1,10"));
        assert_eq!(entries[1], frame::Entry::Line(b"k2,2"));
        // Reported once it passes the limit, from the bytes seen so far.
        assert!(matches!(entries[2], frame::Entry::TooLong(p) if p.starts_with(b"0123456789")));
        assert_eq!(entries[3], frame::Entry::Line(b"k3,3"));
        drop(client);
        let (out, closed) = read_entries(&mut conn, u64::MAX, 8);
        assert!(closed);
        let mut want = Vec::new();
        frame::push_partial(&mut want, b"half");
        assert_eq!(out, want);
    }
}
