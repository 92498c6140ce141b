//! `strand cancel|pause|resume|retry RUN`: operator controls on a run. On a
//! data directory no engine holds, the control's events are appended
//! (synced) and the next engine to open the directory acts on them. Each is
//! idempotent; one that does not apply (retry of a completed run, pause of
//! a finished one) exits 2 and writes nothing.
//!
//! When an engine holds the directory (a `strand run` in progress), the
//! control goes to it through the directory's control socket and takes
//! effect at once; a socket left by a process that died is ignored.

use clap::Args;
use serde_json::json;
use strand_actors::orchestration::RunControl;
use strand_projections::{BeadId, RunId};

use super::{CliError, Context, Status};

/// `strand cancel` arguments.
#[derive(Debug, Args)]
pub struct CancelArgs {
    /// The run.
    pub run: String,
    /// Why (recorded on the run and its beads).
    #[arg(long, default_value = "cancelled by an operator")]
    pub reason: String,
}

/// `strand pause` arguments.
#[derive(Debug, Args)]
pub struct PauseArgs {
    /// The run.
    pub run: String,
    /// Why.
    #[arg(long, default_value = "paused by an operator")]
    pub reason: String,
}

/// `strand resume` arguments.
#[derive(Debug, Args)]
pub struct ResumeArgs {
    /// The run.
    pub run: String,
}

/// `strand retry` arguments.
#[derive(Debug, Args)]
pub struct RetryArgs {
    /// The run (failed or cancelled).
    pub run: String,
    /// Run this bead again, and its descendants (repeatable; default: every
    /// bead that did not complete).
    #[arg(long = "bead")]
    pub beads: Vec<String>,
}

/// Run `strand cancel`.
///
/// # Errors
/// As [`apply`].
pub fn cancel(args: &CancelArgs, ctx: &mut Context) -> Result<Status, CliError> {
    let reason = args.reason.clone();
    apply(ctx, &args.run, &RunControl::Cancel { reason })
}

/// Run `strand pause`.
///
/// # Errors
/// As [`apply`].
pub fn pause(args: &PauseArgs, ctx: &mut Context) -> Result<Status, CliError> {
    let reason = args.reason.clone();
    apply(ctx, &args.run, &RunControl::Pause { reason })
}

/// Run `strand resume`.
///
/// # Errors
/// As [`apply`].
pub fn resume(args: &ResumeArgs, ctx: &mut Context) -> Result<Status, CliError> {
    apply(ctx, &args.run, &RunControl::Resume)
}

/// Run `strand retry`.
///
/// # Errors
/// As [`apply`].
pub fn retry(args: &RetryArgs, ctx: &mut Context) -> Result<Status, CliError> {
    let beads = args
        .beads
        .iter()
        .map(|b| BeadId::from(b.as_str()))
        .collect();
    apply(ctx, &args.run, &RunControl::Retry { beads })
}

/// Through the engine's control socket when one holds the directory, else
/// on the log itself: apply the control, report.
///
/// # Errors
/// [`CliError::ControlOpen`] (no log: exit 2); an unknown run or bead, a
/// control that does not apply (exit 2), through the socket or not.
fn apply(ctx: &mut Context, run: &str, control: &RunControl) -> Result<Status, CliError> {
    let written = if let Some(written) = remote(ctx, run, control)? {
        written
    } else {
        let log =
            crate::controls::open(&ctx.data).map_err(|source| CliError::ControlOpen { source })?;
        crate::controls::apply(&log, &RunId::from(run), control)?
    };
    let doc = json!({
        "run": run,
        "control": control.name(),
        "events_written": written,
        "applied_already": written == 0,
    });
    let text = if written == 0 {
        format!(
            "run {run}: {} applied already; nothing written",
            control.name()
        )
    } else {
        format!(
            "run {run}: {} recorded ({written} events); the next engine on this directory acts on it",
            control.name()
        )
    };
    ctx.emit(&doc, &text)?;
    Ok(Status::Ok)
}

/// The control sent to the engine on the directory's socket: the events it
/// wrote, or `None` when no engine answers there (none runs, or the socket
/// was left by one that died).
fn remote(ctx: &Context, run: &str, control: &RunControl) -> Result<Option<usize>, CliError> {
    let body = match control {
        RunControl::Cancel { reason } | RunControl::Pause { reason } => {
            json!({ "reason": reason })
        }
        RunControl::Retry { beads } => {
            json!({ "beads": beads.iter().map(BeadId::as_str).collect::<Vec<_>>() })
        }
        _ => json!({}),
    };
    let url = format!(
        "{}/runs/{}/{}",
        strand_server::API_PREFIX,
        crate::socket::escape(run),
        control.name()
    );
    let Some(reply) = super::remote::ask(ctx, hyper::Method::POST, &url, Some(body))? else {
        return Ok(None);
    };
    let answer: ControlAnswer = super::remote::decode(&url, &reply)?;
    Ok(Some(answer.events_written))
}

/// What the engine answers to a control.
#[derive(Debug, serde::Deserialize)]
struct ControlAnswer {
    events_written: usize,
}
