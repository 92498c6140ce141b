//! Workflows: [`RunRecord`] (a submitted workflow, its tasks and bead
//! records) and the per-workflow summary.

use std::sync::Arc;

use serde::ser::SerializeStruct;
use serde::{Deserialize, Serialize, Serializer};
use strand_dag::{BeadId, DagError, WorkflowDag};

use crate::definition::DefinitionHash;
use crate::error::SubmissionDefect;
use crate::event::{RunSettings, TaskSpec};
use crate::ids::RunId;
use crate::lifecycle::{BeadState, RunStatus};
use crate::output::Output;
use crate::state::bead::{BeadCounts, BeadRecord, BeadSlot};
use crate::state::index::{BeadIndex, IndexError};
use crate::state::snapshot::WorkflowOwned;
use crate::state::worker::Interner;

/// A submitted workflow as the projection holds it: its graph, its tasks and
/// one [`BeadRecord`] per bead, with per-state counts.
///
/// Beads are kept in id order; every listing below is in that order.
/// Serializes (for JSON) as its summary fields, its graph and its beads.
#[derive(Clone, Debug)]
pub struct RunRecord {
    /// The workflow's id.
    pub(crate) id: RunId,
    /// Its definition's name.
    pub(crate) name: String,
    /// Its definition's content hash.
    pub(crate) definition: DefinitionHash,
    /// Its input: a JSON object, as text.
    pub(crate) input: Arc<str>,
    /// Its timeout and per-task backoffs.
    pub(crate) settings: RunSettings,
    /// Running, or how it finished.
    pub(crate) status: RunStatus,
    /// An operator paused it (only while running).
    pub(crate) paused: bool,
    /// `at_ms` of the submission.
    pub(crate) submitted_at_ms: u64,
    /// Seq of the submission: where the run's stream begins.
    pub(crate) submitted_seq: u64,
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
    /// Derived: positions and blocking dependents (not in the snapshot).
    pub(crate) index: BeadIndex,
    /// Derived: per bead, the blocking dependencies not completed (not in
    /// the snapshot). A compact array: `BeadReady` reads one entry and a
    /// completion decrements its dependents' entries.
    pub(crate) waiting: Vec<u32>,
}

impl RunRecord {
    /// A new workflow from its submission: every bead pending, never attempted.
    ///
    /// # Errors
    ///
    /// The defect when the graph is not a DAG or the tasks are not exactly
    /// its nodes.
    pub(crate) fn submitted(
        id: RunId,
        (name, definition, input, settings): (String, DefinitionHash, String, RunSettings),
        dag: WorkflowDag,
        tasks: Vec<TaskSpec>,
        (seq, at_ms): (u64, u64),
    ) -> Result<Self, SubmissionDefect> {
        let index = indexed(&dag)?;
        let tasks = in_position_order(&dag, &index, tasks)?;
        let beads = vec![BeadRecord::pending(at_ms); tasks.len()];
        let mut record = Self {
            id,
            name,
            definition,
            input: Arc::from(input),
            settings,
            status: RunStatus::Running,
            paused: false,
            submitted_at_ms: at_ms,
            submitted_seq: seq,
            finished_at_ms: None,
            reason: None,
            counts: BeadCounts::of(&beads),
            dag,
            tasks,
            beads,
            index,
            waiting: Vec::new(),
        };
        record.count_waiting();
        Ok(record)
    }

