//! [`BeadWorker`]: runs one bead at a time. A handler's error, panic or
//! timeout is a failed attempt reported to the scheduler, never the
//! worker's death.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use ractor::{Actor, ActorProcessingErr, ActorRef};
use strand_projections::{BeadId, Output, RunId, TaskAction, WorkerId};
use tracing::Instrument as _;

use crate::orchestration::handler::{
    CancelSignal, DependencyOutputs, Handlers, LogTail, TaskContext, TaskError,
};
use crate::orchestration::rate_limiter::RateLimiter;
use crate::orchestration::scheduler::SchedulerMsg;

/// How long a cancelled attempt may take to stop before it is dropped.
pub const CANCEL_GRACE: Duration = Duration::from_secs(10);

/// One attempt given to a worker. Its `BeadScheduled` and `BeadStarted`
/// are durable before it is sent.
#[derive(Debug)]
pub struct Assignment {
    /// The run.
    pub run: RunId,
    /// The bead.
    pub bead: BeadId,
    /// The attempt being started.
    pub attempt: u32,
    /// What to run.
    pub action: TaskAction,
    /// Its time limit.
    pub timeout: Option<Duration>,
    /// The run's input (a JSON object, as text).
    pub input: Arc<str>,
    /// The outputs of the bead's blocking dependencies.
    pub dependencies: DependencyOutputs,
    /// The largest output the attempt may produce.
    pub max_output_bytes: usize,
    /// Fires when the run is cancelled.
    pub cancel: CancelSignal,
    /// How often the worker tells the scheduler it is still on it.
    pub heartbeat_every: Duration,
    /// Where the outcome (and the heartbeats) go.
    pub reply: ActorRef<SchedulerMsg>,
}

/// How an attempt ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// It completed with this output.
    Completed {
        /// What it produced.
        output: Output,
        /// The tail of its log.
        log_tail: String,
    },
    /// It failed (an error or a panic of the handler).
    Failed(TaskError),
    /// It ran past its time limit and was dropped.
    TimedOut(Duration),
    /// The run was cancelled: the attempt stopped (or was dropped after
    /// the grace period).
    Cancelled,
}

/// An attempt's outcome, as the worker reports it.
#[derive(Debug)]
pub struct Finished {
    /// The worker that ran it.
    pub worker: WorkerId,
    /// The run.
    pub run: RunId,
    /// The bead.
    pub bead: BeadId,
    /// The attempt.
    pub attempt: u32,
    /// How it ended.
    pub outcome: AttemptOutcome,
}

/// What a worker is sent.
#[derive(Debug)]
pub enum WorkerMsg {
    /// Run this attempt, then report.
    Run(Assignment),
}

/// The worker actor; its arguments are its id, the handlers and the rate
/// limiter handed to them.
#[derive(Debug, Clone, Copy, Default)]
pub struct BeadWorker;

/// A worker's state.
#[derive(Debug)]
pub struct WorkerState {
    id: WorkerId,
    handlers: Arc<Handlers>,
    rate_limiter: RateLimiter,
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic with a non-text payload".to_owned()
    }
}

impl WorkerState {
    async fn run(&self, assignment: &Assignment) -> AttemptOutcome {
        let Some(handler) = self.handlers.resolve(&assignment.action) else {
            return AttemptOutcome::Failed(TaskError::permanent(format!(
                "no handler for {:?}",
                assignment.action
            )));
        };
        let log = LogTail::default();
        let context = TaskContext {
            rate_limiter: self.rate_limiter.clone(),
            run: assignment.run.clone(),
            bead: assignment.bead.clone(),
            attempt: assignment.attempt,
            idempotency_key: format!("{}/{}", assignment.run.as_str(), assignment.bead.as_str()),
            action: assignment.action.clone(),
            timeout: assignment.timeout,
            input: Arc::clone(&assignment.input),
            dependencies: Arc::clone(&assignment.dependencies),
            max_output_bytes: assignment.max_output_bytes,
            log: log.clone(),
            cancel: assignment.cancel.clone(),
        };
        let max = assignment.max_output_bytes;
        // The attempt's logs carry its run, bead and attempt.
        let span = tracing::info_span!(
            "attempt",
            run = %assignment.run,
            bead = %assignment.bead,
            attempt = assignment.attempt
        );
        // A panicking handler fails its attempt, not the worker.
        let attempt = AssertUnwindSafe(handler.run(context))
            .catch_unwind()
            .instrument(span);
        let limited = async {
            let ran = match assignment.timeout {
                Some(limit) => match tokio::time::timeout(limit, attempt).await {
                    Ok(ran) => ran,
                    Err(_) => return AttemptOutcome::TimedOut(limit),
                },
                None => attempt.await,
            };
            match ran {
                // Checked here too: a handler's output has no other bound.
                Ok(Ok(output)) if output.len() > max => {
                    AttemptOutcome::Failed(TaskError::permanent(format!(
                        "the task's output ({} bytes) is larger than the {max}-byte bound",
                        output.len()
                    )))
                }
                Ok(Ok(output)) => AttemptOutcome::Completed {
                    output,
                    log_tail: log.text(),
                },
                Ok(Err(error)) => AttemptOutcome::Failed(error),
                Err(panic) => AttemptOutcome::Failed(TaskError::retryable(format!(
                    "handler panicked: {}",
                    panic_message(panic.as_ref())
                ))),
            }
        };
        tokio::pin!(limited);
        // Heartbeats while the handler runs: a worker whose thread is
        // wedged stops sending them, and the reconciler notices.
        let mut beat =
            tokio::time::interval(assignment.heartbeat_every.max(Duration::from_millis(1)));
        beat.tick().await;
        loop {
            tokio::select! {
                outcome = &mut limited => return outcome,
                () = assignment.cancel.cancelled() => {
                    // The handler may stop on its own (a shell task is sent
                    // SIGTERM); past the grace period it is dropped.
                    let _ = tokio::time::timeout(CANCEL_GRACE, &mut limited).await;
                    return AttemptOutcome::Cancelled;
                }
                _ = beat.tick() => {
                    let _ = assignment.reply.send_message(SchedulerMsg::Heartbeat {
                        worker: self.id.clone(),
                        attempt: assignment.attempt,
                    });
                }
            }
        }
    }
}

impl Actor for BeadWorker {
    type Msg = WorkerMsg;
    type State = WorkerState;
    type Arguments = (WorkerId, Arc<Handlers>, RateLimiter);

    async fn pre_start(
        &self,
        _myself: ActorRef<WorkerMsg>,
        (id, handlers, rate_limiter): Self::Arguments,
    ) -> Result<WorkerState, ActorProcessingErr> {
        Ok(WorkerState {
            id,
            handlers,
            rate_limiter,
        })
    }

    async fn handle(
        &self,
        _myself: ActorRef<WorkerMsg>,
        WorkerMsg::Run(assignment): WorkerMsg,
        state: &mut WorkerState,
    ) -> Result<(), ActorProcessingErr> {
        let outcome = state.run(&assignment).await;
        let finished = Finished {
            worker: state.id.clone(),
            run: assignment.run,
            bead: assignment.bead,
            attempt: assignment.attempt,
            outcome,
        };
        // A scheduler that is gone recovers the bead from the log.
        let _ = assignment
            .reply
            .send_message(SchedulerMsg::Finished(finished));
        Ok(())
    }
}
