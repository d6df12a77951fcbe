//! Design note: how rows travel on the command-line path, and why they stay [`Row`]s.
//!
//! A pipeline file runs as `file → decoder → stateless ops → key_by ⇒ ring ⇒ keyed operator →
//! stateless ops → encoder → part file`. Its records are [`Row`]s: a `SmallVec` of up to 8
//! [`Value`]s inline (32 bytes each, strings inline up to 24 bytes; since step 5, 16 bytes
//! each, strings inline up to 15 bytes). The issue that measured
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
//!    (`record::csv_plain::fill`): the row is written once, where it will be read;
//! 2. a CSV line without `"` is split at its commas with `memchr`, without `csv-core` and
//!    without copying the text (`record::csv_plain`); quoted lines keep the general path;
//! 3. stateless ops run in place on the row ([`crate::pipeline::spec::StatelessOp::apply_in_place`]):
//!    a filter reads it by reference, a select moves fields instead of cloning them;
//! 4. the rolling operator builds its output row in its output slot and moves a long string
//!    key out of the spent input row instead of cloning it.
//!
//! Since then (PERF.md, "Issue 10, step 2"): the exchange keys records as it routes them
//! (no intermediate `Keyed` batch); with one worker a batch enters the outbox by one
//! `Vec::extend` instead of a push per record; the key's stable hash is computed from its
//! canonical bytes in a stack buffer ([`super::key_hash`]); short CSV lines are split in one
//! scalar pass and flat JSON objects scanned without serde_json (`record::json_flat`).
//!
//! What remains: each row is still copied into the exchange's batch and once more out of the
//! ring into the operator (~2 × 264 bytes), and a string over 24 bytes is allocated by the
//! decoder and again for the key. Removing those needs rows that do not carry 8 inline
//! values (a row sized to its schema, or an arena of the batch's strings), which changes
//! `Row` for every operator — left for a later step.
//!
//! Step 3 (PERF.md, "Issue 10, step 3 (session 5)") measured the two remaining row copies and
//! kept `Row` once more. In callgrind a 264-byte row copy is one `memcpy` call of ~29
//! instructions (the wall cost is the memory traffic), and a record pays about eight such
//! calls along the path (decoder, key_by, exchange batch, ring batch → operator argument,
//! operator output, emit): ~230 of ~3,000 instructions per record. The rolling operator's
//! folds and output, UTF-8 validation and the codecs' string scans were cheaper to cut first.
//! A row sized to its schema (or a per-batch string arena) removes the copies only together
//! with a `KeyedOperator::process` that takes its input by reference — both change every
//! operator, the window operators of other issues included, so they are left for a step of
//! their own.
//!
//! Step 4 (PERF.md, "Issue 10, step 4 (session 6)") took that step for the operator side:
//! `KeyedOperator::process` takes `&mut I`, so the keyed stage runs the operator on each row
//! in its slot of the ring's batch (no copy out), and hands the spent batch back to its
//! sender. Strings over 24 bytes are [`super::Text`]s whose heap buffers are recycled per
//! thread; since spent rows are dropped on the thread that decoded them and an operator's
//! outputs are clones made (and later dropped) on its own thread, every long string of the
//! row path reuses a buffer in steady state: no allocation per record at any string length.
//! A row keeps its 8 inline values — the copies left are the decoder's batch → exchange
//! batch and the operator's output → sink.
//!
//! Step 5 (session 7; PERF.md, "Issue 10, step 5 (session 7)" and its five parts) kept
//! `Row`/`Value` once more and made everything around them cheaper:
//! * **Decoding** reads a whole read buffer in one pass ([`crate::source::LineDecoder::decode_block`]):
//!   a plan compiled from the schema splits and parses each field in the same scan, and rows
//!   are written in place in the batch; any line it cannot decode exactly as the line path
//!   would (quotes, CRLF, bad values, other JSON key orders…) goes to the line path.
//! * **Values**: a [`Value`] is 16 bytes — a [`super::Text`] keeps up to 15 bytes inline, the
//!   length in its last byte, whose unused values hold `Value`'s tag. A [`Row`] keeps 8 values
//!   inline (136 bytes). 7 (120 bytes, moved by inline stores instead of a `memcpy` call)
//!   measured 40 instructions per record fewer on `rolling_sum`, but an 8-field row (Nexmark
//!   `person`, or a user's 8-column file) would then allocate per record: we kept 8.
//! * **The key** ([`super::RowKey`]) is the key's canonical bytes (inline up to 46, else a
//!   buffer recycled per thread) with its stable hash, computed once where `key_by` builds it;
//!   the state table compares the hash, then the zero-padded buffer. The rolling operator
//!   copies its output's key values from the input row's key fields.
//! * **The exchange**: a ring batch keeps the rows apart from their keys and hashes
//!   ([`crate::exchange::KeyedBatch`]), so with one worker the decoder's batch of rows moves
//!   into the ring whole; spent batches of rows that own no heap memory are emptied without
//!   running each row's destructor ([`crate::exchange::spent`]).
//! * **Encoding** writes through a cursor over the buffer's spare capacity (one capacity check
//!   per row), with SWAR checks for quoting and escaping; the command line's sinks skip the
//!   per-line output checksum that only library users read ([`crate::sink::NoChecksum`]).
//!
//! What bounds the path now (1 worker, `rolling_sum`, ~1,100 instructions per record): the
//! rolling operator with its state lookup (~300), decoding (~310), encoding (~160), building
//! and hashing the key (~90), and moving and dropping rows between them. A row sized to its
//! schema (or columnar batches) is the next step; it changes every operator.
//!
//! Step 6 (session 8; PERF.md, "Issue 10, step 6 (session 8)" and its parts) found that the
//! figure that mattered was cycles, not instructions: the worker spent 42 % of its time in
//! the rolling operator, most of it one cache miss the state prefetch was meant to hide (it
//! skipped the middle line of a 120-byte slot). With that fixed, the compact sum+count state
//! (88-byte slots), whole batches keyed by one call and run through the operator inside one
//! monomorphised loop, rows scattered to workers in one pass, a key plan for one short string
//! key, a JSON pass that reads compact objects in place, and an encode plan per output schema
//! took the path to ~1,050 instructions per record (CSV) and ~1,210 (JSON lines). Each part's
//! engineer found the same floor: building, moving and reading [`Row`]s of 16-byte
//! [`Value`]s — a row slot ~40–55 instructions in the decoder, ~15–25 per value, ~25 per row
//! in the encoder, the state's cache misses. `Row`/`Value` stay the operator-facing type; the
//! remaining factor needs rows sized to the schema or columnar batches, as above.
//!
//! Step 7 (session 9; PERF.md, "Issue 10, step 7 (session 9)") kept `Row` and specialised
//! the two ends of the path on the schema's *shape*: a schema of 1–4 string/integer fields is
//! decoded by one of 30 decoders monomorphised per field count and string pattern (CSV:
//! field bounds from SSE2 byte classes of a 16-byte window; JSON: compact objects in schema
//! order), written into the row's slots with its length set once (`record::shape_table`,
//! `record::row_write`); output schemas of integers with at most one leading string are
//! encoded by a loop chosen once per batch, with small integers from a digit table. Between
//! them, spent batches are cleared with one test per row while no heap text exists, `key_by`
//! keys a batch in two passes, and the rolling operator runs its own batch loop and writes
//! its output row in place. CSV ~1,050 → ~780 instructions per record, JSON lines
//! ~1,210 → ~920. Lines or rows of any other shape take the general path, line by line, so
//! the shape passes change no output (proptests against it). What is left is the state's
//! cache misses (~35 % of the cycles at 100k keys, not reduced by fewer lines per lookup)
//! and the remaining per-value work in and out of `Value`s.

#[cfg(doc)]
use super::{Row, Value};

/// Size of one [`super::Value`] in bytes (a 16-byte `Text`, whose length byte holds the tag).
pub const VALUE_BYTES: usize = std::mem::size_of::<super::Value>();

/// Size of one [`super::Row`] in bytes (8 inline values and a length).
pub const ROW_BYTES: usize = std::mem::size_of::<super::Row>();
