//! Admission: whether a submission names a run already in the log, and
//! whether it may start. Pure functions of the state, so that a caller can
//! check a submission against a log before opening an engine on it (and
//! write nothing when it is refused), with the rules the scheduler applies.

use strand_projections::{InputDigest, RunEntry, RunId, RunStatus, StateManager, TaskSpec};

use crate::error::{ActorError, Result, RunDifference};
use crate::orchestration::placement::AffinityMode;
use crate::orchestration::scheduler::{Reuse, Started, Submission};

/// The run already in the log that `submission` names, if any, or why the
/// submission is refused (see [`Reuse`]).
///
/// # Errors
/// [`ActorError::RunConflict`], [`ActorError::RunExists`],
/// [`ActorError::DefinitionChanged`].
pub fn existing(state: &StateManager, submission: &Submission) -> Result<Option<Started>> {
    let found = |run: &RunId| Started {
        run: run.clone(),
        existing: true,
    };
    match submission.reuse {
        Reuse::Exact => {
            let Some(entry) = state.run(&submission.run) else {
                return Ok(None);
            };
            let same = match entry {
                RunEntry::Whole(record) => same_input(record.input(), &submission.input),
                // A completed run keeps its input's digest only.
                RunEntry::Summary(finished) => {
                    finished.input() == InputDigest::of(&submission.input)
                }
            };
            let differs = if entry.definition() != submission.definition {
                Some(RunDifference::Definition)
            } else if !same {
                Some(RunDifference::Input)
            } else {
                None
            };
            match differs {
                Some(differs) => Err(ActorError::RunConflict {
                    run: submission.run.as_str().to_owned(),
                    differs,
                }),
                None => Ok(Some(found(&submission.run))),
            }
        }
        Reuse::New => match state.run(&submission.run) {
            Some(_) => Err(ActorError::RunExists {
                run: submission.run.as_str().to_owned(),
            }),
            None => Ok(None),
        },
        Reuse::ResumeUnfinished => {
            let unfinished = state
                .runs()
                .filter(|r| r.status() == RunStatus::Running && r.name() == submission.name)
                .min_by_key(|r| (r.submitted_at_ms(), r.id().clone()));
            let Some(record) = unfinished else {
                return Ok(None);
            };
            if record.definition() != submission.definition {
                return Err(ActorError::DefinitionChanged {
                    run: record.id().as_str().to_owned(),
                    name: submission.name.clone(),
                    existing: record.definition().short(),
                    submitted: submission.definition.short(),
                });
            }
            Ok(Some(found(record.id())))
        }
    }
}

/// Refuses tasks whose hard affinity no worker of `workers` (name,
/// labels) has.
///
/// # Errors
/// [`ActorError::UnsatisfiableAffinity`] naming the first such task.
pub fn check_affinity(
    tasks: &[TaskSpec],
    workers: &[(String, Vec<String>)],
    mode: AffinityMode,
) -> Result<()> {
    if mode != AffinityMode::Hard {
        return Ok(());
    }
    for task in tasks {
        let Some(label) = task.affinity.as_deref() else {
            continue;
        };
        let served = workers
            .iter()
            .any(|(_, labels)| labels.iter().any(|l| l == label));
        if !served {
            return Err(ActorError::UnsatisfiableAffinity {
                bead: task.id.as_str().to_owned(),
                label: label.to_owned(),
            });
        }
    }
    Ok(())
}

/// Whether two inputs (JSON objects, as text) are the same document,
/// however they are spaced or their keys ordered.
pub(crate) fn same_input(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    match (
        serde_json::from_str::<serde_json::Value>(a),
        serde_json::from_str::<serde_json::Value>(b),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}
