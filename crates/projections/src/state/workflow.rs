//! Workflows: [`WorkflowRecord`] (a submitted workflow, its tasks and bead
//! records), the readiness bookkeeping that makes `BeadReady` O(1), and the
//! per-workflow summary.

use rustc_hash::FxHashMap;
use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};
use strand_dag::{BeadId, WorkflowDag};

use crate::error::SubmissionDefect;
use crate::event::TaskSpec;
use crate::ids::WorkflowId;
use crate::lifecycle::{BeadState, WorkflowStatus};
use crate::state::bead::{BeadCounts, BeadRecord, BeadSlot};
use crate::state::snapshot::WorkflowOwned;

/// A submitted workflow as the projection holds it: its graph, its tasks and
/// one [`BeadRecord`] per bead, with per-state counts.
///
/// Beads are kept in id order; every listing below is in that order.
/// Serializes (for JSON) as its summary fields, its graph and its beads.
#[derive(Clone, Debug)]
pub struct WorkflowRecord {
    /// The workflow's id.
    pub(crate) id: WorkflowId,
    /// Its name.
    pub(crate) name: String,
    /// Running, or how it finished.
    pub(crate) status: WorkflowStatus,
    /// `at_ms` of the submission.
    pub(crate) submitted_at_ms: u64,
    /// `at_ms` of the event that finished it.
    pub(crate) finished_at_ms: Option<u64>,
    /// Why it failed or was cancelled.
    pub(crate) reason: Option<String>,
    /// Its beads and dependencies.
    pub(crate) dag: WorkflowDag,
    /// Task `i` is the bead at position `i` (the `i`-th smallest id).
    pub(crate) tasks: Vec<TaskSpec>,
    /// Record `i` is the bead at position `i`.
    pub(crate) beads: Vec<BeadRecord>,
    /// Derived: beads per state (not in the snapshot).
    pub(crate) counts: BeadCounts,
    /// Derived: positions and blocking-dependency counts (not in the snapshot).
    pub(crate) readiness: Readiness,
}

/// The derived index of a workflow: bead id -> position, each bead's blocking
/// dependents, and how many of its blocking dependencies have not completed.
///
/// Rebuilt from the graph and the bead states on submission and on restore,
/// never stored, so it cannot disagree with them.
#[derive(Clone, Debug, Default)]
pub(crate) struct Readiness {
    /// Bead id -> position.
    position: FxHashMap<BeadId, usize>,
    /// Blocking dependents of position `i`: `dependents[offsets[i]..offsets[i + 1]]`.
    offsets: Vec<usize>,
    /// Concatenated blocking-dependent lists.
    dependents: Vec<usize>,
    /// Blocking dependencies of each bead that have not completed.
    waiting_on: Vec<usize>,
}

impl Readiness {
    /// Builds the index of `dag` where `completed(i)` says whether the bead at
    /// position `i` has completed. O(V + E).
    fn build(dag: &WorkflowDag, completed: impl Fn(usize) -> bool) -> Self {
        let position: FxHashMap<BeadId, usize> = dag
            .nodes()
            .enumerate()
            .map(|(at, id)| (id.clone(), at))
            .collect();
        let count = position.len();
        let mut offsets = Vec::with_capacity(count + 1);
        offsets.push(0);
        let mut dependents = Vec::new();
        let mut waiting_on = vec![0_usize; count];
        // `edges()` is sorted by (from, to) and positions follow id order, so
        // the sources come in non-decreasing position order.
        for (from, to, kind) in dag.edges() {
            if !kind.is_blocking() {
                continue;
            }
            let (Some(&from), Some(&to)) = (position.get(from), position.get(to)) else {
                continue;
            };
            while offsets.len() <= from {
                offsets.push(dependents.len());
            }
            dependents.push(to);
            if !completed(from)
                && let Some(waiting) = waiting_on.get_mut(to)
            {
                *waiting += 1;
            }
        }
        while offsets.len() <= count {
            offsets.push(dependents.len());
        }
        Self {
            position,
            offsets,
            dependents,
            waiting_on,
        }
    }

    /// The position of a bead.
    pub(crate) fn position(&self, bead: &BeadId) -> Option<usize> {
        self.position.get(bead).copied()
    }

    /// How many blocking dependencies of the bead at `position` have not completed.
    pub(crate) fn waiting_on(&self, position: usize) -> usize {
        self.waiting_on.get(position).copied().unwrap_or(0)
    }

