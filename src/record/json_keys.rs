//! The JSON decoder's schema field lookup by a key's bytes (issue 10, step 4).
//!
//! The flat scan ([`super::json_flat`]) meets each key of a line and asks which schema field it
//! names. Comparing the key with each field's `String` cost a length check and a `memcmp` call
//! per candidate (178 instructions per 3-key line, PERF.md "Issue 10, step 3"). Here the names
//! are prepared once: a key of at most 8 bytes is compared as one masked little-endian word
//! read straight from the line (the closing quote and whatever follows keep the read in bounds;
//! near the end of the line the bytes are gathered one by one), longer keys by their bytes.

use super::Field;

/// One schema field name, prepared for comparison.
#[derive(Clone, Debug)]
struct Key {
    /// The name's bytes.
    name: Box<[u8]>,
    /// The first (up to) 8 bytes as a little-endian word, zero above the name's length.
    word: u64,
}

/// The bytes before a field's value in a compact object (no whitespace): `{"name":` for the
/// first field, `,"name":` for the others; compared as two masked words when ≤ 16 bytes.
#[derive(Clone, Debug)]
struct Prefix {
    bytes: Box<[u8]>,
    words: [u64; 2],
    masks: [u64; 2],
}

impl Prefix {
    fn new(first: bool, name: &str) -> Self {
        let bytes: Box<[u8]> = [
            if first { &b"{\""[..] } else { b",\"" },
            name.as_bytes(),
            b"\":",
        ]
        .concat()
        .into();
        let mut words = [0u64; 2];
        let mut masks = [0u64; 2];
        for (j, &c) in bytes.iter().take(16).enumerate() {
            words[j / 8] |= u64::from(c) << (8 * (j % 8));
            masks[j / 8] |= 0xFF << (8 * (j % 8));
        }
        Prefix {
            bytes,
            words,
            masks,
        }
    }
}

/// The schema's field names, prepared for lookup by a key's bytes.
#[derive(Clone, Debug)]
pub(super) struct FieldKeys {
    /// In schema order.
    keys: Vec<Key>,
    /// The compact prefixes of the fields, in schema order.
    prefixes: Vec<Prefix>,
}

/// The little-endian word of `b` (at most 8 bytes), zero-padded.
fn word_of(b: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    let n = b.len().min(8);
    w[..n].copy_from_slice(&b[..n]);
    u64::from_le_bytes(w)
}

/// The `len ≤ 8` bytes of `line` at `start` as a zero-padded little-endian word.
#[inline(always)]
fn word_at(line: &[u8], start: usize, len: usize) -> u64 {
    match line.get(start..start + 8) {
        Some(eight) => {
            let mut w = [0u8; 8];
            w.copy_from_slice(eight);
            let w = u64::from_le_bytes(w);
            // `len` is at most 8 (all kept); `len == 0` keeps nothing.
            w & u64::MAX.checked_shr(64 - 8 * len as u32).unwrap_or(0)
        }
        None => word_of(line.get(start..start + len).unwrap_or_default()),
    }
}

impl FieldKeys {
    /// The names of `fields`, in order.
    pub(super) fn new(fields: &[Field]) -> Self {
        let keys = fields
            .iter()
            .map(|f| Key {
                name: f.name.as_bytes().into(),
                word: word_of(f.name.as_bytes()),
            })
            .collect();
        let prefixes = fields
            .iter()
            .enumerate()
            .map(|(f, field)| Prefix::new(f == 0, &field.name))
            .collect();
        FieldKeys { keys, prefixes }
    }

    /// Whether the compact prefix of field `f` (`{"name":` or `,"name":`) is at `i` in `line`:
    /// the index after it.
    #[inline(always)]
    pub(super) fn compact_prefix(&self, f: usize, line: &[u8], i: usize) -> Option<usize> {
        let p = self.prefixes.get(f)?;
        let n = p.bytes.len();
        if n <= 16 {
            if let Some(sixteen) = line.get(i..i + 16) {
                let mut lo = [0u8; 8];
                let mut hi = [0u8; 8];
                lo.copy_from_slice(&sixteen[..8]);
                hi.copy_from_slice(&sixteen[8..]);
                let same = u64::from_le_bytes(lo) & p.masks[0] == p.words[0]
                    && u64::from_le_bytes(hi) & p.masks[1] == p.words[1];
                return same.then_some(i + n);
            }
        }
        (line.get(i..i + n)? == &p.bytes[..]).then_some(i + n)
    }

