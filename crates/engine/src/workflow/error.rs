//! [`WorkflowError`]: why a workflow file was refused.

use std::path::PathBuf;

use strand_dag::BeadId;

/// A workflow file that cannot be used, with the file and line at fault.
///
/// `file` is the source name given to
/// [`Workflow::from_toml_str`](super::Workflow::from_toml_str) (the path, for
/// [`Workflow::from_file`](super::Workflow::from_file)); lines count from 1.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WorkflowError {
    /// The file could not be read.
    #[error("{}: cannot read workflow file: {source}", path.display())]
    Read {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file is larger than [`MAX_FILE_BYTES`](super::MAX_FILE_BYTES).
    #[error("{}: workflow file is {len} bytes, more than the limit of {max}", path.display())]
    TooLarge {
        /// The path.
        path: PathBuf,
        /// Its size in bytes.
        len: u64,
        /// The limit in bytes.
        max: u64,
    },
    /// Not valid TOML, or a value of the wrong type, or a required key
    /// missing (the message is the TOML parser's).
    #[error("{file}:{line}: {message}")]
    Syntax {
        /// The source name.
        file: String,
        /// The line.
        line: usize,
        /// What the parser says.
        message: String,
    },
    /// A definition given as JSON that has no TOML form: not an object, or
    /// holding a `null` (see [`Workflow::from_json`](super::Workflow::from_json)).
    #[error("{file}: the definition cannot be a workflow file: {message}")]
    NotAFile {
        /// The source name.
        file: String,
        /// Why not.
        message: String,
    },
    /// A key the format does not know (often a typo: `dep` for `deps`).
    #[error("{file}:{line}: unknown key `{key}` in {table} (expected one of: {})", expected.join(", "))]
    UnknownKey {
        /// The source name.
        file: String,
        /// The line of the key.
        line: usize,
        /// The key.
        key: String,
        /// "the workflow", or "task" and the task's id in backticks.
        table: String,
        /// The keys allowed there.
        expected: &'static [&'static str],
    },
    /// A value of the right type that is not allowed (an empty id, a
    /// retry count over the limit, a priority out of range...).
    #[error("{file}:{line}: invalid `{key}`: {reason}")]
    InvalidValue {
        /// The source name.
        file: String,
        /// The line of the value.
        line: usize,
        /// The key.
        key: &'static str,
        /// Why it is refused.
        reason: String,
    },
    /// A duration that does not parse, or a zero timeout.
    #[error("{file}:{line}: invalid duration `{value}` for `{key}`: {reason}")]
    BadDuration {
        /// The source name.
        file: String,
        /// The line of the value.
        line: usize,
        /// `timeout` or `estimate`.
        key: &'static str,
        /// The text as written.
        value: String,
        /// Why it is refused.
        reason: String,
    },
    /// A workflow without any `[[task]]`.
    #[error("{file}:{line}: workflow `{name}` has no [[task]]")]
    NoTasks {
        /// The source name.
        file: String,
        /// The line of `name`.
        line: usize,
        /// The workflow's name.
        name: String,
    },
    /// A task with neither `run` nor `handler`, or with both.
    #[error("{file}:{line}: task `{task}` needs exactly one of `run` and `handler`")]
    Action {
        /// The source name.
        file: String,
        /// The line of the task's id.
        line: usize,
        /// The task.
        task: BeadId,
    },
    /// Two tasks with the same id.
    #[error("{file}:{line}: duplicate task id `{id}` (first defined on line {first_line})")]
    DuplicateId {
        /// The source name.
        file: String,
        /// The line of the second definition.
        line: usize,
        /// The id.
        id: BeadId,
        /// The line of the first definition.
        first_line: usize,
    },
    /// `deps` or `after` names a task that does not exist.
    #[error("{file}:{line}: task `{task}` depends on unknown task `{dependency}`")]
    UnknownDependency {
        /// The source name.
        file: String,
        /// The line of the dependency.
        line: usize,
        /// The task that names it.
        task: BeadId,
        /// The unknown id.
        dependency: BeadId,
    },
    /// A task that lists itself in `deps` or `after`.
    #[error("{file}:{line}: task `{task}` depends on itself")]
    SelfDependency {
        /// The source name.
        file: String,
        /// The line of the dependency.
        line: usize,
        /// The task.
        task: BeadId,
    },
    /// The same dependency listed twice (in `deps`, in `after`, or in both).
    #[error("{file}:{line}: task `{task}` lists `{dependency}` more than once in deps/after")]
    DuplicateDependency {
        /// The source name.
        file: String,
        /// The line of the repeated entry.
        line: usize,
        /// The task.
        task: BeadId,
        /// The repeated id.
        dependency: BeadId,
    },
    /// The dependencies form a cycle; `cycle` is in edge order (each task is
    /// a dependency of the next, and the last of the first).
    #[error("{file}:{line}: dependency cycle: {}", format_cycle(cycle))]
    Cycle {
        /// The source name.
        file: String,
        /// The line of the entry that closes the cycle (in the first task's
        /// `deps` or `after`).
        line: usize,
        /// The tasks of the cycle.
        cycle: Vec<BeadId>,
    },
    /// The workflow graph refused the workflow for a reason the checks above
    /// do not name (a bug if it ever shows).
    #[error("{file}: {source}")]
    Graph {
        /// The source name.
        file: String,
        /// The graph's error.
        #[source]
        source: strand_dag::DagError,
    },
}

impl WorkflowError {
    /// The line at fault, when the error concerns one.
    pub fn line(&self) -> Option<usize> {
        match self {
            Self::Syntax { line, .. }
            | Self::UnknownKey { line, .. }
            | Self::InvalidValue { line, .. }
            | Self::BadDuration { line, .. }
            | Self::NoTasks { line, .. }
            | Self::Action { line, .. }
            | Self::DuplicateId { line, .. }
            | Self::UnknownDependency { line, .. }
            | Self::SelfDependency { line, .. }
            | Self::DuplicateDependency { line, .. }
            | Self::Cycle { line, .. } => Some(*line),
            Self::Read { .. }
            | Self::TooLarge { .. }
            | Self::NotAFile { .. }
            | Self::Graph { .. } => None,
        }
    }
}

/// `a -> b -> a`.
fn format_cycle(cycle: &[BeadId]) -> String {
    let mut names: Vec<&str> = cycle.iter().map(BeadId::as_str).collect();
    if let Some(first) = cycle.first() {
        names.push(first.as_str());
    }
    names.join(" -> ")
}
