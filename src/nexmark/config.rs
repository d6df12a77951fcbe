//! The generator's configuration and its deterministic skeleton (NEXMARK.md §1, §2): event
//! number → event id → kind, ids of the newest person and auction, and timestamps.

use serde::{Deserialize, Serialize};

/// Persons per epoch of event ids (P).
pub const PERSON_PROPORTION: i64 = 1;
/// Auctions per epoch (A).
pub const AUCTION_PROPORTION: i64 = 3;
/// Bids per epoch.
pub const BID_PROPORTION: i64 = 46;
/// Event ids per epoch (T = P + A + B).
pub const PROPORTION_DENOMINATOR: i64 = PERSON_PROPORTION + AUCTION_PROPORTION + BID_PROPORTION;
/// The id of the first person.
pub const FIRST_PERSON_ID: i64 = 1000;
/// The id of the first auction.
pub const FIRST_AUCTION_ID: i64 = 1000;
/// Auctions whose lifetime the generator aims at (`numInFlightAuctions`).
pub const NUM_IN_FLIGHT_AUCTIONS: i64 = 100;
/// Persons a bid or auction picks from when not hot (`numActivePeople`).
pub const NUM_ACTIVE_PEOPLE: i64 = 1000;
/// Beam's default base time, 2015-07-15T00:00:00Z, in ms.
pub const BEAM_BASE_TIME: i64 = 1_436_918_400_000;

/// Which generator's fields to produce.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Beam's generator, bit-exact (bids without channel and url).
    Beam,
    /// nexmark-flink's field set (bid channel and url, bidder + 2000), seeded per event.
    Flink,
}

/// How an event number becomes a timestamp (NEXMARK.md §2.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Timing {
    /// Beam: an integer delay in µs, `((10^6 + rate/2) / rate) · generators` (0 above 2M/s).
    Beam,
    /// nexmark-flink: a float delay in µs, `10^6 / rate · generators`.
    Flink,
}

/// Kinds of events.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A new person.
    Person,
    /// A new auction.
    Auction,
    /// A bid.
    Bid,
}

/// The generator's parameters. Event `k` (0-based count) depends only on these and `k`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NexmarkConfig {
    /// Field generation.
    pub mode: Mode,
    /// Timestamp formula.
    pub timing: Timing,
    /// Number of events.
    pub events: u64,
    /// Event-time rate (`first-event.rate`), events per second, at least 1.
    pub rate: u64,
    /// `numEventGenerators`: multiplies the delay between events (1 = one timeline).
    pub generators: u64,
    /// Time of event number 0, epoch ms.
    pub base_time: i64,
    /// `firstEventId`.
    pub first_event_id: i64,
    /// `firstEventNumber`.
    pub first_event_number: i64,
}

impl NexmarkConfig {
    /// The defaults of `mode`: Beam's layout (10 ms between events: Beam's 10,000/s over its
    /// 100 generators, here as rate 100 on one timeline) or the V1 run's 10M events/s.
    pub fn new(mode: Mode, events: u64) -> Self {
        let (timing, rate) = match mode {
            Mode::Beam => (Timing::Beam, 100),
            Mode::Flink => (Timing::Flink, 10_000_000),
        };
        NexmarkConfig {
            mode,
            timing,
            events,
            rate,
            generators: 1,
            base_time: BEAM_BASE_TIME,
            first_event_id: 0,
            first_event_number: 0,
        }
    }

