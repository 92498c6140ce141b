//! Serving the control socket for an engine.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;
use strand_actors::ActorError;
use strand_actors::orchestration::RunControl;
use strand_projections::{BeadId, BeadState, Output, RunId};
use tokio::net::UnixListener;

use crate::engine::Engine;
use crate::views::{Overview, RunDetail, RunFilter, RunList};

/// A control socket being served; [`stop`](Self::stop) it before the
/// engine shuts down.
#[derive(Debug)]
pub struct SocketServer {
    path: PathBuf,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl SocketServer {
    /// Stop accepting, finish the requests in flight, remove the socket.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Serve the control socket of `engine` where the CLI looks for it,
/// `DATA/strand.sock` in the engine's data directory: one call for an
/// embedding program, so `strand runs|status|cancel ...` reach its engine.
///
/// # Errors
/// As [`serve`].
pub async fn serve_engine(engine: Arc<Engine>) -> std::io::Result<SocketServer> {
    let path = super::path(engine.data_dir());
    serve(engine, &path).await
}

/// Serve the control socket of `engine` at `path`. A socket file left by
/// a process that died (nothing answers on it) is replaced.
///
/// # Errors
/// The socket cannot be bound (the directory, its permissions).
pub async fn serve(engine: Arc<Engine>, path: &Path) -> std::io::Result<SocketServer> {
    if path.exists() {
        // This process holds the data directory (the engine is open), so
        // whatever socket is there was left by a process that died.
        std::fs::remove_file(path)?;
    }
    let listener = UnixListener::bind(path)?;
    // Only the directory's owner may control its engine.
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    let app = routes(engine);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await;
    });
    Ok(SocketServer {
        path: path.to_owned(),
        stop,
        task,
    })
}

fn routes(engine: Arc<Engine>) -> Router {
    Router::new()
        .route("/v1/status", get(overview))
        .route("/v1/runs", get(list).post(start))
        .route("/v1/runs/{run}", get(show))
        .route("/v1/runs/{run}/beads/{bead}/output", get(output))
        .route("/v1/runs/{run}/{control}", post(control))
        // A workflow file may be up to 16 MiB, its input up to 1 MiB.
        .layer(axum::extract::DefaultBodyLimit::max(
            usize::try_from(crate::workflow::MAX_FILE_BYTES).unwrap_or(usize::MAX)
                + crate::engine::DEFAULT_MAX_INPUT_BYTES
                + 4096,
        ))
        .with_state(engine)
}

/// An error as the API answers it: a status, a stable code, a message.
struct ApiError(StatusCode, &'static str, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({ "code": self.1, "error": self.2 });
        (self.0, axum::Json(body)).into_response()
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
            _ => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        };
        Self(status, code, error.to_string())
    }
}

async fn list(
    State(engine): State<Arc<Engine>>,
    filter: Result<Query<RunFilter>, QueryRejection>,
) -> Result<axum::Json<RunList>, ApiError> {
    let Query(filter) =
        filter.map_err(|e| ApiError(StatusCode::BAD_REQUEST, "bad_query", e.body_text()))?;
    let list = engine
        .query(move |state, _| RunList::of(state, &filter))
        .await?;
    Ok(axum::Json(list))
}

async fn overview(State(engine): State<Arc<Engine>>) -> Result<axum::Json<Overview>, ApiError> {
    Ok(axum::Json(engine.query(Overview::of).await?))
}

async fn show(
    State(engine): State<Arc<Engine>>,
    UrlPath(run): UrlPath<String>,
) -> Result<axum::Json<RunDetail>, ApiError> {
    let id = RunId::from(run.as_str());
    let detail = engine
        .query(move |state, seq| state.workflow(&id).map(|r| RunDetail::of(r, seq)))
        .await?;
    let detail = detail.ok_or_else(|| {
        ApiError(
            StatusCode::NOT_FOUND,
            "unknown_run",
            format!("no run {run:?}"),
        )
    })?;
    Ok(axum::Json(detail))
}

/// What a bead's output lookup found.
enum Found {
    NoRun,
    NoBead,
    NotYet(BeadState),
    Output(Arc<Output>),
}

