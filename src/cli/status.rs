//! `strand status [WORKFLOW]`: workflows and their beads as the StateManager
//! projection sees them, rebuilt by replay (checkpoint + tail). Never writes.

use std::fmt::Write as _;

use clap::Args;
use serde_json::json;
use strand_eventlog::EventLog;
use strand_projections::{StateManager, WorkflowId};
use strand_replay::ReplayEngine;

use super::progress::Bar;
use super::{CliError, Context, Status};

/// `strand status` arguments.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Show this workflow's beads (default: a line per workflow).
    pub workflow: Option<String>,
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<serde_json::Value, CliError> {
    serde_json::to_value(value).map_err(|e| CliError::Output(std::io::Error::other(e)))
}

/// Run `strand status`.
///
/// # Errors
/// The log cannot be opened or replayed; [`CliError::UnknownWorkflow`].
pub fn run(args: &StatusArgs, ctx: &mut Context) -> Result<Status, CliError> {
    let log = EventLog::open_read_only(&ctx.data)?;
    let bar = Bar::new(ctx, "replay", "events");
    let replayed =
        ReplayEngine::new(log).rebuild::<StateManager>(&mut |p| bar.update(p.seq, p.last_seq))?;
    bar.finish();
    let state = &replayed.projection;
    let seq = replayed.report.last_seq;
    match &args.workflow {
        None => {
            let workflows = state.workflows();
            let workers = state.workers();
            let alive = workers.iter().filter(|w| w.record.alive).count();
            let doc = json!({
                "seq": seq,
                "state_hash": replayed.report.state_hash.to_string(),
                "workflows": to_json(&workflows)?,
                "workers": { "total": workers.len(), "alive": alive },
            });
            let mut text = format!(
                "{:<20} {:<20} {:<10} {:>7} {:>9} {:>7} {:>8} {:>8}\n",
                "WORKFLOW", "NAME", "STATUS", "BEADS", "COMPLETED", "FAILED", "RUNNING", "PENDING"
            );
            for w in &workflows {
                let c = &w.counts;
                let _ = writeln!(
                    text,
                    "{:<20} {:<20} {:<10} {:>7} {:>9} {:>7} {:>8} {:>8}",
                    w.id.as_str(),
                    w.name,
                    w.status.as_str(),
                    c.total,
                    c.completed,
                    c.failed + c.timed_out,
                    c.running + c.scheduled,
                    c.pending + c.ready,
                );
            }
            let _ = write!(
                text,
                "{} workflows, {alive} of {} workers alive, state at seq {seq}",
                workflows.len(),
                workers.len()
            );
            ctx.emit(&doc, &text)?;
        }
        Some(id) => {
            let workflow = state
                .workflow(&WorkflowId::from(id.as_str()))
                .ok_or_else(|| CliError::UnknownWorkflow { id: id.clone() })?;
            let beads: Vec<serde_json::Value> = workflow
                .beads()
                .map(|(bead, record)| {
                    let mut doc = to_json(record)?;
                    if let serde_json::Value::Object(map) = &mut doc {
                        map.insert("id".to_owned(), json!(bead.as_str()));
                    }
                    Ok(doc)
                })
                .collect::<Result<_, CliError>>()?;
            let summary = workflow.summary();
            let doc = json!({
                "seq": seq,
                "workflow": to_json(&summary)?,
                "beads": beads,
            });
            let mut text = format!(
                "workflow {} ({}): {}, {} of {} beads completed, state at seq {seq}\n{:<24} {:<10} {:>8} {:<12} {}\n",
                summary.id.as_str(),
                summary.name,
                summary.status.as_str(),
                summary.counts.completed,
                summary.counts.total,
                "BEAD",
                "STATE",
                "ATTEMPTS",
                "WORKER",
                "LAST ERROR"
            );
            for (bead, record) in workflow.beads() {
                let _ = writeln!(
                    text,
                    "{:<24} {:<10} {:>8} {:<12} {}",
                    bead.as_str(),
                    record.state.as_str(),
                    record.attempts,
                    record.worker.as_ref().map_or("-", |w| w.as_str()),
                    record.last_error.as_deref().unwrap_or("")
                );
            }
            ctx.emit(&doc, text.trim_end())?;
        }
    }
    Ok(Status::Ok)
}
