//! `strand checkpoint list|create`.
//!
//! `list` reads every stored generation (read-only). `create` replays the
//! StateManager projection, stores its snapshot as a new checkpoint
//! generation (synced), then records a `CheckpointTaken` event in the log.

use std::fmt::Write as _;

use clap::Subcommand;
use serde_json::json;
use strand_eventlog::{EventLog, LogOptions, NewEvent};
use strand_projections::{DomainEvent, Projection, StateManager, codec};
use strand_replay::ReplayEngine;

use super::progress::Bar;
use super::{CliError, Context, Status};

/// `strand checkpoint ...`
#[derive(Debug, Subcommand)]
pub enum CheckpointCommand {
    /// Every stored checkpoint generation, checked (exit 1 if one is bad).
    List,
    /// Replay the StateManager and store it as a new checkpoint generation.
    Create,
}

/// Run a `checkpoint` subcommand.
///
/// # Errors
/// The log cannot be opened, read or written.
pub fn run(command: &CheckpointCommand, ctx: &mut Context) -> Result<Status, CliError> {
    match command {
        CheckpointCommand::List => list(ctx),
        CheckpointCommand::Create => create(ctx),
    }
}

fn list(ctx: &mut Context) -> Result<Status, CliError> {
    let log = EventLog::open_read_only(&ctx.data)?;
    let checkpoints = log.list_checkpoints()?;
    let mut text = format!(
        "{:<24} {:>6} {:>12} {:>8} {:>12}  {}\n",
        "NAME", "ID", "SEQ", "VERSION", "BYTES", "STATUS"
    );
    let mut docs = Vec::new();
    let mut all_ok = true;
    for cp in &checkpoints {
        match &cp.status {
            Ok(summary) => {
                let _ = writeln!(
                    text,
                    "{:<24} {:>6} {:>12} {:>8} {:>12}  ok",
                    cp.name, cp.id, summary.seq, summary.format_version, summary.data_bytes
                );
                docs.push(json!({
                    "name": cp.name, "id": cp.id, "ok": true, "seq": summary.seq.get(),
                    "format_version": summary.format_version, "bytes": summary.data_bytes,
                    "checksum": format!("{:08x}", summary.checksum), "error": null,
                }));
            }
            Err(defect) => {
                all_ok = false;
                let _ = writeln!(
                    text,
                    "{:<24} {:>6} {:>12} {:>8} {:>12}  BAD: {defect}",
                    cp.name, cp.id, "-", "-", "-"
                );
                docs.push(json!({
                    "name": cp.name, "id": cp.id, "ok": false, "seq": null,
                    "format_version": null, "bytes": null, "checksum": null,
                    "error": defect.to_string(),
                }));
            }
        }
    }
    if checkpoints.is_empty() {
        "no checkpoints".clone_into(&mut text);
    }
    ctx.emit(&json!({ "checkpoints": docs }), &text)?;
    Ok(if all_ok { Status::Ok } else { Status::Problem })
}

fn create(ctx: &mut Context) -> Result<Status, CliError> {
    let log = EventLog::open(&ctx.data, LogOptions::default().create_if_missing(false))?;
    let engine = ReplayEngine::new(log.clone());
    let bar = Bar::new(ctx, "replay", "events");
    let replayed = engine.rebuild::<StateManager>(&mut |p| bar.update(p.seq, p.last_seq))?;
    bar.finish();
    let id = engine.checkpoint(&replayed.projection)?;
    // An audit trail of checkpoints in the log itself; the checkpoint is
    // already durable, so a crash here loses only this record of it.
    let taken = DomainEvent::CheckpointTaken {
        name: StateManager::NAME.to_owned(),
        seq: id.seq.get(),
    };
    let body = codec::encode(&taken).map_err(CliError::Projection)?;
    log.append_blocking(vec![NewEvent::new(
        taken.stream(),
        taken.kind().as_u16(),
        body,
    )])?;
    log.close_blocking()?;
    let doc = json!({
        "name": StateManager::NAME,
        "id": id.id,
        "seq": id.seq.get(),
        "checksum": format!("{:08x}", id.checksum),
        "state_hash": replayed.report.state_hash.to_string(),
        "events_replayed": replayed.report.events_replayed,
    });
    let text = format!(
        "checkpoint {:?} generation {} at seq {} (state {})",
        StateManager::NAME,
        id.id,
        id.seq,
        replayed.report.state_hash
    );
    ctx.emit(&doc, &text)?;
    Ok(Status::Ok)
}
