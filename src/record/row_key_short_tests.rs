//! The one-value keys built as words (`row_key_short`) against the general path and the
//! canonical definition: the same bytes, the same hash, equal keys.

use super::*;
use crate::record::key_hash::tests::{reference, value};
use proptest::prelude::*;

/// The reference canonical bytes of `values` (`Value::canonical_bytes`, concatenated).
fn canonical(values: &[Value]) -> Vec<u8> {
    let mut buf = Vec::new();
    for v in values {
        v.canonical_bytes(&mut buf);
    }
    buf
}

/// Builds `v`'s key by the one-field path and checks it against the definition and the
/// general (multi-value) path.
fn check(v: &Value) -> Result<(), TestCaseError> {
    let values = std::slice::from_ref(v);
    let row: Row = [Value::I64(0), v.clone()].into_iter().collect();
    let fast = RowKey::from_fields(&row, &[1]);
    prop_assert_eq!(fast.canonical_bytes(), &canonical(values)[..]);
    prop_assert_eq!(fast.stable_hash(), reference(values));
    let general = RowKey::from_canonical(&canonical(values));
    prop_assert_eq!(&fast, &general);
    prop_assert_eq!(&RowKey::from_value(v), &general);
    prop_assert_eq!(fast.values().collect::<Vec<_>>().len(), 1);
    Ok(())
}

/// A string of `n` bytes (ASCII; `n` chosen by the caller).
fn ascii(n: usize, seed: u8) -> Value {
    let s: String = (0..n)
        .map(|i| (b'a' + ((usize::from(seed) + i) % 26) as u8) as char)
        .collect();
    Value::Str(s.as_str().into())
}

proptest! {
    #[test]
    fn any_value_as_a_one_field_key_equals_the_definition(v in value()) {
        check(&v)?;
    }

    #[test]
    fn short_strings_equal_the_definition(s in "[ -~]{0,16}") {
        check(&Value::Str(s.as_str().into()))?;
    }

    #[test]
    fn short_non_ascii_strings_equal_the_definition(s in "\\PC{0,7}") {
        check(&Value::Str(s.as_str().into()))?;
    }

    #[test]
    fn numbers_equal_the_definition(x in any::<i64>(), bits in any::<u64>()) {
        check(&Value::I64(x))?;
        check(&Value::Ts(x))?;
        check(&Value::F64(f64::from_bits(bits)))?;
    }

    #[test]
    fn one_field_keys_differ_when_their_values_do(a in value(), b in value()) {
        let (ka, kb) = (RowKey::from_value(&a), RowKey::from_value(&b));
        prop_assert_eq!(ka == kb, canonical(&[a]) == canonical(&[b]));
    }
}

#[test]
fn strings_of_every_length_around_the_limits() {
    // 0–15: inline texts (words); 16–41: inline keys from heap texts; 42+: heap keys.
    for n in (0..=50).chain([300]) {
        for seed in 0..3 {
            check(&ascii(n, seed)).unwrap();
        }
    }
    for n in [0usize, 15, 16, 46, 47, 300] {
        check(&ascii(n, 7)).unwrap();
    }
    // Non-ASCII at the inline text limit: 5 × 3 bytes, then 16 bytes.
    check(&Value::Str("€€€€€".into())).unwrap();
    check(&Value::Str("€€€€€é".into())).unwrap();
}

#[test]
fn the_edge_numbers_and_null() {
    for x in [0, 1, -1, i64::MIN, i64::MAX, 1 << 55, -(1 << 56)] {
        check(&Value::I64(x)).unwrap();
        check(&Value::Ts(x)).unwrap();
    }
    for f in [0.0, -0.0, f64::NAN, f64::INFINITY, f64::MIN_POSITIVE] {
        check(&Value::F64(f)).unwrap();
    }
    check(&Value::Null).unwrap();
}

#[test]
fn a_short_key_keeps_its_pinned_hash() {
    // Key groups of existing checkpoints depend on this value (as `key_hash`'s pinned test).
    let key = RowKey::from_value(&Value::Str("7535".into()));
    assert_eq!(
        key.stable_hash(),
        stable_hash_bytes(b"\x03\x04\x00\x00\x007535")
    );
}
