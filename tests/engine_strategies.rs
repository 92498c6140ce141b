//! Distribution strategies and affinity, observed through the log: which
//! worker each bead was scheduled on, and in which order beads started.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a failure is the test failing"
)]

use std::fmt::Write as _;

use strand::actors::orchestration::{AffinityMode, Distribution, TaskContext};
use strand::engine::{Engine, EngineBuilder};
use strand::projections::{DomainEvent, RunStatus};
use strand::workflow::Workflow;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn builder(dir: &std::path::Path) -> EngineBuilder {
    Engine::builder(dir).handler("noop", |_: TaskContext| async { Ok(String::new()) })
}

/// `(id, deps, extra toml)` tasks, all run by the `noop` handler.
fn workflow(name: &str, tasks: &[(&str, &[&str], &str)]) -> Workflow {
    let mut toml = format!("name = \"{name}\"\n");
    for (id, deps, extra) in tasks {
        let deps: Vec<String> = deps.iter().map(|d| format!("\"{d}\"")).collect();
        write!(
            toml,
            "[[task]]\nid = \"{id}\"\nhandler = \"noop\"\ndeps = [{}]\n{extra}\n",
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

/// `(bead, worker)` of every `BeadScheduled`, in log order.
async fn placements(engine: &Engine, workflow: &str) -> Vec<(String, String)> {
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
        .filter_map(|e| match strand::actors::decode(e).unwrap().1 {
            DomainEvent::BeadScheduled { bead, worker, .. } => {
                Some((bead.as_str().to_owned(), worker.as_str().to_owned()))
            }
            _ => None,
        })
        .collect()
}

const CHAIN: &[(&str, &[&str], &str)] = &[
    ("a", &[], ""),
    ("b", &["a"], ""),
    ("c", &["b"], ""),
    ("d", &["c"], ""),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_fifo_when_a_chain_runs_then_the_first_idle_worker_takes_every_bead() -> TestResult {
    let dir = tempfile::tempdir()?;
    let engine = builder(dir.path()).workers(4).open().await?;
    engine.run(&workflow("chain", CHAIN)).await?;
    let workers: Vec<String> = placements(&engine, "chain")
        .await
        .into_iter()
        .map(|p| p.1)
        .collect();
    assert_eq!(workers, ["worker-000"; 4]);
    engine.shutdown().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_round_robin_when_a_chain_runs_then_beads_rotate_over_the_workers() -> TestResult {
    let dir = tempfile::tempdir()?;
    let engine = builder(dir.path())
        .workers(4)
        .distribution(Distribution::RoundRobin)
        .open()
        .await?;
    engine.run(&workflow("chain", CHAIN)).await?;
    let workers: Vec<String> = placements(&engine, "chain")
        .await
        .into_iter()
        .map(|p| p.1)
        .collect();
    assert_eq!(
        workers,
        ["worker-000", "worker-001", "worker-002", "worker-003"]
    );
    engine.shutdown().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_priority_with_one_worker_when_beads_wait_then_they_start_highest_priority_first()
-> TestResult {
    let tasks: &[(&str, &[&str], &str)] = &[
        ("root", &[], ""),
        ("low", &["root"], "priority = 1"),
        ("high", &["root"], "priority = 9"),
        ("mid", &["root"], "priority = 5"),
    ];
    let dir = tempfile::tempdir()?;
    let engine = builder(dir.path())
        .workers(1)
        .distribution(Distribution::Priority)
        .open()
        .await?;
    engine.run(&workflow("prio", tasks)).await?;
    let order: Vec<String> = placements(&engine, "prio")
        .await
        .into_iter()
        .map(|p| p.0)
        .collect();
    assert_eq!(order, ["root", "high", "mid", "low"]);
    engine.shutdown().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_hard_affinity_when_beads_ask_for_a_label_then_only_labelled_workers_run_them()
-> TestResult {
    let mut tasks: Vec<(String, String)> = Vec::new();
    for i in 0..6 {
        tasks.push((format!("train-{i}"), "affinity = \"gpu\"".to_owned()));
        tasks.push((format!("etl-{i}"), String::new()));
    }
    let refs: Vec<(&str, &[&str], &str)> = tasks
        .iter()
        .map(|(id, extra)| (id.as_str(), &[][..], extra.as_str()))
        .collect();
    let dir = tempfile::tempdir()?;
    let engine = builder(dir.path())
        .workers(3)
        .labelled_workers("gpu", 1)
        .open()
        .await?;
    let outcome = engine.run(&workflow("mixed", &refs)).await?;
    assert_eq!(outcome.status, RunStatus::Completed);
    for (bead, worker) in placements(&engine, "mixed").await {
        if bead.starts_with("train") {
            assert_eq!(worker, "worker-003-gpu", "{bead}");
        }
    }
    let workers = engine
        .runtime()
        .state()
        .query(strand::projections::StateManager::workers)
        .await?;
    assert!(
        workers
            .iter()
            .any(|w| w.id.as_str() == "worker-003-gpu" && w.record.labels == ["gpu"]),
        "workers and labels are in the log"
    );
    engine.shutdown().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_soft_affinity_and_no_labelled_worker_when_run_then_any_worker_runs_it() -> TestResult
{
    let dir = tempfile::tempdir()?;
    let engine = builder(dir.path())
        .workers(2)
        .affinity(AffinityMode::Soft)
        .open()
        .await?;
    let outcome = engine
        .run(&workflow("soft", &[("t", &[], "affinity = \"gpu\"")]))
        .await?;
    assert_eq!(outcome.status, RunStatus::Completed);
    assert_eq!(placements(&engine, "soft").await[0].1, "worker-000");
    engine.shutdown().await?;
    Ok(())
}
