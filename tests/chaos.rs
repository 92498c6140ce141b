//! Actor chaos on a running engine, after OTP's supervisor suites: actors
//! are killed (`kill`, no `post_stop`) while a workflow of a few hundred
//! beads runs on a real, synced log.
//!
//! 1. random tier-2 actors, 10 at a time, at a fixed interval;
//! 2. each tier-1 supervisor in turn, its whole subtree coming back;
//! 3. a cascade: 5 actors at once (the event store, the state manager, the
//!    scheduler, the reconciler and a worker);
//! 4. continuous random kills, not waiting for the last to come back;
//! 5. sustained load with kills, sampling resident memory.
//!
//! Tier 1 is the universe's supervisors (storage, workflow, queue,
//! reconciler); tier 2 the actors under them, workers included. Every test
//! asserts that every killed actor came back (a new incarnation running),
//! that each bead completed exactly once, and that the state manager's
//! state equals a replay of the log; it prints kills and restart latency.
//! `STRAND_CHAOS_SCALE=20 cargo test --release --test chaos -- --nocapture`
//! runs them twenty times longer.
//!
//! The sleeps below are the scenarios' schedule (a task's duration, the
//! interval between kill waves), the behaviour under test; every wait for
//! an outcome (an actor back, the state caught up) follows the log's
//! appends instead.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "test helpers: a failure is the test failing; figures are approximate"
)]

use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

mod common;

use common::Rng;
use ractor::{ActorId, ActorStatus};
use strand::actors::SupervisorRef;
use strand::actors::names::{EVENT_STORE, STATE_MANAGER, STORAGE};
use strand::actors::orchestration::names::{
    QUEUE, RECONCILER, RECONCILER_SUPERVISOR, SCHEDULER, WORKER_POOL, WORKFLOW,
};
use strand::actors::orchestration::{TaskContext, TaskResult};
use strand::engine::Engine;
use strand::eventlog::Seq;
use strand::projections::{DomainEvent, RunId, RunStatus, StateManager};
use strand::replay::ReplayEngine;
use strand::workflow::Workflow;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// How long anything may take before the test fails (never slept).
const PATIENCE: Duration = Duration::from_secs(60);
const TIER_1: [&str; 4] = [STORAGE, WORKFLOW, QUEUE, RECONCILER_SUPERVISOR];

fn scale() -> u64 {
    std::env::var("STRAND_CHAOS_SCALE")
        .ok()
        .map_or(1, |s| s.parse().expect("STRAND_CHAOS_SCALE"))
}

/// An engine for chaos: quick loss detection, and supervisors configured to
/// take a storm of kills (200 restarts in 5 s) rather than escalate.
async fn engine(dir: &std::path::Path) -> Engine {
    Engine::builder(dir)
        .workers(16)
        .reconcile_every(Duration::from_millis(25))
        .heartbeat(Duration::from_millis(50), Duration::from_millis(500))
        .intensity(200, Duration::from_secs(5))
        .handler("work", |_: TaskContext| async {
            // The work (part of the scenario): a few milliseconds of "I/O".
            tokio::time::sleep(Duration::from_millis(10)).await;
            TaskResult::Ok(String::new())
        })
        .open()
        .await
        .unwrap()
}

/// `layers` layers of `width` beads, each depending on one bead before.
fn workflow(name: &str, layers: usize, width: usize) -> Workflow {
    let mut toml = format!("name = \"{name}\"\n");
    for layer in 0..layers {
        for i in 0..width {
            writeln!(
                toml,
                "[[task]]\nid = \"t{layer:02}-{i:02}\"\nhandler = \"work\""
            )
            .unwrap();
            if layer > 0 {
                writeln!(
                    toml,
                    "deps = [\"t{:02}-{:02}\"]",
                    layer - 1,
                    (i * 7) % width
                )
                .unwrap();
            }
        }
    }
    Workflow::from_toml_str("chaos.toml", &toml).unwrap()
}

/// One actor of the tree, by its supervisors' names from the root.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Target {
    path: Vec<String>,
    name: String,
}

async fn resolve(engine: &Engine, path: &[String]) -> Option<SupervisorRef> {
    let mut sup = engine.runtime().root().clone();
    for name in path {
        sup = sup.supervisor(name).await.ok()?;
    }
    Some(sup)
}

/// The running incarnation of `target`, if any.
async fn incarnation(engine: &Engine, target: &Target) -> Option<ActorId> {
    let sup = resolve(engine, &target.path).await?;
    let cell = sup.child_cell(&target.name).await.ok()??;
    matches!(cell.get_status(), ActorStatus::Running).then(|| cell.get_id())
}

