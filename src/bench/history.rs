//! `strand bench history`: what a long history costs an engine, with a
//! retention policy and trimming, and without.
//!
//! Runs of a `beads`-bead chain are started in stages (`--at`, then
//! `--runs` in all) by a child process, at `rate` runs per second. At the
//! end of each stage the child reports its memory and is killed (SIGKILL,
//! mid-stride: nothing closed, no last checkpoint); the parent measures the
//! store on disk, then a second child opens the engine on the directory and
//! reports the time from start to ready, the events its start replayed and
//! its memory. The next stage goes on with the same log. Both modes run in
//! one invocation: `retained` (the retention policy, a retention sweep and
//! trimming every `--retention`) and `unbounded` (none); both checkpoint
//! every `--retention`.
//!
//! The retention stands in for the hour a deployment would keep: what
//! matters is that the history is many windows long, so the figures at
//! the first stage and the last compare an engine whose history grew ten
//! times against its window, which stayed the same.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use serde::{Deserialize, Serialize};
use serde_json::json;
use strand_actors::orchestration::{TaskContext, TaskResult};
use strand_projections::{Retention, RetentionPolicy, RunStatus};

use super::engine::passed_on;
use super::memory::live_resident_bytes;
use super::soak::chain;
use crate::cli::log::dir_bytes;
use crate::cli::{CliError, Context, Status};
use crate::engine::trimming::{ArchiveTo, TrimSchedule};
use crate::engine::{Engine, EngineBuilder, RunInput};

/// `strand bench history` arguments.
#[derive(Clone, Debug, Args)]
pub struct HistoryArgs {
    /// Runs in all (the last stage).
    #[arg(long, default_value_t = 100_000)]
    pub runs: u64,
    /// Earlier stages, in runs started so far (repeatable).
    #[arg(long, default_values_t = [10_000])]
    pub at: Vec<u64>,
    /// Beads per run (a chain, each reading the one before).
    #[arg(long, default_value_t = 10)]
    pub beads: usize,
    /// Bytes of each bead's output.
    #[arg(long, default_value_t = 128)]
    pub output_bytes: usize,
    /// Runs started per second.
    #[arg(long, default_value_t = 500)]
    pub rate: u32,
    /// Bead workers.
    #[arg(long, default_value_t = 16)]
    pub workers: usize,
    /// How long finished runs stay in the `retained` mode; also its trim
    /// and retention sweep period, the recent history a trim keeps, and
    /// both modes' checkpoint period.
    #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
    pub retention: Duration,
    /// Where temporary directories go (default: the system's).
    #[arg(long)]
    pub tmp: Option<PathBuf>,
    /// Internal: the role of a child process.
    #[arg(long, hide = true, value_enum, requires = "dir")]
    pub role: Option<Role>,
    /// Internal: a child's data directory.
    #[arg(long, hide = true)]
    pub dir: Option<PathBuf>,
    /// Internal: runs a loading child starts.
    #[arg(long, hide = true, default_value_t = 0)]
    pub start: u64,
    /// Internal: whether a child's engine retains and trims.
    #[arg(long, hide = true)]
    pub retained: bool,
}

/// What a child process of the bench does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Role {
    /// Start runs, report, wait to be killed.
    Load,
    /// Open the engine, report how long it took to be ready.
    Ready,
}

/// What a loading child reports once its runs have finished.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Loaded {
    /// Runs of this stage that completed.
    completed: u64,
    /// How long this stage's runs took, from the engine's open.
    load_ms: u64,
    resident: u64,
    engine_bytes: u64,
    runs_in_state: usize,
    first_seq: u64,
    last_seq: u64,
}

/// What a starting child reports once its engine is ready.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Restarted {
    ready_ms: u64,
    replayed_events: u64,
    full_rebuilds: u64,
    runs_in_state: usize,
    engine_bytes: u64,
}

