//! Tests of expressions: values on hand-made rows, types, and error messages.

use super::expr::Expr;
use crate::record::{Field, FieldType, Row, Schema, Value};

fn schema() -> Schema {
    let f = |name: &str, ty| Field {
        name: name.to_string(),
        ty,
    };
    Schema {
        fields: vec![
            f("auction", FieldType::I64),
            f("price", FieldType::I64),
            f("state", FieldType::String),
            f("dateTime", FieldType::Timestamp),
            f("ratio", FieldType::F64),
            f("extra", FieldType::String),
        ],
    }
}

/// 2015-07-15T13:45:06.789Z.
const T: i64 = 1_436_918_400_000 + 13 * 3_600_000 + 45 * 60_000 + 6_789;

fn row(auction: i64, price: i64, state: &str) -> Row {
    [
        Value::I64(auction),
        Value::I64(price),
        Value::Str(state.into()),
        Value::Ts(T),
        Value::F64(0.5),
        Value::Str("abcabc c".into()),
    ]
    .into_iter()
    .collect()
}

fn eval(text: &str, r: &Row) -> Value {
    Expr::compile(text, &schema())
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .value(r)
}

fn test(text: &str, r: &Row) -> bool {
    Expr::compile(text, &schema())
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .test(r)
}

fn err(text: &str) -> String {
    Expr::compile(text, &schema()).expect_err(text)
}

#[test]
fn arithmetic_keeps_integers_integral() {
    let r = row(1107, 32_530_001, "OR");
    assert_eq!(eval("price * 908 / 1000", &r), Value::I64(29_537_240));
    assert_eq!(eval("auction % 123", &r), Value::I64(0));
    assert_eq!(eval("-price + 1", &r), Value::I64(-32_530_000));
    assert_eq!(eval("(1 + 2) * 3 - 4 / 2", &r), Value::I64(7));
    assert_eq!(eval("price * 0.5", &r), Value::F64(16_265_000.5));
    assert_eq!(eval("ratio * 4", &r), Value::F64(2.0));
    assert_eq!(
        eval("decimal(price * 908, 3)", &r),
        Value::Str("29537240.908".into())
    );
    assert_eq!(eval("dateTime + 1", &r), Value::Ts(T + 1));
    assert_eq!(eval("dateTime - dateTime", &r), Value::I64(0));
    assert_eq!(eval("int(ratio * 5)", &r), Value::I64(2));
    assert_eq!(eval("abs(3 - price)", &r), Value::I64(32_529_998));
}

#[test]
fn null_overflow_and_division_by_zero_are_null() {
    let r = row(1107, 5, "OR");
    assert_eq!(eval("price / 0", &r), Value::Null);
    assert_eq!(eval("price % 0", &r), Value::Null);
    assert_eq!(eval("9223372036854775807 + price", &r), Value::Null);
    assert!(!test("price / 0 == 1", &r));
    assert!(!test("not (price / 0 == 1)", &r));
    let mut nulls = r.clone();
    nulls[1] = Value::Null;
    assert!(!test("price > 0", &nulls));
    // false wins over null in `and`, true in `or`.
    assert!(test("price > 0 || auction == 1107", &nulls));
    assert!(!test("price > 0 && auction == 1107", &nulls));
}

#[test]
fn predicates_of_the_nexmark_queries() {
    let yes = row(1107, 1_101_322, "OR");
    let no = row(1108, 1_101_321, "WA");
    for (text, want_yes, want_no) in [
        ("auction % 123 == 0", true, false),
        ("state in ('OR','ID','CA')", true, false),
        ("state not in ('OR','ID','CA')", false, true),
        ("auction in (1107, -3) and state = 'OR'", true, false),
        (
            "1000000 * 1000 < price * 908 && price * 908 < 50000000 * 1000",
            true,
            false,
        ),
        ("!(auction != 1107)", true, false),
        ("state >= 'P' or price < 0", false, true),
        ("true", true, true),
    ] {
        assert_eq!(test(text, &yes), want_yes, "{text} on yes");
        assert_eq!(test(text, &no), want_no, "{text} on no");
    }
}

