//! `strand repair truncate --after SEQ [--yes] [--backup DIR]`.
//!
//! Without `--yes` it is a dry run: it opens the log read-only and prints
//! what would be removed. With `--yes` it first copies the database aside
//! (path printed), then removes every event after SEQ and every checkpoint
//! newer than SEQ in one synced write, and verifies the log.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use clap::{Args, Subcommand};
use serde_json::{Value, json};
use strand_eventlog::Seq;
use strand_eventlog::repair::{self, TruncatePlan};

use super::{CliError, Context, Status};

/// `strand repair ...`
#[derive(Debug, Subcommand)]
pub enum RepairCommand {
    /// Remove every event after a seq (a dry run unless `--yes`).
    Truncate(TruncateArgs),
}

/// `strand repair truncate` arguments.
#[derive(Debug, Args)]
pub struct TruncateArgs {
    /// Keep events up to and including this seq.
    #[arg(long)]
    pub after: u64,
    /// Do it (after copying the database aside); without it, only print
    /// what would be removed.
    #[arg(long)]
    pub yes: bool,
    /// Where the copy goes (must not exist; default: beside the data
    /// directory, named after it and the time).
    #[arg(long)]
    pub backup: Option<PathBuf>,
}

/// Run a `repair` subcommand.
///
/// # Errors
/// The log cannot be opened; the backup or the truncation fails.
pub fn run(command: &RepairCommand, ctx: &mut Context) -> Result<Status, CliError> {
    match command {
        RepairCommand::Truncate(args) => truncate(args, ctx),
    }
}

fn default_backup(data: &Path) -> PathBuf {
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let name = data.file_name().map_or_else(
        || "strand-data".into(),
        |n| n.to_string_lossy().into_owned(),
    );
    data.with_file_name(format!("{name}.backup-{millis}"))
}

fn plan_json(plan: &TruncatePlan) -> Value {
    json!({
        "after": plan.after.get(),
        "last_seq": plan.last_seq.get(),
        "records_removed": plan.records,
        "streams": plan.streams.iter().map(|(s, n)| json!({"stream": s, "events": n})).collect::<Vec<_>>(),
        "checkpoints_removed": plan.checkpoints.iter().map(|c| json!({
            "name": c.name, "id": c.id, "seq": c.seq.map(Seq::get),
        })).collect::<Vec<_>>(),
    })
}

/// `doc` (an object) with `fields` added.
fn with_fields<const N: usize>(mut doc: Value, fields: [(&str, Value); N]) -> Value {
    if let Value::Object(map) = &mut doc {
        for (key, value) in fields {
            map.insert(key.to_owned(), value);
        }
    }
    doc
}

fn plan_text(plan: &TruncatePlan, verb: &str) -> String {
    let mut text = format!(
        "{verb} {} events after seq {} (log ends at seq {})",
        plan.records, plan.after, plan.last_seq
    );
    for (stream, n) in &plan.streams {
        let _ = write!(text, "\n  stream {stream}: {n} events");
    }
    for cp in &plan.checkpoints {
        let at = cp
            .seq
            .map_or_else(|| "unreadable".to_owned(), |s| format!("seq {s}"));
        let _ = write!(
            text,
            "\n  checkpoint {:?} generation {} ({at})",
            cp.name, cp.id
        );
    }
    text
}

fn truncate(args: &TruncateArgs, ctx: &mut Context) -> Result<Status, CliError> {
    let after = Seq(args.after);
    if !args.yes {
        let plan = repair::plan_truncate(&ctx.data, after)?;
        let doc = with_fields(
            plan_json(&plan),
            [("dry_run", json!(true)), ("backup", Value::Null)],
        );
        let text = format!(
            "{}\ndry run: nothing was changed; add --yes to truncate",
            plan_text(&plan, "would remove")
        );
        ctx.emit(&doc, &text)?;
        return Ok(Status::Ok);
    }
    let backup = args
        .backup
        .clone()
        .unwrap_or_else(|| default_backup(&ctx.data));
    let outcome = repair::truncate_after(&ctx.data, after, &backup)?;
    let doc = with_fields(
        plan_json(&outcome.plan),
        [
            ("dry_run", json!(false)),
            ("backup", json!(outcome.backup.display().to_string())),
            (
                "verify",
                json!({
                    "ok": outcome.verify.ok,
                    "records": outcome.verify.records,
                    "error": outcome.verify.error.as_ref().map(ToString::to_string),
                }),
            ),
        ],
    );
    let mut text = format!(
        "backup of the whole database: {}\n{}",
        outcome.backup.display(),
        plan_text(&outcome.plan, "removed")
    );
    if outcome.verify.ok {
        let _ = write!(text, "\nlog verifies: {} records", outcome.verify.records);
    } else if let Some(e) = &outcome.verify.error {
        let _ = write!(text, "\nlog does NOT verify: {e}");
    }
    ctx.emit(&doc, &text)?;
    Ok(if outcome.verify.ok {
        Status::Ok
    } else {
        Status::Problem
    })
}
