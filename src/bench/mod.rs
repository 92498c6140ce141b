//! `strand bench ...`: figures measured against baselines run in the same
//! process, reported as ratios. Numbers live here and in issue notes, never
//! in timed test assertions.

pub mod append;
pub mod dag;
mod stats;

use clap::Subcommand;

use crate::cli::{CliError, Context, Status};

pub use stats::Percentiles;

/// `strand bench ...`
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Durable append throughput and latency vs raw RocksDB synced writes.
    Append(append::AppendArgs),
    /// Workflow DAG build, orderings and a full `ReadyTracker` run vs bare Kahn.
    Dag(dag::DagBenchArgs),
}

/// Run a bench.
///
/// # Errors
/// The bench's error.
pub fn run(command: &BenchCommand, ctx: &mut Context) -> Result<Status, CliError> {
    match command {
        BenchCommand::Append(args) => append::run(args, ctx),
        BenchCommand::Dag(args) => dag::run(args, ctx),
    }
}
