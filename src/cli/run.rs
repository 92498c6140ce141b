//! `strand run FILE [--id RUN] [--input KEY=VALUE]... [--input-file F]`:
//! start a run of a workflow durably, or resume one.
//!
//! - With `--id`: idempotent. An unfinished run of that id resumes, a
//!   finished one reports its outcome and runs nothing, and the same id with
//!   another definition or input is refused (exit 2, nothing written).
//! - Without: the unfinished run of this definition's name resumes if there
//!   is one (kill it, run it again, it resumes), else a new run starts under
//!   a fresh, sortable id (`name-YYYYMMDDTHHMMSSZ-xxxx`). An unfinished run
//!   of a changed definition is refused, naming both hashes.
//!
//! The input is the file's `[input]` defaults, overlaid by `--input-file`
//! (a JSON object), overlaid by each `--input KEY=VALUE` (VALUE as JSON when
//! it parses as JSON, else as a string). Exit 0 when the run completed, 1
//! when it failed, 2 for a bad file, argument or input (nothing written).

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args, ValueEnum};
use serde_json::json;
use strand_actors::orchestration::Distribution;
use strand_actors::orchestration::RunOutcome;
use strand_projections::{BeadState, RunId, RunRecord, RunStatus};

use crate::cli::progress::Bar;
use crate::cli::{CliError, Context, Status};
use crate::engine::{Engine, RunInput};
use crate::views::{ShownOutput, final_outputs};
use crate::workflow::Workflow;
use strand_server::{RunningServer, Server};

/// `--distribution`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DistributionArg {
    /// Beads in the order they became ready.
    Fifo,
    /// Beads by task priority, higher first.
    Priority,
    /// Beads in order, workers in rotation.
    RoundRobin,
}

/// `strand run` arguments.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The workflow file (TOML).
    pub file: PathBuf,
    /// Unlabelled workers: beads run at once.
    #[arg(long, default_value_t = 100)]
    pub workers: usize,
    /// The run's id: idempotent (resumes or reports that run).
    #[arg(long)]
    pub id: Option<String>,
    /// An input value, `KEY=VALUE` (repeatable); VALUE is JSON when it
    /// parses as JSON, else a string.
    #[arg(long = "input", value_name = "KEY=VALUE")]
    pub input: Vec<String>,
    /// A JSON object of input values (under the `--input` ones).
    #[arg(long, value_name = "FILE")]
    pub input_file: Option<PathBuf>,
    /// How ready beads are ordered (default: priority when any task sets
    /// one, else FIFO).
    #[arg(long, value_enum)]
    pub distribution: Option<DistributionArg>,
    /// Labelled workers for tasks with `affinity`, `LABEL=COUNT` (repeatable).
    #[arg(long = "worker-label", value_name = "LABEL=COUNT")]
    pub worker_label: Vec<String>,
    /// Return once the submission is durable, printing the run id: the run
    /// proceeds in the engine that holds the directory (reached through
    /// its socket), or in the next one to open it.
    #[arg(long)]
    pub detach: bool,
}

/// Beads of `workflow` completed so far, as the state manager sees them.
async fn completed(engine: &Engine, workflow: &RunId) -> u64 {
    let workflow = workflow.clone();
    engine
        .runtime()
        .state()
        .query(move |state| {
            state
                .bead_counts(&workflow)
                .map_or(0, |counts| counts.get(BeadState::Completed))
        })
        .await
        .unwrap_or(0)
}

/// The run's input from `--input-file` and `--input`.
fn input(args: &RunArgs) -> Result<RunInput, CliError> {
    let mut input = RunInput::new();
    if let Some(path) = &args.input_file {
        let text = std::fs::read_to_string(path).map_err(|source| CliError::File {
            path: path.clone(),
            source,
        })?;
        match serde_json::from_str::<serde_json::Value>(&text) {
            Ok(serde_json::Value::Object(object)) => input.extend(object),
            Ok(_) => {
                return Err(CliError::Usage {
                    name: "--input-file",
                    reason: format!("{} does not hold a JSON object", path.display()),
                });
            }
            Err(error) => {
                return Err(CliError::Usage {
                    name: "--input-file",
                    reason: format!("{} is not JSON: {error}", path.display()),
                });
            }
        }
    }
    for pair in &args.input {
        let Some((key, value)) = pair.split_once('=').filter(|(key, _)| !key.is_empty()) else {
            return Err(CliError::Usage {
                name: "--input",
                reason: format!("{pair:?} is not KEY=VALUE"),
            });
        };
        let value = serde_json::from_str(value)
            .unwrap_or_else(|_| serde_json::Value::String(value.to_owned()));
        input.insert(key.to_owned(), value);
    }
    Ok(input)
}

