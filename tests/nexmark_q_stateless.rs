//! Nexmark's stateless queries (q0, q1, q2, q14) from their pipeline files, run by the real
//! binary at 1 and 2 workers, against `scripts/nexmark_ref.py` over the same generated stream.

mod nexmark_support;

use nexmark_support::{check, Stream};

#[test]
fn q0_pass_through_matches_the_reference() {
    check("q0", Stream::beam(100_000));
}

#[test]
fn q1_currency_prints_exact_decimals() {
    check("q1", Stream::beam(100_000));
}

#[test]
fn q2_selection_matches_the_reference() {
    check("q2", Stream::beam(100_000));
}

#[test]
fn q14_calculation_matches_the_reference_over_a_day_of_hours() {
    // One event per second: 100K events span 27.7 hours, so every bidTimeType occurs.
    check(
        "q14",
        Stream {
            rate: 1,
            ..Stream::beam(100_000)
        },
    );
}
