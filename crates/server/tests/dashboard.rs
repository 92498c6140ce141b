//! The dashboard as HTTP sees it: the page shell and its assets are served
//! (with a strict content security policy) under `/ui`, without a token
//! even when one is configured, while the data behind them still needs it;
//! and a page of another site cannot make a browser change anything.
//! What the pages do in a browser is tested by `tests/browser` (Chromium).

mod common;

use std::net::SocketAddr;
use std::sync::Arc;

use common::{PAIR, TestResult, engine, get, post, raw, raw_with, serve, stop};
use hyper::{Method, StatusCode};
use serde_json::json;
use strand_server::Server;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_the_dashboard_when_its_pages_are_asked_for_then_the_shell_and_assets_are_served()
-> TestResult {
    let dir = tempfile::tempdir()?;
    let (engine, _gate) = engine(dir.path()).await;
    let (running, addr) = serve(&engine).await;

    let root = get(addr, "/").await;
    assert!(root.status.is_redirection(), "{}", root.status);
    assert_eq!(root.headers["location"], "/ui/runs");
    for page in [
        "/ui",
        "/ui/",
        "/ui/runs",
        "/ui/runs/a%2Fb",
        "/ui/engine",
        "/ui/log",
    ] {
        let shell = get(addr, page).await;
        assert_eq!(shell.status, StatusCode::OK, "{page}");
        assert_eq!(
            shell.content_type.as_deref(),
            Some("text/html; charset=utf-8")
        );
        let html = std::str::from_utf8(&shell.body)?;
        assert!(html.contains(r#"src="/ui/assets/app.js""#), "{page}");
        let policy = shell.headers["content-security-policy"].to_str()?;
        assert!(policy.contains("script-src 'self'"), "{policy}");
        assert!(!policy.contains("unsafe-inline"), "{policy}");
    }
    let script = get(addr, "/ui/assets/run.js").await;
    assert_eq!(script.status, StatusCode::OK);
    assert_eq!(
        script.content_type.as_deref(),
        Some("text/javascript; charset=utf-8")
    );
    assert_eq!(script.headers["x-content-type-options"], "nosniff");
    let style = get(addr, "/ui/assets/app.css").await;
    assert_eq!(
        style.content_type.as_deref(),
        Some("text/css; charset=utf-8")
    );
    let missing = get(addr, "/ui/assets/nope.js").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.json()["code"], "not_found");
    stop(running, engine).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_token_when_the_dashboard_is_asked_for_without_it_then_only_the_shell_is_served()
-> TestResult {
    let dir = tempfile::tempdir()?;
    let (engine, _gate) = engine(dir.path()).await;
    let running = Server::new(Arc::clone(&engine))
        .without_socket()
        .listen(SocketAddr::from(([127, 0, 0, 1], 0)))
        .token("s3cret")
        .start()
        .await?;
    let addr = running.local_addr().unwrap();
    for path in ["/", "/ui/runs", "/ui/runs/x", "/ui/assets/app.js"] {
        let answer = get(addr, path).await;
        assert!(
            answer.status.is_success() || answer.status.is_redirection(),
            "{path}: {}",
            answer.status
        );
    }
    for (method, path) in [
        (Method::GET, "/api/v1/runs"),
        (Method::GET, "/api/v1/events"),
        (Method::GET, "/metrics"),
        (Method::POST, "/ui/runs"),
        (Method::GET, "/uix"),
    ] {
        let answer = raw(addr, method.clone(), path, None, Vec::new()).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{method} {path}");
    }
    stop(running, engine).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_page_of_another_site_when_it_posts_a_control_then_403_and_nothing_changes()
-> TestResult {
    let dir = tempfile::tempdir()?;
    let (engine, gate) = engine(dir.path()).await;
    let (running, addr) = serve(&engine).await;
    let started = post(
        addr,
        "/api/v1/runs",
        json!({ "workflow": PAIR, "id": "held" }),
    )
    .await;
    assert_eq!(started.status, StatusCode::OK);

    let cancel = "/api/v1/runs/held/cancel";
    for headers in [
        &[("origin", "https://evil.example")][..],
        &[("origin", "null")][..],
        &[
            ("sec-fetch-site", "cross-site"),
            ("origin", "http://strand"),
        ][..],
    ] {
        let answer = raw_with(addr, Method::POST, cancel, None, headers, Vec::new()).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{headers:?}");
        assert_eq!(answer.json()["code"], "cross_origin");
    }
    let start = json!({ "workflow": PAIR, "id": "forged" })
        .to_string()
        .into_bytes();
    let forged = raw_with(
        addr,
        Method::POST,
        "/api/v1/runs",
        None,
        &[("origin", "https://evil.example")],
        start,
    )
    .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(
        get(addr, "/api/v1/runs/held").await.json()["workflow"]["status"],
        "running"
    );
    assert_eq!(
        get(addr, "/api/v1/runs/forged").await.status,
        StatusCode::NOT_FOUND
    );

    // Reads from anywhere still work, and the dashboard's own page may act.
    let read = raw_with(
        addr,
        Method::GET,
        "/api/v1/runs/held",
        None,
        &[("origin", "https://evil.example")],
        Vec::new(),
    )
    .await;
    assert_eq!(read.status, StatusCode::OK);
    let own = [
        ("origin", "http://strand"),
        ("sec-fetch-site", "same-origin"),
    ];
    let answer = raw_with(addr, Method::POST, cancel, None, &own, Vec::new()).await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.json());
    assert_eq!(
        get(addr, "/api/v1/runs/held").await.json()["workflow"]["status"],
        "cancelled"
    );
    gate.add_permits(1);
    stop(running, engine).await
}
