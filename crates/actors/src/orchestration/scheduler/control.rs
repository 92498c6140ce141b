//! Operator controls and run timeouts, as the scheduler carries them out.

use std::time::Duration;

use strand_projections::{BeadState, RunId, RunRecord, RunStatus};

use crate::error::Result;
use crate::history::read_run_history;
use crate::orchestration::controls::{self, RunControl};
use crate::orchestration::scheduler::{SchedulerMsg, SchedulerState};

impl SchedulerState {
    /// An operator's control: its events durable first, then its effect
    /// on the attempts running and the queue.
    pub(super) async fn control(&mut self, run: &RunId, control: &RunControl) -> Result<usize> {
        self.restore_for_retry(run, control).await?;
        let events = match controls::plan(&self.state, run, control) {
            Ok(events) => events,
            Err(refused) => {
                self.state.release_whole(run);
                return Err(refused);
            }
        };
        let written = events.len();
        if events.is_empty() {
            return Ok(0);
        }
        self.persist(events).await?;
        match control {
            RunControl::Cancel { .. } => {
                for worker in &self.workers {
                    if let Some(running) = worker.running.as_ref().filter(|r| r.workflow == *run) {
                        running.cancel.cancel();
                    }
                }
                self.notify(run);
            }
            RunControl::Resume => {
                let ready = self
                    .state
                    .workflow(run)
                    .map(|r| r.beads_in_state(BeadState::Ready))
                    .unwrap_or_default();
                for bead in &ready {
                    self.enqueue(run, bead);
                }
                self.advance(run, None).await?;
            }
            RunControl::Retry { .. } => self.advance(run, None).await?,
            RunControl::Pause { .. } => {}
        }
        Ok(written)
    }

    /// A failed or cancelled run, held as its summary, made whole again
    /// from its stream of the log: a retry continues from its bead records.
    async fn restore_for_retry(&mut self, run: &RunId, control: &RunControl) -> Result<()> {
        if !controls::reads_history(&self.state, run, control) {
            return Ok(());
        }
        if let Some(record) = read_run_history(&self.context.store, run).await? {
            self.state.restore_whole(record);
        }
        Ok(())
    }

    /// Arms the run's timeout, once: a deadline already past (it came due
    /// while the process was down) fires at once.
    pub(super) fn arm_deadline(&mut self, run: &RunId) {
        let Some(due) = self.state.workflow(run).and_then(RunRecord::deadline_ms) else {
            return;
        };
        if !self.deadlines.insert(run.clone()) {
            return;
        }
        let delay = due.saturating_sub(self.now_ms());
        let run = run.clone();
        self.myself
            .send_after(Duration::from_millis(delay), move || {
                SchedulerMsg::Deadline(run)
            });
    }

    /// The run's timeout came due: a running run is cancelled with that
    /// reason, as an operator's cancel would.
    pub(super) async fn deadline(&mut self, run: &RunId) -> Result<()> {
        self.deadlines.remove(run);
        let Some(record) = self.state.workflow(run) else {
            return Ok(());
        };
        if record.status() != RunStatus::Running {
            return Ok(());
        }
        let timeout = record.settings().timeout_ms.unwrap_or(0);
        let reason = format!("the run timed out after {timeout} ms");
        self.control(run, &RunControl::Cancel { reason })
            .await
            .map(|_| ())
    }
}
