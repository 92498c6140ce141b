//! `strand bench engine`: no-op beads through the whole engine, durable
//! events included, and the time from start to ready on a directory that
//! already holds a long history and a checkpoint behind its end.
//!
//! - throughput: a layered DAG of `beads` no-op beads (each depends on one
//!   to three beads of the layer before) run by `workers` workers: beads/s,
//!   events and fsyncs per bead. The baseline, measured in the same run on
//!   the same disk, is raw RocksDB with one synced write per event (what
//!   the events per bead would cost without group commit).
//! - runs: `runs` runs of a 5-bead diamond started at once, each bead
//!   handed its dependencies' outputs and producing `output_bytes`: runs/s,
//!   beads/s, fsyncs per bead, resident memory per finished run (the growth
//!   of the process's resident set over the figure, divided by the runs).
//! - ready: `history_events` synthetic events, a checkpoint taken
//!   `tail_events` before the end (the tail a 60 s checkpoint interval
//!   leaves under load), then `Engine::open` until the scheduler answers
//!   (state rebuilt, unfinished workflows recovered).

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use serde_json::json;
use strand_actors::orchestration::{TaskContext, TaskResult};
use strand_eventlog::baseline::{self, rate};
use strand_eventlog::{EventLog, LogOptions, NewEvent};
use strand_projections::synthetic::{HistoryParams, history};
use strand_projections::{RunStatus, StateManager, codec};
use strand_replay::ReplayEngine;

use super::memory::resident_bytes;
use crate::cli::{CliError, Context, Status};
use crate::engine::{Engine, RunInput};
use crate::workflow::Workflow;

/// `strand bench engine` arguments.
#[derive(Debug, Args)]
pub struct EngineBenchArgs {
    /// Beads in the DAG run for throughput.
    #[arg(long, default_value_t = 10_000)]
    pub beads: usize,
    /// Bead workers.
    #[arg(long, default_value_t = 100)]
    pub workers: usize,
    /// Events already in the log for the start-to-ready figure.
    #[arg(long, default_value_t = 1_000_000)]
    pub history_events: usize,
    /// Events after the checkpoint (the tail replayed on start).
    #[arg(long, default_value_t = 100_000)]
    pub tail_events: usize,
    /// Runs of a 5-bead diamond started at once for the runs figure.
    #[arg(long, default_value_t = 2_000)]
    pub runs: usize,
    /// Bytes of each bead's output in the runs figure (passed to its
    /// dependents).
    #[arg(long, default_value_t = 1024)]
    pub output_bytes: usize,
    /// Seed of the DAG and of the history.
    #[arg(long, default_value_t = 11)]
    pub seed: u64,
    /// Where temporary directories go (default: the system's).
    #[arg(long)]
    pub tmp: Option<PathBuf>,
    /// Install the Prometheus recorder first (as `strand serve` does), to
    /// measure what the metrics cost against a run without it.
    #[arg(long)]
    pub metrics: bool,
}

fn bench_error(reason: String) -> CliError {
    CliError::Usage {
        name: "bench engine",
        reason,
    }
}

/// A layered DAG of `beads` no-op tasks, as a workflow file.
pub(super) fn layered(beads: usize, seed: u64) -> Result<Workflow, CliError> {
    let width = 100.min(beads.max(1));
    let mut state = seed | 1;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut toml = String::from("name = \"bench\"\n");
    for i in 0..beads {
        let _ = write!(toml, "[[task]]\nid = \"b{i}\"\nhandler = \"noop\"\n");
        if i >= width {
            let layer_start = (i / width - 1) * width;
            let deps = 1 + next() % 3;
            let ids: Vec<String> = (0..deps)
                .map(|_| {
                    let offset = usize::try_from(next() % width as u64).unwrap_or(0);
                    format!("\"b{}\"", layer_start + offset)
                })
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            let _ = writeln!(toml, "deps = [{}]", ids.join(", "));
        }
    }
    Ok(Workflow::from_toml_str("bench.toml", &toml)?)
}

