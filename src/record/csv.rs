//! CSV lines ↔ rows: [`CsvDecoder`] (strict, fields split by `csv-core`) and [`CsvEncoder`]
//! (RFC 4180, quoting only where needed).
//!
//! Decoding reasons (they go to the dead letters with the line number):
//!
//! | problem | reason |
//! |---|---|
//! | line is not UTF-8 | `invalid UTF-8 at byte 7` (0-based offset in the line) |
//! | empty line | `empty line` |
//! | odd number of `"` | `unbalanced quotes` |
//! | `\n` inside the line, outside quotes | `line break inside the line` |
//! | field count | `expected 3 fields, found 2` |
//! | unparsable value | `field "value": invalid i64 "abc"` (also `f64`, `timestamp`; `""` when empty) |
//!
//! Header reasons: `header: invalid UTF-8 at byte 3`, `header: unbalanced quotes`,
//! `header column 2: expected "value", found "val"`, `header column 3: expected "ts", found
//! nothing`, `header column 4: unexpected extra column "x"`.

use csv_core::{ReadRecordResult, Reader, ReaderBuilder, Terminator};

use super::format::invalid_utf8;
use super::{Field, Row, Schema};
use crate::source::{BlockLimits, BlockRead, LineDecoder};

pub use super::csv_encode::CsvEncoder;

/// The UTF-8 byte order mark, skipped at the start of a header line.
const BOM: &[u8] = b"\xef\xbb\xbf";

/// Decodes CSV lines into [`Row`]s of a [`Schema`].
///
/// Quoting follows RFC 4180 (`"a,b"`, `"say ""hi"""`); one trailing `\r` is dropped. Values:
/// i64 as optionally signed digits, f64 in Rust float syntax (`1.5`, `-2e3`, `inf`, `NaN`),
/// strings as they are after unquoting (an empty field is `""`), timestamps as integer
/// milliseconds or RFC 3339 (see [`super::parse_timestamp`]). An empty field is an error for
/// every type but string.
///
/// The decoder keeps its split buffers across lines; a decoded row allocates only for strings
/// longer than `Text::INLINE` bytes without a free buffer (and for rows of more than 7 fields).
#[derive(Debug)]
pub struct CsvDecoder {
    /// The fields, in column order.
    fields: Vec<Field>,
    /// Whether the first line of each file is a header.
    has_header: bool,
    /// Splits a line into fields; reset before each line.
    reader: Reader,
    /// Scratch: the unquoted bytes of the current line's fields, back to back.
    buf: Vec<u8>,
    /// Scratch: end offset in `buf` of each field of the current line.
    ends: Vec<usize>,
    /// The block pass's plan ([`super::csv_block`]).
    plan: super::csv_block::CsvPlan,
}

impl CsvDecoder {
    /// A decoder for lines of `schema`; with `has_header`, the first line of each file is a
    /// header that [`LineDecoder::check_header`] verifies.
    pub fn new(schema: Schema, has_header: bool) -> Self {
        let n = schema.fields.len();
        CsvDecoder {
            plan: super::csv_block::CsvPlan::new(&schema.fields),
            fields: schema.fields,
            has_header,
            // `\n` only: lines arrive without it, and a bare `\r` inside a line is data.
            reader: ReaderBuilder::new()
                .terminator(Terminator::Any(b'\n'))
                .build(),
            buf: vec![0; 256],
            ends: vec![0; n + 2],
        }
    }

