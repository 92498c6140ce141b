//! The checked-in OpenAPI document (`crates/server/api/openapi.json`)
//! against the server: every documented operation is served and answers
//! one of its documented statuses, and every method a documented path
//! does not document is refused as such (405), so a route and the
//! document cannot drift apart unnoticed.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test helpers: a failure is the test failing"
)]

mod common;

use std::net::SocketAddr;
use std::sync::Arc;

use common::{ONE, Sse, TestResult, engine, post, raw, stop};
use hyper::Method;
use serde_json::json;
use strand_projections::RunId;
use strand_server::Server;

const DOCUMENT: &str = include_str!("../api/openapi.json");

/// A request body an operation accepts.
fn body_for(path: &str) -> Vec<u8> {
    if path == "/api/v1/runs" {
        json!({ "workflow": ONE, "id": "probe" })
            .to_string()
            .into_bytes()
    } else {
        Vec::new()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_the_openapi_document_when_each_operation_is_called_then_the_server_serves_it_as_documented()
-> TestResult {
    let document: serde_json::Value = serde_json::from_str(DOCUMENT)?;
    let dir = tempfile::tempdir()?;
    let (engine, _gate) = engine(dir.path()).await;
    let running = Server::new(Arc::clone(&engine))
        .without_socket()
        .listen(SocketAddr::from(([127, 0, 0, 1], 0)))
        .start()
        .await?;
    let addr = running.local_addr().unwrap();
    post(addr, "/api/v1/runs", json!({ "workflow": ONE, "id": "r1" })).await;
    engine.wait(&RunId::from("r1")).await?;

    let paths = document["paths"].as_object().unwrap();
    assert!(paths.len() >= 15, "{} paths", paths.len());
    let methods = ["get", "post", "put", "delete", "patch"];
    for (template, operations) in paths {
        let path = template.replace("{run}", "r1").replace("{bead}", "only");
        for method in methods {
            let verb = Method::from_bytes(method.to_uppercase().as_bytes())?;
            let Some(operation) = operations.get(method) else {
                let answer = raw(addr, verb.clone(), &path, None, Vec::new()).await;
                assert_eq!(
                    answer.json()["code"],
                    "method_not_allowed",
                    "{method} {template} is not documented, yet answered {}",
                    answer.status
                );
                continue;
            };
            assert!(operation["operationId"].is_string(), "{method} {template}");
            let status = if path == "/api/v1/events" {
                // A stream: its answer's head is enough.
                drop(Sse::open(addr, &path, None).await);
                200
            } else {
                let answer = raw(addr, verb, &path, None, body_for(&path)).await;
                let code = answer.json()["code"].clone();
                assert!(
                    code != "not_found" && code != "method_not_allowed",
                    "{method} {template} is documented but not served: {code}"
                );
                answer.status.as_u16()
            };
            assert!(
                operation["responses"].get(status.to_string()).is_some(),
                "{method} {template} answered {status}, which it does not document"
            );
        }
    }
    stop(running, engine).await
}
