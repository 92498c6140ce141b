//! [`Scheduler`]: the workflow streams' single writer. It accepts
//! workflows, marks beads ready as their dependencies complete, hands
//! ready beads to idle workers (highest priority first, then in the order
//! they became ready), retries failures with exponential backoff and
//! finishes workflows.
//!
//! Its state is a `StateManager` live view (only unfinished runs whole,
//! every finished one as its summary): on start, a copy of the state
//! manager's (which rebuilt it from checkpoint + tail; rebuilt here only
//! when no state manager answers), then advanced by applying exactly the
//! events it appends, with the seqs the log gave them, after they are
//! durable. A failed or cancelled run is read back from its stream to be
//! retried. Every
//! decision is appended before it takes effect: a bead is sent to a worker
//! only once its `BeadScheduled` and `BeadStarted` are durable, and a
//! dependent becomes ready only once the completion that unblocks it is.
//!
//! On start it recovers: a bead that was scheduled or running when the
//! process died is timed out (`lost at process exit`) and made ready again,
//! to run with the next attempt (execution is at least once); a bead whose
//! completion is durable never runs again.
//!
//! One concern per file: `admission.rs` (whether a submission names a run
//! already in the log), `submit.rs` (batches of submissions),
//! `progress.rs` (what follows from a run's state, retries),
//! `control.rs` (operator controls, run timeouts), `liveness.rs`
//! (workers, lost attempts), `start.rs` (the state it starts from),
//! `retention.rs` (finished runs expiring), `waiting.rs` (waits for
//! runs), `options.rs` (its setup).

pub mod admission;
mod control;
mod liveness;
mod metered;
mod options;
mod progress;
mod retention;
mod start;
mod submit;
mod waiting;

pub use options::SchedulerOptions;
use progress::given_up;
use start::recovered_state;
use waiting::finishing;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use ractor::{Actor, ActorCell, ActorId, ActorProcessingErr, ActorRef, RpcReplyPort};

use strand_projections::{
    BeadCounts, BeadId, BeadState, DefinitionHash, DomainEvent, RunId, RunSettings, RunStatus,
    StateManager, TaskSpec, WorkerId, WorkflowDag,
};

use crate::context::Context;
use crate::error::{ActorError, Result};
use crate::orchestration::controls::RunControl;
use crate::orchestration::handler::{CancelHandle, DependencyOutputs, cancel_pair};
use crate::orchestration::placement::{Candidate, Distribution, Placement};
use crate::orchestration::worker::{Assignment, AttemptOutcome, Finished, WorkerMsg};
use crate::supervisor::ChildHandle;

/// The reason recorded for an attempt lost with the process.
pub const LOST_ATTEMPT: &str = "lost at process exit";

/// A run to start (or to find again).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Submission {
    /// Its id (with [`Reuse::ResumeUnfinished`], the id of the run
    /// started when there is none to resume).
    pub run: RunId,
    /// Its definition's name.
    pub name: String,
    /// The content hash of `(name, dag, tasks)`.
    pub definition: DefinitionHash,
    /// Its DAG.
    pub dag: WorkflowDag,
    /// One spec per bead.
    pub tasks: Vec<TaskSpec>,
    /// Its input: a JSON object, as text.
    pub input: String,
    /// Its timeout and per-task backoffs (part of its definition).
    pub settings: RunSettings,
    /// What an existing run means for this submission.
    pub reuse: Reuse,
}

/// How a submission treats the runs already in the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reuse {
    /// The id is the caller's: a run of that id with the same definition
    /// and input is that run (resumed if unfinished, reported if finished);
    /// with another definition or input, the submission is refused.
    Exact,
    /// No id was given: an unfinished run of the same definition name is
    /// resumed (refused if its definition differs); otherwise a new run
    /// starts under the submission's id.
    ResumeUnfinished,
    /// A new run: an id already in the log is refused
    /// ([`ActorError::RunExists`]), whatever run it names.
    New,
}

/// What a submission led to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Started {
    /// The run.
    pub run: RunId,
    /// It was in the log already (resumed, or finished), not started now.
    pub existing: bool,
}

/// How a run ended (or stands).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunOutcome {
    /// The run.
    pub run: RunId,
    /// Completed, failed or cancelled (running only while unfinished).
    pub status: RunStatus,
    /// Beads per state.
    pub counts: BeadCounts,
    /// Why it failed or was cancelled.
    pub reason: Option<String>,
}

