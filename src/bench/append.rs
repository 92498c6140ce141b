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
//!
//! A single run of each is at the mercy of the disk: on these virtual
//! machines the raw baseline alone varies by ±20 % from run to run. So (a)
//! and (c) run in `rounds` rounds (default 5), and the reported ratio is
//! the median of the rounds' ratios; every round is in the output. Each
//! round runs a, c, c, a and compares the two a's with the two c's: which
//! side runs first matters here (measured over 24 alternating rounds, the
//! side that ran second was 2–9 % faster, and the ratio of strand-first
//! rounds averaged 0.81 against 0.91), so a round that only alternated
//! would tilt the median towards whichever order had more rounds.
//! `warmup` rounds (default 1) run first and are reported but not counted:
//! the first run in a fresh process pays for its allocator's and the page
//! cache's first touches, whichever side it is.

use std::fmt::Write as _;
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
    /// Rounds of strand, raw, raw, strand; the ratio is their median.
    #[arg(long, default_value_t = 5)]
    pub rounds: u32,
    /// Rounds run first, reported but not counted in the median.
    #[arg(long, default_value_t = 1)]
    pub warmup: u32,
    /// Install the Prometheus recorder first (as `strand serve` does), to
    /// measure what the metrics cost against a run without it.
    #[arg(long)]
    pub metrics: bool,
}

struct StrandRun {
    elapsed: Duration,
    fsyncs: u64,
    events: u64,
    /// Every append's acknowledgement latency.
    latencies_us: Vec<u64>,
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
    let latencies_us = outcome?;
    let stats = log.stats();
    log.close_blocking()?;
    Ok(StrandRun {
        elapsed,
        fsyncs: stats.fsyncs,
        events: stats.events,
        latencies_us,
    })
}

/// Strand's two runs of a round, as one.
struct StrandRuns {
    elapsed: Duration,
    fsyncs: u64,
    events: u64,
    latency_us: Percentiles,
}

impl StrandRuns {
    fn of(first: StrandRun, second: StrandRun) -> Self {
        let mut latencies = first.latencies_us;
        latencies.extend(second.latencies_us);
        Self {
            elapsed: first.elapsed + second.elapsed,
            fsyncs: first.fsyncs + second.fsyncs,
            events: first.events + second.events,
            latency_us: Percentiles::of(&mut latencies),
        }
    }
}

/// One round: Strand twice, around the raw batch baseline twice at the
/// batching Strand reached in its first run.
struct Round {
    strand: StrandRuns,
    mean_per_fsync: f64,
    raw_batch: baseline::BaselineRun,
    batch: u64,
}

impl Round {
    fn ratio(&self) -> f64 {
        let base = self.raw_batch.events_per_sec();
        if base > 0.0 {
            rate(self.strand.events, self.strand.elapsed) / base
        } else {
            0.0
        }
    }
}

/// Raw synced `WriteBatch`es of `batch` events in a fresh directory.
fn run_raw_batch(args: &AppendArgs, batch: u64) -> Result<baseline::BaselineRun, CliError> {
    let dir = tempdir(args)?;
    Ok(baseline::raw_synced_writes(
        dir.path(),
        args.events,
        batch,
        args.event_bytes,
    )?)
}

/// One round: Strand, raw, raw, Strand — each side runs once before and
/// once after the other. With `keep`, Strand's first run writes there.
fn run_round(args: &AppendArgs, keep: Option<&Path>) -> Result<Round, CliError> {
    let tmp = tempdir(args)?;
    let first_dir = keep.map_or_else(|| tmp.path().join("strand-1"), Path::to_path_buf);
    let first = run_strand(&first_dir, args)?;
    #[expect(clippy::cast_precision_loss, reason = "a ratio for reporting")]
    let first_per_fsync = first.events as f64 / first.fsyncs.max(1) as f64;
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "rounded positive mean"
    )]
    let batch = (first_per_fsync.round() as u64).max(1);
    let raw = [run_raw_batch(args, batch)?, run_raw_batch(args, batch)?];
    let second = run_strand(&tmp.path().join("strand-2"), args)?;
    let strand = StrandRuns::of(first, second);
    #[expect(clippy::cast_precision_loss, reason = "a ratio for reporting")]
    let mean_per_fsync = strand.events as f64 / strand.fsyncs.max(1) as f64;
    let [a, b] = raw;
    Ok(Round {
        strand,
        mean_per_fsync,
        raw_batch: baseline::BaselineRun {
            events: a.events + b.events,
            fsyncs: a.fsyncs + b.fsyncs,
            elapsed: a.elapsed + b.elapsed,
        },
        batch,
    })
}

/// The order of the runs in every round.
const ROUND_ORDER: &str = "strand,raw_batch,raw_batch,strand";

/// Every round, in order: the warm-up rounds first.
fn run_rounds(args: &AppendArgs) -> Result<Vec<Round>, CliError> {
    (0..args.warmup + args.rounds)
        .map(|n| run_round(args, args.keep.as_deref().filter(|_| n == 0)))
        .collect()
}

/// The rounds as JSON.
fn rounds_json(rounds: &[Round]) -> Vec<serde_json::Value> {
    rounds
        .iter()
        .map(|r| {
            json!({
                "order": ROUND_ORDER,
                "strand_events_per_sec": rate(r.strand.events, r.strand.elapsed).round(),
                "raw_batch_events_per_sec": r.raw_batch.events_per_sec().round(),
                "events_per_fsync": r.batch,
                "ratio_vs_raw_batch": (r.ratio() * 1000.0).round() / 1000.0,
            })
        })
        .collect()
}

