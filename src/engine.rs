//! [`Engine`]: Strand embedded in a program. Open it on a data directory,
//! register task handlers, run workflows; kill the process at any moment,
//! open it again, and unfinished workflows resume where the log left them.
//!
//! ```
//! # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use strand::engine::Engine;
//! use strand::workflow::Workflow;
//! use strand::actors::orchestration::{TaskContext, TaskResult};
//!
//! let dir = tempfile::tempdir()?;
//! let engine = Engine::builder(dir.path())
//!     .workers(4)
//!     .handler("greet", |cx: TaskContext| async move {
//!         TaskResult::Ok(format!("hello from {}", cx.bead.as_str()))
//!     })
//!     .open()
//!     .await?;
//! let workflow = Workflow::from_toml_str("hello.toml", r#"
//!     name = "hello"
//!     [[task]]
//!     id = "a"
//!     handler = "greet"
//!     [[task]]
//!     id = "b"
//!     handler = "greet"
//!     deps = ["a"]
//! "#)?;
//! let outcome = engine.run(&workflow).await?;
//! assert_eq!(outcome.status.as_str(), "completed");
//! engine.shutdown().await?;
//! # Ok(())
//! # }
//! ```

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use strand_actors::orchestration::{
    AffinityMode, Distribution, Handlers, RateLimiter, RateLimits, SchedulerLink, SchedulerMsg,
    ShellHandler, Submission, TaskHandler, WorkflowBranch, WorkflowOutcome, names, queue_branch,
    reconciler_branch, workflow_branch,
};
use strand_actors::policy::{Backoff, Intensity};
use strand_actors::{ActorError, ChildHandle, Runtime, RuntimeOptions};
use strand_projections::{
    StateManager, TaskAction, TaskSpec, WorkflowDag, WorkflowId, WorkflowSummary,
};

use crate::workflow::Workflow;

/// How long a submission or a status query may take (a wait has no limit).
const CALL_TIMEOUT: Duration = Duration::from_secs(60);

/// Sets up an [`Engine`]. Defaults: 100 workers, a checkpoint every 60 s,
/// shell commands (`run = "..."`) run by [`ShellHandler`].
#[derive(Debug)]
pub struct EngineBuilder {
    dir: PathBuf,
    workers: usize,
    labelled: Vec<(String, usize)>,
    distribution: Distribution,
    affinity: AffinityMode,
    checkpoint_every: Duration,
    reconcile_every: Duration,
    heartbeat: (Duration, Duration),
    rate_limits: RateLimits,
    handlers: Handlers,
    retry_backoff: Backoff,
    intensity: Intensity,
}

impl EngineBuilder {
    /// Restart intensity of every supervisor in the tree (default 3
    /// restarts in 5 s, as Elixir's): more restarts than `max_restarts`
    /// within `window` and a supervisor gives up and escalates. The worker
    /// pool allows at least one restart per worker.
    #[must_use]
    pub fn intensity(mut self, max_restarts: u32, window: Duration) -> Self {
        self.intensity = Intensity {
            max_restarts,
            window,
        };
        self
    }

    /// Bead workers: how many beads run at once.
    #[must_use]
    pub fn workers(mut self, workers: usize) -> Self {
        self.workers = workers.max(1);
        self
    }

    /// Add `count` workers labelled `label` (for tasks with
    /// `affinity = "label"`).
    #[must_use]
    pub fn labelled_workers(mut self, label: impl Into<String>, count: usize) -> Self {
        self.labelled.push((label.into(), count));
        self
    }

    /// How ready beads are ordered and workers chosen (default FIFO).
    #[must_use]
    pub fn distribution(mut self, distribution: Distribution) -> Self {
        self.distribution = distribution;
        self
    }

    /// Whether a task's affinity is a requirement (hard, the default) or a
    /// preference (soft).
    #[must_use]
    pub fn affinity(mut self, affinity: AffinityMode) -> Self {
        self.affinity = affinity;
        self
    }

    /// How often the state is checkpointed.
    #[must_use]
    pub fn checkpoint_every(mut self, every: Duration) -> Self {
        self.checkpoint_every = every;
        self
    }

    /// How often the reconciler looks for attempts whose worker died
    /// (default 1 s).
    #[must_use]
    pub fn reconcile_every(mut self, every: Duration) -> Self {
        self.reconcile_every = every;
        self
    }

