//! A completed run leaves its summary in memory and its beads in the log:
//! its detail (beads, attempts, outputs) is folded again from its stream
//! when asked for, before and after a restart; and a start replays the log
//! once, the scheduler copying the state manager's state.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a failure is the test failing"
)]

use strand::actors::orchestration::{TaskContext, TaskResult};
use strand::engine::{Engine, EngineBuilder, RunInput};
use strand::projections::{BeadId, BeadState, RunEntry, RunId, RunStatus};
use strand::workflow::Workflow;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn builder(dir: &std::path::Path) -> EngineBuilder {
    Engine::builder(dir)
        .workers(2)
        .handler("emit", |cx: TaskContext| async move {
            let seen: usize = cx.dependencies.iter().map(|(_, o)| o.len()).sum();
            TaskResult::Ok(format!("{}:{seen}", cx.bead).into_bytes())
        })
}

fn chain() -> Workflow {
    Workflow::from_toml_str(
        "chain.toml",
        "name = \"chain\"\n\
         [[task]]\nid = \"a\"\nhandler = \"emit\"\n\
         [[task]]\nid = \"b\"\nhandler = \"emit\"\ndeps = [\"a\"]\n",
    )
    .unwrap()
}

/// Whether the state manager holds `run` as a completed summary only.
async fn kept_as_summary(engine: &Engine, run: &RunId) -> bool {
    let id = run.clone();
    engine
        .query(move |state, _| {
            matches!(state.run(&id), Some(RunEntry::Summary(_))) && state.workflow(&id).is_none()
        })
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_completed_run_when_its_detail_is_asked_before_and_after_a_restart_then_it_is_read_from_the_log()
-> TestResult {
    let dir = tempfile::tempdir()?;
    let run = RunId::from("chain-1");
    {
        let engine = builder(dir.path()).open().await?;
        engine
            .start_with_id(&chain(), run.clone(), RunInput::new())
            .await?;
        assert_eq!(engine.wait(&run).await?.status, RunStatus::Completed);
        assert!(kept_as_summary(&engine, &run).await);
        let record = engine.run_record(&run).await?.unwrap();
        assert!(record.beads().all(|(_, b)| b.state == BeadState::Completed));
        let output = engine.output(&run, "b").await?.unwrap();
        assert_eq!(output.bytes, b"b:3");
        engine.shutdown().await?;
    }

    let engine = builder(dir.path()).open().await?;
    assert!(kept_as_summary(&engine, &run).await);
    let record = engine.run_record(&run).await?.unwrap();
    assert_eq!(record.status(), RunStatus::Completed);
    assert_eq!(
        record.bead(&BeadId::from("a")).unwrap().attempts,
        1,
        "attempts come back from the log"
    );
    assert_eq!(engine.output(&run, "a").await?.unwrap().bytes, b"a:0");
    let summaries = engine.status().await?;
    assert_eq!(summaries.len(), 1);
    assert_eq!(summaries[0].counts.completed, 2);
    engine.shutdown().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_log_with_history_when_the_engine_starts_then_the_log_is_replayed_once()
-> TestResult {
    let dir = tempfile::tempdir()?;
    {
        let engine = builder(dir.path()).open().await?;
        for _ in 0..3 {
            let started = engine.start(&chain(), RunInput::new()).await?;
            engine.wait(&started).await?;
        }
        engine.shutdown().await?;
    }
    let engine = builder(dir.path()).open().await?;
    // The scheduler answers once it has its state: then both projections
    // are up, and only the state manager read the log.
    let started = engine.start(&chain(), RunInput::new()).await?;
    assert_eq!(engine.wait(&started).await?.status, RunStatus::Completed);
    assert_eq!(engine.runtime().store().full_rebuilds(), 1);
    assert_eq!(engine.status().await?.len(), 4);
    engine.shutdown().await?;
    Ok(())
}
