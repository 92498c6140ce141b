//! Read-only queries on a [`StateManager`], for the scheduler, the
//! reconciler and `strand status`. Every listing is sorted.

use rustc_hash::FxHashMap;
use serde::Serialize;
use strand_dag::BeadId;

use crate::event::TaskSpec;
use crate::ids::{RunId, WorkerId};
use crate::lifecycle::{BeadState, RunStatus};
use crate::state::CheckpointRecord;
use crate::state::bead::{BeadCounts, BeadRecord};
use crate::state::entry::RunEntry;
use crate::state::supervision::{ChildSupervision, SupervisionRecord, SupervisorEscalations};
use crate::state::worker::{WorkerBead, WorkerRecord, WorkerView};
use crate::state::workflow::{RunRecord, RunSummary};
use crate::state::{FinishedTotals, StateManager};

/// A running bead, as the reconciler sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RunningBead {
    /// The workflow.
    pub workflow: RunId,
    /// The bead.
    pub bead: BeadId,
    /// The worker running it.
    pub worker: Option<WorkerId>,
    /// The attempt it is running.
    pub attempt: u32,
    /// When the attempt started (the `at_ms` of its `BeadStarted`).
    pub since_ms: u64,
}

/// How many calls a rate limiter refused, by key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RateLimitCount {
    /// The limiter's key.
    pub key: String,
    /// `RateLimited` events with this key.
    pub count: u64,
}

impl StateManager {
    /// Every run's summary (completed ones too), sorted by id.
    pub fn workflows(&self) -> Vec<RunSummary> {
        let mut out: Vec<RunSummary> = self.entries().map(|entry| entry.summary()).collect();
        out.sort_unstable_by(|a, b| a.id.cmp(&b.id));
        out
    }

    /// Number of runs the state knows (kept whole or completed).
    pub fn workflow_count(&self) -> usize {
        self.workflows.len() + self.finished.len()
    }

