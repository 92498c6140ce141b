//! `strand run FILE [--workers N]`: run a workflow durably, or resume it.
//!
//! The workflow's id is its name: running the same file again on the same
//! `--data` resumes it (finished beads are not run again); running it after
//! it finished prints its outcome. Exit 0 when it completed, 1 when it
//! failed, 2 for a bad file or argument (nothing is written then).

use std::path::PathBuf;

use clap::Args;
use serde_json::json;
use strand_projections::{BeadState, WorkflowId, WorkflowStatus};

use crate::cli::progress::Bar;
use crate::cli::{CliError, Context, Status};
use crate::engine::Engine;
use crate::workflow::Workflow;

/// `strand run` arguments.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The workflow file (TOML).
    pub file: PathBuf,
    /// Beads run at once.
    #[arg(long, default_value_t = 100)]
    pub workers: usize,
}

/// Beads of `workflow` completed so far, as the state manager sees them.
async fn completed(engine: &Engine, workflow: &WorkflowId) -> u64 {
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

/// Run the command.
///
/// # Errors
/// A bad workflow file (exit 2); log and runtime errors.
pub fn run(args: &RunArgs, ctx: &mut Context) -> Result<Status, CliError> {
    if args.workers == 0 {
        return Err(CliError::Usage {
            name: "--workers",
            reason: "must be at least 1".into(),
        });
    }
    // Refused before anything is opened or written.
    let workflow = Workflow::from_file(&args.file)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(CliError::Runtime)?;
    let bar = Bar::new(ctx, workflow.name(), "beads");
    let total = u64::try_from(workflow.tasks().len()).unwrap_or(u64::MAX);
    let outcome = runtime.block_on(async {
        let engine = Engine::builder(&ctx.data)
            .workers(args.workers)
            .open()
            .await?;
        let outcome = match engine.submit(&workflow).await {
            Ok(id) if !bar.is_drawn() => engine.wait(&id).await,
            Ok(id) => {
                let waiting = engine.wait(&id);
                tokio::pin!(waiting);
                let mut log = engine.runtime().store().watch_status();
                loop {
                    tokio::select! {
                        outcome = &mut waiting => break outcome,
                        changed = log.changed() => {
                            if changed.is_err() {
                                break waiting.await;
                            }
                            bar.update(completed(&engine, &id).await, total);
                        }
                    }
                }
            }
            Err(e) => Err(e),
        };
        bar.finish();
        engine.shutdown().await?;
        outcome
    })?;
    let counts = outcome.counts;
    let beads: serde_json::Map<String, serde_json::Value> = BeadState::ALL
        .iter()
        .map(|&s| (s.as_str().to_owned(), json!(counts.get(s))))
        .collect();
    let doc = json!({
        "workflow": outcome.workflow.as_str(),
        "state": outcome.status.as_str(),
        "beads": beads,
        "reason": outcome.reason,
    });
    let mut text = format!(
        "workflow {}: {} ({} completed, {} failed)",
        outcome.workflow.as_str(),
        outcome.status.as_str(),
        counts.get(BeadState::Completed),
        counts.get(BeadState::Failed) + counts.get(BeadState::TimedOut),
    );
    if let Some(reason) = &outcome.reason {
        text.push_str("\nreason: ");
        text.push_str(reason);
    }
    ctx.emit(&doc, &text)?;
    Ok(if outcome.status == WorkflowStatus::Completed {
        Status::Ok
    } else {
        Status::Problem
    })
}