    /// The bead at `position` completed: each blocking dependent waits on one
    /// fewer. O(out-degree).
    pub(crate) fn release(&mut self, position: usize) {
        let start = self.offsets.get(position).copied().unwrap_or(0);
        let end = self.offsets.get(position + 1).copied().unwrap_or(start);
        for &dependent in self.dependents.get(start..end).unwrap_or(&[]) {
            if let Some(waiting) = self.waiting_on.get_mut(dependent) {
                *waiting = waiting.saturating_sub(1);
            }
        }
    }
}

impl WorkflowRecord {
    /// A new workflow from its submission: every bead pending, never attempted.
    ///
    /// # Errors
    ///
    /// The defect when the graph is not a DAG or the tasks are not exactly
    /// its nodes.
    pub(crate) fn submitted(
        id: WorkflowId,
        name: String,
        dag: WorkflowDag,
        tasks: Vec<TaskSpec>,
        at_ms: u64,
    ) -> Result<Self, SubmissionDefect> {
        dag.validate().map_err(SubmissionDefect::InvalidDag)?;
        let readiness = Readiness::build(&dag, |_| false);
        let mut slots: Vec<Option<TaskSpec>> = (0..dag.node_count()).map(|_| None).collect();
        for task in tasks {
            let Some(slot) = readiness
                .position(&task.id)
                .and_then(|position| slots.get_mut(position))
            else {
                return Err(SubmissionDefect::TaskNotInDag(task.id));
            };
            if slot.is_some() {
                return Err(SubmissionDefect::DuplicateTask(task.id));
            }
            *slot = Some(task);
        }
        let mut ordered = Vec::with_capacity(slots.len());
        for (node, slot) in dag.nodes().zip(slots) {
            ordered.push(slot.ok_or_else(|| SubmissionDefect::MissingTask(node.clone()))?);
        }
        let beads = vec![BeadRecord::pending(at_ms); ordered.len()];
        Ok(Self {
            id,
            name,
            status: WorkflowStatus::Running,
            submitted_at_ms: at_ms,
            finished_at_ms: None,
            reason: None,
            counts: BeadCounts::of(&beads),
            dag,
            tasks: ordered,
            beads,
            readiness,
        })
    }