/// What the scheduler is sent.
#[derive(Debug)]
#[non_exhaustive]
pub enum SchedulerMsg {
    /// Run a workflow (or resume it, if its id is known); answers its id
    /// once `WorkflowSubmitted` is durable.
    Submit(Box<Submission>, RpcReplyPort<Result<Started>>),
    /// Admit and record the submissions queued so far.
    SubmitBatch,
    /// Answer once the workflow is finished.
    Wait(RunId, RpcReplyPort<Result<RunOutcome>>),
    /// Apply an operator's control to a run; answers once its events are
    /// durable (nothing written when it was applied already).
    Control(RunId, RunControl, RpcReplyPort<Result<usize>>),
    /// A worker's report.
    Finished(Finished),
    /// A retry's backoff ended.
    RetryDue(RunId, BeadId),
    /// A run's timeout is due.
    Deadline(RunId),
    /// Expire every finished run past retention now; answers how many.
    Expire(RpcReplyPort<Result<usize>>),
    /// The periodic retention sweep is due.
    RetentionDue,
    /// Find the workers and recover unfinished workflows.
    Connect,
    /// Record the outcomes reported so far.
    Flush,
    /// Look for attempts whose worker died or went silent (sent by the
    /// reconciler).
    Reconcile,
    /// Start no more attempts (the process is stopping); answer once no
    /// attempt is running, every outcome recorded. Not an event: a drain
    /// is this process's, and a restarted scheduler dispatches again.
    Drain(RpcReplyPort<()>),
    /// A worker is still running this attempt.
    Heartbeat {
        /// The worker.
        worker: WorkerId,
        /// The attempt it runs.
        attempt: u32,
    },
}

/// The scheduler actor; its arguments are the tree's context, its parent
/// (the workflow supervisor) and its options.
#[derive(Debug, Clone, Copy, Default)]
pub struct Scheduler;

/// A bead waiting for a worker, ordered by priority, then by arrival.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Queued {
    priority: i32,
    order: Reverse<u64>,
    workflow: RunId,
    bead: BeadId,
}

struct Worker {
    id: WorkerId,
    labels: Vec<String>,
    handle: ChildHandle<WorkerMsg>,
    /// The attempt it runs, and the incarnation it was given to.
    running: Option<RunningAttempt>,
    /// It went silent while running an attempt: no new work until it shows
    /// life again (a heartbeat or a report), or it would queue behind the
    /// stuck one.
    suspect: bool,
}

/// An attempt handed to a worker incarnation.
struct RunningAttempt {
    incarnation: ActorId,
    /// When the worker last showed it is on it (dispatch, or a heartbeat).
    last_beat_ms: u64,
    workflow: RunId,
    bead: BeadId,
    attempt: u32,
    /// Fires the attempt's cancellation.
    cancel: CancelHandle,
    /// When it was handed to the worker.
    started: std::time::Instant,
}

/// The scheduler's state.
pub struct SchedulerState {
    context: Context,
    parent: ActorCell,
    options: SchedulerOptions,
    myself: ActorRef<SchedulerMsg>,
    state: StateManager,
    workers: Vec<Worker>,
    queue: BinaryHeap<Queued>,
    queued: HashSet<(RunId, BeadId)>,
    next_order: u64,
    waiters: HashMap<RunId, Vec<RpcReplyPort<Result<RunOutcome>>>>,
    timers: HashSet<(RunId, BeadId)>,
    /// Runs whose timeout timer is armed.
    deadlines: HashSet<RunId>,
    /// Reports not yet recorded, and whether a `Flush` is queued for them.
    pending: Vec<Finished>,
    flush_queued: bool,
    /// Submissions not yet recorded, and whether a `SubmitBatch` is queued.
    submissions: Vec<(Submission, RpcReplyPort<Result<Started>>)>,
    submit_queued: bool,
    placement: Placement,
    /// Draining: nothing more is dispatched; these are answered once no
    /// attempt runs.
    draining: Option<Vec<RpcReplyPort<()>>>,
    /// Per-bead metrics by definition.
    metered: metered::Metered,
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl SchedulerState {
    fn now_ms(&self) -> u64 {
        self.context.clock.now_ms()
    }

    /// Append `events` (one synced batch) and apply them: decisions are
    /// durable before they take effect.
    async fn persist(&mut self, events: Vec<DomainEvent>) -> Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        // The reasons of runs finishing now that someone waits for: the
        // live view keeps a finished run's summary only, its reason cut.
        let finishing: Vec<(RunId, Option<String>)> = if self.waiters.is_empty() {
            Vec::new()
        } else {
            events
                .iter()
                .filter_map(finishing)
                .filter(|(run, _)| self.waiters.contains_key(run))
                .collect()
        };
        self.context
            .store
            .append_applied(&mut self.state, events)
            .await?;
        for (run, reason) in finishing {
            self.answer_waiters(&run, reason);
        }
        Ok(())
    }

