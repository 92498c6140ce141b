//! The canonical snapshot form of a [`StateManager`]: snapshot format
//! version 5 (version 4 kept failed and cancelled runs whole, and is
//! migrated by restore: a trimmed log's base may hold it; version 3 had no
//! submission seq per run; version 2 kept completed runs whole and had no
//! `completed` list; version 1 had no definition, input or log tail, and
//! text outputs; a checkpoint of a version before 4 is skipped and the log
//! replayed).
//!
//! Format (bincode, pinned configuration, see [`crate::codec`]):
//!
//! ```text
//! version u32 (5)
//! applied_seq u64, events_applied u64
//! runs:        [ { id, name, definition, input, settings, status, paused, submitted_at_ms,
//!                  submitted_seq, finished_at_ms, reason, dag, tasks (by bead id),
//!                  beads (BeadRecord, by bead id) } ] by id   (unfinished: whole)
//! completed:   [ FinishedRun { summary, input digest } ] by id   (finished: summaries)
//! expired_runs u64
//! workers:     [ (id, WorkerRecord) ] by id
//! children:    [ (supervisor, child, SupervisionRecord) ] by (supervisor, child)
//! escalations: [ (supervisor, EscalationRecord) ] by supervisor
//! last_checkpoint: Option<CheckpointRecord>
//! rate_limited: [ (key, count) ] by key
//! ```
//!
//! Every list is sorted, so equal states give equal bytes: this is what
//! [`state_hash`](crate::Projection::state_hash) digests. Derived data (bead
//! positions, counts, blocking-dependency counters) is not stored; restore
//! rebuilds it.

use serde::{Deserialize, Serialize};
use strand_dag::WorkflowDag;

use crate::definition::DefinitionHash;
use crate::error::{ProjectionError, SnapshotDefect};
use crate::event::{RunSettings, TaskSpec};
use crate::ids::{RunId, WorkerId};
use crate::lifecycle::{BeadState, RunStatus};
use crate::output::Output;
use crate::state::bead::BeadRecord;
use crate::state::finished::FinishedRun;
use crate::state::supervision::{EscalationRecord, Supervision, SupervisionRecord};
use crate::state::worker::{Interner, WorkerRecord};
use crate::state::workflow::RunRecord;
use crate::state::{CheckpointRecord, StateManager};

/// The snapshot, borrowed from the state (for encoding and hashing).
#[derive(Serialize)]
pub(crate) struct SnapshotRef<'a> {
    applied_seq: u64,
    events_applied: u64,
    workflows: Vec<WorkflowRef<'a>>,
    completed: Vec<&'a FinishedRun>,
    expired_runs: u64,
    workers: Vec<(&'a WorkerId, &'a WorkerRecord)>,
    children: Vec<(&'a str, &'a str, &'a SupervisionRecord)>,
    escalations: Vec<(&'a str, &'a EscalationRecord)>,
    last_checkpoint: Option<&'a CheckpointRecord>,
    rate_limited: Vec<(&'a str, u64)>,
}

#[derive(Serialize)]
struct WorkflowRef<'a> {
    id: &'a RunId,
    name: &'a str,
    definition: DefinitionHash,
    input: &'a str,
    settings: &'a RunSettings,
    status: RunStatus,
    paused: bool,
    submitted_at_ms: u64,
    submitted_seq: u64,
    finished_at_ms: Option<u64>,
    reason: Option<&'a str>,
    dag: &'a WorkflowDag,
    tasks: &'a [TaskSpec],
    beads: &'a [BeadRecord],
}

/// The snapshot, owned (decoded); same shape as [`SnapshotRef`].
#[derive(Deserialize)]
pub(crate) struct SnapshotOwned {
    applied_seq: u64,
    events_applied: u64,
    workflows: Vec<WorkflowOwned>,
    completed: Vec<FinishedRun>,
    expired_runs: u64,
    workers: Vec<(WorkerId, WorkerRecord)>,
    children: Vec<(String, String, SupervisionRecord)>,
    escalations: Vec<(String, EscalationRecord)>,
    last_checkpoint: Option<CheckpointRecord>,
    rate_limited: Vec<(String, u64)>,
}

