//! Helpers of the server tests: an engine on a temporary directory with a
//! handler that waits for a gate, and a plain HTTP/1.1 client over TCP
//! (hyper) for requests and for Server-Sent Events.

#![allow(
    dead_code,
    clippy::unwrap_used,
    reason = "test helpers: each binary uses part of them, a failure is the test failing"
)]

use std::net::SocketAddr;
use std::sync::Arc;

use http_body_util::{BodyExt as _, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use strand_actors::orchestration::{TaskContext, TaskResult};
use strand_engine::Engine;
use strand_server::{RunningServer, Server};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;

pub type TestResult = Result<(), Box<dyn std::error::Error>>;

/// An engine whose `gated` handler waits for a permit of the returned
/// semaphore (one per attempt); `echo` returns its run's input.
pub async fn engine(dir: &std::path::Path) -> (Arc<Engine>, Arc<Semaphore>) {
    let gate = Arc::new(Semaphore::new(0));
    let held = Arc::clone(&gate);
    let engine = Engine::builder(dir)
        .workers(4)
        .handler("gated", move |_cx: TaskContext| {
            let held = Arc::clone(&held);
            async move {
                held.acquire().await.unwrap().forget();
                TaskResult::Ok("released".to_owned())
            }
        })
        .handler("echo", |cx: TaskContext| async move {
            TaskResult::Ok(cx.input.to_string())
        })
        .open()
        .await
        .unwrap();
    (Arc::new(engine), gate)
}

/// `engine`'s API on a free loopback port, no socket.
pub async fn serve(engine: &Arc<Engine>) -> (RunningServer, SocketAddr) {
    let running = Server::new(Arc::clone(engine))
        .without_socket()
        .listen(SocketAddr::from(([127, 0, 0, 1], 0)))
        .start()
        .await
        .unwrap();
    let addr = running.local_addr().unwrap();
    (running, addr)
}

/// Stop the server, then the engine (which nothing else may hold).
pub async fn stop(running: RunningServer, engine: Arc<Engine>) -> TestResult {
    running.stop().await;
    Arc::try_unwrap(engine)
        .map_err(|_| "the engine is still shared")?
        .shutdown()
        .await?;
    Ok(())
}

/// A workflow file of two beads, `first` (echo) then `second` (gated).
pub const PAIR: &str = "name = \"pair\"\n[[task]]\nid = \"first\"\nhandler = \"echo\"\n\
                        [[task]]\nid = \"second\"\nhandler = \"gated\"\ndeps = [\"first\"]\n";

/// A workflow file of one echo bead.
pub const ONE: &str = "name = \"one\"\n[[task]]\nid = \"only\"\nhandler = \"echo\"\n";

/// An answer.
pub struct Answer {
    pub status: StatusCode,
    pub content_type: Option<String>,
    pub headers: hyper::HeaderMap,
    pub body: Bytes,
}

impl Answer {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

async fn send(addr: SocketAddr, request: Request<Full<Bytes>>) -> hyper::Response<Incoming> {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(async move {
        let _ = connection.await;
    });
    sender.send_request(request).await.unwrap()
}

fn request(
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Vec<u8>,
    last_event_id: Option<u64>,
) -> Request<Full<Bytes>> {
    request_with(method, path, token, &[], body, last_event_id)
}

fn request_with(
    method: Method,
    path: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
    body: Vec<u8>,
    last_event_id: Option<u64>,
) -> Request<Full<Bytes>> {
    let mut builder = Request::builder()
        .method(method)
        .uri(path)
        .header(hyper::header::HOST, "strand")
        .header(hyper::header::CONTENT_TYPE, "application/json");
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    if let Some(token) = token {
        builder = builder.header(hyper::header::AUTHORIZATION, format!("Bearer {token}"));
    }
    if let Some(seq) = last_event_id {
        builder = builder.header("last-event-id", seq.to_string());
    }
    builder.body(Full::new(Bytes::from(body))).unwrap()
}

/// `method path` with a raw body (and a bearer token).
pub async fn raw(
    addr: SocketAddr,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Vec<u8>,
) -> Answer {
    answer(send(addr, request(method, path, token, body, None)).await).await
}

/// `method path` with extra headers (and a bearer token).
pub async fn raw_with(
    addr: SocketAddr,
    method: Method,
    path: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> Answer {
    let request = request_with(method, path, token, headers, body, None);
    answer(send(addr, request).await).await
}

async fn answer(response: hyper::Response<Incoming>) -> Answer {
    let status = response.status();
    let headers = response.headers().clone();
    let content_type = response
        .headers()
        .get(hyper::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    Answer {
        status,
        content_type,
        headers,
        body,
    }
}

/// `GET path`.
pub async fn get(addr: SocketAddr, path: &str) -> Answer {
    raw(addr, Method::GET, path, None, Vec::new()).await
}

/// `POST path` with a JSON body.
pub async fn post(addr: SocketAddr, path: &str, body: serde_json::Value) -> Answer {
    raw(
        addr,
        Method::POST,
        path,
        None,
        body.to_string().into_bytes(),
    )
    .await
}

/// A Server-Sent Events stream being read.
pub struct Sse {
    body: Incoming,
    buffer: String,
}

/// One event of a stream: its id and its data.
#[derive(Debug)]
pub struct SseEvent {
    pub id: Option<u64>,
    pub event: Option<String>,
    pub data: serde_json::Value,
}

impl Sse {
    /// Open `path` (after `last_event_id`, if any).
    pub async fn open(addr: SocketAddr, path: &str, last_event_id: Option<u64>) -> Self {
        let response = send(
            addr,
            request(Method::GET, path, None, Vec::new(), last_event_id),
        )
        .await;
        assert_eq!(response.status(), StatusCode::OK);
        Self {
            body: response.into_body(),
            buffer: String::new(),
        }
    }

    /// The next event (keep-alive comments skipped); `None` when the
    /// stream ended.
    pub async fn next(&mut self) -> Option<SseEvent> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut event = SseEvent {
                    id: None,
                    event: None,
                    data: serde_json::Value::Null,
                };
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(id) = line.strip_prefix("id:") {
                        event.id = id.trim().parse().ok();
                    } else if let Some(kind) = line.strip_prefix("event:") {
                        event.event = Some(kind.trim().to_owned());
                    } else if let Some(part) = line.strip_prefix("data:") {
                        data.push_str(part.trim_start());
                    }
                }
                if data.is_empty() && event.id.is_none() {
                    continue;
                }
                event.data = serde_json::from_str(&data).unwrap_or(serde_json::Value::Null);
                return Some(event);
            }
            let frame = self.body.frame().await?.ok()?;
            if let Ok(bytes) = frame.into_data() {
                self.buffer.push_str(&String::from_utf8_lossy(&bytes));
            }
        }
    }
}
