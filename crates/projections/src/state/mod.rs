//! [`StateManager`]: the projection of workflows, beads, workers,
//! supervision, checkpoints and rate limits that `strand status` shows and
//! the scheduler recovers from.
//!
//! A finished run (completed, failed or cancelled) is kept as a bounded
//! summary (`finished.rs`), its beads and outputs left in its stream of the
//! log: [`StateManager::fold_run`] folds that stream again when they are
//! asked for, and when an operator retries a failed or cancelled run
//! (`live.rs`). Only unfinished runs are kept whole.
//!
//! One concept per file: `workflow.rs` (workflow records), `index.rs` (the
//! per-workflow bead id -> position table and blocking dependents), `bead.rs`
//! (bead records and the bead lifecycle), `worker.rs` (workers and the shared
//! worker ids), `supervision.rs`, `snapshot.rs` (the canonical form),
//! `queries.rs`, `control.rs` (the fold of operator controls), `finished.rs`
//! (what a finished run leaves), `entry.rs`
//! (a run, whole or summarized), `retention.rs` (how long finished runs
//! stay, and where the log is still needed), `live.rs` (which runs are kept
//! whole).

mod bead;
mod control;
mod entry;
mod finished;
mod index;
mod live;
mod queries;
mod retention;
mod snapshot;
mod supervision;
mod worker;
mod workflow;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use strand_dag::{BeadId, WorkflowDag};

pub use bead::{BeadCounts, BeadRecord};
pub use entry::RunEntry;
pub use finished::{FinishedRun, FinishedTotals, InputDigest, SUMMARY_REASON_BYTES};
pub use queries::{RateLimitCount, RunningBead};
pub use retention::{Retention, RetentionPolicy};
pub use supervision::{
    ChildSupervision, EscalationRecord, SupervisionRecord, SupervisorEscalations,
};
pub use worker::{WorkerBead, WorkerRecord, WorkerView};
pub use workflow::{RunRecord, RunSummary};

use crate::codec;
use crate::definition::DefinitionHash;
use crate::error::{ProjectionError, SubmissionDefect};
use crate::event::{DomainEvent, RunSettings, TaskSpec};
use crate::hash::{StateHash, StateHasher};
use crate::ids::RunId;
use crate::lifecycle::{BeadState, RunStatus};
use crate::output::Output;
use crate::projection::{EventMeta, Projection};
use bead::{BeadSlot, Effect, Refusal};
use live::Keep;
use supervision::{ChildEvent, Supervision};
use worker::{Interner, Workers};

/// The input of a run submitted without one (and of every submission from
/// before runs): the empty JSON object.
pub const EMPTY_INPUT: &str = "{}";

/// The fields of a submission, as the fold takes them.
struct Submitted {
    name: String,
    definition: DefinitionHash,
    dag: WorkflowDag,
    tasks: Vec<TaskSpec>,
    input: String,
    settings: RunSettings,
}

/// The last checkpoint recorded by a `CheckpointTaken` event.
///
/// The field order is part of snapshot format version 1.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CheckpointRecord {
    /// The checkpoint's name.
    pub name: String,
    /// Its watermark seq.
    pub seq: u64,
    /// The `at_ms` of the event that recorded it.
    pub at_ms: u64,
}

