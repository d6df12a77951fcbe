//! [`StateCodec`] for values, rows and row keys, so that CLI pipelines can keep rows in state.
//! Encoding: one tag byte (0 null, 1 i64, 2 f64, 3 string, 4 timestamp) and the payload.
//! Changing it changes the checkpoint format: bump `checkpoint::FORMAT_VERSION`.

use super::{Row, RowKey, Text, Value};
use crate::state::{CodecError, StateCodec};

impl StateCodec for Value {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Value::Null => out.push(0),
            Value::I64(v) => {
                out.push(1);
                v.encode(out);
            }
            Value::F64(v) => {
                out.push(2);
                v.encode(out);
            }
            Value::Str(s) => {
                out.push(3);
                (s.len() as u32).encode(out);
                out.extend_from_slice(s.as_bytes());
            }
            Value::Ts(v) => {
                out.push(4);
                v.encode(out);
            }
        }
    }

    fn decode(input: &mut &[u8]) -> Result<Self, CodecError> {
        let tag = u8::decode(input)?;
        Ok(match tag {
            0 => Value::Null,
            1 => Value::I64(i64::decode(input)?),
            2 => Value::F64(f64::decode(input)?),
            3 => {
                let n = u32::decode(input)? as usize;
                if input.len() < n {
                    return Err(CodecError::Truncated);
                }
                let (s, rest) = input.split_at(n);
                *input = rest;
                let s = std::str::from_utf8(s).map_err(|_| CodecError::Invalid("utf-8"))?;
                Value::Str(Text::new(s))
            }
            4 => Value::Ts(i64::decode(input)?),
            _ => return Err(CodecError::Invalid("value tag")),
        })
    }
}

fn encode_values(values: &[Value], out: &mut Vec<u8>) {
    (values.len() as u16).encode(out);
    for v in values {
        v.encode(out);
    }
}

fn decode_count(input: &mut &[u8]) -> Result<usize, CodecError> {
    Ok(u16::decode(input)? as usize)
}

/// A key is encoded as it always was (a count, then each value as [`Value`] encodes it), which
/// is the count followed by the key's canonical bytes: written with one copy, and read back
/// by checking each value (tag, length, UTF-8) and copying the bytes.
impl StateCodec for RowKey {
    fn encode(&self, out: &mut Vec<u8>) {
        (self.values().count() as u16).encode(out);
        out.extend_from_slice(self.canonical_bytes());
    }

    fn decode(input: &mut &[u8]) -> Result<Self, CodecError> {
        let n = decode_count(input)?;
        let start = *input;
        for _ in 0..n {
            skip_value(input)?;
        }
        let used = start.len() - input.len();
        Ok(RowKey::from_canonical(&start[..used]))
    }
}

/// Checks the encoding of one value and moves `input` past it.
fn skip_value(input: &mut &[u8]) -> Result<(), CodecError> {
    let n = match u8::decode(input)? {
        0 => 0,
        1 | 2 | 4 => 8,
        3 => {
            let n = u32::decode(input)? as usize;
            let s = input.get(..n).ok_or(CodecError::Truncated)?;
            std::str::from_utf8(s).map_err(|_| CodecError::Invalid("utf-8"))?;
            n
        }
        _ => return Err(CodecError::Invalid("value tag")),
    };
    if input.len() < n {
        return Err(CodecError::Truncated);
    }
    *input = &input[n..];
    Ok(())
}

/// Rows are encoded like keys: a count, then the values.
pub fn encode_row(row: &Row, out: &mut Vec<u8>) {
    encode_values(row, out);
}

/// Decodes a row written by [`encode_row`].
///
/// # Errors
/// [`CodecError`] on truncated or invalid bytes.
pub fn decode_row(input: &mut &[u8]) -> Result<Row, CodecError> {
    let n = decode_count(input)?;
    let mut row = Row::new();
    for _ in 0..n {
        row.push(Value::decode(input)?);
    }
    Ok(row)
}

/// A list of rows: a `u32` count, then each row as [`encode_row`] writes it.
pub fn encode_rows(rows: &[Row], out: &mut Vec<u8>) {
    (rows.len() as u32).encode(out);
    for row in rows {
        encode_row(row, out);
    }
}

/// Decodes a list written by [`encode_rows`].
///
/// # Errors
/// [`CodecError`] on truncated or invalid bytes.
pub fn decode_rows(input: &mut &[u8]) -> Result<Vec<Row>, CodecError> {
    let n = u32::decode(input)? as usize;
    // Each row takes at least 2 bytes: never trust a count beyond the input.
    let mut rows = Vec::with_capacity(n.min(input.len() / 2));
    for _ in 0..n {
        rows.push(decode_row(input)?);
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_truncation() {
        let values = [
            Value::I64(-3),
            Value::F64(1.5),
            Value::Str("héllo".into()),
            Value::Ts(7),
            Value::Null,
        ];
        let key = RowKey::from_values(&values);
        // The format of earlier versions: a count, then each value's encoding.
        let mut old = Vec::new();
        encode_values(&values, &mut old);
        let mut buf = Vec::new();
        key.encode(&mut buf);
        assert_eq!(buf, old, "the checkpoint encoding of a key is unchanged");
        let mut input = &buf[..];
        assert_eq!(RowKey::decode(&mut input).unwrap(), key);
        assert!(input.is_empty());
        for cut in 0..buf.len() {
            let mut input = &buf[..cut];
            assert!(
                RowKey::decode(&mut input).is_err(),
                "cut at {cut} must fail"
            );
        }
        let mut bad = &[9u8][..];
        assert_eq!(
            Value::decode(&mut bad),
            Err(CodecError::Invalid("value tag"))
        );
    }

    #[test]
    fn row_lists_round_trip_and_refuse_truncation() {
        let row = |v: i64, s: &str| -> Row {
            [Value::I64(v), Value::Str(s.into())].into_iter().collect()
        };
        let rows = vec![row(1, "a"), row(-2, ""), row(3, "ccc")];
        let mut buf = Vec::new();
        encode_rows(&rows, &mut buf);
        let mut input = &buf[..];
        assert_eq!(decode_rows(&mut input).unwrap(), rows);
        assert!(input.is_empty());
        for cut in 0..buf.len() {
            assert!(
                decode_rows(&mut &buf[..cut]).is_err(),
                "cut at {cut} must fail"
            );
        }
        // A count far beyond the bytes fails without reserving for it.
        let mut huge = Vec::new();
        u32::MAX.encode(&mut huge);
        assert!(decode_rows(&mut &huge[..]).is_err());
    }
}
