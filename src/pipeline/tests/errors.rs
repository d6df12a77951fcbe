//! One test per validation error kind: the exact path and message.

use super::{error, errors_of, plan, with_ops, SINK, SOURCE};

#[test]
fn toml_syntax_error_has_line_and_column() {
    let e = error("[source]\ntype = \"file\"\npath = \n");
    assert!(e.starts_with("line 3, column 8: "), "{e}");
}

#[test]
fn missing_sections_and_keys() {
    assert_eq!(error(SINK), "source: missing");
    assert_eq!(error(SOURCE), "sink: missing");
    assert_eq!(
        error(&with_ops("").replace("type = \"null\"", "")),
        "sink.type: missing"
    );
    assert_eq!(
        error(&with_ops("").replace("path = \"events.csv\"", "")),
        "source.path: missing"
    );
    assert_eq!(
        error(&format!("{SOURCE}\n[sink]\ntype = \"file\"\n")),
        "sink.path: missing"
    );
}

#[test]
fn unknown_choices_list_the_options() {
    assert_eq!(
        error(&with_ops("").replace("type = \"file\"", "type = \"fil\"")),
        "source.type: unknown source type \"fil\" (expected file, stdin, generator, tcp, nexmark)"
    );
    assert_eq!(
        error(&with_ops("").replace("type = \"null\"", "type = \"nul\"")),
        "sink.type: unknown sink type \"nul\" (expected file, stdout, null, tcp)"
    );
    assert_eq!(
        error(&with_ops("").replace("path = \"events.csv\"", "path = \"e\"\nformat = \"xml\"")),
        "source.format: unknown format \"xml\" (expected csv, jsonl)"
    );
    assert_eq!(
        error(&with_ops("[[ops]]\ntype = \"map\"")),
        "ops[0].type: unknown op type \"map\" (expected filter, select, key_by, rolling, process, window, aggregate, top_n, max_rows)"
    );
    assert_eq!(
        error(&with_ops(
            "[[ops]]\ntype = \"filter\"\nfield = \"value\"\nop = \"=\"\nvalue = 1"
        )),
        "ops[0].op: unknown comparison \"=\" (expected ==, !=, <, <=, >, >=)"
    );
}

#[test]
fn wrong_value_types_and_empty_strings() {
    assert_eq!(
        error(&with_ops("").replace("\"events.csv\"", "5")),
        "source.path: expected a string, found an integer"
    );
    assert_eq!(
        error(&with_ops("").replace("\"events.csv\"", "\"\"")),
        "source.path: must not be empty"
    );
    assert_eq!(
        error(&format!("name = 1\n{}", with_ops(""))),
        "name: expected a string, found an integer"
    );
    assert_eq!(
        error(&format!("ops = 1\n{}", with_ops(""))),
        "ops: expected an array, found an integer"
    );
    assert_eq!(
        error(&with_ops("[ops]\ntype = \"filter\"")),
        "ops: expected an array, found a table"
    );
    assert_eq!(
        error(&format!("{}\n[runtime]\nworkers = \"2\"\n", with_ops(""))),
        "runtime.workers: expected an integer, found a string"
    );
}

#[test]
fn unknown_keys_everywhere() {
    assert_eq!(
        error(&format!("frobnicate = 1\n{}", with_ops(""))),
        "frobnicate: unknown key"
    );
    let ops = "[[ops]]\ntype = \"filter\"\nfield = \"value\"\nop = \">\"\nvalue = 1\n\
               [[ops]]\ntype = \"select\"\nfields = [\"user\"]\nfrobnicate = true";
    assert_eq!(error(&with_ops(ops)), "ops[1].frobnicate: unknown key");
    assert_eq!(
        error(&with_ops("").replace("type = \"i64\" }", "type = \"i64\", nullable = true }")),
        "source.schema[1].nullable: unknown key"
    );
    // A key of another variant is unknown for this one.
    let ops = "[[ops]]\ntype = \"key_by\"\nkey = \"user\"\n[[ops]]\ntype = \"process\"\nfunction = \"dedup\"\nfield = \"value\"";
    assert_eq!(error(&with_ops(ops)), "ops[1].field: unknown key");
    assert_eq!(
        error(&format!(
            "{SOURCE}\n[sink]\ntype = \"null\"\npath = \"out\"\n"
        )),
        "sink.path: unknown key"
    );
}

