//! Operator controls (cancel, pause, resume, retry) on a data directory
//! that no engine holds: the control's events are appended to the log
//! (synced) and the next engine to open it acts on them. The events are
//! planned by the same rules as in a live engine
//! ([`strand_actors::orchestration::plan_control`]).
//!
//! No attempt can be running here (an attempt runs only inside the engine
//! that holds the directory), so a cancel is complete at once: every bead
//! not completed is cancelled, then the run.

use std::path::Path;

use strand_actors::orchestration::{RunControl, plan_control, reads_history};
use strand_actors::{ActorError, run_history};
use strand_eventlog::{EventLog, LogOptions};
use strand_projections::{Projection, RunId, StateManager};
use strand_replay::ReplayEngine;

/// The log at `dir`, opened for writing, for [`apply`]: refused when an
/// engine holds the directory (RocksDB's lock) or there is no log.
///
/// # Errors
/// The log's open errors.
pub fn open(dir: &Path) -> Result<EventLog, strand_eventlog::Error> {
    let mut options = LogOptions::default();
    options.create_if_missing = false;
    EventLog::open(dir, options)
}

/// Apply `control` to `run` in `log`, then close it; the number of events
/// appended (0 when the control was applied already).
///
/// Blocking (it replays the log): call it off the async workers.
///
/// # Errors
/// [`ActorError::UnknownWorkflow`], [`ActorError::UnknownBead`],
/// [`ActorError::ControlRefused`] (nothing written); the log's errors.
pub fn apply(log: &EventLog, run: &RunId, control: &RunControl) -> Result<usize, ActorError> {
    let applied = plan_and_append(log, run, control);
    // Closed whatever happened: the close records a clean end.
    let closed = log.close_blocking();
    let count = applied?;
    closed?;
    Ok(count)
}

fn plan_and_append(log: &EventLog, run: &RunId, control: &RunControl) -> Result<usize, ActorError> {
    // A live view: a failed run to retry is read back whole from its
    // stream, as the scheduler does.
    let mut state = ReplayEngine::new(log.clone())
        .rebuild::<StateManager>(&mut |_| {})?
        .projection
        .into_live_view();
    if reads_history(&state, run, control)
        && let Some(record) = run_history(log, run)?
    {
        state.restore_whole(record);
    }
    let events = plan_control(&state, run, control)?;
    if events.is_empty() {
        return Ok(0);
    }
    // Checked on a copy of the state first: the log holds only what its
    // projection accepts.
    for (seq, event) in (state.applied_seq() + 1..).zip(&events) {
        state.apply(
            strand_projections::EventMeta { seq, at_ms: 0 },
            event.clone(),
        )?;
    }
    let count = events.len();
    log.append_blocking(strand_actors::encode(&events)?)?;
    Ok(count)
}
