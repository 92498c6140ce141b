//! `strand bench soak`: an engine that keeps starting runs, and its memory.
//!
//! Runs of a `beads`-bead chain whose beads return `output_bytes` each are
//! started at `rate` runs per second for `seconds`; once per second the
//! resident memory of the process (after glibc hands back its free pages),
//! less RocksDB's memtables and block cache (each with a fixed bound of its
//! own), is sampled. What the engine keeps of a finished run is a small
//! summary, not its beads; without retention the figure grows by a summary
//! per finished run (the report's `bytes_per_finished_run`). With
//! `--retention`, finished runs leave after it and the log is trimmed as
//! often: after the warm-up the samples stay level however many runs have
//! finished.
//!
//! Each sample also reports the anonymous resident bytes (without the
//! code's pages) and the heap the allocator has handed out, which tell a
//! growing heap from pages of code touched for the first time.
//!
//! The same soak, shorter, is two tests: without retention
//! (`tests/soak_memory.rs`, a bound per finished run) and with it
//! (`tests/soak_retention_memory.rs`, no heap growth per finished run).

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::Args;
use serde::Serialize;
use serde_json::json;
use strand_actors::orchestration::{TaskContext, TaskResult};
use strand_projections::{Retention, RetentionPolicy, RunStatus};

use super::engine::passed_on;
use super::memory::{anon_resident_bytes, heap_in_use_bytes, live_resident_bytes};
use crate::cli::{CliError, Context, Status};
use crate::engine::trimming::{ArchiveTo, TrimSchedule};
use crate::engine::{Engine, RunInput};
use crate::workflow::Workflow;

/// `strand bench soak` arguments.
#[derive(Clone, Debug, Args)]
pub struct SoakArgs {
    /// Runs started per second.
    #[arg(long, default_value_t = 50)]
    pub rate: u32,
    /// Beads per run (a chain, each reading the one before).
    #[arg(long, default_value_t = 10)]
    pub beads: usize,
    /// Bytes of each bead's output.
    #[arg(long, default_value_t = 1024)]
    pub output_bytes: usize,
    /// How long runs are started for, in seconds.
    #[arg(long, default_value_t = 600)]
    pub seconds: u64,
    /// Samples before this many seconds are the warm-up (not judged).
    #[arg(long, default_value_t = 60)]
    pub warmup_seconds: u64,
    /// Bead workers.
    #[arg(long, default_value_t = 16)]
    pub workers: usize,
    /// Where temporary directories go (default: the system's).
    #[arg(long)]
    pub tmp: Option<PathBuf>,
    /// Keep finished runs this long, expiring and trimming as often
    /// (default: forever, nothing trimmed).
    #[arg(long, value_parser = humantime::parse_duration)]
    pub retention: Option<Duration>,
}

/// One sample of the process's memory.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct MemorySample {
    /// Seconds since the soak started.
    pub at_s: u64,
    /// Runs finished by then.
    pub finished_runs: u64,
    /// Resident bytes of the process.
    pub resident: u64,
    /// Anonymous resident bytes: [`resident`](Self::resident) less the
    /// pages of code and mapped files.
    pub anon: u64,
    /// Bytes the allocator has handed out (RocksDB's memtables and block
    /// cache among them).
    pub heap: u64,
    /// RocksDB's memtables.
    pub memtables: u64,
    /// RocksDB's block cache.
    pub block_cache: u64,
}

impl MemorySample {
    /// Resident bytes less the store's own bounded caches.
    pub fn engine_bytes(&self) -> u64 {
        self.resident
            .saturating_sub(self.memtables)
            .saturating_sub(self.block_cache)
    }

    /// Heap bytes less the store's own bounded caches: what the program
    /// holds, without the pages of code resident memory also counts.
    pub fn engine_heap_bytes(&self) -> u64 {
        self.heap
            .saturating_sub(self.memtables)
            .saturating_sub(self.block_cache)
    }
}

/// What a soak measured.
#[derive(Clone, Debug, Serialize)]
pub struct SoakReport {
    /// Runs started.
    pub started: u64,
    /// Runs that completed.
    pub completed: u64,
    /// One sample per second.
    pub samples: Vec<MemorySample>,
    /// Samples before this second are the warm-up.
    pub warmup_seconds: u64,
    /// Samples from the warm-up's end on: the smallest and largest
    /// [`MemorySample::engine_bytes`], and the first.
    pub after_warmup: Option<Spread>,
}

