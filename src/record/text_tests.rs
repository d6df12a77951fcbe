//! Tests of [`Text`]: against `String` as the oracle (proptest), its free list, and the
//! 16-byte layout of `Value`.

use super::text::Text;
use super::text_pool::{pooled, MAX_BUFFER};
use super::Value;
use compact_str::CompactString;
use proptest::prelude::*;
use std::hash::BuildHasher;

/// Strings of 0..100 chars of 1- to 4-byte UTF-8 (so byte lengths 0..400, both sides of
/// the inline limit).
fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            any::<u8>().prop_map(|b| char::from(b & 0x7f)),
            Just('é'),
            Just('€'),
            Just('😀')
        ],
        0..100,
    )
    .prop_map(|cs| cs.into_iter().collect())
}

fn same_hash(t: &Text, s: &str) -> bool {
    let state = std::hash::RandomState::new();
    state.hash_one(t) == state.hash_one(s)
}

proptest! {
    #[test]
    fn text_behaves_like_string(a in text(), b in text(), c in text()) {
        let ta = Text::new(&a);
        let tb = Text::from(b.clone());
        prop_assert_eq!(ta.as_str(), a.as_str());
        prop_assert_eq!(tb.as_str(), b.as_str());
        prop_assert_eq!(ta.is_heap_allocated(), a.len() > Text::INLINE);
        prop_assert_eq!(ta == tb, a == b);
        prop_assert_eq!(ta.cmp(&tb), a.cmp(&b));
        prop_assert_eq!(ta.partial_cmp(&tb), a.partial_cmp(&b));
        prop_assert!(same_hash(&ta, &a));
        prop_assert_eq!(&*ta.to_compact(), a.as_str());
        let from_compact = Text::from(CompactString::new(&c));
        prop_assert_eq!(from_compact.as_str(), c.as_str());

        // set / clone / clone_from keep the string, whatever the buffers were before.
        let mut tc = ta.clone();
        prop_assert_eq!(&tc, &ta);
        tc.set(&c);
        prop_assert_eq!(tc.as_str(), c.as_str());
        prop_assert_eq!(ta.as_str(), a.as_str());
        let mut td = tb.clone();
        td.clone_from(&tc);
        prop_assert_eq!(td.as_str(), c.as_str());
        prop_assert_eq!(&td, &tc);
        prop_assert!(same_hash(&td, &c));
        td.set(&a);
        // A heap text reused for a short string still equals the inline one.
        prop_assert_eq!(td == ta, true);
        prop_assert_eq!(td.cmp(&ta), std::cmp::Ordering::Equal);
        drop(tc);
        drop(ta);
        prop_assert_eq!(tb.as_str(), b.as_str());
        prop_assert_eq!(td.as_str(), a.as_str());

        // The canonical bytes (key hash, checkpoints) are the string's.
        let mut bytes = Vec::new();
        Value::Str(td).canonical_bytes(&mut bytes);
        let mut want = vec![3u8];
        want.extend_from_slice(&(a.len() as u32).to_le_bytes());
        want.extend_from_slice(a.as_bytes());
        prop_assert_eq!(bytes, want);
    }

    #[test]
    fn values_round_trip_through_rows(a in text(), n in any::<i64>()) {
        let mut row = super::Row::new();
        row.push(Value::Str(Text::new(&a)));
        row.push(Value::I64(n));
        row.push(Value::Null);
        row.push(Value::F64(n as f64));
        row.push(Value::Ts(n));
        let copy = row.clone();
        prop_assert_eq!(&copy, &row);
        prop_assert_eq!(&row[0], &Value::Str(a.as_str().into()));
        prop_assert_eq!(&row[1], &Value::I64(n));
        prop_assert_eq!(&row[2], &Value::Null);
        prop_assert_eq!(&row[4], &Value::Ts(n));
        prop_assert!(!row.spilled());
    }
}

