//! The fingerprint of windowed plans: settings change it, defaults of later-added settings
//! do not, and the encoding is pinned (it is persisted in checkpoint manifests).

use super::plan_with;

const WINDOWED: &str = r#"
[source]
type = "file"
path = "events.csv"
schema = [ { name = "key", type = "i64" }, { name = "value", type = "i64" }, { name = "ts", type = "i64" } ]

[source.event_time]
field = "ts"
max_out_of_orderness = "10s"

[[ops]]
type = "key_by"
key = "key"

[[ops]]
type = "window"
kind = "tumbling"
size = "10ms"
aggregates = [ { fn = "count", as = "n" }, { fn = "sum", field = "value", as = "sum" } ]

[sink]
type = "null"
"#;

fn fp(sets: &[&str]) -> u64 {
    plan_with(WINDOWED, sets).fingerprint
}

#[test]
fn window_settings_change_the_fingerprint_and_defaults_do_not() {
    let base = fp(&[]);
    // Spelling out a default is the same pipeline.
    assert_eq!(fp(&["ops[1].time=event"]), base);
    for different in [
        &["ops[1].size=20ms"][..],
        &["ops[1].time=processing"],
        &["ops[1].kind=sliding", "ops[1].slide=5ms"],
        &["ops[1].allowed_lateness=5ms"],
        &["ops[1].aggregates[1].fn=max"],
        &["ops[1].aggregates[0].as=count"],
    ] {
        let got = plan_with(WINDOWED, different);
        assert_ne!(got.fingerprint, base, "{different:?}");
    }
    assert_eq!(
        base, GOLDEN_WINDOW,
        "fingerprint encoding changed: bump ENCODING_TAG"
    );
}

#[test]
fn a_windowed_zscore_has_its_own_fingerprint() {
    let text = WINDOWED.replace(
        "[[ops]]\ntype = \"window\"\nkind = \"tumbling\"\nsize = \"10ms\"\naggregates = [ { fn = \"count\", as = \"n\" }, { fn = \"sum\", field = \"value\", as = \"sum\" } ]",
        "[[ops]]\ntype = \"process\"\nfunction = \"zscore\"\nfield = \"value\"\nwindow = \"1s\"",
    );
    let z = |sets: &[&str]| plan_with(&text, sets).fingerprint;
    let base = z(&[]);
    assert_ne!(base, fp(&[]));
    assert_ne!(z(&["ops[1].window=2s"]), base);
    assert_eq!(z(&[]), base);
}

/// The fingerprint of [`WINDOWED`] (a canonical encoding, not `Debug` text).
const GOLDEN_WINDOW: u64 = 9_928_790_440_839_829_604;
