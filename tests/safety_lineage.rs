//! Issue 8, run as a user would (the real binary): a rerun without `--restore` never starts
//! over silently; `--fresh` killed before its first checkpoint loses nothing (`kill -9`); a
//! restore keeps to its lineage's dead-letter file and sink directory.
//!
//! Expected output comes from the input itself (the count pipeline emits `key,n` for
//! n = 1..=count of each key), not from the engine.

mod checkpoint_support;

use checkpoint_support::{
    assert_exit, assert_same_output, committed, complete_ids, crash_before_next_checkpoint, output,
    stderr, Scenario,
};
use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

/// Malformed lines put into the input (each is dead-lettered).
const BAD: [&str; 3] = ["x,1,2", "7,not-a-number,3", "1,2"];

/// A count scenario whose input holds the `BAD` lines among `events` good ones.
fn scenario(events: u64) -> Scenario {
    let s = Scenario::new("count", events, 500);
    let text = fs::read_to_string(&s.input).expect("input");
    let (header, rest) = text.split_once('\n').expect("a header");
    let bad: String = BAD.iter().map(|b| format!("{b}\n")).collect();
    fs::write(&s.input, format!("{header}\n{bad}{rest}")).expect("write input");
    s
}

/// The oracle: `key,n` for n = 1..=count of each key of the input's well-formed lines, sorted.
fn expected(input: &Path) -> Vec<String> {
    let text = fs::read_to_string(input).expect("input");
    let mut counts: BTreeMap<i64, u64> = BTreeMap::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        if f.len() == 3 && f.iter().all(|x| x.parse::<i64>().is_ok()) {
            *counts.entry(f[0].parse().expect("checked")).or_default() += 1;
        }
    }
    let mut lines: Vec<String> = counts
        .iter()
        .flat_map(|(k, &c)| (1..=c).map(move |n| format!("{k},{n}")))
        .collect();
    lines.sort_unstable();
    lines
}

/// The dead-letter file's lines, sorted (workers append in any order).
fn dead_lines(s: &Scenario) -> Vec<String> {
    let text = fs::read_to_string(s.path("weir-dead-letters.jsonl")).unwrap_or_default();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    lines.sort();
    lines
}

