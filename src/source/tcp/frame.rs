//! Entries: how a TCP source hands received lines to its decoder, in memory and in the spool.
//!
//! Each entry is one line terminated by `\n` (a received `\r\n` loses its `\r`; empty lines
//! are dropped). An entry whose first byte is NUL is escaped: the second byte is a tag —
//! [`LITERAL`] (the entry minus its first byte is a line that itself began with NUL),
//! [`PARTIAL`] (the rest is the start of a line cut by a disconnecting client), [`TOO_LONG`]
//! (the rest is the start of a line longer than `max_line_bytes`). The spool stores exactly
//! these bytes, so a replay sees what the live run saw, dead letters included.

/// Tag: an escaped line that began with NUL.
const LITERAL: u8 = 0;
/// Tag: a line cut short by a disconnect.
const PARTIAL: u8 = 1;
/// Tag: an over-long line (its prefix).
const TOO_LONG: u8 = 2;

/// Bytes of a cut or over-long line kept for its dead letter.
pub(crate) const PREFIX_BYTES: usize = 4096;

/// One entry, read back.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Entry<'a> {
    /// A line to decode.
    Line(&'a [u8]),
    /// The start of a line cut by a disconnect.
    Partial(&'a [u8]),
    /// The start of an over-long line.
    TooLong(&'a [u8]),
}

/// Reads one entry (given without its newline).
pub(crate) fn parse(entry: &[u8]) -> Entry<'_> {
    match entry {
        [0, LITERAL, ..] => Entry::Line(&entry[1..]),
        [0, PARTIAL, rest @ ..] => Entry::Partial(rest),
        [0, TOO_LONG, rest @ ..] => Entry::TooLong(rest),
        line => Entry::Line(line),
    }
}

/// Appends `line` (no newline inside) as an entry; an empty line (after dropping a final
/// `\r`) appends nothing. Returns whether an entry was appended.
pub(crate) fn push_line(out: &mut Vec<u8>, line: &[u8], max_line: usize) -> bool {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.is_empty() {
        return false;
    }
    if line.len() > max_line {
        push_tagged(out, TOO_LONG, line);
        return true;
    }
    if line[0] == 0 {
        out.push(0);
    }
    out.extend_from_slice(line);
    out.push(b'\n');
    true
}

/// Appends the entry of a line cut by a disconnect.
pub(crate) fn push_partial(out: &mut Vec<u8>, start: &[u8]) {
    push_tagged(out, PARTIAL, start);
}

/// Appends the entry of an over-long line from its first bytes.
pub(crate) fn push_too_long(out: &mut Vec<u8>, start: &[u8]) {
    push_tagged(out, TOO_LONG, start);
}

fn push_tagged(out: &mut Vec<u8>, tag: u8, bytes: &[u8]) {
    out.extend_from_slice(&[0, tag]);
    out.extend_from_slice(&bytes[..bytes.len().min(PREFIX_BYTES)]);
    out.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(buf: &[u8]) -> Vec<Entry<'_>> {
        buf.strip_suffix(b"\n")
            .unwrap_or(buf)
            .split(|b| *b == b'\n')
            .map(parse)
            .collect()
    }

    #[test]
    fn lines_round_trip_with_escapes_and_tags() {
        let mut buf = Vec::new();
        assert!(push_line(&mut buf, b"a,1\r", 10));
        assert!(!push_line(&mut buf, b"\r", 10));
        assert!(push_line(&mut buf, b"\0x,2", 10));
        assert!(push_line(&mut buf, b"0123456789A", 10));
        push_partial(&mut buf, b"b,");
        push_too_long(&mut buf, &vec![b'z'; PREFIX_BYTES + 5]);
        let got = entries(&buf);
        assert_eq!(got[0], Entry::Line(b"a,1"));
        assert_eq!(got[1], Entry::Line(b"\0x,2"));
        assert_eq!(got[2], Entry::TooLong(b"0123456789A"));
        assert_eq!(got[3], Entry::Partial(b"b,"));
        assert!(matches!(got[4], Entry::TooLong(p) if p.len() == PREFIX_BYTES));
        assert_eq!(got.len(), 5);
    }
}
