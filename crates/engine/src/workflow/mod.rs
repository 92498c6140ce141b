//! Workflow files: the TOML format of DESIGN.md loaded into a validated
//! [`Workflow`] (its tasks with their typed settings, and the
//! [`WorkflowDag`] built from their dependencies).
//!
//! ```toml
//! name = "etl"
//! timeout = "2h"                    # the run is cancelled this long after it starts
//! [input]                           # a run's input defaults (a JSON object)
//! region = "eu"
//! [[task]]
//! id = "extract"
//! run = "sh -c 'echo extracting'"   # or handler = "name" (library)
//! deps = []                         # blocking dependencies
//! after = []                        # preferred order only
//! priority = 0
//! retries = 3
//! timeout = "30s"
//! affinity = "io"
//! estimate = "2m"                   # critical-path weight
//! backoff = { initial = "1s", max = "1m", multiplier = 2 }   # this task's retry delays
//! ```
//!
//! Parsing ([`Workflow::from_toml_str`]) is separate from reading the file
//! ([`Workflow::from_file`]). Every refusal names the file and the line: an
//! unknown key, a wrong type, a bad duration, a duplicate id, an unknown
//! dependency, a cycle (with its tasks).
//!
//! ```
//! use strand_engine::workflow::{TaskAction, Workflow};
//!
//! let wf = Workflow::from_toml_str("etl.toml", r#"
//! name = "etl"
//! [[task]]
//! id = "extract"
//! run = "echo extract"
//! [[task]]
//! id = "load"
//! run = "echo load"
//! deps = ["extract"]
//! timeout = "30s"
//! "#)?;
//! assert_eq!(wf.name(), "etl");
//! assert_eq!(wf.dag().topological_order_kahn()?.len(), 2);
//! let load = wf.task(&"load".into()).expect("declared above");
//! assert_eq!(load.action, TaskAction::Run("echo load".into()));
//!
//! let err = Workflow::from_toml_str("bad.toml", "name = \"x\"\n[[task]]\nid = \"a\"\nrun = \"true\"\ndeps = [\"nope\"]\n")
//!     .unwrap_err();
//! assert_eq!(err.to_string(), "bad.toml:5: task `a` depends on unknown task `nope`");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod duration;
mod error;
mod file;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use strand_dag::{BeadId, WorkflowDag};

pub use error::WorkflowError;

/// The largest workflow file [`Workflow::from_file`] reads, in bytes.
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// The most retries a task may ask for.
pub const MAX_RETRIES: u32 = 100;

/// What a task does when it runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TaskAction {
    /// A shell command (`run = "..."`), for the CLI.
    Run(String),
    /// A handler registered by name in the embedding program (`handler = "..."`).
    Handler(String),
}

/// One `[[task]]` of a workflow file, with its settings typed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Task {
    /// The task's id, unique in the workflow.
    pub id: BeadId,
    /// What to run.
    pub action: TaskAction,
    /// Blocking dependencies: tasks that must complete first.
    pub deps: Vec<BeadId>,
    /// Preferred order only: tasks to start first when both are ready.
    pub after: Vec<BeadId>,
    /// Scheduling priority, higher first (default 0).
    pub priority: i32,
    /// How many times a failed attempt is retried (default 0, at most [`MAX_RETRIES`]).
    pub retries: u32,
    /// Per-attempt time limit (default: none).
    pub timeout: Option<Duration>,
    /// A worker label the task should run on (default: any worker).
    pub affinity: Option<String>,
    /// Expected duration: the task's weight in the critical path (default: zero).
    pub estimate: Option<Duration>,
    /// Its own retry delays (default: the engine's).
    pub backoff: Option<TaskBackoff>,
    /// The line of the task's `id` in its file, for later diagnostics.
    pub line: usize,
}

/// A task's `backoff`: the delay before retry `n` is `initial ×
/// multiplierⁿ⁻¹`, at most `max`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TaskBackoff {
    /// The first retry's delay.
    pub initial: Duration,
    /// The longest delay.
    pub max: Duration,
    /// Growth factor per further failure (1..=100).
    pub multiplier: u32,
}