    /// Checks the parameters.
    ///
    /// # Errors
    /// The reasons they are unusable (a rate or generator count of 0, negative firsts).
    pub fn check(&self) -> Result<(), Vec<String>> {
        let mut errors = Vec::new();
        if self.rate == 0 {
            errors.push("nexmark: rate must be at least 1".to_string());
        }
        if self.generators == 0 {
            errors.push("nexmark: generators must be at least 1".to_string());
        }
        if self.first_event_id < 0 || self.first_event_number < 0 {
            errors.push("nexmark: first event id and number must not be negative".to_string());
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// The event number of count `k`.
    pub fn event_number(&self, k: u64) -> i64 {
        self.first_event_number
            .saturating_add(k.min(i64::MAX as u64) as i64)
    }

    /// The event id of count `k` (no out-of-order groups: `adj = num`).
    pub fn event_id(&self, k: u64) -> i64 {
        self.first_event_id.saturating_add(self.event_number(k))
    }

    /// The timestamp (epoch ms) of event number `num`.
    pub fn timestamp(&self, num: i64) -> i64 {
        let rate = self.rate.max(1);
        let offset = match self.timing {
            Timing::Beam => {
                let d = ((1_000_000 + rate / 2) / rate) as i128 * i128::from(self.generators);
                let ms = i128::from(num) * d / 1000;
                ms.clamp(0, i128::from(i64::MAX)) as i64
            }
            Timing::Flink => {
                let d = (1_000_000.0 / rate as f64) * self.generators as f64;
                ((num as f64 * d) as i64) / 1000
            }
        };
        self.base_time.saturating_add(offset)
    }
}

/// The kind of event id `e`.
pub fn kind_of(e: i64) -> Kind {
    let r = e.rem_euclid(PROPORTION_DENOMINATOR);
    if r < PERSON_PROPORTION {
        Kind::Person
    } else if r < PERSON_PROPORTION + AUCTION_PROPORTION {
        Kind::Auction
    } else {
        Kind::Bid
    }
}

/// `lastP(e)`: the newest base-0 person id at event id `e` (its own when `e` is a person).
pub fn last_person(e: i64) -> i64 {
    let epoch = e.div_euclid(PROPORTION_DENOMINATOR);
    let off = e
        .rem_euclid(PROPORTION_DENOMINATOR)
        .min(PERSON_PROPORTION - 1);
    epoch * PERSON_PROPORTION + off
}

/// `lastA(e)`: the newest base-0 auction id at event id `e` (−1 at `e = 0`).
pub fn last_auction(e: i64) -> i64 {
    let mut epoch = e.div_euclid(PROPORTION_DENOMINATOR);
    let mut off = e.rem_euclid(PROPORTION_DENOMINATOR);
    if off < PERSON_PROPORTION {
        epoch -= 1;
        off = AUCTION_PROPORTION - 1;
    } else if off >= PERSON_PROPORTION + AUCTION_PROPORTION {
        off = AUCTION_PROPORTION - 1;
    } else {
        off -= PERSON_PROPORTION;
    }
    epoch * AUCTION_PROPORTION + off
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_follow_the_epoch() {
        assert_eq!(kind_of(0), Kind::Person);
        assert_eq!(kind_of(1), Kind::Auction);
        assert_eq!(kind_of(3), Kind::Auction);
        assert_eq!(kind_of(4), Kind::Bid);
        assert_eq!(kind_of(49), Kind::Bid);
        assert_eq!(kind_of(50), Kind::Person);
    }

    #[test]
    fn last_ids_follow_the_hand_table() {
        // (e, lastP, lastA), worked by hand from §2.4.
        let table = [
            (0, 0, -1),
            (1, 0, 0),
            (2, 0, 1),
            (3, 0, 2),
            (4, 0, 2),
            (49, 0, 2),
            (50, 1, 2),
            (51, 1, 3),
            (54, 1, 5),
        ];
        for (e, p, a) in table {
            assert_eq!((last_person(e), last_auction(e)), (p, a), "e = {e}");
        }
    }

    #[test]
    fn timestamps_of_both_formulas() {
        let beam = NexmarkConfig::new(Mode::Beam, 10);
        assert_eq!(beam.timestamp(3), BEAM_BASE_TIME + 30);
        // Beam's integer delay is 0 above 2M/s.
        let fast = NexmarkConfig {
            rate: 10_000_000,
            ..beam.clone()
        };
        assert_eq!(fast.timestamp(1_000_000), BEAM_BASE_TIME);
        // V1: 0.8 µs per event and generator; events 1..=1249 share base + 0.
        let v1 = NexmarkConfig {
            generators: 8,
            ..NexmarkConfig::new(Mode::Flink, 10)
        };
        assert_eq!(v1.timestamp(1249), BEAM_BASE_TIME);
        assert_eq!(v1.timestamp(1250), BEAM_BASE_TIME + 1);
        assert_eq!(v1.timestamp(12_500_000), BEAM_BASE_TIME + 10_000);
    }
}
