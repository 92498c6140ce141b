//! Operator controls on runs: cancel, pause, resume, retry. [`plan`] turns
//! a control into the events that carry it out, from the state alone, so
//! that the scheduler (a run in a live engine) and a tool working on a log
//! no engine holds append exactly the same events. Each control is
//! idempotent: asked again once applied, it plans nothing.

use std::collections::BTreeSet;

use strand_projections::{
    BeadId, BeadState, DomainEvent, RunId, RunRecord, RunStatus, StateManager,
};

use crate::error::{ActorError, Result};

/// What an operator asks of a run.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RunControl {
    /// No new bead starts, running attempts are cancelled, the beads that
    /// did not complete are `cancelled`, and the run ends `cancelled`.
    Cancel {
        /// Why (recorded on the run and its beads).
        reason: String,
    },
    /// Nothing more of the run is dispatched; running attempts finish.
    Pause {
        /// Why.
        reason: String,
    },
    /// A paused run is dispatched again.
    Resume,
    /// A failed or cancelled run continues: the named beads (all that did
    /// not complete, when none is named) and their descendants that did not
    /// complete become pending again, with a fresh retry budget.
    Retry {
        /// The beads to run again; empty for every bead not completed.
        beads: Vec<BeadId>,
    },
}

impl RunControl {
    /// The control's name, for messages (`cancel`, `pause`, `resume`, `retry`).
    pub fn name(&self) -> &'static str {
        match self {
            Self::Cancel { .. } => "cancel",
            Self::Pause { .. } => "pause",
            Self::Resume => "resume",
            Self::Retry { .. } => "retry",
        }
    }
}

/// Whether [`plan`] of `control` needs `run` read back whole from its
/// stream first (into a live view, [`StateManager::restore_whole`]): a
/// retry of a failed or cancelled run, which every state holds as its
/// summary.
pub fn reads_history(state: &StateManager, run: &RunId, control: &RunControl) -> bool {
    matches!(control, RunControl::Retry { .. })
        && matches!(
            state.run(run),
            Some(entry) if entry.record().is_none()
                && matches!(entry.status(), RunStatus::Failed | RunStatus::Cancelled)
        )
}

/// The events that carry out `control` on `run`: none when it is applied
/// already (a cancel of a cancelled run, a pause of a paused one, a resume
/// of one not paused).
///
/// # Errors
/// [`ActorError::UnknownWorkflow`]; [`ActorError::UnknownBead`];
/// [`ActorError::ControlRefused`] for a control that does not apply (a
/// cancel or pause of a finished run, a retry of a running or completed
/// one, a retry of a completed bead).
pub fn plan(state: &StateManager, run: &RunId, control: &RunControl) -> Result<Vec<DomainEvent>> {
    let entry = state.run(run).ok_or_else(|| ActorError::UnknownWorkflow {
        workflow: run.as_str().to_owned(),
    })?;
    let refused = |why: String| ActorError::ControlRefused {
        run: run.as_str().to_owned(),
        control: control.name(),
        reason: why,
    };
    let status = entry.status();
    // A run not kept whole finished (a failed or cancelled one is read
    // back from its stream to be retried, `reads_history`).
    let Some(record) = entry.record() else {
        return match (control, status) {
            (RunControl::Cancel { .. }, RunStatus::Cancelled) => Ok(Vec::new()),
            (RunControl::Retry { .. }, RunStatus::Failed | RunStatus::Cancelled) => {
                Err(refused(format!(
                    "the run is {status} and its record is not held (read it from the log first)"
                )))
            }
            (RunControl::Retry { .. }, _) => Err(refused(format!(
                "the run is {status}; only a failed or cancelled run is retried"
            ))),
            _ => Err(refused(format!("the run is {status}"))),
        };
    };
    match control {
        RunControl::Cancel { reason } => match status {
            RunStatus::Cancelled => Ok(Vec::new()),
            RunStatus::Running => Ok(cancellation(record, reason)),
            RunStatus::Completed | RunStatus::Failed => {
                Err(refused(format!("the run is {status}")))
            }
        },
        RunControl::Pause { reason } => match (status, record.paused()) {
            (RunStatus::Running, true) => Ok(Vec::new()),
            (RunStatus::Running, false) => Ok(vec![DomainEvent::RunPaused {
                run: run.clone(),
                reason: reason.clone(),
            }]),
            _ => Err(refused(format!("the run is {status}"))),
        },
        RunControl::Resume => match (status, record.paused()) {
            (RunStatus::Running, true) => Ok(vec![DomainEvent::RunResumed { run: run.clone() }]),
            (RunStatus::Running, false) => Ok(Vec::new()),
            _ => Err(refused(format!("the run is {status}"))),
        },
        RunControl::Retry { beads } => match status {
            RunStatus::Failed | RunStatus::Cancelled => Ok(vec![DomainEvent::RunRetried {
                run: run.clone(),
                beads: to_retry(record, beads, &refused)?,
            }]),
            RunStatus::Running | RunStatus::Completed => Err(refused(format!(
                "the run is {status}; only a failed or cancelled run is retried"
            ))),
        },
    }
}

/// Every bead not completed or cancelled, cancelled; then the run.
fn cancellation(record: &RunRecord, reason: &str) -> Vec<DomainEvent> {
    let mut events: Vec<DomainEvent> = record
        .beads()
        .filter(|(_, b)| !matches!(b.state, BeadState::Completed | BeadState::Cancelled))
        .map(|(bead, _)| DomainEvent::BeadCancelled {
            workflow: record.id().clone(),
            bead: bead.clone(),
            reason: reason.to_owned(),
        })
        .collect();
    events.push(DomainEvent::WorkflowCancelled {
        workflow: record.id().clone(),
        reason: reason.to_owned(),
    });
    events
}

/// The beads a retry makes pending: `named` and their descendants (every
/// bead when none is named) that are neither completed nor pending.
fn to_retry(
    record: &RunRecord,
    named: &[BeadId],
    refused: &dyn Fn(String) -> ActorError,
) -> Result<Vec<BeadId>> {
    let reopen = |b: &BeadState| !matches!(b, BeadState::Completed | BeadState::Pending);
    if named.is_empty() {
        return Ok(record
            .beads()
            .filter(|(_, b)| reopen(&b.state))
            .map(|(id, _)| id.clone())
            .collect());
    }
    let mut chosen = BTreeSet::new();
    for bead in named {
        let Some(state) = record.bead(bead).map(|b| b.state) else {
            return Err(ActorError::UnknownBead {
                run: record.id().as_str().to_owned(),
                bead: bead.as_str().to_owned(),
            });
        };
        if state == BeadState::Completed {
            return Err(refused(format!(
                "bead {bead} completed; a completed bead never runs again"
            )));
        }
        chosen.insert(bead.clone());
        chosen.extend(record.dag().descendants(bead).unwrap_or_default());
    }
    Ok(chosen
        .into_iter()
        .filter(|bead| record.bead(bead).is_some_and(|b| reopen(&b.state)))
        .collect())
}
