//! `strand bench replay`: rebuilding the StateManager from the log against a
//! bare RocksDB reader, measured in one run on the same log:
//!
//! - raw: iterate the log column family, check each frame's crc, decode the
//!   envelope and the domain event (what any reader of the log must do);
//! - strand: `ReplayEngine::rebuild_from_scratch::<StateManager>`: the same,
//!   plus seq contiguity and checksum-chain checks and applying every event
//!   to the projection, with its lifecycle checks.
//!
//! `ratio_vs_raw` = strand events/s / raw events/s. Rounds alternate raw and
//! strand on a warm page cache; each side's best round is reported.

use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use serde_json::json;
use strand_eventlog::baseline::{self, rate};
use strand_eventlog::{EventLog, LogOptions, NewEvent};
use strand_projections::synthetic::{HistoryParams, history};
use strand_projections::{Projection, StateManager, codec};
use strand_replay::ReplayEngine;

use crate::cli::{CliError, Context, Status};

/// `strand bench replay` arguments.
#[derive(Debug, Args)]
pub struct ReplayBenchArgs {
    /// Events in the log (a synthetic history of 10k-bead workflows).
    #[arg(long, default_value_t = 1_000_000)]
    pub events: u64,
    /// Seed of the synthetic history.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Rounds of (raw, strand); the best of each is reported.
    #[arg(long, default_value_t = 3)]
    pub rounds: u32,
    /// Where temporary directories go (default: the system's).
    #[arg(long)]
    pub tmp: Option<PathBuf>,
}

fn best(a: f64, b: f64) -> f64 {
    if b > a { b } else { a }
}

/// Run the bench.
///
/// # Errors
/// Storage, file and replay errors.
pub fn run(args: &ReplayBenchArgs, ctx: &mut Context) -> Result<Status, CliError> {
    if args.events == 0 || args.rounds == 0 {
        return Err(CliError::Usage {
            name: "--events/--rounds",
            reason: "must be at least 1".into(),
        });
    }
    let tmp = match &args.tmp {
        Some(dir) => tempfile::tempdir_in(dir),
        None => tempfile::tempdir(),
    }
    .map_err(|source| CliError::File {
        path: args.tmp.clone().unwrap_or_else(std::env::temp_dir),
        source,
    })?;
    let dir = tmp.path().join("strand");

    // Fill the log through the group-commit writer, 4096 events per append.
    let target = usize::try_from(args.events).unwrap_or(usize::MAX);
    let params = HistoryParams::with_target_events(target);
    let log = EventLog::open(&dir, LogOptions::default())?;
    let write_start = Instant::now();
    let mut batch = Vec::with_capacity(4096);
    let mut written = 0u64;
    for (event, _) in history(args.seed, &params).take(target) {
        let body = codec::encode(&event).map_err(CliError::Projection)?;
        batch.push(NewEvent::new(event.stream(), event.kind().as_u16(), body));
        if batch.len() == 4096 {
            written += log.append_blocking(std::mem::take(&mut batch))?.len();
        }
    }
    if !batch.is_empty() {
        written += log.append_blocking(batch)?.len();
    }
    let write_elapsed = write_start.elapsed();
    log.close_blocking()?;
    drop(log);

    let mut raw_best = 0.0f64;
    let mut strand_best = 0.0f64;
    let mut read_best = 0.0f64;
    let mut raw_ms = u128::MAX;
    let mut strand_ms = u128::MAX;
    let mut state_hash = String::new();
    for _ in 0..args.rounds {
        let mut decode_errors = 0u64;
        let raw = baseline::raw_replay(&dir, &mut |event| {
            match codec::decode(event.kind, &event.body) {
                Ok(decoded) => {
                    std::hint::black_box(decoded);
                }
                Err(_) => decode_errors += 1,
            }
        })?;
        if decode_errors > 0 || raw.events != written {
            return Err(CliError::Usage {
                name: "bench replay",
                reason: format!(
                    "raw reader saw {} events ({decode_errors} undecodable), {written} written",
                    raw.events
                ),
            });
        }
        raw_best = best(raw_best, raw.events_per_sec());
        raw_ms = raw_ms.min(raw.elapsed.as_millis());

        // Strand's checked read and decode alone, without the projection:
        // splits Strand's overhead into the log's checks and the apply.
        let read_log = EventLog::open_read_only(&dir)?;
        let start = Instant::now();
        let mut read = 0u64;
        read_log.for_each_event(strand_eventlog::Seq(1), read_log.last_seq(), |event| {
            let decoded = codec::decode(event.kind, &event.body)
                .map_err(|e| CliError::Usage { name: "bench replay", reason: e.to_string() })?;
            std::hint::black_box(decoded);
            read += 1;
            Ok::<(), CliError>(())
        })?;
        read_best = best(read_best, rate(read, start.elapsed()));
        drop(read_log);

        let engine = ReplayEngine::new(EventLog::open_read_only(&dir)?);
        let replayed = engine.rebuild_from_scratch::<StateManager>(&mut |_| {})?;
        let elapsed = replayed.report.elapsed;
        strand_best = best(strand_best, rate(replayed.report.events_replayed, elapsed));
        strand_ms = strand_ms.min(elapsed.as_millis());
        state_hash = replayed.report.state_hash.to_string();
    }

    // Restart cost with a checkpoint at the end of the log. A failure here is
    // reported, not fatal: the replay figures above stand on their own.
    let log = EventLog::open(&dir, LogOptions::default())?;
    let engine = ReplayEngine::new(log.clone());
    let full = engine.rebuild_from_scratch::<StateManager>(&mut |_| {})?;
    let snapshot_bytes = full.projection.snapshot().map_or(0, |s| s.len());
    let checkpoint_start = Instant::now();
    let checkpoint = match engine.checkpoint(&full.projection) {
        Ok(id) => {
            let write_ms = checkpoint_start.elapsed().as_millis();
            let restore_start = Instant::now();
            let restored = engine.rebuild::<StateManager>(&mut |_| {})?;
            json!({
                "seq": id.seq.get(),
                "snapshot_bytes": snapshot_bytes,
                "write_ms": write_ms,
                "restore_ms": restore_start.elapsed().as_millis(),
                "restored_hash_matches": restored.report.state_hash == full.report.state_hash,
            })
        }
        Err(e) => json!({ "snapshot_bytes": snapshot_bytes, "error": e.to_string() }),
    };
    drop(engine);
    drop(log);

    let ratio = if raw_best > 0.0 { strand_best / raw_best } else { 0.0 };
    let doc = json!({
        "bench": "replay",
        "events": written,
        "seed": args.seed,
        "rounds": args.rounds,
        "workflows": params.workflows,
        "beads_per_workflow": params.beads_per_workflow,
        "write": {
            "elapsed_ms": write_elapsed.as_millis(),
            "events_per_sec": rate(written, write_elapsed).round(),
        },
        "raw": { "events_per_sec": raw_best.round(), "elapsed_ms": raw_ms },
        "strand_read_only": { "events_per_sec": read_best.round() },
        "strand": {
            "events_per_sec": strand_best.round(),
            "elapsed_ms": strand_ms,
            "state_hash": state_hash,
        },
        "ratio_vs_raw": (ratio * 1000.0).round() / 1000.0,
        "checkpoint": checkpoint,
    });
    let text = format!(
        "raw reader  {raw_best:>10.0} events/s  (iterate + crc + decode)\nstrand      {strand_best:>10.0} events/s  (replay into StateManager)\nratio vs raw: {ratio:.3}\n{written} events; checkpoint: {checkpoint}"
    );
    ctx.emit(&doc, &text)?;
    Ok(Status::Ok)
}
