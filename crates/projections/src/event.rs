//! [`DomainEvent`]: every transition Strand records, and the task
//! specifications carried by a submission.

use serde::{Deserialize, Serialize};
use strand_dag::{BeadId, WorkflowDag};

use crate::definition::DefinitionHash;
use crate::ids::{RunId, WorkerId};
use crate::kind::EventKind;
use crate::output::Output;

/// What a task does when it runs.
///
/// Part of log format version 1: append variants, never reorder or remove them.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskAction {
    /// A shell command (the CLI's `run = "..."`).
    Run(String),
    /// A handler registered by name with the engine (the library's `handler = "..."`).
    Handler(String),
}

/// One task of a submitted workflow, as the scheduler needs it.
///
/// Part of log format version 1: append fields only at the end, in a new
/// format version.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TaskSpec {
    /// The bead this task is; a node of the workflow's DAG.
    pub id: BeadId,
    /// What to run.
    pub action: TaskAction,
    /// Higher runs first among ready beads.
    pub priority: i32,
    /// How many times a failed or timed-out attempt may be retried.
    pub retries: u32,
    /// Time allowed to one attempt, in milliseconds; `None` for no limit.
    pub timeout_ms: Option<u64>,
    /// The worker label this task prefers, if any.
    pub affinity: Option<String>,
}

/// A task's own retry backoff, overriding the engine's.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BackoffSpec {
    /// The first retry's delay, in milliseconds.
    pub initial_ms: u64,
    /// The longest delay, in milliseconds.
    pub max_ms: u64,
    /// Growth factor per further failure.
    pub multiplier: u32,
}

/// The settings of a run beyond its tasks, frozen with its definition in
/// `RunSubmitted` (and part of its definition hash).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RunSettings {
    /// The run is cancelled this long after its submission, in
    /// milliseconds; `None` for no limit.
    pub timeout_ms: Option<u64>,
    /// Per-task retry backoff, by bead id (sorted, each bead once).
    pub backoff: Vec<(BeadId, BackoffSpec)>,
}

impl RunSettings {
    /// The backoff of `bead`, if its task sets one.
    pub fn backoff_of(&self, bead: &BeadId) -> Option<&BackoffSpec> {
        self.backoff
            .binary_search_by(|(id, _)| id.cmp(bead))
            .ok()
            .and_then(|at| self.backoff.get(at))
            .map(|(_, spec)| spec)
    }
}

/// The state of a circuit breaker in front of a supervised child.
///
/// Part of log format version 1: append variants, never reorder or remove them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakerState {
    /// Calls pass through.
    Closed,
    /// Calls are refused without reaching the child.
    Open,
    /// One trial call is let through to probe the child.
    HalfOpen,
}

impl BreakerState {
    /// The `snake_case` name (`closed`, `open`, `half_open`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Closed => "closed",
            Self::Open => "open",
            Self::HalfOpen => "half_open",
        }
    }
}

