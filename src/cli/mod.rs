//! The `strand` CLI: global flags, command dispatch, output and exit codes.
//!
//! Contract (scripts depend on it): `-o json` prints exactly one JSON document
//! on stdout (JSON lines for `log dump`), logs go to stderr; exit 0 on
//! success, 1 when the command ran and found a problem, 2 for usage errors.
//!
//! Adding a command: a module with a `clap::Args` (or `Subcommand`) type and a
//! `run(&Args, &mut Context) -> Result<Status, CliError>`, a variant in
//! [`Command`] (or [`crate::bench::BenchCommand`]) and a match arm in [`dispatch`].

pub mod bead_output;
pub mod checkpoint;
pub mod control;
pub mod dag;
mod error;
pub mod log;
mod output;
mod progress;
mod remote;
pub mod repair;
pub mod replay;
pub mod retention;
pub mod run;
pub mod runs;
pub mod serve;
pub mod status;
mod telemetry;
pub mod transfer;
pub mod trim;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub use error::CliError;
pub use output::{Context, Output, Status};

/// `strand`: durable workflows on an event-sourced log.
#[derive(Debug, Parser)]
#[command(name = "strand", version, about, long_about = None)]
pub struct Cli {
    /// Data directory of the engine's log.
    #[arg(
        long,
        global = true,
        env = "STRAND_DATA",
        default_value = "./strand-data"
    )]
    pub data: PathBuf,
    /// Output format: human-readable text or one JSON document on stdout.
    #[arg(short = 'o', long = "output", global = true, value_enum, default_value_t = Output::Text)]
    pub output: Output,
    /// More logging on stderr (repeat for more).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Only errors on stderr.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start a run of a workflow file durably, or resume one (kill it, run it again).
    Run(run::RunArgs),
    /// List runs, newest first.
    Runs(runs::RunsArgs),
    /// Serve the engine: the HTTP API on --listen and the control socket, until SIGINT/SIGTERM.
    Serve(serve::ServeArgs),
    /// Cancel a run (on a directory no engine holds).
    Cancel(control::CancelArgs),
    /// Pause a run: nothing more of it is dispatched.
    Pause(control::PauseArgs),
    /// Resume a paused run.
    Resume(control::ResumeArgs),
    /// Have a failed or cancelled run continue from where it stopped.
    Retry(control::RetryArgs),
    /// Print one bead's output, raw.
    Output(bead_output::OutputArgs),
    /// Inspect the event log: verify, dump, stats.
    #[command(subcommand)]
    Log(log::LogCommand),
    /// Runs and their beads, from the replayed StateManager projection.
    Status(status::StatusArgs),
    /// Rebuild the state from the newest valid checkpoint plus the log tail.
    Replay(replay::ReplayArgs),
    /// List or create checkpoints of the state.
    #[command(subcommand)]
    Checkpoint(checkpoint::CheckpointCommand),
    /// Repair the log after an incident (dry run unless --yes).
    #[command(subcommand)]
    Repair(repair::RepairCommand),
    /// Write the whole log to a framed, checksummed file.
    Export(transfer::FileArgs),
    /// Create a data directory from an export file (or archive segments then an export).
    Import(transfer::ImportArgs),
    /// Print a workflow file's dependency graph (DOT, JSON or Mermaid).
    Dag(dag::DagArgs),
    /// Measure Strand against raw baselines run in the same process.
    #[command(subcommand)]
    Bench(crate::bench::BenchCommand),
}

/// Run a parsed command.
///
/// # Errors
/// The command's error.
pub fn dispatch(command: &Command, ctx: &mut Context) -> Result<Status, CliError> {
    match command {
        Command::Run(args) => run::run(args, ctx),
        Command::Runs(args) => runs::run(args, ctx),
        Command::Serve(args) => serve::run(args, ctx),
        Command::Cancel(args) => control::cancel(args, ctx),
        Command::Pause(args) => control::pause(args, ctx),
        Command::Resume(args) => control::resume(args, ctx),
        Command::Retry(args) => control::retry(args, ctx),
        Command::Output(args) => bead_output::run(args, ctx),
        Command::Log(cmd) => log::run(cmd, ctx),
        Command::Status(args) => status::run(args, ctx),
        Command::Replay(args) => replay::run(args, ctx),
        Command::Checkpoint(cmd) => checkpoint::run(cmd, ctx),
        Command::Repair(cmd) => repair::run(cmd, ctx),
        Command::Export(args) => transfer::export(args, ctx),
        Command::Import(args) => transfer::import(args, ctx),
        Command::Dag(args) => dag::run(args, ctx),
        Command::Bench(cmd) => crate::bench::run(cmd, ctx),
    }
}

/// Parse arguments, run, print, and turn the outcome into the exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // Help and version requests are successes; everything else is usage.
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let telemetry = telemetry::Telemetry::init(cli.verbose, cli.quiet);
    let mut ctx = Context::new(cli.data.clone(), cli.output, cli.quiet);
    let code = match dispatch(&cli.command, &mut ctx) {
        Ok(status) => status.exit_code(),
        Err(e) => ctx.fail(&e),
    };
    telemetry.finish();
    code
}
