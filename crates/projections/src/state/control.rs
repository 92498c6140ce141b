//! The fold of operator controls on runs: `RunPaused`, `RunResumed` and
//! `RunRetried` (a cancel is the run's and its beads' own events).

use strand_dag::BeadId;

use crate::error::ProjectionError;
use crate::ids::RunId;
use crate::lifecycle::{BeadState, RunStatus};
use crate::state::StateManager;

impl StateManager {
    /// `RunPaused` (`paused`) and `RunResumed`: of a running run, paused
    /// only once and resumed only when paused.
    pub(super) fn pause(
        &mut self,
        seq: u64,
        workflow: RunId,
        paused: bool,
    ) -> Result<(), ProjectionError> {
        let event = if paused {
            crate::EventKind::RunPaused
        } else {
            crate::EventKind::RunResumed
        };
        let Some(record) = self.workflows.get_mut(&workflow) else {
            return Err(self.completed_refuses(seq, workflow, event));
        };
        if record.status.is_finished() || record.paused == paused {
            let (status, was_paused) = (record.status, record.paused);
            return Err(ProjectionError::ControlNotApplicable {
                seq,
                workflow,
                event,
                status,
                paused: was_paused,
            });
        }
        record.paused = paused;
        Ok(())
    }

    /// `RunRetried`: of a failed or cancelled run; none of its beads
    /// completed, and each is the run's.
    pub(super) fn retry(
        &mut self,
        seq: u64,
        at_ms: u64,
        workflow: RunId,
        beads: &[BeadId],
    ) -> Result<(), ProjectionError> {
        let Some(record) = self.workflows.get_mut(&workflow) else {
            if self
                .finished
                .get(&workflow)
                .is_some_and(|finished| finished.summary.status != RunStatus::Completed)
            {
                return Err(ProjectionError::StreamNeeded { seq, workflow });
            }
            return Err(self.completed_refuses(seq, workflow, crate::EventKind::RunRetried));
        };
        if !matches!(record.status, RunStatus::Failed | RunStatus::Cancelled) {
            let (status, paused) = (record.status, record.paused);
            return Err(ProjectionError::ControlNotApplicable {
                seq,
                workflow,
                event: crate::EventKind::RunRetried,
                status,
                paused,
            });
        }
        let mut positions = Vec::with_capacity(beads.len());
        for bead in beads {
            let Some(position) = record.position(bead) else {
                return Err(ProjectionError::UnknownBead {
                    seq,
                    workflow,
                    bead: bead.clone(),
                });
            };
            let state = record.bead(bead).map_or(BeadState::Pending, |b| b.state);
            if matches!(
                state,
                BeadState::Completed | BeadState::Scheduled | BeadState::Running
            ) {
                return Err(ProjectionError::InvalidTransition {
                    seq,
                    workflow,
                    bead: bead.clone(),
                    from: state,
                    event: crate::EventKind::RunRetried,
                });
            }
            positions.push(position);
        }
        record.reopen(&positions, at_ms);
        Ok(())
    }
}