async fn throughput(args: &EngineBenchArgs, dir: PathBuf) -> Result<serde_json::Value, CliError> {
    let workflow = layered(args.beads, args.seed)?;
    let engine = Engine::builder(&dir)
        .workers(args.workers)
        .handler("noop", |_: TaskContext| async { Ok(String::new()) })
        .open()
        .await?;
    let log = engine.runtime().store().log().clone();
    let before = log.stats();
    let start = Instant::now();
    let outcome = engine.run(&workflow).await?;
    let elapsed = start.elapsed();
    let after = log.stats();
    engine.shutdown().await?;
    if outcome.status != RunStatus::Completed {
        return Err(bench_error(format!(
            "the bench workflow ended {:?}",
            outcome.status
        )));
    }
    #[expect(clippy::cast_precision_loss, reason = "ratios for reporting")]
    let (beads, events, fsyncs) = (
        args.beads as f64,
        (after.events - before.events) as f64,
        (after.fsyncs - before.fsyncs) as f64,
    );
    Ok(json!({
        "beads": args.beads,
        "workers": args.workers,
        "elapsed_ms": elapsed.as_millis(),
        "beads_per_sec": rate(args.beads as u64, elapsed).round(),
        "events_per_bead": (events / beads * 100.0).round() / 100.0,
        "fsyncs_per_bead": (fsyncs / beads * 100.0).round() / 100.0,
        "events_per_fsync": if fsyncs > 0.0 { (events / fsyncs * 10.0).round() / 10.0 } else { 0.0 },
    }))
}

/// The runs figure's definition: a diamond `a -> (b, c) -> d -> e`.
const DIAMOND: &str = r#"name = "diamond"
[[task]]
id = "a"
handler = "pass"
[[task]]
id = "b"
handler = "pass"
deps = ["a"]
[[task]]
id = "c"
handler = "pass"
deps = ["a"]
[[task]]
id = "d"
handler = "pass"
deps = ["b", "c"]
[[task]]
id = "e"
handler = "pass"
deps = ["d"]
"#;

/// What a bead of the runs figure returns: `size` bytes that depend on
/// the outputs it was handed (so those bytes are really read).
pub(super) fn passed_on(cx: &TaskContext, size: usize) -> Vec<u8> {
    let seen: usize = cx.dependencies.iter().map(|(_, o)| o.len()).sum();
    let fill = b'a' + u8::try_from(seen % 26).unwrap_or(0);
    vec![fill; size]
}

/// `runs` runs of the diamond, started at once, each bead reading its
/// dependencies' outputs and producing `output_bytes` of its own.
async fn runs(args: &EngineBenchArgs, dir: PathBuf) -> Result<serde_json::Value, CliError> {
    let workflow = Workflow::from_toml_str("diamond.toml", DIAMOND)?;
    let size = args.output_bytes;
    let engine = Engine::builder(&dir)
        .workers(args.workers)
        .handler("pass", move |cx: TaskContext| async move {
            TaskResult::Ok(passed_on(&cx, size))
        })
        .open()
        .await?;
    let log = engine.runtime().store().log().clone();
    let before = log.stats();
    let memory_before = resident_bytes();
    let start = Instant::now();
    let started =
        futures::future::join_all((0..args.runs).map(|_| engine.start(&workflow, RunInput::new())))
            .await;
    let ids: Vec<_> = started.into_iter().collect::<Result<_, _>>()?;
    let outcomes = futures::future::join_all(ids.iter().map(|id| engine.wait(id))).await;
    let elapsed = start.elapsed();
    let memory_after = resident_bytes();
    let after = log.stats();
    let completed = outcomes
        .iter()
        .filter(|o| o.as_ref().is_ok_and(|o| o.status == RunStatus::Completed))
        .count();
    engine.shutdown().await?;
    if completed != args.runs {
        return Err(bench_error(format!(
            "{completed} of {} runs completed",
            args.runs
        )));
    }
    let beads = args.runs * 5;
    #[expect(clippy::cast_precision_loss, reason = "ratios for reporting")]
    let (fsyncs, events, runs) = (
        (after.fsyncs - before.fsyncs) as f64,
        (after.events - before.events) as f64,
        args.runs as f64,
    );
    #[expect(clippy::cast_precision_loss, reason = "ratios for reporting")]
    let per_run = memory_after.saturating_sub(memory_before) as f64 / runs;
    #[expect(clippy::cast_precision_loss, reason = "ratios for reporting")]
    let beads_f = beads as f64;
    Ok(json!({
        "runs": args.runs,
        "beads_per_run": 5,
        "output_bytes": size,
        "workers": args.workers,
        "elapsed_ms": elapsed.as_millis(),
        "runs_per_sec": rate(args.runs as u64, elapsed).round(),
        "beads_per_sec": rate(beads as u64, elapsed).round(),
        "events_per_bead": (events / beads_f * 100.0).round() / 100.0,
        "fsyncs_per_bead": (fsyncs / beads_f * 1000.0).round() / 1000.0,
        "resident_bytes_per_finished_run": per_run.round(),
    }))
}

