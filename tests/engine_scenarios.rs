//! The engine end to end on a real, synced log: workflow shapes (a CI
//! pipeline, an ETL chain, a wide fan-out/fan-in), retries, timeouts,
//! panics and a poisoned task, with what the log records for each.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a failure is the test failing"
)]

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use strand::actors::orchestration::{TaskContext, TaskError, TaskResult};
use strand::actors::policy::Backoff;
use strand::engine::{Engine, EngineBuilder, RunInput};
use strand::projections::{BeadState, DomainEvent, RunId, RunStatus};
use strand::workflow::Workflow;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Which beads ran, with their attempts, in the order they started.
#[derive(Clone, Default)]
struct Journal(Arc<Mutex<Vec<(String, u32)>>>);

impl Journal {
    fn record(&self, cx: &TaskContext) {
        self.0
            .lock()
            .unwrap()
            .push((cx.bead.as_str().to_owned(), cx.attempt));
    }

    fn runs(&self) -> Vec<(String, u32)> {
        self.0.lock().unwrap().clone()
    }

    fn position(&self, bead: &str) -> usize {
        self.runs().iter().position(|(b, _)| b == bead).unwrap()
    }

    fn count(&self, bead: &str) -> usize {
        self.runs().iter().filter(|(b, _)| b == bead).count()
    }
}

fn builder(dir: &std::path::Path, journal: &Journal) -> EngineBuilder {
    let (ok, flaky, poison, panicky, slow, fatal) = (
        journal.clone(),
        journal.clone(),
        journal.clone(),
        journal.clone(),
        journal.clone(),
        journal.clone(),
    );
    Engine::builder(dir)
        .workers(8)
        .retry_backoff(Backoff {
            immediate: 0,
            initial: Duration::from_millis(5),
            max: Duration::from_millis(20),
            ..Backoff::default()
        })
        .handler("ok", move |cx: TaskContext| {
            ok.record(&cx);
            async move { TaskResult::Ok(format!("{} done", cx.bead.as_str())) }
        })
        .handler("flaky", move |cx: TaskContext| {
            flaky.record(&cx);
            async move {
                if cx.attempt < 3 {
                    Err(TaskError::retryable(format!(
                        "attempt {} failed",
                        cx.attempt
                    )))
                } else {
                    Ok("third time lucky".to_owned())
                }
            }
        })
        .handler("poison", move |cx: TaskContext| {
            poison.record(&cx);
            async move { TaskResult::<()>::Err(TaskError::retryable("always fails")) }
        })
        .handler("panicky", move |cx: TaskContext| {
            panicky.record(&cx);
            async move {
                assert!(cx.attempt > 1, "first attempt panics");
                Ok("recovered".to_owned())
            }
        })
        .handler("slow", move |cx: TaskContext| {
            slow.record(&cx);
            async move {
                if cx.attempt == 1 {
                    // Stuck: the worker's time limit ends it.
                    std::future::pending::<()>().await;
                }
                Ok("fast enough".to_owned())
            }
        })
        .handler("fatal", move |cx: TaskContext| {
            fatal.record(&cx);
            async move { TaskResult::<()>::Err(TaskError::permanent("bad input")) }
        })
}

fn workflow(name: &str, tasks: &[(&str, &str, &[&str], &str)]) -> Workflow {
    let mut toml = format!("name = \"{name}\"\n");
    for (id, handler, deps, extra) in tasks {
        let deps: Vec<String> = deps.iter().map(|d| format!("\"{d}\"")).collect();
        write!(
            toml,
            "[[task]]\nid = \"{id}\"\nhandler = \"{handler}\"\ndeps = [{}]\n{extra}\n",
            deps.join(", ")
        )
        .unwrap();
    }
    Workflow::from_toml_str(&format!("{name}.toml"), &toml).unwrap()
}

/// The stream of the newest run of the definition `name` (or of the run
/// whose id is `name`, for runs submitted under an id of their own).
async fn stream_of(engine: &Engine, name: &str) -> String {
    let runs = engine.status().await.unwrap();
    let newest = runs
        .iter()
        .filter(|r| r.name == name)
        .max_by_key(|r| (r.submitted_at_ms, r.id.clone()));
    let id = newest.map_or(name, |r| r.id.as_str());
    format!("workflow/{id}")
}

/// The workflow's events, in log order.
async fn events(engine: &Engine, workflow: &str) -> Vec<DomainEvent> {
    engine
        .runtime()
        .store()
        .read_stream(
            &stream_of(engine, workflow).await,
            strand::eventlog::Seq::FIRST,
        )
        .await
        .unwrap()
        .iter()
        .map(|e| strand::actors::decode(e).unwrap().1)
        .collect()
}