    /// Every run kept whole (the unfinished ones), in no particular order.
    pub fn runs(&self) -> impl Iterator<Item = &RunRecord> + '_ {
        self.workflows.values()
    }

    /// Every run, whole or completed, in no particular order.
    pub fn entries(&self) -> impl Iterator<Item = RunEntry<'_>> + '_ {
        self.workflows
            .values()
            .map(RunEntry::Whole)
            .chain(self.finished.values().map(RunEntry::Summary))
    }

    /// One run, whole or completed.
    pub fn run(&self, run: &RunId) -> Option<RunEntry<'_>> {
        match self.workflows.get(run) {
            Some(record) => Some(RunEntry::Whole(record)),
            None => self.finished.get(run).map(RunEntry::Summary),
        }
    }

    /// The finished runs held as summaries, counted by outcome, with their
    /// beads by state. O(1).
    pub fn finished_totals(&self) -> FinishedTotals {
        self.finished_totals
    }

    /// One run kept whole: its graph, tasks and bead records. `None` for
    /// a completed run (see [`run`](Self::run) and
    /// [`fold_run`](Self::fold_run)).
    pub fn workflow(&self, workflow: &RunId) -> Option<&RunRecord> {
        self.workflows.get(workflow)
    }

    /// One bead's record.
    pub fn bead(&self, workflow: &RunId, bead: &BeadId) -> Option<&BeadRecord> {
        self.workflows.get(workflow)?.bead(bead)
    }

    /// One bead's task.
    pub fn task(&self, workflow: &RunId, bead: &BeadId) -> Option<&TaskSpec> {
        self.workflows.get(workflow)?.task(bead)
    }

    /// A run's beads per state. O(1).
    pub fn bead_counts(&self, workflow: &RunId) -> Option<BeadCounts> {
        Some(self.run(workflow)?.counts())
    }

    /// A workflow's beads in `state`, sorted by id; empty for an unknown workflow.
    pub fn beads_in_state(&self, workflow: &RunId, state: BeadState) -> Vec<BeadId> {
        self.workflows
            .get(workflow)
            .map(|record| record.beads_in_state(state))
            .unwrap_or_default()
    }

    /// A workflow's pending beads whose blocking dependencies have all
    /// completed (see [`RunRecord::unblocked_pending`]); empty for an
    /// unknown workflow.
    pub fn unblocked_pending(&self, workflow: &RunId) -> Vec<BeadId> {
        self.workflows
            .get(workflow)
            .map(RunRecord::unblocked_pending)
            .unwrap_or_default()
    }

    /// Every running bead of every running workflow, sorted by (workflow, bead).
    pub fn running_beads(&self) -> Vec<RunningBead> {
        let mut out = Vec::new();
        for record in self.running_workflows() {
            for (bead, state) in record.beads() {
                if state.state == BeadState::Running {
                    out.push(RunningBead {
                        workflow: record.id.clone(),
                        bead: bead.clone(),
                        worker: state.worker_id().cloned(),
                        attempt: state.attempts,
                        since_ms: state.updated_at_ms,
                    });
                }
            }
        }
        out.sort_unstable_by(|a, b| (&a.workflow, &a.bead).cmp(&(&b.workflow, &b.bead)));
        out
    }

    /// Every worker ever spawned, sorted by id, with the bead it holds.
    /// O(workers + beads of running workflows).
    pub fn workers(&self) -> Vec<WorkerView> {
        // Worker -> its best bead so far: running before scheduled, then the
        // smallest (workflow, bead).
        let mut held: FxHashMap<&WorkerId, (u8, &RunId, &BeadId, BeadState)> = FxHashMap::default();
        for record in self.running_workflows() {
            for (bead, state) in record.beads() {
                let rank = match state.state {
                    BeadState::Running => 0,
                    BeadState::Scheduled => 1,
                    _ => continue,
                };
                let Some(worker) = state.worker_id() else {
                    continue;
                };
                let candidate = (rank, &record.id, bead, state.state);
                held.entry(worker)
                    .and_modify(|best| {
                        if (candidate.0, candidate.1, candidate.2) < (best.0, best.1, best.2) {
                            *best = candidate;
                        }
                    })
                    .or_insert(candidate);
            }
        }
        let mut out: Vec<WorkerView> = self
            .workers
            .iter()
            .map(|(id, record)| WorkerView {
                id: id.clone(),
                record: record.clone(),
                current_bead: held.get(id).map(|&(_, workflow, bead, state)| WorkerBead {
                    workflow: workflow.clone(),
                    bead: bead.clone(),
                    state,
                }),
            })
            .collect();
        out.sort_unstable_by(|a, b| a.id.cmp(&b.id));
        out
    }

    /// One worker's record.
    pub fn worker(&self, worker: &WorkerId) -> Option<&WorkerRecord> {
        self.workers.get(worker)
    }

    /// Every supervised child's counters, sorted by (supervisor, child).
    pub fn supervision(&self) -> Vec<ChildSupervision> {
        self.supervision
            .children
            .iter()
            .map(|((supervisor, child), record)| ChildSupervision {
                supervisor: supervisor.clone(),
                child: child.clone(),
                record: record.clone(),
            })
            .collect()
    }

    /// One child's counters.
    pub fn child_supervision(&self, supervisor: &str, child: &str) -> Option<&SupervisionRecord> {
        // The map is small (one entry per supervised child) and keyed by
        // owned pairs: a scan avoids allocating a key for the lookup.
        self.supervision
            .children
            .iter()
            .find(|((s, c), _)| s == supervisor && c == child)
            .map(|(_, record)| record)
    }

    /// Every supervisor's escalations, sorted by supervisor.
    pub fn escalations(&self) -> Vec<SupervisorEscalations> {
        self.supervision
            .escalations
            .iter()
            .map(|(supervisor, record)| SupervisorEscalations {
                supervisor: supervisor.clone(),
                record: record.clone(),
            })
            .collect()
    }

    /// The last checkpoint recorded in the log.
    pub fn last_checkpoint(&self) -> Option<&CheckpointRecord> {
        self.last_checkpoint.as_ref()
    }

    /// How many `RateLimited` events carried `key`.
    pub fn rate_limited(&self, key: &str) -> u64 {
        self.rate_limited.get(key).copied().unwrap_or(0)
    }

    /// Every rate-limit key with its count, sorted by key.
    pub fn rate_limits(&self) -> Vec<RateLimitCount> {
        let mut out: Vec<RateLimitCount> = self
            .rate_limited
            .iter()
            .map(|(key, count)| RateLimitCount {
                key: key.clone(),
                count: *count,
            })
            .collect();
        out.sort_unstable_by(|a, b| a.key.cmp(&b.key));
        out
    }

    /// Number of events applied since seq 1 (kept across snapshots).
    pub fn events_applied(&self) -> u64 {
        self.events_applied
    }

    /// Workflows still running, in no particular order.
    fn running_workflows(&self) -> impl Iterator<Item = &RunRecord> + '_ {
        self.workflows
            .values()
            .filter(|record| record.status == RunStatus::Running)
    }
}
