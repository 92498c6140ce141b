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
    /// A run of this id exists with another definition or input.
    #[error(
        "run {run:?} exists with another {differs}: a run id names one definition \
         and one input; use another id"
    )]
    RunConflict {
        /// The run.
        run: String,
        /// What differs.
        differs: RunDifference,
    },
    /// An operator's control does not apply to the run as it stands.
    #[error("cannot {control} run {run:?}: {reason}")]
    ControlRefused {
        /// The run.
        run: String,
        /// The control (`cancel`, `pause`, `resume`, `retry`).
        control: &'static str,
        /// Why not.
        reason: String,
    },
    /// The run has no bead of this id.
    #[error("run {run:?} has no bead {bead:?}")]
    UnknownBead {
        /// The run.
        run: String,
        /// The bead asked for.
        bead: String,
    },
    /// A new run was asked for under an id the log holds already.
    #[error("run {run:?} exists already")]
    RunExists {
        /// The run.
        run: String,
    },
    /// An unfinished run of this definition name holds another definition.
    #[error(
        "run {run:?} of {name:?} is unfinished with definition {existing}, and this \
         definition is {submitted}: pass --id to start a separate run, or cancel \
         {run:?} first"
    )]
    DefinitionChanged {
        /// The unfinished run.
        run: String,
        /// The definition's name.
        name: String,
        /// The short hash of the unfinished run's definition.
        existing: String,
        /// The short hash of the definition submitted.
        submitted: String,
    },
    /// No worker can run a task with hard affinity to this label.
    #[error(
        "task {bead:?} needs a worker labelled {label:?} and there is none (add one, e.g. --worker-label {label}=1)"
    )]
    UnsatisfiableAffinity {
        /// The task.
        bead: String,
        /// The label no worker has.
        label: String,
    },
    /// A run's input is not usable.
    #[error("bad run input: {reason}")]
    BadInput {
        /// What is wrong with it.
        reason: String,
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

/// What differs between a run and a submission under its id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RunDifference {
    /// The definition (its content hash).
    Definition,
    /// The input.
    Input,
}

impl std::fmt::Display for RunDifference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Definition => "definition",
            Self::Input => "input",
        })
    }
}