#[test]
fn source_decode_errors() {
    assert_eq!(
        error(&with_ops("").replace(
            "path = \"events.csv\"",
            "path = \"e\"\nformat = \"jsonl\"\nheader = true"
        )),
        "source.header: only valid with format = \"csv\""
    );
    assert_eq!(
        error(&with_ops("").replace("path = \"events.csv\"", "path = \"e\"\nmax_line_bytes = 0")),
        "source.max_line_bytes: 0 must be at least 1"
    );
    assert_eq!(
        error(&with_ops("").replace("type = \"i64\"", "type = \"int\"")),
        "source.schema[1].type: unknown field type \"int\" (expected i64, f64, string, timestamp)"
    );
    assert_eq!(
        error(&with_ops("").replace("name = \"ts\"", "name = \"user\"")),
        "source.schema[2].name: duplicate field \"user\""
    );
    let empty = "[source]\ntype = \"stdin\"\nschema = []\n[sink]\ntype = \"null\"";
    assert_eq!(
        error(empty),
        "source.schema: must declare at least one field"
    );
    let not_table = "[source]\ntype = \"stdin\"\nschema = [\"a\"]\n[sink]\ntype = \"null\"";
    assert_eq!(
        error(not_table),
        "source.schema[0]: expected a table { name = ..., type = ... }"
    );
    assert_eq!(
        error("[source]\ntype = \"stdin\"\n[sink]\ntype = \"null\""),
        "source.schema: missing"
    );
}

#[test]
fn generator_errors() {
    let gen = "[source]\ntype = \"generator\"\nkeys = 0\n[sink]\ntype = \"null\"";
    assert_eq!(error(gen), "source.keys: 0 must be at least 1");
    let gen = "[source]\ntype = \"generator\"\nschema = [ { name = \"a\", type = \"i64\" } ]\n[sink]\ntype = \"null\"";
    assert_eq!(
        error(gen),
        "source.schema: a generator's schema is fixed (key i64, value i64, ts timestamp); remove it"
    );
    let gen = "[source]\ntype = \"generator\"\npath = \"x\"\n[sink]\ntype = \"null\"";
    assert_eq!(error(gen), "source.path: unknown key");
}

#[test]
fn unknown_field_lists_the_fields() {
    let ops = "[[ops]]\ntype = \"filter\"\nfield = \"value\"\nop = \">\"\nvalue = 1\n\
               [[ops]]\ntype = \"select\"\nfields = [\"user\", \"value\", \"ts\"]\n\
               [[ops]]\ntype = \"key_by\"\nkey = [\"usr\"]\n\
               [[ops]]\ntype = \"process\"\nfunction = \"dedup\"";
    assert_eq!(
        error(&with_ops(ops)),
        "ops[2].key: unknown field \"usr\" (fields: user, value, ts)"
    );
    let ops = "[[ops]]\ntype = \"filter\"\nfield = \"valu\"\nop = \">\"\nvalue = 1";
    assert_eq!(
        error(&with_ops(ops)),
        "ops[0].field: unknown field \"valu\" (fields: user, value, ts)"
    );
    // Fields renamed by a select are what the next op sees.
    let ops = "[[ops]]\ntype = \"select\"\nfields = [{ field = \"value\", as = \"v\" }]\n\
               [[ops]]\ntype = \"filter\"\nfield = \"value\"\nop = \">\"\nvalue = 1";
    assert_eq!(
        error(&with_ops(ops)),
        "ops[1].field: unknown field \"value\" (fields: v)"
    );
    let ops = "[[ops]]\ntype = \"select\"\nfields = [\"user\", { field = \"vlaue\" }]";
    assert_eq!(
        error(&with_ops(ops)),
        "ops[0].fields[1].field: unknown field \"vlaue\" (fields: user, value, ts)"
    );
}

