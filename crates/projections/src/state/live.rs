//! Which runs a state keeps whole: the unfinished ones, every finished run
//! as its summary, so that memory follows what is running, not the
//! history. A retry of a failed or cancelled run reads the run back from
//! its stream of the log: the state manager's fold is given the stream
//! ([`Projection::stream_needed`](crate::Projection::stream_needed)), and
//! the scheduler's live view restores the run whole to plan the retry
//! ([`StateManager::restore_whole`]).

use crate::error::ProjectionError;
use crate::event::{DomainEvent, run_stream};
use crate::ids::RunId;
use crate::lifecycle::RunStatus;
use crate::projection::{EventMeta, Projection};
use crate::state::StateManager;
use crate::state::finished::FinishedRun;
use crate::state::workflow::RunRecord;

/// Which finished runs a state keeps whole.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) enum Keep {
    /// None: the state manager's.
    #[default]
    Unfinished,
    /// Every one: the fold of one run's history.
    All,
    /// None, but a finished run may be restored whole while a retry of it
    /// is planned: the scheduler's live view, never checkpointed.
    Restorable,
}

impl Keep {
    /// Whether a finished run stays whole.
    pub(super) fn finished_whole(self) -> bool {
        self == Self::All
    }
}

impl StateManager {
    /// This state as the scheduler's live view: what it holds, and
    /// finished runs restored whole while a retry of them is planned
    /// ([`restore_whole`](Self::restore_whole)). Never checkpoint a live
    /// view: a restored run is not in the state manager's snapshot.
    #[must_use]
    pub fn into_live_view(mut self) -> Self {
        self.keep = Keep::Restorable;
        self.summarize_finished();
        self.workflows.shrink_to_fit();
        self
    }

    /// Whether this state is a live view ([`into_live_view`](Self::into_live_view)).
    pub fn is_live_view(&self) -> bool {
        self.keep == Keep::Restorable
    }

    /// Puts `record`, folded again from the run's stream
    /// ([`fold_run`](Self::fold_run)), in place of the summary of the
    /// finished run it is; false (nothing changed) when the state holds no
    /// summary of that run, or one of another submission or outcome, and
    /// when it is not a live view (the state manager's snapshot holds
    /// summaries only).
    pub fn restore_whole(&mut self, record: RunRecord) -> bool {
        if !self.is_live_view() || !self.summary_is_of(&record) {
            return false;
        }
        if let Some(finished) = self.finished.remove(record.id()) {
            self.finished_totals.sub(&finished);
        }
        self.workflows.insert(record.id().clone(), record);
        true
    }

    /// Keeps only the summary of finished run `run`, if it is held whole
    /// and its state does not keep it whole (a run restored for a retry the
    /// retry then refused goes back to its summary).
    pub fn release_whole(&mut self, run: &RunId) {
        let finished = self
            .workflows
            .get(run)
            .is_some_and(|record| record.status.is_finished() && !self.keep.finished_whole());
        if finished {
            self.summarize(run);
        }
    }

    /// Replaces the whole record of every finished run by its summary.
    pub(super) fn summarize_finished(&mut self) {
        let finished: Vec<RunId> = self
            .workflows
            .values()
            .filter(|record| record.status.is_finished())
            .map(|record| record.id().clone())
            .collect();
        for run in &finished {
            self.summarize(run);
        }
    }

    /// Replaces the whole record of `run` by its summary.
    pub(super) fn summarize(&mut self, run: &RunId) {
        if let Some(record) = self.workflows.remove(run) {
            let finished = FinishedRun::of(&record);
            self.finished_totals.add(&finished);
            self.finished.insert(run.clone(), finished);
        }
    }

    /// Whether the state holds the summary of the finished run `record`
    /// is (the same submission, the same outcome).
    fn summary_is_of(&self, record: &RunRecord) -> bool {
        record.status.is_finished()
            && self.finished.get(record.id()).is_some_and(|finished| {
                finished.summary.submitted_seq == record.submitted_seq
                    && finished.summary.status == record.status
            })
    }

    /// The run of `event` whose fold reads its stream: a retry of a failed
    /// or cancelled run held as its summary.
    pub(super) fn retry_of_summary<'e>(&self, event: &'e DomainEvent) -> Option<&'e RunId> {
        match event {
            DomainEvent::RunRetried { run, .. }
                if self.finished.get(run).is_some_and(|finished| {
                    matches!(
                        finished.summary.status,
                        RunStatus::Failed | RunStatus::Cancelled
                    )
                }) =>
            {
                Some(run)
            }
            _ => None,
        }
    }

    /// [`Projection::stream_needed`]: the stream of a run a retry needs
    /// back whole.
    pub(super) fn stream_for(&self, event: &DomainEvent) -> Option<String> {
        self.retry_of_summary(event).map(run_stream)
    }

    /// [`Projection::apply_with_stream`]: the run of a retry folded again
    /// from `stream` in place of its summary, then the retry applied to
    /// it; on any error, the summary is back and nothing has changed.
    pub(super) fn apply_to_restored(
        &mut self,
        meta: EventMeta,
        event: DomainEvent,
        stream: Vec<(EventMeta, DomainEvent)>,
    ) -> Result<(), ProjectionError> {
        let Some(run) = self.retry_of_summary(&event).cloned() else {
            return self.apply(meta, event);
        };
        let earlier = stream.into_iter().filter(|(at, _)| at.seq < meta.seq);
        let mismatch = || ProjectionError::StreamMismatch {
            seq: meta.seq,
            workflow: run.clone(),
        };
        let record = Self::fold_run(&run, earlier)?.ok_or_else(mismatch)?;
        if !self.summary_is_of(&record) {
            return Err(mismatch());
        }
        let Some(summary) = self.finished.remove(&run) else {
            return Err(mismatch());
        };
        self.finished_totals.sub(&summary);
        self.workflows.insert(run.clone(), record);
        let applied = self.apply(meta, event);
        if applied.is_err() {
            self.workflows.remove(&run);
            self.finished_totals.add(&summary);
            self.finished.insert(run, summary);
        }
        applied
    }
}
