//! What the scheduler knows of what is alive: finding the workers,
//! recovering attempts lost with the process, and losing attempts whose
//! worker died or went silent.

use ractor::ActorStatus;
use strand_projections::{BeadId, BeadState, DomainEvent, RunId, RunStatus, WorkerId};

use super::{LOST_ATTEMPT, SchedulerState, Worker, ms};
use crate::error::Result;
use crate::orchestration::worker::WorkerMsg;
use crate::supervisor::SupervisorRef;

impl SchedulerState {
    /// Find the pool's workers (the pool is started before the scheduler)
    /// and log them, with their labels.
    pub(super) async fn connect(&mut self) -> Result<()> {
        let parent = SupervisorRef::new("workflow", self.parent.clone().into());
        let pool = parent.supervisor(&self.options.pool).await?;
        let mut workers = Vec::with_capacity(self.options.workers.len());
        for (name, labels) in &self.options.workers {
            workers.push(Worker {
                id: WorkerId::from(name.clone()),
                labels: labels.clone(),
                handle: pool.child::<WorkerMsg>(name).await?,
                running: None,
                suspect: false,
            });
        }
        let spawned: Vec<DomainEvent> = workers
            .iter()
            .map(|w| DomainEvent::WorkerSpawned {
                worker: w.id.clone(),
                labels: w.labels.clone(),
            })
            .collect();
        self.context.store.append(&spawned).await?;
        self.workers = workers;
        Ok(())
    }

    /// Recover every unfinished workflow: lost attempts are timed out and
    /// made ready again, ready beads queued, the rest advanced.
    pub(super) async fn recover(&mut self) -> Result<()> {
        let mut running: Vec<RunId> = self
            .state
            .runs()
            .filter(|r| r.status() == RunStatus::Running)
            .map(|r| r.id().clone())
            .collect();
        running.sort_unstable();
        for workflow in running {
            let mut events = Vec::new();
            if let Some(record) = self.state.workflow(&workflow) {
                for (bead, bead_record) in record.beads() {
                    let attempt = match bead_record.state {
                        BeadState::Running => bead_record.attempts,
                        BeadState::Scheduled => bead_record.attempts.saturating_add(1),
                        _ => continue,
                    };
                    events.push(DomainEvent::BeadTimedOut {
                        workflow: workflow.clone(),
                        bead: bead.clone(),
                        attempt,
                        reason: LOST_ATTEMPT.to_owned(),
                    });
                    // Lost with the process, not failed: run again, outside
                    // the retry budget (at least once).
                    events.push(DomainEvent::BeadReady {
                        workflow: workflow.clone(),
                        bead: bead.clone(),
                    });
                }
            }
            self.persist(events).await?;
            let ready = self
                .state
                .workflow(&workflow)
                .map(|r| r.beads_in_state(BeadState::Ready))
                .unwrap_or_default();
            for bead in ready {
                self.enqueue(&workflow, &bead);
            }
            self.advance(&workflow, None).await?;
        }
        Ok(())
    }

    /// An attempt that will never report (its worker died, or never got
    /// it): time it out and make the bead ready again, outside its retry
    /// budget, as recovery does for attempts lost with the process.
    pub(super) async fn lose(
        &mut self,
        workflow: &RunId,
        bead: &BeadId,
        attempt: u32,
        reason: String,
    ) -> Result<()> {
        let current = self.state.workflow(workflow).is_some_and(|r| {
            r.status() == RunStatus::Running
                && r.bead(bead)
                    .is_some_and(|b| b.state == BeadState::Running && b.attempts == attempt)
        });
        if !current {
            return Ok(());
        }
        tracing::warn!(workflow = workflow.as_str(), bead = bead.as_str(), attempt, %reason, "attempt lost");
        self.persist(vec![
            DomainEvent::BeadTimedOut {
                workflow: workflow.clone(),
                bead: bead.clone(),
                attempt,
                reason,
            },
            DomainEvent::BeadReady {
                workflow: workflow.clone(),
                bead: bead.clone(),
            },
        ])
        .await?;
        self.enqueue(workflow, bead);
        // A run draining after a bead was given up on fails once nothing of
        // it is in flight: this attempt was the last, perhaps.
        self.advance(workflow, Some(std::slice::from_ref(bead)))
            .await
    }

    /// Compare what the scheduler believes runs with what is alive: an
    /// attempt whose worker incarnation is gone (the worker died and its
    /// supervisor restarted it) will never report, so it is lost.
    pub(super) async fn reconcile(&mut self) -> Result<()> {
        let now = self.now_ms();
        let silent_after = ms(self.options.heartbeat_timeout);
        let mut lost = Vec::new();
        for worker in &mut self.workers {
            let Some(running) = &worker.running else {
                continue;
            };
            let alive = worker.handle.actor().is_some_and(|actor| {
                actor.get_id() == running.incarnation
                    && matches!(actor.get_status(), ActorStatus::Running)
            });
            let silent_ms = now.saturating_sub(running.last_beat_ms);
            let reason = if !alive {
                format!("worker {} died while running it", worker.id.as_str())
            } else if silent_ms >= silent_after {
                worker.suspect = true;
                format!(
                    "worker {} sent no heartbeat for {silent_ms} ms",
                    worker.id.as_str()
                )
            } else {
                continue;
            };
            if let Some(running) = worker.running.take() {
                lost.push((running, reason));
            }
        }
        for (running, reason) in lost {
            self.lose(&running.workflow, &running.bead, running.attempt, reason)
                .await?;
        }
        Ok(())
    }

    pub(super) fn heartbeat(&mut self, worker: &WorkerId, attempt: u32) {
        let now = self.now_ms();
        let Some(worker) = self.workers.iter_mut().find(|w| &w.id == worker) else {
            return;
        };
        match worker.running.as_mut() {
            Some(running) if running.attempt == attempt => running.last_beat_ms = now,
            // Busy with an attempt this scheduler does not track (given up
            // on, or given by an earlier incarnation of the scheduler): no
            // new work for it until that attempt ends.
            _ => worker.suspect = true,
        }
    }
}
