//! `GET /metrics`: the `metrics` facade's Prometheus recorder, rendered in
//! the text exposition format. [`install_prometheus`] installs it as the
//! process's recorder (before the engine opens, so every handle the engine
//! makes reaches it); an embedder with its own recorder skips both and
//! calls `Engine::publish_metrics` before its own scrapes.

use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::api::{ApiError, ApiState};

/// Buckets of the `_seconds` histograms: 100 µs to a minute.
const SECONDS: [f64; 14] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0, 10.0, 60.0,
];

/// Buckets of the events-per-fsync histogram.
const EVENTS: [f64; 10] = [
    1.0, 2.0, 4.0, 8.0, 16.0, 64.0, 256.0, 1024.0, 4096.0, 16384.0,
];

/// Why the recorder could not be installed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MetricsError {
    /// The exporter refused its settings, or a recorder is installed already.
    #[error("cannot install the Prometheus recorder: {0}")]
    Install(#[from] metrics_exporter_prometheus::BuildError),
}

/// Install the Prometheus recorder as this process's `metrics` recorder,
/// with buckets for Strand's histograms, and describe every metric.
///
/// # Errors
/// [`MetricsError::Install`]: a recorder is installed already.
pub fn install_prometheus() -> Result<PrometheusHandle, MetricsError> {
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), &SECONDS)?
        .set_buckets_for_metric(
            Matcher::Full(strand_engine::metrics::EVENTS_PER_FSYNC.to_owned()),
            &EVENTS,
        )?
        .install_recorder()?;
    strand_engine::metrics::describe();
    Ok(handle)
}

/// The scrape: publish what the engine counts on demand, then render.
pub(crate) async fn scrape(State(state): State<Arc<ApiState>>) -> Result<Response, ApiError> {
    let Some(handle) = state.metrics.as_ref() else {
        return Err(ApiError::new(
            axum::http::StatusCode::NOT_FOUND,
            "no_metrics",
            "this server exports no metrics (no Prometheus recorder installed)",
        ));
    };
    state.engine()?.publish_metrics().await?;
    let body = handle.render();
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
        .into_response())
}
