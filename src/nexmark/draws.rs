//! Primitive draws of the generator (NEXMARK.md §4). The order of calls is the contract.

use super::config::{last_auction, last_person, NUM_ACTIVE_PEOPLE, NUM_IN_FLIGHT_AUCTIONS};
use super::random::JavaRng;

/// Shortest string `next_string` draws before trimming.
const MIN_STRING_LENGTH: i32 = 3;

/// `nextLong(n)` for `n > 0`: uniform on `0..n` (`n ≤ 0` yields 0).
pub fn next_long_below(rng: &mut impl JavaRng, n: i64) -> i64 {
    if n <= 0 {
        0
    } else if n < i64::from(i32::MAX) {
        i64::from(rng.next_int_below(n as i32))
    } else {
        (rng.next_long() % n).wrapping_abs()
    }
}

/// `nextPrice()`: log-uniform cents in `[100, 10^8]`.
pub fn next_price(rng: &mut impl JavaRng) -> i64 {
    price_of(6.0 * rng.next_double())
}

/// Largest distance from a rounding boundary (`n + 0.5`) at which [`price_of`] trusts its
/// fast path. For `x ≤ 6` the exponent `x·log₂10 ≤ 20` carries two roundings (of `log₂10` and
/// of the product), at most 2·20·2⁻⁵³ ≈ 4.4·10⁻¹⁵ absolute, so `2^exponent` is within a
/// relative 3.1·10⁻¹⁵ of `10^x`; `exp2`, `pow` and the `· 100` add an ulp or so each. At the
/// largest price (10⁸) the two results are thus within 4·10⁻⁷ of each other: beyond this
/// margin from a half, both round to the same integer.
const ROUNDING_MARGIN: f64 = 1e-6;

/// `round(10^x · 100)` as Java's `Math.round(Math.pow(10.0, x) * 100.0)` computes it. `pow`
/// costs about ten times `exp2`, so the price comes from `exp2` unless it lies within
/// [`ROUNDING_MARGIN`] of a half (about one price in 500,000), where `pow` decides.
fn price_of(x: f64) -> i64 {
    let fast = (x * std::f64::consts::LOG2_10).exp2() * 100.0;
    if (fast - fast.floor() - 0.5).abs() > ROUNDING_MARGIN {
        return fast.round() as i64;
    }
    (10f64.powf(x) * 100.0).round() as i64
}

/// `nextString(max, special)`: 3..max random letters (or `special` with P = 1/13), trimmed of
/// spaces at both ends.
pub fn next_string(rng: &mut impl JavaRng, max: i32, special: char) -> String {
    let len = MIN_STRING_LENGTH + rng.next_int_below(max - MIN_STRING_LENGTH);
    let mut s = String::with_capacity(len.max(0) as usize);
    for _ in 0..len {
        if rng.next_int_below(13) == 0 {
            s.push(special);
        } else {
            s.push(char::from(b'a' + rng.next_int_below(26) as u8));
        }
    }
    let trimmed = s.trim_matches(' ');
    if trimmed.len() == s.len() {
        s
    } else {
        trimmed.to_string()
    }
}

/// `nextExactString(len)`, v1: six chars in `'H'..='z'` per `nextInt()`.
pub fn next_exact_string(rng: &mut impl JavaRng, len: i32) -> String {
    let mut s = vec![0u8; len.max(0) as usize];
    super::exact::fill_exact(rng, &mut s);
    String::from_utf8(s).unwrap_or_default()
}

/// `nextExtra(cur, avg)`: padding so that a record of `cur` bytes averages `avg`.
pub fn next_extra(rng: &mut impl JavaRng, cur: i32, avg: i32) -> String {
    if cur > avg {
        return String::new();
    }
    let d = avg - cur;
    let delta = (f64::from(d) * 0.2).round() as i32;
    let size = d - delta
        + if delta == 0 {
            0
        } else {
            rng.next_int_below(2 * delta)
        };
    next_exact_string(rng, size)
}

/// `nextBase0PersonId(e)`: one of the newest active persons, or a few not yet created.
pub fn next_base0_person_id(rng: &mut impl JavaRng, e: i64) -> i64 {
    let n = last_person(e) + 1;
    let active = n.min(NUM_ACTIVE_PEOPLE);
    n - active + next_long_below(rng, active + 10)
}

/// `nextBase0AuctionId(e)`: one of the newest in-flight auctions, or a few not yet created.
pub fn next_base0_auction_id(rng: &mut impl JavaRng, e: i64) -> i64 {
    let hi = last_auction(e);
    let lo = (hi - NUM_IN_FLIGHT_AUCTIONS).max(0);
    lo + next_long_below(rng, hi - lo + 1 + 10)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nexmark::random::JavaRandom;

    #[test]
    fn exact_string_decodes_a_negative_int() {
        // §9.1: Random(0)'s first nextInt() is −1155484576, which decodes to "UO]S[N".
        assert_eq!(next_exact_string(&mut JavaRandom::new(0), 6), "UO]S[N");
    }

    /// The price as NEXMARK.md §4 writes it (`pow` always).
    fn pow_price(x: f64) -> i64 {
        (10f64.powf(x) * 100.0).round() as i64
    }

    #[test]
    fn fast_prices_equal_pow_prices() {
        let mut rng = JavaRandom::new(11);
        for _ in 0..1_000_000 {
            let x = 6.0 * rng.next_double();
            assert_eq!(price_of(x), pow_price(x), "{x}");
        }
        // Prices right at a half (100.5, 2 567.5, 99 999 999.5): the slow path decides.
        for half in [100.5f64, 2_567.5, 99_999_999.5] {
            let x = (half / 100.0).log10();
            for k in -3..=3 {
                let x = x + f64::from(k) * f64::EPSILON;
                assert_eq!(price_of(x), pow_price(x), "{half} {k}");
            }
        }
        assert_eq!((price_of(0.0), price_of(6.0)), (100, 100_000_000));
    }

    #[test]
    fn prices_and_strings_stay_in_range() {
        let mut rng = JavaRandom::new(7);
        for _ in 0..10_000 {
            let p = next_price(&mut rng);
            assert!((100..=100_000_000).contains(&p), "{p}");
            let s = next_string(&mut rng, 20, ' ');
            assert!(s.len() <= 19 && !s.starts_with(' ') && !s.ends_with(' '));
            let x = next_extra(&mut rng, 32, 100);
            assert!((54..=81).contains(&x.len()), "{}", x.len());
            assert!(x.bytes().all(|b| (b'H'..=b'z').contains(&b)));
        }
        assert_eq!(next_extra(&mut rng, 101, 100), "");
    }
}