/// `--worker-label LABEL=COUNT` pairs.
pub(super) fn worker_labels(pairs: &[String]) -> Result<Vec<(String, usize)>, CliError> {
    pairs
        .iter()
        .map(|pair| {
            let parsed = pair.split_once('=').and_then(|(label, count)| {
                let count = count.parse::<usize>().ok().filter(|c| *c > 0)?;
                (!label.is_empty()).then(|| (label.to_owned(), count))
            });
            parsed.ok_or_else(|| CliError::Usage {
                name: "--worker-label",
                reason: format!("{pair:?} is not LABEL=COUNT with COUNT at least 1"),
            })
        })
        .collect()
}

/// The distribution asked for, or priority when the file sets any.
fn distribution(args: &RunArgs, workflow: &Workflow) -> Distribution {
    let asked = args
        .distribution
        .unwrap_or(if workflow.tasks().iter().any(|t| t.priority != 0) {
            DistributionArg::Priority
        } else {
            DistributionArg::Fifo
        });
    match asked {
        DistributionArg::Fifo => Distribution::Fifo,
        DistributionArg::Priority => Distribution::Priority,
        DistributionArg::RoundRobin => Distribution::RoundRobin,
    }
}

/// Run the command.
///
/// # Errors
/// A bad workflow file, argument or input, a refused run id (exit 2); log
/// and runtime errors.
pub fn run(args: &RunArgs, ctx: &mut Context) -> Result<Status, CliError> {
    if args.workers == 0 {
        return Err(CliError::Usage {
            name: "--workers",
            reason: "must be at least 1".into(),
        });
    }
    if args.id.as_deref().is_some_and(|id| id.trim().is_empty()) {
        return Err(CliError::Usage {
            name: "--id",
            reason: "a run id may not be empty".into(),
        });
    }
    // Refused before anything is opened or written.
    let workflow = Workflow::from_file(&args.file)?;
    let input = input(args)?;
    let labelled = worker_labels(&args.worker_label)?;
    if args.detach {
        return detach(args, ctx, &workflow, &input);
    }
    let mut builder = Engine::builder(&ctx.data)
        .workers(args.workers)
        .distribution(distribution(args, &workflow));
    for (label, count) in labelled {
        builder = builder.labelled_workers(label, count);
    }
    let id = args.id.as_deref().map(RunId::from);
    // A refused run is refused before the engine opens: nothing is written.
    builder.precheck(&workflow, id.as_ref(), &input)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(CliError::Runtime)?;
    let bar = Bar::new(ctx, workflow.name(), "beads");
    let total = u64::try_from(workflow.tasks().len()).unwrap_or(u64::MAX);
    let (outcome, existing, record) = runtime.block_on(async {
        let engine = Arc::new(builder.open().await?);
        // Other `strand` commands reach this engine through the socket.
        let socket = crate::socket::path(&ctx.data);
        let server = match Server::new(Arc::clone(&engine)).start().await {
            Ok(server) => Some(server),
            Err(error) => {
                tracing::warn!("no control socket at {}: {error}", socket.display());
                None
            }
        };
        let started = match id {
            Some(id) => engine.start_with_id(&workflow, id, input).await,
            None => engine.resume_or_start(&workflow, input).await,
        };
        if let Ok(started) = &started
            && engine
                .run_record(&started.run)
                .await
                .ok()
                .flatten()
                .is_some_and(|r| r.paused())
        {
            // It waits: `strand resume` reaches this engine on its socket.
            eprintln!(
                "strand: run {run} is paused; `strand resume {run}` resumes it",
                run = started.run
            );
        }
        let outcome = match started {
            Ok(started) if !bar.is_drawn() => engine
                .wait(&started.run)
                .await
                .map(|outcome| (outcome, started.existing)),
            Ok(started) => {
                let waiting = engine.wait(&started.run);
                tokio::pin!(waiting);
                let mut log = engine.runtime().store().watch_status();
                let outcome = loop {
                    tokio::select! {
                        outcome = &mut waiting => break outcome,
                        changed = log.changed() => {
                            if changed.is_err() {
                                break waiting.await;
                            }
                            bar.update(completed(&engine, &started.run).await, total);
                        }
                    }
                };
                outcome.map(|outcome| (outcome, started.existing))
            }
            Err(e) => Err(e),
        };
        bar.finish();
        let record = match &outcome {
            Ok((outcome, _)) => engine.run_record(&outcome.run).await.ok().flatten(),
            Err(_) => None,
        };
        close(server, engine).await?;
        Ok::<_, CliError>(outcome.map(|(outcome, existing)| (outcome, existing, record))?)
    })?;
    report(ctx, &workflow, &outcome, existing, record.as_ref())
}

