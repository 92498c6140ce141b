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

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Args;
use serde_json::json;
use strand_eventlog::baseline::{self, rate};
use strand_eventlog::{EventLog, LogOptions, NewEvent, Seq};
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

/// Fill a new log at `dir` with a synthetic history through the
/// group-commit writer, 4096 events per append. Returns the events written.
fn fill(dir: &Path, seed: u64, params: &HistoryParams, target: usize) -> Result<u64, CliError> {
    let log = EventLog::open(dir, LogOptions::default())?;
    let mut batch = Vec::with_capacity(4096);
    let mut written = 0u64;
    for (event, _) in history(seed, params).take(target) {
        let body = codec::encode(&event).map_err(CliError::Projection)?;
        batch.push(NewEvent::new(event.stream(), event.kind().as_u16(), body));
        if batch.len() == 4096 {
            written += log.append_blocking(std::mem::take(&mut batch))?.len();
        }
    }
    if !batch.is_empty() {
        written += log.append_blocking(batch)?.len();
    }
    log.close_blocking()?;
    Ok(written)
}

/// The raw reader's events/s and elapsed time.
fn raw_round(dir: &Path, written: u64) -> Result<(f64, u128), CliError> {
    let mut failure = None;
    let raw = baseline::raw_replay(
        dir,
        &mut |event| match codec::decode(event.kind, &event.body) {
            Ok(decoded) => {
                std::hint::black_box(decoded);
            }
            Err(e) => failure = Some(e),
        },
    )?;
    if let Some(e) = failure {
        return Err(CliError::Projection(e));
    }
    if raw.events != written {
        return Err(CliError::Usage {
            name: "bench replay",
            reason: format!("the raw reader saw {} of {written} events", raw.events),
        });
    }
    Ok((raw.events_per_sec(), raw.elapsed.as_millis()))
}

/// Strand's checked read and decode alone, without the projection: splits
/// Strand's overhead into the log's checks and the apply.
fn read_round(dir: &Path) -> Result<f64, CliError> {
    let log = EventLog::open_read_only(dir)?;
    let start = Instant::now();
    let mut read = 0u64;
    log.for_each_event(Seq(1), log.last_seq(), |event| {
        let decoded = codec::decode(event.kind, &event.body).map_err(CliError::Projection)?;
        std::hint::black_box(decoded);
        read += 1;
        Ok::<(), CliError>(())
    })?;
    Ok(rate(read, start.elapsed()))
}

/// Strand's replay into the StateManager: events/s, elapsed, state hash.
fn strand_round(dir: &Path) -> Result<(f64, u128, String), CliError> {
    let engine = ReplayEngine::new(EventLog::open_read_only(dir)?);
    let replayed = engine.rebuild_from_scratch::<StateManager>(&mut |_| {})?;
    let report = replayed.report;
    Ok((
        rate(report.events_replayed, report.elapsed),
        report.elapsed.as_millis(),
        report.state_hash.to_string(),
    ))
}

/// Restart cost with a checkpoint at the end of the log. A failure here is
/// reported, not fatal: the replay figures stand on their own.
fn checkpoint_figures(dir: &Path) -> Result<serde_json::Value, CliError> {
    let log = EventLog::open(dir, LogOptions::default())?;
    let engine = ReplayEngine::new(log.clone());
    let full = engine.rebuild_from_scratch::<StateManager>(&mut |_| {})?;
    let snapshot_bytes = full.projection.snapshot().map_or(0, |s| s.len());
    let start = Instant::now();
    let figures = match engine.checkpoint(&full.projection) {
        Ok(id) => {
            let write_ms = start.elapsed().as_millis();
            let restored = engine.rebuild::<StateManager>(&mut |_| {})?;
            json!({
                "seq": id.seq.get(),
                "snapshot_bytes": snapshot_bytes,
                "write_ms": write_ms,
                "restore_ms": restored.report.elapsed.as_millis(),
                "restored_hash_matches": restored.report.state_hash == full.report.state_hash,
            })
        }
        Err(e) => json!({ "snapshot_bytes": snapshot_bytes, "error": e.to_string() }),
    };
    log.close_blocking()?;
    Ok(figures)
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
    let tmp = super::temp_dir(args.tmp.as_deref())?;
    let dir = tmp.path().join("strand");
    let target = usize::try_from(args.events).unwrap_or(usize::MAX);
    let params = HistoryParams::with_target_events(target);
    let write_start = Instant::now();
    let written = fill(&dir, args.seed, &params, target)?;
    let write_elapsed = write_start.elapsed();

    let (mut raw_best, mut read_best, mut strand_best) = (0.0f64, 0.0f64, 0.0f64);
    let (mut raw_ms, mut strand_ms) = (u128::MAX, u128::MAX);
    let mut state_hash = String::new();
    for _ in 0..args.rounds {
        let (raw_rate, ms) = raw_round(&dir, written)?;
        raw_best = best(raw_best, raw_rate);
        raw_ms = raw_ms.min(ms);
        read_best = best(read_best, read_round(&dir)?);
        let (strand_rate, ms, hash) = strand_round(&dir)?;
        strand_best = best(strand_best, strand_rate);
        strand_ms = strand_ms.min(ms);
        state_hash = hash;
    }
    let checkpoint = checkpoint_figures(&dir)?;

    let ratio = if raw_best > 0.0 {
        strand_best / raw_best
    } else {
        0.0
    };
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
        "raw reader  {raw_best:>10.0} events/s  (iterate + crc + decode)\nstrand read {read_best:>10.0} events/s  (checked read + decode, no apply)\nstrand      {strand_best:>10.0} events/s  (replay into the StateManager)\nratio vs raw: {ratio:.3}\n{written} events; checkpoint: {checkpoint}"
    );
    ctx.emit(&doc, &text)?;
    Ok(Status::Ok)
}
