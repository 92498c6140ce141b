//! `strand status [RUN]`: runs and their beads (with their outputs, cut for
//! display) as the StateManager projection sees them: the running engine's
//! through its socket, or rebuilt by replay (checkpoint + tail) when no
//! engine holds the directory. Never writes.

use std::fmt::Write as _;

use clap::Args;
use strand_eventlog::EventLog;
use strand_projections::{RunId, RunRecord, StateManager};
use strand_replay::{ReplayEngine, Replayed};

use super::progress::Bar;
use super::{CliError, Context, Status};
use crate::views::{Overview, RunDetail};

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

/// One run's record as the log holds it, and the seq it reflects: its own
/// events folded (through the stream index; the rest of the log is not
/// read). Read-only.
///
/// # Errors
/// The log cannot be opened or read; [`CliError::UnknownWorkflow`].
pub(crate) fn local_run(ctx: &Context, id: &str) -> Result<(RunRecord, u64), CliError> {
    let log = EventLog::open_read_only(&ctx.data)?;
    let seq = log.last_seq().get();
    let record = strand_actors::run_history(&log, &RunId::from(id))?
        .ok_or_else(|| CliError::UnknownWorkflow { id: id.to_owned() })?;
    Ok((record, seq))
}

/// Run `strand status`: asks the engine holding the directory, or
/// replays the log when none does.
///
/// # Errors
/// The log cannot be opened or replayed; [`CliError::UnknownWorkflow`];
/// the engine refused.
pub fn run(args: &StatusArgs, ctx: &mut Context) -> Result<Status, CliError> {
    match &args.workflow {
        None => {
            let url = &format!("{}/status", strand_server::API_PREFIX);
            let overview =
                if let Some(reply) = super::remote::ask(ctx, hyper::Method::GET, url, None)? {
                    super::remote::decode::<Overview>(url, &reply)?
                } else {
                    let replayed = replayed_state(ctx)?;
                    Overview::of(&replayed.projection, replayed.report.last_seq)
                };
            show_overview(ctx, &overview)
        }
        Some(id) => {
            let url = format!(
                "{}/runs/{}",
                strand_server::API_PREFIX,
                crate::socket::escape(id)
            );
            let detail = match super::remote::ask(ctx, hyper::Method::GET, &url, None)? {
                Some(reply) if reply.status == hyper::StatusCode::NOT_FOUND => {
                    return Err(CliError::UnknownWorkflow { id: id.clone() });
                }
                Some(reply) => super::remote::decode::<RunDetail>(&url, &reply)?,
                None => {
                    let (record, seq) = local_run(ctx, id)?;
                    RunDetail::of(&record, seq)
                }
            };
            show_run(ctx, &detail)
        }
    }
}

fn show_overview(ctx: &mut Context, overview: &Overview) -> Result<Status, CliError> {
    let mut text = format!(
        "{:<20} {:<20} {:<10} {:>7} {:>9} {:>7} {:>8} {:>8}\n",
        "WORKFLOW", "NAME", "STATUS", "BEADS", "COMPLETED", "FAILED", "RUNNING", "PENDING"
    );
    for w in &overview.workflows {
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
        "{} workflows, {} of {} workers alive, state at seq {}",
        overview.workflows.len(),
        overview.workers.alive,
        overview.workers.total,
        overview.seq,
    );
    ctx.emit(&to_json(overview)?, &text)?;
    Ok(Status::Ok)
}

fn show_run(ctx: &mut Context, detail: &RunDetail) -> Result<Status, CliError> {
    let summary = &detail.workflow;
    let mut text = format!(
        "run {} ({}, definition {}): {}, {} of {} beads completed, state at seq {}\n{:<24} {:<10} {:>8} {:<12} {:<32} {}\n",
        summary.id.as_str(),
        summary.name,
        summary.definition.short(),
        summary.status.as_str(),
        summary.counts.completed,
        summary.counts.total,
        detail.seq,
        "BEAD",
        "STATE",
        "ATTEMPTS",
        "WORKER",
        "OUTPUT",
        "LAST ERROR"
    );
    for bead in &detail.beads {
        let _ = writeln!(
            text,
            "{:<24} {:<10} {:>8} {:<12} {:<32} {}",
            bead.id,
            bead.state.as_str(),
            bead.attempts,
            bead.worker.as_deref().unwrap_or("-"),
            bead.output.as_ref().map(|o| o.cell(30)).unwrap_or_default(),
            bead.last_error.as_deref().unwrap_or("")
        );
    }
    ctx.emit(&to_json(detail)?, text.trim_end())?;
    Ok(Status::Ok)
}
