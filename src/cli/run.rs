//! `strand run FILE [--workers N]`: run a workflow durably, or resume it.
//!
//! The workflow's id is its name: running the same file again on the same
//! `--data` resumes it (finished beads are not run again); running it after
//! it finished prints its outcome. Exit 0 when it completed, 1 when it
//! failed, 2 for a bad file or argument (nothing is written then).

use std::path::PathBuf;

use clap::Args;
use serde_json::json;
use strand_projections::{BeadState, WorkflowStatus};

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
    let outcome = runtime.block_on(async {
        let engine = Engine::builder(&ctx.data)
            .workers(args.workers)
            .open()
            .await?;
        let outcome = engine.run(&workflow).await;
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