    fn enqueue(&mut self, workflow: &RunId, bead: &BeadId) {
        if !self.queued.insert((workflow.clone(), bead.clone())) {
            return;
        }
        let priority = match self.placement.distribution() {
            Distribution::Priority => self.state.task(workflow, bead).map_or(0, |t| t.priority),
            Distribution::Fifo | Distribution::RoundRobin => 0,
        };
        self.next_order += 1;
        self.queue.push(Queued {
            priority,
            order: Reverse(self.next_order),
            workflow: workflow.clone(),
            bead: bead.clone(),
        });
    }

    /// Hand queued beads to idle workers: their `BeadScheduled` and
    /// `BeadStarted` in one batch, then the assignments.
    /// While draining: answer the drain once no attempt runs. True when
    /// draining (nothing is dispatched then).
    fn drained(&mut self) -> bool {
        let Some(waiting) = &mut self.draining else {
            return false;
        };
        if self.workers.iter().all(|w| w.running.is_none()) {
            for reply in waiting.drain(..) {
                let _ = reply.send(());
            }
        }
        true
    }

    async fn dispatch(&mut self) -> Result<()> {
        if self.drained() {
            return Ok(());
        }
        let mut busy: Vec<bool> = self
            .workers
            .iter()
            .map(|w| w.running.is_some() || w.suspect)
            .collect();
        let mut sends = Vec::new();
        let mut events = Vec::new();
        let mut waiting = Vec::new();
        while busy.iter().any(|b| !b) {
            let Some((queued, attempt, task)) = self.pop_ready() else {
                break;
            };
            let candidates: Vec<Candidate<'_>> = self
                .workers
                .iter()
                .zip(&busy)
                .map(|(w, &busy)| Candidate {
                    labels: &w.labels,
                    busy,
                })
                .collect();
            let Some(index) = self.placement.pick(&candidates, task.affinity.as_deref()) else {
                // No idle worker may run it (hard affinity): it keeps its
                // place in the queue.
                waiting.push(queued);
                continue;
            };
            let (Some(worker), Some(slot)) = (self.workers.get(index), busy.get_mut(index)) else {
                waiting.push(queued);
                continue;
            };
            *slot = true;
            let (workflow, bead) = (queued.workflow, queued.bead);
            events.push(DomainEvent::BeadScheduled {
                workflow: workflow.clone(),
                bead: bead.clone(),
                worker: worker.id.clone(),
            });
            events.push(DomainEvent::BeadStarted {
                workflow: workflow.clone(),
                bead: bead.clone(),
                worker: worker.id.clone(),
                attempt,
            });
            sends.push((index, workflow, bead, attempt, task));
        }
        for queued in waiting {
            self.queued
                .insert((queued.workflow.clone(), queued.bead.clone()));
            self.queue.push(queued);
        }
        self.persist(events).await?;
        let now = self.now_ms();
        let mut lost = Vec::new();
        for (index, workflow, bead, attempt, task) in sends {
            let (input, dependencies) = self.handed_over(&workflow, &bead);
            let Some(worker) = self.workers.get_mut(index) else {
                continue;
            };
            let (cancel, signal) = cancel_pair();
            let assignment = Assignment {
                run: workflow.clone(),
                bead: bead.clone(),
                attempt,
                action: task.action,
                timeout: task.timeout_ms.map(Duration::from_millis),
                input,
                dependencies,
                max_output_bytes: self.options.max_output_bytes,
                cancel: signal,
                heartbeat_every: self.options.heartbeat_every,
                reply: self.myself.clone(),
            };
            match worker.handle.actor() {
                Some(actor) if actor.send_message(WorkerMsg::Run(assignment)).is_ok() => {
                    worker.running = Some(RunningAttempt {
                        incarnation: actor.get_id(),
                        last_beat_ms: now,
                        workflow,
                        bead,
                        attempt,
                        cancel,
                        started: std::time::Instant::now(),
                    });
                }
                // The worker is down (its supervisor restarts it): the
                // attempt never ran.
                _ => lost.push((workflow, bead, attempt, worker.id.clone())),
            }
        }
        for (workflow, bead, attempt, worker) in lost {
            let reason = format!(
                "worker {} was down when the attempt was sent",
                worker.as_str()
            );
            self.lose(&workflow, &bead, attempt, reason).await?;
        }
        Ok(())
    }

