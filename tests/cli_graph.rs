//! The graph form of pipeline files, run by the real binary: a union, a join, a filter's
//! rejected side output and two sinks; two keyed stages in a row — at 1 and 2 workers against
//! outputs computed apart from the engine (scripts/gen_graph_fixture.py); and every graph
//! error of `weir validate` naming its path.

mod cli_support;

use cli_support::{
    assert_same_multiset, expected, output, pipeline_file, read_parts, stderr, weir,
};

fn run(pipeline: &str, workers: usize, sinks: &[(&str, &std::path::Path)], dead: &std::path::Path) {
    let mut cmd = weir();
    cmd.args(["run", pipeline, "--workers", &workers.to_string()]);
    cmd.arg("--dead-letter").arg(dead);
    for (name, dir) in sinks {
        cmd.arg("--set")
            .arg(format!("sinks.{name}.path={}", dir.display()));
    }
    let out = output(&mut cmd);
    assert!(out.status.success(), "{}", stderr(&out));
}

fn lines(dir: &std::path::Path) -> Vec<String> {
    read_parts(dir).into_iter().flatten().collect()
}

#[test]
fn union_join_side_output_and_two_sinks_match_the_oracle() {
    for workers in [1, 2] {
        let tmp = tempfile::tempdir().unwrap();
        let (joined, small) = (tmp.path().join("joined"), tmp.path().join("small"));
        let dead = tmp.path().join("dead.jsonl");
        run(
            "fixtures/graph/join.toml",
            workers,
            &[("joined", &joined), ("small", &small)],
            &dead,
        );
        assert_same_multiset("joined", &lines(&joined), &expected("graph_joined.csv"));
        assert_same_multiset("small", &lines(&small), &expected("graph_small.csv"));
        let dead = std::fs::read_to_string(&dead).unwrap();
        assert_eq!(
            dead.lines().count(),
            2,
            "one malformed line per source: {dead}"
        );
    }
}

#[test]
fn two_keyed_stages_in_a_row_match_the_oracle() {
    for workers in [1, 2] {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        run(
            "fixtures/graph/two_stage.toml",
            workers,
            &[("out", &out)],
            &tmp.path().join("d"),
        );
        assert_same_multiset("two_stage", &lines(&out), &expected("graph_two_stage.csv"));
    }
}

/// The issue's example as written, in a directory holding its `left.csv` and `right.csv`.
#[test]
fn the_documented_example_runs_as_written() {
    let text = std::fs::read_to_string(cli_support::root().join("fixtures/graph/join.toml"))
        .unwrap()
        .replace("fixtures/graph/", "");
    let (dir, path) = pipeline_file("p.toml", &text);
    for side in ["left", "right"] {
        std::fs::copy(
            cli_support::root().join(format!("fixtures/graph/{side}.csv")),
            dir.path().join(format!("{side}.csv")),
        )
        .unwrap();
    }
    let out = weir()
        .current_dir(dir.path())
        .args(["run", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_same_multiset(
        "joined",
        &lines(&dir.path().join("out/joined")),
        &expected("graph_joined.csv"),
    );
}

fn validate(text: &str) -> (bool, String) {
    let (_dir, path) = pipeline_file("p.toml", text);
    let out = output(weir().args(["validate", "--graph", path.to_str().unwrap()]));
    (
        out.status.success(),
        format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out)),
    )
}

const SOURCES: &str = r#"
[sources.a]
type = "generator"
events = 10
[sources.b]
type = "generator"
events = 10
"#;

#[test]
fn validate_names_every_graph_error() {
    let cases = [
        (
            r#"[[ops]]
name = "u"
type = "union"
inputs = ["a", "nope"]
[sinks.s]
input = "u"
type = "null""#,
            "ops[0].input: unknown input \"nope\"",
        ),
        (
            r#"[[ops]]
name = "x"
type = "filter"
input = "y"
field = "value"
op = ">"
value = 1
[[ops]]
name = "y"
type = "filter"
input = "x"
field = "value"
op = ">"
value = 1
[sinks.s]
input = "a"
type = "null"
[sinks.t]
input = "b"
type = "null""#,
            "cycle through x, y",
        ),
        (
            r#"[[ops]]
name = "sel"
type = "select"
input = "a"
fields = ["key"]
[[ops]]
name = "u"
type = "union"
inputs = ["sel", "b"]
[sinks.s]
input = "u"
type = "null""#,
            "a union needs one schema",
        ),
        (
            r#"[sinks.s]
type = "null""#,
            "sinks.s.input: missing",
        ),
        (
            r#"[[ops]]
name = "lonely"
type = "filter"
input = "a"
field = "value"
op = ">"
value = 1
[sinks.s]
input = "b"
type = "null""#,
            "ops.lonely: unused op",
        ),
    ];
    for (ops, want) in cases {
        let (ok, text) = validate(&format!("{SOURCES}{ops}"));
        assert!(!ok, "{ops}");
        assert!(text.contains(want), "expected {want:?} in:\n{text}");
    }
}

