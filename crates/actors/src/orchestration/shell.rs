//! [`ShellHandler`]: runs a task's `run = "..."` command with `sh -c`.
//!
//! The command's output is its stdout, or, when it wrote any, the file
//! named by `$STRAND_OUTPUT`; its stderr is the attempt's log tail. It
//! sees its run through the environment:
//!
//! | variable | holds |
//! |---|---|
//! | `STRAND_RUN` (and `STRAND_WORKFLOW`, its older name) | the run id |
//! | `STRAND_BEAD`, `STRAND_ATTEMPT` | the bead and the attempt number |
//! | `STRAND_IDEMPOTENCY_KEY` | `run/bead`, the same for every attempt |
//! | `STRAND_INPUT` | the path of a JSON file holding the run's input |
//! | `STRAND_INPUT_<KEY>` | each scalar input value, its key upper-cased |
//! | `STRAND_DEPS_DIR` | a directory with one file per blocking dependency, named by its id, holding its output |
//! | `STRAND_OUTPUT` | a file the command may write its output to |
//!
//! The files live in a directory of the attempt's own, removed when it ends.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use rustix::process::{Pid, Signal, kill_process_group};
use strand_projections::{Output, TaskAction};
use tokio::io::{AsyncRead, AsyncReadExt};

use crate::orchestration::handler::{LogTail, TaskContext, TaskError, TaskHandler, TaskResult};

/// How long a cancelled command has between SIGTERM and SIGKILL.
pub const TERM_GRACE: Duration = Duration::from_secs(5);

/// Runs shell commands. The exit status decides the outcome. The command's
/// process group is killed when the attempt is dropped (its timeout ran
/// out) and sent SIGTERM, then SIGKILL, when the run is cancelled.
///
/// Each attempt gets a directory of its own (its input, its dependencies'
/// outputs, its output file), removed when the attempt ends; under
/// [`in_dir`](Self::in_dir)'s directory, else the system's temporary one.
#[derive(Clone, Debug, Default)]
pub struct ShellHandler {
    dir: Option<Arc<Path>>,
}

impl ShellHandler {
    /// Attempts' directories in the system's temporary directory.
    pub fn new() -> Self {
        Self::default()
    }

    /// Attempts' directories under `dir` (created when needed): the engine
    /// puts them in its data directory, so what a killed process left
    /// behind is removed by the next one.
    pub fn in_dir(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: Some(Arc::from(dir.into())),
        }
    }
}

/// The process group of a running command: sent SIGKILL on drop, so that an
/// attempt dropped (timed out, cancelled) leaves no process behind.
/// Disarmed (`None`) once the command ended on its own.
struct ProcessGroup(Option<i32>);

impl ProcessGroup {
    fn signal(&self, signal: Signal) {
        if let Some(pid) = self.0.and_then(Pid::from_raw) {
            // It may be gone already: nothing to do then.
            let _ = kill_process_group(pid, signal);
        }
    }
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        self.signal(Signal::KILL);
    }
}

/// The files an attempt's command is given.
struct Workspace {
    /// Removed on drop, when the attempt ends.
    _dir: tempfile::TempDir,
    input: PathBuf,
    deps: PathBuf,
    output: PathBuf,
}

/// Whether `id` can name a file in the dependencies directory as it is.
fn is_plain_file_name(id: &str) -> bool {
    !id.is_empty() && !id.starts_with('.') && !id.contains(['/', '\0'])
}

/// `STRAND_INPUT_<KEY>`: the key upper-cased, anything but letters and
/// digits as `_`.
fn input_variable(key: &str) -> String {
    let mut name = String::from("STRAND_INPUT_");
    name.extend(key.chars().map(|c| {
        if c.is_ascii_alphanumeric() {
            c.to_ascii_uppercase()
        } else {
            '_'
        }
    }));
    name
}

