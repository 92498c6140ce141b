//! What a supervisor does when a child ends: decide (by restart type,
//! directive, intensity and strategy), append the decision as one batch,
//! then act on it — restart now or after a backoff, stop, quarantine a
//! poison event, or escalate.

use std::error::Error;
use std::time::Duration;

use strand_projections::DomainEvent;

use super::{Exit, Request, SupervisorState};
use crate::context::ErrorRecord;
use crate::error::{ActorError, Result};
use crate::policy::{Admission, Outcome};
use crate::supervisor::inspect::ChildStatus;
use crate::supervisor::spec::{Directive, Restart, Strategy};

/// The poison event a failure names: `(stream, seq)`.
pub(super) fn poison_of(error: &(dyn Error + 'static)) -> Option<(String, u64)> {
    match error.downcast_ref::<ActorError>() {
        Some(ActorError::PoisonEvent { stream, seq, .. }) => Some((stream.clone(), *seq)),
        _ => None,
    }
}

impl SupervisorState {
    /// Stop every child (reverse start order), log the escalation, and fail.
    pub(super) async fn escalate(
        &mut self,
        mut events: Vec<DomainEvent>,
        reason: String,
    ) -> ActorError {
        for index in (0..self.children.len()).rev() {
            if self.active(index) {
                events.push(self.stopped(index, "supervisor escalated"));
            }
        }
        events.push(DomainEvent::SupervisorEscalated {
            supervisor: self.name.clone(),
            reason: reason.clone(),
        });
        // A log that cannot take the escalation is itself the escalation.
        let logged = self.log(events).await;
        for index in (0..self.children.len()).rev() {
            self.halt(index, "supervisor escalated").await;
        }
        self.context.errors.push(ErrorRecord {
            at_ms: self.now_ms(),
            supervisor: self.name.clone(),
            child: self.name.clone(),
            reason: reason.clone(),
        });
        match logged {
            Err(ActorError::Poisoned) => ActorError::Poisoned,
            _ => ActorError::Escalated {
                supervisor: self.name.clone(),
                reason,
            },
        }
    }

    /// A child ended on its own: decide, log, act.
    pub(super) async fn on_exit(&mut self, index: usize, exit: Exit<'_>) -> Result<()> {
        let now = self.now_ms();
        let name = self.child_name(index);
        let (restart_type, decider, breaker) = match self.children.get_mut(index) {
            Some(child) => {
                child.cell = None;
                child.slot.set_cell(None);
                child.status = ChildStatus::Stopped;
                (
                    child.spec.restart,
                    child.spec.decider.clone(),
                    child.spec.breaker,
                )
            }
            None => return Ok(()),
        };
        let poison = match &exit {
            Exit::Failed { error, .. } => poison_of(*error),
            Exit::Normal { .. } => None,
        };
        let (mut events, failed, reason) = match &exit {
            Exit::Failed { reason, error } => {
                tracing::info!(supervisor = %self.name, child = %name, %reason, "child failed");
                self.context.errors.push(ErrorRecord {
                    at_ms: now,
                    supervisor: self.name.clone(),
                    child: name.clone(),
                    reason: reason.clone(),
                });
                let directive = decider.map_or(Directive::Restart, |d| d(&name, *error));
                let event = DomainEvent::ActorFailed {
                    supervisor: self.name.clone(),
                    child: name.clone(),
                    reason: reason.clone(),
                };
                (vec![event], Some(directive), reason.clone())
            }
            Exit::Normal { reason } => (
                vec![self.stopped(index, reason.clone())],
                None,
                reason.clone(),
            ),
        };
        let directive = match (failed, restart_type) {
            (_, Restart::Temporary) | (None, Restart::Transient) => Directive::Stop,
            (None, Restart::Permanent) => Directive::Restart,
            (Some(directive), _) => directive,
        };
        // The breaker counts failures that are the child's own.
        if failed.is_some()
            && directive != Directive::Resume
            && let Some(config) = breaker
        {
            let memory = self.memory.child(&name);
            match memory.breaker.on_outcome(&config, Outcome::Failure) {
                Some(to) => events.push(DomainEvent::BreakerChanged {
                    supervisor: self.name.clone(),
                    child: name.clone(),
                    state: to,
                }),
                None => memory.breaker.count(Outcome::Failure),
            }
        }
        match directive {
            Directive::Stop => {
                if failed.is_some() {
                    events.push(self.stopped(index, "directive: stop"));
                }
                self.log(events).await
            }
            Directive::Resume => {
                events.push(self.started(index));
                self.log(events).await?;
                self.spawn(index).await;
                Ok(())
            }
            Directive::Escalate => Err(self
                .escalate(
                    events,
                    format!("{name} failed and asked to escalate: {reason}"),
                )
                .await),
            Directive::Restart => {
                let poison = poison.map(|(stream, seq)| (stream, seq, reason));
                self.restart(index, events, now, poison).await
            }
        }
    }

    /// Restart `index` (and its siblings, by strategy) within the intensity.
    /// A child that exceeded it failing on a poison event `(stream, seq,
    /// reason)` has the event quarantined instead of escalating.
    pub(super) async fn restart(
        &mut self,
        index: usize,
        mut events: Vec<DomainEvent>,
        now: u64,
        poison: Option<(String, u64, String)>,
    ) -> Result<()> {
        let name = self.child_name(index);
        let mut admission = self.memory.window.check(&self.intensity, now);
        if let (Admission::Exceeded { .. }, Some((stream, seq, reason))) = (&admission, poison) {
            tracing::warn!(supervisor = %self.name, child = %name, %stream, seq, %reason, "quarantining a poison event");
            self.context.errors.push(ErrorRecord {
                at_ms: now,
                supervisor: self.name.clone(),
                child: name.clone(),
                reason: format!("event {seq} of {stream} quarantined: {reason}"),
            });
            events.push(DomainEvent::EventQuarantined {
                supervisor: self.name.clone(),
                child: name.clone(),
                stream,
                seq,
                reason,
            });
            // As the fold will once the batch is durable.
            self.memory.window.clear();
            admission = self.memory.window.check(&self.intensity, now);
        }
        let restarts = match admission {
            Admission::Allowed { restarts } => restarts,
            Admission::Exceeded { restarts } => {
                let reason = format!(
                    "restart intensity exceeded: {restarts} restarts within {} ms, then {name} ended",
                    self.intensity.window.as_millis()
                );
                return Err(self.escalate(events, reason).await);
            }
        };
        // Every counted restart extends the streak (the same fold on replay).
        let consecutive = self.memory.child(&name).streak.next(&self.backoff, now);
        let delay = self.backoff.delay(&name, consecutive);
        let siblings: Vec<usize> = match self.strategy {
            Strategy::OneForOne => Vec::new(),
            Strategy::OneForAll => (0..self.children.len())
                .filter(|&i| i != index && self.active(i))
                .collect(),
            Strategy::RestForOne => (index + 1..self.children.len())
                .filter(|&i| self.active(i))
                .collect(),
        };
        let why = format!("{}: {name} ended", self.strategy.as_str());
        for &sibling in siblings.iter().rev() {
            events.push(self.stopped(sibling, why.clone()));
        }
        if !delay.is_zero() {
            events.push(DomainEvent::RestartBackoffScheduled {
                supervisor: self.name.clone(),
                child: name.clone(),
                delay_ms: u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
            });
        }
        events.push(DomainEvent::ActorRestarted {
            supervisor: self.name.clone(),
            child: name,
            restarts,
        });
        if delay.is_zero() {
            for &sibling in &siblings {
                events.push(self.started(sibling));
            }
        }
        self.log(events).await?;
        for &sibling in siblings.iter().rev() {
            self.halt(sibling, &why).await;
        }
        let mut group = siblings.clone();
        group.push(index);
        group.sort_unstable();
        if delay.is_zero() {
            for child in group {
                self.spawn(child).await;
            }
        } else {
            self.schedule(group, siblings, delay, now);
        }
        Ok(())
    }

    /// Start `children` after `delay`, announcing `announce` then.
    pub(super) fn schedule(
        &mut self,
        children: Vec<usize>,
        announce: Vec<usize>,
        delay: Duration,
        now: u64,
    ) {
        let plan = self.next_plan;
        self.next_plan += 1;
        let until_ms = now.saturating_add(u64::try_from(delay.as_millis()).unwrap_or(u64::MAX));
        for &index in &children {
            if let Some(child) = self.children.get_mut(index) {
                child.status = ChildStatus::BackingOff { until_ms };
                child.plan = Some(plan);
            }
        }
        self.myself.send_after(delay, move || {
            Request::RestartDue {
                plan,
                children,
                announce,
            }
            .into()
        });
    }
}
