//! Operator controls through the library: cancel, pause, resume and retry,
//! each while beads run and across a restart, with their refusals. On
//! real, synced RocksDB.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a failure is the test failing"
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use strand::actors::ActorError;
use strand::actors::orchestration::{TaskContext, TaskError, TaskResult};
use strand::engine::{Engine, EngineBuilder, RunInput};
use strand::eventlog::{EventLog, Seq};
use strand::projections::{
    BeadId, BeadState, Projection as _, RunId, RunRecord, RunStatus, StateManager, fold_in_memory,
};
use strand::replay::ReplayEngine;
use strand::workflow::Workflow;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Handlers: `gate` waits for the test's permit (or a cancel, which it
/// notes), `ok` completes, `flaky` fails for good until `healed`.
#[derive(Clone)]
struct World {
    permits: Arc<tokio::sync::Semaphore>,
    saw_cancel: Arc<AtomicBool>,
    healed: Arc<AtomicBool>,
    ok_runs: Arc<AtomicU32>,
}

impl Default for World {
    fn default() -> Self {
        Self {
            permits: Arc::new(tokio::sync::Semaphore::new(0)),
            saw_cancel: Arc::default(),
            healed: Arc::default(),
            ok_runs: Arc::default(),
        }
    }
}

impl World {
    fn builder(&self, dir: &std::path::Path) -> EngineBuilder {
        let (gate, ok, flaky) = (self.clone(), self.clone(), self.clone());
        Engine::builder(dir)
            .workers(4)
            .handler("gate", move |cx: TaskContext| {
                let world = gate.clone();
                async move {
                    tokio::select! {
                        permit = world.permits.acquire() => {
                            permit.unwrap().forget();
                            TaskResult::Ok("through the gate")
                        }
                        () = cx.cancel.cancelled() => {
                            world.saw_cancel.store(true, Ordering::SeqCst);
                            Err(TaskError::permanent("stopped on cancel"))
                        }
                    }
                }
            })
            .handler("ok", move |_cx: TaskContext| {
                ok.ok_runs.fetch_add(1, Ordering::SeqCst);
                async move { TaskResult::Ok("ok") }
            })
            .handler("verbose", |_cx: TaskContext| async move {
                TaskResult::<&str>::Err(TaskError::permanent(format!(
                    "broken: {}",
                    "x".repeat(LONG_ERROR)
                )))
            })
            .handler("flaky", move |_cx: TaskContext| {
                let healed = flaky.healed.load(Ordering::SeqCst);
                async move {
                    if healed {
                        TaskResult::Ok("healed")
                    } else {
                        Err(TaskError::permanent("broken"))
                    }
                }
            })
    }
}

/// The length of the `verbose` handler's error: longer than a finished
/// run's summary keeps of its reason.
const LONG_ERROR: usize = 3 * strand::projections::SUMMARY_REASON_BYTES;

fn workflow(toml: &str) -> Workflow {
    Workflow::from_toml_str("wf.toml", toml).unwrap()
}

/// Waits, on log appends, until `check` holds of the run's record.
async fn until(engine: &Engine, run: &RunId, check: impl Fn(&RunRecord) -> bool) {
    let mut appended = engine.runtime().store().watch_status();
    loop {
        let seq = appended.borrow_and_update().last_seq;
        engine.runtime().state().wait_applied(seq).await.unwrap();
        if check(&engine.run_record(run).await.unwrap().unwrap()) {
            return;
        }
        appended.changed().await.unwrap();
    }
}

fn state(record: &RunRecord, bead: &str) -> BeadState {
    record.bead(&BeadId::from(bead)).unwrap().state
}

const GATED: &str = "name = \"gated\"\n\
    [[task]]\nid = \"wait\"\nhandler = \"gate\"\n\
    [[task]]\nid = \"next\"\nhandler = \"ok\"\ndeps = [\"wait\"]\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_beads_running_when_the_run_is_cancelled_then_they_are_stopped_and_every_bead_not_completed_is_cancelled()
