//! A run's progress: what follows from its state (retries to plan, beads
//! made ready, its end), planned without writing and carried out in one
//! synced batch for every run touched; and retry timers.

use std::time::Duration;

use strand_projections::{BeadId, BeadRecord, BeadState, DomainEvent, RunId, RunRecord, RunStatus};

use crate::error::Result;
use crate::orchestration::scheduler::{SchedulerMsg, SchedulerState, ms};
use crate::policy::Backoff;

/// What follows from one run's state (see `SchedulerState::plan_advance`).
pub(super) struct Advance {
    run: RunId,
    events: Vec<DomainEvent>,
    /// Beads made ready, to queue once durable.
    ready: Vec<BeadId>,
    /// Retry timers to arm: bead and delay in ms.
    timers: Vec<(BeadId, u64)>,
    /// The events finish the run.
    finishes: bool,
}

/// Pending beads to make ready: those unblocked by the completed beads of
/// `changed` (each once), or every unblocked pending bead when `None`.
pub(super) fn newly_ready(record: &RunRecord, changed: Option<&[BeadId]>) -> Vec<BeadId> {
    match changed {
        None => record.unblocked_pending(),
        Some(beads) => {
            let mut ready: Vec<BeadId> = beads
                .iter()
                .filter(|b| {
                    record
                        .bead(b)
                        .is_some_and(|r| r.state == BeadState::Completed)
                })
                .flat_map(|b| record.unblocked_by(b))
                .collect();
            // A dependent of two beads completed together comes up twice.
            ready.sort_unstable();
            ready.dedup();
            ready
        }
    }
}

/// Whether a bead of the run failed for good: a failure not worth
/// retrying, or retries exhausted (no retry planned).
pub(super) fn given_up(record: &RunRecord) -> bool {
    let counts = record.counts();
    if counts.failed + counts.timed_out == 0 {
        return false;
    }
    record.beads().any(|(bead, b)| is_given_up(record, bead, b))
}

pub(super) fn is_given_up(record: &RunRecord, bead: &BeadId, b: &BeadRecord) -> bool {
    let retries = record.task(bead).map_or(0, |t| t.retries);
    matches!(b.state, BeadState::Failed | BeadState::TimedOut)
        && b.retry_at_ms().is_none()
        && !(b.retryable && b.budgeted_attempts() <= retries)
}

/// Why the run failed: every bead given up on, with its last error.
pub(super) fn failure_reason(record: &RunRecord) -> String {
    let failed: Vec<String> = record
        .beads()
        .filter(|(bead, b)| is_given_up(record, bead, b))
        .map(|(bead, b)| {
            format!(
                "bead {} failed after {} attempt(s): {}",
                bead.as_str(),
                b.attempts,
                b.last_error.as_deref().unwrap_or("no error recorded")
            )
        })
        .collect();
    failed.join("; ")
}

impl SchedulerState {
    /// Everything that follows from the workflow's state: retries to
    /// schedule or give up on, beads whose dependencies completed, the
    /// workflow's end. `changed`: the beads whose outcome was just
    /// recorded, so only they and their dependents are looked at
    /// (O(changed + out-degree)); `None` looks at every bead (on submission
    /// and recovery).
    pub(super) async fn advance(
        &mut self,
        workflow: &RunId,
        changed: Option<&[BeadId]>,
    ) -> Result<()> {
        let plan = self.plan_advance(workflow, changed);
        self.carry_out(plan.into_iter().collect()).await
    }