    /// Workers running an attempt send a heartbeat `every`; an attempt
    /// without one for `timeout` is lost and run again (default 5 s / 30 s).
    #[must_use]
    pub fn heartbeat(mut self, every: Duration, timeout: Duration) -> Self {
        self.heartbeat = (every, timeout);
        self
    }

    /// The rate limiter's capacity per key and refill period (default 100
    /// per 1 s).
    #[must_use]
    pub fn rate_limits(mut self, limits: RateLimits) -> Self {
        self.rate_limits = limits;
        self
    }

    /// Run tasks with `handler = "name"` through `handler`.
    #[must_use]
    pub fn handler(mut self, name: impl Into<String>, handler: impl TaskHandler) -> Self {
        self.handlers.register(name, handler);
        self
    }

    /// Run `run = "..."` tasks through `handler` instead of the shell.
    #[must_use]
    pub fn shell(mut self, handler: impl TaskHandler) -> Self {
        self.handlers.set_shell(handler);
        self
    }

    /// The delay before retrying a failed bead, by failed attempts so far.
    #[must_use]
    pub fn retry_backoff(mut self, backoff: Backoff) -> Self {
        self.retry_backoff = backoff;
        self
    }

    /// Open the data directory (created if absent), recover, and start.
    ///
    /// # Errors
    /// The log's open errors; a tree that cannot start.
    pub async fn open(self) -> Result<Engine, ActorError> {
        let link = SchedulerLink::new();
        let rate_limiter = RateLimiter::new();
        let branch = WorkflowBranch {
            workers: self.workers,
            labelled: self.labelled,
            distribution: self.distribution,
            affinity: self.affinity,
            handlers: Arc::new(self.handlers),
            rate_limiter: rate_limiter.clone(),
            retry_backoff: self.retry_backoff,
            heartbeat_every: self.heartbeat.0,
            heartbeat_timeout: self.heartbeat.1,
            intensity: self.intensity,
        };
        let options = RuntimeOptions {
            checkpoint_every: self.checkpoint_every,
            branches: vec![
                workflow_branch(&branch),
                queue_branch(self.rate_limits, self.intensity),
                reconciler_branch(&link, self.reconcile_every, self.intensity),
            ],
            intensity: self.intensity,
            ..RuntimeOptions::default()
        };
        let runtime = Runtime::open(&self.dir, options).await?;
        let workflow = runtime.root().supervisor(names::WORKFLOW).await?;
        let scheduler = workflow.child::<SchedulerMsg>(names::SCHEDULER).await?;
        link.set(runtime.root().clone());
        rate_limiter.set(runtime.root().clone()).await?;
        Ok(Engine {
            runtime,
            scheduler,
            rate_limiter,
        })
    }
}

/// A running Strand engine on one data directory.
#[derive(Debug)]
pub struct Engine {
    runtime: Runtime,
    scheduler: ChildHandle<SchedulerMsg>,
    rate_limiter: RateLimiter,
}

impl Engine {
    /// An engine on `dir` with the defaults.
    ///
    /// # Errors
    /// As [`EngineBuilder::open`].
    pub async fn open(dir: impl AsRef<Path>) -> Result<Self, ActorError> {
        Self::builder(dir).open().await
    }

    /// A builder for an engine on `dir`.
    pub fn builder(dir: impl AsRef<Path>) -> EngineBuilder {
        let mut handlers = Handlers::new();
        handlers.set_shell(ShellHandler::default());
        EngineBuilder {
            dir: dir.as_ref().to_owned(),
            workers: 100,
            labelled: Vec::new(),
            distribution: Distribution::Fifo,
            affinity: AffinityMode::Hard,
            checkpoint_every: Duration::from_secs(60),
            reconcile_every: Duration::from_secs(1),
            heartbeat: (Duration::from_secs(5), Duration::from_secs(30)),
            rate_limits: RateLimits::default(),
            handlers,
            retry_backoff: WorkflowBranch::default().retry_backoff,
            intensity: Intensity::default(),
        }
    }

