//! A run's history: its record folded again from its stream of the log.
//!
//! The state keeps only the summary of a completed run; its beads,
//! attempts and outputs are read back from the log when asked for, through
//! the stream index (a read of the run's own events, not of the log).

use strand_eventlog::{EventLog, Seq};
use strand_projections::{RunId, RunRecord, StateManager, run_stream};

use crate::error::{ActorError, Result};
use crate::store::{EventStore, decode};

/// The record of `run` folded from its events in `log`, kept whole however
/// the run ended; `None` when the log holds no such run. Blocking: reads
/// the log.
///
/// # Errors
/// The log's read errors; an event that does not decode; a stream the fold
/// refuses (not a run's history).
pub fn run_history(log: &EventLog, run: &RunId) -> Result<Option<RunRecord>> {
    let events = log
        .read_stream(&run_stream(run), Seq(1))?
        .map(|stored| stored.map_err(ActorError::Log).and_then(|e| decode(&e)))
        .collect::<Result<Vec<_>>>()?;
    Ok(StateManager::fold_run(run, events)?)
}

/// [`run_history`] on the store's log, off the async workers.
///
/// # Errors
/// As [`run_history`].
pub async fn read_run_history(store: &EventStore, run: &RunId) -> Result<Option<RunRecord>> {
    let (log, run) = (store.log().clone(), run.clone());
    tokio::task::spawn_blocking(move || run_history(&log, &run))
        .await
        .map_err(|_| ActorError::NotRunning {
            actor: "run history read".to_owned(),
        })?
}