fn builder(args: &HistoryArgs, dir: &Path, retained: bool) -> EngineBuilder {
    let size = args.output_bytes;
    // Both modes checkpoint as often, so that what a start replays
    // differs only by what the state holds.
    let mut builder = Engine::builder(dir)
        .workers(args.workers)
        .checkpoint_every(args.retention)
        .handler("soak", move |cx: TaskContext| async move {
            TaskResult::Ok(passed_on(&cx, size))
        });
    if retained {
        builder = builder
            .retention(RetentionPolicy {
                default: Retention {
                    max_age_ms: Some(u64::try_from(args.retention.as_millis()).unwrap_or(u64::MAX)),
                    max_runs: None,
                },
                ..RetentionPolicy::default()
            })
            .retention_every(args.retention)
            .trimming(TrimSchedule {
                every: Some(args.retention),
                keep_recent: args.retention,
                archive: ArchiveTo::DataDir,
            });
    }
    builder
}

fn engine_bytes(engine: &Engine) -> u64 {
    let log = engine.runtime().store().log();
    live_resident_bytes()
        .saturating_sub(log.memtable_bytes().unwrap_or(0))
        .saturating_sub(log.block_cache_bytes().unwrap_or(0))
}

/// The loading child: start `args.start` runs at `args.rate`, wait for
/// them, report.
async fn load(args: &HistoryArgs, dir: &Path) -> Result<Loaded, CliError> {
    let workflow = chain(args.beads)?;
    let began = Instant::now();
    let engine = Arc::new(builder(args, dir, args.retained).open().await?);
    let mut waits = tokio::task::JoinSet::new();
    let mut tick = tokio::time::interval(Duration::from_secs(1) / args.rate.max(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut completed = 0;
    for _ in 0..args.start {
        tick.tick().await;
        let run = engine.start(&workflow, RunInput::new()).await?;
        let waiter = Arc::clone(&engine);
        waits.spawn(async move { waiter.wait(&run).await });
        while let Some(done) = waits.try_join_next() {
            completed += u64::from(finished_ok(done));
        }
    }
    while let Some(done) = waits.join_next().await {
        completed += u64::from(finished_ok(done));
    }
    let log = engine.runtime().store().log();
    Ok(Loaded {
        completed,
        load_ms: u64::try_from(began.elapsed().as_millis()).unwrap_or(u64::MAX),
        resident: live_resident_bytes(),
        engine_bytes: engine_bytes(&engine),
        runs_in_state: engine.status().await?.len(),
        first_seq: log.first_seq().get(),
        last_seq: log.last_seq().get(),
    })
}

fn finished_ok(
    done: Result<
        Result<strand_actors::orchestration::RunOutcome, strand_actors::ActorError>,
        tokio::task::JoinError,
    >,
) -> bool {
    matches!(done, Ok(Ok(outcome)) if outcome.status == RunStatus::Completed)
}

/// The starting child: open, wait until the scheduler answers, report.
async fn ready(args: &HistoryArgs, dir: &Path) -> Result<Restarted, CliError> {
    let start = Instant::now();
    let engine = builder(args, dir, args.retained).open().await?;
    // Answered once the scheduler has copied the state and recovered.
    let _ = engine
        .wait(&strand_projections::RunId::from("no such run"))
        .await;
    let ready_ms = u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX);
    let store = engine.runtime().store();
    let report = Restarted {
        ready_ms,
        replayed_events: store.full_rebuild_events(),
        full_rebuilds: store.full_rebuilds(),
        runs_in_state: engine.status().await?.len(),
        engine_bytes: engine_bytes(&engine),
    };
    engine.shutdown().await?;
    Ok(report)
}

/// Run a child of `role` on `dir` and read the one JSON line it reports;
/// a loading child is then killed, a starting one waited for.
fn child<T: for<'de> Deserialize<'de>>(
    args: &HistoryArgs,
    role: &'static str,
    dir: &Path,
    retained: bool,
    start: u64,
) -> Result<T, CliError> {
    let fail = |reason: String| CliError::BenchChild { role, reason };
    let exe = std::env::current_exe().map_err(|e| fail(e.to_string()))?;
    let mut command = Command::new(exe);
    command
        .args(["bench", "history", "--role", role, "--dir"])
        .arg(dir)
        .args(["--start", &start.to_string()])
        .args(["--beads", &args.beads.to_string()])
        .args(["--output-bytes", &args.output_bytes.to_string()])
        .args(["--rate", &args.rate.to_string()])
        .args(["--workers", &args.workers.to_string()])
        .args([
            "--retention",
            &humantime::format_duration(args.retention).to_string(),
        ]);
    if retained {
        command.arg("--retained");
    }
    let mut process = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| fail(e.to_string()))?;
    let stdout = process
        .stdout
        .take()
        .ok_or_else(|| fail("no stdout".into()))?;
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .map_err(|e| fail(e.to_string()))?;
    let report = serde_json::from_str::<T>(&line).map_err(|e| fail(format!("{e}: {line:?}")));
    if role == "load" {
        // SIGKILL: the engine gets no chance to close or checkpoint.
        process.kill().map_err(|e| fail(e.to_string()))?;
    }
    let status = process.wait().map_err(|e| fail(e.to_string()))?;
    if role == "ready" && !status.success() {
        return Err(fail(format!("exited with {status}")));
    }
    report
}