fn completions(events: &[DomainEvent]) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for event in events {
        if let DomainEvent::BeadCompletedWithOutput { bead, .. } = event {
            *counts.entry(bead.as_str().to_owned()).or_default() += 1;
        }
    }
    counts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_ci_pipeline_when_run_then_every_bead_completes_once_after_its_dependencies()
-> TestResult {
    let dir = tempfile::tempdir()?;
    let journal = Journal::default();
    let engine = builder(dir.path(), &journal).open().await?;
    let pipeline = workflow(
        "ci",
        &[
            ("checkout", "ok", &[], ""),
            ("lint", "ok", &["checkout"], ""),
            ("build", "ok", &["checkout"], "priority = 10"),
            ("test", "ok", &["build"], ""),
            ("package", "ok", &["lint", "test"], ""),
        ],
    );
    let outcome = engine.run(&pipeline).await?;
    assert_eq!(outcome.status, RunStatus::Completed);
    assert_eq!(outcome.counts.get(BeadState::Completed), 5);
    for bead in ["checkout", "lint", "build", "test", "package"] {
        assert_eq!(journal.count(bead), 1, "{bead} ran once");
    }
    assert!(journal.position("checkout") < journal.position("build"));
    assert!(journal.position("build") < journal.position("test"));
    assert!(journal.position("lint") < journal.position("package"));
    assert!(journal.position("test") < journal.position("package"));
    let log = events(&engine, "ci").await;
    assert!(completions(&log).values().all(|&n| n == 1));
    assert!(matches!(
        log.last(),
        Some(DomainEvent::WorkflowCompleted { .. })
    ));
    // Starting the finished run again, by its id, runs nothing.
    let again = engine
        .start_with_id(&pipeline, outcome.run.clone(), RunInput::new())
        .await?;
    assert!(again.existing);
    assert_eq!(engine.wait(&again.run).await?.status, RunStatus::Completed);
    assert_eq!(journal.runs().len(), 5);
    engine.shutdown().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_wide_fan_out_and_fan_in_when_run_then_the_join_runs_last_and_once() -> TestResult {
    let dir = tempfile::tempdir()?;
    let journal = Journal::default();
    let engine = builder(dir.path(), &journal).open().await?;
    let shards: Vec<String> = (0..64).map(|i| format!("train-{i:02}")).collect();
    let mut tasks: Vec<(&str, &str, &[&str], &str)> = vec![("prepare", "ok", &[], "")];
    let prepare: &[&str] = &["prepare"];
    for shard in &shards {
        tasks.push((shard.as_str(), "ok", prepare, ""));
    }
    let all: Vec<&str> = shards.iter().map(String::as_str).collect();
    tasks.push(("evaluate", "ok", &all, ""));
    let outcome = engine.run(&workflow("ml", &tasks)).await?;
    assert_eq!(outcome.status, RunStatus::Completed);
    assert_eq!(outcome.counts.get(BeadState::Completed), 66);
    let runs = journal.runs();
    assert_eq!(runs.len(), 66);
    assert_eq!(runs.first().unwrap().0, "prepare");
    assert_eq!(runs.last().unwrap().0, "evaluate");
    engine.shutdown().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_failures_panics_and_timeouts_when_retries_remain_then_the_bead_completes_on_a_later_attempt()
-> TestResult {
    let dir = tempfile::tempdir()?;
    let journal = Journal::default();
    let engine = builder(dir.path(), &journal).open().await?;
    let etl = workflow(
        "etl",
        &[
            ("extract", "flaky", &[], "retries = 3"),
            ("transform", "panicky", &["extract"], "retries = 1"),
            (
                "load",
                "slow",
                &["transform"],
                "retries = 1\ntimeout = \"50ms\"",
            ),
        ],
    );
    let outcome = engine.run(&etl).await?;
    assert_eq!(outcome.status, RunStatus::Completed, "{outcome:?}");
    assert_eq!(
        journal.runs(),
        [
            ("extract".to_owned(), 1),
            ("extract".to_owned(), 2),
            ("extract".to_owned(), 3),
            ("transform".to_owned(), 1),
            ("transform".to_owned(), 2),
            ("load".to_owned(), 1),
            ("load".to_owned(), 2),
        ]
    );
    let log = events(&engine, "etl").await;
    let failed: Vec<String> = log
        .iter()
        .filter_map(|e| match e {
            DomainEvent::BeadFailed { bead, error, .. } => {
                Some(format!("{}: {error}", bead.as_str()))
            }
            DomainEvent::BeadTimedOut { bead, reason, .. } => {
                Some(format!("{}: {reason}", bead.as_str()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(failed.len(), 4, "{failed:?}");
    assert!(
        failed[2].contains("handler panicked: first attempt panics"),
        "{failed:?}"
    );
    assert_eq!(failed[3], "load: timed out after 50 ms");
    let retries = log
        .iter()
        .filter(|e| matches!(e, DomainEvent::BeadRetryScheduled { .. }))
        .count();
    assert_eq!(retries, 4);
    engine.shutdown().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_poisoned_task_when_its_retries_run_out_then_the_workflow_fails_and_dependents_never_run()
-> TestResult {
    let dir = tempfile::tempdir()?;
    let journal = Journal::default();
    let engine = builder(dir.path(), &journal).open().await?;
    let doomed = workflow(
        "doomed",
        &[
            ("fetch", "ok", &[], ""),
            ("parse", "poison", &["fetch"], "retries = 2"),
            ("store", "ok", &["parse"], ""),
        ],
    );
    let outcome = engine.run(&doomed).await?;
    assert_eq!(outcome.status, RunStatus::Failed);
    let reason = outcome.reason.unwrap();
    assert!(
        reason.contains("parse") && reason.contains("3 attempt"),
        "{reason}"
    );
    assert_eq!(journal.count("parse"), 3);
    assert_eq!(journal.count("store"), 0);
    assert!(matches!(
        events(&engine, "doomed").await.last(),
        Some(DomainEvent::WorkflowFailed { .. })
    ));
    engine.shutdown().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_permanent_error_when_retries_remain_then_the_workflow_fails_at_once() -> TestResult
{
    let dir = tempfile::tempdir()?;
    let journal = Journal::default();
    let engine = builder(dir.path(), &journal).open().await?;
    let outcome = engine
        .run(&workflow(
            "strict",
            &[("validate", "fatal", &[], "retries = 5")],
        ))
        .await?;
    assert_eq!(outcome.status, RunStatus::Failed);
    assert_eq!(journal.count("validate"), 1);
    engine.shutdown().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_handler_name_nobody_registered_when_run_then_the_bead_fails_permanently()
-> TestResult {
    let dir = tempfile::tempdir()?;
    let engine = builder(dir.path(), &Journal::default()).open().await?;
    let outcome = engine
        .run(&workflow("orphan", &[("x", "missing", &[], "retries = 3")]))
        .await?;
    assert_eq!(outcome.status, RunStatus::Failed);
    assert!(outcome.reason.unwrap().contains("no handler"));
    engine.shutdown().await?;
    Ok(())
}

/// Completed work survives a restart of the engine: the second run of the
/// same workflow on the same directory runs only what had not completed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_completed_workflow_when_run_again_after_reopen_then_nothing_reruns() -> TestResult
{
    let dir = tempfile::tempdir()?;
    let journal = Journal::default();
    let engine = builder(dir.path(), &journal).open().await?;
    let first = workflow("resume", &[("a", "ok", &[], ""), ("b", "ok", &["a"], "")]);
    let id = RunId::from("resume-1");
    let started = engine
        .start_with_id(&first, id.clone(), RunInput::new())
        .await?;
    engine.wait(&started.run).await?;
    engine.shutdown().await?;
    let engine = builder(dir.path(), &journal).open().await?;
    let again = engine.start_with_id(&first, id, RunInput::new()).await?;
    assert!(again.existing, "the run is found again by its id");
    let outcome = engine.wait(&again.run).await?;
    assert_eq!(outcome.status, RunStatus::Completed);
    assert_eq!(journal.runs().len(), 2, "nothing ran twice");
    let status = engine.status().await?;
    assert_eq!(status.len(), 1);
    engine.shutdown().await?;
    Ok(())
}

/// A worker that dies while it runs a bead never reports: the reconciler
/// finds the attempt's worker incarnation gone, the attempt is timed out
/// with that reason and the bead runs again on the restarted worker.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_worker_killed_mid_bead_when_the_reconciler_ticks_then_the_bead_runs_again()
-> TestResult {
    use strand::actors::orchestration::WorkerMsg;
    let dir = tempfile::tempdir()?;
    let (started_tx, mut started) = tokio::sync::mpsc::unbounded_channel();
    let engine = Engine::builder(dir.path())
        .workers(1)
        .reconcile_every(Duration::from_millis(20))
        .handler("stuck", move |cx: TaskContext| {
            let _ = started_tx.send(cx.attempt);
            async move {
                if cx.attempt == 1 {
                    std::future::pending::<()>().await;
                }
                TaskResult::Ok("second attempt".to_owned())
            }
        })
        .open()
        .await?;
    let id = engine
        .submit(&workflow("victim", &[("x", "stuck", &[], "")]))
        .await?;
    assert_eq!(started.recv().await, Some(1));
    let pool = engine
        .runtime()
        .root()
        .supervisor("workflow")
        .await?
        .supervisor("worker_pool")
        .await?;
    pool.child::<WorkerMsg>("worker-000")
        .await?
        .actor()
        .unwrap()
        .kill();
    let outcome = tokio::time::timeout(Duration::from_secs(20), engine.wait(&id)).await??;
    assert_eq!(outcome.status, RunStatus::Completed);
    assert_eq!(started.recv().await, Some(2));
    let reasons: Vec<String> = events(&engine, "victim")
        .await
        .into_iter()
        .filter_map(|e| match e {
            DomainEvent::BeadTimedOut { reason, .. } => Some(reason),
            _ => None,
        })
        .collect();
    assert_eq!(reasons, ["worker worker-000 died while running it"]);
    engine.shutdown().await?;
    Ok(())
}

/// A scheduler killed mid-workflow is restarted by its supervisor, rebuilds
/// the workflow from the log, reruns the attempt it lost track of, and a
/// caller waiting on the workflow gets its outcome all the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_the_scheduler_killed_mid_workflow_when_restarted_then_the_workflow_completes_and_waiters_hear()
-> TestResult {
    use strand::actors::orchestration::SchedulerMsg;
    let dir = tempfile::tempdir()?;
    let gate = Arc::new(tokio::sync::Notify::new());
    let (started_tx, mut started) = tokio::sync::mpsc::unbounded_channel();
    let engine = Arc::new(
        Engine::builder(dir.path())
            .workers(2)
            .handler("gated", {
                let gate = Arc::clone(&gate);
                move |cx: TaskContext| {
                    let _ = started_tx.send((cx.bead.as_str().to_owned(), cx.attempt));
                    let gate = Arc::clone(&gate);
                    async move {
                        if cx.attempt == 1 && cx.bead.as_str() == "a" {
                            gate.notified().await;
                        }
                        TaskResult::Ok(String::new())
                    }
                }
            })
            .open()
            .await?,
    );
    let id = engine
        .submit(&workflow(
            "restart",
            &[("a", "gated", &[], ""), ("b", "gated", &["a"], "")],
        ))
        .await?;
    let waiter = tokio::spawn({
        let (engine, id) = (Arc::clone(&engine), id.clone());
        async move { engine.wait(&id).await }
    });
    assert_eq!(started.recv().await, Some(("a".to_owned(), 1)));
    let workflow_sup = engine.runtime().root().supervisor("workflow").await?;
    workflow_sup
        .child::<SchedulerMsg>("scheduler")
        .await?
        .actor()
        .unwrap()
        .kill();
    // The first attempt ends, but its report went to the dead scheduler.
    // The new one timed out the attempt it cannot hear from and runs it
    // again (on the same worker, after the first attempt: a restarted
    // scheduler does not know which workers are still busy).
    gate.notify_one();
    assert_eq!(started.recv().await, Some(("a".to_owned(), 2)));
    let outcome = tokio::time::timeout(Duration::from_secs(20), waiter).await???;
    assert_eq!(outcome.status, RunStatus::Completed);
    let log = events(&engine, "restart").await;
    assert_eq!(completions(&log).get("a"), Some(&1));
    Arc::into_inner(engine).unwrap().shutdown().await?;
    Ok(())
}

/// A workflow built in code: a good one runs; one whose task specs do not
/// match its DAG is refused before anything is written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_dag_built_in_code_when_submitted_then_it_runs_or_is_refused_without_a_write()
-> TestResult {
    use strand::dag::{DependencyType, WorkflowDag};
    use strand::projections::{RunId, TaskAction, TaskSpec};
    let spec = |id: &str| TaskSpec {
        id: id.into(),
        action: TaskAction::Handler("ok".to_owned()),
        priority: 0,
        retries: 0,
        timeout_ms: None,
        affinity: None,
    };
    let dir = tempfile::tempdir()?;
    let journal = Journal::default();
    let engine = builder(dir.path(), &journal).open().await?;
    let mut dag = WorkflowDag::new();
    dag.add_node("first")?;
    dag.add_node("second")?;
    dag.add_edge(&"first".into(), &"second".into(), DependencyType::Blocking)?;

    let refused = engine
        .submit_dag(RunId::from("bad"), "bad", dag.clone(), vec![spec("first")])
        .await;
    assert!(
        matches!(refused, Err(strand::actors::ActorError::Projection(_))),
        "{refused:?}"
    );
    assert!(events(&engine, "bad").await.is_empty(), "nothing written");

    let id = engine
        .submit_dag(
            RunId::from("coded"),
            "coded",
            dag,
            vec![spec("first"), spec("second")],
        )
        .await?;
    assert_eq!(engine.wait(&id).await?.status, RunStatus::Completed);
    assert_eq!(journal.runs().len(), 2);
    engine.shutdown().await?;
    Ok(())
}

/// A worker whose thread is wedged inside a handler sends no heartbeat:
/// the reconciler times the attempt out with that reason and the bead runs
/// again elsewhere; the wedged attempt's late report is ignored.
#[tokio::test(flavor = "multi_thread", worker_threads = 3)]
async fn given_a_wedged_worker_when_heartbeats_stop_then_the_attempt_is_timed_out_and_rerun()
-> TestResult {
    let dir = tempfile::tempdir()?;
    let engine = Engine::builder(dir.path())
        .workers(2)
        .heartbeat(Duration::from_millis(10), Duration::from_millis(150))
        .reconcile_every(Duration::from_millis(20))
        .handler("wedged", |cx: TaskContext| async move {
            if cx.attempt == 1 {
                // Blocking work in a handler: the worker's heartbeat loop
                // is not polled meanwhile. (block_in_place hands the
                // thread's other tasks to other threads first.)
                tokio::task::block_in_place(|| std::thread::sleep(Duration::from_millis(600)));
            }
            TaskResult::Ok(format!("attempt {}", cx.attempt))
        })
        .open()
        .await?;
    let outcome = engine
        .run(&workflow("wedge", &[("w", "wedged", &[], "")]))
        .await?;
    assert_eq!(outcome.status, RunStatus::Completed);
    let log = events(&engine, "wedge").await;
    let timed_out: Vec<&str> = log
        .iter()
        .filter_map(|e| match e {
            DomainEvent::BeadTimedOut { reason, .. } => Some(reason.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(timed_out.len(), 1, "{timed_out:?}");
    assert!(timed_out[0].contains("sent no heartbeat"), "{timed_out:?}");
    assert_eq!(completions(&log).get("w"), Some(&1));
    let completed_by = log.iter().find_map(|e| match e {
        DomainEvent::BeadCompletedWithOutput { attempt, .. } => Some(*attempt),
        _ => None,
    });
    assert_eq!(completed_by, Some(2));
    engine.shutdown().await?;
    Ok(())
}

/// The whole workflow branch restarted (its supervisor killed): a new pool
/// and a new scheduler recover the workflow from the log, and a caller
/// already waiting finds the new scheduler and gets the outcome.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_the_workflow_supervisor_killed_mid_workflow_when_restarted_then_waiters_still_hear()
-> TestResult {
    let dir = tempfile::tempdir()?;
    let (started_tx, mut started) = tokio::sync::mpsc::unbounded_channel();
    let engine = Arc::new(
        Engine::builder(dir.path())
            .workers(1)
            .handler("hold", move |cx: TaskContext| {
                let _ = started_tx.send(cx.attempt);
                async move {
                    if cx.attempt == 1 {
                        std::future::pending::<()>().await;
                    }
                    TaskResult::Ok(String::new())
                }
            })
            .open()
            .await?,
    );
    let id = engine
        .submit(&workflow("branch", &[("a", "hold", &[], "")]))
        .await?;
    let waiter = tokio::spawn({
        let (engine, id) = (Arc::clone(&engine), id.clone());
        async move { engine.wait(&id).await }
    });
    assert_eq!(started.recv().await, Some(1));
    engine
        .runtime()
        .root()
        .supervisor("workflow")
        .await?
        .actor()
        .kill();
    assert_eq!(started.recv().await, Some(2));
    let outcome = tokio::time::timeout(Duration::from_secs(20), waiter).await???;
    assert_eq!(outcome.status, RunStatus::Completed);
    Arc::into_inner(engine).unwrap().shutdown().await?;
    Ok(())
}
