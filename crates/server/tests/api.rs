//! The HTTP API over TCP, on a real engine (synced RocksDB): runs started,
//! paged, shown and controlled; outputs raw; errors as JSON with stable
//! codes and nothing written for a bad request; bearer tokens; readiness.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test helpers: a failure is the test failing"
)]

mod common;

use std::net::SocketAddr;
use std::sync::Arc;

use common::{ONE, PAIR, TestResult, engine, get, post, raw, serve, stop};
use hyper::{Method, StatusCode};
use serde_json::json;
use strand_projections::RunId;
use strand_server::{Server, ServerError};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_server_when_runs_are_started_paged_and_shown_then_each_answers_from_the_engine()
-> TestResult {
    let dir = tempfile::tempdir()?;
    let (engine, _gate) = engine(dir.path()).await;
    let (running, addr) = serve(&engine).await;

    let mut started = Vec::new();
    for n in 0..3 {
        let answer = post(
            addr,
            "/api/v1/runs",
            json!({ "workflow": ONE, "id": format!("one-{n}"), "input": { "n": n } }),
        )
        .await;
        assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.json());
        assert_eq!(answer.json()["existing"], false);
        started.push(answer.json()["run"].as_str().unwrap().to_owned());
    }
    for run in &started {
        engine.wait(&RunId::from(run.as_str())).await?;
    }
    // Idempotent: the same id and input finds the run again.
    let again = post(
        addr,
        "/api/v1/runs",
        json!({ "workflow": ONE, "id": "one-0", "input": { "n": 0 } }),
    )
    .await;
    assert_eq!(again.json()["existing"], true);

    // Paged with the cursor: every run once, newest first.
    let mut seen = Vec::new();
    let mut path = "/api/v1/runs?limit=2&definition=one".to_owned();
    loop {
        let page = get(addr, &path).await;
        assert_eq!(page.status, StatusCode::OK, "{:?}", page.json());
        let doc = page.json();
        for run in doc["runs"].as_array().unwrap() {
            seen.push(run["id"].as_str().unwrap().to_owned());
            assert_eq!(run["state"], "completed");
        }
        match doc["next"].as_str() {
            Some(next) => {
                path = format!(
                    "/api/v1/runs?limit=2&definition=one&before={}",
                    strand_server::socket::escape(next)
                );
            }
            None => break,
        }
    }
    seen.sort();
    started.sort();
    assert_eq!(seen, started);

    let shown = get(addr, "/api/v1/runs/one-1").await.json();
    assert_eq!(shown["workflow"]["status"], "completed", "{shown}");
    assert_eq!(shown["input"]["n"], 1);
    let output = get(addr, "/api/v1/runs/one-1/beads/only/output").await;
    assert_eq!(output.status, StatusCode::OK);
    assert_eq!(&output.body[..], br#"{"n":1}"#);
    assert_eq!(
        output.content_type.as_deref(),
        Some(strand_projections::TEXT_PLAIN)
    );
    let dag = get(addr, "/api/v1/runs/one-1/dag").await.json();
    assert_eq!(dag["run"], "one-1", "{dag}");
    assert!(dag["nodes"].is_array(), "{dag}");
    let events = get(addr, "/api/v1/runs/one-1/events?limit=2").await.json();
    let page: Vec<u64> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(page.len(), 2, "{events}");
    assert_eq!(events["next"], page[1]);
    assert_eq!(events["events"][0]["kind"], "run_submitted", "{events}");
    let rest = get(
        addr,
        &format!("/api/v1/runs/one-1/events?after={}", page[1]),
    )
    .await
    .json();
    let kinds: Vec<&str> = rest["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.last(), Some(&"workflow_completed"), "{rest}");
    assert!(rest["next"].is_null());
    let view = get(addr, "/api/v1/engine").await.json();
    assert_eq!(view["workers"]["alive"], 4, "{view}");
    assert_eq!(view["workers"]["busy"], 0, "{view}");
    assert!(view["log"]["events"].as_u64().unwrap() > 0, "{view}");
    let supervisors = view["supervisors"].as_array().unwrap();
    assert!(
        supervisors
            .iter()
            .any(|s| s["children"].as_array().is_some_and(|c| !c.is_empty())),
        "{view}"
    );
    stop(running, engine).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_running_run_when_controlled_over_http_then_it_pauses_resumes_and_cancels()
-> TestResult {
    let dir = tempfile::tempdir()?;
    let (engine, _gate) = engine(dir.path()).await;
    let (running, addr) = serve(&engine).await;
    let started = post(
        addr,
        "/api/v1/runs",
        json!({ "workflow": PAIR, "id": "pair-1" }),
    )
    .await;
    assert_eq!(started.status, StatusCode::OK, "{:?}", started.json());

    let not_yet = get(addr, "/api/v1/runs/pair-1/beads/second/output").await;
    assert_eq!(not_yet.status, StatusCode::CONFLICT);
    assert_eq!(not_yet.json()["code"], "no_output");
    let refused = post(addr, "/api/v1/runs/pair-1/retry", json!({})).await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert_eq!(refused.json()["code"], "control_refused");
    let paused = post(
        addr,
        "/api/v1/runs/pair-1/pause",
        json!({ "reason": "lunch" }),
    )
    .await;
    assert_eq!(paused.json()["events_written"], 1, "{:?}", paused.json());
    let resumed = raw(
        addr,
        Method::POST,
        "/api/v1/runs/pair-1/resume",
        None,
        Vec::new(),
    )
    .await;
    assert_eq!(
        resumed.json()["events_written"],
        1,
        "no body is an empty control body"
    );
    let cancelled = post(
        addr,
        "/api/v1/runs/pair-1/cancel",
        json!({ "reason": "not today" }),
    )
    .await;
    assert_eq!(cancelled.status, StatusCode::OK, "{:?}", cancelled.json());
    let outcome = engine.wait(&RunId::from("pair-1")).await?;
    assert_eq!(outcome.status.as_str(), "cancelled");
    let again = post(addr, "/api/v1/runs/pair-1/cancel", json!({})).await;
    assert_eq!(again.json()["applied_already"], true);
    stop(running, engine).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_malformed_requests_when_sent_then_json_errors_with_stable_codes_and_nothing_written()
-> TestResult {
    let dir = tempfile::tempdir()?;
    let (engine, _gate) = engine(dir.path()).await;
    let running = Server::new(Arc::clone(&engine))
        .without_socket()
        .listen(SocketAddr::from(([127, 0, 0, 1], 0)))
        .max_body_bytes(4096)
        .start()
        .await?;
    let addr = running.local_addr().unwrap();

    let cases: Vec<(Method, &str, Vec<u8>, StatusCode, &str)> = vec![
        (
            Method::POST,
            "/api/v1/runs",
            b"{not json".to_vec(),
            StatusCode::BAD_REQUEST,
            "bad_body",
        ),
        (
            Method::POST,
            "/api/v1/runs",
            json!({ "workflow": "name = 3" }).to_string().into_bytes(),
            StatusCode::BAD_REQUEST,
            "bad_workflow",
        ),
        (
            Method::POST,
            "/api/v1/runs",
            json!({ "workflow": ONE, "extra": 1 })
                .to_string()
                .into_bytes(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "bad_body",
        ),
        (
            Method::POST,
            "/api/v1/runs",
            json!({ "workflow": ONE, "input": { "big": "x".repeat(8192) } })
                .to_string()
                .into_bytes(),
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
        ),
        (
            Method::GET,
            "/api/v1/runs/nope",
            Vec::new(),
            StatusCode::NOT_FOUND,
            "unknown_run",
        ),
        (
            Method::POST,
            "/api/v1/runs/nope/cancel",
            Vec::new(),
            StatusCode::NOT_FOUND,
            "unknown_run",
        ),
        (
            Method::POST,
            "/api/v1/runs/nope/explode",
            Vec::new(),
            StatusCode::NOT_FOUND,
            "unknown_control",
        ),
        (
            Method::GET,
            "/api/v1/runs?before=zzz",
            Vec::new(),
            StatusCode::BAD_REQUEST,
            "bad_cursor",
        ),
        (
            Method::GET,
            "/api/v1/runs?colour=red",
            Vec::new(),
            StatusCode::BAD_REQUEST,
            "bad_query",
        ),
        (
            Method::GET,
            "/api/v1/nothing-here",
            Vec::new(),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            Method::DELETE,
            "/api/v1/runs",
            Vec::new(),
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
    ];
    for (method, path, body, status, code) in cases {
        let answer = raw(addr, method.clone(), path, None, body).await;
        assert_eq!(answer.status, status, "{method} {path}: {:?}", answer.body);
        assert_eq!(answer.json()["code"], code, "{method} {path}");
        assert!(answer.json()["error"].is_string(), "{method} {path}");
    }
    assert!(engine.status().await?.is_empty(), "no run was written");
    stop(running, engine).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_token_when_requests_lack_it_then_401_and_nothing_else() -> TestResult {
    let dir = tempfile::tempdir()?;
    let (engine, _gate) = engine(dir.path()).await;
    let refused = Server::new(Arc::clone(&engine))
        .without_socket()
        .listen(SocketAddr::from(([0, 0, 0, 0], 0)))
        .start()
        .await;
    assert!(matches!(refused, Err(ServerError::TokenRequired { .. })));
    let running = Server::new(Arc::clone(&engine))
        .without_socket()
        .listen(SocketAddr::from(([0, 0, 0, 0], 0)))
        .token("s3cret")
        .start()
        .await?;
    let port = running.local_addr().unwrap().port();
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    for token in [None, Some("wrong"), Some("s3cre"), Some("s3cret-and-more")] {
        for (method, path) in [
            (Method::GET, "/api/v1/runs"),
            (Method::POST, "/api/v1/runs"),
            (Method::GET, "/healthz"),
        ] {
            let body = json!({ "workflow": ONE }).to_string().into_bytes();
            let answer = raw(addr, method.clone(), path, token, body).await;
            assert_eq!(
                answer.status,
                StatusCode::UNAUTHORIZED,
                "{token:?} {method} {path}"
            );
            assert_eq!(answer.json()["code"], "unauthorized");
        }
    }
    assert!(engine.status().await?.is_empty(), "no run was written");
    let allowed = raw(
        addr,
        Method::GET,
        "/api/v1/runs",
        Some("s3cret"),
        Vec::new(),
    )
    .await;
    assert_eq!(allowed.status, StatusCode::OK);
    stop(running, engine).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_stopping_server_when_probed_then_live_but_not_ready() -> TestResult {
    let dir = tempfile::tempdir()?;
    let (engine, _gate) = engine(dir.path()).await;
    let (running, addr) = serve(&engine).await;
    assert_eq!(get(addr, "/healthz").await.json()["status"], "live");
    assert_eq!(get(addr, "/readyz").await.json()["status"], "ready");
    running.set_unready();
    let probe = get(addr, "/readyz").await;
    assert_eq!(probe.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(probe.json()["code"], "not_ready");
    assert_eq!(get(addr, "/healthz").await.status, StatusCode::OK);
    stop(running, engine).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_json_definition_when_started_then_it_runs_as_the_same_file_would() -> TestResult {
    let dir = tempfile::tempdir()?;
    let (engine, _gate) = engine(dir.path()).await;
    let (running, addr) = serve(&engine).await;
    let definition = json!({
        "name": "one",
        "task": [{ "id": "only", "handler": "echo" }],
    });
    let started = post(
        addr,
        "/api/v1/runs",
        json!({ "definition": definition, "id": "from-json", "input": { "day": 3 } }),
    )
    .await;
    assert_eq!(started.status, StatusCode::OK, "{:?}", started.json());
    let outcome = engine.wait(&RunId::from("from-json")).await?;
    assert_eq!(outcome.status.as_str(), "completed");
    // The same definition as a file is the same definition: it finds the run.
    let again = post(
        addr,
        "/api/v1/runs",
        json!({ "workflow": ONE, "id": "from-json", "input": { "day": 3 } }),
    )
    .await;
    assert_eq!(again.status, StatusCode::OK, "{:?}", again.json());
    assert_eq!(again.json()["existing"], true);

    for (body, code) in [
        (
            json!({ "definition": definition, "workflow": ONE }),
            "bad_body",
        ),
        (json!({ "id": "neither" }), "bad_body"),
        (
            json!({ "definition": { "name": "x", "task": [{ "id": "a" }] } }),
            "bad_workflow",
        ),
        (
            json!({ "definition": { "name": "x", "task": [{ "id": "a", "run": null }] } }),
            "bad_workflow",
        ),
        (json!({ "definition": [1] }), "bad_workflow"),
    ] {
        let refused = post(addr, "/api/v1/runs", body.clone()).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(refused.json()["code"], code, "{body}: {:?}", refused.json());
    }
    assert_eq!(
        engine.status().await?.len(),
        1,
        "only the good run was written"
    );
    stop(running, engine).await
}
