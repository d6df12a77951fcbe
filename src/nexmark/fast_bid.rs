//! Bids straight to rows: the same draws as [`super::generate`]'s bid, in the same order,
//! without the intermediate [`super::model::Bid`]. Channel names and URLs come from tables of
//! ready row values (built once; a URL is a reference to the static table, so cloning it
//! allocates nothing), and the extra is decoded into a stack buffer two characters at a time
//! (`nexmark::exact`), so that a bid costs one allocation: its extra.

use super::channels::{tables, HOT_CHANNELS};
use super::config::FIRST_PERSON_ID;
use super::config::{last_auction, last_person, Mode, NexmarkConfig, FIRST_AUCTION_ID};
use super::draws::{next_base0_auction_id, next_base0_person_id, next_price};
use super::exact::fill_exact;
use super::random::{JavaRandom, JavaRng};
use crate::record::{Row, Value};
use compact_str::CompactString;
use std::sync::OnceLock;

/// Group size of hot auctions and bidders.
const HOT_GROUP: i64 = 100;
/// Longest bid extra: `nextExtra(32, 100)` is 54..=81 chars.
const MAX_EXTRA: usize = 128;
/// Fields of a bid row (the eighth slot of the inline buffer is unused).
const BID_FIELDS: usize = 7;

/// Channel names and URLs as row values.
struct Values {
    hot: Vec<(Value, Value)>,
    other: Vec<(Value, Value)>,
}

fn values() -> &'static Values {
    static VALUES: OnceLock<Values> = OnceLock::new();
    VALUES.get_or_init(|| {
        let t = tables();
        let s = |x: &str| Value::Str(x.into());
        // The tables live for the whole process: their URLs are row values that point into
        // them, whose clones copy the reference.
        let url = |u: &'static String| Value::Str(CompactString::const_new(u.as_str()).into());
        Values {
            hot: HOT_CHANNELS
                .iter()
                .zip(&t.hot_urls)
                .map(|(c, u)| (s(c), url(u)))
                .collect(),
            other: t
                .urls
                .iter()
                .enumerate()
                .map(|(c, u)| (s(&format!("channel-{c}")), url(u)))
                .collect(),
        }
    })
}

/// The bid of event count `k` as a row (`k` must be a bid: see [`super::config::kind_of`]).
pub fn bid_row(config: &NexmarkConfig, k: u64) -> Row {
    let e = config.event_id(k);
    let t = config.timestamp(config.event_number(k));
    let rng = &mut JavaRandom::new(e);
    let auction = if rng.next_int_below(2) > 0 {
        (last_auction(e) / HOT_GROUP) * HOT_GROUP
    } else {
        next_base0_auction_id(rng, e)
    } + FIRST_AUCTION_ID;
    let bidder = if rng.next_int_below(4) > 0 {
        (last_person(e) / HOT_GROUP) * HOT_GROUP + 1
    } else {
        next_base0_person_id(rng, e)
    } + match config.mode {
        Mode::Beam => FIRST_PERSON_ID,
        Mode::Flink => 2 * FIRST_PERSON_ID,
    };
    let price = next_price(rng);
    let (channel, url) = match config.mode {
        Mode::Beam => (Value::Null, Value::Null),
        Mode::Flink => channel_and_url(rng),
    };
    let fields: [Value; BID_FIELDS] = [
        Value::I64(auction),
        Value::I64(bidder),
        Value::I64(price),
        channel,
        url,
        Value::Ts(t),
        Value::Str(extra(rng).into()),
    ];
    // Whatever the row's inline capacity (≥ BID_FIELDS): no padding values to match it.
    let mut row = Row::new();
    for v in fields {
        row.push(v);
    }
    row
}

fn channel_and_url(rng: &mut JavaRandom) -> (Value, Value) {
    let v = values();
    let pick = |list: &[(Value, Value)], i: i32| {
        list.get(i as usize)
            .cloned()
            .unwrap_or((Value::Null, Value::Null))
    };
    if rng.next_int_below(2) > 0 {
        let i = rng.next_int_below(v.hot.len() as i32);
        pick(&v.hot, i)
    } else {
        let c = rng.next_int_below(v.other.len() as i32);
        pick(&v.other, c)
    }
}

/// `nextExtra(32, 100)` (NEXMARK.md §4): `nextExactString(54 + nextInt(28))`.
fn extra(rng: &mut JavaRandom) -> CompactString {
    let (d, delta) = (100 - 32, 14);
    let len = (d - delta + rng.next_int_below(2 * delta)) as usize;
    let mut buf = [0u8; MAX_EXTRA];
    let text = &mut buf[..len.min(MAX_EXTRA)];
    fill_exact(rng, text);
    ascii_string(text)
}

/// The string of `text`, written whole by [`fill_exact`], without a UTF-8 check (160
/// instructions per bid).
#[allow(unsafe_code)]
fn ascii_string(text: &[u8]) -> CompactString {
    const { assert!(super::exact::WRITES_ONLY_ASCII) };
    debug_assert!(text.is_ascii());
    // SAFETY: every byte of `text` was written by `fill_exact`, which writes only bytes of
    // its pair tables; `WRITES_ONLY_ASCII` (asserted above, at compile time) checks that
    // they are all ASCII letters and punctuation `b'H'..=b'z'`, and ASCII is valid UTF-8.
    unsafe { CompactString::from_utf8_unchecked(text) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nexmark::config::{kind_of, Kind};
    use crate::nexmark::generate::event;
    use crate::nexmark::rows::row_of;

    #[test]
    fn fast_bids_equal_the_generator_bids_in_both_modes() {
        for mode in [Mode::Beam, Mode::Flink] {
            let config = NexmarkConfig::new(mode, 30_000);
            let mut seen = 0;
            for k in 0..30_000 {
                if kind_of(config.event_id(k)) == Kind::Bid {
                    assert_eq!(
                        bid_row(&config, k),
                        row_of(event(&config, k)),
                        "{mode:?} {k}"
                    );
                    seen += 1;
                }
            }
            assert_eq!(seen, 30_000 / 50 * 46);
        }
    }
}