/// Every domain event: the transitions that the log records and that every
/// projection folds.
///
/// **Append-only.** The body of a log record is the bincode encoding of this
/// enum, whose variant index is part of log format version 1, and each
/// variant has a stable [`EventKind`] tag. Never reorder or remove variants or
/// fields; a new variant goes at the end with the next `EventKind` number; a
/// changed field is a new log format version.
///
/// Time is not in the event: it arrives beside it, as
/// [`EventMeta::at_ms`](crate::EventMeta), stamped by the log's writer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum DomainEvent {
    /// A workflow was accepted. Its beads start `pending`.
    WorkflowSubmitted {
        /// The new workflow; unique within the log.
        workflow: RunId,
        /// Its human-readable name (the workflow file's `name`).
        name: String,
        /// Its beads and their dependencies; validated (no cycle). Boxed,
        /// as in `RunSubmitted`.
        dag: Box<WorkflowDag>,
        /// One task per node of `dag`, in any order.
        tasks: Vec<TaskSpec>,
    },
    /// Every bead of the workflow completed.
    WorkflowCompleted {
        /// The workflow.
        workflow: RunId,
    },
    /// The workflow was given up on.
    WorkflowFailed {
        /// The workflow.
        workflow: RunId,
        /// Why.
        reason: String,
    },
    /// The workflow was cancelled.
    WorkflowCancelled {
        /// The workflow.
        workflow: RunId,
        /// Why.
        reason: String,
    },
    /// A bead may be scheduled: its blocking dependencies completed, or it is
    /// retried after a failure or timeout, or it is requeued because its
    /// worker went away before starting it.
    BeadReady {
        /// The workflow.
        workflow: RunId,
        /// The bead.
        bead: BeadId,
    },
    /// A ready bead was assigned to a worker.
    BeadScheduled {
        /// The workflow.
        workflow: RunId,
        /// The bead.
        bead: BeadId,
        /// The worker it was assigned to.
        worker: WorkerId,
    },
    /// A worker started an attempt of a scheduled bead.
    BeadStarted {
        /// The workflow.
        workflow: RunId,
        /// The bead.
        bead: BeadId,
        /// The worker running it.
        worker: WorkerId,
        /// The attempt number: 1 for the first run, previous attempt + 1 after.
        attempt: u32,
    },
    /// The running attempt succeeded.
    BeadCompleted {
        /// The workflow.
        workflow: RunId,
        /// The bead.
        bead: BeadId,
        /// The attempt that succeeded (the current one).
        attempt: u32,
        /// The task's output.
        output: String,
    },
    /// The running attempt failed.
    BeadFailed {
        /// The workflow.
        workflow: RunId,
        /// The bead.
        bead: BeadId,
        /// The attempt that failed (the current one).
        attempt: u32,
        /// What went wrong.
        error: String,
        /// Whether the failure is worth retrying (the scheduler's call).
        retryable: bool,
    },
    /// A retry of a failed or timed-out bead was planned.
    BeadRetryScheduled {
        /// The workflow.
        workflow: RunId,
        /// The bead.
        bead: BeadId,
        /// When the retry is due, in milliseconds since the Unix epoch.
        at_ms: u64,
    },
    /// A bead ran out of time: while running, or while scheduled but never
    /// started.
    BeadTimedOut {
        /// The workflow.
        workflow: RunId,
        /// The bead.
        bead: BeadId,
        /// The attempt that timed out: the current attempt of a running bead,
        /// or, for a scheduled bead, the attempt it was scheduled for (the
        /// number of attempts started so far + 1), which then never started.
        attempt: u32,
        /// Why (which limit).
        reason: String,
    },
    /// A bead was cancelled.
    BeadCancelled {
        /// The workflow.
        workflow: RunId,
        /// The bead.
        bead: BeadId,
        /// Why.
        reason: String,
    },
    /// A worker came up (for the first time, or again under the same id).
    WorkerSpawned {
        /// The worker.
        worker: WorkerId,
        /// Its labels, matched against task affinities.
        labels: Vec<String>,
    },
    /// A worker went away.
    WorkerDied {
        /// The worker.
        worker: WorkerId,
        /// Why.
        reason: String,
    },
    /// A supervisor started a child.
    ActorStarted {
        /// The supervisor's name.
        supervisor: String,
        /// The child's name.
        child: String,
    },
    /// A supervised child failed (panicked or returned an error).
    ActorFailed {
        /// The supervisor's name.
        supervisor: String,
        /// The child's name.
        child: String,
        /// What happened.
        reason: String,
    },
    /// A supervisor restarted a child.
    ActorRestarted {
        /// The supervisor's name.
        supervisor: String,
        /// The child's name.
        child: String,
        /// The supervisor's restart count for this child within its current
        /// intensity window, this restart included.
        restarts: u32,
    },
    /// A supervised child stopped.
    ActorStopped {
        /// The supervisor's name.
        supervisor: String,
        /// The child's name.
        child: String,
        /// Why.
        reason: String,
    },
    /// A supervisor delayed a child's restart.
    RestartBackoffScheduled {
        /// The supervisor's name.
        supervisor: String,
        /// The child's name.
        child: String,
        /// The delay before the restart, in milliseconds.
        delay_ms: u64,
    },
    /// A supervisor exceeded its restart intensity and escalated to its parent.
    SupervisorEscalated {
        /// The supervisor's name.
        supervisor: String,
        /// Why.
        reason: String,
    },
    /// A circuit breaker in front of a child changed state.
    BreakerChanged {
        /// The supervisor's name.
        supervisor: String,
        /// The child's name.
        child: String,
        /// The new state.
        state: BreakerState,
    },
    /// A checkpoint was taken.
    CheckpointTaken {
        /// The checkpoint's name (whose state it holds).
        name: String,
        /// Its watermark: it includes every event with seq ≤ this. Never
        /// after the seq of this event.
        seq: u64,
    },
    /// A call was refused by a rate limiter.
    RateLimited {
        /// The limiter's key.
        key: String,
    },
    /// A supervisor set aside an event that made its child fail on every
    /// restart (a poison event): the child skips it from now on.
    EventQuarantined {
        /// The supervisor's name.
        supervisor: String,
        /// The child's name.
        child: String,
        /// The stream holding the event.
        stream: String,
        /// The event's seq.
        seq: u64,
        /// How the child failed on it.
        reason: String,
    },
    /// A run of a workflow definition was accepted. Its beads start
    /// `pending`. Supersedes `WorkflowSubmitted`, which still folds (as a
    /// run whose input is `{}`).
    RunSubmitted {
        /// The new run; unique within the log.
        run: RunId,
        /// Its definition's name (the workflow file's `name`).
        name: String,
        /// The content hash of `(name, dag, tasks)`; the projection checks it.
        definition: DefinitionHash,
        /// Its beads and their dependencies; validated (no cycle). Boxed
        /// (the encoding is the same): every event is as large as the
        /// largest variant, and a bead's events outnumber submissions.
        dag: Box<WorkflowDag>,
        /// One task per node of `dag`, in any order.
        tasks: Vec<TaskSpec>,
        /// The run's input: a JSON object, as text.
        input: String,
        /// Its timeout and per-task backoffs (boxed, as `dag`).
        settings: Box<RunSettings>,
    },
    /// The running attempt succeeded with this output. Supersedes
    /// `BeadCompleted`, which still folds (its text as a `text/plain` output).
    BeadCompletedWithOutput {
        /// The run.
        run: RunId,
        /// The bead.
        bead: BeadId,
        /// The attempt that succeeded (the current one).
        attempt: u32,
        /// What it produced, passed to its dependents.
        output: Output,
        /// The end of what it logged (a shell task's stderr), for status.
        log_tail: String,
    },
    /// An operator paused the run: nothing more of it is dispatched;
    /// attempts running finish and are recorded.
    RunPaused {
        /// The run.
        run: RunId,
        /// Why.
        reason: String,
    },
    /// An operator resumed a paused run.
    RunResumed {
        /// The run.
        run: RunId,
    },
    /// An operator had a failed or cancelled run continue: `beads` (none
    /// completed) become pending again with a fresh retry budget; the run
    /// is running again. Completed beads keep their outputs.
    RunRetried {
        /// The run.
        run: RunId,
        /// The beads made pending again, sorted by id.
        beads: Vec<BeadId>,
    },
    /// A finished run passed its retention: it leaves the state (its
    /// summary, or its record when it failed or was cancelled). Its events
    /// stay in the log until a trim removes them; its id may name a new
    /// run afterwards.
    RunExpired {
        /// The run.
        run: RunId,
    },
}