#[test]
fn functions_of_time_and_strings() {
    let r = row(1, 2, "OR");
    assert_eq!(eval("hour(dateTime)", &r), Value::I64(13));
    assert_eq!(eval("minute(dateTime)", &r), Value::I64(45));
    assert_eq!(eval("date(dateTime)", &r), Value::Str("2015-07-15".into()));
    assert_eq!(
        eval("format(dateTime, 'HH:mm')", &r),
        Value::Str("13:45".into())
    );
    assert_eq!(eval("count_char(extra, 'c')", &r), Value::I64(3));
    assert_eq!(eval("len(state)", &r), Value::I64(2));
    let kind = "if(hour(dateTime) >= 8 && hour(dateTime) <= 18, 'dayTime', \
                if(hour(dateTime) <= 6 || hour(dateTime) >= 20, 'nightTime', 'otherTime'))";
    assert_eq!(eval(kind, &r), Value::Str("dayTime".into()));
    assert_eq!(eval("if(price > 1, 1, 2.5)", &r), Value::F64(1.0));
}

#[test]
fn errors_name_the_field_and_the_place() {
    assert_eq!(
        err("state == 10"),
        "cannot compare field \"state\" (string) with 10 (i64)"
    );
    assert!(err("nope > 1").starts_with("unknown field \"nope\" (fields: auction, price,"));
    assert_eq!(err("price +"), "unexpected end of the expression");
    assert_eq!(err("price ) 1"), "unexpected ) at column 7");
    assert_eq!(err("price # 1"), "unexpected character '#' at column 7");
    assert!(err("'abc").starts_with("unterminated string"));
    assert!(err("state + 1").contains("field \"state\" (string)"));
    assert!(err("price and true").contains("field \"price\" (i64)"));
    assert!(err("foo(price)").starts_with("unknown function foo()"));
    assert!(err("hour(state)").contains("field \"state\" (string)"));
    assert!(err("hour(dateTime, 1)").contains("takes 1 argument"));
    assert!(err("state in (1, 2)").contains("constants of its type"));
    assert!(err("99999999999999999999").contains("out of range"));
    assert!(err("if(price > 1, 'a', 2)").contains("branches differ"));
}

#[test]
fn no_input_panics() {
    let r = row(1, 2, "x");
    for text in [
        "",
        "(",
        ")",
        "((((",
        "- -",
        "in",
        "not",
        "price in",
        "price in (",
        "'",
        "\"",
        "decimal(price, 99)",
        "count_char(state, 'ab')",
        "format(dateTime, 'x')",
        "é + 1",
        "1.",
        ".5",
        "a,b",
        "price <> 1 <> 2",
    ] {
        if let Ok(e) = Expr::compile(text, &schema()) {
            let _ = e.value(&r);
            let _ = e.test(&r);
        }
    }
}

#[test]
fn pipeline_files_use_expressions_in_filter_and_select() {
    let text = r#"
        [source]
        type = "nexmark"
        kind = "bid"
        [[ops]]
        type = "filter"
        where = "auction % 123 == 0"
        [[ops]]
        type = "select"
        fields = ["auction", { expr = "decimal(price * 908, 3)", as = "price" },
                  { field = "bidder", as = "who" }, { name = "h", expr = "hour(dateTime)" }]
        [[ops]]
        type = "filter"
        field = "h"
        op = ">="
        value = 0
        [sink]
        type = "null"
    "#;
    let plan = crate::pipeline::parse_str(text, &[]).expect("valid");
    let types: Vec<(&str, FieldType)> = plan
        .output_schema
        .fields
        .iter()
        .map(|f| (f.name.as_str(), f.ty))
        .collect();
    assert_eq!(
        types,
        [
            ("auction", FieldType::I64),
            ("price", FieldType::String),
            ("who", FieldType::I64),
            ("h", FieldType::I64)
        ]
    );
    let bad = text.replace("auction % 123 == 0", "state == 'OR'");
    let Err(crate::Error::Config(errs)) = crate::pipeline::parse_str(&bad, &[]) else {
        panic!("accepted an unknown field");
    };
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(
        errs[0].starts_with("ops[0].where: unknown field \"state\""),
        "{errs:?}"
    );
    let bad = text.replace("hour(dateTime)", "hour(extra)");
    let Err(crate::Error::Config(errs)) = crate::pipeline::parse_str(&bad, &[]) else {
        panic!("accepted hour of a string");
    };
    assert!(
        errs[0].starts_with("ops[1].fields[3]: hour() needs"),
        "{errs:?}"
    );
}