fn rounds_text(rounds: &[Round], text: &mut String) {
    for (n, r) in rounds.iter().enumerate() {
        let _ = write!(
            text,
            "\n  round {n}: strand {:.0}/s, raw batch {:.0}/s, ratio {:.3}",
            rate(r.strand.events, r.strand.elapsed),
            r.raw_batch.events_per_sec(),
            r.ratio()
        );
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or_default()
}

fn check_args(args: &AppendArgs) -> Result<(), CliError> {
    if args.events == 0 || args.event_bytes == 0 || args.rounds == 0 {
        return Err(CliError::Usage {
            name: "--events/--event-bytes/--rounds",
            reason: "must be at least 1".into(),
        });
    }
    if let Some(dir) = args.keep.as_ref().filter(|d| d.exists()) {
        return Err(CliError::Usage {
            name: "--keep",
            reason: format!("{} already exists", dir.display()),
        });
    }
    Ok(())
}

/// Run the bench.
///
/// # Errors
/// Storage and file errors.
pub fn run(args: &AppendArgs, ctx: &mut Context) -> Result<Status, CliError> {
    check_args(args)?;
    if args.metrics {
        strand_server::install_prometheus()?;
    }
    let mut rounds = run_rounds(args)?;
    let warmup: Vec<Round> = rounds
        .drain(..usize::try_from(args.warmup).unwrap_or(0))
        .collect();
    let raw_single_dir = tempdir(args)?;
    let raw_single = baseline::raw_synced_writes(
        raw_single_dir.path(),
        args.single_events,
        1,
        args.event_bytes,
    )?;
    let ratio = median(rounds.iter().map(Round::ratio).collect());
    // The round whose ratio is the median speaks for the run.
    let shown = rounds
        .iter()
        .min_by(|a, b| {
            (a.ratio() - ratio)
                .abs()
                .total_cmp(&(b.ratio() - ratio).abs())
        })
        .ok_or(CliError::Usage {
            name: "--rounds",
            reason: "must be at least 1".into(),
        })?;
    let strand_rate = rate(shown.strand.events, shown.strand.elapsed);
    let single_ratio = if raw_single.events_per_sec() > 0.0 {
        median(
            rounds
                .iter()
                .map(|r| rate(r.strand.events, r.strand.elapsed) / raw_single.events_per_sec())
                .collect(),
        )
    } else {
        0.0
    };
    let per_round = rounds_json(&rounds);
    let doc = json!({
        "bench": "append",
        "metrics": args.metrics,
        "events": args.events,
        "producers": args.producers,
        "event_bytes": args.event_bytes,
        "strand": {
            "runs": 2,
            "events": shown.strand.events,
            "elapsed_ms": shown.strand.elapsed.as_millis(),
            "events_per_sec": strand_rate.round(),
            "fsyncs": shown.strand.fsyncs,
            "mean_events_per_fsync": (shown.mean_per_fsync * 10.0).round() / 10.0,
            "latency_us_p50": shown.strand.latency_us.p50,
            "latency_us_p99": shown.strand.latency_us.p99,
            "latency_us_max": shown.strand.latency_us.max,
        },
        "raw_batch": {
            "runs": 2,
            "events": shown.raw_batch.events,
            "events_per_fsync": shown.batch,
            "events_per_sec": shown.raw_batch.events_per_sec().round(),
        },
        "raw_single": {
            "events": raw_single.events,
            "events_per_sec": raw_single.events_per_sec().round(),
        },
        "rounds": per_round,
        "warmup_rounds": rounds_json(&warmup),
        "ratio_vs_raw_batch": (ratio * 1000.0).round() / 1000.0,
        "ratio_vs_raw_single": (single_ratio * 10.0).round() / 10.0,
        "note": format!(
            "each of the {} producers awaits the acknowledgement of every single-event append, so one fsync can serve at most {} events; each round runs strand, raw batch, raw batch, strand, and its figures cover both runs of a side; ratios are medians over {} rounds, after {} warm-up rounds not counted",
            args.producers, args.producers, args.rounds, args.warmup
        ),
        "kept": args.keep.as_ref().map(|p| p.display().to_string()),
    });
    let mut text = format!(
        "strand      {:>10.0} events/s  ({} fsyncs, {:.1} events/fsync, p50 {} us, p99 {} us)\nraw batch   {:>10.0} events/s  ({} events per synced WriteBatch)\nraw single  {:>10.0} events/s  (one event per synced write)\nratio vs raw batch:  {:.3} (median of {} rounds)\nratio vs raw single: {:.1}",
        strand_rate,
        shown.strand.fsyncs,
        shown.mean_per_fsync,
        shown.strand.latency_us.p50,
        shown.strand.latency_us.p99,
        shown.raw_batch.events_per_sec(),
        shown.batch,
        raw_single.events_per_sec(),
        ratio,
        args.rounds,
        single_ratio,
    );
    rounds_text(&rounds, &mut text);
    if !warmup.is_empty() {
        text.push_str("\nwarm-up (not counted):");
        rounds_text(&warmup, &mut text);
    }
    ctx.emit(&doc, &text)?;
    Ok(Status::Ok)
}
