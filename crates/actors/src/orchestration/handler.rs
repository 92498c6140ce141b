//! [`TaskHandler`]: what runs a bead, registered by name, and the context
//! and error it works with.
//!
//! # The at-least-once contract
//!
//! A bead's attempt may run more than once: an attempt lost with the
//! process (or with a worker that went silent) is run again with the next
//! attempt number. Its outcome is recorded once, and a completed bead never
//! runs again. A handler with side effects makes them idempotent with
//! [`TaskContext::idempotency_key`], `run/bead`: the same for every attempt
//! of the bead, so a rerun after a crash finds the effect of the lost one.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use serde::Serialize;
use serde::de::DeserializeOwned;
use strand_projections::{BeadId, Output, RunId, TaskAction};
use tokio::sync::watch;

use crate::orchestration::rate_limiter::RateLimiter;

/// The largest output a bead may produce by default (1 MiB). An output over
/// the bound fails its attempt, permanently; nothing is cut silently.
pub const DEFAULT_MAX_OUTPUT_BYTES: usize = 1024 * 1024;

/// How much of an attempt's log (a shell task's stderr) is kept: the tail.
pub const DEFAULT_LOG_TAIL_BYTES: usize = 4096;

/// The outputs of a bead's blocking dependencies, sorted by bead id.
pub type DependencyOutputs = Arc<[(BeadId, Arc<Output>)]>;

/// What a handler is told about the attempt it runs.
#[derive(Clone, Debug)]
pub struct TaskContext {
    /// The engine's rate limiter (per-key token buckets), for handlers
    /// that call something that must not be called too often.
    pub rate_limiter: RateLimiter,
    /// The run.
    pub run: RunId,
    /// The bead.
    pub bead: BeadId,
    /// The attempt, from 1. A bead lost with the process runs again with
    /// the next attempt: execution is at least once.
    pub attempt: u32,
    /// `run/bead`: the same for every attempt of this bead, for handlers
    /// that make side effects idempotent (see the module's contract).
    pub idempotency_key: String,
    /// What the task asked for (a shell command or a handler name).
    pub action: TaskAction,
    /// The attempt's time limit, if any (the worker enforces it).
    pub timeout: Option<Duration>,
    /// The run's input: a JSON object, as text.
    pub input: Arc<str>,
    /// The outputs of the bead's blocking dependencies.
    pub dependencies: DependencyOutputs,
    /// The largest output this attempt may return.
    pub max_output_bytes: usize,
    /// The attempt's log: what is written here is kept (its tail) with the
    /// outcome, for status and errors.
    pub log: LogTail,
    /// Fires when an operator cancels the run: the handler may stop
    /// early; the worker drops the attempt after a grace period.
    pub cancel: CancelSignal,
}

impl TaskContext {
    /// The run's input, deserialized.
    ///
    /// # Errors
    ///
    /// A permanent [`TaskError`] when the input does not have `T`'s shape.
    pub fn input<T: DeserializeOwned>(&self) -> Result<T, TaskError> {
        serde_json::from_str(&self.input).map_err(|error| {
            TaskError::permanent(format!(
                "the run's input is not what the task expects: {error}"
            ))
        })
    }

    /// The output of the dependency `bead`, if it is a blocking dependency
    /// of this bead (every one has completed by the time this runs).
    pub fn output_of(&self, bead: &str) -> Option<&Output> {
        self.dependencies
            .binary_search_by(|(id, _)| id.as_str().cmp(bead))
            .ok()
            .and_then(|at| self.dependencies.get(at))
            .map(|(_, output)| output.as_ref())
    }

    /// The output of the dependency `bead`, deserialized from JSON.
    ///
    /// # Errors
    ///
    /// A permanent [`TaskError`] when `bead` is not a blocking dependency
    /// or its output is not `T` as JSON.
    pub fn output_of_json<T: DeserializeOwned>(&self, bead: &str) -> Result<T, TaskError> {
        let output = self.output_of(bead).ok_or_else(|| {
            TaskError::permanent(format!("`{bead}` is not a dependency of `{}`", self.bead))
        })?;
        serde_json::from_slice(&output.bytes).map_err(|error| {
            TaskError::permanent(format!(
                "the output of `{bead}` is not the JSON expected: {error}"
            ))
        })
    }
}

/// The receiving side of an attempt's cancellation.
#[derive(Clone, Debug)]
pub struct CancelSignal(watch::Receiver<bool>);

/// The sending side of an attempt's cancellation, held by the scheduler.
#[derive(Debug)]
pub struct CancelHandle(watch::Sender<bool>);

/// A linked handle and signal, not fired.
pub fn cancel_pair() -> (CancelHandle, CancelSignal) {
    let (sender, receiver) = watch::channel(false);
    (CancelHandle(sender), CancelSignal(receiver))
}

impl CancelHandle {
    /// Fire the signal (once is enough; again does nothing).
    pub fn cancel(&self) {
        self.0.send_replace(true);
    }
}

impl CancelSignal {
    /// A signal that never fires.
    pub fn never() -> Self {
        let (handle, signal) = cancel_pair();
        // Dropping the handle leaves the value `false` for good.
        drop(handle);
        signal
    }

    /// Whether the attempt was cancelled.
    pub fn is_cancelled(&self) -> bool {
        *self.0.borrow()
    }