/// Every actor under the tier-1 supervisors (recursively), without them.
async fn tier_2(engine: &Engine) -> Vec<Target> {
    let mut out = Vec::new();
    let mut stack: Vec<Vec<String>> = TIER_1.iter().map(|s| vec![(*s).to_owned()]).collect();
    while let Some(path) = stack.pop() {
        let Some(sup) = resolve(engine, &path).await else {
            continue;
        };
        for child in sup.children().await.unwrap_or_default() {
            if child.is_supervisor {
                let mut deeper = path.clone();
                deeper.push(child.name);
                stack.push(deeper);
            } else {
                out.push(Target {
                    path: path.clone(),
                    name: child.name,
                });
            }
        }
    }
    out.sort_by(|a, b| (&a.path, &a.name).cmp(&(&b.path, &b.name)));
    out
}

/// What chaos did, for the figures.
#[derive(Default)]
struct Tally {
    kills: u64,
    back: u64,
    latencies: Vec<Duration>,
    /// Killed, not yet seen back: (who, the incarnation killed, when).
    pending: Vec<(Target, ActorId, Instant)>,
}

impl Tally {
    fn p(&self, q: f64) -> Duration {
        let mut sorted = self.latencies.clone();
        sorted.sort_unstable();
        let at = ((sorted.len() as f64 - 1.0) * q).round() as usize;
        sorted.get(at).copied().unwrap_or_default()
    }

    fn report(&self, what: &str) {
        println!(
            "chaos {what}: kills={} back={} ({:.0} %), restart latency p50={:.2} ms p99={:.2} ms",
            self.kills,
            self.back,
            100.0 * self.back as f64 / self.kills.max(1) as f64,
            self.p(0.5).as_secs_f64() * 1e3,
            self.p(0.99).as_secs_f64() * 1e3,
        );
        assert_eq!(self.back, self.kills, "an actor did not come back");
    }
}

/// Kill `target`'s running incarnation (nothing when it is down already).
async fn kill(engine: &Engine, target: &Target, tally: &mut Tally) {
    let Some(sup) = resolve(engine, &target.path).await else {
        return;
    };
    if let Ok(Some(cell)) = sup.child_cell(&target.name).await {
        let id = cell.get_id();
        cell.kill();
        tally.kills += 1;
        tally.pending.push((target.clone(), id, Instant::now()));
    }
}

/// Count the killed actors that run again as a new incarnation. Safe to
/// drop at any await: an entry leaves `pending` only once counted.
async fn reap(engine: &Engine, tally: &mut Tally) {
    for (target, old, at) in tally.pending.clone() {
        // Killed again meanwhile: the later kill is the one to come back from.
        let killed_again = tally
            .pending
            .iter()
            .any(|(t, o, a)| *t == target && *o != old && *a > at);
        let back = matches!(incarnation(engine, &target).await, Some(id) if id != old);
        if killed_again || back {
            tally
                .pending
                .retain(|(t, o, _)| !(*t == target && *o == old));
        }
        if back && !killed_again {
            tally.latencies.push(at.elapsed());
        }
        if back || killed_again {
            tally.back += 1;
        }
    }
}

/// Wait (on the log's appends, which every restart makes) until each killed
/// actor runs again as a new incarnation; record the latencies.
async fn await_back(engine: &Engine, tally: &mut Tally) {
    let mut status = engine.runtime().store().watch_status();
    let deadline = Instant::now() + PATIENCE;
    loop {
        reap(engine, tally).await;
        if tally.pending.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{:?} did not come back in {PATIENCE:?}",
            tally.pending
        );
        // Woken by the next append; a restart delayed by backoff makes
        // none when it fires, hence the short bound.
        let _ = tokio::time::timeout(Duration::from_millis(5), status.changed()).await;
    }
}

/// Every bead of `workflow` completed exactly once (its events in the log).
async fn completed_once(engine: &Engine, workflow: &RunId, beads: usize) {
    let events = engine
        .runtime()
        .store()
        .read_stream(&format!("workflow/{}", workflow.as_str()), Seq::FIRST)
        .await
        .unwrap();
    let mut completions: HashMap<String, usize> = HashMap::new();
    for event in &events {
        if let DomainEvent::BeadCompletedWithOutput { bead, .. } =
            strand::actors::decode(event).unwrap().1
        {
            *completions.entry(bead.as_str().to_owned()).or_default() += 1;
        }
    }
    assert_eq!(completions.len(), beads, "every bead completed");
    assert!(
        completions.values().all(|&n| n == 1),
        "a bead completed twice"
    );
}