/// The projection of everything `strand status` shows: workflows with their
/// graphs, tasks and bead states; workers; supervision counters; the last
/// checkpoint; rate-limit counts.
///
/// `apply` enforces the bead lifecycle of DESIGN.md
/// (`pending -> ready -> scheduled -> running -> completed | failed -> (retry)
/// ready | timed_out | cancelled`) and refuses, with a typed error and no
/// change, any event impossible in the current state.
///
/// It is built for replay speed (a bead event costs about 150 ns inside a
/// replay of 10,000-bead workflows): workflows are found through an
/// `FxHashMap`, beads through a per-workflow open-addressing table over an id
/// arena, bead records are one cache line each, a bead's readiness check is
/// O(1) (a count of blocking dependencies not completed is kept), worker ids
/// are shared, and events are taken by value so their strings move into the
/// state.
#[derive(Clone, Debug, Default)]
pub struct StateManager {
    /// Seq of the last applied event.
    applied_seq: u64,
    /// Number of events applied since seq 1 (snapshots carry it).
    events_applied: u64,
    /// Runs kept whole (see `keep`), by id.
    workflows: FxHashMap<RunId, RunRecord>,
    /// The summaries of finished runs, by id (every finished run, except
    /// in the fold of one run's history and a run a live view restored).
    finished: FxHashMap<RunId, FinishedRun>,
    /// Derived: the summarized runs counted by outcome, and their beads
    /// (not in the snapshot).
    finished_totals: FinishedTotals,
    /// Runs that left the state through `RunExpired`.
    expired_runs: u64,
    /// Which finished runs are kept whole (not in the snapshot: only the
    /// state manager's own, [`Keep::Unfinished`], is ever checkpointed).
    keep: Keep,
    /// Workers by id.
    workers: Workers,
    /// Supervision counters.
    supervision: Supervision,
    /// The last `CheckpointTaken`.
    last_checkpoint: Option<CheckpointRecord>,
    /// `RateLimited` events per key.
    rate_limited: FxHashMap<String, u64>,
    /// Derived: the worker ids bead records share (not in the snapshot).
    interned: Interner,
}

impl Projection for StateManager {
    const NAME: &'static str = "state_manager";
    const SNAPSHOT_VERSION: u32 = 5;
    const OLDEST_SNAPSHOT_VERSION: u32 = 4;

    fn empty() -> Self {
        Self::default()
    }

    fn apply(&mut self, meta: EventMeta, event: DomainEvent) -> Result<(), ProjectionError> {
        if meta.seq <= self.applied_seq {
            return Err(ProjectionError::OutOfOrder {
                seq: meta.seq,
                applied: self.applied_seq,
            });
        }
        self.fold(meta, event)?;
        self.applied_seq = meta.seq;
        self.events_applied += 1;
        Ok(())
    }

    /// A retry of a failed or cancelled run, which the state holds as its
    /// summary, reads the run's stream.
    fn stream_needed(&self, event: &DomainEvent) -> Option<String> {
        self.stream_for(event)
    }

    fn apply_with_stream(
        &mut self,
        meta: EventMeta,
        event: DomainEvent,
        stream: Vec<(EventMeta, DomainEvent)>,
    ) -> Result<(), ProjectionError> {
        self.apply_to_restored(meta, event, stream)
    }

    fn applied_seq(&self) -> u64 {
        self.applied_seq
    }

    fn snapshot(&self) -> Result<Vec<u8>, ProjectionError> {
        codec::encode_snapshot(Self::SNAPSHOT_VERSION, &self.canonical())
    }

    fn restore(bytes: &[u8]) -> Result<Self, ProjectionError> {
        let (version, snapshot) = codec::decode_snapshot(
            Self::OLDEST_SNAPSHOT_VERSION..=Self::SNAPSHOT_VERSION,
            bytes,
        )?;
        Self::from_canonical(snapshot, version)
    }

    /// SHA-256 of the bytes [`snapshot`](Projection::snapshot) would return,
    /// streamed into the hasher (no buffer, no size bound).
    fn state_hash(&self) -> StateHash {
        let mut hasher = StateHasher::default();
        #[expect(
            clippy::expect_used,
            reason = "the writer never fails and every list has a known length, so \
                      encoding cannot fail; the snapshot tests exercise this path"
        )]
        codec::write_snapshot(Self::SNAPSHOT_VERSION, &self.canonical(), &mut hasher)
            .expect("encoding a state into a hasher cannot fail");
        hasher.finish()
    }
}

impl StateManager {
    /// An empty state manager (the state before seq 1).
    pub fn new() -> Self {
        Self::default()
    }

