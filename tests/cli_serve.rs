//! `strand serve`: the engine as a service. Runs submitted through the CLI
//! reach it over the control socket; SIGTERM stops it gracefully (the
//! attempt running finishes and is recorded, the socket goes); `kill -9`
//! and a restart resume every unfinished run; a non-loopback address
//! without a token is refused before anything is opened.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test helpers: a failure is the test failing"
)]

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

mod common;

use common::cli::{fifo, json, show, strand, write};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// `strand serve` on `data` (any free port), and the address it listens on.
fn serve(data: &Path, dir: &Path) -> (Child, String) {
    let mut child = strand(data)
        .current_dir(dir)
        .args([
            "-o",
            "json",
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--grace",
            "60s",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let ready: serde_json::Value = serde_json::from_str(&line).unwrap();
    (child, ready["listening"].as_str().unwrap().to_owned())
}

fn signal(child: &Child, name: &str) {
    let sent = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(sent.success());
}

#[test]
fn given_strand_serve_when_a_detached_run_is_running_and_sigterm_comes_then_its_attempt_finishes_and_is_recorded()
-> TestResult {
    let tmp = tempfile::tempdir()?;
    let data = tmp.path().join("data");
    let (started, release) = (tmp.path().join("started"), tmp.path().join("release"));
    fifo(&started);
    fifo(&release);
    let file = write(
        tmp.path(),
        "held.toml",
        &format!(
            "name = \"held\"\n[[task]]\nid = \"held\"\nrun = \"echo up > {}; cat {}\"\n",
            started.display(),
            release.display()
        ),
    );
    let (mut child, listening) = serve(&data, tmp.path());
    assert!(listening.starts_with("127.0.0.1:"), "{listening}");
    assert!(data.join("strand.sock").exists());
    let detached = json(
        strand(&data)
            .args(["run", "--detach", "--id", "h1"])
            .arg(&file),
        0,
    );
    assert_eq!(detached["run"], "h1");
    // The task runs in the served engine.
    assert_eq!(std::fs::read_to_string(&started)?, "up\n");
    let runs = json(strand(&data).args(["runs"]), 0);
    assert_eq!(runs["runs"][0]["state"], "running", "{runs}");

    signal(&child, "TERM");
    // Stopping, the engine waits for the running attempt: let it finish.
    std::fs::write(&release, "done\n")?;
    let status = child.wait()?;
    assert_eq!(status.code(), Some(0));
    assert!(!data.join("strand.sock").exists(), "the socket is removed");
    let done = json(strand(&data).args(["status", "h1"]), 0);
    assert_eq!(done["workflow"]["status"], "completed", "{done}");
    assert_eq!(done["outputs"]["held"]["data"], "done\n");
    Ok(())
}

#[test]
fn given_strand_serve_killed_mid_run_when_started_again_then_the_run_resumes_and_completes()
-> TestResult {
    let tmp = tempfile::tempdir()?;
    let data = tmp.path().join("data");
    let (started, finished) = (tmp.path().join("started"), tmp.path().join("finished"));
    fifo(&started);
    fifo(&finished);
    let file = write(
        tmp.path(),
        "again.toml",
        &format!(
            "name = \"again\"\n[[task]]\nid = \"wait\"\nrun = \"test -e go || {{ echo up > {}; sleep 100; }}\"\n\
             [[task]]\nid = \"last\"\nrun = \"echo end > {}\"\ndeps = [\"wait\"]\n",
            started.display(),
            finished.display()
        ),
    );
    let (mut first, _) = serve(&data, tmp.path());
    json(
        strand(&data)
            .args(["run", "--detach", "--id", "a1"])
            .arg(&file),
        0,
    );
    assert_eq!(std::fs::read_to_string(&started)?, "up\n");
    first.kill()?;
    first.wait()?;

    std::fs::write(tmp.path().join("go"), "")?;
    let (mut second, _) = serve(&data, tmp.path());
    // The resumed run's last bead says so.
    assert_eq!(std::fs::read_to_string(&finished)?, "end\n");
    signal(&second, "INT");
    assert_eq!(second.wait()?.code(), Some(0));
    let done = json(strand(&data).args(["status", "a1"]), 0);
    assert_eq!(done["workflow"]["status"], "completed", "{done}");
    Ok(())
}

#[test]
fn given_a_non_loopback_address_without_a_token_when_served_then_refused_and_nothing_opened()
-> TestResult {
    let tmp = tempfile::tempdir()?;
    let data = tmp.path().join("data");
    let out = strand(&data)
        .args(["serve", "--listen", "0.0.0.0:0"])
        .env_remove("STRAND_TOKEN")
        .output()?;
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(show(&out).contains("token"), "{}", show(&out));
    assert!(!data.exists(), "nothing was created");
    let empty = write(tmp.path(), "empty-token", "\n");
    let out = strand(&data)
        .args(["serve", "--listen", "127.0.0.1:0", "--token-file"])
        .arg(&empty)
        .output()?;
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(!data.exists(), "nothing was created");
    Ok(())
}