    /// A workflow read back from a snapshot, its derived data rebuilt.
    ///
    /// # Errors
    ///
    /// A description of the mismatch when the tasks or bead records do not
    /// line up with the graph's nodes, or the status with the finish time.
    pub(crate) fn restored(
        snapshot: WorkflowOwned,
        workers: &mut Interner,
    ) -> Result<Self, &'static str> {
        let WorkflowOwned {
            id,
            name,
            definition,
            input,
            settings,
            status,
            paused,
            submitted_at_ms,
            submitted_seq,
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
        if paused && status.is_finished() {
            return Err("a finished run is paused");
        }
        let index = BeadIndex::build(&dag).map_err(|error| match error {
            IndexError::TooLarge => "too many beads",
            IndexError::Cycle => "the graph has a cycle",
        })?;
        let beads: Vec<BeadRecord> = beads
            .into_iter()
            .map(|bead| bead.into_record(workers))
            .collect();
        let mut record = Self {
            id,
            name,
            definition,
            input: Arc::from(input),
            settings,
            status,
            paused,
            submitted_at_ms,
            submitted_seq,
            finished_at_ms,
            reason,
            counts: BeadCounts::of(&beads),
            dag,
            tasks,
            beads,
            index,
            waiting: Vec::new(),
        };
        record.count_waiting();
        Ok(record)
    }

    /// Sets every bead's count of blocking dependencies not completed, from
    /// the bead states. O(V + E).
    fn count_waiting(&mut self) {
        let mut waiting = vec![0_u32; self.beads.len()];
        for (position, bead) in self.beads.iter().enumerate() {
            if bead.state == BeadState::Completed {
                continue;
            }
            for &dependent in self.index.dependents(position) {
                if let Some(count) = usize::try_from(dependent)
                    .ok()
                    .and_then(|at| waiting.get_mut(at))
                {
                    *count = count.saturating_add(1);
                }
            }
        }
        self.waiting = waiting;
    }

