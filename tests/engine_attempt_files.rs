//! Where shell attempts keep their files: under the data directory, one
//! directory per engine, removed as each attempt ends; what a killed
//! process left there is removed when the next engine opens the directory.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a failure is the test failing"
)]

use strand::engine::{Engine, RunInput};
use strand::projections::{RunId, RunStatus};
use strand::workflow::Workflow;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Every file under `dir`, recursively.
fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push(path);
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_files_a_killed_engine_left_when_an_engine_opens_then_they_are_removed_and_its_own_are_cleaned_up()
-> TestResult {
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    // What a process killed mid-attempt leaves behind.
    let stale = data.join("attempts/4242-1/strand-attempt-x");
    std::fs::create_dir_all(&stale)?;
    std::fs::write(stale.join("input.json"), "{}")?;

    let engine = Engine::builder(&data).workers(2).open().await?;
    assert!(
        !data.join("attempts/4242-1").exists(),
        "the stale attempt is still there"
    );

    let workflow = Workflow::from_toml_str(
        "where.toml",
        "name = \"where\"\n[[task]]\nid = \"show\"\nrun = \"printf %s \\\"$STRAND_INPUT\\\"\"\n",
    )?;
    let run = RunId::from("where-1");
    engine
        .start_with_id(&workflow, run.clone(), RunInput::new())
        .await?;
    let outcome = engine.wait(&run).await?;
    assert_eq!(outcome.status, RunStatus::Completed, "{outcome:?}");
    let output = engine.output(&run, "show").await?.unwrap();
    let input_path = std::path::PathBuf::from(output.as_text().unwrap());
    assert!(
        input_path.starts_with(data.join("attempts")),
        "the attempt's input was at {}",
        input_path.display()
    );
    assert!(!input_path.exists(), "the attempt's files outlived it");
    assert_eq!(
        files_under(&data.join("attempts")),
        Vec::<std::path::PathBuf>::new()
    );
    engine.shutdown().await?;
    Ok(())
}
