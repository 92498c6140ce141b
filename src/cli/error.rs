//! The CLI's error type and its exit codes.

use std::path::PathBuf;

use strand_actors::ActorError;

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
    /// No run with this id in the state (exit 2).
    #[error("no run {id:?} in the log")]
    UnknownWorkflow {
        /// The id asked for.
        id: String,
    },
    /// The run has no bead of this id (exit 2).
    #[error("run {run:?} has no bead {bead:?}")]
    UnknownBead {
        /// The run.
        run: String,
        /// The bead asked for.
        bead: String,
    },
    /// The bead has not completed, so it has no output (exit 1).
    #[error("bead {bead:?} of run {run:?} is {state}: it has no output yet")]
    NoOutput {
        /// The run.
        run: String,
        /// The bead.
        bead: String,
        /// Its state.
        state: strand_projections::BeadState,
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
    /// The log could not be opened for a control: there is none (exit 2),
    /// or an engine holds the directory.
    #[error(
        "cannot open the log for writing (an engine that holds the directory did not answer \
         on its control socket): {source}"
    )]
    ControlOpen {
        /// The log's error.
        #[source]
        source: strand_eventlog::Error,
    },
    /// The engine's control socket failed mid-exchange.
    #[error("{source}")]
    Socket {
        /// The client's error.
        #[source]
        source: crate::socket::ClientError,
    },
    /// The engine refused the request (4xx: exit 2) or failed (exit 1).
    #[error("the engine answered {status} ({code}): {message}")]
    Remote {
        /// The HTTP status.
        status: u16,
        /// The stable error code.
        code: String,
        /// The engine's message.
        message: String,
    },
    /// The engine's answer is not the document asked for (exit 1).
    #[error("the engine's answer to {url} is not what was asked for: {reason}")]
    BadAnswer {
        /// What was asked.
        url: String,
        /// Why it does not decode.
        reason: String,
    },
    /// The API server could not start (a token missing or empty: exit 2).
    #[error(transparent)]
    Serve(#[from] strand_server::ServerError),
    /// The metrics recorder could not be installed.
    #[error(transparent)]
    Metrics(#[from] strand_server::MetricsError),
    /// A bench's child process failed or reported nothing readable.
    #[error("the bench's {role} process failed: {reason}")]
    BenchChild {
        /// What the child was for.
        role: &'static str,
        /// What went wrong.
        reason: String,
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
            CliError::Remote { status, .. } if (400..500).contains(status) => 2,
            CliError::Serve(
                strand_server::ServerError::TokenRequired { .. }
                | strand_server::ServerError::EmptyToken,
            )
            | CliError::Usage { .. }
            | CliError::Workflow(_)
            | CliError::UnknownWorkflow { .. }
            | CliError::UnknownBead { .. }
            | CliError::Log(strand_eventlog::Error::NotFound { .. })
            | CliError::ControlOpen {
                source: strand_eventlog::Error::NotFound { .. },
            }
            | CliError::Actors(
                ActorError::RunConflict { .. }
                | ActorError::DefinitionChanged { .. }
                | ActorError::UnsatisfiableAffinity { .. }
                | ActorError::BadInput { .. }
                | ActorError::UnknownWorkflow { .. }
                | ActorError::UnknownBead { .. }
                | ActorError::ControlRefused { .. },
            ) => 2,
            _ => 1,
        }
    }
}
