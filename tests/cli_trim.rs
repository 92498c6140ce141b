//! `strand log trim`: finished runs past `--retention` expire, the records
//! nothing needs any more are archived then removed; what is left verifies,
//! replays (base + tail == the checkpoint in force), runs on, and the
//! archive plus an export rebuild the whole log. A dry run writes nothing.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a failure is the test failing"
)]

use std::path::PathBuf;

mod common;

use common::cli::{json, last_seq, strand, write};

type TestResult = Result<(), Box<dyn std::error::Error>>;

#[test]
fn given_finished_runs_when_trimmed_with_a_retention_then_the_log_starts_later_and_rebuilds_whole()
-> TestResult {
    let tmp = tempfile::tempdir()?;
    let data = tmp.path().join("data");
    let file = write(
        tmp.path(),
        "nightly.toml",
        "name = \"nightly\"\n[[task]]\nid = \"a\"\nrun = \"echo a\"\n\
         [[task]]\nid = \"b\"\nrun = \"echo b\"\ndeps = [\"a\"]\n",
    );
    let mut ids = Vec::new();
    for _ in 0..3 {
        let done = json(strand(&data).arg("run").arg(&file), 0);
        ids.push(done["run"].as_str().unwrap().to_owned());
    }
    let full_export = tmp.path().join("before.export");
    json(strand(&data).arg("export").arg(&full_export), 0);
    let end = last_seq(&data);

    // Keep the newest run: the other two expire, and the log can go up to
    // the newest run's submission.
    let trim = |yes: bool| {
        let mut cmd = strand(&data);
        cmd.args(["log", "trim", "--keep-runs", "1", "--keep-recent", "0s"]);
        if yes {
            cmd.arg("--yes");
        }
        json(&mut cmd, 0)
    };
    let dry = trim(false);
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["expired_runs"], 2);
    assert!(dry["records"].as_u64().unwrap() > 0, "{dry}");
    assert_eq!(last_seq(&data), end, "a dry run writes nothing");

    let done = trim(true);
    assert_eq!(done["expired_runs"], 2);
    assert_eq!(done["records"], dry["records"]);
    let upto = done["upto"].as_u64().unwrap();
    assert!(done["segment"]["path"].is_string(), "{done}");
    assert!(done["log_bytes_after"].is_u64());

    let verify = json(strand(&data).args(["log", "verify"]), 0);
    assert_eq!(verify["ok"], true, "{verify}");
    assert_eq!(verify["first_seq"], upto + 1);
    let replay = json(strand(&data).args(["replay", "--verify"]), 0);
    assert_eq!(replay["verified"], true, "{replay}");
    let runs = json(strand(&data).arg("runs"), 0);
    let listed: Vec<&str> = runs["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, [ids[2].as_str()]);
    let shown = json(strand(&data).args(["status", &ids[2]]), 0);
    assert_eq!(shown["beads"].as_array().map(Vec::len), Some(2), "{shown}");

    // Nothing more can go: the newest run holds it back.
    let again = trim(true);
    assert_eq!(again["records"], 0, "{again}");

    // The trimmed log runs on.
    let more = json(strand(&data).arg("run").arg(&file), 0);
    assert_eq!(more["state"], "completed");
    assert_eq!(json(strand(&data).args(["log", "verify"]), 0)["ok"], true);

    // Archive segments, then the trimmed log's export: the whole log.
    let list = json(strand(&data).args(["log", "archive", "list"]), 0);
    let mut files: Vec<PathBuf> = list["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| PathBuf::from(s["path"].as_str().unwrap()))
        .collect();
    assert_eq!(files.len(), 1);
    assert_eq!(list["segments"][0]["first_seq"], 1);
    let export = tmp.path().join("after.export");
    json(strand(&data).arg("export").arg(&export), 0);
    files.push(export);
    let whole = tmp.path().join("whole");
    let imported = json(strand(&whole).arg("import").args(&files), 0);
    assert_eq!(imported["first_seq"], 1);
    let verify = json(strand(&whole).args(["log", "verify"]), 0);
    assert_eq!(verify["ok"], true, "{verify}");
    assert_eq!(verify["first_seq"], 1);
    // Byte for byte what it was before the trim, then the run after it.
    let prefix = tmp.path().join("prefix");
    json(strand(&prefix).arg("import").arg(&full_export), 0);
    let dump = |dir: &std::path::Path| {
        let out = strand(dir)
            .args(["log", "dump", "--to", &end.to_string()])
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    assert_eq!(dump(&whole), dump(&prefix));
    Ok(())
}

#[test]
fn given_bad_trim_flags_when_run_then_exit_2_and_nothing_written() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let data = tmp.path().join("data");
    let file = write(
        tmp.path(),
        "one.toml",
        "name = \"one\"\n[[task]]\nid = \"a\"\nrun = \"echo a\"\n",
    );
    json(strand(&data).arg("run").arg(&file), 0);
    let end = last_seq(&data);
    for args in [
        &["log", "trim", "--before", "0", "--yes"][..],
        &["log", "trim", "--keep-runs", "0", "--yes"][..],
        &["log", "trim", "--retention-for", "one=soon", "--yes"][..],
    ] {
        let out = strand(&data).args(args).output()?;
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
    assert_eq!(last_seq(&data), end);
    Ok(())
}
