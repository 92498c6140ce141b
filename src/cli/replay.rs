//! `strand replay [--verify]`: rebuild the StateManager projection from its
//! newest valid checkpoint plus the log tail, and with `--verify` also from
//! seq 1, comparing state hashes. Never writes.

use std::fmt::Write as _;

use clap::Args;
use serde_json::{Value, json};
use strand_eventlog::EventLog;
use strand_projections::StateManager;
use strand_replay::{ReplayEngine, ReplayError, ReplayReport};

use super::progress::Bar;
use super::{CliError, Context, Status};

/// `strand replay` arguments.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// Also replay from seq 1 and compare state hashes (exit 1 on mismatch).
    #[arg(long)]
    pub verify: bool,
}

/// The JSON shape of a replay report (DESIGN.md's CLI contract, plus detail).
pub(crate) fn report_json(report: &ReplayReport) -> Value {
    json!({
        "checkpoint_seq": report.checkpoint.map(|c| c.seq),
        "checkpoint_id": report.checkpoint.map(|c| c.id),
        "start": report.start().as_str(),
        "skipped_checkpoints": report.skipped.iter().map(|s| json!({
            "id": s.id,
            "reason": s.reason.to_string(),
        })).collect::<Vec<_>>(),
        "events_replayed": report.events_replayed,
        "last_seq": report.last_seq,
        "elapsed_ms": report.elapsed.as_millis(),
        "events_per_sec": report.events_per_sec().round(),
        "state_hash": report.state_hash.to_string(),
        "verified": report.verified,
    })
}

fn report_text(report: &ReplayReport) -> String {
    let mut text = match report.checkpoint {
        Some(cp) => format!(
            "replayed {} events after checkpoint {:?} generation {} (seq {})",
            report.events_replayed, report.checkpoint_name, cp.id, cp.seq
        ),
        None => format!("replayed {} events from seq 1", report.events_replayed),
    };
    for skipped in &report.skipped {
        let _ = write!(
            text,
            "\nskipped checkpoint generation {}: {}",
            skipped.id, skipped.reason
        );
    }
    let _ = write!(
        text,
        "\nstate at seq {}: {}\n{:.0} events/s",
        report.last_seq,
        report.state_hash,
        report.events_per_sec()
    );
    if report.verified == Some(true) {
        text.push_str("\nverified: a full replay gives the same state hash");
    }
    text
}

/// Run `strand replay`.
///
/// # Errors
/// The log cannot be opened or read; an event does not decode or apply.
pub fn run(args: &ReplayArgs, ctx: &mut Context) -> Result<Status, CliError> {
    let log = EventLog::open_read_only(&ctx.data)?;
    let engine = ReplayEngine::new(log);
    let bar = Bar::new(ctx, "replay", "events");
    let mut progress = |p: strand_replay::Progress| bar.update(p.seq, p.last_seq);
    let outcome = if args.verify {
        engine.verify::<StateManager>(&mut progress)
    } else {
        engine.rebuild::<StateManager>(&mut progress)
    };
    bar.finish();
    match outcome {
        Ok(replayed) => {
            ctx.emit(
                &report_json(&replayed.report),
                &report_text(&replayed.report),
            )?;
            Ok(Status::Ok)
        }
        Err(
            e @ ReplayError::HashMismatch {
                seq,
                from_checkpoint,
                full,
                ..
            },
        ) => {
            let doc = json!({
                "checkpoint_seq": seq,
                "events_replayed": null,
                "state_hash": full.to_string(),
                "checkpoint_state_hash": from_checkpoint.to_string(),
                "verified": false,
                "error": e.to_string(),
            });
            ctx.emit(&doc, &format!("verify FAILED: {e}"))?;
            Ok(Status::Problem)
        }
        Err(e) => Err(e.into()),
    }
}
