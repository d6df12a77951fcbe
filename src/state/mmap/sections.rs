//! Checkpoint sections of the mmap backend: the heap backend's format, byte for byte per
//! entry, so that checkpoints restore into either backend.

use super::cache::{EntryRef, Val};
use super::store::{Item, MmapMaps};
use crate::state::expiry::Clock;
use crate::state::groups::{TAG_PLAIN, TAG_TIMED};
use crate::state::{CodecError, StateCodec};

impl<K: Eq + Clone, V> MmapMaps<K, V> {
    /// Appends the checkpoint section of key group `kg` (entries live at `clock`) to `out`;
    /// returns the number of entries (the heap backend's format, byte for byte per entry;
    /// event time: entries stamped before the first watermark take its stamp).
    pub(crate) fn snapshot_group(&self, kg: u16, clock: Clock, out: &mut Vec<u8>) -> usize {
        if !self.range.contains(&kg) {
            return 0;
        }
        let start = out.len();
        out.push(if self.ttl.is_some() {
            TAG_TIMED
        } else {
            TAG_PLAIN
        });
        out.extend_from_slice(&0u32.to_le_bytes());
        let mut n = 0usize;
        self.visit(
            (kg - self.range.start) as usize,
            Some(clock),
            |_, _, item| {
                n += 1;
                match item {
                    Item::Cached(e) => self.encode_entry(e, Some(clock), out),
                    Item::Stored(b) => self.copy_stored(b, clock, out),
                }
            },
        );
        if n == 0 {
            out.truncate(start);
        } else {
            let count = u32::try_from(n).unwrap_or(u32::MAX);
            out[start + 1..start + 5].copy_from_slice(&count.to_le_bytes());
        }
        n
    }

    /// Appends `key, [ts], [value]` of a stored entry, its timestamp stamped by `clock`.
    fn copy_stored(&self, b: &[u8], clock: Clock, out: &mut Vec<u8>) {
        let mut rest = b;
        if self.ttl.is_none() || (self.codec.dec_k)(&mut rest).is_err() {
            return out.extend_from_slice(b);
        }
        let key_len = b.len() - rest.len();
        match u64::decode(&mut rest) {
            Ok(ts) if clock.stamp(ts) != ts => {
                out.extend_from_slice(&b[..key_len]);
                clock.stamp(ts).encode(out);
                out.extend_from_slice(rest);
            }
            _ => out.extend_from_slice(b),
        }
    }

    /// Appends `key, [ts], [value]` of a cached entry (the timestamp stamped by `clock`, when
    /// given: a checkpoint section; as stored otherwise: a run).
    pub(super) fn encode_entry(
        &self,
        e: EntryRef<'_, K, V>,
        clock: Option<Clock>,
        out: &mut Vec<u8>,
    ) {
        (self.codec.enc_k)(e.key, out);
        if self.ttl.is_some() {
            let ts = e.val.ts.get();
            clock.map_or(ts, |c| c.stamp(ts)).encode(out);
        }
        if let Some(v) = &e.val.value {
            (self.codec.enc_v)(v, out);
        }
    }

    /// Adds the entries of a checkpoint section of key group `kg`; all or nothing.
    ///
    /// # Errors
    /// As the heap backend: `kg` not owned, bytes that do not decode, another TTL mode.
    pub(crate) fn restore_group(&mut self, kg: u16, bytes: &[u8]) -> Result<(), CodecError> {
        if !self.range.contains(&kg) {
            return Err(CodecError::Invalid("key group outside this worker's range"));
        }
        let lg = (kg - self.range.start) as usize;
        for (key, hash, val) in self.decode_section(bytes)? {
            self.cache.put(lg, hash, key, val);
            self.maybe_flush();
        }
        Ok(())
    }

    /// Decodes a section into dirty entries.
    #[allow(clippy::type_complexity)]
    fn decode_section(&self, bytes: &[u8]) -> Result<Vec<(K, u64, Val<V>)>, CodecError> {
        let Some((&tag, mut input)) = bytes.split_first() else {
            return Ok(Vec::new());
        };
        match (tag, self.ttl.is_some()) {
            (TAG_PLAIN, false) | (TAG_TIMED, true) => {}
            (TAG_PLAIN, true) => return Err(CodecError::Invalid("section has no TTL timestamps")),
            (TAG_TIMED, false) => return Err(CodecError::Invalid("section has TTL timestamps")),
            _ => return Err(CodecError::Invalid("section tag")),
        }
        let n = u32::decode(&mut input)? as usize;
        let mut staged = Vec::with_capacity(n.min(input.len()));
        for _ in 0..n {
            let key = (self.codec.dec_k)(&mut input)?;
            let ts = match self.ttl {
                Some(_) => u64::decode(&mut input)?,
                None => 0,
            };
            let value = (self.codec.dec_v)(&mut input)?;
            let hash = (self.codec.hash_k)(&key);
            staged.push((key, hash, Val::new(Some(value), ts, true)));
        }
        if !input.is_empty() {
            return Err(CodecError::Invalid("trailing bytes after the last entry"));
        }
        Ok(staged)
    }
}
