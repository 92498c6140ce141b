//! Strand embedded in a program: handlers registered by name, a workflow
//! built in code, run durably on a data directory.
//!
//! `cargo run --example embed [DATA_DIR]` (default `./strand-embed-data`).
//! Run it twice: the second run finds the workflow finished in the log and
//! runs nothing again.

use strand::actors::orchestration::{TaskContext, TaskError, TaskResult};
use strand::engine::Engine;
use strand::workflow::Workflow;

async fn fetch(cx: TaskContext) -> TaskResult {
    // The idempotency key is stable for an attempt: use it to make side
    // effects safe to repeat (execution is at least once).
    Ok(format!("fetched ({})", cx.idempotency_key))
}

async fn score(cx: TaskContext) -> TaskResult {
    if cx.attempt == 1 {
        return Err(TaskError::retryable("the model server was busy"));
    }
    Ok("scored 0.93".to_owned())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "./strand-embed-data".to_owned());
    let engine = Engine::builder(&dir)
        .workers(4)
        .handler("fetch", fetch)
        .handler("score", score)
        .open()
        .await?;
    let workflow = Workflow::from_toml_str(
        "embedded",
        r#"
        name = "scoring"
        [[task]]
        id = "fetch"
        handler = "fetch"
        [[task]]
        id = "score"
        handler = "score"
        deps = ["fetch"]
        retries = 2
        "#,
    )?;
    let outcome = engine.run(&workflow).await?;
    println!(
        "workflow {}: {}",
        outcome.workflow.as_str(),
        outcome.status.as_str()
    );
    engine.shutdown().await?;
    Ok(())
}
