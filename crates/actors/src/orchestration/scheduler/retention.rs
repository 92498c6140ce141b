//! Retention as the scheduler carries it out: finished runs past the
//! policy leave the state, each through its `RunExpired`, durable before
//! the run is gone from either projection.

use strand_projections::DomainEvent;

use crate::error::Result;
use crate::orchestration::scheduler::{SchedulerMsg, SchedulerState};

/// Runs expired per synced batch: a sweep after a long downtime (or a
/// policy just made shorter) goes in bounded steps, letting the
/// scheduler's other messages in between.
const EXPIRE_BATCH: usize = 1024;

impl SchedulerState {
    /// Expire up to one batch of runs past retention; how many.
    async fn expire_batch(&mut self) -> Result<usize> {
        let now = self.now_ms();
        let events: Vec<DomainEvent> = self
            .state
            .expired(&self.options.retention, now, EXPIRE_BATCH)
            .into_iter()
            .map(|run| DomainEvent::RunExpired { run })
            .collect();
        let expired = events.len();
        self.persist(events).await?;
        Ok(expired)
    }

    /// Expire every run past retention now (an operator or a test asked).
    pub(super) async fn expire_all(&mut self) -> Result<usize> {
        let mut total = 0;
        loop {
            let expired = self.expire_batch().await?;
            total += expired;
            if expired < EXPIRE_BATCH {
                return Ok(total);
            }
        }
    }

    /// The periodic sweep: one batch, then the next sweep is armed (at
    /// once when the batch was full).
    pub(super) async fn retention_due(&mut self) -> Result<()> {
        let expired = self.expire_batch().await?;
        if expired == EXPIRE_BATCH {
            self.myself
                .send_message(SchedulerMsg::RetentionDue)
                .map_err(|_| crate::ActorError::NotRunning {
                    actor: "scheduler".to_owned(),
                })?;
        } else {
            self.arm_retention();
        }
        Ok(())
    }

    /// Arms the next sweep, when the policy ever lets a run go.
    pub(super) fn arm_retention(&mut self) {
        if self.options.retention.is_forever() {
            return;
        }
        self.myself
            .send_after(self.options.retention_every, || SchedulerMsg::RetentionDue);
    }
}
