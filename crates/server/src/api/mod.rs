//! The HTTP/JSON API, versioned under [`API_PREFIX`]. Every error is a JSON
//! body `{ "code", "error" }` with a stable `code`; a malformed request is
//! refused before anything reaches the engine, so nothing malformed is
//! ever written to the log.
//!
//! | method and path | does |
//! |---|---|
//! | `GET /healthz` | live: the process answers |
//! | `GET /readyz` | ready: the engine recovered and accepts work (503 while stopping) |
//! | `GET /metrics` | Prometheus text format (with a recorder installed: `install_prometheus`) |
//! | `GET /api/v1/status` | every run and the workers (`views::Overview`) |
//! | `GET /api/v1/engine` | the supervision tree (restarts, failures, last error, breaker by child), workers (alive, busy, idle), log counters, last checkpoint, uptime (`views::EngineView`) |
//! | `GET /api/v1/runs?state=&definition=&limit=&since_ms=&before=` | runs, newest first, a page (`views::RunList`, `next` is the following page's `before`) |
//! | `POST /api/v1/runs` | start a run: `{ "workflow": TOML text | "definition": JSON, "source"?, "id"?, "input"? }`, answers `{ "run", "existing" }` once durable |
//! | `GET /api/v1/runs/{run}` | one run: beads, attempts, outputs (`views::RunDetail`) |
//! | `GET /api/v1/runs/{run}/dag` | the run's DAG with layout (the `strand dag -f json` document) |
//! | `GET /api/v1/runs/{run}/events?after=&limit=` | the run's events from the log, a page |
//! | `GET /api/v1/runs/{run}/beads/{bead}/output` | the bead's output, raw, with its content type (409 `no_output` with the bead's `state` before it completed) |
//! | `POST /api/v1/runs/{run}/{cancel,pause,resume,retry}` | a control; body `{ "reason"?, "beads"? }` |
//! | `GET /api/v1/events?run=&after=` | live events as Server-Sent Events, from the log's durable end; resumable with `Last-Event-ID` |
//!
//! The dashboard's pages and assets sit beside it, under `/ui` (see
//! `dashboard`). A request that changes anything is refused with 403
//! `cross_origin` when a browser sent it from another site's page.

mod engine;
mod events;
mod runs;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};

use axum::Router;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;
use strand_actors::ActorError;
use strand_engine::Engine;

/// Where the versioned API lives.
pub const API_PREFIX: &str = "/api/v1";

/// The largest request body by default: a workflow file (up to 16 MiB) and
/// an input (up to 1 MiB), as JSON.
pub const DEFAULT_MAX_BODY_BYTES: usize = 18 * 1024 * 1024;

/// What every handler shares.
pub(crate) struct ApiState {
    /// Not an owner: once the server stopped, a connection still winding
    /// down keeps no engine from shutting down.
    pub(crate) engine: Weak<Engine>,
    /// Cleared when the server starts stopping: `/readyz` answers 503.
    pub(crate) ready: Arc<AtomicBool>,
    /// Set when the server stops: live streams end.
    pub(crate) stopping: tokio::sync::watch::Receiver<bool>,
    /// The Prometheus recorder `GET /metrics` renders, if one is installed.
    pub(crate) metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
}

/// The API's routes over `state`, bodies bounded by `max_body` bytes.
pub(crate) fn router(state: Arc<ApiState>, max_body: usize) -> Router {
    let api = Router::new()
        .route("/status", get(runs::overview))
        .route("/engine", get(engine::show))
        .route("/runs", get(runs::list).post(runs::start))
        .route("/runs/{run}", get(runs::show))
        .route("/runs/{run}/dag", get(runs::dag))
        .route("/runs/{run}/events", get(events::page))
        .route("/runs/{run}/beads/{bead}/output", get(runs::output))
        .route("/runs/{run}/{control}", post(runs::control))
        .route("/events", get(events::follow));
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(crate::metrics::scrape))
        .nest(API_PREFIX, api)
        .merge(crate::dashboard::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::extract::DefaultBodyLimit::max(max_body))
        .layer(axum::middleware::from_fn(crate::origin::same_origin))
        .layer(axum::middleware::from_fn(traced))
        .with_state(state)
}

/// Each request in a span of its method and path (free unless a tracing
/// layer wants info spans, as the OTLP exporter does).
async fn traced(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let span = tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path()
    );
    tracing::Instrument::instrument(next.run(request), span).await
}

async fn healthz() -> axum::Json<serde_json::Value> {
    axum::Json(json!({ "status": "live" }))
}

async fn readyz(State(state): State<Arc<ApiState>>) -> Response {
    if state.ready.load(Ordering::Acquire) {
        axum::Json(json!({ "status": "ready" })).into_response()
    } else {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_ready",
            "the engine is stopping",
        )
        .into_response()
    }
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such route")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this route does not take that method",
    )
}

/// An error as the API answers it: a status, a stable code, a message.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    pub(crate) fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "a bearer token is required",
        )
    }

    pub(crate) fn unknown_run(run: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "unknown_run",
            format!("no run {run:?}"),
        )
    }
}

impl ApiState {
    /// The engine, while it runs.
    pub(crate) fn engine(&self) -> Result<Arc<Engine>, ApiError> {
        self.engine.upgrade().ok_or_else(|| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "not_ready",
                "the engine is stopping",
            )
        })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({ "code": self.code, "error": self.message });
        (self.status, axum::Json(body)).into_response()
    }
}

impl From<ActorError> for ApiError {
    fn from(error: ActorError) -> Self {
        let (status, code) = match &error {
            ActorError::UnknownWorkflow { .. } => (StatusCode::NOT_FOUND, "unknown_run"),
            ActorError::UnknownBead { .. } => (StatusCode::NOT_FOUND, "unknown_bead"),
            ActorError::ControlRefused { .. } => (StatusCode::CONFLICT, "control_refused"),
            ActorError::RunConflict { .. } => (StatusCode::CONFLICT, "run_conflict"),
            ActorError::DefinitionChanged { .. } => (StatusCode::CONFLICT, "definition_changed"),
            ActorError::UnsatisfiableAffinity { .. } => {
                (StatusCode::BAD_REQUEST, "unsatisfiable_affinity")
            }
            ActorError::BadInput { .. } => (StatusCode::BAD_REQUEST, "bad_input"),
            ActorError::Projection(_) => (StatusCode::BAD_REQUEST, "bad_submission"),
            _ => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        };
        Self::new(status, code, error.to_string())
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        let status = rejection.status();
        let code = if status == StatusCode::PAYLOAD_TOO_LARGE {
            "too_large"
        } else {
            "bad_body"
        };
        Self::new(status, code, rejection.body_text())
    }
}