    /// Whether field `f` is named by the `len` bytes of `line` at `start`.
    #[inline(always)]
    pub(super) fn is(&self, f: usize, line: &[u8], start: usize, len: usize) -> bool {
        let Some(k) = self.keys.get(f) else {
            return false;
        };
        if k.name.len() != len {
            return false;
        }
        if len <= 8 {
            k.word == word_at(line, start, len)
        } else {
            line.get(start..start + len) == Some(&k.name[..])
        }
    }

    /// The schema field named by the `len` bytes of `line` at `start`: tried first at `*next`
    /// (keys usually come in schema order), then among all; `*next` moves past a match.
    #[inline(always)]
    pub(super) fn find(
        &self,
        line: &[u8],
        start: usize,
        len: usize,
        next: &mut usize,
    ) -> Option<usize> {
        let found = if self.is(*next, line, start, len) {
            Some(*next)
        } else {
            (0..self.keys.len()).find(|&f| self.is(f, line, start, len))
        };
        if let Some(f) = found {
            *next = f + 1;
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::FieldType;
    use proptest::prelude::*;

    fn keys(names: &[String]) -> FieldKeys {
        let fields: Vec<Field> = names
            .iter()
            .map(|n| Field {
                name: n.clone(),
                ty: FieldType::I64,
            })
            .collect();
        FieldKeys::new(&fields)
    }

    proptest! {
        /// Same answer as comparing the key's text with each name, wherever the key sits in
        /// the line (at its end too, where fewer than 8 bytes follow).
        #[test]
        fn find_agrees_with_string_compare(
            names in proptest::collection::vec("[ab]{0,10}", 0..5),
            key in "[ab]{0,10}",
            before in "[ab\"]{0,3}",
            after in "[ab\"]{0,9}",
            next in 0usize..6,
        ) {
            let line = format!("{before}{key}{after}");
            let fk = keys(&names);
            let mut n = next;
            let got = fk.find(line.as_bytes(), before.len(), key.len(), &mut n);
            let want = if names.get(next) == Some(&key) {
                Some(next)
            } else {
                names.iter().position(|name| *name == key)
            };
            prop_assert_eq!(got, want);
            prop_assert_eq!(n, want.map_or(next, |f| f + 1));
        }
    }

    proptest! {
        /// The word compare agrees with comparing the bytes, wherever the prefix sits.
        #[test]
        fn compact_prefix_agrees_with_bytes(
            names in proptest::collection::vec("[ab]{0,14}", 1..3),
            f in 0usize..3,
            line in "[{,\"ab:]{0,40}",
            i in 0usize..42,
        ) {
            let fk = keys(&names);
            let want = names.get(f).and_then(|name| {
                let p = format!("{}\"{name}\":", if f == 0 { "{" } else { "," });
                line.as_bytes().get(i..i + p.len()).filter(|b| *b == p.as_bytes()).map(|_| i + p.len())
            });
            prop_assert_eq!(fk.compact_prefix(f, line.as_bytes(), i), want);
        }
    }

    #[test]
    fn short_and_long_names() {
        let names: Vec<String> = ["ts", "key", "value", "a_long_field_name", "exactly8"]
            .map(String::from)
            .to_vec();
        let fk = keys(&names);
        let line = br#"{"ts":1,"a_long_field_name":2,"exactly8":3,"k":4,"key"#;
        let mut next = 0;
        assert_eq!(fk.find(line, 2, 2, &mut next), Some(0));
        assert_eq!(fk.find(line, 9, 17, &mut next), Some(3));
        assert_eq!(fk.find(line, 31, 8, &mut next), Some(4));
        assert_eq!(fk.find(line, 44, 1, &mut next), None);
        // "key" at the very end of the line: fewer than 8 bytes left.
        assert_eq!(fk.find(line, line.len() - 3, 3, &mut next), Some(1));
    }
}
