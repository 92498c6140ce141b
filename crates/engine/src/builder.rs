//! [`EngineBuilder`]: how an [`Engine`] is set up (workers, handlers,
//! policies) and opened, and the read-only precheck of a submission before
//! it opens.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use strand_actors::orchestration::{
    AffinityMode, DEFAULT_MAX_OUTPUT_BYTES, Distribution, Handlers, RateLimiter, RateLimits, Reuse,
    SchedulerLink, SchedulerMsg, ShellHandler, TaskHandler, WorkflowBranch, admission, names,
    queue_branch, reconciler_branch, workflow_branch,
};
use strand_actors::policy::{Backoff, Intensity};
use strand_actors::{ActorError, Runtime, RuntimeOptions};
use strand_projections::{RetentionPolicy, RunId, StateManager};

use strand_eventlog::{EventLog, LogOptions};
use strand_replay::ReplayEngine;

use crate::trimming::{TrimSchedule, TrimTask, Trimmer};
use crate::workflow::Workflow;

use crate::{DEFAULT_MAX_INPUT_BYTES, Engine, RunInput, fresh_run_id, input_text, submission};

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
    max_output_bytes: usize,
    max_input_bytes: usize,
    retention: RetentionPolicy,
    retention_every: Duration,
    trimming: TrimSchedule,
    log: LogOptions,
    /// This engine's directory of shell attempts' files.
    attempts: PathBuf,
}

/// Where shell attempts keep their files: `DATA/attempts/<this engine>`.
/// One directory per engine opened, so that the stale ones (of a process
/// that was killed) can be told apart and removed once the log is ours.
fn attempts_dir(data: &Path) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    data.join(ATTEMPTS)
        .join(format!("{}-{nanos}", std::process::id()))
}

/// The data directory's subdirectory of shell attempts.
const ATTEMPTS: &str = "attempts";

/// Remove every attempt directory but `ours`: with the log's lock held, no
/// other engine uses this data directory, so they are what a killed
/// process left behind. Failures only cost disk space: logged, not fatal.
fn remove_stale_attempts(data: &Path, ours: &Path) {
    let Ok(entries) = std::fs::read_dir(data.join(ATTEMPTS)) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path != ours
            && let Err(error) = std::fs::remove_dir_all(&path)
        {
            tracing::warn!(path = %path.display(), %error, "cannot remove a stale attempt directory");
        }
    }
}

impl EngineBuilder {
    /// The defaults, on `dir`.
    pub(crate) fn new(dir: &Path) -> Self {
        let attempts = attempts_dir(dir);
        let mut handlers = Handlers::new();
        handlers.set_shell(ShellHandler::in_dir(&attempts));
        EngineBuilder {
            dir: dir.to_owned(),
            attempts,
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
            max_output_bytes: DEFAULT_MAX_OUTPUT_BYTES,
            max_input_bytes: DEFAULT_MAX_INPUT_BYTES,
            retention: RetentionPolicy::default(),
            retention_every: Duration::from_secs(60),
            trimming: TrimSchedule::default(),
            log: LogOptions::default(),
        }
    }

    /// How long finished runs stay (default: forever). Past it, a run
    /// leaves the state (its `RunExpired` is appended first); its events
    /// stay in the log until a trim removes them.
    #[must_use]
    pub fn retention(mut self, policy: RetentionPolicy) -> Self {
        self.retention = policy;
        self
    }

    /// How often runs past retention are expired (default 60 s).
    #[must_use]
    pub fn retention_every(mut self, every: Duration) -> Self {
        self.retention_every = every;
        self
    }

    /// When the engine trims its log's front on its own, how much recent
    /// history it keeps and where it archives what it removes (default:
    /// never on its own; [`Engine::trim`] on demand, archived under
    /// `DATA/archive/`, nothing younger than an hour).
    #[must_use]
    pub fn trimming(mut self, schedule: TrimSchedule) -> Self {
        self.trimming = schedule;
        self
    }