async fn output(
    State(engine): State<Arc<Engine>>,
    UrlPath((run, bead)): UrlPath<(String, String)>,
) -> Result<Response, ApiError> {
    let (id, bead_id) = (RunId::from(run.as_str()), BeadId::from(bead.as_str()));
    // Only the output (shared, an `Arc`) leaves the state manager.
    let found = engine
        .query(move |state, _| {
            let Some(record) = state.workflow(&id) else {
                return Found::NoRun;
            };
            match record.bead(&bead_id) {
                None => Found::NoBead,
                Some(b) => b
                    .output
                    .clone()
                    .map_or(Found::NotYet(b.state), Found::Output),
            }
        })
        .await?;
    let output = match found {
        Found::Output(output) => output,
        Found::NoRun => {
            return Err(ApiError(
                StatusCode::NOT_FOUND,
                "unknown_run",
                format!("no run {run:?}"),
            ));
        }
        Found::NoBead => {
            return Err(ApiError(
                StatusCode::NOT_FOUND,
                "unknown_bead",
                format!("run {run:?} has no bead {bead:?}"),
            ));
        }
        Found::NotYet(state) => {
            // The bead's state rides along, so a client can say what it is.
            let body = json!({
                "code": "no_output",
                "error": format!("bead {bead:?} of run {run:?} is {state}: it has no output yet"),
                "state": state,
            });
            return Ok((StatusCode::CONFLICT, axum::Json(body)).into_response());
        }
    };
    let content_type = output
        .content_type
        .clone()
        .unwrap_or_else(|| "application/octet-stream".to_owned());
    Ok(([(header::CONTENT_TYPE, content_type)], output.bytes.clone()).into_response())
}

/// The body of a start request.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StartBody {
    /// The workflow file's text (TOML).
    workflow: String,
    /// Its name in errors (a path).
    source: Option<String>,
    /// The run's id: idempotent, as `strand run --id`.
    id: Option<String>,
    /// The run's input (over the file's defaults).
    #[serde(default)]
    input: crate::engine::RunInput,
}

/// Start a run (or find it again), as `strand run` would: answers once its
/// submission is durable.
async fn start(
    State(engine): State<Arc<Engine>>,
    axum::Json(body): axum::Json<StartBody>,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    let source = body.source.as_deref().unwrap_or("submitted.toml");
    let workflow = crate::workflow::Workflow::from_toml_str(source, &body.workflow)
        .map_err(|e| ApiError(StatusCode::BAD_REQUEST, "bad_workflow", e.to_string()))?;
    let started = match body.id {
        Some(id) => {
            engine
                .start_with_id(&workflow, RunId::from(id), body.input)
                .await?
        }
        None => engine.resume_or_start(&workflow, body.input).await?,
    };
    Ok(axum::Json(json!({
        "run": started.run,
        "existing": started.existing,
    })))
}

/// The body of a control request.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ControlBody {
    reason: Option<String>,
    #[serde(default)]
    beads: Vec<String>,
}

async fn control(
    State(engine): State<Arc<Engine>>,
    UrlPath((run, control)): UrlPath<(String, String)>,
    body: Option<axum::Json<ControlBody>>,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    let body = body.map(|b| b.0).unwrap_or_default();
    let reason = |default: &str| body.reason.clone().unwrap_or_else(|| default.to_owned());
    let control = match control.as_str() {
        "cancel" => RunControl::Cancel {
            reason: reason("cancelled by an operator"),
        },
        "pause" => RunControl::Pause {
            reason: reason("paused by an operator"),
        },
        "resume" => RunControl::Resume,
        "retry" => RunControl::Retry {
            beads: body
                .beads
                .iter()
                .map(|b| BeadId::from(b.as_str()))
                .collect(),
        },
        other => {
            return Err(ApiError(
                StatusCode::NOT_FOUND,
                "unknown_control",
                format!("no control {other:?} (cancel, pause, resume, retry)"),
            ));
        }
    };
    let name = control.name();
    let run_id = RunId::from(run.as_str());
    let written = engine.control(&run_id, control).await?;
    Ok(axum::Json(json!({
        "run": run,
        "control": name,
        "events_written": written,
        "applied_already": written == 0,
    })))
}
