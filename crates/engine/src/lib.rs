//! Strand's engine: [`Engine`], workflow files ([`workflow`]), what an
//! operator sees of runs ([`views`]), controls on a log no engine holds
//! ([`controls`], [`detached`]). It knows no HTTP and no CLI: the server
//! crate and the `strand` binary sit on it.
//!
//! [`Engine`]: Strand embedded in a program. Open it on a data directory,
//! register task handlers, start runs of workflows; kill the process at any
//! moment, open it again, and unfinished runs resume where the log left them.
//!
//! A workflow (a file, or a DAG built in code) is a definition; each
//! [`Engine::start`] is a new run of it, with its own id, input, state and
//! history. A handler reads the run's input and its dependencies' outputs
//! from its [`TaskContext`](strand_actors::orchestration::TaskContext), and
//! what it returns is its own output, handed to its dependents.
//!
//! ```
//! # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use strand_engine::Engine;
//! use strand_engine::workflow::Workflow;
//! use strand_actors::orchestration::{TaskContext, TaskResult};
//!
//! let dir = tempfile::tempdir()?;
//! let engine = Engine::builder(dir.path())
//!     .workers(4)
//!     .handler("greet", |cx: TaskContext| async move {
//!         let before = cx.output_of("a").and_then(|o| o.as_text()).unwrap_or("nobody");
//!         TaskResult::Ok(format!("hello from {}, after {before}", cx.bead.as_str()))
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
//! let b = engine.output(&outcome.run, "b").await?.expect("b completed");
//! assert_eq!(b.as_text(), Some("hello from b, after hello from a, after nobody"));
//! engine.shutdown().await?;
//! # Ok(())
//! # }
//! ```

use std::path::Path;
use std::time::Duration;

use strand_actors::orchestration::{
    RateLimiter, Reuse, RunControl, RunOutcome, SchedulerMsg, Started, Submission, names,
};
use strand_actors::{ActorError, ChildHandle, Runtime};
use strand_projections::{
    BeadId, DefinitionHash, Output, RunEntry, RunId, RunRecord, RunSettings, RunSummary,
    StateManager, TaskSpec, WorkflowDag,
};

use crate::workflow::Workflow;

mod builder;
pub mod controls;
pub mod detached;
mod feed;
pub mod metrics;
mod submission;
pub mod trimming;
pub mod views;
pub mod workflow;

pub use builder::EngineBuilder;
pub use feed::FedEvent;
pub use submission::{DEFAULT_MAX_INPUT_BYTES, RunInput, definition_hash, fresh_run_id};
pub(crate) use submission::{FRESH_ID_TRIES, bounded, input_text, submission};

/// How long a submission or a status query may take (a wait has no limit).
const CALL_TIMEOUT: Duration = Duration::from_secs(60);