/// A workflow as decoded; same shape as [`WorkflowRef`].
#[derive(Deserialize)]
pub(crate) struct WorkflowOwned {
    pub(crate) id: RunId,
    pub(crate) name: String,
    pub(crate) definition: DefinitionHash,
    pub(crate) input: String,
    pub(crate) settings: RunSettings,
    pub(crate) status: RunStatus,
    pub(crate) paused: bool,
    pub(crate) submitted_at_ms: u64,
    pub(crate) submitted_seq: u64,
    pub(crate) finished_at_ms: Option<u64>,
    pub(crate) reason: Option<String>,
    pub(crate) dag: WorkflowDag,
    pub(crate) tasks: Vec<TaskSpec>,
    pub(crate) beads: Vec<BeadOwned>,
}

/// A bead record as decoded; same shape as [`BeadRecord`]'s serialization.
#[derive(Deserialize)]
pub(crate) struct BeadOwned {
    state: BeadState,
    attempts: u32,
    worker: Option<WorkerId>,
    output: Option<Output>,
    last_error: Option<String>,
    retryable: bool,
    retry_at_ms: Option<u64>,
    cancel_reason: Option<String>,
    updated_at_ms: u64,
    log_tail: Option<String>,
    budget_base: u32,
}

impl BeadOwned {
    /// The record, its worker id shared through `workers`.
    pub(crate) fn into_record(self, workers: &mut Interner) -> BeadRecord {
        BeadRecord::restored(
            self.state,
            self.attempts,
            self.worker.map(|worker| workers.intern(worker)),
            self.output,
            self.last_error,
            self.retryable,
            self.retry_at_ms,
            self.cancel_reason,
            self.updated_at_ms,
            self.log_tail,
            self.budget_base,
        )
    }
}

