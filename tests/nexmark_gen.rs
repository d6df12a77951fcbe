//! `weir nexmark gen` runs as a user would run it: its first events are NEXMARK.md §9.1's
//! golden events (Beam defaults), field for field, as JSON lines.

mod cli_support;

use cli_support::{output, stderr, weir};
use serde_json::{json, Value};

/// Person #0's extra (156 chars), copied from NEXMARK.md §9.1.
const PERSON0_EXTRA: &str = r"WN_HS_bnpkkiwhwana_L^`KZjdgsid`K]MLU[aaOH`ztxbulvlxtkn_ZZ^T\mqgdjzvlkymsmfrhkfVYSXK_OY[aVYVKa\X^]RO]OYguwiduWJNQLLaMLHOTaHY_J[YKWaUOSJN_VHWXZ]`SgbnjqeVVQ\[[";
/// Bid #4's extra (77 chars), copied from NEXMARK.md §9.1.
const BID4_EXTRA: &str =
    r"fdiysaV^]NLVsbolvyqwgticfdrwdyiyofziYMU\Z`UaTQO][NX\RM]WPYTOuwogvszlxjrcNOORM";

/// Runs `weir nexmark gen ARGS` to stdout and parses its lines.
fn gen_stdout(args: &[&str]) -> Vec<Value> {
    let out = output(weir().args(["nexmark", "gen"]).args(args));
    assert!(out.status.success(), "{}", stderr(&out));
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON object per line"))
        .collect()
}

#[test]
fn beam_mode_writes_the_golden_events() {
    let ev = gen_stdout(&["--events", "6", "--mode", "beam"]);
    assert_eq!(ev.len(), 6);
    assert_eq!(
        ev[0],
        json!({"kind": "person", "id": 1000, "name": "Peter Jones",
               "emailAddress": "nhd@xcat.com", "creditCard": "7241 7320 9143 4888",
               "city": "Portland", "state": "WY", "dateTime": 1_436_918_400_000i64,
               "extra": PERSON0_EXTRA})
    );
    // (id, itemName, initialBid, reserve, dateTime, expires, seller, category, extra length,
    // extra prefix) of auctions #1..#3.
    let auctions = [
        (
            1000,
            "wkx mgee",
            28873,
            29448,
            1_436_918_400_010i64,
            1_436_918_409_425i64,
            13,
            346,
            "zcurskufssowmihzpmZHWQM^",
        ),
        (
            1001,
            "z ck w",
            25_626_290,
            28_805_847,
            1_436_918_400_020,
            1_436_918_412_010,
            12,
            319,
            "jzlkehMZPLIIwtopffS\\KHLR",
        ),
        (
            1002,
            "gxycmhtobprpd",
            267,
            422_398,
            1_436_918_400_030,
            1_436_918_430_159,
            10,
            407,
            "JKSLMTmulfbwHKXU",
        ),
    ];
    for (i, (id, item, initial, reserve, t, expires, category, xlen, xpre)) in
        auctions.into_iter().enumerate()
    {
        let a = &ev[i + 1];
        assert_eq!(a["kind"], "auction");
        assert_eq!(
            (
                &a["id"],
                &a["itemName"],
                &a["initialBid"],
                &a["reserve"],
                &a["dateTime"]
            ),
            (
                &json!(id),
                &json!(item),
                &json!(initial),
                &json!(reserve),
                &json!(t)
            ),
            "event {}",
            i + 1
        );
        assert_eq!(
            (&a["expires"], &a["seller"], &a["category"]),
            (&json!(expires), &json!(1000), &json!(category))
        );
        let extra = a["extra"].as_str().unwrap_or_default();
        assert_eq!(extra.len(), xlen);
        assert!(extra.starts_with(xpre), "{extra}");
    }
    assert_eq!(ev[1]["description"], "eszpqxtdxrvwmmywkmogoahf");
    assert_eq!(
        ev[4],
        json!({"kind": "bid", "auction": 1000, "bidder": 1001, "price": 32_530_001,
               "dateTime": 1_436_918_400_040i64, "extra": BID4_EXTRA})
    );
    assert_eq!(
        (
            &ev[5]["auction"],
            &ev[5]["bidder"],
            &ev[5]["price"],
            &ev[5]["dateTime"]
        ),
        (
            &json!(1000),
            &json!(1009),
            &json!(468_715),
            &json!(1_436_918_400_050i64)
        )
    );
}

#[test]
fn flink_mode_adds_channel_and_url_and_offsets_bidders() {
    let ev = gen_stdout(&["--events", "60", "--mode", "flink", "--rate", "1000"]);
    assert_eq!(ev.len(), 60);
    // Same draws as Beam for the first fields; bidder offset by 2000 (§0.5).
    assert_eq!(
        (&ev[4]["auction"], &ev[4]["bidder"], &ev[4]["price"]),
        (&json!(1000), &json!(2001), &json!(32_530_001))
    );
    for e in ev.iter().filter(|e| e["kind"] == "bid") {
        assert!(e["channel"].is_string() && e["url"].is_string(), "{e}");
    }
    // 1000 events/s: 1 ms apart.
    assert_eq!(ev[59]["dateTime"], json!(1_436_918_400_059i64));
    assert_eq!(ev[50]["kind"], "person");
    assert_eq!(ev[50]["id"], 1001);
    // The rate is written as in a pipeline file, too.
    assert_eq!(
        gen_stdout(&["--events", "60", "--mode", "flink", "--rate", "1K/s"]),
        ev
    );
}

#[test]
fn out_writes_a_file_and_never_replaces_one() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("events.jsonl");
    let run = |f: &std::path::Path| {
        output(
            weir()
                .args(["nexmark", "gen", "--events", "100", "--out"])
                .arg(f),
        )
    };
    let out = run(&file);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(&file).expect("output");
    assert_eq!(text.lines().count(), 100);
    let first: Option<Value> = text
        .lines()
        .next()
        .and_then(|l| serde_json::from_str(l).ok());
    assert_eq!(first.as_ref(), gen_stdout(&["--events", "1"]).first());
    // A second run refuses to overwrite, and leaves the file alone.
    let out = run(&file);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("exists"));
    assert_eq!(std::fs::read_to_string(&file).expect("output"), text);
}

#[test]
fn a_zero_rate_is_a_usage_error() {
    let out = output(weir().args(["nexmark", "gen", "--events", "5", "--rate", "0"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("rate"));
}

#[test]
fn out_may_be_a_device() {
    let out = output(weir().args(["nexmark", "gen", "--events", "10", "--out", "/dev/null"]));
    assert!(out.status.success(), "{}", stderr(&out));
}
