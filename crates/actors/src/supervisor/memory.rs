//! A supervisor's memory: its restart window, each child's failure streak,
//! breaker and pending backoff, folded from its own stream. The same fold
//! runs live (after each append) and on start (replaying the stream), so a
//! crash loop across process restarts is still a crash loop.

use std::collections::HashMap;

use strand_projections::DomainEvent;

use crate::policy::{Backoff, Breaker, FailureStreak, Intensity, RestartWindow};

/// What a supervisor remembers of one child.
#[derive(Clone, Debug, Default)]
pub(crate) struct ChildMemory {
    pub(crate) streak: FailureStreak,
    pub(crate) breaker: Breaker,
    /// When a scheduled restart backoff ends.
    pub(crate) backoff_until_ms: Option<u64>,
    pub(crate) errors: u64,
    pub(crate) restarts: u64,
    pub(crate) last_error: Option<String>,
    /// Its last event started it (`ActorStarted` or `ActorRestarted`) and
    /// nothing stopped it since: found on start, it was lost when the
    /// process exited without a graceful stop.
    pub(crate) live: bool,
    /// Seqs of its stream set aside as poison, in quarantine order.
    pub(crate) quarantined: Vec<u64>,
}

/// What a supervisor remembers.
#[derive(Clone, Debug, Default)]
pub(crate) struct Memory {
    pub(crate) window: RestartWindow,
    pub(crate) children: HashMap<String, ChildMemory>,
}

impl Memory {
    pub(crate) fn child(&mut self, name: &str) -> &mut ChildMemory {
        self.children.entry(name.to_owned()).or_default()
    }

    /// Fold one event of the supervisor's stream, stamped `at_ms`.
    pub(crate) fn apply(
        &mut self,
        intensity: &Intensity,
        backoff: &Backoff,
        at_ms: u64,
        event: &DomainEvent,
    ) {
        match event {
            DomainEvent::ActorFailed { child, reason, .. } => {
                let child = self.child(child);
                child.errors += 1;
                child.last_error = Some(reason.clone());
                child.live = false;
            }
            DomainEvent::ActorRestarted { child, .. } => {
                self.window.record(intensity, at_ms);
                let child = self.child(child);
                // The backoff's streak counts restarts, not failures: a
                // resumed child or one lost with the process is not backed
                // off for it.
                child.streak.record(backoff, at_ms);
                child.restarts += 1;
                child.live = true;
            }
            DomainEvent::ActorStarted { child, .. } => {
                let child = self.child(child);
                child.live = true;
                child.backoff_until_ms = None;
            }
            DomainEvent::ActorStopped { child, .. } => {
                let child = self.child(child);
                child.live = false;
                child.backoff_until_ms = None;
            }
            DomainEvent::RestartBackoffScheduled {
                child, delay_ms, ..
            } => {
                self.child(child).backoff_until_ms = Some(at_ms.saturating_add(*delay_ms));
            }
            DomainEvent::BreakerChanged { child, state, .. } => {
                self.child(child).breaker.transition(*state, at_ms);
            }
            // A supervisor that escalated is started afresh by its parent,
            // with a fresh restart window (as in OTP); streaks and breakers
            // are kept, so a hot loop still backs off.
            DomainEvent::SupervisorEscalated { .. } => self.window.clear(),
            // The loop was a poison event's, now skipped: the child starts a
            // fresh window.
            DomainEvent::EventQuarantined { child, seq, .. } => {
                self.window.clear();
                let child = self.child(child);
                if !child.quarantined.contains(seq) {
                    child.quarantined.push(*seq);
                }
            }
            _ => {}
        }
    }
}
