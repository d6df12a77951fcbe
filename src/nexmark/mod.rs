//! The Nexmark benchmark's event generator (persons, auctions, bids), as specified in
//! `NEXMARK.md` §0–§5: a bit-exact port of `java.util.Random`, the deterministic skeleton
//! (event number → id → kind, ids, timestamps) and field generation in two modes — `beam`
//! (bit-exact with Beam's generator) and `flink` (nexmark-flink's field set, seeded per event).
//!
//! ```
//! use weir::nexmark::{event, Event, Mode, NexmarkConfig};
//! let config = NexmarkConfig::new(Mode::Beam, 100);
//! let Event::Person(p) = event(&config, 0) else { unreachable!() };
//! assert_eq!((p.id, p.name.as_str()), (1000, "Peter Jones"));
//! ```

mod channels;
pub mod config;
pub mod draws;
mod exact;
pub mod fast_bid;
pub mod generate;
pub mod model;
pub mod open_loop;
pub mod random;
pub mod rows;
pub mod source;
#[cfg(test)]
mod tests;

pub use config::{Kind, Mode, NexmarkConfig, Timing};
pub use generate::event;
pub use model::{Auction, Bid, Event, Person};
pub use source::NexmarkSource;
