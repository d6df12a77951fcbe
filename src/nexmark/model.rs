//! The three event types (NEXMARK.md §5). Field names serialize as Nexmark spells them
//! (`dateTime`, `initialBid`, …); times are epoch ms.

use serde::{Deserialize, Serialize};

/// A new person.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Person {
    /// Person id (from 1000).
    pub id: i64,
    /// "First Last".
    pub name: String,
    /// `xxx@yyy.com`.
    pub email_address: String,
    /// Four groups of 4 digits.
    pub credit_card: String,
    /// A US city.
    pub city: String,
    /// A US state code.
    pub state: String,
    /// Event time, epoch ms.
    pub date_time: i64,
    /// Padding towards the average person size.
    pub extra: String,
}

/// A new auction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Auction {
    /// Auction id (from 1000).
    pub id: i64,
    /// Item name.
    pub item_name: String,
    /// Item description.
    pub description: String,
    /// Opening price (cents).
    pub initial_bid: i64,
    /// Reserve price (cents), at least `initial_bid + 100`.
    pub reserve: i64,
    /// Event time, epoch ms.
    pub date_time: i64,
    /// When the auction closes, epoch ms.
    pub expires: i64,
    /// The seller's person id.
    pub seller: i64,
    /// Category, 10..=14.
    pub category: i64,
    /// Padding towards the average auction size.
    pub extra: String,
}

/// A bid on an auction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Bid {
    /// The auction's id.
    pub auction: i64,
    /// The bidder's person id.
    pub bidder: i64,
    /// Price (cents).
    pub price: i64,
    /// The channel the bid came through (`flink` mode only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// The bid's URL (`flink` mode only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Event time, epoch ms.
    pub date_time: i64,
    /// Padding towards the average bid size.
    pub extra: String,
}

/// One Nexmark event; serializes with a `kind` field (`person`, `auction`, `bid`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Event {
    /// A new person.
    Person(Person),
    /// A new auction.
    Auction(Auction),
    /// A bid.
    Bid(Bid),
}

impl Event {
    /// The event's time, epoch ms.
    pub fn date_time(&self) -> i64 {
        match self {
            Event::Person(p) => p.date_time,
            Event::Auction(a) => a.date_time,
            Event::Bid(b) => b.date_time,
        }
    }
}
