//! A run's history: its record folded again from its stream of the log.
//!
//! The state keeps only the summary of a completed run; its beads,
//! attempts and outputs are read back from the log when asked for, through
//! the stream index (a read of the run's own events, not of the log).

use strand_eventlog::{EventLog, Seq};
use strand_projections::{
    DomainEvent, EventMeta, Projection, RunId, RunRecord, StateManager, run_stream,
};

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
        .read_stream(&run_stream(run), log.first_seq())?
        .map(|stored| stored.map_err(ActorError::Log).and_then(|e| decode(&e)))
        .collect::<Result<Vec<_>>>()?;
    Ok(StateManager::fold_run(run, events)?)
}

/// The events of `stream` before seq `before`, decoded, in seq order: what
/// a fold that reads a stream besides its state is given
/// ([`Projection::stream_needed`]). Blocking: reads the log.
///
/// # Errors
/// The log's read errors; an event that does not decode.
pub fn stream_before(
    log: &EventLog,
    stream: &str,
    before: Seq,
) -> Result<Vec<(EventMeta, DomainEvent)>> {
    let mut events = Vec::new();
    for stored in log.read_stream(stream, log.first_seq())? {
        let stored = stored?;
        if stored.seq >= before {
            break;
        }
        events.push(decode(&stored)?);
    }
    Ok(events)
}

/// Applies `event` to `state` as a replay of the store's log would: with
/// the stream its fold reads, if any, read off the async workers.
///
/// # Errors
/// As [`stream_before`]; the projection refusing the event.
pub async fn apply_with_log<P: Projection>(
    store: &EventStore,
    state: &mut P,
    meta: EventMeta,
    event: DomainEvent,
) -> Result<()> {
    let Some(stream) = state.stream_needed(&event) else {
        return Ok(state.apply(meta, event)?);
    };
    let log = store.log().clone();
    let earlier = tokio::task::spawn_blocking(move || stream_before(&log, &stream, Seq(meta.seq)))
        .await
        .map_err(|_| ActorError::NotRunning {
            actor: "stream read".to_owned(),
        })??;
    Ok(state.apply_with_stream(meta, event, earlier)?)
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