    /// Submit `workflow` under its name as id; a workflow of that id
    /// already in the log is resumed, not submitted again. Returns once the
    /// submission is durable.
    ///
    /// # Errors
    /// A refused submission; the log's errors.
    pub async fn submit(&self, workflow: &Workflow) -> Result<WorkflowId, ActorError> {
        let tasks = workflow
            .tasks()
            .iter()
            .map(|task| TaskSpec {
                id: task.id.clone(),
                action: match &task.action {
                    crate::workflow::TaskAction::Run(command) => TaskAction::Run(command.clone()),
                    crate::workflow::TaskAction::Handler(name) => TaskAction::Handler(name.clone()),
                },
                priority: task.priority,
                retries: task.retries,
                timeout_ms: task
                    .timeout
                    .map(|t| u64::try_from(t.as_millis()).unwrap_or(u64::MAX)),
                affinity: task.affinity.clone(),
            })
            .collect();
        self.submit_dag(
            WorkflowId::from(workflow.name()),
            workflow.name(),
            workflow.dag().clone(),
            tasks,
        )
        .await
    }

    /// Submit a workflow built in code: its DAG and one task spec per bead
    /// (checked against each other before anything is written). An id
    /// already in the log is resumed, not submitted again.
    ///
    /// # Errors
    /// A refused submission ([`ActorError::Projection`]); the log's errors.
    pub async fn submit_dag(
        &self,
        id: WorkflowId,
        name: &str,
        dag: WorkflowDag,
        tasks: Vec<TaskSpec>,
    ) -> Result<WorkflowId, ActorError> {
        let submission = Submission {
            workflow: id,
            name: name.to_owned(),
            dag,
            tasks,
        };
        self.scheduler
            .call(
                |reply| SchedulerMsg::Submit(Box::new(submission), reply),
                CALL_TIMEOUT,
            )
            .await?
    }

    /// Wait until the workflow is finished. A scheduler restarted meanwhile
    /// (its supervisor logs that first) is asked again: the new one rebuilt
    /// the workflow from the log.
    ///
    /// # Errors
    /// [`ActorError::UnknownWorkflow`]; the tree stopped.
    pub async fn wait(&self, workflow: &WorkflowId) -> Result<WorkflowOutcome, ActorError> {
        let mut log = self.runtime.store().watch_status();
        let mut scheduler = self.scheduler.clone();
        loop {
            let workflow = workflow.clone();
            match scheduler
                .call(|reply| SchedulerMsg::Wait(workflow, reply), Duration::MAX)
                .await
            {
                Err(ActorError::NotRunning { .. }) if self.runtime.is_running() => {
                    if log.changed().await.is_err() {
                        return Err(ActorError::NotRunning {
                            actor: names::SCHEDULER.to_owned(),
                        });
                    }
                    // The handle follows the scheduler's restarts, but not
                    // its supervisor's (a killed supervisor leaves its slots
                    // as they were): find the current one from the root.
                    if let Ok(fresh) = self.resolve_scheduler().await {
                        scheduler = fresh;
                    }
                }
                answer => return answer?,
            }
        }
    }

    /// The scheduler's handle, found from the root (after a restart of the
    /// workflow supervisor, the old handle points at the old one).
    async fn resolve_scheduler(&self) -> Result<ChildHandle<SchedulerMsg>, ActorError> {
        self.runtime
            .root()
            .supervisor(names::WORKFLOW)
            .await?
            .child::<SchedulerMsg>(names::SCHEDULER)
            .await
    }

    /// Submit (or resume) `workflow` and wait for its end.
    ///
    /// # Errors
    /// As [`Engine::submit`] and [`Engine::wait`].
    pub async fn run(&self, workflow: &Workflow) -> Result<WorkflowOutcome, ActorError> {
        let id = self.submit(workflow).await?;
        self.wait(&id).await
    }

    /// Every workflow in the log, from the state manager's projection.
    ///
    /// # Errors
    /// The state manager is not running.
    pub async fn status(&self) -> Result<Vec<WorkflowSummary>, ActorError> {
        self.runtime.state().query(StateManager::workflows).await
    }

    /// The rate limiter (the same one handlers get in their context).
    pub fn rate_limiter(&self) -> &RateLimiter {
        &self.rate_limiter
    }

    /// The supervision runtime (tree, state manager, event store).
    pub fn runtime(&self) -> &Runtime {
        &self.runtime
    }

    /// Stop in reverse start order (each stop logged), checkpoint, close
    /// the log last.
    ///
    /// # Errors
    /// The log's close errors.
    pub async fn shutdown(self) -> Result<(), ActorError> {
        self.runtime.shutdown().await
    }
}
