//! Runs through the library: many runs of one definition, idempotent ids,
//! inputs and outputs reaching handlers and shell tasks, the output bound,
//! a stable idempotency key, and failure draining the beads still running.
//! On real, synced RocksDB.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a failure is the test failing"
)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use strand::actors::ActorError;
use strand::actors::orchestration::{Json, TaskContext, TaskError, TaskResult};
use strand::actors::policy::Backoff;
use strand::engine::{Engine, EngineBuilder, RunInput};
use strand::projections::{BeadId, BeadState, RunId, RunStatus};
use strand::workflow::Workflow;

type TestResult = Result<(), Box<dyn std::error::Error>>;

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Extracted {
    region: String,
    rows: u32,
}

fn builder(dir: &std::path::Path) -> EngineBuilder {
    Engine::builder(dir)
        .workers(4)
        .retry_backoff(Backoff {
            immediate: 0,
            initial: Duration::from_millis(5),
            max: Duration::from_millis(20),
            ..Backoff::default()
        })
        .handler("extract", |cx: TaskContext| async move {
            #[derive(Deserialize)]
            struct Input {
                region: String,
            }
            let input: Input = cx.input()?;
            Ok(Json(Extracted {
                region: input.region,
                rows: 42,
            }))
        })
        .handler("summarise", |cx: TaskContext| async move {
            let extracted: Extracted = cx.output_of_json("extract")?;
            let counted = cx
                .output_of("count")
                .and_then(|o| o.as_text())
                .unwrap_or("-")
                .trim()
                .to_owned();
            TaskResult::Ok(format!(
                "{} rows of {}, shell counted {counted}",
                extracted.rows, extracted.region
            ))
        })
}

fn input(pairs: &[(&str, &str)]) -> RunInput {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), serde_json::Value::from(*v)))
        .collect()
}

