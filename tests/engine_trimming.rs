//! Trimming in a running engine: on request and on its own schedule, the
//! log's front goes as far as nothing the state holds needs it, archived
//! first; appends go on; a restart rebuilds from the base and the log
//! verifies; the archive and the trimmed log together are the whole log.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a failure is the test failing"
)]

use std::time::Duration;

use strand::actors::orchestration::{TaskContext, TaskResult};
use strand::engine::trimming::{ArchiveTo, TrimSchedule};
use strand::engine::{Engine, EngineBuilder};
use strand::eventlog::{EventLog, LogOptions, list_segments};
use strand::projections::{Retention, RetentionPolicy, RunId};
use strand::replay::TrimLimit;
use strand::workflow::Workflow;

mod common;

use common::runs::{known_runs, run_to_completion};

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn builder(dir: &std::path::Path, keep_runs: u64, every: Option<Duration>) -> EngineBuilder {
    Engine::builder(dir)
        .workers(2)
        .retention(RetentionPolicy {
            default: Retention {
                max_age_ms: None,
                max_runs: Some(keep_runs),
            },
            ..RetentionPolicy::default()
        })
        .retention_every(Duration::from_millis(20))
        // A trim goes no further than the stream index is written out:
        // out after every batch here, so the test's few records can go.
        .log_options(LogOptions::default().index_flush_events(1))
        .trimming(TrimSchedule {
            every,
            // The test's records are all young: keep none for their age.
            keep_recent: Duration::ZERO,
            archive: ArchiveTo::DataDir,
        })
        .handler("ok", |_: TaskContext| async move {
            TaskResult::Ok(b"done".to_vec())
        })
}

fn workflow() -> Workflow {
    Workflow::from_toml_str(
        "wf.toml",
        "name = \"nightly\"\n[[task]]\nid = \"a\"\nhandler = \"ok\"\n[[task]]\nid = \"b\"\nhandler = \"ok\"\ndeps = [\"a\"]\n",
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_expired_runs_when_the_engine_trims_then_the_log_starts_after_them_and_a_restart_rebuilds_from_the_base()
-> TestResult {
    let dir = tempfile::tempdir()?;
    let first_archived;
    {
        let engine = builder(dir.path(), 1, None).open().await?;
        for id in ["r1", "r2", "r3"] {
            run_to_completion(&engine, &workflow(), id).await;
            engine.expire().await?;
        }
        assert_eq!(known_runs(&engine).await, ["r3"]);
        let trimmed = engine.trim().await?;
        assert!(trimmed.records > 0, "{trimmed:?}");
        assert_eq!(trimmed.first.get(), 1);
        let log = engine.runtime().store().log();
        assert_eq!(log.first_seq().get(), trimmed.upto.get() + 1);
        assert!(
            matches!(&trimmed.limit, TrimLimit::Run { run } if run == "r3")
                || matches!(trimmed.limit, TrimLimit::Checkpoint { .. }),
            "held by the oldest run or a supervisor's checkpoint: {:?}",
            trimmed.limit
        );
        first_archived = trimmed.segment.clone().unwrap();
        // The retained run still answers whole, and new runs go on.
        let r3 = engine.run_record(&RunId::from("r3")).await?.unwrap();
        assert_eq!(r3.beads().count(), 2);
        run_to_completion(&engine, &workflow(), "r4").await;
        engine.shutdown().await?;
    }
    let segments = list_segments(&dir.path().join("archive"))?;
    assert_eq!(segments.len(), 1);
    assert_eq!(segments[0].path, first_archived.path);
    assert_eq!(segments[0].first.get(), 1);
    {
        let log = EventLog::open_read_only(dir.path())?;
        let report = log.verify(&mut |_| {});
        assert!(report.ok, "the trimmed log verifies: {report:?}");
        assert_eq!(log.first_seq().get(), first_archived.last.get() + 1);
    }
    // A restart rebuilds from the base: the retained runs are whole.
    let engine = builder(dir.path(), 1, None).open().await?;
    engine.expire().await?;
    assert_eq!(known_runs(&engine).await, ["r4"]);
    let r4 = engine.run_record(&RunId::from("r4")).await?.unwrap();
    assert_eq!(r4.beads().count(), 2);
    engine.shutdown().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_trim_schedule_when_runs_expire_then_the_engine_trims_on_its_own() -> TestResult {
    let dir = tempfile::tempdir()?;
    let engine = builder(dir.path(), 1, Some(Duration::from_millis(20)))
        .open()
        .await?;
    let mut trims = engine.watch_trims();
    run_to_completion(&engine, &workflow(), "r1").await;
    run_to_completion(&engine, &workflow(), "r2").await;
    // Await the trim the schedule makes once r1 has expired, not a time
    // (the timeout only turns a hang into a failure).
    let trimmed = tokio::time::timeout(Duration::from_secs(120), async {
        loop {
            // Held by r2 once r1 has expired and gone.
            if let Some(trimmed) = trims.borrow_and_update().clone()
                && matches!(&trimmed.limit, TrimLimit::Run { run } if run == "r2")
            {
                return trimmed;
            }
            trims.changed().await.unwrap();
        }
    })
    .await?;
    assert!(trimmed.segment.is_some(), "archived first");
    assert_eq!(
        engine.runtime().store().log().first_seq().get(),
        trimmed.upto.get() + 1
    );
    assert_eq!(known_runs(&engine).await, ["r2"]);
    engine.shutdown().await?;
    Ok(())
}
