//! Which runs a state keeps whole, and the scheduler's live view: a state
//! that keeps only the unfinished runs whole and every finished one as its
//! summary, so that the scheduler's memory follows what is running, not
//! the history. A failed or cancelled run is read back from its stream of
//! the log when an operator retries it ([`StateManager::restore_whole`]).

use crate::ids::RunId;
use crate::lifecycle::RunStatus;
use crate::state::StateManager;
use crate::state::finished::FinishedRun;
use crate::state::workflow::RunRecord;

/// Which finished runs a state keeps whole.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) enum Keep {
    /// Failed and cancelled ones, which a retry continues from their bead
    /// records: the state manager's.
    #[default]
    Retriable,
    /// Every one: the fold of one run's history.
    All,
    /// None: the scheduler's live view.
    Unfinished,
}

impl Keep {
    /// Whether a run that finished with `status` stays whole.
    pub(super) fn whole(self, status: RunStatus) -> bool {
        match self {
            Self::All => true,
            Self::Retriable => status != RunStatus::Completed,
            Self::Unfinished => false,
        }
    }
}

impl StateManager {
    /// This state as a live view: every finished run kept whole so far
    /// (failed and cancelled ones) becomes its summary, and so does every
    /// run that finishes from now on. Never checkpoint a live view: its
    /// snapshot is not the state manager's.
    #[must_use]
    pub fn into_live_view(mut self) -> Self {
        self.keep = Keep::Unfinished;
        let finished: Vec<RunId> = self
            .workflows
            .values()
            .filter(|record| record.status.is_finished())
            .map(|record| record.id().clone())
            .collect();
        for run in &finished {
            self.summarize(run);
        }
        self.workflows.shrink_to_fit();
        self
    }

    /// Whether this state is a live view ([`into_live_view`](Self::into_live_view)).
    pub fn is_live_view(&self) -> bool {
        self.keep == Keep::Unfinished
    }

    /// Puts `record`, folded again from the run's stream
    /// ([`fold_run`](Self::fold_run)), in place of the summary of the
    /// finished run it is; false (nothing changed) when the state holds no
    /// summary of that run, or one of another submission or outcome, and
    /// when it is not a live view (the state manager's summaries are part
    /// of its snapshot).
    pub fn restore_whole(&mut self, record: RunRecord) -> bool {
        let matches = self.is_live_view()
            && self.finished.get(record.id()).is_some_and(|finished| {
                finished.summary.submitted_seq == record.submitted_seq
                    && finished.summary.status == record.status
                    && record.status.is_finished()
            });
        if !matches {
            return false;
        }
        if let Some(finished) = self.finished.remove(record.id()) {
            self.finished_beads.sub(&finished.summary.counts);
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
            .is_some_and(|record| record.status.is_finished() && !self.keep.whole(record.status));
        if finished {
            self.summarize(run);
        }
    }

    /// Replaces the whole record of `run` by its summary.
    pub(super) fn summarize(&mut self, run: &RunId) {
        if let Some(record) = self.workflows.remove(run) {
            let finished = FinishedRun::of(&record);
            self.finished_beads.add(&finished.summary.counts);
            self.finished.insert(run.clone(), finished);
        }
    }
}
