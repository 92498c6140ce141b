//! Waits for runs: a `Wait` answered at once for a finished run, or kept
//! until its finishing event is durable; the reason answered whole, from
//! the finishing event or the run's stream (the live view keeps a finished
//! run's summary, its reason cut).

use ractor::RpcReplyPort;
use strand_projections::{DomainEvent, RunEntry, RunId, RunStatus};

use crate::error::{ActorError, Result};
use crate::history::read_run_history;
use crate::orchestration::scheduler::{RunOutcome, SchedulerState};

/// The run a finishing event finishes, and its reason.
pub(super) fn finishing(event: &DomainEvent) -> Option<(RunId, Option<String>)> {
    match event {
        DomainEvent::WorkflowCompleted { workflow } => Some((workflow.clone(), None)),
        DomainEvent::WorkflowFailed { workflow, reason }
        | DomainEvent::WorkflowCancelled { workflow, reason } => {
            Some((workflow.clone(), Some(reason.clone())))
        }
        _ => None,
    }
}

impl SchedulerState {
    /// How `workflow` stands, the reason as the state holds it (cut, for a
    /// summary: see
    /// [`strand_projections::FinishedRun::reason_is_whole`]).
    pub(super) fn outcome(&self, workflow: &RunId) -> Option<RunOutcome> {
        let entry = self.state.run(workflow)?;
        Some(RunOutcome {
            run: workflow.clone(),
            status: entry.status(),
            counts: entry.counts(),
            reason: entry.reason().map(str::to_owned),
        })
    }

    /// Answers the waiters of `workflow` once it finished.
    pub(super) fn notify(&mut self, workflow: &RunId) {
        let reason = match self.state.run(workflow) {
            Some(entry) if entry.status() != RunStatus::Running => {
                entry.reason().map(str::to_owned)
            }
            _ => return,
        };
        self.answer_waiters(workflow, reason);
    }

    /// Answers the waiters of finished run `workflow`, with `reason`.
    pub(super) fn answer_waiters(&mut self, workflow: &RunId, reason: Option<String>) {
        let Some(mut outcome) = self.outcome(workflow) else {
            return;
        };
        if outcome.status == RunStatus::Running {
            return;
        }
        outcome.reason = reason;
        for reply in self.waiters.remove(workflow).unwrap_or_default() {
            let _ = reply.send(Ok(outcome.clone()));
        }
    }

    /// A `Wait` for `workflow`: answered now when it finished (its whole
    /// reason read from its stream when the summary's may be cut), kept
    /// until it finishes otherwise.
    pub(super) fn wait(&mut self, workflow: RunId, reply: RpcReplyPort<Result<RunOutcome>>) {
        let Some(entry) = self.state.run(&workflow) else {
            let _ = reply.send(Err(ActorError::UnknownWorkflow {
                workflow: workflow.as_str().to_owned(),
            }));
            return;
        };
        if entry.status() == RunStatus::Running {
            self.waiters.entry(workflow).or_default().push(reply);
            return;
        }
        let whole = match entry {
            RunEntry::Whole(_) => true,
            RunEntry::Summary(finished) => finished.reason_is_whole(),
        };
        let Some(outcome) = self.outcome(&workflow) else {
            return;
        };
        if whole {
            let _ = reply.send(Ok(outcome));
            return;
        }
        // A read of the run's stream, off the scheduler's turn.
        let store = self.context.store.clone();
        tokio::spawn(async move {
            let answer = read_run_history(&store, &workflow).await.map(|record| {
                let reason = record.and_then(|r| r.reason().map(str::to_owned));
                RunOutcome {
                    reason: reason.or(outcome.reason.clone()),
                    ..outcome
                }
            });
            let _ = reply.send(answer);
        });
    }
}