#[test]
fn filter_constants_must_fit_the_field() {
    let f = |field: &str, value: &str| {
        with_ops(&format!(
            "[[ops]]\ntype = \"filter\"\nfield = \"{field}\"\nop = \"==\"\nvalue = {value}"
        ))
    };
    assert_eq!(
        error(&f("value", "\"abc\"")),
        "ops[0].value: \"abc\" is not an i64 (field \"value\" is i64)"
    );
    assert_eq!(
        error(&f("value", "1.5")),
        "ops[0].value: 1.5 is not an i64 (field \"value\" is i64)"
    );
    assert_eq!(
        error(&f("user", "10")),
        "ops[0].value: 10 is not a string (field \"user\" is string)"
    );
    assert_eq!(
        error(&f("ts", "\"yesterday\"")),
        "ops[0].value: \"yesterday\" is not a timestamp (field \"ts\" is timestamp)"
    );
    assert_eq!(
        error(&f("value", "true")),
        "ops[0].value: expected an integer, float or string, found a boolean"
    );
    assert_eq!(
        error(&with_ops(
            "[[ops]]\ntype = \"filter\"\nfield = \"value\"\nop = \"==\""
        )),
        "ops[0].value: missing"
    );
}

#[test]
fn select_and_key_by_errors() {
    let sel = |fields: &str| with_ops(&format!("[[ops]]\ntype = \"select\"\nfields = {fields}"));
    assert_eq!(
        error(&sel("[]")),
        "ops[0].fields: must list at least one field"
    );
    assert_eq!(
        error(&sel("[\"user\", { field = \"value\", as = \"user\" }]")),
        "ops[0].fields[1].as: duplicate output field \"user\""
    );
    assert_eq!(
        error(&sel("[\"user\", 3]")),
        "ops[0].fields[1]: expected a field name or { field = ..., as = ... }, found an integer"
    );
    let kb = |key: &str| {
        with_ops(&format!("[[ops]]\ntype = \"key_by\"\nkey = {key}\n[[ops]]\ntype = \"process\"\nfunction = \"dedup\""))
    };
    assert_eq!(error(&kb("[]")), "ops[0].key: must list at least one field");
    assert_eq!(
        error(&kb("[\"user\", \"user\"]")),
        "ops[0].key: duplicate key field \"user\""
    );
    assert_eq!(
        error(&kb("[1]")),
        "ops[0].key: expected a field name or an array of names, found an array"
    );
}

#[test]
fn order_rules() {
    let filter = "[[ops]]\ntype = \"filter\"\nfield = \"value\"\nop = \">\"\nvalue = 1\n";
    let key_by = "[[ops]]\ntype = \"key_by\"\nkey = \"user\"\n";
    let dedup = "[[ops]]\ntype = \"process\"\nfunction = \"dedup\"\n";
    let rolling = "[[ops]]\ntype = \"rolling\"\naggregates = [ { fn = \"count\" } ]\n";
    assert_eq!(
        error(&with_ops(rolling)),
        "ops[0].type: \"rolling\" needs a key_by before it"
    );
    assert_eq!(
        error(&with_ops(dedup)),
        "ops[0].type: \"process\" needs a key_by before it"
    );
    assert_eq!(
        error(&with_ops(&[key_by, filter, dedup].concat())),
        "ops[0].type: key_by must be directly followed by a rolling, process or window op (found \"filter\" at ops[1])"
    );
    assert_eq!(
        error(&with_ops(&[filter, key_by].concat())),
        "ops[1].type: key_by must be directly followed by a rolling, process or window op (it is the last op)"
    );
    assert_eq!(
        error(&with_ops(&[key_by, dedup, key_by, dedup].concat())),
        "ops[2].type: only one key_by is allowed (the first is ops[0])"
    );
    assert_eq!(
        error(&with_ops(&[key_by, dedup, filter, rolling].concat())),
        "ops[3].type: only one rolling, process or window op is allowed after key_by (the first is ops[1])"
    );
    // A keyed op after a misplaced key_by sees another schema: one error, no panic.
    let select = "[[ops]]\ntype = \"select\"\nfields = [\"user\"]\n";
    let key_ts = "[[ops]]\ntype = \"key_by\"\nkey = \"ts\"\n";
    let sum = "[[ops]]\ntype = \"rolling\"\naggregates = [ { fn = \"count\" } ]\n";
    assert_eq!(
        error(&with_ops(&[key_ts, select, sum].concat())),
        "ops[0].type: key_by must be directly followed by a rolling, process or window op (found \"select\" at ops[1])"
    );
    // Stateless ops before key_by and after the keyed op are fine.
    let p = plan(&with_ops(&[filter, key_by, dedup, filter].concat()));
    assert_eq!((p.pre.len(), p.post.len()), (1, 1));
}