impl SoakReport {
    /// How much the engine grew per run finished between the first sample
    /// after the warm-up and the last.
    pub fn bytes_per_finished_run(&self) -> Option<f64> {
        let first = self
            .samples
            .iter()
            .find(|s| s.at_s >= self.warmup_seconds)?;
        let last = self.samples.last()?;
        let runs = last.finished_runs.checked_sub(first.finished_runs)?;
        #[expect(clippy::cast_precision_loss, reason = "a ratio for reporting")]
        let grown = last.engine_bytes() as f64 - first.engine_bytes() as f64;
        #[expect(clippy::cast_precision_loss, reason = "a ratio for reporting")]
        (runs > 0).then(|| grown / runs as f64)
    }

    /// How much the engine's heap ([`MemorySample::engine_heap_bytes`])
    /// grows per finished run after the warm-up: the slope of a
    /// least-squares line through every sample, so that no single sample
    /// (taken during a flush, or a trim) decides it.
    pub fn heap_bytes_per_finished_run(&self) -> Option<f64> {
        #[expect(clippy::cast_precision_loss, reason = "a slope for reporting")]
        let points: Vec<(f64, f64)> = self
            .samples
            .iter()
            .filter(|s| s.at_s >= self.warmup_seconds)
            .map(|s| (s.finished_runs as f64, s.engine_heap_bytes() as f64))
            .collect();
        #[expect(clippy::cast_precision_loss, reason = "a slope for reporting")]
        let n = points.len() as f64;
        let mean_x = points.iter().map(|p| p.0).sum::<f64>() / n;
        let mean_y = points.iter().map(|p| p.1).sum::<f64>() / n;
        let spread: f64 = points.iter().map(|p| (p.0 - mean_x).powi(2)).sum();
        let moved: f64 = points.iter().map(|p| (p.0 - mean_x) * (p.1 - mean_y)).sum();
        (points.len() >= 2 && spread > 0.0).then(|| moved / spread)
    }
}

/// The spread of the engine's memory after the warm-up, around its
/// median: a single sample (taken while a memtable is being flushed, or a
/// trim reads) is not the reference.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Spread {
    /// The first sample after the warm-up.
    pub first: u64,
    /// The median (the reference).
    pub median: u64,
    /// The smallest.
    pub min: u64,
    /// The largest.
    pub max: u64,
    /// The largest distance from `median`, as a fraction of it.
    pub deviation: f64,
}

impl Spread {
    fn of(samples: &[MemorySample]) -> Option<Self> {
        let first = samples.first()?.engine_bytes();
        let mut bytes: Vec<u64> = samples.iter().map(MemorySample::engine_bytes).collect();
        bytes.sort_unstable();
        let (min, max) = (*bytes.first()?, *bytes.last()?);
        let median = *bytes.get(bytes.len() / 2)?;
        let far = max.saturating_sub(median).max(median.saturating_sub(min));
        #[expect(clippy::cast_precision_loss, reason = "a ratio for reporting")]
        let deviation = if median == 0 {
            0.0
        } else {
            far as f64 / median as f64
        };
        Some(Self {
            first,
            median,
            min,
            max,
            deviation,
        })
    }
}

/// A chain of `beads` beads run by the `soak` handler.
pub(super) fn chain(beads: usize) -> Result<Workflow, CliError> {
    let mut toml = String::from("name = \"soak\"\n");
    for i in 0..beads.max(1) {
        let _ = write!(toml, "[[task]]\nid = \"s{i}\"\nhandler = \"soak\"\n");
        if i > 0 {
            let _ = writeln!(toml, "deps = [\"s{}\"]", i - 1);
        }
    }
    Ok(Workflow::from_toml_str("soak.toml", &toml)?)
}