    /// Splits `line` into `self.buf` / `self.ends` and returns the unquoted text's length and
    /// the number of fields.
    fn split(&mut self, line: &[u8]) -> Result<(usize, usize), String> {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if let Err(e) = std::str::from_utf8(line) {
            return Err(invalid_utf8(e.valid_up_to()));
        }
        if line.is_empty() {
            return Err("empty line".to_owned());
        }
        // csv-core never fails (an unterminated quote runs to the end of the input); an odd
        // number of quote characters cannot be valid RFC 4180.
        if line.iter().filter(|&&b| b == b'"').count() % 2 != 0 {
            return Err("unbalanced quotes".to_owned());
        }
        if self.buf.len() < line.len() {
            // Unquoting only removes bytes: the output never outgrows the input.
            self.buf.resize(line.len(), 0);
        }
        self.reader.reset();
        // A reset reader strips a UTF-8 BOM from the start of its first input. Feed it an
        // (ignored) empty record first so that a data line's leading U+FEFF stays data.
        let _ = self
            .reader
            .read_record(b"\n", &mut self.buf, &mut self.ends);
        let (mut input, mut nout, mut nend) = (line, 0, 0);
        loop {
            let (res, nin, o, e) =
                self.reader
                    .read_record(input, &mut self.buf[nout..], &mut self.ends[nend..]);
            input = &input[nin..];
            nout += o;
            nend += e;
            match res {
                // The next call passes the (now empty) input: end of data.
                ReadRecordResult::InputEmpty => {}
                ReadRecordResult::OutputFull => {
                    let len = self.buf.len();
                    self.buf.resize(len * 2 + 16, 0);
                }
                ReadRecordResult::OutputEndsFull => {
                    let len = self.ends.len();
                    self.ends.resize(len * 2 + 4, 0);
                }
                ReadRecordResult::Record if !input.is_empty() => {
                    return Err("line break inside the line".to_owned());
                }
                ReadRecordResult::Record | ReadRecordResult::End => break,
            }
        }
        Ok((nout, nend))
    }
}

/// The unquoted text of a split line. The line was UTF-8 and only ASCII quotes were removed,
/// so this does not fail in practice.
fn unquoted(buf: &[u8], len: usize) -> Result<&str, String> {
    std::str::from_utf8(&buf[..len]).map_err(|e| invalid_utf8(e.valid_up_to()))
}

/// The `i`-th field of a split line.
fn field_text<'a>(text: &'a str, ends: &[usize], i: usize) -> &'a str {
    let start = if i == 0 { 0 } else { ends[i - 1] };
    text.get(start..ends[i]).unwrap_or("")
}

/// `1 field` / `3 fields`.
fn fields_word(n: usize) -> &'static str {
    if n == 1 {
        "field"
    } else {
        "fields"
    }
}

impl LineDecoder<Row> for CsvDecoder {
    fn has_header(&self) -> bool {
        self.has_header
    }

    fn check_header(&mut self, line: &[u8]) -> Result<(), String> {
        let line = line.strip_prefix(BOM).unwrap_or(line);
        let (len, n) = self
            .split(line)
            .map_err(|reason| format!("header: {reason}"))?;
        let text = unquoted(&self.buf, len)?;
        let ends = &self.ends[..n];
        for (i, field) in self.fields.iter().enumerate() {
            if i >= n {
                return Err(format!(
                    "header column {}: expected {:?}, found nothing",
                    i + 1,
                    field.name
                ));
            }
            let name = field_text(text, ends, i);
            if name != field.name {
                return Err(format!(
                    "header column {}: expected {:?}, found {:?}",
                    i + 1,
                    field.name,
                    name
                ));
            }
        }
        if n > self.fields.len() {
            let i = self.fields.len();
            let extra = field_text(text, ends, i);
            return Err(format!(
                "header column {}: unexpected extra column {extra:?}",
                i + 1
            ));
        }
        Ok(())
    }

    fn decode_block(&mut self, block: &[u8], limits: BlockLimits, out: &mut Vec<Row>) -> BlockRead {
        self.plan.decode_block(block, limits, out)
    }

    fn decode(&mut self, line: &[u8], out: &mut Vec<Row>) -> Result<(), String> {
        let body = line.strip_suffix(b"\r").unwrap_or(line);
        if let Some(done) = super::csv_plain::decode_short(&self.fields, body, out) {
            return done;
        }
        if !body.is_empty() && memchr::memchr2(b'"', b'\n', body).is_none() {
            // No quotes, no line break: the fields are the text between commas.
            let text = std::str::from_utf8(body).map_err(|e| invalid_utf8(e.valid_up_to()))?;
            return super::csv_plain::decode(&self.fields, text, out);
        }
        let (len, n) = self.split(line)?;
        let text = unquoted(&self.buf, len)?;
        let expected = self.fields.len();
        if n != expected {
            return Err(format!(
                "expected {expected} {}, found {n}",
                fields_word(expected)
            ));
        }
        let ends = &self.ends[..n];
        let texts = (0..n).map(|i| field_text(text, ends, i));
        super::csv_plain::fill(out, |row| {
            super::field_parse::push_fields(&self.fields, row, texts)
        })
        .map_err(|e| e.reason(&self.fields))
    }
}
