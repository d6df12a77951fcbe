//! The golden events of NEXMARK.md §9.1 (bit-exact, Beam defaults), §9.2 (V1 layout, split 0)
//! and statistical checks of §2 and §9.3 over many events.

use super::config::{last_auction, last_person, BEAM_BASE_TIME};
use super::*;

/// Person #0's extra (156 chars), copied from §9.1.
const PERSON0_EXTRA: &str = r"WN_HS_bnpkkiwhwana_L^`KZjdgsid`K]MLU[aaOH`ztxbulvlxtkn_ZZ^T\mqgdjzvlkymsmfrhkfVYSXK_OY[aVYVKa\X^]RO]OYguwiduWJNQLLaMLHOTaHY_J[YKWaUOSJN_VHWXZ]`SgbnjqeVVQ\[[";
/// Bid #4's extra (77 chars), copied from §9.1.
const BID4_EXTRA: &str =
    r"fdiysaV^]NLVsbolvyqwgticfdrwdyiyofziYMU\Z`UaTQO][NX\RM]WPYTOuwogvszlxjrcNOORM";

fn beam(k: u64) -> Event {
    event(&NexmarkConfig::new(Mode::Beam, 100), k)
}

fn as_auction(e: Event) -> Auction {
    match e {
        Event::Auction(a) => a,
        other => panic!("not an auction: {other:?}"),
    }
}

fn as_bid(e: Event) -> Bid {
    match e {
        Event::Bid(b) => b,
        other => panic!("not a bid: {other:?}"),
    }
}

#[test]
fn golden_person_0() {
    let want = Event::Person(Person {
        id: 1000,
        name: "Peter Jones".into(),
        email_address: "nhd@xcat.com".into(),
        credit_card: "7241 7320 9143 4888".into(),
        city: "Portland".into(),
        state: "WY".into(),
        date_time: 1_436_918_400_000,
        extra: PERSON0_EXTRA.into(),
    });
    assert_eq!(beam(0), want);
}

#[test]
fn golden_auctions_1_to_3() {
    // (id, itemName, description, initialBid, reserve, dateTime, expires, seller, category,
    // extra length, extra prefix)
    let table = [
        (1000, "wkx mgee", "eszpqxtdxrvwmmywkmogoahf", 28873, 29448, 1_436_918_400_010i64,
         1_436_918_409_425i64, 1000, 13, 346, "zcurskufssowmihzpmZHWQM^"),
        (1001, "z ck w",
         "cwlachrnkfzkygsu edjytotggvasbt z yjjszhhsqtrgzblkaolzkhlldqedvgj fdbvswemnzshmwipqrzqfkd",
         25_626_290, 28_805_847, 1_436_918_400_020, 1_436_918_412_010, 1000, 12, 319,
         "jzlkehMZPLIIwtopffS\\KHLR"),
        (1002, "gxycmhtobprpd", "ybjpocsabdbtiqzhbupw ihlxbsqjkmp lbupz bcqnghg fojwfqs", 267,
         422_398, 1_436_918_400_030, 1_436_918_430_159, 1000, 10, 407, "JKSLMTmulfbwHKXU"),
    ];
    for (k, row) in table.into_iter().enumerate() {
        let a = as_auction(beam(k as u64 + 1));
        let got = (
            a.id,
            a.item_name.as_str(),
            a.description.as_str(),
            a.initial_bid,
            a.reserve,
            a.date_time,
            a.expires,
            a.seller,
            a.category,
            a.extra.len(),
            &a.extra[..row.10.len()],
        );
        assert_eq!(got, row, "event {}", k + 1);
    }
}

#[test]
fn golden_bids_4_and_5() {
    let b = as_bid(beam(4));
    let want = Bid {
        auction: 1000,
        bidder: 1001,
        price: 32_530_001,
        channel: None,
        url: None,
        date_time: 1_436_918_400_040,
        extra: BID4_EXTRA.into(),
    };
    assert_eq!(b, want);
    let b = as_bid(beam(5));
    assert_eq!(
        (b.auction, b.bidder, b.price, b.date_time, b.extra.len()),
        (1000, 1009, 468_715, 1_436_918_400_050, 75)
    );
    assert!(b.extra.starts_with("kpbrykRZJVMWeuyf"));
}

/// §9.2: nexmark-flink's V1 layout (split 0 of 8), with per-event seeding.
fn v1_split0() -> NexmarkConfig {
    NexmarkConfig {
        generators: 8,
        first_event_id: 1,
        first_event_number: 1,
        ..NexmarkConfig::new(Mode::Flink, 12_500_000)
    }
}