#[test]
fn validate_graph_prints_exchanges_and_fused_edges() {
    let (ok, text) = validate(&format!(
        "{SOURCES}{}",
        r#"[[ops]]
name = "u"
type = "union"
inputs = ["a", "b"]
[[ops]]
type = "key_by"
key = "key"
[[ops]]
name = "count"
type = "rolling"
aggregates = [ { fn = "count", as = "n" } ]
[sinks.s]
input = "count"
type = "null""#
    ));
    assert!(ok, "{text}");
    assert!(text.contains("a =>") && text.contains("b =>"), "{text}");
    assert!(text.contains("count ->"), "{text}");
}

/// `weir inspect` of a graph job's checkpoint lists its state per stage and its positions
/// per named source.
#[test]
fn inspect_lists_state_per_stage_and_positions_per_source() {
    let tmp = tempfile::tempdir().unwrap();
    let ckpt = tmp.path().join("ckpt");
    // Enough input that checkpoints with state are taken before the end.
    let input = tmp.path().join("events.csv");
    let gen = output(
        weir()
            .args(["gen", "--events", "300000", "--keys", "1000", "--out"])
            .arg(&input),
    );
    assert!(gen.status.success(), "{}", stderr(&gen));
    let out = output(
        weir()
            .args(["run", "fixtures/crash/two_stage.toml", "--workers", "2"])
            .arg("--set")
            .arg(format!("sources.events.path={}", input.display()))
            .arg("--set")
            .arg(format!(
                "sinks.out.path={}",
                tmp.path().join("out").display()
            ))
            .arg("--dead-letter")
            .arg(tmp.path().join("dead.jsonl"))
            .arg("--checkpoint-dir")
            .arg(&ckpt)
            .args([
                "--checkpoint-interval",
                "5ms",
                "--checkpoint-retain",
                "1000",
            ]),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let mut stateful = None;
    for entry in std::fs::read_dir(&ckpt).unwrap() {
        let path = entry.unwrap().path();
        if path.join("w0.state").exists() {
            stateful = Some(path);
        }
    }
    let chk = stateful.expect("a checkpoint with state (taken before the end)");
    let shown = output(weir().arg("inspect").arg(&chk));
    let text = String::from_utf8_lossy(&shown.stdout);
    for want in ["STAGE/STATE", "per_key/rolling", "per_n/rolling", "events"] {
        assert!(text.contains(want), "{want:?} missing from:\n{text}");
    }
}

/// The pre-flight guards every source and sink of a graph, not only the first: a user's file
/// in the second sink's directory is refused, and so is a sink directory holding an input.
#[test]
fn every_sink_and_source_of_a_graph_is_guarded() {
    let tmp = tempfile::tempdir().unwrap();
    let (joined, small) = (tmp.path().join("joined"), tmp.path().join("small"));
    std::fs::create_dir_all(&small).unwrap();
    std::fs::write(small.join("part-00000"), "the user's own file\n").unwrap();
    let run = |small: &std::path::Path| {
        output(
            weir()
                .args(["run", "fixtures/graph/join.toml"])
                .arg("--set")
                .arg(format!("sinks.joined.path={}", joined.display()))
                .arg("--set")
                .arg(format!("sinks.small.path={}", small.display()))
                .arg("--dead-letter")
                .arg(tmp.path().join("dead.jsonl")),
        )
    };
    let out = run(&small);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&*small.to_string_lossy()),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read_to_string(small.join("part-00000")).unwrap(),
        "the user's own file\n"
    );
    assert!(!joined.join("part-00000").exists(), "nothing written");
    // A sink directory that is the sources' directory: refused before any work.
    let inputs = cli_support::root().join("fixtures/graph");
    let out = run(&inputs);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("fixtures/graph"), "{}", stderr(&out));
    // A sink directory inside the checkpoint directory: an overlap, naming both fields.
    let ckpt = tmp.path().join("ckpt");
    let out = output(
        weir()
            .args(["run", "fixtures/graph/join.toml"])
            .arg("--set")
            .arg(format!("sinks.joined.path={}", joined.display()))
            .arg("--set")
            .arg(format!(
                "sinks.small.path={}",
                ckpt.join("chk-0000000001").display()
            ))
            .arg("--checkpoint-dir")
            .arg(&ckpt)
            .arg("--dead-letter")
            .arg(tmp.path().join("dead.jsonl")),
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("sinks.small.path") && err.contains("--checkpoint-dir"),
        "{err}"
    );
}