#[test]
fn rolling_errors() {
    let roll = |aggs: &str| {
        with_ops(&format!("[[ops]]\ntype = \"key_by\"\nkey = \"user\"\n[[ops]]\ntype = \"rolling\"\naggregates = {aggs}"))
    };
    assert_eq!(
        error(&roll("[]")),
        "ops[1].aggregates: must list at least one aggregate"
    );
    assert_eq!(
        error(&roll("[ { fn = \"median\", field = \"value\" } ]")),
        "ops[1].aggregates[0].fn: unknown aggregate function \"median\" (expected sum, count, min, max, avg)"
    );
    assert_eq!(
        error(&roll("[ { fn = \"sum\" } ]")),
        "ops[1].aggregates[0].field: missing"
    );
    assert_eq!(
        error(&roll(
            "[ { fn = \"count\" }, { fn = \"avg\", field = \"user\" } ]"
        )),
        "ops[1].aggregates[1].field: avg needs a numeric field (\"user\" is string)"
    );
    assert_eq!(
        error(&roll("[ { fn = \"max\", field = \"ts\" } ]")),
        "ops[1].aggregates[0].field: max needs a numeric field (\"ts\" is timestamp)"
    );
    assert_eq!(
        error(&roll(
            "[ { fn = \"sum\", field = \"value\", as = \"user\" } ]"
        )),
        "ops[1].aggregates[0].as: duplicate output field \"user\""
    );
    assert_eq!(
        error(&roll("[ { fn = \"count\" }, { fn = \"count\" } ]")),
        "ops[1].aggregates[1]: duplicate output field \"count\""
    );
    assert_eq!(
        error(&roll("[ { fn = \"count\", as = \"n\", of = \"x\" } ]")),
        "ops[1].aggregates[0].of: unknown key"
    );
}

#[test]
fn process_errors() {
    let process = |body: &str| {
        with_ops(&format!(
            "[[ops]]\ntype = \"key_by\"\nkey = \"user\"\n[[ops]]\ntype = \"process\"\n{body}"
        ))
    };
    assert_eq!(
        error(&process("function = \"top\"")),
        "ops[1].function: unknown function \"top\" (expected dedup, zscore)"
    );
    assert_eq!(
        error(&process("function = \"dedup\"\nttl = \"10 parsecs\"")),
        "ops[1].ttl: \"10 parsecs\" is not a duration (unknown time unit \"parsecs\", supported units: \
         ns, us/µs, ms, sec, min, hours, days, weeks, months, years (and few variations); \
         e.g. \"500ms\", \"10s\", \"5m\")"
    );
    assert_eq!(
        error(&process("function = \"dedup\"\nttl = \"0s\"")),
        "ops[1].ttl: must be greater than zero"
    );
    assert_eq!(
        error(&process("function = \"zscore\"")),
        "ops[1].field: missing"
    );
    assert_eq!(
        error(&process("function = \"zscore\"\nfield = \"user\"")),
        "ops[1].field: zscore needs a numeric field (\"user\" is string)"
    );
    assert_eq!(
        error(&process(
            "function = \"zscore\"\nfield = \"value\"\nmin_count = 1"
        )),
        "ops[1].min_count: 1 must be at least 2"
    );
    assert_eq!(
        error(&process(
            "function = \"zscore\"\nfield = \"value\"\nthreshold = -1"
        )),
        "ops[1].threshold: -1 must be a number >= 0"
    );
    assert_eq!(
        error(&process(
            "function = \"zscore\"\nfield = \"value\"\nas = \"ts\""
        )),
        "ops[1].as: output field \"ts\" already exists (set `as`)"
    );
}