    /// What an attempt of `bead` is handed: the run's input and the
    /// outputs of the bead's blocking dependencies.
    fn handed_over(&self, run: &RunId, bead: &BeadId) -> (Arc<str>, DependencyOutputs) {
        match self.state.workflow(run) {
            Some(record) => (
                Arc::clone(record.input()),
                Arc::from(record.dependency_outputs(bead)),
            ),
            None => (Arc::from(strand_projections::EMPTY_INPUT), Arc::from([])),
        }
    }

    /// The next queued bead still ready, with its attempt and task.
    fn pop_ready(&mut self) -> Option<(Queued, u32, TaskSpec)> {
        while let Some(queued) = self.queue.pop() {
            self.queued
                .remove(&(queued.workflow.clone(), queued.bead.clone()));
            let Some(record) = self.state.workflow(&queued.workflow) else {
                continue;
            };
            // A paused run's ready beads leave the queue; resuming it
            // queues them again.
            if record.status() != RunStatus::Running || record.paused() || given_up(record) {
                continue;
            }
            let (Some(bead), Some(task)) = (record.bead(&queued.bead), record.task(&queued.bead))
            else {
                continue;
            };
            if bead.state == BeadState::Ready {
                let (attempt, task) = (bead.attempts.saturating_add(1), task.clone());
                // Its record last changed when it became ready.
                let waited = self
                    .context
                    .clock
                    .now_ms()
                    .saturating_sub(bead.updated_at_ms);
                self.metered.waited(record.name(), waited);
                return Some((queued, attempt, task));
            }
        }
        None
    }

    /// Record every reported outcome in one batch (one fsync for all the
    /// reports that queued up meanwhile), then advance their workflows.
    async fn flush(&mut self) -> Result<()> {
        self.flush_queued = false;
        let mut events = Vec::new();
        // The beads recorded, per workflow, in first-report order.
        let mut touched: Vec<(RunId, Vec<BeadId>)> = Vec::new();
        for finished in std::mem::take(&mut self.pending) {
            let mut ran = None;
            if let Some(worker) = self.workers.iter_mut().find(|w| w.id == finished.worker) {
                // Any report shows the worker free again.
                worker.suspect = false;
                if worker.running.as_ref().is_some_and(|r| {
                    r.workflow == finished.run
                        && r.bead == finished.bead
                        && r.attempt == finished.attempt
                }) {
                    ran = worker.running.take().map(|r| r.started.elapsed());
                }
            }
            let Some(record) = self.state.workflow(&finished.run) else {
                continue;
            };
            let current = record.status() == RunStatus::Running
                && record.bead(&finished.bead).is_some_and(|b| {
                    b.state == BeadState::Running && b.attempts == finished.attempt
                });
            if !current {
                continue;
            }
            if let Some(ran) = ran {
                self.metered.ran(record.name(), ran);
            }
            if matches!(finished.outcome, AttemptOutcome::TimedOut(_)) {
                self.metered.timed_out(record.name());
            }
            let (workflow, bead, attempt) = (finished.run, finished.bead, finished.attempt);
            match touched.iter_mut().find(|(w, _)| *w == workflow) {
                Some((_, beads)) => beads.push(bead.clone()),
                None => touched.push((workflow.clone(), vec![bead.clone()])),
            }
            let event = match finished.outcome {
                AttemptOutcome::Completed { output, log_tail } => {
                    DomainEvent::BeadCompletedWithOutput {
                        run: workflow,
                        bead,
                        attempt,
                        output,
                        log_tail,
                    }
                }
                AttemptOutcome::Failed(error) => DomainEvent::BeadFailed {
                    workflow,
                    bead,
                    attempt,
                    error: error.message,
                    retryable: error.retryable,
                },
                AttemptOutcome::TimedOut(limit) => DomainEvent::BeadTimedOut {
                    workflow,
                    bead,
                    attempt,
                    reason: format!("timed out after {} ms", ms(limit)),
                },
                // Its bead was cancelled (durably) before the attempt was:
                // nothing more to record.
                AttemptOutcome::Cancelled => continue,
            };
            events.push(event);
        }
        self.persist(events).await?;
        // Everything that follows from the outcomes, for every run, in one
        // more synced batch.
        let plans = touched
            .iter()
            .filter_map(|(workflow, beads)| self.plan_advance(workflow, Some(beads)))
            .collect();
        self.carry_out(plans).await
    }