/// The state manager's state equals a full replay of the log, once it has
/// caught up with the log's end. Returns the replayed state.
async fn state_equals_replay(engine: &Engine) -> StateManager {
    let log = engine.runtime().store().log().clone();
    let mut status = engine.runtime().store().watch_status();
    let deadline = Instant::now() + PATIENCE;
    loop {
        let last = log.last_seq().get();
        let state = engine.runtime().state().inspect().await.unwrap();
        if state.applied_seq == last {
            let engine = ReplayEngine::new(log.clone());
            let replayed = tokio::task::spawn_blocking(move || {
                engine.rebuild_from_scratch::<StateManager>(&mut |_| {})
            })
            .await
            .unwrap()
            .unwrap();
            if replayed.report.last_seq == last {
                assert_eq!(replayed.report.state_hash, state.state_hash);
                return replayed.projection;
            }
        }
        assert!(
            Instant::now() < deadline,
            "the state manager never caught up"
        );
        let _ = tokio::time::timeout(Duration::from_millis(5), status.changed()).await;
    }
}

/// Run `workflow` to completion while `chaos` kills actors; then check.
async fn under_chaos<F>(engine: &Engine, wf: &Workflow, beads: usize, mut chaos: F) -> Tally
where
    F: AsyncFnMut(&Engine, &mut Tally),
{
    let id = engine.submit(wf).await.unwrap();
    let mut tally = Tally::default();
    let waiting = engine.wait(&id);
    tokio::pin!(waiting);
    let outcome = loop {
        tokio::select! {
            outcome = &mut waiting => break outcome.unwrap_or_else(|e| panic!(
                "wait: {e}; the root's errors: {:#?}", engine.runtime().errors()
            )),
            () = chaos(engine, &mut tally) => {}
        }
    };
    assert_eq!(outcome.status, RunStatus::Completed);
    // Chaos may have stopped mid-wave: everything killed comes back.
    await_back(engine, &mut tally).await;
    completed_once(engine, &id, beads).await;
    let replayed = state_equals_replay(engine).await;
    // The scheduler's own projection of the workflow (its answer to the
    // waiter) equals the replay's.
    assert_eq!(Some(outcome.counts), replayed.bead_counts(&id));
    tally
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_running_workflow_when_ten_random_tier_2_actors_are_killed_at_a_fixed_interval_then_each_comes_back_and_every_bead_completes_once()
-> TestResult {
    let dir = tempfile::tempdir()?;
    let engine = engine(dir.path()).await;
    let layers = usize::try_from(30 * scale())?;
    let wf = workflow("waves", layers, 20);
    let mut rng = Rng(0x5EED_0001);
    let tally = under_chaos(&engine, &wf, layers * 20, async |engine, tally| {
        let mut targets = tier_2(engine).await;
        for _ in 0..10.min(targets.len()) {
            let target = targets.swap_remove(rng.index(targets.len()));
            kill(engine, &target, tally).await;
        }
        await_back(engine, tally).await;
        tokio::time::sleep(Duration::from_millis(100)).await; // the kill interval, under test
    })
    .await;
    tally.report("10 random tier-2 kills every 100 ms");
    assert!(tally.kills >= 10);
    engine.shutdown().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_running_workflow_when_each_tier_1_supervisor_is_killed_in_turn_then_its_subtree_restarts()
-> TestResult {
    let dir = tempfile::tempdir()?;
    let engine = engine(dir.path()).await;
    let layers = usize::try_from(40 * scale())?;
    let wf = workflow("tier1", layers, 10);
    let mut turn = 0;
    let mut subtrees = 0;
    let tally = under_chaos(&engine, &wf, layers * 10, async |engine, tally| {
        let name = TIER_1[turn % TIER_1.len()];
        turn += 1;
        let target = Target {
            path: Vec::new(),
            name: name.to_owned(),
        };
        let before = tier_2(engine).await.len();
        let kills = tally.kills;
        kill(engine, &target, tally).await;
        if tally.kills > kills {
            await_back(engine, tally).await;
            // Its subtree is back: as many actors as before, all running.
            let deadline = Instant::now() + PATIENCE;
            loop {
                let targets = tier_2(engine).await;
                let mut running = 0;
                for t in &targets {
                    running += usize::from(incarnation(engine, t).await.is_some());
                }
                if targets.len() == before && running == before {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "{name}'s subtree did not come back"
                );
                tokio::task::yield_now().await;
            }
            subtrees += 1;
        }
        tokio::time::sleep(Duration::from_millis(150)).await; // the kill interval, under test
    })
    .await;
    tally.report("tier-1 supervisors killed in turn");
    println!("chaos tier-1: {subtrees} subtrees restarted whole");
    assert!(turn >= TIER_1.len(), "every tier-1 supervisor had its turn");
    engine.shutdown().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_running_workflow_when_five_actors_are_killed_at_once_then_the_cascade_recovers()
-> TestResult {
    let dir = tempfile::tempdir()?;
    let engine = engine(dir.path()).await;
    let wf = workflow("cascade", 30, 10);
    let at = |path: &[&str], name: &str| Target {
        path: path.iter().map(|s| (*s).to_owned()).collect(),
        name: name.to_owned(),
    };
    let five = [
        at(&[STORAGE], EVENT_STORE),
        at(&[STORAGE], STATE_MANAGER),
        at(&[WORKFLOW], SCHEDULER),
        at(&[RECONCILER_SUPERVISOR], RECONCILER),
        at(&[WORKFLOW, WORKER_POOL], "worker-003"),
    ];
    let mut cascades = 0;
    let tally = under_chaos(&engine, &wf, 300, async |engine, tally| {
        for target in &five {
            kill(engine, target, tally).await;
        }
        await_back(engine, tally).await;
        cascades += 1;
        tokio::time::sleep(Duration::from_millis(200)).await; // the kill interval, under test
    })
    .await;
    tally.report("cascades of 5 kills at once");
    println!("chaos cascade: {cascades} cascades");
    engine.shutdown().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_continuous_random_kills_when_a_workflow_runs_then_it_completes_with_every_bead_completed_once()
-> TestResult {
    let dir = tempfile::tempdir()?;
    let engine = engine(dir.path()).await;
    let layers = usize::try_from(30 * scale())?;
    let wf = workflow("storm", layers, 20);
    let mut rng = Rng(0x5EED_0004);
    let tally = under_chaos(&engine, &wf, layers * 20, async |engine, tally| {
        // Kill one to three actors, then go on after a random pause: the
        // next kill may come before the last victim is back. About 30 kills
        // a second: a storm, but within the tree's restart intensity (200
        // in 5 s), so it recovers rather than escalates and backs off
        // (a faster storm, run for long, keeps the pool in backoff).
        let targets = tier_2(engine).await;
        reap(engine, tally).await;
        for _ in 0..=rng.below(3) {
            kill(engine, &targets[rng.index(targets.len())], tally).await;
        }
        let pause = Duration::from_millis(20 + rng.below(80));
        tokio::time::sleep(pause).await; // the kill interval, under test
    })
    .await;
    tally.report("continuous random kills");
    engine.shutdown().await?;
    Ok(())
}

/// Resident memory of this process, in bytes (Linux `/proc/self/statm`).
fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_sustained_load_with_kills_when_memory_is_sampled_then_resident_memory_stays_flat()
-> TestResult {
    let dir = tempfile::tempdir()?;
    let engine = engine(dir.path()).await;
    // One long workflow: its state is allocated at submission, so what
    // grows afterwards is the log's memtable (bounded by RocksDB's write
    // buffers, freed by flushes; measured and set apart) or a leak.
    let layers = usize::try_from(120 * scale())?;
    let wf = workflow("load", layers, 20);
    let log = engine.runtime().store().log().clone();
    let mut rng = Rng(0x5EED_0005);
    let mut samples: Vec<(u64, u64)> = Vec::new();
    let tally = under_chaos(&engine, &wf, layers * 20, async |engine, tally| {
        let targets = tier_2(engine).await;
        kill(engine, &targets[rng.index(targets.len())], tally).await;
        await_back(engine, tally).await;
        samples.push((resident_bytes(), log.memtable_bytes().unwrap_or(0)));
        tokio::time::sleep(Duration::from_millis(25)).await; // the kill interval, under test
    })
    .await;
    // The first third warms up (allocator arenas, the runtime's pools, the
    // block cache); past it, resident memory less the memtable stays flat.
    let net: Vec<u64> = samples.iter().map(|(rss, mem)| rss - mem).collect();
    let steady = &net[net.len() / 3..];
    let mean = steady.iter().sum::<u64>() as f64 / steady.len() as f64;
    let low = *steady.iter().min().unwrap() as f64;
    let high = *steady.iter().max().unwrap() as f64;
    let mib = |b: f64| b / (1024.0 * 1024.0);
    let (first, last) = (samples[0], samples[samples.len() - 1]);
    println!(
        "chaos memory: {} beads, {} samples; resident {:.1} -> {:.1} MiB, memtable {:.1} -> {:.1} MiB; \
         resident less memtable after warm-up {:.1}..{:.1} MiB (mean {:.1}, {:+.1} % / {:+.1} %)",
        layers * 20,
        samples.len(),
        mib(first.0 as f64),
        mib(last.0 as f64),
        mib(first.1 as f64),
        mib(last.1 as f64),
        mib(low),
        mib(high),
        mib(mean),
        100.0 * (low - mean) / mean,
        100.0 * (high - mean) / mean,
    );
    tally.report("kills under sustained load");
    assert!(samples.len() >= 9, "too few samples: {}", samples.len());
    assert!(
        high <= mean * 1.1 && low >= mean * 0.9,
        "resident memory less the memtable moved more than 10 %: {net:?}"
    );
    engine.shutdown().await?;
    Ok(())
}