#[test]
fn checkpoint_and_runtime_errors() {
    let with = |section: &str| format!("{}\n{section}\n", with_ops(""));
    assert_eq!(
        error(&with("[checkpoint]\ninterval = \"1s\"")),
        "checkpoint.dir: missing"
    );
    assert_eq!(
        error(&with("[checkpoint]\ndir = \"c\"\ninterval = \"0ms\"")),
        "checkpoint.interval: must be greater than zero"
    );
    assert_eq!(
        error(&with("[checkpoint]\ndir = \"c\"\nretain = 0")),
        "checkpoint.retain: 0 is out of range 1..=1000000"
    );
    assert_eq!(
        error(&with("[checkpoint]\ndir = \"c\"\ninterval = \"400days\"")),
        "checkpoint.interval: 34560000s is out of range 1ms..=365d"
    );
    assert_eq!(
        error(&with("[runtime]\nmax_parallelism = 100")),
        "runtime.max_parallelism: 100 is not a power of two"
    );
    assert_eq!(
        error(&with("[runtime]\nmax_parallelism = 65536")),
        "runtime.max_parallelism: 65536 is out of range 1..=32768"
    );
    assert_eq!(
        error(&with("[runtime]\nworkers = 0")),
        "runtime.workers: 0 is out of range 1..=4096"
    );
    assert_eq!(
        error(&with("[runtime]\nworkers = 8\nmax_parallelism = 4")),
        "runtime.workers: 8 is more than runtime.max_parallelism (4)"
    );
    assert_eq!(
        error(&with("[runtime]\non_error = \"ignore\"")),
        "runtime.on_error: unknown on_error value \"ignore\" (expected dead_letter, fail)"
    );
    assert_eq!(
        error(&with("[runtime]\nbatch_size = 0")),
        "runtime.batch_size: 0 is out of range 1..=1048576"
    );
}

#[test]
fn all_errors_are_reported_together() {
    let text = r#"
name = ""
bogus = 1
[source]
type = "file"
format = "jsonl"
header = true
schema = [ { name = "user", type = "string" }, { name = "value", type = "i64" } ]
[[ops]]
type = "filter"
field = "value"
op = ">="
value = "abc"
[[ops]]
type = "key_by"
key = ["usr"]
[[ops]]
type = "rolling"
aggregates = [ { fn = "sum", field = "nope" } ]
[sink]
type = "file"
[runtime]
max_parallelism = 100
"#;
    assert_eq!(
        errors_of(text, &[]),
        [
            "name: must not be empty",
            "source.path: missing",
            "source.header: only valid with format = \"csv\"",
            "ops[0].value: \"abc\" is not an i64 (field \"value\" is i64)",
            "sink.path: missing",
            "runtime.max_parallelism: 100 is not a power of two",
            "bogus: unknown key",
        ]
    );
}

#[test]
fn a_failed_op_does_not_cascade() {
    // ops[0] fails, so ops[1]'s unknown field is not reported, but its structure still is.
    let ops = "[[ops]]\ntype = \"select\"\nfields = [\"nope\"]\n\
               [[ops]]\ntype = \"filter\"\nfield = \"whatever\"\nop = \"~\"\nvalue = 1";
    assert_eq!(
        errors_of(&with_ops(ops), &[]),
        [
            "ops[0].fields[0]: unknown field \"nope\" (fields: user, value, ts)",
            "ops[1].op: unknown comparison \"~\" (expected ==, !=, <, <=, >, >=)",
        ]
    );
}
