//! `strand bench ...`: figures measured against baselines run in the same
//! process, reported as ratios. Numbers live here and in issue notes, never
//! in timed test assertions.

pub mod actors;
pub mod append;
pub mod dag;
pub mod engine;
pub mod history;
mod memory;
pub mod replay;
pub mod serve;
pub mod soak;
mod stats;

use clap::Subcommand;

use crate::cli::{CliError, Context, Status};

pub use stats::Percentiles;

/// `strand bench ...`
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Supervised actor calls and restarts vs bare ractor.
    Actors(actors::ActorsBenchArgs),
    /// Durable append throughput and latency vs raw RocksDB synced writes.
    Append(append::AppendArgs),
    /// No-op beads through the whole engine, and start-to-ready on a long log.
    Engine(engine::EngineBenchArgs),
    /// A long history with retention and trimming vs without: memory, disk, start after kill -9.
    History(history::HistoryArgs),
    /// Workflow DAG build, orderings and a full `ReadyTracker` run vs bare Kahn.
    Dag(dag::DagBenchArgs),
    /// Replay into the StateManager vs a raw RocksDB iterate + crc + decode.
    Replay(replay::ReplayBenchArgs),
    /// The HTTP API under load: reads and starts from many connections, beads/s with and without.
    Serve(serve::ServeBenchArgs),
    /// Runs started at a steady rate for minutes: the engine's memory stays level.
    Soak(soak::SoakArgs),
}

/// Run a bench.
///
/// # Errors
/// The bench's error.
pub fn run(command: &BenchCommand, ctx: &mut Context) -> Result<Status, CliError> {
    match command {
        BenchCommand::Actors(args) => actors::run(args, ctx),
        BenchCommand::Append(args) => append::run(args, ctx),
        BenchCommand::Dag(args) => dag::run(args, ctx),
        BenchCommand::Engine(args) => engine::run(args, ctx),
        BenchCommand::History(args) => history::run(args, ctx),
        BenchCommand::Replay(args) => replay::run(args, ctx),
        BenchCommand::Serve(args) => serve::run(args, ctx),
        BenchCommand::Soak(args) => soak::run(args, ctx),
    }
}

/// A temporary directory for a bench's logs, under `tmp` when given.
///
/// # Errors
/// [`CliError::File`] when it cannot be created.
pub(crate) fn temp_dir(tmp: Option<&std::path::Path>) -> Result<tempfile::TempDir, CliError> {
    match tmp {
        Some(dir) => tempfile::tempdir_in(dir),
        None => tempfile::tempdir(),
    }
    .map_err(|source| CliError::File {
        path: tmp.map_or_else(std::env::temp_dir, std::path::Path::to_path_buf),
        source,
    })
}
