//! Tests of [`super::Cursor`]: every write against the `Vec` appends it replaces.

use super::{Cursor, MAX_SCALAR};
use proptest::prelude::*;

/// Writes `pieces` (each with room ensured first) after `prefix`, in a vector of capacity
/// `cap`, through a cursor.
fn via_cursor(prefix: &[u8], cap: usize, pieces: &[Vec<u8>]) -> Vec<u8> {
    let mut v = Vec::with_capacity(cap);
    v.extend_from_slice(prefix);
    let mut c = Cursor::new(&mut v);
    for p in pieces {
        c.ensure(p.len());
        // SAFETY: room for `p` was just ensured.
        unsafe { c.bytes(p) };
    }
    drop(c);
    v
}

#[test]
fn bytes_of_every_length_up_to_40_at_the_capacity_edge() {
    let src: Vec<u8> = (1..=40).collect();
    for n in 0..=40 {
        for prefix in 0..3 {
            // Capacity exactly prefix + n: the short copies must stay inside the piece.
            let out = via_cursor(&src[..prefix], prefix + n, &[src[..n].to_vec()]);
            let mut want = src[..prefix].to_vec();
            want.extend_from_slice(&src[..n]);
            assert_eq!(out, want, "n={n} prefix={prefix}");
        }
    }
}

proptest! {
    #[test]
    fn pieces_append_as_extend_from_slice_does(
        prefix in proptest::collection::vec(any::<u8>(), 0..10),
        pieces in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 0..12),
        cap in 0usize..64,
    ) {
        let want: Vec<u8> = prefix.iter().chain(pieces.iter().flatten()).copied().collect();
        prop_assert_eq!(via_cursor(&prefix, cap, &pieces), want);
    }

    #[test]
    fn integers_as_to_string(v in any::<i64>(), small in -1000i64..1000, mid in -20_000i64..20_000) {
        for v in [v, small, mid] {
            let mut out = b"x".to_vec();
            let mut c = Cursor::new(&mut out);
            c.ensure(20);
            // SAFETY: 20 bytes of room for an i64.
            unsafe { c.i64(v) };
            drop(c);
            prop_assert_eq!(out, format!("x{v}").into_bytes());
        }
    }

    #[test]
    fn floats_as_ryu_buffer(bits in any::<u64>()) {
        let v = f64::from_bits(bits);
        prop_assume!(v.is_finite());
        let mut out = Vec::new();
        let mut c = Cursor::new(&mut out);
        c.ensure(MAX_SCALAR);
        // SAFETY: MAX_SCALAR bytes of room for a finite f64.
        unsafe { c.f64_finite(v) };
        drop(c);
        let mut want = ryu::Buffer::new();
        prop_assert_eq!(out, want.format_finite(v).as_bytes());
    }
}

#[test]
fn integer_edges() {
    for v in [
        0,
        9,
        10,
        99,
        100,
        999,
        1000,
        i64::MAX,
        i64::MIN,
        -1,
        -10,
        -100,
        10i64.pow(18),
        10i64.pow(18) - 1,
    ] {
        let mut out = Vec::new();
        let mut c = Cursor::new(&mut out);
        c.ensure(20);
        // SAFETY: 20 bytes of room for an i64.
        unsafe { c.i64(v) };
        drop(c);
        assert_eq!(out, v.to_string().into_bytes());
    }
    // u64 beyond i64 (digit count 20).
    let mut out = Vec::new();
    let mut c = Cursor::new(&mut out);
    c.ensure(20);
    // SAFETY: 20 bytes of room.
    unsafe { c.u64(u64::MAX) };
    drop(c);
    assert_eq!(out, u64::MAX.to_string().into_bytes());
}

#[test]
fn with_vec_and_written_since_see_the_written_bytes() {
    let mut out = b"ab".to_vec();
    let mut c = Cursor::new(&mut out);
    c.ensure(4);
    // SAFETY: 4 bytes of room.
    unsafe { c.bytes(b"cd") };
    assert_eq!(c.written_since(1), b"bcd");
    c.with_vec(|v| v.extend_from_slice(b"ef"));
    assert_eq!(c.len(), 6);
    c.ensure(1);
    // SAFETY: 1 byte of room.
    unsafe { c.byte(b'g') };
    drop(c);
    assert_eq!(out, b"abcdefg");
}

#[test]
fn float_edges_as_ryu_buffer() {
    // Around the switch to exponent form (10¹⁶), the extremes, subnormals, and the means and
    // ratios the rolling and window aggregates write.
    let mut values = vec![
        0.0,
        -0.0,
        1.0,
        0.1,
        1e15,
        9_999_999_999_999_998.0,
        1e16,
        -1e16,
        1.2345678901234567e16,
        1e22,
        1e100,
        -1.5e300,
        f64::MAX,
        f64::MIN,
        f64::MIN_POSITIVE,
        5e-324,
        -5e-324,
        1e-5,
        1e-6,
        1e-7,
        123_456_789.0,
    ];
    values.extend((1..2_000).map(|i| f64::from(i * 7919 % 100_003) / f64::from(i % 97 + 1)));
    for v in values {
        let mut out = Vec::new();
        let mut c = Cursor::new(&mut out);
        c.ensure(MAX_SCALAR);
        // SAFETY: MAX_SCALAR bytes of room for a finite f64.
        unsafe { c.f64_finite(v) };
        drop(c);
        assert_eq!(
            String::from_utf8(out).expect("ascii"),
            ryu::Buffer::new().format_finite(v),
            "{v:e}"
        );
    }
}