/// A diamond: `extract` (handler) feeds `count` (shell) and `summarise`
/// (handler), which also reads `count`.
fn diamond() -> Workflow {
    Workflow::from_toml_str(
        "diamond.toml",
        r#"
        name = "diamond"
        [input]
        region = "eu"
        [[task]]
        id = "extract"
        handler = "extract"
        [[task]]
        id = "count"
        run = "cat $STRAND_DEPS_DIR/extract | tr -cd , | wc -c; echo counted >&2"
        deps = ["extract"]
        [[task]]
        id = "summarise"
        handler = "summarise"
        deps = ["extract", "count"]
        "#,
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_diamond_of_handlers_and_shell_tasks_when_run_then_each_reads_its_dependencies_outputs()
-> TestResult {
    let dir = tempfile::tempdir()?;
    let engine = builder(dir.path()).open().await?;
    let run = engine.start(&diamond(), input(&[("region", "us")])).await?;
    let outcome = engine.wait(&run).await?;
    assert_eq!(outcome.status, RunStatus::Completed, "{:?}", outcome.reason);
    let extracted = engine.output(&run, "extract").await?.unwrap();
    assert_eq!(extracted.content_type.as_deref(), Some("application/json"));
    assert_eq!(
        serde_json::from_slice::<Extracted>(&extracted.bytes)?,
        Extracted {
            region: "us".into(),
            rows: 42
        }
    );
    // `{"region":"us","rows":42}` holds one comma; stderr is not output.
    let count = engine.output(&run, "count").await?.unwrap();
    assert_eq!(count.as_text().map(str::trim), Some("1"));
    let record = engine.run_record(&run).await?.unwrap();
    let count_record = record.bead(&BeadId::from("count")).unwrap();
    assert_eq!(count_record.log_tail(), Some("counted\n"));
    assert_eq!(
        engine.output(&run, "summarise").await?.unwrap().as_text(),
        Some("42 rows of us, shell counted 1")
    );
    assert_eq!(record.input().as_ref(), r#"{"region":"us"}"#);
    engine.shutdown().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_one_definition_when_started_twice_then_two_runs_with_their_own_ids_complete()
-> TestResult {
    let dir = tempfile::tempdir()?;
    let engine = builder(dir.path()).open().await?;
    let first = engine.start(&diamond(), RunInput::new()).await?;
    let second = engine
        .start(&diamond(), input(&[("region", "apac")]))
        .await?;
    assert_ne!(first, second);
    assert!(first.as_str().starts_with("diamond-"), "{first}");
    let (a, b) = tokio::join!(engine.wait(&first), engine.wait(&second));
    assert_eq!(a?.status, RunStatus::Completed);
    assert_eq!(b?.status, RunStatus::Completed);
    // The file's default reached the first, the given input the second.
    let first_out = engine.output(&first, "summarise").await?.unwrap();
    assert!(first_out.as_text().unwrap().contains("of eu"));
    let second_out = engine.output(&second, "summarise").await?.unwrap();
    assert!(second_out.as_text().unwrap().contains("of apac"));
    assert_eq!(engine.status().await?.len(), 2);
    engine.shutdown().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_run_id_when_started_again_then_same_input_finds_it_and_another_is_refused()
-> TestResult {
    let dir = tempfile::tempdir()?;
    let engine = builder(dir.path()).open().await?;
    let id = RunId::from("nightly-2026-12-02");
    let started = engine
        .start_with_id(&diamond(), id.clone(), input(&[("region", "eu")]))
        .await?;
    assert!(!started.existing);
    engine.wait(&id).await?;
    // The file's default is `eu`: no input is the same input.
    let again = engine
        .start_with_id(&diamond(), id.clone(), RunInput::new())
        .await?;
    assert!(again.existing);
    let seq_before = engine.runtime().store().log().last_seq();
    let refused = engine
        .start_with_id(&diamond(), id.clone(), input(&[("region", "us")]))
        .await;
    assert!(
        matches!(refused, Err(ActorError::RunConflict { .. })),
        "{refused:?}"
    );
    assert_eq!(
        engine.runtime().store().log().last_seq(),
        seq_before,
        "nothing written"
    );
    engine.shutdown().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_an_output_over_the_bound_when_run_then_the_attempt_fails_for_good_naming_the_bound()
-> TestResult {
    let dir = tempfile::tempdir()?;
    let engine = Engine::builder(dir.path())
        .max_output_bytes(16)
        .handler("big", |_cx: TaskContext| async move {
            TaskResult::Ok("x".repeat(17))
        })
        .open()
        .await?;
    let workflow = Workflow::from_toml_str(
        "big.toml",
        "name = \"big\"\n[[task]]\nid = \"h\"\nhandler = \"big\"\nretries = 3\n\
         [[task]]\nid = \"s\"\nrun = \"printf 12345678901234567\"\nretries = 3\n",
    )?;
    let run = engine.start(&workflow, RunInput::new()).await?;
    let outcome = engine.wait(&run).await?;
    assert_eq!(outcome.status, RunStatus::Failed);
    let reason = outcome.reason.unwrap();
    assert!(reason.contains("16-byte bound"), "{reason}");
    let record = engine.run_record(&run).await?.unwrap();
    for bead in ["h", "s"] {
        let bead = record.bead(&BeadId::from(bead)).unwrap();
        assert_eq!(bead.state, BeadState::Failed);
        assert_eq!(bead.attempts, 1, "not retried");
        assert!(bead.output.is_none(), "nothing kept, truncated or not");
    }
    engine.shutdown().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_permanent_failure_when_a_sibling_is_running_then_its_outcome_is_recorded_before_the_run_fails()
-> TestResult {
    let dir = tempfile::tempdir()?;
    let release = Arc::new(tokio::sync::Notify::new());
    let waiting = Arc::clone(&release);
    let engine = Engine::builder(dir.path())
        .workers(2)
        .handler("fatal", |_cx: TaskContext| async move {
            TaskResult::<()>::Err(TaskError::permanent("bad row 7"))
        })
        .handler("long", move |_cx: TaskContext| {
            let waiting = Arc::clone(&waiting);
            async move {
                waiting.notified().await;
                TaskResult::Ok("long done")
            }
        })
        .handler(
            "never",
            |_cx: TaskContext| async move { TaskResult::Ok("ran") },
        )
        .open()
        .await?;
    let workflow = Workflow::from_toml_str(
        "drain.toml",
        "name = \"drain\"\n[[task]]\nid = \"bad\"\nhandler = \"fatal\"\n\
         [[task]]\nid = \"sibling\"\nhandler = \"long\"\n\
         [[task]]\nid = \"after\"\nhandler = \"never\"\ndeps = [\"sibling\"]\n",
    )?;
    let run = engine.start(&workflow, RunInput::new()).await?;
    // Wait, on log appends, until `bad` failed while `sibling` runs.
    let mut appended = engine.runtime().store().watch_status();
    loop {
        let seq = appended.borrow_and_update().last_seq;
        engine.runtime().state().wait_applied(seq).await?;
        let record = engine.run_record(&run).await?.unwrap();
        if record.bead(&BeadId::from("bad")).unwrap().state == BeadState::Failed
            && record.bead(&BeadId::from("sibling")).unwrap().state == BeadState::Running
        {
            assert_eq!(record.status(), RunStatus::Running, "drains first");
            break;
        }
        appended.changed().await?;
    }
    release.notify_one();
    let outcome = engine.wait(&run).await?;
    assert_eq!(outcome.status, RunStatus::Failed);
    assert!(outcome.reason.unwrap().contains("bad row 7"));
    let record = engine.run_record(&run).await?.unwrap();
    let sibling = record.bead(&BeadId::from("sibling")).unwrap();
    assert_eq!(sibling.state, BeadState::Completed, "its outcome is kept");
    assert_eq!(
        sibling.output.as_deref().and_then(|o| o.as_text()),
        Some("long done")
    );
    let after = record.bead(&BeadId::from("after")).unwrap();
    assert_eq!(after.attempts, 0, "nothing new started after the failure");
    engine.shutdown().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_retried_bead_when_it_runs_again_then_its_idempotency_key_is_the_same() -> TestResult
{
    let dir = tempfile::tempdir()?;
    let keys = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&keys);
    let engine = builder(dir.path())
        .handler("flaky", move |cx: TaskContext| {
            seen.lock()
                .unwrap()
                .push((cx.idempotency_key.clone(), cx.attempt));
            async move {
                if cx.attempt == 1 {
                    Err(TaskError::retryable("busy"))
                } else {
                    TaskResult::Ok("ok")
                }
            }
        })
        .open()
        .await?;
    let workflow = Workflow::from_toml_str(
        "key.toml",
        "name = \"key\"\n[[task]]\nid = \"pay\"\nhandler = \"flaky\"\nretries = 2\n",
    )?;
    let run = engine
        .start_with_id(&workflow, RunId::from("order-17"), RunInput::new())
        .await?;
    assert_eq!(engine.wait(&run.run).await?.status, RunStatus::Completed);
    assert_eq!(
        *keys.lock().unwrap(),
        [
            ("order-17/pay".to_owned(), 1),
            ("order-17/pay".to_owned(), 2)
        ]
    );
    engine.shutdown().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_task_with_hard_affinity_no_worker_has_when_started_then_it_is_refused_and_nothing_written()
-> TestResult {
    let dir = tempfile::tempdir()?;
    let engine = builder(dir.path()).open().await?;
    let workflow = Workflow::from_toml_str(
        "gpu.toml",
        "name = \"gpu\"\n[[task]]\nid = \"train\"\nrun = \"true\"\naffinity = \"gpu\"\n",
    )?;
    let refused = engine.start(&workflow, RunInput::new()).await;
    assert!(
        matches!(&refused, Err(ActorError::UnsatisfiableAffinity { bead, label }) if bead == "train" && label == "gpu"),
        "{refused:?}"
    );
    assert!(engine.status().await?.is_empty(), "nothing written");
    engine.shutdown().await?;
    let engine = builder(dir.path())
        .labelled_workers("gpu", 1)
        .open()
        .await?;
    let run = engine.start(&workflow, RunInput::new()).await?;
    assert_eq!(engine.wait(&run).await?.status, RunStatus::Completed);
    engine.shutdown().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_an_input_over_the_bound_when_started_then_it_is_refused() -> TestResult {
    let dir = tempfile::tempdir()?;
    let engine = builder(dir.path()).max_input_bytes(64).open().await?;
    let big = "x".repeat(100);
    let refused = engine
        .start(&diamond(), input(&[("region", big.as_str())]))
        .await;
    assert!(
        matches!(refused, Err(ActorError::BadInput { .. })),
        "{refused:?}"
    );
    assert!(engine.status().await?.is_empty(), "nothing written");
    engine.shutdown().await?;
    Ok(())
}