    async fn handle(&mut self, message: SchedulerMsg) -> Result<()> {
        match message {
            SchedulerMsg::Submit(submission, reply) => {
                // Batched: submissions already queued behind this one share
                // its batch, and its fsync.
                self.submissions.push((*submission, reply));
                if !self.submit_queued {
                    self.submit_queued = true;
                    self.myself
                        .send_message(SchedulerMsg::SubmitBatch)
                        .map_err(|_| ActorError::NotRunning {
                            actor: "scheduler".to_owned(),
                        })?;
                }
                return Ok(());
            }
            SchedulerMsg::SubmitBatch => self.submit_batch().await?,
            SchedulerMsg::Wait(workflow, reply) => self.wait(workflow, reply),
            SchedulerMsg::Control(run, control, reply) => {
                let outcome = self.control(&run, &control).await;
                let poisoned = matches!(outcome, Err(ActorError::Poisoned));
                let _ = reply.send(outcome);
                if poisoned {
                    return Err(ActorError::Poisoned);
                }
            }
            SchedulerMsg::Finished(finished) => {
                // Batched: reports already queued behind this one share the
                // flush, and its fsync.
                self.pending.push(finished);
                if !self.flush_queued {
                    self.flush_queued = true;
                    self.myself.send_message(SchedulerMsg::Flush).map_err(|_| {
                        ActorError::NotRunning {
                            actor: "scheduler".to_owned(),
                        }
                    })?;
                }
                return Ok(());
            }
            SchedulerMsg::Flush => self.flush().await?,
            SchedulerMsg::Reconcile => self.reconcile().await?,
            SchedulerMsg::Heartbeat { worker, attempt } => {
                self.heartbeat(&worker, attempt);
                return Ok(());
            }
            SchedulerMsg::RetryDue(workflow, bead) => self.retry_due(workflow, bead).await?,
            SchedulerMsg::Deadline(run) => self.deadline(&run).await?,
            SchedulerMsg::Expire(reply) => {
                let outcome = self.expire_all().await;
                let poisoned = matches!(outcome, Err(ActorError::Poisoned));
                let _ = reply.send(outcome);
                if poisoned {
                    return Err(ActorError::Poisoned);
                }
            }
            SchedulerMsg::RetentionDue => self.retention_due().await?,
            SchedulerMsg::Drain(reply) => self.draining.get_or_insert_with(Vec::new).push(reply),
            SchedulerMsg::Connect => {
                self.connect().await?;
                self.recover().await?;
                self.arm_retention();
            }
        }
        self.dispatch().await
    }
}

impl Actor for Scheduler {
    type Msg = SchedulerMsg;
    type State = SchedulerState;
    type Arguments = (Context, ActorCell, SchedulerOptions);

    async fn pre_start(
        &self,
        myself: ActorRef<SchedulerMsg>,
        (context, parent, options): Self::Arguments,
    ) -> Result<SchedulerState, ActorProcessingErr> {
        let state = recovered_state(&context).await?;
        Ok(SchedulerState {
            context,
            parent,
            myself,
            state,
            workers: Vec::new(),
            queue: BinaryHeap::new(),
            queued: HashSet::new(),
            next_order: 0,
            waiters: HashMap::new(),
            timers: HashSet::new(),
            deadlines: HashSet::new(),
            pending: Vec::new(),
            flush_queued: false,
            submissions: Vec::new(),
            submit_queued: false,
            placement: Placement::new(options.distribution, options.affinity),
            draining: None,
            metered: metered::Metered::default(),
            options,
        })
    }

    async fn post_start(
        &self,
        myself: ActorRef<SchedulerMsg>,
        _state: &mut SchedulerState,
    ) -> Result<(), ActorProcessingErr> {
        // Not in pre_start: the parent answers only once it has started us.
        myself.send_message(SchedulerMsg::Connect)?;
        Ok(())
    }

    async fn handle(
        &self,
        _myself: ActorRef<SchedulerMsg>,
        message: SchedulerMsg,
        state: &mut SchedulerState,
    ) -> Result<(), ActorProcessingErr> {
        state.handle(message).await?;
        Ok(())
    }
}
