//! `strand log trim` and `strand log archive list`: the log trimmed from
//! the front, on a data directory no engine holds.
//!
//! A trim first expires the finished runs past `--retention` (if given),
//! then removes the records nothing still needs (see
//! `strand_replay::TrimPlan`), archiving them first under `DATA/archive/`
//! (or `--archive DIR`) unless `--no-archive`. Without `--yes` it only
//! shows what would go and what holds the rest back.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand};
use serde::Serialize;
use serde_json::json;
use strand_actors::clock::{Clock, SystemClock};
use strand_engine::trimming::{ArchiveTo, TrimSchedule};
use strand_eventlog::{EventLog, LogOptions, Seq, list_segments};
use strand_projections::{DomainEvent, EventMeta, Projection, StateManager};
use strand_replay::{ReplayEngine, StateHold, TrimBounds};

use super::log::dir_bytes;
use super::progress::Bar;
use super::retention::RetentionArgs;
use super::{CliError, Context, Status};

/// The archive's directory under the data directory, by default.
const ARCHIVE: &str = strand_engine::trimming::ARCHIVE_DIR;

/// How often `strand serve` trims when it has a retention policy and no
/// `--trim-every`.
const SERVE_TRIM_EVERY: Duration = Duration::from_secs(600);

/// The trimming flags of `strand serve`: on with a retention policy.
#[derive(Debug, Args, Clone)]
pub struct ServeTrimArgs {
    /// Trim the log's front this often (default 10m when a retention
    /// policy is set; without one, only when given).
    #[arg(long, value_name = "AGE", value_parser = humantime::parse_duration)]
    pub trim_every: Option<Duration>,
    /// Never trim on a schedule.
    #[arg(long, conflicts_with = "trim_every")]
    pub no_trim: bool,
    /// What a trim keeps, and where what it removes goes.
    #[command(flatten)]
    pub keep: TrimKeepArgs,
}

/// What a trim keeps and where the records it removes go: the flags
/// `strand log trim` and `strand serve` share.
#[derive(Debug, Args, Clone)]
pub struct TrimKeepArgs {
    /// Remove no record younger than this (what supervisors fold).
    #[arg(long, default_value = "1h", value_parser = humantime::parse_duration)]
    pub keep_recent: Duration,
    /// Where the removed records are archived (default `DATA/archive`).
    #[arg(long, value_name = "DIR", conflicts_with = "no_archive")]
    pub archive: Option<PathBuf>,
    /// Remove the records without archiving them.
    #[arg(long)]
    pub no_archive: bool,
}

impl TrimKeepArgs {
    /// Where the removed records go.
    pub fn archive_to(&self) -> ArchiveTo {
        match (&self.archive, self.no_archive) {
            (_, true) => ArchiveTo::Nowhere,
            (Some(dir), false) => ArchiveTo::Dir(dir.clone()),
            (None, false) => ArchiveTo::DataDir,
        }
    }
}

impl ServeTrimArgs {
    /// The engine's trim schedule, given whether its retention policy
    /// keeps every run forever.
    ///
    /// # Errors
    /// [`CliError::Usage`] for a `--trim-every` of zero.
    pub fn schedule(&self, forever: bool) -> Result<TrimSchedule, CliError> {
        if self.trim_every == Some(Duration::ZERO) {
            return Err(CliError::Usage {
                name: "--trim-every",
                reason: "must be longer than zero".into(),
            });
        }
        let every = match (self.no_trim, self.trim_every) {
            (true, _) => None,
            (false, Some(every)) => Some(every),
            (false, None) => (!forever).then_some(SERVE_TRIM_EVERY),
        };
        Ok(TrimSchedule {
            every,
            keep_recent: self.keep.keep_recent,
            archive: self.keep.archive_to(),
        })
    }
}

/// `strand log trim` arguments.
#[derive(Debug, Args)]
pub struct TrimArgs {
    /// Remove no record at or after this seq.
    #[arg(long, value_name = "SEQ")]
    pub before: Option<u64>,
    /// Expire the finished runs past this retention first.
    #[command(flatten)]
    pub retention: RetentionArgs,
    /// What the trim keeps, and where what it removes goes.
    #[command(flatten)]
    pub keep: TrimKeepArgs,
    /// Do it (otherwise: show what would be done).
    #[arg(long)]
    pub yes: bool,
}

