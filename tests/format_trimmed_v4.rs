//! A trimmed log written with snapshot version 4 (tests/fixtures/trimmed-v4)
//! still opens: it verifies, replays from its version 4 checkpoint
//! (migrated, not skipped: its base cannot be skipped) to a frozen state,
//! exports the bytes its own binary exported, rebuilds whole from its
//! archive, and its failed run, held whole by that checkpoint and as a
//! summary now, is retried to completion from its stream.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a failure is the test failing"
)]

use std::path::{Path, PathBuf};
use std::process::Command;

use strand::eventlog::EventLog;
use strand::projections::DomainEvent;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// The state hash of the fixture replayed by today's code. A change of the
/// state manager's fold or snapshot format changes it: update it then, on
/// purpose, and say why in the commit.
const STATE_HASH: &str = "261dffc01a2c0c95cb29ec37f820796d6d16984dbeb6edf6506ac12eef5f7c82";

fn fixture() -> PathBuf {
    // Cargo sets the crate's directory when it runs the test; the compiled-in
    // one may name another clone that shared the target directory.
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
        .join("tests/fixtures/trimmed-v4")
}

/// `from` copied into `to`, directories and all.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A copy of the fixture's data directory (tests never touch the original).
fn copied(into: &Path) -> PathBuf {
    let data = into.join("data");
    copy_tree(&fixture().join("data"), &data);
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
    log.read_stream(&format!("workflow/{run}"), log.first_seq())
        .unwrap()
        .filter(|event| {
            let event = strand::actors::decode(event.as_ref().unwrap()).unwrap().1;
            matches!(
                event,
                DomainEvent::BeadCompletedWithOutput { bead: b, .. } if b.as_str() == bead
            )
        })
        .count()
}

#[test]
fn given_a_trimmed_log_of_snapshot_version_4_when_verified_and_replayed_then_it_is_the_state_it_was()
-> TestResult {
    let tmp = tempfile::tempdir()?;
    let data = copied(tmp.path());
    let verify = json(strand(&data).args(["-o", "json", "log", "verify"]));
    assert_eq!(verify["ok"], true, "{verify}");
    assert_eq!(
        (verify["first_seq"].as_u64(), verify["last_seq"].as_u64()),
        (Some(542), Some(994))
    );

    let replay = json(strand(&data).args(["-o", "json", "replay", "--verify"]));
    assert_eq!(replay["verified"], true, "{replay}");
    assert_eq!(
        replay["start"], "newest_checkpoint",
        "the version 4 checkpoint is used"
    );
    assert_eq!(replay["checkpoint_seq"], 992);
    assert_eq!(replay["skipped_checkpoints"], serde_json::json!([]));
    assert_eq!(replay["state_hash"], STATE_HASH);

    let runs = json(strand(&data).args(["-o", "json", "runs"]));
    let listed: Vec<(&str, &str)> = runs["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["id"].as_str().unwrap(), r["state"].as_str().unwrap()))
        .collect();
    assert_eq!(
        listed,
        [("nightly-2", "completed"), ("flaky-1", "failed")],
        "nightly-1 expired"
    );
    let flaky = json(strand(&data).args(["-o", "json", "status", "flaky-1"]));
    assert_eq!(flaky["beads"][1]["id"], "load");
    assert_eq!(
        flaky["beads"][1]["last_error"],
        "exit status 1: not ready\n"
    );
    Ok(())
}

#[test]
fn given_a_trimmed_log_of_snapshot_version_4_when_exported_then_the_bytes_are_its_own_binarys_and_the_archive_rebuilds_it_whole()
-> TestResult {
    let tmp = tempfile::tempdir()?;
    let data = copied(tmp.path());
    let export = tmp.path().join("export.strandx");
    let out = strand(&data).arg("export").arg(&export).output()?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        std::fs::read(&export)? == std::fs::read(fixture().join("export.strandx"))?,
        "the export is byte for byte the one commit 816fd95 wrote"
    );

    let whole = tmp.path().join("whole");
    let segment = data.join("archive/00000000000000000001-00000000000000000541.strandx");
    let out = strand(&whole)
        .arg("import")
        .arg(&segment)
        .arg(&export)
        .output()?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let verify = json(strand(&whole).args(["-o", "json", "log", "verify"]));
    assert_eq!(verify["ok"], true, "{verify}");
    assert_eq!(
        (verify["first_seq"].as_u64(), verify["last_seq"].as_u64()),
        (Some(1), Some(994))
    );
    let replay = json(strand(&whole).args(["-o", "json", "replay", "--verify"]));
    assert_eq!(replay["verified"], true, "{replay}");
    Ok(())
}

#[test]
fn given_the_failed_run_of_a_trimmed_log_of_snapshot_version_4_when_retried_then_it_completes_without_rerunning_what_completed()
-> TestResult {
    let tmp = tempfile::tempdir()?;
    let data = copied(tmp.path());
    // `load` succeeds once ./ready exists in its working directory.
    std::fs::write(tmp.path().join("ready"), "")?;
    let retried = json(strand(&data).args(["-o", "json", "retry", "flaky-1"]));
    assert_eq!(retried["events_written"], 1, "{retried}");
    let done = json(
        strand(&data)
            .current_dir(tmp.path())
            .args(["-o", "json", "run", "--id", "flaky-1"])
            .arg(fixture().join("flaky.toml")),
    );
    assert_eq!(done["state"], "completed", "{done}");
    assert_eq!(done["outputs"]["report"]["data"], "reported\n");
    assert_eq!(completions(&data, "flaky-1", "extract"), 1, "not rerun");
    assert_eq!(completions(&data, "flaky-1", "load"), 1);
    let replay = json(strand(&data).args(["-o", "json", "replay", "--verify"]));
    assert_eq!(replay["verified"], true, "{replay}");
    Ok(())
}
