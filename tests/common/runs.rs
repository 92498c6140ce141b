//! Runs through the library: one started and waited for, and the ids the
//! engine still knows.

use strand::engine::{Engine, RunInput};
use strand::projections::{RunId, RunStatus};
use strand::workflow::Workflow;

/// Starts `workflow` as run `id` and waits until it completed.
///
/// # Panics
/// When the run cannot start or does not complete.
pub async fn run_to_completion(engine: &Engine, workflow: &Workflow, id: &str) -> RunId {
    let run = RunId::from(id);
    engine
        .start_with_id(workflow, run.clone(), RunInput::new())
        .await
        .unwrap_or_else(|e| panic!("run {id} did not start: {e}"));
    let outcome = engine
        .wait(&run)
        .await
        .unwrap_or_else(|e| panic!("run {id} was not waited for: {e}"));
    assert_eq!(outcome.status, RunStatus::Completed, "run {id}");
    run
}

/// The ids of every run the engine holds, sorted.
///
/// # Panics
/// When the state manager does not answer.
pub async fn known_runs(engine: &Engine) -> Vec<String> {
    let mut ids: Vec<String> = engine
        .status()
        .await
        .unwrap_or_else(|e| panic!("no status: {e}"))
        .into_iter()
        .map(|s| s.id.as_str().to_owned())
        .collect();
    ids.sort();
    ids
}