    /// A workflow read back from a snapshot, its derived index rebuilt.
    ///
    /// # Errors
    ///
    /// A description of the mismatch when the tasks or bead records do not
    /// line up with the graph's nodes, or the status with the finish time.
    pub(crate) fn restored(snapshot: WorkflowOwned) -> Result<Self, &'static str> {
        let WorkflowOwned {
            id,
            name,
            status,
            submitted_at_ms,
            finished_at_ms,
            reason,
            dag,
            tasks,
            beads,
        } = snapshot;
        if tasks.len() != dag.node_count() || !dag.nodes().eq(tasks.iter().map(|task| &task.id)) {
            return Err("tasks do not match the graph's nodes");
        }
        if beads.len() != dag.node_count() {
            return Err("bead records do not match the graph's nodes");
        }
        if status.is_finished() != finished_at_ms.is_some() {
            return Err("status and finish time disagree");
        }
        let readiness = Readiness::build(&dag, |at| {
            beads
                .get(at)
                .is_some_and(|bead| bead.state == BeadState::Completed)
        });
        Ok(Self {
            id,
            name,
            status,
            submitted_at_ms,
            finished_at_ms,
            reason,
            counts: BeadCounts::of(&beads),
            dag,
            tasks,
            beads,
            readiness,
        })
    }

    /// The bead's slot for a transition, or `None` for an unknown bead.
    pub(crate) fn slot(&mut self, bead: &BeadId) -> Option<BeadSlot<'_>> {
        let position = self.readiness.position(bead)?;
        Some(BeadSlot {
            position,
            record: self.beads.get_mut(position)?,
            counts: &mut self.counts,
            readiness: &mut self.readiness,
        })
    }

    /// The smallest blocking dependency of the bead at `position` that has not
    /// completed (an error path: O(degree · log V)).
    pub(crate) fn first_missing_dependency(&self, position: usize) -> Option<BeadId> {
        let task = self.tasks.get(position)?;
        let dependencies = self.dag.dependencies(&task.id).ok()?;
        dependencies.into_iter().find(|dependency| {
            self.dag
                .edge(dependency, &task.id)
                .is_some_and(strand_dag::DependencyType::is_blocking)
                && self.bead(dependency).map(|bead| bead.state) != Some(BeadState::Completed)
        })
    }

    /// The first bead (smallest id) that has not completed, with its state.
    pub(crate) fn first_incomplete(&self) -> Option<(&BeadId, BeadState)> {
        self.beads()
            .find(|(_, bead)| bead.state != BeadState::Completed)
            .map(|(id, bead)| (id, bead.state))
    }

    /// Marks the workflow finished at `at_ms`.
    pub(crate) fn finish(&mut self, status: WorkflowStatus, at_ms: u64, reason: Option<String>) {
        self.status = status;
        self.finished_at_ms = Some(at_ms);
        self.reason = reason;
    }

    /// The workflow's id.
    pub fn id(&self) -> &WorkflowId {
        &self.id
    }

    /// The workflow's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Running, or how it finished.
    pub fn status(&self) -> WorkflowStatus {
        self.status
    }

    /// When it was submitted (the submission's `at_ms`).
    pub fn submitted_at_ms(&self) -> u64 {
        self.submitted_at_ms
    }

    /// When it finished, if it has.
    pub fn finished_at_ms(&self) -> Option<u64> {
        self.finished_at_ms
    }

    /// Why it failed or was cancelled.
    pub fn reason(&self) -> Option<&str> {
        self.reason.as_deref()
    }

    /// Its graph.
    pub fn dag(&self) -> &WorkflowDag {
        &self.dag
    }

    /// Its tasks, sorted by bead id.
    pub fn tasks(&self) -> &[TaskSpec] {
        &self.tasks
    }

    /// The task of one bead.
    pub fn task(&self, bead: &BeadId) -> Option<&TaskSpec> {
        self.tasks.get(self.readiness.position(bead)?)
    }

    /// The record of one bead.
    pub fn bead(&self, bead: &BeadId) -> Option<&BeadRecord> {
        self.beads.get(self.readiness.position(bead)?)
    }

    /// Every bead with its record, sorted by id.
    pub fn beads(&self) -> impl ExactSizeIterator<Item = (&BeadId, &BeadRecord)> + '_ {
        self.tasks.iter().map(|task| &task.id).zip(&self.beads)
    }

    /// How many beads are in each state. O(1).
    pub fn counts(&self) -> BeadCounts {
        self.counts
    }

    /// The beads in `state`, sorted by id.
    pub fn beads_in_state(&self, state: BeadState) -> Vec<BeadId> {
        self.beads()
            .filter(|(_, bead)| bead.state == state)
            .map(|(id, _)| id.clone())
            .collect()
    }

    /// Pending beads whose blocking dependencies have all completed: the
    /// beads a scheduler recovering from a crash should make ready. Sorted by id.
    pub fn unblocked_pending(&self) -> Vec<BeadId> {
        self.beads()
            .enumerate()
            .filter(|(at, (_, bead))| {
                bead.state == BeadState::Pending && self.readiness.waiting_on(*at) == 0
            })
            .map(|(_, (id, _))| id.clone())
            .collect()
    }

    /// The workflow's summary.
    pub fn summary(&self) -> WorkflowSummary {
        WorkflowSummary {
            id: self.id.clone(),
            name: self.name.clone(),
            status: self.status,
            counts: self.counts,
            submitted_at_ms: self.submitted_at_ms,
            finished_at_ms: self.finished_at_ms,
            reason: self.reason.clone(),
        }
    }
}

/// One bead in a workflow's JSON form: its id, task and record.
#[derive(Serialize)]
struct BeadJson<'a> {
    id: &'a BeadId,
    task: &'a TaskSpec,
    #[serde(flatten)]
    record: &'a BeadRecord,
}

impl Serialize for WorkflowRecord {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let beads: Vec<BeadJson<'_>> = self
            .tasks
            .iter()
            .zip(&self.beads)
            .map(|(task, record)| BeadJson {
                id: &task.id,
                task,
                record,
            })
            .collect();
        let mut out = serializer.serialize_struct("WorkflowRecord", 9)?;
        out.serialize_field("id", &self.id)?;
        out.serialize_field("name", &self.name)?;
        out.serialize_field("status", &self.status)?;
        out.serialize_field("counts", &self.counts)?;
        out.serialize_field("submitted_at_ms", &self.submitted_at_ms)?;
        out.serialize_field("finished_at_ms", &self.finished_at_ms)?;
        out.serialize_field("reason", &self.reason)?;
        out.serialize_field("dag", &self.dag)?;
        out.serialize_field("beads", &beads)?;
        out.end()
    }
}

/// One line of `strand status`: a workflow and its bead counts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WorkflowSummary {
    /// The workflow's id.
    pub id: WorkflowId,
    /// Its name.
    pub name: String,
    /// Running, or how it finished.
    pub status: WorkflowStatus,
    /// Beads per state.
    pub counts: BeadCounts,
    /// When it was submitted.
    pub submitted_at_ms: u64,
    /// When it finished, if it has.
    pub finished_at_ms: Option<u64>,
    /// Why it failed or was cancelled.
    pub reason: Option<String>,
}