impl StateManager {
    /// The canonical form of the state. O(n log n) in the number of workflows,
    /// workers and rate-limit keys (they are sorted); beads are already in order.
    pub(crate) fn canonical(&self) -> SnapshotRef<'_> {
        let mut workflows: Vec<WorkflowRef<'_>> = self
            .workflows
            .values()
            .map(|workflow| WorkflowRef {
                id: &workflow.id,
                name: &workflow.name,
                definition: workflow.definition,
                input: &workflow.input,
                settings: &workflow.settings,
                status: workflow.status,
                paused: workflow.paused,
                submitted_at_ms: workflow.submitted_at_ms,
                submitted_seq: workflow.submitted_seq,
                finished_at_ms: workflow.finished_at_ms,
                reason: workflow.reason.as_deref(),
                dag: &workflow.dag,
                tasks: &workflow.tasks,
                beads: &workflow.beads,
            })
            .collect();
        workflows.sort_unstable_by(|a, b| a.id.cmp(b.id));
        let mut completed: Vec<&FinishedRun> = self.finished.values().collect();
        completed.sort_unstable_by(|a, b| a.summary.id.cmp(&b.summary.id));
        let mut workers: Vec<_> = self.workers.iter().collect();
        workers.sort_unstable_by(|a, b| a.0.cmp(b.0));
        let mut rate_limited: Vec<_> = self
            .rate_limited
            .iter()
            .map(|(key, count)| (key.as_str(), *count))
            .collect();
        rate_limited.sort_unstable();
        SnapshotRef {
            applied_seq: self.applied_seq,
            events_applied: self.events_applied,
            workflows,
            completed,
            expired_runs: self.expired_runs,
            workers,
            children: self
                .supervision
                .children
                .iter()
                .map(|((supervisor, child), record)| (supervisor.as_str(), child.as_str(), record))
                .collect(),
            escalations: self
                .supervision
                .escalations
                .iter()
                .map(|(supervisor, record)| (supervisor.as_str(), record))
                .collect(),
            last_checkpoint: self.last_checkpoint.as_ref(),
            rate_limited,
        }
    }

    /// The state whose canonical form, of snapshot version `version`, is
    /// `snapshot`, with its derived data rebuilt; a version 4 snapshot's
    /// finished runs kept whole become their summaries.
    ///
    /// # Errors
    ///
    /// [`ProjectionError::SnapshotInconsistent`] when lists are out of order
    /// or hold duplicates, a workflow does not line up with its graph, a
    /// run is whole and finished (summarized, and not completed, before
    /// version 5), or the counters disagree.
    pub(crate) fn from_canonical(
        snapshot: SnapshotOwned,
        version: u32,
    ) -> Result<Self, ProjectionError> {
        let migrated = version < 5;
        let inconsistent = |defect| ProjectionError::SnapshotInconsistent { defect };
        let (seq, events) = (snapshot.applied_seq, snapshot.events_applied);
        if events > seq || (events == 0) != (seq == 0) {
            return Err(inconsistent(SnapshotDefect::Counters { events, seq }));
        }
        let mut state = Self {
            applied_seq: seq,
            events_applied: events,
            expired_runs: snapshot.expired_runs,
            ..Self::default()
        };
        state.restore_runs(snapshot.workflows, snapshot.completed, migrated)?;
        check_sorted(
            "workers",
            snapshot.workers.iter().map(|(id, _)| id.as_str()),
        )?;
        state.workers.extend(snapshot.workers);
        check_sorted(
            "supervision",
            snapshot
                .children
                .iter()
                .map(|(supervisor, child, _)| (supervisor.as_str(), child.as_str())),
        )?;
        state.supervision = Supervision {
            children: snapshot
                .children
                .into_iter()
                .map(|(supervisor, child, record)| ((supervisor, child), record))
                .collect(),
            escalations: {
                check_sorted(
                    "escalations",
                    snapshot.escalations.iter().map(|(id, _)| id.as_str()),
                )?;
                snapshot.escalations.into_iter().collect()
            },
        };
        state.last_checkpoint = snapshot.last_checkpoint;
        check_sorted(
            "rate_limited",
            snapshot.rate_limited.iter().map(|(key, _)| key.as_str()),
        )?;
        state.rate_limited.extend(snapshot.rate_limited);
        if migrated {
            state.summarize_finished();
        }
        Ok(state)
    }

    /// The run lists of a snapshot, checked, into this state: the runs
    /// kept whole (only unfinished ones from version 5 on) and the
    /// summaries (only completed ones before it, `migrated`).
    fn restore_runs(
        &mut self,
        workflows: Vec<WorkflowOwned>,
        completed: Vec<FinishedRun>,
        migrated: bool,
    ) -> Result<(), ProjectionError> {
        let inconsistent = |defect| ProjectionError::SnapshotInconsistent { defect };
        let mut previous: Option<RunId> = None;
        for workflow in workflows {
            if previous
                .as_ref()
                .is_some_and(|previous| *previous >= workflow.id)
            {
                return Err(inconsistent(SnapshotDefect::WorkflowOrder(workflow.id)));
            }
            previous = Some(workflow.id.clone());
            let id = workflow.id.clone();
            if !migrated && workflow.status.is_finished() {
                return Err(inconsistent(SnapshotDefect::WorkflowShape {
                    workflow: id,
                    detail: "a finished run is kept whole",
                }));
            }
            let record = RunRecord::restored(workflow, &mut self.interned).map_err(|detail| {
                inconsistent(SnapshotDefect::WorkflowShape {
                    workflow: id.clone(),
                    detail,
                })
            })?;
            self.workflows.insert(id, record);
        }
        let mut previous: Option<&RunId> = None;
        for finished in &completed {
            let id = &finished.summary.id;
            if previous.is_some_and(|previous| previous >= id) {
                return Err(inconsistent(SnapshotDefect::WorkflowOrder(id.clone())));
            }
            previous = Some(id);
            let detail = if self.workflows.contains_key(id) {
                Some("a run is both whole and completed")
            } else if !finished.summary.status.is_finished()
                || (migrated && finished.summary.status != RunStatus::Completed)
                || finished.summary.finished_at_ms.is_none()
            {
                Some("a summary of a run that did not finish")
            } else {
                None
            };
            if let Some(detail) = detail {
                return Err(inconsistent(SnapshotDefect::WorkflowShape {
                    workflow: id.clone(),
                    detail,
                }));
            }
        }
        for finished in completed {
            self.finished_totals.add(&finished);
            self.finished.insert(finished.summary.id.clone(), finished);
        }
        Ok(())
    }
}

/// Refuses a list whose keys are not strictly increasing.
fn check_sorted<K: Ord + std::fmt::Debug>(
    list: &'static str,
    keys: impl IntoIterator<Item = K>,
) -> Result<(), ProjectionError> {
    let mut previous: Option<K> = None;
    for key in keys {
        if previous.as_ref().is_some_and(|previous| *previous >= key) {
            return Err(ProjectionError::SnapshotInconsistent {
                defect: SnapshotDefect::KeyOrder {
                    list,
                    key: format!("{key:?}"),
                },
            });
        }
        previous = Some(key);
    }
    Ok(())
}

#[cfg(test)]
mod tests;
