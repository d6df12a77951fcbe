//! The keyed state of the two-input joins: each side's rows of one key, with a stamp.

use crate::record::state_codec::{decode_row, encode_row};
use crate::record::Row;
use crate::state::{CodecError, StateCodec};

/// A stored row and its stamp: its event time, or the time it was stored (for a TTL).
#[derive(Clone, Debug, PartialEq)]
pub struct Stamped {
    /// Event time or storage time, ms.
    pub stamp: i64,
    /// The row.
    pub row: Row,
}

/// The rows of both inputs of one key, in arrival order.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Sides {
    /// Rows of the first (left) input.
    pub left: Vec<Stamped>,
    /// Rows of the second (right) input.
    pub right: Vec<Stamped>,
}

impl Sides {
    /// Whether both sides are empty (the key's entry can go).
    pub fn is_empty(&self) -> bool {
        self.left.is_empty() && self.right.is_empty()
    }
}

/// `left` then `right`: a join's output row.
pub(crate) fn concat(left: &Row, right: &Row) -> Row {
    left.iter().chain(right.iter()).cloned().collect()
}

fn encode_side(side: &[Stamped], out: &mut Vec<u8>) {
    (side.len() as u32).encode(out);
    for s in side {
        s.stamp.encode(out);
        encode_row(&s.row, out);
    }
}

fn decode_side(input: &mut &[u8]) -> Result<Vec<Stamped>, CodecError> {
    let n = u32::decode(input)? as usize;
    let mut v = Vec::with_capacity(n.min(input.len()));
    for _ in 0..n {
        let stamp = i64::decode(input)?;
        v.push(Stamped {
            stamp,
            row: decode_row(input)?,
        });
    }
    Ok(v)
}

impl StateCodec for Sides {
    fn encode(&self, out: &mut Vec<u8>) {
        encode_side(&self.left, out);
        encode_side(&self.right, out);
    }

    fn decode(input: &mut &[u8]) -> Result<Self, CodecError> {
        Ok(Sides {
            left: decode_side(input)?,
            right: decode_side(input)?,
        })
    }
}