impl DomainEvent {
    /// The event's stable kind tag.
    pub fn kind(&self) -> EventKind {
        match self {
            Self::WorkflowSubmitted { .. } => EventKind::WorkflowSubmitted,
            Self::WorkflowCompleted { .. } => EventKind::WorkflowCompleted,
            Self::WorkflowFailed { .. } => EventKind::WorkflowFailed,
            Self::WorkflowCancelled { .. } => EventKind::WorkflowCancelled,
            Self::BeadReady { .. } => EventKind::BeadReady,
            Self::BeadScheduled { .. } => EventKind::BeadScheduled,
            Self::BeadStarted { .. } => EventKind::BeadStarted,
            Self::BeadCompleted { .. } => EventKind::BeadCompleted,
            Self::BeadFailed { .. } => EventKind::BeadFailed,
            Self::BeadRetryScheduled { .. } => EventKind::BeadRetryScheduled,
            Self::BeadTimedOut { .. } => EventKind::BeadTimedOut,
            Self::BeadCancelled { .. } => EventKind::BeadCancelled,
            Self::WorkerSpawned { .. } => EventKind::WorkerSpawned,
            Self::WorkerDied { .. } => EventKind::WorkerDied,
            Self::ActorStarted { .. } => EventKind::ActorStarted,
            Self::ActorFailed { .. } => EventKind::ActorFailed,
            Self::ActorRestarted { .. } => EventKind::ActorRestarted,
            Self::ActorStopped { .. } => EventKind::ActorStopped,
            Self::RestartBackoffScheduled { .. } => EventKind::RestartBackoffScheduled,
            Self::SupervisorEscalated { .. } => EventKind::SupervisorEscalated,
            Self::BreakerChanged { .. } => EventKind::BreakerChanged,
            Self::CheckpointTaken { .. } => EventKind::CheckpointTaken,
            Self::RateLimited { .. } => EventKind::RateLimited,
            Self::EventQuarantined { .. } => EventKind::EventQuarantined,
            Self::RunSubmitted { .. } => EventKind::RunSubmitted,
            Self::BeadCompletedWithOutput { .. } => EventKind::BeadCompletedWithOutput,
            Self::RunPaused { .. } => EventKind::RunPaused,
            Self::RunResumed { .. } => EventKind::RunResumed,
            Self::RunRetried { .. } => EventKind::RunRetried,
            Self::RunExpired { .. } => EventKind::RunExpired,
        }
    }

