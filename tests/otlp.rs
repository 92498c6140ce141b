//! Built with the `otlp` feature, `strand run` exports each attempt's span,
//! with its run, bead and attempt, to the collector that
//! `OTEL_EXPORTER_OTLP_ENDPOINT` names (OTLP/HTTP, protobuf), and flushes
//! them before it exits. The collector here is a real HTTP server that
//! keeps every body it is sent. Run by `make test` (`--features otlp`).

#![cfg(feature = "otlp")]

use std::process::Command;

use axum::Router;
use axum::body::Bytes;
use axum::http::StatusCode;
use axum::routing::post;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_collector_when_a_run_runs_then_its_attempt_spans_reach_it_before_exit()
-> TestResult {
    let (sent, mut received) = mpsc::unbounded_channel::<Bytes>();
    let collector = Router::new().route(
        "/v1/traces",
        post(move |body: Bytes| {
            let sent = sent.clone();
            async move {
                let _ = sent.send(body);
                StatusCode::OK
            }
        }),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, collector).await });

    let dir = tempfile::tempdir()?;
    let file = dir.path().join("traced.toml");
    std::fs::write(
        &file,
        "name = \"traced\"\n[[task]]\nid = \"extract\"\nrun = \"true\"\n\
         [[task]]\nid = \"load\"\nrun = \"true\"\ndeps = [\"extract\"]\n",
    )?;
    let data = dir.path().join("data");
    let ran = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_strand"))
            .arg("--data")
            .arg(&data)
            .arg("run")
            .arg(&file)
            .args(["--id", "traced-run-1"])
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", format!("http://{addr}"))
            .env_remove("OTEL_SERVICE_NAME")
            .env_remove("STRAND_TRACE")
            .output()
    })
    .await??;
    assert!(
        ran.status.success(),
        "{}",
        String::from_utf8_lossy(&ran.stderr)
    );

    // It answered every export before it exited: all of it is here.
    let mut bodies = Vec::new();
    while let Ok(body) = received.try_recv() {
        bodies.extend_from_slice(&body);
    }
    assert!(!bodies.is_empty(), "no export reached the collector");
    for expected in ["strand", "attempt", "traced-run-1", "extract", "load"] {
        assert!(
            contains(&bodies, expected),
            "no {expected:?} in what was exported"
        );
    }
    Ok(())
}
