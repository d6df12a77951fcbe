//! Nexmark's stateless queries (q0, q1, q2, q14) from their pipeline files, run by the real
//! binary at 1 and 2 workers, against `scripts/nexmark_ref.py` over the same generated stream.

mod nexmark_support;

use nexmark_support::{check, Stream};

#[test]
fn q0_pass_through_matches_the_reference() {
    check("q0", Stream::beam(100_000));
}
