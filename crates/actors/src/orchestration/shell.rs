//! [`ShellHandler`]: runs a task's `run = "..."` command with `sh -c`.

use std::process::Stdio;

use futures::future::BoxFuture;
use strand_projections::TaskAction;

use crate::orchestration::handler::{TaskContext, TaskError, TaskHandler, TaskResult};

/// Bytes of output kept by default: the tail, where errors usually are.
pub const DEFAULT_TAIL_BYTES: usize = 4096;

/// Runs shell commands. The exit status decides the outcome; the tail of
/// stdout and stderr is the output (or the error) recorded in the log. The
/// child is killed when the attempt is dropped (its timeout ran out).
#[derive(Clone, Copy, Debug)]
pub struct ShellHandler {
    /// Output bytes kept, from the end.
    pub tail_bytes: usize,
}

impl Default for ShellHandler {
    fn default() -> Self {
        Self {
            tail_bytes: DEFAULT_TAIL_BYTES,
        }
    }
}

/// The last `max` bytes of `bytes` as text (cut at a character boundary).
fn tail(bytes: &[u8], max: usize) -> String {
    let start = bytes.len().saturating_sub(max);
    let text = String::from_utf8_lossy(bytes.get(start..).unwrap_or_default());
    text.trim_start_matches('\u{fffd}').to_owned()
}

impl TaskHandler for ShellHandler {
    fn run(&self, context: TaskContext) -> BoxFuture<'static, TaskResult> {
        let tail_bytes = self.tail_bytes;
        Box::pin(async move {
            let TaskAction::Run(command) = &context.action else {
                return Err(TaskError::permanent(
                    "the shell handler runs `run` tasks only",
                ));
            };
            let output = tokio::process::Command::new("sh")
                .arg("-c")
                .arg(command)
                .env("STRAND_WORKFLOW", context.workflow.as_str())
                .env("STRAND_BEAD", context.bead.as_str())
                .env("STRAND_ATTEMPT", context.attempt.to_string())
                .env("STRAND_IDEMPOTENCY_KEY", &context.idempotency_key)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .kill_on_drop(true)
                .output()
                .await
                .map_err(|e| TaskError::permanent(format!("cannot run sh: {e}")))?;
            let mut both = output.stdout;
            both.extend_from_slice(&output.stderr);
            let text = tail(&both, tail_bytes);
            if output.status.success() {
                Ok(text)
            } else {
                let status = output.status.code().map_or_else(
                    || "killed by a signal".to_owned(),
                    |c| format!("exit status {c}"),
                );
                Err(TaskError::retryable(format!("{status}: {text}")))
            }
        })
    }
}
