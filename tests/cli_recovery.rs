//! The recovery commands an operator runs after an incident — `status`,
//! `replay [--verify]`, `checkpoint list|create`, `repair truncate`,
//! `export`/`import` — on logs of synthetic workflow histories written
//! through the real log: output shapes and exit codes of the CLI contract.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;
use strand::eventlog::{EventLog, LogOptions, NewEvent};
use strand::projections::synthetic::{HistoryParams, history};
use strand::projections::{DomainEvent, WorkerId, codec};

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn strand(data: &Path) -> Command {
    #[expect(clippy::unwrap_used, reason = "the binary is built for the tests")]
    let mut cmd = Command::cargo_bin("strand").unwrap();
    cmd.arg("--data").arg(data).env_remove("STRAND_DATA");
    cmd
}

/// Run with `-o json`, check the exit code, parse stdout.
#[expect(clippy::unwrap_used, reason = "test helper")]
fn json(data: &Path, args: &[&str], code: i32) -> Value {
    let out = strand(data)
        .args(args)
        .args(["-o", "json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(code),
        "{args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn params() -> HistoryParams {
    HistoryParams {
        workflows: 3,
        beads_per_workflow: 20,
        ..HistoryParams::default()
    }
}

/// A data directory holding a valid synthetic history; returns its path and
/// the number of events.
#[expect(clippy::unwrap_used, reason = "test fixture")]
fn filled(dir: &Path) -> (PathBuf, u64) {
    let data = dir.join("data");
    let log = EventLog::open(&data, LogOptions::default()).unwrap();
    let events: Vec<NewEvent> = history(11, &params())
        .map(|(e, _)| NewEvent::new(e.stream(), e.kind().as_u16(), codec::encode(&e).unwrap()))
        .collect();
    let n = events.len() as u64;
    for chunk in events.chunks(100) {
        log.append_blocking(chunk.to_vec()).unwrap();
    }
    log.close_blocking().unwrap();
    (data, n)
}

fn is_hash(value: &Value) -> bool {
    value
        .as_str()
        .is_some_and(|s| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[test]
fn given_a_log_when_replayed_then_the_report_has_the_contract_shape() {
    let dir = tempfile::tempdir().unwrap();
    let (data, n) = filled(dir.path());
    let doc = json(&data, &["replay"], 0);
    assert_eq!(doc["checkpoint_seq"], Value::Null);
    assert_eq!(doc["events_replayed"], n);
    assert!(is_hash(&doc["state_hash"]), "{doc}");
    assert_eq!(doc["verified"], Value::Null);
    assert_eq!(doc["start"], "full_replay");
}

#[test]
fn given_a_checkpoint_when_replayed_and_verified_then_only_the_tail_is_replayed_and_the_hashes_agree()
 {
    let dir = tempfile::tempdir().unwrap();
    let (data, n) = filled(dir.path());
    let full = json(&data, &["replay"], 0);
    let created = json(&data, &["checkpoint", "create"], 0);
    assert_eq!(
        (created["id"].clone(), created["seq"].clone()),
        (1.into(), n.into())
    );
    assert_eq!(created["state_hash"], full["state_hash"]);

    let listed = json(&data, &["checkpoint", "list"], 0);
    let checkpoints = listed["checkpoints"].as_array().unwrap();
    assert_eq!(checkpoints.len(), 1);
    assert_eq!(checkpoints[0]["ok"], true);
    assert_eq!(checkpoints[0]["seq"], n);

    // `checkpoint create` recorded a CheckpointTaken event after the checkpoint.
    let verified = json(&data, &["replay", "--verify"], 0);
    assert_eq!(verified["checkpoint_seq"], n);
    assert_eq!(verified["events_replayed"], 1);
    assert_eq!(verified["verified"], true);
    assert!(is_hash(&verified["state_hash"]));
}

/// Guards against `replay --verify` trusting a checkpoint that holds
/// another state than the log's.
#[test]
fn given_a_checkpoint_of_another_state_when_verified_then_exit_1_and_verified_false() -> TestResult
{
    use strand::projections::{Projection, StateManager};
    use strand::replay::ReplayEngine;
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    let log = EventLog::open(&data, LogOptions::default())?;
    let spawn = |labels: Vec<String>| DomainEvent::WorkerSpawned {
        worker: WorkerId::from("w1"),
        labels,
    };
    let event = spawn(vec!["a".into()]);
    log.append_blocking(vec![NewEvent::new(
        event.stream(),
        event.kind().as_u16(),
        codec::encode(&event)?,
    )])?;
    let mut foreign = StateManager::empty();
    foreign.apply(
        strand::projections::EventMeta { seq: 1, at_ms: 5 },
        spawn(vec!["b".into()]),
    )?;
    ReplayEngine::new(log.clone()).checkpoint(&foreign)?;
    log.close_blocking()?;
    drop(log);
    let doc = json(&data, &["replay", "--verify"], 1);
    assert_eq!(doc["verified"], false);
    assert_eq!(doc["checkpoint_seq"], 1);
    assert!(
        doc["error"]
            .as_str()
            .is_some_and(|e| e.contains("generation 1")),
        "{doc}"
    );
    Ok(())
}

#[test]
fn given_workflows_when_status_is_asked_then_each_workflow_and_its_beads_are_listed() {
    let dir = tempfile::tempdir().unwrap();
    let (data, n) = filled(dir.path());
    let doc = json(&data, &["status"], 0);
    assert_eq!(doc["seq"], n);
    let workflows = doc["workflows"].as_array().unwrap();
    assert_eq!(workflows.len(), 3);
    let first = workflows[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(workflows[0]["counts"]["total"], 20);

    let one = json(&data, &["status", &first], 0);
    assert_eq!(one["workflow"]["id"], first.as_str());
    assert_eq!(one["beads"].as_array().unwrap().len(), 20);
    assert!(one["beads"][0]["state"].is_string());

    let text = strand(&data).arg("status").output().unwrap();
    assert!(text.status.success());
    assert!(String::from_utf8_lossy(&text.stdout).contains(&first));

    let missing = json(&data, &["status", "no-such-workflow"], 2);
    assert!(
        missing["error"]
            .as_str()
            .is_some_and(|e| e.contains("no-such-workflow"))
    );
}

#[test]
fn given_an_export_when_imported_into_a_new_directory_then_replay_gives_the_same_state_hash() {
    let dir = tempfile::tempdir().unwrap();
    let (data, n) = filled(dir.path());
    let file = dir.path().join("log.export");
    let exported = json(&data, &["export", file.to_str().unwrap()], 0);
    assert_eq!(exported["records"], n);
    let imported_dir = dir.path().join("imported");
    let imported = json(&imported_dir, &["import", file.to_str().unwrap()], 0);
    assert_eq!(imported["records"], n);
    assert_eq!(imported["bytes"], exported["bytes"]);
    assert_eq!(
        json(&imported_dir, &["replay"], 0)["state_hash"],
        json(&data, &["replay"], 0)["state_hash"]
    );
    assert_eq!(json(&imported_dir, &["log", "verify"], 0)["ok"], true);
}

#[test]
fn given_a_truncated_export_when_imported_then_exit_1_naming_the_offset_and_no_directory_is_left() {
    let dir = tempfile::tempdir().unwrap();
    let (data, _) = filled(dir.path());
    let file = dir.path().join("log.export");
    json(&data, &["export", file.to_str().unwrap()], 0);
    let bytes = std::fs::read(&file).unwrap();
    std::fs::write(&file, &bytes[..bytes.len() - 40]).unwrap();
    let target = dir.path().join("imported");
    let doc = json(&target, &["import", file.to_str().unwrap()], 1);
    let error = doc["error"].as_str().unwrap();
    assert!(
        error.contains("byte offset") && error.contains("last good seq"),
        "{error}"
    );
    assert!(!target.exists());
}

#[test]
fn given_a_log_when_repair_truncate_runs_dry_then_with_yes_then_only_the_second_changes_it() {
    let dir = tempfile::tempdir().unwrap();
    let (data, n) = filled(dir.path());
    let after = n / 2;
    let dry = json(
        &data,
        &["repair", "truncate", "--after", &after.to_string()],
        0,
    );
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["records_removed"], n - after);
    assert_eq!(json(&data, &["log", "verify"], 0)["last_seq"], n);

    let backup = dir.path().join("copy");
    let done = json(
        &data,
        &[
            "repair",
            "truncate",
            "--after",
            &after.to_string(),
            "--yes",
            "--backup",
            backup.to_str().unwrap(),
        ],
        0,
    );
    assert_eq!(done["dry_run"], false);
    assert_eq!(done["backup"], backup.to_str().unwrap());
    assert_eq!(done["verify"]["ok"], true);
    assert_eq!(json(&data, &["log", "verify"], 0)["last_seq"], after);
    assert_eq!(json(&backup, &["log", "verify"], 0)["last_seq"], n);
    // A prefix of a valid history is a valid history.
    assert_eq!(
        json(&data, &["replay", "--verify"], 0)["events_replayed"],
        after
    );
}

#[test]
fn given_no_data_directory_when_a_recovery_command_runs_then_exit_2_and_nothing_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("missing");
    for args in [
        &["replay"][..],
        &["status"],
        &["checkpoint", "list"],
        &["checkpoint", "create"],
        &["repair", "truncate", "--after", "1"],
        &["export", "x.export"],
    ] {
        json(&data, args, 2);
        assert!(!data.exists(), "{args:?} created the data directory");
    }
}

/// Hidden staging directories of imports into `target`, beside it.
#[expect(clippy::unwrap_used, reason = "test helper")]
fn staging_dirs(target: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(target.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .contains(".strand-import-")
        })
        .collect()
}

#[test]
fn given_an_import_killed_midway_when_looked_at_then_no_log_is_in_place_and_the_next_import_completes_and_cleans_up()
 {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let log = EventLog::open(&data, LogOptions::default()).unwrap();
    let big = HistoryParams {
        workflows: 60,
        beads_per_workflow: 150,
        ..HistoryParams::default()
    };
    let events: Vec<NewEvent> = history(12, &big)
        .map(|(e, _)| NewEvent::new(e.stream(), e.kind().as_u16(), codec::encode(&e).unwrap()))
        .collect();
    for chunk in events.chunks(1000) {
        log.append_blocking(chunk.to_vec()).unwrap();
    }
    log.close_blocking().unwrap();
    drop(log);
    let file = dir.path().join("log.export");
    json(&data, &["export", file.to_str().unwrap()], 0);

    let target = dir.path().join("imported");
    let (mut killed, mut left_staging, mut finished) = (0, 0, false);
    for delay_ms in [20, 60, 120, 200, 300] {
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("strand"))
            .arg("--data")
            .arg(&target)
            .args(["-q", "import", file.to_str().unwrap()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // The fault: the import dies at an arbitrary point of its run.
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        if child.try_wait().unwrap().is_some() {
            finished = true;
            break;
        }
        child.kill().unwrap();
        child.wait().unwrap();
        killed += 1;
        // Nothing partial is in place: no log at the target, or (a kill that
        // landed after the rename, while the process was still exiting) the
        // whole log, which verifies.
        if target.exists() && std::fs::read_dir(&target).unwrap().next().is_some() {
            let verified = json(&target, &["log", "verify"], 0);
            assert_eq!(
                verified["records"],
                events.len(),
                "a partial import is in place after a kill at {delay_ms} ms"
            );
            finished = true;
            break;
        }
        left_staging += usize::from(!staging_dirs(&target).is_empty());
    }
    assert!(killed > 0, "the import finished before any kill");
    if !finished {
        let imported = json(&target, &["import", file.to_str().unwrap()], 0);
        assert_eq!(imported["records"], events.len());
    }
    assert!(
        staging_dirs(&target).is_empty(),
        "the interrupted imports' staging directories are gone"
    );
    assert_eq!(
        json(&target, &["replay"], 0)["state_hash"],
        json(&data, &["replay"], 0)["state_hash"]
    );
    println!(
        "interrupted import: {} records, {killed} kills, {left_staging} left a staging \
         directory (removed by the next import), none left a partial log in place; \
         complete before the next import: {finished}",
        events.len()
    );
}