#[test]
fn value_and_row_sizes() {
    assert_eq!(std::mem::size_of::<Value>(), 16);
    assert_eq!(std::mem::size_of::<Option<Value>>(), 16);
    assert_eq!(std::mem::size_of::<super::Row>(), 136);
}

#[test]
fn short_texts_stay_inline_and_long_ones_reuse_a_dropped_buffer() {
    let short = Text::new("abc");
    assert!(!short.is_heap_allocated());
    assert!(!Text::new(&"s".repeat(Text::INLINE)).is_heap_allocated());
    let long = "x".repeat(40);
    let a = Text::new(&long);
    assert!(a.is_heap_allocated());
    let before = pooled();
    drop(a);
    assert_eq!(pooled(), before + 1);
    let b = Text::new(&"y".repeat(33));
    assert_eq!(pooled(), before);
    assert_eq!(b.as_str(), "y".repeat(33));
    let c = b.clone();
    assert_eq!(pooled(), before);
    assert_eq!(c, b);
    assert_eq!(&*c, "y".repeat(33));
}

#[test]
fn set_reuses_the_own_buffer_and_grows_when_needed() {
    let mut t = Text::new(&"a".repeat(30));
    t.set("bc");
    assert_eq!(t.as_str(), "bc");
    assert!(t.is_heap_allocated());
    t.set(&"d".repeat(200));
    assert_eq!(t.as_str(), "d".repeat(200));
    let mut u = Text::new("z");
    u.clone_from(&t);
    assert_eq!(u, t);
    let mut v = Text::new("abc");
    v.set("é€");
    assert_eq!(v.as_str(), "é€");
    assert!(!v.is_heap_allocated());
}

#[test]
fn huge_buffers_are_freed_not_kept() {
    let before = pooled();
    drop(Text::new(&"h".repeat(MAX_BUFFER + 1)));
    assert_eq!(pooled(), before);
}

#[test]
fn buffers_dropped_on_another_thread_go_to_that_threads_list() {
    let texts: Vec<Text> = (0..10).map(|i| Text::new(&"q".repeat(20 + i))).collect();
    let before = pooled();
    let (there, reused) = std::thread::spawn(move || {
        let n = pooled();
        drop(texts);
        let after = pooled() - n;
        let t = Text::new(&"r".repeat(25));
        (after, t)
    })
    .join()
    .expect("thread runs");
    assert_eq!(there, 10);
    assert_eq!(pooled(), before);
    assert_eq!(reused.as_str(), "r".repeat(25));
    drop(reused);
    assert_eq!(pooled(), before + 1);
}

#[test]
fn order_and_equality_follow_the_string() {
    let long = |c: &str| Text::new(&c.repeat(30));
    assert!(long("a") < long("b"));
    assert!(Text::new("a") < long("a"));
    assert_eq!(Text::new("k"), "k");
    assert_eq!(Text::default(), "");
    assert_eq!(Text::from(String::from("é")).as_str(), "é");
}

#[test]
fn a_lent_pool_makes_and_releases_texts_as_new_and_drop_do() {
    let long = "p".repeat(Text::INLINE + 5);
    let t = Text::new(&long);
    let p = t.as_str().as_ptr();
    drop(t);
    let mut made = Vec::new();
    Text::with_pool(|pool| {
        made.push(pool.text("short"));
        made.push(pool.text(&long));
    });
    assert!(made[0] == Text::new("short") && !made[0].is_heap_allocated());
    assert_eq!(made[1].as_str(), long);
    assert_eq!(made[1].as_str().as_ptr(), p, "taken from the free list");
    Text::with_pool(|pool| made.iter_mut().for_each(|t| pool.release(t)));
    assert!(!made[1].is_heap_allocated() && made[1].as_str().is_empty());
    assert_eq!(made[0].as_str(), "short", "an inline text is left as it is");
    assert_eq!(Text::new(&long).as_str().as_ptr(), p, "given back");
}
