//! Nexmark's join and window queries (q3, q7, q8, q11, q20) from their pipeline files, run by
//! the real binary at 1 and 2 workers, against `scripts/nexmark_ref.py` over the same stream.

mod nexmark_support;

use nexmark_support::{check, Stream};

#[test]
fn q3_local_item_suggestion_matches_the_reference() {
    check("q3", Stream::beam(100_000));
}

#[test]
fn q20_expand_bid_with_auction_matches_the_reference() {
    check(
        "q20",
        Stream {
            mode: "flink",
            ..Stream::beam(100_000)
        },
    );
}

#[test]
fn q7_highest_bid_matches_the_reference_over_many_windows() {
    // 1000 events/s: 100 s of event time, 10 windows.
    check(
        "q7",
        Stream {
            rate: 1000,
            ..Stream::beam(100_000)
        },
    );
}

#[test]
fn q8_monitor_new_users_matches_the_reference_over_many_windows() {
    check(
        "q8",
        Stream {
            rate: 1000,
            ..Stream::beam(100_000)
        },
    );
}

#[test]
fn q11_sessions_match_the_reference() {
    // 200 events/s: 500 s of event time; bidders come back after more or less than 10 s.
    check(
        "q11",
        Stream {
            rate: 200,
            ..Stream::beam(100_000)
        },
    );
}
