//! `strand log verify|dump|stats` and `strand bench append`: output shapes and
//! exit codes of the CLI contract, on logs written by the real binary.

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn strand(data: &Path) -> Result<Command, Box<dyn std::error::Error>> {
    let mut cmd = Command::cargo_bin("strand")?;
    cmd.arg("--data").arg(data).env_remove("STRAND_DATA");
    Ok(cmd)
}

fn json_of(output: &std::process::Output) -> Result<Value, serde_json::Error> {
    serde_json::from_slice(&output.stdout)
}

/// Write a small log with the bench (a real writer) and keep it.
fn bench_log(dir: &Path) -> Result<std::path::PathBuf, Box<dyn std::error::Error>> {
    let kept = dir.join("log");
    let out = strand(dir)?
        .args(["bench", "append", "--events", "600", "--producers", "8"])
        .args([
            "--single-events",
            "20",
            "--event-bytes",
            "32",
            "-o",
            "json",
            "--keep",
        ])
        .arg(&kept)
        .arg("--tmp")
        .arg(dir)
        .output()?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc = json_of(&out)?;
    // Each round runs Strand twice (strand, raw, raw, strand).
    assert_eq!(doc.pointer("/strand/runs"), Some(&Value::from(2)));
    assert_eq!(doc.pointer("/strand/events"), Some(&Value::from(1200)));
    for key in ["/ratio_vs_raw_batch", "/ratio_vs_raw_single"] {
        let ratio = doc.pointer(key).and_then(Value::as_f64);
        assert!(ratio.is_some_and(|r| r > 0.0), "{key} in {doc}");
    }
    let per_fsync = doc
        .pointer("/strand/mean_events_per_fsync")
        .and_then(Value::as_f64);
    assert!(per_fsync.is_some_and(|m| (1.0..=8.0).contains(&m)), "{doc}");
    Ok(kept)
}

#[test]
fn given_log_written_by_bench_when_verified_then_ok_json_and_exit_zero() -> TestResult {
    let dir = tempfile::tempdir()?;
    let log = bench_log(dir.path())?;
    let out = strand(&log)?
        .args(["log", "verify", "-o", "json"])
        .output()?;
    assert_eq!(out.status.code(), Some(0));
    let doc = json_of(&out)?;
    assert_eq!(doc["ok"], true);
    assert_eq!(doc["records"], 600);
    assert_eq!(doc["first_seq"], 1);
    assert_eq!(doc["last_seq"], 600);
    assert_eq!(doc["first_bad_seq"], Value::Null);
    assert_eq!(doc["error"], Value::Null);
    Ok(())
}

#[test]
fn given_log_with_flipped_bytes_when_verified_then_exit_one_or_refusal_never_short_ok() -> TestResult
{
    let dir = tempfile::tempdir()?;
    let log = bench_log(dir.path())?;
    let tables: Vec<_> = std::fs::read_dir(&log)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "sst"))
        .collect();
    assert!(
        !tables.is_empty(),
        "a cleanly closed log lives in table files"
    );
    for table in &tables {
        let mut bytes = std::fs::read(table)?;
        let mid = bytes.len() / 3;
        bytes[mid] ^= 0xFF;
        std::fs::write(table, bytes)?;
    }
    let out = strand(&log)?
        .args(["log", "verify", "-o", "json"])
        .output()?;
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc = json_of(&out)?;
    assert_eq!(doc["ok"], false);
    assert!(doc["error"].is_string());
    Ok(())
}

#[test]
fn given_missing_data_directory_when_verified_then_usage_exit_two_and_nothing_created() -> TestResult
{
    let dir = tempfile::tempdir()?;
    let missing = dir.path().join("nope");
    let out = strand(&missing)?
        .args(["log", "verify", "-o", "json"])
        .output()?;
    assert_eq!(out.status.code(), Some(2));
    assert!(json_of(&out)?["error"].is_string());
    assert!(!missing.exists());
    Ok(())
}

#[test]
fn given_unknown_argument_when_run_then_exit_two() -> TestResult {
    let dir = tempfile::tempdir()?;
    let out = strand(dir.path())?
        .args(["log", "verify", "--frobnicate"])
        .output()?;
    assert_eq!(out.status.code(), Some(2));
    Ok(())
}

#[test]
fn given_log_when_dumped_as_json_then_one_json_line_per_event_in_range() -> TestResult {
    let dir = tempfile::tempdir()?;
    let log = bench_log(dir.path())?;
    let out = strand(&log)?
        .args(["log", "dump", "--from", "5", "--to", "9", "-o", "json"])
        .output()?;
    assert!(out.status.success());
    let lines: Vec<Value> = String::from_utf8(out.stdout)?
        .lines()
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    let seqs: Vec<u64> = lines.iter().filter_map(|l| l["seq"].as_u64()).collect();
    assert_eq!(seqs, vec![5, 6, 7, 8, 9]);
    assert_eq!(lines[0]["len"], 32);
    assert!(
        lines[0]["stream"]
            .as_str()
            .is_some_and(|s| s.starts_with("producer-"))
    );

    let out = strand(&log)?
        .args(["log", "dump", "--stream", "producer-3", "-o", "json"])
        .output()?;
    let text = String::from_utf8(out.stdout)?;
    assert_eq!(text.lines().count(), 75, "600 events over 8 producers");
    Ok(())
}

#[test]
fn given_log_when_stats_then_counts_match() -> TestResult {
    let dir = tempfile::tempdir()?;
    let log = bench_log(dir.path())?;
    let out = strand(&log)?
        .args(["log", "stats", "-o", "json"])
        .output()?;
    assert!(out.status.success());
    let doc = json_of(&out)?;
    assert_eq!(doc["records"], 600);
    assert_eq!(doc["streams"], 8);
    assert_eq!(doc["body_bytes"], 600 * 32);
    Ok(())
}

#[test]
fn given_bench_keep_at_existing_path_when_run_then_usage_error_and_nothing_written() -> TestResult {
    let dir = tempfile::tempdir()?;
    let out = strand(dir.path())?
        .args(["bench", "append", "--events", "10", "--keep"])
        .arg(dir.path())
        .output()?;
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(std::fs::read_dir(dir.path())?.count(), 0);
    Ok(())
}
