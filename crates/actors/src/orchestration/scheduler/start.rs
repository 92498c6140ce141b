//! The state a scheduler starts from: the state manager's, copied, as a
//! live view (only unfinished runs whole).

use std::time::Duration;

use strand_projections::{Projection as _, StateManager};

use crate::context::Context;
use crate::error::Result;

/// How long the scheduler waits for the state manager's copy of the state
/// before it rebuilds its own.
const COPY_TIMEOUT: Duration = Duration::from_secs(30);

/// The scheduler's state on start: a copy of the state manager's, with
/// every event durable now applied (one replay of the log per start, not
/// two), or, when no state manager answers, rebuilt from the log; as a
/// live view either way.
pub(super) async fn recovered_state(context: &Context) -> Result<StateManager> {
    let durable = context.store.log().last_seq();
    if let Some(copy) = context
        .state_manager
        .copy_after(durable, COPY_TIMEOUT)
        .await
    {
        tracing::debug!(
            applied = copy.applied_seq(),
            "scheduler state copied from the state manager"
        );
        return Ok(copy.into_live_view());
    }
    tracing::info!("no state manager answered: the scheduler rebuilds its state from the log");
    let rebuilt = context
        .store
        .rebuild::<StateManager>(None, StateManager::NAME.to_owned(), Vec::new())
        .await?;
    Ok(rebuilt.projection.into_live_view())
}
