//! Strand embedded in a program: handlers registered by name, a run with an
//! input, outputs handed from a task to its dependent, run durably on a data
//! directory.
//!
//! `cargo run --example embed [DATA_DIR]` (default `./strand-embed-data`).
//! Run it twice: the run id is fixed, so the second time finds the run
//! finished in the log and runs nothing again.

use serde::{Deserialize, Serialize};
use strand::actors::orchestration::{Json, TaskContext, TaskError, TaskResult};
use strand::engine::{Engine, RunInput};
use strand::workflow::Workflow;

#[derive(Deserialize)]
struct Input {
    region: String,
}

#[derive(Serialize, Deserialize)]
struct Fetched {
    region: String,
    rows: u32,
}

async fn fetch(cx: TaskContext) -> TaskResult<Json<Fetched>> {
    // The idempotency key (`run/bead`) is the same for every attempt: use it
    // to make side effects safe to repeat (execution is at least once).
    let input: Input = cx.input()?;
    println!("fetching {} under key {}", input.region, cx.idempotency_key);
    Ok(Json(Fetched {
        region: input.region,
        rows: 1200,
    }))
}

async fn score(cx: TaskContext) -> TaskResult<String> {
    if cx.attempt == 1 {
        return Err(TaskError::retryable("the model server was busy"));
    }
    let fetched: Fetched = cx.output_of_json("fetch")?;
    Ok(format!(
        "scored {} rows of {}: 0.93",
        fetched.rows, fetched.region
    ))
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
        [input]
        region = "eu"
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
    let mut input = RunInput::new();
    input.insert("region".to_owned(), "us-east".into());
    let started = engine
        .start_with_id(&workflow, "scoring-demo".into(), input)
        .await?;
    let outcome = engine.wait(&started.run).await?;
    let score = engine.output(&outcome.run, "score").await?;
    println!(
        "run {}: {}{}: {}",
        outcome.run.as_str(),
        outcome.status.as_str(),
        if started.existing {
            " (found in the log)"
        } else {
            ""
        },
        score.as_ref().and_then(|o| o.as_text()).unwrap_or("-"),
    );
    engine.shutdown().await?;
    Ok(())
}