/// Names in the scenario directory that start with `prefix`.
fn names_with(s: &Scenario, prefix: &str) -> Vec<String> {
    fs::read_dir(&s.dir)
        .expect("scenario dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(prefix))
        .collect()
}

#[test]
fn rerun_without_restore_is_refused_and_prints_the_resume_command() {
    let s = scenario(20_000);
    let (out, ckpt) = (s.path("out"), s.path("ckpt"));
    assert_exit(&output(&mut s.ckpt_cmd(&out, &ckpt, "20ms", 2)), 0);
    let (before_out, before_ids) = (committed(&out), complete_ids(&ckpt));
    let before_dead = dead_lines(&s);
    assert_eq!(before_dead.len(), BAD.len());

    let again = output(&mut s.ckpt_cmd(&out, &ckpt, "20ms", 2));
    assert_exit(&again, 2);
    let err = stderr(&again);
    assert!(
        err.contains("--fresh") && err.contains(&*ckpt.to_string_lossy()),
        "{err}"
    );
    assert_same_output(&committed(&out), &before_out, "output untouched");
    assert_eq!(complete_ids(&ckpt), before_ids, "checkpoints untouched");
    assert_eq!(dead_lines(&s), before_dead, "dead letters untouched");

    // The printed command resumes: the run is complete, so there is nothing to do.
    let resume = err
        .lines()
        .skip_while(|l| !l.contains("To resume:"))
        .nth(1)
        .expect("a resume command line")
        .trim();
    assert!(resume.ends_with("--restore latest"), "{resume}");
    let done = output(
        std::process::Command::new("sh")
            .args(["-c", resume])
            .current_dir(&s.dir),
    );
    assert_exit(&done, 0);
    assert!(stderr(&done).contains("nothing to do"), "{}", stderr(&done));
    assert_same_output(&committed(&out), &expected(&s.input), "resumed");
}

#[test]
fn fresh_killed_before_its_first_checkpoint_loses_nothing() {
    let s = scenario(100_000);
    let want = expected(&s.input);
    let (out, ckpt) = (s.path("out"), s.path("ckpt"));
    assert_exit(&output(&mut s.ckpt_cmd(&out, &ckpt, "20ms", 2)), 0);
    assert_same_output(&committed(&out), &want, "the first run");
    let (ids, dead) = (complete_ids(&ckpt), dead_lines(&s));
    assert_eq!(dead.len(), BAD.len());

    // A mistaken --fresh, crashed (abort, like SIGKILL) before any checkpoint of its own.
    crash_before_next_checkpoint(s.ckpt_cmd(&out, &ckpt, "1h", 2).arg("--fresh"), &ckpt);
    assert_eq!(
        complete_ids(&ckpt),
        ids,
        "the old checkpoints are all there"
    );
    assert_same_output(&committed(&out), &want, "the old output is all there");
    let aside = names_with(&s, "weir-dead-letters.jsonl.weir-aside-");
    assert_eq!(
        aside.len(),
        1,
        "the old dead letters are kept aside: {aside:?}"
    );
    let mut kept: Vec<String> = fs::read_to_string(s.path(&aside[0]))
        .expect("aside")
        .lines()
        .map(String::from)
        .collect();
    kept.sort();
    assert_eq!(kept, dead);

    // The old lineage resumes as if nothing happened, its dead letters back in place.
    let done = output(
        s.ckpt_cmd(&out, &ckpt, "20ms", 2)
            .args(["--restore", "latest"]),
    );
    assert_exit(&done, 0);
    assert!(stderr(&done).contains("nothing to do"), "{}", stderr(&done));
    assert_same_output(&committed(&out), &want, "output");
    assert_eq!(dead_lines(&s), dead, "the old dead letters are back");
    assert!(names_with(&s, "weir-dead-letters.jsonl.").is_empty());

    // A --fresh that runs to its end replaces the old lineage: output exactly once.
    let done = output(s.ckpt_cmd(&out, &ckpt, "20ms", 2).arg("--fresh"));
    assert_exit(&done, 0);
    assert_same_output(
        &committed(&out),
        &want,
        "the fresh run's output, exactly once",
    );
    assert_eq!(dead_lines(&s), dead, "its own dead letters, once");
    let new_ids = complete_ids(&ckpt);
    assert!(
        new_ids.iter().all(|id| id > ids.last().expect("ids")),
        "old lineage retired: {new_ids:?} after {ids:?}"
    );
    assert!(names_with(&s, "weir-dead-letters.jsonl.").is_empty());
}

#[test]
fn restore_naming_another_dead_letter_file_is_refused() {
    let s = scenario(5_000);
    let (out, ckpt) = (s.path("out"), s.path("ckpt"));
    assert_exit(&output(&mut s.ckpt_cmd(&out, &ckpt, "20ms", 1)), 0);
    let dead = dead_lines(&s);
    let other = s.path("other.jsonl");
    let done = output(
        s.ckpt_cmd(&out, &ckpt, "20ms", 1)
            .args(["--restore", "latest", "--dead-letter"])
            .arg(&other),
    );
    assert_exit(&done, 2);
    let err = stderr(&done);
    assert!(
        err.contains("weir-dead-letters.jsonl") && err.contains("other.jsonl"),
        "{err}"
    );
    assert!(!other.exists(), "the other file is not created");
    assert_eq!(dead_lines(&s), dead);
}

#[test]
fn restore_into_another_runs_sink_directory_is_refused() {
    let s = scenario(5_000);
    let (out_a, ckpt_a) = (s.path("out-a"), s.path("ckpt-a"));
    let (out_b, ckpt_b) = (s.path("out-b"), s.path("ckpt-b"));
    let dead_b = ["--dead-letter", "dead-b.jsonl"];
    assert_exit(&output(&mut s.ckpt_cmd(&out_a, &ckpt_a, "20ms", 1)), 0);
    assert_exit(
        &output(s.ckpt_cmd(&out_b, &ckpt_b, "20ms", 1).args(dead_b)),
        0,
    );
    let before = committed(&out_b);
    let done = output(
        s.ckpt_cmd(&out_b, &ckpt_a, "20ms", 1)
            .args(["--restore", "latest"]),
    );
    assert_exit(&done, 2);
    assert!(stderr(&done).contains("another run"), "{}", stderr(&done));
    assert_same_output(&committed(&out_b), &before, "output");
}

#[test]
fn crash_between_the_fresh_lineages_first_commit_and_the_retirement_is_finished_by_a_restore() {
    let s = scenario(100_000);
    let want = expected(&s.input);
    let (out, ckpt) = (s.path("out"), s.path("ckpt"));
    assert_exit(&output(&mut s.ckpt_cmd(&out, &ckpt, "20ms", 2)), 0);
    let (ids, dead) = (complete_ids(&ckpt), dead_lines(&s));
    let first_new = ids.last().expect("checkpoints") + 1;

    // The new lineage's first MANIFEST is committed, then the process aborts: its output is
    // not published and the old lineage is not retired yet.
    let crashed = output(
        s.ckpt_cmd(&out, &ckpt, "10ms", 2)
            .arg("--fresh")
            .env("WEIR_CRASH_AT", format!("after-manifest:{first_new}")),
    );
    assert!(!crashed.status.success(), "{}", stderr(&crashed));
    assert!(complete_ids(&ckpt).contains(&first_new));
    assert_same_output(&committed(&out), &want, "the old output is still there");

    // The restore continues the new lineage and finishes its retirement first.
    let done = output(
        s.ckpt_cmd(&out, &ckpt, "20ms", 2)
            .args(["--restore", "latest"]),
    );
    assert_exit(&done, 0);
    assert_same_output(
        &committed(&out),
        &want,
        "exactly once: the old lineage's output is gone",
    );
    assert_eq!(dead_lines(&s), dead);
    assert!(complete_ids(&ckpt).iter().all(|&id| id >= first_new));
    assert!(names_with(&s, "weir-dead-letters.jsonl.").is_empty());
}
