//! `GET /metrics` with the Prometheus recorder installed (once per
//! process: this binary holds this one test): the log's, the scheduler's
//! and the projection's metrics, named the Prometheus way.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::float_cmp,
    reason = "test helpers: a failure is the test failing; the samples compared are whole counts"
)]

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use common::{TestResult, get, post, stop};
use hyper::StatusCode;
use serde_json::json;
use strand_actors::orchestration::{TaskContext, TaskError, TaskResult};
use strand_actors::policy::Backoff;
use strand_engine::Engine;
use strand_projections::RunId;
use strand_server::Server;

/// A workflow whose `flaky` bead fails once, then completes.
const FLAKY: &str = "name = \"flaky\"\n[[task]]\nid = \"a\"\nhandler = \"flaky\"\nretries = 2\n\
                     [[task]]\nid = \"b\"\nhandler = \"flaky\"\ndeps = [\"a\"]\nretries = 2\n";

/// The value of the sample `name{labels}` in a scrape, if present.
fn sample(scrape: &str, series: &str) -> Option<f64> {
    scrape
        .lines()
        .find(|line| line.starts_with(series) && line[series.len()..].starts_with(' '))
        .and_then(|line| line.rsplit(' ').next()?.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_the_prometheus_recorder_when_a_run_completes_then_the_scrape_counts_it() -> TestResult
{
    let handle = strand_server::install_prometheus()?;
    let dir = tempfile::tempdir()?;
    let failed_once = Arc::new(std::sync::Mutex::new(std::collections::HashSet::new()));
    let engine = Engine::builder(dir.path())
        .workers(2)
        .retry_backoff(Backoff {
            immediate: 0,
            initial: Duration::from_millis(1),
            max: Duration::from_millis(2),
            ..Backoff::default()
        })
        .handler("flaky", move |cx: TaskContext| {
            let failed_once = Arc::clone(&failed_once);
            async move {
                if failed_once.lock().unwrap().insert(cx.bead.clone()) {
                    return Err(TaskError::retryable("the first attempt fails"));
                }
                TaskResult::Ok("done".to_owned())
            }
        })
        .open()
        .await?;
    let engine = Arc::new(engine);
    let running = Server::new(Arc::clone(&engine))
        .without_socket()
        .listen(SocketAddr::from(([127, 0, 0, 1], 0)))
        .metrics(handle)
        .start()
        .await?;
    let addr = running.local_addr().unwrap();
    let started = post(
        addr,
        "/api/v1/runs",
        json!({ "workflow": FLAKY, "id": "f1" }),
    )
    .await;
    assert_eq!(started.status, StatusCode::OK, "{:?}", started.json());
    engine.wait(&RunId::from("f1")).await?;
    engine.runtime().state().checkpoint().await?;

    let scrape = get(addr, "/metrics").await;
    assert_eq!(scrape.status, StatusCode::OK);
    assert!(
        scrape
            .content_type
            .as_deref()
            .unwrap_or_default()
            .starts_with("text/plain"),
        "{:?}",
        scrape.content_type
    );
    let text = String::from_utf8(scrape.body.to_vec())?;
    let value =
        |series: &str| sample(&text, series).unwrap_or_else(|| panic!("{series} in\n{text}"));
    assert_eq!(value("strand_runs{state=\"completed\"}"), 1.0);
    assert_eq!(value("strand_beads{state=\"completed\"}"), 2.0);
    assert_eq!(
        value("strand_bead_retries_total{definition=\"flaky\"}"),
        2.0
    );
    assert_eq!(
        value("strand_bead_duration_seconds_count{definition=\"flaky\"}"),
        4.0,
        "two attempts of two beads"
    );
    assert_eq!(
        value("strand_bead_queue_wait_seconds_count{definition=\"flaky\"}"),
        4.0
    );
    assert!(value("strand_log_fsyncs_total") >= 1.0);
    assert!(value("strand_log_events_appended_total") >= 10.0);
    assert!(value("strand_log_bytes_appended_total") > 0.0);
    assert!(value("strand_log_events_per_fsync_count") >= 1.0);
    assert!(value("strand_append_latency_seconds_count") >= 1.0);
    assert!(value("strand_checkpoint_size_bytes") > 0.0);
    assert!(value("strand_checkpoint_duration_seconds_count") >= 1.0);
    assert!(sample(&text, "strand_replay_events").is_some(), "{text}");
    assert!(
        text.contains("# HELP strand_log_fsync_seconds"),
        "described"
    );
    assert!(text.contains("strand_actor_restarts_total{"), "{text}");

    stop(running, engine).await
}
