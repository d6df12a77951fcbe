//! Design note: how rows travel on the command-line path, and why they stay [`Row`]s.
//!
//! A pipeline file runs as `file → decoder → stateless ops → key_by ⇒ ring ⇒ keyed operator →
//! stateless ops → encoder → part file`. Its records are [`Row`]s: a `SmallVec` of up to 8
//! [`Value`]s inline (32 bytes each, strings inline up to 24 bytes). The issue that measured
//! this path (issue 10) offered three layouts: rows borrowing from the batch's input bytes,
//! compact typed rows generated from the schema, or columnar batches.
//!
//! We keep `Row`/`Value` as the operator-facing type, and remove the work *around* it:
//!
//! * **Operators are written against `row[i]` and `Value::Str(..)`** — this crate's and those
//!   other issues add (group-by, top-N, expressions, windows). Borrowed rows would put a
//!   lifetime on every operator and still need an owned form for state and for the rings
//!   between workers; generated typed rows need code generation at run time (or a closed set
//!   of shapes); columnar batches change every operator into a vectorised one. Each is a
//!   rewrite of the operator layer, not a faster record path.
//! * **The cost measured was not the representation but the copies around it**: ~27 % of a
//!   1-worker run of `fixtures/rolling_sum.toml` was `memmove` of 264-byte rows (decoder →
//!   batch, stateless step → step, operator → output), plus a CSV state machine run on lines
//!   that need none, plus allocations for strings over 24 bytes that were cloned where they
//!   could be moved.
//!
//! So, on this path:
//! 1. decoders append an empty row to the batch and parse the fields straight into it
//!    ([`super::csv_plain::fill`]): the row is written once, where it will be read;
//! 2. a CSV line without `"` is split at its commas with `memchr`, without `csv-core` and
//!    without copying the text ([`super::csv_plain`]); quoted lines keep the general path;
//! 3. stateless ops run in place on the row ([`crate::pipeline::spec::StatelessOp::apply_in_place`]):
//!    a filter reads it by reference, a select moves fields instead of cloning them;
//! 4. the rolling operator builds its output row in its output slot and moves a long string
//!    key out of the spent input row instead of cloning it.
//!
//! What remains (see PERF.md, "CLI pipelines at the speed of the typed path"): the key_by step
//! still moves each row into a `Keyed` record and the exchange moves that into its outbox (two
//! copies of ~350 bytes), and a string over 24 bytes is allocated by the decoder and again for
//! the key. Removing those needs the exchange to key records as it routes them, and a string
//! value that can share the batch's bytes — changes to the runtime and to `Value` that are
//! left for a later step.

#[cfg(doc)]
use super::{Row, Value};

/// Size of one [`super::Value`] in bytes (a tag and the largest payload, a `CompactString`).
pub const VALUE_BYTES: usize = std::mem::size_of::<super::Value>();

/// Size of one [`super::Row`] in bytes (8 inline values and a length).
pub const ROW_BYTES: usize = std::mem::size_of::<super::Row>();
