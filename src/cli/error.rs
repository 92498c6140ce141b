//! The CLI's error type and its exit codes.

use std::path::PathBuf;

/// Why a command could not run to completion.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CliError {
    /// The event log refused an operation.
    #[error(transparent)]
    Log(#[from] strand_eventlog::Error),
    /// Rebuilding the state from the log failed.
    #[error(transparent)]
    Replay(#[from] strand_replay::ReplayError),
    /// The actor runtime failed.
    #[error(transparent)]
    Actors(#[from] strand_actors::ActorError),
    /// Encoding or decoding a domain event failed.
    #[error(transparent)]
    Projection(strand_projections::ProjectionError),
    /// No workflow with this id in the state.
    #[error("no workflow {id:?} in the log")]
    UnknownWorkflow {
        /// The id asked for.
        id: String,
    },
    /// A workflow file that cannot be read or is refused (exit 2); the error
    /// names the file and line.
    #[error(transparent)]
    Workflow(#[from] crate::workflow::WorkflowError),
    /// A workflow's DAG refused an operation.
    #[error("{file}: {source}")]
    Dag {
        /// The workflow file.
        file: String,
        /// The DAG's error.
        #[source]
        source: strand_dag::DagError,
    },
    /// A bad argument value (exit 2).
    #[error("invalid argument {name}: {reason}")]
    Usage {
        /// The argument.
        name: &'static str,
        /// Why it is refused.
        reason: String,
    },
    /// Writing output failed (for instance a closed pipe).
    #[error("cannot write output: {0}")]
    Output(#[from] std::io::Error),
    /// A file or directory could not be used.
    #[error("{path}: {source}")]
    File {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Building the async runtime failed.
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
}

impl CliError {
    /// The process exit code: 2 for usage errors (bad arguments, a bad
    /// workflow file, no log where `--data` points), 1 for everything that
    /// went wrong while running.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage { .. }
            | CliError::Workflow(_)
            | CliError::Log(strand_eventlog::Error::NotFound { .. }) => 2,
            _ => 1,
        }
    }
}
