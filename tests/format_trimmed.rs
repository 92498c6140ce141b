//! Trimmed logs written by earlier binaries still open: each fixture
//! (tests/fixtures/trimmed-v4, snapshot version 4; trimmed-v5, version 5)
//! verifies, replays from its newest checkpoint (a version 4 one migrated,
//! not skipped: a base cannot be skipped) to a frozen state, exports the
//! bytes its own binary exported, rebuilds whole from its archive, and its
//! failed run is retried to completion from its stream.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test helpers: a failure is the test failing; a missing JSON field indexes to null"
)]

mod common;

use std::path::{Path, PathBuf};

use common::cli::{json, show, strand};
use strand::eventlog::EventLog;
use strand::projections::DomainEvent;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// The fixtures, each with the state hash today's code replays it to. A
/// change of the state manager's fold or snapshot format changes them:
/// update them then, on purpose, and say why in the commit.
const FIXTURES: [(&str, &str); 2] = [
    (
        "trimmed-v4",
        "261dffc01a2c0c95cb29ec37f820796d6d16984dbeb6edf6506ac12eef5f7c82",
    ),
    (
        "trimmed-v5",
        "4113d837f18f98563904ef7a417c5acf2bdb37149ff6bccd57b18d23a14fef27",
    ),
];

fn fixture(name: &str) -> PathBuf {
    // Cargo sets the crate's directory when it runs the test; the compiled-in
    // one may name another clone that shared the target directory.
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
        .join("tests/fixtures")
        .join(name)
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

/// A copy of fixture `name`'s data directory (tests never touch the
/// original).
fn copied(name: &str, into: &Path) -> PathBuf {
    let data = into.join(name);
    copy_tree(&fixture(name).join("data"), &data);
    data
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
fn given_a_trimmed_log_of_an_earlier_binary_when_verified_and_replayed_then_it_is_the_state_it_was()
-> TestResult {
    for (name, state_hash) in FIXTURES {
        verified_and_replayed(name, state_hash)?;
    }
    Ok(())
}

fn verified_and_replayed(name: &str, state_hash: &str) -> TestResult {
    let tmp = tempfile::tempdir()?;
    let data = copied(name, tmp.path());
    let verify = json(strand(&data).args(["log", "verify"]), 0);
    assert_eq!(verify["ok"], true, "{verify}");
    assert_eq!(
        (verify["first_seq"].as_u64(), verify["last_seq"].as_u64()),
        (Some(542), Some(994))
    );

    let replay = json(strand(&data).args(["replay", "--verify"]), 0);
    assert_eq!(replay["verified"], true, "{name}: {replay}");
    assert_eq!(
        replay["start"], "newest_checkpoint",
        "{name}: its newest checkpoint is used"
    );
    assert_eq!(replay["checkpoint_seq"], 992);
    assert_eq!(replay["skipped_checkpoints"], serde_json::json!([]));
    assert_eq!(replay["state_hash"], state_hash, "{name}");

    let runs = json(strand(&data).args(["runs"]), 0);
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
    let flaky = json(strand(&data).args(["status", "flaky-1"]), 0);
    assert_eq!(flaky["beads"][1]["id"], "load");
    assert_eq!(
        flaky["beads"][1]["last_error"],
        "exit status 1: not ready\n"
    );
    Ok(())
}

#[test]
fn given_a_trimmed_log_of_an_earlier_binary_when_exported_then_the_bytes_are_its_own_binarys_and_the_archive_rebuilds_it_whole()
-> TestResult {
    for (name, _) in FIXTURES {
        exported_and_rebuilt(name)?;
    }
    Ok(())
}

fn exported_and_rebuilt(name: &str) -> TestResult {
    let tmp = tempfile::tempdir()?;
    let data = copied(name, tmp.path());
    let export = tmp.path().join("export.strandx");
    let out = strand(&data).arg("export").arg(&export).output()?;
    assert!(out.status.success(), "{}", show(&out));
    assert!(
        std::fs::read(&export)? == std::fs::read(fixture(name).join("export.strandx"))?,
        "{name}: the export is byte for byte the one its binary wrote"
    );

    let whole = tmp.path().join("whole");
    let segment = data.join("archive/00000000000000000001-00000000000000000541.strandx");
    let out = strand(&whole)
        .arg("import")
        .arg(&segment)
        .arg(&export)
        .output()?;
    assert!(out.status.success(), "{}", show(&out));
    let verify = json(strand(&whole).args(["log", "verify"]), 0);
    assert_eq!(verify["ok"], true, "{verify}");
    assert_eq!(
        (verify["first_seq"].as_u64(), verify["last_seq"].as_u64()),
        (Some(1), Some(994))
    );
    let replay = json(strand(&whole).args(["replay", "--verify"]), 0);
    assert_eq!(replay["verified"], true, "{replay}");
    Ok(())
}

#[test]
fn given_the_failed_run_of_a_trimmed_log_of_an_earlier_binary_when_retried_then_it_completes_without_rerunning_what_completed()
-> TestResult {
    for (name, _) in FIXTURES {
        retried(name)?;
    }
    Ok(())
}

fn retried(name: &str) -> TestResult {
    let tmp = tempfile::tempdir()?;
    let data = copied(name, tmp.path());
    // `load` succeeds once ./ready exists in its working directory.
    std::fs::write(tmp.path().join("ready"), "")?;
    let retried = json(strand(&data).args(["retry", "flaky-1"]), 0);
    assert_eq!(retried["events_written"], 1, "{retried}");
    let done = json(
        strand(&data)
            .current_dir(tmp.path())
            .args(["run", "--id", "flaky-1"])
            .arg(fixture(name).join("flaky.toml")),
        0,
    );
    assert_eq!(done["state"], "completed", "{done}");
    assert_eq!(done["outputs"]["report"]["data"], "reported\n");
    assert_eq!(completions(&data, "flaky-1", "extract"), 1, "not rerun");
    assert_eq!(completions(&data, "flaky-1", "load"), 1);
    let replay = json(strand(&data).args(["replay", "--verify"]), 0);
    assert_eq!(replay["verified"], true, "{replay}");
    Ok(())
}
