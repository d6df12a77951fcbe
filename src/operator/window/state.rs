//! The windows of one key: the window operator's state value.

use crate::state::{CodecError, StateCodec};
use smallvec::SmallVec;

/// One window of a key with its accumulator.
#[derive(Clone, Debug, PartialEq)]
pub struct Win<A> {
    /// Start (inclusive), ms.
    pub start: i64,
    /// End (exclusive), ms.
    pub end: i64,
    /// The window function's accumulator.
    pub acc: A,
}

impl<A> Win<A> {
    /// The window's last timestamp, `end - 1`: it fires when the watermark reaches it.
    pub fn max_timestamp(&self) -> i64 {
        self.end.saturating_sub(1)
    }
}

/// The windows of one key, in no particular order (few per key: one tumbling window per
/// pending period, `size / slide` sliding ones, the open sessions). Two are stored inline: a
/// tumbling window and the next one are open together while out-of-order records of the
/// first may still come, and a spilled vector costs an allocation and a cache miss per record.
#[derive(Clone, Debug, PartialEq)]
pub struct Windows<A>(pub SmallVec<[Win<A>; 2]>);

impl<A> Default for Windows<A> {
    fn default() -> Self {
        Windows(SmallVec::new())
    }
}

impl<A: StateCodec> StateCodec for Windows<A> {
    fn encode(&self, out: &mut Vec<u8>) {
        (self.0.len() as u32).encode(out);
        for w in &self.0 {
            w.start.encode(out);
            w.end.encode(out);
            w.acc.encode(out);
        }
    }

    fn decode(input: &mut &[u8]) -> Result<Self, CodecError> {
        let n = u32::decode(input)? as usize;
        let mut v = SmallVec::with_capacity(n.min(input.len()));
        for _ in 0..n {
            let (start, end) = (i64::decode(input)?, i64::decode(input)?);
            let acc = A::decode(input)?;
            v.push(Win { start, end, acc });
        }
        Ok(Windows(v))
    }
}
