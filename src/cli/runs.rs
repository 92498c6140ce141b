//! `strand runs [--state S] [--definition NAME] [--limit N] [--since T]`:
//! runs, newest first, with their state, bead counts, start and end times.
//! Asks the engine holding the directory, else reads the log; never writes.

use std::fmt::Write as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::{Args, ValueEnum};
use strand_projections::RunStatus;

use super::status::replayed_state;
use super::{CliError, Context, Status};
use crate::views::{RunFilter, RunList};

/// `--state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StateArg {
    /// Not finished.
    Running,
    /// Every bead completed.
    Completed,
    /// Given up on.
    Failed,
    /// Cancelled.
    Cancelled,
}

impl StateArg {
    fn status(self) -> RunStatus {
        match self {
            Self::Running => RunStatus::Running,
            Self::Completed => RunStatus::Completed,
            Self::Failed => RunStatus::Failed,
            Self::Cancelled => RunStatus::Cancelled,
        }
    }
}

/// `strand runs` arguments.
#[derive(Debug, Args)]
pub struct RunsArgs {
    /// Only runs in this state.
    #[arg(long, value_enum)]
    pub state: Option<StateArg>,
    /// Only runs of this definition name.
    #[arg(long)]
    pub definition: Option<String>,
    /// At most this many (the newest).
    #[arg(long)]
    pub limit: Option<usize>,
    /// Only runs started since: an RFC 3339 time (`2026-12-01T00:00:00Z`)
    /// or a duration ago (`24h`).
    #[arg(long)]
    pub since: Option<String>,
}

/// `--since` as ms since the epoch.
fn since_ms(since: &str) -> Result<u64, CliError> {
    let at = if let Ok(at) = humantime::parse_rfc3339_weak(since) {
        at
    } else {
        let ago = humantime::parse_duration(since).map_err(|_| CliError::Usage {
            name: "--since",
            reason: format!("{since:?} is neither an RFC 3339 time nor a duration"),
        })?;
        SystemTime::now().checked_sub(ago).unwrap_or(UNIX_EPOCH)
    };
    let ms = at
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_millis();
    Ok(u64::try_from(ms).unwrap_or(u64::MAX))
}

/// Run `strand runs`: asks the engine holding the directory, or replays
/// the log when none does.
///
/// # Errors
/// A bad `--since` (exit 2); the log cannot be read; the engine refused.
pub fn run(args: &RunsArgs, ctx: &mut Context) -> Result<Status, CliError> {
    let filter = RunFilter {
        state: args.state.map(StateArg::status),
        definition: args.definition.clone(),
        limit: args.limit,
        since_ms: args.since.as_deref().map(since_ms).transpose()?,
        before: None,
    };
    let url = format!(
        "{}/runs{}",
        strand_server::API_PREFIX,
        filter.query_string()
    );
    let list = match super::remote::ask(ctx, hyper::Method::GET, &url, None)? {
        Some(reply) => super::remote::decode::<RunList>(&url, &reply)?,
        None => RunList::of(&replayed_state(ctx)?.projection, &filter),
    };
    let doc = serde_json::to_value(&list).map_err(|e| CliError::Output(e.into()))?;
    let mut text = format!(
        "{:<40} {:<20} {:<10} {:>9} {:<20} {:<20}\n",
        "RUN", "DEFINITION", "STATE", "COMPLETED", "STARTED", "FINISHED"
    );
    for r in &list.runs {
        let _ = writeln!(
            text,
            "{:<40} {:<20} {:<10} {:>9} {:<20} {:<20}",
            r.id.as_str(),
            r.definition,
            if r.paused { "paused" } else { r.state.as_str() },
            format!("{}/{}", r.beads.completed, r.beads.total),
            r.started_at,
            r.finished_at.as_deref().unwrap_or_default(),
        );
    }
    let _ = write!(text, "{} runs", list.runs.len());
    ctx.emit(&doc, &text)?;
    Ok(Status::Ok)
}
