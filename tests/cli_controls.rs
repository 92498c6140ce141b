//! `strand cancel|pause|resume|retry` on a data directory no engine holds:
//! the control is appended and the next `strand run` acts on it; controls
//! that do not apply exit 2 and write nothing; each is idempotent.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a failure is the test failing"
)]

use std::path::{Path, PathBuf};
use std::process::Stdio;

mod common;

use common::cli::{json, last_seq, show, start_and_kill, strand, waits_unless_go, write};

type TestResult = Result<(), Box<dyn std::error::Error>>;

#[test]
fn given_a_failed_run_when_retried_offline_then_the_next_run_resumes_it_without_rerunning_completed_beads()
-> TestResult {
    let tmp = tempfile::tempdir()?;
    let data = tmp.path().join("data");
    let file = write(
        tmp.path(),
        "etl.toml",
        "name = \"etl\"\n\
         [[task]]\nid = \"extract\"\nrun = \"echo x >> extracted.txt\"\n\
         [[task]]\nid = \"load\"\nrun = \"test -e fixed\"\ndeps = [\"extract\"]\n",
    );
    let failed = json(
        strand(&data).current_dir(tmp.path()).arg("run").arg(&file),
        1,
    );
    assert_eq!(failed["state"], "failed");
    let run = failed["run"].as_str().unwrap().to_owned();

    let before = last_seq(&data);
    for (args, code) in [
        (vec!["retry", run.as_str(), "--bead", "extract"], 2),
        (vec!["retry", run.as_str(), "--bead", "nope"], 2),
        (vec!["pause", run.as_str()], 2),
        (vec!["cancel", "no-such-run"], 2),
    ] {
        let out = strand(&data).args(&args).output()?;
        assert_eq!(out.status.code(), Some(code), "{args:?}: {}", show(&out));
    }
    assert_eq!(last_seq(&data), before, "refusals write nothing");

    let retried = json(strand(&data).args(["retry", run.as_str()]), 0);
    assert_eq!(retried["events_written"], 1);
    std::fs::write(tmp.path().join("fixed"), "")?;
    let done = json(
        strand(&data).current_dir(tmp.path()).arg("run").arg(&file),
        0,
    );
    assert_eq!(done["run"], run.as_str(), "the retried run resumes");
    assert_eq!(done["state"], "completed");
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("extracted.txt"))?,
        "x\n",
        "extract ran once"
    );
    let out = strand(&data).args(["retry", run.as_str()]).output()?;
    assert_eq!(
        out.status.code(),
        Some(2),
        "a completed run: {}",
        show(&out)
    );
    Ok(())
}

#[test]
fn given_an_unfinished_run_when_cancelled_offline_then_it_and_its_beads_are_cancelled_and_the_next_run_is_new()
-> TestResult {
    let tmp = tempfile::tempdir()?;
    let data = tmp.path().join("data");
    let file = write(
        tmp.path(),
        "slow.toml",
        &format!(
            "name = \"slow\"\n[[task]]\nid = \"a\"\nrun = \"{}\"\n\
             [[task]]\nid = \"b\"\nrun = \"true\"\ndeps = [\"a\"]\n",
            waits_unless_go(tmp.path())
        ),
    );
    let run = start_and_kill(&data, tmp.path(), &file);
    let cancelled = json(
        strand(&data).args(["cancel", run.as_str(), "--reason", "not today"]),
        0,
    );
    assert_eq!(cancelled["events_written"], 3, "two beads, then the run");
    let again = json(strand(&data).args(["cancel", run.as_str()]), 0);
    assert_eq!(again["applied_already"], true);
    let status = json(strand(&data).args(["status", run.as_str()]), 0);
    assert_eq!(status["workflow"]["status"], "cancelled");
    assert_eq!(status["workflow"]["reason"], "not today");
    assert!(
        status["beads"]
            .as_array()
            .unwrap()
            .iter()
            .all(|b| b["state"] == "cancelled")
    );
    std::fs::write(tmp.path().join("go"), "")?;
    let next = json(
        strand(&data).current_dir(tmp.path()).arg("run").arg(&file),
        0,
    );
    assert_ne!(next["run"], run.as_str(), "a cancelled run is not resumed");
    assert_eq!(next["state"], "completed");
    Ok(())
}