/// Run the soak on an engine in `dir`.
///
/// # Errors
/// The engine's errors; a run that does not complete.
pub async fn soak(args: &SoakArgs, dir: PathBuf) -> Result<SoakReport, CliError> {
    let workflow = chain(args.beads)?;
    let size = args.output_bytes;
    let mut builder = Engine::builder(&dir)
        .workers(args.workers)
        .handler("soak", move |cx: TaskContext| async move {
            TaskResult::Ok(passed_on(&cx, size))
        });
    if let Some(retention) = args.retention {
        builder = builder
            .retention(RetentionPolicy {
                default: Retention {
                    max_age_ms: Some(u64::try_from(retention.as_millis()).unwrap_or(u64::MAX)),
                    max_runs: None,
                },
                ..RetentionPolicy::default()
            })
            .retention_every(retention)
            .trimming(TrimSchedule {
                every: Some(retention),
                keep_recent: retention,
                archive: ArchiveTo::DataDir,
            });
    }
    let engine = builder.open().await?;
    let engine = Arc::new(engine);
    let log = engine.runtime().store().log().clone();
    let finished = Arc::new(AtomicU64::new(0));
    let completed = Arc::new(AtomicU64::new(0));
    let mut waits = tokio::task::JoinSet::new();
    let mut samples = Vec::new();
    let period = Duration::from_secs(1) / args.rate.max(1);
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let start = Instant::now();
    let (mut started, mut next_sample) = (0_u64, 0_u64);
    while start.elapsed() < Duration::from_secs(args.seconds) {
        tick.tick().await;
        let run = engine.start(&workflow, RunInput::new()).await?;
        started += 1;
        let (waiter, finished_count, completed_count) = (
            Arc::clone(&engine),
            Arc::clone(&finished),
            Arc::clone(&completed),
        );
        waits.spawn(async move {
            let outcome = waiter.wait(&run).await;
            finished_count.fetch_add(1, Ordering::Relaxed);
            if outcome.is_ok_and(|o| o.status == RunStatus::Completed) {
                completed_count.fetch_add(1, Ordering::Relaxed);
            }
        });
        // Reap the waits that are done, so they do not pile up.
        while waits.try_join_next().is_some() {}
        let at_s = start.elapsed().as_secs();
        if at_s >= next_sample {
            next_sample = at_s + 1;
            samples.push(MemorySample {
                at_s,
                finished_runs: finished.load(Ordering::Relaxed),
                resident: live_resident_bytes(),
                anon: anon_resident_bytes(),
                heap: heap_in_use_bytes(),
                memtables: log.memtable_bytes().unwrap_or(0),
                block_cache: log.block_cache_bytes().unwrap_or(0),
            });
        }
    }
    while waits.join_next().await.is_some() {}
    let completed = completed.load(Ordering::Relaxed);
    if let Ok(engine) = Arc::try_unwrap(engine) {
        engine.shutdown().await?;
    }
    let judged: Vec<MemorySample> = samples
        .iter()
        .copied()
        .filter(|s| s.at_s >= args.warmup_seconds)
        .collect();
    Ok(SoakReport {
        started,
        completed,
        after_warmup: Spread::of(&judged),
        samples,
        warmup_seconds: args.warmup_seconds,
    })
}

/// Run `strand bench soak`.
///
/// # Errors
/// The engine's errors; a run that does not complete.
pub fn run(args: &SoakArgs, ctx: &mut Context) -> Result<Status, CliError> {
    let dir = super::temp_dir(args.tmp.as_deref())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(CliError::Output)?;
    let report = runtime.block_on(soak(args, dir.path().join("soak")))?;
    let per_run = report.bytes_per_finished_run();
    let doc = json!({
        "bench": "soak",
        "rate": args.rate,
        "beads_per_run": args.beads,
        "output_bytes": args.output_bytes,
        "seconds": args.seconds,
        "warmup_seconds": args.warmup_seconds,
        "retention_s": args.retention.map(|r| r.as_secs_f64()),
        "started": report.started,
        "completed": report.completed,
        "memtable_bound_bytes": strand_eventlog::MEMTABLE_BYTES,
        "block_cache_bound_bytes": strand_eventlog::BLOCK_CACHE_BYTES,
        "after_warmup": report.after_warmup,
        "bytes_per_finished_run": per_run.map(f64::round),
        "heap_bytes_per_finished_run": report.heap_bytes_per_finished_run().map(f64::round),
        "samples": report.samples,
    });
    let text = match report.after_warmup {
        Some(spread) => format!(
            "{} runs started, {} completed; engine memory after warm-up {:.1}..{:.1} MiB (median {:.1} MiB, deviation {:.1} %), {:.0} bytes per finished run",
            report.started,
            report.completed,
            mib(spread.min),
            mib(spread.max),
            mib(spread.median),
            spread.deviation * 100.0,
            per_run.unwrap_or(0.0)
        ),
        None => format!(
            "{} runs started, {} completed; no sample after the warm-up",
            report.started, report.completed
        ),
    };
    ctx.emit(&doc, &text)?;
    Ok(Status::Ok)
}

#[expect(clippy::cast_precision_loss, reason = "for display")]
fn mib(bytes: u64) -> f64 {
    bytes as f64 / f64::from(1 << 20)
}
