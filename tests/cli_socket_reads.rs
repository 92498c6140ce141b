//! `strand runs|status|output` ask the engine that holds the directory,
//! through its control socket. The socket here is served for an engine
//! whose log lives elsewhere, so the directory the CLI is pointed at has
//! no log at all: an answer can only have come from the engine.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a failure is the test failing"
)]

mod common;

use std::process::Output;
use std::sync::Arc;

use common::cli::{show, strand};
use strand::actors::orchestration::{TaskContext, TaskResult};
use strand::engine::{Engine, RunInput};
use strand::workflow::Workflow;
use tokio::sync::Notify;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// `strand ARGS` against `data`, off the async workers.
async fn cli(data: &std::path::Path, args: &[&str]) -> Output {
    let mut cmd = strand(data);
    cmd.args(args);
    tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap()
}

fn parsed(out: &Output, code: i32) -> serde_json::Value {
    assert_eq!(out.status.code(), Some(code), "{}", show(out));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_an_engine_serving_its_socket_when_runs_status_and_output_are_asked_then_it_answers()
-> TestResult {
    let tmp = tempfile::tempdir()?;
    let (log_dir, asked) = (tmp.path().join("log"), tmp.path().join("asked"));
    std::fs::create_dir_all(&asked)?;
    let (gate, started) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
    let (held, starts) = (Arc::clone(&gate), Arc::clone(&started));
    let engine = Engine::builder(&log_dir)
        .workers(2)
        .handler("hold", move |_cx: TaskContext| {
            let (held, starts) = (Arc::clone(&held), Arc::clone(&starts));
            async move {
                starts.notify_one();
                held.notified().await;
                TaskResult::Ok("released".to_owned())
            }
        })
        .open()
        .await?;
    let engine = Arc::new(engine);
    let server = strand::server::Server::new(Arc::clone(&engine))
        .socket(strand::socket::path(&asked))
        .start()
        .await?;
    let workflow = Workflow::from_toml_str(
        "pair.toml",
        "name = \"pair\"\n[[task]]\nid = \"first\"\nrun = \"printf 'one\\\\ntwo'\"\n\
         [[task]]\nid = \"second\"\nhandler = \"hold\"\ndeps = [\"first\"]\n",
    )?;
    let run = engine.start(&workflow, RunInput::new()).await?;
    // `second` runs once `first` completed (its start is durable before
    // its handler is called).
    started.notified().await;

    let runs = parsed(
        &cli(&asked, &["-o", "json", "runs", "--definition", "pair"]).await,
        0,
    );
    assert_eq!(runs["runs"][0]["id"], run.as_str(), "{runs}");
    assert_eq!(runs["runs"][0]["state"], "running");
    let none = parsed(
        &cli(&asked, &["-o", "json", "runs", "--state", "failed"]).await,
        0,
    );
    assert_eq!(none["runs"].as_array().map(Vec::len), Some(0), "{none}");

    let overview = parsed(&cli(&asked, &["-o", "json", "status"]).await, 0);
    assert_eq!(overview["workflows"][0]["id"], run.as_str(), "{overview}");
    let detail = parsed(
        &cli(&asked, &["-o", "json", "status", run.as_str()]).await,
        0,
    );
    assert_eq!(detail["beads"][0]["output"]["data"], "one\ntwo", "{detail}");
    assert_eq!(detail["beads"][1]["state"], "running");

    let raw = cli(&asked, &["output", run.as_str(), "first"]).await;
    assert_eq!(raw.status.code(), Some(0), "{}", show(&raw));
    assert_eq!(raw.stdout, b"one\ntwo", "raw and whole");
    let not_yet = cli(&asked, &["output", run.as_str(), "second"]).await;
    assert_eq!(not_yet.status.code(), Some(1), "{}", show(&not_yet));
    assert!(show(&not_yet).contains("running"), "{}", show(&not_yet));
    let unknown_bead = cli(&asked, &["output", run.as_str(), "third"]).await;
    assert_eq!(
        unknown_bead.status.code(),
        Some(2),
        "{}",
        show(&unknown_bead)
    );
    let unknown_run = cli(&asked, &["status", "no-such-run"]).await;
    assert_eq!(unknown_run.status.code(), Some(2), "{}", show(&unknown_run));

    gate.notify_one();
    engine.wait(&run).await?;
    let done = parsed(
        &cli(&asked, &["-o", "json", "status", run.as_str()]).await,
        0,
    );
    assert_eq!(done["outputs"]["second"]["data"], "released", "{done}");
    server.stop().await;
    let engine = Arc::try_unwrap(engine).map_err(|_| "engine still shared")?;
    engine.shutdown().await?;
    let offline = cli(&asked, &["runs"]).await;
    assert_eq!(
        offline.status.code(),
        Some(2),
        "with no engine, the CLI reads the log, and there is none: {}",
        show(&offline)
    );
    Ok(())
}
