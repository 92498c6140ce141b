//! A data directory written before runs existed (tests/fixtures/before-runs)
//! still opens: its workflows are runs whose ids are the old workflow ids,
//! with an empty input and their text outputs; the unfinished one resumes
//! under `strand run` without running its completed bead again.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a failure is the test failing"
)]

use std::path::{Path, PathBuf};
use std::process::Command;

use strand::eventlog::{EventLog, Seq};
use strand::projections::DomainEvent;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn fixture() -> PathBuf {
    // Cargo sets the crate's directory when it runs the test; the compiled-in
    // one may name another clone that shared the target directory.
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
        .join("tests/fixtures/before-runs")
}

/// A copy of the fixture's data directory (tests never touch the original).
fn copied(into: &Path) -> PathBuf {
    let data = into.join("data");
    std::fs::create_dir_all(&data).unwrap();
    for entry in std::fs::read_dir(fixture().join("data")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), data.join(entry.file_name())).unwrap();
    }
    data
}

fn strand(data: &Path) -> Command {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("strand"));
    cmd.arg("--data")
        .arg(data)
        .arg("-q")
        .env_remove("STRAND_DATA");
    cmd
}

fn json(cmd: &mut Command) -> serde_json::Value {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// How many completions of `bead` the run's stream holds.
fn completions(data: &Path, run: &str, bead: &str) -> usize {
    let log = EventLog::open_read_only(data).unwrap();
    log.read_stream(&format!("workflow/{run}"), Seq::FIRST)
        .unwrap()
        .filter(|event| {
            let event = strand::actors::decode(event.as_ref().unwrap()).unwrap().1;
            match event {
                DomainEvent::BeadCompleted { bead: b, .. }
                | DomainEvent::BeadCompletedWithOutput { bead: b, .. } => b.as_str() == bead,
                _ => false,
            }
        })
        .count()
}

#[test]
fn given_a_log_from_before_runs_when_opened_then_its_workflows_are_runs_with_their_outputs()
-> TestResult {
    let tmp = tempfile::tempdir()?;
    let data = copied(tmp.path());
    let status = json(strand(&data).args(["-o", "json", "status"]));
    let mut runs: Vec<(String, String)> = status["workflows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let id = r["id"].as_str().unwrap().to_owned();
            (id, r["status"].as_str().unwrap().to_owned())
        })
        .collect();
    runs.sort();
    assert_eq!(
        runs,
        [
            ("finished".to_owned(), "completed".to_owned()),
            ("legacy".to_owned(), "running".to_owned())
        ]
    );
    let finished = json(strand(&data).args(["-o", "json", "status", "finished"]));
    assert_eq!(finished["input"], serde_json::json!({}));
    assert_eq!(finished["beads"][0]["output"]["data"], "alpha\n");
    let raw = strand(&data).args(["output", "finished", "a"]).output()?;
    assert_eq!(raw.stdout, b"alpha\n");

    // The same file under the old id is that run: found, not run again.
    let again = json(
        strand(&data)
            .args(["-o", "json", "run", "--id", "finished"])
            .arg(fixture().join("finished.toml")),
    );
    assert_eq!(again["existing"], true);
    assert_eq!(again["state"], "completed");
    assert_eq!(completions(&data, "finished", "b"), 1);
    Ok(())
}

#[test]
fn given_an_unfinished_workflow_from_before_runs_when_run_again_then_it_resumes_as_that_run()
-> TestResult {
    let tmp = tempfile::tempdir()?;
    let data = copied(tmp.path());
    // `load` finishes once ./go exists in its working directory.
    std::fs::write(tmp.path().join("go"), "")?;
    let done = json(
        strand(&data)
            .current_dir(tmp.path())
            .args(["-o", "json", "run"])
            .arg(fixture().join("legacy.toml")),
    );
    assert_eq!(done["run"], "legacy", "{done}");
    assert_eq!(done["existing"], true);
    assert_eq!(done["state"], "completed");
    assert_eq!(done["outputs"]["report"]["data"], "report\n");
    assert_eq!(completions(&data, "legacy", "extract"), 1, "not rerun");
    let verify = json(strand(&data).args(["-o", "json", "replay", "--verify"]));
    assert_eq!(verify["verified"], true);
    Ok(())
}
