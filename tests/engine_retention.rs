//! Retention: finished runs past the engine's policy leave the state, each
//! through a durable `RunExpired`, on request and on the engine's own
//! schedule; an expired id names a new run; a restart keeps them gone.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a failure is the test failing"
)]

use std::time::Duration;

use strand::actors::orchestration::{TaskContext, TaskResult};
use strand::engine::{Engine, EngineBuilder, RunInput};
use strand::projections::{DomainEvent, Retention, RetentionPolicy, RunId, RunStatus};
use strand::workflow::Workflow;

mod common;

use common::runs::{known_runs, run_to_completion};

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn builder(dir: &std::path::Path, policy: RetentionPolicy) -> EngineBuilder {
    Engine::builder(dir)
        .workers(2)
        .retention(policy)
        .handler("ok", |_: TaskContext| async move {
            TaskResult::Ok(b"done".to_vec())
        })
}

fn workflow(name: &str) -> Workflow {
    Workflow::from_toml_str(
        "wf.toml",
        &format!("name = \"{name}\"\n[[task]]\nid = \"a\"\nhandler = \"ok\"\n"),
    )
    .unwrap()
}

fn keep(max_runs: u64) -> Retention {
    Retention {
        max_age_ms: None,
        max_runs: Some(max_runs),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_count_policy_when_expired_then_only_the_newest_stay_across_a_restart() -> TestResult
{
    let dir = tempfile::tempdir()?;
    let mut policy = RetentionPolicy {
        default: keep(1),
        ..RetentionPolicy::default()
    };
    policy.per_definition.insert("nightly".into(), keep(2));
    {
        let engine = builder(dir.path(), policy.clone()).open().await?;
        for id in ["n1", "n2", "n3"] {
            run_to_completion(&engine, &workflow("nightly"), id).await;
        }
        for id in ["e1", "e2"] {
            run_to_completion(&engine, &workflow("etl"), id).await;
        }
        assert_eq!(engine.expire().await?, 2, "n1 and e1 are past the policy");
        assert_eq!(known_runs(&engine).await, ["e2", "n2", "n3"]);
        assert_eq!(engine.expire().await?, 0, "expiring again writes nothing");
        assert!(engine.run_record(&RunId::from("n1")).await?.is_none());
        engine.shutdown().await?;
    }
    // The expiries are in the log: a restart (with no policy) keeps them.
    let engine = builder(dir.path(), RetentionPolicy::default())
        .open()
        .await?;
    assert_eq!(known_runs(&engine).await, ["e2", "n2", "n3"]);
    let expired = engine.query(|state, _| state.expired_run_count()).await?;
    assert_eq!(expired, 2);
    // An expired id names a new run, whose history is its own.
    let again = engine
        .start_with_id(&workflow("nightly"), RunId::from("n1"), RunInput::new())
        .await?;
    assert!(!again.existing, "an expired run is not found again");
    assert_eq!(engine.wait(&again.run).await?.status, RunStatus::Completed);
    let record = engine.run_record(&again.run).await?.unwrap();
    assert_eq!(record.beads().count(), 1);
    engine.shutdown().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_an_age_policy_when_the_sweep_comes_due_then_the_engine_expires_on_its_own()
-> TestResult {
    let dir = tempfile::tempdir()?;
    let policy = RetentionPolicy {
        default: Retention {
            max_age_ms: Some(0),
            max_runs: None,
        },
        ..RetentionPolicy::default()
    };
    let engine = builder(dir.path(), policy)
        .retention_every(Duration::from_millis(20))
        .open()
        .await?;
    let mut durable = engine.watch_durable();
    let run = run_to_completion(&engine, &workflow("nightly"), "r1").await;
    // Await the expiry's event in the log, not a time.
    let mut after = 0;
    let expired = loop {
        let events = engine.events_after(after, Some(&run), 100).await?;
        if let Some(last) = events.last() {
            after = last.seq;
        }
        if events
            .iter()
            .any(|e| matches!(e.event, DomainEvent::RunExpired { .. }))
        {
            break true;
        }
        durable.changed().await?;
    };
    assert!(expired);
    assert!(known_runs(&engine).await.is_empty());
    engine.shutdown().await?;
    Ok(())
}