/// A validated workflow: a name, tasks, and their dependency graph.
///
/// Built only by [`from_toml_str`](Self::from_toml_str) and
/// [`from_file`](Self::from_file), so it always holds: ids are unique and
/// non-empty, every dependency names a task, and the graph is acyclic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Workflow {
    /// Where it was loaded from (a path or a name given by the caller).
    source: String,
    /// `name = "..."`.
    name: String,
    /// `[input]`: the defaults of a run's input.
    input: serde_json::Map<String, serde_json::Value>,
    /// `timeout = "..."`: the run's time limit.
    timeout: Option<Duration>,
    /// The tasks in file order.
    tasks: Vec<Task>,
    /// Task id -> position in `tasks`.
    by_id: BTreeMap<BeadId, usize>,
    /// `deps` as blocking edges, `after` as preferred-order edges.
    dag: WorkflowDag,
}

impl Workflow {
    /// Parses and validates a workflow from TOML text. `source_name` is only
    /// used in error messages (usually the file's path).
    ///
    /// # Errors
    ///
    /// A [`WorkflowError`] naming `source_name` and the line at fault.
    pub fn from_toml_str(source_name: &str, text: &str) -> Result<Self, WorkflowError> {
        file::parse(source_name, text)
    }

    /// Parses and validates a workflow given as JSON: the same document as
    /// a workflow file (`{"name": "...", "task": [{"id": "...", "run": "..."}]}`),
    /// checked by the same rules. It is read as its TOML form, so the lines
    /// errors name are lines of that form; `source_name` says so.
    ///
    /// # Errors
    ///
    /// [`WorkflowError::NotAFile`] for a document with no TOML form (not an
    /// object, a `null` anywhere), then every error of `from_toml_str`.
    pub fn from_json(
        source_name: &str,
        definition: &serde_json::Value,
    ) -> Result<Self, WorkflowError> {
        let not_a_file = |message: String| WorkflowError::NotAFile {
            file: source_name.to_owned(),
            message,
        };
        if !definition.is_object() {
            return Err(not_a_file("it is not a JSON object".to_owned()));
        }
        let table = toml::Table::try_from(definition).map_err(|e| not_a_file(e.to_string()))?;
        let text = toml::to_string(&table).map_err(|e| not_a_file(e.to_string()))?;
        file::parse(&format!("{source_name} (as TOML)"), &text)
    }

    /// Reads a workflow file (at most [`MAX_FILE_BYTES`]) and parses it with
    /// [`from_toml_str`](Self::from_toml_str), naming it by its path.
    ///
    /// # Errors
    ///
    /// [`WorkflowError::Read`] and [`WorkflowError::TooLarge`] for the file,
    /// then every error of `from_toml_str`.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, WorkflowError> {
        let path = path.as_ref();
        let read_error = |source| WorkflowError::Read {
            path: path.to_path_buf(),
            source,
        };
        let len = std::fs::metadata(path).map_err(read_error)?.len();
        if len > MAX_FILE_BYTES {
            return Err(WorkflowError::TooLarge {
                path: path.to_path_buf(),
                len,
                max: MAX_FILE_BYTES,
            });
        }
        let text = std::fs::read_to_string(path).map_err(read_error)?;
        Self::from_toml_str(&path.display().to_string(), &text)
    }

    /// The workflow's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The defaults of a run's input (`[input]`), overlaid by the input a
    /// run is given.
    pub fn input_defaults(&self) -> &serde_json::Map<String, serde_json::Value> {
        &self.input
    }

    /// The run's time limit (`timeout = "..."` at the top of the file).
    pub fn timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// Where the workflow was loaded from.
    pub fn source_name(&self) -> &str {
        &self.source
    }

    /// The tasks, in file order.
    pub fn tasks(&self) -> &[Task] {
        &self.tasks
    }

    /// The task with this id.
    pub fn task(&self, id: &BeadId) -> Option<&Task> {
        self.by_id.get(id).and_then(|&i| self.tasks.get(i))
    }

    /// The dependency graph: `deps` are blocking edges, `after` preferred-order edges.
    pub fn dag(&self) -> &WorkflowDag {
        &self.dag
    }

    /// Each task's `estimate` in milliseconds (tasks without one are left
    /// out, and so weigh zero): the weights for
    /// [`WorkflowDag::critical_path`].
    pub fn estimates_ms(&self) -> BTreeMap<BeadId, u64> {
        self.tasks
            .iter()
            .filter_map(|task| Some((task.id.clone(), duration::as_millis(task.estimate?))))
            .collect()
    }
}
