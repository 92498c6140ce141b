//! `strand status [RUN]`: runs and their beads (with their outputs, cut for
//! display) as the StateManager
//! projection sees them, rebuilt by replay (checkpoint + tail). Never writes.

use std::fmt::Write as _;

use clap::Args;
use serde_json::json;
use strand_eventlog::EventLog;
use strand_projections::{RunId, StateManager};
use strand_replay::{ReplayEngine, Replayed};

use super::progress::Bar;
use super::shown::{final_outputs, output_cell, output_json};
use super::{CliError, Context, Status};

/// `strand status` arguments.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Show this run's beads and outputs (default: a line per run).
    pub workflow: Option<String>,
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<serde_json::Value, CliError> {
    serde_json::to_value(value).map_err(|e| CliError::Output(std::io::Error::other(e)))
}

/// The state of the log at `--data`, rebuilt read-only (checkpoint + tail),
/// with a progress bar on a terminal.
///
/// # Errors
/// The log cannot be opened or replayed.
pub(crate) fn replayed_state(ctx: &Context) -> Result<Replayed<StateManager>, CliError> {
    let log = EventLog::open_read_only(&ctx.data)?;
    let bar = Bar::new(ctx, "replay", "events");
    let replayed =
        ReplayEngine::new(log).rebuild::<StateManager>(&mut |p| bar.update(p.seq, p.last_seq))?;
    bar.finish();
    Ok(replayed)
}

/// Run `strand status`.
///
/// # Errors
/// The log cannot be opened or replayed; [`CliError::UnknownWorkflow`].
pub fn run(args: &StatusArgs, ctx: &mut Context) -> Result<Status, CliError> {
    let replayed = replayed_state(ctx)?;
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
                .workflow(&RunId::from(id.as_str()))
                .ok_or_else(|| CliError::UnknownWorkflow { id: id.clone() })?;
            let beads: Vec<serde_json::Value> = workflow
                .beads()
                .map(|(bead, record)| {
                    let mut doc = to_json(record)?;
                    if let serde_json::Value::Object(map) = &mut doc {
                        map.insert("id".to_owned(), json!(bead.as_str()));
                        // Cut for display; `strand output` prints it whole.
                        let shown = record.output.as_deref().map(output_json);
                        map.insert("output".to_owned(), json!(shown));
                    }
                    Ok(doc)
                })
                .collect::<Result<_, CliError>>()?;
            let summary = workflow.summary();
            let doc = json!({
                "seq": seq,
                "workflow": to_json(&summary)?,
                "input": serde_json::from_str::<serde_json::Value>(workflow.input())
                    .unwrap_or_else(|_| json!(workflow.input().as_ref())),
                "beads": beads,
                "outputs": final_outputs(workflow),
            });
            let mut text = format!(
                "run {} ({}, definition {}): {}, {} of {} beads completed, state at seq {seq}\n{:<24} {:<10} {:>8} {:<12} {:<32} {}\n",
                summary.id.as_str(),
                summary.name,
                summary.definition.short(),
                summary.status.as_str(),
                summary.counts.completed,
                summary.counts.total,
                "BEAD",
                "STATE",
                "ATTEMPTS",
                "WORKER",
                "OUTPUT",
                "LAST ERROR"
            );
            for (bead, record) in workflow.beads() {
                let _ = writeln!(
                    text,
                    "{:<24} {:<10} {:>8} {:<12} {:<32} {}",
                    bead.as_str(),
                    record.state.as_str(),
                    record.attempts,
                    record.worker.as_ref().map_or("-", |w| w.as_str()),
                    output_cell(record.output.as_deref(), 30),
                    record.last_error.as_deref().unwrap_or("")
                );
            }
            ctx.emit(&doc, text.trim_end())?;
        }
    }
    Ok(Status::Ok)
}