/// `strand log archive ...`
#[derive(Debug, Subcommand)]
pub enum ArchiveCommand {
    /// The archive's segments, in seq order.
    List(ArchiveArgs),
}

/// `strand log archive list` arguments.
#[derive(Debug, Args)]
pub struct ArchiveArgs {
    /// The archive's directory (default `DATA/archive`).
    #[arg(long, value_name = "DIR")]
    pub archive: Option<PathBuf>,
}

fn ms(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// Run `strand log trim`.
///
/// # Errors
/// Bad flags (exit 2); the log cannot be opened (an engine holds it) or
/// replayed; the trim fails (nothing is removed then).
pub fn trim(args: &TrimArgs, ctx: &mut Context) -> Result<Status, CliError> {
    if args.before == Some(0) {
        return Err(CliError::Usage {
            name: "--before",
            reason: "seqs start at 1".into(),
        });
    }
    let policy = args.retention.policy()?;
    let archive = args.keep.archive_to().dir(&ctx.data);
    let mut options = LogOptions::default();
    options.create_if_missing = false;
    let log = EventLog::open(&ctx.data, options)?;
    let outcome = plan_and_trim(args, ctx, &log, &policy, archive.as_ref());
    // Closed whatever happened: the close records a clean end.
    let closed = log.close_blocking();
    drop(log);
    let mut doc = outcome?;
    closed?;
    if args.yes {
        doc.log_bytes_after = Some(dir_bytes(&ctx.data)?);
    }
    let json = serde_json::to_value(&doc).map_err(|e| CliError::Usage {
        name: "-o json",
        reason: e.to_string(),
    })?;
    ctx.emit(&json, &doc.describe())?;
    Ok(Status::Ok)
}

/// What `strand log trim` did, or would do.
#[derive(Debug, Serialize)]
struct TrimDoc {
    dry_run: bool,
    expired_runs: usize,
    first_seq: u64,
    upto: u64,
    records: u64,
    held_by: String,
    archive: Option<String>,
    segment: Option<SegmentDoc>,
    log_bytes_before: u64,
    log_bytes_after: Option<u64>,
}

/// The archive segment a trim wrote.
#[derive(Debug, Serialize)]
struct SegmentDoc {
    path: String,
    first_seq: u64,
    last_seq: u64,
    bytes: u64,
}

impl TrimDoc {
    fn describe(&self) -> String {
        let (verb_runs, verb_records) = if self.dry_run {
            ("would expire", "and remove")
        } else {
            ("expired", "removed")
        };
        let mut text = format!(
            "{verb_runs} {} runs, {verb_records} {} records (seq {}..={}), held back by {}",
            self.expired_runs, self.records, self.first_seq, self.upto, self.held_by
        );
        if let Some(segment) = &self.segment {
            let _ = write!(text, "\narchived to {}", segment.path);
        } else if self.archive.is_none() && self.records > 0 {
            text.push_str("\nnot archived (--no-archive)");
        }
        let _ = write!(text, "\nlog bytes: {}", self.log_bytes_before);
        if let Some(after) = self.log_bytes_after {
            let _ = write!(text, " -> {after}");
        }
        if self.dry_run {
            text.push_str("\ndry run: nothing written (run again with --yes)");
        }
        text
    }
}

fn plan_and_trim(
    args: &TrimArgs,
    ctx: &Context,
    log: &EventLog,
    policy: &strand_projections::RetentionPolicy,
    archive: Option<&PathBuf>,
) -> Result<TrimDoc, CliError> {
    let before_bytes = dir_bytes(&ctx.data)?;
    let replay = ReplayEngine::new(log.clone());
    let mut state = replay.rebuild::<StateManager>(&mut |_| {})?.projection;
    let now = SystemClock.now_ms();
    let expired = state.expired(policy, now, usize::MAX);
    let events: Vec<DomainEvent> = expired
        .iter()
        .map(|run| DomainEvent::RunExpired { run: run.clone() })
        .collect();
    // Applied to the state first (a dry run's "what if"; for real, the
    // check that the log holds only what its projection accepts).
    let mut after = state.clone();
    for (seq, event) in (after.applied_seq() + 1..).zip(&events) {
        after
            .apply(EventMeta { seq, at_ms: now }, event.clone())
            .map_err(CliError::Projection)?;
    }
    if args.yes && !events.is_empty() {
        log.append_blocking(strand_actors::encode(&events)?)?;
        state = replay.rebuild::<StateManager>(&mut |_| {})?.projection;
    } else {
        state = after;
    }
    let bounds = TrimBounds {
        before: args.before.map(Seq),
        not_after_ms: now.saturating_sub(ms(args.keep.keep_recent)),
    };
    let plan = replay.plan_trim(&StateHold::of(&state), bounds)?;
    let mut doc = TrimDoc {
        dry_run: !args.yes,
        expired_runs: expired.len(),
        first_seq: plan.first.get(),
        upto: plan.upto.get(),
        records: plan.records(),
        held_by: plan.limit.describe(),
        archive: archive.map(|a| a.display().to_string()),
        segment: None,
        log_bytes_before: before_bytes,
        log_bytes_after: None,
    };
    if args.yes && plan.records() > 0 {
        let request = plan.request(archive.cloned())?;
        let bar = Bar::new(ctx, "archive", "records");
        let report = log.trim(&request, &mut |done, total| bar.update(done, total))?;
        bar.finish();
        doc.segment = report.segment.map(|segment| SegmentDoc {
            path: segment.path.display().to_string(),
            first_seq: segment.first.get(),
            last_seq: segment.last.get(),
            bytes: segment.bytes,
        });
    }
    Ok(doc)
}

/// Run `strand log archive ...`.
///
/// # Errors
/// The archive cannot be read; a segment's header does not read.
pub fn archive(command: &ArchiveCommand, ctx: &mut Context) -> Result<Status, CliError> {
    let ArchiveCommand::List(args) = command;
    let dir = args
        .archive
        .clone()
        .unwrap_or_else(|| ctx.data.join(ARCHIVE));
    let segments = list_segments(&dir)?;
    let listed: Vec<serde_json::Value> = segments
        .iter()
        .map(|s| {
            json!({
                "path": s.path.display().to_string(),
                "first_seq": s.first.get(),
                "last_seq": s.first.get() + s.records.saturating_sub(1),
                "records": s.records,
                "bytes": s.bytes,
            })
        })
        .collect();
    let mut text = format!("{} segments in {}", segments.len(), dir.display());
    for s in &segments {
        let _ = write!(
            text,
            "\n{}  seq {}..={}  {} records  {} bytes",
            s.path.display(),
            s.first,
            s.first.get() + s.records.saturating_sub(1),
            s.records,
            s.bytes
        );
    }
    let doc = json!({ "archive": dir.display().to_string(), "segments": listed });
    ctx.emit(&doc, &text)?;
    Ok(Status::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(trim_every: Option<Duration>, no_trim: bool) -> ServeTrimArgs {
        ServeTrimArgs {
            trim_every,
            no_trim,
            keep: TrimKeepArgs {
                keep_recent: Duration::from_secs(3600),
                archive: None,
                no_archive: false,
            },
        }
    }

    #[test]
    fn given_serve_flags_when_scheduled_then_trimming_follows_the_retention_policy() {
        let every = |flags: &ServeTrimArgs, forever| flags.schedule(forever).unwrap().every;
        assert_eq!(every(&flags(None, false), false), Some(SERVE_TRIM_EVERY));
        assert_eq!(
            every(&flags(None, false), true),
            None,
            "no policy, no trims"
        );
        let asked = Some(Duration::from_secs(30));
        assert_eq!(every(&flags(asked, false), true), asked);
        assert_eq!(every(&flags(None, true), false), None, "--no-trim");
        assert!(matches!(
            flags(Some(Duration::ZERO), false).schedule(false),
            Err(CliError::Usage { .. })
        ));
    }

    #[test]
    fn given_archive_flags_when_scheduled_then_the_archive_goes_where_asked() {
        let mut args = flags(None, false);
        assert_eq!(args.schedule(false).unwrap().archive, ArchiveTo::DataDir);
        args.keep.archive = Some(PathBuf::from("/elsewhere"));
        assert_eq!(
            args.schedule(false).unwrap().archive,
            ArchiveTo::Dir(PathBuf::from("/elsewhere"))
        );
        args.keep.archive = None;
        args.keep.no_archive = true;
        assert_eq!(args.schedule(false).unwrap().archive, ArchiveTo::Nowhere);
    }
}