    /// The bead's slot for a transition, or `None` for an unknown bead.
    #[inline]
    pub(crate) fn slot<'a>(
        &'a mut self,
        bead: &BeadId,
        workers: &'a mut Interner,
    ) -> Option<BeadSlot<'a>> {
        let position = self.index.position(bead.as_str())?;
        Some(BeadSlot {
            position,
            record: self.beads.get_mut(position)?,
            waiting: &self.waiting,
            counts: &mut self.counts,
            workers,
        })
    }

    /// The bead at `position` completed: each blocking dependent waits on one
    /// fewer. O(out-degree).
    #[inline]
    pub(crate) fn release(&mut self, position: usize) {
        for &dependent in self.index.dependents(position) {
            if let Some(count) = usize::try_from(dependent)
                .ok()
                .and_then(|at| self.waiting.get_mut(at))
            {
                *count = count.saturating_sub(1);
            }
        }
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
    pub(crate) fn finish(&mut self, status: RunStatus, at_ms: u64, reason: Option<String>) {
        self.status = status;
        self.paused = false;
        self.finished_at_ms = Some(at_ms);
        self.reason = reason;
    }

    /// The workflow's id.
    pub fn id(&self) -> &RunId {
        &self.id
    }

    /// The workflow's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// An operator's retry: the beads at `positions` pending again (the
    /// caller checked that none completed), and the run running again.
    pub(crate) fn reopen(&mut self, positions: &[usize], at_ms: u64) {
        for &position in positions {
            if let Some(bead) = self.beads.get_mut(position) {
                bead.reopen(at_ms);
            }
        }
        self.counts = BeadCounts::of(&self.beads);
        self.status = RunStatus::Running;
        self.paused = false;
        self.finished_at_ms = None;
        self.reason = None;
    }

    /// The position of `bead`, if it is one of the run's.
    pub(crate) fn position(&self, bead: &BeadId) -> Option<usize> {
        self.index.position(bead.as_str())
    }

    /// Its timeout and per-task backoffs.
    pub fn settings(&self) -> &RunSettings {
        &self.settings
    }

    /// When its timeout cancels it, in ms since the epoch, if it has one.
    pub fn deadline_ms(&self) -> Option<u64> {
        let timeout = self.settings.timeout_ms?;
        Some(self.submitted_at_ms.saturating_add(timeout))
    }

    /// Whether an operator paused it.
    pub fn paused(&self) -> bool {
        self.paused
    }

    /// The content hash of its definition.
    pub fn definition(&self) -> DefinitionHash {
        self.definition
    }

    /// Its input: a JSON object, as text.
    pub fn input(&self) -> &Arc<str> {
        &self.input
    }

    /// The outputs of the blocking dependencies of `bead` that completed,
    /// sorted by id: what the bead is handed when it runs.
    pub fn dependency_outputs(&self, bead: &BeadId) -> Vec<(BeadId, Arc<Output>)> {
        let Some(position) = self.index.position(bead.as_str()) else {
            return Vec::new();
        };
        // Tasks and records are in position order, the index's lists too.
        self.index
            .dependencies(position)
            .iter()
            .filter_map(|&at| {
                let at = usize::try_from(at).ok()?;
                let output = self.beads.get(at)?.output.clone()?;
                Some((self.tasks.get(at)?.id.clone(), output))
            })
            .collect()
    }

    /// Running, or how it finished.
    pub fn status(&self) -> RunStatus {
        self.status
    }

    /// When it was submitted (the submission's `at_ms`).
    pub fn submitted_at_ms(&self) -> u64 {
        self.submitted_at_ms
    }

    /// The seq of its submission: where its stream begins.
    pub fn submitted_seq(&self) -> u64 {
        self.submitted_seq
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
        self.tasks.get(self.index.position(bead.as_str())?)
    }

    /// The record of one bead.
    pub fn bead(&self, bead: &BeadId) -> Option<&BeadRecord> {
        self.beads.get(self.index.position(bead.as_str())?)
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
            .zip(&self.waiting)
            .filter(|((_, bead), waiting)| bead.state == BeadState::Pending && **waiting == 0)
            .map(|((id, _), _)| id.clone())
            .collect()
    }

    /// The blocking dependents of `bead` that are pending with every
    /// blocking dependency completed: what its completion unblocked.
    /// O(out-degree), sorted as the index keeps them.
    pub fn unblocked_by(&self, bead: &BeadId) -> Vec<BeadId> {
        let Some(position) = self.index.position(bead.as_str()) else {
            return Vec::new();
        };
        self.index
            .dependents(position)
            .iter()
            .filter_map(|&dependent| {
                let at = usize::try_from(dependent).ok()?;
                let record = self.beads.get(at)?;
                let unblocked =
                    record.state == BeadState::Pending && self.waiting.get(at) == Some(&0);
                unblocked.then(|| self.tasks.get(at).map(|t| t.id.clone()))?
            })
            .collect()
    }

    /// The workflow's summary.
    pub fn summary(&self) -> RunSummary {
        RunSummary {
            id: self.id.clone(),
            name: self.name.clone(),
            definition: self.definition,
            status: self.status,
            paused: self.paused,
            counts: self.counts,
            submitted_at_ms: self.submitted_at_ms,
            submitted_seq: self.submitted_seq,
            finished_at_ms: self.finished_at_ms,
            reason: self.reason.clone(),
        }
    }
}

/// `tasks` reordered so that task `i` is the bead at position `i`, in place
/// (a submission may list 10,000 tasks: they are swapped, not copied).
///
/// # Errors
///
/// The first task not in the graph or listed twice, or the first node (in
/// id order) without a task.
fn in_position_order(
    dag: &WorkflowDag,
    index: &BeadIndex,
    mut tasks: Vec<TaskSpec>,
) -> Result<Vec<TaskSpec>, SubmissionDefect> {
    let Some(mut targets) = positions(dag, index, &tasks)? else {
        return Ok(tasks);
    };
    // Every task has a distinct target in 0..len: follow the permutation's
    // cycles, each swap putting one task in its place.
    for at in 0..tasks.len() {
        while let Some(&target) = targets.get(at)
            && target != at
        {
            tasks.swap(at, target);
            targets.swap(at, target);
        }
    }
    Ok(tasks)
}

