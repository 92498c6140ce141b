//! `strand bench append`: Strand's durable, group-committed append against
//! raw RocksDB, measured in one run on the same disk with the same settings:
//!
//! - (a) Strand: `producers` async tasks, each awaiting the acknowledgement
//!   of every single-event append before sending its next;
//! - (b) raw RocksDB, one event per synced write;
//! - (c) raw RocksDB, synced `WriteBatch`es carrying the mean number of
//!   events per fsync that (a) achieved.
//!
//! `ratio_vs_raw_batch` = a / c isolates Strand's overhead at equal batching;
//! `ratio_vs_raw_single` = a / b is what group commit buys.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use serde_json::json;
use strand_eventlog::baseline::{self, rate};
use strand_eventlog::{EventLog, LogOptions, NewEvent};

use super::Percentiles;
use crate::cli::{CliError, Context, Status};

/// `strand bench append` arguments.
#[derive(Debug, Args)]
pub struct AppendArgs {
    /// Events Strand appends (and raw batch writes).
    #[arg(long, default_value_t = 200_000)]
    pub events: u64,
    /// Concurrent producers, each awaiting its acknowledgement.
    #[arg(long, default_value_t = 256)]
    pub producers: u64,
    /// Body size of each event, in bytes.
    #[arg(long, default_value_t = 200)]
    pub event_bytes: usize,
    /// Events for the one-fsync-per-event baseline (it runs at disk-sync
    /// speed, so fewer events give the same rate in far less time).
    #[arg(long, default_value_t = 5_000)]
    pub single_events: u64,
    /// Keep Strand's log in this directory (it must not exist) instead of a
    /// temporary one, e.g. to run `strand log verify` on it afterwards.
    #[arg(long)]
    pub keep: Option<PathBuf>,
    /// Where temporary directories go (default: the system's).
    #[arg(long)]
    pub tmp: Option<PathBuf>,
}

struct StrandRun {
    elapsed: Duration,
    fsyncs: u64,
    events: u64,
    latency_us: Percentiles,
}

fn tempdir(args: &AppendArgs) -> Result<tempfile::TempDir, CliError> {
    let made = match &args.tmp {
        Some(dir) => tempfile::tempdir_in(dir),
        None => tempfile::tempdir(),
    };
    made.map_err(|source| CliError::File {
        path: args.tmp.clone().unwrap_or_else(std::env::temp_dir),
        source,
    })
}

fn run_strand(dir: &Path, args: &AppendArgs) -> Result<StrandRun, CliError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(CliError::Runtime)?;
    let log = EventLog::open(dir, LogOptions::default())?;
    let producers = args.producers.max(1);
    let body: Arc<[u8]> = vec![0xA5; args.event_bytes].into();
    let start = Instant::now();
    let outcome = runtime.block_on(async {
        let mut tasks = Vec::new();
        for p in 0..producers {
            let log = log.clone();
            let body = Arc::clone(&body);
            let share = args.events / producers + u64::from(p < args.events % producers);
            let stream = format!("producer-{p}");
            tasks.push(tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(usize::try_from(share).unwrap_or(0));
                for _ in 0..share {
                    let sent = Instant::now();
                    log.append(vec![NewEvent::new(stream.clone(), 1, body.to_vec())])
                        .await?;
                    latencies.push(u64::try_from(sent.elapsed().as_micros()).unwrap_or(u64::MAX));
                }
                Ok::<_, strand_eventlog::Error>(latencies)
            }));
        }
        let mut all = Vec::new();
        for task in tasks {
            match task.await {
                Ok(Ok(latencies)) => all.extend(latencies),
                Ok(Err(e)) => return Err(CliError::Log(e)),
                Err(join) => {
                    return Err(CliError::Runtime(std::io::Error::other(join.to_string())));
                }
            }
        }
        Ok(all)
    });
    let elapsed = start.elapsed();
    let mut latencies = outcome?;
    let stats = log.stats();
    log.close_blocking()?;
    Ok(StrandRun {
        elapsed,
        fsyncs: stats.fsyncs,
        events: stats.events,
        latency_us: Percentiles::of(&mut latencies),
    })
}