    /// How the log is opened and how its writer batches (default
    /// [`LogOptions::default`]). A trim goes no further than the stream
    /// index is written out, every [`LogOptions::index_flush_events`].
    #[must_use]
    pub fn log_options(mut self, options: LogOptions) -> Self {
        self.log = options;
        self
    }

    /// The largest output a bead may produce (default 1 MiB); a larger one
    /// fails its attempt, permanently.
    #[must_use]
    pub fn max_output_bytes(mut self, bytes: usize) -> Self {
        self.max_output_bytes = bytes;
        self
    }

    /// The largest run input, as JSON text (default 1 MiB); a larger one
    /// is refused.
    #[must_use]
    pub fn max_input_bytes(mut self, bytes: usize) -> Self {
        self.max_input_bytes = bytes;
        self
    }

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

    /// Whether a run of `workflow` (under `id`, or, without one, resuming
    /// the unfinished run of its name) with `input` would be accepted by
    /// the engine this builder opens, checked against the log at the data
    /// directory before the engine opens, so that a refusal writes nothing
    /// at all. Reads the log (a replay): blocking; call it off the async
    /// workers. The engine applies the same rules when the run is
    /// submitted.
    ///
    /// # Errors
    /// [`ActorError::BadInput`], [`ActorError::UnsatisfiableAffinity`],
    /// [`ActorError::RunConflict`], [`ActorError::DefinitionChanged`].
    pub fn precheck(
        &self,
        workflow: &Workflow,
        id: Option<&RunId>,
        input: &RunInput,
    ) -> Result<(), ActorError> {
        let reuse = if id.is_some() {
            Reuse::Exact
        } else {
            Reuse::ResumeUnfinished
        };
        let id = id.cloned().unwrap_or_else(|| fresh_run_id(workflow.name()));
        let input = input_text(workflow, input, self.max_input_bytes)?;
        let submission = submission(workflow, id, input, reuse);
        let labelled: Vec<(String, Vec<String>)> = self
            .labelled
            .iter()
            .filter(|(_, count)| *count > 0)
            .map(|(label, _)| (label.clone(), vec![label.clone()]))
            .collect();
        admission::check_affinity(&submission.tasks, &labelled, self.affinity)?;
        // No log yet: no run to conflict with. A log that cannot be read is
        // left to the engine's open, which reports it with its own diagnosis
        // (a directory that is not writable, another format, a bad record).
        let Ok(log) = EventLog::open_read_only(&self.dir) else {
            return Ok(());
        };
        let Ok(replayed) = ReplayEngine::new(log).rebuild::<StateManager>(&mut |_| {}) else {
            return Ok(());
        };
        admission::existing(&replayed.projection, &submission).map(|_| ())
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
            max_output_bytes: self.max_output_bytes,
            retention: self.retention,
            retention_every: self.retention_every,
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
            log: self.log,
            ..RuntimeOptions::default()
        };
        let runtime = Runtime::open(&self.dir, options).await?;
        let (data, ours) = (self.dir.clone(), self.attempts.clone());
        // Blocking file system calls, off the async workers; awaited so that
        // a caller sees a clean directory once `open` returns.
        if let Err(error) =
            tokio::task::spawn_blocking(move || remove_stale_attempts(&data, &ours)).await
        {
            tracing::warn!(%error, "the removal of stale attempt directories did not finish");
        }
        let workflow = runtime.root().supervisor(names::WORKFLOW).await?;
        let scheduler = workflow.child::<SchedulerMsg>(names::SCHEDULER).await?;
        link.set(runtime.root().clone());
        rate_limiter.set(runtime.root().clone()).await?;
        let trimmer = Arc::new(Trimmer::new(
            runtime.store().clone(),
            runtime.state().clone(),
            Arc::clone(&runtime.context().clock),
            &self.trimming,
            &self.dir,
        ));
        let trim_task = self
            .trimming
            .every
            .map(|every| TrimTask::start(Arc::clone(&trimmer), every));
        Ok(Engine {
            trimmer,
            trim_task,
            runtime,
            scheduler,
            rate_limiter,
            max_input_bytes: self.max_input_bytes,
            dir: self.dir,
            opened: std::time::Instant::now(),
        })
    }
}
