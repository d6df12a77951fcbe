//! [`NoChecksum`]: an encoder whose batches are not hashed, for sinks whose checksum nothing
//! reads.
//!
//! [`Encoder::encode_all`] sums the xxh3 of every encoded line into [`super::SinkStats`]
//! (library users and tests compare outputs by it). The command line prints only record
//! counts, so its text sinks skip the hash — as its null sink counts rows without hashing
//! them (PERF.md, session 6). On `fixtures/rolling_sum.toml` the hash was ~25 instructions
//! of a CSV line's ~100 (PERF.md, "Issue 10, step 5 (session 7): encoding and sinks").

use super::Encoder;

/// Wraps an encoder: the same bytes, but [`Encoder::encode_all`] reports checksum 0.
#[derive(Clone, Debug)]
pub struct NoChecksum<E>(pub E);

impl<T, E: Encoder<T>> Encoder<T> for NoChecksum<E> {
    fn encode(&self, record: &T, out: &mut Vec<u8>) {
        self.0.encode(record, out);
    }

    fn header(&self) -> Option<Vec<u8>> {
        self.0.header()
    }

    /// Encodes with the inner encoder's [`Encoder::encode_many`]; the checksum is 0.
    fn encode_all(&self, batch: &[T], out: &mut Vec<u8>) -> u64 {
        self.0.encode_many(batch, out);
        0
    }

    fn encode_many(&self, batch: &[T], out: &mut Vec<u8>) {
        self.0.encode_many(batch, out);
    }
}

#[cfg(test)]
mod tests {
    use super::NoChecksum;
    use crate::record::{CsvEncoder, Row, Schema, Text, Value};
    use crate::sink::Encoder;

    #[test]
    fn same_bytes_and_header_no_checksum() {
        let schema = Schema::default();
        let inner = CsvEncoder::new(schema.clone(), false);
        let wrapped = NoChecksum(CsvEncoder::new(schema, false));
        let batch: Vec<Row> = (0..50)
            .map(|i| Row::from_vec(vec![Value::Str(Text::new("k,1")), Value::I64(i)]))
            .collect();
        let (mut a, mut b) = (Vec::new(), Vec::new());
        assert_ne!(inner.encode_all(&batch, &mut a), 0);
        assert_eq!(wrapped.encode_all(&batch, &mut b), 0);
        assert_eq!(a, b);
        assert!(a.starts_with(b"\"k,1\",0\n"));
        assert_eq!(wrapped.header(), inner.header());
        let mut one = Vec::new();
        wrapped.encode(&batch[1], &mut one);
        assert_eq!(one, b"\"k,1\",1\n");
    }
}
