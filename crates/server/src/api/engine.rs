//! The engine itself: its supervision tree, workers, log and checkpoint.

use std::sync::Arc;

use axum::extract::State;
use strand_engine::views::EngineView;

use super::{ApiError, ApiState};

pub(super) async fn show(
    State(state): State<Arc<ApiState>>,
) -> Result<axum::Json<EngineView>, ApiError> {
    Ok(axum::Json(state.engine()?.engine_view().await?))
}
