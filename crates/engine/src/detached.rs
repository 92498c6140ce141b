//! `strand run --detach` on a data directory no engine holds: the run's
//! submission is appended to the log (synced) and the command returns; the
//! next engine to open the directory recovers the run as unfinished and
//! runs it (`strand run FILE` again resumes it, as after a kill).
//!
//! The same admission rules as an engine's apply (an id's definition and
//! input, a changed definition under an unfinished run). Hard affinity is
//! not checked here: the engine that will run it has its own workers.

use strand_actors::ActorError;
use strand_actors::orchestration::{Reuse, Started, admission};
use strand_eventlog::EventLog;
use strand_projections::{DomainEvent, EventMeta, Projection, RunId, StateManager};
use strand_replay::ReplayEngine;

use crate::workflow::Workflow;
use crate::{DEFAULT_MAX_INPUT_BYTES, RunInput, fresh_run_id, input_text, submission};

/// Submit a run of `workflow` (under `id`, or resuming the unfinished run
/// of its name, or under a fresh id) to `log`, then close it.
///
/// Blocking (it replays the log): call it off the async workers.
///
/// # Errors
/// [`ActorError::RunConflict`], [`ActorError::DefinitionChanged`],
/// [`ActorError::BadInput`] (nothing written); the log's errors.
pub fn submit(
    log: &EventLog,
    workflow: &Workflow,
    id: Option<RunId>,
    input: &RunInput,
) -> Result<Started, ActorError> {
    let submitted = append(log, workflow, id, input);
    // Closed whatever happened: the close records a clean end.
    let closed = log.close_blocking();
    let started = submitted?;
    closed?;
    Ok(started)
}

fn append(
    log: &EventLog,
    workflow: &Workflow,
    id: Option<RunId>,
    input: &RunInput,
) -> Result<Started, ActorError> {
    let reuse = if id.is_some() {
        Reuse::Exact
    } else {
        Reuse::ResumeUnfinished
    };
    let run = id.unwrap_or_else(|| fresh_run_id(workflow.name()));
    let input = input_text(workflow, input, DEFAULT_MAX_INPUT_BYTES)?;
    let submission = submission(workflow, run.clone(), input, reuse);
    let mut state = ReplayEngine::new(log.clone())
        .rebuild::<StateManager>(&mut |_| {})?
        .projection;
    if let Some(started) = admission::existing(&state, &submission)? {
        return Ok(started);
    }
    let event = DomainEvent::RunSubmitted {
        run: run.clone(),
        name: submission.name,
        definition: submission.definition,
        dag: Box::new(submission.dag),
        tasks: submission.tasks,
        input: submission.input,
        settings: Box::new(submission.settings),
    };
    // Checked on the state first: the log holds only what its projection
    // accepts.
    let seq = state.applied_seq() + 1;
    state.apply(EventMeta { seq, at_ms: 0 }, event.clone())?;
    log.append_blocking(strand_actors::encode(&[event])?)?;
    Ok(Started {
        run,
        existing: false,
    })
}
