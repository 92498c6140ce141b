//! `strand runs [--state S] [--definition NAME] [--limit N] [--since T]`:
//! runs, newest first, with their state, bead counts, start and end times.
//! Reads the log; never writes.

use std::fmt::Write as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::{Args, ValueEnum};
use serde_json::json;
use strand_projections::{RunStatus, RunSummary};

use super::status::replayed_state;
use super::{CliError, Context, Status};

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

/// An `at_ms` as RFC 3339 (seconds).
fn time(at_ms: u64) -> String {
    humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_millis(at_ms)).to_string()
}

/// Run `strand runs`.
///
/// # Errors
/// A bad `--since` (exit 2); the log cannot be read.
pub fn run(args: &RunsArgs, ctx: &mut Context) -> Result<Status, CliError> {
    let since = args.since.as_deref().map(since_ms).transpose()?;
    let replayed = replayed_state(ctx)?;
    let mut runs: Vec<RunSummary> = replayed
        .projection
        .workflows()
        .into_iter()
        .filter(|r| args.state.is_none_or(|s| r.status == s.status()))
        .filter(|r| args.definition.as_deref().is_none_or(|d| r.name == d))
        .filter(|r| since.is_none_or(|since| r.submitted_at_ms >= since))
        .collect();
    runs.sort_by(|a, b| (b.submitted_at_ms, &b.id).cmp(&(a.submitted_at_ms, &a.id)));
    runs.truncate(args.limit.unwrap_or(usize::MAX));
    let doc = json!({
        "runs": runs.iter().map(|r| json!({
            "id": r.id,
            "definition": r.name,
            "definition_hash": r.definition,
            "state": r.status.as_str(),
            "beads": r.counts,
            "started_at": time(r.submitted_at_ms),
            "started_at_ms": r.submitted_at_ms,
            "finished_at": r.finished_at_ms.map(time),
            "finished_at_ms": r.finished_at_ms,
            "reason": r.reason,
        })).collect::<Vec<_>>(),
    });
    let mut text = format!(
        "{:<40} {:<20} {:<10} {:>9} {:<20} {:<20}\n",
        "RUN", "DEFINITION", "STATE", "COMPLETED", "STARTED", "FINISHED"
    );
    for r in &runs {
        let _ = writeln!(
            text,
            "{:<40} {:<20} {:<10} {:>9} {:<20} {:<20}",
            r.id.as_str(),
            r.name,
            r.status.as_str(),
            format!("{}/{}", r.counts.completed, r.counts.total),
            time(r.submitted_at_ms),
            r.finished_at_ms.map(time).unwrap_or_default(),
        );
    }
    let _ = write!(text, "{} runs", runs.len());
    ctx.emit(&doc, &text)?;
    Ok(Status::Ok)
}