    /// Folds one event after the seq check; on error nothing has changed.
    #[expect(
        clippy::too_many_lines,
        reason = "a dispatch table: one short arm per event kind"
    )]
    fn fold(&mut self, meta: EventMeta, event: DomainEvent) -> Result<(), ProjectionError> {
        let EventMeta { seq, at_ms } = meta;
        match event {
            DomainEvent::WorkflowSubmitted {
                workflow,
                name,
                dag,
                tasks,
            } => {
                // A submission from before runs: its definition is what it
                // holds, its input empty.
                let definition = DefinitionHash::of(&name, &dag, &tasks);
                let submission = Submitted {
                    name,
                    definition,
                    dag: *dag,
                    tasks,
                    input: EMPTY_INPUT.to_owned(),
                    settings: RunSettings::default(),
                };
                self.submit(seq, at_ms, workflow, submission)
            }
            DomainEvent::RunSubmitted {
                run,
                name,
                definition,
                dag,
                tasks,
                input,
                settings,
            } => {
                let submission = Submitted {
                    name,
                    definition,
                    dag: *dag,
                    tasks,
                    input,
                    settings: *settings,
                };
                self.submit(seq, at_ms, run, submission)
            }
            DomainEvent::WorkflowCompleted { workflow } => {
                self.finish(seq, at_ms, workflow, RunStatus::Completed, None)
            }
            DomainEvent::WorkflowFailed { workflow, reason } => {
                self.finish(seq, at_ms, workflow, RunStatus::Failed, Some(reason))
            }
            DomainEvent::WorkflowCancelled { workflow, reason } => {
                self.finish(seq, at_ms, workflow, RunStatus::Cancelled, Some(reason))
            }
            DomainEvent::BeadReady { workflow, bead } => {
                self.on_bead(seq, workflow, bead, |mut slot| slot.ready(at_ms))
            }
            DomainEvent::BeadScheduled {
                workflow,
                bead,
                worker,
            } => self.on_bead(seq, workflow, bead, |mut slot| {
                slot.scheduled(at_ms, worker)
            }),
            DomainEvent::BeadStarted {
                workflow,
                bead,
                worker,
                attempt,
            } => self.on_bead(seq, workflow, bead, |mut slot| {
                slot.started(at_ms, worker, attempt)
            }),
            DomainEvent::BeadCompleted {
                workflow,
                bead,
                attempt,
                output,
            } => self.on_bead(seq, workflow, bead, |mut slot| {
                slot.completed(at_ms, attempt, Output::text(output), String::new())
            }),
            DomainEvent::BeadCompletedWithOutput {
                run,
                bead,
                attempt,
                output,
                log_tail,
            } => self.on_bead(seq, run, bead, |mut slot| {
                slot.completed(at_ms, attempt, output, log_tail)
            }),
            DomainEvent::BeadFailed {
                workflow,
                bead,
                attempt,
                error,
                retryable,
            } => self.on_bead(seq, workflow, bead, |mut slot| {
                slot.failed(at_ms, attempt, error, retryable)
            }),
            DomainEvent::BeadRetryScheduled {
                workflow,
                bead,
                at_ms: due_ms,
            } => self.on_bead(seq, workflow, bead, |mut slot| {
                slot.retry_scheduled(at_ms, due_ms)
            }),
            DomainEvent::BeadTimedOut {
                workflow,
                bead,
                attempt,
                reason,
            } => self.on_bead(seq, workflow, bead, |mut slot| {
                slot.timed_out(at_ms, attempt, reason)
            }),
            DomainEvent::BeadCancelled {
                workflow,
                bead,
                reason,
            } => self.on_bead(seq, workflow, bead, |mut slot| {
                slot.cancelled(at_ms, reason)
            }),
            DomainEvent::RunPaused { run, .. } => self.pause(seq, run, true),
            DomainEvent::RunResumed { run } => self.pause(seq, run, false),
            DomainEvent::RunRetried { run, beads } => self.retry(seq, at_ms, run, &beads),
            DomainEvent::RunExpired { run } => self.expire(seq, run),
            DomainEvent::WorkerSpawned { worker, labels } => {
                worker::spawned(&mut self.workers, worker, labels, at_ms);
                Ok(())
            }
            DomainEvent::WorkerDied { worker, reason } => {
                worker::died(&mut self.workers, seq, worker, reason, at_ms)
            }
            DomainEvent::ActorStarted { supervisor, child } => {
                self.supervision
                    .child(supervisor, child, ChildEvent::Started, at_ms);
                Ok(())
            }
            DomainEvent::ActorFailed {
                supervisor,
                child,
                reason,
            } => {
                self.supervision
                    .child(supervisor, child, ChildEvent::Failed(reason), at_ms);
                Ok(())
            }
            DomainEvent::ActorRestarted {
                supervisor,
                child,
                restarts,
            } => {
                self.supervision
                    .child(supervisor, child, ChildEvent::Restarted(restarts), at_ms);
                Ok(())
            }
            DomainEvent::ActorStopped {
                supervisor,
                child,
                reason,
            } => {
                self.supervision
                    .child(supervisor, child, ChildEvent::Stopped(reason), at_ms);
                Ok(())
            }
            DomainEvent::RestartBackoffScheduled {
                supervisor,
                child,
                delay_ms,
            } => {
                self.supervision
                    .child(supervisor, child, ChildEvent::Backoff(delay_ms), at_ms);
                Ok(())
            }
            DomainEvent::BreakerChanged {
                supervisor,
                child,
                state,
            } => {
                self.supervision
                    .child(supervisor, child, ChildEvent::Breaker(state), at_ms);
                Ok(())
            }
            DomainEvent::SupervisorEscalated { supervisor, reason } => {
                self.supervision.escalated(supervisor, reason, at_ms);
                Ok(())
            }
            DomainEvent::CheckpointTaken {
                name,
                seq: checkpoint_seq,
            } => self.checkpoint_taken(seq, at_ms, name, checkpoint_seq),
            DomainEvent::EventQuarantined {
                supervisor,
                child,
                seq: quarantined,
                reason,
                ..
            } => {
                self.supervision.child(
                    supervisor,
                    child,
                    ChildEvent::Quarantined {
                        seq: quarantined,
                        reason,
                    },
                    at_ms,
                );
                Ok(())
            }
            DomainEvent::RateLimited { key } => {
                *self.rate_limited.entry(key).or_insert(0) += 1;
                Ok(())
            }
        }
    }

    /// Whether a state without run `run` would accept its `RunSubmitted`
    /// of these parts (its definition hash, its DAG, its tasks), checked
    /// without building the run or copying the parts: what a writer asks
    /// before appending one, so the log holds only what its projection
    /// accepts.
    ///
    /// # Errors
    /// [`ProjectionError::BadSubmission`] (at seq 0: nothing was written).
    pub fn check_submission(
        run: &RunId,
        name: &str,
        definition: DefinitionHash,
        dag: &WorkflowDag,
        tasks: &[TaskSpec],
        settings: &RunSettings,
    ) -> Result<(), ProjectionError> {
        let refused = |defect| ProjectionError::BadSubmission {
            seq: 0,
            workflow: run.clone(),
            defect,
        };
        let actual = DefinitionHash::of_run(name, dag, tasks, settings);
        if actual != definition {
            return Err(refused(SubmissionDefect::DefinitionHash {
                claimed: definition,
                actual,
            }));
        }
        workflow::check_parts(dag, tasks).map_err(refused)
    }

    /// `RunSubmitted` (or `WorkflowSubmitted`): a new run, every bead
    /// pending. Its definition hash must be that of what it holds.
    fn submit(
        &mut self,
        seq: u64,
        at_ms: u64,
        workflow: RunId,
        submission: Submitted,
    ) -> Result<(), ProjectionError> {
        if self.workflows.contains_key(&workflow) || self.finished.contains_key(&workflow) {
            return Err(ProjectionError::DuplicateWorkflow { seq, workflow });
        }
        let Submitted {
            name,
            definition,
            dag,
            tasks,
            input,
            settings,
        } = submission;
        let actual = DefinitionHash::of_run(&name, &dag, &tasks, &settings);
        if actual != definition {
            return Err(ProjectionError::BadSubmission {
                seq,
                workflow,
                defect: SubmissionDefect::DefinitionHash {
                    claimed: definition,
                    actual,
                },
            });
        }
        let submitted = RunRecord::submitted(
            workflow.clone(),
            (name, definition, input, settings),
            dag,
            tasks,
            (seq, at_ms),
        );
        match submitted {
            Ok(record) => {
                self.workflows.insert(workflow, record);
                Ok(())
            }
            Err(defect) => Err(ProjectionError::BadSubmission {
                seq,
                workflow,
                defect,
            }),
        }
    }

    /// `WorkflowCompleted` (every bead completed), `WorkflowFailed`,
    /// `WorkflowCancelled`: from running only.
    fn finish(
        &mut self,
        seq: u64,
        at_ms: u64,
        workflow: RunId,
        status: RunStatus,
        reason: Option<String>,
    ) -> Result<(), ProjectionError> {
        let Some(record) = self.workflows.get_mut(&workflow) else {
            return Err(self.not_whole(seq, workflow));
        };
        if record.status.is_finished() {
            let status = record.status;
            return Err(ProjectionError::WorkflowFinished {
                seq,
                workflow,
                status,
            });
        }
        if status == RunStatus::Completed
            && record.counts.completed != record.counts.total
            && let Some((bead, state)) = record.first_incomplete()
        {
            return Err(ProjectionError::WorkflowIncomplete {
                seq,
                workflow,
                bead: bead.clone(),
                state,
            });
        }
        record.finish(status, at_ms, reason);
        if !self.keep.finished_whole() {
            self.summarize(&workflow);
        }
        Ok(())
    }

    /// Runs one bead transition on a bead of a running workflow, attaching
    /// the ids to a refusal.
    #[inline]
    fn on_bead(
        &mut self,
        seq: u64,
        workflow: RunId,
        bead: BeadId,
        transition: impl FnOnce(BeadSlot<'_>) -> Result<Effect, Refusal>,
    ) -> Result<(), ProjectionError> {
        let Some(record) = self.workflows.get_mut(&workflow) else {
            return Err(self.not_whole(seq, workflow));
        };
        if record.status.is_finished() {
            let status = record.status;
            return Err(ProjectionError::WorkflowFinished {
                seq,
                workflow,
                status,
            });
        }
        let Some(slot) = record.slot(&bead, &mut self.interned) else {
            return Err(ProjectionError::UnknownBead {
                seq,
                workflow,
                bead,
            });
        };
        let position = slot.position;
        match transition(slot) {
            Ok(Effect::None) => Ok(()),
            Ok(Effect::Completed) => {
                record.release(position);
                Ok(())
            }
            Err(Refusal::Transition { from, event }) => Err(ProjectionError::InvalidTransition {
                seq,
                workflow,
                bead,
                from,
                event,
            }),
            Err(Refusal::Attempt { expected, found }) => Err(ProjectionError::AttemptMismatch {
                seq,
                workflow,
                bead,
                expected,
                found,
            }),
            Err(Refusal::Blocked) => Err(match record.first_missing_dependency(position) {
                Some(missing) => ProjectionError::DependenciesNotCompleted {
                    seq,
                    workflow,
                    bead,
                    missing,
                },
                None => ProjectionError::InvalidTransition {
                    seq,
                    workflow,
                    bead,
                    from: BeadState::Pending,
                    event: crate::EventKind::BeadReady,
                },
            }),
        }
    }

    /// `CheckpointTaken`: its watermark may not be after its own seq.
    fn checkpoint_taken(
        &mut self,
        seq: u64,
        at_ms: u64,
        name: String,
        checkpoint_seq: u64,
    ) -> Result<(), ProjectionError> {
        if checkpoint_seq > seq {
            return Err(ProjectionError::CheckpointAhead {
                seq,
                name,
                checkpoint_seq,
            });
        }
        self.last_checkpoint = Some(CheckpointRecord {
            name,
            seq: checkpoint_seq,
            at_ms,
        });
        Ok(())
    }
}