/// A running Strand engine on one data directory.
#[derive(Debug)]
pub struct Engine {
    dir: std::path::PathBuf,
    opened: std::time::Instant,
    runtime: Runtime,
    scheduler: ChildHandle<SchedulerMsg>,
    rate_limiter: RateLimiter,
    max_input_bytes: usize,
    trimmer: std::sync::Arc<trimming::Trimmer>,
    /// The scheduled trims, if the engine trims on its own.
    trim_task: Option<trimming::TrimTask>,
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
        EngineBuilder::new(dir.as_ref())
    }

    /// Start a new run of `workflow` with `input` (overlaying the file's
    /// `[input]` defaults), under a fresh id. Returns once the submission
    /// is durable.
    ///
    /// # Errors
    /// [`ActorError::BadInput`] (input over the bound),
    /// [`ActorError::UnsatisfiableAffinity`]; a refused submission; the
    /// log's errors.
    pub async fn start(&self, workflow: &Workflow, input: RunInput) -> Result<RunId, ActorError> {
        let mut tries = 0;
        loop {
            let id = fresh_run_id(workflow.name());
            match self.submit_file(workflow, id, &input, Reuse::New).await {
                Err(ActorError::RunExists { .. }) if tries < FRESH_ID_TRIES => tries += 1,
                started => return Ok(started?.run),
            }
        }
    }

    /// The run `id` of `workflow` with `input`, idempotently: started if
    /// the log has no such run, found again (resumed, or finished) if it
    /// has one with the same definition and input.
    ///
    /// # Errors
    /// [`ActorError::RunConflict`] when run `id` has another definition or
    /// input (nothing is written); as [`Engine::start`].
    pub async fn start_with_id(
        &self,
        workflow: &Workflow,
        id: RunId,
        input: RunInput,
    ) -> Result<Started, ActorError> {
        self.submit_file(workflow, id, &input, Reuse::Exact).await
    }

    /// The unfinished run of `workflow`'s name, resumed, or else a new
    /// run with `input` under a fresh id: what `strand run FILE` does
    /// without `--id`, so that killing it and running it again resumes.
    ///
    /// # Errors
    /// [`ActorError::DefinitionChanged`] when the unfinished run has
    /// another definition (nothing is written); as [`Engine::start`].
    pub async fn resume_or_start(
        &self,
        workflow: &Workflow,
        input: RunInput,
    ) -> Result<Started, ActorError> {
        let id = fresh_run_id(workflow.name());
        self.submit_file(workflow, id, &input, Reuse::ResumeUnfinished)
            .await
    }

    /// [`resume_or_start`](Self::resume_or_start) with no input: returns
    /// the run's id.
    ///
    /// # Errors
    /// As [`Engine::resume_or_start`].
    pub async fn submit(&self, workflow: &Workflow) -> Result<RunId, ActorError> {
        Ok(self.resume_or_start(workflow, RunInput::new()).await?.run)
    }

    async fn submit_file(
        &self,
        workflow: &Workflow,
        id: RunId,
        input: &RunInput,
        reuse: Reuse,
    ) -> Result<Started, ActorError> {
        let input = input_text(workflow, input, self.max_input_bytes)?;
        self.send(submission(workflow, id, input, reuse)).await
    }

    /// Submit a workflow built in code: its DAG and one task spec per bead
    /// (checked against each other before anything is written), as run
    /// `id` with no input. Idempotent: a run `id` with the same definition
    /// is found again (resumed if unfinished); another definition under
    /// `id` is refused.
    ///
    /// # Errors
    /// [`ActorError::RunConflict`]; a refused submission
    /// ([`ActorError::Projection`]); the log's errors.
    pub async fn submit_dag(
        &self,
        id: RunId,
        name: &str,
        dag: WorkflowDag,
        tasks: Vec<TaskSpec>,
    ) -> Result<RunId, ActorError> {
        self.submit_dag_with_input(id, name, dag, tasks, RunInput::new())
            .await
            .map(|started| started.run)
    }

    /// As [`submit_dag`](Self::submit_dag), with an input.
    ///
    /// # Errors
    /// As [`Engine::submit_dag`]; [`ActorError::BadInput`].
    pub async fn submit_dag_with_input(
        &self,
        id: RunId,
        name: &str,
        dag: WorkflowDag,
        tasks: Vec<TaskSpec>,
        input: RunInput,
    ) -> Result<Started, ActorError> {
        let submission = Submission {
            run: id,
            name: name.to_owned(),
            definition: DefinitionHash::of(name, &dag, &tasks),
            dag,
            tasks,
            input: bounded(&input, self.max_input_bytes)?,
            settings: RunSettings::default(),
            reuse: Reuse::Exact,
        };
        self.send(submission).await
    }

    async fn send(&self, submission: Submission) -> Result<Started, ActorError> {
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
    pub async fn wait(&self, workflow: &RunId) -> Result<RunOutcome, ActorError> {
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
    pub async fn run(&self, workflow: &Workflow) -> Result<RunOutcome, ActorError> {
        let id = self.submit(workflow).await?;
        self.wait(&id).await
    }

    /// Apply an operator's control to a run (see [`RunControl`]); returns
    /// once its events are durable, with how many it wrote. Idempotent: a
    /// control applied already writes nothing (0).
    ///
    /// # Errors
    /// [`ActorError::UnknownWorkflow`], [`ActorError::UnknownBead`],
    /// [`ActorError::ControlRefused`] (nothing written); the log's errors.
    pub async fn control(&self, run: &RunId, control: RunControl) -> Result<usize, ActorError> {
        let run = run.clone();
        self.scheduler
            .call(
                |reply| SchedulerMsg::Control(run, control, reply),
                CALL_TIMEOUT,
            )
            .await?
    }

    /// Cancel `run`: nothing new starts, running attempts are cancelled
    /// (shell tasks get SIGTERM, then SIGKILL), the beads that did not
    /// complete and the run end `cancelled`.
    ///
    /// # Errors
    /// As [`Engine::control`].
    pub async fn cancel(&self, run: &RunId, reason: impl Into<String>) -> Result<(), ActorError> {
        let reason = reason.into();
        self.control(run, RunControl::Cancel { reason })
            .await
            .map(|_| ())
    }

    /// Pause `run`: nothing more of it is dispatched; running attempts
    /// finish and are recorded.
    ///
    /// # Errors
    /// As [`Engine::control`].
    pub async fn pause(&self, run: &RunId) -> Result<(), ActorError> {
        let reason = "paused by an operator".to_owned();
        self.control(run, RunControl::Pause { reason })
            .await
            .map(|_| ())
    }

    /// Resume a paused `run`.
    ///
    /// # Errors
    /// As [`Engine::control`].
    pub async fn resume(&self, run: &RunId) -> Result<(), ActorError> {
        self.control(run, RunControl::Resume).await.map(|_| ())
    }

    /// Have a failed or cancelled `run` continue: `beads` (every bead not
    /// completed, when empty) and their descendants run again with a fresh
    /// retry budget; completed beads keep their outputs.
    ///
    /// # Errors
    /// As [`Engine::control`].
    pub async fn retry(&self, run: &RunId, beads: &[BeadId]) -> Result<(), ActorError> {
        let beads = beads.to_vec();
        self.control(run, RunControl::Retry { beads })
            .await
            .map(|_| ())
    }

    /// Expire every finished run past the engine's retention now (the
    /// engine also does so on its own, every `retention_every`); returns
    /// how many left, once their `RunExpired` events are durable.
    ///
    /// # Errors
    /// The scheduler is not running; the log's errors.
    pub async fn expire(&self) -> Result<usize, ActorError> {
        self.scheduler
            .call(SchedulerMsg::Expire, CALL_TIMEOUT)
            .await?
    }

    /// Trim the log's front now, as far as nothing still needs it (the
    /// engine also does so on its own, every [`TrimSchedule::every`]):
    /// the records before the oldest run the state holds, older than
    /// [`TrimSchedule::keep_recent`] and behind every durable actor's
    /// newest checkpoint are archived (unless [`ArchiveTo::Nowhere`]) and
    /// removed behind a base checkpoint. Appends go on meanwhile.
    ///
    /// [`TrimSchedule::every`]: trimming::TrimSchedule::every
    /// [`TrimSchedule::keep_recent`]: trimming::TrimSchedule::keep_recent
    /// [`ArchiveTo::Nowhere`]: trimming::ArchiveTo::Nowhere
    ///
    /// # Errors
    /// The state manager does not answer; the log's errors (nothing is
    /// removed then).
    pub async fn trim(&self) -> Result<trimming::Trimmed, ActorError> {
        self.trimmer.trim().await
    }

    /// The engine's last trim that removed records (scheduled or asked
    /// for), as it changes.
    pub fn watch_trims(&self) -> tokio::sync::watch::Receiver<Option<trimming::Trimmed>> {
        self.trimmer.watch()
    }

    /// One run's record (beads, attempts, outputs), with every event
    /// durable at the call applied: from the state manager's projection
    /// while it holds the run whole, else (a completed run) folded again
    /// from the run's stream of the log.
    ///
    /// # Errors
    /// The state manager is not running; the log's read errors.
    pub async fn run_record(&self, run: &RunId) -> Result<Option<RunRecord>, ActorError> {
        self.with_run(run, |record, _| record.clone()).await
    }

    /// `read` of one run's record and the seq it reflects, `None` for an
    /// unknown run. A run the state manager holds whole is read in place
    /// (keep `read` short, and return only what is needed); a completed
    /// run's record is folded from its stream first, then read here.
    ///
    /// # Errors
    /// The state manager is not running; the log's read errors.
    pub async fn with_run<R: Send + 'static>(
        &self,
        run: &RunId,
        read: impl FnOnce(&RunRecord, u64) -> R + Send + 'static,
    ) -> Result<Option<R>, ActorError> {
        /// What the state manager found: the answer, or the reader handed
        /// back for a run it keeps only the summary of.
        enum Found<R, F> {
            Unknown,
            Read(R),
            Summarized(F, u64),
        }
        let id = run.clone();
        let found = self
            .query(move |state, seq| match state.run(&id) {
                None => Found::Unknown,
                Some(RunEntry::Whole(record)) => Found::Read(read(record, seq)),
                Some(RunEntry::Summary(_)) => Found::Summarized(read, seq),
            })
            .await?;
        match found {
            Found::Unknown => Ok(None),
            Found::Read(answer) => Ok(Some(answer)),
            Found::Summarized(read, seq) => {
                let record = strand_actors::read_run_history(self.runtime.store(), run).await?;
                Ok(record.map(|record| read(&record, seq)))
            }
        }
    }

    /// The output of `bead` of `run`, once it completed.
    ///
    /// # Errors
    /// [`ActorError::UnknownWorkflow`] for an unknown run; the state
    /// manager is not running.
    pub async fn output(&self, run: &RunId, bead: &str) -> Result<Option<Output>, ActorError> {
        let bead = BeadId::from(bead);
        // The output is shared (an `Arc`): only it leaves the state
        // manager, not the run's record.
        let found = self
            .with_run(run, move |record, _| {
                record.bead(&bead).and_then(|b| b.output.clone())
            })
            .await?;
        let output = found.ok_or_else(|| ActorError::UnknownWorkflow {
            workflow: run.as_str().to_owned(),
        })?;
        Ok(output.map(|o| Output::clone(&o)))
    }

    /// Read your writes: the state manager follows the log, so a query is
    /// answered once it applied everything durable at the call (that seq).
    async fn caught_up(&self) -> Result<u64, ActorError> {
        let durable = self.runtime.store().log().last_seq();
        self.runtime.state().wait_applied(durable).await?;
        Ok(durable.get())
    }

    /// Ask the state manager's projection anything, with every event
    /// durable at the call applied: `query` gets the projection and that
    /// seq. It runs inside the state manager, so keep it short and return
    /// only what is needed (the documents of [`crate::views`]).
    ///
    /// # Errors
    /// The state manager is not running.
    pub async fn query<R: Send + 'static>(
        &self,
        query: impl FnOnce(&StateManager, u64) -> R + Send + 'static,
    ) -> Result<R, ActorError> {
        let durable = self.runtime.store().log().last_seq();
        self.runtime
            .state()
            .query_after(durable, move |state: &StateManager| {
                query(state, durable.get())
            })
            .await
    }

    /// Every run in the log, from the state manager's projection.
    ///
    /// # Errors
    /// The state manager is not running.
    pub async fn status(&self) -> Result<Vec<RunSummary>, ActorError> {
        self.caught_up().await?;
        self.runtime.state().query(StateManager::workflows).await
    }

    /// The engine as an operator sees it: the supervision tree, the
    /// workers, the log's counters, the last checkpoint.
    ///
    /// # Errors
    /// The state manager is not running.
    pub async fn engine_view(&self) -> Result<views::EngineView, ActorError> {
        let log = self.runtime.store().log();
        let counters = views::LogView::of(log.stats(), log.last_seq().get(), log.queued());
        let uptime_ms = u64::try_from(self.opened.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.query(move |state, seq| views::EngineView::of(state, seq, uptime_ms, counters))
            .await
    }

    /// The data directory the engine holds.
    pub fn data_dir(&self) -> &Path {
        &self.dir
    }

    /// The rate limiter (the same one handlers get in their context).
    pub fn rate_limiter(&self) -> &RateLimiter {
        &self.rate_limiter
    }

    /// The supervision runtime (tree, state manager, event store).
    pub fn runtime(&self) -> &Runtime {
        &self.runtime
    }

    /// Start no more attempts and wait, up to `grace`, for those running
    /// to finish and their outcomes to be recorded: the first step of a
    /// graceful stop. True when none is left running; those still running
    /// after `grace` run again on the next start (execution is at least
    /// once). The runs themselves are not changed: nothing is written.
    ///
    /// # Errors
    /// The scheduler is not running.
    pub async fn drain(&self, grace: Duration) -> Result<bool, ActorError> {
        match self.scheduler.call(SchedulerMsg::Drain, grace).await {
            Ok(()) => Ok(true),
            Err(ActorError::Timeout { .. }) => Ok(false),
            Err(error) => Err(error),
        }
    }

    /// Stop in reverse start order (each stop logged), checkpoint, close
    /// the log last.
    ///
    /// # Errors
    /// The log's close errors.
    pub async fn shutdown(self) -> Result<(), ActorError> {
        // A trim under way finishes before the log closes.
        if let Some(task) = self.trim_task {
            task.stop().await;
        }
        self.runtime.shutdown().await
    }
}
