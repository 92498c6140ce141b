//! Runs: list, show, start, the DAG, a bead's output, and the controls.

use std::sync::Arc;

use axum::extract::rejection::{BytesRejection, JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use strand_actors::orchestration::RunControl;
use strand_engine::RunInput;
use strand_engine::views::{Overview, RunDetail, RunFilter, RunList};
use strand_engine::workflow::Workflow;
use strand_projections::{BeadId, BeadState, Output, RunId};

use super::{ApiError, ApiState};

type Shared = State<Arc<ApiState>>;

pub(super) async fn overview(State(state): Shared) -> Result<axum::Json<Overview>, ApiError> {
    Ok(axum::Json(state.engine()?.query(Overview::of).await?))
}

pub(super) async fn list(
    State(state): Shared,
    filter: Result<Query<RunFilter>, QueryRejection>,
) -> Result<axum::Json<RunList>, ApiError> {
    let Query(filter) =
        filter.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_query", e.body_text()))?;
    filter
        .cursor()
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_cursor", e.to_string()))?;
    let list = state
        .engine()?
        .query(move |projection, _| RunList::of(projection, &filter))
        .await?;
    Ok(axum::Json(list))
}

pub(super) async fn show(
    State(state): Shared,
    Path(run): Path<String>,
) -> Result<axum::Json<RunDetail>, ApiError> {
    let id = RunId::from(run.as_str());
    let detail = state.engine()?.with_run(&id, RunDetail::of).await?;
    detail
        .map(axum::Json)
        .ok_or_else(|| ApiError::unknown_run(&run))
}

pub(super) async fn dag(
    State(state): Shared,
    Path(run): Path<String>,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    let id = RunId::from(run.as_str());
    let picture = state
        .engine()?
        .with_run(&id, |r, _| {
            let mut doc = r.dag().to_json();
            if let serde_json::Value::Object(map) = &mut doc {
                map.insert("run".to_owned(), json!(r.id().as_str()));
                map.insert("workflow".to_owned(), json!(r.name()));
            }
            doc
        })
        .await?;
    picture
        .map(axum::Json)
        .ok_or_else(|| ApiError::unknown_run(&run))
}

/// What a bead's output lookup found.
enum Found {
    NoRun,
    NoBead,
    NotYet(BeadState),
    Output(Arc<Output>),
}

pub(super) async fn output(
    State(state): Shared,
    Path((run, bead)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let (id, bead_id) = (RunId::from(run.as_str()), BeadId::from(bead.as_str()));
    // Only the output (shared, an `Arc`) leaves the state manager.
    let found = state
        .engine()?
        .with_run(&id, move |record, _| match record.bead(&bead_id) {
            None => Found::NoBead,
            Some(b) => b
                .output
                .clone()
                .map_or(Found::NotYet(b.state), Found::Output),
        })
        .await?
        .unwrap_or(Found::NoRun);
    let output = match found {
        Found::Output(output) => output,
        Found::NoRun => return Err(ApiError::unknown_run(&run)),
        Found::NoBead => {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "unknown_bead",
                format!("run {run:?} has no bead {bead:?}"),
            ));
        }
        Found::NotYet(bead_state) => {
            // The bead's state rides along, so a client can say what it is.
            let body = json!({
                "code": "no_output",
                "error": format!("bead {bead:?} of run {run:?} is {bead_state}: it has no output yet"),
                "state": bead_state,
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

/// The body of a start request: the workflow as a file's text, or as JSON.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct StartBody {
    /// The workflow file's text (TOML).
    workflow: Option<String>,
    /// The workflow as JSON: the same document as a file.
    definition: Option<serde_json::Value>,
    /// Its name in errors (a path).
    source: Option<String>,
    /// The run's id: idempotent, as `strand run --id`.
    id: Option<String>,
    /// The run's input (over the file's defaults).
    #[serde(default)]
    input: RunInput,
}

/// Start a run (or find it again), as `strand run` would: answers once its
/// submission is durable.
pub(super) async fn start(
    State(state): Shared,
    body: Result<axum::Json<StartBody>, JsonRejection>,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    let axum::Json(body) = body?;
    let workflow = match (&body.workflow, &body.definition) {
        (Some(text), None) => {
            Workflow::from_toml_str(body.source.as_deref().unwrap_or("submitted.toml"), text)
        }
        (None, Some(definition)) => {
            Workflow::from_json(body.source.as_deref().unwrap_or("definition"), definition)
        }
        _ => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_body",
                "give the workflow as `workflow` (a file's TOML text) or as `definition` (JSON), one of them",
            ));
        }
    }
    .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_workflow", e.to_string()))?;
    let started = match body.id {
        Some(id) => {
            state
                .engine()?
                .start_with_id(&workflow, RunId::from(id), body.input)
                .await?
        }
        None => {
            state
                .engine()?
                .resume_or_start(&workflow, body.input)
                .await?
        }
    };
    Ok(axum::Json(json!({
        "run": started.run,
        "existing": started.existing,
    })))
}

/// The body of a control request.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ControlBody {
    reason: Option<String>,
    #[serde(default)]
    beads: Vec<String>,
}

pub(super) async fn control(
    State(state): Shared,
    Path((run, control)): Path<(String, String)>,
    body: Result<axum::body::Bytes, BytesRejection>,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    let body = body.map_err(|e| ApiError::new(e.status(), "bad_body", e.body_text()))?;
    let body: ControlBody = if body.is_empty() {
        ControlBody::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_body", e.to_string()))?
    };
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
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "unknown_control",
                format!("no control {other:?} (cancel, pause, resume, retry)"),
            ));
        }
    };
    let name = control.name();
    let written = state
        .engine()?
        .control(&RunId::from(run.as_str()), control)
        .await?;
    Ok(axum::Json(json!({
        "run": run,
        "control": name,
        "events_written": written,
        "applied_already": written == 0,
    })))
}
