//! [`EventKind`]: the stable `u16` tag of each [`DomainEvent`](crate::DomainEvent) variant.

use std::fmt;

/// Generates `EventKind` with its `ALL` table and name lookup from one list,
/// so that the number, the variant and the name cannot drift apart.
macro_rules! event_kinds {
    ($($(#[$doc:meta])* $variant:ident = $tag:literal => $name:literal,)+) => {
        /// The stable tag of each [`DomainEvent`](crate::DomainEvent) variant, written
        /// in the log envelope's `kind` field.
        ///
        /// Numbered from 1 in variant order; 0 is never a kind. **Append-only**:
        /// a number, once given, keeps its meaning forever.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[repr(u16)]
        #[non_exhaustive]
        pub enum EventKind {
            $($(#[$doc])* $variant = $tag,)+
        }

        impl EventKind {
            /// Every kind, in tag order.
            pub const ALL: &'static [EventKind] = &[$(Self::$variant,)+];

            /// The kind with this tag, or `None` (0, or a tag not assigned yet).
            pub fn from_u16(tag: u16) -> Option<Self> {
                match tag {
                    $($tag => Some(Self::$variant),)+
                    _ => None,
                }
            }

            /// The `snake_case` name, e.g. `bead_completed`.
            pub fn name(self) -> &'static str {
                match self {
                    $(Self::$variant => $name,)+
                }
            }
        }
    };
}

event_kinds! {
    /// [`DomainEvent::WorkflowSubmitted`](crate::DomainEvent::WorkflowSubmitted).
    WorkflowSubmitted = 1 => "workflow_submitted",
    /// [`DomainEvent::WorkflowCompleted`](crate::DomainEvent::WorkflowCompleted).
    WorkflowCompleted = 2 => "workflow_completed",
    /// [`DomainEvent::WorkflowFailed`](crate::DomainEvent::WorkflowFailed).
    WorkflowFailed = 3 => "workflow_failed",
    /// [`DomainEvent::WorkflowCancelled`](crate::DomainEvent::WorkflowCancelled).
    WorkflowCancelled = 4 => "workflow_cancelled",
    /// [`DomainEvent::BeadReady`](crate::DomainEvent::BeadReady).
    BeadReady = 5 => "bead_ready",
    /// [`DomainEvent::BeadScheduled`](crate::DomainEvent::BeadScheduled).
    BeadScheduled = 6 => "bead_scheduled",
    /// [`DomainEvent::BeadStarted`](crate::DomainEvent::BeadStarted).
    BeadStarted = 7 => "bead_started",
    /// [`DomainEvent::BeadCompleted`](crate::DomainEvent::BeadCompleted).
    BeadCompleted = 8 => "bead_completed",
    /// [`DomainEvent::BeadFailed`](crate::DomainEvent::BeadFailed).
    BeadFailed = 9 => "bead_failed",
    /// [`DomainEvent::BeadRetryScheduled`](crate::DomainEvent::BeadRetryScheduled).
    BeadRetryScheduled = 10 => "bead_retry_scheduled",
    /// [`DomainEvent::BeadTimedOut`](crate::DomainEvent::BeadTimedOut).
    BeadTimedOut = 11 => "bead_timed_out",
    /// [`DomainEvent::BeadCancelled`](crate::DomainEvent::BeadCancelled).
    BeadCancelled = 12 => "bead_cancelled",
    /// [`DomainEvent::WorkerSpawned`](crate::DomainEvent::WorkerSpawned).
    WorkerSpawned = 13 => "worker_spawned",
    /// [`DomainEvent::WorkerDied`](crate::DomainEvent::WorkerDied).
    WorkerDied = 14 => "worker_died",
    /// [`DomainEvent::ActorStarted`](crate::DomainEvent::ActorStarted).
    ActorStarted = 15 => "actor_started",
    /// [`DomainEvent::ActorFailed`](crate::DomainEvent::ActorFailed).
    ActorFailed = 16 => "actor_failed",
    /// [`DomainEvent::ActorRestarted`](crate::DomainEvent::ActorRestarted).
    ActorRestarted = 17 => "actor_restarted",
    /// [`DomainEvent::ActorStopped`](crate::DomainEvent::ActorStopped).
    ActorStopped = 18 => "actor_stopped",
    /// [`DomainEvent::RestartBackoffScheduled`](crate::DomainEvent::RestartBackoffScheduled).
    RestartBackoffScheduled = 19 => "restart_backoff_scheduled",
    /// [`DomainEvent::SupervisorEscalated`](crate::DomainEvent::SupervisorEscalated).
    SupervisorEscalated = 20 => "supervisor_escalated",
    /// [`DomainEvent::BreakerChanged`](crate::DomainEvent::BreakerChanged).
    BreakerChanged = 21 => "breaker_changed",
    /// [`DomainEvent::CheckpointTaken`](crate::DomainEvent::CheckpointTaken).
    CheckpointTaken = 22 => "checkpoint_taken",
    /// [`DomainEvent::RateLimited`](crate::DomainEvent::RateLimited).
    RateLimited = 23 => "rate_limited",
    /// [`DomainEvent::EventQuarantined`](crate::DomainEvent::EventQuarantined).
    EventQuarantined = 24 => "event_quarantined",
    /// [`DomainEvent::RunSubmitted`](crate::DomainEvent::RunSubmitted).
    RunSubmitted = 25 => "run_submitted",
    /// [`DomainEvent::BeadCompletedWithOutput`](crate::DomainEvent::BeadCompletedWithOutput).
    BeadCompletedWithOutput = 26 => "bead_completed_with_output",
    /// [`DomainEvent::RunPaused`](crate::DomainEvent::RunPaused).
    RunPaused = 27 => "run_paused",
    /// [`DomainEvent::RunResumed`](crate::DomainEvent::RunResumed).
    RunResumed = 28 => "run_resumed",
    /// [`DomainEvent::RunRetried`](crate::DomainEvent::RunRetried).
    RunRetried = 29 => "run_retried",
    /// [`DomainEvent::RunExpired`](crate::DomainEvent::RunExpired).
    RunExpired = 30 => "run_expired",
}

impl EventKind {
    /// The tag written in the log envelope.
    pub fn as_u16(self) -> u16 {
        self as u16
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl From<EventKind> for u16 {
    fn from(kind: EventKind) -> u16 {
        kind.as_u16()
    }
}

impl TryFrom<u16> for EventKind {
    type Error = u16;

    /// The kind with this tag; the tag itself back when it names no kind.
    fn try_from(tag: u16) -> Result<Self, u16> {
        Self::from_u16(tag).ok_or(tag)
    }
}