/// The scalar values of the input object, as environment variables.
fn input_variables(input: &str) -> Vec<(String, String)> {
    let Ok(serde_json::Value::Object(object)) = serde_json::from_str(input) else {
        return Vec::new();
    };
    object
        .into_iter()
        .filter_map(|(key, value)| {
            let text = match value {
                serde_json::Value::String(text) => text,
                serde_json::Value::Number(number) => number.to_string(),
                serde_json::Value::Bool(flag) => flag.to_string(),
                serde_json::Value::Null
                | serde_json::Value::Array(_)
                | serde_json::Value::Object(_) => return None,
            };
            Some((input_variable(&key), text))
        })
        .collect()
}

/// Lays out the attempt's files (blocking: run off the async workers).
fn prepare(context: &TaskContext, base: Option<&Path>) -> Result<Workspace, TaskError> {
    let failed = |what: &str, error: std::io::Error| {
        TaskError::retryable(format!("cannot prepare the task's {what}: {error}"))
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix("strand-attempt-");
    let dir = match base {
        Some(base) => {
            std::fs::create_dir_all(base).map_err(|e| failed("directory", e))?;
            builder.tempdir_in(base)
        }
        None => builder.tempdir(),
    }
    .map_err(|e| failed("directory", e))?;
    let input = dir.path().join("input.json");
    std::fs::write(&input, context.input.as_bytes()).map_err(|e| failed("input file", e))?;
    let deps = dir.path().join("deps");
    std::fs::create_dir(&deps).map_err(|e| failed("dependencies directory", e))?;
    for (bead, output) in context.dependencies.iter() {
        if !is_plain_file_name(bead.as_str()) {
            return Err(TaskError::permanent(format!(
                "dependency `{bead}` cannot be a file name in $STRAND_DEPS_DIR"
            )));
        }
        std::fs::write(deps.join(bead.as_str()), &output.bytes)
            .map_err(|e| failed("dependency outputs", e))?;
    }
    let output = dir.path().join("output");
    Ok(Workspace {
        _dir: dir,
        input,
        deps,
        output,
    })
}

/// Reads `source` to its end, keeping at most `max + 1` bytes (one more
/// tells an output over the bound). Reading goes on past the bound, so
/// that the child is never blocked on a full pipe.
async fn read_bounded(mut source: impl AsyncRead + Unpin, max: usize) -> std::io::Result<Vec<u8>> {
    let mut kept = Vec::new();
    let mut chunk = vec![0_u8; 64 * 1024];
    loop {
        let read = source.read(&mut chunk).await?;
        if read == 0 {
            return Ok(kept);
        }
        let room = max.saturating_add(1).saturating_sub(kept.len());
        kept.extend_from_slice(chunk.get(..read.min(room)).unwrap_or_default());
    }
}

/// Reads `source` to its end into the log tail.
async fn read_into_log(mut source: impl AsyncRead + Unpin, log: &LogTail) -> std::io::Result<()> {
    let mut chunk = vec![0_u8; 16 * 1024];
    loop {
        let read = source.read(&mut chunk).await?;
        if read == 0 {
            return Ok(());
        }
        log.write(chunk.get(..read).unwrap_or_default());
    }
}

/// Text when the bytes are UTF-8, bytes of no declared type otherwise.
fn output_of(bytes: Vec<u8>) -> Output {
    match String::from_utf8(bytes) {
        Ok(text) => Output::text(text),
        Err(error) => Output::bytes(error.into_bytes()),
    }
}

/// The output over its bound: a permanent failure naming the bound.
fn too_large(source: &str, max: usize) -> TaskError {
    TaskError::permanent(format!(
        "the task's output ({source}) is larger than the {max}-byte bound"
    ))
}

/// The command's output: the `$STRAND_OUTPUT` file when it wrote one,
/// else its stdout.
async fn collect_output(file: &Path, stdout: Vec<u8>, max: usize) -> TaskResult {
    match tokio::fs::metadata(file).await {
        Ok(meta) if meta.len() > 0 => {
            if usize::try_from(meta.len()).map_or(true, |len| len > max) {
                return Err(too_large("$STRAND_OUTPUT", max));
            }
            let bytes = tokio::fs::read(file).await.map_err(|error| {
                TaskError::retryable(format!("cannot read $STRAND_OUTPUT: {error}"))
            })?;
            Ok(output_of(bytes))
        }
        _ if stdout.len() > max => Err(too_large("stdout", max)),
        _ => Ok(output_of(stdout)),
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
        let base = self.dir.clone();
        Box::pin(async move {
            let TaskAction::Run(command) = &context.action else {
                return Err(TaskError::permanent(
                    "the shell handler runs `run` tasks only",
                ));
            };
            let prepared = {
                let context = context.clone();
                tokio::task::spawn_blocking(move || prepare(&context, base.as_deref()))
                    .await
                    .map_err(|e| TaskError::retryable(format!("cannot prepare the task: {e}")))??
            };
            let mut child = tokio::process::Command::new("sh")
                .arg("-c")
                .arg(command)
                .env("STRAND_RUN", context.run.as_str())
                .env("STRAND_WORKFLOW", context.run.as_str())
                .env("STRAND_BEAD", context.bead.as_str())
                .env("STRAND_ATTEMPT", context.attempt.to_string())
                .env("STRAND_IDEMPOTENCY_KEY", &context.idempotency_key)
                .env("STRAND_INPUT", &prepared.input)
                .env("STRAND_DEPS_DIR", &prepared.deps)
                .env("STRAND_OUTPUT", &prepared.output)
                .envs(input_variables(&context.input))
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .kill_on_drop(true)
                // Its own process group, so that a cancel or a drop reaches
                // what the command started, not only `sh`.
                .process_group(0)
                .spawn()
                .map_err(|e| TaskError::permanent(format!("cannot run sh: {e}")))?;
            let mut group = ProcessGroup(child.id().and_then(|id| i32::try_from(id).ok()));
            let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
                return Err(TaskError::retryable("the child's pipes were not set up"));
            };
            let max = context.max_output_bytes;
            let ran = async {
                tokio::join!(
                    read_bounded(stdout, max),
                    read_into_log(stderr, &context.log),
                    child.wait(),
                )
            };
            tokio::pin!(ran);
            let (stdout, logged, status) = tokio::select! {
                ran = &mut ran => ran,
                () = context.cancel.cancelled() => {
                    // SIGTERM first; SIGKILL (the group's guard) if it has
                    // not stopped within the grace period.
                    group.signal(Signal::TERM);
                    let _ = tokio::time::timeout(TERM_GRACE, &mut ran).await;
                    return Err(TaskError::permanent("cancelled"));
                }
            };
            // It ended on its own: its group id may be reused from now on.
            group.0 = None;
            let io = |e: std::io::Error| TaskError::retryable(format!("cannot run the task: {e}"));
            let (stdout, status) = (stdout.map_err(io)?, status.map_err(io)?);
            logged.map_err(io)?;
            if status.success() {
                return collect_output(&prepared.output, stdout, max).await;
            }
            let status = status.code().map_or_else(
                || "killed by a signal".to_owned(),
                |c| format!("exit status {c}"),
            );
            let logged = context.log.text();
            let detail = if logged.trim().is_empty() {
                tail(
                    &stdout,
                    crate::orchestration::handler::DEFAULT_LOG_TAIL_BYTES,
                )
            } else {
                logged
            };
            Err(TaskError::retryable(format!("{status}: {detail}")))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_input_keys_when_named_as_variables_then_scalars_only_upper_cased() {
        let vars =
            input_variables(r#"{"region":"eu","max-rows":5,"dry":true,"list":[1],"n":null}"#);
        assert_eq!(
            vars,
            vec![
                ("STRAND_INPUT_DRY".to_owned(), "true".to_owned()),
                ("STRAND_INPUT_MAX_ROWS".to_owned(), "5".to_owned()),
                ("STRAND_INPUT_REGION".to_owned(), "eu".to_owned()),
            ]
        );
    }

    #[test]
    fn given_ids_when_checked_as_file_names_then_paths_and_dot_files_are_refused() {
        assert!(is_plain_file_name("extract"));
        assert!(!is_plain_file_name("a/b"));
        assert!(!is_plain_file_name(".."));
        assert!(!is_plain_file_name(""));
    }
}
