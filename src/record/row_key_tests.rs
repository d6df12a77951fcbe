use super::*;
use crate::state::key_group::{key_group_of_hash, stable_hash_bytes};
use proptest::prelude::*;

// The definition the key groups of every checkpoint depend on (xxh3, seeded, of the
// concatenated canonical bytes, computed without `RowKey`) and the values to try.
use crate::record::key_hash::tests::{reference, value};

/// Bitwise value equality (floats by bit pattern, so that NaN keys compare).
fn same(a: &[Value], b: &[Value]) -> bool {
    let bytes = |vs: &[Value]| {
        let mut buf = Vec::new();
        for v in vs {
            v.canonical_bytes(&mut buf);
        }
        buf
    };
    bytes(a) == bytes(b)
}

proptest! {
    #[test]
    fn hash_and_key_group_equal_the_canonical_definition(
        values in proptest::collection::vec(value(), 0..4),
    ) {
        let key = RowKey::from_values(&values);
        prop_assert_eq!(key.stable_hash(), reference(&values));
        prop_assert_eq!(
            key_group_of_hash(key.stable_hash(), 128),
            key_group_of_hash(reference(&values), 128)
        );
        prop_assert!(same(&key.values().collect::<Vec<_>>(), &values));
    }

    #[test]
    fn one_field_of_a_row_equals_the_general_path(v in value(), pad in value()) {
        let row: Row = [pad.clone(), v.clone(), pad].into_iter().collect();
        let key = RowKey::from_fields(&row, &[1]);
        prop_assert_eq!(&key, &RowKey::from_values(std::slice::from_ref(&v)));
        prop_assert_eq!(key.stable_hash(), reference(std::slice::from_ref(&v)));
    }

    #[test]
    fn equal_exactly_when_the_canonical_bytes_are(
        a in proptest::collection::vec(value(), 0..3),
        b in proptest::collection::vec(value(), 0..3),
    ) {
        let (ka, kb) = (RowKey::from_values(&a), RowKey::from_values(&b));
        prop_assert_eq!(ka == kb, same(&a, &b));
        prop_assert!(ka == ka.clone());
    }
}

#[test]
fn strings_at_the_inline_boundary_and_beyond() {
    for n in [0, 1, 16, 17, INLINE - 5, INLINE - 4, 100, 300] {
        let s = "k".repeat(n);
        let v = [Value::Str(s.as_str().into())];
        let key = RowKey::from_values(&v);
        assert_eq!(key.stable_hash(), reference(&v), "length {n}");
        assert_eq!(key.canonical_bytes().len(), 5 + n);
        assert!(matches!(key.bytes, Bytes::Inline { .. }) == (5 + n <= INLINE));
        assert_eq!(key.values().collect::<Vec<_>>(), v);
        let mut row = Row::new();
        key.append_to(&mut row);
        assert_eq!(row.as_slice(), &v);
        assert_eq!(RowKey::from_canonical(key.canonical_bytes()), key);
    }
}

#[test]
fn a_known_key_keeps_its_hash_and_the_key_is_56_bytes() {
    // Pinned: key groups of existing checkpoints depend on this value.
    let key = RowKey::from_values(&[Value::Str("7535".into())]);
    let mut canonical = vec![3u8, 4, 0, 0, 0];
    canonical.extend_from_slice(b"7535");
    assert_eq!(key.stable_hash(), stable_hash_bytes(&canonical));
    assert_eq!(key.canonical_bytes(), canonical);
    assert_eq!(std::mem::size_of::<RowKey>(), 56);
}

#[test]
fn a_missing_field_is_null_and_the_empty_key_has_no_values() {
    let row: Row = [Value::I64(1)].into_iter().collect();
    assert_eq!(
        RowKey::from_fields(&row, &[0, 5])
            .values()
            .collect::<Vec<_>>(),
        [Value::I64(1), Value::Null]
    );
    assert_eq!(RowKey::default().values().count(), 0);
    assert_eq!(RowKey::default(), RowKey::from_values(&[]));
}

#[test]
fn std_hash_agrees_with_equality() {
    use std::collections::HashMap;
    let mut m = HashMap::new();
    m.insert(RowKey::from_values(&[Value::Str("a".into())]), 1);
    m.insert(RowKey::from_values(&[Value::I64(1)]), 2);
    assert_eq!(
        m.get(&RowKey::from_values(&[Value::Str("a".into())])),
        Some(&1)
    );
    assert_eq!(m.get(&RowKey::from_values(&[Value::I64(1)])), Some(&2));
    assert_eq!(m.get(&RowKey::from_values(&[Value::Ts(1)])), None);
}
