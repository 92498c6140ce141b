//! [`TaskHandler`]: what runs a bead, registered by name, and the context
//! and error it works with.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use strand_projections::{BeadId, TaskAction, WorkflowId};

use crate::orchestration::rate_limiter::RateLimiter;

/// What a handler is told about the attempt it runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskContext {
    /// The engine's rate limiter (per-key token buckets), for handlers
    /// that call something that must not be called too often.
    pub rate_limiter: RateLimiter,
    /// The workflow.
    pub workflow: WorkflowId,
    /// The bead.
    pub bead: BeadId,
    /// The attempt, from 1. A bead lost with the process runs again with
    /// the next attempt: execution is at least once.
    pub attempt: u32,
    /// `workflow/bead/attempt`: stable across redelivery of this attempt,
    /// for handlers that make side effects idempotent.
    pub idempotency_key: String,
    /// What the task asked for (a shell command or a handler name).
    pub action: TaskAction,
    /// The attempt's time limit, if any (the worker enforces it).
    pub timeout: Option<Duration>,
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

/// The outcome of one attempt: its output (recorded in the log) or error.
pub type TaskResult = Result<String, TaskError>;

/// Runs beads. Any `Fn(TaskContext) -> impl Future<Output = TaskResult>`
/// is one.
pub trait TaskHandler: Send + Sync + 'static {
    /// Run one attempt.
    fn run(&self, context: TaskContext) -> BoxFuture<'static, TaskResult>;
}

impl<F, Fut> TaskHandler for F
where
    F: Fn(TaskContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = TaskResult> + Send + 'static,
{
    fn run(&self, context: TaskContext) -> BoxFuture<'static, TaskResult> {
        Box::pin(self(context))
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
