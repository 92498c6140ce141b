//! Orchestration: the scheduler, the bead workers, task handlers and the
//! workflow branch of the supervision tree.

pub mod controls;
pub mod handler;
pub mod placement;
pub mod rate_limiter;
pub mod reconciler;
pub mod scheduler;
pub mod shell;
pub mod tree;
pub mod worker;

pub use controls::{RunControl, plan as plan_control, reads_history};
pub use handler::{
    CancelHandle, CancelSignal, DEFAULT_LOG_TAIL_BYTES, DEFAULT_MAX_OUTPUT_BYTES,
    DependencyOutputs, Handlers, IntoOutput, Json, LogTail, TaskContext, TaskError, TaskHandler,
    TaskResult, cancel_pair,
};
pub use placement::{AffinityMode, Distribution};
pub use rate_limiter::{RateLimiter, RateLimiterActor, RateLimiterMsg, RateLimits};
pub use reconciler::{Reconciler, ReconcilerMsg, SchedulerLink};
pub use scheduler::admission;
pub use scheduler::{
    LOST_ATTEMPT, Reuse, RunOutcome, Scheduler, SchedulerMsg, SchedulerOptions, Started, Submission,
};
pub use shell::ShellHandler;
pub use tree::{WorkflowBranch, names, queue_branch, reconciler_branch, workflow_branch};
pub use worker::{Assignment, AttemptOutcome, BeadWorker, Finished, WorkerMsg};