/// Run the bench.
///
/// # Errors
/// Storage and file errors.
pub fn run(args: &AppendArgs, ctx: &mut Context) -> Result<Status, CliError> {
    if args.events == 0 || args.event_bytes == 0 {
        return Err(CliError::Usage {
            name: "--events/--event-bytes",
            reason: "must be at least 1".into(),
        });
    }
    let strand_tmp = tempdir(args)?;
    let strand_dir = match &args.keep {
        Some(dir) if dir.exists() => {
            return Err(CliError::Usage {
                name: "--keep",
                reason: format!("{} already exists", dir.display()),
            });
        }
        Some(dir) => dir.clone(),
        None => strand_tmp.path().join("strand"),
    };
    let strand = run_strand(&strand_dir, args)?;
    #[expect(clippy::cast_precision_loss, reason = "a ratio for reporting")]
    let mean_per_fsync = strand.events as f64 / strand.fsyncs.max(1) as f64;
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "rounded positive mean"
    )]
    let batch = (mean_per_fsync.round() as u64).max(1);

    let raw_batch_dir = tempdir(args)?;
    let raw_batch =
        baseline::raw_synced_writes(raw_batch_dir.path(), args.events, batch, args.event_bytes)?;
    drop(raw_batch_dir);
    let raw_single_dir = tempdir(args)?;
    let raw_single = baseline::raw_synced_writes(
        raw_single_dir.path(),
        args.single_events,
        1,
        args.event_bytes,
    )?;

    let strand_rate = rate(strand.events, strand.elapsed);
    let ratio = |base: f64| if base > 0.0 { strand_rate / base } else { 0.0 };
    let doc = json!({
        "bench": "append",
        "events": args.events,
        "producers": args.producers,
        "event_bytes": args.event_bytes,
        "strand": {
            "events": strand.events,
            "elapsed_ms": strand.elapsed.as_millis(),
            "events_per_sec": strand_rate.round(),
            "fsyncs": strand.fsyncs,
            "mean_events_per_fsync": (mean_per_fsync * 10.0).round() / 10.0,
            "latency_us_p50": strand.latency_us.p50,
            "latency_us_p99": strand.latency_us.p99,
            "latency_us_max": strand.latency_us.max,
        },
        "raw_batch": {
            "events": raw_batch.events,
            "events_per_fsync": batch,
            "events_per_sec": raw_batch.events_per_sec().round(),
        },
        "raw_single": {
            "events": raw_single.events,
            "events_per_sec": raw_single.events_per_sec().round(),
        },
        "ratio_vs_raw_batch": (ratio(raw_batch.events_per_sec()) * 1000.0).round() / 1000.0,
        "ratio_vs_raw_single": (ratio(raw_single.events_per_sec()) * 10.0).round() / 10.0,
        "note": format!(
            "each of the {} producers awaits the acknowledgement of every single-event append, so one fsync can serve at most {} events",
            args.producers, args.producers
        ),
        "kept": args.keep.as_ref().map(|p| p.display().to_string()),
    });
    let text = format!(
        "strand      {:>10.0} events/s  ({} fsyncs, {:.1} events/fsync, p50 {} us, p99 {} us)\nraw batch   {:>10.0} events/s  ({} events per synced WriteBatch)\nraw single  {:>10.0} events/s  (one event per synced write)\nratio vs raw batch:  {:.3}\nratio vs raw single: {:.1}",
        strand_rate,
        strand.fsyncs,
        mean_per_fsync,
        strand.latency_us.p50,
        strand.latency_us.p99,
        raw_batch.events_per_sec(),
        batch,
        raw_single.events_per_sec(),
        ratio(raw_batch.events_per_sec()),
        ratio(raw_single.events_per_sec()),
    );
    ctx.emit(&doc, &text)?;
    Ok(Status::Ok)
}
