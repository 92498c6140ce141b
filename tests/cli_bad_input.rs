//! Bad input at the CLI: malformed workflow files, unknown arguments, a data
//! directory of another format version, a data path that is not a
//! directory, a read-only data directory. Each gets a clear message and a
//! non-zero exit, and nothing is written.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a failure is the test failing"
)]

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use strand::eventlog::{EventLog, LogOptions, NewEvent};

fn strand(data: &Path) -> Command {
    let mut cmd = Command::cargo_bin("strand").unwrap();
    cmd.arg("--data").arg(data).env_remove("STRAND_DATA");
    cmd
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn workflow(dir: &Path) -> PathBuf {
    let file = dir.join("ok.toml");
    std::fs::write(
        &file,
        "name = \"ok\"\n[[task]]\nid = \"a\"\nrun = \"true\"\n",
    )
    .unwrap();
    file
}

/// A cleanly closed log of three events.
fn small_log(data: &Path) {
    let log = EventLog::open(data, LogOptions::default()).unwrap();
    for n in 0..3u8 {
        log.append_blocking(vec![NewEvent::new("s", 1, vec![n])])
            .unwrap();
    }
    log.close_blocking().unwrap();
}

/// Every file of `dir` with its bytes, to prove a command wrote nothing.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect();
    files.sort();
    files
}

#[test]
fn given_malformed_workflow_files_when_run_then_exit_2_naming_the_file_and_nothing_is_written() {
    let cases = [
        ("syntax", "name = \"x\"\n[[task]\nid = \"a\"\n"),
        ("empty", ""),
        ("no tasks", "name = \"x\"\n"),
        (
            "task without id",
            "name = \"x\"\n[[task]]\nrun = \"true\"\n",
        ),
        (
            "duplicate id",
            "name = \"x\"\n[[task]]\nid = \"a\"\nrun = \"true\"\n[[task]]\nid = \"a\"\nrun = \"true\"\n",
        ),
        (
            "cycle",
            "name = \"x\"\n[[task]]\nid = \"a\"\nrun = \"true\"\ndeps = [\"b\"]\n\
             [[task]]\nid = \"b\"\nrun = \"true\"\ndeps = [\"a\"]\n",
        ),
        (
            "unknown field",
            "name = \"x\"\n[[task]]\nid = \"a\"\nrun = \"true\"\nretires = 3\n",
        ),
        (
            "bad timeout",
            "name = \"x\"\n[[task]]\nid = \"a\"\nrun = \"true\"\ntimeout = \"soon\"\n",
        ),
    ];
    let tmp = tempfile::tempdir().unwrap();
    for (what, text) in cases {
        let file = tmp.path().join("wf.toml");
        std::fs::write(&file, text).unwrap();
        let data = tmp.path().join("data");
        let out = strand(&data).arg("run").arg(&file).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{what}: {}", stderr(&out));
        assert!(stderr(&out).contains("wf.toml"), "{what}: {}", stderr(&out));
        assert!(!data.exists(), "{what}: nothing written");
    }
    println!(
        "malformed workflow files: {} refused with exit 2",
        cases.len()
    );
}

#[test]
fn given_unknown_arguments_when_run_then_usage_error_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let file = workflow(tmp.path());
    for args in [
        vec!["frobnicate"],
        vec!["run", file.to_str().unwrap(), "--wrokers", "3"],
        vec!["run", file.to_str().unwrap(), "--workers", "many"],
        vec!["log", "verify", "--deep"],
        vec!["run"],
    ] {
        let out = strand(&data).args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(!stderr(&out).is_empty(), "{args:?}: a message");
        assert!(!data.exists(), "{args:?}: nothing written");
    }
}

#[test]
fn given_a_data_directory_of_another_format_version_when_commands_run_then_refused_and_its_log_untouched()
 {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    small_log(&data);
    {
        let cfs = ["log", "stream_index", "checkpoints", "meta"];
        let db = rocksdb::DB::open_cf(&rocksdb::Options::default(), &data, cfs).unwrap();
        db.put_cf(db.cf_handle("meta").unwrap(), "format_version", [9u8])
            .unwrap();
        db.flush_cf(db.cf_handle("meta").unwrap()).unwrap();
    }
    let file = workflow(tmp.path());
    for args in [
        vec!["run", file.to_str().unwrap()],
        vec!["status"],
        vec!["log", "verify"],
        vec!["replay"],
    ] {
        let out = strand(&data).args(&args).output().unwrap();
        assert_ne!(out.status.code(), Some(0), "{args:?}");
        assert!(
            stderr(&out).contains("format"),
            "{args:?}: names the format: {}",
            stderr(&out)
        );
    }
    // Its records are as they were, and it is still the other version.
    let db = rocksdb::DB::open_cf_for_read_only(
        &rocksdb::Options::default(),
        &data,
        ["log", "stream_index", "checkpoints", "meta"],
        false,
    )
    .unwrap();
    let meta = db.cf_handle("meta").unwrap();
    assert_eq!(db.get_cf(meta, "format_version").unwrap(), Some(vec![9u8]));
    let log = db.cf_handle("log").unwrap();
    assert_eq!(db.iterator_cf(log, rocksdb::IteratorMode::Start).count(), 3);
}

#[test]
fn given_a_data_path_that_is_a_file_when_commands_run_then_refused_and_the_file_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::write(&data, b"not a log").unwrap();
    let file = workflow(tmp.path());
    for args in [vec!["run", file.to_str().unwrap()], vec!["status"]] {
        let out = strand(&data).args(&args).output().unwrap();
        assert_ne!(out.status.code(), Some(0), "{args:?}");
        assert!(!stderr(&out).is_empty(), "{args:?}: a message");
    }
    assert_eq!(std::fs::read(&data).unwrap(), b"not a log");
}

/// Makes `dir` read-only for the test, root included (`chattr +i` where the
/// file system has it, `chmod` otherwise), and writable again on drop.
struct ReadOnly(PathBuf, bool);

impl ReadOnly {
    fn new(dir: &Path) -> Self {
        let immutable = std::process::Command::new("chattr")
            .args(["-R", "+i"])
            .arg(dir)
            .status()
            .is_ok_and(|s| s.success());
        if !immutable {
            std::process::Command::new("chmod")
                .args(["-R", "a-w"])
                .arg(dir)
                .status()
                .unwrap();
        }
        Self(dir.to_owned(), immutable)
    }
}

impl Drop for ReadOnly {
    fn drop(&mut self) {
        let (tool, args) = if self.1 {
            ("chattr", ["-R", "-i"])
        } else {
            ("chmod", ["-R", "u+w"])
        };
        let _ = std::process::Command::new(tool)
            .args(args)
            .arg(&self.0)
            .status();
    }
}

#[test]
fn given_a_read_only_data_directory_when_run_then_refused_and_nothing_written_while_reads_still_work()
 {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    small_log(&data);
    let before = snapshot(&data);
    let file = workflow(tmp.path());
    let guard = ReadOnly::new(&data);
    let out = strand(&data).arg("run").arg(&file).output().unwrap();
    assert_ne!(out.status.code(), Some(0), "run on a read-only directory");
    assert!(
        stderr(&out).contains("is not writable"),
        "a message naming the problem: {}",
        stderr(&out)
    );
    println!(
        "read-only data directory: run refused: {}",
        stderr(&out).trim()
    );
    let verify = strand(&data).args(["log", "verify"]).output().unwrap();
    drop(guard);
    assert_eq!(snapshot(&data), before, "nothing written");
    assert_eq!(
        verify.status.code(),
        Some(0),
        "verify reads a read-only log: {}",
        stderr(&verify)
    );
}