/// The index of `dag`, or the defect that prevents one (too many beads, a
/// cycle).
fn indexed(dag: &WorkflowDag) -> Result<BeadIndex, SubmissionDefect> {
    BeadIndex::build(dag).map_err(|error| match error {
        IndexError::TooLarge => SubmissionDefect::TooManyBeads(dag.node_count()),
        // The index found a cycle; the graph names it.
        IndexError::Cycle => {
            SubmissionDefect::InvalidDag(dag.validate().err().unwrap_or_else(|| {
                DagError::InvalidOperation("the dependency edges form a cycle".to_owned())
            }))
        }
    })
}

/// Whether `(dag, tasks)` would make a run, without making it: the checks
/// of [`RunRecord::submitted`], for a writer to run before it appends.
///
/// # Errors
///
/// As [`RunRecord::submitted`].
pub(crate) fn check_parts(dag: &WorkflowDag, tasks: &[TaskSpec]) -> Result<(), SubmissionDefect> {
    let index = indexed(dag)?;
    positions(dag, &index, tasks).map(|_| ())
}

/// Each task's position in the index, `None` when every task is in its
/// place already (listed in id order: a sequential comparison, no lookups).
///
/// # Errors
///
/// The first task not in the graph or listed twice, or the first node (in
/// id order) without a task.
fn positions(
    dag: &WorkflowDag,
    index: &BeadIndex,
    tasks: &[TaskSpec],
) -> Result<Option<Vec<usize>>, SubmissionDefect> {
    if tasks.iter().map(|task| &task.id).eq(dag.nodes()) {
        return Ok(None);
    }
    let mut seen = vec![false; index.len()];
    let mut targets = Vec::with_capacity(tasks.len());
    for task in tasks {
        let Some((target, seen)) = index
            .position(task.id.as_str())
            .and_then(|position| Some((position, seen.get_mut(position)?)))
        else {
            return Err(SubmissionDefect::TaskNotInDag(task.id.clone()));
        };
        if *seen {
            return Err(SubmissionDefect::DuplicateTask(task.id.clone()));
        }
        *seen = true;
        targets.push(target);
    }
    if let Some((node, _)) = dag.nodes().zip(&seen).find(|(_, seen)| !**seen) {
        return Err(SubmissionDefect::MissingTask(node.clone()));
    }
    Ok(Some(targets))
}

/// One bead in a workflow's JSON form: its id, task and record.
#[derive(Serialize)]
struct BeadJson<'a> {
    id: &'a BeadId,
    task: &'a TaskSpec,
    #[serde(flatten)]
    record: &'a BeadRecord,
}

impl Serialize for RunRecord {
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
        let mut out = serializer.serialize_struct("RunRecord", 13)?;
        out.serialize_field("id", &self.id)?;
        out.serialize_field("name", &self.name)?;
        out.serialize_field("definition", &self.definition)?;
        out.serialize_field("input", &RawJson(&self.input))?;
        out.serialize_field("settings", &self.settings)?;
        out.serialize_field("status", &self.status)?;
        out.serialize_field("paused", &self.paused)?;
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunSummary {
    /// The workflow's id.
    pub id: RunId,
    /// Its definition's name.
    pub name: String,
    /// Its definition's content hash.
    pub definition: DefinitionHash,
    /// Running, or how it finished.
    pub status: RunStatus,
    /// An operator paused it.
    pub paused: bool,
    /// Beads per state.
    pub counts: BeadCounts,
    /// When it was submitted.
    pub submitted_at_ms: u64,
    /// The seq of its submission: where its stream of the log begins.
    pub submitted_seq: u64,
    /// When it finished, if it has.
    pub finished_at_ms: Option<u64>,
    /// Why it failed or was cancelled.
    pub reason: Option<String>,
}

/// A run's input in JSON output: the object itself when it parses, else
/// the text (a log written by another program may hold anything).
struct RawJson<'a>(&'a str);

impl Serialize for RawJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match serde_json::from_str::<serde_json::Value>(self.0) {
            Ok(value) => value.serialize(serializer),
            Err(_) => serializer.serialize_str(self.0),
        }
    }
}