    /// The stream the event belongs to: `workflow/<id>` for workflow and bead
    /// events, `worker/<id>`, `supervisor/<supervisor>` for actor, restart,
    /// escalation, breaker and quarantine events, `checkpoint`, and `ratelimit/<key>`.
    pub fn stream(&self) -> String {
        match self {
            Self::WorkflowSubmitted { workflow, .. }
            | Self::WorkflowCompleted { workflow }
            | Self::WorkflowFailed { workflow, .. }
            | Self::WorkflowCancelled { workflow, .. }
            | Self::BeadReady { workflow, .. }
            | Self::BeadScheduled { workflow, .. }
            | Self::BeadStarted { workflow, .. }
            | Self::BeadCompleted { workflow, .. }
            | Self::BeadFailed { workflow, .. }
            | Self::BeadRetryScheduled { workflow, .. }
            | Self::BeadTimedOut { workflow, .. }
            | Self::BeadCancelled { workflow, .. }
            | Self::RunSubmitted { run: workflow, .. }
            | Self::BeadCompletedWithOutput { run: workflow, .. }
            | Self::RunPaused { run: workflow, .. }
            | Self::RunResumed { run: workflow }
            | Self::RunRetried { run: workflow, .. }
            | Self::RunExpired { run: workflow } => prefixed(RUN_STREAM_PREFIX, workflow.as_str()),
            Self::WorkerSpawned { worker, .. } | Self::WorkerDied { worker, .. } => {
                prefixed("worker/", worker.as_str())
            }
            Self::ActorStarted { supervisor, .. }
            | Self::ActorFailed { supervisor, .. }
            | Self::ActorRestarted { supervisor, .. }
            | Self::ActorStopped { supervisor, .. }
            | Self::RestartBackoffScheduled { supervisor, .. }
            | Self::SupervisorEscalated { supervisor, .. }
            | Self::BreakerChanged { supervisor, .. }
            | Self::EventQuarantined { supervisor, .. } => prefixed("supervisor/", supervisor),
            Self::CheckpointTaken { .. } => "checkpoint".to_owned(),
            Self::RateLimited { key } => prefixed("ratelimit/", key),
        }
    }

    /// The workflow a workflow or bead event is about; `None` for the others.
    pub fn workflow(&self) -> Option<&RunId> {
        match self {
            Self::WorkflowSubmitted { workflow, .. }
            | Self::WorkflowCompleted { workflow }
            | Self::WorkflowFailed { workflow, .. }
            | Self::WorkflowCancelled { workflow, .. }
            | Self::BeadReady { workflow, .. }
            | Self::BeadScheduled { workflow, .. }
            | Self::BeadStarted { workflow, .. }
            | Self::BeadCompleted { workflow, .. }
            | Self::BeadFailed { workflow, .. }
            | Self::BeadRetryScheduled { workflow, .. }
            | Self::BeadTimedOut { workflow, .. }
            | Self::BeadCancelled { workflow, .. }
            | Self::RunSubmitted { run: workflow, .. }
            | Self::BeadCompletedWithOutput { run: workflow, .. }
            | Self::RunPaused { run: workflow, .. }
            | Self::RunResumed { run: workflow }
            | Self::RunRetried { run: workflow, .. }
            | Self::RunExpired { run: workflow } => Some(workflow),
            Self::WorkerSpawned { .. }
            | Self::WorkerDied { .. }
            | Self::ActorStarted { .. }
            | Self::ActorFailed { .. }
            | Self::ActorRestarted { .. }
            | Self::ActorStopped { .. }
            | Self::RestartBackoffScheduled { .. }
            | Self::SupervisorEscalated { .. }
            | Self::BreakerChanged { .. }
            | Self::CheckpointTaken { .. }
            | Self::RateLimited { .. }
            | Self::EventQuarantined { .. } => None,
        }
    }
}

/// `prefix` followed by `name`, allocated once.
/// The stream of run `run`'s events (its submission, controls, beads).
pub fn run_stream(run: &RunId) -> String {
    prefixed(RUN_STREAM_PREFIX, run.as_str())
}

/// What the stream names of runs begin with.
const RUN_STREAM_PREFIX: &str = "workflow/";

fn prefixed(prefix: &str, name: &str) -> String {
    let mut out = String::with_capacity(prefix.len() + name.len());
    out.push_str(prefix);
    out.push_str(name);
    out
}