#[test]
fn golden_v1_layout_in_flink_mode() {
    let c = v1_split0();
    // Counts 0, 1 are ids 2, 3: Beam's #2 and #3 but expiring at base + 1.
    for k in 0..2 {
        let got = as_auction(event(&c, k));
        let mut want = as_auction(beam(k + 2));
        want.date_time = BEAM_BASE_TIME;
        want.expires = BEAM_BASE_TIME + 1;
        assert_eq!(got, want, "count {k}");
    }
    // Ids 4, 5, 6: bids; flink's bidder is offset by 2000, the draws are Beam's.
    for (k, auction, bidder, price) in [(2, 1000, 2001, 32_530_001), (3, 1000, 2009, 468_715)] {
        let b = as_bid(event(&c, k));
        assert_eq!(
            (b.auction, b.bidder, b.price, b.date_time),
            (auction, bidder, price, BEAM_BASE_TIME)
        );
        assert!(b.channel.is_some() && b.url.is_some());
    }
    let b = as_bid(event(&c, 4));
    assert_eq!((b.auction, b.bidder, b.price), (1000, 2001, 300_435));
    // The first person is id 50 (person 1001), at count 48.
    assert!(matches!(event(&c, 48), Event::Person(p) if p.id == 1001));
    assert!((5..48).all(|k| matches!(event(&c, k), Event::Bid(_))));
}

#[test]
fn events_are_deterministic() {
    for mode in [Mode::Beam, Mode::Flink] {
        let c = NexmarkConfig::new(mode, 1000);
        for k in [0, 1, 4, 777, 999_999] {
            assert_eq!(event(&c, k), event(&c, k), "{mode:?} {k}");
            assert_eq!(event(&c, k), event(&c.clone(), k));
        }
    }
}

/// Per-kind counts, id ranges and ordering over 100 whole epochs (5000 events).
#[test]
fn proportions_and_id_ranges() {
    for mode in [Mode::Beam, Mode::Flink] {
        let c = NexmarkConfig::new(mode, 5000);
        let (mut persons, mut auctions, mut bids) = (Vec::new(), Vec::new(), Vec::new());
        let mut last_time = i64::MIN;
        for k in 0..5000 {
            let e = event(&c, k);
            assert!(e.date_time() >= last_time);
            last_time = e.date_time();
            match e {
                Event::Person(p) => persons.push(p),
                Event::Auction(a) => auctions.push(a),
                Event::Bid(b) => bids.push(b),
            }
        }
        assert_eq!(
            (persons.len(), auctions.len(), bids.len()),
            (100, 300, 4600)
        );
        let pid: Vec<i64> = persons.iter().map(|p| p.id).collect();
        assert_eq!(pid, (1000..1100).collect::<Vec<_>>());
        let aid: Vec<i64> = auctions.iter().map(|a| a.id).collect();
        assert_eq!(aid, (1000..1300).collect::<Vec<_>>());
        let offset = if mode == Mode::Beam { 1000 } else { 2000 };
        for a in &auctions {
            assert!((10..=14).contains(&a.category));
            assert!(a.reserve >= a.initial_bid + 100);
            assert!(a.expires > a.date_time);
            assert!((1000..1100 + 10).contains(&a.seller), "{}", a.seller);
        }
        for b in &bids {
            assert!((1000..1300 + 10).contains(&b.auction), "{}", b.auction);
            assert!(
                (offset..offset + 100 + 10).contains(&b.bidder),
                "{}",
                b.bidder
            );
            assert!((100..=100_000_000).contains(&b.price));
            assert!((54..=81).contains(&b.extra.len()));
            assert_eq!(b.channel.is_some(), mode == Mode::Flink);
        }
    }
}

/// §9.3's hot fractions and price ranks hold over many events (per-event seeding correlates
/// neighbours, so this samples a long stream).
#[test]
fn hot_fractions_over_a_long_stream() {
    let c = NexmarkConfig::new(Mode::Flink, 2_000_000);
    let (mut bids, mut hot_auction, mut hot_bidder, mut hot_channel) = (0u32, 0u32, 0u32, 0u32);
    let mut ranks = [0u32; 3];
    for k in (0..2_000_000).step_by(37) {
        let id = c.event_id(k);
        if let Event::Bid(b) = event(&c, k) {
            bids += 1;
            hot_auction += u32::from(b.auction == last_auction(id) / 100 * 100 + 1000);
            hot_bidder += u32::from(b.bidder == last_person(id) / 100 * 100 + 1 + 2000);
            let ch = b.channel.unwrap_or_default();
            hot_channel += u32::from(!ch.starts_with("channel-"));
            ranks[usize::from(b.price >= 10_000) + usize::from(b.price >= 1_000_000)] += 1;
        }
    }
    let frac = |n: u32| f64::from(n) / f64::from(bids);
    assert!(
        (0.47..0.56).contains(&frac(hot_auction)),
        "{}",
        frac(hot_auction)
    );
    assert!(
        (0.72..0.80).contains(&frac(hot_bidder)),
        "{}",
        frac(hot_bidder)
    );
    assert!(
        (0.45..0.55).contains(&frac(hot_channel)),
        "{}",
        frac(hot_channel)
    );
    for r in ranks {
        assert!((0.30..0.37).contains(&frac(r)), "{ranks:?}");
    }
}

#[test]
fn json_uses_nexmark_names() {
    let json = serde_json::to_value(beam(1)).expect("json");
    assert_eq!(json["kind"], "auction");
    assert_eq!(json["initialBid"], 28873);
    assert_eq!(json["dateTime"], 1_436_918_400_010i64);
    let json = serde_json::to_value(beam(0)).expect("json");
    assert_eq!(json["emailAddress"], "nhd@xcat.com");
    assert_eq!(json["creditCard"], "7241 7320 9143 4888");
}
