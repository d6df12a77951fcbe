//! Field generation: event count → [`Event`] (NEXMARK.md §5). Every event draws from its own
//! `java.util.Random(eventId)`, so event `k` depends only on the config and `k`.

use super::channels::{tables, HOT_CHANNELS};
use super::config::{
    kind_of, last_auction, last_person, Kind, Mode, NexmarkConfig, AUCTION_PROPORTION,
    FIRST_AUCTION_ID, FIRST_PERSON_ID, NUM_IN_FLIGHT_AUCTIONS, PROPORTION_DENOMINATOR,
};
use super::draws::{
    next_base0_auction_id, next_base0_person_id, next_extra, next_long_below, next_price,
    next_string,
};
use super::model::{Auction, Bid, Event, Person};
use super::random::{JavaRandom, JavaRng};

const FIRST_NAMES: [&str; 11] = [
    "Peter", "Paul", "Luke", "John", "Saul", "Vicky", "Kate", "Julie", "Sarah", "Deiter", "Walter",
];
const LAST_NAMES: [&str; 9] = [
    "Shultz", "Abrams", "Spencer", "White", "Bartels", "Walton", "Smith", "Jones", "Noris",
];
const CITIES: [&str; 10] = [
    "Phoenix",
    "Los Angeles",
    "San Francisco",
    "Boise",
    "Portland",
    "Bend",
    "Redmond",
    "Seattle",
    "Kent",
    "Cheyenne",
];
const STATES: [&str; 6] = ["AZ", "CA", "ID", "OR", "WA", "WY"];

/// Group sizes of hot sellers, auctions and bidders.
const HOT_GROUP: i64 = 100;
/// 1 in this many auctions has a random (not hot) seller.
const HOT_SELLERS_RATIO: i32 = 4;
/// 1 in this many bids is on a random (not hot) auction.
const HOT_AUCTION_RATIO: i32 = 2;
/// 1 in this many bids has a random (not hot) bidder.
const HOT_BIDDERS_RATIO: i32 = 4;

/// Average sizes of the records (bytes).
const PERSON_AVG: i32 = 200;
const AUCTION_AVG: i32 = 500;
const BID_AVG: i32 = 100;

/// Length of an ASCII string as Java's `String.length()`.
fn len(s: &str) -> i32 {
    i32::try_from(s.len()).unwrap_or(i32::MAX)
}

fn pick<'a>(rng: &mut JavaRandom, list: &[&'a str]) -> &'a str {
    let i = rng.next_int_below(list.len() as i32);
    list.get(i as usize).copied().unwrap_or_default()
}

/// Event `k` (0-based count) of the stream `config` describes.
pub fn event(config: &NexmarkConfig, k: u64) -> Event {
    let num = config.event_number(k);
    let id = config.event_id(k);
    let t = config.timestamp(num);
    let mut rng = JavaRandom::new(id);
    match kind_of(id) {
        Kind::Person => Event::Person(person(&mut rng, id, t)),
        Kind::Auction => Event::Auction(auction(config, &mut rng, id, num, t)),
        Kind::Bid => Event::Bid(bid(config.mode, &mut rng, id, t)),
    }
}

fn person(rng: &mut JavaRandom, e: i64, t: i64) -> Person {
    let name = format!("{} {}", pick(rng, &FIRST_NAMES), pick(rng, &LAST_NAMES));
    let email_address = format!(
        "{}@{}.com",
        next_string(rng, 7, ' '),
        next_string(rng, 5, ' ')
    );
    let cc: Vec<String> = (0..4)
        .map(|_| format!("{:04}", rng.next_int_below(10_000)))
        .collect();
    let credit_card = cc.join(" ");
    let city = pick(rng, &CITIES).to_string();
    let state = pick(rng, &STATES).to_string();
    let cur = 8 + len(&name) + len(&email_address) + len(&credit_card) + len(&city) + len(&state);
    let extra = next_extra(rng, cur, PERSON_AVG);
    Person {
        id: last_person(e) + FIRST_PERSON_ID,
        name,
        email_address,
        credit_card,
        city,
        state,
        date_time: t,
        extra,
    }
}

fn auction(config: &NexmarkConfig, rng: &mut JavaRandom, e: i64, num: i64, t: i64) -> Auction {
    let seller = if rng.next_int_below(HOT_SELLERS_RATIO) > 0 {
        (last_person(e) / HOT_GROUP) * HOT_GROUP
    } else {
        next_base0_person_id(rng, e)
    } + FIRST_PERSON_ID;
    let category = 10 + i64::from(rng.next_int_below(5));
    let initial_bid = next_price(rng);
    let ahead = NUM_IN_FLIGHT_AUCTIONS * PROPORTION_DENOMINATOR / AUCTION_PROPORTION;
    let horizon = config.timestamp(num.saturating_add(ahead)) - t;
    let expires = t + 1 + next_long_below(rng, horizon.saturating_mul(2).max(1));
    let item_name = next_string(rng, 20, ' ');
    let description = next_string(rng, 100, ' ');
    let reserve = initial_bid + next_price(rng);
    let cur = 8 + len(&item_name) + len(&description) + 40;
    let extra = next_extra(rng, cur, AUCTION_AVG);
    Auction {
        id: last_auction(e) + FIRST_AUCTION_ID,
        item_name,
        description,
        initial_bid,
        reserve,
        date_time: t,
        expires,
        seller,
        category,
        extra,
    }
}

fn bid(mode: Mode, rng: &mut JavaRandom, e: i64, t: i64) -> Bid {
    let auction = if rng.next_int_below(HOT_AUCTION_RATIO) > 0 {
        (last_auction(e) / HOT_GROUP) * HOT_GROUP
    } else {
        next_base0_auction_id(rng, e)
    } + FIRST_AUCTION_ID;
    let bidder = if rng.next_int_below(HOT_BIDDERS_RATIO) > 0 {
        (last_person(e) / HOT_GROUP) * HOT_GROUP + 1
    } else {
        next_base0_person_id(rng, e)
    };
    // nexmark-flink (since 2021-05) adds FIRST_PERSON_ID twice.
    let bidder = match mode {
        Mode::Beam => bidder + FIRST_PERSON_ID,
        Mode::Flink => bidder + 2 * FIRST_PERSON_ID,
    };
    let price = next_price(rng);
    let (channel, url) = match mode {
        Mode::Beam => (None, None),
        Mode::Flink => {
            let (channel, url) = channel_and_url(rng);
            (Some(channel), Some(url))
        }
    };
    let extra = next_extra(rng, 32, BID_AVG);
    Bid {
        auction,
        bidder,
        price,
        channel,
        url,
        date_time: t,
        extra,
    }
}

/// A bid's channel and URL (flink mode): hot with P = 1/2, else one of 10,000.
fn channel_and_url(rng: &mut JavaRandom) -> (String, String) {
    let tables = tables();
    if rng.next_int_below(2) > 0 {
        let i = rng.next_int_below(HOT_CHANNELS.len() as i32) as usize;
        let url = tables.hot_urls.get(i).cloned().unwrap_or_default();
        (
            HOT_CHANNELS.get(i).copied().unwrap_or_default().to_string(),
            url,
        )
    } else {
        let c = rng.next_int_below(tables.urls.len() as i32);
        let url = tables.urls.get(c as usize).cloned().unwrap_or_default();
        (format!("channel-{c}"), url)
    }
}