/// Fill `dir` with `total` synthetic events, checkpointing the state
/// `tail` events before the end.
fn prepare_history(dir: &std::path::Path, args: &EngineBenchArgs) -> Result<u64, CliError> {
    let params = HistoryParams::with_target_events(args.history_events);
    let log = EventLog::open(dir, LogOptions::default())?;
    let head = args.history_events.saturating_sub(args.tail_events);
    let mut batch = Vec::with_capacity(4096);
    let mut written = 0u64;
    let mut checkpointed = false;
    // The synthetic history's supervision events name the real tree's
    // supervisors with made-up timings (backoffs, escalations); a real log
    // holds the tree's own. They are left out (and the checkpoint events,
    // whose seqs the filter shifts), so the figure is the start of a tree
    // on a long workflow history, not one waiting out fake backoffs.
    let events = history(args.seed, &params)
        .map(|(event, _)| event)
        .filter(|event| {
            let stream = event.stream();
            // Checkpoint events name seqs of the unfiltered history.
            !stream.starts_with("supervisor/") && stream != "checkpoint"
        })
        .take(args.history_events);
    for (index, event) in events.enumerate() {
        let body = codec::encode(&event).map_err(CliError::Projection)?;
        batch.push(NewEvent::new(event.stream(), event.kind().as_u16(), body));
        if batch.len() == 4096 || index + 1 == head {
            written += log.append_blocking(std::mem::take(&mut batch))?.len();
        }
        if index + 1 == head && !checkpointed {
            let engine = ReplayEngine::new(log.clone());
            let state = engine.rebuild_from_scratch::<StateManager>(&mut |_| {})?;
            engine.checkpoint(&state.projection)?;
            checkpointed = true;
        }
    }
    if !batch.is_empty() {
        written += log.append_blocking(batch)?.len();
    }
    log.close_blocking()?;
    Ok(written)
}

async fn ready(args: &EngineBenchArgs, dir: PathBuf) -> Result<serde_json::Value, CliError> {
    let start = Instant::now();
    let engine = Engine::builder(&dir).workers(args.workers).open().await?;
    let opened = start.elapsed();
    // Answered once the scheduler has rebuilt and recovered.
    let _ = engine
        .wait(&strand_projections::RunId::from("no such workflow"))
        .await;
    let scheduler_ready = start.elapsed();
    let workflows = engine.status().await?.len();
    engine.shutdown().await?;
    Ok(json!({
        "tree_started_ms": opened.as_millis(),
        "ready_ms": scheduler_ready.as_millis(),
        "workflows_in_state": workflows,
    }))
}

/// Run the bench.
///
/// # Errors
/// Storage, replay and engine errors.
pub fn run(args: &EngineBenchArgs, ctx: &mut Context) -> Result<Status, CliError> {
    if args.beads == 0 || args.workers == 0 || args.tail_events > args.history_events {
        return Err(CliError::Usage {
            name: "--beads/--workers/--tail-events",
            reason: "beads and workers must be at least 1, the tail at most the history".into(),
        });
    }
    let tmp = super::temp_dir(args.tmp.as_deref())?;
    if args.metrics {
        strand_server::install_prometheus()?;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(CliError::Runtime)?;
    strand_actors::panic::install();

    let throughput = runtime.block_on(throughput(args, tmp.path().join("throughput")))?;
    let runs = runtime.block_on(runs(args, tmp.path().join("runs")))?;
    // The raw baseline: one synced RocksDB write per event.
    let raw = baseline::raw_synced_writes(&tmp.path().join("raw"), 2_000, 1, 100)?;
    let raw_writes_per_sec = raw.events_per_sec();

    let history_dir = tmp.path().join("history");
    let prepare_start = Instant::now();
    let written = prepare_history(&history_dir, args)?;
    let prepare = prepare_start.elapsed();
    let ready = runtime.block_on(ready(args, history_dir))?;

    let doc = json!({
        "bench": "engine",
        "metrics": args.metrics,
        "seed": args.seed,
        "throughput": throughput,
        "runs": runs,
        "raw_synced_writes_per_sec": raw_writes_per_sec.round(),
        "ready": {
            "history_events": written,
            "tail_events": args.tail_events,
            "prepare_ms": prepare.as_millis(),
            "figures": ready,
        },
    });
    let text = format!(
        "throughput: {throughput}\nruns: {runs}\nraw synced writes/s: {raw_writes_per_sec:.0}\nready after {written} events: {ready}"
    );
    ctx.emit(&doc, &text)?;
    Ok(Status::Ok)
}