    /// What follows from a run's state, not yet written: the events, the
    /// beads to queue and the retry timers to arm once they are durable.
    /// `None` when nothing follows (the run is finished: its waiters are
    /// told).
    pub(super) fn plan_advance(
        &mut self,
        workflow: &RunId,
        changed: Option<&[BeadId]>,
    ) -> Option<Advance> {
        let now = self.now_ms();
        // A run not kept whole completed.
        let Some(record) = self.state.workflow(workflow) else {
            self.notify(workflow);
            return None;
        };
        if record.status() != RunStatus::Running {
            self.notify(workflow);
            return None;
        }
        if changed.is_none() && record.deadline_ms().is_some() {
            self.arm_deadline(workflow);
        }
        let record = self.state.workflow(workflow)?;
        let mut plan = Advance {
            run: workflow.clone(),
            events: Vec::new(),
            ready: Vec::new(),
            timers: Vec::new(),
            finishes: false,
        };
        // A bead given up on stops the run's progress: no retry is planned
        // and nothing new made ready. Beads running finish and are recorded;
        // once none is in flight, every outcome is recorded and it fails.
        if given_up(record) {
            let counts = record.counts();
            if counts.scheduled + counts.running == 0 {
                plan.events.push(DomainEvent::WorkflowFailed {
                    workflow: workflow.clone(),
                    reason: failure_reason(record),
                });
                plan.finishes = true;
            }
            return Some(plan);
        }
        let looked_at: Vec<(&BeadId, &BeadRecord)> = match changed {
            None => record.beads().collect(),
            Some(beads) => beads
                .iter()
                .filter_map(|bead| record.bead(bead).map(|r| (bead, r)))
                .collect(),
        };
        for (bead, bead_record) in looked_at {
            if !matches!(bead_record.state, BeadState::Failed | BeadState::TimedOut) {
                continue;
            }
            if let Some(due) = bead_record.retry_at_ms() {
                plan.timers.push((bead.clone(), due.saturating_sub(now)));
                continue;
            }
            let backoff = match record.settings().backoff_of(bead) {
                Some(spec) => Backoff {
                    immediate: 0,
                    initial: Duration::from_millis(spec.initial_ms),
                    max: Duration::from_millis(spec.max_ms),
                    multiplier: spec.multiplier,
                    ..self.options.retry_backoff
                },
                None => self.options.retry_backoff,
            };
            let delay = ms(backoff.delay(bead.as_str(), bead_record.budgeted_attempts()));
            self.metered.retried(record.name());
            plan.events.push(DomainEvent::BeadRetryScheduled {
                workflow: workflow.clone(),
                bead: bead.clone(),
                at_ms: now.saturating_add(delay),
            });
            plan.timers.push((bead.clone(), delay));
        }
        plan.ready = newly_ready(record, changed);
        for bead in &plan.ready {
            plan.events.push(DomainEvent::BeadReady {
                workflow: workflow.clone(),
                bead: bead.clone(),
            });
        }
        // Making beads ready completes none: whether every bead completed
        // is known now.
        let counts = record.counts();
        if u64::try_from(record.beads().len()).is_ok_and(|n| counts.completed == n) {
            plan.events.push(DomainEvent::WorkflowCompleted {
                workflow: workflow.clone(),
            });
            plan.finishes = true;
        }
        Some(plan)
    }

    /// Write the events of every plan in one synced batch, then queue their
    /// ready beads, arm their timers and tell the waiters of runs that
    /// finished.
    pub(super) async fn carry_out(&mut self, mut plans: Vec<Advance>) -> Result<()> {
        let events: Vec<DomainEvent> = plans
            .iter_mut()
            .flat_map(|p| std::mem::take(&mut p.events))
            .collect();
        self.persist(events).await?;
        for plan in plans {
            for bead in &plan.ready {
                self.enqueue(&plan.run, bead);
            }
            for (bead, delay) in plan.timers {
                self.arm_retry(&plan.run, bead, delay);
            }
            if plan.finishes {
                self.notify(&plan.run);
            }
        }
        Ok(())
    }

    pub(super) fn arm_retry(&mut self, workflow: &RunId, bead: BeadId, delay_ms: u64) {
        if !self.timers.insert((workflow.clone(), bead.clone())) {
            return;
        }
        let workflow = workflow.clone();
        self.myself
            .send_after(Duration::from_millis(delay_ms), move || {
                SchedulerMsg::RetryDue(workflow, bead)
            });
    }

    pub(super) async fn retry_due(&mut self, workflow: RunId, bead: BeadId) -> Result<()> {
        self.timers.remove(&(workflow.clone(), bead.clone()));
        let due = self.state.workflow(&workflow).is_some_and(|r| {
            r.status() == RunStatus::Running
                && !r.paused()
                && !given_up(r)
                && r.bead(&bead).is_some_and(|b| {
                    matches!(b.state, BeadState::Failed | BeadState::TimedOut)
                        && b.retry_at_ms().is_some()
                })
        });
        if due {
            self.persist(vec![DomainEvent::BeadReady {
                workflow: workflow.clone(),
                bead: bead.clone(),
            }])
            .await?;
            self.enqueue(&workflow, &bead);
        }
        Ok(())
    }
}
