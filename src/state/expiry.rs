//! The clocks of state TTL, and the incremental cleanup that frees expired entries.
//!
//! # Time domains
//! - [`TtlTime::Processing`] (Flink's only kind): an entry is stamped with the processing time
//!   of its last write ([`super::KeyContext::now_ms`]; with `refresh_on_read`, of its last
//!   read too) and expires `millis` later.
//! - [`TtlTime::Event`]: the state's clock is the stage's **current watermark** (the runtime
//!   passes every advance to [`super::KeyedStateStore::advance_watermark`]). An entry is
//!   stamped with the watermark at its last write (or read, with `refresh_on_read`) and
//!   expires when the watermark reaches `stamp + millis`: once the stream's event time has
//!   moved `millis` past the entry's last use, whatever the processing time — so a replay or a
//!   backfill expires exactly what the live run did. Entries written before the first
//!   watermark count as written at the first watermark; before it nothing expires.
//!
//! # Bounded memory
//! Expiry is lazy on reads (an expired entry reads as absent), and expired entries are
//! *freed* incrementally: every write to a key group of a state with TTL first examines the
//! next `SWEEP_SLOTS` slots of that group's table (a cursor going round it) and removes
//! the expired entries among them. The cost per record is bounded (8 slot checks, mostly on
//! the same cache lines), there is no full scan on the hot path, and states without TTL do
//! none of it. Each examined slot either moves the cursor on or frees an entry, so a table of
//! capacity `c` is gone round within `c / 8` writes to its group plus one write per 8 entries
//! freed; it runs at least 5/16 full, so `c ≤ 3.2·n` for `n` stored entries, and an entry
//! expired at some point is freed within about `0.4·n` further writes. With `L` live entries (keys written within
//! the TTL) the table therefore stays below about `L / 0.6 ≈ 1.7·L` entries, however many
//! fresh keys stream past — instead of growing with every key ever seen (tested per state
//! kind and time domain in `state::expiry_tests`). Snapshots skip expired entries too.

/// Which clock a state's TTL reads; see the module docs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TtlTime {
    /// Processing time (the runtime's wall clock, read once per batch).
    #[default]
    Processing,
    /// Event time: the stage's current watermark.
    Event,
}

/// Slots of a key group's table examined for expired entries on every write to the group.
pub(crate) const SWEEP_SLOTS: usize = 8;

/// A watermark as an order-preserving `u64` (`i64::MIN` → 0, "no watermark yet").
#[inline]
pub(crate) fn ord(watermark: i64) -> u64 {
    (watermark as u64) ^ (1 << 63)
}

/// The TTL clock a state reads at one access: its domain, the time now, and (event time) the
/// first watermark, which stands in for the stamp of entries written before it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Clock {
    /// The time domain.
    pub time: TtlTime,
    /// Now: processing ms, or the watermark as [`ord`] (0: none yet).
    pub now: u64,
    /// Event time: [`ord`] of the first watermark (0: none yet).
    pub first: u64,
}

impl Clock {
    /// The effective stamp of an entry stamped `ts`.
    #[inline]
    pub fn stamp(&self, ts: u64) -> u64 {
        match self.time {
            TtlTime::Event if ts == 0 => self.first,
            _ => ts,
        }
    }

    /// Whether an entry stamped `ts` is expired now (Flink: `ts + ttl <= now`); in event time
    /// nothing expires before the first watermark.
    #[inline]
    pub fn expired(&self, ttl: &super::Ttl, ts: u64) -> bool {
        if self.time == TtlTime::Event && self.now == 0 {
            return false;
        }
        super::groups::is_expired(ttl, self.stamp(ts), self.now)
    }
}

/// The event-time clock of a state: the newest watermark seen and the first one.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct EventClock {
    now: u64,
    first: u64,
}

impl EventClock {
    /// The watermark advanced to `watermark` (older or equal ones change nothing).
    pub fn advance(&mut self, watermark: i64) {
        let o = ord(watermark);
        if o > self.now {
            if self.first == 0 {
                self.first = o;
            }
            self.now = o;
        }
    }

    /// The clock of an access in domain `time`, at processing time `now_ms`.
    #[inline]
    pub fn clock(&self, time: TtlTime, now_ms: u64) -> Clock {
        match time {
            TtlTime::Processing => Clock {
                time,
                now: now_ms,
                first: 0,
            },
            TtlTime::Event => Clock {
                time,
                now: self.now,
                first: self.first,
            },
        }
    }
}