/// `--detach`: the submission sent to the engine on the directory's
/// socket, or appended to the log when none answers; prints the run id.
fn detach(
    args: &RunArgs,
    ctx: &mut Context,
    workflow: &Workflow,
    input: &RunInput,
) -> Result<Status, CliError> {
    let id = args.id.as_deref().map(RunId::from);
    let started = if let Some(started) = detach_remote(args, ctx, input)? {
        started
    } else {
        let options = strand_eventlog::LogOptions::default();
        let log = strand_eventlog::EventLog::open(&ctx.data, options)
            .map_err(|source| CliError::ControlOpen { source })?;
        let started = crate::detached::submit(&log, workflow, id, input)?;
        (started.run.into_string(), started.existing)
    };
    let (run, existing) = started;
    let doc = json!({ "run": run, "existing": existing, "detached": true });
    let text = if existing {
        format!("{run} (in the log already)")
    } else {
        run.clone()
    };
    ctx.emit(&doc, &text)?;
    Ok(Status::Ok)
}

/// The submission sent to the engine on the socket: `(run, existing)`, or
/// `None` when no engine answers there.
fn detach_remote(
    args: &RunArgs,
    ctx: &Context,
    input: &RunInput,
) -> Result<Option<(String, bool)>, CliError> {
    if !crate::socket::path(&ctx.data).exists() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&args.file).map_err(|source| CliError::File {
        path: args.file.clone(),
        source,
    })?;
    let body = json!({
        "workflow": text,
        "source": args.file.display().to_string(),
        "id": args.id,
        "input": input,
    });
    let Some(reply) = super::remote::ask(ctx, hyper::Method::POST, &runs_url(), Some(body))? else {
        return Ok(None);
    };
    let started: Started = super::remote::decode(&runs_url(), &reply)?;
    Ok(Some((started.run, started.existing)))
}

/// Where runs are started.
fn runs_url() -> String {
    format!("{}/runs", strand_server::API_PREFIX)
}

/// What the engine answers to a start.
#[derive(Debug, serde::Deserialize)]
struct Started {
    run: String,
    existing: bool,
}

/// Stop serving the socket, then shut the engine down (the log last).
async fn close(server: Option<RunningServer>, engine: Arc<Engine>) -> Result<(), CliError> {
    if let Some(server) = server {
        server.stop().await;
    }
    let engine = Arc::try_unwrap(engine).map_err(|_| {
        CliError::Runtime(std::io::Error::other(
            "the engine is still in use after the control socket stopped",
        ))
    })?;
    engine.shutdown().await?;
    Ok(())
}

/// Print the run's outcome (its final outputs in JSON, their first lines
/// in text); the exit status of a run that completed, or not.
fn report(
    ctx: &mut Context,
    workflow: &Workflow,
    outcome: &RunOutcome,
    existing: bool,
    record: Option<&RunRecord>,
) -> Result<Status, CliError> {
    let counts = outcome.counts;
    let beads: serde_json::Map<String, serde_json::Value> = BeadState::ALL
        .iter()
        .map(|&s| (s.as_str().to_owned(), json!(counts.get(s))))
        .collect();
    let outputs = record.map(final_outputs).unwrap_or_default();
    let doc = json!({
        "run": outcome.run.as_str(),
        "workflow": workflow.name(),
        "existing": existing,
        "state": outcome.status.as_str(),
        "beads": beads,
        "reason": outcome.reason,
        "outputs": outputs,
    });
    let mut text = format!(
        "run {} of {}: {} ({} completed, {} failed)",
        outcome.run.as_str(),
        workflow.name(),
        outcome.status.as_str(),
        counts.get(BeadState::Completed),
        counts.get(BeadState::Failed) + counts.get(BeadState::TimedOut),
    );
    if let Some(reason) = &outcome.reason {
        text.push_str("\nreason: ");
        text.push_str(reason);
    }
    if let Some(record) = record {
        for leaf in record.dag().leaves() {
            let shown = record
                .bead(&leaf)
                .and_then(|b| b.output.as_deref())
                .map(|o| ShownOutput::of(o).cell(60))
                .unwrap_or_default();
            if !shown.is_empty() {
                let _ = write!(text, "\n{leaf}: {shown}");
            }
        }
    }
    ctx.emit(&doc, &text)?;
    Ok(if outcome.status == RunStatus::Completed {
        Status::Ok
    } else {
        Status::Problem
    })
}