    /// Completes when the attempt is cancelled (never, if it is not).
    pub async fn cancelled(&self) {
        let mut receiver = self.0.clone();
        if receiver.wait_for(|cancelled| *cancelled).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// The tail of an attempt's log, bounded; shared by the attempt and the
/// worker that reports it.
#[derive(Clone, Debug, Default)]
pub struct LogTail {
    inner: Arc<Mutex<Vec<u8>>>,
}

impl LogTail {
    /// Append `bytes`, keeping only the last [`DEFAULT_LOG_TAIL_BYTES`].
    pub fn write(&self, bytes: &[u8]) {
        let Ok(mut tail) = self.inner.lock() else {
            return;
        };
        tail.extend_from_slice(bytes);
        let excess = tail.len().saturating_sub(DEFAULT_LOG_TAIL_BYTES);
        if excess > 0 {
            tail.drain(..excess);
        }
    }

    /// What is kept, as text (cut at a character boundary).
    pub fn text(&self) -> String {
        let Ok(tail) = self.inner.lock() else {
            return String::new();
        };
        let text = String::from_utf8_lossy(&tail);
        text.trim_start_matches('\u{fffd}').to_owned()
    }
}

/// A failed attempt.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct TaskError {
    /// What went wrong (recorded in the log).
    pub message: String,
    /// Whether another attempt may succeed.
    pub retryable: bool,
}

impl TaskError {
    /// A failure worth retrying.
    pub fn retryable(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            retryable: true,
        }
    }

    /// A failure no retry will fix.
    pub fn permanent(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            retryable: false,
        }
    }
}

/// The outcome of one attempt: its output (recorded in the log and handed
/// to its dependents) or error.
pub type TaskResult<T = Output> = Result<T, TaskError>;

/// What a handler may return as its output.
pub trait IntoOutput: Send + 'static {
    /// The output.
    ///
    /// # Errors
    ///
    /// A value that cannot be encoded (a permanent failure).
    fn into_output(self) -> Result<Output, TaskError>;
}

impl IntoOutput for Output {
    fn into_output(self) -> Result<Output, TaskError> {
        Ok(self)
    }
}

impl IntoOutput for String {
    fn into_output(self) -> Result<Output, TaskError> {
        Ok(Output::text(self))
    }
}

impl IntoOutput for &'static str {
    fn into_output(self) -> Result<Output, TaskError> {
        Ok(Output::text(self))
    }
}

impl IntoOutput for Vec<u8> {
    fn into_output(self) -> Result<Output, TaskError> {
        Ok(Output::bytes(self))
    }
}

/// No output (an empty one).
impl IntoOutput for () {
    fn into_output(self) -> Result<Output, TaskError> {
        Ok(Output::bytes(Vec::new()))
    }
}

/// Any `Serialize` value, as a JSON output: `Ok(Json(value))`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Json<T>(pub T);

impl<T: Serialize + Send + 'static> IntoOutput for Json<T> {
    fn into_output(self) -> Result<Output, TaskError> {
        Output::json(&self.0).map_err(|error| {
            TaskError::permanent(format!("the output does not encode as JSON: {error}"))
        })
    }
}

/// Runs beads. Any `Fn(TaskContext) -> impl Future<Output = TaskResult<O>>`
/// is one, for any `O: IntoOutput` (text, bytes, [`Output`], [`Json`]).
pub trait TaskHandler: Send + Sync + 'static {
    /// Run one attempt.
    fn run(&self, context: TaskContext) -> BoxFuture<'static, TaskResult>;
}

impl<F, Fut, O> TaskHandler for F
where
    F: Fn(TaskContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = TaskResult<O>> + Send + 'static,
    O: IntoOutput,
{
    fn run(&self, context: TaskContext) -> BoxFuture<'static, TaskResult> {
        let attempt = self(context);
        Box::pin(async move { attempt.await.and_then(IntoOutput::into_output) })
    }
}

/// The handlers an engine knows: by name for `handler = "..."` tasks, and
/// one for `run = "..."` (shell) tasks.
#[derive(Clone, Default)]
pub struct Handlers {
    by_name: HashMap<String, Arc<dyn TaskHandler>>,
    shell: Option<Arc<dyn TaskHandler>>,
}

impl std::fmt::Debug for Handlers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<&String> = self.by_name.keys().collect();
        names.sort();
        f.debug_struct("Handlers")
            .field("by_name", &names)
            .field("shell", &self.shell.is_some())
            .finish()
    }
}

impl Handlers {
    /// No handlers.
    pub fn new() -> Self {
        Self::default()
    }

    /// Register `handler` for tasks with `handler = "name"` (replacing any).
    pub fn register(&mut self, name: impl Into<String>, handler: impl TaskHandler) {
        self.by_name.insert(name.into(), Arc::new(handler));
    }

    /// Run `run = "..."` tasks with `handler`.
    pub fn set_shell(&mut self, handler: impl TaskHandler) {
        self.shell = Some(Arc::new(handler));
    }

    /// The handler for `action`, if one is registered.
    pub fn resolve(&self, action: &TaskAction) -> Option<Arc<dyn TaskHandler>> {
        match action {
            TaskAction::Run(_) => self.shell.clone(),
            TaskAction::Handler(name) => self.by_name.get(name).cloned(),
        }
    }
}
