#!/usr/bin/env bash
# Model-checks the SPSC ring (src/exchange/ring.rs) with loom: every interleaving of the
# producer and consumer threads in the `#[cfg(loom)]` tests of src/exchange/ring/loom_tests.rs.
# A separate target dir keeps the `--cfg loom` build from invalidating the normal one.
# Extra arguments go to the test binary, e.g. `scripts/loom.sh fifo` or `-- --nocapture`.
set -euo pipefail
cd "$(dirname "$0")/.."
export RUSTFLAGS="--cfg loom ${RUSTFLAGS:-}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target/loom}"
exec cargo test --release --lib exchange::ring "$@"
