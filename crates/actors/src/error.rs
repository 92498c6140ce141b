//! [`ActorError`]: everything the actor runtime can refuse or fail with.

use strand_eventlog::Seq;
use strand_projections::ProjectionError;
use strand_replay::ReplayError;

/// Errors of the actor runtime.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ActorError {
    /// The log refused or failed a request.
    #[error("event log: {0}")]
    Log(#[from] strand_eventlog::Error),
    /// Rebuilding an actor's state from the log failed.
    #[error("replay: {0}")]
    Replay(#[from] ReplayError),
    /// An event could not be encoded, or a projection refused it.
    #[error("projection: {0}")]
    Projection(#[from] ProjectionError),
    /// The log is poisoned by a failed write: nothing more can be made
    /// durable until the process reopens it.
    #[error("the event log is poisoned by a failed write; reopen it")]
    Poisoned,
    /// An actor is gone (stopped, failed, or never started).
    #[error("actor {actor} is not running")]
    NotRunning {
        /// Its name.
        actor: String,
    },
    /// A call got no answer in time.
    #[error("call to {actor} timed out after {timeout_ms} ms")]
    Timeout {
        /// The actor called.
        actor: String,
        /// The limit.
        timeout_ms: u64,
    },
    /// A circuit breaker refused the call without reaching the child.
    #[error("circuit breaker open in front of {child}")]
    BreakerOpen {
        /// The child behind the breaker.
        child: String,
    },
    /// No child by that name under this supervisor.
    #[error("supervisor {supervisor} has no child {child}")]
    UnknownChild {
        /// The supervisor asked.
        supervisor: String,
        /// The name asked for.
        child: String,
    },
    /// A child could not be started.
    #[error("starting {child} failed: {reason}")]
    StartFailed {
        /// The child.
        child: String,
        /// Why (ractor's start error, rendered).
        reason: String,
    },
    /// A supervisor exceeded its restart intensity, or a child's failure
    /// asked for escalation.
    #[error("supervisor {supervisor} escalated: {reason}")]
    Escalated {
        /// The supervisor that gave up.
        supervisor: String,
        /// Why.
        reason: String,
    },
    /// The log's events after `applied` could not be read in order: the
    /// follower's view has a gap it could not fill.
    #[error("gap after seq {applied}: the log ends at {last}")]
    Gap {
        /// The follower's last applied seq.
        applied: Seq,
        /// The log's durable end.
        last: Seq,
    },
    /// A durable actor tried to persist an event of another stream (its
    /// replay would miss it); nothing was appended.
    #[error("event for stream {found} persisted by the actor of stream {expected}")]
    ForeignStream {
        /// The actor's stream.
        expected: String,
        /// The event's stream.
        found: String,
    },
    /// A durable actor cannot recover past one event of its stream: the
    /// event does not decode, or its projection refuses or panics on it.
    /// Its supervisor quarantines the seq once restarts do not help.
    #[error("poison event at seq {seq} of stream {stream}: {reason}")]
    PoisonEvent {
        /// The actor's stream.
        stream: String,
        /// The event's seq.
        seq: u64,
        /// How applying it failed.
        reason: String,
    },
    /// No workflow by that id in the log.
    #[error("no workflow {workflow:?}")]
    UnknownWorkflow {
        /// The id asked for.
        workflow: String,
    },
    /// A child does not answer state inspection.
    #[error("{child} does not expose its state")]
    NotInspectable {
        /// The child.
        child: String,
    },
}

/// The runtime's result type.
pub type Result<T, E = ActorError> = std::result::Result<T, E>;