#[test]
fn given_a_paused_run_when_run_again_then_it_waits_and_a_resume_through_the_socket_finishes_it()
-> TestResult {
    use std::io::BufRead as _;

    let tmp = tempfile::tempdir()?;
    let data = tmp.path().join("data");
    let file = write(
        tmp.path(),
        "slow.toml",
        &format!(
            "name = \"slow\"\n[[task]]\nid = \"a\"\nrun = \"{}\"\n",
            waits_unless_go(tmp.path())
        ),
    );
    let run = start_and_kill(&data, tmp.path(), &file);
    json(strand(&data).args(["pause", run.as_str()]), 0);
    std::fs::write(tmp.path().join("go"), "")?;
    let mut waiting = strand(&data)
        .current_dir(tmp.path())
        .args(["-o", "json", "run"])
        .arg(&file)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    // It says it waits once its socket is up.
    let stderr = waiting.stderr.take().unwrap();
    let said = std::io::BufReader::new(stderr)
        .lines()
        .map_while(Result::ok)
        .find(|line| line.contains("is paused"));
    assert!(said.is_some(), "strand run says the run is paused");
    let resumed = json(strand(&data).args(["resume", run.as_str()]), 0);
    assert_eq!(resumed["events_written"], 1, "{resumed}");
    let out = waiting.wait_with_output()?;
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let done: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    assert_eq!(done["run"], run.as_str());
    assert_eq!(done["state"], "completed");
    Ok(())
}

#[test]
fn given_a_strand_run_in_progress_when_cancelled_from_another_process_then_it_ends_cancelled()
-> TestResult {
    let tmp = tempfile::tempdir()?;
    let data = tmp.path().join("data");
    let ready = tmp.path().join("ready");
    common::cli::fifo(&ready);
    let file = write(
        tmp.path(),
        "long.toml",
        &format!(
            "name = \"long\"\n[[task]]\nid = \"a\"\nrun = \"echo up > {}; sleep 100\"\n\
             [[task]]\nid = \"b\"\nrun = \"true\"\ndeps = [\"a\"]\n",
            ready.display()
        ),
    );
    let running = strand(&data)
        .args(["-o", "json", "run", "--id", "long-1"])
        .arg(&file)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    // The task runs: the engine, and its socket, are up.
    assert_eq!(std::fs::read_to_string(&ready)?, "up\n");
    let refused = strand(&data).args(["retry", "long-1"]).output()?;
    assert_eq!(
        refused.status.code(),
        Some(2),
        "a running run: {}",
        show(&refused)
    );
    assert!(
        show(&refused).contains("control_refused"),
        "{}",
        show(&refused)
    );
    let cancelled = json(
        strand(&data).args(["cancel", "long-1", "--reason", "from another shell"]),
        0,
    );
    assert_eq!(cancelled["events_written"], 3, "{cancelled}");
    let out = running.wait_with_output()?;
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let done: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    assert_eq!(done["state"], "cancelled");
    assert_eq!(done["reason"], "from another shell");
    assert!(
        !crate_socket(&data).exists(),
        "the socket is removed on exit"
    );
    Ok(())
}

fn crate_socket(data: &Path) -> PathBuf {
    data.join("strand.sock")
}

#[test]
fn given_a_stale_socket_when_controlled_and_run_then_it_is_ignored_and_replaced() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let data = tmp.path().join("data");
    let file = write(
        tmp.path(),
        "slow.toml",
        &format!(
            "name = \"slow\"\n[[task]]\nid = \"a\"\nrun = \"{}\"\n",
            waits_unless_go(tmp.path())
        ),
    );
    let run = start_and_kill(&data, tmp.path(), &file);
    // The killed process left its socket behind; nothing listens on it.
    assert!(crate_socket(&data).exists());
    let paused = json(strand(&data).args(["pause", run.as_str()]), 0);
    assert_eq!(paused["events_written"], 1, "applied on the log itself");
    json(strand(&data).args(["resume", run.as_str()]), 0);
    std::fs::write(tmp.path().join("go"), "")?;
    let done = json(
        strand(&data).current_dir(tmp.path()).arg("run").arg(&file),
        0,
    );
    assert_eq!(done["state"], "completed");
    Ok(())
}