-> TestResult {
    let dir = tempfile::tempdir()?;
    let world = World::default();
    let term = dir.path().join("term.txt");
    let engine = world.builder(dir.path()).open().await?;
    // The shell task says, through a FIFO, when its trap is set.
    let ready = dir.path().join("ready");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&ready)
            .status()?
            .success()
    );
    let shell = format!(
        "{GATED}[[task]]\nid = \"sh\"\nrun = \"trap 'echo got-term > {}; exit 0' TERM; echo up > {}; sleep 30 & wait\"\n",
        term.display(),
        ready.display()
    );
    let run = engine.start(&workflow(&shell), RunInput::new()).await?;
    let up = tokio::task::spawn_blocking(move || std::fs::read_to_string(ready)).await??;
    assert_eq!(up, "up\n");
    until(&engine, &run, |r| state(r, "wait") == BeadState::Running).await;
    engine.cancel(&run, "operator said stop").await?;
    let outcome = engine.wait(&run).await?;
    assert_eq!(outcome.status, RunStatus::Cancelled);
    assert_eq!(outcome.reason.as_deref(), Some("operator said stop"));
    let record = engine.run_record(&run).await?.unwrap();
    for bead in ["wait", "next", "sh"] {
        assert_eq!(state(&record, bead), BeadState::Cancelled, "{bead}");
    }
    // Cancelled again: nothing to do, no error.
    engine.cancel(&run, "again").await?;

    engine.shutdown().await?;
    // Shut down waits for the workers, so the attempts have stopped.
    assert!(
        world.saw_cancel.load(Ordering::SeqCst),
        "the handler saw it"
    );
    assert_eq!(
        std::fs::read_to_string(&term)?,
        "got-term\n",
        "SIGTERM reached the shell"
    );
    assert_eq!(
        world.ok_runs.load(Ordering::SeqCst),
        0,
        "nothing new started"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_paused_run_when_its_running_bead_finishes_then_it_is_recorded_and_nothing_new_starts_until_resumed_even_across_a_restart()
-> TestResult {
    let dir = tempfile::tempdir()?;
    let world = World::default();
    let engine = world.builder(dir.path()).open().await?;
    let run = engine.start(&workflow(GATED), RunInput::new()).await?;
    until(&engine, &run, |r| state(r, "wait") == BeadState::Running).await;
    engine.pause(&run).await?;
    engine.pause(&run).await?; // idempotent
    world.permits.add_permits(1);
    until(&engine, &run, |r| state(r, "wait") == BeadState::Completed).await;
    let record = engine.run_record(&run).await?.unwrap();
    assert!(record.paused());
    assert_eq!(record.status(), RunStatus::Running);
    engine.shutdown().await?;
    assert_eq!(
        world.ok_runs.load(Ordering::SeqCst),
        0,
        "paused: next never ran"
    );

    // Still paused after a restart: recovery dispatches nothing.
    let engine = world.builder(dir.path()).open().await?;
    let record = engine.run_record(&run).await?.unwrap();
    assert!(record.paused());
    assert_ne!(state(&record, "next"), BeadState::Completed);
    engine.resume(&run).await?;
    let outcome = engine.wait(&run).await?;
    assert_eq!(outcome.status, RunStatus::Completed);
    assert_eq!(world.ok_runs.load(Ordering::SeqCst), 1);
    engine.shutdown().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_failed_run_when_retried_then_the_failed_bead_runs_again_and_completed_beads_do_not()
-> TestResult {
    let dir = tempfile::tempdir()?;
    let world = World::default();
    let engine = world.builder(dir.path()).open().await?;
    let wf = workflow(
        "name = \"etl\"\n\
         [[task]]\nid = \"extract\"\nhandler = \"ok\"\n\
         [[task]]\nid = \"load\"\nhandler = \"flaky\"\ndeps = [\"extract\"]\nretries = 1\n\
         [[task]]\nid = \"report\"\nhandler = \"ok\"\ndeps = [\"load\"]\n",
    );
    let run = engine.start(&wf, RunInput::new()).await?;
    assert_eq!(engine.wait(&run).await?.status, RunStatus::Failed);
    let id = run.clone();
    let summarized = engine
        .query(move |state, _| state.run(&id).is_some_and(|run| run.record().is_none()))
        .await?;
    assert!(
        summarized,
        "the state manager holds a failed run as its summary"
    );
    let refused = engine.pause(&run).await;
    assert!(
        matches!(refused, Err(ActorError::ControlRefused { .. })),
        "{refused:?}"
    );
    world.healed.store(true, Ordering::SeqCst);
    engine.retry(&run, &[]).await?;
    let outcome = engine.wait(&run).await?;
    assert_eq!(outcome.status, RunStatus::Completed, "{:?}", outcome.reason);
    assert_eq!(
        world.ok_runs.load(Ordering::SeqCst),
        2,
        "extract once, report once"
    );
    let record = engine.run_record(&run).await?.unwrap();
    assert_eq!(record.bead(&BeadId::from("load")).unwrap().attempts, 2);
    let refused = engine.retry(&run, &[]).await;
    assert!(
        matches!(refused, Err(ActorError::ControlRefused { .. })),
        "a completed run is not retried: {refused:?}"
    );
    let unknown = engine.cancel(&RunId::from("nope"), "x").await;
    assert!(
        matches!(unknown, Err(ActorError::UnknownWorkflow { .. })),
        "{unknown:?}"
    );
    let (live, live_seq) = engine
        .query(|state, _| (state.state_hash(), state.applied_seq()))
        .await?;
    engine.shutdown().await?;

    // A replay folds the retry from the failed run's stream: the whole log
    // replays, and its prefix up to the live state's seq is that state.
    let log = EventLog::open_read_only(dir.path())?;
    let replayed = ReplayEngine::new(log.clone())
        .rebuild_from_scratch::<StateManager>(&mut |_| {})?
        .projection;
    assert_eq!(
        replayed.run(&run).map(|entry| entry.status()),
        Some(RunStatus::Completed)
    );
    let events = log
        .read_range(Seq(1), Seq(live_seq))?
        .map(|stored| strand::actors::decode(&stored?))
        .collect::<Result<Vec<_>, _>>()?;
    let at_query = fold_in_memory(StateManager::empty(), events)?;
    assert_eq!(at_query.state_hash(), live);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_failure_reason_longer_than_a_summary_keeps_when_the_run_is_waited_for_then_the_whole_reason_is_answered()
-> TestResult {
    let dir = tempfile::tempdir()?;
    let world = World::default();
    let wf = workflow("name = \"loud\"\n[[task]]\nid = \"v\"\nhandler = \"verbose\"\n");
    let whole = |reason: Option<&str>| reason.is_some_and(|r| r.contains(&"x".repeat(LONG_ERROR)));
    let run = {
        let engine = world.builder(dir.path()).open().await?;
        let run = engine.start(&wf, RunInput::new()).await?;
        let outcome = engine.wait(&run).await?;
        assert_eq!(outcome.status, RunStatus::Failed);
        assert!(whole(outcome.reason.as_deref()), "waited while it ran");
        let again = engine.wait(&run).await?;
        assert!(whole(again.reason.as_deref()), "waited once it failed");
        engine.shutdown().await?;
        run
    };
    // After a restart the scheduler holds the failed run as its summary
    // only: the reason and the retry read the run back from the log.
    let engine = world.builder(dir.path()).open().await?;
    let outcome = engine.wait(&run).await?;
    assert!(whole(outcome.reason.as_deref()), "after a restart");
    engine.retry(&run, &[]).await?;
    let retried = engine.wait(&run).await?;
    assert_eq!(retried.status, RunStatus::Failed);
    let record = engine.run_record(&run).await?.unwrap();
    assert_eq!(record.bead(&BeadId::from("v")).unwrap().attempts, 2);
    engine.shutdown().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_retry_of_a_named_bead_when_it_completed_then_it_is_refused_and_nothing_written()
-> TestResult {
    let dir = tempfile::tempdir()?;
    let world = World::default();
    let engine = world.builder(dir.path()).open().await?;
    let wf = workflow(
        "name = \"two\"\n[[task]]\nid = \"a\"\nhandler = \"ok\"\n\
         [[task]]\nid = \"b\"\nhandler = \"flaky\"\ndeps = [\"a\"]\n",
    );
    let run = engine.start(&wf, RunInput::new()).await?;
    assert_eq!(engine.wait(&run).await?.status, RunStatus::Failed);
    let before = engine.runtime().store().log().last_seq();
    let refused = engine.retry(&run, &[BeadId::from("a")]).await;
    assert!(
        matches!(refused, Err(ActorError::ControlRefused { .. })),
        "{refused:?}"
    );
    let unknown = engine.retry(&run, &[BeadId::from("zz")]).await;
    assert!(
        matches!(unknown, Err(ActorError::UnknownBead { .. })),
        "{unknown:?}"
    );
    assert_eq!(engine.runtime().store().log().last_seq(), before);
    world.healed.store(true, Ordering::SeqCst);
    engine.retry(&run, &[BeadId::from("b")]).await?;
    assert_eq!(engine.wait(&run).await?.status, RunStatus::Completed);
    engine.shutdown().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_run_timeout_when_it_passes_even_across_a_restart_then_the_run_is_cancelled_with_that_reason()
-> TestResult {
    let dir = tempfile::tempdir()?;
    let world = World::default();
    let engine = world.builder(dir.path()).open().await?;
    let wf = workflow(&format!("timeout = \"300ms\"\n{GATED}"));
    let run = engine.start(&wf, RunInput::new()).await?;
    until(&engine, &run, |r| state(r, "wait") == BeadState::Running).await;
    // The deadline is in the log (submission time + timeout): a restart
    // arms it again.
    engine.shutdown().await?;
    let engine = world.builder(dir.path()).open().await?;
    let outcome = engine.wait(&run).await?;
    assert_eq!(outcome.status, RunStatus::Cancelled);
    assert!(
        outcome
            .reason
            .as_deref()
            .unwrap_or_default()
            .contains("timed out after 300 ms"),
        "{:?}",
        outcome.reason
    );
    engine.shutdown().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_task_backoff_when_it_fails_then_its_retries_wait_its_own_delays() -> TestResult {
    use strand::actors::policy::Backoff;
    use strand::eventlog::Seq;
    use strand::projections::DomainEvent;

    let dir = tempfile::tempdir()?;
    let attempts = Arc::new(AtomicU32::new(0));
    let seen = Arc::clone(&attempts);
    let engine = Engine::builder(dir.path())
        .retry_backoff(Backoff {
            jitter: 0.0,
            ..Backoff::default()
        })
        .handler("twice", move |_cx: TaskContext| {
            let n = seen.fetch_add(1, Ordering::SeqCst);
            async move {
                if n < 2 {
                    Err(TaskError::retryable("not yet"))
                } else {
                    TaskResult::Ok("ok")
                }
            }
        })
        .open()
        .await?;
    let wf = workflow(
        "name = \"b\"\n[[task]]\nid = \"t\"\nhandler = \"twice\"\nretries = 2\n\
         backoff = { initial = \"40ms\", max = \"1s\", multiplier = 3 }\n",
    );
    let run = engine.start(&wf, RunInput::new()).await?;
    assert_eq!(engine.wait(&run).await?.status, RunStatus::Completed);
    let events = engine
        .runtime()
        .store()
        .read_stream(&format!("workflow/{run}"), Seq::FIRST)
        .await?;
    let delays: Vec<u64> = events
        .iter()
        .filter_map(|e| {
            let (meta, event) = strand::actors::decode(e).ok()?;
            match event {
                DomainEvent::BeadRetryScheduled { at_ms, .. } => Some(at_ms - meta.at_ms),
                _ => None,
            }
        })
        .collect();
    // Planned from the scheduler's clock, stamped a little later by the
    // log's writer: each gap is at most the delay (the engine's own would
    // be 10 ms, then 20 ms).
    assert_eq!(delays.len(), 2, "{delays:?}");
    assert!((20..=40).contains(&delays[0]), "initial: {delays:?}");
    assert!(
        (100..=120).contains(&delays[1]),
        "times the multiplier: {delays:?}"
    );
    engine.shutdown().await?;
    Ok(())
}
