//! Supervision: per-child counters ([`SupervisionRecord`]) and per-supervisor
//! escalations, folded from the actor, restart, breaker and escalation events.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::event::BreakerState;

/// What the projection knows about one supervised child.
///
/// The field order is part of snapshot format version 1.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SupervisionRecord {
    /// `ActorStarted` events.
    pub starts: u64,
    /// `ActorFailed` events.
    pub failures: u64,
    /// `ActorRestarted` events.
    pub restarts: u64,
    /// The supervisor's restart count within its intensity window, from the
    /// last `ActorRestarted`.
    pub window_restarts: u32,
    /// `ActorStopped` events.
    pub stops: u64,
    /// `RestartBackoffScheduled` events.
    pub backoffs: u64,
    /// The last restart delay scheduled, in milliseconds.
    pub backoff_delay_ms: Option<u64>,
    /// The circuit breaker in front of the child.
    pub breaker: BreakerState,
    /// The reason of the last failure or stop.
    pub last_reason: Option<String>,
    /// The `at_ms` of the last event about this child.
    pub updated_at_ms: u64,
}

impl SupervisionRecord {
    fn new(at_ms: u64) -> Self {
        Self {
            starts: 0,
            failures: 0,
            restarts: 0,
            window_restarts: 0,
            stops: 0,
            backoffs: 0,
            backoff_delay_ms: None,
            breaker: BreakerState::Closed,
            last_reason: None,
            updated_at_ms: at_ms,
        }
    }
}

/// How often a supervisor escalated, and why last.
///
/// The field order is part of snapshot format version 1.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EscalationRecord {
    /// `SupervisorEscalated` events.
    pub escalations: u64,
    /// The reason of the last one.
    pub last_reason: String,
    /// The `at_ms` of the last one.
    pub updated_at_ms: u64,
}

/// One change to a child's record.
pub(crate) enum ChildEvent {
    Started,
    Failed(String),
    Restarted(u32),
    Stopped(String),
    Backoff(u64),
    Breaker(BreakerState),
    /// An event of its stream was quarantined: reported as the last reason
    /// (snapshot format 1 has no field of its own for it).
    Quarantined {
        seq: u64,
        reason: String,
    },
}

/// Supervision state: children by `(supervisor, child)`, escalations by
/// supervisor. Ordered maps: these events are rare, and the order is the
/// snapshot's.
#[derive(Clone, Debug, Default)]
pub(crate) struct Supervision {
    /// Per-child records.
    pub(crate) children: BTreeMap<(String, String), SupervisionRecord>,
    /// Per-supervisor escalations.
    pub(crate) escalations: BTreeMap<String, EscalationRecord>,
}

impl Supervision {
    /// Folds one child event. Never refused: supervisors report what happened.
    pub(crate) fn child(
        &mut self,
        supervisor: String,
        child: String,
        event: ChildEvent,
        at_ms: u64,
    ) {
        let record = self
            .children
            .entry((supervisor, child))
            .or_insert_with(|| SupervisionRecord::new(at_ms));
        match event {
            ChildEvent::Started => record.starts += 1,
            ChildEvent::Failed(reason) => {
                record.failures += 1;
                record.last_reason = Some(reason);
            }
            ChildEvent::Restarted(window_restarts) => {
                record.restarts += 1;
                record.window_restarts = window_restarts;
            }
            ChildEvent::Stopped(reason) => {
                record.stops += 1;
                record.last_reason = Some(reason);
            }
            ChildEvent::Backoff(delay_ms) => {
                record.backoffs += 1;
                record.backoff_delay_ms = Some(delay_ms);
            }
            ChildEvent::Breaker(state) => record.breaker = state,
            ChildEvent::Quarantined { seq, reason } => {
                record.last_reason = Some(format!("event {seq} quarantined: {reason}"));
            }
        }
        record.updated_at_ms = at_ms;
    }

    /// Folds a `SupervisorEscalated`.
    pub(crate) fn escalated(&mut self, supervisor: String, reason: String, at_ms: u64) {
        let record = self
            .escalations
            .entry(supervisor)
            .or_insert_with(|| EscalationRecord {
                escalations: 0,
                last_reason: String::new(),
                updated_at_ms: at_ms,
            });
        record.escalations += 1;
        record.last_reason = reason;
        record.updated_at_ms = at_ms;
    }
}

/// One supervised child as `strand status` shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChildSupervision {
    /// The supervisor's name.
    pub supervisor: String,
    /// The child's name.
    pub child: String,
    /// Its counters.
    #[serde(flatten)]
    pub record: SupervisionRecord,
}

/// One supervisor's escalations as `strand status` shows them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SupervisorEscalations {
    /// The supervisor's name.
    pub supervisor: String,
    /// Its escalations.
    #[serde(flatten)]
    pub record: EscalationRecord,
}
