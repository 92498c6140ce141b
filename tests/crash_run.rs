//! Guards against losing or repeating work when the process dies: `strand
//! run` is killed with SIGKILL at pseudo-random moments while it runs a workflow of a
//! few hundred short shell tasks, then run again until it completes.
//! Every task reads its dependency's output and writes a checksum of
//! what it read. Afterwards all the kills resumed one run (no `--id`: the
//! unfinished run of the definition is found again), every bead has
//! exactly one completion event in the log, every bead's recorded output is
//! the one its dependent saw, the log verifies, and `replay --verify` agrees
//! with a full replay.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a failure is the test failing"
)]

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

mod common;

use common::Rng;
use strand::eventlog::{EventLog, Seq};
use strand::projections::DomainEvent;

type TestResult = Result<(), Box<dyn std::error::Error>>;

const LAYERS: usize = 20;
const WIDTH: usize = 10;

/// `LAYERS` layers of `WIDTH` tasks; each task depends on one task of the
/// layer before.
fn workflow_file(dir: &Path) -> std::path::PathBuf {
    let mut toml = String::from("name = \"crash\"\n");
    for layer in 0..LAYERS {
        for i in 0..WIDTH {
            // Prints its id, then the SHA-256 of its dependency's output
            // (of nothing, in the first layer).
            write!(
                toml,
                "[[task]]\nid = \"t{layer:02}-{i}\"\nrun = \"sleep 0.05; echo $STRAND_BEAD; cat $STRAND_DEPS_DIR/* 2>/dev/null | sha256sum\"\n"
            )
            .unwrap();
            if layer > 0 {
                writeln!(toml, "deps = [\"t{:02}-{}\"]", layer - 1, (i * 7) % WIDTH).unwrap();
            }
        }
    }
    let path = dir.join("crash.toml");
    std::fs::write(&path, toml).unwrap();
    path
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes)
        .iter()
        .fold(String::new(), |mut out, b| {
            write!(out, "{b:02x}").unwrap();
            out
        })
}

fn strand(data: &Path) -> Command {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("strand"));
    cmd.arg("--data").arg(data).arg("-q");
    cmd
}

#[test]
fn given_strand_run_killed_at_random_moments_when_rerun_then_it_completes_with_each_bead_completed_once()
-> TestResult {
    let tmp = tempfile::tempdir()?;
    let data = tmp.path().join("data");
    let file = workflow_file(tmp.path());
    let mut rng = Rng(0x5EED_CAFE);
    let (mut kills, mut finished_early) = (0, 0);
    for _ in 0..10 {
        let mut child = strand(&data)
            .arg("run")
            .arg(&file)
            .arg("--workers")
            .arg("8")
            .stdout(Stdio::null())
            .spawn()?;
        // The fault: the process dies at an arbitrary point of its run.
        std::thread::sleep(Duration::from_millis(50 + rng.below(350)));
        if child.try_wait()?.is_some() {
            finished_early += 1;
            break;
        }
        child.kill()?;
        child.wait()?;
        kills += 1;
    }
    let output = strand(&data)
        .args(["-o", "json", "run"])
        .arg(&file)
        .output()?;
    let result: serde_json::Value = serde_json::from_slice(&output.stdout)?;
    assert!(output.status.success(), "{result}");
    assert_eq!(result["state"], "completed");
    assert_eq!(result["beads"]["completed"], LAYERS * WIDTH);

    assert!(
        kills >= 3,
        "the run must have been killed mid-way several times"
    );
    let run = result["run"].as_str().unwrap().to_owned();
    let runs = strand(&data).args(["-o", "json", "runs"]).output()?;
    let runs: serde_json::Value = serde_json::from_slice(&runs.stdout)?;
    assert_eq!(
        runs["runs"].as_array().map(Vec::len),
        Some(1),
        "every rerun resumed the one run: {runs}"
    );
    let log = EventLog::open_read_only(&data)?;
    let mut completed: HashMap<String, usize> = HashMap::new();
    let mut outputs: HashMap<String, String> = HashMap::new();
    let mut lost = 0;
    for event in log.read_stream(&format!("workflow/{run}"), Seq::FIRST)? {
        match strand::actors::decode(&event?)?.1 {
            DomainEvent::BeadCompletedWithOutput { bead, output, .. } => {
                *completed.entry(bead.as_str().to_owned()).or_default() += 1;
                let text = output.as_text().unwrap().to_owned();
                outputs.insert(bead.into_string(), text);
            }
            DomainEvent::BeadTimedOut { .. } => lost += 1,
            _ => {}
        }
    }
    assert_eq!(completed.len(), LAYERS * WIDTH);
    assert!(
        completed.values().all(|&n| n == 1),
        "a bead completed twice"
    );
    for layer in 0..LAYERS {
        for i in 0..WIDTH {
            let bead = format!("t{layer:02}-{i}");
            let seen = if layer == 0 {
                sha256_hex(b"")
            } else {
                let dependency = format!("t{:02}-{}", layer - 1, (i * 7) % WIDTH);
                sha256_hex(outputs[&dependency].as_bytes())
            };
            assert_eq!(
                outputs[&bead],
                format!("{bead}\n{seen}  -\n"),
                "{bead} saw another output of its dependency than the one recorded"
            );
        }
    }
    drop(log);

    let verify = strand(&data)
        .args(["-o", "json", "log", "verify"])
        .output()?;
    assert!(verify.status.success());
    let replay = strand(&data)
        .args(["-o", "json", "replay", "--verify"])
        .output()?;
    let replay: serde_json::Value = serde_json::from_slice(&replay.stdout)?;
    assert_eq!(replay["verified"], true, "{replay}");
    println!(
        "crash run: {kills} kills, {finished_early} finished before its kill, {lost} attempts lost and rerun, {} beads completed once each",
        completed.len()
    );
    Ok(())
}
