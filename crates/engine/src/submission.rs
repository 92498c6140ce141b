//! What the engine submits for a run of a workflow file: its task specs,
//! settings, definition hash and bounded input, and fresh run ids.

use std::time::{Duration, SystemTime};

use strand_actors::ActorError;
use strand_actors::orchestration::{Reuse, Submission};
use strand_projections::{
    BackoffSpec, BeadId, DefinitionHash, RunId, RunSettings, TaskAction, TaskSpec,
};

use crate::workflow::Workflow;

/// A run's input: a JSON object.
pub type RunInput = serde_json::Map<String, serde_json::Value>;

/// The largest run input by default, as JSON text (1 MiB).
pub const DEFAULT_MAX_INPUT_BYTES: usize = 1024 * 1024;

/// How many fresh ids a new run tries before giving up (they collide only
/// within one second and one in 65,536).
pub(crate) const FRESH_ID_TRIES: u32 = 8;

/// A fresh, sortable run id for the definition `name`:
/// `name-YYYYMMDDTHHMMSSZ-xxxx` (UTC, then 4 random hex digits).
pub fn fresh_run_id(name: &str) -> RunId {
    let stamp: String = humantime::format_rfc3339_seconds(SystemTime::now())
        .to_string()
        .chars()
        .filter(|c| !matches!(c, '-' | ':'))
        .collect();
    RunId::new(format!("{name}-{stamp}-{:04x}", fastrand::u16(..)))
}

/// The task specs of a workflow file, as the log records them.
fn task_specs(workflow: &Workflow) -> Vec<TaskSpec> {
    workflow
        .tasks()
        .iter()
        .map(|task| TaskSpec {
            id: task.id.clone(),
            action: match &task.action {
                crate::workflow::TaskAction::Run(command) => TaskAction::Run(command.clone()),
                crate::workflow::TaskAction::Handler(name) => TaskAction::Handler(name.clone()),
            },
            priority: task.priority,
            retries: task.retries,
            timeout_ms: task.timeout.map(millis),
            affinity: task.affinity.clone(),
        })
        .collect()
}

/// A duration in milliseconds, saturating.
fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// The run settings of a workflow file: its timeout and its tasks' backoffs.
fn settings(workflow: &Workflow) -> RunSettings {
    let mut backoff: Vec<(BeadId, BackoffSpec)> = workflow
        .tasks()
        .iter()
        .filter_map(|task| {
            let spec = task.backoff?;
            let spec = BackoffSpec {
                initial_ms: millis(spec.initial),
                max_ms: millis(spec.max),
                multiplier: spec.multiplier,
            };
            Some((task.id.clone(), spec))
        })
        .collect();
    backoff.sort_by(|a, b| a.0.cmp(&b.0));
    RunSettings {
        timeout_ms: workflow.timeout().map(millis),
        backoff,
    }
}

/// The submission of a run of a workflow file.
pub(crate) fn submission(
    workflow: &Workflow,
    run: RunId,
    input: String,
    reuse: Reuse,
) -> Submission {
    let tasks = task_specs(workflow);
    let settings = settings(workflow);
    Submission {
        run,
        name: workflow.name().to_owned(),
        definition: DefinitionHash::of_run(workflow.name(), workflow.dag(), &tasks, &settings),
        dag: workflow.dag().clone(),
        tasks,
        input,
        settings,
        reuse,
    }
}

/// A run's input: the file's `[input]` defaults overlaid by `input`, as
/// JSON text within `max` bytes.
pub(crate) fn input_text(
    workflow: &Workflow,
    input: &RunInput,
    max: usize,
) -> Result<String, ActorError> {
    let mut full = workflow.input_defaults().clone();
    full.extend(input.iter().map(|(k, v)| (k.clone(), v.clone())));
    bounded(&full, max)
}

/// `input` as JSON text, refused over `max` bytes.
pub(crate) fn bounded(input: &RunInput, max: usize) -> Result<String, ActorError> {
    let text = serde_json::to_string(input).map_err(|error| ActorError::BadInput {
        reason: error.to_string(),
    })?;
    if text.len() > max {
        return Err(ActorError::BadInput {
            reason: format!(
                "it is {} bytes as JSON, more than the {max}-byte bound",
                text.len()
            ),
        });
    }
    Ok(text)
}

/// The content hash of a workflow file's definition, as a run of it records.
pub fn definition_hash(workflow: &Workflow) -> DefinitionHash {
    DefinitionHash::of_run(
        workflow.name(),
        workflow.dag(),
        &task_specs(workflow),
        &settings(workflow),
    )
}