/// One mode's figures at each stage.
fn mode(args: &HistoryArgs, root: &Path, retained: bool) -> Result<serde_json::Value, CliError> {
    let dir = root.join(if retained { "retained" } else { "unbounded" });
    let mut stages: Vec<u64> = args
        .at
        .iter()
        .copied()
        .filter(|&at| at < args.runs)
        .collect();
    stages.sort_unstable();
    stages.dedup();
    stages.push(args.runs);
    let (mut done, mut figures) = (0, Vec::new());
    for stage in stages {
        let loaded: Loaded = child(args, "load", &dir, retained, stage - done)?;
        done = stage;
        let store_bytes = dir_bytes(&dir)?;
        let archive = dir.join(crate::engine::trimming::ARCHIVE_DIR);
        let archive_bytes = if archive.is_dir() {
            dir_bytes(&archive)?
        } else {
            0
        };
        let ready: Restarted = child(args, "ready", &dir, retained, 0)?;
        figures.push(json!({
            "runs": stage,
            "bead_completions": stage * u64::try_from(args.beads).unwrap_or(0),
            "loaded": loaded,
            "store_bytes": store_bytes,
            "archive_bytes": archive_bytes,
            "after_kill": ready,
        }));
    }
    Ok(json!(figures))
}

/// Run `strand bench history` (or one of its children).
///
/// # Errors
/// The engine's errors; a child that fails.
pub fn run(args: &HistoryArgs, ctx: &mut Context) -> Result<Status, CliError> {
    if let (Some(role), Some(dir)) = (args.role, args.dir.as_deref()) {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(CliError::Runtime)?;
        let line = match role {
            Role::Load => serde_json::to_string(&runtime.block_on(load(args, dir))?),
            Role::Ready => serde_json::to_string(&runtime.block_on(ready(args, dir))?),
        }
        .map_err(|e| CliError::BenchChild {
            role: "child",
            reason: e.to_string(),
        })?;
        println!("{line}");
        if role == Role::Load {
            // Killed here by the parent, mid-stride.
            let _ = std::io::stdin().read_line(&mut String::new());
        }
        return Ok(Status::Ok);
    }
    let root = super::temp_dir(args.tmp.as_deref())?;
    let retained = mode(args, root.path(), true)?;
    let unbounded = mode(args, root.path(), false)?;
    let doc = json!({
        "bench": "history",
        "beads_per_run": args.beads,
        "output_bytes": args.output_bytes,
        "rate": args.rate,
        "retention_s": args.retention.as_secs_f64(),
        "retained": retained,
        "unbounded": unbounded,
    });
    let text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    ctx.emit(&doc, &text)?;
    Ok(Status::Ok)
}
