//! Helpers of the CLI tests: the `strand` binary on a data directory, JSON
//! results, and a run left unfinished by SIGKILL.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a failure is the test failing"
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use strand::eventlog::EventLog;

/// `strand --data DATA -q`, whatever `STRAND_DATA` says.
pub fn strand(data: &Path) -> Command {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("strand"));
    cmd.arg("--data")
        .arg(data)
        .arg("-q")
        .env_remove("STRAND_DATA");
    cmd
}

/// Writes `text` to `dir/name`; its path.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs `cmd` with `-o json`, expects `code`, parses stdout.
pub fn json(cmd: &mut Command, code: i32) -> serde_json::Value {
    let out = cmd.args(["-o", "json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(code), "{}", show(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A command's stdout then stderr, for messages.
pub fn show(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The log's durable end.
pub fn last_seq(data: &Path) -> u64 {
    EventLog::open_read_only(data).unwrap().last_seq().get()
}

/// Makes the FIFO `path`.
pub fn fifo(path: &Path) {
    assert!(Command::new("mkfifo").arg(path).status().unwrap().success());
}

/// A task command that, unless `go` exists in its working directory, says
/// so on the FIFO `dir/ready` (made here) and waits: the task of a run to
/// kill mid-way.
pub fn waits_unless_go(dir: &Path) -> String {
    let ready = dir.join("ready");
    if !ready.exists() {
        fifo(&ready);
    }
    format!(
        "test -e go || {{ echo up > {}; sleep 100; }}",
        ready.display()
    )
}

/// Starts `strand run FILE` in `dir`, whose task runs [`waits_unless_go`],
/// and kills it with SIGKILL once that task runs (its run is durable);
/// returns the run's id.
pub fn start_and_kill(data: &Path, dir: &Path, file: &Path) -> String {
    let mut child = strand(data)
        .current_dir(dir)
        .arg("run")
        .arg(file)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Read on a thread, so that a run that never gets there fails the test
    // instead of blocking it.
    let ready = dir.join("ready");
    let (sender, told) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = sender.send(std::fs::read_to_string(ready));
    });
    let said = told.recv_timeout(Duration::from_secs(120));
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(said.unwrap().unwrap(), "up\n", "the task ran");
    let runs = json(strand(data).arg("runs"), 0);
    let first = runs.get("runs").and_then(|r| r.get(0)?.get("id")?.as_str());
    first.unwrap().to_owned()
}
